"""Root-cause accuracy on dynamic plants: the time-aware engine against ranking by marginal shift
and against the row-by-row engine (the same analysis with the time column ignored).

Kinds (rca_sim.dynamic): residence times, a recycle, a control loop whose valve absorbs the
disturbance, a slow drift, a historian long export at mixed rates with bad-quality samples, and a
batch line whose cause is a lot property joined from a second table; and the harder kinds
(:func:`rca_sim.dynamic.hard_case`): mixing tanks (first-order lags, not only delays) with
autocorrelated disturbances, slow AR(1) disturbances everywhere, a PI loop whose valve saturates,
and a slow drift through mixing volumes. Every plant goes through the real loading path (files
written, ``load_table`` + ``prepare``).

Two seed sets per kind. The development seeds (``100 (k+1) + 0..3``) are the ones the engine
was improved on across sessions; the held-out seeds (``100 (k+1) + 50..``) are never looked at
while changing the engine, only run, so their score is the one to quote for plants we did not see
(time-aware engine and marginal shift only: the row-by-row engine doubles the time and is no
longer in question). The result records the commit and the settings it was measured with.

``python -m bench.dynamics [--quick] [--plants N] [--held-out N] [--kinds K1,K2]`` writes
bench/results/dynamics.json (bench/results/dynamics_<kinds>.json for a subset).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.layout import load_layout
from rca_sim.dynamic import DYNAMIC_KINDS, HARD_KINDS, dynamic_case, write_case

OUT = Path(__file__).resolve().parent / "results"


def marginal_shift_ranking(data, ref_rows: slice, an_rows: slice) -> list[str]:
    """Sensors by |incident mean - reference mean| / reference sd, largest first."""
    f = data.frame
    scores = {}
    for c in data.numeric_nodes:
        if c == data.layout.target:
            continue
        r, a = f[c].iloc[ref_rows].to_numpy(float), f[c].iloc[an_rows].to_numpy(float)
        sd = r.std() or 1.0
        scores[c] = abs(a.mean() - r.mean()) / sd
    return sorted(scores, key=scores.get, reverse=True)


def load_case(kind: str, seed: int):
    """A dynamic plant written out and read back as a user would: (case, layout, data, window)."""
    case = dynamic_case(kind, seed)
    with tempfile.TemporaryDirectory(prefix="rca_dyn_") as d:
        write_case(case, Path(d))
        layout = load_layout(Path(d) / "layout.toml")
        data = prepare(load_table(Path(d) / "data.csv"), layout)
    return case, layout, data, (case.truth["anomaly"]["start"], case.truth["anomaly"]["end"])


HELD_OUT_OFFSET = 50


def _commit() -> str | None:
    """The commit measured (None outside a git checkout)."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=Path(__file__).parent,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() + ("+changes" if dirty else "")) if out.returncode == 0 else None


def one_plant(kind: str, seed: int, settings: AnalysisSettings, with_rows: bool = True) -> dict:
    case, _, data, window = load_case(kind, seed)
    root = case.truth["root_causes"][0]
    rec = {"kind": kind, "seed": seed, "root": root, "rows": data.n_rows}
    t = time.perf_counter()
    out = run_analysis(data, window, None, settings)
    rec["dynamic_seconds"] = time.perf_counter() - t
    rec["dynamic"] = [c.node for c in out.result.root_causes]
    dyn = out.result.dynamics
    rec["lags_used"] = [r.lag_steps for r in dyn.lags] if dyn else []
    rec["lags_true"] = case.truth.get("lags_min")
    win = out.result.anomaly
    methods = ("dynamic", "row_by_row", "marginal") if with_rows else ("dynamic", "marginal")
    if with_rows:
        # Today's engine: every row on its own (no time column, so no alignment).
        row_data = dataclasses.replace(data, time=None, layout=dataclasses.replace(data.layout, time_column=None))
        t = time.perf_counter()
        rows = run_analysis(row_data, (win.first_row, win.stop_row), None, settings)
        rec["row_seconds"] = time.perf_counter() - t
        rec["row_by_row"] = [c.node for c in rows.result.root_causes]
    ref = out.result.reference
    rec["marginal"] = marginal_shift_ranking(data, slice(ref.first_row, ref.stop_row),
                                             slice(win.first_row, win.stop_row))
    for m in methods:
        rec[f"{m}_top1"] = bool(rec[m] and rec[m][0] == root)
        rec[f"{m}_top3"] = root in rec[m][:3]
    return rec


def _summary(records: list[dict], kinds, methods) -> dict:
    summary = {}
    hard = tuple(k for k in HARD_KINDS if k in kinds)
    groups = (*[k for k in DYNAMIC_KINDS if k in kinds], *(("harder kinds",) if hard else ()), "all")
    for group in groups:
        rs = [r for r in records if group in ("all", r["kind"]) or (group == "harder kinds" and r["kind"] in hard)]
        summary[group] = {"n": len(rs), **{f"{m}_{t}": float(np.mean([r[f"{m}_{t}"] for r in rs]))
                                            for m in methods for t in ("top1", "top3")}}
    return summary


def run(n_per_kind: int = 4, quick: bool = False, kinds: tuple[str, ...] = DYNAMIC_KINDS, held_out: int = 3) -> dict:
    """Every kind, ``n_per_kind`` development plants and ``held_out`` held-out plants each; returns
    records and a summary per kind and overall for each seed set, with the commit and settings."""
    settings = AnalysisSettings(graph_bootstrap=0 if quick else 5, rank_bootstrap=5 if quick else 10, n_jobs=1)
    records, held = [], []
    for k, kind in enumerate(DYNAMIC_KINDS):
        if kind not in kinds:
            continue
        for s in range(n_per_kind):
            seed = 100 * (k + 1) + s
            r = one_plant(kind, seed, settings)
            print(f"  {kind:13s} seed {seed}: root {r['root']:22s} dynamic {r['dynamic'][:1]} "
                  f"row {r['row_by_row'][:1]} marginal {r['marginal'][:1]} ({r['dynamic_seconds']:.1f}s)",
                  flush=True)
            records.append(r)
        for s in range(held_out):
            seed = 100 * (k + 1) + HELD_OUT_OFFSET + s
            r = one_plant(kind, seed, settings, with_rows=False)
            print(f"  {kind:13s} held-out seed {seed}: root {r['root']:22s} dynamic {r['dynamic'][:1]} "
                  f"marginal {r['marginal'][:1]} ({r['dynamic_seconds']:.1f}s)", flush=True)
            held.append(r)
    res = {"commit": _commit(), "settings": dataclasses.asdict(settings), "records": records,
           "summary": _summary(records, kinds, ("dynamic", "row_by_row", "marginal"))}
    if held:
        res["held_out"] = {"records": held, "summary": _summary(held, kinds, ("dynamic", "marginal"))}
    return res


def report(res: dict) -> str:
    methods = ("dynamic", "row_by_row", "marginal")
    lines = ["| kind | plants | dynamic top-1 | row-by-row top-1 | marginal shift top-1 | dynamic top-3 | "
             "row-by-row top-3 | marginal shift top-3 |", "|---|---|---|---|---|---|---|---|"]
    held = res.get("held_out", {}).get("summary", {})
    for k, s in res["summary"].items():
        lines.append(f"| {k} | {s['n']} | " + " | ".join(f"{100 * s[f'{m}_{t}']:.0f}%" for t in ("top1", "top3")
                                                         for m in methods) + " |")
        if k in held:
            h = held[k]
            lines.append(f"| {k}, held-out | {h['n']} | {100 * h['dynamic_top1']:.0f}% | - | "
                         f"{100 * h['marginal_top1']:.0f}% | {100 * h['dynamic_top3']:.0f}% | - | "
                         f"{100 * h['marginal_top3']:.0f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--plants", type=int, default=4, help="development plants per kind")
    ap.add_argument("--held-out", type=int, default=3, help="held-out plants per kind (seeds never tuned on)")
    ap.add_argument("--kinds", default="", help="comma-separated kinds (default: all)")
    args = ap.parse_args(argv)
    kinds = tuple(args.kinds.split(",")) if args.kinds else DYNAMIC_KINDS
    unknown = [k for k in kinds if k not in DYNAMIC_KINDS]
    if unknown:
        ap.error(f"unknown kind(s) {', '.join(unknown)} ({', '.join(DYNAMIC_KINDS)})")
    res = run(2 if args.quick else args.plants, args.quick, kinds, 0 if args.quick else args.held_out)
    OUT.mkdir(exist_ok=True)
    name = "dynamics.json" if kinds == DYNAMIC_KINDS else f"dynamics_{'_'.join(kinds)}.json"
    (OUT / name).write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(report(res))


if __name__ == "__main__":
    main()

"""Lagged edges in the model or not: the dynamic engine on rca_sim.dynamic's plants, side by side.

For every plant the same analysis runs twice: with the lagged inputs in the structural model
(recycles, self-lags, declared loops; :mod:`rca_app.core.lagged_model`) and without them (the
lagged edges only reported, as before). Reported per kind: top-1 of the true cause, its
restoration, and the largest restoration of a declared loop's controlled variable.

``python -m bench.lagged_model [--kinds recycle control_loop] [--seeds 4]`` writes
bench/results/lagged_model.json.
"""
from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

from bench.dynamics import load_case
from rca_app.core import analysis
from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.dynamics import lagged_step
from rca_sim.dynamic import DYNAMIC_KINDS

OUT = Path(__file__).resolve().parent / "results"


@contextmanager
def lagged_edges_reported_only():
    """The engine as it was before the lagged edges entered the model: found and reported only."""
    def step(timed, data, layout, frame, reference, incident, graph):
        return None, lagged_step(timed, data, layout, frame.iloc[reference], graph)
    with mock.patch.object(analysis, "lagged_model_step", step):
        yield


def one_plant(kind: str, seed: int, settings: AnalysisSettings) -> dict:
    case, layout, data, window = load_case(kind, seed)
    root = case.truth["root_causes"][0]
    cvs = {lp.controlled for lp in layout.loops}
    rec: dict = {"kind": kind, "seed": seed, "root": root}
    for name in ("with_lags", "without"):
        t = time.perf_counter()
        if name == "with_lags":
            res = run_analysis(data, window, None, settings).result
        else:
            with lagged_edges_reported_only():
                res = run_analysis(data, window, None, settings).result
        rest = {c.node: c.restoration for c in res.root_causes}
        dyn = res.dynamics
        rec[name] = {
            "seconds": time.perf_counter() - t,
            "ranking": [c.node for c in res.root_causes[:5]],
            "top1": bool(res.root_causes and res.root_causes[0].node == root),
            "root_restoration": rest.get(root),
            "cv_restoration": max((rest.get(c, 0.0) for c in cvs), default=None),
            "in_model": sum(e.in_model for e in dyn.lagged_edges) if dyn else 0,
            # The loop reading moved the disturbance's source ahead of the loop's own sensors.
            "loop_reordered": any("which only followed it" in m for m in res.diagnostics.messages),
        }
    return rec


def summary(records: list[dict]) -> dict:
    out = {}
    for kind in dict.fromkeys(r["kind"] for r in records):
        rs = [r for r in records if r["kind"] == kind]
        out[kind] = {}
        for name in ("with_lags", "without"):
            xs = [r[name] for r in rs]
            cv = [x["cv_restoration"] for x in xs if x["cv_restoration"] is not None]
            out[kind][name] = {
                "top1": f"{sum(x['top1'] for x in xs)}/{len(xs)}",
                "root_restoration_mean": float(np.mean([x["root_restoration"] or 0.0 for x in xs])),
                "cv_restoration_max": float(max(cv)) if cv else None,
                "seconds_mean": float(np.mean([x["seconds"] for x in xs])),
                "loop_reordered": sum(x["loop_reordered"] for x in xs),
            }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", nargs="*", default=["lags", "recycle", "control_loop", "drift"])
    ap.add_argument("--seeds", type=int, default=4)
    a = ap.parse_args(argv)
    settings = AnalysisSettings(graph_bootstrap=0, rank_bootstrap=5, n_jobs=1)
    records = []
    for kind in a.kinds:
        for s in range(a.seeds):
            # The seeds bench/dynamics.py uses for this kind.
            records.append(one_plant(kind, 100 * (DYNAMIC_KINDS.index(kind) + 1) + s, settings))
            r = records[-1]
            print(kind, r["seed"], r["root"], *(f"{n}: top1={r[n]['top1']} root={r[n]['root_restoration']:.2f} "
                                                f"cv={r[n]['cv_restoration']} {r[n]['seconds']:.1f}s"
                                                for n in ("with_lags", "without")), flush=True)
    res = {"records": records, "summary": summary(records)}
    OUT.mkdir(exist_ok=True)
    (OUT / "lagged_model.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(json.dumps(res["summary"], indent=1))


if __name__ == "__main__":
    main()

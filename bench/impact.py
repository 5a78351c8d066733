"""Did the fix work? Calibration and accuracy of the impact query on simulated changes.

Each random plant (rca_sim.random_plant, a mean-shift incident) gets a third period: a setpoint
upstream of the KPI moves by 0 to 4 of its noise sds (zero to large effects), with and without
another upstream sensor shifting by 2 sds the same day (a new lot nobody chose). The true
effect is exact (rca_sim.changes: the same rows, same noise, without the change). Per case:

- ours: ``verify_change`` (model fitted on the rows before the change with the true windows,
  graph discovered; 30 weighted refits topped up to 60 for the impact, each drawing the
  mechanism kinds on the path to the KPI from the kinds the reference rows cannot tell apart),
  its 90% bootstrap interval and verdict; ``ours_fixed_kinds``: the same with each node's chosen
  kind kept in every refit (the interval before #15's kind spread, with the same order-statistic
  rule); ``ours_conformal``: the same estimate with the conformal interval
  (observed mean minus the block-calibrated band of the counterfactual mean);
- naive: after-change mean minus before-change mean (since the incident), with a 90% interval
  from block standard errors;
- trend: a straight line fitted to the before-change rows, extrapolated over the after rows
  (a pure time-series answer), with its 90% interval.

Reported: bias and RMSE of the mean effect, coverage of the 90% intervals (target 88-92%),
and how often the verdict (improved / no effect / worse, by the layout's goal and the same
smallest effect that counts) matches the one the true effect gives.

    python -m bench.impact [--quick]      # results in bench/results/impact.json
    python -m bench.impact --first 12 --plants 24 --out b.json   # a part, to run in parallel
    python -m bench.impact --merge a.json b.json --out impact.json
    python -m bench.impact --first 24 --plants 36 --out impact_heldout.json   # plants not used in development

Plants 0-23 were looked at while developing the interval (#15); plants 24-35 were not.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from rca_app.core.data import load_table, prepare
from rca_app.core.impact import ImpactSettings
from rca_app.core.impact_records import ChangeSpec
from rca_app.core.impact_run import judge, verify_change
from rca_app.core.layout import load_layout
from rca_app.core.settings import AnalysisSettings
from rca_sim import MeanShift, ancestors, random_plant, save_plant, truth_edges
from rca_sim.changes import simulate_change, truth_for_json

OUT = Path(__file__).resolve().parent / "results"
SIZES = (0.0, 0.5, 1.0, 2.0, 4.0)        # the setpoint's step, in its noise sds
COINCIDENT_SD = 2.0
N_REF, N_INC, N_AFTER = 1500, 300, 300
Z90 = 1.6449
METHODS = ("ours", "ours_fixed_kinds", "ours_beyond", "ours_conformal", "naive", "trend")


def _pick(spec, seed: int):
    """The setpoint that is changed and the sensor that shifts by itself the same day."""
    rng = np.random.default_rng([seed, 77])
    edges = truth_edges(spec)
    anc = ancestors(edges, spec.target)
    numeric = {n.name: n for n in spec.nodes() if n.kind == "numeric" and n.observed}
    roots = [n for n in anc if n in numeric and numeric[n].exogenous]
    setpoints = [n for n in roots if numeric[n].controllable] or roots
    if not setpoints:
        return None, None
    change = sorted(setpoints)[int(rng.integers(len(setpoints)))]
    others = sorted(n for n in roots if n != change)
    other = others[int(rng.integers(len(others)))] if others else None
    return change, other


def _block_se(x: np.ndarray) -> float:
    b = max(1, int(round(len(x) ** (1 / 3))))
    return float(np.std(x) * np.sqrt(b / len(x)))


def naive(before: np.ndarray, after: np.ndarray) -> tuple[float, tuple[float, float]]:
    """After minus before mean, with a block-corrected normal interval."""
    d = float(after.mean() - before.mean())
    se = np.hypot(_block_se(before), _block_se(after))
    return d, (d - Z90 * se, d + Z90 * se)


def trend(before: np.ndarray, after: np.ndarray) -> tuple[float, tuple[float, float]]:
    """A line fitted to the before rows, extrapolated: after mean minus the line's mean there."""
    t0 = np.arange(len(before), dtype=float)
    t1 = np.arange(len(before), len(before) + len(after), dtype=float)
    X = np.column_stack([np.ones_like(t0), t0])
    beta, *_ = np.linalg.lstsq(X, before, rcond=None)
    res = before - X @ beta
    x1 = np.array([1.0, t1.mean()])
    cov = np.linalg.inv(X.T @ X) * np.var(res) * max(1, int(round(len(before) ** (1 / 3))))
    pred = float(x1 @ beta)
    d = float(after.mean() - pred)
    se = float(np.sqrt(x1 @ cov @ x1 + _block_se(after - after.mean()) ** 2))
    return d, (d - Z90 * se, d + Z90 * se)


def one_plant(seed: int, sizes=SIZES, rank_bootstrap: int = 30) -> list[dict]:
    spec, faults = random_plant(seed, fault="mean_shift")
    change_node, other = _pick(spec, seed)
    if change_node is None:
        return []
    sd = spec.node(change_node).noise.sd
    records = []
    outcome = None
    folder = Path(tempfile.mkdtemp(prefix="rca_bench_impact_"))
    scenarios = [(s, False) for s in sizes] + ([(s, True) for s in sizes] if other else [])
    for size, with_other in scenarios:
        coincident = [MeanShift(other, COINCIDENT_SD * spec.node(other).noise.sd)] if with_other else []
        df, truth = simulate_change(spec, N_REF, N_INC, N_AFTER, faults, [MeanShift(change_node, size * sd)],
                                    coincident, seed=seed)
        save_plant(folder, spec, df, truth_for_json(truth))
        data = prepare(load_table(folder / "data.csv"), load_layout(folder / "layout.toml"))
        t = time.perf_counter()
        out = verify_change(
            data, ChangeSpec(truth["change"]["time"], change_node, None, "setpoint"),
            anomaly=(truth["incident"]["start"], truth["incident"]["end"]),
            reference=(truth["reference"]["start"], truth["reference"]["end"]),
            analysis_settings=AnalysisSettings(graph_bootstrap=0, rank_bootstrap=rank_bootstrap, n_jobs=1,
                                               seed=seed),
            outcome=outcome)
        secs = time.perf_counter() - t
        outcome = out.analysis      # the rows before the change are the same in every scenario
        # Side by side: the same query with each node's chosen mechanism kind in every refit.
        fixed = verify_change(
            data, ChangeSpec(truth["change"]["time"], change_node, None, "setpoint"),
            anomaly=(truth["incident"]["start"], truth["incident"]["end"]),
            reference=(truth["reference"]["start"], truth["reference"]["end"]),
            analysis_settings=AnalysisSettings(graph_bootstrap=0, rank_bootstrap=rank_bootstrap, n_jobs=1,
                                               seed=seed),
            settings=ImpactSettings(seed=seed, kind_uncertainty=False), outcome=outcome).result
        r = out.result
        y = df[spec.target].to_numpy(float)
        before, after = y[N_REF:N_REF + N_INC], y[N_REF + N_INC:]
        true = truth["effect_mean"]
        xs = df[change_node].to_numpy(float)
        ref_x, after_x = xs[:N_REF], xs[N_REF + N_INC:]
        outside = float(((after_x < ref_x.min()) | (after_x > ref_x.max())).mean())
        true_verdict = judge(true, (true, true), spec.goal, r.min_effect)
        rec = {"seed": seed, "node": change_node, "other": other if with_other else None, "size_sd": size,
               "coincident": with_other, "goal": spec.goal, "true": true, "true_verdict": true_verdict,
               "min_effect": r.min_effect, "seconds": secs, "change_share": r.change_share,
               "setpoint_outside_reference": outside, "n_refits": r.n_refits}
        beyond = out.core.effect_mean_ci_beyond if out.core is not None else None
        for name, (est, ci) in {"ours": (r.effect_mean, tuple(r.effect_mean_ci)),
                                "ours_fixed_kinds": (fixed.effect_mean, tuple(fixed.effect_mean_ci)),
                                "ours_beyond": (r.effect_mean, tuple(beyond or r.effect_mean_ci)),
                                "ours_conformal": (r.effect_mean, tuple(r.effect_mean_conformal_ci)),
                                "naive": naive(before, after), "trend": trend(before, after)}.items():
            rec[name] = {"estimate": est, "lo": ci[0], "hi": ci[1], "covered": bool(ci[0] <= true <= ci[1]),
                         "verdict": judge(est, ci, spec.goal, r.min_effect)}
        records.append(rec)
        print(f"  plant {seed} {change_node} +{size:g} sd{' + ' + other if with_other else ''}: true {true:+.4g}, "
              f"ours {r.effect_mean:+.4g} [{r.effect_mean_ci[0]:+.4g}, {r.effect_mean_ci[1]:+.4g}], "
              f"naive {rec['naive']['estimate']:+.4g}, trend {rec['trend']['estimate']:+.4g} ({secs:.1f}s)",
              flush=True)
    return records


def _coverage_by_plant_ci(records: list[dict], method: str, n_resamples: int = 2000) -> list[float]:
    """90% interval of the coverage with plants resampled: a plant's cases share its rows and
    its fitted model, so they miss together, and the plants (not the cases) are the
    independent trials."""
    by: dict[int, list[bool]] = {}
    for r in records:
        by.setdefault(r["seed"], []).append(r[method]["covered"])
    cov = np.array([np.mean(v) for v in by.values()])
    w = np.array([len(v) for v in by.values()], dtype=float)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(cov), (n_resamples, len(cov)))
    boot = (cov[picks] * w[picks]).sum(axis=1) / w[picks].sum(axis=1)
    return [float(np.percentile(boot, 5)), float(np.percentile(boot, 95))]


def summarise(records: list[dict]) -> dict:
    out = {}
    groups = {"all": records, "without coinciding change": [r for r in records if not r["coincident"]],
              "with coinciding change": [r for r in records if r["coincident"]],
              "zero effect": [r for r in records if r["size_sd"] == 0],
              # The new setpoint inside the range the model learnt (at most 5% of rows outside).
              "setpoint inside the reference range": [r for r in records if r["setpoint_outside_reference"] <= 0.05],
              "setpoint outside the reference range": [r for r in records if r["setpoint_outside_reference"] > 0.05]}
    for g, rs in groups.items():
        if not rs:
            continue
        row = {"n": len(rs)}
        for m in METHODS:
            err = np.array([r[m]["estimate"] - r["true"] for r in rs])
            # Errors in units of each plant's KPI scale (its smallest effect that counts), so
            # plants with different KPI units pool.
            scale = np.array([r["min_effect"] for r in rs])
            row[m] = {"bias_rel": float(np.mean(err / scale)), "rmse_rel": float(np.sqrt(np.mean((err / scale) ** 2))),
                      "coverage": float(np.mean([r[m]["covered"] for r in rs])),
                      "coverage_plants_ci": _coverage_by_plant_ci(rs, m),
                      "verdict_accuracy": float(np.mean([r[m]["verdict"] == r["true_verdict"] for r in rs])),
                      "median_width_rel": float(np.median([(r[m]["hi"] - r[m]["lo"]) / r["min_effect"] for r in rs])),
                      "mean_width_rel": float(np.mean([(r[m]["hi"] - r[m]["lo"]) / r["min_effect"] for r in rs])),
                      # Plants whose cases mostly miss: a per-plant bias the interval does not see.
                      "plants_covered_under_half": int(sum(
                          np.mean([r[m]["covered"] for r in rs if r["seed"] == s]) < 0.5
                          for s in {r["seed"] for r in rs}))}
        out[g] = row
    return out


def report(summary: dict) -> str:
    lines = ["| cases | n | method | bias | RMSE | 90% coverage (plants resampled) | verdict right | median width "
             "| mean width | plants < 50% covered |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for g, row in summary.items():
        for m in METHODS:
            s = row[m]
            lines.append(f"| {g} | {row['n']} | {m} | {s['bias_rel']:+.2f} | {s['rmse_rel']:.2f} | "
                         f"{100 * s['coverage']:.0f}% ({100 * s['coverage_plants_ci'][0]:.0f}-{100 * s['coverage_plants_ci'][1]:.0f}%) | "
                         f"{100 * s['verdict_accuracy']:.0f}% | {s['median_width_rel']:.2f} | "
                         f"{s.get('mean_width_rel', float('nan')):.2f} | {s.get('plants_covered_under_half', '')} |")
    lines.append("(bias, RMSE and width in units of each plant's smallest effect that counts: 10% of the incident's "
                 "loss or of the KPI's reference sd, whichever is larger)")
    return "\n".join(lines)


def run(quick: bool = False, n_plants: int | None = None, first: int = 0) -> dict:
    n = n_plants or (3 if quick else 24)
    t = time.perf_counter()
    records = []
    for seed in range(first, n):
        records += one_plant(seed, sizes=(0.0, 2.0) if quick else SIZES)
    summary = summarise(records)
    return {"summary": summary, "records": records, "n_plants": n, "seconds": time.perf_counter() - t,
            "sizes_sd": list(SIZES), "rows": {"reference": N_REF, "incident": N_INC, "after": N_AFTER}}


def run_for_all(quick: bool = False) -> dict:
    """The part ``bench.run_all`` runs: prints the table, writes the records to impact.json and
    returns the summary for latest.json."""
    print("== Did the fix work? Impact of simulated changes with known effects", flush=True)
    res = run(quick)
    print(report(res["summary"]))
    OUT.mkdir(exist_ok=True)
    (OUT / ("impact_quick.json" if quick else "impact.json")).write_text(json.dumps(res, indent=1, default=float),
                                                                         encoding="utf-8")
    return {k: v for k, v in res.items() if k != "records"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--plants", type=int, default=None, help="plants (seeds) 0 to N-1")
    ap.add_argument("--first", type=int, default=0, help="start at this seed (to split a run over processes)")
    ap.add_argument("--out", default=None, help="file name in bench/results")
    ap.add_argument("--merge", nargs="+", default=None, help="summarise the records of these result files into --out")
    args = ap.parse_args()
    if args.merge:
        parts = [json.loads((OUT / f).read_text(encoding="utf-8")) for f in args.merge]
        records = [r for p in parts for r in p["records"]]
        res = {"summary": summarise(records), "records": records, "n_plants": len({r["seed"] for r in records}),
               "seconds": sum(p["seconds"] for p in parts), "sizes_sd": list(SIZES),
               "rows": {"reference": N_REF, "incident": N_INC, "after": N_AFTER}}
    else:
        res = run(args.quick, args.plants, args.first)
    print(report(res["summary"]))
    OUT.mkdir(exist_ok=True)
    name = args.out or ("impact_quick.json" if args.quick else "impact.json")
    (OUT / name).write_text(json.dumps(res, indent=1, default=float), encoding="utf-8")
    print(f"written to {OUT / name}")


if __name__ == "__main__":
    main()

"""Calibration of the restoration intervals: how often the 90% interval holds the TRUE
restoration, computed from the generating model (rca_sim.truth), on simulated plants.

Both interval methods run on the same plants with the same discovered graph, so their
coverage, width and time compare side by side. Target: 85-95% coverage of the 90% intervals.
"""
from __future__ import annotations

import time

import numpy as np

from bench.common import plant_data
from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_sim import random_plant
from rca_sim.truth import true_restorations

FAULTS = ("mean_shift", "variance_increase", "mechanism_change")
METHODS = ("weighted", "resample")
# A node whose true restoration is at least this large is a cause worth ranking; coverage is
# reported for those separately (most candidates restore about nothing).
MATERIAL = 0.1


def one_plant(fault: str, seed: int, n_reference: int = 2000, n_anomaly: int = 300,
              methods=METHODS, n_jobs: int | None = 1) -> list[dict]:
    """Records (one per method and candidate node) for one simulated plant."""
    spec, faults = random_plant(seed, fault=fault)
    data, truth, _ = plant_data(spec, faults, seed, n_reference=n_reference, n_anomaly=n_anomaly)
    an = truth["anomaly"]
    graph = None
    records = []
    for method in methods:
        t = time.perf_counter()
        o = run_analysis(data, (an["start"], an["end"]), None,
                         AnalysisSettings(graph_bootstrap=0, interval_method=method, n_jobs=n_jobs), graph=graph)
        secs = time.perf_counter() - t
        graph = o.scm.graph   # the other method gets the same graph
        causes = o.result.root_causes
        if method == methods[0]:
            true = true_restorations(spec, n_reference, n_anomaly, faults, seed, [c.node for c in causes])
        for rank, c in enumerate(causes):
            if c.node not in true:
                continue
            lo, hi = c.restoration_ci
            records.append({
                "fault": fault, "seed": seed, "method": method, "node": c.node, "rank": rank,
                "true": true[c.node], "point": c.restoration, "lo": lo, "hi": hi,
                "covered": bool(lo <= true[c.node] <= hi), "is_root": c.node in truth["root_causes"],
                "seconds": secs, "ranking_s": o.result.diagnostics.timings["ranking_s"],
            })
    return records


def summarise(records: list[dict]) -> dict:
    out = {}
    for method in sorted({r["method"] for r in records}):
        rs = [r for r in records if r["method"] == method]
        mat = [r for r in rs if abs(r["true"]) >= MATERIAL]
        top = [r for r in rs if r["rank"] == 0]
        plants = {(r["fault"], r["seed"]): r for r in rs}
        out[method] = {
            "intervals": len(rs),
            "coverage_all": float(np.mean([r["covered"] for r in rs])) if rs else None,
            "coverage_material": float(np.mean([r["covered"] for r in mat])) if mat else None,
            "n_material": len(mat),
            "coverage_top_ranked": float(np.mean([r["covered"] for r in top])) if top else None,
            "mean_width_material": float(np.mean([r["hi"] - r["lo"] for r in mat])) if mat else None,
            "mean_abs_error_material": float(np.mean([abs(r["point"] - r["true"]) for r in mat])) if mat else None,
            "mean_ranking_s": float(np.mean([p["ranking_s"] for p in plants.values()])),
            "mean_analysis_s": float(np.mean([p["seconds"] for p in plants.values()])),
        }
    return out


def run(n_per_type: int = 5, quick: bool = False) -> dict:
    records = []
    for fault in FAULTS:
        for s in range(1 if quick else n_per_type):
            seed = 5000 + 100 * FAULTS.index(fault) + s
            rec = one_plant(fault, seed)
            records += rec
            print(f"  {fault} seed {seed}: " + ", ".join(
                f"{m} {np.mean([r['covered'] for r in rec if r['method'] == m]):.0%} covered"
                for m in METHODS), flush=True)
    return {"summary": summarise(records), "records": records, "material_threshold": MATERIAL}


def report(res: dict) -> str:
    lines = ["| method | intervals | coverage (all) | coverage (true restoration >= 0.1) | top-ranked covered | "
             "mean width (material) | mean abs error (material) | ranking s | analysis s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for m, s in res["summary"].items():
        def f(x):
            return "-" if x is None else f"{100 * x:.0f}%"
        lines.append(f"| {m} | {s['intervals']} | {f(s['coverage_all'])} | {f(s['coverage_material'])} "
                     f"(n={s['n_material']}) | {f(s['coverage_top_ranked'])} | {s['mean_width_material'] or 0:.3f} | "
                     f"{s['mean_abs_error_material'] or 0:.3f} | {s['mean_ranking_s']:.1f} | {s['mean_analysis_s']:.1f} |")
    return "\n".join(lines)

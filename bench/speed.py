"""Speed: discovery against lingam.DirectLiNGAM side by side, whole-analysis scaling, ranking
of 200 incident rows, and peak memory."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np


def discovery_vs_lingam(p: int = 50, n: int = 10_000, n_tiers: int = 5, seed: int = 0) -> dict:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import lingam

    from rca_app.core.lingam_fast import FastDirectLiNGAM

    from rca_sim import tiered_linear_data

    X, pk = tiered_linear_data(p, n, n_tiers, seed)
    t = time.perf_counter()
    ref = lingam.DirectLiNGAM(prior_knowledge=pk).fit(X)
    t_lingam = time.perf_counter() - t
    t = time.perf_counter()
    ours = FastDirectLiNGAM(prior_knowledge=pk).fit(X)
    t_ours = time.perf_counter() - t
    return {
        "sensors": p, "rows": n, "tiers": n_tiers,
        "lingam_s": t_lingam, "ours_s": t_ours, "speedup": t_lingam / t_ours,
        "same_order": ours.causal_order_ == ref.causal_order_,
        "same_edges": bool(np.array_equal(ours.adjacency_matrix_ != 0, ref.adjacency_matrix_ != 0)),
        "max_coef_diff": float(np.abs(ours.adjacency_matrix_ - ref.adjacency_matrix_).max()),
    }


_CHILD = r"""
import json, resource, sys, time
from bench.common import plant_data
from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_sim import random_plant
n_nodes, rows = int(sys.argv[1]), int(sys.argv[2])
spec, faults = random_plant(7, n_nodes=n_nodes, fault="mean_shift")
n_an = 200
data, truth, _ = plant_data(spec, faults, 7, n_reference=rows - n_an, n_anomaly=n_an)
an = truth["anomaly"]
t = time.perf_counter()
o = run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings())
total = time.perf_counter() - t
print(json.dumps({"sensors": len(data.frame.columns), "rows": rows, "anomaly_rows": n_an,
                  "total_s": total, **o.result.diagnostics["timings"],
                  "top1": o.result.root_causes[0]["node"] in truth["root_causes"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def whole_analysis(n_nodes: int, rows: int) -> dict:
    """One analysis in a fresh process, so peak memory is that analysis's own."""
    r = subprocess.run([sys.executable, "-c", _CHILD, str(n_nodes), str(rows)], capture_output=True,
                       text=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if r.returncode != 0:
        return {"sensors": n_nodes, "rows": rows, "error": r.stderr[-2000:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def ranking_200_rows(n_nodes: int = 30) -> dict:
    """Time to rank 200 incident rows once the SCM is fitted (no bootstrap)."""
    from bench.common import plant_data
    from rca_app.core.analysis import AnalysisSettings, run_analysis
    from rca_app.core.rootcause import candidate_nodes, restorations
    from rca_sim import random_plant

    spec, faults = random_plant(3, n_nodes=n_nodes, fault="mean_shift")
    data, truth, _ = plant_data(spec, faults, 3, n_reference=3000, n_anomaly=200)
    an = truth["anomaly"]
    o = run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0))
    nodes = candidate_nodes(o.scm, o.incident.target)
    t = time.perf_counter()
    restorations(o.scm, o.incident, nodes)
    return {"sensors": len(data.frame.columns), "anomaly_rows": 200, "candidates": len(nodes),
            "seconds": time.perf_counter() - t}

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
n_nodes, rows, n_boot, n_jobs, method = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
spec, faults = random_plant(7, n_nodes=n_nodes, fault="mean_shift")
n_an = 200
data, truth, _ = plant_data(spec, faults, 7, n_reference=rows - n_an, n_anomaly=n_an)
an = truth["anomaly"]
settings = AnalysisSettings(rank_bootstrap=n_boot, n_jobs=None if n_jobs == "auto" else int(n_jobs),
                            interval_method=method)
# Peak memory of this process and its workers together (what the machine must hold at once),
# sampled every 0.2 s; psutil comes with the test extra (dask), None without it.
peak_total = [None]
try:
    import threading, psutil
    def _sample(stop, me=psutil.Process()):
        while not stop.wait(0.2):
            try:
                procs = [me] + me.children(recursive=True)
                peak_total[0] = max(peak_total[0] or 0, sum(p.memory_info().rss for p in procs) / 2**20)
            except psutil.Error:
                pass
    _stop = threading.Event()
    threading.Thread(target=_sample, args=(_stop,), daemon=True).start()
except ImportError:
    _stop = None
t = time.perf_counter()
o = run_analysis(data, (an["start"], an["end"]), None, settings)
total = time.perf_counter() - t
if _stop is not None:
    _stop.set()
kinds = {}
for m in o.result.mechanisms:
    kinds[m.kind] = kinds.get(m.kind, 0) + 1
print(json.dumps({"sensors": len(data.frame.columns), "rows": rows, "anomaly_rows": n_an,
                  "rank_bootstrap": n_boot, "n_jobs": n_jobs, "interval_method": method,
                  "total_s": total, **o.result.diagnostics.timings, "mechanisms": kinds,
                  "candidates": len(o.result.root_causes),
                  "top1": o.result.root_causes[0].node in truth["root_causes"],
                  # this process only: worker processes (n_jobs > 1) hold their own copies
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_rss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "peak_rss_total_mb": peak_total[0]}))
"""


def whole_analysis(n_nodes: int, rows: int, rank_bootstrap: int = 30, n_jobs: str = "auto",
                   method: str = "weighted", timeout: float = 1800) -> dict:
    """One analysis (default settings unless given) in a fresh process, so peak memory is that
    analysis's own."""
    try:
        r = subprocess.run([sys.executable, "-c", _CHILD, str(n_nodes), str(rows), str(rank_bootstrap), str(n_jobs),
                            method], capture_output=True, text=True, timeout=timeout,
                           cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    except subprocess.TimeoutExpired:
        return {"sensors": n_nodes, "rows": rows, "error": f"timeout after {timeout:.0f} s"}
    if r.returncode != 0:
        return {"sensors": n_nodes, "rows": rows, "error": r.stderr[-2000:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


# Sensors x rows of the scaling table (the three targets among them).
SCALING_GRID = [(20, 4000), (40, 4000), (100, 4000), (40, 20_000), (100, 20_000), (300, 50_000)]
QUICK_GRID = [(20, 4000), (40, 4000)]


def scaling(grid=SCALING_GRID, refits=(10, 30), log=print) -> dict:
    """Whole-analysis timings over ``grid``, and over the number of refits at 40 x 4,000."""
    out = {"grid": [], "refits": []}
    for p, n in grid:
        w = whole_analysis(p, n)
        out["grid"].append(w)
        log(f"  {p} sensors x {n} rows: {_fmt(w)}")
    for b in refits:
        w = whole_analysis(40, 4000, rank_bootstrap=b)
        out["refits"].append(w)
        log(f"  40 x 4000, {b} refits: {_fmt(w)}")
    return out


def _fmt(w: dict) -> str:
    if "error" in w:
        return "ERROR " + w["error"][-300:]
    return (f"total {w['total_s']:.1f} s (discovery {w['discovery_s']:.1f}, fit {w['fit_s']:.1f}, "
            f"ranking {w['ranking_s']:.1f}), peak {w['peak_rss_mb']:.0f} MB, top-1 {w['top1']}")


def plot_scaling(res: dict, path) -> None:
    """Log-log plot of each step's time against sensors x rows, and ranking time against refits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [w for w in res["grid"] if "error" not in w]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    cells = np.array([w["sensors"] * w["rows"] for w in ok], float)
    order = np.argsort(cells)
    for key, label in (("total_s", "total"), ("discovery_s", "discovery"), ("fit_s", "mechanism fit"),
                       ("ranking_s", "ranking + intervals")):
        a.loglog(cells[order], np.array([ok[i][key] for i in order]), "o-", label=label)
    for i in order:
        a.annotate(f"{ok[i]['sensors']}x{ok[i]['rows'] // 1000}k", (cells[i], ok[i]["total_s"]), fontsize=7)
    a.set_xlabel("sensors x rows")
    a.set_ylabel("seconds")
    a.set_title("whole analysis, default settings")
    a.legend(fontsize=8)
    # The refits series: the runs at 40 x 4,000 with other refit counts, and the grid's own.
    rf = sorted((w for w in res["refits"] + [g for g in ok if (g["sensors"], g["rows"]) in ((40, 4000), (41, 4000))]
                 if "error" not in w), key=lambda w: w["rank_bootstrap"])
    if rf:
        b.loglog([w["rank_bootstrap"] for w in rf], [w["ranking_s"] for w in rf], "o-", label="ranking + intervals")
        b.loglog([w["rank_bootstrap"] for w in rf], [w["total_s"] for w in rf], "o-", label="total")
        b.set_xlabel("refits (rank_bootstrap)")
        b.set_title("40 sensors x 4,000 rows")
        b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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


def scaling_table(res: dict) -> str:
    """The scaling results as a markdown table."""
    lines = ["| sensors x rows | refits | total s | discovery s | fit s | ranking s | peak MB (main / workers) | "
             "top-1 | load after |", "|---|---|---|---|---|---|---|---|---|"]
    for w in sorted(res["grid"] + res["refits"], key=lambda w: (w.get("sensors", 0) * w.get("rows", 0),
                                                                 w.get("rank_bootstrap", 0))):
        if "error" in w:
            lines.append(f"| {w['sensors']} x {w['rows']} | | {w['error'][:60]} | | | | | | |")
            continue
        lines.append(f"| {w['sensors']} x {w['rows']} | {w['rank_bootstrap']} | {w['total_s']:.1f} | "
                     f"{w['discovery_s']:.1f} | {w['fit_s']:.1f} | {w['ranking_s']:.1f} | "
                     f"{w['peak_rss_mb']:.0f} / {w.get('peak_rss_children_mb', 0):.0f} | {w['top1']} | "
                     f"{w.get('load_avg_1m_after', float('nan')):.1f} |")
    return "\n".join(lines)

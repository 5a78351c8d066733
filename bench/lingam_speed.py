"""Discovery speed: our DirectLiNGAM against lingam.DirectLiNGAM, side by side on the same data
and the same tier prior knowledge, then ours alone at sizes lingam cannot do in reasonable time.

    PYTHONPATH=. python -m bench.lingam_speed            # 25x5k, 50x10k, 100x20k vs lingam
    PYTHONPATH=. python -m bench.lingam_speed --quick    # 25x5k only, plus small resample fits
    PYTHONPATH=. python -m bench.lingam_speed --no-lingam-above 50   # skip lingam at 100x20k

Wall times on this machine (other work on it shows up as noise: compare within one run), CPU
seconds beside them, and whether the causal order and the edges are identical to lingam's.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np

os.environ.setdefault("MPLBACKEND", "Agg")


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def side_by_side(p: int, n: int, n_tiers: int, seed: int = 0, with_lingam: bool = True) -> dict:
    """One plant: ours (float64) and, if asked, lingam, with identical data and prior knowledge."""
    import lingam

    from rca_app.core.lingam_fast import FastDirectLiNGAM
    from rca_sim import tiered_linear_data

    X, pk = tiered_linear_data(p, n, n_tiers, seed)
    ours, t_ours, c_ours = _timed(lambda: FastDirectLiNGAM(prior_knowledge=pk).fit(X))
    row = {"sensors": p, "rows": n, "tiers": n_tiers, "seed": seed, "ours_s": t_ours, "ours_cpu_s": c_ours,
           "pairs_scored": ours.search_stats_["pairs_scored"],
           "pairs_lingam_scores": ours.search_stats_["pairs_lingam_scores"]}
    if with_lingam:
        ref, t_ref, c_ref = _timed(lambda: lingam.DirectLiNGAM(prior_knowledge=pk).fit(X))
        row.update({
            "lingam_s": t_ref, "lingam_cpu_s": c_ref, "speedup": t_ref / t_ours,
            "same_order": ours.causal_order_ == list(ref.causal_order_),
            "same_edges": bool(np.array_equal(ours.adjacency_matrix_ != 0, ref.adjacency_matrix_ != 0)),
            "max_coef_diff": float(np.abs(ours.adjacency_matrix_ - ref.adjacency_matrix_).max()),
        })
    return row


def resample_fits(p: int, n: int = 5000, n_tiers: int = 5, seed: int = 0, repeats: int = 2) -> dict:
    """Bootstrap-resample-sized fits as discovery runs them: float32 entropies, standardised data.
    Also reports how often float32 gives the float64 answer (they differ only on near-ties)."""
    from rca_app.core.lingam_fast import FastDirectLiNGAM
    from rca_sim import tiered_linear_data

    X, pk = tiered_linear_data(p, 4 * n, n_tiers, seed)
    rng = np.random.default_rng(seed)
    times, cpus, same_order, same_edges = [], [], [], []
    for _ in range(repeats):
        Xb = X[rng.integers(0, len(X), n)]
        Xb = (Xb - Xb.mean(axis=0)) / Xb.std(axis=0)
        f32, t, c = _timed(lambda Xb=Xb: FastDirectLiNGAM(prior_knowledge=pk, precision="float32").fit(Xb))
        times.append(t)
        cpus.append(c)
        f64 = FastDirectLiNGAM(prior_knowledge=pk).fit(Xb)
        same_order.append(f32.causal_order_ == f64.causal_order_)
        same_edges.append(float(np.mean((f32.adjacency_matrix_ != 0) == (f64.adjacency_matrix_ != 0))))
    return {"sensors": p, "rows": n, "tiers": n_tiers, "float32_s": float(np.median(times)),
            "float32_cpu_s": float(np.median(cpus)), "same_order_as_float64": same_order,
            "edge_agreement_with_float64": same_edges}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-lingam-above", type=int, default=10_000, help="skip lingam above this many sensors")
    ap.add_argument("--big", action="store_true", help="also ours alone at 300 x 50k")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args()

    from rca_app.core.lingam_fast import FastDirectLiNGAM
    from rca_sim import tiered_linear_data

    X, pk = tiered_linear_data(6, 500, 2, 0)
    FastDirectLiNGAM(prior_knowledge=pk).fit(X)  # imports and first-call costs out of the timings

    rows = []
    sizes = [(25, 5000, 5)] if args.quick else [(25, 5000, 5), (50, 10_000, 5), (50, 10_000, 3),
                                                 (50, 10_000, 10), (100, 20_000, 5)]
    print(f"{'sensors x rows':>15} {'tiers':>5} {'lingam s':>9} {'ours s':>8} {'speedup':>8} "
          f"{'order':>6} {'edges':>6} {'pairs ours/lingam':>18}", flush=True)
    for p, n, t in sizes:
        r = side_by_side(p, n, t, with_lingam=p <= args.no_lingam_above)
        rows.append(r)
        print(f"{p:>6} x {n:>6} {t:>5} {r.get('lingam_s', float('nan')):>9.2f} {r['ours_s']:>8.2f} "
              f"{r.get('speedup', float('nan')):>8.1f} {r.get('same_order', '-')!s:>6} "
              f"{r.get('same_edges', '-')!s:>6} {r['pairs_scored']:>8}/{r['pairs_lingam_scores']:<8}", flush=True)
    if args.big:
        r = side_by_side(300, 50_000, 5, with_lingam=False)
        r["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append(r)
        print(f"   300 x  50000     5         - {r['ours_s']:>8.2f}        -      -      -"
              f" {r['pairs_scored']:>8}/{r['pairs_lingam_scores']:<8} peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
    print("\nresample-sized fits (float32 entropies, 5,000 rows):", flush=True)
    for p in ([50] if args.quick else [100, 300]):
        r = resample_fits(p, repeats=2 if p <= 100 else 1)
        rows.append(r)
        print(f"{p:>6} x {r['rows']:>6} {r['tiers']:>5} float32 {r['float32_s']:.2f} s (cpu {r['float32_cpu_s']:.2f} s); "
              f"same order as float64: {r['same_order_as_float64']}, edge agreement "
              f"{[round(a, 4) for a in r['edge_agreement_with_float64']]}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

"""`make bench`: every benchmark, side by side in one run; results in bench/results/."""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

from bench import (
    accuracy,
    autocorrelation,
    coverage,
    dynamics,
    impact,
    incident_shapes,
    lab_tags,
    speed,
    tennessee_eastman,
    var_lingam,
)

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer plants and sizes (a smoke run)")
    ap.add_argument("--no-dowhy", action="store_true")
    ap.add_argument("--only", choices=["speed", "coverage", "accuracy", "impact"],
                    help="run one part; merged into the results file")
    ap.add_argument("--reuse-dowhy", action="store_true",
                    help="keep DoWhy's columns from the results file instead of re-running DoWhy")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    name = "quick.json" if args.quick else "latest.json"
    previous = (json.loads((OUT / name).read_text(encoding="utf-8"))
                if (args.only or args.reuse_dowhy) and (OUT / name).exists() else {})
    res: dict = {**previous, "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                         "platform": platform.platform()}}
    if args.only in (None, "speed"):
        res["speed_started"] = time.strftime("%Y-%m-%d %H:%M:%S")
        res.update(run_speed(args.quick))
        speed.plot_scaling(res["scaling"], OUT / ("scaling_quick.png" if args.quick else "scaling.png"))
    if args.only in (None, "coverage"):
        print("== Coverage of the 90% restoration intervals (true restorations from the generating model)",
              flush=True)
        res["coverage_started"] = time.strftime("%Y-%m-%d %H:%M:%S")
        res["coverage"] = coverage.run(quick=args.quick)
        print(coverage.report(res["coverage"]))
    if args.only in (None, "accuracy"):
        print("== Root-cause accuracy on random plants (ours discovers its graph; DoWhy gets the true one)", flush=True)
        res["accuracy_started"] = time.strftime("%Y-%m-%d %H:%M:%S")
        reuse = previous.get("accuracy", {}).get("records") if args.reuse_dowhy else None
        res["accuracy"] = accuracy.run(n_per_type=2 if args.quick else 6, with_dowhy=not args.no_dowhy,
                                       quick=args.quick, reuse_dowhy=reuse)
        res["accuracy_discovery"] = accuracy.run_discovery(2 if args.quick else 5, with_dowhy=not args.no_dowhy)
    if args.only is None:   # dynamic plants: written to results/dynamics.json by bench.dynamics itself
        dynamics.main(["--quick"] if args.quick else [])
        autocorrelation.main(["--reps", "50" if args.quick else "200"])   # null false alarms, results/autocorrelation.json
        var_lingam.main(["--seeds", "5" if args.quick else "20"])   # LiNGAM order on raw rows vs VAR innovations
        lab_tags.main(["--seeds", "2" if args.quick else "6"])   # lab tags' links on their sampled rows
    if args.only in (None, "impact"):
        res["impact"] = impact.run_for_all(quick=args.quick)
    if args.only is None:   # one bad unit, alarm and count KPIs, short references (bench/incident_shapes.py)
        res["incident_shapes"] = incident_shapes.run(3 if args.quick else 12, not args.no_dowhy, args.quick)
    if args.only is None:   # Tennessee Eastman incidents from the tep-studio venv; skipped when none were generated
        res["tennessee_eastman"] = tennessee_eastman.run_all(args.quick).get("summary")
    (OUT / name).write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    if "accuracy" in res:
        print(report(res))
    print(f"\nwritten to {OUT / name}")


def run_speed(quick: bool) -> dict:
    res: dict = {}

    print("== Discovery: ours vs lingam.DirectLiNGAM, same data, same prior knowledge", flush=True)
    sizes = [(20, 2000)] if quick else [(25, 5000), (50, 10_000)]
    res["discovery"] = [speed.discovery_vs_lingam(p, n) for p, n in sizes]
    for d in res["discovery"]:
        print(f"  {d['sensors']} sensors x {d['rows']} rows: lingam {d['lingam_s']:.2f}s, ours {d['ours_s']:.2f}s, "
              f"{d['speedup']:.1f}x faster; same order {d['same_order']}, same edges {d['same_edges']}", flush=True)

    print("== Ranking 200 incident rows (fitted model, no bootstrap)", flush=True)
    res["ranking_200_rows"] = speed.ranking_200_rows()
    print(f"  {res['ranking_200_rows']}", flush=True)

    print("== Whole analysis scaling (discovery, fit, ranking with intervals, actions; default settings)",
          flush=True)
    res["scaling"] = speed.scaling(speed.QUICK_GRID if quick else speed.SCALING_GRID,
                                   refits=(5, 10) if quick else (10, 30), log=lambda m: print(m, flush=True))
    return res


def report(res: dict) -> str:
    lines = ["", "| fault type | plants | top-1 | top-3 | all faults in top-3 | precision | recall | SHD | DoWhy dist.change top-1 | DoWhy attr.anomalies top-1 | our s | DoWhy s (dc / aa) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for k, s in res["accuracy"]["summary"].items():
        def f(x):
            return "-" if x is None else f"{100 * x:.0f}%"
        dc, aa = s.get("dowhy_distribution_change_top1"), s.get("dowhy_attribute_anomalies_top1")
        aa_txt = f"{f(aa)} (n={s.get('dowhy_attribute_anomalies_n', 0)})" if aa is not None else "-"
        lines.append(f"| {k} | {s['n']} | {f(s['top1'])} | {f(s['top3'])} | {f(s['all_roots_top3'])} | "
                     f"{s['precision']:.2f} | {s['recall']:.2f} | {s['shd']:.1f} | {f(dc)} | {aa_txt} | {s['seconds']:.1f} | "
                     f"{s.get('dowhy_distribution_change_seconds') or 0:.1f} / {s.get('dowhy_attribute_anomalies_seconds') or 0:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Incident shapes: one bad unit, an alarm KPI, a defect count, a short reference period.

Simulated plants with a known root cause (:mod:`rca_sim.incident_shapes`), each run through the
real loading path. Side by side on the same incidents:

- ours (``run_analysis``, discovering its own graph);
- ranking sensors by the shift of their own values (no model; the engineer's first look);
- DoWhy gcm given the *true* graph: ``attribute_anomalies`` for single units and alarms (the
  incident rows' Shapley attribution of the KPI's outlier score), ``distribution_change`` for
  the longer incidents.

Run: ``python -m bench.incident_shapes [--quick] [--no-dowhy]``; results in
``bench/results/incident_shapes.json``.

``--coverage``: calibration of the intervals on short reference periods (3 rows per sensor), as
:mod:`bench.coverage` measures it for long ones: random plants (:func:`rca_sim.random_plant`, a
quarter of the mechanisms curved), the true restorations from the generating model
(:mod:`rca_sim.truth`), with the discovered graph and with the true one given (the intervals
hold the graph fixed). Results in ``bench/results/short_reference_coverage.json``.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.anomaly_ranking import rank_by_marginal_shift
from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import load_layout
from rca_sim.incident_shapes import simulate_shape

OUT = Path(__file__).resolve().parent / "results" / "incident_shapes.json"
COVERAGE_OUT = OUT.with_name("short_reference_coverage.json")

# name -> (kind, simulate_shape keywords)
SHAPES = {
    "single_unit": ("continuous", dict(n_sensors=8, n_reference=1000, n_incident=1)),
    "alarm_never_seen": ("event", dict(n_sensors=8, n_reference=1000, n_incident=10)),
    "alarm_single_unit": ("event", dict(n_sensors=8, n_reference=1000, n_incident=1, shift_sd=5.0)),
    "pass_fail_flag": ("binary", dict(n_sensors=8, n_reference=1500, n_incident=30, rate=0.1)),
    "defect_count": ("count", dict(n_sensors=8, n_reference=1500, n_incident=30, rate=0.5)),
    "short_reference_241_for_51": ("continuous", dict(n_sensors=51, n_reference=241, n_incident=20)),
    "short_reference_3_per_sensor": ("continuous", dict(n_sensors=12, n_reference=36, n_incident=24)),
}


def _dowhy(plant, ref, an, single: bool, seed: int) -> dict:
    """DoWhy gcm's top cause given the true graph."""
    import networkx as nx
    from dowhy import gcm

    gcm.config.disable_progress_bars()
    g = nx.DiGraph()
    g.add_nodes_from(ref.columns)
    g.add_edges_from(plant.edges)
    np.random.seed(seed)  # noqa: NPY002 - DoWhy draws from numpy's global generator
    t = time.perf_counter()
    scm = gcm.InvertibleStructuralCausalModel(g)
    gcm.auto.assign_causal_mechanisms(scm, ref, quality=gcm.auto.AssignmentQuality.GOOD)
    gcm.fit(scm, ref)
    if single:
        # Shapley attribution costs seconds per row: at most 3 rows of a longer alarm.
        rows = an.sample(min(3, len(an)), random_state=seed)
        attr = gcm.attribute_anomalies(scm, plant.kpi, anomaly_samples=rows, num_distribution_samples=1000)
        score = {k: float(np.mean(v)) for k, v in attr.items() if k != plant.kpi}
        top = max(score, key=score.get)
    else:
        contrib = gcm.distribution_change(scm, ref, an, plant.kpi, num_samples=2000,
                                          difference_estimation_func=lambda a, b: np.mean(b) - np.mean(a))
        sign = 1.0 if plant.kind == "continuous" else -1.0    # the bad direction of the KPI
        contrib = {k: v for k, v in contrib.items() if k != plant.kpi}
        top = min(contrib, key=lambda k: sign * contrib[k])
    return {"top": top, "seconds": time.perf_counter() - t}


def run_case(shape: str, seed: int, settings: AnalysisSettings, with_dowhy: bool) -> dict:
    kind, kw = SHAPES[shape]
    plant = simulate_shape(kind, seed=seed, **kw)
    folder = Path(tempfile.mkdtemp(prefix="rca_shape_"))
    csv, lay = plant.save(folder)
    data = prepare(load_table(csv), load_layout(lay))
    rec: dict = {"shape": shape, "seed": seed, "truth": plant.root_cause, "incident_rows": plant.n_incident,
                 "reference_rows": plant.n_reference, "sensors": kw["n_sensors"]}
    t = time.perf_counter()
    try:
        r = run_analysis(data, plant.incident_window, None, settings).result
        ranked = [c.node for c in r.root_causes if c.node != plant.kpi]
        rec.update(ours_top=ranked[0] if ranked else None, ours_top1=bool(ranked) and ranked[0] == plant.root_cause,
                   ours_top3=plant.root_cause in ranked[:3], ours_method=r.ranking_basis.method,
                   ours_simple_model=r.ranking_basis.simple_model)
        found = {(e.source, e.target) for e in r.graph.edges}
        true = set(plant.edges)
        rec["spurious_edges_into_kpi"] = len({e for e in found - true if e[1] == plant.kpi})
        rec["edge_precision"] = len(found & true) / len(found) if found else 1.0
    except RcaInputError as e:
        rec.update(ours_top=None, ours_top1=False, ours_top3=False, ours_refused=str(e)[:200])
    rec["ours_seconds"] = time.perf_counter() - t
    frame = data.frame
    ref, an = frame.iloc[:plant.n_reference], frame.iloc[plant.n_reference:]
    sensors = [c for c in frame.columns if c != plant.kpi]
    shift = rank_by_marginal_shift({c: ref[c].to_numpy(float) for c in sensors},
                                   {c: an[c].to_numpy(float) for c in sensors}, sensors)
    rec["shift_top1"] = shift[0][0] == plant.root_cause
    if with_dowhy:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                single = plant.n_incident < 5 or kind == "event"
                dw = _dowhy(plant, ref.reset_index(drop=True), an.reset_index(drop=True), single, seed)
                rec.update(dowhy_method="attribute_anomalies" if single else "distribution_change",
                           dowhy_top1=dw["top"] == plant.root_cause, dowhy_seconds=dw["seconds"])
            except Exception as e:  # noqa: BLE001 - a benchmark reports failures, it does not stop
                rec.update(dowhy_top1=False, dowhy_error=f"{type(e).__name__}: {e}"[:200])
    return rec


def summarise(records: list[dict]) -> dict:
    out = {}
    for shape in SHAPES:
        rs = [r for r in records if r["shape"] == shape]
        if not rs:
            continue

        def share(key, rs=rs):
            vals = [r[key] for r in rs if key in r]
            return float(np.mean(vals)) if vals else None

        out[shape] = {"n": len(rs), "ours_top1": share("ours_top1"), "ours_top3": share("ours_top3"),
                      "shift_top1": share("shift_top1"), "dowhy_top1": share("dowhy_top1"),
                      "dowhy_errors": sum("dowhy_error" in r for r in rs),
                      "refused": sum("ours_refused" in r for r in rs),
                      "spurious_edges_into_kpi": share("spurious_edges_into_kpi"),
                      "edge_precision": share("edge_precision"),
                      "ours_seconds": share("ours_seconds"), "dowhy_seconds": share("dowhy_seconds")}
    return out


def run(n_per_shape: int = 12, with_dowhy: bool = True, quick: bool = False, shapes=None,
        earlier: list | None = None) -> dict:
    """Every shape (or ``shapes``; the other shapes' ``earlier`` records are kept)."""
    settings = AnalysisSettings(graph_bootstrap=5 if quick else 20, rank_bootstrap=5 if quick else 30)
    shapes = list(shapes or SHAPES)
    records = [r for r in (earlier or []) if r["shape"] not in shapes]
    for shape in shapes:
        for s in range(n_per_shape):
            rec = run_case(shape, 500 + s, settings, with_dowhy)
            records.append(rec)
            print(f"  {shape:<30} seed {rec['seed']}: ours {rec['ours_top1']!s:<5} ({rec['ours_top']}; truth "
                  f"{rec['truth']}) {rec['ours_seconds']:.1f}s  shift {rec['shift_top1']!s:<5}"
                  + (f" dowhy {rec.get('dowhy_top1')!s:<5} {rec.get('dowhy_seconds', 0):.1f}s" if with_dowhy else ""),
                  flush=True)
    records.sort(key=lambda r: (list(SHAPES).index(r["shape"]), r["seed"]))
    return {"records": records, "summary": summarise(records), "settings": settings.to_dict()}


def report(res: dict) -> str:
    def f(x):
        return "-" if x is None else f"{100 * x:.0f}%"

    lines = ["| shape | incidents | ours top-1 | ours top-3 | marginal shift top-1 | DoWhy top-1 | spurious edges into KPI "
             "| our s | DoWhy s |", "|---|---|---|---|---|---|---|---|---|"]
    for k, s in res["summary"].items():
        lines.append(f"| {k} | {s['n']} | {f(s['ours_top1'])} | {f(s['ours_top3'])} | {f(s['shift_top1'])} | "
                     f"{f(s['dowhy_top1'])} | {s['spurious_edges_into_kpi'] or 0:.2f} | {s['ours_seconds']:.1f} | "
                     f"{s['dowhy_seconds'] or 0:.1f} |")
    return "\n".join(lines)


def short_reference_case(fault: str, seed: int, rows_per_sensor: int = 3, n_incident: int = 30,
                         true_graph: bool = False, method: str = "weighted") -> list[dict]:
    """Interval records (one per ranked candidate) of one short-reference plant."""
    from bench.common import plant_data
    from rca_app.core.graph import CausalGraph, Edge
    from rca_sim import random_plant
    from rca_sim.truth import true_restorations

    spec, faults = random_plant(seed, fault=fault, n_nodes=12, n_stations=4)
    n_ref = rows_per_sensor * (len(spec.nodes()) - 1)
    data, truth, _ = plant_data(spec, faults, seed, n_reference=n_ref, n_anomaly=n_incident)
    graph = (CausalGraph(tuple(data.layout.nodes), tuple(Edge(a, b, origin="user") for a, b in truth["edges"]))
             if true_graph else None)
    an = truth["anomaly"]
    r = run_analysis(data, (an["start"], an["end"]), None,
                     AnalysisSettings(graph_bootstrap=0, interval_method=method, n_jobs=1), graph=graph).result
    causes = [c for c in r.root_causes if not c.unmeasured]
    true = true_restorations(spec, n_ref, n_incident, faults, seed, [c.node for c in causes])
    return [{"fault": fault, "seed": seed, "method": method, "graph": "true" if true_graph else "discovered",
             "node": c.node, "rank": rank, "true": true[c.node], "point": c.restoration,
             "lo": c.restoration_ci[0], "hi": c.restoration_ci[1],
             "covered": bool(c.restoration_ci[0] <= true[c.node] <= c.restoration_ci[1]),
             "is_root": c.node in truth["root_causes"], "is_kpi": c.node == r.target,
             "reference_rows": r.ranking_basis.reference_rows, "simple_model": r.ranking_basis.simple_model}
            for rank, c in enumerate(causes) if c.node in true]


def short_reference_coverage(n_per_fault: int = 8, rows_per_sensor: int = 3, methods=("weighted",)) -> dict:
    """Coverage of the 90% intervals on short reference periods, discovered and true graph."""
    from bench.coverage import FAULTS, MATERIAL

    records = []
    for true_graph in (False, True):
        for method in methods:
            for fault in FAULTS:
                for s in range(n_per_fault):
                    records += short_reference_case(fault, 7000 + 100 * FAULTS.index(fault) + s, rows_per_sensor,
                                                    true_graph=true_graph, method=method)
    summary = {}
    for key in sorted({(r["graph"], r["method"]) for r in records}):
        rs = [r for r in records if (r["graph"], r["method"]) == key]
        mat = [r for r in rs if abs(r["true"]) >= MATERIAL]
        top = [r for r in rs if r["rank"] == 0]
        summary["/".join(key)] = {
            "intervals": len(rs), "coverage_all": float(np.mean([r["covered"] for r in rs])),
            "coverage_material": float(np.mean([r["covered"] for r in mat])) if mat else None, "n_material": len(mat),
            "coverage_sensors": float(np.mean([r["covered"] for r in rs if not r["is_kpi"]])),
            "mean_width_material": float(np.mean([r["hi"] - r["lo"] for r in mat])) if mat else None,
            "mean_abs_error_material": float(np.mean([abs(r["point"] - r["true"]) for r in mat])) if mat else None,
            "top_is_root_cause": float(np.mean([r["is_root"] for r in top])),
            "top_is_kpi_itself": float(np.mean([r["is_kpi"] for r in top]))}
    return {"records": records, "summary": summary, "rows_per_sensor": rows_per_sensor, "material_threshold": MATERIAL}


def coverage_report(res: dict) -> str:
    lines = ["| graph / method | intervals | coverage (all) | coverage (true >= 0.1) | coverage (sensors) | "
             "width (material) | abs error (material) | top = root cause | top = KPI itself |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, s in res["summary"].items():
        lines.append(f"| {k} | {s['intervals']} | {s['coverage_all']:.0%} | {s['coverage_material'] or 0:.0%} "
                     f"(n={s['n_material']}) | {s['coverage_sensors']:.0%} | {s['mean_width_material'] or 0:.2f} | "
                     f"{s['mean_abs_error_material'] or 0:.2f} | {s['top_is_root_cause']:.0%} | "
                     f"{s['top_is_kpi_itself']:.0%} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-dowhy", action="store_true")
    ap.add_argument("-n", type=int, default=None, help="incidents per shape (default 12; quick 3)")
    ap.add_argument("--shapes", nargs="+", choices=list(SHAPES),
                    help="re-run these shapes only; the others are kept from the results file")
    ap.add_argument("--coverage", action="store_true",
                    help="calibration of the intervals on short reference periods (3 rows per sensor) instead")
    args = ap.parse_args()
    if args.coverage:
        cov = short_reference_coverage(args.n or (2 if args.quick else 8), methods=("weighted", "resample"))
        cov["started"] = time.strftime("%Y-%m-%d %H:%M:%S")
        COVERAGE_OUT.parent.mkdir(exist_ok=True)
        COVERAGE_OUT.write_text(json.dumps(cov, indent=1, default=str), encoding="utf-8")
        print(coverage_report(cov))
        print(f"\nwritten to {COVERAGE_OUT}")
        return
    n = args.n or (3 if args.quick else 12)
    earlier = json.loads(OUT.read_text(encoding="utf-8"))["records"] if args.shapes and OUT.exists() else None
    res = run(n, not args.no_dowhy, args.quick, args.shapes, earlier)
    res["started"] = time.strftime("%Y-%m-%d %H:%M:%S")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    print(report(res))
    print(f"\nwritten to {OUT}")


if __name__ == "__main__":
    main()

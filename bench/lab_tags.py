"""Lab tags: learnt on every grid row (before), links learnt on the rows where the tag was sampled
but mechanisms fitted on every row (links), and links, mechanisms and a lab station's residence
time all on the sampled rows (now, :mod:`rca_app.core.lab_tags`, :mod:`rca_app.core.lab_lags`),
side by side on the same simulated plants.

The plant (1-minute grid, a historian long export): a feed (``feed_a``, ``feed_b``), a reactor
(``reactor_x`` from ``feed_a``, ``reactor_y`` from ``feed_b`` and ``reactor_x``), a separator with
a temperature (``sep_temp``, from ``reactor_y``) and a lab analysis ``sep_lab`` that follows
``reactor_x`` after the reactor-to-separator residence time, and the product's ``yield_pct``,
which follows ``reactor_y``, ``sep_temp`` and (unless the kind is "none") ``sep_lab`` after the
separator-to-product time. The lab is sampled every ``k`` minutes (10, 15, 30, 60) and stamped 20
minutes late (``rule = "last"``, ``delay = "20min"``). Kinds: "drives" (the lab value drives the
yield; the incident is a step in ``feed_b``), "none" (it affects nothing and must get no edge
out; same incident), "cause" (it drives the yield and the incident is a step in its own
disturbance), "kpi" (as "drives", and the yield itself is a lab value sampled every ``k`` minutes:
the KPI's station holds lab values only; its lab -> lab edge from ``sep_lab`` can be learnt only
where both are sampled on common rows after the alignment, which is every 15 minutes here),
"kpi_none" (a lab KPI as in "kpi" that follows none of the sensors, only its own noise, whose
step is the incident: it must get no edge in, and its true cause is itself).

Counted per plant and engine: the lab tag's true edges found in their direction (recall), its
other edges (false edges), its edge into the KPI, the KPI's edges in from the sensors that drive it
(``reactor_y``, ``sep_temp``; kinds "kpi" and "kpi_none": plants with one at least, and plants
with an edge in from any other sensor), the Separator -> Product residence time used (true 5);
and from a whole analysis (no resamples),
whether the true cause is ranked first, ranked at all, its restoration, and the lab tag's effect
on the KPI as the result reports it against the true 0.6, and the lab tag's own-noise shift as
its Evidence reads it (on its incident samples now). Discovery as the analysis runs it
(residence-time alignment, autocorrelation-aware tests), without resamples. "before" is the data
with the lab tags' sample times forgotten; "links" is the engine with the sampled-row mechanisms
and residence times switched off (their two entry points in :mod:`rca_app.core.analysis`
patched to do nothing).

``python -m bench.lab_tags [--seeds N]`` writes bench/results/lab_tags.json.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

from rca_app.core.analysis import run_analysis
from rca_app.core.autocorrelation import rows_are_serial
from rca_app.core.data import load_table, prepare
from rca_app.core.discovery import DiscoverySettings, discover
from rca_app.core.dynamics import align_for_time
from rca_app.core.lab_lags import realign_for_lab_stations
from rca_app.core.lab_tags import lab_tag_rows
from rca_app.core.layout import load_layout
from rca_app.core.settings import AnalysisSettings
from rca_app.core.windows import resolve_windows
from rca_sim.dynamic import DynNode, simulate_dynamic, to_historian_long

OUT = Path(__file__).resolve().parent / "results"
LAB = "sep_lab"
# Every 15 rows the separator's lab (stamped 20 minutes late, moved 5 rows by the alignment) and
# a lab KPI are sampled on the same rows: the only rate here where their link can be learnt.
RATES = (10, 15, 30, 60)
REACTOR_LAG, SEPARATOR_LAG, PRODUCT_LAG = 6, 4, 5


# The lab value drives the KPI / affects nothing / is the incident's cause / drives a lab KPI.
KINDS = ("drives", "none", "cause", "kpi", "kpi_none")
# The KPI's parents among the row-rate sensors (its edge from the lab value is counted apart).
KPI_PARENTS = {"reactor_y", "sep_temp"}
ENGINES = ("before", "links", "now")
TRUE_KPI_EFFECT = 0.6


def lab_plant(every: int, seed: int, effect: bool = True, n_reference: int = 1500, n_anomaly: int = 200,
              lab_cause: bool = False, lab_kpi: bool = False, kpi_causes: bool = True):
    """A plant with a lab tag sampled every ``every`` minutes (module text).

    Parameters
    ----------
    every : int
        Minutes (grid rows) between lab samples.
    seed : int
    effect : bool
        The lab value drives the yield (False: it affects nothing).
    n_reference, n_anomaly : int
    lab_cause : bool
        The incident is a step in the lab value's own disturbance (False: in ``feed_b``).
    lab_kpi : bool
        The yield is a lab value too, sampled every ``every`` minutes.
    kpi_causes : bool
        False: the yield follows none of the sensors (only its own noise), and the incident is a
        step in that noise (its true cause is the yield itself).

    Returns
    -------
    (str, str, dict)
        The long export's text, the layout's text and the truth (``edges`` of the lab tag, the
        ``root_cause``, the ``anomaly`` window).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    sign = float(rng.choice([-1.0, 1.0]))
    nodes = [
        DynNode("feed_a", "Feed", 10.0, 1.0, ar=0.8, exogenous=True),
        DynNode("feed_b", "Feed", 20.0, 1.0, ar=0.9, exogenous=True),
        DynNode("reactor_x", "Reactor", 50.0, 1.0, [("feed_a", 0.8, REACTOR_LAG)], ar=0.5),
        DynNode("reactor_y", "Reactor", 60.0, 1.0, [("feed_b", -0.6, REACTOR_LAG), ("reactor_x", 0.4, 0)], ar=0.5),
        DynNode("sep_temp", "Separator", 95.0, 1.0, [("reactor_y", 0.7, SEPARATOR_LAG)], ar=0.6),
        DynNode(LAB, "Separator", 30.0, 1.0, [("reactor_x", sign * 0.7, SEPARATOR_LAG)], ar=0.3),
        DynNode("yield_pct", "Product", 90.0, 1.0,
                ([("reactor_y", 0.5, SEPARATOR_LAG + PRODUCT_LAG), ("sep_temp", 0.4, PRODUCT_LAG)]
                 + ([(LAB, 0.6, PRODUCT_LAG)] if effect else [])) if kpi_causes else [], ar=0.3),
    ]
    # Both faults lower the yield by about one of its reference sds.
    fault = ({"type": "mean_shift", "node": LAB, "delta": -2.0} if lab_cause
             else {"type": "mean_shift", "node": "feed_b", "delta": 2.0} if kpi_causes
             else {"type": "mean_shift", "node": "yield_pct", "delta": -1.0})
    df = simulate_dynamic(nodes, n_reference, n_anomaly, [fault], seed)
    ts = pd.date_range("2026-03-01", periods=len(df), freq="1min")
    frame = pd.concat([pd.Series(ts.strftime("%Y-%m-%dT%H:%M:%S"), name="timestamp"), df], axis=1)
    # The lab stamps its result when entered, 20 minutes after the sample.
    frame[LAB] = frame[LAB].shift(20)
    slow = {LAB: every, **({"yield_pct": every} if lab_kpi else {})}
    text = to_historian_long(frame.iloc[20:].reset_index(drop=True), seed, slow=slow)
    layout = "\n".join([
        "[plant]", f'name = "lab plant {every} {seed}"', 'target = "yield_pct"', 'goal = "maximize"',
        'sample = "1min"', 'lag_max = "15min"', "",
        "[[station]]", 'name = "Feed"', 'sensors = ["feed_a", "feed_b"]', 'exogenous = ["feed_a", "feed_b"]', "",
        "[[station]]", 'name = "Reactor"', 'sensors = ["reactor_x", "reactor_y"]', "",
        "[[station]]", 'name = "Separator"', f'sensors = ["sep_temp", "{LAB}"]', "",
        "[[station]]", 'name = "Product"', 'sensors = ["yield_pct"]', "",
        f"[tags.{LAB}]", 'rule = "last"', 'delay = "20min"', ""]
        + (["[tags.yield_pct]", 'rule = "last"', ""] if lab_kpi else []))
    edges = [["reactor_x", LAB]] + ([[LAB, "yield_pct"]] if effect and kpi_causes else [])
    truth = {"edges": edges, "root_cause": fault["node"], "anomaly": (ts[n_reference].strftime("%Y-%m-%dT%H:%M:%S"),
                                         ts[len(df) - 1].strftime("%Y-%m-%dT%H:%M:%S"))}
    return text, layout, truth


@contextlib.contextmanager
def _engine(name: str):
    """The engine ``name`` (module text): "links" switches the sampled-row mechanisms, edge
    effects and residence times off."""
    if name != "links":
        yield
        return
    with mock.patch("rca_app.core.analysis.mechanism_rows", lambda *a, **k: {}), \
            mock.patch("rca_app.core.analysis.realign_for_lab_stations", lambda data, layout, timed, *a: timed):
        yield


def compare(folder: Path, text: str, layout: str, truth: dict, rank: bool = True,
            engines: tuple[str, ...] = ("now", "before")) -> dict[str, dict]:
    """Each engine on one prepared plant: the lab tag's edges as discovery finds them (without
    resamples), and (``rank``) the true cause's place in the ranking of a whole analysis (no
    resamples) and the lab tag's effect on the KPI. "before" is the same data with the lab
    tags' sample times forgotten, which is what the engine had."""
    (folder / "data.csv").write_text(text, encoding="utf-8")
    (folder / "layout.toml").write_text(layout, encoding="utf-8")
    data = prepare(load_table(folder / "data.csv"), load_layout(folder / "layout.toml"))
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    reports = [t for t in data.tag_reports if t.tag in (LAB, "yield_pct") and t.rule == "last"]
    times = {t.tag: t.sample_times for t in reports}
    out = {}
    for name in engines:
        for t in reports:
            t.sample_times = times[t.tag] if name != "before" else ()
        timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
        if name == "now":
            timed = realign_for_lab_stations(data, data.layout, timed, ref_sl, an_sl, 0)
        ref = timed.frame.iloc[timed.reference].reset_index(drop=True)
        serial = rows_are_serial(ref, [c for c in ref.columns if c != data.layout.target])
        settings = DiscoverySettings(n_bootstrap=0, time_series=serial)
        rows = lab_tag_rows(data, timed, timed.reference) if serial else None
        disc = discover(ref, data.layout.constraints(), [], settings, lab_rows=rows)
        out[name] = {"edges": {e.key for e in disc.graph.edges if LAB in e.key},
                     "kpi_parents": sorted(e.source for e in disc.graph.edges if e.target == "yield_pct"),
                     "product_lag": next((r.lag_steps for r in timed.record.lags if r.station == "Separator"), None)}
        if not rank:
            continue
        with _engine(name):
            result = run_analysis(data, truth["anomaly"], None,
                                  AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)).result
        names = [c.node for c in result.root_causes]
        cause = truth["root_cause"]
        effect = next((e.effect for e in result.graph.edges if (e.source, e.target) == (LAB, "yield_pct")), None)
        noise_z = {c.node: c.evidence.noise_shift_z for c in result.root_causes}
        out[name].update(first=names[0] if names else None,
                         lab_noise_z=None if noise_z.get(LAB) is None else round(float(noise_z[LAB]), 3),
                         cause_rank=names.index(cause) + 1 if cause in names else None,
                         cause_restoration=next((round(c.restoration, 3) for c in result.root_causes
                                                 if c.node == cause), None),
                         method=result.ranking_basis.method, kpi_effect=None if effect is None else round(float(effect), 3))
    for t in reports:
        t.sample_times = times[t.tag]
    return out


def run(seeds: int = 6, rates: tuple[int, ...] = RATES, kinds: tuple[str, ...] = KINDS) -> dict:
    """Every rate, seed and plant kind, with each engine."""
    cases = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for every in rates:
            for kind in kinds:
                for seed in range(seeds):
                    text, layout, truth = lab_plant(every, seed, effect=kind != "none", lab_cause=kind == "cause",
                                                    lab_kpi=kind.startswith("kpi"), kpi_causes=kind != "kpi_none")
                    true = {tuple(e) for e in truth["edges"]}
                    row: dict = {"every": every, "kind": kind, "seed": seed, "n_true": len(true)}
                    for name, got in compare(Path(tmp), text, layout, truth, engines=ENGINES).items():
                        found = got["edges"]
                        parents = set(got["kpi_parents"]) - {LAB}
                        truly = KPI_PARENTS if kind != "kpi_none" else set()
                        row[name] = {"found": sorted(map(list, found)), "true_found": len(found & true),
                                     "false": len(found - true), "kpi_edge": (LAB, "yield_pct") in found,
                                     "kpi_parents": got["kpi_parents"], "kpi_linked": bool(parents & truly),
                                     "kpi_false_parent": bool(parents - truly), "product_lag": got["product_lag"],
                                     **{k: got[k] for k in ("first", "cause_rank", "cause_restoration", "method",
                                                            "kpi_effect", "lab_noise_z")}}
                    cases.append(row)
    summary = []
    for every in rates:
        for kind in kinds:
            mine = [c for c in cases if c["every"] == every and c["kind"] == kind]
            n_true = sum(c["n_true"] for c in mine)
            entry: dict = {"every": every, "kind": kind, "plants": len(mine)}
            for name in ENGINES:
                rest = [c[name]["cause_restoration"] for c in mine if c[name]["cause_restoration"] is not None]
                eff = [c[name]["kpi_effect"] for c in mine if c[name]["kpi_effect"] is not None]
                lab_z = [c[name]["lab_noise_z"] for c in mine if c[name]["lab_noise_z"] is not None]
                entry[name] = {"recall": round(sum(c[name]["true_found"] for c in mine) / n_true, 3),
                               "kpi_edge_found": sum(c[name]["kpi_edge"] for c in mine),
                               # A lab KPI: plants where it has an edge in from a sensor that drives
                               # it, from one that does not, and where its residence time is the true one.
                               "kpi_linked": sum(c[name]["kpi_linked"] for c in mine),
                               "kpi_false_parent": sum(c[name]["kpi_false_parent"] for c in mine),
                               "product_lag_true": sum(c[name]["product_lag"] == PRODUCT_LAG for c in mine),
                               "false_edges": sum(c[name]["false"] for c in mine),
                               "cause_first": sum(c[name]["cause_rank"] == 1 for c in mine),
                               # First by a causal ranking (not the anomaly ranking used when nothing is linked to the KPI).
                               "cause_first_by_restoration": sum(c[name]["cause_rank"] == 1
                                                                 and c[name]["method"] != "anomaly" for c in mine),
                               "cause_ranked": sum(c[name]["cause_rank"] is not None for c in mine),
                               "cause_median_restoration": float(np.median(rest)) if rest else None,
                               # The lab tag's effect on the KPI as reported, against the true one.
                               "kpi_effect_median": float(np.median(eff)) if eff else None,
                               "kpi_effect_true": TRUE_KPI_EFFECT if kind not in ("none", "kpi_none") else 0.0,
                               # The lab tag's own-noise shift in the incident as Evidence reads it.
                               "lab_noise_z_median": float(np.median(lab_z)) if lab_z else None}
            summary.append(entry)
    return {"summary": summary, "cases": cases, "seconds": round(time.perf_counter() - t0, 1)}


def _cell(v) -> str:
    return "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--rates", type=int, nargs="+", default=list(RATES), help="grid rows between lab samples")
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    args = ap.parse_args(argv)
    out = run(args.seeds, tuple(args.rates), tuple(args.kinds))
    OUT.mkdir(exist_ok=True)
    (OUT / "lab_tags.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    cols = [("recall", "recall"), ("kpi_edge_found", "KPI edge"), ("false_edges", "false"),
            ("cause_first", "cause 1st"), ("cause_first_by_restoration", "1st by restor."),
            ("cause_median_restoration", "restor."), ("kpi_effect_median", "lab->KPI effect"),
            ("lab_noise_z_median", "lab noise z"), ("kpi_linked", "KPI linked"),
            ("kpi_false_parent", "KPI false in"), ("product_lag_true", "KPI lag 5")]
    print("each cell: before / links / now; 'lab tag is the true cause: ranked first' is 'cause 1st' of kind "
          f"'cause'; true lab->KPI effect {TRUE_KPI_EFFECT}")
    print(f"{'every':>5} {'kind':<8} {'n':>2} " + " ".join(f"{h:>20}" for _, h in cols))
    for s in out["summary"]:
        cells = [" / ".join(_cell(s[e][k]) for e in ENGINES) for k, _ in cols]
        print(f"{s['every']:>5} {s['kind']:<8} {s['plants']:>2} " + " ".join(f"{c:>20}" for c in cells))
    print(f"{out['seconds']} s")


if __name__ == "__main__":
    main()

"""Lab tags' links: learnt on every grid row (before) against on the rows where the tag was
sampled (now, :mod:`rca_app.core.lab_tags`), side by side on the same simulated plants.

The plant (1-minute grid, a historian long export): a feed (``feed_a``, ``feed_b``), a reactor
(``reactor_x`` from ``feed_a``, ``reactor_y`` from ``feed_b`` and ``reactor_x``), a separator
with a temperature (``sep_temp``, from ``reactor_y``) and a lab analysis ``sep_lab`` that follows ``reactor_x`` after
the reactor-to-separator residence time, and the product's ``yield_pct``, which follows
``reactor_y``, ``sep_temp`` and (in the "effect" plants) ``sep_lab`` after the separator-to-product time. The lab
is sampled every ``k`` minutes (10, 30, 60) and stamped 20 minutes late (``rule = "last"``,
``delay = "20min"``). In the "null" plants the lab value affects nothing: it must get no edge out.

Counted per plant, for the lab tag's edges only: the true ones found in their direction (recall)
and the others (false edges), before and now. Discovery as the analysis runs it (residence-time
alignment, autocorrelation-aware tests), without resamples.

``python -m bench.lab_tags [--seeds N]`` writes bench/results/lab_tags.json.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from rca_app.core.autocorrelation import rows_are_serial
from rca_app.core.data import load_table, prepare
from rca_app.core.discovery import DiscoverySettings, discover
from rca_app.core.dynamics import align_for_time
from rca_app.core.lab_tags import lab_tag_rows
from rca_app.core.layout import load_layout
from rca_app.core.windows import resolve_windows
from rca_sim.dynamic import DynNode, simulate_dynamic, to_historian_long

OUT = Path(__file__).resolve().parent / "results"
LAB = "sep_lab"
RATES = (10, 30, 60)
REACTOR_LAG, SEPARATOR_LAG, PRODUCT_LAG = 6, 4, 5


def lab_plant(every: int, seed: int, effect: bool = True, n_reference: int = 1500, n_anomaly: int = 200):
    """A plant with a lab tag sampled every ``every`` minutes (module text).

    Parameters
    ----------
    every : int
        Minutes (grid rows) between lab samples.
    seed : int
    effect : bool
        The lab value drives the yield (False: it affects nothing).
    n_reference, n_anomaly : int

    Returns
    -------
    (str, str, dict)
        The long export's text, the layout's text and the truth (``edges`` of the lab tag,
        ``anomaly`` window).
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
                [("reactor_y", 0.5, SEPARATOR_LAG + PRODUCT_LAG), ("sep_temp", 0.4, PRODUCT_LAG)]
                + ([(LAB, 0.6, PRODUCT_LAG)] if effect else []), ar=0.3),
    ]
    fault = {"type": "mean_shift", "node": "feed_b", "delta": 2.0}
    df = simulate_dynamic(nodes, n_reference, n_anomaly, [fault], seed)
    ts = pd.date_range("2026-03-01", periods=len(df), freq="1min")
    frame = pd.concat([pd.Series(ts.strftime("%Y-%m-%dT%H:%M:%S"), name="timestamp"), df], axis=1)
    # The lab stamps its result when entered, 20 minutes after the sample.
    frame[LAB] = frame[LAB].shift(20)
    text = to_historian_long(frame.iloc[20:].reset_index(drop=True), seed, slow={LAB: every})
    layout = "\n".join([
        "[plant]", f'name = "lab plant {every} {seed}"', 'target = "yield_pct"', 'goal = "maximize"',
        'sample = "1min"', 'lag_max = "15min"', "",
        "[[station]]", 'name = "Feed"', 'sensors = ["feed_a", "feed_b"]', 'exogenous = ["feed_a", "feed_b"]', "",
        "[[station]]", 'name = "Reactor"', 'sensors = ["reactor_x", "reactor_y"]', "",
        "[[station]]", 'name = "Separator"', f'sensors = ["sep_temp", "{LAB}"]', "",
        "[[station]]", 'name = "Product"', 'sensors = ["yield_pct"]', "",
        f"[tags.{LAB}]", 'rule = "last"', 'delay = "20min"', ""])
    edges = [["reactor_x", LAB]] + ([[LAB, "yield_pct"]] if effect else [])
    truth = {"edges": edges, "anomaly": (ts[n_reference].strftime("%Y-%m-%dT%H:%M:%S"),
                                         ts[len(df) - 1].strftime("%Y-%m-%dT%H:%M:%S"))}
    return text, layout, truth


def lab_edges(folder: Path, text: str, layout: str, truth: dict, n_bootstrap: int = 0) -> dict[str, set]:
    """The lab tag's edges that discovery finds as the analysis runs it, on one prepared plant:
    ``"before"`` on every grid row (the engine before), ``"now"`` on the rows where it was sampled."""
    (folder / "data.csv").write_text(text, encoding="utf-8")
    (folder / "layout.toml").write_text(layout, encoding="utf-8")
    data = prepare(load_table(folder / "data.csv"), load_layout(folder / "layout.toml"))
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
    ref = timed.frame.iloc[timed.reference].reset_index(drop=True)
    serial = rows_are_serial(ref, [c for c in ref.columns if c != data.layout.target])
    settings = DiscoverySettings(n_bootstrap=n_bootstrap, time_series=serial)
    out = {}
    for name, rows in (("before", None), ("now", lab_tag_rows(data, timed, timed.reference) if serial else None)):
        disc = discover(ref, data.layout.constraints(), [], settings, lab_rows=rows)
        out[name] = {e.key for e in disc.graph.edges if LAB in e.key}
    return out


def run(seeds: int = 6) -> dict:
    """Every rate, seed and plant kind, before and now."""
    cases = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for every in RATES:
            for effect in (True, False):
                for seed in range(seeds):
                    text, layout, truth = lab_plant(every, seed, effect)
                    true = {tuple(e) for e in truth["edges"]}
                    row = {"every": every, "effect": effect, "seed": seed}
                    for name, found in lab_edges(Path(tmp), text, layout, truth).items():
                        row[name] = {"found": sorted(map(list, found)), "true_found": len(found & true),
                                     "false": len(found - true), "kpi_edge": (LAB, "yield_pct") in found}
                    cases.append(row)
    summary = []
    for every in RATES:
        for effect in (True, False):
            mine = [c for c in cases if c["every"] == every and c["effect"] == effect]
            n_true = sum(1 + effect for _ in mine)
            entry = {"every": every, "lab_affects_kpi": effect, "plants": len(mine)}
            for name in ("before", "now"):
                entry[name] = {"recall": sum(c[name]["true_found"] for c in mine) / n_true,
                               "kpi_edge_found": sum(c[name]["kpi_edge"] for c in mine),
                               "false_edges": sum(c[name]["false"] for c in mine)}
            summary.append(entry)
    return {"summary": summary, "cases": cases, "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=6)
    args = ap.parse_args()
    out = run(args.seeds)
    OUT.mkdir(exist_ok=True)
    (OUT / "lab_tags.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for s in out["summary"]:
        print(f"every {s['every']:>2} rows, lab {'drives' if s['lab_affects_kpi'] else 'no effect on'} the KPI "
              f"({s['plants']} plants): recall before {s['before']['recall']:.2f} now {s['now']['recall']:.2f}; "
              f"KPI edge before {s['before']['kpi_edge_found']} now {s['now']['kpi_edge_found']}; "
              f"false edges before {s['before']['false_edges']} now {s['now']['false_edges']}")


if __name__ == "__main__":
    main()

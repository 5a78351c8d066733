"""Holes in the incident grid (rows dropped for a missing value) do not switch off the model over
time (audit item 4): its queries step through the incident by grid step, a sensor's single
missing step is bridged, and a longer outage is never bridged (only that sensor's lagged inputs
leave the model)."""
import numpy as np
import pandas as pd
import pytest

from rca_app.core.grid_holes import BRIDGE_STEPS, FullGrid, missing_runs, unknown_cells
from rca_app.core.lagged_model import _blocks, lag_sources
from tests.paths import ROOT

PLANT = ROOT / "sample_plants" / "continuous_reactor"


def test_a_lag_looks_back_in_grid_steps_and_bridges_only_one_missing_step():
    steps = np.array([0, 1, 3, 4, 7, 8, 9])
    # lag 1: step 3 looks back to the hole at 2 -> carried from step 1 (one step earlier);
    # step 7 to the hole at 6, two steps after the last row (step 4): not bridged.
    assert lag_sources(steps, 1).tolist() == [-1, 0, 1, 2, -1, 4, 5]
    # lag 3: step 4 -> 1 (row 1); step 7 -> 4 (row 3); step 8 -> hole 5, one step after step 4.
    assert lag_sources(steps, 3).tolist() == [-1, -1, 0, 1, 3, 3, -1]
    assert BRIDGE_STEPS == 1


def test_blocks_compute_every_row_after_the_rows_it_looks_back_to():
    steps = np.array([0, 1, 2, 4, 5, 6, 9, 10, 11, 12])
    sources = [lag_sources(steps, 2), lag_sources(steps, 3)]
    blocks = _blocks(len(steps), 2, sources)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(steps)
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))
    for t0, t1 in blocks:
        for src in sources:
            assert np.all(src[t0:t1] < t0)
    # Without holes: blocks of the shortest lag, as before.
    assert _blocks(7, 3, []) == [(0, 3), (3, 6), (6, 7)]


def test_one_missing_step_is_bridged_and_an_outage_is_unknown():
    miss = np.array([False, True, False, False, True, True, False, True, True, True, False])
    assert missing_runs(miss).tolist() == [0, 1, 0, 0, 2, 2, 0, 3, 3, 3, 0]
    frame = pd.DataFrame({"x": np.arange(len(miss), dtype=float)})
    full = FullGrid(frame, pd.DataFrame({"x": miss}), None)
    assert unknown_cells(full, ["x"])["x"].tolist() == [False, False, False, False, True, True, False,
                                                        True, True, True, False]


def test_a_change_reaches_its_descendants_after_the_lag_in_grid_steps_across_holes():
    # The recycle plant of test_lagged_model (c returns to b 3 steps later); the incident's rows
    # at grid steps 1 and 7 were dropped. do(a + 1) reaches y after 3, 6, 9 ... grid steps, not rows.
    from rca_app.core.lagged_model import Scenario, mark_incident_rows, propagate_in_time
    from rca_app.core.queries import incident_abduction
    from tests.core.test_lagged_model import LAG, _model, _recycle_plant

    scm, aug = _model(_recycle_plant(3000))
    kept = np.array([s for s in range(30) if s not in (1, 7)])
    an = aug.iloc[-30:].iloc[kept].reset_index(drop=True)
    mark_incident_rows(scm, an, "y", kept)
    ab = incident_abduction(scm, an)
    moved = propagate_in_time(scm, ab.values, ab.noise, [Scenario(setting={"a": ab.values["a"] + 1.0})], "y",
                              len(an))[0]
    expected = np.array([0.8 * sum(0.5 ** k for k in range(s // LAG + 1)) for s in kept])
    assert np.allclose(moved - an["y"].to_numpy(), expected, atol=0.03)
    # Stepping row by row (the holes ignored) would be late by a step after each hole.
    by_row = np.array([0.8 * sum(0.5 ** k for k in range(r // LAG + 1)) for r in range(len(kept))])
    assert not np.allclose(moved - an["y"].to_numpy(), by_row, atol=0.03)


def _once_per_step(tmp_path, drop=None, bad=None):
    """The reactor's export with one sample per tag and grid step (its ~1% Bad samples then leave
    holes in the grid); ``drop``: (tag, start, end) samples removed (an outage); ``bad``: (tag,
    share) of that tag's samples marked Bad at random."""
    d = pd.read_csv(PLANT / "data.csv")
    t = pd.to_datetime(d["TimeStamp"])
    d = d[(t.dt.second == 30) | (d["Tagname"] == "product_purity_pct")].copy()
    if bad is not None:
        hit = (d["Tagname"] == bad[0]).to_numpy() & (np.random.default_rng(0).random(len(d)) < bad[1])
        d.loc[hit, "Quality"] = "Bad"
    if drop is not None:
        tag, a, b = drop
        t = pd.to_datetime(d["TimeStamp"])
        d = d[~((d["Tagname"] == tag) & (t >= a) & (t < b))]
    d.to_csv(tmp_path / "data.csv", index=False)
    return tmp_path / "data.csv"


def _analyse(path):
    import json

    from rca_app.core.analysis import AnalysisSettings, run_analysis
    from rca_app.core.data import load_table, prepare
    from rca_app.core.layout import load_layout

    truth = json.loads((PLANT / "truth.json").read_text(encoding="utf-8"))
    data = prepare(load_table(path), load_layout(PLANT / "layout.toml"))
    window = truth["anomaly"]["start"], truth["anomaly"]["end"]
    r = run_analysis(data, window, None, AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)).result
    texts = [getattr(m, "text", m) for m in r.diagnostics.messages]
    return r, texts, truth


@pytest.mark.slow
def test_a_once_per_step_export_with_bad_samples_keeps_its_lagged_edges_and_true_cause(tmp_path):
    r, texts, truth = _analyse(_once_per_step(tmp_path))
    assert not any("reported but not in the model" in t for t in texts)
    edges = {(e.source, e.target, e.kind): e.in_model for e in r.dynamics.lagged_edges}
    assert edges[("recycle_flow_m3h", "conversion_pct", "recycle")]
    assert edges[("feed_impurity_pct", "feed_impurity_pct", "self")]
    assert all(lp.in_model for lp in r.dynamics.loops)
    note = next(t for t in texts if t.startswith("model over time across the time grid's holes"))
    # What was bridged, per tag, and that the incident's holes were stepped across.
    assert "per tag: conversion_pct 19," in note and "longer outages are not bridged" in note
    assert "The incident has 27 grid step(s) without a row" in note
    assert r.root_causes[0].node == truth["root_causes"][0] and r.root_causes[0].restoration > 0.5


@pytest.mark.slow
def test_an_outage_of_hours_is_not_bridged(tmp_path):
    # recycle_flow_m3h silent for 3 hours of the reference: its past there is unknown, so its
    # lagged inputs (the recycle, its own past) leave the model; the rest stay.
    r, texts, truth = _analyse(_once_per_step(tmp_path, ("recycle_flow_m3h", "2026-03-01T09:00:00",
                                                         "2026-03-01T12:00:00")))
    out = next(t for t in texts if t.startswith("recycle_flow_m3h: its lagged inputs"))
    assert "no good sample for 180 grid steps in a row from 2026-03-01 09:01:00" in out
    edges = {(e.source, e.target, e.kind): e.in_model for e in r.dynamics.lagged_edges}
    assert not edges[("recycle_flow_m3h", "conversion_pct", "recycle")]
    assert edges[("feed_impurity_pct", "feed_impurity_pct", "self")]
    assert all(lp.in_model for lp in r.dynamics.loops)
    assert r.root_causes[0].node == truth["root_causes"][0]


@pytest.mark.slow
def test_one_percent_more_bad_samples_on_the_kpi_keep_the_model_over_time(tmp_path):
    # The audit's case: about 1% of one tag's samples Bad at random; on the KPI every one is a
    # hole in the grid (a row without a target is dropped whatever the gaps setting).
    r, texts, truth = _analyse(_once_per_step(tmp_path, bad=("yield_pct", 0.01)))
    assert not any("reported but not in the model" in t or "left out of the model" in t for t in texts)
    assert all(e.in_model for e in r.dynamics.lagged_edges) and len(r.dynamics.lagged_edges) >= 9
    assert all(lp.in_model for lp in r.dynamics.loops)
    note = next(t for t in texts if t.startswith("model over time across the time grid's holes"))
    assert "a restoration's change was carried across a one-step hole to" in note
    assert r.root_causes[0].node == truth["root_causes"][0] and r.root_causes[0].restoration > 0.5


@pytest.mark.slow
def test_an_outage_in_the_incident_is_not_bridged_and_the_change_does_not_cross_it(tmp_path):
    # conversion_pct silent for 30 minutes of the incident: its own past (and its children's
    # self-lags, which read it) leave the model; the recycle into it stays, and a restoration's
    # change is not carried across the 30-step hole.
    r, texts, truth = _analyse(_once_per_step(tmp_path, ("conversion_pct", "2026-03-01T17:30:00",
                                                         "2026-03-01T18:00:00")))
    out = next(t for t in texts if t.startswith("conversion_pct: its lagged inputs"))
    assert "no good sample for 30 grid steps in a row from 2026-03-01 17:31:00" in out and "in the incident" in out
    edges = {(e.source, e.target, e.kind): e.in_model for e in r.dynamics.lagged_edges}
    assert not edges[("conversion_pct", "conversion_pct", "self")]
    assert edges[("recycle_flow_m3h", "conversion_pct", "recycle")]
    note = next(t for t in texts if t.startswith("model over time across the time grid's holes"))
    assert "conversion_pct" not in note.split("per tag:")[1].split(")")[0]
    assert "did not reach" in note and "looks back into a longer hole" in note
    assert r.root_causes[0].node == truth["root_causes"][0]

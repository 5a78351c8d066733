"""A lab KPI sampled every 30-60 minutes: its station's residence time from its samples, tested
against time-shifted copies of them, and its links learnt at that lag or not at all (issue #14,
trial 3 #6)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench.lab_tags import compare, lab_plant
from rca_app.core.analysis import run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.dynamics import align_for_time
from rca_app.core.lab_lags import _lab_lag, realign_for_lab_stations
from rca_app.core.lab_tags import lab_tag_rows
from rca_app.core.layout import load_layout
from rca_app.core.settings import AnalysisSettings
from rca_app.core.windows import resolve_windows

SAMPLES = Path(__file__).resolve().parents[2] / "sample_plants"
INCIDENT = ("2026-03-01T16:40:00", "2026-03-01T20:40:00")


def _ar(rng: np.random.Generator, n: int, a: float) -> np.ndarray:
    e = rng.normal(size=n)
    x = np.empty(n)
    acc = 0.0
    for t in range(n):
        acc = a * acc + e[t]
        x[t] = acc
    return x


def _lab_kpi_reactor(tmp_path: Path, every: int):
    """The continuous sample with its yield analysed only every ``every`` minutes."""
    folder = SAMPLES / "continuous_reactor"
    d = pd.read_csv(folder / "data.csv", dtype=str)
    ts = pd.to_datetime(d["TimeStamp"])
    keep = (d["Tagname"] != "yield_pct") | (((ts.dt.hour * 60 + ts.dt.minute) % every == 0) & (ts.dt.second == 0))
    d[keep].to_csv(tmp_path / "data.csv", index=False)
    return prepare(load_table(tmp_path / "data.csv"), load_layout(folder / "layout.toml"))


def test_a_lag_is_found_where_the_samples_follow_a_sensor_and_not_between_slow_independent_series():
    n, rows = 1500, np.arange(100, 1500, 30)          # a sample every 30 rows
    # The lab value follows u2 seven rows later (plus its own noise); u1 is a slow drift.
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        u1, u2 = _ar(rng, n, 0.995), _ar(rng, n, 0.5)
        frame = pd.DataFrame({"u1": u1, "u2": u2, "lab": 0.6 * np.roll(u2, 7) + _ar(rng, n, 0.3)})
        est = _lab_lag(frame, ["u1", "u2"], {"lab": {"u1": 0, "u2": 0}}, {"lab": rows}, 15, (0, n))
        assert est is not None and est.found and (est.lag, est.sensor) == (7, "u2")
    # Two slow series that have nothing to do with each other: on 47 samples a plain correlation
    # test calls some of them related; the time-shifted copies keep both autocorrelations and do not.
    naive, found = 0, 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        frame = pd.DataFrame({"u1": _ar(rng, n, 0.995), "u2": _ar(rng, n, 0.9), "lab": _ar(rng, n, 0.995)})
        est = _lab_lag(frame, ["u1", "u2"], {"lab": {"u1": 0, "u2": 0}}, {"lab": rows}, 15, (0, n))
        assert est is not None
        found += est.found
        naive += stats.pearsonr(frame["lab"].to_numpy()[rows], frame["u1"].to_numpy()[rows])[1] < 0.01
    assert found == 0 and naive >= 3


def test_a_reference_too_short_for_the_copies_gives_no_estimate():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"u": _ar(rng, n, 0.5), "lab": _ar(rng, n, 0.5)})
    assert _lab_lag(frame, ["u"], {"lab": {"u": 0}}, {"lab": np.arange(40, n, 15)}, 40, (0, n)) is None


def test_a_30_minute_lab_kpis_residence_time_is_found_on_its_samples(tmp_path):
    data = _lab_kpi_reactor(tmp_path, 30)
    ref_sl, an_sl, _ = resolve_windows(data, INCIDENT, None)
    timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
    assert {r.station: r.lag_steps for r in timed.record.lags}["Separator"] == 0    # the grid rows read none
    out = realign_for_lab_stations(data, data.layout, timed, ref_sl, an_sl, 0)
    lag = next(r for r in out.record.lags if r.station == "Separator")
    assert lag.lag_steps == 5 and lag.estimate_steps == 5 and lag.confidence > 0.99     # true 5 minutes
    note = next(str(m) for m in out.messages if str(m).startswith("residence time Separator -> Product"))
    assert "every sensor of Product is a lab value" in note and "time-shifted copies of the samples" in note
    assert not lab_tag_rows(data, out, out.reference).unlinked


def test_a_30_minute_lab_kpi_gets_its_true_parent_and_its_true_cause_first(tmp_path):
    data = _lab_kpi_reactor(tmp_path, 30)
    r = run_analysis(data, INCIDENT, None, AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)).result
    into_kpi = {e.source for e in r.graph.edges if e.target == "yield_pct"}
    assert "conversion_pct" in into_kpi                                # truth: conversion -> yield (13 min)
    assert r.ranking_basis.method == "restoration"                     # not the anomaly fall-back
    assert r.root_causes[0].node == "feed_impurity_pct" and r.root_causes[0].restoration > 0.5
    note = next(m for m in r.diagnostics.messages if m.startswith("yield_pct: a lab value held"))
    assert "32 reference rows where it was sampled" in note.text


@pytest.mark.parametrize("every", [30, 60])
def test_a_lab_kpi_with_no_cause_among_the_sensors_gets_no_link(tmp_path, every):
    for seed in range(4):
        text, layout, truth = lab_plant(every, seed, lab_kpi=True, kpi_causes=False)
        got = compare(tmp_path, text, layout, truth, rank=False)["now"]
        assert got["kpi_parents"] == [], (every, seed)
        assert got["product_lag"] == 0


def test_a_lab_kpi_whose_samples_match_nothing_says_why_it_has_no_upstream_link(tmp_path):
    from rca_app.core.discovery import DiscoverySettings, discover

    # A plant where, at the one lag left, the KPI's samples pass the single-lag test on noise.
    text, layout, truth = lab_plant(30, 7, lab_kpi=True, kpi_causes=False)
    (tmp_path / "data.csv").write_text(text, encoding="utf-8")
    (tmp_path / "layout.toml").write_text(layout, encoding="utf-8")
    data = prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = realign_for_lab_stations(data, data.layout, align_for_time(data, data.layout, ref_sl, an_sl, 0),
                                     ref_sl, an_sl, 0)
    note = next(str(m) for m in timed.messages if str(m).startswith("residence time Separator -> Product"))
    assert "no lag ties them to a sensor upstream more closely than time-shifted copies" in note
    rows = lab_tag_rows(data, timed, timed.reference)
    assert set(rows.unlinked) == {"yield_pct"}
    ref = timed.frame.iloc[timed.reference].reset_index(drop=True)
    settings = DiscoverySettings(n_bootstrap=0, time_series=True)
    disc = discover(ref, data.layout.constraints(), [], settings, lab_rows=rows)
    assert not [e for e in disc.graph.edges if e.target == "yield_pct"]
    msg = next(m for m in disc.messages if m.startswith("yield_pct: a lab value"))
    assert "no link from the stations upstream was looked for" in msg
    # The single-lag test alone (the search's verdict forgotten) would have drawn one.
    again = discover(ref, data.layout.constraints(), [], settings, lab_rows=dict(rows))
    assert [e for e in again.graph.edges if e.target == "yield_pct"]


"""The time-aware engine: residence times found (declared ones win), sensors aligned before
discovery so the true cause comes first, a compensating controller followed to its disturbance,
and data without a time column left exactly as before."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.dynamics import align_for_time, cusum_onset, drift_origin
from rca_app.core.windows import resolve_windows
from rca_sim.dynamic import _loop_case, dynamic_case
from tests.dynamic_cases import incident_window, load_case

FAST = AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)


def test_residence_times_are_found_and_the_true_cause_comes_first(tmp_path):
    case = dynamic_case("lags", 101, n_reference=800, n_anomaly=200)
    data = load_case(case, tmp_path)
    result = run_analysis(data, incident_window(case), None, FAST).result
    assert [r.lag_steps for r in result.dynamics.lags] == case.truth["lags_min"]
    assert all(r.confidence >= 0.6 for r in result.dynamics.lags)
    assert result.root_causes[0].node == case.truth["root_causes"][0]
    # A sensor of the first station waits for every residence time to the KPI.
    first = [s for s in data.layout.stations[0].sensors][0]
    assert result.dynamics.shifts[first] == sum(case.truth["lags_min"])
    # The row-by-row engine on the same rows misses it (the misleading analyser or a late station).
    rows = dataclasses.replace(data, time=None, layout=dataclasses.replace(data.layout, time_column=None))
    a = result.anomaly
    today = run_analysis(rows, (a.first_row, a.stop_row), None, FAST).result
    assert today.dynamics is None and today.root_causes[0].node != case.truth["root_causes"][0]


def test_declared_lags_win_over_estimates(tmp_path):
    case = dynamic_case("lags", 102, n_reference=600, n_anomaly=150)
    text = case.layout_toml.replace('name = "S1"\n', 'name = "S1"\nlag = "2min"\n', 1)
    data = load_case(case, tmp_path, text)
    ref, an, _ = resolve_windows(data, incident_window(case), None)
    aligned = align_for_time(data, data.layout, ref, an)
    first = aligned.record.lags[0]
    assert first.given and first.lag_steps == 2 and first.confidence is None
    assert aligned.reference.start == ref.start + max(aligned.record.shifts.values())


def test_a_compensating_controller_is_followed_to_its_disturbance(tmp_path):
    case = _loop_case(300, 700, 200)
    data = load_case(case, tmp_path)
    result = run_analysis(data, incident_window(case), None, FAST).result
    loop = result.dynamics.loops[0]
    assert loop.compensated and loop.source == "feed_impurity_pct" and loop.mv_shift_sd > 2
    assert abs(loop.cv_shift_sd) < 1 and 0 <= loop.limit_use < 1
    assert result.root_causes[0].node == "feed_impurity_pct"
    assert any("controller of reactor_temp_C compensated" in m for m in result.diagnostics.messages)


def test_data_without_time_are_treated_row_by_row(tmp_path):
    case = dynamic_case("lags", 103, n_reference=400, n_anomaly=100)
    data = load_case(case, tmp_path)
    rows = dataclasses.replace(data, time=None)
    assert align_for_time(rows, data.layout, slice(0, 400), slice(400, 500)) is None


def test_cusum_dates_a_drift_back_to_its_start():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=500)
    x = rng.normal(size=200)
    x[60:] += np.linspace(0, 4, 140)
    onset = cusum_onset(x, ref)
    assert onset is not None and 55 <= onset <= 120      # the ramp passes the 0.5 sd allowance at ~77
    assert cusum_onset(rng.normal(size=200), ref) is None


def test_the_sensor_whose_drift_started_first_upstream_is_put_first():
    import pandas as pd

    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"fouling": rng.normal(size=400), "outlet": rng.normal(size=400)})
    f, o = rng.normal(size=200), rng.normal(size=200)
    f[20:] += np.linspace(0, 5, 180)
    o[80:] += np.linspace(0, 8, 120)
    an = pd.DataFrame({"fouling": f, "outlet": o})
    ranking = SimpleNamespace(root_causes=[SimpleNamespace(node="outlet"), SimpleNamespace(node="fouling")])
    graph = SimpleNamespace(ancestors=lambda n: {"fouling"} if n == "outlet" else set())
    onsets, msg = drift_origin(ranking, graph, ref, an)
    assert [c.node for c in ranking.root_causes] == ["fouling", "outlet"] and "started the drift" in msg
    assert onsets["fouling"] < onsets["outlet"]


@pytest.mark.parametrize("kind", ["genealogy"])
def test_batch_genealogy_ranks_the_lot_property_first(tmp_path, kind):
    case = dynamic_case(kind, 5)
    data = load_case(case, tmp_path)
    assert "lot_viscosity_mPas" in data.frame.columns
    result = run_analysis(data, incident_window(case), None, FAST).result
    assert result.root_causes[0].node == "lot_viscosity_mPas"


def test_recycles_are_found_over_time_and_undeclared_ones_proposed(tmp_path):
    from rca_app.core.dynamics import lagged_step

    case = _loop_case(301, 900, 100)
    data = load_case(case, tmp_path)
    ref, an, _ = resolve_windows(data, incident_window(case), None)
    timed = align_for_time(data, data.layout, ref, an)
    assert lagged_step(timed, data, data.layout, timed.frame.iloc[timed.reference], None) == []
    recycle = [e for e in timed.record.lagged_edges if e.kind == "recycle"]
    true_lag = next(lag for s, d, lag in case.truth["edges"] if s == "recycle_flow_m3h")
    assert [(e.source, e.target, e.lag_steps) for e in recycle] == [("recycle_flow_m3h", "conversion_pct", true_lag)]
    assert any(e.kind == "self" and e.source == "feed_temp_C" for e in timed.record.lagged_edges)
    # Without the [[recycle]] the stream is proposed, not used.
    undeclared = dataclasses.replace(data.layout, recycles=[])
    timed = align_for_time(data, undeclared, ref, an)
    msgs = lagged_step(timed, data, undeclared, timed.frame.iloc[timed.reference], None)
    assert len(msgs) == 1 and 'from = "Separator", to = "Reactor"' in msgs[0]
    assert {e.kind for e in timed.record.lagged_edges} == {"proposed_recycle", "self"}
    # A declared control loop over the same pair explains the backward link: nothing proposed.
    from rca_app.core.layout.time_keys import Loop

    looped = dataclasses.replace(undeclared, loops=[*undeclared.loops, Loop("recycle_flow_m3h", "conversion_pct")])
    timed = align_for_time(data, looped, ref, an)
    assert lagged_step(timed, data, looped, timed.frame.iloc[timed.reference], None) == []
    assert {e.kind for e in timed.record.lagged_edges} == {"self"}


def test_rows_without_dynamics_show_no_lagged_edges(tmp_path):
    from rca_app.core.dynamics import lagged_step

    case = dynamic_case("genealogy", 2)
    data = load_case(case, tmp_path)
    ref, an, _ = resolve_windows(data, incident_window(case), None)
    timed = align_for_time(data, data.layout, ref, an)
    assert lagged_step(timed, data, data.layout, timed.frame.iloc[timed.reference], None) == []
    assert [e for e in timed.record.lagged_edges if e.kind != "self"] == []


def test_a_sensor_with_its_own_auto_lag_is_estimated_on_its_own(tmp_path):
    case = dynamic_case("lags", 106, n_reference=800, n_anomaly=100)     # s1_a feeds S2 after 6 min
    first = case.layout_toml.index('name = "S1"\n') + len('name = "S1"\n')
    text = case.layout_toml[:first] + 'lag = "1min"\nlags = { s1_a = "auto" }\n' + case.layout_toml[first:]
    data = load_case(case, tmp_path, text)
    ref, an, _ = resolve_windows(data, incident_window(case), None)
    rec = align_for_time(data, data.layout, ref, an).record
    own = next(r for r in rec.lags if r.station == "s1_a (S1)")
    later = sum(case.truth["lags_min"][1:])
    # s1_a's true lag to S2 is the plant's first residence time; the station's declared 1 min is not.
    assert own.lag_steps == case.truth["lags_min"][0] == 6 and own.confidence >= 0.6
    assert rec.shifts["s1_a"] == later + 6 and rec.shifts["s1_b"] == later + 1

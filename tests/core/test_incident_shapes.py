"""Incident shapes on small simulated plants with known truth: one bad unit, an alarm that never
fired in the reference, a pass/fail flag, a defect count, a 3-rows-per-sensor reference; each
gets the ranking it should, says so, and adds no edges of its own."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.incident_shapes import infer_kpi_type, plan_incident
from rca_app.core.kpi_mechanisms import RateMechanism
from rca_app.core.layout import load_layout, parse_layout
from rca_app.core.results import AnalysisResult
from rca_sim.incident_shapes import simulate_shape

FAST = AnalysisSettings(graph_bootstrap=2, rank_bootstrap=6, n_jobs=1)


def _run(tmp_path, kind, seed, settings=FAST, **kw):
    plant = simulate_shape(kind, seed=seed, **kw)
    csv, lay = plant.save(tmp_path)
    data = prepare(load_table(csv), load_layout(lay))
    return plant, data, run_analysis(data, plant.incident_window, None, settings)


def test_one_bad_unit_is_ranked_per_unit_and_says_what_one_row_means(tmp_path):
    plant, _, outcome = _run(tmp_path, "continuous", 500, n_sensors=8, n_reference=800, n_incident=1)
    r = outcome.result
    assert r.anomaly.n_rows == 1
    assert r.ranking_basis.method == "unit_restoration" and r.ranking_basis.incident_rows == 1
    top = r.root_causes[0]
    assert top.node == plant.root_cause, [c.node for c in r.root_causes[:4]]
    assert top.restoration > 0.3 and top.restoration_ci[0] <= top.restoration_ci[1]
    assert any("one unit (row)" in m and "this unit only" in m for m in r.diagnostics.messages)
    # The result travels: JSON round trip keeps the basis.
    assert AnalysisResult.from_dict(r.to_dict()).ranking_basis == r.ranking_basis


def test_an_alarm_that_never_fired_gets_an_anomaly_ranking_not_a_restoration(tmp_path):
    plant, _, outcome = _run(tmp_path, "event", 502, n_sensors=8, n_reference=800, n_incident=10,
                             declare_kpi_type=False)
    r = outcome.result
    basis = r.ranking_basis
    assert basis.method == "anomaly" and basis.kpi_type == "event" and basis.kpi_type_inferred
    assert r.root_causes[0].node == plant.root_cause
    assert basis.anomaly_scores[0].node == plant.root_cause
    assert all(math.isnan(c.restoration) and math.isnan(c.share_ranked_first) for c in r.root_causes)
    assert not r.actions and basis.anomaly_scores[0].first_on_rows > 0.5
    assert any("not by restoration" in m for m in r.diagnostics.messages)
    assert any('kpi_type = "event"' in m for m in r.diagnostics.messages)
    # No edge into an alarm that never varied: nothing could have been learnt about it.
    assert not [e for e in r.graph.edges if e.target == "kpi"]


def test_a_single_alarm_row_is_ranked_too(tmp_path):
    plant, _, outcome = _run(tmp_path, "event", 501, n_sensors=8, n_reference=800, n_incident=1, shift_sd=5.0)
    assert outcome.result.ranking_basis.method == "anomaly"
    assert outcome.result.root_causes[0].node == plant.root_cause


def test_a_pass_fail_flag_gets_a_classifier_and_its_rate_is_restored(tmp_path):
    plant, _, outcome = _run(tmp_path, "binary", 501, n_sensors=8, n_reference=1200, n_incident=30)
    r = outcome.result
    assert r.ranking_basis.method == "restoration" and r.ranking_basis.kpi_type == "binary"
    kpi_mech = next(m for m in r.mechanisms if m.node == "kpi")
    assert kpi_mech.kind in ("logistic", "hgb_logistic")
    assert isinstance(outcome.scm.mechanisms_["kpi"], RateMechanism)
    assert r.root_causes[0].node == plant.root_cause
    assert 0.4 < r.root_causes[0].restoration < 1.6


def test_a_defect_count_gets_a_count_model(tmp_path):
    plant, _, outcome = _run(tmp_path, "count", 502, n_sensors=8, n_reference=1200, n_incident=30)
    r = outcome.result
    assert r.ranking_basis.kpi_type == "count"
    assert next(m for m in r.mechanisms if m.node == "kpi").kind in ("poisson", "hgb_poisson")
    assert r.root_causes[0].node == plant.root_cause


@pytest.mark.parametrize("kind, seed", [("binary", 503), ("count", 500)])
def test_flag_and_count_kpis_add_no_edges_of_their_own(tmp_path, kind, seed):
    plant, data, outcome = _run(tmp_path, kind, seed, n_sensors=8, n_reference=1200, n_incident=30)
    found = {(e.source, e.target) for e in outcome.result.graph.edges}
    into_kpi = {e for e in found if e[1] == "kpi"}
    assert into_kpi <= set(plant.edges), into_kpi - set(plant.edges)
    # Between sensors the graph is what the same sensors give with a continuous KPI.
    frame = data.frame.copy()
    frame["kpi"] = frame["kpi"] + np.random.default_rng(0).normal(0, 0.3, len(frame))
    cont = plant.frame.copy()
    cont["kpi"] = frame["kpi"].to_numpy()
    (tmp_path / "c").mkdir()
    cont.to_csv(tmp_path / "c" / "data.csv", index=False)
    (tmp_path / "c" / "layout.toml").write_text(plant.layout_toml.replace(f'kpi_type = "{kind}"',
                                                                          'kpi_type = "continuous"'))
    data_c = prepare(load_table(tmp_path / "c" / "data.csv"), load_layout(tmp_path / "c" / "layout.toml"))
    other = run_analysis(data_c, plant.incident_window, None, FAST).result
    sensors = {(e.source, e.target) for e in other.graph.edges if e.target != "kpi"}
    assert found - into_kpi == sensors


def test_three_rows_per_sensor_get_a_simple_model_and_say_so(tmp_path):
    plant, _, outcome = _run(tmp_path, "continuous", 501, n_sensors=12, n_reference=36, n_incident=24)
    r = outcome.result
    assert r.ranking_basis.simple_model and r.ranking_basis.reference_rows == 36
    assert r.ranking_basis.comfortable_reference_rows == 60
    assert {m.kind for m in r.mechanisms} <= {"ridge", "empirical", "linear"}
    assert max(len(m.parents) for m in r.mechanisms) <= 3
    assert any("simpler model" in m and "60" in m for m in r.diagnostics.messages)
    assert r.root_causes[0].node == plant.root_cause, [c.node for c in r.root_causes[:4]]


def test_too_short_a_reference_is_refused_saying_how_many_rows_would_do(tmp_path):
    plant = simulate_shape("continuous", seed=3, n_sensors=12, n_reference=40, n_incident=30)
    csv, lay = plant.save(tmp_path)
    data = prepare(load_table(csv), load_layout(lay))
    with pytest.raises(RcaInputError) as e:
        run_analysis(data, (62, 70), (55, 62), FAST)
    msg = str(e.value)
    assert "7 rows" in msg and "at least 14" in msg and "about 60" in msg


def test_kpi_type_is_inferred_from_the_values():
    assert infer_kpi_type([0, 1, 1, 0]) == "binary"
    assert infer_kpi_type([0, 0, 3, 1, 0, 2]) == "count"
    assert infer_kpi_type([97.1, 98.2, 96.5]) == "continuous"
    assert infer_kpi_type([95, 96, 97, 98]) == "continuous"     # whole numbers without zeros: a yield
    layout = parse_layout('[plant]\ntarget = "y"\n[[station]]\nname = "a"\nsensors = ["x", "y"]\n')
    shape = plan_incident(layout, [0, 0, 0, 0], [1, 1], 1, 30)
    assert shape.kpi_type == "event" and shape.method == "anomaly" and shape.short_incident


def test_a_declared_type_the_values_contradict_is_refused():
    layout = parse_layout('[plant]\ntarget = "y"\nkpi_type = "binary"\n[[station]]\nname = "a"\n'
                          'sensors = ["x", "y"]\n')
    with pytest.raises(RcaInputError, match="0 and 1 only"):
        plan_incident(layout, [0, 1, 0, 100], [100], 1, 30)


def test_layout_declares_kpi_type_and_refuses_an_unknown_one():
    text = '[plant]\ntarget = "y"\nkpi_type = "{}"\n[[station]]\nname = "a"\nsensors = ["x", "y"]\n'
    layout = parse_layout(text.format("Count"))
    assert layout.kpi_type == "count"
    assert parse_layout(layout.to_toml()).kpi_type == "count"
    with pytest.raises(RcaInputError, match="kpi_type"):
        parse_layout(text.format("alarm"))


@pytest.mark.parametrize("family", ["binary", "count"])
def test_rate_mechanism_noise_reproduces_each_unit_and_fresh_noise_its_rate(family):
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    rate = 1 / (1 + np.exp(-(x - 1))) if family == "binary" else np.exp(0.5 * x)
    y = (rng.uniform(size=3000) < rate).astype(float) if family == "binary" else rng.poisson(rate).astype(float)
    from rca_app.core.encoding import FeatureDesign

    values = {"x": x, "y": y}
    m = RateMechanism("y", ["x"], FeatureDesign(["x"], {}, values), family).fit(values, np.arange(3000) % 5)
    u = m.abduct(values, rng)
    assert np.array_equal(m.assign(values, u), y)                       # abduction is exact per unit
    fresh = m.assign(values, m.reference_draws(np.arange(3000), rng))
    assert abs(fresh.mean() - y.mean()) < 0.1 * max(y.mean(), 0.2)     # and fresh noise keeps the rate
    assert m.oof_r2 > 0.05


def test_resample_intervals_refit_the_flag_kpis_rate_model_from_scratch(tmp_path):
    # Refits from scratch rebuild each mechanism by its kind's name: the logistic rate model of
    # a flag KPI is refitted on every resample, with no fallback to weighted refits.
    settings = AnalysisSettings(graph_bootstrap=2, rank_bootstrap=4, n_jobs=1, interval_method="resample")
    plant, _, outcome = _run(tmp_path, "binary", 501, settings, n_sensors=6, n_reference=800, n_incident=20)
    r = outcome.result
    assert r.diagnostics.bootstrap_refits_used == 4 and r.root_causes[0].node == plant.root_cause
    assert not any("weighted refits" in m for m in r.diagnostics.messages)
    kpi_kind = next(m.kind for m in r.mechanisms if m.node == "kpi")
    assert kpi_kind in ("logistic", "hgb_logistic")
    assert all(type(m.mechanisms_["kpi"]).__name__ == "RateMechanism" and m.mechanisms_["kpi"].main is None
               for m in outcome.bootstrap_models)
    top = r.root_causes[0]
    lo, hi = top.restoration_ci
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
    assert len({round(m.mechanisms_["kpi"].rate(m.reference_values_).mean(), 6) for m in outcome.bootstrap_models}) > 1


def test_resample_intervals_refit_the_simple_models_ridge_from_scratch(tmp_path):
    settings = AnalysisSettings(graph_bootstrap=2, rank_bootstrap=4, n_jobs=1, interval_method="resample")
    plant, _, outcome = _run(tmp_path, "continuous", 501, settings, n_sensors=12, n_reference=36, n_incident=24)
    r = outcome.result
    assert r.ranking_basis.simple_model and r.diagnostics.bootstrap_refits_used == 4
    assert not any("weighted refits" in m for m in r.diagnostics.messages)
    ridge = [n for n, m in outcome.scm.mechanisms_.items() if m.kind == "ridge"]
    assert ridge
    for m in outcome.bootstrap_models:
        for n in ridge:
            if n in m.mechanisms_:
                assert m.mechanisms_[n].kind == "ridge" and m.mechanisms_[n].alpha > 0
    lo, hi = r.root_causes[0].restoration_ci
    assert math.isfinite(lo) and math.isfinite(hi) and lo < hi


def test_a_short_reference_of_autocorrelated_rows_is_judged_on_its_effective_rows():
    import pandas as pd

    from rca_app.core.incident_shapes import effective_reference_rows

    rng = np.random.default_rng(0)
    n = 200
    slow = {}
    for c in ("a", "b", "kpi"):
        x = np.zeros(n)
        for k in range(1, n):
            x[k] = 0.9 * x[k - 1] + rng.normal()   # an integrated autocorrelation time of about 19 rows
        slow[c] = x
    ref = pd.DataFrame(slow)
    worth = effective_reference_rows(ref, ["a", "b", "kpi"])
    assert worth is not None and 5 <= worth <= 40, worth
    # Independent rows are worth themselves: no correction.
    assert effective_reference_rows(pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "kpi"]),
                                    ["a", "b", "kpi"]) is None
    layout = parse_layout('[plant]\nname = "t"\ntarget = "kpi"\n[[station]]\nname = "S"\nsensors = ["a", "b", "kpi"]\n')
    # 200 rows are comfortable for 2 sensors counted one by one, not as the ~20 rows they are worth.
    assert not plan_incident(layout, ref["kpi"], ref["kpi"][:20] + 3, 2, 30).simple_model
    shape = plan_incident(layout, ref["kpi"], ref["kpi"][:20] + 3, 2, 30, worth)
    assert shape.simple_model and shape.information_rows == worth
    assert f"worth about {worth} independent rows" in " ".join(shape.messages)

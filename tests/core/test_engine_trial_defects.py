"""Engine defects a first-time user met on continuous-plant data (issue #14 trial): each test fails
on the behaviour the trial found."""
from __future__ import annotations

import numpy as np

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.graph import CausalGraph
from rca_app.core.layout import load_layout
from rca_sim.dynamic import dynamic_case
from tests.dynamic_cases import incident_window, load_case

FAST = AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)


def test_a_kpi_without_any_cause_in_the_graph_is_not_its_own_finding(tmp_path):
    # Defect 3: a graph with no edge into the KPI ranked "the KPI itself 100%" and nothing else.
    case = dynamic_case("lags", 111, n_reference=300, n_anomaly=100)
    data = load_case(case, tmp_path)
    others = [n for n in data.layout.nodes if n != data.layout.target]
    unlinked = CausalGraph(tuple(data.layout.nodes), ())
    r = run_analysis(data, incident_window(case), None, FAST, graph=unlinked).result
    assert data.layout.target not in [c.node for c in r.root_causes]
    assert {c.node for c in r.root_causes} <= set(others) and r.root_causes
    assert r.ranking_basis.method == "anomaly" and "not causal" in r.ranking_basis.explanation
    assert any("No sensor could be linked to" in m and "NOT causal" in m for m in r.diagnostics.messages)
    assert case.truth["root_causes"][0] in [c.node for c in r.root_causes[:3]]


def test_an_anomaly_ranking_says_when_the_kpi_did_not_move_the_bad_way(tmp_path):
    # Audit of #14: a KPI read with -9999 codes "rose" in the incident and got an anomaly ranking
    # without the "did not move the bad way" warning the restoration ranking gives.
    import dataclasses

    case = dynamic_case("lags", 111, n_reference=300, n_anomaly=100)
    data = load_case(case, tmp_path)
    assert data.layout.goal == "maximize"
    better = dataclasses.replace(data, layout=dataclasses.replace(data.layout, goal="minimize"))   # the drop is good
    unlinked = CausalGraph(tuple(data.layout.nodes), ())
    r = run_analysis(better, incident_window(case), None, FAST, graph=unlinked).result
    assert r.ranking_basis.method == "anomaly"
    said = [m for m in r.diagnostics.messages if "did not move the bad way" in m]
    assert len(said) == 1 and "explain no loss of it" in said[0], r.diagnostics.messages[:3]
    # The same incident the bad way: no such warning.
    r = run_analysis(data, incident_window(case), None, FAST, graph=unlinked).result
    assert not any("did not move the bad way" in m for m in r.diagnostics.messages)


def _ar1(n, phi, rng):
    x = np.zeros(n)
    e = rng.normal(size=n) * np.sqrt(1 - phi ** 2)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def test_a_kpi_that_barely_moved_carries_a_warning():
    # Defect 9: a shortfall within the KPI's own variation got a confident ranking without a word.
    import pandas as pd

    from rca_app.core.rootcause import Incident, within_noise_warning

    rng = np.random.default_rng(3)
    x = _ar1(1200, 0.97, rng)
    ref = pd.DataFrame({"kpi": x[:1000]})
    an = pd.DataFrame({"kpi": x[1000:] - x[1000:].mean() + x[:1000].mean() - 0.3 * x[:1000].std()})
    inc = Incident("kpi", "maximize", ref, an)
    # 0.3 sd over 200 autocorrelated rows (a handful of independent ones): noise.
    w = within_noise_warning(inc, serial=True)
    assert w is not None and "barely moved" in w and "normal variation" in w
    # The same shift over 200 independent rows is 4 sds of their mean: a real loss.
    assert within_noise_warning(inc, serial=False) is None
    # A clear loss on the time series is not flagged.
    big = Incident("kpi", "maximize", ref, an - 3 * x[:1000].std())
    assert within_noise_warning(big, serial=True) is None


def test_a_loop_whose_valve_sat_at_its_limit_is_saturated_and_leads_the_messages(tmp_path):
    # Defect 4: valves at 99-100% of their limits were read as "held"; nothing said when they hit it.
    from rca_app.core.control_loops import loop_state
    from rca_sim.dynamic import hard_case

    case = hard_case("pi_saturating", 5, 600, 200)
    r = run_analysis(load_case(case, tmp_path), incident_window(case), None, FAST).result
    loop = r.dynamics.loops[0]
    assert loop.saturated and loop.saturated_share >= 0.5 and "min after the incident began" in loop.saturated_at
    assert loop_state(loop).startswith("saturated") and "held" not in loop_state(loop)
    first = next(m for m in r.diagnostics.messages if not m.startswith("WARNING:"))
    assert first.startswith(f"the controller of {loop.controlled} lost authority") and loop.saturated_at in first
    assert f"{loop.controlled} moved {loop.cv_shift_sd:+.1f} reference sd" in first


def test_loop_states_name_what_the_controller_did():
    from rca_app.core.control_loops import loop_state
    from rca_app.core.results import LoopRecord

    assert loop_state(LoopRecord("t", "v", 4.0, 0.2, True, 0.3, True)) == "compensated"
    assert loop_state(LoopRecord("t", "v", 0.5, 0.2, False, 0.1, True)) == "held"
    assert "did not hold t" in loop_state(LoopRecord("t", "v", 0.5, -6.0, False, 0.1, True))
    assert loop_state(LoopRecord("t", "v", 9.0, -6.0, False, 0.99, True)).startswith("reached its limit")
    assert loop_state(LoopRecord("t", "v", 9.0, -6.0, False, 0.99, True, saturated=True)).startswith("saturated")


def test_a_declared_residence_time_the_data_contradict_gets_a_note(tmp_path):
    # Defect 2: a wrong declared lag was used silently (declared values still win).
    from rca_app.core.dynamics import align_for_time
    from rca_app.core.windows import resolve_windows

    case = dynamic_case("lags", 102, n_reference=600, n_anomaly=150)
    true = case.truth["lags_min"][0]
    wrong = true + 4
    text = case.layout_toml.replace('name = "S1"\n', f'name = "S1"\nlag = "{wrong}min"\n', 1)
    data = load_case(case, tmp_path, text)
    ref, an, _ = resolve_windows(data, incident_window(case), None)
    aligned = align_for_time(data, data.layout, ref, an)
    assert aligned.record.lags[0].given and aligned.record.lags[0].lag_steps == wrong
    note = [m for m in aligned.messages if m.startswith("residence time S1 -> S2: declared")]
    assert note and f"declared {wrong}min; the data suggest {true}min (confidence" in note[0]
    # A declared value the data agree with gets no note.
    text = case.layout_toml.replace('name = "S1"\n', f'name = "S1"\nlag = "{true}min"\n', 1)
    data = load_case(case, tmp_path, text)
    assert not any("declared" in m for m in align_for_time(data, data.layout, ref, an).messages)


def test_a_cause_that_did_not_move_yet_restores_most_of_the_loss_is_flagged():
    # Defect 2: reactor_temp_C (moved 0.1 sd, held by its controller) restored 55% without a word.
    from rca_app.core.records import Evidence, RootCause
    from rca_app.core.rootcause import unmoved_cause_notes

    def cause(node, restoration, shift):
        return RootCause(node, "S", restoration, (0.0, 1.0), 0.5, False, False,
                         Evidence(0.0, 1.0, shift, 1.0, shift, shift, 1.0))

    notes = unmoved_cause_notes([cause("held_temp", 0.55, 0.1), cause("impurity", 0.36, 5.0)], "kpi")
    assert len(notes) == 1 and notes[0].startswith("held_temp restores 55% of the loss although it hardly moved")
    assert not unmoved_cause_notes([cause("impurity", 0.9, 5.0), cause("kpi", 0.8, 0.0)], "kpi")


def test_a_reference_that_ends_after_the_fault_began_is_warned_about(tmp_path):
    # Defect 5: fault rows silently in the reference (an auto window starting late, or a late start given).
    import pandas as pd

    case = dynamic_case("lags", 104, n_reference=500, n_anomaly=200)
    data = load_case(case, tmp_path)
    start, end = incident_window(case)
    on_time = run_analysis(data, (start, end), None, FAST).result
    assert not any("beyond their control limits" in m for m in on_time.diagnostics.messages)
    late = (pd.Timestamp(start) + pd.Timedelta("40min")).isoformat()
    r = run_analysis(data, (late, end), None, FAST).result
    warn = [m for m in r.diagnostics.messages if "beyond their control limits" in m]
    assert warn and warn[0].startswith("WARNING") and case.truth["root_causes"][0] in warn[0]
    # It names when the first sensor left its limits: before the late start, near the true one.
    first = pd.Timestamp(warn[0].split("The first left its limits at ")[1].split(":")[0][:13] + ":00")
    assert pd.Timestamp(start) - pd.Timedelta("1h") <= first <= pd.Timestamp(late)


def test_an_action_on_a_controller_output_says_so(tmp_path):
    # Defect 5: "set a_feed_valve to 42.58" without a word that it is a loop's manipulated variable.
    from rca_sim.dynamic import _loop_case

    case = _loop_case(300, 500, 150)
    text = case.layout_toml.replace('name = "Reactor"\n', 'name = "Reactor"\ncontrollable = ["coolant_valve_pct"]\n', 1)
    r = run_analysis(load_case(case, tmp_path, text), incident_window(case), None, FAST).result
    action = next(a for a in r.actions if a.node == "coolant_valve_pct")
    assert any("output of the controller of reactor_temp_C" in w for w in action.warnings)


def test_an_undeclared_control_loop_is_proposed_not_used(tmp_path):
    # Defect 15: recycles were proposed, loops never; the valve then left the ranking without a word.
    import re

    from rca_sim.dynamic import _loop_case

    case = _loop_case(301, 600, 150)
    text = re.sub(r"\[\[loop\]\]\n(?:[a-z]+ = .*\n)+", "", case.layout_toml)
    assert "[[loop]]" not in text
    r = run_analysis(load_case(case, tmp_path, text), incident_window(case), None, FAST).result
    assert r.dynamics.loops == []          # proposed only: nothing declared is read or used
    proposal = [m for m in r.diagnostics.messages if "control loop the layout does not declare" in m]
    assert len(proposal) == 1
    assert '[[loop]] controlled = "reactor_temp_C", manipulated = "coolant_valve_pct"' in proposal[0]
    # A plant without controllers gets no proposal.
    case = dynamic_case("lags", 105, n_reference=500, n_anomaly=150)
    r = run_analysis(load_case(case, tmp_path / "plain"), incident_window(case), None, FAST).result
    assert not any("control loop the layout does not declare" in m for m in r.diagnostics.messages)


def test_a_sensor_that_moved_but_is_not_ranked_is_named_with_the_reason():
    import pandas as pd

    from rca_app.core.rootcause import unranked_notes

    ref = pd.DataFrame({c: np.tile([0.0, 1.0], 50) for c in ("valve", "temp", "kpi")})
    an = pd.DataFrame({"valve": np.full(10, 5.0), "temp": np.full(10, 0.5), "kpi": np.full(10, 0.0)})
    g = CausalGraph(("temp", "valve", "kpi"), ())
    notes = unranked_notes([], ref, an, ["valve", "temp"], "kpi", g)
    assert len(notes) == 1 and "valve (+9.0 sd: the graph has no path from it to kpi)" in notes[0]
    assert "temp" not in notes[0]


def test_lot_properties_count_lots_not_batches():
    # Defect 10: ~100 lots repeated on ~9 batches each were tested as 900 independent rows, got a
    # self-lag "in the model" and a residence time from the lot table to the first station.
    from rca_app.core.hidden_evidence import lot_runs
    from rca_app.resources import sample_plants_dir

    assert lot_runs(np.repeat([1.0, 2.0, 1.5, 3.0], 9)) == 4
    assert lot_runs(np.arange(40.0)) is None and lot_runs(np.ones(10)) is None
    plant = sample_plants_dir() / "batch_genealogy"
    data = prepare(load_table(plant / "data.csv"), load_layout(plant / "layout.toml"))
    r = run_analysis(data, ("2026-03-29T03:00:00", "2026-04-04T09:00:00"), None, FAST).result
    lots = {"lot_viscosity_mPas", "lot_moisture_pct"}
    assert r.root_causes[0].node == "lot_viscosity_mPas"
    assert not any(set(h.sensors) <= lots for h in r.diagnostics.hidden_causes)
    assert not any(e.kind == "self" and e.source in lots for e in r.dynamics.lagged_edges)
    assert all(x.station != "Raw material lot" for x in r.dynamics.lags)


def test_the_top_causes_own_change_is_not_absorbed_by_its_self_lag(tmp_path):
    # Defect 11: feed_impurity_pct shifted 5 sd, but its "own change" read +1.6 sd (noise given its own past).
    from rca_sim.dynamic import _loop_case

    case = _loop_case(302, 600, 150)
    r = run_analysis(load_case(case, tmp_path), incident_window(case), None, FAST).result
    top = r.root_causes[0]
    assert top.node == "feed_impurity_pct"
    assert any(e.kind == "self" and e.source == top.node and e.in_model for e in r.dynamics.lagged_edges)
    ev = top.evidence
    assert ev.shift_sd > 2 and abs(ev.noise_shift_z - ev.shift_sd) < 0.25 * ev.shift_sd
    note = [m for m in r.diagnostics.messages if m.startswith(f"{top.node}: its own change is")]
    assert note and "self-lag" in note[0]

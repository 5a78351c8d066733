"""The whole engine on the sample plants: the true root cause must come out on top."""
import json

import pytest

from rca_app.app.sample_plants import load_sample_plant
from rca_app.core.analysis import AnalysisResult, AnalysisSettings, run_analysis
from rca_app.resources import sample_plants_dir

PLANTS = sorted(p.name for p in sample_plants_dir().iterdir() if (p / "truth.json").exists())
FAST = AnalysisSettings(graph_bootstrap=5, rank_bootstrap=8)


def _load(name):
    plant, data = load_sample_plant(name)
    return data, plant.truth


@pytest.fixture(scope="module")
def outcomes():
    out = {}
    for name in PLANTS:
        data, truth = _load(name)
        an = truth["anomaly"]
        out[name] = (run_analysis(data, (an["start"], an["end"]), None, FAST), truth, data)
    return out


def test_there_are_three_plants():
    assert len(PLANTS) >= 3


@pytest.mark.parametrize("name", PLANTS)
def test_true_root_cause_ranked_first(outcomes, name):
    outcome, truth, _ = outcomes[name]
    top = outcome.result.root_causes[0]
    assert top.node in truth["root_causes"], [c.node for c in outcome.result.root_causes[:5]]
    lo, hi = top.restoration_ci
    assert lo <= hi and top.restoration > 0.5
    assert top.share_ranked_first >= 0.5
    second = outcome.result.root_causes[1]
    assert top.restoration > second.restoration + 0.2


@pytest.mark.parametrize("name", PLANTS)
def test_result_fills_the_json_contract(outcomes, name):
    outcome, truth, data = outcomes[name]
    d = json.loads(json.dumps(outcome.result.to_dict()))
    for key in ("target", "anomaly", "root_causes", "actions", "graph", "diagnostics", "settings", "seed",
                "software", "input"):
        assert key in d
    for key in ("start", "end", "n_rows", "target_reference_mean", "target_anomaly_mean"):
        assert key in d["anomaly"]
    assert d["input"]["sha256"] == data.raw.sha256 and len(d["input"]["sha256"]) == 64
    for c in d["root_causes"]:
        assert {"node", "station", "restoration", "restoration_ci", "controllable"} <= set(c)
    for e in d["graph"]["edges"]:
        assert {"source", "target", "effect", "confidence"} <= set(e)
        assert 0.0 <= e["confidence"] <= 1.0
    assert AnalysisResult.from_dict(d).to_dict() == d


def test_actions_stay_in_reference_range_and_compensate(outcomes):
    outcome, truth, _ = outcomes["injection_moulding"]
    acts = outcome.result.actions
    assert acts, "the injection moulding plant has controllable setpoints"
    for a in acts:
        if isinstance(a.recommended_value, float):
            lo, hi = a.reference_range
            assert lo <= a.recommended_value <= hi
    best = acts[0]
    assert best.restoration > 0.3, best


def test_same_seed_same_result():
    data, truth = _load(PLANTS[0])
    an = truth["anomaly"]
    settings = AnalysisSettings(graph_bootstrap=3, rank_bootstrap=3, seed=5)
    a = run_analysis(data, (an["start"], an["end"]), None, settings)
    b = run_analysis(data, (an["start"], an["end"]), None, settings)
    ra, rb = a.result.to_dict(), b.result.to_dict()
    ra["diagnostics"].pop("timings"), rb["diagnostics"].pop("timings")
    assert ra == rb


def test_given_graph_skips_discovery_and_is_validated(outcomes):
    from rca_app.core.errors import RcaInputError
    from rca_app.core.graph import CausalGraph, Edge

    outcome, truth, data = outcomes["chemical_reactor"]
    an = truth["anomaly"]
    true_graph = CausalGraph(tuple(data.frame.columns), ())
    for s, t in truth["edges"]:
        if s in data.frame.columns and t in data.frame.columns:
            true_graph = true_graph.add_edge(s, t)
    r = run_analysis(data, (an["start"], an["end"]), None, FAST, graph=true_graph).result
    assert r.diagnostics.graph_source == "given"
    assert r.root_causes[0].node in truth["root_causes"]
    target = data.layout.target
    first = data.layout.stations[0].sensors[0]
    # An edge out of the KPI breaks the layout's constraints: rejected before any fitting.
    bad = true_graph.with_edges(list(true_graph.edges) + [Edge(target, first)])
    with pytest.raises(RcaInputError):
        run_analysis(data, (an["start"], an["end"]), None, FAST, graph=bad)


def test_sensor_constant_in_reference_is_left_out_with_a_note():
    data, truth = _load("bottling_line")
    an = truth["anomaly"]
    from rca_app.core.data import rows_for_window

    ref = rows_for_window(data, None, an["start"])
    data.frame.loc[data.frame.index[ref], "capper_torque_Ncm"] = 183.0  # a setpoint left alone
    r = run_analysis(data, (an["start"], an["end"]), None, FAST).result
    assert "capper_torque_Ncm" not in [n.name for n in r.graph.nodes]
    assert any("capper_torque_Ncm" in m and "check this change first" in m for m in r.diagnostics.messages)
    assert r.root_causes[0].node in truth["root_causes"]


def test_an_estimate_outside_its_interval_is_explained():
    from types import SimpleNamespace

    from rca_app.core.analysis_notes import points_outside_intervals

    cause = SimpleNamespace(node="kpi_copy", restoration=0.32, restoration_ci=(0.41, 0.59))
    inside = SimpleNamespace(node="a", restoration=0.5, restoration_ci=(0.4, 0.6))
    no_interval = SimpleNamespace(node="b", restoration=0.5, restoration_ci=(float("nan"), float("nan")))
    action = SimpleNamespace(node="dryer_temp", predicted_target=97.0, predicted_target_ci=(97.2, 97.9))
    notes = points_outside_intervals(SimpleNamespace(root_causes=[cause, inside, no_interval], actions=[action]))
    assert len(notes) == 2
    assert notes[0].startswith("kpi_copy: its restoration (32%) lies outside its 90% interval (41% to 59%)")
    assert "unstable" in notes[0] and notes[1].startswith("setting dryer_temp: the predicted KPI (97)")

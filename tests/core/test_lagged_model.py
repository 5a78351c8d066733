"""Lagged edges in the structural model: lagged columns X[t-L] as parents, counterfactuals
propagated through time (a recycle carries a change forward after its lag), row-per-part models
untouched, and a declared control loop held over time so that the ranking follows the
disturbance through the controller to its source."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rca_app.app.sample_plants import load_sample_plant
from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.lagged_model import (
    LaggedPlan,
    Scenario,
    apply_lagged_plan,
    lag_inputs,
    lag_name,
    plan_lagged_inputs,
    propagate_in_time,
    stepping_calls,
    summary_graph,
)
from rca_app.core.queries import incident_abduction
from rca_app.core.results import LaggedEdge
from rca_app.core.rootcause import Incident, candidate_nodes, restorations, what_if
from rca_app.core.scm import SCMSettings, StructuralCausalModel

LAG = 3


def _recycle_plant(n: int, seed: int = 0, shift_a: float = 0.0, n_shift: int = 0) -> pd.DataFrame:
    """a -> b -> c -> y with c returning to b after LAG rows (0.5 c(t - LAG))."""
    rng = np.random.default_rng(seed)
    a = rng.laplace(0, 1, n)
    a[n - n_shift:] += shift_a
    b, c = np.zeros(n), np.zeros(n)
    eb, ec, ey = (rng.uniform(-0.3, 0.3, n) for _ in range(3))
    for t in range(n):
        b[t] = 0.8 * a[t] + (0.5 * c[t - LAG] if t >= LAG else 0.0) + eb[t]
        c[t] = 1.0 * b[t] + ec[t]
    return pd.DataFrame({"a": a, "b": b, "c": c, "y": c + ey})


def _model(frame: pd.DataFrame):
    graph = CausalGraph(("a", "b", "c", "y"), (Edge("a", "b"), Edge("b", "c"), Edge("c", "y")))
    plan = LaggedPlan()
    plan.add("c", LAG, "b")
    aug, g = apply_lagged_plan(plan, frame, graph)
    scm = StructuralCausalModel(g, settings=SCMSettings(mechanisms=("linear",)))
    scm.fit(aug.iloc[LAG:].reset_index(drop=True))
    return scm, aug


def test_lagged_columns_are_parents_and_have_no_mechanism_of_their_own():
    scm, aug = _model(_recycle_plant(3000))
    col = lag_name("c", LAG)
    assert [li.source for li in lag_inputs(scm)] == ["c"] and col in scm.mechanisms_["b"].parents
    assert col not in scm.mechanisms_ and col not in candidate_nodes(scm, "y")
    assert summary_graph(scm.graph).nodes == ("a", "b", "c", "y")
    assert np.allclose(aug[col].to_numpy()[LAG:], aug["c"].to_numpy()[:-LAG])


def test_a_change_reaches_its_descendants_after_the_recycle_s_lag():
    frame = _recycle_plant(3000)
    scm, aug = _model(frame)
    an = aug.iloc[-30:].reset_index(drop=True)
    ab = incident_abduction(scm, an)
    # do(a = observed + 1) from the incident's first row: +0.8 at once, then +0.8 * 0.5 ** k
    # more every LAG rows as the raised c comes back through the recycle.
    moved = propagate_in_time(scm, ab.values, ab.noise, [Scenario(setting={"a": ab.values["a"] + 1.0})], "y", 30)[0]
    expected = np.array([0.8 * sum(0.5 ** k for k in range(t // LAG + 1)) for t in range(30)])
    assert np.allclose(moved - an["y"].to_numpy(), expected, atol=0.03)
    # Without the model's lagged input the response would be flat at 0.8: the recycle matters.
    assert expected[-1] > 1.5


def test_a_restoration_propagates_through_the_recycle():
    frame = _recycle_plant(3000, shift_a=-2.0, n_shift=60)
    scm, aug = _model(frame)
    ref, an = aug.iloc[LAG:2940].reset_index(drop=True), aug.iloc[2940:].reset_index(drop=True)
    with_lag = restorations(scm, Incident("y", "maximize", ref, an), ["a", "b"])
    # Restoring a also restores what the recycle brought back of it: nothing is left for b.
    assert 0.85 < with_lag["a"] < 1.15 and abs(with_lag["b"]) < 0.1
    # Without the lagged input b's mechanism misses the recycle, and the returning stream looks
    # like b's own change: a keeps only its direct share.
    graph = CausalGraph(("a", "b", "c", "y"), (Edge("a", "b"), Edge("b", "c"), Edge("c", "y")))
    plain = StructuralCausalModel(graph, settings=SCMSettings(mechanisms=("linear",))).fit(ref[list(graph.nodes)])
    without = restorations(plain, Incident("y", "maximize", ref[list(graph.nodes)], an[list(graph.nodes)]), ["a", "b"])
    assert without["a"] < 0.8 and without["b"] > 0.2


def test_a_plan_puts_declared_recycles_self_lags_and_loops_in_the_model():
    graph = CausalGraph(("f", "cv", "mv", "y"), (Edge("f", "cv"), Edge("mv", "cv"), Edge("cv", "y")))
    edges = [LaggedEdge("y", "cv", "5min", 5, 0.3, 1e-9, "recycle"), LaggedEdge("f", "f", "1min", 1, 0.8, 1e-9, "self"),
             LaggedEdge("y", "f", "9min", 9, 0.3, 1e-9, "proposed_recycle")]
    loop = type("Loop", (), {"controlled": "cv", "manipulated": "mv"})()
    plan = plan_lagged_inputs(edges, [loop], graph, {"f": 4, "cv": 2}, {"f", "cv", "mv", "y"})
    # The recycle's lag in aligned rows: 5 physical + cv's shift 2 - y's shift 0.
    assert plan.inputs[("y", 7)] == ["cv"] and plan.inputs[("f", 1)] == ["f"]
    assert [e.in_model for e in edges] == [True, True, False]          # a proposal is never used silently
    assert plan.loops == [("cv", "mv")]
    assert set(plan.inputs[("mv", 1)]) == {"cv", "mv"} and set(plan.inputs[("cv", 1)]) == {"cv", "mv"}
    _, g = apply_lagged_plan(plan, pd.DataFrame({c: np.arange(10.0) for c in graph.nodes}), graph)
    assert ("cv", "mv") in g.edge_keys and ("mv", "cv") not in g.edge_keys and g.find_cycle() is None
    # A valve that reaches its CV another way within the row cannot be turned: the loop stays as found.
    other = CausalGraph(("f", "cv", "mv", "x"), (Edge("mv", "x"), Edge("x", "cv"), Edge("mv", "cv")))
    assert plan_lagged_inputs([], [loop], other, {}, {"f", "cv", "mv", "x"}).loops == []
    # No same-row edge between them at all: the controller's is added.
    bare = CausalGraph(("cv", "mv"), ())
    _, g = apply_lagged_plan(plan_lagged_inputs([], [loop], bare, {}, {"cv", "mv"}),
                             pd.DataFrame({"cv": np.arange(5.0), "mv": np.arange(5.0)}), bare)
    assert ("cv", "mv") in g.edge_keys


def test_row_per_part_models_have_no_lagged_inputs():
    frame = _recycle_plant(500)
    graph = CausalGraph(("a", "b", "c", "y"), (Edge("a", "b"), Edge("b", "c"), Edge("c", "y")))
    scm = StructuralCausalModel(graph, settings=SCMSettings(mechanisms=("linear",))).fit(frame)
    assert lag_inputs(scm) == []
    inc = Incident("y", "maximize", frame.iloc[:450], frame.iloc[450:])
    assert what_if(scm, inc, "a", 1.0).shape == (50,)


def test_the_controlled_variable_gets_little_restoration_and_the_disturbance_s_source_comes_first():
    plant, data = load_sample_plant("continuous_reactor")
    truth = json.loads((plant.folder / "truth.json").read_text("utf-8"))
    result = run_analysis(data, tuple(plant.anomaly), None,
                          AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)).result
    rest = {c.node: c.restoration for c in result.root_causes}
    loop = plant.layout.loops[0]
    assert result.root_causes[0].node == truth["root_causes"][0] and rest[truth["root_causes"][0]] > 0.7
    # The controller held its CV and moved its MV: neither behaved differently of its own.
    assert abs(rest[loop.controlled]) < 0.05 and abs(rest.get(loop.manipulated, 0.0)) < 0.05
    dyn = result.dynamics
    assert [r.in_model for r in dyn.loops] == [True]
    assert any(e.kind == "recycle" and e.in_model for e in dyn.lagged_edges)
    assert all("[t-" not in n.name for n in result.graph.nodes)
    mech = {m.node: m.parents for m in result.mechanisms}
    assert f"{loop.manipulated}[t-1]" in mech[loop.controlled] and loop.controlled in mech[loop.manipulated]


@pytest.mark.parametrize("rows", [1, 7])
def test_blocks_shorter_than_the_incident_give_the_same_answer(rows):
    # Replicas of the incident rows are propagated together: each replica in its own time order.
    scm, aug = _model(_recycle_plant(2000, seed=1))
    an = aug.iloc[-12:].reset_index(drop=True)
    ab = incident_abduction(scm, an)
    reps = {k: np.tile(v, rows) for k, v in ab.values.items()}
    noise = {k: np.tile(v, rows) for k, v in ab.noise.items()}
    one = propagate_in_time(scm, ab.values, ab.noise, [Scenario(setting={"a": ab.values["a"] * 0})], "y", 12)[0]
    many = propagate_in_time(scm, reps, noise, [Scenario(setting={"a": reps["a"] * 0})], "y", 12)[0]
    assert np.allclose(many.reshape(rows, 12), one)


def test_an_action_says_when_the_kpi_reaches_its_new_level():
    from types import SimpleNamespace

    from rca_app.core.action_response import action_responses
    from rca_app.core.dynamics import response_steps
    from rca_app.core.results import DynamicsRecord

    def action_timing(record, acts, target, model, incident):
        return action_responses(record, acts, target, model, incident)

    scm, aug = _model(_recycle_plant(3000))
    inc = Incident("y", "maximize", aug.iloc[LAG:2960].reset_index(drop=True), aug.iloc[-40:].reset_index(drop=True))
    # do(a = 2): the recycle adds 0.8 * 0.5 ** k every LAG rows; 90% of the new level after 3 returns.
    k = response_steps(scm, inc, "a", 2.0)
    assert k is not None and abs(k - 3 * LAG) <= 2
    record = DynamicsRecord(step="1min", shifts={"a": 4})
    text = action_timing(record, [SimpleNamespace(node="a", recommended_value=2.0)], "y", scm, inc)
    assert text == [f"setting a: y would start to respond about 4min after the change (the residence time from its "
                    f"station) and reach 90% of its new level about {4 + k}min after it (recycles, controllers and "
                    "slow sensors in the model)"]
    # A row-per-part model answers at once: only the residence time is stated.
    plain = StructuralCausalModel(CausalGraph(("a", "b", "c", "y"), (Edge("a", "b"), Edge("b", "c"), Edge("c", "y"))),
                                  settings=SCMSettings(mechanisms=("linear",))).fit(inc.reference)
    assert response_steps(plain, inc, "a", 2.0) is None
    assert action_timing(record, [SimpleNamespace(node="a", recommended_value=2.0)], "y", plain, inc) == [
        "setting a: y would respond about 4min after the change (the residence time from its station)"]


def test_the_cost_of_going_through_time_is_counted_per_block():
    graph = CausalGraph(("a", "b", "c", "y"), (Edge("a", "b"), Edge("b", "c"), Edge("c", "y")))
    plan = LaggedPlan()
    plan.add("c", LAG, "b")
    _, g = apply_lagged_plan(plan, pd.DataFrame({c: np.arange(10.0) for c in graph.nodes}), graph)
    # c's recycle: a, b and c go block by block, LAG rows at a time; y once after.
    assert stepping_calls(g, 30) == 10 * 3 and stepping_calls(graph, 30) == 0
    plan.add("y", 1, "y")
    _, g = apply_lagged_plan(plan, pd.DataFrame({c: np.arange(10.0) for c in graph.nodes}), graph)
    assert stepping_calls(g, 30) == 30 * 4


def test_independent_fresh_samples_are_refused_for_a_model_over_time():
    from rca_app.core.queries import interventional_samples

    scm, _ = _model(_recycle_plant(400))
    with pytest.raises(ValueError, match="lagged inputs"):
        interventional_samples(scm, {"a": 0.0}, 10)


def test_a_model_graph_given_back_is_the_same_row_graph_with_the_loop_as_declared():
    from rca_app.core.lagged_model import add_lagged_columns, contemporaneous_graph, model_edge_key

    graph = CausalGraph(("f", "cv", "mv", "y"), (Edge("f", "cv"), Edge("mv", "cv", confidence=0.9), Edge("cv", "y")))
    loop = type("Loop", (), {"controlled": "cv", "manipulated": "mv"})()
    frame = pd.DataFrame({c: np.arange(6.0) for c in graph.nodes})
    _, model = apply_lagged_plan(plan_lagged_inputs([], [loop], graph, {}, set(graph.nodes)), frame, graph)
    back = contemporaneous_graph(model, [loop])
    assert back.nodes == graph.nodes and back.edge_keys == graph.edge_keys and back.edge("mv", "cv").confidence == 0.9
    # The drawn MV -> CV is the model's MV[t-1] -> CV.
    assert model_edge_key(model, "mv", "cv") == ("mv[t-1]", "cv") and model_edge_key(model, "f", "cv") == ("f", "cv")
    # Rows of another period get the lagged columns from within themselves.
    rows = add_lagged_columns(frame, model.nodes)
    assert rows["mv[t-1]"].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    assert add_lagged_columns(frame, graph.nodes) is frame


def test_row_by_row_queries_go_through_time_only_on_the_incident_s_rows():
    from rca_app.core.lagged_model import incident_replicas, mark_incident_rows
    from rca_app.core.queries import propagate

    scm, aug = _model(_recycle_plant(2000, seed=2))
    an = aug.iloc[-12:].reset_index(drop=True)
    mark_incident_rows(scm, an, "y")
    ab = incident_abduction(scm, an)
    tiled = {k: np.tile(v, 3) for k, v in ab.values.items()}
    noise = {k: np.tile(v, 3) for k, v in ab.noise.items()}
    assert incident_replicas(scm, tiled) == 12
    other = {k: v[::-1].copy() for k, v in tiled.items()}
    assert incident_replicas(scm, other) is None             # another period's rows: row by row
    moved = propagate(scm, tiled, noise, set(), {"a": 0.0}, stop_at="y")["y"]
    step = propagate_in_time(scm, tiled, noise, [Scenario(setting={"a": np.zeros(36)})], "y", 12)[0]
    assert np.allclose(moved, step)


def test_an_unstable_model_over_time_is_detected():
    """A recycle whose loop gain exceeds one makes every counterfactual run through the incident
    grow without bound: the analysis must notice (and fall back to the row model) instead of
    ranking by restorations of 1e24. The fitted, stable model passes."""
    from rca_app.core.lagged_model import diverges, mark_incident_rows

    scm, aug = _model(_recycle_plant(2000, seed=4, shift_a=3.0, n_shift=200))
    an = aug.iloc[-200:].reset_index(drop=True)
    mark_incident_rows(scm, an, "y")
    assert not diverges(scm, an, "y")
    b = scm.mechanisms_["b"]
    lagged = b.parents.index(lag_name("c", LAG))
    b.coef_ = b.coef_.copy()
    b.coef_[lagged] *= 3.0                      # loop gain 0.5 -> 1.5: explosive
    scm.__dict__.pop("_abductions", None)      # abduct again under the changed mechanism
    mark_incident_rows(scm, an, "y")
    assert diverges(scm, an, "y")

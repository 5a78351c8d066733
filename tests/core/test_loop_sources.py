"""Where a controller's disturbance came from (trial 3, #13): a lab tag's relation with the valve is read
on its sampled rows; when no upstream sensor explains the valve's move, the result says so and the
upstream sensors that moved go before the loop's pair; a compensating loop's valve is never "where the
disturbance entered".

One PI loop simulated row by row (milliseconds), read by :func:`rca_app.core.control_loops.loop_readings`
and :func:`rca_app.core.disturbance_origin.disturbance_origin` as the analysis reads them.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from rca_app.core.control_loops import loop_readings
from rca_app.core.disturbance_origin import disturbance_origin
from rca_app.core.graph import CausalGraph
from rca_app.core.layout import parse_layout

N_REF, N_INC = 600, 200
LAYOUT = parse_layout(
    '[plant]\nname = "t"\ntarget = "yield_pct"\n'
    '[[station]]\nname = "Feed"\nsensors = ["feed_x"]\n'
    '[[station]]\nname = "Reactor"\nsensors = ["reactor_temp_C", "coolant_valve_pct"]\n'
    '[[station]]\nname = "Product"\nsensors = ["yield_pct"]\n'
    '[[loop]]\ncontrolled = "reactor_temp_C"\nmanipulated = "coolant_valve_pct"\nlow = 0.0\nhigh = 100.0\n')


def _plant(load, feed_x, seed=0):
    """A temperature held at 180 by a cooling valve (PI, velocity form) against ``load``."""
    rng = np.random.default_rng(seed)
    n = len(load)
    temp, valve = np.empty(n), np.empty(n)
    t, v = 180.0, 40.0
    for k in range(n):
        t_new = 180.0 + 0.6 * (t - 180.0) - 0.25 * (v - 40.0) + 0.5 * load[k] + 0.2 * rng.normal()
        v = float(np.clip(v + 0.8 * (t_new - t) + 0.6 * (t_new - 180.0), 0.0, 100.0))
        t = t_new
        temp[k], valve[k] = t, v
    frame = pd.DataFrame({"feed_x": feed_x, "reactor_temp_C": temp, "coolant_valve_pct": valve,
                          "yield_pct": 90 - 0.3 * (temp - 180) + 0.1 * rng.normal(size=n)})
    return frame.iloc[:N_REF].reset_index(drop=True), frame.iloc[N_REF:].reset_index(drop=True)


def _ranking(*nodes):
    return SimpleNamespace(root_causes=[SimpleNamespace(node=n, share_ranked_first=0.0) for n in nodes])


def test_a_lab_tags_relation_with_the_valve_is_read_on_its_sampled_rows():
    rng = np.random.default_rng(2)
    n = N_REF + N_INC
    # A feed impurity that wanders within the half hour (AR(1), unit sd) and steps up in the
    # incident; the lab samples it every 30 rows and the grid holds each result until the next.
    imp = np.zeros(n)
    for k in range(1, n):
        imp[k] = 0.8 * imp[k - 1] + 0.6 * rng.normal()
    imp[N_REF:] += 4.0
    held = imp[(np.arange(n) // 30) * 30]
    ref, an = _plant(imp, held, seed=2)
    graph = CausalGraph(tuple(LAYOUT.nodes), ())
    # On the held copies the relation is diluted towards zero: no source is found.
    (without,), _ = loop_readings(LAYOUT, ref, an, _ranking("coolant_valve_pct", "feed_x"), graph)
    assert without.compensated and without.source is None
    ranking = _ranking("coolant_valve_pct", "feed_x")
    (rec,), notes = loop_readings(LAYOUT, ref, an, ranking, graph, sampled={"feed_x": np.arange(0, N_REF, 30)})
    assert rec.compensated and rec.source == "feed_x" and rec.source_share > 0.8, rec
    assert [c.node for c in ranking.root_causes][0] == "feed_x"


def test_a_disturbance_no_sensor_explains_is_said_and_the_upstream_movers_go_before_the_pair():
    rng = np.random.default_rng(2)
    n = N_REF + N_INC
    load = rng.normal(size=n)
    load[N_REF:] += 4.0                               # an unmeasured load steps up ...
    feed_x = rng.normal(size=n)
    feed_x[N_REF:] += 5.0                             # ... with a feed sensor unrelated to the valve before
    ref, an = _plant(load, feed_x, seed=2)
    ranking = _ranking("coolant_valve_pct", "reactor_temp_C", "feed_x")
    (rec,), notes = loop_readings(LAYOUT, ref, an, ranking, CausalGraph(tuple(LAYOUT.nodes), ()))
    assert rec.compensated and rec.source is None
    text = " ".join(str(m) for m in notes)
    assert "not pinned down" in text and "feed_x (+" in text, text
    assert [c.node for c in ranking.root_causes] == ["feed_x", "coolant_valve_pct", "reactor_temp_C"]


def test_a_compensating_loops_valve_is_never_the_disturbance_origin():
    rng = np.random.default_rng(3)
    n = N_REF + N_INC
    load = rng.normal(size=n)
    load[N_REF:] += 4.0
    feed_x = rng.normal(size=n)
    feed_x[N_REF + 30:] += 5.0                        # the feed sensor shows it 30 rows after the valve moved
    ref, an = _plant(load, feed_x, seed=3)
    graph = CausalGraph(tuple(LAYOUT.nodes), ())
    (rec,), _ = loop_readings(LAYOUT, ref, an, _ranking("reactor_temp_C"), graph)
    assert rec.compensated
    # The temperature (held) credited first: without the loop's reading the valve, which moved
    # first, would be taken for the origin; with it the feed sensor is.
    ranking = _ranking("reactor_temp_C", "coolant_valve_pct", "feed_x")
    _, note = disturbance_origin(ranking, LAYOUT, graph, ref, an, None, [rec])
    assert ranking.root_causes[0].node == "feed_x", note
    bare = _ranking("reactor_temp_C", "coolant_valve_pct", "feed_x")
    disturbance_origin(bare, LAYOUT, graph, ref, an, None)
    assert bare.root_causes[0].node == "coolant_valve_pct"   # what the loop's reading prevents


def _setpoint_plant(sp_step: float, seed=4):
    """The PI loop following a setpoint tag; the operators move it by ``sp_step`` at the incident."""
    rng = np.random.default_rng(seed)
    n = N_REF + N_INC
    sp = np.full(n, 180.0)
    sp[N_REF:] += sp_step
    temp, valve = np.empty(n), np.empty(n)
    t, v = 180.0, 40.0
    for k in range(n):
        t_new = 180.0 + 0.6 * (t - 180.0) - 0.25 * (v - 40.0) + 0.5 * rng.normal() + 0.2 * rng.normal()
        v = float(np.clip(v + 0.8 * (t_new - t) + 0.6 * (t_new - sp[k]), 0.0, 100.0))
        t = t_new
        temp[k], valve[k] = t, v
    frame = pd.DataFrame({"feed_x": rng.normal(size=n), "reactor_temp_C": temp, "coolant_valve_pct": valve,
                          "yield_pct": 90 - 0.3 * (temp - 180) + 0.1 * rng.normal(size=n), "temp_sp": sp})
    return frame.iloc[:N_REF].reset_index(drop=True), frame.iloc[N_REF:].reset_index(drop=True)


SP_LAYOUT = parse_layout(
    '[plant]\nname = "t"\ntarget = "yield_pct"\n'
    '[[station]]\nname = "Feed"\nsensors = ["feed_x"]\n'
    '[[station]]\nname = "Reactor"\nsensors = ["reactor_temp_C", "coolant_valve_pct"]\n'
    '[[station]]\nname = "Product"\nsensors = ["yield_pct"]\n'
    '[[loop]]\ncontrolled = "reactor_temp_C"\nmanipulated = "coolant_valve_pct"\nsetpoint = "temp_sp"\n'
    'low = 0.0\nhigh = 100.0\n')


def test_a_setpoint_tag_in_no_station_is_read_with_its_loop_and_is_not_its_own_cv():
    assert SP_LAYOUT.station_of("temp_sp") == "Reactor"          # read with its controlled variable
    from rca_app.core.errors import RcaInputError

    try:
        parse_layout('[plant]\nname = "t"\ntarget = "y"\n[[station]]\nname = "S"\nsensors = ["a", "b", "y"]\n'
                     '[[loop]]\ncontrolled = "a"\nmanipulated = "b"\nsetpoint = "a"\n')
    except RcaInputError as e:
        assert "its own controlled or manipulated variable" in str(e)
    else:
        raise AssertionError("a loop whose setpoint is its own CV was accepted")


def test_a_moved_setpoint_the_cv_followed_is_ranked_first_and_the_valve_read_as_the_answer():
    ref, an = _setpoint_plant(-3.0)
    model = ["feed_x", "reactor_temp_C", "coolant_valve_pct", "yield_pct"]
    ranking = SimpleNamespace(root_causes=[
        SimpleNamespace(node=n, station="Reactor", restoration=r, restoration_ci=(r - 0.1, r + 0.1),
                        restoration_range=None, share_ranked_first=f)
        for n, r, f in (("coolant_valve_pct", 0.9, 1.0), ("reactor_temp_C", 0.1, 0.0))])
    (rec,), notes = loop_readings(SP_LAYOUT, ref[model], an[model], ranking, None, clock=(ref, an))
    assert rec.compensated and rec.cv_shift_sd < -3 and rec.source is None
    text = " ".join(str(m) for m in notes)
    assert "did not hold" not in text and "the operators moved the setpoint temp_sp" in text, text
    first = ranking.root_causes[0]
    assert first.node == "temp_sp" and first.restoration == 0.9 and first.share_ranked_first == 1.0
    from rca_app.core.control_loops import loop_state

    assert loop_state(rec).startswith("followed its moved setpoint")


def test_a_steady_setpoint_tag_reads_the_loop_as_a_fixed_setpoint_does():
    ref, an = _setpoint_plant(0.0)
    model = ["feed_x", "reactor_temp_C", "coolant_valve_pct", "yield_pct"]
    (with_tag,), _ = loop_readings(SP_LAYOUT, ref[model], an[model], _ranking("reactor_temp_C"), None,
                                   clock=(ref, an))
    (fixed,), _ = loop_readings(SP_LAYOUT, ref[model], an[model], _ranking("reactor_temp_C"), None)
    assert (with_tag.compensated, with_tag.cv_shift_sd) == (fixed.compensated, fixed.cv_shift_sd)


def test_a_setting_acting_only_through_a_held_temperature_is_warned_as_cancelled():
    from rca_app.core.graph import Edge
    from rca_app.core.lagged_model import LagInput
    from rca_app.core.loop_actions import held_loop_warnings, held_on_the_way

    nodes = ("preheat", "feed_x", "reactor_temp_C", "coolant_valve_pct", "conversion", "yield_pct",
             "coolant_valve_pct[t-1]")
    edges = [("preheat", "reactor_temp_C"), ("reactor_temp_C", "coolant_valve_pct"),
             ("coolant_valve_pct[t-1]", "reactor_temp_C"), ("reactor_temp_C", "conversion"),
             ("conversion", "yield_pct"), ("feed_x", "conversion"), ("feed_x", "reactor_temp_C")]
    graph = CausalGraph(nodes, tuple(Edge(a, b) for a, b in edges))
    lagged = [LagInput("coolant_valve_pct[t-1]", "coolant_valve_pct", 1)]
    loops = SP_LAYOUT.loops
    held, every = held_on_the_way(graph, "preheat", "yield_pct", loops, lagged)
    assert [lp.controlled for lp in held] == ["reactor_temp_C"] and every
    (w,) = held_loop_warnings(graph, "preheat", "yield_pct", loops, lagged)
    assert w.startswith("acts on yield_pct only through reactor_temp_C") and "cancel" in w
    # A path around the held temperature: only part of the effect is cancelled.
    (w,) = held_loop_warnings(graph, "feed_x", "yield_pct", loops, lagged)
    assert w.startswith("part of feed_x's effect")
    # The loop's own variables and a setting downstream of the loop get no such warning.
    assert held_loop_warnings(graph, "coolant_valve_pct", "yield_pct", loops, lagged) == []
    assert held_loop_warnings(graph, "conversion", "yield_pct", loops, lagged) == []

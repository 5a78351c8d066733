"""Qt-free pieces of the dynamics GUI: lag wording, proposed recycles, loop wording, overlay
offsets, historian tag rows, the kpi_type edit and the lagged-edge geometry."""
from __future__ import annotations

import pytest

from rca_app.app.data_view import fmt_seconds, tag_rows
from rca_app.app.dynamics_view import (
    declared_loop_text,
    lag_readings,
    loop_short_text,
    loop_text,
    proposed_recycles,
    residence_offset,
)
from rca_app.app.graph_geometry import backward_arc, feedback_arc, self_loop
from rca_app.app.graph_view import dynamics_overlay
from rca_app.app.layout_edit import layout_set_plant
from rca_app.core.control_loops import loop_state
from rca_app.core.historian import TagReport
from rca_app.core.layout import Layout, Station
from rca_app.core.layout.time_keys import Loop, Recycle
from rca_app.core.results import DynamicsRecord, LaggedEdge, LagRecord, LoopRecord


@pytest.fixture
def layout():
    return Layout(name="p", target="y", goal="maximize", time_column="t",
                  stations=[Station("A", ["a"]), Station("B", ["b", "mv"]), Station("C", ["c", "y"])],
                  recycles=[Recycle("C", "B", "10min")], loops=[Loop("b", "mv", 5.0, 0.0, 100.0)])


@pytest.fixture
def dyn():
    return DynamicsRecord(
        step="2min",
        lags=[LagRecord("A", "B", "6min", 3, False, 3, 0.92, 0.3), LagRecord("B", "C", "4min", 2, True),
              LagRecord("C", "D", "0s", 0, False, 5, 0.4, 0.1)],
        shifts={"a": 5, "b": 2},
        loops=[LoopRecord("b", "mv", 3.2, 0.1, True, 0.8, True, "a", 0.55)],
        lagged_edges=[LaggedEdge("c", "b", "10min", 5, 0.3, 1e-4, "recycle"),
                      LaggedEdge("y", "a", "8min", 4, 0.2, 1e-3, "proposed_recycle"),
                      LaggedEdge("c", "a", "6min", 3, 0.2, 1e-3, "proposed_recycle"),
                      LaggedEdge("a", "a", "2min", 1, 0.8, 1e-9, "self")])


def test_lag_readings_say_declared_or_estimated_with_confidence(dyn):
    r = lag_readings(dyn)
    assert r["A"].text == "estimated 6min, confidence 92%" and r["A"].short == "auto: 6min (92%)"
    assert r["B"].text == "declared 4min" and r["B"].given
    assert r["C"].text == "estimated 0s, confidence 40% (the data's 5 steps were not trusted)"
    assert lag_readings(None) == {}


def test_proposed_recycles_join_stations_once_with_the_shortest_lag(dyn, layout):
    assert proposed_recycles(dyn, layout) == [Recycle("C", "A", "6min")]
    declared = Layout(**{**layout.__dict__, "recycles": [*layout.recycles, Recycle("C", "A", "5min")]})
    assert proposed_recycles(dyn, declared) == []
    assert proposed_recycles(None, layout) == []


def test_loop_words(dyn, layout):
    assert declared_loop_text(layout.loops[0]) == "mv holds b at 5, limits 0…100"
    assert loop_short_text(dyn.loops[0]) == "compensated, 80% to its limit, disturbance from a"


def test_the_loop_tooltip_words_the_state_as_the_terminal_and_report_do():
    questioned = LoopRecord("b", "mv", 0.2, 5.0, False, 0.1, True, questioned="b moved while mv held")
    both = LoopRecord("b", "mv", 9.0, -6.0, False, 1.0, True, saturated=True, saturated_at="at 12:00",
                      saturated_limits=[0.0, 100.0])
    for rec in (questioned, both, LoopRecord("b", "mv", 3.2, 0.1, True, 0.8, True, "a", 0.55)):
        assert loop_text(rec).startswith(loop_state(rec) + ":")
    assert loop_text(questioned).startswith("declaration questioned (b moved while mv held)")
    assert loop_text(both).startswith("saturated at both limits") and "first at its limit at 12:00" in loop_text(both)


def test_overlay_offset_is_the_sensors_residence_time(dyn):
    assert residence_offset(dyn, "a", time_axis=True) == 5 * 120
    assert residence_offset(dyn, "a", time_axis=False) == 5
    assert residence_offset(dyn, "c", time_axis=True) == 0.0
    assert residence_offset(None, "a", time_axis=True) == 0.0


def test_tag_rows():
    rows = tag_rows([TagReport("lab", 40, 2, 1, 0.925, 1800.0, "last", 1200.0),
                     TagReport("temp", 100, 0, 0, 1.0, 30.0, "mean")])
    assert rows == [["lab", "last", "40", "2 (7.5% not good)", "1", "30 min", "20 min"],
                    ["temp", "mean", "100", "0", "0", "30 s", "–"]]
    assert fmt_seconds(7200) == "2 h" and fmt_seconds(None) == "–"


def test_kpi_type_edit(layout):
    assert layout_set_plant(layout, kpi_type="binary").kpi_type == "binary"
    assert layout_set_plant(layout_set_plant(layout, kpi_type="count"), kpi_type="").kpi_type is None
    with pytest.raises(ValueError, match="kpi_type"):
        layout_set_plant(layout, kpi_type="ratio")


def test_graph_overlay_and_geometry(dyn, layout):
    lagged, loops = dynamics_overlay(["a", "b", "mv", "c", "y"], layout, SimpleResult(dyn))
    assert [(e["source"], e["target"], e["self"]) for e in lagged][0] == ("c", "b", False)
    assert lagged[-1]["self"] and "slow own dynamics" in lagged[-1]["text"]
    assert loops == [{"controlled": "b", "manipulated": "mv",
                      "text": "Control loop: mv holds b at 5, limits 0…100.\nIn the incident: compensated: mv moved "
                              "+3.2 sd, b +0.1 sd; 80% of the way to its limit (declared limits); disturbance "
                              "from a (55% of the move)."}]
    g = backward_arc((300.0, 50.0), (100.0, 80.0), 30.0, 20.0)
    assert g["start"] == (300.0, 65.0) and g["end"] == (100.0, 97.0)
    assert g["label"][1] > 97.0                 # sags below both boxes, clear of forward arrows
    s = self_loop((0.0, 0.0), 100.0, 30.0)
    assert s["centre"][0] == pytest.approx(43.0) and s["centre"][1] < -15.0
    f = feedback_arc((0.0, 0.0), (0.0, 60.0), 100.0)
    assert f["start"][0] == -50.0 and f["c1"][0] < -50.0 and f["label"][0] < -50.0


class SimpleResult:
    def __init__(self, dynamics):
        self.dynamics = dynamics


def test_station_gaps_show_declared_and_moving_estimated_lags(dyn):
    from rca_app.app.dynamics_view import station_gap_labels
    from rca_app.app.graph_view import station_gaps

    gaps = station_gap_labels(dyn)
    # An estimate marked "≈", a declared lag as given; a zero estimate moves nothing and is left out.
    assert gaps["A"].text == "→ ≈6min →" and gaps["A"].estimated
    assert gaps["A"].tip == "Residence time A → B: estimated 6min, confidence 92%"
    assert gaps["B"].text == "→ 4min →" and not gaps["B"].estimated
    assert "C" not in gaps and station_gap_labels(None) == {}

    class R:
        dynamics = dyn

    assert [(g["after"], g["text"]) for g in station_gaps(["A", "B", "C"], R())] == [(0, "→ ≈6min →"),
                                                                                    (1, "→ 4min →")]
    # Stations since reordered: a lag is drawn only between the columns it was measured between.
    assert [g["after"] for g in station_gaps(["B", "A", "C"], R())] == [] and station_gaps(["A"], None) == []


def test_only_a_trusted_nonzero_estimate_can_be_accepted(dyn):
    r = lag_readings(dyn)
    assert r["A"].estimate == "6min"          # estimated and used
    assert r["B"].estimate is None            # declared already
    assert r["C"].estimate is None            # the data's 5 steps were not trusted: 0s used


def test_proposed_loops_are_offered_until_declared(dyn, layout):
    from rca_app.app.dynamics_view import proposed_loop_text, proposed_loops
    from rca_app.core.results import LoopProposal

    p = LoopProposal("c", "a", 4.0, 0.2, 0.5, "the data show a control loop ...")
    dyn.proposed_loops = [p]
    assert proposed_loops(dyn, layout) == [p]
    assert proposed_loop_text(p).startswith("a holds c: it moved +4.0 sd in the incident while c held (0.2 sd)")
    _lagged, loops = dynamics_overlay(["a", "b", "mv", "c", "y"], layout, SimpleResult(dyn))
    assert [(lp["controlled"], lp.get("proposed", False)) for lp in loops] == [("b", False), ("c", True)]
    declared = Layout(**{**layout.__dict__, "loops": [*layout.loops, Loop("c", "a")]})
    assert proposed_loops(dyn, declared) == [] and proposed_loops(None, layout) == []
    # A sensor the layout no longer has: not offered.
    fewer = Layout(**{**layout.__dict__, "stations": [Station("A", ["a"]), Station("B", ["b", "mv"]),
                                                      Station("C", ["y"])]})
    assert proposed_loops(dyn, fewer) == []


def test_a_weak_lag_estimate_is_called_weak_not_uncertain():
    from rca_app.app.result_words import uncertain_lag_note
    from rca_app.core.result_records import LagRecord

    # A steady estimate (every resample agrees) on stations that hardly relate at any lag.
    weak = LagRecord(station="Feed", to_station="Reactor", lag="0s", lag_steps=0, given=False, estimate_steps=7,
                     confidence=1.0, score=0.004)
    text = uncertain_lag_note(weak, "1min")
    assert text is not None and "is weak (the downstream sensors' adjusted R2 at that lag is 0.00)" in text
    assert "uncertain" not in text
    shaky = LagRecord(station="Feed", to_station="Reactor", lag="0s", lag_steps=0, given=False, estimate_steps=7,
                      confidence=0.3, score=0.2)
    assert "is uncertain (confidence 30%)" in uncertain_lag_note(shaky, "1min")

"""Loops and recycles the data show strongly are used by the command line, weak ones only proposed;
declared ones always win and the layout file is never changed (issue #14 §2)."""
from __future__ import annotations

import numpy as np
import pytest

from rca_app.app.strong_proposals import (
    STRONG_LOOP_CV_SD,
    STRONG_LOOP_PARTIAL_R,
    STRONG_RECYCLE_R,
    analyze_with_proposals,
    layout_with_proposals,
    weigh_proposals,
)
from rca_app.core.analysis import AnalysisSettings
from rca_app.core.data import load_table, prepare
from rca_app.core.layout import load_layout, parse_layout
from rca_app.core.layout.time_keys import Loop, Recycle
from rca_app.core.results import DynamicsRecord, LaggedEdge, LoopProposal
from rca_sim.dynamic import DynLoop, DynNode, _frame, _layout, simulate_dynamic

FAST = AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)

LAYOUT = """[plant]
name = "p"
target = "y"
time_column = "t"

[[station]]
name = "A"
sensors = ["a", "temp", "valve"]

[[station]]
name = "B"
sensors = ["b", "y"]
"""


def _loop(cv_sd: float, r: float, cv: str = "temp", mv: str = "valve") -> LoopProposal:
    return LoopProposal(controlled=cv, manipulated=mv, mv_shift_sd=4.0, cv_shift_sd=cv_sd, partial_r=r, text="")


def _recycle(r: float, p: float, lag: int = 6) -> LaggedEdge:
    return LaggedEdge("b", "a", f"{lag}min", lag, r, p, "proposed_recycle")


def test_strength_is_read_from_each_part_of_the_evidence():
    layout = parse_layout(LAYOUT, "layout.toml")
    cases = [(_loop(0.1, 0.6), True), (_loop(0.1, STRONG_LOOP_PARTIAL_R - 0.1), False),
             (_loop(STRONG_LOOP_CV_SD + 0.3, 0.6), False)]
    for proposal, strong in cases:
        (w,) = weigh_proposals(DynamicsRecord(step="1min", proposed_loops=[proposal]), layout)
        assert w.kind == "loop" and w.strong is strong, proposal
        assert w.item == Loop("temp", "valve")
        assert (w.why == "") is strong
    weak_cv = weigh_proposals(DynamicsRecord(step="1min", proposed_loops=[_loop(0.8, 0.6)]), layout)[0]
    assert weak_cv.why == "temp moved 0.8 sd, more than the 0.5 sd a held variable stays within"
    for edge, strong in [(_recycle(0.3, 1e-20), True), (_recycle(STRONG_RECYCLE_R - 0.05, 1e-20), False),
                         (_recycle(0.3, 1e-8), False)]:
        (w,) = weigh_proposals(DynamicsRecord(step="1min", lagged_edges=[edge]), layout)
        assert w.kind == "recycle" and w.strong is strong and w.item == Recycle("B", "A", "6min"), edge
    # One recycle per station pair: the shortest lag found, the clearest edge as its evidence.
    (w,) = weigh_proposals(DynamicsRecord(step="1min", lagged_edges=[_recycle(0.1, 1e-7, 4), _recycle(0.4, 1e-30, 9)]),
                           layout)
    assert w.item == Recycle("B", "A", "4min") and w.strong and "+0.40" in w.evidence


def test_a_backward_link_within_a_proposed_loop_is_not_a_recycle():
    layout = parse_layout(LAYOUT.replace('sensors = ["b", "y"]', 'sensors = ["b", "y", "t2"]'), "layout.toml")
    dyn = DynamicsRecord(step="1min", proposed_loops=[_loop(0.1, 0.7, cv="t2", mv="a")],
                         lagged_edges=[LaggedEdge("t2", "a", "2min", 2, 0.5, 1e-30, "proposed_recycle")])
    assert [w.kind for w in weigh_proposals(dyn, layout)] == ["loop"]


def test_a_strong_recycle_is_as_clear_as_the_proposal_bar_twice_over():
    from rca_app.app.strong_proposals import STRONG_RECYCLE_P
    from rca_app.core.lagged import PROPOSE_P

    assert pytest.approx(PROPOSE_P ** 2) == STRONG_RECYCLE_P


def test_declared_loops_and_recycles_always_win():
    layout = parse_layout(LAYOUT + '\n[[loop]]\ncontrolled = "temp"\nmanipulated = "a"\n\n'
                          '[[recycle]]\nfrom = "B"\nto = "A"\nlag = "3min"\n', "layout.toml")
    dyn = DynamicsRecord(step="1min", proposed_loops=[_loop(0.1, 0.7)], lagged_edges=[_recycle(0.4, 1e-30)])
    assert weigh_proposals(dyn, layout) == []


def test_the_layout_with_proposals_is_a_copy_that_says_what_was_added():
    layout = parse_layout(LAYOUT, "layout.toml")
    dyn = DynamicsRecord(step="1min", proposed_loops=[_loop(0.1, 0.7)], lagged_edges=[_recycle(0.4, 1e-30)])
    out = layout_with_proposals(layout, weigh_proposals(dyn, layout))
    assert layout.loops == [] and layout.recycles == []
    assert out.loops == [Loop("temp", "valve")] and out.recycles == [Recycle("B", "A", "6min")]
    assert out.problems() == []
    assert out.text.startswith(layout.text.rstrip("\n"))
    assert "# Added by rca-app analyze for this run" in out.text
    # The text recorded with the result reads back as the layout analysed.
    again = parse_layout(out.text, "layout.toml")
    assert again.loops == out.loops and again.recycles == out.recycles


def _reactor(tmp_path, valve_sd: float, valve_ar: float, ki: float):
    """A feed impurity raises the reactor's temperature, which its controller holds with the
    coolant valve; the impurity also lowers the conversion, and so the yield. The layout does not
    declare the loop."""
    nodes = [
        DynNode("feed_impurity_pct", "Feed", 1.0, 0.08, ar=0.8, exogenous=True),
        DynNode("feed_flow_m3h", "Feed", 12.0, 0.3, ar=0.7, exogenous=True, decimals=2),
        DynNode("reactor_temp_C", "Reactor", 180.0, 0.15, [("feed_impurity_pct", 12.0, 5)], ar=0.3, decimals=2),
        DynNode("coolant_valve_pct", "Reactor", 50.0, valve_sd, ar=valve_ar, decimals=2),
        DynNode("conversion_pct", "Reactor", 92.0, 0.3, [("reactor_temp_C", 0.6, 0), ("feed_impurity_pct", -6.0, 5),
                                                        ("feed_flow_m3h", -0.8, 5)], ar=0.4, decimals=2),
        DynNode("yield_pct", "Product", 90.0, 0.4, [("conversion_pct", 0.9, 6)], ar=0.3, decimals=2),
    ]
    loops = [DynLoop("reactor_temp_C", "coolant_valve_pct", 180.0, gain=0.5, ki=ki, low=0.0, high=100.0)]
    fault = {"type": "mean_shift", "node": "feed_impurity_pct", "delta": 0.25}
    df = simulate_dynamic(nodes, 1200, 240, [fault], 3, loops)
    _frame(df, 1).to_csv(tmp_path / "data.csv", index=False)
    layout_file = tmp_path / "layout.toml"
    layout_file.write_text(_layout("Reactor", "yield_pct", nodes), encoding="utf-8")
    data = prepare(load_table(tmp_path / "data.csv"), load_layout(layout_file))
    return data, layout_file, ("2026-03-01T20:00:00", "2026-03-02T00:00:00")


def test_a_strong_loop_proposal_is_used_and_said(tmp_path):
    # An integral controller in automatic throughout: its valve's changes follow the temperature's level.
    data, layout_file, window = _reactor(tmp_path, valve_sd=0.3, valve_ar=0.2, ki=0.4)
    before = layout_file.read_text(encoding="utf-8")
    outcome, used, only = analyze_with_proposals(data, window, None, FAST)
    assert [p.block for p in used] == ['[[loop]] controlled = "reactor_temp_C", manipulated = "coolant_valve_pct"']
    r = outcome.result
    # The analysis ran with the loop: it was read, and followed to the impurity.
    (loop,) = r.dynamics.loops
    assert loop.controlled == "reactor_temp_C" and loop.compensated and loop.source == "feed_impurity_pct"
    assert r.dynamics.proposed_loops == []
    assert r.root_causes[0].node == "feed_impurity_pct"
    # The held temperature is not ranked as a cause.
    assert r.root_causes[-1].node == "reactor_temp_C"
    note = next(str(m) for m in r.diagnostics.messages if str(m).startswith("Proposed loops and recycles"))
    assert "Used in this analysis, because the data show them strongly" in note
    assert "coolant_valve_pct moved +" in note and "partial correlation +" in note
    assert r.settings["proposals"]["used"] == [p.block for p in used]
    assert "[[loop]]\ncontrolled = \"reactor_temp_C\"" in r.layout.text
    assert layout_file.read_text(encoding="utf-8") == before and data.layout.loops == []
    # Switched off: the same proposal is reported only.
    off, used_off, only_off = analyze_with_proposals(data, window, None, FAST, use=False)
    assert used_off == [] and [p.block for p in only_off] == [p.block for p in used]
    assert off.result.dynamics.loops == [] and off.result.dynamics.proposed_loops
    assert any("because --proposals none was given" in str(m) for m in off.result.diagnostics.messages)


def test_a_weak_loop_proposal_is_only_proposed(tmp_path):
    # A slow controller whose valve also wanders on its own: the data still propose the loop, but
    # its signature in the reference is weak.
    data, _, window = _reactor(tmp_path, valve_sd=1.0, valve_ar=0.95, ki=0.1)
    outcome, used, only = analyze_with_proposals(data, window, None, FAST)
    assert used == []
    (weak,) = only
    assert weak.kind == "loop" and not weak.strong and "controller's signature" in weak.why
    r = outcome.result
    assert r.dynamics.loops == [] and [p.controlled for p in r.dynamics.proposed_loops] == ["reactor_temp_C"]
    assert np.isfinite(r.dynamics.proposed_loops[0].partial_r)
    assert abs(r.dynamics.proposed_loops[0].partial_r) < STRONG_LOOP_PARTIAL_R
    assert any("Only proposed, not used, because their evidence is not strong enough" in str(m)
               for m in r.diagnostics.messages)
    assert r.settings["proposals"]["used"] == []


@pytest.mark.parametrize("value", ["maybe"])
def test_the_cli_option_takes_strong_or_none(value, capsys):
    from rca_app.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["analyze", "d.csv", "--layout", "l.toml", "--anomaly", "a/b"])
    assert args.proposals == "strong"
    assert parser.parse_args(["analyze", "d.csv", "--layout", "l.toml", "--anomaly", "a/b",
                              "--proposals", "none"]).proposals == "none"
    with pytest.raises(SystemExit):
        parser.parse_args(["analyze", "d.csv", "--layout", "l.toml", "--anomaly", "a/b", "--proposals", value])

"""A controlled variable its controller held is not ranked as a cause (issue #14 §2, audit item 2):
whatever a model credits to its own behaviour is the controller's correction read as its noise.

The PI loop of tests/core/test_loop_sources.py, read by :func:`rca_app.core.control_loops.loop_readings`."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from rca_app.core.control_loops import loop_readings
from rca_app.core.graph import CausalGraph
from tests.core.test_loop_sources import LAYOUT, N_INC, N_REF, _plant


def _ranking(**restorations):
    return SimpleNamespace(root_causes=[SimpleNamespace(node=n, restoration=r, share_ranked_first=s)
                                        for n, (r, s) in restorations.items()])


def _disturbed(step: float, seed: int = 3):
    rng = np.random.default_rng(seed)
    n = N_REF + N_INC
    load, feed_x = rng.normal(size=n), rng.normal(size=n)
    load[N_REF:] += step            # the feed's disturbance, which the valve rejects
    feed_x[N_REF:] += 2 * step      # and the feed sensor that shows it
    return _plant(load, feed_x, seed=seed)


def test_a_held_temperature_credited_a_restoration_is_ranked_last_and_said_why():
    ref, an = _disturbed(4.0)
    ranking = _ranking(feed_x=(0.6, 0.7), reactor_temp_C=(0.3, 0.3), coolant_valve_pct=(0.05, 0.0),
                       yield_pct=(0.02, 0.0))
    (rec,), notes = loop_readings(LAYOUT, ref, an, ranking, CausalGraph(tuple(LAYOUT.nodes), ()))
    assert rec.compensated and abs(rec.cv_shift_sd) < 1
    assert [c.node for c in ranking.root_causes] == ["feed_x", "coolant_valve_pct", "yield_pct", "reactor_temp_C"]
    # Its refits ranked first pass on (to the disturbance's source, or the new first cause).
    assert ranking.root_causes[0].share_ranked_first == 1.0 and ranking.root_causes[-1].share_ranked_first == 0.0
    (said,) = [str(n) for n in notes if "is ranked last" in str(n)]
    assert said.startswith("reactor_temp_C is ranked last: its controller held it within ")
    assert "The 30% restoration the model credits to its own behaviour is the controller's correction" in said


def test_a_held_temperature_credited_nothing_is_moved_without_a_note():
    ref, an = _disturbed(4.0)
    ranking = _ranking(feed_x=(0.9, 1.0), reactor_temp_C=(0.001, 0.0), coolant_valve_pct=(-0.02, 0.0))
    _, notes = loop_readings(LAYOUT, ref, an, ranking, CausalGraph(tuple(LAYOUT.nodes), ()))
    assert ranking.root_causes[-1].node == "reactor_temp_C"
    assert not any("is ranked last" in str(n) for n in notes)


def test_a_loop_that_had_nothing_to_compensate_leaves_the_ranking_alone():
    ref, an = _disturbed(0.0)
    ranking = _ranking(reactor_temp_C=(0.3, 1.0), feed_x=(0.1, 0.0))
    (rec,), notes = loop_readings(LAYOUT, ref, an, ranking, CausalGraph(tuple(LAYOUT.nodes), ()))
    assert not rec.compensated
    assert [c.node for c in ranking.root_causes] == ["reactor_temp_C", "feed_x"]
    assert not any("is ranked last" in str(n) for n in notes)

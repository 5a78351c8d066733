"""Setpoint actions and restorations stay within what the plant showed (trial 2, #4).

On Tennessee Eastman a valve that moved 0.1 % in the reference (its flow controller held it) was
"set" a whole percent away through mechanisms fitted on that sliver: an operating cost of -586 $/h,
"recovering 3369%", recommended; the first cause "restored -736%" and was called the direct
correction. Here a small plant does the same: ``valve`` hardly moves in the reference, and in the
incident it moves while the temperature it seemed to drive does not (the reference relation was a
closed loop's, not the plant's), so the model's do(valve) sends the temperature and the KPI far
beyond anything they took.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from rca_app.core.analysis_notes import extrapolation_note, leading_cause_note
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.result_notes import Note
from rca_app.core.rootcause import Incident, RankingSettings, rank_root_causes
from rca_app.core.scm import StructuralCausalModel
from rca_app.core.serialization import to_json_data


def _plant(seed=0, n_ref=1500, n_an=200):
    rng = np.random.default_rng(seed)
    n = n_ref + n_an
    valve = 50 + 0.05 * rng.standard_normal(n)
    speed = 100 + 5 * rng.standard_normal(n)
    temp = 80 + 40 * (valve - 50) + 0.5 * rng.standard_normal(n)
    hit = np.zeros(n)
    # The incident: the valve opens a whole percent, the temperature does not follow, and the KPI
    # loses 3 units to something no sensor sees.
    valve[n_ref:] += 1.0
    temp[n_ref:] = 80 + 0.5 * rng.standard_normal(n_an)
    hit[n_ref:] = -3.0
    y = 100 - 0.5 * temp + 0.1 * (speed - 100) + hit + 0.3 * rng.standard_normal(n)
    f = pd.DataFrame({"valve": valve, "speed": speed, "temp": temp, "y": y})
    g = CausalGraph(("valve", "speed", "temp", "y"), (Edge("valve", "temp"), Edge("temp", "y"), Edge("speed", "y")))
    return f.iloc[:n_ref].reset_index(drop=True), f.iloc[n_ref:].reset_index(drop=True), g


def _layout(loops=()):
    return SimpleNamespace(controllable=["valve", "speed"], loops=list(loops), station_of=lambda n: "Line")


def _rank(loops=()):
    ref, an, g = _plant()
    scm = StructuralCausalModel(g).fit(ref)
    inc = Incident("y", "maximize", ref, an)
    return rank_root_causes(scm, inc, _layout(loops), RankingSettings(n_bootstrap=0, n_jobs=1)), inc


def test_a_setting_the_model_can_only_extrapolate_is_not_proposed_and_is_named():
    ranking, inc = _rank()
    # do(valve) anywhere in its reference range puts y far above anything it took.
    assert [a.node for a in ranking.actions] == ["speed"]
    note = next(m for m in ranking.messages if "Not proposed" in m)
    assert (note.kind, note.severity) == ("extrapolation", "caution")
    assert "valve anywhere from" in note and "reference sd beyond its range" in note
    assert "on the way temp" in note
    # The note carries the setpoint left out as a record: what the result, report and window read.
    (left,) = ranking.not_proposed
    assert (left.node, left.reason) == ("valve", "kpi_beyond") and left.kpi_beyond >= 1.0
    assert left.text in note and left.text.startswith("valve anywhere from")
    assert note == Note(str(note), "extrapolation", "caution") and to_json_data(note) == to_json_data(
        Note(str(note), "extrapolation", "caution"))
    # The setting kept stays within what y took, and its figure is an ordinary one.
    speed = ranking.actions[0]
    low = min(inc.reference["y"].min(), inc.anomaly["y"].min())
    high = max(inc.reference["y"].max(), inc.anomaly["y"].max())
    assert low <= speed.predicted_target <= high and abs(speed.restoration) < 2
    assert not any("left out" in w for w in speed.warnings)


def test_restorations_that_carry_the_kpi_beyond_its_range_are_measured():
    ranking, _ = _rank()
    assert ranking.kpi_beyond["valve"] >= 1.0          # restoring valve: y far above its range
    assert ranking.kpi_beyond["speed"] < 1.0


def test_an_action_on_a_controllers_output_says_the_controller_would_fight_it():
    loop = SimpleNamespace(controlled="line_rate", manipulated="speed")
    ranking, _ = _rank([loop])
    (speed,) = ranking.actions
    assert any("would fight the change" in w and "line_rate" in w for w in speed.warnings)


def _cause(node, restoration, controllable=False):
    return SimpleNamespace(node=node, restoration=restoration, unmeasured=False, controllable=controllable)


def test_a_first_cause_with_a_negative_restoration_is_not_read_as_the_correction():
    causes = [_cause("a_feed_valve", -7.36, True), _cause("d_feed_valve", 30.3, True), _cause("x", 0.2)]
    (note,) = leading_cause_note(causes, {"a_feed_valve": 6.0, "d_feed_valve": 92.0}, "cost")
    assert (note.kind, note.severity) == ("extrapolation", "warning")
    assert "ranked first for when and where it moved" in note and "would make cost worse" in note
    assert "6 reference sd beyond anything cost took" in note
    assert "not shown by these data to be the correction" in note
    # A first cause whose restoration reads as it is gets no such note.
    assert leading_cause_note([_cause("feed", 0.92), _cause("valve", 0.03)], {"feed": 0.0}, "y") == []


def test_the_extrapolation_note_names_restorations_that_leave_the_kpis_range_negative_ones_too():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 300), "b": rng.normal(0, 1, 300)})
    an = pd.DataFrame({"a": rng.normal(5, 1, 50), "b": rng.normal(0, 1, 50)})
    (note,) = extrapolation_note([_cause("a", -1.5), _cause("b", 0.4)], ref, an, {"a": 4.0, "b": 0.0}, "cost")
    assert "a (-150%, incident +5 reference sd away) puts cost 4 reference sd beyond" in note
    assert note.severity == "warning" and "b (" not in note


def test_a_first_cause_that_restores_about_nothing_is_not_said_to_make_it_worse():
    # Tennessee Eastman IDV6: the true entry point first, restoring -0.3%: no "worse" claim.
    assert leading_cause_note([_cause("feed_A_flow", -0.003), _cause("purge_flow", 0.71)], {}, "cost") == []

"""The session's rules, without Qt: dirty, stale, what survives a new file or layout, presets,
the refit-or-rediscover choice, saving and restoring."""
from dataclasses import replace

import pytest

from rca_app.app import analysis_job as job
from rca_app.app import session as sess
from rca_app.app.data_file import read_data
from rca_app.app.layout_edit import layout_move_station, layout_set_plant
from rca_app.app.sample_plants import open_sample_plant
from rca_app.core.errors import RcaInputError
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.layout import load_layout
from rca_app.core.progress import NullProgress
from rca_app.core.results import AnalysisResult

REFERENCE = ["2026-03-01T00:00:00", "2026-03-14T21:20:00"]
INCIDENT = ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]


class Recorder:
    """Subscribes to a state and keeps what it announced."""

    def __init__(self, state):
        self.events = []
        state.subscribe(lambda what, value: self.events.append((what, value)))

    def names(self):
        names = [w for w, _ in self.events]
        self.events.clear()
        return names


@pytest.fixture(scope="module")
def loaded(plant):
    layout = load_layout(plant / "layout.toml")
    return read_data(plant / "data.csv", {"gaps": "drop", "dayfirst": None}, layout, NullProgress())


@pytest.fixture
def state(loaded):
    s = sess.SessionState()
    s.reset(loaded["data"].layout)
    s.set_loaded(loaded)
    return s


def test_every_event_has_a_name_the_window_knows():
    s = sess.SessionState()
    rec = Recorder(s)
    s.reset()
    s.set_dirty()
    assert set(rec.names()) <= set(sess.EVENTS)


def test_a_change_makes_the_investigation_dirty_and_is_announced(state):
    rec = Recorder(state)
    state.set_dirty(False)
    rec.names()
    state.set_windows(REFERENCE, INCIDENT)
    assert state.dirty and rec.names() == ["windows", "dirty"]
    # The same windows again: nothing changed, nothing announced.
    state.set_windows(tuple(REFERENCE), tuple(INCIDENT))
    assert rec.names() == []
    state.saved_as("/tmp/case.rcainv")
    assert not state.dirty and str(state.path) == "/tmp/case.rcainv"
    state.set_notes({"team": "night shift"})
    assert state.dirty
    state.set_dirty(False)
    state.set_notes({"team": "night shift"})
    assert not state.dirty


def test_without_a_result_nothing_goes_stale(state):
    state.set_windows(REFERENCE, INCIDENT)
    state.set_graph(CausalGraph(tuple(state.data.frame.columns), ()), [])
    assert not state.stale


def test_results_go_stale_when_an_input_changes_and_fresh_after_the_analysis(state, outcome):
    rec = Recorder(state)
    state.set_outcome(outcome)
    assert not state.stale and state.result.root_causes
    assert isinstance(state.result, AnalysisResult)   # the typed record, not its JSON data
    assert state.anomaly == INCIDENT and state.graph is outcome.scm.graph
    assert rec.names()[:3] == ["windows", "graph", "result"]
    state.set_windows(REFERENCE, ["2026-03-14T22:00:00", "2026-03-16T23:20:00"])
    assert state.stale and ("stale", True) in rec.events
    state.set_outcome(outcome)
    assert not state.stale
    state.set_graph(state.graph.remove_edge(*state.graph.edges[0].key), [{"op": "remove"}])
    assert state.stale
    state.set_outcome(outcome)
    state.reprepare()   # the same table rebuilt (a reading option): stale, the graph kept
    assert state.stale and state.graph is outcome.scm.graph


def test_another_file_drops_windows_graph_and_results(state, outcome, loaded, tmp_path, plant):
    state.set_outcome(outcome)
    # The same file read again keeps everything.
    state.set_loaded(loaded)
    assert state.result is not None and state.anomaly == INCIDENT
    other = tmp_path / "data.csv"
    other.write_text((plant / "data.csv").read_text(encoding="utf-8").replace("NordPoly", "Nordpoly"),
                     encoding="utf-8")
    layout = load_layout(plant / "layout.toml")
    state.set_loaded(read_data(other, {}, layout, NullProgress()))
    assert state.result is None and state.graph is None and state.outcome is None
    assert state.anomaly is None and state.reference is None and not state.stale


def test_a_new_layout_keeps_what_the_table_can_still_hold(state, outcome, loaded):
    state.set_outcome(outcome)
    rec = Recorder(state)
    # Stations unchanged in substance (renamed plant): the prepared table has the same sensors
    # and the graph fits, so graph and windows survive; the result is stale.
    state.apply_layout(layout_set_plant(state.layout, name="Line 7 renamed"))
    assert "prepare" in rec.names() and state.layout.name == "Line 7 renamed"
    state.reprepare()
    assert state.graph is outcome.scm.graph and state.anomaly == INCIDENT and state.stale


def test_a_layout_that_forbids_the_graph_drops_it(state, outcome):
    state.set_outcome(outcome)
    # Same sensors in the same order, but one of the graph's arrows is now forbidden.
    arrow = state.graph.edges[0].key
    columns = list(state.data.frame.columns)
    state.apply_layout(replace(state.layout, forbidden=[arrow], text=""))
    state.reprepare()
    assert list(state.data.frame.columns) == columns
    assert state.graph is None and state.edits == [] and state.anomaly == INCIDENT and state.stale


def test_stations_in_another_order_drop_the_graph(state, outcome):
    state.set_outcome(outcome)
    # The last station first: the table's sensors come in another order, arrows point backwards.
    state.apply_layout(layout_move_station(state.layout, len(state.layout.stations) - 2, 0))
    state.reprepare()
    assert state.graph is None and state.edits == [] and state.anomaly == INCIDENT


def test_windows_the_table_cannot_hold_are_dropped(state):
    state.set_windows(REFERENCE, INCIDENT)
    # Without a time column, windows are row positions: the ISO times no longer fit.
    state.apply_layout(replace(state.layout, time_column=None, text=""))
    state.reprepare()
    assert state.data is not None and state.anomaly is None and state.reference is None


def test_analysis_inputs_say_what_is_missing():
    s = sess.SessionState()
    with pytest.raises(RcaInputError) as e:
        s.analysis_inputs()
    assert len(e.value.problems) == 2
    assert "open a data file" in e.value.problems[0].message
    assert "incident window" in e.value.problems[1].message


def test_refit_or_rediscover(state, outcome):
    state.set_windows(None, INCIDENT)
    assert state.analysis_inputs()["graph"] is None                     # nothing to refit yet
    state.set_outcome(outcome)
    assert state.analysis_inputs()["graph"] is None                     # unedited: discover again
    edits = [{"op": "remove", "source": "x", "target": "y"}]
    state.set_graph(state.graph, edits)
    inputs = state.analysis_inputs()
    assert inputs["graph"] is state.graph and inputs["edits"] == edits  # edited: refit it
    assert state.analysis_inputs(rediscover=True)["graph"] is None
    # A graph restored from a file has no live model behind it: refit it as it is.
    state.set_graph(state.graph, [])
    state.outcome = None
    assert state.analysis_inputs()["graph"] is state.graph


def test_rediscovery_keeps_the_edits_as_layout_knowledge(state, monkeypatch):
    seen = {}

    def fake_run_analysis(data, anomaly, reference, settings, graph=None, progress=None):
        seen.update(layout=data.layout, graph=graph, settings=settings)
        return "outcome"

    monkeypatch.setattr("rca_app.core.analysis.run_analysis", fake_run_analysis)
    edits = [{"op": "remove", "source": "dryer_dewpoint_C", "target": "dried_moisture_pct"}]
    got = job.run_analysis_job(state.data, INCIDENT, None, {"seed": 4}, graph=None, edits=edits,
                                progress=NullProgress())
    assert got == "outcome" and seen["graph"] is None and seen["settings"].seed == 4
    assert ("dryer_dewpoint_C", "dried_moisture_pct") in seen["layout"].forbidden
    assert ("dryer_dewpoint_C", "dried_moisture_pct") not in state.data.layout.forbidden


def test_save_and_restore_round_trip(state, outcome, loaded):
    state.set_outcome(outcome)
    state.set_graph(state.graph, [{"op": "remove", "source": "a", "target": "b"}])
    state.set_notes({"team": "night shift"})
    state.set_step(4)
    saved = state.to_investigation()
    assert saved.data.sha256 == loaded["raw"].sha256 and saved.result_stale

    back = sess.SessionState()
    rec = Recorder(back)
    back.restore(saved, loaded, None)
    assert back.anomaly == state.anomaly and back.reference == state.reference
    assert back.graph.edge_keys == state.graph.edge_keys and back.edits == state.edits
    assert back.result == state.result and back.stale and back.outcome is None
    assert back.notes == {"team": "night shift"} and back.step == 4 and not back.dirty
    assert {"layout", "raw", "data", "windows", "graph", "result", "stale"} <= set(rec.names())
    # Without its data file: the layout, windows and results still come back.
    bare = sess.SessionState()
    bare.restore(saved, None, None)
    assert bare.data is None and bare.layout.target == "yield_pct" and bare.result == state.result


def test_presets():
    s = sess.SessionState()
    assert job.preset_of(s.settings) == job.DEFAULT_PRESET
    s.apply_preset("Quick (about 5 s)")
    assert s.dirty and s.settings["graph_bootstrap"] == 5 and s.settings["seed"] == 0
    assert job.preset_of(s.settings) == "Quick (about 5 s)"
    assert job.preset_of({"graph_bootstrap": 7, "rank_bootstrap": 8}) is None


def test_steps_done_follow_the_work(state, outcome):
    fresh = sess.SessionState()
    assert fresh.steps_done() == [False] * 7
    assert state.steps_done()[:3] == [True, False, True]
    state.set_outcome(outcome)
    assert state.steps_done() == [True, True, True, True, True, True, False]
    state.set_windows(REFERENCE, ["2026-03-14T22:00:00", "2026-03-16T23:20:00"])
    assert state.steps_done()[4] is False   # stale results are not done


def test_sample_plant_opens_on_its_incident_unsaved_work_free(loaded):
    plant = open_sample_plant("injection_moulding")
    s = sess.SessionState()
    s.start_sample(plant)
    assert s.layout is plant.layout and not s.has_unsaved_work()
    s.set_loaded(loaded)
    assert s.has_unsaved_work()
    s.sample_loaded(plant)
    assert s.anomaly == plant.anomaly and not s.dirty and not s.has_unsaved_work()


def test_default_windows_are_auto_detected(state):
    state.place_default_windows()
    assert state.anomaly is not None and state.reference is not None
    before = list(state.anomaly)
    state.place_default_windows()   # only when none is set yet
    assert state.anomaly == before


def test_edit_graph_needs_a_graph_and_respects_the_tiers(state):
    with pytest.raises(RcaInputError, match="run the analysis first"):
        state.edit_graph("add", "ambient_temp_C", "yield_pct")
    state.set_graph(CausalGraph(tuple(state.data.frame.columns), (Edge("ambient_temp_C", "yield_pct"),)), [])
    with pytest.raises(RcaInputError):
        state.edit_graph("add", "yield_pct", "ambient_temp_C")
    assert state.graph_view()["edges"][0]["source"] == "ambient_temp_C"

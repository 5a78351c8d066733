"""When the KPI would respond to an action: a record on the action (trial 3 #8), said in the same
words as the note, and absent from results written before it existed."""
from __future__ import annotations

from rca_app.app.result_words import action_response_text
from rca_app.core.action_response import action_responses
from rca_app.core.records import Action, ActionResponse
from rca_app.core.results import DynamicsRecord
from rca_app.core.serialization import from_json_data, to_json_data


def _action(node="a", value=2.0):
    return Action(node, "S", value, 1.0, (0.0, 3.0), 5.0, (4.9, 5.1), (4.0, 6.0), 0.5, (0.4, 0.6),
                  [(0.0, 4.0), (3.0, 6.0)])


def test_the_response_is_recorded_on_the_action_and_said_as_before():
    record = DynamicsRecord(step="1min", shifts={"a": 13})
    acts = [_action("a"), _action("b")]
    notes = action_responses(record, acts, "yield_pct")
    assert acts[0].response == ActionResponse("13min", 13) and acts[1].response is None   # b: at the KPI's station
    # The note says the same, in words.
    assert notes == ["setting a: yield_pct would respond about 13min after the change (the residence time from its "
                     "station)"]
    assert action_response_text(acts[0], "yield_pct") == "yield_pct would respond about 13min after the change"
    acts[0].response = ActionResponse("13min", 13, "15min", 15)
    assert action_response_text(acts[0], "yield_pct") == (
        "yield_pct would start to respond about 13min after the change and reach 90% of its new level about "
        "15min after it")
    assert action_response_text(acts[0], "yield_pct", lead=True) == (
        "After the change, yield_pct would start to respond in about 13min and reach 90% of its new level in about "
        "15min")
    assert action_response_text(acts[1], "yield_pct") is None


def test_rows_that_are_no_time_series_give_no_response():
    acts = [_action("a")]
    assert action_responses(DynamicsRecord(step=None, shifts={"a": 3}), acts, "y") == []
    assert acts[0].response is None


def test_an_action_written_before_the_field_existed_reads_without_it():
    act = _action("a")
    act.response = ActionResponse("13min", 13, "15min", 15)
    data = to_json_data(act)
    assert from_json_data(Action, data) == act
    del data["response"]
    assert from_json_data(Action, data).response is None

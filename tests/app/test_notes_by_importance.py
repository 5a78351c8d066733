"""The notes on how far a ranking can be trusted come first, the engine's warnings before all."""
from __future__ import annotations

from rca_app.app.result_words import notes_by_importance


def test_warnings_loops_and_the_disturbance_origin_lead_the_notes():
    notes = [
        "time series: each sensor is compared with the yield_pct its material became",
        "a_feed_valve is ranked first as where the disturbance entered: it moved 128 reference sd",
        "the controller of reactor_feed_A_concentration lost authority: a_feed_valve went to its declared limit",
        "WARNING: yield_pct barely moved. Its shortfall is within normal variation",
        "separator_temp_C: during the incident it left the range seen in the reference period",
    ]
    ordered = notes_by_importance(notes)
    assert ordered[0].startswith("WARNING:")
    assert ordered[1].startswith("the controller of")
    assert ordered.index(notes[1]) < ordered.index(notes[0])
    assert sorted(ordered) == sorted(notes)

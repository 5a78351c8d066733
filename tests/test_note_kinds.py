"""The result's notes carry their kind and severity from the step that wrote them: the kinds survive
the JSON file, results of the first schema (plain-string notes) are read with the kinds their wording
stood for, and where a note is shown follows its kind, not its wording."""
from __future__ import annotations

import json

import jsonschema
import pytest

from rca_app.app.result_words import banner_level, notes_by_importance
from rca_app.core.result_notes import TRUST_ORDER, Note, note_from_text
from rca_app.core.results import (
    MIGRATIONS,
    RESULT_SCHEMA_VERSION,
    result_from_json,
    result_json_schema,
    result_to_json,
)
from tests.paths import GOLDEN


def _golden() -> dict:
    """The injection moulding golden result with the machine-dependent fields the file leaves out."""
    d = json.loads((GOLDEN / "injection_moulding.json").read_text(encoding="utf-8"))
    d["software"] = {"name": "rca_app", "version": "0"}
    d["input"]["path"], d["layout"]["path"] = "/plant/data.csv", "/plant/layout.toml"
    d["diagnostics"]["timings"] = {"total_s": 1.0}
    return d


NOTES = [
    Note("time series: each sensor is compared with the yield_pct its material became"),
    Note("a_feed_valve is ranked first as where the disturbance entered: it moved 128 reference sd",
         "origin", "caution"),
    Note("the controller of reactor_A_conc lost authority: a_feed_valve went to its declared upper limit (100)",
         "limit", "warning"),
    Note("WARNING: yield_pct barely moved. Its shortfall is within normal variation", "warning", "warning"),
    Note("The data cannot tell the direction of 1 edge(s) (a - b)", "direction", "caution"),
]


def test_a_notes_kind_and_severity_survive_the_json_file():
    typed = result_from_json(_golden())
    typed.diagnostics.messages = list(NOTES)
    written = json.loads(json.dumps(result_to_json(typed), allow_nan=False))
    assert written["schema_version"] == RESULT_SCHEMA_VERSION
    assert written["diagnostics"]["messages"][2] == {"text": NOTES[2].text, "kind": "limit", "severity": "warning"}
    jsonschema.Draft202012Validator(result_json_schema()).validate(written)
    back = result_from_json(written).diagnostics.messages
    assert [(n.text, n.kind, n.severity) for n in back] == [(n.text, n.kind, n.severity) for n in NOTES]
    # A kind the schema does not know is refused, naming where.
    written["diagnostics"]["messages"][0]["kind"] = "gossip"
    with pytest.raises(ValueError, match=r"diagnostics\.messages\[0\]\.kind: expected one of"):
        result_from_json(written)


def test_a_first_schema_result_with_plain_string_notes_opens_with_their_kinds():
    old = _golden()
    old["schema_version"] = 1
    texts = [
        "time series: each sensor is compared with the yield_pct its material became",
        "the controller of reactor_temp_C compensated: it moved jacket_valve by +3.1 reference sd while "
        "reactor_temp_C stayed within 0.2 sd; at its extreme it went 40% of the way to the edge of its reference "
        "range.",
        "WARNING: yield_pct barely moved. Its shortfall is within normal variation",
        "The data cannot tell the direction of 1 edge(s) (a - b): the graph draws ...",
        "a_feed_valve is ranked first as where the disturbance entered: it moved 128 reference sd",
        "the controller of reactor_A_conc lost authority: a_feed_valve went to its declared upper limit (100)",
    ]
    old["diagnostics"]["messages"] = list(texts)
    notes = result_from_json(old).diagnostics.messages
    assert [n.text for n in notes] == texts                       # the same words, in the same order
    assert [n.kind for n in notes] == ["info", "loop", "warning", "direction", "origin", "limit"]
    assert [n.severity for n in notes] == ["info", "caution", "warning", "caution", "caution", "warning"]
    assert set(MIGRATIONS) == set(range(1, RESULT_SCHEMA_VERSION))      # every older version has its step
    # A result saved before results had their own version: the same reading.
    del old["schema_version"]
    assert result_from_json(old).diagnostics.messages == notes
    # Read back, the window orders them as it did when it matched the wording.
    assert [n.text for n in notes_by_importance(notes)] == [texts[i] for i in (2, 5, 1, 3, 4, 0)]


def test_rewording_a_warning_keeps_it_first_and_in_the_warning_style():
    reworded = Note("Heads up: yield_pct hardly changed. The incident lies within its normal variation, so the "
                    "ranking explains noise, not a loss.", "warning", "warning")
    notes = [*NOTES[:3], reworded, NOTES[4]]          # the engine's own WARNING: wording left out
    ordered = notes_by_importance(notes)
    assert ordered[0] is reworded and banner_level(ordered[0]) == "warn"
    assert [n.kind for n in ordered] == ["warning", "limit", "direction", "origin", "info"]
    # Matched by wording (as before notes had kinds) the same note fell behind everything on trust.
    assert note_from_text(reworded.text).kind == "info"
    assert notes_by_importance([note_from_text(n.text) for n in notes])[0].text != reworded.text
    # A loop note keeps its place whatever its wording, and one on how the analysis was done
    # stays behind all on trust even when it happens to use their words.
    plain = Note("the controller of reactor_temp_C compensated and the restoration was extrapolated")
    loop = Note("jacket_valve took up the disturbance; reactor_temp_C held", "loop", "caution")
    assert notes_by_importance([plain, loop]) == [loop, plain]
    assert plain.trust_rank == len(TRUST_ORDER) and banner_level(plain) == "info"


def test_a_note_reads_as_its_text_and_plain_strings_are_notes_on_how_the_analysis_ran():
    from rca_app.core.results import Diagnostics

    note = NOTES[3]
    assert note.startswith("WARNING:") and "barely moved" in note and note == note.text and str(note) == note.text
    assert note.text in [note] and note in [note.text] and f"{note}" == note.text
    assert note != Note(note.text)                      # another kind is another note
    with pytest.raises(AttributeError):
        note.kind = "info"                              # frozen
    d = result_from_json(_golden()).diagnostics
    diag = Diagnostics(**{**d.__dict__, "messages": ["a step that gave no kind", note]})
    assert [(n.kind, n.severity) for n in diag.messages] == [("info", "info"), ("warning", "warning")]
    # Plain strings handed to the ordering (a caller without kinds) are placed by their old wording.
    assert notes_by_importance(["later", note.text]) == [note.text, "later"]


def test_the_engine_says_which_loop_notes_are_saturation(tmp_path):
    # A compensating loop short of its limit is a loop note even when its text names its declared
    # limit ("went 40% of the way to its declared limit" read as saturation by wording); one whose
    # valve sat at its limit leads as a warning.
    from rca_app.core.analysis import AnalysisSettings, run_analysis
    from rca_sim.dynamic import _loop_case, hard_case
    from tests.dynamic_cases import incident_window, load_case

    fast = AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1)
    case = _loop_case(300, 700, 200)
    r = run_analysis(load_case(case, tmp_path / "held"), incident_window(case), None, fast).result
    loop = r.dynamics.loops[0]
    held = [n for n in r.diagnostics.messages if n.startswith(f"the controller of {loop.controlled} compensated")]
    assert held and loop.limit_use < 0.9 and loop.limits_declared
    assert (held[0].kind, held[0].severity) == ("loop", "caution")
    assert note_from_text(held[0].text).kind == "limit"      # what its wording was taken for

    case = hard_case("pi_saturating", 5, 600, 200)
    r = run_analysis(load_case(case, tmp_path / "saturated"), incident_window(case), None, fast).result
    lost = next(n for n in r.diagnostics.messages if n.kind != "warning")
    assert "lost authority" in lost and (lost.kind, lost.severity) == ("limit", "warning")

"""Setpoints the model could only extrapolate are a record of the result (``not_proposed``): the
report, the terminal and the result file read it there, never from a note's wording. An unmeasured
cause's figure beyond what the KPI took is not stated either."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("reportlab")

from rca_app.cli_text import format_summary
from rca_app.core.results import NotProposedAction, result_from_json, result_to_json
from rca_app.report.builder import ReportBuilder
from rca_app.report.page import register_fonts
from rca_app.report.sections import findings
from rca_app.report.text import discovery_paragraphs, summary_paragraphs
from tests.test_user_trial2_defects import _golden_result

LEFT_OUT = NotProposedAction("filler_speed_setpoint", "kpi_beyond",
                             "filler_speed_setpoint anywhere from 1 to 3 (predicted yield 150 to 170, 9 to 12 "
                             "reference sd beyond its range)", 9.0)


def _section(r) -> str:
    register_fonts()
    return _flowable_text(findings.actions(ReportBuilder(r, None, None, "t", "t")))


def _flowable_text(flowables) -> str:
    out = []
    for f in flowables:
        inner = getattr(f, "_content", None)
        if inner is not None:                       # KeepTogether
            out.append(_flowable_text(inner))
        elif hasattr(f, "getPlainText"):
            out.append(f.getPlainText())
    return " ".join(out)


def test_the_record_survives_the_result_file_and_old_files_load_without_it():
    r = _golden_result()
    r.not_proposed = [LEFT_OUT]
    back = result_from_json(json.loads(json.dumps(result_to_json(r))))
    assert back.not_proposed == [LEFT_OUT]
    data = result_to_json(r)
    del data["not_proposed"]
    assert result_from_json(data).not_proposed == []


def test_report_and_terminal_name_a_setpoint_left_out_and_why():
    r = _golden_result()
    r.actions, r.not_proposed = [], [LEFT_OUT]
    # No note with that wording anywhere: the record alone says it.
    assert not any("Not proposed" in m for m in r.diagnostics.messages)
    assert any("beyond the range the plant showed" in p for p in summary_paragraphs(r))
    section = _section(r)
    assert "No controllable setpoint has a causal path" not in section
    assert "filler_speed_setpoint is not proposed: every setting tried (filler_speed_setpoint anywhere" in section
    terminal = format_summary(r)
    assert "Setpoints not proposed as actions:" in terminal and f"predicts {r.target} beyond anything" in terminal


def test_without_a_record_nothing_is_said_to_be_left_out():
    r = _golden_result()
    r.actions = []
    assert not any("beyond the range the plant showed" in p for p in summary_paragraphs(r))
    assert "not proposed" not in format_summary(r)
    assert "No controllable setpoint has a causal path" in _section(r)


def test_an_unmeasured_causes_figure_beyond_what_the_kpi_took_is_not_stated_in_the_report():
    from rca_app.core.records import Evidence, RootCause
    from rca_app.core.results import HiddenCauseRecord

    r = _golden_result()
    group = ["a_feed_valve", "c_feed_valve"]
    r.diagnostics.hidden_causes = [HiddenCauseRecord(group, "incident: both moved together", 0.8, 30.25, True,
                                                     ["a and c moved together"], [], 12.0)]
    name = "an unmeasured cause acting on a_feed_valve and c_feed_valve"
    none = Evidence(None, None, None, None, None, None, None)
    r.root_causes.insert(0, RootCause(name, "Feed", 30.25, (float("nan"), float("nan")), float("nan"), False, False,
                                      none, unmeasured=True, acts_on=group))
    summary, discovery = " ".join(summary_paragraphs(r)), " ".join(discovery_paragraphs(r))
    lead = summary.split(f"not measured: **{name}**")[1][:300]
    assert "3025" not in lead and "%" not in lead and "3025" not in discovery
    assert "How much restoring a_feed_valve and c_feed_valve together would recover is not stated" in lead
    assert "How much restoring them together would recover is not stated" in discovery
    assert "12 reference sd beyond anything it took" in discovery
    # The same record without the distance (a file written before it was recorded) keeps its figure.
    r.diagnostics.hidden_causes[0].kpi_beyond = None
    assert "Restoring them together recovers" in " ".join(discovery_paragraphs(r))
    assert "brings back **" in " ".join(summary_paragraphs(r))

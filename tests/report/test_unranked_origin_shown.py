"""A sensor the restoration ranking did not rank (no path to the KPI) that the disturbance-origin
reading puts first has no restoration: its record says so (``RootCause.no_restoration``), and the
terminal, the window's table and the report show "not computed" with the reason, never
"0% [0%, 0%]" (which reads as "explains nothing")."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

pytest.importorskip("reportlab")

from rca_app.cli_text import format_summary
from rca_app.core.disturbance_origin import disturbance_origin
from rca_app.core.records import Evidence, RootCause
from rca_app.core.results import result_from_json, result_to_json
from rca_app.report.builder import ReportBuilder
from rca_app.report.figures import ranking_chart
from rca_app.report.page import register_fonts
from rca_app.report.sections import findings
from rca_app.report.text import summary_paragraphs
from tests.core.test_disturbance_origin import GRAPH, LAYOUT, _frames
from tests.report.test_not_proposed import _flowable_text
from tests.test_user_trial2_defects import _golden_result


def _origin_first(tmp_path):
    """The origin rule on feed_flow (stepped first, upstream), which the ranking left out."""
    from rca_app.core.layout import load_layout

    (tmp_path / "layout.toml").write_text(LAYOUT, encoding="utf-8")
    layout = load_layout(tmp_path / "layout.toml")
    ref, an = _frames(feed_step_at=0, purge_step_at=30)
    ranked = RootCause("purge_flow", "Purge", 0.62, (0.5, 0.74), 0.9, False, False,
                       Evidence(0.0, 1.0, 8.0, 1.0, 8.0, 7.5, 1.0))
    ranking = SimpleNamespace(root_causes=[ranked])
    _, msg = disturbance_origin(ranking, layout, GRAPH, ref, an)
    return ranking.root_causes, msg


def test_the_origin_record_says_it_has_no_restoration(tmp_path):
    causes, msg = _origin_first(tmp_path)
    first = causes[0]
    assert first.node == "feed_flow" and first.no_restoration == "no_path_origin"
    assert math.isnan(first.restoration) and all(math.isnan(x) for x in first.restoration_ci)
    assert "shown as 0%" not in msg and "no restoration was computed for it" in msg


def _result(tmp_path):
    causes, _ = _origin_first(tmp_path)
    r = _golden_result()
    r.target = "cost"
    r.root_causes = causes
    # The result file keeps the record: restoration null, the reason a field.
    saved = result_to_json(r)
    assert saved["root_causes"][0]["restoration"] is None
    assert saved["root_causes"][0]["no_restoration"] == "no_path_origin"
    back = result_from_json(saved)
    assert back.root_causes[0].no_restoration == "no_path_origin"
    return back


WHY = "no restoration computed: the model learnt from the reference period has no path from feed_flow to cost"


def test_the_terminal_shows_not_computed_with_the_reason(tmp_path):
    text = format_summary(_result(tmp_path))
    row = next(line for line in text.splitlines() if line.strip().startswith("1  feed_flow"))
    assert "not computed" in row and " 0%" not in row and "[0%" not in row
    assert WHY in text and "placed first as where the disturbance entered" in text


def test_the_report_table_summary_and_chart_show_not_computed_with_the_reason(tmp_path):
    r = _result(tmp_path)
    register_fonts()
    flow = findings.ranking(ReportBuilder(r, None, None, "t", "t"))
    tables = [f for f in flow if hasattr(f, "_cellvalues")]
    rows = [row for t in tables for row in t._cellvalues if len(row) > 3 and "feed_flow" in str(row[1])]
    assert rows and "not computed" in str(rows[0][3]) and "0%" not in str(rows[0][3]) + str(rows[0][4])
    assert WHY in _flowable_text(flow)
    summary = " ".join(summary_paragraphs(r))
    assert "The most likely root cause is **feed_flow**" in summary and WHY in summary
    assert "**0%**" not in summary
    fig = ranking_chart(r, 6.0)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "no restoration computed: where the disturbance entered" in labels and "0%" not in labels

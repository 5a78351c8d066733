"""Exports opened in a spreadsheet never run a formula hidden in a sensor, level or incident name."""
from __future__ import annotations

import csv
import io

from rca_app.core.csv_text import csv_text, spreadsheet_safe


def test_formula_leading_text_is_neutralised_numbers_are_not():
    assert spreadsheet_safe('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    for lead in "+-@":
        assert spreadsheet_safe(lead + "cmd") == "'" + lead + "cmd"
    assert spreadsheet_safe("\tx") == "'\tx"
    assert spreadsheet_safe(-5.0) == -5.0 and spreadsheet_safe(None) == "" and spreadsheet_safe(True) is True
    assert spreadsheet_safe("dryer_temp") == "dryer_temp"


def test_csv_text_quotes_every_cell_and_header():
    text = csv_text(["=sum(A1)", "value"], [["=cmd|'/c calc'!A0", -1.5], ["ok", None]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["'=sum(A1)", "value"], ["'=cmd|'/c calc'!A0", "-1.5"], ["ok", ""]]


def test_ranking_export_of_a_formula_named_sensor(tmp_path):
    from types import SimpleNamespace

    from rca_app.core.rootcause import Evidence, RootCause
    from rca_app.report.exports import ranking_rows

    cause = RootCause(node="=HYPERLINK(\"x\")", station="@st", restoration=0.5, restoration_ci=(0.1, 0.9),
                      share_ranked_first=1.0, controllable=False, categorical=False,
                      evidence=Evidence(None, None, None, None, None, None, None))
    header, rows = ranking_rows(SimpleNamespace(root_causes=[cause]))
    text = csv_text(header, rows)
    assert "'=HYPERLINK" in text and "'@st" in text

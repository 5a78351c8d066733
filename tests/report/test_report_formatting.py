"""The report's number and time formatters (one module, used by text, tables and figures)."""
from __future__ import annotations

import math

from rca_app.core.results import WindowRecord
from rca_app.report import formatting as F


def _window(start, end, n_rows: int) -> WindowRecord:
    return WindowRecord(start=start, end=end, first_row=0, stop_row=n_rows, n_rows=n_rows)


def test_numbers():
    assert F.fmt_num(None) == F.fmt_num(math.nan) == F.fmt_num(math.inf) == "–"
    assert F.fmt_num(-0.0001, 2) == "0.00"            # never "-0.00"
    assert F.fmt_num(1234.5678) == "1235" and F.fmt_num(0.012345) == "0.01235"
    assert F.fmt_num("A-17") == "A-17"
    assert F.fmt_pct(0.993) == "99%" and F.fmt_pct(0.0525, 1) == "5.2%" and F.fmt_pct(None) == "–"
    assert F.fmt_interval(0.8, 1.02) == "80% to 102%"
    assert F.fmt_sig(0.012345) == "0.012" and F.fmt_sig(None) == "–"
    assert F.fmt_p_value(1e-320) == "< 1e-300" and F.fmt_p_value(0.0456) == "0.046" and F.fmt_p_value(None) == "–"
    assert F.decimals_for(0.05) == 3 and F.decimals_for(None) == 2 and F.decimals_for(2000) == 0
    assert F.with_unit("91.2", "%") == "91.2%" and F.with_unit("3", "bar") == "3 bar"
    assert F.fmt_amount(1.16, "%", 2) == "1.16 percentage points"
    assert F.fmt_bytes(2_500_000) == "2.4 MB (2,500,000 bytes)" and F.fmt_bytes(12) == "12 bytes"
    assert F.fmt_seconds(12.34) == "12.3 s"
    assert F.clip("abcdef", 4) == "abc…" and F.clip("abc", 4) == "abc"


def test_time_bounds_and_windows():
    assert F.fmt_bound("2026-03-18T08:40:00") == "2026-03-18 08:40"
    assert F.fmt_bound("2026-03-18T08:40:05+00:00") == "2026-03-18 08:40:05 UTC"
    assert F.fmt_bound(2500) == "row 2500"
    assert F.fmt_window(_window(0, 300, 300)) == "rows 0 to 299"
    w = _window("2026-03-18T08:40:00", "2026-03-20T10:40:00", 300)
    assert F.fmt_duration(w) == "2 d 2 h, 300 rows"
    assert F.fmt_duration(_window(0, 30, 30)) == "30 rows"


def test_long_sensor_names_in_table_cells_wrap_at_underscores_not_mid_word():
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from rca_app.report.flowables import _BREAK, _break_at_underscores

    name = "separator_cooling_water_valve"
    out = _break_at_underscores(name, 60.0, "Helvetica", 7.5)
    lines = out.split(_BREAK)
    assert len(lines) > 1 and "".join(lines) == name
    assert all(line.endswith("_") for line in lines[:-1])
    assert all(stringWidth(x, "Helvetica", 7.5) <= 60.0 for x in lines)
    assert _break_at_underscores("short_name", 60.0, "Helvetica", 7.5) == "short_name"
    assert _break_at_underscores("MV +4.9, CV +0.1", 30.0, "Helvetica", 7.5) == "MV +4.9, CV +0.1"

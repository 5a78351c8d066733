"""Historian exports a second first-time user brought (issue #14, trial 2): UTC offsets, an hour
exported twice, two exports pasted with their header, hex OPC codes, "Uncertain" quality and a
tag renamed between two exports. Each is said naming file, tag and row or timestamp."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.data import check_window_gaps, load_table, prepare, rows_for_window
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import parse_layout

COLS = ["Tagname", "TimeStamp", "Value", "Quality"]

LAYOUT = """[plant]
name = "x"
target = "YIELD"
sample = "1min"

[[station]]
name = "A"
sensors = ["FI-1", "TI-2"]

[[station]]
name = "B"
sensors = ["YIELD"]
"""


def _rows(n=200, quality="Good", seed=0, start="2026-03-01 00:01", stamp=lambda t: t.isoformat()):
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start)
    rows = []
    for k in range(n):
        t = stamp(t0 + pd.Timedelta(minutes=k))
        a = rng.normal()
        rows.append(["FI-1", t, f"{a:.4f}", quality])
        rows.append(["TI-2", t, f"{100 + rng.normal():.4f}", quality])
        rows.append(["YIELD", t, f"{90 + 2 * a + rng.normal():.4f}", quality])
    return rows


def _prepare(tmp_path, rows, layout=LAYOUT, **kw):
    path = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    return prepare(load_table(path), parse_layout(layout), **kw)


# ----------------------------------------------------------------------------- #1 UTC offsets
def test_an_export_with_utc_offsets_keeps_its_zone_and_says_so(tmp_path):
    data = _prepare(tmp_path, _rows(n=60, stamp=lambda t: t.isoformat() + "+01:00"))
    assert str(data.time.dt.tz) == "UTC"
    assert data.time.iloc[0] == pd.Timestamp("2026-02-28 23:01", tz="UTC")       # 00:01+01:00
    (w,) = [p for p in data.problems if p.code == "time_utc"]
    assert w.file == "export.csv" and w.column == "TimeStamp"
    assert "(+01:00)" in w.message and "row 2: '2026-03-01T00:01:00+01:00' is 2026-02-28 23:01:00 UTC" in w.message
    assert "without an offset is read as UTC" in w.message
    # The export's own timestamps as a window, and the same instant written in UTC, are one window.
    local = rows_for_window(data, "2026-03-01T00:31:00+01:00", "2026-03-01T00:41:00+01:00")
    assert local == rows_for_window(data, "2026-02-28T23:31:00Z", "2026-02-28T23:41:00Z")
    assert local.stop - local.start == 10


def test_an_export_mixing_zoned_and_unzoned_timestamps_is_refused_naming_rows(tmp_path):
    rows = _rows(n=60, stamp=lambda t: t.isoformat() + "+01:00")
    rows[3 * 7][1] = rows[3 * 7][1].replace("+01:00", "")
    with pytest.raises(RcaInputError) as e:
        _prepare(tmp_path, rows)
    (p,) = [p for p in e.value.problems if p.code == "time_zone_mix"]
    assert p.row == 3 * 7 + 2 and p.column == "TimeStamp" and "1 do not" in p.message


# ----------------------------------------------------------------------------- #17 a repeated header
def test_a_header_line_repeated_inside_the_file_is_named_once_and_left_out(tmp_path):
    rows = _rows(n=60)
    path = tmp_path / "export.csv"
    text = pd.DataFrame(rows[:90], columns=COLS).to_csv(index=False)
    text += pd.DataFrame(rows[90:], columns=COLS).to_csv(index=False)       # the second export, header and all
    path.write_text(text, encoding="utf-8")
    raw = load_table(path)
    (w,) = [p for p in raw.problems if p.code == "repeated_header"]
    assert w.row == 92 and w.file == "export.csv" and "row 92 repeats the header line" in w.message
    assert "two exports pasted together" in w.message
    assert len(raw.frame) == 180 and raw.source_rows[90] == 93           # rows after it keep their numbers
    data = prepare(raw, parse_layout(LAYOUT))
    assert len(data.frame) == 60
    assert not [p for p in data.problems if "'Tagname'" in p.message and p.code != "repeated_header"]


def test_a_wide_table_with_its_header_twice_is_read_without_bad_cells(tmp_path):
    path = tmp_path / "wide.csv"
    head = "time,FI-1,TI-2,YIELD\n"
    body = [f"2026-03-01T00:{k:02d}:00,{k % 7},{k % 3},{90 + k % 5}\n" for k in range(40)]
    path.write_text(head + "".join(body[:20]) + head + "".join(body[20:]) + "time,,TI-2,\n", encoding="utf-8")
    raw = load_table(path)
    (w,) = [p for p in raw.problems if p.code == "repeated_header"]
    assert "2 rows (row 22, row 43) repeat the header line" in w.message and w.row == 22
    lay = parse_layout(LAYOUT.replace('sample = "1min"', 'time_column = "time"'))
    data = prepare(raw, lay)
    assert len(data.frame) == 40


def test_a_data_row_that_only_shares_one_cell_with_the_header_is_kept(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("name,value\nname,3\nvalue,4\n", encoding="utf-8")
    raw = load_table(path)
    assert len(raw.frame) == 2 and not [p for p in raw.problems if p.code == "repeated_header"]


# ----------------------------------------------------------------------------- #20 quality dialects
def test_hexadecimal_opc_codes_are_read_as_the_codes_they_are(tmp_path):
    rows = _rows(n=60, quality="0xC0")
    rows[3 * 10 + 1][3] = "0x00"                  # TI-2 at 00:11: Bad
    rows[3 * 12 + 1][3] = "0x80320000"            # OPC UA BadNoCommunication
    rows[3 * 13 + 1][3] = "0x00000000"            # OPC UA Good
    data = _prepare(tmp_path, rows)
    rep = {t.tag: t for t in data.tag_reports}
    assert rep["TI-2"].bad_quality == 2 and rep["FI-1"].bad_quality == 0 and rep["YIELD"].bad_quality == 0
    assert len(data.frame) >= 57


def test_uncertain_samples_are_missing_and_the_warning_says_so(tmp_path):
    rows = _rows(n=60)
    for k in (5, 6, 7):
        rows[3 * k + 1][3] = "Uncertain"
    rows[3 * 9 + 1][3] = "Bad"
    rows[3 * 11][3] = "0x40000000"                 # OPC UA Uncertain, FI-1 at 00:12
    data = _prepare(tmp_path, rows)
    (w,) = [p for p in data.problems if p.code == "bad_quality" and p.column == "TI-2"]
    assert "4 flagged bad quality (3 of them 'Uncertain'; an uncertain sample is used as missing" in w.message
    assert w.row == 3 * 5 + 1 + 2
    (f,) = [p for p in data.problems if p.code == "bad_quality" and p.column == "FI-1"]
    assert "1 flagged bad quality (all 'Uncertain'" in f.message
    assert data.missing_counts["TI-2"] == 4


def test_a_tag_whose_samples_are_all_uncertain_is_refused_saying_why(tmp_path):
    rows = [[*r[:3], "Uncertain"] if r[0] == "TI-2" else r for r in _rows(n=60)]
    with pytest.raises(RcaInputError) as e:
        _prepare(tmp_path, rows)
    (p,) = [p for p in e.value.problems if p.column == "TI-2"]
    assert "'Uncertain quality' ×60" in p.message and "used as missing like a bad one" in p.message
    assert "bad quality" not in p.message


# ----------------------------------------------------------------------------- #10 an hour exported twice
def test_an_hour_exported_twice_is_used_once_and_said_once(tmp_path):
    rows = _rows(n=180)
    once = _prepare(tmp_path, rows)
    twice = _prepare(tmp_path, rows[:3 * 120] + rows[3 * 60:])          # the second export repeats 01:01-02:00
    (w,) = [p for p in twice.problems if p.code == "repeated_span"]
    assert w.row == 3 * 120 + 2 and w.column == "TimeStamp" and w.file == "export.csv"
    assert "rows 362 to 541 repeat 180 samples of 3 tag(s) from 2026-03-01 01:01:00 to 2026-03-01 02:00:00" \
        in w.message and "not a clock change" in w.message
    assert not [p for p in twice.problems if p.code in ("clock_back", "duplicate_samples", "duplicate_time")]
    pd.testing.assert_frame_equal(once.frame, twice.frame)


def test_a_repeated_clock_hour_with_a_constant_tag_is_still_a_clock_change():
    from rca_app.core.historian import detect_long_format, pivot_long

    utc = pd.date_range("2026-10-24 23:30", "2026-10-25 02:30", freq="1min", tz="UTC")
    local = utc.tz_convert("Europe/Berlin").tz_localize(None)
    rng = np.random.default_rng(1)
    rows = [[tag, t, rng.normal() if tag != "SP" else 50.0, "Good"] for t in local for tag in ("YIELD", "FI-1", "SP")]
    p = pivot_long(pd.DataFrame(rows, columns=COLS), detect_long_format(COLS), "export.csv", kpi="YIELD")
    assert [q.code for q in p.problems if q.code in ("clock_back", "repeated_span")] == ["clock_back"]


# ----------------------------------------------------------------------------- #2 a tag renamed
def _renamed(n=240, at=180):
    """TI-2 is written TI-2.PV from row ``at`` on (a DCS migration between two exports)."""
    return [["TI-2.PV", *r[1:]] if r[0] == "TI-2" and k // 3 >= at else r for k, r in enumerate(_rows(n=n))]


def _check(data, start, end):
    """The windows as the analysis resolves them: the incident as given, and every row before it."""
    an = rows_for_window(data, start, end)
    check_window_gaps(data, slice(0, an.start), an, incident=(start, end))
    return an


@pytest.mark.parametrize("gaps", ["drop", "impute"])
def test_a_window_a_renamed_tag_is_missing_from_is_refused_naming_the_new_name(tmp_path, gaps):
    data = _prepare(tmp_path, _renamed(), gaps=gaps)
    (w,) = [p for p in data.problems if p.code == "sensor_missing_span"]
    assert w.column == "TI-2" and w.row is None                  # grid rows are no rows of the export
    assert "TI-2 has no value from 2026-03-01 03:01:00 to the end of the data (60 of 240 rows" in w.message
    assert "'TI-2.PV', a tag not in the layout, has values from 2026-03-01 03:01:00 just where TI-2 has none" \
        in w.message and "renamed" in w.message
    with pytest.raises(RcaInputError) as e:
        _check(data, "2026-03-01T02:51:00", "2026-03-01T03:51:00")
    (p,) = e.value.problems
    assert p.column == "TI-2" and p.file == "export.csv" and p.code == "window_sensor_missing"
    assert "'TI-2.PV'" in p.message and "Otherwise leave TI-2 out of the layout" in p.message
    assert p.message.startswith("the incident window (2026-03-01 02:51:00 to 2026-03-01 03:50:00): TI-2 has "
                                "no value in 50 of the window's 60 rows (from 2026-03-01 03:01:00 to 2026-03-01 "
                                "03:50:00; its last value before is at 2026-03-01 03:00:00)")
    assert ("gaps='drop' would leave 10 of its 60 rows" if gaps == "drop" else
            "gaps='impute' would fill 50 of its 60 rows with a held or interpolated value") in p.message
    # A window before the rename, and one the tag misses less than half of, are fine.
    assert _check(data, "2026-03-01T01:00:00", "2026-03-01T02:00:00").stop > 0
    assert _check(data, "2026-03-01T02:21:00", "2026-03-01T03:11:00").stop > 0
    # Without the bounds as given, the rows kept bound the window (dropped rows have none).
    an = rows_for_window(data, "2026-03-01T01:00:00", "2026-03-01T02:00:00")
    check_window_gaps(data, slice(0, an.start), an)


def test_a_reference_a_sensor_is_missing_from_is_refused_too(tmp_path):
    # Renamed the other way: the layout has the new name, the older export the old one.
    rows = [["TI-2.OLD", *r[1:]] if r[0] == "TI-2" and k // 3 < 150 else r for k, r in enumerate(_rows(n=240))]
    data = _prepare(tmp_path, rows, gaps="impute")
    with pytest.raises(RcaInputError) as e:
        _check(data, "2026-03-01T03:01:00", "2026-03-01T04:01:00")
    (p,) = e.value.problems
    assert p.message.startswith("the reference period (2026-03-01 00:01:00 to 2026-03-01 03:00:00): TI-2 has no value "
                                "in 150 of the window's 180 rows (from 2026-03-01 00:01:00 to 2026-03-01 02:30:00; "
                                "its next at 2026-03-01 02:31:00)")
    assert "'TI-2.OLD', a tag not in the layout, has values from 2026-03-01 00:01:00" in p.message


def test_a_sensor_out_of_service_in_a_wide_table_is_named_with_its_rows(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("time,FI-1,TI-2,YIELD,note\n" + "".join(
        f"2026-03-01T{k // 60:02d}:{k % 60:02d}:00,{k % 7},{'' if 60 <= k < 100 else k % 3},{90 + k % 5},\n"
        for k in range(120)), encoding="utf-8")
    lay = parse_layout(LAYOUT.replace('sample = "1min"', 'time_column = "time"'))
    data = prepare(load_table(path), lay, gaps="impute")
    (w,) = [p for p in data.problems if p.code == "sensor_missing_span"]
    assert w.row == 62 and "from 2026-03-01 01:00:00 (row 62) to 2026-03-01 01:39:00 (row 101)" in w.message
    assert "its next at 2026-03-01 01:40:00 (row 102)" in w.message and "renamed" not in w.message
    with pytest.raises(RcaInputError) as e:
        _check(data, "2026-03-01T01:00:00", "2026-03-01T01:50:00")
    assert e.value.problems[0].row == 62 and "Leave TI-2 out of the layout" in e.value.problems[0].message


def test_scattered_gaps_in_a_window_are_filled_without_complaint(tmp_path):
    rows = _rows(n=120)
    for k in range(60, 120, 3):
        rows[3 * k + 1][3] = "Bad"            # every third TI-2 sample in the second hour
    data = _prepare(tmp_path, rows, gaps="impute")
    assert not [p for p in data.problems if p.code == "sensor_missing_span"]
    assert _check(data, "2026-03-01T01:01:00", "2026-03-01T02:01:00").stop == 120


def test_a_window_emptied_by_a_gap_names_the_sensor_not_just_the_data_span(tmp_path):
    data = _prepare(tmp_path, _renamed(at=120))
    with pytest.raises(RcaInputError) as e:
        rows_for_window(data, "2026-03-01T02:30:00", "2026-03-01T03:00:00")
    (p,) = e.value.problems
    assert p.column == "TI-2" and "holds no rows" not in p.message
    assert p.message.startswith("window '2026-03-01T02:30:00' to '2026-03-01T03:00:00' (2026-03-01 02:30:00 to "
                                "2026-03-01 02:59:00): TI-2 has no value in 30 of the window's 30 rows")
    assert "gaps='drop' would leave 0 of its 30 rows" in p.message and "'TI-2.PV'" in p.message


def test_exact_repeats_within_an_hour_get_no_summer_time_hint():
    from rca_app.core.historian import detect_long_format, pivot_long

    rows = _rows(n=60)
    for k in (30, 20, 10):                                      # FI-1 written twice at three times
        rows.insert(3 * k + 1, list(rows[3 * k]))
    f = pd.DataFrame(rows, columns=COLS)
    f["Value"] = pd.to_numeric(f["Value"])
    p = pivot_long(f, detect_long_format(COLS), "export.csv", kpi="YIELD")
    (w,) = [q for q in p.problems if q.code == "duplicate_samples"]
    assert "3 sample(s) repeat an earlier one exactly" in w.message and "summer time" not in w.message


def test_the_overview_counts_uncertain_samples_among_the_bad(tmp_path):
    rows = _rows(n=60)
    for k in (5, 6):
        rows[3 * k + 1][3] = "Uncertain"
    rows[3 * 9 + 1][3] = "Bad"
    text = _prepare(tmp_path, rows).summary_text()
    assert "  TI-2: mean, 60 samples, 3 bad (2 of them 'Uncertain'), 0 empty" in text
    assert "  FI-1: mean, 60 samples, 0 bad, 0 empty" in text

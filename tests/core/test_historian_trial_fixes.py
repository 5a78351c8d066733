"""Historian exports a first-time user brought (issue #14 trial): OPC quality codes read as text,
repeated samples, a local clock that went back an hour, impossible times of day, "no value"
codes and tag settings for tags the export lacks. Each is said, naming file, tag and row."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.historian import TagSettingsError, detect_long_format, no_value_codes, pivot_long
from rca_app.core.layout import parse_layout

COLS = ["Tagname", "TimeStamp", "Value", "Quality"]

LAYOUT = """[plant]
name = "x"
target = "YIELD"
sample = "1min"
{extra_plant}
[[station]]
name = "A"
sensors = ["FI-1", "TI-2"]

[[station]]
name = "B"
sensors = ["YIELD"]
{extra}
"""


def _rows(n=200, quality="Good", seed=0):
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2026-03-01 00:01")
    rows = []
    for k in range(n):
        t = (t0 + pd.Timedelta(minutes=k)).isoformat()
        a = rng.normal()
        rows.append(["FI-1", t, f"{a:.4f}", quality])
        rows.append(["TI-2", t, f"{100 + rng.normal():.4f}", quality])
        rows.append(["YIELD", t, f"{90 + 2 * a + rng.normal():.4f}", quality])
    return rows


def _prepare(tmp_path, rows, extra="", extra_plant=""):
    path = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    return prepare(load_table(path), parse_layout(LAYOUT.format(extra=extra, extra_plant=extra_plant)))


def _messages(exc_or_data) -> list:
    return list(exc_or_data.problems)


def test_opc_codes_written_as_text_are_decoded(tmp_path):
    rows = _rows(quality="192")
    rows[3 * 10 + 1][3] = "0"          # TI-2 at 00:11: OPC Bad
    rows[3 * 11 + 1][3] = "68"         # Uncertain: below 192, missing too
    data = _prepare(tmp_path, rows)
    rep = {t.tag: t for t in data.tag_reports}
    assert rep["TI-2"].bad_quality == 2 and rep["FI-1"].bad_quality == 0
    assert len(data.frame) >= 197


def test_a_kpi_whose_samples_are_all_bad_is_named_never_a_nat_error(tmp_path):
    rows = _rows(quality="192")
    for r in rows:
        if r[0] == "YIELD":
            r[3] = "0"
    with pytest.raises(RcaInputError) as e:
        _prepare(tmp_path, rows)
    text = "\n".join(str(p) for p in e.value.problems)
    assert "NaT" not in text
    kpi = next(p for p in e.value.problems if "has no good sample" in p.message)
    assert kpi.column == "YIELD" and kpi.file == "export.csv" and kpi.row == 4 and "'0' ×200" in kpi.message


def test_an_export_without_any_good_sample_names_its_quality_values():
    frame = pd.DataFrame(_rows(n=5, quality="Bad Input"), columns=COLS)
    frame["Value"] = pd.to_numeric(frame["Value"])
    with pytest.raises(ValueError, match="no tag has a good sample.*'Bad Input' ×15"):
        pivot_long(frame, detect_long_format(COLS), "export.csv", kpi="YIELD")


def _frame(rows):
    f = pd.DataFrame(rows, columns=COLS)
    f["Value"] = pd.to_numeric(f["Value"])
    f["TimeStamp"] = pd.to_datetime(f["TimeStamp"])
    return f


def test_duplicate_timestamps_are_combined_by_the_rule_and_said():
    rows = _rows(n=30)
    rows.append(["TI-2", rows[3 * 10 + 1][1], "-50.0", "Good"])       # a second, different sample at 00:11
    rows.append(list(rows[3 * 12]))                                     # an exact repeat of FI-1 at 00:13
    f = _frame(rows)
    p = pivot_long(f, detect_long_format(COLS), "export.csv", kpi="YIELD")
    dup = next(q for q in p.problems if "'TI-2'" in q.message)
    assert "1 duplicate timestamp(s) with different values, first 2026-03-01 00:11:00" in dup.message
    assert "-50 at row 92" in dup.message and f"at row {3 * 10 + 1 + 2}" in dup.message
    assert "averaged" in dup.message and dup.row == 3 * 10 + 1 + 2
    first = float(rows[3 * 10 + 1][2])
    grid = p.frame.set_index("timestamp")
    assert grid.loc["2026-03-01 00:11", "TI-2"] == pytest.approx((first - 50) / 2)
    rep = next(q for q in p.problems if "'FI-1'" in q.message)
    assert "1 sample(s) repeat an earlier one exactly" in rep.message and rep.row == 93
    # "last": the later row of the file is the value at that time.
    p = pivot_long(f, detect_long_format(COLS), "export.csv", kpi="YIELD", rules={"TI-2": "last"})
    assert p.frame.set_index("timestamp").loc["2026-03-01 00:11", "TI-2"] == -50.0
    assert any("last of them in the file" in q.message for q in p.problems)


def test_a_local_clock_that_went_back_is_said_with_the_rows_it_mixed():
    utc = pd.date_range("2026-10-24 23:30", "2026-10-25 02:30", freq="1min", tz="UTC")
    local = utc.tz_convert("Europe/Berlin").tz_localize(None)
    rng = np.random.default_rng(1)
    rows = [[tag, t, rng.normal(), "Good"] for t in local for tag in ("YIELD", "FI-1")]
    p = pivot_long(pd.DataFrame(rows, columns=COLS), detect_long_format(COLS), "export.csv", kpi="YIELD")
    (fold,) = [q for q in p.problems if q.code == "clock_back"]
    assert fold.row == 2 * 90 + 2 and fold.file == "export.csv"        # 01:00 UTC, the second 02:00
    assert "go back by 59 min" in fold.message and "2 tag(s) ('YIELD', 'FI-1')" in fold.message
    assert "same 60 grid rows" in fold.message
    # The repeated hour is said once, not again as 60 duplicates per tag.
    assert not [q for q in p.problems if q.code == "duplicate_samples"]


def test_impossible_times_of_day_are_named_with_their_row(tmp_path):
    rows = _rows(n=40)
    rows[3 * 5][1] = "2026-03-01T25:61:00"
    path = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    data = prepare(load_table(path), parse_layout(LAYOUT.format(extra="", extra_plant="")))
    bad = next(p for p in data.problems if "25:61" in p.message)
    assert bad.row == 3 * 5 + 2 and bad.file == "export.csv"
    # A wide table: an error naming the row and why.
    wide = tmp_path / "wide.csv"
    wide.write_text("time,FI-1,TI-2,YIELD\n" + "".join(
        f"2026-03-01T{'25:61' if k == 3 else f'00:{k:02d}'}:00,{k},{k % 3},{k % 5}\n" for k in range(30)),
        encoding="utf-8")
    lay = parse_layout(LAYOUT.format(extra="", extra_plant='time_column = "time"').replace('sample = "1min"', ""))
    with pytest.raises(RcaInputError) as e:
        prepare(load_table(wide), lay)
    (p,) = [p for p in e.value.problems if p.code == "bad_time"]
    assert p.row == 5 and "time of day that does not exist" in p.message


def test_no_value_codes_are_warned_and_missing():
    assert [(c.value, c.count, c.low, c.high) for c in no_value_codes(np.array([1.0, 2.0, 3.0, -9999, -9999]))] \
        == [(-9999.0, 2, 1.0, 3.0)]
    assert no_value_codes(np.array([5000.0, 9500.0, 9999.0, 9999.0])) == []     # a real reading near the top
    assert no_value_codes(np.array([1.0, 2.0, 3.0, -9999])) == []               # once: not a code
    rows = _rows(n=30)
    for k in (4, 9, 20):
        rows[3 * k + 2][2] = "-9999"
    p = pivot_long(_frame(rows), detect_long_format(COLS), "export.csv", kpi="YIELD")
    (w,) = [q for q in p.problems if q.code == "no_value_code"]
    assert w.column == "YIELD" and w.row == 3 * 4 + 2 + 2 and "3 samples are exactly -9999" in w.message
    assert "so they are missing values, not numbers" in w.message
    assert (p.frame["YIELD"] == -9999).sum() == 0 and p.frame["YIELD"].isna().sum() == 3


def test_tag_settings_for_tags_not_in_the_export_are_named_with_a_suggestion(tmp_path):
    f = _frame(_rows(n=30))
    with pytest.raises(TagSettingsError) as e:
        pivot_long(f, detect_long_format(COLS), "export.csv", kpi="YIELD", rules={"ti-2": "max"},
                   delays={"FI-7": "1min"}, layout_file="layout.toml")
    msgs = [p.message for p in e.value.problems if p.severity == "error"]
    assert msgs[0].startswith("[tags.ti-2]: rule 'max' given for ti-2") and "did you mean 'TI-2'" in msgs[0]
    assert "[tags.FI-7]: delay given for FI-7" in msgs[1] and "did you mean 'FI-1'" in msgs[1]
    assert e.value.pivot.frame.shape == (30, 4)


def test_every_problem_of_a_long_export_is_reported_at_once(tmp_path):
    # A delay for an unknown tag used to stop the pivot and hide the rest: here an all-bad sensor
    # and a sensor name differing only in case are reported in the same run.
    rows = [r for r in _rows(n=60) if r[0] != "FI-1"]
    rows += [["FI-1", r[1], r[2], "Bad"] for r in _rows(n=60) if r[0] == "FI-1"]
    rows = [["ti-2", *r[1:]] if r[0] == "TI-2" else r for r in rows]
    with pytest.raises(RcaInputError) as e:
        _prepare(tmp_path, rows, extra='[tags.LAB]\ndelay = "5min"\n')
    text = [str(p) for p in e.value.problems if p.severity == "error"]
    assert any("[tags.LAB]: delay given for LAB" in t and t.startswith("layout.toml") for t in text)
    assert any("'TI-2'" in t and "did you mean 'ti-2'" in t for t in text)
    assert any("column 'FI-1'" in t and "empty" in t for t in text)


def test_a_tag_with_one_sample_is_named_as_such_not_as_constant(tmp_path):
    rows = [r for r in _rows(n=60) if r[0] != "TI-2"] + [["TI-2", "2026-03-01T00:05:00", "25.0", "Good"],
                                                        ["TI-2", "2026-03-01T00:06:00", "26.0", "Bad"]]
    with pytest.raises(RcaInputError) as e:
        _prepare(tmp_path, rows)
    (p,) = [p for p in e.value.problems if p.column == "TI-2" and p.severity == "error"]
    assert p.code == "one_sample" and p.row == 122 and "only 1 sample with a good value (of 2)" in p.message


def test_a_slow_tag_held_by_last_is_noted_as_a_step_function(tmp_path):
    # A lab value every 30 min on a 1-min grid changes once in 30 rows.
    rows = _rows(n=240) + [["LAB", (pd.Timestamp("2026-03-01 00:01") + pd.Timedelta(minutes=30 * k)).isoformat(),
                            f"{k % 4}.5", "Good"] for k in range(8)]
    lay = LAYOUT.format(extra="", extra_plant="").replace('["FI-1", "TI-2"]', '["FI-1", "TI-2", "LAB"]')
    path = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    data = prepare(load_table(path), parse_layout(lay))
    (note,) = [p for p in data.problems if p.code == "step_function"]
    assert note.column == "LAB" and "every 30 rows" in note.message and "8 values in 240 rows" in note.message
    assert not [p for p in data.problems if p.code == "step_function" and p.column != "LAB"]


def test_no_value_codes_in_a_wide_table_are_warned_with_their_rows(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("time,FI-1,TI-2,YIELD\n" + "".join(
        f"2026-03-01T{k // 60:02d}:{k % 60:02d}:00,{k % 7},{-9999 if k in (5, 17) else k % 3},{90 + k % 5}\n"
        for k in range(40)), encoding="utf-8")
    lay = parse_layout(LAYOUT.format(extra="", extra_plant='time_column = "time"').replace('sample = "1min"', ""))
    data = prepare(load_table(path), lay)
    (w,) = [p for p in data.problems if p.code == "no_value_code"]
    assert w.column == "TI-2" and w.row == 7
    assert "2 values are exactly -9999 (first at 2026-03-01 00:05:00 (row 7); also at row 19)" in w.message
    assert (data.frame["TI-2"] == -9999).sum() == 0 and data.n_rows == 38     # missing, so dropped by gaps='drop'


def test_timestamps_that_cannot_be_read_are_named_not_a_nat_error():
    f = pd.DataFrame(_rows(n=5), columns=COLS)
    f["Value"] = pd.to_numeric(f["Value"])
    f.loc[f.Tagname == "YIELD", "TimeStamp"] = "soon"
    p = pivot_long(f, detect_long_format(COLS), "export.csv", kpi="YIELD")
    kpi = next(q for q in p.problems if "KPI" in q.message)
    assert "the KPI YIELD has no sample with a readable timestamp (first 'soon' at row 4)" in kpi.message
    f["TimeStamp"] = "soon"
    with pytest.raises(ValueError, match="none of the 15 timestamps in 'TimeStamp' can be read"):
        pivot_long(f, detect_long_format(COLS), "export.csv", kpi="YIELD")


def test_a_wide_table_with_a_repeated_local_hour_gets_the_summer_time_hint(tmp_path):
    utc = pd.date_range("2026-10-24 23:55", "2026-10-25 02:00", freq="5min", tz="UTC")
    local = utc.tz_convert("Europe/Berlin").tz_localize(None)
    path = tmp_path / "wide.csv"
    path.write_text("time,FI-1,TI-2,YIELD\n" + "".join(
        f"{t.isoformat()},{k % 7},{k % 3},{90 + k % 5}\n" for k, t in enumerate(local)), encoding="utf-8")
    lay = parse_layout(LAYOUT.format(extra="", extra_plant='time_column = "time"').replace('sample = "1min"', ""))
    data = prepare(load_table(path), lay)
    (w,) = [p for p in data.problems if p.code == "duplicate_time"]
    assert "12 row(s) repeat an earlier timestamp" in w.message and "end of summer time" in w.message


def test_tag_names_differing_in_case_are_all_named_once_with_a_suggestion(tmp_path):
    rows = [[r[0].lower(), *r[1:]] for r in _rows(n=40)]
    with pytest.raises(RcaInputError) as e:
        _prepare(tmp_path, rows, extra='[tags.TI-2]\nrule = "max"\n')
    text = [p.message for p in e.value.problems]
    assert sum("'YIELD'" in t or " YIELD " in t for t in text) == 1          # the KPI, said once
    assert any("[tags.TI-2]" in t and "did you mean 'ti-2'" in t for t in text)
    for name in ("FI-1", "TI-2", "YIELD"):
        assert any(f"'{name}'" in t and f"did you mean '{name.lower()}'" in t for t in text)

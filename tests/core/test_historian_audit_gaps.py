"""Data-layer gaps an acceptance audit of issue #14 found: historian "no value" codes analysed as
numbers, rows of the pivoted grid named as rows of the export, lot rows without a lot id, joined
tables without a fingerprint, a sample without a tag name dropped silently, ``--format wide`` on a
long export, and a 5-minute process tag called a lab value. Each message names file, tag or
column and the timestamp or row."""
from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from rca_app.cli import main
from rca_app.core.data import load_table, prepare
from rca_app.core.data.preparation import held_tag_words
from rca_app.core.errors import RcaInputError
from rca_app.core.historian import no_value_codes
from rca_app.core.layout import load_layout, parse_layout
from rca_app.resources import sample_plants_dir

LAYOUT = """[plant]
name = "x"
target = "YIELD"
sample = "1min"

[[station]]
name = "Feed"
sensors = ["FEED"]

[[station]]
name = "Product"
sensors = ["YIELD"]
{extra}"""

T0 = pd.Timestamp("2026-05-04 00:00")


def _export(path, n=240, codes=(), quality=False, blank_tag_at=()):
    """A long export on a 1-min grid: FEED drives YIELD (about 90); ``codes`` are (tag, minute,
    value) written into the Value column, as a historian without a quality column does."""
    rng = np.random.default_rng(3)
    feed = 2.0 + rng.normal(0, 0.1, n)
    yld = 90.0 - 2.0 * (feed - 2.0) + rng.normal(0, 0.2, n)
    rows = []
    for k in range(n):
        t = (T0 + pd.Timedelta(minutes=k)).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(["FEED", t, f"{feed[k]:.4f}"])
        rows.append(["YIELD", t, f"{yld[k]:.4f}"])
    for tag, minute, value in codes:
        rows[2 * minute + (tag == "YIELD")][2] = str(value)
    for minute in blank_tag_at:
        rows[2 * minute][0] = ""
    cols = ["Tagname", "TimeStamp", "Value"]
    if quality:
        cols.append("Quality")
        rows = [[*r, "Good"] for r in rows]
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)
    return path


def _prepare(path, extra=""):
    return prepare(load_table(path), parse_layout(LAYOUT.format(extra=extra)))


def _file_row(tag: str, minute: int) -> int:
    """The export's own spreadsheet row of a sample (header = row 1)."""
    return 2 + 2 * minute + (tag == "YIELD")


# ------------------------------------------------------------------ 1: "no value" codes
def test_minus_9999_in_a_long_export_without_quality_is_missing_not_a_number(tmp_path):
    path = _export(tmp_path / "export.csv", codes=[("YIELD", 30, -9999), ("YIELD", 95, -9999),
                                                    ("YIELD", 170, -9999)])
    data = _prepare(path)
    # Before: the three -9999 were yields, so the KPI's mean read about -35 instead of about 90.
    assert data.frame["YIELD"].min() > 80 and abs(data.frame["YIELD"].mean() - 90.0) < 0.5
    assert data.dropped_rows.get("missing_target") == 3
    (w,) = [p for p in data.problems if p.code == "no_value_code"]
    assert w.file == "export.csv" and w.column == "YIELD" and w.row == _file_row("YIELD", 30)
    assert w.message.startswith("tag 'YIELD': 3 samples are exactly -9999 (first at 2026-05-04 00:30:00, row 63), "
                                "far outside its other values (median 90")
    assert ("a 'no value' code of the historian (the export has no quality column to flag them), so they are "
            "missing values, not numbers; if -9999 is a real reading of YIELD, write missing = [] under "
            "[tags.YIELD] in the layout") in w.message
    assert (data.tag_reports[1].tag, data.tag_reports[1].no_value_samples) == ("YIELD", 3)


def test_other_nines_codes_and_one_genuine_outlier_are_judged_robustly():
    rng = np.random.default_rng(0)
    temp = 20 + rng.normal(0, 0.3, 200)
    # -99999, 9999 and -999 are codes too.
    for code in (-99999.0, 9999.0, -999.0):
        found = no_value_codes(np.r_[temp, code, code])
        assert [(c.value, c.count) for c in found] == [(code, 2)]
    # One genuine spike among the other values does not hide the code (the range of the others
    # would: 3 ranges of 20..4000 reach past -9999), since median and MAD ignore it.
    found = no_value_codes(np.r_[temp, 4000.0, -9999.0, -9999.0])
    assert [(c.value, c.count) for c in found] == [(-9999.0, 2)]


def test_a_genuine_999_within_the_tags_range_stays_a_number(tmp_path):
    # A speed that reads 999 now and then among 900-1100: a value of nines, repeated, but one of
    # the tag's usual values.
    rng = np.random.default_rng(1)
    speed = np.round(1000 + rng.normal(0, 40, 300))
    speed[[10, 50, 90, 130]] = 999
    assert no_value_codes(speed) == []
    path = tmp_path / "export.csv"
    rows = []
    for k in range(240):
        t = (T0 + pd.Timedelta(minutes=k)).strftime("%Y-%m-%d %H:%M:%S")
        rows += [["FEED", t, f"{speed[k]:g}"], ["YIELD", t, f"{90 + rng.normal(0, 0.2):.3f}"]]
    pd.DataFrame(rows, columns=["Tagname", "TimeStamp", "Value"]).to_csv(path, index=False)
    data = _prepare(path)
    assert not [p for p in data.problems if p.code == "no_value_code"]
    assert (data.frame["FEED"] == 999).sum() == (speed[:240] == 999).sum() >= 4


def test_the_layout_keeps_a_code_as_a_number_or_declares_the_codes(tmp_path):
    path = _export(tmp_path / "export.csv", codes=[("YIELD", 30, -9999), ("YIELD", 95, -9999),
                                                    ("FEED", 40, -1), ("FEED", 41, -1)])
    kept = _prepare(path, "\n[tags.YIELD]\nmissing = []\n")
    assert (kept.frame["YIELD"] == -9999).sum() == 2
    assert not [p for p in kept.problems if p.code == "no_value_code" and p.column == "YIELD"]
    declared = _prepare(path, "\n[tags.FEED]\nmissing = [-1]\n")
    assert (declared.frame["FEED"] == -1).sum() == 0 and declared.frame["YIELD"].min() > 80
    (w,) = [p for p in declared.problems if p.code == "declared_missing"]
    assert w.column == "FEED" and w.row == _file_row("FEED", 40)
    assert w.message == ("tag 'FEED': 2 samples are a value that [tags.FEED] missing = [-1] in layout.toml declares "
                         "missing (first -1 at 2026-05-04 00:40:00, row 82); they are missing values, not numbers")
    # Written back as the engineer wrote it (a layout edited in the window keeps the key).
    lay = parse_layout(LAYOUT.format(extra="\n[tags.FEED]\nmissing = [-1, -9999.5]\n"))
    assert lay.tag_missing == {"FEED": (-1.0, -9999.5)} and "missing = [-1, -9999.5]" in lay.to_toml()
    assert parse_layout(lay.to_toml()).tag_missing == lay.tag_missing


def test_a_bad_missing_key_and_one_for_an_unknown_tag_are_errors(tmp_path):
    with pytest.raises(RcaInputError) as e:
        parse_layout(LAYOUT.format(extra='\n[tags.FEED]\nmissing = "-9999"\n'))
    assert "[tags.FEED] missing must be a list of numbers such as [-9999] (or [] for none), got '-9999'" in str(e.value)
    path = _export(tmp_path / "export.csv")
    with pytest.raises(RcaInputError) as e:
        _prepare(path, "\n[tags.FEDE]\nmissing = [-9999]\n")
    (p,) = [p for p in e.value.problems if p.code == "unknown_tag"]
    assert p.file == "layout.toml" and "[tags.FEDE]: missing given for FEDE" in p.message
    assert "did you mean 'FEED'" in p.message


def test_minus_9999_in_a_wide_table_is_missing_with_its_time_and_row(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("time,FEED,YIELD\n" + "".join(
        f"2026-05-04T{k // 60:02d}:{k % 60:02d}:00,{-9999 if k in (5, 17) else 2 + k % 3 / 10},{90 + k % 5}\n"
        for k in range(60)), encoding="utf-8")
    lay = LAYOUT.replace('sample = "1min"', 'time_column = "time"')
    data = prepare(load_table(path), parse_layout(lay.format(extra="")))
    (w,) = [p for p in data.problems if p.code == "no_value_code"]
    assert w.file == "wide.csv" and w.column == "FEED" and w.row == 7
    assert w.message.startswith("2 values are exactly -9999 (first at 2026-05-04 00:05:00 (row 7); also at row 19), "
                                "far outside the column's other values (median 2.1, 2 to 2.2): a 'no value' code of "
                                "the logger or historian, so they are missing values, not numbers")
    assert data.frame["FEED"].min() == 2.0 and data.n_rows == 58
    kept = prepare(load_table(path), parse_layout(lay.format(extra="\n[tags.FEED]\nmissing = []\n")))
    assert (kept.frame["FEED"] == -9999).sum() == 2


def test_the_kpi_reads_its_true_level_in_the_analysis(tmp_path):
    # The audit's case: a long export without a quality column, -9999 in the KPI and a sensor.
    codes = [("YIELD", m, -9999) for m in (20, 61, 140, 200)] + [("FEED", m, -9999) for m in (33, 150)]
    path = _export(tmp_path / "export.csv", codes=codes)
    layout = tmp_path / "layout.toml"
    layout.write_text(LAYOUT.format(extra=""), encoding="utf-8")
    out = tmp_path / "r.json"
    code = main(["analyze", str(path), "--layout", str(layout), "--anomaly", "2026-05-04T03:00:00/2026-05-04T04:00:00",
                 "--graph-bootstrap", "0", "--rank-bootstrap", "0", "--quiet", "--json", str(out)])
    assert code == 0
    r = json.loads(out.read_text(encoding="utf-8"))
    # Before: reference mean about -180 and a shortfall of hundreds of percent.
    assert abs(r["anomaly"]["target_reference_mean"] - 90.0) < 0.5
    assert abs(r["anomaly"]["target_reference_mean"] - r["anomaly"]["target_anomaly_mean"]) < 1.0


# ------------------------------------------------------------------ 2: grid rows named by time
def test_kpi_gaps_on_a_pivoted_grid_are_named_by_time_not_by_export_row(tmp_path):
    path = tmp_path / "export.csv"
    _export(path, quality=True)
    f = pd.read_csv(path)
    at = (f["Tagname"] == "YIELD") & f["TimeStamp"].isin(["2026-05-04 00:47:00", "2026-05-04 01:50:00"])
    f.loc[at, "Quality"] = "Bad"
    f.to_csv(path, index=False)
    data = _prepare(path)
    (w,) = [p for p in data.problems if p.code == "missing_target_rows"]
    # Before: "row 49: 2 row(s) have no target value ...: row 49, row 112", rows of the grid that
    # are unrelated samples of the export.
    assert w.file == "export.csv" and w.column == "YIELD" and w.row is None
    assert w.message == ("2 grid time(s) have no target value and were dropped: 2026-05-04 00:47:00, "
                         "2026-05-04 01:50:00")


def test_a_wide_table_keeps_its_row_numbers(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("time,FEED,YIELD\n" + "".join(
        f"2026-05-04T{k // 60:02d}:{k % 60:02d}:00,{2 + k % 3 / 10},{'' if k == 9 else 90 + k % 5}\n"
        for k in range(60)), encoding="utf-8")
    lay = LAYOUT.replace('sample = "1min"', 'time_column = "time"')
    data = prepare(load_table(path), parse_layout(lay.format(extra="")))
    (w,) = [p for p in data.problems if p.code == "missing_target_rows"]
    assert w.row == 11 and w.message == "1 row(s) have no target value and were dropped: row 11"


# ------------------------------------------------------------------ 3: genealogy
@pytest.fixture
def plant(tmp_path):
    src = sample_plants_dir() / "batch_genealogy"
    for name in ("data.csv", "layout.toml", "lots.csv"):
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def test_rows_without_a_lot_id_are_a_join_problem_reported_with_the_others(plant):
    data = pd.read_csv(plant / "data.csv", dtype=str, keep_default_na=False)
    data.loc[8, "lot_id"] = ""           # row 10
    data.loc[10, "lot_id"] = "n/a"       # row 12
    data.loc[6, "lot_id"] = "L9999"      # row 8: a lot the lot table lacks
    data.to_csv(plant / "data.csv", index=False)
    lots = pd.read_csv(plant / "lots.csv", dtype=str)
    lots = pd.concat([lots, lots.iloc[[4]].assign(lot_viscosity_mPas="999")], ignore_index=True)
    lots.to_csv(plant / "lots.csv", index=False)       # a re-tested lot: an error
    with pytest.raises(RcaInputError) as e:
        prepare(load_table(plant / "data.csv"), load_layout(plant / "layout.toml"))
    probs = {p.code: p for p in e.value.problems}
    assert {"join_duplicate", "join_unknown_lot", "join_no_lot_id"} <= set(probs)
    no_id = probs["join_no_lot_id"]
    assert no_id.file == "data.csv" and no_id.column == "lot_id" and no_id.row == 10
    assert no_id.message == ("[[join]] 2 row(s) have no lot id in 'lot_id' (1 empty, 'n/a' ×1): row 10, row 12; "
                             "their properties from lots.csv are missing")
    # Said once, as a lot problem: not also as a historian status text or only as dropped rows.
    assert not [p for p in e.value.problems if p.code == "status_values"]


def test_the_lot_table_is_fingerprinted_like_the_data_file(plant, tmp_path):
    out = tmp_path / "r.json"
    code = main(["analyze", str(plant / "data.csv"), "--layout", str(plant / "layout.toml"), "--anomaly",
                 "2026-03-29T03:00:00/2026-04-04T09:00:00", "--graph-bootstrap", "0", "--rank-bootstrap", "0",
                 "--quiet", "--json", str(out)])
    assert code == 0
    r = json.loads(out.read_text(encoding="utf-8"))
    (j,) = r["input"]["joined"]
    body = (plant / "lots.csv").read_bytes()
    assert j["file"] == "lots.csv" and j["on"] == "lot_id" and j["size_bytes"] == len(body)
    assert j["sha256"] == hashlib.sha256(body).hexdigest() == r["input"]["joined"][0]["sha256"]
    assert j["rows"] == len(pd.read_csv(plant / "lots.csv"))
    data = prepare(load_table(plant / "data.csv"), load_layout(plant / "layout.toml"))
    assert f"Joined: lots.csv by 'lot_id' ({j['rows']:,} rows, {len(body):,} bytes, sha256 {j['sha256'][:12]})" \
        in data.summary_text()


# ------------------------------------------------------------------ 4: small ones
def test_a_sample_without_a_tag_name_is_said_with_its_time(tmp_path):
    path = _export(tmp_path / "export.csv", blank_tag_at=(12, 80))
    data = _prepare(path)
    (w,) = [p for p in data.problems if p.code == "no_tag"]
    assert w.file == "export.csv" and w.column == "Tagname" and w.row == _file_row("FEED", 12)
    assert w.message == ("2 sample(s) have no tag name in 'Tagname' and are left out: 2026-05-04 00:12:00 (row 26), "
                         "2026-05-04 01:20:00 (row 162)")


def test_format_wide_on_a_long_export_says_what_the_file_looks_like(tmp_path):
    path = _export(tmp_path / "export.csv", quality=True)
    with pytest.raises(RcaInputError) as e:
        prepare(load_table(path), parse_layout(LAYOUT.format(extra="")), format="wide")
    (p,) = [p for p in e.value.problems if p.code == "looks_long"]
    assert p.file == "export.csv" and p.message == (
        "--format wide: the header ('Tagname', 'TimeStamp', 'Value', 'Quality') looks like a historian long export, "
        "one sample per row (tag 'Tagname', time 'TimeStamp', value 'Value'), so the layout's sensors are values of "
        "'Tagname', not columns; leave out --format wide (or give --format long) to pivot it onto a time grid")


def test_a_tag_every_5_grid_rows_is_a_slow_tag_not_a_lab_value():
    assert held_tag_words(5.2) == "a slow tag (a new value about every 5 grid rows)"
    assert held_tag_words(30) == "a lab value"

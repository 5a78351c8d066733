"""Tests for rca_app.core.data: reading tables and checking them against a layout.

Files are generated in tmp_path so each test shows the exact bytes it feeds in.
Row numbers in assertions are spreadsheet rows: header = 1, first data row = 2.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rca_app.core.data import (
    MIN_ROWS,
    MIN_ROWS_PER_SENSOR,
    PlantData,
    load_table,
    min_rows_needed,
    prepare,
    rows_for_window,
)
from rca_app.core.data.numbers import parse_numbers
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import Layout, Station

N = 40  # rows in the standard table: enough for 3 sensors (needs max(30, 15))


# --------------------------------------------------------------------------- helpers


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def table(n=N, *, sep=",", dec=".", time=True, time_fmt="%Y-%m-%d %H:%M", cells=None,
          extra=None):
    """A clean plant table as text. ``cells`` overrides {(data_row_index, column): text}."""
    rng = np.random.default_rng(0)
    header = (["time"] if time else []) + ["temp", "speed", "mat", "yield"]
    if extra:
        header += list(extra)
    lines = [sep.join(header)]
    t0 = pd.Timestamp("2024-01-01 00:00")
    for i in range(n):
        row = {
            "time": (t0 + pd.Timedelta(hours=i)).strftime(time_fmt),
            "temp": f"{20 + i * 0.5 + rng.normal():.3f}",
            "speed": f"{100 + rng.normal() * 5:.2f}",
            "mat": "ABC"[i % 3],
            "yield": f"{80 + rng.normal():.2f}",
        }
        for col, fn in (extra or {}).items():
            row[col] = fn(i)
        for (k, col), v in (cells or {}).items():
            if k == i:
                row[col] = v
        vals = [str(row[h]) for h in header]
        if dec == ",":
            vals = [v.replace(".", ",") if h not in ("time", "mat") else v
                    for v, h in zip(vals, header, strict=True)]
        lines.append(sep.join(vals))
    return "\n".join(lines) + "\n"


def layout(time_column="time", categorical=("mat",), target="yield", stations=None, **kw):
    if stations is None:
        stations = [
            Station("Mixing", ["temp", "mat"], categorical=list(categorical)),
            Station("Drying", ["speed"]),
        ]
    return Layout(name="line", target=target, goal="maximize", stations=stations,
                  time_column=time_column, **kw)


def errors_of(exc_info) -> list[str]:
    return [str(p) for p in exc_info.value.problems]


def one(messages, *needles):
    """The single message containing all needles (fails listing everything otherwise)."""
    hits = [m for m in messages if all(n in m for n in needles)]
    assert hits, f"no message with {needles}: {messages}"
    return hits[0]


def load_prepare(tmp_path, text, lay=None, name="data.csv", **kw):
    raw = load_table(write(tmp_path, name, text))
    return prepare(raw, lay or layout(), **kw)


# --------------------------------------------------------------------------- reading


def test_semicolon_decimal_comma_bom(tmp_path):
    text = "\ufefftime;temp;speed;mat;yield\n" + "".join(
        f"2024-01-01 {h:02d}:00;{20 + h},5;1.2{h:02d},75;A;8{h % 10},25\n" for h in range(3))
    raw = load_table(write(tmp_path, "de.csv", text))
    assert (raw.sep, raw.decimal, raw.encoding) == (";", ",", "utf-8-sig")
    assert list(raw.frame.columns) == ["time", "temp", "speed", "mat", "yield"]  # no BOM
    s = {c.name: c for c in raw.summary()}
    assert s["temp"].kind == "numeric" and s["temp"].min == 20.5 and s["temp"].max == 22.5
    assert s["speed"].min == 1200.75 and s["speed"].max == 1202.75  # '.' is a thousands group
    values, bad = parse_numbers(raw.frame["yield"], raw.decimal)
    assert not bad.any() and values.tolist() == [80.25, 81.25, 82.25]


def test_decimal_comma_file_prepares_to_floats(tmp_path):
    data = load_prepare(tmp_path, table(sep=";", dec=","))
    assert data.raw.decimal == ","
    assert data.frame["temp"].dtype == np.float64
    ref = load_prepare(tmp_path, table(), name="ref.csv")
    np.testing.assert_allclose(data.frame["temp"], ref.frame["temp"])


def test_comma_csv_with_quoted_thousands(tmp_path):
    text = 'a,b\n"1,234.5",2\n"2,000.25",3\n'
    raw = load_table(write(tmp_path, "us.csv", text))
    assert (raw.sep, raw.decimal) == (",", ".")
    v, bad = parse_numbers(raw.frame["a"], raw.decimal)
    assert v.tolist() == [1234.5, 2000.25] and not bad.any()


def test_explicit_sep_and_decimal(tmp_path):
    raw = load_table(write(tmp_path, "t.txt", "a\tb\n1,5\t2\n"), sep="\t", decimal=",")
    assert parse_numbers(raw.frame["a"], raw.decimal)[0].tolist() == [1.5]


def test_cp1252_fallback_warns(tmp_path):
    p = write(tmp_path, "win.csv", "Temp °C;yield\n1;2\n", encoding="cp1252")
    raw = load_table(p)
    assert raw.encoding == "cp1252"
    assert "Temp °C" in raw.frame.columns
    assert any(p.code == "encoding" and p.severity == "warning" for p in raw.problems)


def test_metadata_and_hash(tmp_path):
    import hashlib

    p = write(tmp_path, "m.csv", "a,b\n1,2\n")
    raw = load_table(p)
    assert raw.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert raw.size_bytes == p.stat().st_size and raw.file_name == "m.csv"


@pytest.mark.parametrize(
    "name, content, needle",
    [
        ("none.csv", None, "not found"),
        ("empty.csv", "", "empty"),
        ("blank.csv", "\n  \n", "empty"),
        ("head.csv", "a;b;c\n", "no data rows"),
        ("head2.csv", "a,b\n\n,\n", "no data rows"),
        ("data.ods", "x", "unsupported file type"),
        ("old.xls", "x", ".xls"),
        ("bad.xlsx", "not a zip", "Excel"),
        ("bad.parquet", "not parquet", "Parquet"),
        ("bin.csv", "a,b\x00\x01", "binary"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path, name, content, needle):
    p = tmp_path / name
    if content is not None:
        p.write_text(content)
    with pytest.raises(RcaInputError) as e:
        load_table(p)
    msg = str(e.value)
    assert name in msg and needle in msg


def test_duplicate_columns_are_an_error(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_table(write(tmp_path, "dup.csv", "a, temp ,b,temp\n1,2,3,4\n"))
    msg = one(errors_of(e), "dup.csv", "column 'temp'", "row 1")
    assert "columns 2, 4" in msg


def test_header_names_are_stripped_and_trailing_separator_ignored(tmp_path):
    raw = load_table(write(tmp_path, "t.csv", " a ; b ;\n1;2;\n3;4;\n"))
    assert list(raw.frame.columns) == ["a", "b"]


def test_ragged_row_is_reported_with_row(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_table(write(tmp_path, "rag.csv", "a,b\n1,2\n3,4,5\n"))
    one(errors_of(e), "rag.csv", "row 3")


def test_blank_lines_keep_spreadsheet_row_numbers(tmp_path):
    raw = load_table(write(tmp_path, "b.csv", "a,b\n1,2\n\n3,4\n"))
    assert raw.source_rows.tolist() == [2, 4]


def test_historian_status_strings_are_missing(tmp_path):
    tokens = ["Bad Input", "I/O Timeout", "Shutdown", "No Data", "Bad", "Comm Fail", "#N/A",
              "NaN", "", "-", "null"]
    text = "v,w\n" + "".join(f"{t},{i}\n" for i, t in enumerate(tokens)) + "1.5,99\n"
    raw = load_table(write(tmp_path, "hist.csv", text))
    assert raw.frame["v"].isna().sum() == len(tokens)
    counts = raw.status_counts["v"]
    assert counts["Bad Input"] == 1 and "" not in counts and sum(counts.values()) == len(tokens) - 1
    warn = one([str(p) for p in raw.problems], "hist.csv", "column 'v'", "row 2")
    assert "status" in warn
    s = {c.name: c for c in raw.summary()}["v"]
    assert s.kind == "numeric" and s.missing == len(tokens) and s.non_numeric == 0


def test_status_strings_never_cause_non_numeric_errors(tmp_path):
    cells = {(3, "temp"): "Bad Input", (7, "temp"): "I/O Timeout", (9, "speed"): "#N/A"}
    data = load_prepare(tmp_path, table(cells=cells), gaps="impute")
    assert data.imputed_cells == {"temp": 2, "speed": 1}


# --------------------------------------------------------------------------- Excel, Parquet


def _xlsx(tmp_path, sheets: dict, name="plant.xlsx"):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    p = tmp_path / name
    wb.save(p)
    return p


def _rows(n=N, bad=None):
    rng = np.random.default_rng(1)
    out = [["time", "temp", "speed", "mat", "yield"]]
    for i in range(n):
        out.append([pd.Timestamp("2024-01-01") + pd.Timedelta(hours=i), 20 + i + rng.normal(),
                    100 + rng.normal(), ["A", "B"][i % 2], 80 + rng.normal()])
    for (i, j), v in (bad or {}).items():
        out[i + 1][j] = v
    return out


def test_excel_first_sheet_and_by_name_and_index(tmp_path):
    p = _xlsx(tmp_path, {"First": _rows(), "Second": [["x", "y"], [1, 2], [3, 4]]})
    raw = load_table(p)
    assert raw.sheet == "First" and raw.frame["temp"].dtype == np.float64
    assert pd.api.types.is_datetime64_any_dtype(raw.frame["time"])
    data = prepare(raw, layout())
    assert data.n_rows == N and data.frame["mat"].dtype == "category"
    by_name = load_table(p, sheet="Second")
    assert by_name.sheet == "Second" and by_name.frame["y"].tolist() == [2.0, 4.0]
    assert load_table(p, sheet=1).sheet == "Second"


def test_excel_unknown_sheet_lists_sheets(tmp_path):
    p = _xlsx(tmp_path, {"Line1": _rows(3), "Line2": _rows(3)})
    with pytest.raises(RcaInputError) as e:
        load_table(p, sheet="Line3")
    msg = str(e.value)
    assert "plant.xlsx" in msg and "'Line1'" in msg and "'Line2'" in msg
    with pytest.raises(RcaInputError, match="out of range"):
        load_table(p, sheet=5)


def test_excel_header_offset_and_bad_cell_row(tmp_path):
    rows = [["Export of line 3"], [], *_rows(bad={(4, 1): "12,5x", (9, 1): "abc"})]
    p = _xlsx(tmp_path, {"S": rows}, name="offset.xlsx")
    raw = load_table(p)
    assert raw.header_row == 3 and raw.source_rows[0] == 4
    assert any(p.code == "header_offset" for p in raw.problems)
    with pytest.raises(RcaInputError) as e:
        prepare(raw, layout())
    # data row index 4 sits 4 rows below the first data row (sheet row 4) -> row 8
    msg = one(errors_of(e), "offset.xlsx", "column 'temp'", "non-numeric")
    assert "2 non-numeric value(s), first at row 8: '12,5x', row 13: 'abc'" in msg


def test_parquet(tmp_path):
    df = pd.DataFrame({
        "time": pd.date_range("2024-01-01", periods=N, freq="h"),
        "temp": np.linspace(20, 30, N), "speed": np.random.default_rng(2).normal(size=N),
        "mat": pd.Categorical(["A", "B"] * (N // 2)), "yield": np.linspace(80, 70, N),
        "unused": ["x"] * N,
    })
    p = tmp_path / "plant.parquet"
    df.to_parquet(p)
    raw = load_table(p)
    assert raw.source_rows[0] == 2
    data = prepare(raw, layout())
    np.testing.assert_allclose(data.frame["temp"], df["temp"])
    assert list(data.frame["mat"].cat.categories) == ["A", "B"]
    one([str(p) for p in data.problems], "unused")


def test_parquet_empty_is_header_only(tmp_path):
    p = tmp_path / "e.parquet"
    pd.DataFrame({"a": pd.Series([], dtype=float)}).to_parquet(p)
    with pytest.raises(RcaInputError, match="e.parquet.*no data rows"):
        load_table(p)


# --------------------------------------------------------------------------- layout checks


def test_clean_table_prepares(tmp_path):
    data = load_prepare(tmp_path, table())
    assert isinstance(data, PlantData)
    assert list(data.frame.columns) == ["temp", "mat", "speed", "yield"]  # station order
    assert data.numeric_nodes == ["temp", "speed", "yield"]
    assert data.categorical_nodes == ["mat"]
    assert data.frame.index.tolist() == list(range(N))
    assert data.source_rows.tolist() == list(range(2, N + 2))
    assert data.time is not None and len(data.time) == N and data.time.name == "time"
    assert data.problems == [] and data.dropped_rows == {}
    text = data.summary_text()
    for needle in ("Rows: 40 used of 40 read", "Mixing", "Drying", "2024-01-01 00:00:00",
                   "mat (categorical)", "Problems:"):
        assert needle in text


def test_missing_target_and_sensor_suggest_close_names(tmp_path):
    lay = layout(target="yeild", stations=[Station("Mixing", ["tmp", "mat"],
                                                   categorical=["mat"])])
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(), lay)
    msgs = errors_of(e)
    assert "did you mean 'yield'" in one(msgs, "data.csv", "column 'yeild'", "target")
    assert "did you mean 'temp'" in one(msgs, "data.csv", "column 'tmp'", "station 'Mixing'")


def test_unused_columns_warning(tmp_path):
    data = load_prepare(tmp_path, table(extra={"operator": lambda i: "Bob", "ph": str}))
    msg = one([str(p) for p in data.problems], "data.csv", "no station", "'operator'", "'ph'")
    assert "2 column(s)" in msg
    assert "operator" not in data.frame.columns


def test_non_numeric_cells_quoted_with_rows(tmp_path):
    cells = {(15, "temp"): "\"12,5x\"", (38, "temp"): "abc", (20, "temp"): "7 °C"}
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells=cells))
    [p] = [p for p in e.value.problems if p.code == "non_numeric"]
    assert (p.file, p.column, p.row) == ("data.csv", "temp", 17)
    assert str(p) == ("data.csv, column 'temp', row 17: 3 non-numeric value(s), first at "
                      "row 17: '12,5x', row 22: '7 °C', row 40: 'abc'")


def test_decimal_comma_in_point_file_is_not_silently_read(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells={(0, "speed"): '"12,5"'}))
    one(errors_of(e), "column 'speed'", "row 2: '12,5'")


def test_other_decimal_mark_is_named(tmp_path):
    # a semicolon/decimal-comma file where one column was exported with points
    text = table(sep=";", dec=",")
    lines = text.splitlines()
    fixed = [lines[0]] + [";".join(c if k != 2 else c.replace(",", ".")
                                   for k, c in enumerate(line.split(";"))) for line in lines[1:]]
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, "\n".join(fixed) + "\n")
    msg = one(errors_of(e), "data.csv", "column 'speed'", "row 2")
    assert "decimal='.'" in msg


def test_unicode_digits_are_not_numbers(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells={(1, "temp"): "١٢"}))
    one(errors_of(e), "column 'temp'", "row 3: '١٢'")


def test_unclosed_quote_names_row(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_table(write(tmp_path, "q.csv", 'a,b\n1,2\n3,"4\n5,6\n'))
    one(errors_of(e), "q.csv", "row 3", "never closed")


def test_text_column_not_declared_categorical(tmp_path):
    # A few names (A, B, C) the layout did not declare: taken as categorical, with a note.
    data = load_prepare(tmp_path, table(), layout(categorical=()))
    assert "mat" in data.categorical_nodes
    note = next(p for p in data.problems if p.code == "categorical_inferred")
    assert note.column == "mat" and "station 'Mixing'" in note.message
    # Free text (a different note on every row) is no category: refused, with the same advice.
    lay = layout(stations=[Station("Mixing", ["temp", "mat", "note"], categorical=["mat"]),
                           Station("Drying", ["speed"])])
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(extra={"note": lambda i: f"operator remark {i}"}), lay)
    msg = one(errors_of(e), "data.csv", "column 'note'", "row 2")
    assert "categorical" in msg and "station 'Mixing'" in msg


def test_all_missing_column(tmp_path):
    cells = {(i, "speed"): "Bad Input" for i in range(N)}
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells=cells))
    msg = one(errors_of(e), "data.csv", "column 'speed'", "all 40 values are missing")
    assert "'Bad Input' ×40" in msg
    assert not any("usable row" in m for m in errors_of(e))  # no follow-on noise


def test_constant_numeric_and_categorical(tmp_path):
    cells = {(i, c): v for i in range(N) for c, v in (("speed", "5.0"), ("mat", "A"))}
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells=cells))
    msgs = errors_of(e)
    assert "every value is 5" in one(msgs, "data.csv", "column 'speed'", "constant")
    one(msgs, "data.csv", "column 'mat'", "single level")


def test_infinite_values_named_by_row(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells={(3, "speed"): "inf", (5, "speed"): "-Infinity"}))
    msg = one(errors_of(e), "data.csv", "column 'speed'", "row 5")
    assert "2 infinite value(s) at row 5, row 7" in msg


def test_too_few_rows_says_how_many(tmp_path):
    assert min_rows_needed(3) == MIN_ROWS == 30
    assert min_rows_needed(10) == 10 * MIN_ROWS_PER_SENSOR == 50
    # What decides is the analysis' floor (10 reference rows for 3 sensors, and one incident row):
    # a short reference period gets a simpler model rather than a refusal (issue #12).
    load_prepare(tmp_path, table(n=12))
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(n=8))
    msg = one(errors_of(e), "data.csv", "only 8 usable row(s)")
    assert "at least 11 rows to estimate anything" in msg
    assert "at least 30 rows" in msg


def test_too_few_rows_after_gaps_suggests_impute(tmp_path):
    cells = {(i, "speed"): "" for i in range(N) if i % 4}
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells=cells))
    assert "gaps='impute'" in one(errors_of(e), "usable row", "'speed' alone misses 30")
    assert load_prepare(tmp_path, table(cells=cells), gaps="impute").n_rows == N


def test_many_levels_warning(tmp_path):
    extra = {"lot": lambda i: f"L{i}"}
    lay = layout(stations=[Station("Mixing", ["temp", "lot"], categorical=["lot"]),
                           Station("Drying", ["speed", "mat"], categorical=["mat"])])
    data = load_prepare(tmp_path, table(extra=extra), lay)
    one([str(p) for p in data.problems], "column 'lot'", "40 levels")


def test_all_errors_reported_at_once(tmp_path):
    cells = {(4, "temp"): "x1", (6, "time"): "yesterday"}
    lay = layout(stations=[Station("Mixing", ["temp", "mat", "note", "ghost"], categorical=["mat"]),
                           Station("Drying", ["speed"])])
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells=cells, extra={"note": lambda i: f"remark {i}"}), lay, gaps="fill")
    codes = {p.code for p in e.value.problems}
    assert {"gap_policy", "missing_column", "non_numeric", "text_column", "bad_time"} <= codes


# --------------------------------------------------------------------------- categorical


def test_categorical_text_and_integers(tmp_path):
    extra = {"shift": lambda i: str([1, 2, 10][i % 3])}
    lay = layout(stations=[Station("Mixing", ["temp", "mat", "shift"], categorical=["mat", "shift"]),
                           Station("Drying", ["speed"])])
    data = load_prepare(tmp_path, table(extra=extra), lay)
    for col, cats in (("mat", ["A", "B", "C"]), ("shift", ["1", "2", "10"])):
        assert isinstance(data.frame[col].dtype, pd.CategoricalDtype)
        assert list(data.frame[col].cat.categories) == cats
        assert all(isinstance(c, str) for c in data.frame[col].cat.categories)
    assert data.frame["shift"].iloc[:3].tolist() == ["1", "2", "10"]
    assert "shift" in data.categorical_nodes and "shift" not in data.numeric_nodes


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize(
    "fmt, dayfirst",
    [
        ("%Y-%m-%d %H:%M", None),
        ("%Y-%m-%dT%H:%M:%S", None),
        ("%d.%m.%Y %H:%M", None),       # dotted: always day-first
        ("%d/%m/%Y %H:%M", None),       # decided by one cell with day 13 (added below)
        ("%m/%d/%Y %H:%M", False),
        ("%d/%m/%Y %H:%M", True),
    ],
)
def test_time_formats(tmp_path, fmt, dayfirst):
    text = table(time_fmt=fmt)
    if fmt.startswith("%d/") and dayfirst is None:
        # give the column one unambiguous day-first cell: 13/01/2024
        text = text.replace("01/01/2024 00:00", "13/01/2023 00:00", 1)
    data = load_prepare(tmp_path, text, dayfirst=dayfirst)
    assert data.time.iloc[-1] == pd.Timestamp("2024-01-02 15:00")
    assert data.time.is_monotonic_increasing


def test_month_first_decided_by_unambiguous_cell(tmp_path):
    text = table(time_fmt="%m/%d/%Y %H:%M").replace("01/01/2024 00:00", "12/31/2023 23:00", 1)
    data = load_prepare(tmp_path, text)
    assert data.dayfirst is False
    assert data.time.iloc[0] == pd.Timestamp("2023-12-31 23:00")
    assert data.time.iloc[-1] == pd.Timestamp("2024-01-02 15:00")


def test_ambiguous_dates_ask_for_dayfirst(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(time_fmt="%d/%m/%Y %H:%M"))
    msg = one(errors_of(e), "data.csv", "column 'time'", "row 2")
    assert "--dayfirst" in msg and "--monthfirst" in msg


def test_conflicting_date_orders(tmp_path):
    text = table(time_fmt="%d/%m/%Y %H:%M").replace("01/01/2024 00:00", "13/01/2024 00:00", 1)
    text = text.replace("01/01/2024 05:00", "01/13/2024 05:00", 1)
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, text)
    one(errors_of(e), "data.csv", "column 'time'", "row 2", "row 7")


def test_unparseable_timestamps_name_rows(tmp_path):
    cells = {(2, "time"): "31.02.2024 10:00", (5, "time"): "soon"}
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells=cells))
    msg = one(errors_of(e), "data.csv", "column 'time'", "row 4")
    assert "2 timestamp(s)" in msg and "row 4: '31.02.2024 10:00', row 7: 'soon'" in msg


def test_time_zones_converted_to_utc(tmp_path):
    text = table(time_fmt="%Y-%m-%dT%H:%M:%S+01:00")
    data = load_prepare(tmp_path, text)
    assert str(data.time.dt.tz) == "UTC"
    assert data.time.iloc[0] == pd.Timestamp("2023-12-31 23:00", tz="UTC")
    one([str(p) for p in data.problems], "UTC")
    s = rows_for_window(data, "2024-01-01 00:00", "2024-01-01 02:00")   # naive read as UTC
    assert (s.start, s.stop) == (1, 3)


def test_mixed_zone_and_naive_is_an_error(tmp_path):
    text = table(time_fmt="%Y-%m-%d %H:%M").replace("2024-01-01 03:00", "2024-01-01 03:00Z")
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, text)
    one(errors_of(e), "column 'time'", "row 2", "time zone")


def test_sorting_and_duplicate_timestamps(tmp_path):
    lines = table().splitlines()
    header, body = lines[0], lines[1:]
    body[5], body[6] = body[6], body[5]          # rows 7 and 8 swapped
    body[20] = body[19].split(",")[0] + "," + body[20].split(",", 1)[1]  # row 22 repeats row 21
    data = load_prepare(tmp_path, "\n".join([header] + body) + "\n")
    assert data.time.is_monotonic_increasing
    assert data.source_rows[5:7].tolist() == [8, 7]
    msgs = [str(p) for p in data.problems]
    one(msgs, "not in time order", "row 8")
    assert "1 row(s) repeat an earlier timestamp" in one(msgs, "column 'time'", "row 22")
    # stable: the two rows with the same time keep file order
    assert data.source_rows[19:21].tolist() == [21, 22]


def test_no_time_column_keeps_order(tmp_path):
    data = load_prepare(tmp_path, table(time=False), layout(time_column=None))
    assert data.time is None and data.source_rows.tolist() == list(range(2, N + 2))
    assert "no time column" in data.summary_text()


def test_empty_time_column(tmp_path):
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(cells={(i, "time"): "" for i in range(N)}))
    one(errors_of(e), "data.csv", "column 'time'", "time column is empty")


def test_excel_integer_categories(tmp_path):
    rows = _rows()
    rows[0].append("shift")
    for i, r in enumerate(rows[1:]):
        r.append([1, 2, 3][i % 3])
    raw = load_table(_xlsx(tmp_path, {"S": rows}))
    lay = layout(stations=[Station("Mixing", ["temp", "mat", "shift"], categorical=["mat", "shift"]),
                           Station("Drying", ["speed"])])
    data = prepare(raw, lay)
    assert list(data.frame["shift"].cat.categories) == ["1", "2", "3"]


def test_missing_timestamps_dropped_with_warning(tmp_path):
    data = load_prepare(tmp_path, table(n=N + 2, cells={(3, "time"): ""}))
    assert data.dropped_rows == {"missing_time": 1}
    one([str(p) for p in data.problems], "no timestamp", "row 5")


# --------------------------------------------------------------------------- gaps


def test_gap_policies_drop_vs_impute(tmp_path):
    cells = {(3, "temp"): "", (4, "temp"): "", (10, "speed"): "No Data", (12, "mat"): "",
             (20, "yield"): "", (0, "temp"): ""}
    text = table(cells=cells)
    dropped = load_prepare(tmp_path, text, gaps="drop")
    assert dropped.dropped_rows == {"missing_target": 1, "missing_sensor": 5}
    assert dropped.n_rows == N - 6 and dropped.imputed_cells == {}
    assert 22 not in dropped.source_rows and 5 not in dropped.source_rows
    one([str(p) for p in dropped.problems], "gaps='drop'", "'temp': 3")

    imputed = load_prepare(tmp_path, text, gaps="impute")
    assert imputed.dropped_rows == {"missing_target": 1}
    assert imputed.imputed_cells == {"temp": 3, "mat": 1, "speed": 1}
    assert imputed.n_rows == N - 1
    raw_temp = pd.to_numeric(pd.read_csv(write(tmp_path, "x.csv", text))["temp"])
    f = imputed.frame
    # rows 3, 4 (0-based) interpolated linearly between rows 2 and 5 (hourly, equal spacing)
    np.testing.assert_allclose(f["temp"].iloc[3], raw_temp[2] + (raw_temp[5] - raw_temp[2]) / 3)
    assert f["temp"].iloc[0] == raw_temp[1]          # edge: nearest value
    assert f["mat"].iloc[12] == "C"                  # previous level carried forward
    assert not f.isna().any().any()
    assert imputed.missing_counts["temp"] == 3


def test_impute_follows_time_spacing(tmp_path):
    text = "time,temp,speed,mat,yield\n" + "".join(
        f"2024-01-01 {h:02d}:00,{'' if h == 1 else h * 10},{h % 7},{'AB'[h % 2]},{h % 5}\n"
        for h in [0, 1, 3] + list(range(4, 40)) if h < 24) + "".join(
        f"2024-01-02 {h:02d}:00,{100 + h},{h % 7},{'AB'[h % 2]},{h % 5}\n" for h in range(20))
    data = load_prepare(tmp_path, text, gaps="impute")
    # the gap at 01:00 sits between 00:00 (0) and 03:00 (30): one third of the way
    assert data.frame["temp"].iloc[1] == pytest.approx(10.0)


def test_unknown_gap_policy(tmp_path):
    with pytest.raises(RcaInputError, match="unknown gap policy 'zero'"):
        load_prepare(tmp_path, table(), gaps="zero")


# --------------------------------------------------------------------------- windows


def test_rows_for_window_time(tmp_path):
    data = load_prepare(tmp_path, table())
    s = rows_for_window(data, "2024-01-01 02:00", "2024-01-01 05:00")
    assert (s.start, s.stop) == (2, 5)           # inclusive start, exclusive end
    assert rows_for_window(data, "01.01.2024 10:00", None) == slice(10, N)
    assert rows_for_window(data, pd.Timestamp("2024-01-01"), "2024-01-01 01:00") == slice(0, 1)
    with pytest.raises(RcaInputError, match="holds no rows"):
        rows_for_window(data, "2025-01-01", "2025-02-01")
    with pytest.raises(RcaInputError, match="'tomorrow'"):
        rows_for_window(data, "tomorrow", None)
    with pytest.raises(RcaInputError, match="start must be before end"):
        rows_for_window(data, "2024-01-01 05:00", "2024-01-01 02:00")
    with pytest.raises(RcaInputError, match="day-first or month-first"):
        rows_for_window(data, "03/01/2024", None)


def test_rows_for_window_positions(tmp_path):
    data = load_prepare(tmp_path, table(time=False), layout(time_column=None))
    assert rows_for_window(data, 0, 10) == slice(0, 10)
    assert rows_for_window(data, "5", None) == slice(5, N)
    with pytest.raises(RcaInputError, match="out of range.*40 rows"):
        rows_for_window(data, 10, 41)
    with pytest.raises(RcaInputError, match="empty"):
        rows_for_window(data, 10, 10)
    with pytest.raises(RcaInputError, match="row position"):
        rows_for_window(data, "2024-01-01", None)


# --------------------------------------------------------------------------- summary


def test_raw_summary_kinds(tmp_path):
    text = table(extra={"note": lambda i: f"free text {i}", "empty": lambda i: ""})
    raw = load_table(write(tmp_path, "s.csv", text))
    kinds = {c.name: c.kind for c in raw.summary()}
    assert kinds == {"time": "time", "temp": "numeric", "speed": "numeric", "mat": "categorical",
                     "yield": "numeric", "note": "text", "empty": "empty"}
    d = raw.summary()[1].to_dict()
    assert set(d) >= {"name", "kind", "missing", "missing_pct", "min", "max", "n_unique"}


# --------------------------------------------------------------------------- properties

_settings = settings(max_examples=200, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow])


def _try(path, lay_for):
    """load_table + prepare may refuse the input, but only with RcaInputError."""
    try:
        raw = load_table(path)
        raw.summary()
    except RcaInputError:
        return
    cols = list(raw.frame.columns)
    for lay in lay_for(cols):
        for gaps in ("drop", "impute"):
            try:
                data = prepare(raw, lay, gaps=gaps)
            except RcaInputError:
                continue
            data.summary_text()
            assert len(data.source_rows) == len(data.frame)
            try:
                rows_for_window(data, None, None)
            except RcaInputError:
                pass


def _layouts(cols):
    if not cols:
        return []
    target, rest = cols[-1], cols[:-1]
    out = [Layout("p", target, "maximize", [Station("S", rest or ["missing"])])]
    if len(rest) >= 2:
        out.append(Layout("p", target, "maximize",
                          [Station("S1", rest[1:2], categorical=rest[1:2]),
                           Station("S2", rest[2:] or rest[:1])], time_column=rest[0]))
    return out


@_settings
@given(st.text(max_size=300))
def test_property_arbitrary_text(tmp_path, text):
    p = tmp_path / "any.csv"
    p.write_bytes(text.encode("utf-8"))
    _try(p, _layouts)


_junk = st.sampled_from(["", "Bad Input", "abc", "1,5", "1.234,5", "-", "inf", "#N/A", "  ",
                         '"', "12,5x", "2024-01-01", "01/02/2024 10:00", "13.01.2024", "NaN",
                         "1e999", "Z", ";", "\u00a0", "+", "0x1F"])
_number = st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:g}")


@st.composite
def _csv(draw):
    """Mostly well-formed plant tables with a few random junk cells, so that some inputs get
    all the way through prepare() and others trip one or more checks."""
    ncol = draw(st.integers(1, 5))
    nrow = draw(st.integers(0, 45))
    sep = draw(st.sampled_from([",", ";"]))
    pool = ["t", "a", "b", "c", "y", " y", ""]
    names = draw(st.lists(st.sampled_from(pool), min_size=ncol, max_size=ncol,
                          unique=draw(st.integers(0, 4)) > 0))
    junk_rate = draw(st.sampled_from([0, 0, 0.02, 0.1, 0.5]))
    with_time = draw(st.booleans())
    kinds = [draw(st.sampled_from(["num", "num", "int", "cat"])) for _ in range(ncol)]
    lines = [sep.join(names)]
    for i in range(nrow):
        cells = []
        for kind in kinds:
            if draw(st.floats(0, 1)) < junk_rate:
                cells.append(draw(_junk))
            elif kind == "num":
                cells.append(draw(_number).replace(".", "," if sep == ";" else "."))
            elif kind == "int":
                cells.append(str(draw(st.integers(-3, 3))))
            else:
                cells.append(draw(st.sampled_from(["A", "B", "C"])))
        if with_time:
            cells[0] = draw(st.sampled_from([
                f"2024-01-{1 + i % 28:02d} 10:00", f"{1 + i % 28:02d}.01.2024 10:00",
                f"01/{1 + i % 28:02d}/2024", f"2024-01-01T{i % 24:02d}:00+02:00", "", "x"]))
        lines.append(sep.join(cells))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@_settings
@given(_csv())
def test_property_structured_csv(tmp_path, text):
    p = tmp_path / "junk.csv"
    p.write_text(text, encoding="utf-8")
    _try(p, _layouts)


# --------------------------------------------------------------------------- a real export

_SAMPLE = __import__("tests.paths").paths.ROOT / "sample_plants" / "injection_moulding"


@pytest.mark.skipif(not (_SAMPLE / "data.csv").exists(), reason="sample plant not present")
def test_german_excel_style_export_matches_clean_file(tmp_path):
    """The same plant data saved the way a German Excel saves CSV reads to the same table."""
    from rca_app.core.layout import load_layout

    lay = load_layout(_SAMPLE / "layout.toml")
    clean = prepare(load_table(_SAMPLE / "data.csv"), lay)
    df = pd.read_csv(_SAMPLE / "data.csv")
    tcol = lay.time_column
    df[tcol] = pd.to_datetime(df[tcol]).dt.strftime("%d.%m.%Y %H:%M")
    p = tmp_path / "export.csv"
    df.to_csv(p, sep=";", decimal=",", index=False, encoding="utf-8-sig")
    german = prepare(load_table(p), lay)
    assert german.raw.decimal == "," and german.raw.sep == ";"
    pd.testing.assert_frame_equal(german.frame, clean.frame, check_exact=False, rtol=1e-12)
    assert (german.time.dt.floor("min") == clean.time.dt.floor("min")).all()


def test_impute_cannot_fill_a_column_without_values(tmp_path):
    # speed only has values in rows whose target is missing
    cells = {(i, "speed"): "" for i in range(N + 2)}
    cells.update({(i, "speed"): "5" for i in (1, 2)})
    cells.update({(i, "yield"): "" for i in (1, 2)})
    with pytest.raises(RcaInputError) as e:
        load_prepare(tmp_path, table(n=N + 2, cells=cells), gaps="impute")
    one(errors_of(e), "data.csv", "column 'speed'", "no value is left")

"""The bad-input matrix: every kind of broken data file, layout, window, option and output path
ends in exit code 2 with a message naming the file (and column and row where there is one),
never a traceback, and within a bound. Every file is generated here from a sample plant."""
from __future__ import annotations

import json
import time
import zipfile
from dataclasses import dataclass

import pytest

from rca_app import cli
from rca_app.resources import sample_plants_dir

PLANT = sample_plants_dir() / "chemical_reactor"
DATA = (PLANT / "data.csv").read_text(encoding="utf-8")
LAYOUT = (PLANT / "layout.toml").read_text(encoding="utf-8")
HEADER = DATA.splitlines()[0].split(",")
SENSOR = "reactor_temp_C"
TARGET = "yield_pct"
# Generous: these are refusals, they should take a second; the bound catches hangs.
BOUND_S = 60


@dataclass
class Case:
    id: str
    files: dict[str, bytes | str]          # written into the test's folder
    args: list[str]                        # {tmp} is the folder
    names: tuple[str, ...]                 # words the message must contain (file, column, "row N")


def _replace_cell(row: int, column: str, value: str) -> str:
    """The sample data with one cell replaced; ``row`` as a spreadsheet shows it (header = 1)."""
    lines = DATA.splitlines()
    cells = lines[row - 1].split(",")
    cells[HEADER.index(column)] = value
    lines[row - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


def _drop_column(column: str) -> str:
    i = HEADER.index(column)
    return "\n".join(",".join(c for k, c in enumerate(ln.split(",")) if k != i) for ln in DATA.splitlines()) + "\n"


def _set_column(column: str, value: str) -> str:
    i = HEADER.index(column)
    out = [DATA.splitlines()[0]]
    for ln in DATA.splitlines()[1:]:
        cells = ln.split(",")
        cells[i] = value
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def _zip_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


V = ["validate", "{tmp}/d.csv", "--layout", "{tmp}/l.toml"]
A = ["analyze", "{tmp}/d.csv", "--layout", "{tmp}/l.toml", "--graph-bootstrap", "0", "--rank-bootstrap", "0", "--quiet"]
TENTH_TIME = DATA.splitlines()[10].split(",")[0]


def _layout_with(old: str, new: str) -> str:
    assert old in LAYOUT, old
    return LAYOUT.replace(old, new, 1)


def cases() -> list[Case]:
    ok = {"d.csv": DATA, "l.toml": LAYOUT}
    c: list[Case] = []

    def data(id, text, names, args=V, name="d.csv"):
        files = dict(ok)
        files.pop("d.csv")
        files[name] = text
        c.append(Case(id, files, [a.replace("d.csv", name) for a in args], (name, *names)))

    def layout(id, text, names, args=V):
        c.append(Case(id, {**ok, "l.toml": text}, args, ("l.toml", *names)))

    def option(id, extra, names, args=A, files=None):
        c.append(Case(id, {**ok, **(files or {})}, [*args, *extra], names))

    # --- data files -------------------------------------------------------------------------
    data("text_in_sensor", _replace_cell(6, SENSOR, "12.5x"), (SENSOR, "row 6"))
    data("text_in_kpi", _replace_cell(9, TARGET, "good"), (TARGET, "row 9"))
    data("two_decimal_points", _replace_cell(12, SENSOR, "1.2.3"), (SENSOR, "row 12"))
    data("empty_file", "", ("empty",))
    data("blank_lines_only", "\n \n\n", ("empty",))
    data("header_only", DATA.splitlines()[0] + "\n", ("no data rows",))
    data("duplicate_column", DATA.replace(SENSOR, TARGET, 1), (TARGET,))
    data("missing_sensor_column", _drop_column(SENSOR), (SENSOR,))
    data("missing_kpi_column", _drop_column(TARGET), (TARGET,))
    data("missing_time_column", _drop_column(HEADER[0]), (HEADER[0],))
    data("bad_timestamp", _replace_cell(7, HEADER[0], "yesterday"), (HEADER[0], "row 7"))
    data("nul_bytes", b"a,b\x00\x01\x02", ("binary",))
    data("random_bytes", bytes((i * 97 + 13) % 255 + 1 for i in range(4000)), ("not a text table",))
    data("zip_named_csv", _zip_bytes(), ("zip",))
    data("old_xls", "x", (".xls",), name="d.xls")
    data("ods", "x", ("unsupported file type",), name="d.ods")
    data("no_extension", DATA, ("unsupported file type",), name="data")
    data("not_a_workbook", _zip_bytes(), ("Excel",), name="d.xlsx")
    data("text_named_xlsx_without_separator", "just words", ("Excel",), name="d.xlsx")
    data("corrupt_parquet", b"PAR1garbagePAR1", ("Parquet",), name="d.parquet")
    data("huge_sensor_value", _replace_cell(15, SENSOR, "1e307"), (SENSOR, "row 15", "too large"))
    data("huge_kpi_value", _replace_cell(16, TARGET, "-9.9e307"), (TARGET, "row 16", "too large"))
    data("constant_kpi", _set_column(TARGET, "90"), (TARGET, "constant"))
    data("constant_sensor", _set_column(SENSOR, "150"), (SENSOR, "constant"))
    data("too_few_rows", "\n".join(DATA.splitlines()[:12]) + "\n", ("rows",))
    data("sensor_all_missing", _set_column(SENSOR, ""), (SENSOR,))
    data("sensor_all_bad_input", _set_column(SENSOR, "Bad Input"), (SENSOR,))
    data("kpi_all_shutdown", _set_column(TARGET, "Shutdown"), (TARGET,))
    data("semicolon_file_wrong_sep_option", DATA.replace(",", ";"), (SENSOR,), args=[*V, "--sep", ","])
    data("sheet_for_csv", DATA, ("not an Excel workbook",), args=[*V, "--sheet", "Data"])
    data("bad_decimal_option", DATA, ("decimal mark",), args=[*V, "--decimal", "x"])
    data("bad_separator_option", DATA, ("separator",), args=[*V, "--sep", "ab"])
    c.append(Case("missing_data_file", ok, ["validate", "{tmp}/no_such.csv", "--layout", "{tmp}/l.toml"],
                  ("no_such.csv", "not found")))
    c.append(Case("data_is_a_folder", ok, ["validate", "{tmp}", "--layout", "{tmp}/l.toml"], ("folder",)))

    # --- layouts ----------------------------------------------------------------------------
    layout("misspelt_key", LAYOUT.replace("sensors", "sensros", 1), ("sensors",))
    layout("toml_syntax", LAYOUT + "\n[[station]\nname = 'x'\n", ("TOML",))
    layout("unknown_section", LAYOUT + "\n[extras]\nx = 1\n", ("extras",))
    layout("sensor_in_two_stations", LAYOUT.replace("sensors = [", f'sensors = ["{SENSOR}", ', 1), (SENSOR,))
    layout("goal_invalid", LAYOUT.replace('target = "', 'goal = "sideways"\ntarget = "', 1)
           if "goal" not in LAYOUT else LAYOUT.replace('goal = "maximize"', 'goal = "sideways"'), ("goal",))
    layout("target_missing_in_data", LAYOUT.replace(f'target = "{TARGET}"', 'target = "no_kpi"'), ("no_kpi",))
    layout("no_target", LAYOUT.replace(f'target = "{TARGET}"', ""), ("target",))
    layout("no_stations", LAYOUT.split("[[station]]")[0], ("station",))
    layout("forbidden_unknown_sensor", LAYOUT + '\n[knowledge]\nforbidden = [["nope", "yield_pct"]]\n', ("nope",))
    layout("required_backwards", LAYOUT + f'\n[knowledge]\nrequired = [["{TARGET}", "{HEADER[1]}"]]\n', (TARGET,))
    layout("unknown_unit_sensor", _layout_with("[units]", '[units]\nghost = "bar"'), ("ghost",))
    layout("empty_layout", "", ("plant",))
    layout("binary_layout", "\x00\x01\x02", ("l.toml",))
    c.append(Case("missing_layout", ok, ["validate", "{tmp}/d.csv", "--layout", "{tmp}/nope.toml"],
                  ("nope.toml", "cannot read")))
    only_kpi = f"[plant]\nname = 'x'\ntarget = '{TARGET}'\n[[station]]\nname = 'end'\nsensors = ['{TARGET}']\n"
    layout("only_the_kpi", only_kpi, ("no sensors",))

    # --- windows ----------------------------------------------------------------------------
    option("anomaly_not_a_window", ["--anomaly", "soon"], ("START/END",))
    option("anomaly_reversed", ["--anomaly", "2026-03-20..2026-03-10"], ("d.csv",))
    option("anomaly_outside_data", ["--anomaly", "1990-01-01..1990-01-02"], ("d.csv",))
    option("anomaly_from_first_row", ["--anomaly", f"..{TENTH_TIME}"], ("no reference period",))
    option("reference_overlaps", ["--anomaly", "2026-03-20..", "--reference", "..2026-03-25"], ("overlap",))
    option("unparseable_window_time", ["--anomaly", "next tuesday..later"], ("d.csv",))

    # --- options and outputs ----------------------------------------------------------------
    option("folds_one", ["--anomaly", "auto", "--folds", "1"], ("--folds",))
    option("seed_negative", ["--anomaly", "auto", "--seed", "-1"], ("--seed",))
    option("too_many_refits", ["--anomaly", "auto", "--rank-bootstrap", "5000"], ("--rank-bootstrap",))
    option("json_onto_data", ["--anomaly", "auto", "--json", "{tmp}/d.csv"], ("would overwrite", "d.csv"))
    option("report_onto_layout", ["--anomaly", "auto", "--report", "{tmp}/l.toml"], ("would overwrite", "l.toml"))
    option("report_onto_folder", ["--anomaly", "auto", "--report", "{tmp}"], ("--report", "folder"))
    option("json_under_a_file", ["--anomaly", "auto", "--json", "{tmp}/d.csv/out.json"], ("--json", "file"))
    option("export_dir_is_a_file", ["--anomaly", "auto", "--export-dir", "{tmp}/l.toml"], ("--export-dir",))
    option("notes_missing", ["--anomaly", "auto", "--notes", "{tmp}/notes.json"], ("notes.json",))
    option("notes_bad_json", ["--anomaly", "auto", "--notes", "{tmp}/notes.json"], ("notes.json",),
           files={"notes.json": "{ not json"})
    option("batch_toml_syntax", [], ("inc.toml",), args=["batch", "{tmp}/inc.toml"],
           files={"inc.toml": "[[incident]\n"})
    option("batch_missing_keys", [], ("inc.toml", "'data' is missing"), args=["batch", "{tmp}/inc.toml"],
           files={"inc.toml": '[[incident]]\nname = "a"\nlayout = "l.toml"\nanomaly = "auto"\n'})
    return c


CASES = cases()


def test_the_matrix_is_wide():
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_naming_where(case, tmp_path, capsys):
    for name, content in case.files.items():
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
    t = time.perf_counter()
    try:
        code = cli.main(args)
    except SystemExit as e:          # argparse's own refusals (exit 2 with usage)
        code = e.code
    elapsed = time.perf_counter() - t
    err = capsys.readouterr().err
    assert code == 2, err[-2000:]
    assert "Traceback" not in err
    for word in case.names:
        assert word in err, f"{word!r} not in: {err[-1500:]}"
    assert elapsed < BOUND_S


def test_matrix_inputs_are_not_modified(tmp_path):
    """Refused runs leave the user's files exactly as they were."""
    (tmp_path / "d.csv").write_text(DATA, encoding="utf-8")
    (tmp_path / "l.toml").write_text(LAYOUT, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for extra in (["--json", str(tmp_path / "d.csv")], ["--report", str(tmp_path / "l.toml")]):
        assert cli.main(["analyze", str(tmp_path / "d.csv"), "--layout", str(tmp_path / "l.toml"),
                         "--anomaly", "auto", *extra]) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    json.dumps(before, default=str)   # nothing else was written next to them

"""The CLI contract: exit codes, messages naming file/column/row, JSON output, no tracebacks."""
import json
import subprocess
import sys

import pytest

from rca_app.app.window_text import split_window
from rca_app.cli import main
from rca_app.resources import sample_plants_dir

PLANT = sample_plants_dir() / "chemical_reactor"


def _run(*args):
    return subprocess.run([sys.executable, "-m", "rca_app", *args], capture_output=True, text=True)


def test_split_window_forms():
    assert split_window("2026-03-01T00:00/2026-03-02T00:00") == ("2026-03-01T00:00", "2026-03-02T00:00")
    assert split_window("100/200") == ("100", "200")
    assert split_window("03/01/2026 10:00/03/02/2026 10:00") == ("03/01/2026 10:00", "03/02/2026 10:00")
    assert split_window("2026-03-05..") == ("2026-03-05", None)
    with pytest.raises(ValueError):
        split_window("nothing")


def test_validate_sample_plant_exits_0(capsys):
    code = main(["validate", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml")])
    out = capsys.readouterr().out
    assert code == 0
    assert "rows" in out.lower() and "Reactor" in out


def test_bad_data_exits_2_naming_column_and_row(tmp_path, capsys):
    text = (PLANT / "data.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    col = header.index("reactor_temp_C")
    cells = text[5].split(",")
    cells[col] = "12.5x"
    text[5] = ",".join(cells)   # file row 6
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    code = main(["validate", str(bad), "--layout", str(PLANT / "layout.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.csv" in err and "reactor_temp_C" in err and "row 6" in err
    assert "Traceback" not in err


def test_bad_layout_exits_2(tmp_path, capsys):
    lay = tmp_path / "layout.toml"
    text = (PLANT / "layout.toml").read_text(encoding="utf-8")
    lay.write_text(text.replace("sensors", "sensros", 1), encoding="utf-8")
    code = main(["validate", str(PLANT / "data.csv"), "--layout", str(lay)])
    err = capsys.readouterr().err
    assert code == 2 and "layout.toml" in err and "sensors" in err


def test_missing_file_exits_2(capsys):
    code = main(["validate", "no_such_file.csv", "--layout", str(PLANT / "layout.toml")])
    assert code == 2
    assert "no_such_file.csv" in capsys.readouterr().err


def test_analyze_writes_json_and_names_true_cause(tmp_path):
    truth = json.loads((PLANT / "truth.json").read_text(encoding="utf-8"))
    out = tmp_path / "r.json"
    an = f"{truth['anomaly']['start']}/{truth['anomaly']['end']}"
    r = _run("analyze", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml"), "--anomaly", an,
             "--json", str(out), "--graph-bootstrap", "3", "--rank-bootstrap", "4", "--quiet")
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["root_causes"][0]["node"] in truth["root_causes"]
    assert d["root_causes"][0]["node"] in r.stdout
    assert "--anomaly" in d["settings"]["command"]


def test_analyze_auto_window_prints_the_window(tmp_path):
    r = _run("analyze", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml"), "--anomaly", "auto",
             "--graph-bootstrap", "2", "--rank-bootstrap", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "Incident window used (auto):" in r.stdout


def test_analyze_empty_window_exits_2():
    r = _run("analyze", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml"),
             "--anomaly", "2030-01-01/2030-01-02", "--quiet")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "2030-01-01" in r.stderr


def test_no_display_falls_back_to_headless_demo(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "-m", "rca_app"], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert "no display" in r.stderr.lower() or "not built" in r.stderr.lower()
    assert "Results written to" in r.stdout

"""Bad options and unsafe output paths are refused before the analysis starts (exit 2), inputs
are never overwritten, and an internal error is reported even when it cannot be logged."""
from __future__ import annotations

import pytest

import rca_app.core.analysis
from rca_app import cli
from rca_app.app import userdirs
from rca_app.app.output_paths import Output, check_outputs
from rca_app.app.system_libraries import install_command, missing_libraries
from rca_app.resources import sample_plants_dir

PLANT = sample_plants_dir() / "chemical_reactor"


@pytest.fixture
def inputs(tmp_path):
    """Copies of a sample plant's files (a test that overwrote them must not damage the repo)."""
    data, layout = tmp_path / "v.csv", tmp_path / "layout.toml"
    data.write_bytes((PLANT / "data.csv").read_bytes())
    layout.write_bytes((PLANT / "layout.toml").read_bytes())
    return data, layout


@pytest.fixture
def no_analysis(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the analysis started although an option was bad")
    monkeypatch.setattr(rca_app.core.analysis, "run_analysis", refuse)


def _analyze(data, layout, *extra):
    return cli.main(["analyze", str(data), "--layout", str(layout), "--anomaly", "600/700", "--quiet", *extra])


@pytest.mark.parametrize("option, value, words", [
    ("--folds", "0", "--folds must be between 2 and 20"),
    ("--folds", "1", "--folds must be between 2 and 20"),
    ("--seed", "-5", "--seed must be between 0"),
    ("--rank-bootstrap", "-1", "--rank-bootstrap must be between 0 and 1000"),
    ("--graph-bootstrap", "1000000000000", "--graph-bootstrap must be between 0 and 1000"),
    ("--folds", "five", "--folds must be a whole number"),
])
def test_bad_counts_exit_2_before_analysis(inputs, no_analysis, capsys, option, value, words):
    with pytest.raises(SystemExit) as e:
        _analyze(*inputs, option, value)
    err = capsys.readouterr().err
    assert e.value.code == 2 and words in err and "Traceback" not in err


def test_json_under_a_file_exits_2_before_analysis(inputs, no_analysis, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    code = _analyze(*inputs, "--json", str(tmp_path / "afile" / "out.json"))
    err = capsys.readouterr().err
    assert code == 2 and "afile" in err and "is a file, not a folder" in err


@pytest.mark.parametrize("option", ["--json", "--report"])
def test_outputs_onto_inputs_are_refused_and_inputs_untouched(inputs, no_analysis, capsys, option):
    data, layout = inputs
    before = data.read_bytes(), layout.read_bytes()
    target = data if option == "--json" else layout
    code = _analyze(data, layout, option, str(target))
    err = capsys.readouterr().err
    assert code == 2 and "would overwrite the input file" in err and target.name in err
    assert (data.read_bytes(), layout.read_bytes()) == before


def test_report_onto_a_folder_refused_before_json_is_written(inputs, no_analysis, tmp_path, capsys):
    out = tmp_path / "result.json"
    code = _analyze(*inputs, "--json", str(out), "--report", str(tmp_path))
    err = capsys.readouterr().err
    assert code == 2 and "--report" in err and "this is a folder" in err
    assert not out.exists()


def test_two_outputs_on_one_file_refused(tmp_path):
    same = tmp_path / "x.pdf"
    problems = check_outputs([Output("--json", same), Output("--report", same)], [])
    assert len(problems) == 1 and "the same file as --json" in problems[0].message


def test_export_folder_holding_an_input_name_refused(tmp_path):
    data = tmp_path / "ranking.csv"
    data.write_text("a,b\n")
    problems = check_outputs([Output("--export-dir", tmp_path, True, ("ranking.csv", "result.json"))], [data])
    assert problems and "would overwrite the input file" in problems[0].message


def test_internal_error_reported_even_when_the_log_cannot_be_written(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setattr(userdirs, "user_data_dir", lambda: blocker / "rca_app")

    def boom(args):
        raise RuntimeError("the original problem")
    monkeypatch.setattr(cli, "cmd_validate", boom)
    code = cli.main(["validate", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml")])
    err = capsys.readouterr().err
    assert code == 1
    assert "RuntimeError: the original problem" in err and "could not be written to a log" in err
    assert "Traceback" not in err


def test_internal_error_logged_in_the_users_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(userdirs, "user_data_dir", lambda: tmp_path / "data" / "rca_app")

    def boom(args):
        raise RuntimeError("logged problem")
    monkeypatch.setattr(cli, "cmd_validate", boom)
    assert cli.main(["validate", "x.csv", "--layout", "y.toml"]) == 1
    log = tmp_path / "data" / "rca_app" / "logs" / "rca_app_error.log"
    assert str(log) in capsys.readouterr().err
    assert "logged problem" in log.read_text(encoding="utf-8")
    assert (log.parent.stat().st_mode & 0o077) == 0      # private to this user


def test_missing_qt_libraries_named_with_one_install_command(tmp_path):
    fake_ldd = tmp_path / "ldd"
    fake_ldd.write_text("#!/bin/sh\ncat <<'X'\n\tlibQt6Gui.so.6 => /x/libQt6Gui.so.6 (0x1)\n"
                        "\tlibxcb-icccm.so.4 => not found\n\tlibxcb-keysyms.so.1 => not found\n"
                        "\tlibxcb-icccm.so.4 => not found\n\tlibxkbcommon-x11.so.0 => not found\nX\n")
    fake_ldd.chmod(0o755)
    missing = missing_libraries(tmp_path / "libqxcb.so", ldd=str(fake_ldd))
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0"]
    debian = 'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\n'
    assert install_command(missing, debian) == \
        "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0"
    ubuntu = "ID=ubuntu\nID_LIKE=debian\n"
    assert install_command(["libxcb-cursor.so.0"], ubuntu) == "sudo apt-get install -y libxcb-cursor0"
    assert install_command(missing, "ID=fedora\n").startswith("sudo dnf install -y xcb-util-wm")
    assert install_command(["libunknown.so.1"], debian) is None
    assert missing_libraries(tmp_path / "x.so", ldd=str(tmp_path / "no_ldd")) == []


def test_sigterm_stops_like_ctrl_c(tmp_path):
    """A terminated analysis exits 130 ("cancelled") instead of dying mid-write."""
    import signal
    import subprocess
    import sys

    code = ("import os, signal, time, sys\n"
            "from rca_app import cli\n"
            "cli.cmd_validate = lambda args: (print('ready', flush=True), time.sleep(30))\n"
            "sys.exit(cli.main(['validate', 'x.csv', '--layout', 'y.toml']))\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err


def test_start_falls_back_to_headless_naming_missing_libraries(monkeypatch, capsys):
    import rca_app.app.system_libraries as syslibs

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(syslibs, "qt_window_libraries_problem",
                        lambda: "Qt cannot open a window: these system libraries are missing: libxcb-icccm.so.4. "
                                "Install them with: sudo apt-get install -y libxcb-icccm4")
    ok, why = cli.display_available()
    assert not ok and "libxcb-icccm.so.4" in why and "apt-get install -y libxcb-icccm4" in why


def test_no_refits_gives_strict_json_and_no_nan_in_the_summary(inputs, tmp_path, capsys):
    import json

    out = tmp_path / "r.json"
    data, layout = inputs
    an = json.loads((PLANT / "truth.json").read_text())["anomaly"]
    code = cli.main(["analyze", str(data), "--layout", str(layout), "--anomaly", f"{an['start']}..{an['end']}",
                     "--graph-bootstrap", "0", "--rank-bootstrap", "0", "--quiet", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "nan" not in text.lower() and "no interval" in text
    r = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert r["root_causes"][0]["restoration_ci"] == [None, None]


def test_stale_temporary_files_of_a_killed_write_are_cleaned_up(tmp_path):
    import os
    import time

    from rca_app.core.fileio import STALE_AFTER_S, write_text_atomic

    stale = tmp_path / ".result.json.ab12CD_9.tmp"
    fresh = tmp_path / ".report.pdf.zz99yy88.tmp"          # maybe a write in progress elsewhere
    other = tmp_path / ".hidden.tmp"                         # not ours
    for f in (stale, fresh, other):
        f.write_bytes(b"")
    old = time.time() - STALE_AFTER_S - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    write_text_atomic(tmp_path / "result.json", "{}")
    assert not stale.exists() and fresh.exists() and other.exists()
    assert (tmp_path / "result.json").read_text() == "{}"


@pytest.mark.slow
def test_validating_a_ten_thousand_column_export(tmp_path, capsys):
    """Wide historian exports: text columns are scored in one pass, not one pass per column
    (8,000 columns took 140 s before). How long it takes is for `make bench`, not a wall-clock
    assert that fails on a loaded machine."""
    import numpy as np

    rng = np.random.default_rng(0)
    n, p = 200, 10_000
    header = ",".join([f"tag{i}" for i in range(p)] + ["kpi"])
    body = "\n".join(",".join(f"{v:.3f}" for v in row) for row in rng.normal(size=(n, p + 1)))
    data = tmp_path / "wide.csv"
    data.write_text(header + "\n" + body + "\n", encoding="utf-8")
    layout = tmp_path / "layout.toml"
    layout.write_text('[plant]\nname = "w"\ntarget = "kpi"\n[[station]]\nname = "a"\nsensors = ["tag0", "tag1"]\n'
                      '[[station]]\nname = "b"\nsensors = ["kpi"]\n', encoding="utf-8")
    assert cli.main(["validate", str(data), "--layout", str(layout)]) == 0
    assert "9998 column(s) are in no station" in capsys.readouterr().out

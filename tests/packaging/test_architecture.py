"""Layers are checked facts: the import-linter contracts in pyproject.toml hold, they say what
the architecture is, and importing the package stays light (no Qt, no lingam at import)."""
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.paths import ROOT

QT = {"PySide6", "shiboken6", "pyqtgraph"}


def _lint_imports() -> str:
    here = Path(sys.executable).parent / "lint-imports"
    exe = str(here) if here.exists() else shutil.which("lint-imports")
    assert exe, "lint-imports is missing: pip install -c constraints.txt -e '.[test]'"
    return exe


def test_import_contracts_hold():
    # The checkout under test, not whatever rca_app an editable install points at.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([_lint_imports(), "--no-cache", "--no-logo"], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_contracts_state_the_layers():
    # Guards the guard: deleting or weakening a contract must be a visible change here.
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert cfg["root_packages"] == ["rca_app"] and cfg["include_external_packages"] is True
    contracts = cfg["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert [[m.strip() for m in layer.replace("|", ":").split(":")] for layer in layers[0]["layers"]] == [
        ["rca_app.gui", "rca_app.cli"], ["rca_app.report"], ["rca_app.app"], ["rca_app.core"]]
    forbidden = {c["source_modules"][0]: set(c["forbidden_modules"]) for c in contracts if c["type"] == "forbidden"}
    assert (QT | {"reportlab", "matplotlib"}).issubset(forbidden["rca_app.core"])
    assert (QT | {"reportlab"}).issubset(forbidden["rca_app.app"])
    assert QT.issubset(forbidden["rca_app.report"])
    assert "rca_sim" in forbidden["rca_app"]


def test_core_runs_without_qt_importable():
    # Importing the core, the entry points and running the CLI parser must not load Qt or lingam
    # (import-linter counts imports inside functions too, so this checks the module level).
    code = (
        "import sys, rca_app.cli, rca_app.smoke, rca_app.__main__, rca_app.app, rca_app.report,"
        " rca_app.core.analysis, rca_app.core.data, rca_app.core.layout;"
        "rca_app.cli.build_parser();"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','pyqtgraph','lingam')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr

"""What ships: the wheel holds the product only (no simulator, no synthetic-data code), and the
desktop bundle leaves out the cluster extra."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.paths import ROOT

# What setuptools reads to build: the project table, the packages and the data-files.
SOURCES = ["pyproject.toml", "README.md", "rca_app", "rca_sim", "sample_plants", "resources"]


def _setuptools_supports_license_expressions() -> bool:
    try:
        from importlib.metadata import version

        major = int(version("setuptools").split(".")[0])
    except Exception:  # noqa: BLE001 - no setuptools: build isolation fetches one
        return False
    return major >= 77


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(p, src / name)
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(src)]
    if _setuptools_supports_license_expressions():
        cmd[4:4] = ["--no-build-isolation", "--no-index"]   # offline, with the pinned backend
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list(out.glob("rca_app-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.slow   # builds a wheel: about 4 s alone, more on a busy machine
def test_wheel_has_the_product_and_no_simulator(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "rca_app/core/data/__init__.py" in names and "rca_app/report/builder.py" in names
    assert not [n for n in names if n.startswith("rca_sim/") or "/rca_sim/" in n]
    assert not [n for n in names if "synth" in n.lower()]
    # The sample plants ship as data files (for the demo), not as importable code.
    assert not [n for n in names if n.endswith(".py") and not n.startswith("rca_app/")]


@pytest.mark.slow
def test_wheel_metadata_license_is_an_spdx_expression(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        text = z.read(meta).decode("utf-8")
    assert "License-Expression: LicenseRef-Proprietary" in text
    assert "\nLicense: " not in text   # the deprecated free-text field is gone


def test_desktop_bundle_leaves_out_the_cluster_extra_and_the_simulator():
    # core/parallel imports dask.distributed inside a function; PyInstaller follows such imports,
    # so only the spec's excludes keep a build environment's dask out of the bundle.
    import ast

    spec = ast.parse((ROOT / "packaging" / "rca_app.spec").read_text(encoding="utf-8"))
    names = {n.value for n in ast.walk(spec) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert {"dask", "distributed", "rca_sim"} <= names
    assert "excludes=qt_unused + other" in ast.unparse(spec).replace("\n", " ")

"""Offline installation: the PyInstaller bundle and the wheelhouse, each smoke-tested.

Slow (minutes, hundreds of MB): marked ``package`` and left out of ``make test``; run them with
``make package-test``."""
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.paths import ROOT

pytestmark = pytest.mark.package


def _isolated_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    # As on a plant workstation: no pip configuration (no index, no extra wheel folders).
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", QT_QPA_PLATFORM="offscreen", **extra)
    return env


def _check_smoke(out: Path):
    record = json.loads((out / "smoke.json").read_text(encoding="utf-8"))
    assert record["ok"], json.dumps(record["steps"], indent=1)
    assert record["top_cause_correct"]
    assert Path(record["report"]).stat().st_size > 10_000
    assert record["window_title"]
    return record


def test_pyinstaller_bundle_runs_the_smoke_test(tmp_path):
    dist, work = tmp_path / "dist", tmp_path / "build"
    r = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--distpath", str(dist),
                        "--workpath", str(work), str(ROOT / "packaging" / "rca_app.spec")],
                       cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-4000:]
    exe = dist / "rca_app" / ("rca_app_cli.exe" if sys.platform.startswith("win") else "rca_app_cli")
    assert exe.exists()
    out = tmp_path / "smoke"
    # Run from an unrelated folder so nothing is found through the source checkout.
    s = subprocess.run([str(exe), "--smoke-test", str(out)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=900, env=_isolated_env())
    assert s.returncode == 0, f"exit {s.returncode}\n" + s.stdout[-3000:] + s.stderr[-4000:]
    record = _check_smoke(out)
    assert record["frozen"] is True
    size = sum(f.stat().st_size for f in (dist / "rca_app").rglob("*") if f.is_file())
    print(f"bundle size {size / 1e6:.0f} MB, smoke test {record['seconds']} s")


def test_wheelhouse_installs_offline_and_runs(tmp_path):
    wheels = tmp_path / "wheelhouse"
    r = subprocess.run([sys.executable, str(ROOT / "packaging" / "build_wheelhouse.py"), "--out", str(wheels)],
                       cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    req = (wheels / "requirements.txt").read_text(encoding="utf-8")
    assert "--hash=sha256:" in req and "rca-app==" in req.replace("rca_app", "rca-app")
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    py = target / ("Scripts/python.exe" if sys.platform.startswith("win") else "bin/python")
    i = subprocess.run([str(py), "-m", "pip", "install", "--no-index", "--find-links", str(wheels),
                        "--require-hashes", "-r", str(wheels / "requirements.txt")],
                       capture_output=True, text=True, timeout=1800, env=_isolated_env())
    assert i.returncode == 0, i.stderr[-4000:]
    cli = target / ("Scripts/rca-app.exe" if sys.platform.startswith("win") else "bin/rca-app")
    work = tmp_path / "work"
    work.mkdir()
    d = subprocess.run([str(cli), "demo", "--quiet", "--plant", "chemical_reactor"], cwd=work, capture_output=True,
                       text=True, timeout=900, env=_isolated_env())
    assert d.returncode == 0, d.stderr[-4000:]
    assert "Results written to" in d.stdout
    out = tmp_path / "smoke"
    s = subprocess.run([str(cli), "--smoke-test", str(out)], cwd=work, capture_output=True, text=True,
                       timeout=900, env=_isolated_env())
    assert s.returncode == 0, f"exit {s.returncode}\n" + s.stdout[-3000:] + s.stderr[-4000:]
    _check_smoke(out)

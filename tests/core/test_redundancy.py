"""Exact copies and exact linear combinations are found and the upstream sensor is kept; a copy
of the KPI is found; strongly but not exactly related sensors are left alone."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.redundancy import redundant_sensors


def test_copies_combinations_and_kpi_copies():
    rng = np.random.default_rng(0)
    n = 1000
    a, b, c = rng.normal(size=(3, n))
    kpi = a + b + rng.normal(size=n)
    f = pd.DataFrame({"a": a, "a_F": a * 1.8 + 32, "b": b, "flow_sum": a + 2 * b, "c": c,
                      "c_near": c + 0.05 * rng.normal(size=n), "kpi_alias": kpi, "kpi": kpi})
    found = redundant_sensors(f, ["a", "a_F", "b", "flow_sum", "c", "c_near", "kpi_alias"], "kpi")
    by = {r.sensor: r for r in found}
    assert set(by) == {"a_F", "flow_sum", "kpi_alias"}
    assert by["a_F"].of == ["a"] and "exact copy of a" in by["a_F"].message("kpi")
    assert by["flow_sum"].of == ["a", "b"] and "linear combination of a, b" in by["flow_sum"].message("kpi")
    assert by["kpi_alias"].copy_of_kpi and "copy (or linear transform) of the KPI kpi" in by["kpi_alias"].message("kpi")


def test_order_decides_which_is_kept_and_constants_are_ignored():
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    f = pd.DataFrame({"up": x, "down": -x, "flat": np.ones(500), "kpi": rng.normal(size=500)})
    assert [r.sensor for r in redundant_sensors(f, ["down", "up", "flat"], "kpi")] == ["up"]
    assert [r.sensor for r in redundant_sensors(f, ["up", "down", "flat"], "kpi")] == ["down"]


def test_analysis_leaves_copies_out_and_prints_no_library_warnings(tmp_path):
    """Copies of a sensor and of the KPI are left out with a note, and the terminal shows no
    numpy or scikit-learn warning (before: about 200 lines of them and effects of 1e6)."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    n = 1200
    a = rng.laplace(size=n)
    b = 0.5 * a + rng.laplace(size=n)
    kpi = b + rng.laplace(size=n)
    f = pd.DataFrame({"a": a, "a_copy": a, "a_twice": 2 * a + 3, "b": b, "kpi_copy": kpi, "kpi": kpi})
    f.loc[1000:, ["a", "a_copy"]] += 3
    f.loc[1000:, "a_twice"] += 6
    f.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "l.toml").write_text(
        '[plant]\nname = "c"\ntarget = "kpi"\n[[station]]\nname = "s1"\nsensors = ["a", "a_copy", "a_twice"]\n'
        '[[station]]\nname = "s2"\nsensors = ["b", "kpi_copy"]\n[[station]]\nname = "s3"\nsensors = ["kpi"]\n')
    r = subprocess.run([sys.executable, "-m", "rca_app", "analyze", str(tmp_path / "d.csv"), "--layout",
                        str(tmp_path / "l.toml"), "--anomaly", "1000/1200", "--graph-bootstrap", "2",
                        "--rank-bootstrap", "3", "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr and "warn" not in r.stderr.lower()
    assert "a_copy is an exact copy of a" in r.stdout and "kpi_copy is an exact copy" in r.stdout
    assert "a_twice is an exact copy of a" in r.stdout

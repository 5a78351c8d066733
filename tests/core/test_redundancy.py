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

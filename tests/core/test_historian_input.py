"""Historian long exports and lot tables through the data loading path: detected, pivoted onto the
sample grid by per-tag rules, bad-quality samples counted per tag and named, lots joined by id."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import parse_layout

LAYOUT = """[plant]
name = "x"
target = "YIELD"
{plant}
[[station]]
name = "A"
sensors = ["FI-1", "LAB"]

[[station]]
name = "B"
sensors = ["YIELD"]

[tags.LAB]
rule = "last"
delay = "5min"
"""


@pytest.fixture
def export(tmp_path):
    rng = np.random.default_rng(0)
    t0 = pd.Timestamp("2026-03-01")
    a = rng.normal(size=300)
    rows = []
    for k in range(300):
        t = t0 + pd.Timedelta(minutes=k)
        for s in (-40, -20, 0):
            rows.append(("FI-1", (t + pd.Timedelta(seconds=s)).isoformat(), f"{a[k]:.4f}", "Good"))
        rows.append(("YIELD", t.isoformat(), f"{2 * a[k] + rng.normal():.4f}", "Bad" if k == 50 else "Good"))
        if k % 30 == 0:
            rows.append(("LAB", t.isoformat(), f"{k / 30:.1f}", "Good"))
    rows.append(("FI-1", (t0 + pd.Timedelta(seconds=30)).isoformat(), "I/O Timeout", "Good"))
    path = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=["Tagname", "TimeStamp", "Value", "Quality"]).to_csv(path, index=False)
    return path


def test_long_export_is_detected_and_pivoted_by_rule(export):
    data = prepare(load_table(export), parse_layout(LAYOUT.format(plant="")))
    assert data.sample == "1min" and data.time_column == "timestamp"
    reports = {t.tag: t for t in data.tag_reports}
    assert reports["YIELD"].bad_quality == 1 and reports["FI-1"].missing_values == 1
    assert reports["LAB"].rule == "last" and reports["LAB"].delay_s == 300
    # The bad-quality KPI sample is missing (its row dropped), never a number.
    assert data.dropped_rows.get("missing_target") == 1
    # A lab value stamped at 00:30 was taken at 00:25: valid from then until the next one.
    at = data.time.dt.strftime("%H:%M").tolist()
    assert data.frame["LAB"].iloc[at.index("00:25")] == 1.0 and data.frame["LAB"].iloc[at.index("00:24")] == 0.0
    bad = [p for p in data.problems if "flagged bad quality" in p.message]
    assert len(bad) == 1 and bad[0].column == "YIELD" and "2026-03-01 00:50:00" in bad[0].message
    assert bad[0].file == "export.csv"


def test_sample_key_sets_the_grid(export):
    data = prepare(load_table(export), parse_layout(LAYOUT.format(plant='sample = "5min"')))
    assert data.sample == "5min" and 55 <= data.n_rows <= 61
    assert (data.time.diff().dropna() == pd.Timedelta(minutes=5)).all()


def test_format_forces_the_reading(export, tmp_path):
    with pytest.raises(RcaInputError, match="--format wide: the header .* looks like a historian long export"):
        prepare(load_table(export), parse_layout(LAYOUT.format(plant="")), format="wide")
    wide = tmp_path / "wide.csv"
    pd.DataFrame({"a": [1, 2], "b": [3, 4]}).to_csv(wide, index=False)
    with pytest.raises(RcaInputError, match="no tag, time and value columns"):
        prepare(load_table(wide), parse_layout(LAYOUT.format(plant="")), format="long")


def _batches(tmp_path, lots_rows):
    rng = np.random.default_rng(1)
    n = 120
    lot = [f"L{k // 10}" for k in range(n)]
    visc = {f"L{k}": 300 + 10 * k for k in range(12)}
    y = [90 - 0.05 * visc.get(x, 300) + rng.laplace(0, 0.3) for x in lot]
    pd.DataFrame({"batch": range(n), "lot_id": lot, "temp": rng.normal(60, 1, n), "yield": y}).to_csv(
        tmp_path / "batches.csv", index=False)
    pd.DataFrame(lots_rows, columns=["lot_id", "viscosity"]).to_csv(tmp_path / "lots.csv", index=False)
    (tmp_path / "layout.toml").write_text(
        '[plant]\nname = "b"\ntarget = "yield"\n\n[[station]]\nname = "Lot"\nsensors = ["viscosity"]\n\n'
        '[[station]]\nname = "Line"\nsensors = ["temp", "yield"]\n\n[[join]]\nfile = "lots.csv"\non = "lot_id"\n',
        encoding="utf-8")
    from rca_app.core.layout import load_layout
    return load_table(tmp_path / "batches.csv"), load_layout(tmp_path / "layout.toml")


def test_lot_properties_are_joined_by_lot_id(tmp_path):
    raw, layout = _batches(tmp_path, [(f"L{k}", 300 + 10 * k) for k in range(12)])
    data = prepare(raw, layout)
    assert list(data.frame["viscosity"].iloc[[0, 9, 10, 119]]) == [300, 300, 310, 410]


def test_unknown_and_repeated_lots_are_named(tmp_path):
    raw, layout = _batches(tmp_path, [(f"L{k}", 300 + 10 * k) for k in range(11)])
    data = prepare(raw, layout, gaps="drop")
    unknown = [p for p in data.problems if "not in lots.csv" in p.message]
    assert unknown and "'L11'" in unknown[0].message and unknown[0].row == 112
    raw, layout = _batches(tmp_path, [("L1", 1), ("L1", 2)] + [(f"L{k}", 3) for k in range(2, 12)])
    with pytest.raises(RcaInputError, match="listed more than once .*'L1'"):
        prepare(raw, layout)


def test_a_layout_read_from_text_finds_the_lot_table_next_to_the_data(tmp_path):
    raw, layout = _batches(tmp_path, [(f"L{k}", 300 + 10 * k) for k in range(12)])
    reopened = parse_layout(layout.to_toml())          # as an investigation file restores it: no path
    assert reopened.path == ""
    assert list(prepare(raw, reopened).frame["viscosity"].iloc[[0, 119]]) == [300, 410]

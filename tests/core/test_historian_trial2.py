"""Historian exports a second first-time user brought (issue #14, trial 2): UTC offsets, an hour
exported twice, two exports pasted with their header, hex OPC codes, "Uncertain" quality and a
tag renamed between two exports. Each is said naming file, tag and row or timestamp."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.data import load_table, prepare, rows_for_window
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import parse_layout

COLS = ["Tagname", "TimeStamp", "Value", "Quality"]

LAYOUT = """[plant]
name = "x"
target = "YIELD"
sample = "1min"

[[station]]
name = "A"
sensors = ["FI-1", "TI-2"]

[[station]]
name = "B"
sensors = ["YIELD"]
"""


def _rows(n=200, quality="Good", seed=0, start="2026-03-01 00:01", stamp=lambda t: t.isoformat()):
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start)
    rows = []
    for k in range(n):
        t = stamp(t0 + pd.Timedelta(minutes=k))
        a = rng.normal()
        rows.append(["FI-1", t, f"{a:.4f}", quality])
        rows.append(["TI-2", t, f"{100 + rng.normal():.4f}", quality])
        rows.append(["YIELD", t, f"{90 + 2 * a + rng.normal():.4f}", quality])
    return rows


def _prepare(tmp_path, rows, layout=LAYOUT, **kw):
    path = tmp_path / "export.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    return prepare(load_table(path), parse_layout(layout), **kw)


# ----------------------------------------------------------------------------- #1 UTC offsets
def test_an_export_with_utc_offsets_keeps_its_zone_and_says_so(tmp_path):
    data = _prepare(tmp_path, _rows(n=60, stamp=lambda t: t.isoformat() + "+01:00"))
    assert str(data.time.dt.tz) == "UTC"
    assert data.time.iloc[0] == pd.Timestamp("2026-02-28 23:01", tz="UTC")       # 00:01+01:00
    (w,) = [p for p in data.problems if p.code == "time_utc"]
    assert w.file == "export.csv" and w.column == "TimeStamp"
    assert "(+01:00)" in w.message and "row 2: '2026-03-01T00:01:00+01:00' is 2026-02-28 23:01:00 UTC" in w.message
    assert "without an offset is read as UTC" in w.message
    # The export's own timestamps as a window, and the same instant written in UTC, are one window.
    local = rows_for_window(data, "2026-03-01T00:31:00+01:00", "2026-03-01T00:41:00+01:00")
    assert local == rows_for_window(data, "2026-02-28T23:31:00Z", "2026-02-28T23:41:00Z")
    assert local.stop - local.start == 10


def test_an_export_mixing_zoned_and_unzoned_timestamps_is_refused_naming_rows(tmp_path):
    rows = _rows(n=60, stamp=lambda t: t.isoformat() + "+01:00")
    rows[3 * 7][1] = rows[3 * 7][1].replace("+01:00", "")
    with pytest.raises(RcaInputError) as e:
        _prepare(tmp_path, rows)
    (p,) = [p for p in e.value.problems if p.code == "time_zone_mix"]
    assert p.row == 3 * 7 + 2 and p.column == "TimeStamp" and "1 do not" in p.message

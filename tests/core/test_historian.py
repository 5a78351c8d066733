"""Historian long exports: detected from the header, bad samples never become numbers, each tag
onto the grid by its rule (interval mean, held last value, lab delay), problems named."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.historian import LongColumns, detect_long_format, pivot_long


def test_long_format_detected_from_historian_headers():
    assert detect_long_format(["Tagname", "TimeStamp", "Value", "DataQuality"]) == \
        LongColumns("Tagname", "TimeStamp", "Value", "DataQuality")
    assert detect_long_format(["tag", "time", "value"]) == LongColumns("tag", "time", "value", None)
    assert detect_long_format(["timestamp", "dryer_temp", "yield", "supplier"]) is None
    assert detect_long_format(["a", "b"]) is None


def _export() -> pd.DataFrame:
    t0 = pd.Timestamp("2026-03-01 06:00:00")
    rows = []
    for k in range(1, 37):                                     # temperature every 10 s for 6 min
        rows.append(("TI-101", t0 + pd.Timedelta(seconds=10 * k), 100.0 + k, "Good"))
    for k in range(1, 7):                                      # yield once a minute
        rows.append(("YIELD", t0 + pd.Timedelta(minutes=k), 90.0 + k, "Good"))
    rows.append(("TI-101", t0 + pd.Timedelta(seconds=125), 999.0, "Bad"))          # flagged bad: never a number
    rows.append(("TI-101", t0 + pd.Timedelta(seconds=126), np.nan, "Good"))         # "Shutdown" read as missing
    rows.append(("LAB-VISC", t0 + pd.Timedelta(minutes=3, seconds=30), 42.0, "Good"))  # entered 3:30, taken 2:30
    rows.append(("LAB-VISC", t0 + pd.Timedelta(minutes=7), 43.0, "Good"))
    return pd.DataFrame(rows, columns=["Tagname", "TimeStamp", "Value", "DataQuality"])


def test_tags_onto_a_one_minute_grid_by_rule():
    cols = detect_long_format(["Tagname", "TimeStamp", "Value", "DataQuality"])
    p = pivot_long(_export(), cols, "export.csv", kpi="YIELD", delays={"LAB-VISC": "1min"})
    f = p.frame.set_index("timestamp")
    assert p.step == pd.Timedelta(minutes=1)
    assert list(f.index) == list(pd.date_range("2026-03-01 06:01", "2026-03-01 06:06", freq="1min"))
    # Mean of the six 10-s samples in (t - 1 min, t]; the bad 999 at 2:05 is not among them.
    assert f.loc["2026-03-01 06:01", "TI-101"] == pytest.approx(np.mean(101 + np.arange(6)))
    assert f.loc["2026-03-01 06:03", "TI-101"] == pytest.approx(np.mean(113 + np.arange(6)))
    assert f["YIELD"].tolist() == [91, 92, 93, 94, 95, 96]
    # The lab value taken at 2:30 holds from then on (not before), and the next from 6:00.
    assert np.isnan(f.loc["2026-03-01 06:02", "LAB-VISC"])
    assert f.loc["2026-03-01 06:03", "LAB-VISC"] == 42 and f.loc["2026-03-01 06:05", "LAB-VISC"] == 42
    assert f.loc["2026-03-01 06:06", "LAB-VISC"] == 43
    rep = {r.tag: r for r in p.tags}
    assert (rep["TI-101"].bad_quality, rep["TI-101"].missing_values) == (1, 1)
    assert rep["TI-101"].rule == "mean" and rep["LAB-VISC"].rule == "last" and rep["YIELD"].rule == "mean"
    assert rep["TI-101"].good_share == pytest.approx(36 / 38)


def test_max_rule_and_numeric_quality_codes():
    t0 = pd.Timestamp("2026-03-01")
    d = pd.DataFrame({"tag": ["A"] * 4 + ["K"] * 2,
                      "time": [t0 + pd.Timedelta(seconds=s) for s in (10, 20, 30, 70, 60, 120)],
                      "value": [1.0, 5.0, 3.0, 2.0, 0.0, 1.0], "quality": [192, 0, 192, 216, 192, 192]})
    p = pivot_long(d, detect_long_format(list(d.columns)), "x.csv", kpi="K", rules={"A": "max"})
    f = p.frame.set_index("timestamp")
    assert f["A"].tolist() == [3.0, 2.0]            # 5.0 had quality 0 (bad)


def test_bad_timestamps_named_and_bad_settings_refused():
    d = _export()
    d["TimeStamp"] = d["TimeStamp"].astype(str)
    d.loc[3, "TimeStamp"] = "yesterday-ish"
    times = pd.to_datetime(d["TimeStamp"], errors="coerce")
    p = pivot_long(d, detect_long_format(list(d.columns)), "export.csv", kpi="YIELD", times=times,
                   source_rows=np.arange(len(d)) + 2)
    (prob,) = p.problems
    assert prob.row == 5 and prob.column == "TimeStamp" and "yesterday-ish" in prob.message
    cols = detect_long_format(list(d.columns))
    with pytest.raises(ValueError, match="rule 'median'"):
        pivot_long(_export(), cols, "e.csv", rules={"TI-101": "median"})
    with pytest.raises(ValueError, match="'soon' is not a duration"):
        pivot_long(_export(), cols, "e.csv", sample="soon")
    with pytest.raises(ValueError, match="delay given for NOPE"):
        pivot_long(_export(), cols, "e.csv", delays={"NOPE": "1min"})

"""rca-app batch: an incident may be one row (a bad batch), named by its row number or its time,
as ``analyze --anomaly ROW|TIME`` takes it; an alarm KPI's single row gets an anomaly ranking,
reported as a score, not a restoration (issue #12)."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from rca_app.app.batch import incident_window, read_batch, run_batch, summary_text
from rca_app.core.parallel import ParallelSettings
from rca_sim.incident_shapes import simulate_shape

FAST = {"graph_bootstrap": 2, "rank_bootstrap": 3}


def test_incident_text_is_a_window_auto_or_one_row():
    assert incident_window("4711") == "4711"
    assert incident_window(" 2026-03-05T06:00 ") == "2026-03-05T06:00"
    assert incident_window("auto") == "auto"
    assert incident_window("10/20") == ("10", "20")
    assert incident_window("..2026-03-04T00:00") == (None, "2026-03-04T00:00")
    with pytest.raises(ValueError, match="one row"):
        incident_window("  ")


def _plants(tmp_path: Path) -> dict:
    unit = simulate_shape("continuous", seed=500, n_sensors=6, n_reference=400, n_incident=1)
    alarm = simulate_shape("event", seed=500, n_sensors=6, n_reference=400, n_incident=1, shift_sd=5.0)
    unit_csv, unit_lay = unit.save(tmp_path / "unit")
    alarm_csv, alarm_lay = alarm.save(tmp_path / "alarm")
    # The same unit with a time column: the bad batch named by its timestamp.
    timed = tmp_path / "timed"
    timed.mkdir()
    times = pd.date_range("2026-03-01", periods=len(unit.frame), freq="5min")
    unit.frame.assign(time=times.strftime("%Y-%m-%dT%H:%M")).to_csv(timed / "data.csv", index=False)
    (timed / "layout.toml").write_text(unit.layout_toml.replace("[plant]\n", '[plant]\ntime_column = "time"\n', 1),
                                       encoding="utf-8")
    return {"unit": (unit, unit_csv, unit_lay), "alarm": (alarm, alarm_csv, alarm_lay),
            "timed": (unit, timed / "data.csv", timed / "layout.toml", times[400].strftime("%Y-%m-%dT%H:%M"))}


def test_batch_incidents_of_one_row_by_number_or_time(tmp_path):
    p = _plants(tmp_path)
    unit, unit_csv, unit_lay = p["unit"]
    alarm, alarm_csv, alarm_lay = p["alarm"]
    _, timed_csv, timed_lay, when = p["timed"]
    inc = tmp_path / "incidents.toml"
    inc.write_text("\n".join([
        # A TOML integer and a quoted row number both name one row.
        "[[incident]]", 'name = "batch_400"', f'data = "{unit_csv.as_posix()}"', f'layout = "{unit_lay.as_posix()}"',
        "anomaly = 400", "",
        "[[incident]]", 'name = "batch_at_time"', f'data = "{timed_csv.as_posix()}"',
        f'layout = "{timed_lay.as_posix()}"', f'anomaly = "{when}"', "",
        "[[incident]]", 'name = "alarm_row"', f'data = "{alarm_csv.as_posix()}"', f'layout = "{alarm_lay.as_posix()}"',
        f'anomaly = "{alarm.n_reference}"', "",
        "[[incident]]", 'name = "past_the_end"', f'data = "{unit_csv.as_posix()}"',
        f'layout = "{unit_lay.as_posix()}"', 'anomaly = "9999"', ""]), encoding="utf-8")
    specs = read_batch(inc)
    assert [s.anomaly for s in specs] == ["400", when, str(alarm.n_reference), "9999"]
    out = run_batch(specs, tmp_path / "out", FAST, ParallelSettings(n_jobs=1))
    by = {o.name: o for o in out}
    for name in ("batch_400", "batch_at_time"):
        o = by[name]
        assert o.status == "ok" and o.incident_rows == 1 and o.ranking == "unit_restoration", o.problems
        assert o.top_cause == unit.root_cause and o.top_restoration is not None and o.top_anomaly_score is None
    # The row named by its time is the row named by its number: the same unit, the same ranking.
    assert by["batch_at_time"].top_restoration == pytest.approx(by["batch_400"].top_restoration, abs=0.05)
    a = by["alarm_row"]
    assert a.status == "ok" and a.incident_rows == 1 and a.ranking == "anomaly"
    assert a.top_cause == alarm.root_cause and a.top_restoration is None and a.top_anomaly_score > 2
    bad = by["past_the_end"]
    assert bad.status == "failed" and any("9999" in m and "one row" in m for m in bad.problems)
    rows = {r["name"]: r for r in csv.DictReader((tmp_path / "out" / "summary.csv").open(encoding="utf-8-sig"))}
    assert rows["alarm_row"]["ranking"] == "anomaly" and rows["alarm_row"]["top_restoration"] == ""
    assert float(rows["alarm_row"]["top_anomaly_score"]) == pytest.approx(a.top_anomaly_score, abs=1e-3)
    text = summary_text(out)
    assert "3 of 4 incidents analysed" in text and f"score {a.top_anomaly_score:.1f}" in text and "nan" not in text

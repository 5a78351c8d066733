"""Lab values in the incident and between lab tags: the incident's noise read on the samples, a
lab tag -> lab tag link learnt on common samples, and a lab station's residence time added to the
other stations' estimates without estimating them again."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

from bench.lab_tags import PRODUCT_LAG, lab_plant
from rca_app.core.data import load_table, prepare
from rca_app.core.dynamics import align_for_time
from rca_app.core.lab_lags import realign_for_lab_stations
from rca_app.core.layout import load_layout
from rca_app.core.windows import resolve_windows

SHORT = {"n_reference": 1000, "n_anomaly": 120}


def _prepared(tmp_path: Path, text: str, layout: str):
    (tmp_path / "data.csv").write_text(text, encoding="utf-8")
    (tmp_path / "layout.toml").write_text(layout, encoding="utf-8")
    return prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))


def test_a_lab_stations_residence_time_leaves_the_other_stations_estimates_as_they_were(tmp_path):
    text, layout, truth = lab_plant(10, 0, lab_kpi=True, **SHORT)
    data = _prepared(tmp_path, text, layout)
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
    # Any station estimated a second time would fail here: only the lab station's lag is new.
    with mock.patch("rca_app.core.dynamics.estimate_station_lags", side_effect=AssertionError("estimated again")):
        out = realign_for_lab_stations(data, data.layout, timed, ref_sl, an_sl, 0)
    assert out is not timed
    before = {r.station: r for r in timed.record.lags}
    after = {r.station: r for r in out.record.lags}
    assert before.keys() == after.keys()
    assert all(after[s] == before[s] for s in before if s != "Separator")     # identical records
    assert before["Separator"].lag_steps == 0 and after["Separator"].lag_steps == PRODUCT_LAG
    assert {k: v for k, v in out.record.shifts.items() if k != "yield_pct"} == {
        k: v + PRODUCT_LAG for k, v in timed.record.shifts.items() if k != "yield_pct"} | {
        k: PRODUCT_LAG for k in ("sep_temp", "sep_lab") if k not in timed.record.shifts}

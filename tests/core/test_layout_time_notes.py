"""Time keys of a layout a first-time user wrote (issue #14 trial): misspelt recycle stations and
loop sensors get a "did you mean", a lag that moves nothing is said, and a lag the grid cannot
hold is said with what it is used as."""
from __future__ import annotations

import pandas as pd
import pytest

from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import parse_layout
from rca_app.core.layout.time_keys import lag_rounding_notes

BASE = """[plant]
name = "x"
target = "yield"
{plant}
[[station]]
name = "Feed"
sensors = ["feed_t"]
{feed}
[[station]]
name = "Reactor"
sensors = ["temp", "valve"]
{reactor}
[[station]]
name = "Product"
sensors = ["yield"]
{product}
{extra}
"""


def _layout(plant="", feed="", reactor="", product="", extra=""):
    return parse_layout(BASE.format(plant=plant, feed=feed, reactor=reactor, product=product, extra=extra))


def test_misspelt_recycle_station_and_loop_sensor_get_a_suggestion():
    extra = ('[[recycle]]\nfrom = "Prodcut"\nto = "Reactor"\nlag = "4min"\n'
             '[[loop]]\ncontrolled = "temp"\nmanipulated = "valv"\n')
    with pytest.raises(RcaInputError) as e:
        _layout(extra=extra)
    msgs = [p.message for p in e.value.problems]
    assert "recycle #1 key 'from' names station 'Prodcut', which is not in the layout (did you mean 'Product'?)" \
        in msgs
    assert any("loop #1 key 'manipulated' names 'valv'" in m and "did you mean 'valve'?" in m for m in msgs)
    with pytest.raises(RcaInputError, match=r"gives a lag for 'tmp'.*did you mean 'temp'"):
        _layout(reactor='lags = { tmp = "3min" }')


def test_a_lag_on_the_kpi_station_is_said_to_move_nothing():
    lay = _layout(product='lag = "5min"', reactor='lag = "2min"')
    (w,) = [p for p in lay.warnings if p.code == "lag_not_used"]
    assert w.file == "layout.toml" and "station 'Product' declares lag = \"5min\", which is not used" in w.message
    assert "holds the KPI (yield)" in w.message


def test_lags_not_on_the_grid_are_said_with_what_they_are_used_as():
    lay = _layout(feed='lag = "5min"', reactor='lag = "4min"\nlags = { valve = "1min" }',
                  extra='[[recycle]]\nfrom = "Product"\nto = "Reactor"\nlag = "30s"\n')
    notes = [m for m, _ in lag_rounding_notes(lay, pd.Timedelta(minutes=2))]
    assert notes == [
        "station 'Feed' lag \"5min\" is not a whole number of 2min grid steps: it is used as 4min (2 steps)",
        "station 'Reactor' lag of valve \"1min\" is not a whole number of 2min grid steps: it is used as 0s (no lag) "
        "(0 steps)",
        "recycle #1 (Product -> Reactor) lag \"30s\" is not a whole number of 2min grid steps: it is used as 2min "
        "(1 step)"]
    assert lag_rounding_notes(lay, pd.Timedelta(minutes=1)) == [
        ("recycle #1 (Product -> Reactor) lag \"30s\" is not a whole number of 1min grid steps: it is used as "
         "1min (1 step)", None)]


def test_a_wide_table_on_a_grid_gets_the_rounding_note(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("time,feed_t,temp,valve,yield\n" + "".join(
        f"2026-03-01T{k // 30:02d}:{2 * k % 60:02d}:00,{k % 7},{k % 5},{k % 3},{k % 11}\n" for k in range(60)),
        encoding="utf-8")
    data = prepare(load_table(path), _layout(plant='time_column = "time"', feed='lag = "3min"'))
    (note,) = [p for p in data.problems if p.code == "lag_rounded"]
    assert note.file == "layout.toml" and "used as 4min (2 steps)" in note.message

"""The layout's time keys: sample grid, lags, tag rules, recycles, loops and joins read, checked
and written back; layouts without them read as before."""
from __future__ import annotations

import pytest

from rca_app.core.errors import RcaInputError
from rca_app.core.layout import parse_layout
from rca_app.core.layout.time_keys import Join, Loop, Recycle

BASE = """[plant]
name = "Line"
target = "y"
time_column = "t"
{plant}
[[station]]
name = "Feed"
sensors = ["a", "b"]
{feed}
[[station]]
name = "Reactor"
sensors = ["c", "d", "y"]
{rest}
"""


def _layout(plant="", feed="", rest=""):
    return parse_layout(BASE.format(plant=plant, feed=feed, rest=rest))


def test_every_time_key_is_read_and_written_back():
    lay = _layout('sample = "1min"\nlag_max = "2h"', 'lag = "15min"\nlags = { b = "auto" }',
                  '[tags.c]\nrule = "last"\ndelay = "20min"\n\n[[recycle]]\nfrom = "Reactor"\nto = "Feed"\n'
                  'lag = "30min"\n\n[[loop]]\ncontrolled = "c"\nmanipulated = "d"\nsetpoint = "a"\nlow = 0\n'
                  'high = 100\n\n'
                  '[[join]]\nfile = "lots.csv"\non = "lot_id"\n')
    assert (lay.sample, lay.lag_max) == ("1min", "2h")
    assert lay.stations[0].lag == "15min" and lay.stations[0].sensor_lags == {"b": "auto"}
    assert lay.stations[1].lag is None
    assert lay.tag_rules == {"c": "last"} and lay.tag_delays == {"c": "20min"}
    assert lay.recycles == [Recycle("Reactor", "Feed", "30min")]
    assert lay.loops == [Loop("c", "d", "a", 0.0, 100.0)]
    assert lay.joins == [Join("lots.csv", "lot_id")]
    assert lay.time_declared
    again = parse_layout(lay.to_toml())
    for key in ("sample", "lag_max", "tag_rules", "tag_delays", "recycles", "loops", "joins", "stations"):
        assert getattr(again, key) == getattr(lay, key), key
    # Restricting to the data's columns keeps the time keys; a loop losing a sensor goes.
    small = lay.restricted_to(["a", "b", "c", "y"])
    assert small.recycles == lay.recycles and small.loops == [] and small.stations[0].lag == "15min"


def test_a_layout_without_time_keys_is_unchanged():
    lay = _layout()
    assert not lay.time_declared and lay.sample is None and lay.recycles == [] and lay.loops == []
    assert "lag" not in lay.to_toml() and "[[loop]]" not in lay.to_toml()


def test_every_bad_time_key_is_reported_at_once():
    with pytest.raises(RcaInputError) as e:
        _layout('sample = "often"', 'lag = "soon"',
                '[tags.c]\nrule = "median"\n\n[[recycle]]\nfrom = "Feed"\nto = "Reactor"\nlag = "5min"\n\n'
                '[[loop]]\ncontrolled = "c"\nmanipulated = "zz"\n\n[[loop]]\ncontrolled = "c"\n')
    text = str(e.value)
    for part in ("[plant] key 'sample'", "key 'lag' must be a duration", "rule must be one of",
                 "goes forward", "'zz'", "needs both 'controlled' and 'manipulated'"):
        assert part in text, part

"""Editing the layout's time keys in the Layout step: lags, recycles, loops and tag rules, each
edit a new layout (undo keeps the old one), names kept in step when stations change."""
from __future__ import annotations

import pytest

from rca_app.app import layout_edit as E
from rca_app.core.layout import parse_layout

TEXT = """[plant]
name = "x"
target = "y"
time_column = "t"

[[station]]
name = "Feed"
sensors = ["a", "b"]

[[station]]
name = "Reactor"
sensors = ["c", "d"]

[[station]]
name = "Product"
sensors = ["y"]
"""


def test_lags_recycles_loops_and_tags_are_edited_on_copies():
    base = parse_layout(TEXT)
    lay = E.layout_set_lag(base, 0, "15min")
    lay = E.layout_set_lag(lay, 0, "auto", sensor="b")
    lay = E.layout_add_recycle(lay, "Product", "Reactor", "30min")
    lay = E.layout_add_loop(lay, "c", "d", 180.0, 0.0, 100.0)
    lay = E.layout_set_tag(lay, "a", "last", "20min")
    lay = E.layout_set_plant(lay, sample="1min", lag_max="2h")
    assert base.stations[0].lag is None and base.recycles == [] and base.loops == []
    assert lay.stations[0].lag == "15min" and lay.stations[0].sensor_lags == {"b": "auto"}
    assert lay.problems() == []
    again = parse_layout(lay.to_toml())
    assert E.same_layout(again, lay)
    # A renamed station keeps its recycles; a removed one takes them along.
    renamed = E.layout_rename_station(lay, 1, "Reactor R-1")
    assert renamed.recycles[0].to == "Reactor R-1" and renamed.problems() == []
    assert E.layout_remove_station(lay, 2).recycles == []
    assert E.layout_remove_time_item(lay, "loop", 0).loops == []
    # A moved sensor leaves its own lag behind.
    assert "b" not in E.layout_move_sensor(lay, "b", 1).stations[0].sensor_lags
    assert E.layout_set_lag(lay, 0, None, sensor="b").stations[0].sensor_lags == {}


def test_bad_values_are_refused_with_a_reason():
    lay = parse_layout(TEXT)
    with pytest.raises(ValueError, match="duration"):
        E.layout_set_lag(lay, 0, "soon")
    with pytest.raises(ValueError, match="not a sensor of station"):
        E.layout_set_lag(lay, 0, "5min", sensor="c")
    with pytest.raises(ValueError, match="rule must be one of"):
        E.layout_set_tag(lay, "a", "median")
    forward = E.layout_add_recycle(lay, "Feed", "Product", "5min")
    assert any("goes forward" in p.message for p in forward.problems())


def test_a_historian_export_drafts_a_layout_of_its_tags(tmp_path):
    from rca_app.core.data import load_table, prepare

    path = tmp_path / "export.csv"
    rows = ["Tagname,TimeStamp,Value,Quality"]
    for k in range(60):
        for tag, v in (("TI-100", 20 + k % 7), ("FI-200", 5 + k % 3), ("YIELD", 90 - k % 5)):
            rows.append(f"{tag},2026-03-01T00:{k:02d}:00,{v},Good")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    raw = load_table(path)
    draft = E.draft_layout(raw)
    assert draft.stations[0].sensors == ["TI-100", "FI-200", "YIELD"] and draft.target == "YIELD"
    data = prepare(raw, draft)
    assert data.n_rows == 60 and data.time_column == "timestamp"

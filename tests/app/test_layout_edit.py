"""Editing a layout: roles travel with sensors, inputs are never changed, saving keeps comments."""
from rca_app.app import layout_edit as le
from rca_app.core.layout import load_layout, parse_layout


def test_layout_editing_keeps_roles_and_validates(plant):
    lay = load_layout(plant / "layout.toml")
    moved = le.layout_move_sensor(lay, "dryer_temp_C", 2, 0)
    assert moved.stations[2].sensors[0] == "dryer_temp_C"
    assert "dryer_temp_C" in moved.stations[2].controllable and moved.is_exogenous("dryer_temp_C")
    assert "dryer_temp_C" not in lay.stations[2].sensors   # the input is unchanged
    # Into the wholly exogenous first station and out again.
    m2 = le.layout_move_sensor(lay, "melt_temp_C", 0)
    assert m2.is_exogenous("melt_temp_C")
    assert m2.stations[0].exogenous is True
    off = le.layout_set_role(lay, "ambient_temp_C", "exogenous", False)
    assert not off.is_exogenous("ambient_temp_C") and off.is_exogenous("ambient_rh_pct")
    flipped = le.layout_move_station(lay, 0, 1)
    assert [s.name for s in flipped.stations[:2]] == ["Dryer", "Incoming material"]
    assert parse_layout(flipped.to_toml()).stations[0].name == "Dryer"
    gone = le.layout_remove_station(lay, 1)
    assert "dryer_temp_C" in le.unassigned_columns(gone, lay.nodes)
    # A layout edited into nonsense reports the core's messages.
    bad = le.layout_set_plant(lay, target="nothing")
    assert any("nothing" in p.message for p in bad.problems())


def test_draft_layout_is_valid_toml(data):
    draft = le.draft_layout(data.raw)
    assert draft.time_column == "timestamp" and draft.target == "yield_pct"
    assert parse_layout(draft.to_toml()).stations[0].categorical == ["resin_supplier"]


def test_graph_edits_become_layout_knowledge(plant):
    lay = load_layout(plant / "layout.toml")
    edits = [{"op": "force", "source": "dried_moisture_pct", "target": "melt_temp_C"},
             {"op": "remove", "source": "dryer_dewpoint_C", "target": "dried_moisture_pct"}]
    kept = le.layout_with_edits(lay, edits)
    assert ("dried_moisture_pct", "melt_temp_C") in kept.required
    assert ("dryer_dewpoint_C", "dried_moisture_pct") in kept.forbidden
    assert ("dried_moisture_pct", "melt_temp_C") in parse_layout(kept.to_toml()).required


def test_saving_keeps_the_original_text_until_edited(plant, tmp_path):
    lay = load_layout(plant / "layout.toml")
    assert le.as_read(lay) is not None
    le.write_layout(lay, tmp_path / "same.toml")
    assert (tmp_path / "same.toml").read_text(encoding="utf-8") == lay.text   # comments and all
    edited = le.layout_rename_station(lay, 0, "Resin")
    assert le.as_read(edited) is None and not le.same_layout(edited, lay)
    le.write_layout(edited, tmp_path / "edited.toml")
    again = parse_layout((tmp_path / "edited.toml").read_text(encoding="utf-8"))
    assert again.stations[0].name == "Resin" and le.same_layout(again, edited)

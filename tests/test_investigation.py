"""Investigation files (round trip, versions, moved or changed data) and the GUI's pure helpers."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rca_app.core import investigation as inv
from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.layout import load_layout, parse_layout
from rca_app.resources import sample_plant

FIXTURES = Path(__file__).parent / "fixtures" / "investigations"
PLANT = sample_plant("injection_moulding")


@pytest.fixture(scope="module")
def data():
    return prepare(load_table(PLANT / "data.csv"), load_layout(PLANT / "layout.toml"))


def _investigation(data_path: Path) -> inv.Investigation:
    return inv.Investigation(
        data=inv.DataRef(path=str(data_path), sha256=inv.file_sha256(data_path), file_name=data_path.name),
        layout_toml=(PLANT / "layout.toml").read_text(encoding="utf-8"),
        reference=["2026-03-01T00:00:00", "2026-03-14T21:20:00"],
        anomaly=["2026-03-14T21:20:00", "2026-03-16T23:20:00"],
        graph=CausalGraph(("a", "b"), (Edge("a", "b", 0.5, 0.9),)).to_dict(),
        graph_edits=[{"op": "remove", "source": "b", "target": "c"}],
        settings={"seed": 3, "graph_bootstrap": 5},
        result={"root_causes": [{"node": "a", "restoration": np.float64(0.8), "restoration_ci": (0.7, 0.9)}]},
        notes={"team": "Line 7 night shift", "containment": "quarantine lots 14-16"},
        step=4,
    )


def test_round_trip_keeps_everything(tmp_path):
    csv = tmp_path / "data.csv"
    shutil.copy(PLANT / "data.csv", csv)
    original = _investigation(csv)
    path = inv.save_investigation(original, tmp_path / "case.rcainv")
    back = inv.load_investigation(path)
    assert back.layout_toml == original.layout_toml
    assert back.reference == original.reference and back.anomaly == original.anomaly
    assert back.graph == original.graph and back.graph_edits == original.graph_edits
    assert back.settings == original.settings and back.notes == original.notes and back.step == 4
    assert back.result["root_causes"][0]["restoration"] == 0.8
    assert back.result["root_causes"][0]["restoration_ci"] == [0.7, 0.9]
    assert back.data.sha256 == original.data.sha256 and back.data.relative_path == "data.csv"
    assert back.saved_at and back.software["name"] == "rca_app"
    assert json.loads(path.read_text())["schema_version"] == inv.SCHEMA_VERSION
    assert inv.check_data_file(back.data, path).status == "ok"


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch):
    target = tmp_path / "case.rcainv"
    target.write_text("old content")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(inv.os, "replace", boom)
    with pytest.raises(OSError):
        inv.save_investigation(_investigation(PLANT / "data.csv"), target)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["case.rcainv"]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("v*.rcainv")))
def test_every_old_version_opens(name, tmp_path):
    # One fixture per schema version ever released; each must open in this version.
    back = inv.load_investigation(FIXTURES / name)
    assert back.layout_toml and parse_layout(back.layout_toml).target == "yield_pct"
    assert back.anomaly == ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]
    assert back.notes["team"]
    graph = CausalGraph.from_dict(back.graph)
    assert ("dryer_dewpoint_C", "dried_moisture_pct") in graph.edge_keys
    # The saved absolute path does not exist here; the relative one (the sample plant) does.
    check = inv.check_data_file(back.data, FIXTURES / name)
    assert check.status == "moved" and check.path.resolve() == (PLANT / "data.csv").resolve()


def test_v1_fixture_is_the_first_version():
    assert json.loads((FIXTURES / "v1_injection_moulding.rcainv").read_text())["schema_version"] == 1


def test_newer_version_is_refused_clearly(tmp_path):
    d = json.loads((FIXTURES / "v1_injection_moulding.rcainv").read_text())
    d["schema_version"] = inv.SCHEMA_VERSION + 1
    p = tmp_path / "future.rcainv"
    p.write_text(json.dumps(d))
    with pytest.raises(RcaInputError) as e:
        inv.load_investigation(p)
    msg = str(e.value)
    assert "newer rca_app" in msg and "Update rca_app" in msg and "future.rcainv" in msg


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid JSON"),
    ('{"kind": "something else"}', "not an rca_app investigation"),
    ('{"kind": "rca_app investigation"}', "schema_version"),
    ('{"kind": "rca_app investigation", "schema_version": "1"}', "schema_version"),
])
def test_damaged_files_are_explained(tmp_path, content, words):
    p = tmp_path / "bad.rcainv"
    p.write_text(content)
    with pytest.raises(RcaInputError, match=words):
        inv.load_investigation(p)


def test_missing_file_is_explained(tmp_path):
    with pytest.raises(RcaInputError, match="file not found"):
        inv.load_investigation(tmp_path / "nope.rcainv")


def test_changed_data_file_is_detected_and_explained(tmp_path):
    csv = tmp_path / "data.csv"
    shutil.copy(PLANT / "data.csv", csv)
    saved = inv.save_investigation(_investigation(csv), tmp_path / "case.rcainv")
    with open(csv, "a", encoding="utf-8") as f:
        f.write("2026-03-17T00:00:00,0.2,NordPoly,21,50,120,-40,0.017,96,295,302,650,5.9,1150,85,31.6,48.1,0.8,97\n")
    check = inv.check_data_file(inv.load_investigation(saved).data, saved)
    assert check.status == "changed" and not check.usable
    assert "has changed since this investigation was saved" in check.message
    assert check.expected_sha256[:12] in check.message and check.actual_sha256[:12] in check.message


def test_moved_and_missing_data_file(tmp_path):
    csv = tmp_path / "data.csv"
    shutil.copy(PLANT / "data.csv", csv)
    saved = inv.save_investigation(_investigation(csv), tmp_path / "case.rcainv")
    ref = inv.load_investigation(saved).data
    # Both moved together to another folder: found by the relative path, flagged as moved.
    other = tmp_path / "moved"
    other.mkdir()
    shutil.move(str(csv), other / "data.csv")
    shutil.move(str(saved), other / "case.rcainv")
    check = inv.check_data_file(ref, other / "case.rcainv")
    assert check.status == "moved" and check.usable and check.path == other / "data.csv"
    # Gone: missing, and the engineer is told to locate it.
    (other / "data.csv").unlink()
    check = inv.check_data_file(ref, other / "case.rcainv")
    assert check.status == "missing" and "Locate it" in check.message
    # A located file is accepted only with the same content.
    wrong = tmp_path / "other.csv"
    wrong.write_text("a,b\n1,2\n")
    assert inv.check_data_file(ref, candidate=wrong).status == "changed"
    assert inv.check_data_file(ref, candidate=PLANT / "data.csv").status == "moved"


def test_recovery_file_cycle(tmp_path):
    assert inv.read_recovery(tmp_path) is None
    inv.write_recovery(_investigation(PLANT / "data.csv"), tmp_path, original="/x/case.rcainv")
    got, original = inv.read_recovery(tmp_path)
    assert original == "/x/case.rcainv" and "_recovery_of" not in got.notes
    assert got.notes["team"] == "Line 7 night shift"
    inv.discard_recovery(tmp_path)
    assert inv.read_recovery(tmp_path) is None
    # A damaged recovery file is useless: dropped, not offered.
    inv.recovery_file(tmp_path).write_text("{")
    assert inv.read_recovery(tmp_path) is None and not inv.recovery_file(tmp_path).exists()


def test_windows_round_trip_through_the_chart_axis(data):
    window = ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]
    x0, x1 = inv.window_to_axis(data, window)
    assert inv.window_from_axis(data, x0, x1) == window
    # A region dragged between samples snaps to the rows inside it.
    back = inv.window_from_axis(data, x0 + 1, x1 - 1)
    rows = inv.window_rows(data, back)
    assert rows == slice(2001, 2300)
    assert "(300 rows)" in inv.window_label(data, window)


def test_auto_windows_do_not_overlap(data):
    w = inv.auto_windows(data, ["2026-03-01T00:00:00", "2026-03-16T00:00:00"])
    an, ref = inv.window_rows(data, w["anomaly"]), inv.window_rows(data, w["reference"])
    assert ref.stop <= an.start
    assert abs(an.start - 2000) < 40
    limits = inv.kpi_limits(data, w["reference"])
    assert limits["lower"] < limits["centre"] < limits["upper"]


def test_problem_cell_points_at_the_spreadsheet_cell(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("t,a,y\n2026-01-01,1,5\n2026-01-02,oops,6\n")
    raw = load_table(csv)
    from rca_app.core.errors import Problem

    assert inv.problem_cell(raw, Problem("x", column="a", row=3)) == (1, 1)
    assert inv.problem_cell(raw, Problem("x", column="zz")) == (None, None)


def test_layout_editing_keeps_roles_and_validates():
    lay = load_layout(PLANT / "layout.toml")
    moved = inv.layout_move_sensor(lay, "dryer_temp_C", 2, 0)
    assert moved.stations[2].sensors[0] == "dryer_temp_C"
    assert "dryer_temp_C" in moved.stations[2].controllable and moved.is_exogenous("dryer_temp_C")
    assert "dryer_temp_C" not in lay.stations[2].sensors   # the input is unchanged
    # Into the wholly exogenous first station and out again.
    m2 = inv.layout_move_sensor(lay, "melt_temp_C", 0)
    assert m2.is_exogenous("melt_temp_C")
    assert m2.stations[0].exogenous is True
    off = inv.layout_set_role(lay, "ambient_temp_C", "exogenous", False)
    assert not off.is_exogenous("ambient_temp_C") and off.is_exogenous("ambient_rh_pct")
    flipped = inv.layout_move_station(lay, 0, 1)
    assert [s.name for s in flipped.stations[:2]] == ["Dryer", "Incoming material"]
    assert parse_layout(flipped.to_toml()).stations[0].name == "Dryer"
    gone = inv.layout_remove_station(lay, 1)
    assert "dryer_temp_C" in inv.unassigned_columns(gone, lay.nodes)
    # A layout edited into nonsense reports the core's messages.
    bad = inv.layout_set_plant(lay, target="nothing")
    assert any("nothing" in p.message for p in bad.problems())


def test_draft_layout_is_valid_toml(data):
    draft = inv.draft_layout(data.raw)
    assert draft.time_column == "timestamp" and draft.target == "yield_pct"
    assert parse_layout(draft.to_toml()).stations[0].categorical == ["resin_supplier"]


def test_graph_edits_are_validated_by_the_core():
    lay = load_layout(PLANT / "layout.toml")
    c = lay.constraints()
    g = CausalGraph(tuple(lay.nodes), (Edge("dryer_dewpoint_C", "dried_moisture_pct"),))
    with pytest.raises(RcaInputError, match="material flows forward"):
        inv.apply_edit(g, "add", "melt_temp_C", "dried_moisture_pct", c)
    with pytest.raises(RcaInputError, match="exogenous"):
        inv.apply_edit(g, "add", "melt_temp_C", "barrel_temp_C", c)
    g2 = inv.apply_edit(g, "force", "dried_moisture_pct", "melt_temp_C", c)
    assert g2.edge("dried_moisture_pct", "melt_temp_C").origin == "user"
    edits = [{"op": "force", "source": "dried_moisture_pct", "target": "melt_temp_C"},
             {"op": "remove", "source": "dryer_dewpoint_C", "target": "dried_moisture_pct"}]
    kept = inv.layout_with_edits(lay, edits)
    assert ("dried_moisture_pct", "melt_temp_C") in kept.required
    assert ("dryer_dewpoint_C", "dried_moisture_pct") in kept.forbidden
    assert ("dried_moisture_pct", "melt_temp_C") in parse_layout(kept.to_toml()).required


def test_pareto_is_cumulative():
    causes = [{"node": "a", "restoration": 0.6}, {"node": "b", "restoration": 0.3},
              {"node": "c", "restoration": -0.1}, {"node": "d", "restoration": 0.1}]
    p = inv.pareto(causes, top=3)
    assert p["nodes"] == ["a", "b", "c"]
    assert p["cumulative_pct"] == pytest.approx([60.0, 90.0, 90.0])


@pytest.fixture(scope="module")
def outcome(data):
    from rca_app.core.analysis import AnalysisSettings, run_analysis

    return run_analysis(data, ("2026-03-14T21:20:00", "2026-03-16T23:20:00"),
                        settings=AnalysisSettings(graph_bootstrap=3, rank_bootstrap=4))


def test_views_of_a_fitted_model(outcome, data):
    r = outcome.result
    graph = inv.graph_from_result(r.graph)
    assert graph.edge_keys == outcome.scm.graph.edge_keys
    view = inv.graph_view(graph, data.layout, r.to_dict(), data.frame.iloc[:2000])
    strengths = [e["strength"] for e in view["edges"] if e["strength"] is not None]
    assert max(strengths) == pytest.approx(1.0) and min(strengths) >= 0
    assert set(view["positions"]) == set(graph.nodes)
    assert all(e["fitted"] for e in view["edges"])
    # An edge the engineer adds has no fitted effect until the refit.
    g2 = inv.apply_edit(graph, "add", "ambient_temp_C", "part_weight_g", data.layout.constraints())
    added = next(e for e in inv.graph_view(g2, data.layout, r.to_dict())["edges"]
                 if (e["source"], e["target"]) == ("ambient_temp_C", "part_weight_g"))
    assert not added["fitted"] and added["strength"] is None

    # The mechanism curve: along the parent's range, other parents at their means.
    m = inv.mechanism_view(outcome, "dried_moisture_pct")
    assert m["parent"] in m["parents"] and m["kind"] and 0 < m["oof_r2"] <= 1
    assert len(m["curve_x"]) == len(m["curve_y"]) and m["curve_x"].min() >= m["scatter_x"].min()
    cat = inv.mechanism_view(outcome, "injection_pressure_bar", "resin_supplier")
    assert cat["x_levels"] == ["NordPoly", "Resinex"] and len(cat["curve_y"]) == 2
    root = inv.mechanism_view(outcome, "ambient_rh_pct")
    assert root["parent"] is None and root["kind"] == "empirical"

    # What-if: the slider's range, the histograms on common bins, an out-of-range warning.
    node = inv.controllable_candidates(outcome)[0]
    rng = inv.setpoint_range(outcome, node)
    assert rng["low"] < rng["high"] and rng["recommended"] is not None
    inside = inv.what_if_view(outcome, node, rng["recommended"])
    assert inside["warning"] is None
    assert inside["hist_predicted"].sum() == inside["hist_actual"].sum() == 300
    outside = inv.what_if_view(outcome, node, rng["high"] + 10 * (rng["high"] - rng["low"]))
    assert "outside the range" in outside["warning"]

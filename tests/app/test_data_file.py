"""Finding an investigation's data file again (moved, changed, missing), and reading data."""
import shutil

from rca_app.app import data_file
from rca_app.app.investigation_file import load_investigation, save_investigation
from rca_app.core.layout import load_layout
from rca_app.core.progress import NullProgress


def test_changed_data_file_is_detected_and_explained(tmp_path, plant, make_investigation):
    csv = tmp_path / "data.csv"
    shutil.copy(plant / "data.csv", csv)
    saved = save_investigation(make_investigation(csv), tmp_path / "case.rcainv")
    with open(csv, "a", encoding="utf-8") as f:
        f.write("2026-03-17T00:00:00,0.2,NordPoly,21,50,120,-40,0.017,96,295,302,650,5.9,1150,85,31.6,48.1,0.8,97\n")
    check = data_file.check_data_file(load_investigation(saved).data, saved)
    assert check.status == "changed" and not check.usable
    assert "has changed since this investigation was saved" in check.message
    assert check.expected_sha256[:12] in check.message and check.actual_sha256[:12] in check.message


def test_moved_and_missing_data_file(tmp_path, plant, make_investigation):
    csv = tmp_path / "data.csv"
    shutil.copy(plant / "data.csv", csv)
    saved = save_investigation(make_investigation(csv), tmp_path / "case.rcainv")
    ref = load_investigation(saved).data
    # Both moved together to another folder: found by the relative path, flagged as moved.
    other = tmp_path / "moved"
    other.mkdir()
    shutil.move(str(csv), other / "data.csv")
    shutil.move(str(saved), other / "case.rcainv")
    check = data_file.check_data_file(ref, other / "case.rcainv")
    assert check.status == "moved" and check.usable and check.path == other / "data.csv"
    # Gone: missing, and the engineer is told to locate it.
    (other / "data.csv").unlink()
    check = data_file.check_data_file(ref, other / "case.rcainv")
    assert check.status == "missing" and "Locate it" in check.message
    # A located file is accepted only with the same content.
    wrong = tmp_path / "other.csv"
    wrong.write_text("a,b\n1,2\n")
    assert data_file.check_data_file(ref, candidate=wrong).status == "changed"
    assert data_file.check_data_file(ref, candidate=plant / "data.csv").status == "moved"


def test_read_data_with_and_without_a_layout(plant):
    options = {"gaps": "drop", "dayfirst": None}
    bare = data_file.read_data(plant / "data.csv", options, None, NullProgress())
    assert bare["data"] is None and bare["raw"].n_rows > 0 and bare["options"] == options
    layout = load_layout(plant / "layout.toml")
    read = data_file.read_data(plant / "data.csv", options, layout, NullProgress())
    assert read["data"] is not None and read["data"].layout.target == "yield_pct"
    # The same file under a layout it does not fit: the table stays, the problems are listed.
    from dataclasses import replace

    wrong = replace(layout, target="no_such_kpi", text="")
    misfit = data_file.prepare_data(read["raw"], wrong, options)
    assert misfit["data"] is None and any("no_such_kpi" in p.message for p in misfit["problems"])


def test_data_ref_keeps_how_the_file_was_read(plant):
    raw = data_file.read_data(plant / "data.csv", {}, None, NullProgress())["raw"]
    options = {"sep": ",", "decimal": ".", "dayfirst": True, "gaps": "impute", "sheet": None}
    ref = data_file.data_ref(raw, plant / "data.csv", options)
    assert ref.sha256 == data_file.file_sha256(plant / "data.csv") and ref.file_name == "data.csv"
    assert data_file.read_options(ref) == options
    assert data_file.DataRef.from_dict({**ref.to_dict(), "from_a_later_version": 1}) == ref

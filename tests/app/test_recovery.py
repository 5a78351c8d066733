"""Crash recovery: write, read back with the original path, discard; damaged files are dropped."""
from rca_app.app import recovery


def test_recovery_file_cycle(tmp_path, plant, make_investigation):
    assert recovery.read_recovery(tmp_path) is None
    recovery.write_recovery(make_investigation(plant / "data.csv"), tmp_path, original="/x/case.rcainv")
    got, original = recovery.read_recovery(tmp_path)
    assert original == "/x/case.rcainv" and "_recovery_of" not in got.notes
    assert got.notes["team"] == "Line 7 night shift"
    recovery.discard_recovery(tmp_path)
    assert recovery.read_recovery(tmp_path) is None
    # A damaged recovery file is useless: dropped, not offered.
    recovery.recovery_file(tmp_path).write_text("{")
    assert recovery.read_recovery(tmp_path) is None and not recovery.recovery_file(tmp_path).exists()


def test_never_saved_investigation_has_no_original(tmp_path, plant, make_investigation):
    inv = make_investigation(plant / "data.csv")
    recovery.write_recovery(inv, tmp_path)
    got, original = recovery.read_recovery(tmp_path)
    assert original is None and got.saved_at
    assert "_recovery_of" not in inv.notes   # the open investigation is not changed

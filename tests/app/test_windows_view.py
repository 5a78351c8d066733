"""Windows on the KPI chart: rows, axis coordinates and labels both ways; checks; auto-detect."""
import pytest

from rca_app.app import windows_view as wv


def test_windows_round_trip_through_the_chart_axis(data):
    window = ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]
    x0, x1 = wv.window_to_axis(data, window)
    assert wv.window_from_axis(data, x0, x1) == window
    # A region dragged between samples snaps to the rows inside it.
    back = wv.window_from_axis(data, x0 + 1, x1 - 1)
    rows = wv.window_rows(data, back)
    assert rows == slice(2001, 2300)
    assert "(300 rows)" in wv.window_label(data, window)


def test_auto_windows_do_not_overlap(data):
    w = wv.auto_windows(data, ["2026-03-01T00:00:00", "2026-03-16T00:00:00"])
    an, ref = wv.window_rows(data, w["anomaly"]), wv.window_rows(data, w["reference"])
    assert ref.stop <= an.start
    assert abs(an.start - 2000) < 40
    limits = wv.kpi_limits(data, w["reference"])
    assert limits["lower"] < limits["centre"] < limits["upper"]


@pytest.mark.parametrize("reference, anomaly, words", [
    (None, None, "Mark the incident window"),
    (["2026-03-01T00:00:00", "2026-03-15T00:00:00"], ["2026-03-14T21:20:00", "2026-03-16T23:20:00"], "overlap"),
    (["2026-03-01T00:00:00", "2026-03-01T01:00:00"], ["2026-03-14T21:20:00", "2026-03-16T23:20:00"],
     "at least"),
])
def test_windows_problem_says_what_to_fix(data, reference, anomaly, words):
    assert words in wv.windows_problem(data, reference, anomaly)


def test_a_one_batch_incident_is_a_note_not_a_problem(data):
    # Until incident shapes (issue 12) a 1-row window was refused ("at least 5 are needed").
    x = wv.axis_values(data)[2100]
    window = wv.point_window(data, x + 1.0)      # a click next to the point picks that batch
    assert wv.window_rows(data, window) == slice(2100, 2101)
    assert wv.windows_problem(data, None, window) is None
    assert "one unit" in wv.windows_note(data, None, window)
    assert wv.windows_note(data, None, ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]) is None


def test_good_windows_have_no_problem(data):
    assert wv.windows_problem(data, None, ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]) is None


def test_node_series_per_window(data):
    windows = {"reference": ["2026-03-01T00:00:00", "2026-03-14T21:20:00"], "incident": None}
    s = wv.node_series(data, "resin_supplier", windows)
    assert s["levels"] == ["NordPoly", "Resinex"] and set(s["windows"]) == {"reference"}
    ref = s["windows"]["reference"]
    assert len(ref["x"]) == len(ref["y"]) == 2000 and 0 <= ref["mean"] <= 1

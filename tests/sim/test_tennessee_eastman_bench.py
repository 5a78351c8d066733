"""The Tennessee Eastman benchmark's layout and truth writer (no simulator needed)."""
import json

import numpy as np
import pandas as pd

from bench import tennessee_eastman as te
from rca_app.core.layout import load_layout


def test_layout_places_every_tag_once_and_parses(tmp_path):
    placed = [s for _, sensors in te.STATIONS for s in sensors]
    # 41 XMEAS + 11 XMV (the classic 52 tags) but the two valves the control never moves, and
    # the KPI, each in exactly one station.
    assert sorted(placed) == sorted({*te.XMEAS, *te.XMV, te.KPI} - set(te.FIXED_VALVES))
    assert len(placed) == len(set(placed)) == 51
    (tmp_path / "layout.toml").write_text(te.layout_toml(True), encoding="utf-8")
    (tmp_path / "rows.toml").write_text(te.layout_toml(False), encoding="utf-8")
    timed, rows = load_layout(tmp_path / "layout.toml"), load_layout(tmp_path / "rows.toml")
    assert timed.target == rows.target == te.KPI and timed.goal == "minimize"
    assert timed.time_column == "time" and rows.time_column is None
    assert len(timed.loops) == len(te.LOOPS) and not rows.loops
    assert [(r.source, r.to) for r in timed.recycles] == [(a, b) for a, b, _ in te.RECYCLES]
    assert not rows.recycles
    # The KPI is at the last station, so every tag may be upstream of it.
    assert te.KPI in timed.stations[-1].sensors


def test_every_entry_point_is_a_tag_of_the_layout():
    placed = {s for _, sensors in te.STATIONS for s in sensors}
    for idv, fault in te.FAULTS.items():
        assert fault.entry and set(fault.entry) <= placed - {te.KPI}, idv
        assert fault.kind in {"step", "random", "sticking", "drift"}
    assert {i for i, _ in te.DEFAULT_INCIDENTS} <= set(te.FAULTS)


def test_truth_windows_follow_the_rows(tmp_path):
    tr = te.truth(te.FAULTS[6], seed=2, n_reference=720, n_fault=150, stabilized=False)
    assert tr["root_causes"] == ["feed_A_flow", "a_feed_valve"] and tr["idv"] == 6
    ts = pd.to_datetime([tr["reference"]["start"], tr["reference"]["end"], tr["anomaly"]["end"]])
    assert ts[1] - ts[0] == pd.Timedelta(hours=36)            # 720 rows of 3 minutes
    assert ts[2] - ts[1] == pd.Timedelta(minutes=3 * 150)
    assert tr["anomaly"]["start"] == tr["reference"]["end"] and tr["stabilized"] is False
    json.dumps(tr)


def test_scores_count_the_best_ranked_entry_point():
    ranking = ["purge_flow", "ac_feed_valve", "feed_AC_flow", "reactor_pressure"]
    assert te.best_rank(ranking, ("feed_AC_flow", "ac_feed_valve")) == 2
    assert te.best_rank(ranking, ("feed_A_flow",)) is None
    frame = pd.DataFrame({"a": np.r_[np.zeros(50), np.ones(10)] + np.tile([0.1, -0.1], 30),
                          "b": np.tile([1.0, -1.0], 30), te.KPI: np.arange(60.0)})
    assert te.shift_ranking(frame, te.KPI, slice(0, 50), slice(50, 60)) == ["a", "b"]

"""The change check on time series compares rows the way the model was fitted: each sensor moved
by its residence time to the KPI it became. A setpoint raised at the first station reaches the
product 10 minutes later; the rows in between owe nothing to it."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.data import load_table, prepare
from rca_app.core.impact_records import ChangeSpec
from rca_app.core.impact_run import verify_change
from rca_app.core.layout import load_layout
from rca_app.core.settings import AnalysisSettings

LAG = 10
LAYOUT = f"""
[plant]
name = "Two stations"
target = "y"
goal = "maximize"
time_column = "timestamp"

[[station]]
name = "Feed"
sensors = ["a", "s"]
exogenous = ["a"]
controllable = ["s"]
lag = "{LAG}min"

[[station]]
name = "Product"
sensors = ["y"]
"""


def _plant(tmp_path, n_ref=900, n_inc=200, n_after=200, seed=5):
    rng = np.random.default_rng(seed)
    n = n_ref + n_inc + n_after
    a = rng.laplace(0, 1, n)
    a[n_ref:] -= 1.0                               # the incident: the feed drops, and stays low
    s = 50 + rng.uniform(-0.5, 0.5, n)
    s[n_ref + n_inc:] += 1.0                       # the fix: the setpoint raised by 1
    y = np.full(n, np.nan)
    y[LAG:] = 80 + 2.0 * a[:-LAG] + 1.5 * (s[:-LAG] - 50) + rng.laplace(0, 0.3, n - LAG)
    y[:LAG] = 80
    t = pd.date_range("2026-03-01", periods=n, freq="1min")
    pd.DataFrame({"timestamp": t, "a": a, "s": s, "y": y}).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "layout.toml").write_text(LAYOUT)
    data = prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))
    return data, t, n_ref, n_inc


def test_the_change_check_aligns_rows_by_residence_time(tmp_path):
    data, t, n_ref, n_inc = _plant(tmp_path)
    change = n_ref + n_inc
    out = verify_change(data, ChangeSpec(time=str(t[change]), node="s", value=51.0, kind="setpoint"),
                        reference=(str(t[LAG + 20]), str(t[n_ref - 1])),
                        anomaly=(str(t[n_ref + LAG]), str(t[change - 1])),
                        analysis_settings=AnalysisSettings(graph_bootstrap=0, rank_bootstrap=5, n_jobs=1))
    assert out.analysis.result.dynamics.shifts == {"a": LAG, "s": LAG}
    per_row = out.core.observed - out.core.counterfactual
    # The rows before the raised setpoint reaches the product owe nothing to it (each row's own
    # setpoint scatter against a draw of the before period's: zero on average); afterwards each
    # row owes it 1.5 (the true effect per unit of s), and the mean over the after rows is
    # diluted by the rows it had not yet reached. Rows compared unaligned put the whole effect
    # on the first rows too (about 2 each).
    assert abs(per_row[:LAG].mean()) < 0.4
    assert abs(per_row[LAG + 5:].mean() - 1.5) < 0.15
    assert abs(out.result.effect_mean - 1.5 * (len(per_row) - LAG) / len(per_row)) < 0.15


def test_the_reference_tail_note_names_a_sensors_own_time_across_holes(monkeypatch):
    """A sensor moved forward by k grid steps left its limits k steps before its aligned row's
    time: on a grid with holes (rows dropped for gaps) that is not k rows earlier."""
    from types import SimpleNamespace

    import rca_app.core.windows as windows

    times = pd.Series(pd.to_datetime(["2026-03-01 00:00", "2026-03-01 00:01", "2026-03-01 00:05",
                                      "2026-03-01 00:06", "2026-03-01 00:07"]))     # 00:02-00:04 dropped
    monkeypatch.setattr(windows, "reference_tail_shifts",
                        lambda frame, reference, columns, serial: [windows.TailShift("a", 4, 5.0)])
    note = windows.tail_shift_note(SimpleNamespace(time=times), None, slice(0, 5), ["a"], {"a": 3}, False,
                                   step=pd.Timedelta("1min"))[0]
    # Its aligned row 4 is 00:07; its own time 3 min earlier, 00:04 (row 1, 00:01, counting rows).
    assert "from 2026-03-01T00:04:00" in note

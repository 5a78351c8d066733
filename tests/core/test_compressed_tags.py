"""A historian tag stored by exception (deadband compression) is held as data, not treated as a
lab value (trial 3 #16): declared with [tags.NAME] compressed = true, or recognised by sampling
that is driven by change."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.data import load_table, prepare
from rca_app.core.data.compressed import looks_compressed
from rca_app.core.layout import load_layout, parse_layout

STEP = pd.Timedelta("1min")


def _deadband(values, times, band):
    """The samples an exception-reporting historian keeps: a new one when the value moved beyond the band."""
    kept, last = [0], values[0]
    for i in range(1, len(values)):
        if abs(values[i] - last) > band:
            kept.append(i)
            last = values[i]
    return times[kept], values[kept]


def _signal(n=2400, seed=0):
    rng = np.random.default_rng(seed)
    # Steady stretches and moves (a temperature that wanders between setpoints), scanned every 30 s.
    level = np.repeat(rng.normal(0, 2, n // 200), 200)
    x = pd.Series(level).ewm(span=40).mean().to_numpy() + rng.normal(0, 0.05, n)
    return pd.date_range("2026-03-01", periods=n, freq="30s"), x


def test_a_deadband_tag_is_recognised_and_a_lab_schedule_is_not():
    times, x = _signal()
    t, _ = _deadband(x, times, 0.4)
    assert 20 < len(t) < 600 and looks_compressed(t, STEP)
    lab = pd.date_range("2026-03-01", periods=40, freq="30min")
    assert not looks_compressed(lab, STEP)
    # A lab whose samples come a few minutes early or late keeps its treatment.
    jitter = pd.to_timedelta(np.random.default_rng(1).uniform(-5, 5, 40), unit="min")
    assert not looks_compressed(lab + jitter, STEP)


def _export(tmp_path, compressed=None):
    times, x = _signal()
    t, v = _deadband(x, times, 0.4)
    rows = [("temp_C", s.strftime("%Y-%m-%dT%H:%M:%S"), round(float(a), 3)) for s, a in zip(t, v, strict=True)]
    rng = np.random.default_rng(2)
    rows += [("yield_pct", s.strftime("%Y-%m-%dT%H:%M:%S"), round(90 - 0.5 * float(a) + rng.normal(0, 0.1), 3))
             for s, a in zip(times, x, strict=True)]
    pd.DataFrame(rows, columns=["Tagname", "TimeStamp", "Value"]).to_csv(tmp_path / "e.csv", index=False)
    tags = "" if compressed is None else f"[tags.temp_C]\ncompressed = {str(compressed).lower()}\n"
    (tmp_path / "l.toml").write_text('[plant]\nname = "c"\ntarget = "yield_pct"\nsample = "1min"\n'
                                     '[[station]]\nname = "A"\nsensors = ["temp_C"]\n'
                                     '[[station]]\nname = "B"\nsensors = ["yield_pct"]\n' + tags, encoding="utf-8")
    return prepare(load_table(tmp_path / "e.csv"), load_layout(tmp_path / "l.toml"))


def test_a_compressed_tag_is_held_as_data_and_said(tmp_path):
    data = _export(tmp_path)
    rep = next(t for t in data.tag_reports if t.tag == "temp_C")
    assert rep.compressed and rep.sample_times == () and rep.rule == "last"     # never a lab tag
    said = [p.message for p in data.problems if p.column == "temp_C"]
    assert any("sampled by change" in m and "compressed = false" in m for m in said), said
    assert not any("step function" in m for m in said)
    assert data.frame["temp_C"].notna().all()


def test_declared_false_keeps_the_lab_treatment(tmp_path):
    data = _export(tmp_path, compressed=False)
    rep = next(t for t in data.tag_reports if t.tag == "temp_C")
    assert not rep.compressed and rep.sample_times


def test_the_key_round_trips_through_the_layout_text():
    lay = parse_layout('[plant]\nname = "c"\ntarget = "y"\n[[station]]\nname = "A"\nsensors = ["x", "y"]\n'
                       '[tags.x]\ncompressed = true\n')
    assert lay.tag_compressed == {"x": True}
    assert "compressed = true" in lay.to_toml()

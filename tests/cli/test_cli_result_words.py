"""The terminal summary shows what the result computed: the KPI's own entry named, drift onsets,
restoration ranges over undetermined directions, controller outputs, valve positions and why an
estimated residence time was not used (user-trial defects 4, 5 and 16)."""
from __future__ import annotations

import json
from pathlib import Path

from rca_app.cli_text import dynamics_lines, format_summary
from rca_app.core.results import DynamicsRecord, LagRecord, LoopRecord, as_result

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "chemical_reactor.json"

LOOPS_TOML = """
[[loop]]
controlled = "reactor_temp_C"
manipulated = "coolant_flow_m3h"
low = 0.0
high = 40.0
"""


def _result(**dynamics):
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    # The golden file leaves out what varies by machine.
    data["diagnostics"].setdefault("timings", {})
    data.setdefault("software", {})
    data["input"].setdefault("path", "data.csv")
    data["layout"].setdefault("path", "layout.toml")
    r = as_result(data)
    for k, v in dynamics.items():
        setattr(r.dynamics, k, v)
    return r


def test_the_kpis_own_entry_is_labelled_and_drift_onsets_are_listed():
    text = format_summary(_result())
    kpi_line = next(i for i, x in enumerate(text.splitlines()) if x.strip().startswith("4  yield_pct"))
    assert "(KPI itself, unexplained" in text.splitlines()[kpi_line + 1]
    assert "Drift onsets" in text
    assert "preheater_outlet_temp_C: its own drift began at incident row 0" in text
    assert "coolant_flow_m3h: no onset of its own found" in text


def test_a_restoration_range_over_undetermined_directions_is_shown_under_its_cause():
    r = _result()
    r.root_causes[1].restoration_range = (-0.05, 1.26)
    text = format_summary(r)
    assert "range -5% to 126% over undetermined directions" in text


def test_an_action_on_a_loops_valve_says_it_is_a_controller_output():
    r = _result()
    r.layout.text = (r.layout.text or "") + LOOPS_TOML
    text = format_summary(r)
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("  set coolant_flow_m3h")))
    notes = [x for x in text.splitlines()[line + 1:line + 4] if "note:" in x]
    assert notes and "output of the controller of reactor_temp_C" in notes[0]
    assert not any("output of the controller" in x for x in text.splitlines()
                   if x.startswith("  set steam_flow_kgh"))


def test_loop_line_gives_the_valves_position_and_its_declared_limit():
    r = _result()
    r.layout.text = (r.layout.text or "") + LOOPS_TOML
    coolant = next(c for c in r.root_causes if c.node == "coolant_flow_m3h")
    rec = LoopRecord("reactor_temp_C", "coolant_flow_m3h", mv_shift_sd=2.0, cv_shift_sd=0.1, compensated=True,
                     limit_use=0.5, limits_declared=True)
    line = next(x for x in dynamics_lines(DynamicsRecord(step="1min", loops=[rec]), r) if "loop" in x)
    assert f"averaged {coolant.evidence.anomaly_mean:.4g} in the incident" in line
    assert "50% of the way to its declared limit 40" in line


def test_every_untrusted_lag_estimate_gets_its_own_note():
    lags = [LagRecord("Feeds", "Reactor", "0s", 0, False, estimate_steps=1, confidence=0.0),
            LagRecord("Reactor", "Separator", "3min", 1, False, estimate_steps=1, confidence=1.0),
            LagRecord("Separator", "Stripper", "0s", 0, False, estimate_steps=2, confidence=0.0)]
    lines = dynamics_lines(DynamicsRecord(step="3min", lags=lags, shifts={"x": 1}))
    notes = [x for x in lines if "note:" in x]
    assert len(notes) == 2
    assert "1 row = 3 min" in notes[0] and "on Feeds" in notes[0]
    assert "2 rows = 6 min" in notes[1] and "on Separator" in notes[1]

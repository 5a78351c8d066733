"""A control loop as declared in the layout, read against the data: declared the wrong way round,
with limits that are not its valve's, in manual, or swinging between both limits (trial 2, #9 and #12).

The plant is one PI loop simulated row by row (milliseconds), read by
:func:`rca_app.core.control_loops.loop_readings` as the analysis reads it.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from rca_app.core.control_loops import loop_readings, loop_state
from rca_app.core.layout import parse_layout

N_REF, N_INC = 600, 200


def _pi_loop(seed=0, load_step=4.0, manual=False, bang_bang=False):
    """A temperature near 180 degC held by a cooling valve (0-100 %) with a PI law; from row N_REF on a
    load steps up (the valve opens to reject it). ``manual``: the valve is frozen in the incident, so
    the temperature takes the load. ``bang_bang``: in the incident the valve swings from one limit to
    the other every 10 rows (a controller in a limit cycle)."""
    rng = np.random.default_rng(seed)
    n = N_REF + N_INC
    temp, valve = np.empty(n), np.empty(n)
    t, v = 180.0, 40.0
    for k in range(n):
        load = 1.0 * rng.normal() + (load_step if k >= N_REF else 0.0)
        t_new = 180.0 + 0.6 * (t - 180.0) - 0.25 * (v - 40.0) + 0.5 * load + 0.2 * rng.normal()
        if k >= N_REF and manual:
            v_new = v
        elif k >= N_REF and bang_bang:
            v_new = 100.0 if (k // 10) % 2 else 0.0
        else:
            # Velocity form: the change follows the temperature's change and its error (integral action).
            v_new = v + 0.8 * (t_new - t) + 0.6 * (t_new - 180.0)
        t, v = t_new, float(np.clip(v_new, 0.0, 100.0))
        temp[k], valve[k] = t, v
    frame = pd.DataFrame({"load_pct": rng.normal(size=n), "reactor_temp_C": temp, "coolant_valve_pct": valve,
                          "yield_pct": 90 - 0.3 * (temp - 180) + 0.1 * rng.normal(size=n)})
    return frame.iloc[:N_REF].reset_index(drop=True), frame.iloc[N_REF:].reset_index(drop=True)


def _layout(controlled, manipulated, limits=True):
    lim = "low = 0.0\nhigh = 100.0\n" if limits else ""
    return parse_layout(
        '[plant]\nname = "t"\ntarget = "yield_pct"\n'
        '[[station]]\nname = "Feed"\nsensors = ["load_pct"]\n'
        '[[station]]\nname = "Reactor"\nsensors = ["reactor_temp_C", "coolant_valve_pct"]\n'
        '[[station]]\nname = "Product"\nsensors = ["yield_pct"]\n'
        f'[[loop]]\ncontrolled = "{controlled}"\nmanipulated = "{manipulated}"\n{lim}')


def _read(layout, ref, an):
    ranking = SimpleNamespace(root_causes=[])
    (rec,), notes = loop_readings(layout, ref, an, ranking, None)
    return rec, notes


def test_a_loop_declared_as_it_runs_is_not_questioned():
    ref, an = _pi_loop()
    rec, notes = _read(_layout("reactor_temp_C", "coolant_valve_pct"), ref, an)
    assert rec.compensated and rec.questioned is None and rec.limits_declared
    assert loop_state(rec) == "compensated"
    assert not any("swapped" in n or "questioned" in n for n in notes), notes


def test_a_manipulated_variable_outside_its_declared_limits_is_questioned_and_the_swap_suggested():
    # Trial 2 #9: a 180 degC temperature declared as the manipulated variable with valve limits 0-100
    # was read as "0% of the way to its declared limit 100".
    ref, an = _pi_loop()
    rec, notes = _read(_layout("coolant_valve_pct", "reactor_temp_C"), ref, an)
    assert rec.questioned is not None and "swapped" in rec.questioned
    assert loop_state(rec).startswith("declaration questioned")
    # The limits are not the temperature's travel: nothing is read against them.
    assert not rec.limits_declared and not rec.saturated
    note = next(n for n in notes if "swapped" in n)
    assert (note.kind, note.severity) == ("loop", "warning")
    assert "reactor_temp_C" in note and "outside the limits declared for it (0 to 100)" in note
    assert 'controlled = "reactor_temp_C", manipulated = "coolant_valve_pct"' in note
    assert not any(n.startswith("the controller of") for n in notes), notes


def test_a_controlled_variable_that_moved_while_the_manipulated_held_is_read_as_swapped():
    # Without limits to contradict it, the reversed pattern and the reference's controller signature
    # (the valve's changes follow the temperature's level) name the swap.
    ref, an = _pi_loop()
    rec, notes = _read(_layout("coolant_valve_pct", "reactor_temp_C", limits=False), ref, an)
    assert rec.questioned is not None and "swapped" in rec.questioned
    note = next(n for n in notes if "swapped" in n)
    assert "coolant_valve_pct moved" in note and "reactor_temp_C held" in note
    assert "coolant_valve_pct's changes follow reactor_temp_C's level" in note
    assert note.severity == "warning"


def test_a_loop_in_manual_is_not_taken_for_a_wrong_declaration():
    # The valve frozen in the incident: the temperature takes the load, but the reference shows the
    # controller as declared, so the loop exists and was in manual.
    ref, an = _pi_loop(manual=True)
    rec, notes = _read(_layout("reactor_temp_C", "coolant_valve_pct"), ref, an)
    assert rec.questioned is None and not rec.compensated
    note = next(n for n in notes if "in manual" in n)
    assert (note.kind, note.severity) == ("loop", "caution") and "swapped" not in note


def test_a_valve_swinging_between_both_limits_is_saturated_at_both():
    # Trial 2 #12: purge_valve swung between 0 and 100; the loop line named the upper limit, the note
    # the lower one.
    ref, an = _pi_loop(bang_bang=True)
    rec, notes = _read(_layout("reactor_temp_C", "coolant_valve_pct"), ref, an)
    assert rec.saturated and rec.saturated_limits == [0.0, 100.0]
    assert loop_state(rec).startswith("saturated at both limits")
    lead = notes[0]
    assert (lead.kind, lead.severity) == ("limit", "warning")
    assert "swung between its declared limits" in lead and "lower (0)" in lead and "upper (100)" in lead


def test_a_valve_at_one_limit_is_saturated_at_that_one():
    ref, an = _pi_loop(load_step=40.0)
    rec, notes = _read(_layout("reactor_temp_C", "coolant_valve_pct"), ref, an)
    assert rec.saturated and rec.saturated_limits == [100.0]
    assert loop_state(rec) == "saturated (lost authority)"
    assert "went to its declared upper limit (100)" in notes[0]

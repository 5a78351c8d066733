"""A moved setpoint whose loop has no path to the KPI: ranked first without a restoration, said as
such, never shown as 0% (the origin's rule, RootCause.no_restoration)."""
from __future__ import annotations

import math

from rca_app.app.result_words import no_restoration_text
from rca_app.core.layout.time_keys import Loop
from rca_app.core.loop_setpoints import SetpointReading, _setpoint_cause


def test_a_setpoint_whose_loop_has_no_path_has_no_restoration_not_zero():
    lp = Loop(controlled="reactor_temp_C", manipulated="coolant_valve_pct", setpoint="reactor_temp_sp")
    sp = SetpointReading(moved_sd=6.0, error_sd=0.1, reference_mean=180.0, incident_mean=183.0, changed_row=4)
    cause = _setpoint_cause(lp, sp, None, "Reactor")
    assert cause.no_restoration == "no_path_setpoint"
    assert math.isnan(cause.restoration) and all(math.isnan(v) for v in cause.restoration_ci)
    why = no_restoration_text(cause, "yield_pct")
    assert why is not None and "no path from the loop reactor_temp_sp sets to yield_pct" in why
    assert "the setpoint the operators changed" in why

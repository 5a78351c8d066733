"""Whether a What-if setting rests on what the plant showed, judged by the rule the actions follow.

A What-if sets a setpoint for every incident row and reads the KPI the model predicts. Two
things can carry that prediction beyond the plant's rows, and the warning names both, in the
words of the rest of the product:

- the setting itself lies beyond the range the plant showed for that setpoint
  (:func:`rca_app.core.support.plant_ranges`: the reference and the incident rows). A setting
  is applied as given (the do-operator sets it, nothing bounds it), but every value the model
  computes from it is held within what the plant showed widened by
  :data:`~rca_app.core.support.SUPPORT_MARGIN` of that range (:mod:`rca_app.core.support`), so
  past that point the prediction stops following the setting;
- the model, left unbounded, puts the KPI :data:`~rca_app.core.action_support.KPI_BEYOND_SD`
  reference sds or more beyond anything it took (:func:`~rca_app.core.action_support.kpi_beyond`):
  the rule by which the ranking leaves a setpoint out of its actions. The prediction shown is then
  the bound, not the model's figure.
"""
from __future__ import annotations

import numpy as np

from rca_app.core.action_support import KPI_BEYOND_SD, kpi_beyond, kpi_envelope
from rca_app.core.encoding import encode_value
from rca_app.core.lagged_model import Scenario, lag_inputs, propagate_in_time, with_setting
from rca_app.core.queries import incident_abduction, propagate
from rca_app.core.support import PLANT_RANGE_WORDS, SUPPORT_MARGIN, plant_ranges


def unbounded_what_if(scm, incident, node: str, value) -> np.ndarray:
    """Per-row KPI of the incident rows under do(node = value), the model trusted beyond what the
    plant showed (as the action support rule judges a setting).

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    node : str
    value : float or str

    Returns
    -------
    ndarray
    """
    ab = incident_abduction(scm, incident.anomaly)
    enc = encode_value(scm.levels_, node, value)
    if lag_inputs(scm):
        scen = with_setting(Scenario(), node, enc, ab.n_rows, ab.values[node].dtype)
        return propagate_in_time(scm, ab.values, ab.noise, [scen], incident.target, ab.n_rows, bounds={})[0]
    return propagate(scm, ab.values, ab.noise, set(), {node: enc}, stop_at=incident.target,
                     bounds={})[incident.target]


def setting_warning(scm, incident, node: str, value) -> str | None:
    """What the What-if must say about a setting the plant's rows do not support, or None.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    node : str
        A numeric setpoint with a path to the KPI.
    value : float

    Returns
    -------
    str or None
    """
    value = float(value)
    target = incident.target
    parts = []
    rng = plant_ranges(scm, incident_abduction(scm, incident.anomaly).values, [node]).get(node)
    if rng is not None and not rng[0] <= value <= rng[1]:
        lo, hi = rng
        parts.append(
            f"{value:.4g} lies beyond {PLANT_RANGE_WORDS} for {node}: {lo:.4g} to {hi:.4g}. The setting is applied "
            f"as given, but every value the model computes from it ({target} included) is held within the range the "
            f"plant showed widened by {100 * SUPPORT_MARGIN:.0f}% of it on each side, so beyond that the prediction "
            "stops following the setting")
    beyond = float(kpi_beyond(unbounded_what_if(scm, incident, node, value), kpi_envelope(incident)))
    if not beyond < KPI_BEYOND_SD:
        far = f"{beyond:.1f} reference sd" if np.isfinite(beyond) else "far"
        parts.append(
            f"left unbounded the model would put {target} {far} beyond anything it took in the reference and the "
            "incident: the prediction shown is held at that bound rather than the model's figure, and a setting "
            "like this is never proposed as an action")
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."

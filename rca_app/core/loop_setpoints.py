"""A control loop read against its setpoint tag (trial 3, #14 and #15).

A declared ``setpoint = "TAG"`` is the loop's reference, not a candidate cause: the controlled
variable (CV) "held" when it stayed at its setpoint, wherever that was. When the operators moved
the setpoint in the incident and the CV followed it, the setpoint change is the cause they made:
it is put first in the ranking, and the manipulated variable (MV), which moved to hold the CV at
its new setpoint, is read as the controller's answer.

The structural model does not see the setpoint (it is not a node), so the change sits in the own
behaviour of the loop's pair, mostly of the MV (the controller's law without its setpoint): the
setpoint's restoration is that of the pair member the model credits most.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A setpoint tag the operators moved by this many of the CV's reference sds moved clearly.
SETPOINT_MOVED_SD = 2.0


@dataclass
class SetpointReading:
    """A loop's CV against its setpoint tag, in the CV's reference sds.

    Attributes
    ----------
    moved_sd : float
        The setpoint's incident mean minus its reference mean.
    error_sd : float
        The same for the CV's distance from its setpoint (CV - setpoint): near 0 when the CV held
        its setpoint, wherever the operators put it.
    reference_mean, incident_mean : float
        The setpoint's means.
    changed_row : int or None
        First incident row where the setpoint left its reference range.
    """

    moved_sd: float
    error_sd: float
    reference_mean: float
    incident_mean: float
    changed_row: int | None


def setpoint_reading(lp, clock) -> SetpointReading | None:
    """The CV read against its setpoint tag on the rows as recorded.

    Parameters
    ----------
    lp : Loop
    clock : (DataFrame, DataFrame) or None
        Reference and incident rows as recorded.

    Returns
    -------
    SetpointReading or None
        None for a fixed setpoint or a tag not in the data.
    """
    if clock is None or not isinstance(lp.setpoint, str):
        return None
    ref, an = clock
    if any(c not in f.columns for f in (ref, an) for c in (lp.setpoint, lp.controlled)):
        return None
    sp_r, sp_a = ref[lp.setpoint].to_numpy(float), an[lp.setpoint].to_numpy(float)
    cv_r, cv_a = ref[lp.controlled].to_numpy(float), an[lp.controlled].to_numpy(float)
    ok_r, ok_a = np.isfinite(sp_r) & np.isfinite(cv_r), np.isfinite(sp_a) & np.isfinite(cv_a)
    if ok_r.sum() < 2 or ok_a.sum() < 1:
        return None
    sp_r, cv_r, sp_a, cv_a = sp_r[ok_r], cv_r[ok_r], sp_a[ok_a], cv_a[ok_a]
    unit = float(np.std(cv_r)) or 1.0
    moved = (float(sp_a.mean()) - float(sp_r.mean())) / unit
    error = (float((cv_a - sp_a).mean()) - float((cv_r - sp_r).mean())) / unit
    sp_all = an[lp.setpoint].to_numpy(float)
    outside = np.flatnonzero((sp_all < sp_r.min()) | (sp_all > sp_r.max()))
    return SetpointReading(moved, error, float(sp_r.mean()), float(sp_a.mean()),
                           int(outside[0]) if len(outside) else None)


def followed_setpoint(lp, sp: SetpointReading, cv_shift: float, mv_shift: float, ranking, station: str,
                       start_time, step) -> str:
    """The note of a loop whose CV followed a setpoint the operators moved; the setpoint is put
    first in the ranking (in place), as the cause they made.

    Parameters
    ----------
    lp : Loop
    sp : SetpointReading
    cv_shift, mv_shift : float
        The CV's and MV's shifts in reference sds.
    ranking : RankingResult
        Its ``root_causes`` get the setpoint first (an entry is added when it is not ranked).
    station : str
        The loop's station.
    start_time : Timestamp or None
    step : Timedelta or None

    Returns
    -------
    str
    """
    from rca_app.core.control_loops import _when, move_before

    when = f" {_when(sp.changed_row, 0, start_time, step)}" if sp.changed_row is not None else ""
    text = (f"the operators moved the setpoint {lp.setpoint} of {lp.controlled} from {sp.reference_mean:.4g} "
            f"(reference mean) to {sp.incident_mean:.4g} (incident mean){when}, and the controller followed it: "
            f"{lp.controlled} moved {cv_shift:+.1f} reference sd with its setpoint and stayed within "
            f"{abs(sp.error_sd):.1f} sd of it, while {lp.manipulated} moved {mv_shift:+.1f} sd to hold it there (the "
            "controller's answer, not a cause)")
    causes = list(ranking.root_causes)
    if not causes:
        return text + "."
    if lp.setpoint not in [c.node for c in causes]:
        # The model does not see the setpoint: its change sits in the own behaviour of the loop's
        # pair (the controller's law without its setpoint), mostly of the MV. The pair member the
        # model credits most carries it, so its restoration is the setpoint's.
        pair = [c for c in causes if c.node in (lp.controlled, lp.manipulated)]
        carrier = max(pair, key=lambda c: c.restoration) if pair else None
        ranking.root_causes.append(_setpoint_cause(lp, sp, carrier, station))
        if carrier is not None:
            text += (f". The model does not see the setpoint, so its change sits in {carrier.node}'s own behaviour: "
                     f"restoring the setpoint restores what the model credits to {carrier.node} "
                     f"({100 * carrier.restoration:.0f}%), which is the setpoint's restoration")
        else:
            text += (f". The model has no path from {lp.controlled} or {lp.manipulated} to the KPI, so the setpoint's "
                     "restoration is not known")
    first = ranking.root_causes[0].node
    if first != lp.setpoint:
        move_before(ranking, lp.setpoint, first)
    return text + ". The setpoint change is ranked first, as the cause the operators made: check why it was changed."


def _setpoint_cause(lp, sp: SetpointReading, cv, station: str):
    """A ranking entry for a setpoint tag the CV followed: the restoration of ``cv``, the loop's
    ranked member that carries the setpoint's change in the model (none without one), and the
    setpoint's own evidence."""
    from rca_app.core.records import Evidence, RootCause

    evidence = Evidence(reference_mean=sp.reference_mean, reference_sd=None, anomaly_mean=sp.incident_mean,
                        anomaly_sd=None, shift_sd=sp.moved_sd, noise_shift_z=None, noise_sd_ratio=None)
    if cv is None:
        nan = float("nan")
        return RootCause(node=lp.setpoint, station=station, restoration=nan, restoration_ci=(nan, nan),
                         share_ranked_first=0.0, controllable=True, categorical=False, evidence=evidence,
                         no_restoration="no_path_setpoint")
    return RootCause(node=lp.setpoint, station=cv.station, restoration=cv.restoration,
                     restoration_ci=(cv.restoration_ci[0], cv.restoration_ci[1]), share_ranked_first=0.0,
                     controllable=True, categorical=False, evidence=evidence,
                     restoration_range=cv.restoration_range)

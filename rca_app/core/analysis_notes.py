"""Notes an analysis adds for the engineer about its own limits: sensors constant in the reference,
levels new in the incident, restorations far above the loss or beyond the KPI's range, a first cause
whose restoration is no correction, causes that hardly moved, sensors left out of the ranking,
estimates outside their interval.

Each is a plain function of the data or the ranking, so the CLI, the GUI and the tests read the
same text (:func:`rca_app.core.analysis.run_analysis` collects them into the result's messages);
each note says its kind and severity (:class:`~rca_app.core.result_notes.Note`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rca_app.core.data import PlantData
from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.result_notes import Note, share_text

# Restoring one cause can give back the whole loss and, with curved mechanisms, somewhat more;
# several times the loss is not physics but a model pushed far outside the rows it learnt from.
IMPLAUSIBLE_RESTORATION = 2.0
# A first cause whose restoration gives back this share of the loss or less (a quarter of it the
# wrong way) would, by the model, make the KPI clearly worse if returned alone.
WORSE_RESTORATION = -0.25


def extrapolation_note(causes, ref: pd.DataFrame, an: pd.DataFrame, beyond: dict[str, float] | None = None,
                       target: str = "the KPI") -> list[Note]:
    """A note naming the leading restorations that rest on extrapolation: several times the loss,
    or a counterfactual that carries the KPI beyond everything it took (``beyond``, from
    :func:`rca_app.core.action_support.kpi_beyond`), with how far the incident took each sensor.

    Parameters
    ----------
    causes : list of RootCause
    ref, an : DataFrame
        Reference and incident rows.
    beyond : dict of str to float, optional
        Per cause, how far its restoration carries the KPI beyond its range, in reference sds.
    target : str

    Returns
    -------
    list of Note
        Kind "extrapolation"; severity "warning" when the first cause's figure is among them.
    """
    from rca_app.core.action_support import KPI_BEYOND_SD

    beyond = beyond or {}
    big = [c for c in causes[:5] if not c.unmeasured and np.isfinite(c.restoration)
           and (abs(c.restoration) > IMPLAUSIBLE_RESTORATION or beyond.get(c.node, 0.0) >= KPI_BEYOND_SD)]
    if not big:
        return []
    parts = []
    for c in big:
        col = ref[c.node] if c.node in ref.columns else None
        if col is not None and pd.api.types.is_numeric_dtype(col) and float(col.std()) > 0:
            away = (float(an[c.node].mean()) - float(col.mean())) / float(col.std())
            text = f"{c.node} ({share_text(c.restoration)}, incident {away:+.0f} reference sd away)"
        else:
            text = f"{c.node} ({share_text(c.restoration)})"
        b = beyond.get(c.node, 0.0)
        if b >= KPI_BEYOND_SD:
            text += f" puts {target} {b:.0f} reference sd beyond anything it took"
        parts.append(text)
    lead = causes[0] in big
    return [Note("Restorations that rest on extrapolation: " + "; ".join(parts) + ". The model was carried far "
                 "outside the rows it learnt from: restoring these sensors sends their effects through mechanisms "
                 "extrapolated beyond the reference range, so these figures are the model's, not the plant's, and "
                 "their order is uncertain; the sensors' own shifts (Evidence) and the process knowledge of what "
                 "moved first are the better guide here.", "extrapolation", "warning" if lead else "caution")]


def leading_cause_note(causes, beyond: dict[str, float], target: str) -> list[Note]:
    """A warning when the cause reported first has a restoration that cannot be read as a correction.

    The first cause can lead for when and where it moved (a loop, drift or disturbance-origin
    reading) while its own restoration is negative (the model says returning it alone makes the
    KPI worse) or rests on extrapolation: the figure is then no measure of what correcting it
    would do, and a controllable one is no "return it to its reference level" on this evidence.

    Parameters
    ----------
    causes : list of RootCause
        In the order reported.
    beyond : dict of str to float
        Per cause, how far its restoration carries the KPI beyond its range, in reference sds.
    target : str

    Returns
    -------
    list of Note
        Kind "extrapolation", severity "warning"; empty when the first figure reads as it is.
    """
    from rca_app.core.action_support import KPI_BEYOND_SD

    if not causes:
        return []
    top = causes[0]
    b = beyond.get(top.node, 0.0)
    worse = top.restoration <= WORSE_RESTORATION
    if top.unmeasured or top.node == target or not np.isfinite(top.restoration) or (
            not worse and b < KPI_BEYOND_SD and abs(top.restoration) <= IMPLAUSIBLE_RESTORATION):
        return []
    best = max((c for c in causes if np.isfinite(c.restoration)), key=lambda c: c.restoration)
    why = ("for when and where it moved (see the loop and disturbance-origin readings), not for its restoration"
           if best is not top else "by its restoration")
    claims = []
    if worse:
        claims.append(f"says that {top.node} returned alone to its reference behaviour would make {target} worse")
    if b >= KPI_BEYOND_SD:
        claims.append(f"rests on the model carried {b:.0f} reference sd beyond anything {target} took")
    elif abs(top.restoration) > IMPLAUSIBLE_RESTORATION:
        claims.append("rests on the model carried far outside the rows it learnt from")
    figure = f"its restoration ({share_text(top.restoration)}) " + " and ".join(claims)
    text = (f"{top.node} is ranked first {why}; {figure}. That figure is no measure of what correcting "
            f"{top.node} would do.")
    if top.controllable:
        text += (f" Returning {top.node} to its reference level is not shown by these data to be the correction: "
                 "find what drove it (a controller's output follows its loop) before moving it.")
    return [Note(text, "extrapolation", "warning")]


def constant_in_reference(data: PlantData, ref: pd.DataFrame, an: pd.DataFrame,
                           constant_kpi_ranked: bool = False) -> list[tuple[str, Note]]:
    """Sensors that do not vary in the reference period, with a message for each.

    A setpoint left alone for months and then moved during the incident is typical: its effect
    cannot be learnt from the reference, so it cannot be ranked, but the engineer must hear that
    it changed. ``constant_kpi_ranked``: a KPI constant in the reference that changed in the
    incident is ranked by anomaly (see core/incident_shapes.py) rather than refused."""
    out = []
    target = data.layout.target
    for c in ref.columns:
        if c in data.categorical_nodes:
            levels = ref[c].astype(str).unique()
            if len(levels) > 1:
                continue
            moved = set(an[c].astype(str).unique()) != set(levels)
            before, after = f"'{levels[0]}'", ", ".join(sorted(set(an[c].astype(str))))
        else:
            v = ref[c].to_numpy(float)
            if v.std() > 0:
                continue
            moved = bool(np.any(an[c].to_numpy(float) != v[0]))
            before, after = f"{v[0]:.6g}", f"mean {an[c].mean():.6g}"
        if c == target and constant_kpi_ranked and moved:
            continue
        if c == target:
            raise RcaInputError(Problem(f"{c} (the KPI) is constant ({before}) in the reference period: "
                                        "there is no reference behaviour to compare with", file=data.file_name,
                                        column=c))
        if moved:
            msg = (f"{c} was constant ({before}) throughout the reference period and changed in the incident "
                   f"({after}). Its effect cannot be learnt from these data, so it is left out of the ranking: "
                   "check this change first.")
        else:
            msg = f"{c} was constant ({before}) in the reference period and is left out of the analysis."
        out.append((c, Note(msg, "data", "caution" if moved else "info")))
    return out


def points_outside_intervals(ranking) -> list[Note]:
    """A note for every estimate that lies outside its own 90% interval.

    Percentile intervals from refits can exclude the estimate on all rows when the refits are
    biased against it (a small reference period, a mechanism at the edge of its data): the
    engineer must hear that this estimate is unstable rather than see a contradiction."""
    out = []

    def outside(x: float, ci) -> bool:
        lo, hi = ci
        return all(math.isfinite(v) for v in (x, lo, hi)) and not (lo - 1e-9 <= x <= hi + 1e-9)

    for c in ranking.root_causes:
        if outside(c.restoration, c.restoration_ci):
            lo, hi = c.restoration_ci
            out.append(Note(f"{c.node}: its restoration ({share_text(c.restoration)}) lies outside its 90% interval "
                            f"({share_text(lo)} to {share_text(hi)}): the refits on resampled reference rows disagree "
                            "with the fit on all rows, so this estimate is unstable; read it with care.",
                            "unstable", "caution"))
    for a in ranking.actions:
        if outside(a.predicted_target, a.predicted_target_ci):
            lo, hi = a.predicted_target_ci
            out.append(Note(f"setting {a.node}: the predicted KPI ({a.predicted_target:.4g}) lies outside its 90% "
                            f"interval ({lo:.4g} to {hi:.4g}): the prediction is unstable; read it with care.",
                            "unstable", "caution"))
    return out


def new_levels(data: PlantData, ref: pd.DataFrame, an: pd.DataFrame) -> list[Note]:
    """A note for each categorical level seen only in the incident (its effect cannot be learnt)."""
    msgs = []
    for c in data.categorical_nodes:
        new = sorted(set(an[c].astype(str)) - set(ref[c].astype(str)))
        if new:
            msgs.append(Note(
                f"{c}: level(s) {', '.join(new)} appear only in the incident window. Their effect cannot "
                "be learnt from the reference period, so the ranking attributes it to the sensors "
                f"{c} acts on. Include some rows with {', '.join(new)} in the reference to rank {c} itself.",
                "data", "info"))
    return msgs


UNMOVED_SD = 0.5             # a cause that moved less than this many reference sds ...
UNMOVED_RESTORATION = 0.5    # ... yet restores more than this share of the loss is flagged


def unmoved_cause_notes(causes, target: str, top: int = 5) -> list[str]:
    """A note for each leading cause that hardly moved in the incident yet restores over half the
    loss: its restoration comes from the model's mechanisms, not from a change of its own, which
    is what a misaligned residence time or a controlled variable produces.

    Parameters
    ----------
    causes : list of RootCause
    target : str
    top : int
        Leading causes looked at.

    Returns
    -------
    list of str
    """
    out = []
    for c in causes[:top]:
        ev = c.evidence
        if (c.unmeasured or c.node == target or ev is None or ev.shift_sd is None
                or not np.isfinite(c.restoration) or c.restoration <= UNMOVED_RESTORATION
                or abs(ev.shift_sd) >= UNMOVED_SD):
            continue
        out.append(f"{c.node} restores {share_text(c.restoration)} of the loss although it hardly moved in the "
                   f"incident ({ev.shift_sd:+.1f} reference sd): that restoration comes from the model's mechanisms, "
                   f"not from a change of {c.node} itself. Check the residence times around it and any control "
                   "loop that holds it before reading it as a cause.")
    return out


UNRANKED_MOVED_SD = 3.0      # a sensor left out of the ranking that moved this much is named
UNRANKED_SHOWN = 6            # sensors named in that note (the largest moves)


def unranked_notes(causes, ref: pd.DataFrame, an: pd.DataFrame, sensors, target: str, graph) -> list[str]:
    """Sensors that moved clearly in the incident but are not in the ranking, each with the reason.

    Parameters
    ----------
    causes : list of RootCause
    ref, an : DataFrame
        Reference and incident rows.
    sensors : iterable of str
        Numeric sensors of the analysis.
    target : str
    graph : CausalGraph
        The graph the ranking followed (summary over time).

    Returns
    -------
    list of str
    """
    ranked = {c.node for c in causes} | {n for c in causes for n in c.acts_on}
    parts = []
    for n in sensors:
        if n == target or n in ranked or n not in ref.columns or n not in graph.nodes:
            continue
        r = ref[n].to_numpy(float)
        sd = float(r.std())
        moved = (float(an[n].to_numpy(float).mean()) - float(r.mean())) / sd if sd > 0 else 0.0
        if abs(moved) < UNRANKED_MOVED_SD:
            continue
        why = (f"it is downstream of {target}" if target in graph.ancestors(n)
               else f"the graph has no path from it to {target}")
        parts.append((abs(moved), f"{n} ({moved:+.1f} sd: {why})"))
    if not parts:
        return []
    # The largest moves first; a plant-wide upset can move dozens: name the leading few.
    parts.sort(key=lambda p: -p[0])
    shown = [text for _, text in parts[:UNRANKED_SHOWN]]
    more = f"; and {len(parts) - UNRANKED_SHOWN} more" if len(parts) > UNRANKED_SHOWN else ""
    return ["Not in the ranking although they moved clearly in the incident: " + "; ".join(shown) + more + ". A sensor "
            f"without a path to {target} cannot restore any of its loss; if you know it acts on {target}, add the "
            "edge in the graph editor (a controller's output often has no path of its own: see any loop proposal)."]

"""Whether a counterfactual's figure rests on the plant's rows or on the model carried beyond them.

A restoration or a setpoint action is computed by sending a change through the fitted mechanisms
on the incident rows. Where that change carries the KPI far beyond everything it took in the
reference and the incident, the figure is the model's extrapolation, not something the data
support: a setpoint that hardly moved in the reference (a valve under a flow controller, 0.1 %
of travel) set a whole percent away, or a curved mechanism driven far past its data, gives
restorations of thousands of percent and operating costs below zero. The yardstick is the KPI
itself (:func:`kpi_beyond`): its counterfactual rows' mean distance beyond the range it took, in
its reference sds. Settings beyond :data:`KPI_BEYOND_SD` are never proposed
(:func:`rca_app.core.rootcause.rank_root_causes`), and restorations beyond it are named in the
notes (:mod:`rca_app.core.analysis_notes`).

The setpoints left out are records (:class:`~rca_app.core.results.NotProposedAction`), kept in
the result's ``not_proposed``: the report, the window and the terminal read them there, never from
the note's wording. The ranking carries them (``RankingResult.not_proposed``) and the analysis
copies them into the result.
"""
from __future__ import annotations

import numpy as np

from rca_app.core.result_notes import Note
from rca_app.core.results import NotProposedAction

# A counterfactual whose KPI rows lie on average this many reference sds beyond the range the KPI
# took (reference and incident rows) is carried outside anything the model learnt from.
KPI_BEYOND_SD = 1.0
# A setting that carries a sensor on its way to the KPI this many reference sds beyond anything the
# sensor took (on average over the incident rows) rests on mechanisms fed values they never saw.
NODE_BEYOND_SD = 3.0
# An action's 90% interval of restoration wider than this many times the loss says nothing.
WIDE_ACTION_INTERVAL = 2.0


def kpi_envelope(incident) -> tuple[float, float, float]:
    """The range the KPI took in the reference and the incident rows, and its reference sd.

    Parameters
    ----------
    incident : Incident

    Returns
    -------
    (low, high, sd)
    """
    ref = incident.reference[incident.target].to_numpy(float)
    both = np.concatenate([ref, incident.anomaly[incident.target].to_numpy(float)])
    both = both[np.isfinite(both)]
    return float(both.min()), float(both.max()), float(np.nanstd(ref)) or 1.0


def kpi_beyond(rows: np.ndarray, envelope: tuple[float, float, float]) -> np.ndarray:
    """Mean distance of counterfactual KPI rows beyond the KPI's envelope, in its reference sds.

    Parameters
    ----------
    rows : ndarray, shape (..., n)
        The KPI under a counterfactual, the incident rows (and their replicas) last.
    envelope : (low, high, sd)
        From :func:`kpi_envelope`.

    Returns
    -------
    ndarray, shape (...)
        0 when every row lies within what the KPI took.
    """
    low, high, sd = envelope
    rows = np.asarray(rows, dtype=float)
    with np.errstate(invalid="ignore"):
        beyond = np.maximum(low - rows, rows - high).clip(0.0) / sd
    return np.where(np.isfinite(beyond), beyond, np.inf).mean(axis=-1)


def within_support(beyond: float | None) -> bool:
    """A counterfactual's figure may be stated: its KPI stays within :data:`KPI_BEYOND_SD` of what
    the KPI took (None: not measured, as in results written before it was)."""
    return beyond is None or bool(beyond < KPI_BEYOND_SD)


def unstated_figure_text(beyond: float, what: str) -> str:
    """Why a counterfactual's figure is not stated: it carries the KPI beyond what the plant showed.

    Parameters
    ----------
    beyond : float
        :func:`kpi_beyond` of the counterfactual (inf when its rows are not finite).
    what : str
        The counterfactual ("restoring them together").

    Returns
    -------
    str
        One sentence.
    """
    far = f"{beyond:.0f} reference sd" if np.isfinite(beyond) else "far"
    return (f"How much {what} would recover is not stated: the model puts the KPI {far} beyond anything it took "
            "in the reference and the incident, so the figure would be its extrapolation, not the plant's.")


def settings_text(values) -> str:
    """A few settings, as numbers or levels."""
    shown = [v if isinstance(v, str) else f"{v:.4g}" for v in values[:4]]
    return ", ".join(shown) + (f" and {len(values) - 4} more" if len(values) > 4 else "")


def action_doubts(restoration: float, interval: tuple[float, float]) -> list[str]:
    """Warnings on an action's figures themselves: more than twice the loss back, or refits that
    disagree over more than :data:`WIDE_ACTION_INTERVAL` times the loss."""
    from rca_app.core.analysis_notes import IMPLAUSIBLE_RESTORATION

    out = []
    if np.isfinite(restoration) and abs(restoration) > IMPLAUSIBLE_RESTORATION:
        out.append(f"the model predicts {100 * restoration:.0f}% of the loss back, several times the loss itself: a "
                   "figure from mechanisms pushed beyond their reference rows more than from the plant")
    lo, hi = interval
    if np.isfinite(lo) and np.isfinite(hi) and hi - lo > WIDE_ACTION_INTERVAL:
        out.append(f"its refits disagree widely (90% interval {100 * lo:.0f}% to {100 * hi:.0f}% of the loss): the "
                   "prediction is no guide to the size of the effect")
    return out


def nodes_beyond(scm, observed: dict[str, np.ndarray], vals: dict[str, np.ndarray], skip, g: int
                 ) -> tuple[np.ndarray, list[str | None]]:
    """How far a stack of ``g`` settings carries the numeric sensors it moves beyond their range.

    Each sensor's range is what it took in the reference and the incident rows; the distance is
    the incident rows' mean distance beyond it, in the sensor's reference sds.

    Parameters
    ----------
    scm : StructuralCausalModel
    observed : dict
        The incident rows as encoded (``n`` rows per node).
    vals : dict
        The propagated values, ``g * n`` rows per node (settings stacked, setting-major).
    skip : iterable of str
        Nodes not judged (the setpoint itself, the KPI, judged on its own).
    g : int

    Returns
    -------
    (ndarray of shape (g,), list of str or None)
        The farthest distance per setting and the sensor it belongs to (None: none moved).
    """
    worst = np.zeros(g)
    which: list[str | None] = [None] * g
    skip = set(skip)
    for node, v in vals.items():
        base = observed.get(node)
        ref = scm.reference_values_.get(node)
        if node in skip or node in scm.categorical or base is None or ref is None or v is base:
            continue
        ref = np.asarray(ref, dtype=float)
        sd = float(ref.std())
        if sd <= 0 or len(v) != g * len(base):
            continue
        low, high = min(ref.min(), float(np.min(base))), max(ref.max(), float(np.max(base)))
        d = kpi_beyond(np.asarray(v, dtype=float).reshape(g, -1), (low, high, sd))
        for k in np.flatnonzero(d > worst):
            worst[k], which[k] = d[k], node
    return worst, which


def not_proposed_record(node: str, grid, curve, beyond, inside, target: str) -> NotProposedAction:
    """One setpoint left out of the actions, and why.

    Parameters
    ----------
    node : str
    grid : sequence
        The settings tried.
    curve : ndarray
        The predicted KPI mean per setting.
    beyond : ndarray
        :func:`kpi_beyond` per setting.
    inside : dict
        What :func:`nodes_beyond` found on the way (``{"beyond": ..., "node": ...}``, or empty).
    target : str
        The KPI.

    Returns
    -------
    NotProposedAction
    """
    where = (f"anywhere from {grid[0]:.4g} to {grid[-1]:.4g}" if len(grid) > 1 and not isinstance(grid[0], str)
             else "at " + settings_text(list(grid)))
    lo_c, hi_c = f"{np.min(curve):.4g}", f"{np.max(curve):.4g}"
    text = f"{node} {where} (predicted {target} {lo_c if lo_c == hi_c else lo_c + ' to ' + hi_c}"
    least = float(np.min(beyond))
    kpi_far = least >= KPI_BEYOND_SD
    if kpi_far:
        lo_b, hi_b = f"{least:.0f}", f"{np.max(beyond):.0f}"
        text += f", {lo_b if lo_b == hi_b else lo_b + ' to ' + hi_b} reference sd beyond its range"
    far = inside.get("beyond")
    if far is not None and np.max(far) >= NODE_BEYOND_SD:
        k = int(np.argmax(far))
        text += f"; on the way {inside['node'][k]} up to {far[k]:.0f} reference sd beyond anything it took"
    return NotProposedAction(node, "kpi_beyond" if kpi_far else "sensor_beyond", text + ")",
                             least if np.isfinite(least) else None)


def unsupported_actions_note(unsupported, incident, envelope) -> tuple[Note, list[NotProposedAction]]:
    """The setpoints not proposed because every setting tried carries the KPI beyond what it took.

    Parameters
    ----------
    unsupported : list of (node, grid, curve, beyond, inside)
        Each setpoint, its settings, the predicted KPI means, :func:`kpi_beyond` per setting and
        what :func:`nodes_beyond` found on the way (``{"beyond": ..., "node": ...}``, or empty).
    incident : Incident
    envelope : (low, high, sd)

    Returns
    -------
    (Note, list of NotProposedAction)
        The note (kind "extrapolation", severity "caution") and one record per setpoint, which
        the ranking carries for the result (``RankingResult.not_proposed``).
    """
    low, high, _ = envelope
    records = [not_proposed_record(c, grid, curve, beyond, inside, incident.target)
               for c, grid, curve, beyond, inside in unsupported]
    return Note(
        "Not proposed as actions: setting " + "; ".join(r.text for r in records) + f". {incident.target} took "
        f"{low:.4g} to {high:.4g} in the reference and the incident. Every setting tried sends {incident.target}, or "
        "a sensor on the way to it, far beyond anything it took: the prediction comes from the model carried "
        "outside the rows it learnt from (a setpoint that hardly moved in the reference, curved fits driven "
        "past their data), not from the plant, so these data cannot say what such a setting would do.",
        "extrapolation", "caution"), records


def not_proposed_text(rec: NotProposedAction, target: str) -> str:
    """Why a setpoint is not proposed, in one sentence for the window, the terminal and the report.

    Parameters
    ----------
    rec : NotProposedAction
    target : str
        The KPI.

    Returns
    -------
    str
        "valve is not proposed: every setting tried (valve anywhere from ...) predicts y beyond
        anything it took ...".
    """
    why = {"kpi_beyond": f"predicts {target} beyond anything it took in the reference and the incident",
           "sensor_beyond": f"predicts {target} beyond anything it took, or carries a sensor on the way to it far "
                            "beyond anything that sensor took"}[rec.reason]
    return (f"{rec.node} is not proposed: every setting tried ({rec.text}) {why}, so the figure would be the "
            "model carried outside its data, not the plant")

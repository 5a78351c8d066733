"""What the plant showed: the range a counterfactual may carry each sensor to.

A mechanism is learnt from the values the plant took. Evaluated far outside them it
extrapolates: a straight line keeps climbing, and through time a fitted recursion whose gain
happens to exceed one (a recycle, a near-unit-root self-lag, a weighted refit that tipped it
over) multiplies a small change row after row. Restoring one sensor on a Tennessee Eastman
incident once carried the KPI to 10^61 times its loss. A counterfactual that leaves every value
the plant ever took is not evidence of anything, so every computed value is held within the
range the sensor took in the reference period and the queried rows, widened by
:data:`SUPPORT_MARGIN` of that range on each side.

The factual rows lie within their own range, so the bound never moves them (abduction and
propagation stay exact); values held by the do-operator are set, not computed, and are not
bounded (how far a setting lies beyond the plant's range is judged by
:mod:`rca_app.core.action_support`).
"""
from __future__ import annotations

import numpy as np

# Share of a sensor's range (reference and queried rows) a counterfactual may go beyond it on
# either side. A quarter of the range is at least about 1.5 reference sds for any sensor that
# spans +-3 sd in its reference, so the KPI can still be seen to go more than 1 sd beyond what
# it took (the action-support rule) before the bound holds it.
SUPPORT_MARGIN = 0.25
# How the range a value is judged by is named wherever it is shown (the What-if warning, the
# window, the report): the range the plant showed, before the margin.
PLANT_RANGE_WORDS = "the range the plant showed (what it took in the reference and the incident rows)"


def _reference_bounds(scm) -> dict[str, tuple[float, float]]:
    """Each numeric node's (min, max) over the model's reference rows (cached on the model)."""
    cached = scm.__dict__.get("_reference_bounds")
    if cached is None:
        cached = _ranges(scm, scm.reference_values_, scm.mechanisms_)
        scm.__dict__["_reference_bounds"] = cached
    return cached


def show_rows(scm, values: dict[str, np.ndarray]) -> None:
    """Widen what ``scm`` has seen the plant do by the encoded rows ``values`` (another period a
    query draws from, e.g. the incident when a fix verification replays it on later rows).

    The ranges are stored on the model as a new dict each time, so copies made earlier (bootstrap
    refits) are not changed: show them the rows too."""
    seen = dict(scm.__dict__.get("_shown_bounds", {}))
    for node, (lo, hi) in _ranges(scm, values, scm.mechanisms_).items():
        old = seen.get(node)
        seen[node] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))
    scm.__dict__["_shown_bounds"] = seen


def _ranges(scm, values: dict[str, np.ndarray] | None, nodes) -> dict[str, tuple[float, float]]:
    """(min, max) of each numeric node of ``nodes`` over the finite entries of ``values``."""
    out: dict[str, tuple[float, float]] = {}
    if values is None:
        return out
    for node in nodes:
        mech = scm.mechanisms_.get(node)
        if mech is None or mech.categorical or node not in values:
            continue
        b = np.asarray(values[node], dtype=float)
        b = b[np.isfinite(b)]
        if b.size:
            out[node] = (float(b.min()), float(b.max()))
    return out


def value_bounds(scm, base: dict[str, np.ndarray] | None, nodes) -> dict[str, tuple[float, float]]:
    """The range each of ``nodes`` may take under a counterfactual of the rows ``base``.

    Parameters
    ----------
    scm : StructuralCausalModel
    base : dict or None
        The encoded rows queried (their factual values); None for fresh samples (reference
        range only).
    nodes : iterable of str
        Nodes the query computes.

    Returns
    -------
    dict of node to (low, high)
        Numeric nodes only: min and max over the reference rows, the rows shown to the model
        (:func:`show_rows`) and the queried rows, each widened by :data:`SUPPORT_MARGIN` of the
        range.
    """
    out = {}
    for node, (lo, hi) in plant_ranges(scm, base, nodes).items():
        pad = SUPPORT_MARGIN * (hi - lo)
        out[node] = (lo - pad, hi + pad)
    return out


def plant_ranges(scm, base: dict[str, np.ndarray] | None, nodes) -> dict[str, tuple[float, float]]:
    """The range the plant showed for each of ``nodes`` (:data:`PLANT_RANGE_WORDS`): min and max
    over the reference rows, the rows shown to the model (:func:`show_rows`) and the queried rows
    ``base``, without the margin :func:`value_bounds` adds.

    Parameters
    ----------
    scm : StructuralCausalModel
    base : dict or None
        The encoded rows queried; None for the reference (and shown) rows only.
    nodes : iterable of str

    Returns
    -------
    dict of node to (low, high)
        Numeric nodes only.
    """
    ref = _reference_bounds(scm)
    shown = scm.__dict__.get("_shown_bounds", {})
    queried = _ranges(scm, base, [n for n in nodes if n in ref])
    out = {}
    for node in nodes:
        if node not in ref:
            continue
        lo, hi = ref[node]
        for other in (shown.get(node), queried.get(node)):
            if other is not None:
                lo, hi = min(lo, other[0]), max(hi, other[1])
        out[node] = (lo, hi)
    return out


def hold_within(values: np.ndarray, bounds: tuple[float, float] | None) -> np.ndarray:
    """``values`` held within ``bounds`` (in place where the array allows; returned)."""
    if bounds is None:
        return values
    if isinstance(values, np.ndarray) and values.flags.writeable and values.dtype.kind == "f":
        return np.clip(values, bounds[0], bounds[1], out=values)
    return np.clip(values, bounds[0], bounds[1])

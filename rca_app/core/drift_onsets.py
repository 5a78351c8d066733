"""Slow drifts: when a sensor's own behaviour left normal operation, and which cause started a drift.

A fouling exchanger or a wearing tool moves many sensors together; the one whose own drift
(a CUSUM of its aligned values against the reference) began first, clearly before the others
and upstream of them, is the one that started it. Moved out of :mod:`rca_app.core.dynamics`,
which imports these names as before.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.control_loops import mean_shift_sd, move_before, reference_sd


def cusum_onset(x: np.ndarray, ref: np.ndarray, k: float = 0.5, h: float = 8.0) -> int | None:
    """First row of ``x`` where a two-sided CUSUM of its standardised deviation from the reference
    crosses ``h``, dated back to where the run started; None when it never does.

    On autocorrelated rows the decision interval is ``h`` times the reference's variance inflation
    ``1 + 2 sum rho_k`` (:func:`~rca_app.core.autocorrelation.mean_inflation`; 1 for independent
    rows, which keep the plain chart): the CUSUM below its bar is a random walk with drift ``-k``
    whose increments' long-run variance is that many times larger, and the chance that such a
    walk climbs to ``h`` depends on ``k h / variance`` (Siegmund 1985), so the scaled bar keeps the
    independent-row false-trip rate while the allowance ``k`` (and so the onset dating) stays in
    reference sds.

    Parameters
    ----------
    x : ndarray
        The incident rows.
    ref : ndarray
        The reference rows, in time order.
    k, h : float
        Allowance and decision interval, in reference sds (``h`` for independent rows).

    Returns
    -------
    int or None

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. Biometrika 41, 100-115.
    Siegmund, D. (1985). Sequential Analysis. Springer (the CUSUM run-length approximation).
    Timmer, D. H., Pignatiello, J. J., Longnecker, M. (1998). The development and evaluation of
        CUSUM-based control charts for an AR(1) process. IIE Transactions 30, 525-534.
    """
    run = _cusum_run(x, ref, k, h)
    return run[0] if run is not None else None


def _cusum_run(x: np.ndarray, ref: np.ndarray, k: float = 0.5, h: float = 8.0) -> tuple[int, int, int] | None:
    """The CUSUM of :func:`cusum_onset`: (row its run started, row it crossed the bar, sign)."""
    from rca_app.core.autocorrelation import autocorrelations, mean_inflation

    z = (x - ref.mean()) / reference_sd(ref)
    h = h * mean_inflation(autocorrelations(ref))
    hi = lo = 0.0
    start_hi = start_lo = 0
    for i, v in enumerate(z):
        if hi == 0.0:
            start_hi = i
        if lo == 0.0:
            start_lo = i
        hi, lo = max(0.0, hi + v - k), max(0.0, lo - v - k)
        if hi > h:
            return start_hi, i, 1
        if lo > h:
            return start_lo, i, -1
    return None


DEPARTED_SD = 3.0   # one row this far from the reference mean is outside normal operation (3-sigma limit)


def onset_interval(x: np.ndarray, ref: np.ndarray) -> tuple[int, int] | None:
    """Rows between which ``x`` left its normal operation: (earliest, latest) row it could have begun.

    The earliest is where the CUSUM's run began (:func:`cusum_onset`): before it the rows sat at
    the reference mean as far as the chart can tell. The latest is the first row from then on
    where the departure is beyond doubt, whichever comes first of the CUSUM crossing its bar and
    a single row :data:`DEPARTED_SD` reference sd out in the run's direction (the combined
    Shewhart-CUSUM chart of Lucas 1982: the CUSUM for small sustained moves, the 3-sigma limit for
    large sudden ones). A large step is dated to its row, a slow or small departure to a wide span,
    whatever the grid step; no shape is assumed after the start (a response through a mixing
    volume rises gradually). Two sensors' departures are ordered in time only when their spans do
    not overlap.

    Parameters
    ----------
    x : ndarray
        The incident rows (in time order, as recorded).
    ref : ndarray
        The reference rows, in time order.

    Returns
    -------
    (int, int) or None
        None when the CUSUM never signals a departure.

    References
    ----------
    Lucas, J. M. (1982). Combined Shewhart-CUSUM quality control schemes. Journal of Quality
        Technology 14, 51-59.
    """
    run = _cusum_run(x, ref)
    if run is None:
        return None
    start, alarm, sign = run
    z = sign * (x[start:alarm + 1] - ref.mean()) / reference_sd(ref)
    out = np.flatnonzero(z >= DEPARTED_SD)
    return start, start + int(out[0]) if len(out) else alarm


def drift_origin(ranking, graph, ref: pd.DataFrame, an: pd.DataFrame,
                 top: int = 3) -> tuple[dict[str, int | None], str | None]:
    """Among the leading causes, the one whose own drift began first and upstream of the others.

    Parameters
    ----------
    ranking : RankingResult
        Reordered in place when an earlier-starting ancestor is ranked below the first cause.
    graph : CausalGraph
    ref, an : DataFrame
        Aligned reference and incident rows.
    top : int
        How many leading causes are compared.

    Returns
    -------
    (dict, str or None)
        Onset row (in the incident) per compared cause, and a message when the order changed.
    """
    # Sensors only (an unmeasured cause's entry has no column of its own).
    lead = [c.node for c in ranking.root_causes[:top]
            if c.node in ref.columns and pd.api.types.is_numeric_dtype(ref[c.node])]
    span = {c: onset_interval(an[c].to_numpy(float), ref[c].to_numpy(float)) for c in lead}
    onset = {c: (s[0] if s else None) for c, s in span.items()}
    first = lead[0] if lead else None
    if first is None or span[first] is None:
        return onset, None
    first_span = span[first]
    assert first_span is not None
    for c in lead[1:]:
        s = span[c]
        # Autocorrelated noise alone can trip a CUSUM: the origin must itself have moved clearly.
        moved = abs(mean_shift_sd(an[c].to_numpy(float), ref[c].to_numpy(float))) >= 1.0
        # It had surely begun before the first cause's drift could have (see onset_interval).
        if s is not None and moved and s[1] < first_span[0] and c in graph.ancestors(first):
            move_before(ranking, c, first)
            return onset, (f"{c} began to drift {first_span[0] - s[0]} rows before {first}, which is downstream "
                           f"of it: {c} started the drift and is ranked before it")
    return onset, None

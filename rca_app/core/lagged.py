"""Lagged edges of time-series data: recycle streams and slow own dynamics.

Discovery on aligned rows finds the contemporaneous structure within the tiers. Two kinds of edge
that tiers forbid or cannot express are looked for here, over time:

- Recycles: a later station's sensor acting on an earlier station's sensor after a transport
  time. Declared ``[[recycle]]`` streams are tested from their declared lag up to ``lag_max``
  further; every other backward pair of stations is tested too, and a stream the data show
  clearly (:data:`PROPOSE_P`) is proposed to the engineer, never used silently.
- Self-lags: a sensor whose own past carries over (slow dynamics: a tank's level, a fouling
  factor), the lag-1 coefficient of its residual after its graph parents.

Rows of a time series are not independent, so a lagged input is tested beyond the target's own
past (a Granger test: the target's three previous values regressed out of both), whose residual
is close to white; lags are searched, so p-values are Bonferroni-corrected for the lags tried.

References
----------
Granger, C. W. J. (1969). Investigating causal relations by econometric models and cross-spectral
methods. Econometrica 37, 424-438.
Hyvärinen, A., Zhang, K., Shimizu, S., Hoyer, P. O. (2010). Estimation of a structural vector
autoregression model using non-Gaussianity. JMLR 11, 1709-1731 (the lagged/contemporaneous split).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import erfc, stdtr

from rca_app.core.results import LaggedEdge

ALPHA = 0.01                  # a declared recycle's edge is kept below this corrected p-value
PROPOSE_P = 1e-6              # an undeclared backward stream is proposed below this one
SELF_LAG_MIN = 0.3            # own lag-1 coefficient that counts as slow dynamics
SCREEN_LOOSER = 1000          # the screen lets through pairs this much above the test's threshold
MAX_SAME_TIME = 12            # same-time inputs conditioned on (the most correlated with the target)


def _own_past_residuals(y: np.ndarray, start: int, order: int,
                        now: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``start..n`` of ``y`` with its own past (``order`` lags) and ``now`` (columns of
    same-time inputs the tiers allow) regressed out, and the projection's basis (for residualising
    candidate inputs the same way)."""
    n = len(y)
    cols = [y[start - j - 1: n - j - 1] for j in range(order)] + [np.ones(n - start)]
    if now is not None and now.size:
        cols += list(now[start:].T)
    P = np.column_stack(cols)
    Q, _ = np.linalg.qr(P)
    target = y[start:]
    return target - Q @ (Q.T @ target), Q


def _best_lag(x: np.ndarray, y: np.ndarray, lags: range, order: int = 3,
              now: np.ndarray | None = None) -> tuple[int, float, float]:
    """The lag k at which ``x(t - k)`` best predicts ``y(t)`` beyond ``y``'s own past (a Granger
    test one lag at a time): its partial correlation and Bonferroni-corrected p-value.

    Conditioning on the target's own past is what keeps a forward relation (y -> x) from looking
    like a backward one at lag 1, and whitens the residual the test assumes independent; ``now``
    (the same-time values of sensors at or before the target's station, which the tiers allow as
    its contemporaneous causes) keeps a persistent common cause, such as a raw-material lot used
    by consecutive batches, from passing for a lagged edge."""
    x = np.asarray(x, float) - np.mean(x)
    y = np.asarray(y, float) - np.mean(y)
    n = len(y)
    start = max(order, lags.stop - 1)
    if n - start < 50:
        return lags.start, 0.0, 1.0
    ry, Q = _own_past_residuals(y, start, order, now)
    best = (lags.start, 0.0)
    for k in lags:
        xk = x[start - k: n - k]
        rx = xk - Q @ (Q.T @ xk)
        den = np.sqrt((rx @ rx) * (ry @ ry))
        r = float(rx @ ry / den) if den > 0 else 0.0
        if abs(r) > abs(best[1]):
            best = (k, r)
    k, r = best
    m = n - start - order - 2
    t = r * np.sqrt(m / max(1e-12, 1 - r * r))
    p = min(1.0, 2 * stdtr(m, -abs(t)) * len(lags))
    return k, r, float(p)


def _normal_two_sided(z):
    """Two-sided p-value of a standard normal statistic."""
    return erfc(np.asarray(z) / np.sqrt(2.0))


def _lag_matrix(x: np.ndarray, start: int, lags: range) -> np.ndarray:
    """Columns x(t - k) for k in ``lags``, rows t = start..n, each centred and scaled to unit norm."""
    n = len(x)
    M = np.stack([x[start - k: n - k] for k in lags], axis=1)
    M = M - M.mean(axis=0)
    return M / (np.linalg.norm(M, axis=0) + 1e-300)


def _screen(lagged: np.ndarray, ry: np.ndarray, n_lags: int, alpha: float) -> bool:
    """Whether some lag (a column of ``lagged``, from :func:`_lag_matrix`) correlates with ``ry``
    (the target beyond its own past) enough to be worth the full test: one matrix product."""
    r = (lagged.T @ ry) / (np.linalg.norm(ry) + 1e-300)
    return bool(_normal_two_sided(np.abs(r).max() * np.sqrt(len(ry))) * n_lags < alpha)


def _same_time_inputs(dst: str, stations: list[list[str]], unit: dict, ry: np.ndarray) -> np.ndarray | None:
    """The same-time values the tiers allow as ``dst``'s causes (sensors at or before its station),
    at most :data:`MAX_SAME_TIME` of them, those most correlated with it beyond its own past.

    ``unit``: each sensor centred and scaled to unit norm over the rows of ``ry``."""
    names = [c for s in stations for c in s if c != dst]
    if not names:
        return None
    m = len(ry)
    Z = np.column_stack([unit[c][-m:] for c in names])
    score = np.abs(Z.T @ ry)
    keep = [names[i] for i in np.argsort(score)[::-1][:MAX_SAME_TIME]]
    return np.column_stack([unit[c] for c in keep])


def lagged_edges(frame: pd.DataFrame, reference: slice, layout, numeric: list[str], step_text: str,
                 step_seconds: float, max_lag: int, graph=None, aligned: pd.DataFrame | None = None
                 ) -> tuple[list[LaggedEdge], list[str]]:
    """Recycle and self-lag edges of the reference period.

    Parameters
    ----------
    frame : DataFrame
        The prepared rows in time order, not aligned (lags are physical times).
    reference : slice
        Reference rows.
    layout : Layout
        Stations, ``recycles``, target.
    numeric : list of str
        Numeric sensors.
    step_text : str
        The grid step, for messages.
    step_seconds : float
    max_lag : int
        Lags tried beyond a recycle's declared one (and up to, for proposals), in steps.
    graph : CausalGraph, optional
        Parents for the self-lag residuals (aligned rows).
    aligned : DataFrame, optional
        Aligned reference rows, for the self-lags.

    Returns
    -------
    (list of LaggedEdge, list of str)
        Edges, and messages proposing recycles the data show but the layout does not declare.
    """
    from rca_app.core.layout.time_keys import parse_duration

    ref = frame.iloc[reference]
    white = {c: ref[c].to_numpy(float) for c in numeric if c in ref.columns}
    unit = {}
    for c, v in white.items():
        v = v - v.mean()
        unit[c] = v / (np.linalg.norm(v) or 1.0)
    sensors = [[c for c in st.sensors if c in white and c != layout.target] for st in layout.stations]
    exo = set(layout.exogenous)
    edges: list[LaggedEdge] = []
    messages: list[str] = []
    declared = {(rc.source, rc.to): rc for rc in layout.recycles}
    # A declared control loop already explains a later CV acting on an earlier MV (the
    # controller reads one and moves the other): never propose it as a recycle stream.
    loop_pairs = {frozenset((lp.controlled, lp.manipulated)) for lp in getattr(layout, "loops", [])}

    def minutes(k: int) -> str:
        s = k * step_seconds
        return f"{s / 60:g}min" if s % 60 == 0 else f"{s:g}s"

    for hi in range(len(layout.stations)):
        for lo in range(hi):
            rc = declared.get((layout.stations[hi].name, layout.stations[lo].name))
            if rc is not None:
                start = max(1, int(round(parse_duration(rc.lag).total_seconds() / step_seconds)))
                lags, alpha, kind = range(start, start + max_lag + 1), ALPHA, "recycle"
            else:
                lags, alpha, kind = range(1, max_lag + 1), PROPOSE_P, "proposed_recycle"
            found: list[LaggedEdge] = []
            start = lags.stop - 1 + 3
            if len(ref) - start < 50:
                continue
            lagged = {src: _lag_matrix(white[src], start, lags) for src in sensors[hi]}
            for dst in sensors[lo]:
                if dst in exo:
                    continue
                # A cheap screen (the lagged input against the target beyond its own past) first;
                # only pairs it passes get the test conditioned on the same-time inputs too.
                ry, _ = _own_past_residuals(white[dst] - white[dst].mean(), start, 3)
                now = _same_time_inputs(dst, sensors[: lo + 1], unit, ry)
                for src in sensors[hi]:
                    if rc is None and frozenset((src, dst)) in loop_pairs:
                        continue
                    if not _screen(lagged[src], ry, len(lags), alpha * SCREEN_LOOSER):
                        continue
                    k, r, p = _best_lag(white[src], white[dst], lags, now=now)
                    if p < alpha:
                        found.append(LaggedEdge(src, dst, minutes(k), k, r, p, kind))  # type: ignore[arg-type]
            edges += found
            if found and rc is None:
                best = min(found, key=lambda e: e.p_value)
                messages.append(
                    f"the data show a backward stream from {layout.stations[hi].name} to {layout.stations[lo].name}: "
                    f"{best.source} acts on {best.target} about {best.lag} later (partial correlation "
                    f"{best.correlation:+.2f} beyond its own past). If it is a recycle, declare it: [[recycle]] from = "
                    f"\"{layout.stations[hi].name}\", to = \"{layout.stations[lo].name}\", lag = \"{best.lag}\"")
    if aligned is not None:
        edges += _self_lags(aligned, numeric, layout, graph, minutes(1))
    return edges, messages


def _self_lags(aligned: pd.DataFrame, numeric: list[str], layout, graph, one_step: str) -> list[LaggedEdge]:
    """Sensors whose residual after their graph parents carries over to the next row."""
    out = []
    for c in numeric:
        if c not in aligned.columns or c == layout.target:
            continue
        y = aligned[c].to_numpy(float)
        parents = [p for p in (graph.parents(c) if graph is not None else []) if p in aligned.columns
                   and p in numeric]
        if parents:
            X = np.column_stack([aligned[p].to_numpy(float) for p in parents] + [np.ones(len(y))])
            coef, *_ = np.linalg.lstsq(X, y, rcond=None)
            y = y - X @ coef
        y = y - y.mean()
        den = float(y[:-1] @ y[:-1])
        if den <= 0:
            continue
        phi = float(y[1:] @ y[:-1]) / den
        n = len(y) - 1
        p = float(_normal_two_sided(abs(phi) * np.sqrt(n)))
        if phi >= SELF_LAG_MIN and p < ALPHA:
            out.append(LaggedEdge(c, c, one_step, 1, phi, p, "self"))
    return out

"""Pruning after ordering: drop numeric edges too weak to matter.

LiNGAM's adaptive lasso and the PC search both keep edges whose effect is real but tiny on long
histories (or spurious: a slight curvature of a true parent leaking into a sibling). Each such
edge costs precision, and in the ranking it spreads a little of one sensor's change over
another. For each numeric sensor the edges from its numeric parents are re-examined together, by
backward elimination of the weakest: the parent's linear and squared terms are dropped from the
child's model (its other parents', linear and squared, and its categorical parents' kept), and
the edge goes when what it adds is either not significant (F-test, 2 degrees of freedom) or
smaller than :data:`MIN_PARTIAL_R2` of what the other parents leave unexplained.

All regressions are solved from one Gram matrix of ``[1, z, z^2 - 1]`` over the standardised
numeric sensors, so pruning costs a few small solves per sensor.

On time-series rows (``serial``) every term first passes one common whitening filter
(:func:`~rca_app.core.autocorrelation.whitening_filter`, which keeps relations linear in the terms),
and the F-statistic is divided by Bartlett's inflation
``1 + 2 sum_k r_e,k r_x,k`` (:mod:`rca_app.core.autocorrelation`), ``r_e`` the autocorrelations of
the child's residual without the parent and ``r_x`` those of the parent's term (residualised on the
other parents; the larger inflation of its two terms), and the denominator's degrees of freedom
count the rows worth as much as independent ones. The autocorrelations come from lagged Gram
matrices built alongside the first, so the cost stays that of small solves.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from rca_app.core.autocorrelation import (
    gram_lags,
    lagged_grams,
    pair_inflation,
    prewhiten,
    residual_autocorrelation_table,
    whitening_filter,
)

# An edge must explain at least 1% of the variance the child's other causes leave (a partial
# correlation of 0.1): one standard deviation of such a parent moves the child by about a tenth
# of its own noise, too little to change a ranking of causes, yet on plant histories of
# thousands of rows it passes any significance test. The curved-edge search asks the same of an
# edge it adds (DiscoverySettings.curvature_min_partial_r2), so adding and keeping agree.
MIN_PARTIAL_R2 = 0.01
# Significance of what the edge adds (2 degrees of freedom): the level of the constraint-based
# search's own tests.
PRUNE_ALPHA = 0.01


def prune_weak_edges(frame, numeric: list[str], edges: set[tuple[str, str]], keep: set[tuple[str, str]],
                     categorical_parents: dict[str, np.ndarray] | None = None,
                     min_partial_r2: float = MIN_PARTIAL_R2, alpha: float = PRUNE_ALPHA,
                     serial: bool = False) -> set[tuple[str, str]]:
    """The numeric edges that survive backward elimination (edges into or out of other nodes,
    and those in ``keep``, are returned unchanged).

    Parameters
    ----------
    frame : DataFrame
        Reference rows.
    numeric : list of str
        Numeric sensors.
    edges : set of (str, str)
    keep : set of (str, str)
        Edges never pruned (required by the layout, or the engineer's).
    categorical_parents : dict, optional
        Child -> design columns of its categorical parents (partialled out of every column).
    min_partial_r2, alpha : float
        See :data:`MIN_PARTIAL_R2` and :data:`PRUNE_ALPHA`.
    serial : bool
        Rows are consecutive samples of a time series: the F-test allows for autocorrelated
        residuals (module text). False: rows are independent (parts), as always.

    Returns
    -------
    set of (str, str)
    """
    pos = {n: i for i, n in enumerate(numeric)}
    k, n = len(numeric), len(frame)
    if k < 2 or n < 10:
        return set(edges)
    Z = frame[numeric].to_numpy(dtype=float)
    sd = Z.std(axis=0)
    Z = (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    M = np.hstack([np.ones((n, 1)), Z, Z * Z - 1.0])      # 0: intercept; 1..k: z; k+1..2k: z^2
    n_lags, whiten, M_levels = 0, np.zeros(0), M
    if serial:
        # Time series: all terms through one whitening filter for the test (relations linear in
        # them are kept), the remaining autocorrelation from lagged cross-products. The effect
        # size (partial R^2) stays that of the levels, as the engineer reads it.
        whiten = whitening_filter(Z)
        M = prewhiten(M, whiten)
        M[:, 0] = 1.0
        n = len(M)
        n_lags = gram_lags(M[:, 1:k + 1])
    G_all = M.T @ M
    G1_all = lagged_grams(M, n_lags) * n if n_lags else None
    Gl_all = M_levels.T @ M_levels if serial else G_all
    out = set(edges)
    for child in numeric:
        # In sensor order (never a set's order), so the result is the same in every process.
        parents = [a for a in numeric if (a, child) in edges and (a, child) not in keep]
        if not parents:
            continue
        fixed = [a for a in numeric if (a, child) in edges and (a, child) in keep]
        G, G1, Gl, extra = G_all, G1_all, Gl_all, 0
        D = (categorical_parents or {}).get(child)
        if D is not None and D.shape[1]:
            Dw = prewhiten(np.asarray(D, dtype=float), whiten)
            G = _partialled_gram(M, Dw)
            G1 = lagged_grams(_partialled(M, Dw), n_lags) * n if n_lags else None
            Gl = _partialled_gram(M_levels, np.asarray(D, dtype=float)) if serial else G
            extra = D.shape[1]
        y = 1 + pos[child]

        def cols(ps):
            return [0] + [1 + pos[p] for p in ps] + [1 + k + pos[p] for p in ps]

        while parents:
            full = cols(parents + fixed)
            rss1 = _rss(G, y, full)
            rss1_levels = _rss(Gl, y, full) if serial else rss1
            dof = n - extra - len(full)
            if dof <= 0 or rss1 <= 0:
                break
            gains = []
            for p in parents:
                rest = cols([q for q in parents + fixed if q != p])
                rss0 = _rss(G, y, rest)
                gain = max(rss0 - rss1, 0.0)
                rss0_levels = _rss(Gl, y, rest) if serial else rss0
                r2 = max(rss0_levels - rss1_levels, 0.0) / rss0_levels if rss0_levels > 0 else 0.0
                f, d = (gain / 2) / (rss1 / dof), float(dof)
                if G1 is not None:
                    infl = _serial_inflation(G, G1, y, rest, [1 + pos[p], 1 + k + pos[p]], n)
                    f, d = f / infl, max(1.0, (n - extra) / infl - len(full))
                pval = float(stats.f.sf(f, 2, d))
                gains.append((r2, pval, p))
            r2, pval, weakest = min(gains)
            if r2 >= min_partial_r2 and pval < alpha:
                break
            out.discard((weakest, child))
            parents.remove(weakest)
    return out


def _partialled(M: np.ndarray, D: np.ndarray) -> np.ndarray:
    """``M`` with its non-intercept columns' least-squares fit on ``[1, D]`` removed."""
    Dc = np.hstack([np.ones((len(M), 1)), D])
    R = M.copy()
    R[:, 1:] = M[:, 1:] - Dc @ np.linalg.lstsq(Dc, M[:, 1:], rcond=None)[0]
    return R


def _partialled_gram(M: np.ndarray, D: np.ndarray) -> np.ndarray:
    R = _partialled(M, D)
    return R.T @ R


def _serial_inflation(G: np.ndarray, Gs: np.ndarray, y: int, rest: list[int], terms: list[int], n: int) -> float:
    """Bartlett's inflation of the F-statistic of ``terms`` added to ``rest`` for column ``y``
    (the larger over the terms)."""
    rho = residual_autocorrelation_table(G, Gs, rest, [y, *terms], n)
    return max(pair_inflation(rho[0], r) for r in rho[1:])


def _rss(G: np.ndarray, y: int, cols: list[int]) -> float:
    """Residual sum of squares of column ``y`` on ``cols`` from the Gram matrix."""
    A = G[np.ix_(cols, cols)]
    b = G[cols, y]
    try:
        beta = np.linalg.solve(A + 1e-9 * np.trace(A) / len(cols) * np.eye(len(cols)), b)
    except np.linalg.LinAlgError:
        beta = np.linalg.lstsq(A, b, rcond=None)[0]
    return max(float(G[y, y] - b @ beta), 0.0)

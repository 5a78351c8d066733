"""The lagged part of a time series taken out first: innovations for same-row discovery.

On a plant historian's rows every sensor carries its own past (a mixing volume, a slow
disturbance, a controller) and its upstream sensors' past. Same-row discovery on the raw levels
then sees sums of many past shocks: nearly Gaussian (an AR(1) with coefficient 0.9 of uniform
shocks has excess kurtosis of about -0.06 against the shocks' -1.2), which is what LiNGAM cannot
order, and strongly dependent rows, which make its tests count far more evidence than there is.

VAR-LiNGAM (Hyvarinen, Zhang, Shimizu and Hoyer 2010) separates the two parts of a structural
vector autoregression ``x_t = B0 x_t + sum_k B_k x_(t-k) + e_t``: its reduced form
``x_t = sum_k M_k x_(t-k) + u_t`` is an ordinary VAR, fitted by least squares, and its residuals
(the innovations) obey ``u_t = B0 u_t + e_t``: the same-row (contemporaneous) structure, with the
structural shocks themselves as noise, non-Gaussian where the plant's shocks are, and rows
nearly independent. Same-row discovery therefore runs on the innovations; the structural model
keeps fitting the residence-time-aligned levels with its lagged columns, whose same-row part is
the graph found here.

The VAR's order is chosen by BIC up to :data:`MAX_VAR_ORDER`, on one common sample so the orders
compare (Lutkepohl 2005, section 4.3). Every sensor's equation takes every sensor's lags: the
reduced form of a sensor holds the lags of all its same-row ancestors, whatever the layout
allows as lagged causes. A short reference period with many sensors gets a lower order and a
ridge penalty that grows as the coefficients approach the rows.

References
----------
A. Hyvarinen, K. Zhang, S. Shimizu, P. O. Hoyer (2010). Estimation of a structural vector
    autoregression model using non-Gaussianity. JMLR 11, 1709-1731.
H. Lutkepohl (2005). New Introduction to Multiple Time Series Analysis. Springer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Largest VAR order tried: a disturbance through one or two mixing volumes is AR(2) or AR(3), and
# the residence times are already taken out by the alignment (the same bound as the common
# whitening filter's, rca_app.core.autocorrelation.MAX_WHITENING_ORDER).
MAX_VAR_ORDER = 5
# Rows per coefficient of one equation the order search keeps at least: fewer, and the BIC's
# comparison rests on residual covariances that overfit.
ROWS_PER_COEFFICIENT = 10


@dataclass
class VarFit:
    """A reduced-form VAR fitted to sensors in time order.

    Attributes
    ----------
    order : int
        Lags ``p`` (0: the rows carry no past the BIC can see; the innovations are the centred rows).
    coefs : ndarray of shape (p, k, k)
        ``M_1..M_p``; ``coefs[j - 1][i, m]`` is sensor ``m``'s lag-``j`` coefficient in sensor ``i``'s equation.
    intercept : ndarray of shape (k,)
    residuals : ndarray of shape (n - p, k)
        The innovations of rows ``p..n-1`` (the first ``p`` rows have no past), in the sensors' units.
    ridge : float
        Ridge penalty relative to the lagged columns' mean square (0: least squares).
    """

    order: int
    coefs: np.ndarray
    intercept: np.ndarray
    residuals: np.ndarray
    ridge: float


def _lagged_columns(Z: np.ndarray, p: int, first: int) -> np.ndarray:
    """Rows ``first..n-1`` of ``[Z_(t-1), ..., Z_(t-p)]`` (``first >= p``)."""
    n = len(Z)
    return np.hstack([Z[first - j:n - j] for j in range(1, p + 1)]) if p else np.zeros((n - first, 0))


def _ridge_share(n_coefs: int, rows: int) -> float:
    """The ridge penalty relative to a column's mean square: nothing to speak of while the rows
    are many times the coefficients; a tenth of ``n_coefs / rows`` of the Gram's diagonal in all
    (shrinkage that keeps a short reference's VAR from fitting its noise)."""
    return max(1e-8, 0.1 * n_coefs / max(rows, 1))


def _solve(X: np.ndarray, Y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Intercept and coefficients of ``Y`` on ``X`` (centred ridge; intercept unpenalised)."""
    xm, ym = X.mean(axis=0), Y.mean(axis=0)
    Xc, Yc = X - xm, Y - ym
    if X.shape[1] == 0:
        return ym, np.zeros((0, Y.shape[1]))
    G = Xc.T @ Xc
    G[np.diag_indices_from(G)] += ridge * float(np.trace(G)) / G.shape[0]
    B = np.linalg.solve(G, Xc.T @ Yc)
    return ym - xm @ B, B


def fit_var(Z: np.ndarray, max_order: int = MAX_VAR_ORDER) -> VarFit:
    """Fit the reduced-form VAR of ``Z``'s columns, its order chosen by BIC.

    Parameters
    ----------
    Z : ndarray of shape (n, k)
        Sensors in time order, finite.
    max_order : int
        Most lags tried (fewer when the rows cannot carry them: :data:`ROWS_PER_COEFFICIENT`).

    Returns
    -------
    VarFit

    References
    ----------
    H. Lutkepohl (2005), section 4.3: order selection criteria on a common sample.
    """
    Z = np.asarray(Z, dtype=float)
    n, k = Z.shape
    sd = Z.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    Zs = (Z - Z.mean(axis=0)) / sd        # conditioning; coefficients go back to units at the end
    cap = int(min(max_order, max(0, (n // ROWS_PER_COEFFICIENT - 1) // max(k, 1))))
    if cap == 0 and n >= 4 * (k + 1):
        cap = 1        # a short reference still loses its own memory, under a firmer ridge
    best, best_bic = 0, np.inf
    if cap:
        Y = Zs[cap:]
        Xall = _lagged_columns(Zs, cap, cap)
        m = len(Y)
        for p in range(cap + 1):
            _, B = _solve(Xall[:, :k * p], Y, _ridge_share(k * p, m))
            R = (Y - Y.mean(axis=0)) - (Xall[:, :k * p] - Xall[:, :k * p].mean(axis=0)) @ B
            _, logdet = np.linalg.slogdet(R.T @ R / m + 1e-10 * np.eye(k))
            bic = logdet + np.log(m) / m * p * k * k
            if bic < best_bic:
                best, best_bic = p, bic
    ridge = _ridge_share(k * best, n - best) if best else 0.0
    X = _lagged_columns(Zs, best, best)
    c, B = _solve(X, Zs[best:], ridge)
    resid = (Zs[best:] - c - X @ B) * sd
    # Back to units: row m*k.. of B is lag m+1; x_i = sd_i * z_i.
    coefs = np.stack([(B[j * k:(j + 1) * k] * sd[None, :] / sd[:, None]).T for j in range(best)]) \
        if best else np.zeros((0, k, k))
    intercept = Z.mean(axis=0) + sd * c - sum((coefs[j] @ Z.mean(axis=0) for j in range(best)), np.zeros(k))
    return VarFit(best, coefs, intercept, resid, ridge)


def innovation_rows(frame: pd.DataFrame, numeric: list[str],
                    max_order: int = MAX_VAR_ORDER) -> tuple[pd.DataFrame, pd.DataFrame, VarFit] | None:
    """The rows same-row discovery uses on a time series: ``frame`` without its first ``p`` rows,
    and the same rows with the ``numeric`` sensors replaced by their VAR innovations (other
    columns, such as categorical ones, as they are).

    Parameters
    ----------
    frame : DataFrame
        Reference rows in time order (residence-time aligned).
    numeric : list of str
        The numeric sensors (the VAR's variables).
    max_order : int

    Returns
    -------
    (levels, innovations, fit) or None
        None when there is nothing to fit (no numeric sensor, a missing value, too few rows).
    """
    if not numeric:
        return None
    Z = frame[numeric].to_numpy(dtype=float)
    if not np.isfinite(Z).all() or len(Z) < 4 * (len(numeric) + 1):
        return None
    fit = fit_var(Z, max_order)
    levels = frame.iloc[fit.order:].reset_index(drop=True)
    innov = levels.copy()
    for j, name in enumerate(numeric):
        innov[name] = fit.residuals[:, j]
    return levels, innov, fit


def innovation_discovery_rows(frame: pd.DataFrame, numeric: list[str]) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """Time series: the levels same-row discovery keeps (the first ``p`` rows, which have no
    past, dropped), the same rows' VAR innovations, and a message saying so. Rows that cannot
    carry a VAR (a missing value, too few rows) or show no past at all come back as they are,
    without innovations.

    Parameters
    ----------
    frame : DataFrame
        Reference rows in time order.
    numeric : list of str

    Returns
    -------
    (levels, innovations or None, messages)
    """
    rows = innovation_rows(frame, numeric)
    if rows is None or rows[2].order == 0:
        return frame, None, []
    levels, innov, fit = rows
    return levels, innov, [
        f"Time series: same-row directions were found on the innovations of a VAR({fit.order}) of the "
        f"{len(numeric)} numeric sensors (what each row adds to what the past predicts, as in "
        "VAR-LiNGAM), where the plant's own disturbances show; the model fits the aligned rows with their lags."]


def feedback_search_constraints(constraints):
    """The constraints same-row discovery on innovations searches under: a declared control loop's
    fixed MV -> CV (a required edge whose reverse is forbidden, as the layout writes a loop)
    turned round to CV -> MV.

    On the levels, the valve's past moves the temperature, which one row can only hold as
    MV -> CV; on the innovations what is left in the row is the controller's answer to the
    temperature (CV -> MV), or nothing when it answers from the next row. An MV searched freely
    looks the most exogenous sensor of its station (its innovation is mostly its own noise) and,
    taken first, stands in for the CV it answers, which turns the CV's other edges round. The
    layout's edge is put back after the search (and replaced by CV -> MV in the model over time,
    :mod:`rca_app.core.lagged_model`).

    Parameters
    ----------
    constraints : Constraints

    Returns
    -------
    Constraints
        ``constraints`` itself when there is no such pair.
    """
    from dataclasses import replace

    pairs = {(a, b) for a, b in constraints.required if (b, a) in constraints.forbidden}
    if not pairs:
        return constraints
    turned = {(b, a) for a, b in pairs}
    return replace(constraints, required=(constraints.required - pairs) | turned,
                   forbidden=(constraints.forbidden - turned) | pairs)


def without_feedback_cycles(edges: set, fixed: set) -> set:
    """``edges`` without the discovered edges into a loop's MV from its CV's descendants: with the
    layout's MV -> CV put back (``fixed``) they would close a cycle, the search on innovations
    having ordered the CV first (:func:`feedback_search_constraints`).

    Parameters
    ----------
    edges : set of (str, str)
    fixed : set of (str, str)
        The loops' (MV, CV) edges the layout requires.

    Returns
    -------
    set of (str, str)
    """
    out = set(edges)
    for mv, cv in fixed:
        seen, stack = {cv}, [cv]
        while stack:
            a = stack.pop()
            for s, d in out:
                if s == a and d not in seen and (s, d) != (mv, cv):
                    seen.add(d)
                    stack.append(d)
        out -= {(s, d) for s, d in out if d == mv and s in seen and (s, d) not in fixed}
    return out

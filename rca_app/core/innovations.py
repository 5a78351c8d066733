"""The lagged part of a time series taken out first: innovations for same-row discovery.

On a plant historian's rows every sensor carries its own past (a mixing volume, a slow
disturbance, a controller) and its upstream sensors' past. Same-row discovery on the raw levels
then sees sums of many past shocks: nearly Gaussian (an AR(1) with coefficient 0.9 of uniform
shocks has excess kurtosis of about -0.13 against the shocks' -1.2), which is what LiNGAM cannot
order, and strongly dependent rows, which make its tests count far more evidence than there is.

VAR-LiNGAM (Hyvarinen, Zhang, Shimizu and Hoyer 2010) separates the two parts of a structural
vector autoregression ``x_t = B0 x_t + sum_k B_k x_(t-k) + e_t``: its reduced form
``x_t = sum_k M_k x_(t-k) + u_t`` is an ordinary VAR, fitted by least squares, and its residuals
(the innovations) obey ``u_t = B0 u_t + e_t``: the same-row (contemporaneous) structure, with the
structural shocks themselves as noise, non-Gaussian where the plant's shocks are, and rows
nearly independent. LiNGAM's causal order (and the ``"auto"`` choice of method, which reads the
noise) therefore comes from the innovations. Which edges that order keeps is still decided on the
residence-time-aligned levels, which the structural model fits with its lagged columns: an effect
through a mixing volume lives mostly over time, and would be lost from a graph decided within one
row of innovations (:func:`structure_from_innovations`). Declared control loops keep the levels
altogether (:func:`innovation_discovery_rows`).

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
        # Every order's fit from one Gram matrix of the centred lags and sensors (common sample).
        Y = Zs[cap:] - Zs[cap:].mean(axis=0)
        X = _lagged_columns(Zs, cap, cap)
        X -= X.mean(axis=0)
        m = len(Y)
        G, XtY, YtY = X.T @ X, X.T @ Y, Y.T @ Y
        for p in range(cap + 1):
            q = k * p
            RR = YtY.copy()
            if q:
                Gp = G[:q, :q] + _ridge_share(q, m) * float(np.trace(G[:q, :q])) / q * np.eye(q)
                B = np.linalg.solve(Gp, XtY[:q])
                RR += B.T @ G[:q, :q] @ B - 2 * B.T @ XtY[:q]      # residuals' cross-products
            _, logdet = np.linalg.slogdet(RR / m + 1e-10 * np.eye(k))
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


def loop_pairs(constraints) -> set[tuple[str, str]]:
    """The declared control loops' (MV, CV) pairs: required edges whose reverse is forbidden, as
    the layout writes a loop (:meth:`rca_app.core.layout.Layout.constraints`)."""
    return {(a, b) for a, b in constraints.required if (b, a) in constraints.forbidden}


def innovation_discovery_rows(frame: pd.DataFrame, numeric: list[str],
                              constraints) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """Time series: the levels same-row discovery keeps (the first ``p`` rows, which have no
    past, dropped), the same rows' VAR innovations, and a message saying so.

    Rows come back as they are, without innovations, when they cannot carry a VAR (a missing
    value, too few rows), show no past at all, or the layout declares a control loop. A loop is
    held in one row as the layout's MV -> CV, which stands for the valve's action over time; on
    the innovations what is left of the CV is the disturbance its controller did not see
    coming, often too small to order the CV against its station's other sensors (on the dynamic
    benchmark's reactor with 700 reference rows the conversion was put before the temperature
    in 3 seeds of 8, against none on the levels).

    Parameters
    ----------
    frame : DataFrame
        Reference rows in time order.
    numeric : list of str
    constraints : Constraints

    Returns
    -------
    (levels, innovations or None, messages)
    """
    if loop_pairs(constraints):
        return frame, None, []
    rows = innovation_rows(frame, numeric)
    if rows is None or rows[2].order == 0:
        return frame, None, []
    levels, innov, fit = rows
    return levels, innov, [
        f"Time series: same-row directions were found on the innovations of a VAR({fit.order}) of the "
        f"{len(numeric)} numeric sensors (what each row adds to what the past predicts, as in "
        "VAR-LiNGAM), where the plant's own disturbances show; the model fits the aligned rows with their lags."]


def structure_from_innovations(Xs: np.ndarray, innovations: pd.DataFrame, numeric: list[str], constraints,
                               settings, run_structure, full_path: bool = True):
    """VAR-LiNGAM's causal order with the levels' edges.

    The method (``"auto"`` resolved from the innovations' noise) and LiNGAM's causal order come
    from the innovations, where the plant's non-Gaussian shocks show; which edges that order keeps
    (the adaptive lasso, as LiNGAM prunes) is decided on the aligned levels, as the model fitted on
    them needs: an effect through a mixing volume acts mostly over time, too little within one
    row of innovations to be kept there, yet it is an edge of the levels (on the dynamic
    benchmark, deciding the edges on the innovations lost a slow drift's path to the KPI). PC and
    FCI run on the levels as they would without innovations (their tests already allow for
    autocorrelation).

    Parameters
    ----------
    Xs : ndarray of shape (n, k)
        The aligned levels of the ``numeric`` sensors, standardised.
    innovations : DataFrame
        The same rows' innovations (:func:`innovation_rows`), columns ``numeric``.
    numeric : list of str
    constraints : Constraints
    settings : DiscoverySettings
    run_structure : callable
        ``run_structure(X, constraints, settings) -> NumericStructure``: discovery's numeric search.
    full_path : bool
        The adaptive lasso's full path (False: the resamples' early stop).

    Returns
    -------
    NumericStructure
        Coefficients on the standardised levels.

    References
    ----------
    A. Hyvarinen, K. Zhang, S. Shimizu, P. O. Hoyer (2010), section 3 (the two-step estimate).
    """
    from dataclasses import replace

    from rca_app.core.lingam_fast import _adaptive_lasso_adjacency

    if settings.method in ("pc", "fci"):
        return run_structure(Xs, constraints, settings)
    U = innovations.to_numpy(dtype=float)
    sd = U.std(axis=0)
    U = (U - U.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    st = run_structure(U, constraints, settings)
    if st.method != "lingam":
        # The choice's name "pc+lingam" is not a method to ask for: its skeleton is PC's.
        return run_structure(Xs, constraints, replace(settings, method="pc" if st.method == "pc+lingam" else st.method))
    order = [numeric.index(n) for n in st.order]
    A = _adaptive_lasso_adjacency(Xs, order, constraints.prior_knowledge(numeric), full_path=full_path,
                                  serial=settings.time_series)
    rows, cols = np.nonzero(A)
    return replace(st, edges={(numeric[j], numeric[i]) for i, j in zip(rows, cols, strict=True)}, coef=A)

"""Conformal prediction intervals: per row, and for the mean over a window of consecutive rows.

Split conformal prediction turns held-out residuals of any fitted model into intervals with a
finite-sample coverage guarantee when rows are exchangeable: the interval for a new row is the
prediction plus or minus the ``ceil((n + 1)(1 - alpha)) / n`` quantile of the absolute held-out
residuals. Cross-fitted residuals (each row predicted by a model that did not see it) serve as
the held-out set, as in jackknife+/CV+ without refitting.

Plant data are autocorrelated, so rows are not exchangeable, and the mean of m consecutive
residuals spreads far more than m independent ones would. For the mean over a window (the
counterfactual KPI over the weeks after a change) the calibration set is the means of windows
of the same length cut from the reference residuals (overlapping), and the finite-sample
correction uses the number of *non-overlapping* windows: the effective sample size. The
guarantee then holds only approximately (for stationary, weakly dependent residuals), which the
result says.

References
----------
V. Vovk, A. Gammerman, G. Shafer (2005). Algorithmic Learning in a Random World. Springer.
J. Lei, M. G'Sell, A. Rinaldo, R. Tibshirani, L. Wasserman (2018). Distribution-free predictive
    inference for regression. JASA 113, 1094-1111.
R. Barber, E. Candes, A. Ramdas, R. Tibshirani (2021). Predictive inference with the jackknife+.
    Annals of Statistics 49, 486-507.
V. Chernozhukov, K. Wuthrich, Y. Zhu (2021). An exact and robust conformal inference method for
    counterfactual and synthetic controls. JASA 116, 1849-1864 (block permutations).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConformalBand:
    """Offsets to add to a prediction: ``[prediction + low, prediction + high]``.

    ``n_calibration`` is the (effective) number of calibration values; ``exact`` is False when
    the guarantee is approximate (windows of autocorrelated rows) or the calibration set is too
    small for the level (then the band is the widest residual seen, and says so)."""

    low: float
    high: float
    level: float
    n_calibration: int
    exact: bool


def _quantile_rank(n: int, level: float) -> tuple[int, bool]:
    """Index (1-based) of the order statistic giving coverage ``level`` with n values, and
    whether n is large enough for it."""
    k = math.ceil((n + 1) * level)
    return min(k, n), k <= n


def row_band(residuals: np.ndarray, level: float = 0.9) -> ConformalBand:
    """Symmetric split-conformal band for one new row from held-out residuals (observed minus
    predicted).

    Parameters
    ----------
    residuals : ndarray
        Cross-fitted or held-out residuals of the model.
    level : float
        Coverage (0.9 for 90% intervals).

    Returns
    -------
    ConformalBand
    """
    r = np.abs(np.asarray(residuals, dtype=float))
    r = np.sort(r[np.isfinite(r)])
    if len(r) == 0:
        return ConformalBand(float("nan"), float("nan"), level, 0, False)
    k, enough = _quantile_rank(len(r), level)
    q = float(r[k - 1])
    return ConformalBand(-q, q, level, len(r), enough)


def window_mean_band(residuals: np.ndarray, window: int, level: float = 0.9) -> ConformalBand:
    """Band for the mean over ``window`` consecutive new rows.

    Calibrated on the means of every ``window``-row stretch of the (time-ordered) reference
    residuals. Equal-tailed (residual means may be skewed), with the finite-sample correction at
    the number of non-overlapping windows. With fewer than about 1/(1 - level) such windows, the
    band is the widest window mean seen and ``exact`` is False.

    Parameters
    ----------
    residuals : ndarray
        Cross-fitted reference residuals (observed minus predicted) in time order.
    window : int
        Number of consecutive rows averaged (e.g. the weeks after a setpoint change).
    level : float, default 0.9
        Coverage (0.9 for 90% intervals).

    Returns
    -------
    ConformalBand
        Offsets for the predicted window mean.

    References
    ----------
    V. Chernozhukov, K. Wuthrich, Y. Zhu (2021). An exact and robust conformal inference method for
        counterfactual and synthetic controls. JASA 116, 1849-1864.
    """
    r = np.asarray(residuals, dtype=float)
    r = r[np.isfinite(r)]
    m = int(window)
    if m < 1 or len(r) < m:
        return ConformalBand(float("nan"), float("nan"), level, 0, False)
    c = np.concatenate([[0.0], np.cumsum(r)])
    means = np.sort((c[m:] - c[:-m]) / m)
    n_eff = max(1, len(r) // m)
    tail = (1 - level) / 2
    # Rank in the overlapping means that corresponds to the corrected tail at n_eff.
    k_lo, enough_lo = _quantile_rank(n_eff, 1 - tail)
    frac = (n_eff + 1 - k_lo) / (n_eff + 1) if enough_lo else 0.0
    lo = float(np.quantile(means, frac, method="lower"))
    hi = float(np.quantile(means, 1 - frac, method="higher"))
    return ConformalBand(lo, hi, level, n_eff, False)

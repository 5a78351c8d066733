"""Statistics that stay honest when consecutive rows are correlated (time-series data).

A plant historian's rows are not independent draws: a slow disturbance, a mixing volume or a
controller make each row resemble the last. A test that counts every row as new evidence then
finds "significant" edges, shifts and non-Gaussianity in noise, and a control chart's limits
are far too narrow. Every such correction in the engine comes from here, and only for data on an
even time grid (rows per part keep the independent-row statistics exactly).

Which rows are a time series: a time column on an even grid, and consecutive rows evidently
dependent (:func:`rows_are_serial`). A discrete line that stamps each part at a fixed cycle has an
even grid too, yet its rows are independent parts: it keeps the independent-row statistics.

One model throughout: a series' dependence is summarised by its lag-1 autocorrelation ``rho``
(an AR(1) process), the first-order correction the SPC and econometrics texts use. Only positive
autocorrelation inflates a variance here; negative (rare in process data, and within sampling
noise on short series) is treated as none, so a correction never makes a test bolder. An estimate
within :data:`NOISE_BAND` standard errors of zero (Bartlett's ``1/sqrt(n)`` for independent rows)
is no evidence of dependence and counts as 0.

- The mean of an AR(1) series of ``n`` rows has the variance of ``n (1 - rho) / (1 + rho)``
  independent rows (:func:`mean_variance_inflation`).
- The sample correlation of two independent AR(1) series (``rho_a``, ``rho_b``), and a regression
  coefficient of one on the other, have their variance inflated by
  ``(1 + rho_a rho_b) / (1 - rho_a rho_b)`` (Bartlett's formula; :func:`pair_variance_inflation`).
  The Fisher-z and nested F-tests divide their statistic by it.
- Sample skewness and kurtosis of a Gaussian linear process have variances inflated by
  ``sum_k rho_k^3`` and ``sum_k rho_k^4`` over all lags (Lomnicki 1961): the normality test of the
  noise diagnostics is corrected by those sums (:func:`normality_pvalue`).
- An EWMA of an AR(1) series has the stationary variance of an independent series' EWMA times
  ``(1 + rho (1 - lambda)) / (1 - rho (1 - lambda))`` (:func:`ewma_variance_inflation`), the
  EWMAST chart of Zhang (1998), as recommended for autocorrelated data by Montgomery's SPC text.

References
----------
M. S. Bartlett (1946). On the theoretical specification and sampling properties of autocorrelated
    time-series. Suppl. J. Royal Statistical Society 8, 27-41.
Z. A. Lomnicki (1961). Tests for departure from normality in the case of linear stochastic
    processes. Metrika 4, 37-62.
N. F. Zhang (1998). A statistical control chart for stationary process data. Technometrics 40,
    24-38.
C.-W. Lu, M. R. Reynolds (1999). EWMA control charts for monitoring the mean of autocorrelated
    processes. J. Quality Technology 31, 166-188.
D. C. Montgomery (2013). Introduction to Statistical Quality Control, 7th ed., section 10.4
    (SPC with autocorrelated process data). Wiley.
"""
from __future__ import annotations

import numpy as np

# Autocorrelations are capped here: beyond it one AR(1) parameter no longer describes the series
# (a trend, a random walk), and the inflation (1 + r) / (1 - r) = 199 already treats a thousand
# rows as five.
MAX_RHO = 0.99
# Independent rows give lag-1 autocorrelations of standard error 1/sqrt(n) (Bartlett); within three
# of them (the engine's usual 3-sigma bar) an estimate is taken as sampling noise.
NOISE_BAND = 3.0


def beyond_noise(rho, n: int):
    """``rho`` where it exceeds the independent-row noise band ``NOISE_BAND / sqrt(n)``, else 0;
    clipped to ``[0, MAX_RHO]``.

    Parameters
    ----------
    rho : float or ndarray
    n : int
        Rows the estimate came from.

    Returns
    -------
    float or ndarray
    """
    r = np.clip(rho, 0.0, MAX_RHO)
    return np.where(r > NOISE_BAND / np.sqrt(max(n, 1)), r, 0.0) if np.ndim(r) else (
        float(r) if r > NOISE_BAND / np.sqrt(max(n, 1)) else 0.0)


def rows_are_serial(frame, columns) -> bool:
    """Whether consecutive rows of ``frame`` are dependent: the median lag-1 autocorrelation of
    ``columns`` lies beyond the independent-row noise band (:func:`beyond_noise`).

    The median, so that one slowly wandering sensor (an ambient temperature) does not make a
    line of independent parts a time series, while a process where most sensors carry their past
    is one.

    Parameters
    ----------
    frame : DataFrame
        Rows in time order.
    columns : list of str
        Numeric columns.

    Returns
    -------
    bool
    """
    rhos = []
    for c in columns:
        x = frame[c].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if len(x) < 3:
            continue
        xc = x - x.mean()
        var = float(xc @ xc)
        if var > 0:
            rhos.append(float(xc[1:] @ xc[:-1]) / var)
    n = len(frame)
    return bool(rhos) and float(np.median(rhos)) > NOISE_BAND / np.sqrt(max(n, 1))


def is_time_series(data) -> bool:
    """Whether ``data``'s rows are samples on an even time grid (the time-aware path).

    Parameters
    ----------
    data : PlantData

    Returns
    -------
    bool
        False for rows per part (no time column) and for unevenly spaced rows.
    """
    if getattr(data, "time", None) is None:
        return False
    from rca_app.core.dynamics import grid_step

    return grid_step(data.time) is not None


def lag1_autocorrelation(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of ``x`` (rows in time order), clipped to ``[0, MAX_RHO]`` and 0
    within the noise band of independent rows (:func:`beyond_noise`).

    Parameters
    ----------
    x : ndarray

    Returns
    -------
    float
        0 for a constant or too short series.
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 3:
        return 0.0
    xc = x - x.mean()
    var = float(xc @ xc)
    if var <= 0:
        return 0.0
    return float(beyond_noise(float(xc[1:] @ xc[:-1]) / var, len(x)))


def mean_variance_inflation(rho: float) -> float:
    """Variance of an AR(1) series' mean over that of independent rows: ``(1 + rho) / (1 - rho)``.

    Parameters
    ----------
    rho : float
        Lag-1 autocorrelation (negative values count as 0).

    Returns
    -------
    float
        At least 1.
    """
    r = float(np.clip(rho, 0.0, MAX_RHO))
    return (1 + r) / (1 - r)


def pair_variance_inflation(rho_a, rho_b):
    """Variance of the sample correlation of two independent AR(1) series over ``1/n`` (Bartlett):
    ``(1 + rho_a rho_b) / (1 - rho_a rho_b)``.

    Parameters
    ----------
    rho_a, rho_b : float or ndarray
        Lag-1 autocorrelations (negative values count as 0).

    Returns
    -------
    float or ndarray
        At least 1.
    """
    ab = np.clip(rho_a, 0.0, MAX_RHO) * np.clip(rho_b, 0.0, MAX_RHO)
    return (1 + ab) / (1 - ab)


def effective_rows(n: int, inflation) -> np.ndarray | float:
    """Independent rows worth as much as ``n`` autocorrelated ones: ``n / inflation``.

    Parameters
    ----------
    n : int
    inflation : float or ndarray

    Returns
    -------
    float or ndarray
    """
    return n / np.maximum(inflation, 1.0)


def lag1_gram(F: np.ndarray) -> np.ndarray:
    """Symmetrised lag-1 cross-product of the columns of ``F`` (rows in time order), scaled like
    ``F.T @ F / n``: for a residual ``F @ c`` its lag-1 autocovariance is ``c @ G1 @ c``, so tests
    solved from a Gram matrix get their residuals' autocorrelations from small solves too.

    Parameters
    ----------
    F : ndarray of shape (n, k)
        Centred columns.

    Returns
    -------
    ndarray of shape (k, k)
    """
    n = len(F)
    C = F[1:].T @ F[:-1]
    return (C + C.T) / (2 * n)


def quadratic_form_rho(G: np.ndarray, G1: np.ndarray, coef: np.ndarray, cols, n: int) -> float:
    """Lag-1 autocorrelation of the residual ``F[:, cols] @ coef`` from the Gram matrices.

    Parameters
    ----------
    G, G1 : ndarray
        ``F.T @ F`` and :func:`lag1_gram` of the same columns, on the same scale.
    coef : ndarray
    cols : list of int
    n : int
        Rows of ``F`` (for the noise band).

    Returns
    -------
    float
        Clipped to ``[0, MAX_RHO]``, 0 within the noise band (:func:`beyond_noise`).
    """
    idx = np.asarray(cols, dtype=int)
    var = float(coef @ G[np.ix_(idx, idx)] @ coef)
    if var <= 0:
        return 0.0
    return float(beyond_noise(float(coef @ G1[np.ix_(idx, idx)] @ coef) / var, n))


def ar1_power_sum(rho: float, power: int) -> float:
    """``sum over all lags k of rho^(power |k|)`` for an AR(1) series: ``(1 + q) / (1 - q)``, ``q = rho^power``.

    Parameters
    ----------
    rho : float
    power : int

    Returns
    -------
    float
    """
    q = float(np.clip(rho, 0.0, MAX_RHO)) ** power
    return (1 + q) / (1 - q)


def normality_pvalue(r: np.ndarray, serial: bool) -> float:
    """D'Agostino-Pearson normality test of residuals ``r``; on time series (``serial``) with the
    skewness and kurtosis z-scores deflated by their autocorrelation inflation (Lomnicki 1961).

    Parameters
    ----------
    r : ndarray
        Residuals, rows in time order.
    serial : bool
        Rows are consecutive samples of a time series. False: ``scipy.stats.normaltest`` exactly.

    Returns
    -------
    float
    """
    from scipy import stats
    from scipy.special import chdtrc

    if not serial:
        return float(stats.normaltest(r).pvalue)
    rho = lag1_autocorrelation(r)
    zs = float(stats.skewtest(r).statistic) / np.sqrt(ar1_power_sum(rho, 3))
    zk = float(stats.kurtosistest(r).statistic) / np.sqrt(ar1_power_sum(rho, 4))
    return float(chdtrc(2, zs * zs + zk * zk))


def mean_shift_z(ref_res: np.ndarray, inc_res: np.ndarray, serial: bool) -> float:
    """The incident residuals' mean shift in standard errors of their mean.

    Parameters
    ----------
    ref_res, inc_res : ndarray
        Residuals of the reference and incident rows (each in time order).
    serial : bool
        Time series: the standard error counts ``n (1 - rho) / (1 + rho)`` rows, ``rho`` the
        reference residuals' lag-1 autocorrelation. False: ``n`` rows, as for parts.

    Returns
    -------
    float
    """
    sd = float(np.std(ref_res)) or 1.0
    d = float(np.mean(inc_res)) - float(np.mean(ref_res))
    n = len(inc_res)
    if serial:
        n = effective_rows(n, mean_variance_inflation(lag1_autocorrelation(ref_res)))
    return d / (sd / np.sqrt(n))


def ewma_variance_inflation(rho: float, lam: float) -> float:
    """Stationary variance of an EWMA (weight ``lam``) of an AR(1) series over that of an
    independent series with the same marginal variance (Zhang 1998, the asymptotic EWMAST limit).

    Parameters
    ----------
    rho : float
        The series' lag-1 autocorrelation.
    lam : float
        EWMA weight of the newest row.

    Returns
    -------
    float
        ``(1 + rho (1 - lam)) / (1 - rho (1 - lam))``, at least 1.
    """
    q = float(np.clip(rho, 0.0, MAX_RHO)) * (1 - lam)
    return (1 + q) / (1 - q)


def moving_block_rows(n: int, m: int, rng: np.random.Generator, block: int | None = None) -> np.ndarray:
    """Row indices of a moving-block bootstrap resample of ``m`` rows out of ``n`` in time order.

    Parameters
    ----------
    n : int
        Rows available.
    m : int
        Rows drawn (``m <= n``: an m-out-of-n resample).
    rng : Generator
    block : int, optional
        Block length (default ``n^(1/3)``, the usual rate for a moving-block bootstrap).

    Returns
    -------
    ndarray of int

    References
    ----------
    H. R. Kunsch (1989). The jackknife and the bootstrap for general stationary observations.
        Annals of Statistics 17, 1217-1241.
    """
    block = max(1, min(n, block or int(round(n ** (1 / 3)))))
    starts = rng.integers(0, n - block + 1, int(np.ceil(m / block)))
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:m]

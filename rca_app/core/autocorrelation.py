"""Statistics that stay honest when consecutive rows are correlated (time-series data).

A plant historian's rows are not independent draws: a slow disturbance, a mixing volume or a
controller make each row resemble the last. A test that counts every row as new evidence then
finds "significant" edges, shifts and non-Gaussianity in noise, and a control chart's limits
are far too narrow. Every such correction in the engine comes from here, and only for time series.

Which rows are a time series: a time column on an even grid, and consecutive rows evidently
dependent (:func:`rows_are_serial`). A discrete line that stamps each part at a fixed cycle has an
even grid too, yet its rows are independent parts: it keeps the independent-row statistics.

A series' dependence is read from its sample autocorrelations ``rho_k``, summed over the lags
where they are evidently there: from lag 1 up to the first lag whose autocorrelation lies within
:data:`NOISE_BAND` standard errors of zero (Bartlett's ``1/sqrt(n)`` for independent rows), at
most :data:`MAX_LAG` lags (:func:`autocorrelations`). Independent rows therefore get no
correction at all, and a smooth process (a disturbance through a mixing volume, whose lag-1
autocorrelation is near 1 but whose memory is short) is not treated as a near random walk, as
one lag-1 (AR(1)) coefficient would.

- The mean of ``n`` rows has the variance of ``n / (1 + 2 sum rho_k)`` independent rows
  (:func:`mean_inflation`; the integrated autocorrelation time).
- The sample correlation of two independent series, and a regression coefficient of one on the
  other, have their variance inflated by ``1 + 2 sum rho_a,k rho_b,k`` (Bartlett's formula;
  :func:`pair_inflation`). The Fisher-z and nested F-tests divide their statistic by it; their
  residuals' autocorrelations come from lagged Gram matrices (:func:`lagged_grams`), so tests
  solved from a Gram matrix stay small solves.
- Sample skewness and kurtosis of a Gaussian linear process have variances inflated by
  ``sum rho_k^3`` and ``sum rho_k^4`` over all lags (Lomnicki 1961; :func:`normality_pvalue`).
- An EWMA (weight ``lambda``) has the stationary variance of an independent series' EWMA times
  ``1 + 2 sum rho_k (1 - lambda)^k`` (Zhang 1998, the EWMAST chart; Montgomery's SPC text, section
  10.4, recommends it for autocorrelated data; :func:`ewma_inflation`).

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

# Independent rows give autocorrelations of standard error 1/sqrt(n) (Bartlett); within three of
# them (the engine's usual 3-sigma bar) an estimate is taken as sampling noise.
NOISE_BAND = 3.0
# Lags summed at most (and never more than a quarter of the rows): beyond a hundred grid steps a
# series' memory is a trend more than a correlation, and the sums' own noise grows with the lags.
MAX_LAG = 100


def band(n: int) -> float:
    """The independent-row noise band of an autocorrelation estimated from ``n`` rows."""
    return NOISE_BAND / np.sqrt(max(n, 1))


def is_time_series(data) -> bool:
    """Whether ``data``'s rows are samples on an even time grid (the time-aware path).

    Parameters
    ----------
    data : PlantData

    Returns
    -------
    bool
        False for rows without a time column and for unevenly spaced rows.
    """
    if getattr(data, "time", None) is None:
        return False
    from rca_app.core.grid_holes import data_grid

    # Rows dropped for a missing value are holes in an even grid, not an uneven grid.
    return data_grid(data) is not None


def _raw_acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelations at lags 1..max_lag (FFT; the usual biased estimator)."""
    n = len(x)
    xc = x - x.mean()
    var = float(xc @ xc)
    if var <= 0 or max_lag < 1:
        return np.zeros(max(max_lag, 0))
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(xc, size)
    ac = np.fft.irfft(f * np.conj(f), size)[1:max_lag + 1]
    return ac / var


def _significant(rho: np.ndarray, n: int) -> np.ndarray:
    """``rho`` up to (not including) the first lag within the noise band, zeros after."""
    out = np.zeros_like(rho, dtype=float)
    inside = np.flatnonzero(rho <= band(n))
    stop = int(inside[0]) if len(inside) else len(rho)
    out[:stop] = rho[:stop]
    return out


def autocorrelations(x: np.ndarray, max_lag: int = MAX_LAG) -> np.ndarray:
    """Autocorrelations of ``x`` (rows in time order) at lags 1..K that are evidently there.

    Parameters
    ----------
    x : ndarray
    max_lag : int

    Returns
    -------
    ndarray of shape (K,)
        ``K = min(max_lag, n // 4)``; the sample autocorrelations up to the first lag within the
        noise band (:func:`band`), zeros from there on. All zeros for independent rows.
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    k = min(max_lag, n // 4)
    if k < 1:
        return np.zeros(0)
    return _significant(_raw_acf(x, k), n)


def memory(x: np.ndarray, max_lag: int = MAX_LAG) -> int:
    """Lags over which ``x``'s autocorrelation is evidently there (0 for independent rows)."""
    return int(np.count_nonzero(autocorrelations(x, max_lag)))


def integrated_autocorrelation_time(x: np.ndarray, max_lag: int = 50) -> float:
    """``1 + 2 * sum(rho_k)``, summed until the autocorrelation first turns non-positive: how
    many rows count as one independent row for ``x``'s mean (the impact query's rule; the
    engine's tests use :func:`mean_inflation` of :func:`autocorrelations`, cut at the noise band).

    Parameters
    ----------
    x : ndarray
    max_lag : int
        Lags below ``min(max_lag, n // 4)`` are summed.

    Returns
    -------
    float

    References
    ----------
    A. Sokal (1997). Monte Carlo methods in statistical mechanics: foundations and new
        algorithms (the integrated autocorrelation time and its window).
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 10 or float(np.var(x)) <= 0:
        return 1.0
    rho = _raw_acf(x, min(max_lag, n // 4) - 1)
    stop = np.flatnonzero(rho <= 0)
    return 1.0 + 2.0 * float(np.sum(rho[:stop[0]] if len(stop) else rho))


def rows_are_serial(frame, columns) -> bool:
    """Whether consecutive rows of ``frame`` are dependent: the median lag-1 autocorrelation of
    ``columns`` lies beyond the independent-row noise band (:func:`band`).

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
        if len(x) >= 3:
            rhos.append(float(_raw_acf(x, 1)[0]))
    return bool(rhos) and float(np.median(rhos)) > band(len(frame))


def mean_inflation(rho: np.ndarray) -> float:
    """Variance of a series' mean over that of independent rows: ``1 + 2 sum rho_k``.

    Parameters
    ----------
    rho : ndarray
        From :func:`autocorrelations`.

    Returns
    -------
    float
        At least 1.
    """
    return max(1.0, 1.0 + 2.0 * float(np.sum(rho)))


def pair_inflation(rho_a: np.ndarray, rho_b: np.ndarray) -> float:
    """Variance of the sample correlation of two independent series over ``1/n`` (Bartlett):
    ``1 + 2 sum_k rho_a,k rho_b,k``.

    Parameters
    ----------
    rho_a, rho_b : ndarray
        Significant autocorrelations (:func:`autocorrelations`, :func:`residual_autocorrelations`).

    Returns
    -------
    float
        At least 1.
    """
    k = min(len(rho_a), len(rho_b))
    return max(1.0, 1.0 + 2.0 * float(np.dot(rho_a[:k], rho_b[:k])))


def score_inflation(residuals: np.ndarray, terms: np.ndarray) -> float:
    """Bartlett's inflation of a test of ``terms`` added to a regression with null ``residuals``:
    the largest ``1 + 2 sum_k rho_e,k rho_x,k`` over the residual columns and the terms.

    A likelihood-ratio, score or Wald test of a term rests on the sum ``sum_t e_t x_t``; for two
    independent autocorrelated series its variance is that of independent rows times this factor,
    so dividing the statistic by it (and counting that many fewer rows) keeps the test's level.
    Taking the largest over several columns (the classes of a categorical response, the dummies
    of a categorical term) errs on the safe side.

    Parameters
    ----------
    residuals : ndarray of shape (n,) or (n, r)
        The response's residuals under the model without the terms (rows in time order).
    terms : ndarray of shape (n,) or (n, q)
        The terms tested, preferably residualised on the model's other columns.

    Returns
    -------
    float
        At least 1 (exactly 1 when either side shows no autocorrelation).
    """
    E = np.asarray(residuals, dtype=float).reshape(len(residuals), -1)
    X = np.asarray(terms, dtype=float).reshape(len(terms), -1)
    rho_e = [autocorrelations(E[:, j]) for j in range(E.shape[1])]
    rho_x = [autocorrelations(X[:, j]) for j in range(X.shape[1])]
    return max((pair_inflation(a, b) for a in rho_e for b in rho_x), default=1.0)


def gram_lags(F: np.ndarray, max_lag: int = MAX_LAG) -> int:
    """Lags the lagged Gram matrices of ``F``'s columns need: the longest memory of a column."""
    return max((memory(F[:, j], max_lag) for j in range(F.shape[1])), default=0)


def lagged_grams(F: np.ndarray, n_lags: int) -> np.ndarray:
    """Symmetrised lag-k cross-products of the columns of ``F``, k = 1..n_lags, scaled like
    ``F.T @ F / n``: for a residual ``F @ c`` its lag-k autocovariance is ``c @ Gs[k-1] @ c``.

    Parameters
    ----------
    F : ndarray of shape (n, q)
        Centred columns, rows in time order.
    n_lags : int

    Returns
    -------
    ndarray of shape (n_lags, q, q)
    """
    n, q = F.shape
    out = np.empty((n_lags, q, q))
    for k in range(1, n_lags + 1):
        C = F[k:].T @ F[:-k]
        out[k - 1] = (C + C.T) / (2 * n)
    return out


def residual_autocorrelation_table(G: np.ndarray, Gs: np.ndarray, base, cols, n: int) -> np.ndarray:
    """Significant autocorrelations of each column's residual on the ``base`` columns, from Gram
    matrices (the Schur complement of ``base``, lag by lag).

    Parameters
    ----------
    G : ndarray of shape (q, q)
        ``F.T @ F`` on the scale of ``Gs``.
    Gs : ndarray of shape (K, q, q)
        :func:`lagged_grams` of the same columns.
    base : list of int
        Columns partialled out (may be empty).
    cols : list of int
        Columns whose residuals are wanted.
    n : int
        Rows of ``F`` (for the noise band).

    Returns
    -------
    ndarray of shape (len(cols), K)
        One row per column, as :func:`autocorrelations`.
    """
    c = np.asarray(cols, dtype=int)
    b = np.asarray(base, dtype=int)
    if len(Gs) == 0 or len(c) == 0:
        return np.zeros((len(c), len(Gs)))
    var = G[c, c].astype(float)
    lag = Gs[:, c, c].astype(float)                       # (K, m): each column's own lag-k products
    if len(b):
        Gbb = G[np.ix_(b, b)]
        H = np.linalg.lstsq(Gbb + 1e-12 * max(float(np.trace(Gbb)), 1e-300) * np.eye(len(b)), G[np.ix_(b, c)],
                            rcond=None)[0]                  # (nb, m)
        var = var - np.einsum("bm,bm->m", G[np.ix_(b, c)], H)
        lag = (lag - 2 * np.einsum("kbm,bm->km", Gs[:, b[:, None], c[None, :]], H)
               + np.einsum("bm,kbd,dm->km", H, Gs[:, b[:, None], b[None, :]], H))
    rho = lag / np.maximum(var, 1e-300)[None, :]
    return np.stack([_significant(rho[:, j], n) if var[j] > 0 else np.zeros(len(Gs)) for j in range(len(c))])


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

    rho = autocorrelations(r) if serial else np.zeros(0)
    if not rho.any():
        return float(stats.normaltest(r).pvalue)
    zs = float(stats.skewtest(r).statistic) / np.sqrt(1 + 2 * float(np.sum(rho ** 3)))
    zk = float(stats.kurtosistest(r).statistic) / np.sqrt(1 + 2 * float(np.sum(rho ** 4)))
    return float(chdtrc(2, zs * zs + zk * zk))


def mean_shift_z(ref_res: np.ndarray, inc_res: np.ndarray, serial: bool) -> float:
    """The incident residuals' mean shift in standard errors of their mean.

    Parameters
    ----------
    ref_res, inc_res : ndarray
        Residuals of the reference and incident rows (each in time order).
    serial : bool
        Time series: the standard error counts ``n / (1 + 2 sum rho_k)`` rows, ``rho`` the
        reference residuals' autocorrelations. False: ``n`` rows, as for parts.

    Returns
    -------
    float
    """
    sd = float(np.std(ref_res)) or 1.0
    d = float(np.mean(inc_res)) - float(np.mean(ref_res))
    n: float = len(inc_res)
    if serial:
        n = n / mean_inflation(autocorrelations(ref_res))
    return d / (sd / np.sqrt(n))


def ewma_inflation(rho: np.ndarray, lam: float) -> float:
    """Stationary variance of an EWMA (weight ``lam``) of a series over that of an independent
    series with the same variance: ``1 + 2 sum rho_k (1 - lam)^k`` (Zhang 1998).

    Parameters
    ----------
    rho : ndarray
        From :func:`autocorrelations`.
    lam : float
        EWMA weight of the newest row.

    Returns
    -------
    float
        At least 1.
    """
    w = (1 - lam) ** np.arange(1, len(rho) + 1)
    return max(1.0, 1.0 + 2.0 * float(np.dot(rho, w)))


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


# The common prewhitening filter's largest order: a disturbance through one or two mixing volumes
# is AR(2) or AR(3); more lags would mostly fit noise.
MAX_WHITENING_ORDER = 5


def whitening_filter(Z: np.ndarray) -> np.ndarray:
    """One autoregressive filter for all columns of ``Z``: Yule-Walker on their pooled
    autocorrelations, of the order up to which the pooled partial autocorrelations lie beyond the
    noise band (at most :data:`MAX_WHITENING_ORDER`).

    Filtering every column by the same linear filter keeps every relation that is linear in the
    columns (``y = B x + e`` gives ``A(L) y = B A(L) x + A(L) e``), so a structural model's
    coefficients and conditional independences are unchanged, while the noise comes out nearly
    independent: tests on the filtered rows are as valid as on the raw ones (the Bartlett
    correction still takes the remainder) and far more powerful than on slowly varying levels, as
    generalised least squares is (Cochrane-Orcutt).

    Parameters
    ----------
    Z : ndarray of shape (n, p)
        Standardised columns, rows in time order.

    Returns
    -------
    ndarray
        ``a`` with ``A(L) z_t = z_t - sum_k a_k z_(t-k)``; empty when the rows are independent.

    References
    ----------
    D. Cochrane, G. H. Orcutt (1949). Application of least squares regression to relationships
        containing auto-correlated error terms. JASA 44, 32-61.
    """
    n, p = Z.shape
    if p == 0 or n < 20:
        return np.zeros(0)
    k = min(MAX_WHITENING_ORDER, n // 10)
    acf = np.mean([_raw_acf(Z[:, j], k) for j in range(p)], axis=0)
    # Durbin-Levinson: AR coefficients and partial autocorrelations order by order.
    r = np.concatenate([[1.0], acf])
    a = np.zeros(0)
    err = 1.0
    order_coefs = []
    for m in range(1, k + 1):
        pacf = (r[m] - float(a @ r[m - 1:0:-1])) / err if m > 1 else r[1]
        a = np.concatenate([a - pacf * a[::-1], [pacf]])
        err *= 1 - pacf * pacf
        if abs(pacf) <= band(n) or err <= 1e-6:
            break
        order_coefs.append(a.copy())
    return order_coefs[-1] if order_coefs else np.zeros(0)


def prewhiten(F: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``F`` filtered by ``A(L) = 1 - sum a_k L^k`` (the first ``len(a)`` rows, which have no
    past, dropped).

    Parameters
    ----------
    F : ndarray of shape (n, q)
    a : ndarray
        From :func:`whitening_filter`.

    Returns
    -------
    ndarray of shape (n - len(a), q)
    """
    p = len(a)
    if p == 0:
        return F
    out = F[p:].copy()
    for k in range(1, p + 1):
        out -= a[k - 1] * F[p - k:len(F) - k]
    return out

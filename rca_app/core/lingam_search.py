"""One step of DirectLiNGAM's causal-order search, answered exactly but lazily.

lingam scores every candidate ``i`` (a sensor with no required predecessor left) by

    M_i = sum over every other remaining sensor j of min(0, D_ij)^2,
    D_ij = (H(x_j) + H(r_i|j)) - (H(x_i) + H(r_j|i)),

and picks the candidate with the smallest ``M_i`` (the first one on an exact tie). ``H`` is the
maximum-entropy approximation of differential entropy and ``r_i|j`` the standardised residual of
``x_i`` regressed on ``x_j``. Each term needs two residual entropies over all rows, so a full
step costs 2 * candidates * sensors entropy evaluations.

Every term is non-negative, so a partial sum is a lower bound on ``M_i``. The search below is
best-first: it always extends the candidate whose lower bound is smallest, pairs with the most
strongly correlated sensors first (uncorrelated pairs give D = 0 exactly in the limit), and stops
once a fully scored candidate beats every other bound by more than the rounding error of the
scores. Candidates that lingam would never pick are typically dismissed after one or two pairs,
so a step costs about 3 * sensors entropy evaluations (the winner's full score and the marginal
entropies) instead of 2 * candidates * sensors. The chosen sensor is the one a full evaluation
picks, by construction; only a tie within rounding error (then both are scored fully and
compared) can differ from lingam, exactly as it could for a full evaluation.

References
----------
.. [1] S. Shimizu et al. DirectLiNGAM: A direct method for learning a linear non-Gaussian
   structural equation model. JMLR 12:1225-1248, 2011.
.. [2] A. Hyvärinen and S. M. Smith. Pairwise likelihood ratios for estimation of non-Gaussian
   structural equation models. JMLR 14:111-152, 2013.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Constants of the maximum-entropy approximation (Hyvärinen 1998), as lingam uses them.
_K1 = 79.047
_K2 = 7.4129
_GAMMA = 0.37457
_H_GAUSS = (1 + math.log(2 * math.pi)) / 2

# Bound on how far one of our D_ij can be from lingam's (both round differently). Entropies are
# ~1.4 and accurate to ~1e-15 in double precision, so 1e-11 leaves a wide margin. In single
# precision the entropies are only good to ~1e-7, and the answer promised is the one a full
# single-precision scoring gives (it differs from lingam's on near-ties only): the bounds then
# need to cover just the double-precision sums of the terms, and the same margin does.
_D_ERR = 1e-11

# Rows of n values handled per numpy call: large enough to amortise the call overhead, small
# enough that a block of work arrays stays in the core's cache.
_BLOCK_VALUES = 1 << 16


def entropy_rows(u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Approximate differential entropy of each standardised row of ``u``.

    Parameters
    ----------
    u : ndarray, shape (rows, n)
        C-contiguous rows with mean 0 and variance 1 (float32 or float64). Not modified.
    out : ndarray, shape (rows,), optional
        Where to write the entropies (float64).

    Returns
    -------
    ndarray, shape (rows,)
        ``H_gauss - k1 (mean log cosh u - gamma)^2 - k2 (mean u exp(-u^2/2))^2``, lingam's formula.
    """
    rows, n = u.shape
    if out is None:
        out = np.empty(rows)
    step = max(1, _BLOCK_VALUES // max(n, 1))
    w = np.empty((min(step, rows), n), dtype=u.dtype)
    for s in range(0, rows, step):
        blk = u[s:s + step]
        wb = w[:len(blk)]
        np.cosh(blk, out=wb)
        np.log(wb, out=wb)
        a = wb.sum(axis=1, dtype=np.float64) / n  # pairwise summation along contiguous rows
        np.square(blk, out=wb)
        wb *= -0.5
        np.exp(wb, out=wb)
        b = np.einsum("ij,ij->i", blk, wb, dtype=np.float64) / n
        out[s:s + len(blk)] = _H_GAUSS - _K1 * (a - _GAMMA) ** 2 - _K2 * b ** 2
    return out


def residual_entropies(Zw: np.ndarray, a: np.ndarray, b: np.ndarray, coef: np.ndarray,
                       var_r: np.ndarray, pool=None) -> np.ndarray:
    """Entropy of the standardised residual of row ``a[t]`` regressed on row ``b[t]``, for every t.

    Parameters
    ----------
    Zw : ndarray, shape (k, n)
        Standardised sensors, one contiguous row each, in the working precision.
    a, b : ndarray of int, shape (m,)
        Rows of the regressed and the regressor sensor.
    coef : ndarray, shape (m,)
        Regression coefficients (lingam's cov(a, b) / var(b)).
    var_r : ndarray, shape (m,)
        Variance of each residual, or NaN where it must be measured from the residual itself.
    pool : concurrent.futures.Executor, optional
        Splits the rows over threads (numpy releases the GIL inside its loops).

    Returns
    -------
    ndarray, shape (m,)
    """
    m, n = len(a), Zw.shape[1]
    out = np.empty(m)
    step = max(1, _BLOCK_VALUES // max(n, 1))

    def block(s: int) -> None:
        e = min(m, s + step)
        r = np.multiply(Zw[b[s:e]], (-coef[s:e])[:, None].astype(Zw.dtype))
        r += Zw[a[s:e]]
        v = var_r[s:e].copy()
        shaky = np.isnan(v)
        if shaky.any():
            v[shaky] = r[shaky].var(axis=1, dtype=np.float64)
        # A residual that is exactly zero (a sensor copied into another) has no spread; lingam
        # divides by zero there and gets NaN entropies, which never win a comparison.
        with np.errstate(divide="ignore", invalid="ignore"):
            r *= (1.0 / np.sqrt(v))[:, None].astype(Zw.dtype)
            entropy_rows(r, out[s:e])

    starts = range(0, m, step)
    if pool is not None and m > step:
        list(pool.map(block, starts))
    else:
        for s in starts:
            block(s)
    return out


@dataclass
class SearchMemory:
    """What the steps so far learned that helps the next one order its work (never its answer).

    Removing one sensor changes every term a little, so last step's terms predict this step's:
    ``term[i, j]`` is the latest min(0, D_ij)^2 computed (NaN where never computed).
    """

    term: np.ndarray
    pairs_evaluated: int = 0
    pairs_full: int = 0

    @classmethod
    def for_sensors(cls, p: int) -> SearchMemory:
        return cls(np.full((p, p), np.nan))


def _has_zero_residual(Z: np.ndarray, C: np.ndarray, cov: np.ndarray, zvar: np.ndarray) -> bool:
    """Whether some candidate pair is collinear to the last bit (a residual of exactly zero)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v1 = zvar[C, None] - cov * cov / zvar[None, :]
        v2 = zvar[None, :] - cov * cov / zvar[C, None]
    for ci, j in zip(*np.nonzero(~((v1 >= 1e-6) & (v2 >= 1e-6))), strict=True):
        i = C[ci]
        if i == j:
            continue
        for a, b in ((i, j), (j, i)):
            r = Z[a] - (cov[ci, j] / zvar[b]) * Z[b]
            if not r.var() > 0.0:
                return True
    return False


def choose_next(Z: np.ndarray, Zw: np.ndarray, U: list[int], cand: list[int], pool=None,
                memory: SearchMemory | None = None, exhaustive: bool = False) -> int:
    """The candidate lingam's ``_search_causal_order`` picks at this step.

    Parameters
    ----------
    Z : ndarray, shape (k, n)
        The remaining sensors, standardised, one row each (float64), in the order of ``U``.
    Zw : ndarray, shape (k, n)
        ``Z`` in the working precision (``Z`` itself, or its float32 copy).
    U : list of int
        Sensor id of each row of ``Z``.
    cand : list of int
        Row positions (into ``U``) of the candidates, in increasing sensor id (lingam's order,
        which decides exact ties); at least two.
    pool : concurrent.futures.Executor, optional
        Threads for the entropy evaluations.
    memory : SearchMemory, optional
        Carried from step to step to order the work.
    exhaustive : bool
        Score every candidate fully, as lingam does (for checking the bounds).

    Returns
    -------
    int
        Position (into ``U``) of the chosen sensor.
    """
    k, n = Z.shape
    C = np.asarray(cand)
    nC = len(C)
    d_err = _D_ERR
    memory = memory if memory is not None else SearchMemory.for_sensors(max(U) + 1)

    # Moments exactly as lingam forms them: biased covariance, regression coefficient
    # cov(a, b) / var(b), on the standardised sensors.
    zm = Z.mean(axis=1)
    zvar = Z.var(axis=1)
    cov = (Z[C] @ Z.T) / n - zm[C, None] * zm[None, :]  # (nC, k)
    Hx = entropy_rows(Zw)

    pos_in_C = np.full(k, -1)
    pos_in_C[C] = np.arange(nC)
    ids = np.asarray(U)
    rho = np.abs(cov) / np.sqrt(zvar[C, None] * zvar[None, :])
    prev = memory.term[np.ix_(ids[C], ids)]  # (nC, k), NaN where unknown
    # Partners of each candidate: the ones with the largest terms last step first, then the
    # unknown ones by decreasing correlation (an uncorrelated pair has D = 0), the known zero
    # terms last.
    group = np.where(np.isnan(prev), 1, np.where(prev > 0, 0, 2))
    key2 = np.where(group == 0, -np.nan_to_num(prev), -rho)
    partners = []
    for ci in range(nC):
        g = group[ci].copy()
        g[C[ci]] = 3  # itself, never a partner
        partners.append(np.lexsort((key2[ci], g))[:k - 1])
    # The candidate that last step's terms say is the likeliest winner is scored fully first, so
    # that the others can be dismissed against its score.
    predicted = np.nansum(prev, axis=1)
    first = int(np.argmin(predicted))

    lb = np.zeros(nC)            # sum of the terms found so far = lower bound on M_i
    root_sum = np.zeros(nC)      # sum of |min(0, D)| so far, to bound the rounding error
    count = np.zeros(nC, dtype=int)
    nan_score = np.zeros(nC, dtype=bool)
    nxt = np.zeros(nC, dtype=int)
    batch = np.full(nC, 2)
    batch[first] = 16
    terms = np.full((nC, k), np.nan)
    done = np.zeros((k, k), dtype=bool)
    np.fill_diagonal(done, True)
    # A sensor with no spread left, or a pair with an exactly zero residual, makes lingam's scores
    # NaN, and np.argmax then picks the first NaN. Bounds say nothing there: score everything.
    exhaustive = exhaustive or not np.isfinite(Hx).all() or not np.isfinite(cov).all() or _has_zero_residual(
        Z, C, cov, zvar)

    def add(ci: int, j: int, D: float) -> None:
        if math.isnan(D):
            nan_score[ci] = True
        t = min(0.0, D)
        lb[ci] += t * t
        root_sum[ci] -= t
        count[ci] += 1
        terms[ci, j] = t * t

    while True:
        complete = count == k - 1
        open_ = np.flatnonzero(~complete)
        if len(open_) == 0:
            break
        # |our M_i - lingam's M_i| <= 2 eps sum |min(0, D)| + count eps^2
        err = 2.0 * d_err * root_sum + count * d_err * d_err
        lows = lb[open_] - err[open_]
        if not exhaustive and complete.any() and lows.min() > (lb + err)[complete].min():
            break  # no open candidate can still reach the best complete score
        # Which open candidate to extend changes only the work, never the answer.
        ci = first if not complete.any() else int(open_[np.argmin(lows)])
        i = C[ci]
        js = []
        while nxt[ci] < k - 1 and len(js) < batch[ci]:
            j = int(partners[ci][nxt[ci]])
            nxt[ci] += 1
            if not done[i, j]:
                js.append(j)
        batch[ci] = min(2 * batch[ci], 64)
        if not js:
            continue
        js = np.array(js)
        cij = cov[ci, js]
        # Both residuals of each pair: i on j, and j on i.
        a = np.concatenate([np.full(len(js), i), js])
        b = np.concatenate([js, np.full(len(js), i)])
        coef = np.concatenate([cij / zvar[js], cij / zvar[i]])
        var_r = zvar[a] - 2 * coef * np.concatenate([cij, cij]) + coef * coef * zvar[b]
        # The closed form loses precision for nearly collinear pairs: measure those directly.
        var_r[~(var_r >= 1e-6)] = np.nan
        H = residual_entropies(Zw, a, b, coef, var_r, pool)
        Hij, Hji = H[:len(js)], H[len(js):]
        memory.pairs_evaluated += len(js)
        for t, j in enumerate(js):
            done[i, j] = done[j, i] = True
            add(ci, int(j), (Hx[j] + Hij[t]) - (Hx[i] + Hji[t]))
            cj = pos_in_C[j]
            if cj >= 0:
                add(int(cj), i, (Hx[i] + Hji[t]) - (Hx[j] + Hij[t]))

    complete = count == k - 1
    if nan_score[complete].any():
        w = int(np.flatnonzero(complete & nan_score)[0])
    else:
        w = int(np.argmin(np.where(complete, lb, np.inf)))
    memory.pairs_full += nC * (k - 1) - (nC * (nC - 1)) // 2
    known = ~np.isnan(terms)
    rows, cols = np.nonzero(known)
    memory.term[ids[C][rows], ids[cols]] = terms[rows, cols]
    return int(C[w])

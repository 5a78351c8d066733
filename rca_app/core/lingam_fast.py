"""DirectLiNGAM with prior knowledge, vectorised: the same causal order and edges as
``lingam.DirectLiNGAM`` (pairwise-likelihood measure, prior knowledge applied strictly), faster.

Why it is faster, without changing the answer:
- lingam evaluates four entropies for every (candidate, other) pair and recomputes each
  residual once per ordered pair; here each residual entropy is computed once per step and
  shared between the two candidates that need it, and the marginal entropies once per node.
- residuals and entropies are computed a block of columns at a time (no per-pair Python loop),
  on up to ``n_jobs`` threads (numpy releases the GIL in its ufuncs).
- the adaptive-lasso pruning works from one covariance matrix (sufficient statistics) instead of
  re-standardising the whole data set and running an SVD least-squares per node.
The tiers are exploited the way lingam exploits prior knowledge: only nodes with no earlier
node still unordered are candidates at each step.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rca_app.core.progress import Progress, check_cancel

# Constants of the maximum-entropy approximation (Hyvärinen 1998), as lingam uses them.
_K1 = 79.047
_K2 = 7.4129
_GAMMA = 0.37457
_H_GAUSS = (1 + math.log(2 * math.pi)) / 2


def _entropy_rows(u: np.ndarray) -> np.ndarray:
    """Approximate differential entropy of each standardised row of ``u``.

    Written with in-place ufuncs: the cost is memory passes over n * rows values."""
    n = u.shape[1]
    w = np.cosh(u)
    np.log(w, out=w)
    a = w.sum(axis=1).astype(np.float64) / n  # pairwise sums along contiguous rows
    np.square(u, out=w)
    w *= -0.5
    np.exp(w, out=w)
    b = np.einsum("ij,ij->i", u, w).astype(np.float64) / n  # one pass for the product and the sum
    return _H_GAUSS - _K1 * (a - _GAMMA) ** 2 - _K2 * b**2


def _partial_orders(pk: np.ndarray) -> np.ndarray:
    """Pairs [earlier, later] implied by the prior knowledge (lingam's strict rule).

    pk[i, j] == 1: a path j -> i, so j comes before i. pk[i, j] == 0: no path j -> i, so i is
    placed before j, unless pk[j, i] == 0 too (then the two are simply unordered).
    """
    k = pk.shape[0]
    pairs = set()
    for i in range(k):
        for j in range(k):
            if i == j:
                continue
            if pk[i, j] == 1:
                pairs.add((j, i))
            elif pk[i, j] == 0 and pk[j, i] != 0:
                pairs.add((i, j))
    if not pairs:
        return np.zeros((0, 2), dtype=int)
    return np.array(sorted(pairs), dtype=int)


class FastDirectLiNGAM:
    """Causal order and pruned linear adjacency, as ``lingam.DirectLiNGAM``.

    Parameters follow scikit-learn: set in ``__init__``, learned attributes end in ``_``.
    ``prior_knowledge`` uses lingam's convention (pk[i, j] = 0: no path from x_j to x_i;
    1: a path; -1: unknown).
    """

    def __init__(self, prior_knowledge: np.ndarray | None = None, n_jobs: int | None = None,
                 precision: str = "float64"):
        self.prior_knowledge = prior_knowledge
        self.n_jobs = n_jobs
        # "float64" reproduces lingam exactly. "float32" computes the entropies in single
        # precision (several times faster); near-ties between candidates, whose order is then
        # arbitrary, may resolve differently. Used for bootstrap resamples, not the main fit.
        self.precision = precision

    # -- causal order -----------------------------------------------------------------------
    def _candidates(self, U: list[int], orders: np.ndarray) -> list[int]:
        if len(orders) == 0:
            return list(U)
        later = set(orders[:, 1].tolist())
        return [i for i in U if i not in later]

    def _step_scores(self, X: np.ndarray, U: list[int], Uc: list[int], pool) -> np.ndarray:
        """lingam's score -sum_j min(0, diff_mutual_info(i, j))^2 for every candidate i."""
        Xu = X[:, U]
        Xs64 = (Xu - Xu.mean(axis=0)) / Xu.std(axis=0)
        n = Xs64.shape[0]
        k = len(U)
        pos = {u: a for a, u in enumerate(U)}
        cand = np.array([pos[i] for i in Uc])
        is_cand = np.zeros(k, dtype=bool)
        is_cand[cand] = True
        # Regression coefficient of column a on column b, exactly as lingam forms it:
        # cov(a, b) (biased) / var(b).
        Xc = Xs64 - Xs64.mean(axis=0)
        cov = (Xc.T @ Xc) / n
        var = Xs64.var(axis=0)
        coef = cov / var[None, :]
        # (k, n): one contiguous row per sensor, so row reductions use pairwise summation.
        # float64 by default: score gaps between candidates can be ~1e-9, below float32's reach.
        dtype = np.float32 if self.precision == "float32" else np.float64
        Xs = np.ascontiguousarray(Xs64.T, dtype=dtype)
        Hx = _entropy_rows(Xs)
        Hr = np.full((k, k), np.nan)

        def row(a: int) -> None:
            bs = np.arange(k) if is_cand[a] else cand
            bs = bs[bs != a]
            if len(bs) == 0:
                return
            # Standardised residual of a regressed on b. Its spread has a closed form
            # (1 - rho^2 for standardised inputs), which saves three passes over the data;
            # near-collinear pairs, where that form loses precision, are measured directly.
            c = coef[a, bs]
            var_r = var[a] - 2 * c * cov[a, bs] + c * c * var[bs]
            r = np.multiply(Xs[bs], -c[:, None].astype(dtype))
            r += Xs[a][None, :]
            shaky = var_r < 1e-6
            if shaky.any():
                var_r[shaky] = r[shaky].var(axis=1, dtype=np.float64)
            r *= (1.0 / np.sqrt(var_r))[:, None].astype(dtype)
            Hr[a, bs] = _entropy_rows(r)

        if pool is None:
            for a in range(k):
                row(a)
        else:
            list(pool.map(row, range(k)))
        scores = np.zeros(len(cand))
        for ci, i in enumerate(cand):
            others = np.arange(k) != i
            diff = (Hx[others] + Hr[i, others]) - (Hx[i] + Hr[others, i])
            scores[ci] = -np.sum(np.minimum(0.0, diff) ** 2)
        return scores

    def fit(self, X: np.ndarray, progress: Progress | None = None) -> "FastDirectLiNGAM":
        X = np.asarray(X, dtype=float)
        n, p = X.shape
        pk = None if self.prior_knowledge is None else np.asarray(self.prior_knowledge, dtype=float)
        orders = _partial_orders(pk) if pk is not None else np.zeros((0, 2), dtype=int)
        n_jobs = self.n_jobs or min(2, os.cpu_count() or 1)
        X_ = X.copy()
        U = list(range(p))
        order: list[int] = []
        pool = ThreadPoolExecutor(n_jobs) if n_jobs > 1 and n * p > 20_000 else None
        try:
            for step in range(p):
                check_cancel(progress)
                Uc = self._candidates(U, orders)
                if len(Uc) == 1:
                    m = Uc[0]
                else:
                    scores = self._step_scores(X_, U, Uc, pool)
                    m = Uc[int(np.argmax(scores))]
                # Regress every remaining variable on the chosen one (lingam's update).
                rest = [i for i in U if i != m]
                if rest:
                    xm = X_[:, m]
                    xm_c = xm - xm.mean()
                    Xr = X_[:, rest]
                    c = ((Xr - Xr.mean(axis=0)).T @ xm_c) / n / xm.var()
                    X_[:, rest] = Xr - xm[:, None] * c[None, :]
                order.append(m)
                U = rest
                if len(orders):
                    orders = orders[orders[:, 0] != m]
                if progress is not None:
                    progress.step("ordering sensors (LiNGAM)", (step + 1) / p)
        finally:
            if pool is not None:
                pool.shutdown()
        self.causal_order_ = order
        self.adjacency_matrix_ = _adaptive_lasso_adjacency(X, order, pk)
        return self


def _adaptive_lasso_adjacency(X: np.ndarray, order: list[int], pk: np.ndarray | None) -> np.ndarray:
    """Prune the full DAG implied by ``order`` with the adaptive lasso (BIC), like lingam,
    computed from sufficient statistics: one covariance matrix for all nodes."""
    from sklearn.linear_model import lars_path_gram

    n, p = X.shape
    mu = X.mean(axis=0)
    sd = X.std(axis=0)
    Xs = (X - mu) / sd
    S = Xs.T @ Xs  # Gram of the standardised data (n * correlation)
    Xc = X - mu
    Sraw = Xc.T @ Xc
    if pk is not None:
        pk = pk.copy()
        np.fill_diagonal(pk, 0)
    B = np.zeros((p, p))
    log_n = math.log(n)
    for idx in range(1, len(order)):
        t = order[idx]
        preds = order[:idx]
        if pk is not None:
            preds = [q for q in preds if pk[t, q] != 0]
        if not preds:
            continue
        P = np.array(preds)
        G = S[np.ix_(P, P)]
        g = S[P, t]
        # OLS on standardised data gives the adaptive weights.
        beta = np.linalg.lstsq(G, g, rcond=None)[0]
        w = np.abs(beta)
        Gw = G * np.outer(w, w)
        gw = g * w
        _, _, path = lars_path_gram(gw, Gw, n_samples=n, method="lasso", alpha_min=0.0, max_iter=500)
        yy = S[t, t]
        # Residual sum of squares of every point on the path, from the Gram alone.
        rss = np.maximum(yy - 2 * path.T @ gw + np.einsum("ij,jk,ki->i", path.T, Gw, path), 0.0)
        df = (np.abs(path) > np.finfo(float).eps).sum(axis=0)
        if n <= len(P) + 1:
            continue
        # An exactly derived column (total = a + b) has rss ~ 0, which rounding can make negative;
        # lingam's residual-based estimate is then tiny and positive, and so is this floor.
        rss_ols = max(yy - g @ beta, yy * 1e-15)
        sigma2 = rss_ols / (n - len(P) - 1)
        crit = n * np.log(2 * np.pi * sigma2) + rss / sigma2 + log_n * df
        best = path[:, int(np.argmin(crit))]
        keep = np.abs(best * w) > 0.0
        if keep.any():
            K = P[keep]
            coef = np.linalg.lstsq(Sraw[np.ix_(K, K)], Sraw[K, t], rcond=None)[0]
            B[t, K] = coef
    return B

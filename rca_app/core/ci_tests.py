"""Conditional-independence tests for the constraint-based search, from one Gram matrix.

The standardised sensors' terms (z; z and z^2; or z, z^2 and z^3) are multiplied out once, so
each test of "a independent of b given S" costs a small solve, not a pass over the rows. On
time-series rows the terms first pass one whitening filter and each statistic is divided by
Bartlett's inflation of the two residuals' autocorrelations (see
:mod:`rca_app.core.constraint_search` for how PC and FCI use them, and
:mod:`rca_app.core.autocorrelation` for the inflation).
"""
from __future__ import annotations

import numpy as np
from scipy.special import fdtrc, ndtr

from rca_app.core.autocorrelation import (
    gram_lags,
    lagged_grams,
    pair_inflation,
    prewhiten,
    residual_autocorrelation_table,
    whitening_filter,
)


def _batched_inv(C: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(C)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(C)


class GramTests:
    """Conditional-independence tests from one Gram matrix of each standardised sensor's terms:
    z alone (``"fisher_z"``), z and z^2 (``"quadratic"``), or z, z^2 and z^3 (``"cubic"``: also
    blocks a saturating or knee-shaped relation when conditioning on its cause)."""

    TERMS = {"fisher_z": 1, "quadratic": 2, "cubic": 3}  # cubic: measured worse on curved plants

    def __init__(self, X: np.ndarray, test: str, serial: bool = False) -> None:
        if test not in self.TERMS:
            raise ValueError(f"unknown conditional-independence test '{test}' (quadratic, cubic or fisher_z)")
        n, p = X.shape
        sd = X.std(axis=0)
        Z = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
        cols = [Z]
        for power in range(2, self.TERMS[test] + 1):
            Q = Z**power
            cols.append(Q - Q.mean(axis=0))
        F = np.hstack(cols)
        n_lags = 0
        if serial:
            # Time series: every term through one whitening filter (relations linear in the terms
            # are kept), then the remaining autocorrelation from lagged cross-products.
            F = prewhiten(F, whitening_filter(Z))
            n = len(F)
            n_lags = gram_lags(F[:, :p])
        self.G = (F.T @ F) / n
        self.G1 = lagged_grams(F, n_lags) if n_lags else None
        self.n, self.p, self.test, self.k, self.serial = n, p, test, self.TERMS[test], serial
        self.count = 0

    def p_values(self, i: int, j: int, sets: list[tuple[int, ...]]) -> np.ndarray:
        """:meth:`p_value` for several conditioning sets of one size at once (stacked solves)."""
        if not sets:
            return np.zeros(0)
        d = len(sets[0])
        if d == 0 or len(sets) == 1 or self.serial:
            return np.array([self.p_value(i, j, S) for S in sets])
        self.count += len(sets)
        Sarr = np.asarray(sets, dtype=int)                    # (m, d)
        p, G, k = self.p, self.G, self.k
        if k == 1:
            idx = np.hstack([np.tile([i, j], (len(sets), 1)), Sarr])
            C = G[idx[:, :, None], idx[:, None, :]]
            P = np.linalg.pinv(C) if not np.all(np.isfinite(C)) else _batched_inv(C)
            denom = P[:, 0, 0] * P[:, 1, 1]
            r = np.clip(-P[:, 0, 1] / np.sqrt(np.where(denom > 0, denom, 1.0)), -0.9999999, 0.9999999)
            dof = self.n - d - 3
            if dof <= 0:
                return np.ones(len(sets))
            z = 0.5 * np.log1p(2 * r / (1 - r)) * np.sqrt(dof)
            return np.where(denom > 0, 2 * ndtr(-np.abs(z)), 1.0)
        base = np.hstack([Sarr + m * p for m in range(k)])    # (m, k d)
        T = np.array([i + m * p for m in range(k)] + [j + m * p for m in range(k)])
        A = G[base[:, :, None], base[:, None, :]]
        A = A + 1e-10 * np.eye(base.shape[1])[None]
        C = G[base[:, :, None], T[None, None, :]]             # (m, k d, 2k)
        try:
            H = np.linalg.solve(A, C)
        except np.linalg.LinAlgError:
            return np.array([self.p_value(i, j, S) for S in sets])
        R = G[np.ix_(T, T)][None] - np.einsum("mki,mkj->mij", C, H)
        dof = self.n - base.shape[1] - k - 1
        if dof <= 0:
            return np.ones(len(sets))
        out = []
        for y, lo in ((k, 0), (0, k)):
            rss0 = np.maximum(R[:, y, y], 1e-12)
            Rxx, rxy = R[:, lo:lo + k, lo:lo + k], R[:, lo:lo + k, y]
            Rxx = Rxx + 1e-12 * np.eye(k)[None]
            gain = np.einsum("mi,mi->m", rxy, np.linalg.solve(Rxx, rxy[:, :, None])[:, :, 0])
            rss1 = np.maximum(rss0 - gain, 1e-12)
            f = ((rss0 - rss1) / k) / (rss1 / dof)
            out.append(np.where(rss0 > rss1, fdtrc(k, dof, np.maximum(f, 0.0)), 1.0))
        return np.minimum(1.0, 2 * np.minimum(out[0], out[1]))

    def p_value(self, i: int, j: int, S: tuple[int, ...]) -> float:
        self.count += 1
        if self.k == 1:
            return self._fisher_z(i, j, S)
        # Symmetric: does x_i (linearly or squared) add to explaining x_j beyond S, or the
        # reverse? Both are valid tests of the same independence; the smaller p-value, doubled
        # (Bonferroni), keeps the level.
        return self._quadratic(i, j, S)

    def _quadratic(self, i: int, j: int, S: tuple[int, ...]) -> float:
        """Both nested F-tests at once: the Gram of x_i's and x_j's terms is partialled on the
        conditioning sensors' terms by one solve (a Schur complement); each direction's gain is
        then a k x k solve (k terms per sensor)."""
        p, G, k = self.p, self.G, self.k
        base = [s + m * p for m in range(k) for s in S]
        ti = [i + m * p for m in range(k)]
        tj = [j + m * p for m in range(k)]
        T = ti + tj
        G1 = self.G1
        if base:
            A = G[base][:, base]
            A.flat[:: len(base) + 1] += 1e-10
            C = G[base][:, T]
            try:
                H = np.linalg.solve(A, C)
            except np.linalg.LinAlgError:
                H = np.linalg.lstsq(A, C, rcond=None)[0]
            R = G[T][:, T] - C.T @ H
        else:
            R = G[T][:, T]
        dof = self.n - len(base) - k - 1
        if dof <= 0:
            return 1.0
        # Autocorrelations of each term's residual on the conditioning set (time series).
        rho = residual_autocorrelation_table(G, G1, base, T, self.n) if G1 is not None else None
        pv = []
        for y, lo in ((k, 0), (0, k)):          # x_j on x_i's terms, x_i on x_j's
            infl = max(pair_inflation(rho[y], rho[t]) for t in range(lo, lo + k)) if rho is not None else 1.0
            dof_y = max(1.0, self.n / infl - len(base) - k - 1) if G1 is not None else dof
            rss0 = max(float(R[y, y]), 1e-12)
            Rxx, rxy = R[lo:lo + k, lo:lo + k], R[lo:lo + k, y]
            if k == 2:                          # the usual case, in closed form (no solve call)
                det = Rxx[0, 0] * Rxx[1, 1] - Rxx[0, 1] ** 2
                if det <= 1e-12 * max(Rxx[0, 0] * Rxx[1, 1], 1e-300):
                    pv.append(1.0)
                    continue
                gain = (Rxx[1, 1] * rxy[0] ** 2 - 2 * Rxx[0, 1] * rxy[0] * rxy[1] + Rxx[0, 0] * rxy[1] ** 2) / det
            else:
                try:
                    gain = float(rxy @ np.linalg.solve(Rxx + 1e-12 * np.eye(k), rxy))
                except np.linalg.LinAlgError:
                    pv.append(1.0)
                    continue
            rss1 = max(rss0 - float(gain), 1e-12)
            if rss0 <= rss1:
                pv.append(1.0)
                continue
            pv.append(float(fdtrc(k, dof_y, ((rss0 - rss1) / k) / (rss1 / dof) / infl)))
        return min(1.0, 2 * min(pv))

    def _fisher_z(self, i: int, j: int, S: tuple[int, ...]) -> float:
        idx = [i, j, *S]
        C = self.G[np.ix_(idx, idx)]
        try:
            P = np.linalg.inv(C)
        except np.linalg.LinAlgError:
            P = np.linalg.pinv(C)
        denom = P[0, 0] * P[1, 1]
        if denom <= 0:
            return 1.0
        r = float(np.clip(-P[0, 1] / np.sqrt(denom), -0.9999999, 0.9999999))
        n = self.n
        if self.G1 is not None:
            # Bartlett: the partial correlation of two autocorrelated residuals varies as that of
            # n / inflation independent rows.
            rho = residual_autocorrelation_table(self.G, self.G1, list(S), [i, j], n)
            n = n / pair_inflation(rho[0], rho[1])
        dof = n - len(S) - 3
        if dof <= 0:
            return 1.0
        z = 0.5 * np.log1p(2 * r / (1 - r)) * np.sqrt(dof)
        return float(2 * ndtr(-abs(z)))


# Separating sets tested together in one stacked solve.

"""Causal discovery under the plant's tiers.

Numeric sensors: by the settings' method (:mod:`rca_app.core.discovery_choice`): DirectLiNGAM
with the layout's prior knowledge (our vectorised implementation, which gives lingam's own
answer), the tiered constraint-based search (PC, or FCI's hidden-cause marks on top), or
``"auto"``, which picks from the noise; then pruning of edges too weak to matter
(:mod:`rca_app.core.pruning`). Categorical sensors (supplier, shift, tool): LiNGAM assumes
continuous data, so edges out of them are decided by a conditional dependence test: does the
category explain a downstream sensor given that sensor's other parents (nested linear models,
F-test plus a minimum partial R^2 so that huge data sets do not turn trivial effects into edges).

Edge confidence is the share of bootstrap resamples in which discovery finds the edge.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from rca_app.core.autocorrelation import (
    gram_lags,
    lagged_grams,
    moving_block_rows,
    normality_pvalue,
    prewhiten,
    residual_autocorrelation_table,
    score_inflation,
    whitening_filter,
)
from rca_app.core.discovery_choice import (
    DISCOVERY_METHODS,
    NumericStructure,
    choose_auto,
    constraint_structure,
)
from rca_app.core.encoding import CategoryEncoder
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.innovations import innovation_discovery_rows, structure_from_innovations
from rca_app.core.lingam_fast import FastDirectLiNGAM
from rca_app.core.parallel import ParallelSettings, effective_jobs, run_tasks
from rca_app.core.progress import Progress, SubProgress, check_cancel
from rca_app.core.pruning import prune_weak_edges
from rca_app.core.records import NoiseCheck


@dataclass
class DiscoverySettings:
    # "fast": our vectorised DirectLiNGAM (lingam's answer, faster); "lingam": the lingam
    # package's own DirectLiNGAM, the reference implementation.
    engine: str = "fast"
    # Which method decides the numeric graph: "auto" (from the noise diagnostics), "lingam",
    # "pc" or "fci" (see rca_app.core.discovery_choice).
    method: str = "auto"
    # Backward elimination of numeric edges too weak to matter (rca_app.core.pruning).
    prune: bool = True
    n_bootstrap: int = 20
    # Bootstrap resamples draw at most this many rows (m-out-of-n bootstrap), which bounds the
    # cost on long histories; below it they are ordinary n-out-of-n resamples.
    bootstrap_max_rows: int = 5000
    categorical_alpha: float = 1e-3
    categorical_min_partial_r2: float = 0.005
    # Curved edges LiNGAM cannot see (an optimum: no linear slope) are added when a quadratic
    # in the candidate explains the child beyond its parents this clearly.
    curvature_alpha: float = 1e-4
    curvature_min_partial_r2: float = 0.01
    seed: int = 0
    # Rows are consecutive samples of a time series (rca_app.core.autocorrelation): the tests
    # allow for autocorrelated residuals and the resamples draw blocks of consecutive rows.
    time_series: bool = False
    # Time series: LiNGAM's causal order from the VAR innovations (VAR-LiNGAM, rca_app.core.innovations)
    # instead of the aligned levels; False: from the levels, as before.
    var_innovations: bool = True
    n_jobs: int | None = None        # local workers for the resamples (None: one per core)
    scheduler: str | None = None     # a Dask scheduler address instead of local workers

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DiscoveryResult:
    graph: CausalGraph
    causal_order: list[str]
    noise_checks: list[NoiseCheck] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    # Edges seen in at least a third of the resamples but not in the final graph.
    unstable_edges: list[dict] = field(default_factory=list)
    # The method that decided and why; edges whose direction neither data nor layout decide (as
    # oriented in ``graph``); sensor pairs FCI marks as moved by an unmeasured common cause.
    method: str = "lingam"
    method_reason: str = ""
    undetermined: list[tuple[str, str]] = field(default_factory=list)
    hidden_pairs: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "method": self.method, "method_reason": self.method_reason,
            "undetermined": [list(e) for e in self.undetermined],
            "hidden_pairs": [list(e) for e in self.hidden_pairs],
            "graph": self.graph.to_dict(),
            "causal_order": self.causal_order,
            "noise_checks": [asdict(c) for c in self.noise_checks],
            "messages": self.messages,
            "unstable_edges": self.unstable_edges,
        }


def _design(frame: pd.DataFrame, parents: list[str], enc: CategoryEncoder) -> np.ndarray:
    """Intercept, numeric parents as they are, categorical parents as baseline-coded dummies of
    the levels present in these rows (an absent level's all-zero column would only take a
    degree of freedom away from the test)."""
    cols = [np.ones((len(frame), 1))]
    for p in parents:
        if p in enc:
            cols.append(enc.dummies(p, enc.codes(frame[p]), present_only=True))
        else:
            cols.append(frame[p].to_numpy(dtype=float)[:, None])
    return np.hstack(cols)


def _rss(A: np.ndarray, y: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    r = y - A @ coef
    return float(r @ r)


def _categorical_adds(frame, child, base_parents, cat, enc, settings, whiten: np.ndarray | None = None) -> bool:
    """Nested-model F-test: does categorical ``cat`` explain ``child`` beyond its parents?

    On time series (``settings.time_series``) the test allows for autocorrelation
    (:func:`_serial_categorical_pvalue`; ``whiten``: the pass's common whitening filter, default
    one from the child and its numeric parents); the partial R^2 stays that of the levels."""
    y = frame[child].to_numpy(dtype=float)
    A0 = _design(frame, base_parents, enc)
    D = enc.dummies(cat, enc.codes(frame[cat]), present_only=True)
    if D.shape[1] == 0:
        return False
    A1 = np.hstack([A0, D])
    rss0, rss1 = _rss(A0, y), _rss(A1, y)
    n, q = len(y), D.shape[1]
    dof = n - A1.shape[1]
    if dof <= 0 or rss1 <= 0:
        return False
    if settings.time_series:
        p = _serial_categorical_pvalue(y, A0, D, whiten)
    else:
        F = ((rss0 - rss1) / q) / (rss1 / dof)
        p = stats.f.sf(F, q, dof)
    partial_r2 = (rss0 - rss1) / rss0 if rss0 > 0 else 0.0
    return p < settings.categorical_alpha and partial_r2 >= settings.categorical_min_partial_r2


def _numeric_whitening(frame: pd.DataFrame, numeric: list[str]) -> np.ndarray:
    """The common whitening filter of the standardised numeric columns (time series)."""
    if not numeric:
        return np.zeros(0)
    Z = frame[numeric].to_numpy(dtype=float)
    sd = Z.std(axis=0)
    return whitening_filter((Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0))


def _serial_categorical_pvalue(y: np.ndarray, A0: np.ndarray, D: np.ndarray, whiten: np.ndarray | None) -> float:
    """The categorical F-test on time-series rows: the child, its parents' columns and the
    category's dummies through one whitening filter (which keeps the linear model), and the
    F-statistic divided by Bartlett's inflation of the child's residual and the dummies'
    residuals on the parents (:func:`~rca_app.core.autocorrelation.score_inflation`), with the
    denominator's degrees of freedom counting the rows worth as much as independent ones: a
    supplier's lots and a shift pattern run for many rows, so on slowly varying data the
    independent-row test finds a category's "effect" in noise."""
    if whiten is None:
        num = A0[:, 1:]
        Z = np.column_stack([y, num]) if num.shape[1] else y[:, None]
        sd = Z.std(axis=0)
        whiten = whitening_filter((Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0))
    yw = prewhiten(y[:, None], whiten)[:, 0]
    A0w = prewhiten(A0, whiten)
    A0w[:, 0] = 1.0
    Dw = prewhiten(D, whiten)
    b0 = np.linalg.lstsq(A0w, np.column_stack([yw, Dw]), rcond=None)[0]
    R = np.column_stack([yw, Dw]) - A0w @ b0           # the child's and the dummies' residuals
    e0, Dr = R[:, 0], R[:, 1:]
    rss0 = float(e0 @ e0)
    g = np.linalg.lstsq(Dr, e0, rcond=None)[0]
    rss1 = float(np.sum((e0 - Dr @ g) ** 2))
    n, q = len(yw), D.shape[1]
    dof = n - A0.shape[1] - q
    if dof <= 0 or rss1 <= 0:
        return 1.0
    infl = score_inflation(e0, Dr)
    F = ((rss0 - rss1) / q) / (rss1 / dof) / infl
    return float(stats.f.sf(F, q, max(1.0, n / infl - A0.shape[1] - q)))


def _add_curved_edges(frame, order, edges, enc, constraints, settings, blocked=frozenset()) -> None:
    """Add edges whose effect is curved with no linear trend, which linear LiNGAM misses.

    Yield against a temperature with an optimum at its usual setting is the typical case: the
    slope is zero on average, so the adaptive lasso drops the edge. For each numeric child,
    candidates earlier in the causal order are tested with a nested F-test of (x, x^2) added to
    the child's current numeric parents; the clearest is added, and the search repeats.

    All these regressions are solved from one Gram matrix of [1, x, x^2] over the numeric
    sensors, so the search costs nothing next to discovery itself. Categorical parents are
    partialled out of every column first, which gives the same nested F-tests."""
    if len(order) < 2:
        return
    n = len(frame)
    Z = frame[order].to_numpy(dtype=float)
    Z = (Z - Z.mean(axis=0)) / np.where(Z.std(axis=0) > 0, Z.std(axis=0), 1.0)
    k = len(order)
    M = np.hstack([np.ones((n, 1)), Z, Z * Z - 1.0])  # column 0: intercept; 1..k: x; k+1..2k: x^2
    cats = [c for c in frame.columns if c in enc]
    pos = {name: i for i, name in enumerate(order)}
    cat_parents_of = {c: [p for p in cats if (p, c) in edges] for c in order}
    # Children with categorical parents get their own (rare) partialled Gram; the rest share G.
    # Time series: one whitening filter for every term, and lagged cross-products for the
    # autocorrelation that remains (core/autocorrelation.py).
    n_lags, whiten = 0, np.zeros(0)
    if settings.time_series:
        whiten = whitening_filter(Z)
        M = prewhiten(M, whiten)
        M[:, 0] = 1.0
        n_lags = gram_lags(M[:, 1:k + 1])
    G_all = M.T @ M
    G1_all = lagged_grams(M, n_lags) * len(M) if n_lags else None

    def gram_for(child) -> tuple[np.ndarray, int, np.ndarray | None]:
        """The Gram matrix to use for ``child``, the degrees of freedom its categorical parents
        take, and the lag-1 Gram matrix (time series only)."""
        cp = cat_parents_of[child]
        D = prewhiten(_design(frame, cp, enc)[:, 1:], whiten) if cp else np.zeros((len(M), 0))
        if D.shape[1] == 0:
            return G_all, 0, G1_all
        Dc = np.hstack([np.ones((len(M), 1)), D])
        beta = np.linalg.lstsq(Dc, M[:, 1:], rcond=None)[0]
        R = M.copy()
        R[:, 1:] = M[:, 1:] - Dc @ beta
        return R.T @ R, D.shape[1], (lagged_grams(R, n_lags) * len(M) if n_lags else None)

    for child in order[1:]:
        G, extra, G1 = gram_for(child)
        yc = 1 + pos[child]
        while True:
            base = [0] + [1 + pos[p] for p in order if (p, child) in edges]
            cands = [c for c in order[: pos[child]] if (c, child) not in edges and constraints.allows(c, child)
                     and frozenset((c, child)) not in blocked]
            best = _clearest_curved_parent(G, base, yc, [1 + pos[c] for c in cands], k, len(M) - extra, settings, G1)
            if best is None:
                break
            edges.add((cands[best], child))


def _clearest_curved_parent(G: np.ndarray, base: list[int], yc: int, cand_cols: list[int], k: int,
                            n_rows: int, settings: DiscoverySettings, G1: np.ndarray | None = None) -> int | None:
    """Which candidate's (x, x^2) explains the child most beyond its ``base`` columns, if any
    passes the F-test and the minimum partial R^2 (index into ``cand_cols``, else None).

    Every candidate's nested model is the base plus two columns, so the Gram matrix is
    partialled on the base once (a Schur complement: the Gram of all columns' residuals on the
    base) and each candidate's gain is then a 2 x 2 solve, all candidates at once. Candidates
    nearly collinear with the base (the 2 x 2 determinant under 1e-10 of the columns' own squared
    norms) are solved by least squares instead, as every candidate was before. ``G1``: the lagged
    Gram matrices on time series; each F-statistic is then divided by Bartlett's inflation of the
    child's and the candidate's residual autocorrelations (:mod:`rca_app.core.autocorrelation`)."""
    if not cand_cols:
        return None
    H = np.linalg.lstsq(G[np.ix_(base, base)], G[base, :], rcond=None)[0]
    S = G - G[:, base] @ H      # S[i, j]: product of columns i and j's residuals on the base
    rss0 = float(S[yc, yc])
    if rss0 <= 0:
        return None
    a = np.asarray(cand_cols)
    b = a + k
    saa, sbb, sab = S[a, a], S[b, b], S[a, b]
    ra, rb = S[a, yc], S[b, yc]
    det = saa * sbb - sab * sab
    ok = det > 1e-10 * G[a, a] * G[b, b]
    gain = np.zeros(len(a))
    gain[ok] = (sbb[ok] * ra[ok] ** 2 - 2 * sab[ok] * ra[ok] * rb[ok] + saa[ok] * rb[ok] ** 2) / det[ok]
    for i in np.flatnonzero(~ok):
        cols = [int(a[i]), int(b[i])]
        gain[i] = float(S[cols, yc] @ np.linalg.lstsq(S[np.ix_(cols, cols)], S[cols, yc], rcond=None)[0])
    rss1 = rss0 - gain
    dof = n_rows - (len(base) + 2)
    if dof <= 0:
        return None
    r2 = gain / rss0
    # Too small to add whatever the test says (and the test is the cost).
    keep = (rss1 > 0) & (r2 >= settings.curvature_min_partial_r2)
    if not keep.any():
        return None
    p = np.ones(len(a))
    if G1 is not None:
        ka, kb = a[keep], b[keep]
        rho = residual_autocorrelation_table(G, G1, base, [yc, *ka, *kb], n_rows)
        infl = 1.0 + 2.0 * np.maximum(rho[1:1 + len(ka)] @ rho[0], rho[1 + len(ka):] @ rho[0])
        infl = np.maximum(infl, 1.0)
        dof_eff = np.maximum(1.0, n_rows / infl - (len(base) + 2))
        p[keep] = stats.f.sf((gain[keep] / 2) / (rss1[keep] / dof) / infl, 2, dof_eff)
    else:
        p[keep] = stats.f.sf((gain[keep] / 2) / (rss1[keep] / dof), 2, dof)
    passing = keep & (p < settings.curvature_alpha)
    if not passing.any():
        return None
    return int(np.argmax(np.where(passing, r2, -np.inf)))   # the first of equals, as before


def _categorical_child_parents(frame, child, candidates, enc, settings) -> list[str]:
    """Parents of a non-exogenous categorical sensor: forward selection by likelihood-ratio
    test of a multinomial logistic model (a categorical child cannot go through LiNGAM).

    On time series (``settings.time_series``) a candidate's likelihood ratio is divided by
    Bartlett's inflation (:func:`~rca_app.core.autocorrelation.score_inflation`) of the child's
    residuals under the parents chosen so far (each class's indicator minus its probability) and
    the candidate's columns residualised on theirs: an operating mode or a grade persists for
    many rows, and so does a slowly varying upstream sensor, so independent-row counting finds a
    relation in noise."""
    from sklearn.linear_model import LogisticRegression

    y = enc.codes(frame[child])
    if len(np.unique(y)) < 2:
        return []

    def columns(cols: list[str]) -> np.ndarray:
        A = _design(frame, cols, enc)[:, 1:]
        return (A - A.mean(axis=0)) / (A.std(axis=0) + 1e-12)

    def loglik(cols: list[str]) -> tuple[float, int, np.ndarray]:
        """Log-likelihood, parameters and the class probabilities (columns: classes in order)."""
        if not cols:
            freq = np.bincount(y) / len(y)
            return float(np.sum(np.log(freq[y]))), 0, np.tile(freq[np.unique(y)], (len(y), 1))
        A = columns(cols)
        m = LogisticRegression(C=1e4, max_iter=500).fit(A, y)
        P = m.predict_proba(A)
        proba = P[np.arange(len(y)), np.searchsorted(m.classes_, y)]
        return float(np.sum(np.log(np.clip(proba, 1e-12, None)))), A.shape[1] * max(1, len(m.classes_) - 1), P

    def inflation(cols: list[str], c: str, P: np.ndarray) -> float:
        classes = np.unique(y)
        resid = (y[:, None] == classes[None, :]) - P
        X = columns([c])
        if cols:
            B = np.column_stack([np.ones(len(y)), columns(cols)])
            X = X - B @ np.linalg.lstsq(B, X, rcond=None)[0]
        return score_inflation(resid[:, 1:] if len(classes) == 2 else resid, X)

    chosen: list[str] = []
    ll, k, P = loglik(chosen)
    improved = True
    while improved:
        improved = False
        best = None
        for c in candidates:
            if c in chosen:
                continue
            ll1, k1, P1 = loglik(chosen + [c])
            lr = 2 * (ll1 - ll)
            p = stats.chi2.sf(lr, max(1, k1 - k))
            if settings.time_series and p < settings.categorical_alpha:
                # Only a candidate that passes as independent rows can pass at all (inflation >= 1).
                p = stats.chi2.sf(lr / inflation(chosen, c, P), max(1, k1 - k))
            if p < settings.categorical_alpha and (best is None or p < best[1]):
                best = (c, p, ll1, k1, P1)
        if best is not None:
            chosen.append(best[0])
            ll, k, P = best[2], best[3], best[4]
            improved = True
    return chosen


def _discover_once(frame: pd.DataFrame, nodes: list[str], enc: CategoryEncoder, constraints,
                   settings: DiscoverySettings, progress: Progress | None = None, precision: str = "float64",
                   threads: int | None = None, innovations: pd.DataFrame | None = None):
    """One discovery pass: returns (set of edges, causal order of numeric nodes, B, numeric).
    ``threads``: entropy threads of the LiNGAM search (None: its default). ``innovations``: the
    rows' VAR innovations (time series; :func:`~rca_app.core.innovations.structure_from_innovations`)."""
    categorical = set(enc.levels)
    numeric = [n for n in nodes if n not in categorical]
    edges: set[tuple[str, str]] = set()
    order_names: list[str] = []
    B = np.zeros((len(numeric), len(numeric)))
    structure = None
    if numeric:
        X = frame[numeric].to_numpy(dtype=float)
        # Engineering units differ by orders of magnitude; LiNGAM is scale-invariant in its
        # ordering but the pruning is better conditioned on standardised data.
        sd = X.std(axis=0)
        sd[sd == 0] = 1.0
        Xs = (X - X.mean(axis=0)) / sd
        def run(Z, cons, sets):
            return _numeric_structure(Z, numeric, cons, sets, progress, precision, threads)
        structure = (run(Xs, constraints, settings) if innovations is None else structure_from_innovations(
            Xs, innovations[numeric], numeric, constraints, settings, run, full_path=precision == "float64"))
        B = structure.coef * sd[:, None] / sd[None, :]  # back to engineering units
        order_names = structure.order
        edges |= {e for e in structure.edges if constraints.allows(*e)}
    edges |= {e for e in constraints.required if e[0] in nodes and e[1] in nodes}   # (a lab tag's: its own pass)
    # Pairs FCI marks as moved by an unmeasured cause: their dependence is not an edge.
    blocked = frozenset(frozenset(p) for p in structure.hidden_pairs) if structure is not None else frozenset()
    _add_curved_edges(frame, order_names, edges, enc, constraints, settings, blocked)
    if settings.prune and numeric:
        edges = prune_weak_edges(frame, numeric, edges, keep=set(constraints.required), serial=settings.time_series)
    # Categorical sources into numeric children, children in causal order.
    cats = [c for c in nodes if c in categorical]
    whiten = _numeric_whitening(frame, numeric) if settings.time_series and cats else None
    for child in order_names:
        for cat in cats:
            if (cat, child) in edges or not constraints.allows(cat, child):
                continue
            base = [p for p in nodes if (p, child) in edges]
            if _categorical_adds(frame, child, base, cat, enc, settings, whiten):
                edges.add((cat, child))
    # Categorical children that something upstream may drive.
    for child in cats:
        cands = [p for p in nodes if p != child and constraints.allows(p, child)
                 and constraints.tier[p] < constraints.tier[child]]
        if cands:
            for p in _categorical_child_parents(frame, child, cands, enc, settings):
                edges.add((p, child))
    return edges, order_names, B, numeric, structure


def _lingam_structure(Xs, numeric, constraints, settings, progress, precision, threads):
    """LiNGAM's edges, causal order and coefficients (standardised) on numeric data."""
    pk = constraints.prior_knowledge(numeric)
    if settings.engine == "lingam":
        import os

        os.environ.setdefault("MPLBACKEND", "Agg")  # lingam imports matplotlib
        import lingam

        check_cancel(progress)
        model = lingam.DirectLiNGAM(prior_knowledge=pk).fit(Xs)
        A, order_idx = model.adjacency_matrix_, list(model.causal_order_)
    elif settings.engine == "fast":
        model = FastDirectLiNGAM(prior_knowledge=pk, n_jobs=threads, precision=precision,
                                 serial=settings.time_series).fit(Xs, progress=progress)
        A, order_idx = model.adjacency_matrix_, model.causal_order_
    else:
        raise ValueError(f"unknown discovery engine '{settings.engine}' (fast or lingam)")
    edges = {(numeric[j], numeric[i]) for i in range(len(numeric)) for j in range(len(numeric)) if A[i, j] != 0}
    return edges, [numeric[i] for i in order_idx], np.asarray(A, dtype=float)


def _numeric_structure(Xs, numeric, constraints, settings, progress, precision, threads) -> NumericStructure:
    """The numeric graph by the settings' method (``"auto"`` resolved from the noise)."""
    method = settings.method
    if method not in DISCOVERY_METHODS:
        raise ValueError(f"unknown discovery method '{method}' ({', '.join(DISCOVERY_METHODS)})")
    if method == "lingam":
        edges, order, coef = _lingam_structure(Xs, numeric, constraints, settings, progress, precision, threads)
        return NumericStructure(edges, order, coef, method="lingam", reason="LiNGAM was asked for")
    if method in ("pc", "fci"):
        structure, _ = constraint_structure(Xs, numeric, constraints, fci=method == "fci", serial=settings.time_series)
        structure.reason = f"{method.upper()} was asked for"
        return structure
    return choose_auto(Xs, numeric, constraints,
                       lambda: _lingam_structure(Xs, numeric, constraints, settings, progress, precision, threads),
                       settings.time_series)


def _resample_edges(task) -> list[set | None]:
    """Worker task: discovery's edges on each of a few bootstrap resamples (None: degenerate)."""
    frame, draws, nodes, enc, constraints, settings, threads, innovations = task
    out = []
    for idx in draws:
        sample = frame.iloc[idx].reset_index(drop=True)
        innov = innovations.iloc[idx].reset_index(drop=True) if innovations is not None else None
        try:
            # Resamples use single-precision entropies: several times faster, and a near-tie
            # resolved the other way is within what resampling varies anyway.
            e_b, _, _, _, st = _discover_once(sample, nodes, enc, constraints, settings, None, "float32",
                                              threads, innov)
            if st is not None:
                # An undetermined edge is found whichever way this resample's class member
                # points it: its confidence counts the pair.
                e_b = e_b | {(b, a) for a, b in st.undetermined}
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            e_b = None
        out.append(e_b)
    return out


def noise_checks(frame: pd.DataFrame, graph: CausalGraph, categorical: set[str],
                 encoder: CategoryEncoder | None = None, serial: bool = False) -> list[NoiseCheck]:
    """Non-Gaussianity of each numeric sensor's residual given its parents (linear fit).

    LiNGAM tells cause from effect within a station only through non-Gaussian noise. With
    large samples any tiny deviation is 'significant', so a sensor counts as near-Gaussian
    when the test does not reject OR both skewness and excess kurtosis are small. ``serial``:
    time-series rows, whose autocorrelation the test allows for
    (:func:`~rca_app.core.autocorrelation.normality_pvalue`)."""
    enc = encoder or CategoryEncoder.fit(frame, categorical)
    out = []
    for node in graph.nodes:
        if node in categorical:
            continue
        y = frame[node].to_numpy(dtype=float)
        A = _design(frame, graph.parents(node), enc)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        r = y - A @ coef
        if r.std() == 0 or len(r) < 20:
            continue
        skew = float(stats.skew(r))
        kurt = float(stats.kurtosis(r))
        p = normality_pvalue(r, serial) if len(r) >= 20 else 1.0
        near = p > 0.01 or (abs(skew) < 0.15 and abs(kurt) < 0.3)
        out.append(NoiseCheck(node, skew, kurt, p, near))
    return out


def discover(frame: pd.DataFrame, constraints, categorical: list[str] | set[str],
             settings: DiscoverySettings | None = None, progress: Progress | None = None,
             encoder: CategoryEncoder | None = None, lab_rows: dict[str, np.ndarray] | None = None) -> DiscoveryResult:
    """Discover the causal graph on ``frame`` (the reference rows), honouring ``constraints``.

    ``constraints`` is the layout's :class:`~rca_app.core.layout.Constraints`; ``frame`` has one
    column per node (categorical ones as ``category`` dtype). ``encoder``: the investigation's
    levels (default: fitted on ``frame``). ``lab_rows`` (time series): lab tags held on the grid
    between samples -> the rows of ``frame`` where each was sampled; their links are learnt on
    those rows (:mod:`rca_app.core.lab_tags`).
    """
    settings = settings or DiscoverySettings()
    categorical = set(categorical)
    enc = encoder or CategoryEncoder.fit(frame, categorical)
    if lab_rows and settings.time_series:
        from rca_app.core.lab_tags import discover_with_lab_tags

        return discover_with_lab_tags(frame, constraints, categorical, settings, progress, enc, lab_rows, discover)
    nodes = [n for n in constraints.nodes if n in frame.columns]
    check_cancel(progress)
    innov, var_messages = None, list[str]()
    if settings.time_series and settings.var_innovations:   # VAR-LiNGAM: the lagged part taken out first
        frame, innov, var_messages = innovation_discovery_rows(frame, [n for n in nodes if n not in categorical],
                                                               constraints)
    main = SubProgress(progress, 0.0, 0.3, "discovery: ")
    edges, order, B, numeric, structure = _discover_once(frame, nodes, enc, constraints, settings, main,
                                                         innovations=innov)
    undetermined = [e for e in (structure.undetermined if structure else []) if e in edges]

    counts: dict[tuple[str, str], int] = {}
    nb = settings.n_bootstrap
    n_ok = 0
    if nb > 0:
        rng = np.random.default_rng(settings.seed)
        m = min(len(frame), settings.bootstrap_max_rows)
        # Rows of every resample drawn here, in order, so the result does not depend on where
        # the resamples run; a few resamples per task when they go to workers (the table is
        # sent once per task).
        # Time series: blocks of consecutive rows, so that each resample keeps the dependence the
        # tests allow for (single rows would make every resample look independent).
        draws = [moving_block_rows(len(frame), m, rng) if settings.time_series
                 else rng.integers(0, len(frame), size=m) for _ in range(nb)]
        parallel = ParallelSettings(settings.n_jobs, settings.scheduler)
        in_workers = parallel.scheduler is not None or effective_jobs(parallel, nb) > 1
        per = max(1, int(np.ceil(nb / (2 * (parallel.n_jobs or 2))))) if in_workers else 1
        # Workers already fill the cores: a worker's LiNGAM search runs one thread (two each
        # would put four busy threads on two cores).
        threads = 1 if in_workers else None
        # Resamples use the method the full data chose ("auto" decided once, not per resample,
        # so that the confidence measures the graph's stability, not the choice's).
        resolved = {"lingam": "lingam", "pc": "pc", "fci": "fci"}.get(structure.method if structure else "", "auto")
        boot_settings = replace(settings, method=resolved)
        tasks = [(frame, draws[i:i + per], nodes, enc, constraints, boot_settings, threads, innov)
                 for i in range(0, nb, per)]
        results = run_tasks(_resample_edges, tasks, parallel, SubProgress(progress, 0.3, 1.0, ""),
                            f"edge confidence: {nb} bootstrap resamples, in groups")
        for e_b in (e for chunk in results for e in chunk):
            if e_b is None:
                continue  # a degenerate resample (e.g. a constant column) says nothing
            n_ok += 1
            for e in sorted(e_b):
                counts[e] = counts.get(e, 0) + 1
    if progress is not None:
        progress.step("discovery finished", 1.0)

    numeric_pos = {n: i for i, n in enumerate(numeric)}
    edge_objs = []
    for src, dst in sorted(edges, key=lambda e: (nodes.index(e[0]), nodes.index(e[1]))):
        conf = counts.get((src, dst), 0) / n_ok if n_ok > 0 else None
        origin = "required" if (src, dst) in constraints.required else "discovered"
        coef = None
        if src in numeric_pos and dst in numeric_pos:
            coef = float(B[numeric_pos[dst], numeric_pos[src]]) or None
        edge_objs.append(Edge(src, dst, effect=coef, confidence=conf, origin=origin))
    graph = CausalGraph(tuple(nodes), tuple(edge_objs))
    unstable = [
        {"source": s, "target": t, "confidence": c / n_ok}
        for (s, t), c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if (s, t) not in edges and c / n_ok >= 1 / 3
    ]
    # The noise LiNGAM saw: on a time series, the innovations'.
    checks = noise_checks(frame if innov is None else innov, graph, categorical, enc, settings.time_series)
    messages = list(var_messages)
    if nb > 0 and n_ok < nb:
        messages.append(f"{nb - n_ok} of {nb} bootstrap resamples could not be analysed (a sensor constant in "
                        f"the resample); edge confidences are shares of the {n_ok} that could.")
    near = [c.node for c in checks if c.near_gaussian]
    if checks and near and (structure is None or structure.method == "lingam"):
        share = len(near) / len(checks)
        messages.append(
            f"{len(near)} of {len(checks)} numeric sensors have nearly Gaussian noise "
            f"({', '.join(near[:8])}{'...' if len(near) > 8 else ''}). LiNGAM orders sensors by "
            "non-Gaussianity, so the direction of edges between these sensors within one "
            "station is weakly identified; check those edges' confidence and the layout."
            + (" Most of the data look Gaussian: treat within-station directions with caution."
               if share > 0.5 else "")
        )
    undetermined_keys = set(undetermined) | {(b, a) for a, b in undetermined}
    unstable = [u for u in unstable if (u["source"], u["target"]) not in undetermined_keys]
    if structure is not None:
        graph = graph.with_edges(replace(e, undetermined=True) if e.key in undetermined_keys else e
                                 for e in graph.edges)
    return DiscoveryResult(graph, order, checks, messages, unstable,
                           method=structure.method if structure else "lingam",
                           method_reason=structure.reason if structure else "",
                           undetermined=undetermined, hidden_pairs=list(structure.hidden_pairs) if structure else [])

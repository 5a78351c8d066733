"""One class per kind of causal mechanism, behind one interface.

A mechanism says how one node follows from its parents. Every kind offers the same methods:

- ``fit(values, folds)``: learn from the reference rows, cross-fitted (each fold's residuals come
  from a model trained on the other folds, so the reference noise is never in-sample);
- ``predict(values)``: the node's mean given its parents (numeric kinds);
- ``abduct(values, rng)``: each row's own noise, what the parents do not explain;
- ``assign(values, noise)``: the node's value from its parents and a noise (the structural
  assignment used when propagating a counterfactual);
- ``reference_draws(idx, rng)``: noise as the node had it in the reference period;
- ``clone()``: a new, unfitted mechanism with the same settings (as scikit-learn's ``clone``),
  used to refit on other rows.

Kinds (``kind`` is the name reports use): ``empirical`` and ``categorical_empirical`` for nodes
without parents, ``linear``, ``poly2`` and ``spline`` (least squares on fixed features),
``hgb`` (gradient-boosted trees, monotone where the layout says so) and ``classifier``
(categorical node with parents; counterfactuals by the Gumbel-max SCM).

References
----------
Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and structural
parameters. The Econometrics Journal 21(1).
Oberst, M. and Sontag, D. (2019). Counterfactual off-policy evaluation with Gumbel-max structural
causal models. ICML.
"""
from __future__ import annotations

import copy
from typing import Self

import numpy as np

from rca_app.core.encoding import FeatureDesign

# Rows a weighted refit of a tree mechanism learns from at most (see HGBMechanism).
HGB_REFIT_MAX_ROWS = 6000


class Ridge:
    """Least squares with a tiny ridge for conditioning (closed form, fast); optional row
    weights (a weighted bootstrap refit)."""

    def fit(self, A: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> Ridge:
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
        sw = w.sum()
        if weights is None:
            self.mean_ = A.mean(axis=0) if A.shape[1] else np.zeros(0)
            self.intercept_ = float(y.mean())
        else:
            self.mean_ = (w @ A) / sw if A.shape[1] else np.zeros(0)
            self.intercept_ = float(w @ y / sw)
        Ac = A - self.mean_
        if A.shape[1]:
            Aw = Ac if weights is None else Ac * w[:, None]
            G = Aw.T @ Ac + 1e-8 * len(y) * np.eye(A.shape[1])
            self.coef_ = np.linalg.solve(G, Aw.T @ (y - self.intercept_))
        else:
            self.coef_ = np.zeros(0)
        return self

    def predict(self, A: np.ndarray) -> np.ndarray:
        if A.shape[1] == 0:
            return np.full(A.shape[0], self.intercept_)
        return self.intercept_ + (A - self.mean_) @ self.coef_


def gumbel_posterior(logp: np.ndarray, observed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gumbel noise g (rows x levels) such that argmax(logp + g) == observed (top-down sampling)."""
    n, k = logp.shape
    logZ = np.log(np.exp(logp).sum(axis=1))
    top = logZ - np.log(-np.log(rng.uniform(1e-12, 1, n)))  # max of the perturbed values
    G = np.empty((n, k))
    for j in range(k):
        # Truncated Gumbel with location logp[:, j], bounded above by top.
        u = rng.uniform(1e-12, 1, n)
        gj = logp[:, j] - np.log(-np.log(u))
        trunc = -np.log(np.exp(-top) + np.exp(-gj))
        G[:, j] = np.where(observed == j, top, trunc) - logp[:, j]
    return G


def _n_rows(values: dict) -> int:
    return len(next(iter(values.values())))


class Mechanism:
    """Base of all mechanism kinds (see the module docstring for the interface).

    Parameters
    ----------
    node : str
    parents : list of str
    """

    kind = ""
    categorical = False

    def __init__(self, node: str, parents: list[str]):
        self.node = node
        self.parents = list(parents)
        self.ref_noise: np.ndarray | None = None
        self.oof_r2: float | None = None
        # Set on a weighted refit: the mechanism it was refitted from (its reference noise).
        self.main: Mechanism | None = None
        # Fitted on these reference rows only (a lab tag's sampled rows, see
        # rca_app.core.lab_tags.mechanism_rows), out of ``n_rows_all``; None: on every row.
        self.rows: np.ndarray | None = None
        self.n_rows_all: int | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A mechanism fitted on some reference rows is refitted on the same rows, whatever the
        # kind: callers hand every kind all the reference rows with their blocks.
        own = cls.__dict__.get("weighted_refit")
        if own is not None and not getattr(own, "_on_own_rows", False):
            def weighted_refit(self, values, blocks, block_weights, seed=0, _refit=own):
                values, blocks = self.on_own_rows(values, blocks)
                return _refit(self, values, blocks, block_weights, seed)
            weighted_refit.__doc__ = own.__doc__
            weighted_refit._on_own_rows = True
            cls.weighted_refit = weighted_refit

    def on_own_rows(self, values: dict[str, np.ndarray], blocks: np.ndarray | None = None):
        """``values`` (and a per-row array: blocks or folds) on the rows this mechanism was fitted
        on, when they are all the reference rows and it was fitted on some of them; else as
        they are."""
        if self.rows is None or _n_rows(values) != self.n_rows_all:
            return values, blocks
        return {k: v[self.rows] for k, v in values.items()}, (None if blocks is None else blocks[self.rows])

    def clone(self) -> Mechanism:
        """An unfitted copy with the same settings."""
        new = copy.copy(self)
        new.ref_noise = None
        new.oof_r2 = None
        new.main = None
        new._reset()
        return new

    def __getstate__(self):
        # A refit travels without its main mechanism (the receiver re-attaches it, see
        # attach_main): bootstrap results stay small when they cross processes.
        state = dict(self.__dict__)
        if state.get("main") is not None:
            state["main"] = None
            state["ref_noise"] = None
            state.pop("_stats", None)   # the main mechanism's, shared
        return state

    def attach_main(self, main: Mechanism) -> None:
        """Re-attach the mechanism this one is a weighted refit of (after unpickling)."""
        self.main = main
        self.ref_noise = main.ref_noise

    def _refit_copy(self) -> Self:
        new = self.clone()
        new.attach_main(self)
        new.oof_r2 = self.oof_r2
        return new

    def weighted_refit(self, values: dict[str, np.ndarray], blocks: np.ndarray,
                       block_weights: np.ndarray, seed: int = 0) -> Mechanism:
        """The mechanism refitted with row weights constant within blocks of rows (a Bayesian
        block bootstrap draw); the original is left unchanged.

        Parameters
        ----------
        values : dict
            The rows this mechanism was trained on (reference, or reference + incident when
            pooled), encoded.
        blocks : ndarray of int
            Block of each of those rows (consecutive rows share a block; non-decreasing).
        block_weights : ndarray
            Weight of each block.
        seed : int
            For kinds with randomness of their own (trees).

        Returns
        -------
        Mechanism
            A refit whose ``main`` is this mechanism.
        """
        return self   # kinds with nothing to learn (categorical without parents)

    def _row_weights(self, blocks, block_weights) -> np.ndarray:
        return np.asarray(block_weights, dtype=float)[blocks]

    def _reset(self) -> None:
        """Forget what ``fit`` learned (subclasses drop their models)."""

    def fit(self, values: dict[str, np.ndarray], folds: np.ndarray) -> Mechanism:
        raise NotImplementedError

    def predict(self, values: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def abduct(self, values: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """The rows' own noise: what the parents do not explain."""
        return values[self.node] - self.predict(values)

    def assign(self, values: dict[str, np.ndarray], noise: np.ndarray) -> np.ndarray:
        """The node's value from its parents' values and a noise (additive noise)."""
        return self.predict(values) + noise

    def reference_draws(self, idx: np.ndarray, rng: np.random.Generator,
                        reference_values: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Reference-period noise for each entry of ``idx`` (row positions, wrapped).

        A weighted refit's reference noise is its main mechanism's (out-of-fold) noise moved by
        the change of the fit at those rows, ``main.predict - self.predict``, so that it is
        centred on the refit as the refit's own residuals would be; this needs the reference
        rows' ``reference_values``."""
        j = idx % len(self.ref_noise)
        if self.main is None or reference_values is None or self.categorical:
            return self.ref_noise[j]
        # Noise of the k-th row fitted on belongs to that reference row (fitted on some rows only).
        at = j if self.rows is None else self.rows[j]
        sub = {p: reference_values[p][at] for p in self.parents} if self.parents else {self.node: j}
        return self.main.ref_noise[j] + self.main.predict(sub) - self.predict(sub)

    @property
    def noise_sd(self) -> float | None:
        return float(self.ref_noise.std()) if self.ref_noise is not None and not self.categorical else None


class EmpiricalMechanism(Mechanism):
    """A numeric node without parents: its reference distribution (noise = value - mean)."""

    kind = "empirical"

    def __init__(self, node: str):
        super().__init__(node, [])
        self.constant = 0.0

    def fit(self, values, folds):
        y = values[self.node]
        self.constant = float(y.mean())
        self.ref_noise = y - self.constant
        return self

    def predict(self, values):
        return np.full(_n_rows(values), self.constant)

    def weighted_refit(self, values, blocks, block_weights, seed=0):
        w = self._row_weights(blocks, block_weights)
        new = self._refit_copy()
        new.constant = float(w @ values[self.node] / w.sum())
        return new


class CategoricalEmpiricalMechanism(Mechanism):
    """A categorical node without parents: its reference levels are its noise."""

    kind = "categorical_empirical"
    categorical = True

    def __init__(self, node: str, n_levels: int):
        super().__init__(node, [])
        self.n_levels = n_levels

    def fit(self, values, folds):
        self.ref_noise = values[self.node].copy()
        return self

    def abduct(self, values, rng):
        return values[self.node].copy()

    def assign(self, values, noise):
        return noise.astype(np.int64)


class FeatureMechanism(Mechanism):
    """A numeric node with parents, fitted on fixed features of them (subclasses pick the
    features). ``design`` standardises and one-hot encodes the parents."""

    def __init__(self, node: str, parents: list[str], design: FeatureDesign):
        super().__init__(node, parents)
        self.design = design
        self.models: list = []

    def _reset(self):
        self.models = []

    def features(self, values) -> np.ndarray:
        return self.design.features(self.kind, values)

    def _new_model(self):
        return Ridge()

    def fit(self, values, folds):
        values, folds = self.on_own_rows(values, folds)
        A = self.features(values)
        y = values[self.node]
        oof = np.empty_like(y)
        self.models = []
        for k in range(int(folds.max()) + 1):
            train, test = folds != k, folds == k
            model = self._new_model().fit(A[train], y[train])
            self.models.append(model)
            oof[test] = model.predict(A[test])
        self.ref_noise = y - oof
        var = y.var()
        self.oof_r2 = float(1 - self.ref_noise.var() / var) if var > 0 else None
        self._combine()
        return self

    def _combine(self) -> None:
        """Prepare prediction on new rows from the K fold models."""

    def predict(self, values):
        A = self.features(values)
        return np.mean([m.predict(A) for m in self.models], axis=0)


class LinearMechanism(FeatureMechanism):
    """Least squares on the standardised parents (and level dummies).

    The K cross-fitted fold models are averaged into one coefficient vector for prediction:
    for a model linear in its features that is the same as averaging their predictions."""

    kind = "linear"

    def _combine(self):
        coef = np.mean([m.coef_ for m in self.models], axis=0)
        self.coef_ = coef
        self.intercept_ = float(np.mean([m.intercept_ - m.mean_ @ m.coef_ for m in self.models]))

    def predict(self, values):
        A = self.features(values)
        return self.intercept_ + A @ self.coef_ if A.shape[1] else np.full(A.shape[0], self.intercept_)

    def block_stats(self, values, blocks) -> tuple[np.ndarray, np.ndarray]:
        """Per-block cross-products of [1, features] with themselves and with the node, built
        once: a weighted refit is then a weighted sum of these and one small solve, whatever
        the number of rows."""
        key = (len(blocks), int(blocks[-1]))
        cached = getattr(self, "_stats", None)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        A = self.features(values)
        X = np.hstack([np.ones((A.shape[0], 1)), A])
        y = values[self.node]
        starts = np.r_[0, np.flatnonzero(np.diff(blocks)) + 1]
        ends = np.r_[starts[1:], len(blocks)]
        G = np.empty((len(starts), X.shape[1], X.shape[1]))
        c = np.empty((len(starts), X.shape[1]))
        for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
            G[i] = X[a:b].T @ X[a:b]
            c[i] = X[a:b].T @ y[a:b]
        self._stats = (key, G, c)
        return G, c

    def weighted_refit(self, values, blocks, block_weights, seed=0):
        G, c = self.block_stats(values, blocks)
        w = np.asarray(block_weights, dtype=float)[np.unique(blocks)]
        Gw = np.tensordot(w, G, axes=1)
        cw = w @ c
        # The same tiny ridge as the main fit, not on the intercept.
        pen = 1e-8 * len(blocks) * np.eye(Gw.shape[0])
        pen[0, 0] = 0.0
        try:
            beta = np.linalg.solve(Gw + pen, cw)
        except np.linalg.LinAlgError:
            beta = np.linalg.lstsq(Gw + pen, cw, rcond=None)[0]
        new = self._refit_copy()
        new.intercept_, new.coef_ = float(beta[0]), beta[1:]
        return new


class Poly2Mechanism(LinearMechanism):
    """Least squares on a degree-2 polynomial of the numeric parents (plus level dummies)."""

    kind = "poly2"


class SplineMechanism(LinearMechanism):
    """Least squares on additive cubic splines of the numeric parents (plus level dummies)."""

    kind = "spline"


class HGBMechanism(FeatureMechanism):
    """Gradient-boosted trees on the parents, monotone where the layout declares it; the K
    fold models' predictions are averaged on new rows."""

    kind = "hgb"

    def __init__(self, node, parents, design, monotone: list[int] | None = None, seed: int = 0):
        super().__init__(node, parents, design)
        self.monotone = monotone
        self.seed = seed

    def _new_model(self):
        return hgb_regressor(self.monotone, self.seed)

    def weighted_refit(self, values, blocks, block_weights, seed=0):
        # One weighted model instead of K fold models: the refit's noise comes from the main
        # mechanism's out-of-fold noise (see reference_draws), so no cross-fitting is needed.
        # On long histories a random subset of HGB_REFIT_MAX_ROWS rows (with their weights)
        # bounds the cost; it only adds variation, so intervals err on the wide side.
        # (self.models are the main fit's fold models: a refit is never refitted.)
        A = self.features(values)
        y = values[self.node]
        w = self._row_weights(blocks, block_weights)
        if len(y) > HGB_REFIT_MAX_ROWS:
            rows = np.sort(np.random.default_rng(seed).choice(len(y), HGB_REFIT_MAX_ROWS, replace=False))
            A, y, w = A[rows], y[rows], w[rows]
        new = self._refit_copy()
        # As many boosting iterations as the fold models chose by early stopping (no new
        # validation split): the refit varies the data, not the model's complexity.
        n_iter = max(1, int(round(np.mean([m.n_iter_ for m in self.models]))))
        model = hgb_regressor(self.monotone, seed, max_iter=n_iter)
        model.set_params(early_stopping=False)
        new.models = [BinnedTrees(model, A).fit(A, y, w)]
        return new


class BinnedTrees:
    """A gradient-boosting model fitted on features already cut into at most 255 bins at
    quantiles of the *unweighted* rows, and predicting through the same cut.

    Why: since scikit-learn 1.6 ``HistGradientBoostingRegressor`` with ``sample_weight`` finds
    each of a feature's 254 bin edges by a separate weighted percentile (one sort per edge),
    which costs about ten times the boosting itself (0.65 of 0.77 s for a 6,000-row refit,
    0.06 s unweighted). Given at most 255 distinct values per feature it only takes their
    midpoints, so cutting the features ourselves keeps the weighted boosting and restores the
    binning scikit-learn used before 1.6 (edges from the rows, not their weights).

    Parameters
    ----------
    model : HistGradientBoostingRegressor
        The unfitted model.
    A : ndarray of shape (n_rows, n_features)
        The rows whose quantiles give the bin edges.
    max_bins : int
        Bins per feature (scikit-learn's default 255).
    """

    def __init__(self, model, A: np.ndarray, max_bins: int = 255):
        self.model = model
        self.edges = [_bin_edges(A[:, j], max_bins) for j in range(A.shape[1])]

    def _cut(self, A: np.ndarray) -> np.ndarray:
        out = np.empty(A.shape, dtype=float)
        for j, e in enumerate(self.edges):
            # bin i holds edges[i-1] < x <= edges[i], as scikit-learn's bin mapper
            out[:, j] = np.searchsorted(e, A[:, j], side="left")
        out[np.isnan(A)] = np.nan
        return out

    def fit(self, A: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> BinnedTrees:
        self.model.fit(self._cut(A), y, sample_weight=weights)
        return self

    def predict(self, A: np.ndarray) -> np.ndarray:
        return self.model.predict(self._cut(A))

    @property
    def n_iter_(self) -> int:
        return self.model.n_iter_


def _bin_edges(col: np.ndarray, max_bins: int) -> np.ndarray:
    """Bin edges of one feature as scikit-learn's unweighted bin mapper finds them: midpoints of
    the distinct values when there are few, else quantiles ("averaged inverted CDF")."""
    col = np.sort(col[~np.isnan(col)])
    distinct = np.unique(col)
    if len(distinct) <= 1:
        return np.zeros(0)
    if len(distinct) <= max_bins:
        return (distinct[:-1] + distinct[1:]) / 2
    q = np.linspace(0, 100, max_bins + 1)[1:-1]
    return np.unique(np.percentile(col, q, method="averaged_inverted_cdf"))


def hgb_regressor(monotone: list[int] | None, seed: int, max_iter: int = 200):
    """The gradient-boosting model of an ``hgb`` mechanism (early stopping on 15% of rows)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=max_iter, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40,
        early_stopping=True, validation_fraction=0.15, n_iter_no_change=10,
        monotonic_cst=monotone, random_state=seed,
    )


class _ConstantClassifier:
    """Stands in for a classifier on a fold whose training rows hold one level only."""

    def __init__(self, level: int):
        self.classes_ = np.array([level])

    def predict_proba(self, A):
        return np.ones((A.shape[0], 1))


class ClassifierMechanism(FeatureMechanism):
    """A categorical node with parents: multinomial logistic regression, cross-fitted.

    Counterfactuals follow the Gumbel-max SCM: a row's noise is a posterior draw of Gumbel
    variables consistent with the level it had; under a change upstream the level is the
    argmax of the new log-probabilities plus that same noise, so a row keeps its level unless
    the change is strong enough to flip it."""

    kind = "classifier"
    categorical = True

    def __init__(self, node, parents, design, n_levels: int):
        super().__init__(node, parents, design)
        self.n_levels = n_levels

    def features(self, values):
        return self.design.linear(values)

    def fit(self, values, folds):
        from sklearn.linear_model import LogisticRegression

        A = self.features(values)
        y = values[self.node]
        oof_ll = np.zeros(len(y))
        self.models = []
        for k in range(int(folds.max()) + 1):
            train, test = folds != k, folds == k
            if len(np.unique(y[train])) < 2:
                m = _ConstantClassifier(int(y[train][0]))
            else:
                m = LogisticRegression(C=10.0, max_iter=500).fit(A[train], y[train])
            self.models.append(m)
            p = np.full((test.sum(), self.n_levels), 1e-9)
            p[:, m.classes_] = m.predict_proba(A[test])
            oof_ll[test] = np.log(np.clip(p[np.arange(test.sum()), y[test]], 1e-12, None))
        freq = np.bincount(y, minlength=self.n_levels) / len(y)
        base_ll = np.log(np.clip(freq[y], 1e-12, None))
        # McFadden-style pseudo-R^2 out of fold, so the report has one comparable number.
        self.oof_r2 = float(1 - oof_ll.sum() / base_ll.sum()) if base_ll.sum() < 0 else None
        self.ref_noise = y.copy()
        return self

    def weighted_refit(self, values, blocks, block_weights, seed=0):
        from sklearn.linear_model import LogisticRegression

        A = self.features(values)
        y = values[self.node]
        new = self._refit_copy()
        if len(np.unique(y)) < 2:
            new.models = [_ConstantClassifier(int(y[0]))]
        else:
            new.models = [LogisticRegression(C=10.0, max_iter=500).fit(
                A, y, sample_weight=self._row_weights(blocks, block_weights))]
        return new

    def predict_logproba(self, values) -> np.ndarray:
        """Log class probabilities (rows x levels), averaged over the fold models."""
        A = self.features(values)
        n = A.shape[0]
        P = np.zeros((n, self.n_levels))
        for m in self.models:
            p = np.full((n, self.n_levels), 1e-9)
            p[:, m.classes_] = m.predict_proba(A)
            P += p
        P /= len(self.models)
        return np.log(np.clip(P, 1e-12, None))

    def predict(self, values):
        """Most probable level of each row."""
        return np.argmax(self.predict_logproba(values), axis=1).astype(np.int64)

    def abduct(self, values, rng):
        return gumbel_posterior(self.predict_logproba(values), values[self.node], rng)

    def assign(self, values, noise):
        return np.argmax(self.predict_logproba(values) + noise, axis=1).astype(np.int64)

    def reference_draws(self, idx, rng, reference_values=None):
        # Restored to reference behaviour: fresh Gumbel noise, i.e. its level drawn from the
        # reference conditional distribution given its (counterfactual) parents.
        u = rng.uniform(1e-12, 1, (len(idx), self.n_levels))
        return -np.log(-np.log(u))


FEATURE_KINDS = {"linear": LinearMechanism, "poly2": Poly2Mechanism, "spline": SplineMechanism,
                 "hgb": HGBMechanism}
# Kinds defined elsewhere (a flag or count KPI's rate model, the shrunk linear kind of a short
# reference), kind -> factory(node, parents, design, monotone, seed): refits from scratch
# rebuild a mechanism by its kind's name, so these must be found by name too.
REGISTERED_KINDS: dict = {}


def make_mechanism(kind: str, node: str, parents: list[str], design: FeatureDesign,
                   monotone: list[int] | None = None, seed: int = 0) -> FeatureMechanism:
    """A new numeric mechanism of ``kind`` (linear, poly2, spline, hgb, or a registered kind)."""
    if kind in REGISTERED_KINDS:
        mech = REGISTERED_KINDS[kind](node, parents, design, monotone, seed)
    elif kind == "hgb":
        mech = HGBMechanism(node, parents, design, monotone, seed)
    else:
        mech = FEATURE_KINDS[kind](node, parents, design)
    # A design fitted on some reference rows (a lab tag's samples): every kind built on it
    # fits on them (an alternative kind compared with the chosen one is fitted on the same rows).
    rows = getattr(design, "sampled_rows", None)
    if rows is not None:
        mech.rows, mech.n_rows_all = rows
    return mech

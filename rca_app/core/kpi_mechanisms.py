"""Mechanisms for a KPI that is a flag or a count: an alarm, a pass/fail result, a defect count.

Both follow ``y = F^-1(U; rate(parents))``, the inverse distribution function (Bernoulli with
failure probability ``p``: ``y = 1[U > 1 - p]``; Poisson with mean ``lambda``) of a ``U`` uniform on
(0, 1): the KPI's noise is its ``U``. A unit's own ``U`` is abducted from the range consistent
with its observed value (for a pass, ``U`` lies below ``1 - p``; for 3 defects, between ``F(2)``
and ``F(3)``),
so a counterfactual keeps the unit's "luck" and only moves it when the upstream change is strong
enough: the monotone (quantile-coupled) counterfactual for discrete outcomes. Restoring the KPI's
own noise draws a fresh ``U``: its outcome as the reference would have given it.

The rate ``p`` or ``lambda`` is a logistic or Poisson regression on the parents' features, or
gradient-boosted trees with the log-loss / Poisson loss where the relation is curved (the trees
must beat the regression's out-of-fold deviance by 1%, as for the numeric kinds). Both are
cross-fitted: the reference noise is never in-sample.

References
----------
Pearl, J. (2009). Causality, 2nd ed., ch. 7 (counterfactuals under monotonicity).
Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and structural
parameters. The Econometrics Journal 21(1).
"""
from __future__ import annotations

import numpy as np

from rca_app.core.encoding import FeatureDesign
from rca_app.core.mechanisms import REGISTERED_KINDS, FeatureMechanism
from rca_app.core.records import MechanismReport

# A tree model must beat the regression's out-of-fold deviance by this relative margin.
SIMPLER_MARGIN = 0.01
# Rates are kept inside (EPS, 1 - EPS) / above EPS so that deviances and draws stay finite.
EPS = 1e-6


class _ConstantRate:
    """Stands in for a model on a fold whose training rows hold one outcome only."""

    def __init__(self, rate: float):
        self.rate = float(rate)

    def rate_of(self, A: np.ndarray) -> np.ndarray:
        return np.full(A.shape[0], self.rate)


class _Fitted:
    """A fitted scikit-learn model behind one ``rate_of`` call (probability of 1, or mean count)."""

    def __init__(self, model, binary: bool):
        self.model = model
        self.binary = binary

    def rate_of(self, A: np.ndarray) -> np.ndarray:
        if self.binary:
            return self.model.predict_proba(A)[:, list(self.model.classes_).index(1)]
        return self.model.predict(A)


def _new_model(family: str, learner: str, seed: int, n_rows: int):
    if learner == "glm":
        if family == "binary":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=1.0, max_iter=1000)
        from sklearn.linear_model import PoissonRegressor

        return PoissonRegressor(alpha=1e-4, max_iter=1000)
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    kw = dict(max_iter=200, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=max(20, n_rows // 50),
              early_stopping=True, validation_fraction=0.15, n_iter_no_change=10, random_state=seed)
    if family == "binary":
        return HistGradientBoostingClassifier(**kw)
    return HistGradientBoostingRegressor(loss="poisson", **kw)


def _fit_model(family: str, learner: str, A: np.ndarray, y: np.ndarray, seed: int,
               weights: np.ndarray | None = None):
    if family == "binary" and len(np.unique(y)) < 2:
        return _ConstantRate(float(y[0]))
    if family == "count" and not np.any(y > 0):
        return _ConstantRate(0.0)
    model = _new_model(family, learner, seed, len(y))
    if weights is None:
        model.fit(A, y)
    else:
        model.fit(A, y, sample_weight=weights)
    return _Fitted(model, family == "binary")


def deviance(family: str, y: np.ndarray, rate: np.ndarray) -> float:
    """Mean deviance of outcomes ``y`` under rates ``rate`` (Bernoulli or Poisson).

    Parameters
    ----------
    family : {"binary", "count"}
    y, rate : ndarray

    Returns
    -------
    float
    """
    y = np.asarray(y, float)
    if family == "binary":
        p = np.clip(rate, EPS, 1 - EPS)
        return float(-2 * np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    mu = np.maximum(rate, EPS)
    term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(2 * np.mean(term - (y - mu)))


def _cdf(family: str, y: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """P(Y <= y) under the rate (y may be -1: 0)."""
    if family == "binary":
        p = np.clip(rate, 0.0, 1.0)
        return np.where(y < 0, 0.0, np.where(y < 1, 1 - p, 1.0))
    from scipy.stats import poisson

    return poisson.cdf(y, np.maximum(rate, EPS))


class RateMechanism(FeatureMechanism):
    """A binary or count KPI given its parents (see the module docstring).

    Parameters
    ----------
    node : str
    parents : list of str
    design : FeatureDesign
    family : {"binary", "count"}
    learner : {"glm", "hgb"}
        Logistic / Poisson regression, or gradient-boosted trees with that loss.
    seed : int
    """

    def __init__(self, node: str, parents: list[str], design: FeatureDesign, family: str,
                 learner: str = "glm", seed: int = 0):
        super().__init__(node, parents, design)
        self.family = family
        self.learner = learner
        self.seed = seed
        base = "logistic" if family == "binary" else "poisson"
        self.kind = base if learner == "glm" else f"hgb_{base}"

    def features(self, values) -> np.ndarray:
        return self.design.linear(values)

    def fit(self, values, folds):
        A = self.features(values)
        y = np.asarray(values[self.node], float)
        oof = np.empty(len(y))
        self.models = []
        for k in range(int(folds.max()) + 1):
            train, test = folds != k, folds == k
            m = _fit_model(self.family, self.learner, A[train], y[train], self.seed + k)
            self.models.append(m)
            oof[test] = m.rate_of(A[test])
        self.oof_rate_ = oof
        null = deviance(self.family, y, np.full(len(y), y.mean()))
        # The deviance share explained out of fold: one number comparable to an R^2.
        self.oof_r2 = float(1 - deviance(self.family, y, oof) / null) if null > 0 else None
        # The reference rows' own U, abducted under their out-of-fold rates.
        self.ref_noise = self._posterior_u(y, oof, np.random.default_rng(self.seed))
        return self

    def rate(self, values) -> np.ndarray:
        """Failure probability or expected count of each row (the fold models' average)."""
        A = self.features(values)
        return np.mean([m.rate_of(A) for m in self.models], axis=0)

    def predict(self, values):
        return self.rate(values)

    def _posterior_u(self, y, rate, rng) -> np.ndarray:
        lo = _cdf(self.family, y - 1, rate)
        hi = _cdf(self.family, y, rate)
        return lo + (hi - lo) * rng.uniform(0.0, 1.0, len(y))

    def abduct(self, values, rng):
        return self._posterior_u(np.asarray(values[self.node], float), self.rate(values), rng)

    def assign(self, values, noise):
        rate = self.rate(values)
        if self.family == "binary":
            return (noise > 1 - rate).astype(float)     # the inverse CDF: 0 up to 1 - p, then 1
        from scipy.stats import poisson

        u = np.clip(noise, 1e-12, 1 - 1e-12)
        return poisson.ppf(u, np.maximum(rate, EPS)).astype(float)

    def reference_draws(self, idx, rng, reference_values=None):
        # Restored to reference behaviour: a fresh U, the outcome drawn from the reference
        # conditional distribution given its (counterfactual) parents.
        return rng.uniform(0.0, 1.0, len(idx))

    def weighted_refit(self, values, blocks, block_weights, seed=0):
        A = self.features(values)
        y = np.asarray(values[self.node], float)
        new = self._refit_copy()
        new.models = [_fit_model(self.family, self.learner, A, y, seed,
                                 self._row_weights(blocks, block_weights))]
        return new

    @property
    def noise_sd(self):
        return None     # U is uniform by construction: its spread says nothing


# Each kind's (family, learner), so that a refit from scratch rebuilds the KPI's rate model by
# its kind's name (rca_app.core.mechanisms.make_mechanism).
RATE_KINDS = {"logistic": ("binary", "glm"), "poisson": ("count", "glm"),
              "hgb_logistic": ("binary", "hgb"), "hgb_poisson": ("count", "hgb")}


def _rate_factory(family: str, learner: str):
    def make(node, parents, design, monotone=None, seed=0):
        return RateMechanism(node, parents, design, family, learner, seed)
    return make


REGISTERED_KINDS.update({kind: _rate_factory(*fl) for kind, fl in RATE_KINDS.items()})


def fit_rate_mechanism(node: str, parents: list[str], levels: dict, values: dict, folds: np.ndarray,
                       family: str, seed: int = 0, learners=("glm", "hgb")) -> tuple[RateMechanism, dict]:
    """The KPI's rate mechanism, the simplest learner within 1% of the best out-of-fold deviance.

    Parameters
    ----------
    node : str
    parents : list of str
    levels : dict
        Levels of the categorical nodes.
    values : dict
        Encoded reference rows.
    folds : ndarray
        Cross-fitting folds of the rows.
    family : {"binary", "count"}
    seed : int
    learners : tuple of str
        Learners to compare, simplest first.

    Returns
    -------
    (RateMechanism, dict)
        The chosen mechanism and each learner's out-of-fold deviance share explained.
    """
    y = np.asarray(values[node], float)
    best, best_dev, scores = None, np.inf, {}
    for learner in learners:
        m = RateMechanism(node, parents, FeatureDesign(parents, levels, values), family, learner, seed).fit(values,
                                                                                                          folds)
        dev = deviance(family, y, m.oof_rate_)
        scores[m.kind] = m.oof_r2 if m.oof_r2 is not None else float("nan")
        if best is None or dev < best_dev * (1 - SIMPLER_MARGIN):
            best, best_dev = m, dev
    assert best is not None   # learners is never empty
    return best, scores


def install_kpi_mechanism(scm, target: str, family: str, learners=("glm", "hgb")):
    """Replace the KPI's fitted mechanism in ``scm`` (in place) by a rate mechanism.

    The rest of the model is untouched: the KPI is a sink of the graph, so nothing else was
    learned from it.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted on the reference rows.
    target : str
    family : {"binary", "count"}
    learners : tuple of str

    Returns
    -------
    StructuralCausalModel
        ``scm`` itself.
    """
    from threadpoolctl import threadpool_limits

    parents = scm.graph.parents(target)
    if not parents or target not in scm.mechanisms_:
        return scm    # a KPI without causes keeps its empirical distribution
    # One OpenMP thread for the trees, as for the numeric kinds (threads stall on a busy machine).
    with threadpool_limits(1, user_api="openmp"):
        mech, scores = fit_rate_mechanism(target, parents, scm.levels_, scm.reference_values_, scm.folds_, family,
                                          scm.settings.seed, learners)
    scm.mechanisms_[target] = mech
    scm.reports_[target] = MechanismReport(target, mech.kind, list(parents), mech.oof_r2, scores, None)
    scm.__dict__.pop("_abductions", None)
    return scm


# A discovered parent of a flag or count KPI stays with a Wald |z| at least this (p < 0.01);
# a sensor discovery missed is added at p < 0.001 / number of candidates (Bonferroni).
PARENT_MIN_Z = 2.58
ADD_ALPHA = 0.001


def _wald_z(reference, target: str, family: str, columns: list[str], serial: bool = False) -> np.ndarray:
    """Wald z of each column in the logistic / Poisson regression of ``target`` on ``columns``.

    ``serial``: rows are consecutive samples of a time series; each z is divided by the square
    root of Bartlett's inflation of its score (:func:`_serial_wald_inflation`)."""
    X = reference[columns].to_numpy(float)
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    y = reference[target].to_numpy(float)
    if family == "binary":
        from sklearn.linear_model import LogisticRegression

        m = LogisticRegression(C=1e6, max_iter=2000).fit(X, y)
        mu = m.predict_proba(X)[:, 1]
        w, coef = mu * (1 - mu), m.coef_.ravel()
    else:
        from sklearn.linear_model import PoissonRegressor

        m = PoissonRegressor(alpha=0.0, max_iter=2000).fit(X, y)
        mu = m.predict(X)
        w, coef = mu, m.coef_
    Xi = np.column_stack([np.ones(len(y)), X])
    info = (Xi * w[:, None]).T @ Xi
    se = np.sqrt(np.clip(np.diag(np.linalg.pinv(info))[1:], 1e-300, None))
    if serial:
        return coef / se / np.sqrt(_serial_wald_inflation(Xi, w, (y - mu) / np.sqrt(np.maximum(w, EPS))))
    return coef / se


def _serial_wald_inflation(Xi: np.ndarray, w: np.ndarray, pearson: np.ndarray) -> np.ndarray:
    """Variance inflation of each coefficient's score on time-series rows.

    A coefficient's Wald z rests on the score ``sum_t xt_t r_t``: the Pearson residual ``r``
    against the column's part not explained by the other columns (``xt``, residualised in the
    fit's weights ``w`` and scaled by ``sqrt(w)``). An alarm or a defect count that persists over
    many rows and a slowly varying sensor make that sum vary ``1 + 2 sum_k rho_r,k rho_x,k`` times
    more than for independent rows (Bartlett; :func:`~rca_app.core.autocorrelation.score_inflation`).

    Parameters
    ----------
    Xi : ndarray of shape (n, 1 + q)
        Intercept and the standardised columns, rows in time order.
    w : ndarray of shape (n,)
        The fit's working weights (the outcome's variance at each row).
    pearson : ndarray of shape (n,)
        Pearson residuals.

    Returns
    -------
    ndarray of shape (q,)
        One inflation (at least 1) per column.
    """
    from rca_app.core.autocorrelation import score_inflation

    Xw = Xi * np.sqrt(np.maximum(w, EPS))[:, None]
    # Each column's residual on all the others at once: column j of Xw @ inv(Xw'Xw), scaled by
    # its diagonal element (the inverse's column is the residual's direction).
    Ginv = np.linalg.pinv(Xw.T @ Xw)
    Xt = Xw @ Ginv[:, 1:] / np.where(np.diag(Ginv)[1:] > 0, np.diag(Ginv)[1:], 1.0)
    return np.array([score_inflation(pearson, Xt[:, j]) for j in range(Xt.shape[1])])


def check_kpi_parents(graph, reference, target: str, family: str, categorical=(), keep=(), candidates=(),
                      serial: bool = False):
    """The edges into a flag or count KPI, decided by its own regression.

    Discovery prunes edges with linear regressions, which a threshold (an alarm) or a log-rate
    (a count) bends: a sensor correlated with a true cause can look like a cause of its own, and
    a true cause can be missed. The KPI is a sink (the layout gives it no children), so its
    parents are the sensors its regression on all allowed sensors needs:

    - discovered numeric parents are eliminated backwards: the one with the smallest Wald
      |z| below :data:`PARENT_MIN_Z` in the logistic / Poisson regression on the remaining
      parents goes, and the rest are tested again;
    - a numeric ``candidate`` discovery missed is added if its Wald z in the regression on all
      candidates passes ``ADD_ALPHA`` / number of candidates (two-sided);
    - categorical parents and ``keep`` (layout-required) edges stay.

    Parameters
    ----------
    graph : CausalGraph
    reference : DataFrame
    target : str
    family : {"binary", "count"}
    categorical : iterable of str
    keep : iterable of (str, str)
    candidates : iterable of str
        Sensors the layout allows as the KPI's parents.
    serial : bool
        Rows are consecutive samples of a time series (``reference`` in time order): the Wald z
        allow for autocorrelation (:func:`_serial_wald_inflation`). False: independent rows.

    Returns
    -------
    (CausalGraph, list of (str, float), list of (str, float))
        The graph, the dropped parents and the added ones, each with its z.
    """
    from scipy.stats import norm

    from rca_app.core.graph import Edge

    categorical, keep = set(categorical), set(map(tuple, keep))
    y = reference[target].to_numpy(float)
    if len(np.unique(y)) < 2:
        return graph, [], []
    numeric = [p for p in graph.parents(target) if p not in categorical]
    drop = {}
    # Backward elimination: the weakest unsupported parent goes first and the rest are tested
    # again without it (a spurious parent correlated with a true one splits its signal).
    kept = list(numeric)
    while kept:
        z = dict(zip(kept, _wald_z(reference, target, family, kept, serial), strict=True))
        weak = [p for p in kept if abs(z[p]) < PARENT_MIN_Z and (p, target) not in keep]
        if not weak:
            break
        worst = min(weak, key=lambda p: abs(z[p]))
        drop[worst] = float(z[worst])
        kept.remove(worst)
    pool = [c for c in candidates if c not in categorical and c != target]
    add = {}
    if pool:
        z_all = _wald_z(reference, target, family, pool, serial)
        bar = float(norm.isf(ADD_ALPHA / (2 * len(pool))))
        add = {c: float(zi) for c, zi in zip(pool, z_all, strict=True)
               if abs(zi) >= bar and c not in numeric}
    if not drop and not add:
        return graph, [], []
    edges = [e for e in graph.edges if not (e.target == target and e.source in drop)]
    edges += [Edge(c, target, origin="discovered") for c in add]
    return (graph.with_edges(edges), sorted(drop.items(), key=lambda t: abs(t[1])),
            sorted(add.items(), key=lambda t: -abs(t[1])))

"""The structural causal model: one mechanism per node given its parents, cross-fitted.

Each numeric node with parents is ``x = f(parents) + noise`` (additive noise). ``f`` is chosen per
node by out-of-fold error among a linear model, a degree-2 polynomial and gradient-boosted trees
(monotone where the layout declares it); the simplest model within 1% of the best error wins, as
simpler mechanisms extrapolate more gracefully. Nodes without parents keep their empirical
distribution (their "noise" is their value around the reference mean).

Cross-fitting, in the spirit of double/debiased ML: the reference rows are split into K folds and
each fold's residuals come from a model trained on the other folds, so the noise used for
abduction is never in-sample. On new rows (the incident) ``f`` is the average of the K fold models.

Categorical nodes with parents use a classifier. Their counterfactuals follow the Gumbel-max SCM:
a row's noise is a posterior draw of Gumbel variables consistent with the level it had; under an
intervention upstream the level is the argmax of the new log-probabilities plus that same noise,
so a row keeps its level unless the change upstream is strong enough to flip it.

Queries (`abduct`, `propagate`, `counterfactual`, `interventional_samples`) are plain functions of
the fitted model, as in DoWhy's gcm.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from rca_app.core.graph import CausalGraph
from rca_app.core.progress import Progress, check_cancel

# In order of simplicity: the simplest kind within the margin of the best error wins.
MECHANISM_KINDS = ("linear", "poly2", "spline", "hgb")
# A more complex mechanism must beat the simpler one by this relative out-of-fold MSE margin.
_SIMPLER_MARGIN = 0.01
# Rows used when comparing candidate mechanisms on long histories (the final fit uses all rows).
_SELECTION_MAX_ROWS = 6000
_SELECTION_FOLDS = 3


# --------------------------------------------------------------------------------------------
# Encoding values: numeric as float arrays, categorical as integer codes into fixed levels.
# --------------------------------------------------------------------------------------------
def encode_frame(frame: pd.DataFrame, nodes, levels: dict[str, list[str]]) -> dict[str, np.ndarray]:
    out = {}
    for n in nodes:
        if n in levels:
            cat = pd.Categorical(frame[n].astype(str), categories=levels[n])
            out[n] = np.asarray(cat.codes, dtype=np.int64)
        else:
            out[n] = frame[n].to_numpy(dtype=float)
    return out


class _Design:
    """Builds a parent design matrix: numeric columns standardised, categorical one-hot."""

    def __init__(self, parents: list[str], levels: dict[str, list[str]], values: dict[str, np.ndarray]):
        self.parents = parents
        self.levels = {p: levels[p] for p in parents if p in levels}
        self.mu = {}
        self.sd = {}
        for p in parents:
            if p not in self.levels:
                v = values[p]
                self.mu[p] = float(v.mean())
                s = float(v.std())
                self.sd[p] = s if s > 0 else 1.0

    @property
    def numeric(self) -> list[str]:
        return [p for p in self.parents if p not in self.levels]

    def numeric_matrix(self, values) -> np.ndarray:
        n = len(next(iter(values.values())))
        cols = [(values[p] - self.mu[p]) / self.sd[p] for p in self.numeric]
        return np.column_stack(cols) if cols else np.zeros((n, 0))

    def dummies(self, values) -> np.ndarray:
        n = len(next(iter(values.values())))
        cols = []
        for p, lv in self.levels.items():
            codes = values[p]
            for k in range(1, len(lv)):
                cols.append((codes == k).astype(float))
        return np.column_stack(cols) if cols else np.zeros((n, 0))

    def linear(self, values) -> np.ndarray:
        return np.hstack([self.numeric_matrix(values), self.dummies(values)])

    def spline(self, values) -> np.ndarray:
        """Additive cubic splines per numeric parent (knots at quantiles, linear beyond the
        outer knots): thresholds and saturation without the blockiness of trees."""
        if not hasattr(self, "_splines"):
            from sklearn.preprocessing import SplineTransformer

            Z = self.numeric_matrix(values)
            self._splines = [
                SplineTransformer(n_knots=8, degree=3, knots="quantile", extrapolation="linear").fit(Z[:, [i]])
                for i in range(Z.shape[1])
            ]
        Z = self.numeric_matrix(values)
        cols = [sp.transform(Z[:, [i]]) for i, sp in enumerate(self._splines)]
        return np.hstack(cols + [self.dummies(values)]) if cols else self.dummies(values)

    def features(self, kind: str, values) -> np.ndarray:
        if kind == "poly2":
            return self.poly2(values)
        if kind == "spline":
            return self.spline(values)
        return self.linear(values)

    def poly2(self, values) -> np.ndarray:
        Z = self.numeric_matrix(values)
        k = Z.shape[1]
        quad = [Z[:, i] * Z[:, j] for i in range(k) for j in range(i, k)]
        Q = np.column_stack(quad) if quad else np.zeros((Z.shape[0], 0))
        return np.hstack([Z, Q, self.dummies(values)])


class _Ridge:
    """Least squares with a tiny ridge for conditioning (closed form, fast)."""

    def fit(self, A: np.ndarray, y: np.ndarray) -> "_Ridge":
        self.mean_ = A.mean(axis=0) if A.shape[1] else np.zeros(0)
        Ac = A - self.mean_
        self.intercept_ = float(y.mean())
        if A.shape[1]:
            G = Ac.T @ Ac + 1e-8 * len(y) * np.eye(A.shape[1])
            self.coef_ = np.linalg.solve(G, Ac.T @ (y - self.intercept_))
        else:
            self.coef_ = np.zeros(0)
        return self

    def predict(self, A: np.ndarray) -> np.ndarray:
        if A.shape[1] == 0:
            return np.full(A.shape[0], self.intercept_)
        return self.intercept_ + (A - self.mean_) @ self.coef_


def _hgb(monotone: list[int] | None, seed: int, max_iter: int = 200):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        max_iter=max_iter, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40,
        early_stopping=True, validation_fraction=0.15, n_iter_no_change=10,
        monotonic_cst=monotone, random_state=seed,
    )


def _folds(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    fold = np.arange(n) % k
    rng.shuffle(fold)
    return fold


@dataclass
class MechanismReport:
    node: str
    kind: str          # empirical | linear | poly2 | hgb | classifier | categorical_empirical
    parents: list[str]
    oof_r2: float | None
    candidates: dict[str, float] = field(default_factory=dict)  # kind -> out-of-fold R^2
    noise_sd: float | None = None
    # True: learned on reference + incident rows (an unchanged mechanism driven outside the
    # reference range; see pool_invariant_mechanisms).
    pooled: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class NodeMechanism:
    """A fitted mechanism for one node, with its reference noise (out-of-fold)."""

    def __init__(self, node: str, parents: list[str], kind: str, categorical: bool):
        self.node = node
        self.parents = parents
        self.kind = kind
        self.categorical = categorical
        self.models: list = []
        self.design: _Design | None = None
        self.constant = 0.0
        self.ref_noise: np.ndarray | None = None    # numeric: residuals; categorical root: codes
        self.n_levels = 0

    # -- prediction ----------------------------------------------------------------------------
    def _features(self, values) -> np.ndarray:
        return self.design.features(self.kind, values)

    def predict(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Mean of the node given its parents (numeric nodes)."""
        if not self.parents:
            n = len(next(iter(values.values())))
            return np.full(n, self.constant)
        A = self._features(values)
        preds = [m.predict(A) for m in self.models]
        return np.mean(preds, axis=0)

    def predict_logproba(self, values) -> np.ndarray:
        """Log class probabilities of a categorical node with parents (rows x levels)."""
        A = self._features(values)
        n = A.shape[0]
        P = np.zeros((n, self.n_levels))
        for m in self.models:
            p = np.full((n, self.n_levels), 1e-9)
            p[:, m.classes_] = m.predict_proba(A)
            P += p
        P /= len(self.models)
        return np.log(np.clip(P, 1e-12, None))


@dataclass
class SCMSettings:
    n_folds: int = 5
    mechanisms: tuple[str, ...] = MECHANISM_KINDS
    seed: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mechanisms"] = list(self.mechanisms)
        return d


class StructuralCausalModel:
    """A graph plus one cross-fitted mechanism per node (scikit-learn style: ``fit`` returns self,
    learned attributes end in ``_``)."""

    def __init__(self, graph: CausalGraph, categorical=(), monotone: dict | None = None,
                 settings: SCMSettings | None = None, only: set[str] | None = None,
                 fixed_kinds: dict[str, str] | None = None, levels: dict[str, list[str]] | None = None):
        self.graph = graph
        self.categorical = set(categorical)
        self.monotone = dict(monotone or {})
        self.settings = settings or SCMSettings()
        # Fit only these nodes (e.g. the target's ancestors in bootstrap refits).
        self.only = only
        # Skip model selection and use these kinds (bootstrap refits keep the main fit's choice).
        self.fixed_kinds = fixed_kinds or {}
        # Levels of categorical nodes; give them when the data to be queried holds levels that
        # the training rows lack (a supplier seen only in the incident).
        self.levels = levels

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, progress: Progress | None = None) -> "StructuralCausalModel":
        from threadpoolctl import threadpool_limits

        # Gradient boosting's OpenMP threads cost more than they give on plant-sized tables
        # (and stall badly when another process holds a core): one thread per fit.
        with threadpool_limits(1, user_api="openmp"):
            return self._fit(frame, progress)

    def _fit(self, frame: pd.DataFrame, progress: Progress | None) -> "StructuralCausalModel":
        g = self.graph
        self.order_ = g.topological_order()
        self.levels_ = dict(self.levels) if self.levels else {
            n: sorted(frame[n].astype(str).unique().tolist()) for n in g.nodes if n in self.categorical
        }
        values = encode_frame(frame, g.nodes, self.levels_)
        self.reference_values_ = values
        self.n_reference_ = len(frame)
        rng = np.random.default_rng(self.settings.seed)
        self.folds_ = _folds(len(frame), self.settings.n_folds, rng)
        self.mechanisms_: dict[str, NodeMechanism] = {}
        self.reports_: dict[str, MechanismReport] = {}
        todo = [n for n in self.order_ if self.only is None or n in self.only]
        for i, node in enumerate(todo):
            check_cancel(progress)
            if progress is not None:
                progress.step(f"fitting mechanism of {node}", i / max(1, len(todo)))
            self._fit_node(node, values, rng)
        return self

    def _fit_node(self, node: str, values: dict, rng: np.random.Generator) -> None:
        parents = self.graph.parents(node)
        is_cat = node in self.categorical
        y = values[node]
        if not parents:
            mech = NodeMechanism(node, [], "categorical_empirical" if is_cat else "empirical", is_cat)
            if is_cat:
                mech.n_levels = len(self.levels_[node])
                mech.ref_noise = y.copy()
                self.reports_[node] = MechanismReport(node, mech.kind, [], None)
            else:
                mech.constant = float(y.mean())
                mech.ref_noise = y - mech.constant
                self.reports_[node] = MechanismReport(node, "empirical", [], None,
                                                      noise_sd=float(mech.ref_noise.std()))
            self.mechanisms_[node] = mech
            return
        design = _Design(parents, self.levels_, values)
        if is_cat:
            self._fit_classifier(node, parents, design, values)
            return
        mono = self._monotone_vector(node, design)
        kind, cand_r2 = self.fixed_kinds.get(node), {}
        if kind is None:
            kind, cand_r2 = self._select(node, design, values, mono, rng)
        mech = NodeMechanism(node, parents, kind, False)
        mech.design = design
        A = mech._features(values)
        oof = np.empty_like(y)
        for k in range(self.settings.n_folds):
            train, test = self.folds_ != k, self.folds_ == k
            model = self._new_model(kind, mono).fit(A[train], y[train])
            mech.models.append(model)
            oof[test] = model.predict(A[test])
        mech.ref_noise = y - oof
        var = y.var()
        r2 = float(1 - mech.ref_noise.var() / var) if var > 0 else None
        self.mechanisms_[node] = mech
        self.reports_[node] = MechanismReport(node, kind, parents, r2, cand_r2,
                                              noise_sd=float(mech.ref_noise.std()))

    def _monotone_vector(self, node: str, design: _Design) -> list[int] | None:
        cst = [int(self.monotone.get((p, node), 0)) for p in design.numeric]
        cst += [0] * design.dummies({p: np.zeros(1, dtype=int) if p in design.levels else np.zeros(1)
                                     for p in design.parents}).shape[1]
        return cst if any(cst) else None

    def _new_model(self, kind: str, mono):
        if kind == "hgb":
            return _hgb(mono, self.settings.seed)
        return _Ridge()

    def _select(self, node, design, values, mono, rng) -> tuple[str, dict[str, float]]:
        """Pick the mechanism kind by out-of-fold error (on at most _SELECTION_MAX_ROWS rows)."""
        y = values[node]
        n = len(y)
        idx = np.arange(n)
        if n > _SELECTION_MAX_ROWS:
            idx = np.sort(rng.choice(n, _SELECTION_MAX_ROWS, replace=False))
        sub = {k: v[idx] for k, v in values.items()}
        ys = y[idx]
        folds = _folds(len(idx), min(self.settings.n_folds, _SELECTION_FOLDS), rng)
        kinds = [k for k in self.settings.mechanisms if k in MECHANISM_KINDS]
        if mono is not None:
            # Quadratics and free splines cannot promise monotonicity; monotone trees can.
            kinds = [k for k in kinds if k not in ("poly2", "spline")]
        if not design.numeric:
            kinds = ["linear"]  # only categorical parents: level means are already exact
        var = ys.var() if ys.var() > 0 else 1.0

        def oof_mse(kind: str) -> float:
            A = design.features(kind, sub)
            oof = np.empty_like(ys)
            for k in range(folds.max() + 1):
                tr, te = folds != k, folds == k
                oof[te] = self._new_model(kind, mono).fit(A[tr], ys[tr]).predict(A[te])
            return float(np.mean((ys - oof) ** 2))

        mse = {k: oof_mse(k) for k in kinds if k != "hgb"}
        # Trees are the costly candidate: try them only where a quadratic already shows the
        # mechanism is not linear, or where a monotone declaration rules the quadratic out.
        if "hgb" in kinds:
            lin = mse.get("linear", np.inf)
            curved = any(k in mse and mse[k] < lin * (1 - 2 * _SIMPLER_MARGIN) for k in ("poly2", "spline"))
            if curved or mono is not None or "linear" not in mse:
                mse["hgb"] = oof_mse("hgb")
        best = min(mse.values())
        chosen = next(k for k in MECHANISM_KINDS if k in mse and mse[k] <= best * (1 + _SIMPLER_MARGIN))
        return chosen, {k: float(1 - v / var) for k, v in mse.items()}

    def _fit_classifier(self, node, parents, design, values) -> None:
        from sklearn.linear_model import LogisticRegression

        mech = NodeMechanism(node, parents, "classifier", True)
        mech.design = design
        mech.n_levels = len(self.levels_[node])
        A = design.linear(values)
        y = values[node]
        oof_ll = np.zeros(len(y))
        for k in range(self.settings.n_folds):
            train, test = self.folds_ != k, self.folds_ == k
            if len(np.unique(y[train])) < 2:
                m = _ConstantClassifier(int(y[train][0]))
            else:
                m = LogisticRegression(C=10.0, max_iter=500).fit(A[train], y[train])
            mech.models.append(m)
            p = np.full((test.sum(), mech.n_levels), 1e-9)
            p[:, m.classes_] = m.predict_proba(A[test])
            oof_ll[test] = np.log(np.clip(p[np.arange(test.sum()), y[test]], 1e-12, None))
        freq = np.bincount(y, minlength=mech.n_levels) / len(y)
        base_ll = np.log(np.clip(freq[y], 1e-12, None))
        # McFadden-style pseudo-R^2 out of fold, so the report has one comparable number.
        r2 = float(1 - oof_ll.sum() / base_ll.sum()) if base_ll.sum() < 0 else None
        mech.ref_noise = y.copy()
        self.mechanisms_[node] = mech
        self.reports_[node] = MechanismReport(node, "classifier", parents, r2)


class _ConstantClassifier:
    """Stands in for a classifier on a fold whose training rows hold one level only."""

    def __init__(self, level: int):
        self.classes_ = np.array([level])

    def predict_proba(self, A):
        return np.ones((A.shape[0], 1))


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------
def _gumbel_posterior(logp: np.ndarray, observed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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


def abduct(scm: StructuralCausalModel, values: dict[str, np.ndarray], seed: int = 0,
           nodes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Each node's noise in the given rows: what the mechanisms cannot explain."""
    rng = np.random.default_rng(seed)
    noise = {}
    for node in nodes or scm.order_:
        mech = scm.mechanisms_.get(node)
        if mech is None:
            continue
        if mech.kind == "categorical_empirical":
            noise[node] = values[node].copy()
        elif mech.kind == "classifier":
            noise[node] = _gumbel_posterior(mech.predict_logproba(values), values[node], rng)
        else:
            noise[node] = values[node] - mech.predict(values)
    return noise


def _node_value(mech: NodeMechanism, values, noise) -> np.ndarray:
    if mech.kind == "categorical_empirical":
        return noise.astype(np.int64)
    if mech.kind == "classifier":
        return np.argmax(mech.predict_logproba(values) + noise, axis=1).astype(np.int64)
    return mech.predict(values) + noise


def propagate(scm: StructuralCausalModel, base: dict[str, np.ndarray], noise: dict[str, np.ndarray],
              changed: set[str], interventions: dict[str, np.ndarray | float] | None = None,
              stop_at: str | None = None) -> dict[str, np.ndarray]:
    """Recompute every node downstream of ``changed`` (nodes whose noise or value was replaced)
    in causal order; all other nodes keep their ``base`` values. Intervened nodes are held at
    their set values (the do-operator cuts them from their parents)."""
    interventions = interventions or {}
    vals = dict(base)
    n = len(next(iter(base.values())))
    dirty = set(changed) | set(interventions)
    for node in scm.order_:
        if node in interventions:
            v = interventions[node]
            vals[node] = np.broadcast_to(np.asarray(v, dtype=vals[node].dtype), (n,)).copy()
            continue
        mech = scm.mechanisms_.get(node)
        if mech is None:
            continue
        if node in changed or any(p in dirty for p in mech.parents):
            vals[node] = _node_value(mech, vals, noise[node])
            dirty.add(node)
        if stop_at is not None and node == stop_at:
            break
    return vals


def counterfactual(scm: StructuralCausalModel, frame: pd.DataFrame,
                   interventions: dict[str, float], seed: int = 0) -> pd.DataFrame:
    """What these rows would have been under do(interventions), with their own noise kept."""
    values = encode_frame(frame, scm.graph.nodes, scm.levels_)
    noise = abduct(scm, values, seed)
    enc = {k: _encode_value(scm, k, v) for k, v in interventions.items()}
    out = propagate(scm, values, noise, set(), enc)
    return decode_values(scm, out)


def interventional_samples(scm: StructuralCausalModel, interventions: dict[str, float], n: int,
                           seed: int = 0) -> pd.DataFrame:
    """Fresh samples from the model under do(interventions): noises drawn from the reference."""
    rng = np.random.default_rng(seed)
    noise = {}
    base = {}
    for node in scm.order_:
        mech = scm.mechanisms_[node]
        if mech.kind == "classifier":
            u = rng.uniform(1e-12, 1, (n, mech.n_levels))
            noise[node] = -np.log(-np.log(u))
        else:
            noise[node] = rng.choice(mech.ref_noise, size=n, replace=True)
        base[node] = np.zeros(n, dtype=np.int64 if mech.categorical else float)
    enc = {k: _encode_value(scm, k, v) for k, v in interventions.items()}
    out = propagate(scm, base, noise, set(scm.order_), enc)
    return decode_values(scm, out)


def _encode_value(scm, node, v):
    if node in scm.levels_:
        lv = scm.levels_[node]
        if str(v) not in lv:
            raise ValueError(f"'{v}' is not a level of {node} (levels: {', '.join(lv)})")
        return lv.index(str(v))
    return float(v)


def decode_values(scm, values: dict[str, np.ndarray]) -> pd.DataFrame:
    cols = {}
    for n in scm.graph.nodes:
        if n not in values:
            continue
        if n in scm.levels_:
            cols[n] = pd.Categorical.from_codes(values[n], categories=scm.levels_[n])
        else:
            cols[n] = values[n]
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------------------------
# Edge effects by partialling out (double/debiased ML)
# --------------------------------------------------------------------------------------------
@dataclass
class EdgeEffect:
    source: str
    target: str
    effect: float            # per unit of the source; categorical: the largest level contrast
    std_error: float | None
    level_effects: dict[str, float] | None = None  # categorical source: level -> effect vs first

    def to_dict(self) -> dict:
        return asdict(self)


def _crossfit_residual(A: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    if A.shape[1] == 0:
        r = np.empty_like(y)
        for k in range(folds.max() + 1):
            tr, te = folds != k, folds == k
            r[te] = y[te] - y[tr].mean()
        return r
    r = np.empty_like(y)
    for k in range(folds.max() + 1):
        tr, te = folds != k, folds == k
        r[te] = y[te] - _Ridge().fit(A[tr], y[tr]).predict(A[te])
    return r


def edge_effects(scm: StructuralCausalModel, frame: pd.DataFrame | None = None) -> list[EdgeEffect]:
    """Average causal effect of each edge: partial out the child's other parents from both the
    child and the parent with cross-fitted nuisance models (degree-2 polynomials), then regress
    residual on residual (the partially linear model of Chernozhukov et al.)."""
    values = scm.reference_values_ if frame is None else encode_frame(frame, scm.graph.nodes, scm.levels_)
    folds = scm.folds_
    out = []
    for e in scm.graph.edges:
        child, src = e.target, e.source
        if child in scm.categorical or child not in scm.mechanisms_:
            continue
        others = [p for p in scm.graph.parents(child) if p != src]
        W = _Design(others, scm.levels_, values).poly2(values) if others else np.zeros((len(folds), 0))
        y_res = _crossfit_residual(W, values[child], folds)
        if src in scm.categorical:
            lv = scm.levels_[src]
            D = np.column_stack([(values[src] == k).astype(float) for k in range(1, len(lv))]) \
                if len(lv) > 1 else np.zeros((len(folds), 0))
            if D.shape[1] == 0:
                continue
            D_res = np.column_stack([_crossfit_residual(W, D[:, j], folds) for j in range(D.shape[1])])
            theta, *_ = np.linalg.lstsq(D_res, y_res, rcond=None)
            levels = {lv[0]: 0.0, **{lv[k]: float(theta[k - 1]) for k in range(1, len(lv))}}
            contrast = max(levels.values()) - min(levels.values())
            out.append(EdgeEffect(src, child, float(contrast), None, levels))
            continue
        x_res = _crossfit_residual(W, values[src], folds)
        denom = float(x_res @ x_res)
        if denom <= 0:
            continue
        theta = float(x_res @ y_res) / denom
        psi = (y_res - theta * x_res) * x_res
        n = len(x_res)
        se = float(np.sqrt(np.mean(psi**2)) / (denom / n) / np.sqrt(n))
        out.append(EdgeEffect(src, child, theta, se))
    return out


# --------------------------------------------------------------------------------------------
# Mechanisms driven outside the reference range
# --------------------------------------------------------------------------------------------
# A sensor counts as anomalous under its reference-only mechanism when its incident residuals
# shift by at least this many reference sds (and significantly), or spread this much wider; and
# as explained by one mechanism over both periods when that shift shrinks below the second bound.
INVARIANCE_MIN_SHIFT_SD = 0.25
INVARIANCE_MAX_Z = 3.0
INVARIANCE_POOLED_MAX_SHIFT_SD = 0.2
INVARIANCE_MAX_SD_RATIO = 1.5
# Kinds that extrapolate by a global form. Trees (and splines fitted anew) could learn the
# incident's region separately and so absorb a real change: they are never pooled.
_POOLABLE = ("linear", "poly2", "spline")


@dataclass
class InvarianceCheck:
    node: str
    z_reference_model: float     # incident residual shift under the reference-only mechanism (z)
    shift_sd_reference: float    # the same shift in reference sds (an effect size)
    shift_sd_pooled: float       # the shift under the mechanism learned on both periods
    sd_ratio_reference: float    # incident / reference residual spread, reference-only mechanism
    sd_ratio_pooled: float       # the same, pooled mechanism
    pooled: bool                 # True: the mechanism is taken as unchanged and learned on both


def _shift(ref_res: np.ndarray, inc_res: np.ndarray) -> tuple[float, float, float]:
    """Incident residual mean shift as (z, reference sds) and the spread ratio."""
    sd = float(ref_res.std()) or 1.0
    d = float(inc_res.mean()) - float(ref_res.mean())
    return d / (sd / np.sqrt(len(inc_res))), d / sd, float(inc_res.std()) / sd


def pool_invariant_mechanisms(scm: StructuralCausalModel, incident: pd.DataFrame,
                              nodes: set[str] | None = None,
                              decided: set[str] | None = None) -> tuple[StructuralCausalModel, list[InvarianceCheck]]:
    """Learn from the incident too where a mechanism evidently did not change.

    A mechanism learned on the reference period knows nothing of ranges the reference never
    visited (a threshold the process only crosses during the incident). Its residuals then make
    a sensor look faulty when it merely followed its upstream cause. Under the sparse-mechanism-
    shift view (few mechanisms change in an incident), a sensor that looks anomalous under its
    reference mechanism (residual shift >= 0.25 reference sds and |z| >= 3, or spread >= 1.5x)
    but whose incident rows the *same kind* of mechanism, refitted on both periods, explains
    (shift < 0.2 sds, spread < 1.5x or at most half what the reference mechanism leaves) is taken
    as unchanged: its mechanism is relearned on both periods, and its reference noise is the
    out-of-fold residual of the reference rows. Only globally-shaped kinds (linear, quadratic,
    splines) are pooled; trees could fit the incident's region on its own and hide a real change.

    ``decided``: skip the test and pool exactly these nodes (bootstrap refits keep the decision).
    Returns a new SCM (the input is not modified) and the checks made.
    """
    ref_frame_len = scm.n_reference_
    candidates = [n for n in scm.order_ if n in scm.mechanisms_
                  and scm.mechanisms_[n].kind in _POOLABLE
                  and (nodes is None or n in nodes)]
    if len(incident) == 0:
        return scm, []
    inc_values = encode_frame(incident, scm.graph.nodes, scm.levels_)
    under_ref = {}
    for n in candidates:
        m_ref = scm.mechanisms_[n]
        under_ref[n] = _shift(m_ref.ref_noise, inc_values[n] - m_ref.predict(inc_values))
    if decided is not None:
        refit = [n for n in candidates if n in decided]
    else:
        refit = [n for n in candidates
                 if (abs(under_ref[n][0]) >= INVARIANCE_MAX_Z and abs(under_ref[n][1]) >= INVARIANCE_MIN_SHIFT_SD)
                 or under_ref[n][2] >= INVARIANCE_MAX_SD_RATIO]
    if not refit:
        return scm, []
    ref_frame = decode_values(scm, scm.reference_values_)
    pooled_frame = pd.concat([ref_frame, incident[list(ref_frame.columns)].reset_index(drop=True)],
                             ignore_index=True)
    for c in scm.levels_:
        pooled_frame[c] = pooled_frame[c].astype(str)
    pooled = StructuralCausalModel(scm.graph, scm.categorical, scm.monotone, scm.settings, only=set(refit),
                                   fixed_kinds={n: scm.mechanisms_[n].kind for n in refit},
                                   levels=scm.levels_).fit(pooled_frame)
    checks, swap = [], []
    for n in refit:
        z_ref, shift_ref, ratio_ref = under_ref[n]
        res = pooled.mechanisms_[n].ref_noise
        _, shift_pool, ratio = _shift(res[:ref_frame_len], res[ref_frame_len:])
        if decided is not None:
            ok = True
        else:
            # A node whose own noise grew keeps the wider spread under both mechanisms, so it
            # is not mistaken for one merely driven out of range.
            spread_ok = ratio < INVARIANCE_MAX_SD_RATIO or ratio < 0.5 * ratio_ref
            ok = abs(shift_pool) < INVARIANCE_POOLED_MAX_SHIFT_SD and spread_ok
        checks.append(InvarianceCheck(n, float(z_ref), float(shift_ref), float(shift_pool), float(ratio_ref),
                                      float(ratio), bool(ok)))
        if ok:
            swap.append(n)
    if not swap:
        return scm, checks
    out = copy.copy(scm)
    out.mechanisms_ = dict(scm.mechanisms_)
    out.reports_ = dict(scm.reports_)
    for n in swap:
        mech = copy.copy(pooled.mechanisms_[n])
        mech.ref_noise = pooled.mechanisms_[n].ref_noise[:ref_frame_len]
        out.mechanisms_[n] = mech
        rep = copy.copy(pooled.reports_[n])
        rep.pooled = True
        out.reports_[n] = rep
    return out, checks

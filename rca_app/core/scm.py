"""The structural causal model: one mechanism per node given its parents, cross-fitted.

Each numeric node with parents is ``x = f(parents) + noise`` (additive noise). ``f`` is chosen per
node by out-of-fold error among a linear model, a degree-2 polynomial, additive splines and
gradient-boosted trees (monotone where the layout declares it); the simplest model within 1% of
the best error wins, as simpler mechanisms extrapolate more gracefully. Nodes without parents
keep their empirical distribution (their "noise" is their value around the reference mean).
The kinds themselves live in :mod:`rca_app.core.mechanisms`.

Cross-fitting, in the spirit of double/debiased ML: the reference rows are split into K folds and
each fold's residuals come from a model trained on the other folds, so the noise used for
abduction is never in-sample. On new rows (the incident) ``f`` is the average of the K fold models.

Queries (`abduct`, `propagate`, `counterfactual`, `interventional_samples`) are plain functions of
the fitted model, as in DoWhy's gcm (:mod:`rca_app.core.queries`); edge effects are in
:mod:`rca_app.core.effects`. Both are re-exported here.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from rca_app.core.encoding import FeatureDesign, encode_frame
from rca_app.core.encoding import decode_values as _decode
from rca_app.core.graph import CausalGraph
from rca_app.core.lagged_model import lag_inputs_of
from rca_app.core.mechanisms import (
    CategoricalEmpiricalMechanism,
    ClassifierMechanism,
    EmpiricalMechanism,
    Mechanism,
    Ridge,
    hgb_regressor,
    make_mechanism,
)
from rca_app.core.parallel import ParallelSettings, run_tasks
from rca_app.core.progress import Progress, SubProgress, check_cancel
from rca_app.core.records import InvarianceCheck, MechanismReport

# In order of simplicity: the simplest kind within the margin of the best error wins.
MECHANISM_KINDS = ("linear", "poly2", "spline", "hgb")
# A more complex mechanism must beat the simpler one by this relative out-of-fold MSE margin.
_SIMPLER_MARGIN = 0.01
# Rows used when comparing candidate mechanisms on long histories (the final fit uses all rows).
_SELECTION_MAX_ROWS = 6000
_SELECTION_FOLDS = 3

# The name other modules used for one node's fitted mechanism.
NodeMechanism = Mechanism


def _folds(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    fold = np.arange(n) % k
    rng.shuffle(fold)
    return fold


@dataclass
class SCMSettings:
    n_folds: int = 5
    mechanisms: tuple[str, ...] = MECHANISM_KINDS
    seed: int = 0
    # Workers for choosing the nodes' mechanism kinds (1: in this process; None: every core).
    n_jobs: int | None = 1
    scheduler: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mechanisms"] = list(self.mechanisms)
        return d


class StructuralCausalModel:
    """A graph plus one cross-fitted mechanism per node (scikit-learn style: ``fit`` returns self,
    learned attributes end in ``_``).

    Parameters
    ----------
    graph : CausalGraph
    categorical : iterable of str
        Categorical nodes.
    monotone : dict, optional
        ``(parent, child) -> +1 / -1`` declared monotone effects.
    settings : SCMSettings, optional
    only : set of str, optional
        Fit only these nodes (e.g. the target's ancestors).
    fixed_kinds : dict, optional
        Skip model selection and use these kinds (refits keep the main fit's choice).
    levels : dict, optional
        Levels of categorical nodes (the investigation's :class:`CategoryEncoder` levels); give
        them when the data to be queried holds levels that the training rows lack.
    fit_rows : dict, optional
        Node -> positions of the rows of ``frame`` its mechanism is fitted on (a lab tag and
        the children of one, on the rows where it was sampled: :mod:`rca_app.core.lab_tags`);
        other nodes on every row. Only used by a fit on the rows these positions refer to.
    """

    def __init__(self, graph: CausalGraph, categorical=(), monotone: dict | None = None,
                 settings: SCMSettings | None = None, only: set[str] | None = None,
                 fixed_kinds: dict[str, str] | None = None, levels: dict[str, list[str]] | None = None,
                 fit_rows: dict[str, np.ndarray] | None = None):
        self.graph = graph
        self.categorical = set(categorical)
        self.monotone = dict(monotone or {})
        self.settings = settings or SCMSettings()
        self.only = only
        self.fixed_kinds = fixed_kinds or {}
        self.levels = levels
        self.fit_rows = dict(fit_rows or {})

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, progress: Progress | None = None) -> StructuralCausalModel:
        """Fit every node's mechanism (or those in ``only``) on ``frame``; returns self."""
        from threadpoolctl import threadpool_limits

        # Gradient boosting's OpenMP threads cost more than they give on plant-sized tables
        # (and stall badly when another process holds a core): one thread per fit.
        with threadpool_limits(1, user_api="openmp"):
            return self._fit(frame, progress)

    def _fit(self, frame: pd.DataFrame, progress: Progress | None) -> StructuralCausalModel:
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
        self.mechanisms_: dict[str, Mechanism] = {}
        self.reports_: dict[str, MechanismReport] = {}
        # A lagged column (time series, core/lagged_model.py) is its source's past, not a node
        # with a mechanism of its own: queries fill it from the source.
        lagged = {li.node for li in lag_inputs_of(g.nodes)}
        todo = [n for n in self.order_ if (self.only is None or n in self.only) and n not in lagged]
        # Kind selection is the costly part and independent across nodes: the rows and folds
        # each node compares kinds on are drawn here, in causal order (the stream every node
        # always used), and the comparisons run as tasks; same result for any worker count.
        designs, chosen, tasks = {}, {}, []
        for node in todo:
            parents = self.graph.parents(node)
            if not parents:
                continue
            own = self._own_rows(node, len(frame))
            designs[node] = FeatureDesign(parents, self.levels_, values if own is None else
                                          {k: v[own] for k, v in values.items()})
            if node in self.categorical or node in self.fixed_kinds:
                continue
            idx, folds = self._selection_draws(len(frame) if own is None else len(own), rng)
            if own is not None:
                idx = own[idx]
            cols = {k: values[k][idx] for k in parents + [node]}
            tasks.append((node, designs[node], cols, folds, tuple(self.settings.mechanisms),
                          self._monotone_vector(node, designs[node]), self.settings.seed))
        if tasks:
            results = run_tasks(_select_kind, tasks, ParallelSettings(self.settings.n_jobs, self.settings.scheduler),
                                SubProgress(progress, 0.0, 0.5, "") if progress is not None else None,
                                "choosing mechanisms")
            for (node, *_), (kind, cand_r2, design) in zip(tasks, results, strict=True):
                chosen[node] = (kind, cand_r2)
                designs[node] = design   # spline knots were placed during the comparison
        for i, node in enumerate(todo):
            check_cancel(progress)
            if progress is not None:
                progress.step(f"fitting mechanism of {node}", 0.5 + 0.5 * i / max(1, len(todo)))
            self._fit_node(node, values, designs.get(node), chosen.get(node))
        return self

    def _own_rows(self, node: str, n: int) -> np.ndarray | None:
        """The rows ``node``'s mechanism is fitted on (None: all ``n``)."""
        rows = self.fit_rows.get(node)
        if rows is None or (self.only is not None and node not in self.only):
            return None
        rows = np.asarray(rows, dtype=int)
        return rows[(rows >= 0) & (rows < n)]

    def _selection_draws(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Rows (at most _SELECTION_MAX_ROWS) and folds one node's kinds are compared on."""
        idx = np.arange(n)
        if n > _SELECTION_MAX_ROWS:
            idx = np.sort(rng.choice(n, _SELECTION_MAX_ROWS, replace=False))
        return idx, _folds(len(idx), min(self.settings.n_folds, _SELECTION_FOLDS), rng)

    def refit(self, frame: pd.DataFrame, seed: int, nodes: set[str] | None = None,
              incident: pd.DataFrame | None = None) -> StructuralCausalModel:
        """The same model (graph, levels, each node's mechanism kind, the pooling decision)
        fitted anew on other rows, e.g. a bootstrap resample of the reference period.

        Parameters
        ----------
        frame : DataFrame
            The rows to fit on.
        seed : int
            Seeds the new folds (and trees).
        nodes : set of str, optional
            Refit only these nodes (default: every node).
        incident : DataFrame, optional
            The incident rows; needed when some mechanisms were pooled over both periods.

        Returns
        -------
        StructuralCausalModel
        """
        settings = SCMSettings(self.settings.n_folds, self.settings.mechanisms, seed)
        kinds = {n: m.kind for n, m in self.mechanisms_.items()}
        m = StructuralCausalModel(self.graph, self.categorical, self.monotone, settings, only=nodes,
                                  fixed_kinds=kinds, levels=self.levels_).fit(frame)
        pooled = {n for n, r in self.reports_.items() if r.pooled and (nodes is None or n in nodes)}
        if pooled and incident is not None:
            m, _ = pool_invariant_mechanisms(m, incident, nodes, decided=pooled)
        return m

    def _fit_node(self, node: str, values: dict, design: FeatureDesign | None,
                  chosen: tuple[str, dict] | None) -> None:
        parents = self.graph.parents(node)
        cand_r2: dict[str, float] = {}
        own = self._own_rows(node, self.n_reference_) if parents else None
        if own is not None:
            # Fitted where the lab values it involves were measured (the held copies between
            # samples pair a value with the plant of minutes later), cross-fitted on those rows;
            # the design says so, so that a mechanism built on it elsewhere fits there too.
            design.sampled_rows = (own, self.n_reference_)
        if not parents:
            mech = (CategoricalEmpiricalMechanism(node, len(self.levels_[node])) if node in self.categorical
                    else EmpiricalMechanism(node))
        elif node in self.categorical:
            mech = ClassifierMechanism(node, parents, design, len(self.levels_[node]))
        else:
            mono = self._monotone_vector(node, design)
            kind = self.fixed_kinds.get(node)
            if kind is None:
                kind, cand_r2 = chosen
            mech = make_mechanism(kind, node, parents, design, mono, self.settings.seed)
        if own is None:
            mech.fit(values, self.folds_)
        else:
            mech.rows, mech.n_rows_all = own, self.n_reference_
            mech.fit(*mech.on_own_rows(values, self.folds_))
        self.mechanisms_[node] = mech
        self.reports_[node] = MechanismReport(node, mech.kind, parents, mech.oof_r2, cand_r2,
                                              noise_sd=mech.noise_sd)

    def _monotone_vector(self, node: str, design: FeatureDesign) -> list[int] | None:
        cst = [int(self.monotone.get((p, node), 0)) for p in design.numeric]
        cst += [0] * design.n_dummies
        return cst if any(cst) else None



def _select_kind(task) -> tuple[str, dict[str, float], FeatureDesign]:
    """Pick a node's mechanism kind by out-of-fold error on the given rows and folds (a task
    of :func:`~rca_app.core.parallel.run_tasks`); returns the kind, each candidate kind's
    out-of-fold R^2, and the design (spline knots placed on these rows)."""
    node, design, sub, folds, mechanisms, mono, seed = task
    ys = sub[node]
    kinds = [k for k in mechanisms if k in MECHANISM_KINDS]
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
            model = hgb_regressor(mono, seed) if kind == "hgb" else Ridge()
            oof[te] = model.fit(A[tr], ys[tr]).predict(A[te])
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
    return chosen, {k: float(1 - v / var) for k, v in mse.items()}, design


def decode_values(scm, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Arrays in model terms back to a table with the model's levels."""
    return _decode(scm.levels_, scm.graph.nodes, values)


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
# Kinds that extrapolate by a global form (poly2 continues along its tangent outside the rows it
# was fitted on). Trees and splines refitted on both periods put splits or quantile knots inside
# the incident's region, learn it separately and so absorb a real change (on the Tennessee
# Eastman benchmark a 22-sd shift of the true entry point vanished so): they are never pooled.
_POOLABLE = ("linear", "poly2")


def _shift(ref_res: np.ndarray, inc_res: np.ndarray, serial: bool = False) -> tuple[float, float, float]:
    """Incident residual mean shift as (z, reference sds) and the spread ratio; ``serial``: the z
    counts effective rows of a time series (:func:`rca_app.core.autocorrelation.mean_shift_z`)."""
    from rca_app.core.autocorrelation import mean_shift_z

    sd = float(ref_res.std()) or 1.0
    d = float(inc_res.mean()) - float(ref_res.mean())
    return mean_shift_z(ref_res, inc_res, serial), d / sd, float(inc_res.std()) / sd


def pool_invariant_mechanisms(scm: StructuralCausalModel, incident: pd.DataFrame,
                              nodes: set[str] | None = None,
                              decided: set[str] | None = None,
                              serial: bool = False,
                              lab=None) -> tuple[StructuralCausalModel, list[InvarianceCheck]]:
    """Learn from the incident too where a mechanism evidently did not change.

    A mechanism learned on the reference period knows nothing of ranges the reference never
    visited (a threshold the process only crosses during the incident). Its residuals then make
    a sensor look faulty when it merely followed its upstream cause. Under the sparse-mechanism-
    shift view (few mechanisms change in an incident), a sensor that looks anomalous under its
    reference mechanism (residual shift >= 0.25 reference sds and |z| >= 3, or spread >= 1.5x)
    but whose incident rows the *same kind* of mechanism, refitted on both periods, explains
    (shift < 0.2 sds, spread < 1.5x or at most half what the reference mechanism leaves) is taken
    as unchanged: its mechanism is relearned on both periods, and its reference noise is the
    out-of-fold residual of the reference rows. Only globally-shaped kinds (linear, quadratic) are
    pooled; trees and splines could fit the incident's region on its own and hide a real change.

    ``decided``: skip the test and pool exactly these nodes (bootstrap refits keep the decision).
    ``serial``: rows are a time series, so the shift's z counts effective rows (AR(1)).
    ``lab``: the incident as a :class:`~rca_app.core.lab_incident.LabIncident` (its windows those
    the model was fitted on and ``incident``): a lab value's residuals, under either mechanism, are
    compared on its samples, each counted once (:func:`rca_app.core.lab_incident.noise_rows`), not
    on the copies held between them, whose misfit is no change of its mechanism.
    Returns a new SCM (the input is not modified) and the checks made.
    """
    ref_frame_len = scm.n_reference_
    # A mechanism fitted on a lab tag's sampled rows is not pooled: the incident's held copies
    # are no rows to learn it from.
    candidates = [n for n in scm.order_ if n in scm.mechanisms_
                  and scm.mechanisms_[n].kind in _POOLABLE and scm.mechanisms_[n].rows is None
                  and (nodes is None or n in nodes)]
    if len(incident) == 0:
        return scm, []
    inc_values = encode_frame(incident, scm.graph.nodes, scm.levels_)
    read = _residual_rows(scm, lab, candidates)
    under_ref = {}
    for n in candidates:
        m_ref = scm.mechanisms_[n]
        ref_at, inc_at = read[n]
        under_ref[n] = _shift(_at(m_ref.ref_noise, ref_at), _at(inc_values[n] - m_ref.predict(inc_values), inc_at),
                              serial)
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
        ref_at, inc_at = read[n]
        _, shift_pool, ratio = _shift(_at(res[:ref_frame_len], ref_at), _at(res[ref_frame_len:], inc_at))
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


def _residual_rows(scm: StructuralCausalModel, lab, nodes) -> dict[str, tuple[np.ndarray | None, np.ndarray | None]]:
    """Per node, where its residuals are compared: (reference positions, incident positions),
    None for every row; a lab value's samples when ``lab`` carries them."""
    if lab is None:
        return {n: (None, None) for n in nodes}
    from rca_app.core.lab_incident import noise_rows  # here: lab_incident imports the model's queries

    return {n: noise_rows(scm, lab, n) for n in nodes}


def _at(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return values if rows is None else values[rows]


# Queries and edge effects, re-exported: callers import them from here.
from rca_app.core.effects import EdgeEffect, edge_effects  # noqa: E402,F401
from rca_app.core.queries import (  # noqa: E402,F401
    abduct,
    counterfactual,
    interventional_samples,
    propagate,
)

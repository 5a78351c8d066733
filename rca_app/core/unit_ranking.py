"""Rankings for the incident shapes the usual window does not cover.

- :func:`rank_unit`: one bad unit or a short incident (1-4 rows). Restoration per row: each
  ancestor's noise is abducted for the row, one candidate's noise is replaced by reference
  draws, the change is propagated, and the KPI is averaged over the draws. The rows are
  replicated so that even one row averages over thousands of reference draws (and, for flag and
  categorical nodes, over the posterior draws of its own noise); intervals come from the
  bootstrap refits, each with its own reference draws.
- :func:`rank_by_anomaly`: a KPI that never varied in the reference period. Candidates are
  ranked by how anomalous their own noise was in the incident (see
  :mod:`rca_app.core.anomaly_ranking`): an anomaly ranking, not a restoration.
- :func:`simple_graph` and :func:`shrink_mechanisms`: the simpler model of a short reference
  period (fewer parents, linear with shrinkage); :func:`small_sample_factor` and
  :func:`widen_intervals`: its intervals, from refits on few rows, widened by a small-sample
  t-correction.

References
----------
K. Budhathoki, L. Minorics, P. Bloebaum, D. Janzing (2022). Causal structure-based root cause
    analysis of outliers. ICML.
Hoerl, A. E. and Kennard, R. W. (1970). Ridge regression: biased estimation for nonorthogonal
    problems. Technometrics 12(1).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.anomaly_ranking import AnomalyScore, rank_by_own_anomaly, tail_scores
from rca_app.core.lab_incident import noise_rows, own_noise_read
from rca_app.core.lab_reads import held_on_rows
from rca_app.core.mechanisms import REGISTERED_KINDS, LinearMechanism, Ridge
from rca_app.core.queries import incident_abduction
from rca_app.core.records import RootCause
from rca_app.core.rootcause import Incident, RankingResult, evidence_for, rank_root_causes

# Reference draws a unit's restoration averages over (the ranking replicates rows up to 50
# times; the unit's rows are copied so that together they reach this many).
UNIT_DRAWS = 4000
_RANKING_REPLICAS = 50


def replicated_incident(incident: Incident, draws: int = UNIT_DRAWS) -> Incident:
    """The incident with its rows copied so that a restoration averages over ``draws`` draws.

    Parameters
    ----------
    incident : Incident
    draws : int

    Returns
    -------
    Incident
        Same reference rows and KPI means; the incident rows repeated in order.
    """
    n = len(incident.anomaly)
    copies = int(max(1, np.ceil(draws / (n * _RANKING_REPLICAS))))
    rows = pd.concat([incident.anomaly] * copies, ignore_index=True)
    return Incident(incident.target, incident.goal, incident.reference, rows)


def rank_unit(scm, incident: Incident, layout, settings, progress=None) -> RankingResult:
    """Rank the causes of a unit's (or a few rows') KPI by restoration per row.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
        The 1-4 incident rows.
    layout : Layout
    settings : RankingSettings
    progress : Progress, optional

    Returns
    -------
    RankingResult
        As :func:`~rca_app.core.rootcause.rank_root_causes`; the evidence is of the rows
        themselves.
    """
    result = rank_root_causes(scm, replicated_incident(incident), layout, settings, progress=progress)
    # Evidence from the real rows (the copies would give the same means, but not their count).
    for c in result.root_causes:
        c.evidence = evidence_for(scm, incident, c.node)
    return result


def rarity_scores(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Information-theoretic score of categorical levels: ``-log`` of the level's reference share
    (with +1 so that a level never seen scores finitely), on the scale of :func:`tail_scores`."""
    ref = np.asarray(reference).astype(np.int64)
    counts = np.bincount(ref, minlength=int(max(ref.max(initial=0), np.max(values, initial=0))) + 1)
    return -np.log((counts[np.asarray(values, dtype=np.int64)] + 1) / (len(ref) + 1))


def anomaly_candidates(layout, target: str, nodes) -> list[str]:
    """Sensors that could reach a KPI whose causes cannot be learned: every sensor at the KPI's
    station or upstream of it (the layout's flow order), in the given order."""
    tier = layout.tier_of(target)
    return [n for n in nodes if n != target and layout.tier_of(n) <= tier]


def rank_by_anomaly(scm, incident: Incident, layout, candidates: list[str]) -> tuple[RankingResult, list]:
    """Rank ``candidates`` by how anomalous their own noise was in the incident rows.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted on the reference rows.
    incident : Incident
    layout : Layout
    candidates : list of str

    Returns
    -------
    (RankingResult, list of (AnomalyScore, float))
        Root causes in score order with undefined restorations and refit shares (NaN: this is
        not a restoration); and each score with the share of incident rows on which the
        candidate scored highest.
    """
    ab = incident_abduction(scm, incident.anomaly)
    numeric = [k for k in candidates if k in scm.mechanisms_ and not scm.mechanisms_[k].categorical]
    # A lab value's own noise on its samples, each counted once, against its reference noise on the
    # same kind of rows (core/lab_incident.py): the held copies between samples are no behaviour of its own.
    read = {k: own_noise_read(scm, incident, k) for k in numeric}
    scores = rank_by_own_anomaly({k: read[k][1] for k in numeric}, {k: read[k][0] for k in numeric}, numeric)
    n_rows = len(incident.anomaly)
    per_row = {}
    for a in scores:
        s = tail_scores(read[a.node][1], read[a.node][0])
        _, rows = noise_rows(scm, incident, a.node)
        # Which sensor scored highest on each row: a lab value's score holds from its sample to the next.
        per_row[a.node] = s if rows is None else held_on_rows(s, rows, n_rows)
    for k in candidates:
        mech = scm.mechanisms_.get(k)
        if mech is None or not mech.categorical or mech.parents:
            continue   # a categorical node with causes has no comparable noise score
        s = rarity_scores(mech.ref_noise, ab.values[k])
        per_row[k] = s
        share = float(np.mean(np.exp(-s)))
        scores.append(AnomalyScore(k, float(s.mean()), share, float("nan")))
    scores.sort(key=lambda a: -a.score)
    if per_row:
        names = list(per_row)
        stacked = np.vstack([per_row[k] for k in names])
        first = np.argmax(np.where(np.isnan(stacked), -np.inf, stacked), axis=0)
        share_first = {k: float(np.mean(first == i)) for i, k in enumerate(names)}
    else:
        share_first = {}
    controllable = set(getattr(layout, "controllable", []))
    nan = float("nan")
    # No restoration and no refits: both stay undefined rather than borrow another meaning.
    causes = [RootCause(a.node, layout.station_of(a.node), nan, (nan, nan), nan,
                        a.node in controllable, a.node in scm.categorical, evidence_for(scm, incident, a.node))
              for a in scores]
    return RankingResult(causes, [], [], []), [(a, share_first.get(a.node, 0.0)) for a in scores]


def simple_graph(graph, reference: pd.DataFrame, categorical, n_parents: int, required=()):
    """The graph with each node's parents cut to the ``n_parents`` strongest.

    Strength: the parent's standardised least-squares coefficient with the node's other parents
    (categorical parents rank after numeric ones). Edges the layout requires are always kept.

    Parameters
    ----------
    graph : CausalGraph
    reference : DataFrame
    categorical : iterable of str
    n_parents : int
    required : iterable of (str, str)

    Returns
    -------
    (CausalGraph, list of (str, str))
        The simpler graph and the edges left out.
    """
    categorical = set(categorical)
    required = set(map(tuple, required))
    keep: list = []      # edges
    dropped: list = []
    for node in graph.nodes:
        parents = graph.parents(node)
        if len(parents) <= n_parents or node in categorical:
            keep += [e for e in graph.edges if e.target == node]
            continue
        numeric = [p for p in parents if p not in categorical]
        strength = {p: -1.0 for p in parents}
        if numeric:
            X = reference[numeric].to_numpy(float)
            X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
            y = reference[node].to_numpy(float)
            y = (y - y.mean()) / (y.std() or 1.0)
            beta = Ridge().fit(X, y).coef_
            strength.update({p: abs(float(b)) for p, b in zip(numeric, beta, strict=True)})
        ranked = sorted(parents, key=lambda p: (0 if (p, node) in required else 1, -strength[p]))
        chosen = set(ranked[:n_parents]) | {p for p in parents if (p, node) in required}
        for e in graph.edges:
            if e.target == node:
                (keep if e.source in chosen else dropped).append(e)
    return graph.with_edges(keep), [e.key for e in dropped]


class _PenalisedRidge(Ridge):
    """Least squares with a ridge penalty ``alpha`` on the (standardised) coefficients."""

    def __init__(self, alpha: float):
        self.alpha = alpha

    def fit(self, A, y, weights=None):
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
        self.mean_ = (w @ A) / w.sum() if A.shape[1] else np.zeros(0)
        self.intercept_ = float(w @ y / w.sum())
        if A.shape[1]:
            Ac = A - self.mean_
            Aw = Ac * w[:, None]
            G = Aw.T @ Ac + self.alpha * np.eye(A.shape[1])
            self.coef_ = np.linalg.solve(G, Aw.T @ (y - self.intercept_))
        else:
            self.coef_ = np.zeros(0)
        return self


class ShrunkLinearMechanism(LinearMechanism):
    """A linear mechanism with a ridge penalty chosen by leave-one-out error (short reference
    periods: shrinkage trades a little bias for much less variance).

    Parameters
    ----------
    node : str
    parents : list of str
    design : FeatureDesign
    alpha : float or None
        Ridge penalty on the standardised coefficients; None: chosen by leave-one-out error
        (:func:`loo_alpha`) on the rows it is fitted on.
    """

    kind = "ridge"

    def __init__(self, node, parents, design, alpha: float | None = 1.0):
        super().__init__(node, parents, design)
        # None: built by its kind's name (a refit from scratch on resampled rows), the penalty is
        # chosen on the rows it is fitted on, as the main fit chose it on the reference rows.
        self.choose_alpha = alpha is None
        self.alpha = 1.0 if alpha is None else float(alpha)

    def _new_model(self):
        return _PenalisedRidge(self.alpha)

    def fit(self, values, folds):
        if self.choose_alpha:
            self.alpha = loo_alpha(self.features(values), values[self.node])
        return super().fit(values, folds)

    def weighted_refit(self, values, blocks, block_weights, seed=0):
        G, c = self.block_stats(values, blocks)
        w = np.asarray(block_weights, dtype=float)[np.unique(blocks)]
        Gw = np.tensordot(w, G, axes=1)
        pen = self.alpha * np.eye(Gw.shape[0])
        pen[0, 0] = 0.0
        beta = np.linalg.lstsq(Gw + pen, w @ c, rcond=None)[0]
        new = self._refit_copy()
        new.intercept_, new.coef_ = float(beta[0]), beta[1:]
        return new


def loo_alpha(A: np.ndarray, y: np.ndarray, alphas=None) -> float:
    """The ridge penalty with the smallest leave-one-out error (closed form via the hat matrix)."""
    alphas = np.logspace(-2, 3, 11) if alphas is None else alphas
    Ac = A - A.mean(axis=0)
    yc = y - y.mean()
    best, best_err = float(alphas[0]), np.inf
    for a in alphas:
        H = Ac @ np.linalg.solve(Ac.T @ Ac + a * np.eye(A.shape[1]), Ac.T)
        resid = (yc - H @ yc) / np.clip(1 - np.diag(H) - 1 / len(y), 1e-6, None)
        err = float(np.mean(resid ** 2))
        if err < best_err:
            best, best_err = float(a), err
    return best


def small_sample_factor(n_reference: int) -> float:
    """How much a 90% bootstrap interval is widened on a short reference period.

    The refits resample (or reweight) ``B`` blocks of about n^(1/3) consecutive reference rows,
    the units of the bootstrap (:func:`~rca_app.core.uncertainty.row_blocks`). With few units a
    percentile interval is too narrow on two counts: the bootstrap spread is the plug-in one,
    ``(B - 1) / B`` of the unbiased variance, and an estimate whose spread is itself estimated
    from ``B`` units follows Student's t with ``B - 1`` degrees of freedom rather than the normal.
    Both are undone by ``t(0.95, B - 1) / z(0.95) * sqrt(B / (B - 1))`` (1.16 for 33 rows, 11
    blocks; 1.04 for 300 rows).

    Parameters
    ----------
    n_reference : int
        Reference rows the model was fitted on.

    Returns
    -------
    float
        The factor (at least 1).

    References
    ----------
    Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap, ch. 13 and 14
        (the narrowness bias of percentile intervals and its t-based correction).
    """
    from scipy.stats import norm, t

    from rca_app.core.uncertainty import row_blocks

    blocks = int(row_blocks(max(2, int(n_reference)))[-1]) + 1
    if blocks < 2:
        return 1.0
    return float(max(1.0, t.ppf(0.95, blocks - 1) / norm.ppf(0.95) * np.sqrt(blocks / (blocks - 1))))


def _widened(ci, factor: float) -> tuple[float, float]:
    lo, hi = ci
    centre = (lo + hi) / 2      # about the interval's own centre: it keeps its skew
    return (centre - factor * (centre - lo), centre + factor * (hi - centre))


def widen_intervals(causes, actions, factor: float) -> None:
    """Widen intervals (in place) by ``factor`` about their centres: the causes' restorations and
    the actions' predicted KPI and restoration (see :func:`small_sample_factor`).

    Parameters
    ----------
    causes : list of RootCause
        A cause listed twice (the same object) is widened once.
    actions : list of Action
    factor : float
    """
    seen = set()
    for c in causes:
        if id(c) not in seen:
            seen.add(id(c))
            c.restoration_ci = _widened(c.restoration_ci, factor)
    for a in actions:
        a.restoration_ci = _widened(a.restoration_ci, factor)
        a.predicted_target_ci = _widened(a.predicted_target_ci, factor)


def _ridge_factory(node, parents, design, monotone=None, seed=0):
    return ShrunkLinearMechanism(node, parents, design, alpha=None)


REGISTERED_KINDS["ridge"] = _ridge_factory


def shrink_mechanisms(scm):
    """Replace every linear mechanism of a fitted ``scm`` (in place) by a shrunk one.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted with linear mechanisms only.

    Returns
    -------
    StructuralCausalModel
        ``scm`` itself.
    """
    values, folds = scm.reference_values_, scm.folds_
    for node, mech in list(scm.mechanisms_.items()):
        if mech.kind != "linear" or not mech.parents:
            continue
        A = mech.features(values)
        new = ShrunkLinearMechanism(node, mech.parents, mech.design, loo_alpha(A, values[node])).fit(values, folds)
        scm.mechanisms_[node] = new
        rep = scm.reports_[node]
        rep.kind, rep.oof_r2, rep.noise_sd = new.kind, new.oof_r2, new.noise_sd
        rep.candidates = {"ridge": new.oof_r2 if new.oof_r2 is not None else float("nan")}
    scm.__dict__.pop("_abductions", None)
    return scm

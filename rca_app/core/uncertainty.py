"""Bootstrap intervals of the ranking: refits of the fitted model on reweighted reference rows.

Two methods (``RankingSettings.interval_method``):

``"weighted"`` (default): a Bayesian block bootstrap. The reference rows are cut into blocks of
consecutive rows (about n^(1/3) rows, at most 500 blocks), each block gets an Exp(1) weight, and
every mechanism the ranking needs is refitted with those row weights. Mechanisms linear in their
features (linear, quadratic, splines) are refitted as one weighted least-squares solve from
per-block cross-products built once; trees and classifiers are refitted with sample weights.
A refit keeps its main mechanism's out-of-fold noise, moved by the change of the fit, so no
cross-fitting is repeated. Reference draws and the KPI's reference mean use the same weights.

``"resample"``: the former method. Each refit fits the model from scratch (K-fold cross-fitted)
on a moving-block resample of the reference rows. Kept to compare calibration.

Refits are independent tasks with their own seeds (:func:`~rca_app.core.parallel.task_seeds`)
run by :func:`~rca_app.core.parallel.run_tasks`, so the result is the same for any number of
workers.

References
----------
Rubin, D. B. (1981). The Bayesian bootstrap. The Annals of Statistics 9(1).
Künsch, H. R. (1989). The jackknife and the bootstrap for general stationary observations.
The Annals of Statistics 17(3).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from rca_app.core.encoding import encode_frame
from rca_app.core.parallel import ParallelSettings, effective_jobs, run_tasks, task_seeds
from rca_app.core.progress import Progress

# Blocks of the weighted bootstrap: about n^(1/3) rows, but never more than this many blocks
# (the per-block cross-products are kept in memory, and longer blocks only respect more
# autocorrelation).
MAX_BLOCKS = 500


def row_blocks(n_rows: int, max_blocks: int = MAX_BLOCKS) -> np.ndarray:
    """Block number of each of ``n_rows`` consecutive rows (non-decreasing)."""
    length = max(1, int(round(n_rows ** (1 / 3))), int(np.ceil(n_rows / max_blocks)))
    return np.arange(n_rows) // length


def block_weights(n_blocks: int, rng: np.random.Generator) -> np.ndarray:
    """Exp(1) weights scaled to mean 1: one Bayesian bootstrap draw over blocks."""
    w = rng.exponential(1.0, n_blocks)
    return w * (n_blocks / w.sum())


@dataclass
class WeightedDraw:
    """One weighted refit's randomness: its seed and its blocks' weights."""

    seed: int
    weights: np.ndarray     # per reference block


class BootstrapContext:
    """What every weighted refit needs, prepared once in this process.

    Parameters
    ----------
    scm : StructuralCausalModel
        The fitted (possibly pooled) model.
    incident : DataFrame
        The incident rows (pooled mechanisms were trained on reference + incident rows).
    nodes : list of str
        Nodes to refit (the ranking's candidates).
    """

    def __init__(self, scm, incident: pd.DataFrame, nodes: list[str]):
        self.scm = scm
        self.nodes = [n for n in nodes if n in scm.mechanisms_]
        self.ref_blocks = row_blocks(scm.n_reference_)
        self.n_blocks = int(self.ref_blocks[-1]) + 1 if len(self.ref_blocks) else 0
        self.pooled = {n for n in self.nodes if scm.reports_[n].pooled}
        self.pooled_values = None
        self.pooled_blocks = None
        if self.pooled:
            inc = encode_frame(incident, scm.graph.nodes, scm.levels_)
            ref = scm.reference_values_
            self.pooled_values = {k: np.concatenate([ref[k], inc[k]]) for k in ref}
            # The incident rows are one more block whose weight stays 1: they are not resampled.
            self.pooled_blocks = np.concatenate([self.ref_blocks, np.full(len(incident), self.n_blocks)])
        # Build the per-block cross-products now, once, rather than in every worker.
        for n in self.nodes:
            mech = scm.mechanisms_[n]
            if hasattr(mech, "block_stats"):
                mech.block_stats(*self.training(n))

    def training(self, node: str) -> tuple[dict, np.ndarray]:
        if node in self.pooled:
            return self.pooled_values, self.pooled_blocks
        return self.scm.reference_values_, self.ref_blocks

    def draws(self, seed: int, n: int) -> list[WeightedDraw]:
        return [WeightedDraw(s, block_weights(self.n_blocks, np.random.default_rng(s))) for s in task_seeds(seed, n)]

    def refit_mechanisms(self, draw: WeightedDraw) -> dict:
        """The candidates' mechanisms refitted under one draw's weights."""
        out = {}
        for i, n in enumerate(self.nodes):
            values, blocks = self.training(n)
            w = draw.weights if n not in self.pooled else np.append(draw.weights, 1.0)
            out[n] = self.scm.mechanisms_[n].weighted_refit(values, blocks, w, seed=draw.seed + i)
        return out

    def model(self, draw: WeightedDraw, mechanisms: dict):
        """The fitted model with ``mechanisms`` swapped in, for one weighted draw."""
        return weighted_model(self.scm, mechanisms, draw.seed, draw.weights[self.ref_blocks])


def weighted_model(scm, mechanisms: dict, seed: int, row_weights: np.ndarray):
    """A shallow copy of ``scm`` with refitted ``mechanisms`` and the reference rows' weights
    (``bootstrap_weights_``), seeded ``seed`` (its own abduction stream)."""
    m = copy.copy(scm)
    m.__dict__.pop("_abductions", None)
    m.settings = replace(scm.settings, seed=seed)
    m.mechanisms_ = dict(scm.mechanisms_)
    for n, mech in mechanisms.items():
        if mech.main is None and mech is not scm.mechanisms_[n]:
            mech.attach_main(scm.mechanisms_[n])
        m.mechanisms_[n] = mech
    m.bootstrap_weights_ = row_weights
    return m


def weighted_reference_mean(values: np.ndarray, row_weights: np.ndarray | None) -> float:
    if row_weights is None:
        return float(np.mean(values))
    return float(row_weights @ values / row_weights.sum())


def _weighted_chunk(args):
    """Worker task: refit a few draws; returns each draw's refitted mechanisms and its scores."""
    ctx, draws, incident, score = args
    out = []
    for d in draws:
        mechs = ctx.refit_mechanisms(d)
        m = ctx.model(d, mechs)
        ref_mean = weighted_reference_mean(incident.reference[incident.target].to_numpy(float), m.bootstrap_weights_)
        out.append((mechs, score(m, incident, ref_mean)))
    return out


def _resample_chunk(args):
    scm, items, incident, nodes, score = args
    out = []
    for idx, seed in items:
        sample = incident.reference.iloc[idx].reset_index(drop=True)
        try:
            m = scm.refit(sample, seed, set(nodes), incident.anomaly)
        except (np.linalg.LinAlgError, ValueError):
            out.append(None)  # a degenerate resample (a level missing, a constant column)
            continue
        out.append((m, score(m, incident, float(sample[incident.target].mean()))))
    return out


def _chunks(items: list, n_jobs: int, per_task: int | None) -> list[list]:
    """One item per task in this process (cancel acts between refits); a few per task when
    they travel to workers (the model is pickled once per task)."""
    size = 1 if n_jobs == 1 else (per_task or max(1, int(np.ceil(len(items) / (8 * n_jobs)))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def bootstrap_models(scm, incident, nodes: list[str], n: int, seed: int, score, method: str = "weighted",
                     parallel: ParallelSettings | None = None, progress: Progress | None = None,
                     block_resample=None) -> list[tuple]:
    """``n`` refits of ``scm`` and ``score(model, incident, reference_mean)`` for each, in order.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    nodes : list of str
        Nodes to refit (the ranking's candidates).
    n : int
        Number of refits.
    seed : int
    score : callable
        Picklable ``score(model, incident, reference_mean)`` (run in the workers), e.g. a
        ``functools.partial`` of a module-level function.
    method : {"weighted", "resample"}
    parallel : ParallelSettings, optional
    progress : Progress, optional
    block_resample : callable, optional
        ``block_resample(n_rows, rng)`` row indices (the resample method).

    Returns
    -------
    list of (model, score) tuples; failed refits are left out.
    """
    parallel = parallel or ParallelSettings()
    msg = "uncertainty: refits on reweighted reference rows"
    if n <= 0:
        return []
    if method == "weighted":
        ctx = BootstrapContext(scm, incident.anomaly, nodes)
        draws = ctx.draws(seed, n)
        jobs = 1 if parallel.scheduler is None and effective_jobs(parallel, n) == 1 else max(2, parallel.n_jobs or 2)
        chunks = _chunks(draws, jobs, None)
        results = run_tasks(_weighted_chunk, [(ctx, c, incident, score) for c in chunks], parallel, progress, msg)
        out = []
        for chunk, res in zip(chunks, results, strict=True):
            for d, (mechs, sc) in zip(chunk, res, strict=True):
                out.append((ctx.model(d, mechs), sc))
        return out
    if method != "resample":
        raise ValueError(f"unknown interval method '{method}' (weighted or resample)")
    rng = np.random.default_rng(seed + 1)
    items = [(block_resample(len(incident.reference), rng), seed + 100 + b) for b in range(n)]
    jobs = 1 if parallel.scheduler is None and effective_jobs(parallel, n) == 1 else max(2, parallel.n_jobs or 2)
    chunks = _chunks(items, jobs, None)
    results = run_tasks(_resample_chunk, [(scm, c, incident, nodes, score) for c in chunks], parallel, progress,
                        "uncertainty: refits on resampled reference rows")
    return [r for res in results for r in res if r is not None]

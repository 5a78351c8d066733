"""Which shape of mechanism carries the change to the KPI? The model uncertainty of the impact.

A setpoint moved by a few of its sds takes its downstream sensors to the edge of the range the
reference period visited, and past it. There the effect rests on the *shape* of each mechanism
on the path from the changed node to the KPI (a line, a quadratic, a spline that goes on
linearly), and the data near the edge cannot tell the shapes apart well: a saturating curve
fitted with a line, or a threshold fitted with a quadratic, gives an effect that is off by much
more than the refits of the chosen kind spread (they keep the kind fixed). The kind chosen for
the analysis is one pick among kinds whose out-of-fold errors are about equal.

So for each numeric node on a path from the changed node to the KPI, every least-squares kind
(linear, quadratic, additive splines) is fitted on the same rows and folds, and the kinds whose
out-of-fold squared errors are not clearly worse than the best (a one-sided test of the per-row
difference, rows counted by their autocorrelation) form the node's set of competitive kinds: a
confidence set of models. Each bootstrap refit of the impact then draws one kind per node from
its set (uniformly) and refits it under the refit's row weights, so the effect's interval
spreads over the shapes the data cannot reject as well as over the rows (bootstrap model
averaging). The point estimate stays the chosen model's.

References
----------
S. T. Buckland, K. P. Burnham, N. H. Augustin (1997). Model selection: an integral part of
    inference. Biometrics 53, 603-618 (bootstrap over the model selection step).
P. R. Hansen, A. Lunde, J. M. Nason (2011). The model confidence set. Econometrica 79, 453-497.
B. Efron (2014). Estimation and accuracy after model selection. JASA 109, 991-1007.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from rca_app.core.autocorrelation import integrated_autocorrelation_time
from rca_app.core.mechanisms import make_mechanism
from rca_app.core.uncertainty import block_weights, row_blocks

# Nodes whose chosen kind is fitted by least squares on fixed features get alternatives (their
# weighted refits are cheap; trees hold constant past the range and are left as they are).
LEAST_SQUARES_KINDS = ("linear", "poly2", "spline")
# The alternatives tried: the global shapes. A spline that fits the reference rows no better
# than a line or a quadratic adds only its continuation past its outer knots, along a slope the
# few rows at the edge decide, which is noise rather than evidence; a spline the data prefer
# is the chosen kind and stays.
ALTERNATIVE_KINDS = ("linear", "poly2")
# A kind is competitive unless its out-of-fold squared error is larger than the best kind's by
# this many standard errors (one-sided 5%).
COMPETITIVE_Z = 1.645


@dataclass
class KindSet:
    """One node's competitive mechanism kinds, fitted, and the rows their refits learn from."""

    node: str
    mechanisms: list            # the model's own mechanism first, then the competitive others
    kinds: list[str]
    oof_mse: dict[str, float] = field(default_factory=dict)
    values: dict | None = None  # training rows (reference, or reference + incident if pooled)
    blocks: np.ndarray | None = None
    pooled: bool = False


def path_nodes(scm, changed: str, target: str) -> list[str]:
    """Numeric nodes with parents on a directed path from ``changed`` to ``target`` (the KPI
    included), in causal order."""
    g = scm.graph
    up = g.ancestors(target) | {target}
    return [n for n in scm.order_ if n != changed and changed in g.ancestors(n) and n in up
            and n in scm.mechanisms_ and not scm.mechanisms_[n].categorical and g.parents(n)]


def _folds(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % k)


def competitive_kinds(scm, changed: str, target: str, incident_values: dict | None = None,
                      z: float = COMPETITIVE_Z) -> dict[str, KindSet]:
    """For each node on a path from ``changed`` to the KPI, the kinds the reference rows cannot
    tell from the best (see the module docstring). Nodes with one competitive kind are left out.

    Parameters
    ----------
    scm : StructuralCausalModel
    changed, target : str
    incident_values : dict, optional
        The incident rows, encoded (mechanisms pooled over both periods learn from them too).
    z : float
        A kind is competitive unless its mean out-of-fold squared error exceeds the best's by
        more than ``z`` standard errors.

    Returns
    -------
    dict of str to KindSet
    """
    out: dict[str, KindSet] = {}
    for node in path_nodes(scm, changed, target):
        main = scm.mechanisms_[node]
        report = scm.reports_.get(node)
        pooled = bool(getattr(report, "pooled", False))
        if main.kind not in LEAST_SQUARES_KINDS or (pooled and incident_values is None):
            continue
        design = getattr(main, "design", None)
        if design is None or not design.numeric or scm._monotone_vector(node, design) is not None:
            continue    # a declared monotone mechanism: quadratics and free splines cannot promise it
        values = scm.reference_values_
        folds = scm.folds_
        if pooled and incident_values is not None:
            inc = incident_values
            values = {k: np.concatenate([values[k], inc[k]]) for k in values}
            folds = _folds(len(values[node]), int(folds.max()) + 1, scm.settings.seed)
        fitted = {}
        for kind in dict.fromkeys((main.kind, *ALTERNATIVE_KINDS)):
            if kind == main.kind and not pooled:
                fitted[kind] = main
                continue
            try:
                fitted[kind] = make_mechanism(kind, node, list(main.parents), design, None,
                                              scm.settings.seed).fit(values, folds)
            except (np.linalg.LinAlgError, ValueError):
                continue
        sq = {k: np.asarray(m.ref_noise, dtype=float) ** 2 for k, m in fitted.items()}
        mse = {k: float(v.mean()) for k, v in sq.items()}
        best = min(mse, key=lambda k: mse[k])
        keep = []
        for k in fitted:
            d = sq[k] - sq[best]
            if k == best or not np.any(d):
                keep.append(k)
                continue
            se = float(np.std(d)) * np.sqrt(max(integrated_autocorrelation_time(d), 1.0) / len(d))
            if float(d.mean()) <= z * se:
                keep.append(k)
        if main.kind not in keep:
            keep.append(main.kind)     # the model's own kind always stays in its set
        if len(keep) < 2:
            continue
        others = [k for k in keep if k != main.kind]
        n_ref = scm.n_reference_
        blocks = row_blocks(n_ref)
        if pooled:
            # The incident rows are one more block whose weight stays 1 (as in the refits).
            blocks = np.concatenate([blocks, np.full(len(values[node]) - n_ref, blocks[-1] + 1)])
        out[node] = KindSet(node, [main] + [fitted[k] for k in others], [main.kind] + others, mse, values,
                            blocks, pooled)
    return out


def _block_weights_of(model, blocks_ref: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The block weights of a weighted refit (one per reference block), from its row weights;
    a fresh Bayesian bootstrap draw when the refit carries none (a resample refit)."""
    n_blocks = int(blocks_ref[-1]) + 1
    w = getattr(model, "bootstrap_weights_", None)
    if w is None or len(w) != len(blocks_ref):
        return block_weights(n_blocks, rng)
    starts = np.r_[0, np.flatnonzero(np.diff(blocks_ref)) + 1]
    return np.asarray(w, dtype=float)[starts]


def model_with_drawn_kinds(model, kind_sets: dict[str, KindSet], rng: np.random.Generator, seed: int):
    """A refit ``model`` with, for each node in ``kind_sets``, one competitive kind drawn
    uniformly and refitted under the refit's row weights (the model itself when every draw
    is its own kind).

    Parameters
    ----------
    model : StructuralCausalModel
        A bootstrap refit of the investigation's model.
    kind_sets : dict of str to KindSet
    rng : numpy.random.Generator
    seed : int
        For the refits.

    Returns
    -------
    (StructuralCausalModel, dict of str to str)
        The model and the kind used at each node of ``kind_sets``.
    """
    used = {}
    swap = {}
    bw = None
    for i, (node, ks) in enumerate(kind_sets.items()):
        j = int(rng.integers(len(ks.kinds)))
        used[node] = ks.kinds[j]
        if j == 0:
            continue
        if bw is None:
            bw = _block_weights_of(model, row_blocks(model.n_reference_), rng)
        w = np.append(bw, 1.0) if ks.pooled else bw
        swap[node] = ks.mechanisms[j].weighted_refit(ks.values, ks.blocks, w, seed=seed + i)
    if not swap:
        return model, used
    m = copy.copy(model)
    m.__dict__.pop("_abductions", None)
    m.mechanisms_ = dict(model.mechanisms_)
    m.mechanisms_.update(swap)
    return m, used

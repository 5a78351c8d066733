"""Average causal effect of each edge by partialling out (double/debiased ML).

References
----------
Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and structural
parameters. The Econometrics Journal 21(1).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from rca_app.core.encoding import FeatureDesign, dummy_columns, encode_frame


@dataclass
class EdgeEffect:
    source: str
    target: str
    effect: float            # per unit of the source; categorical: the largest level contrast
    std_error: float | None
    level_effects: dict[str, float] | None = None  # categorical source: level -> effect vs baseline

    def to_dict(self) -> dict:
        return asdict(self)


class _FoldStats:
    """Per-fold cross-products of a child's nuisance features ``A`` and the columns ``Y`` to
    partial out (the child, its parents), computed once per child.

    Cross-fitting a ridge of one ``Y`` column on a subset of ``A``'s columns then needs no pass
    over the rows but the prediction: a fold's training statistics are the totals minus its
    own, and each edge's nuisance features (the other parents' polynomial) are a column subset
    of the child's. Rows are taken in fold order (contiguous slices) and every column is shifted
    by its overall mean first, so the centring by training means loses no precision.
    """

    def __init__(self, A: np.ndarray, Y: np.ndarray, bounds: list[tuple[int, int]]):
        self.A = A - A.mean(axis=0) if A.shape[1] else A
        self.Y = Y - Y.mean(axis=0)
        self.bounds = bounds
        self.s_a = np.array([self.A[a:b].sum(axis=0) for a, b in bounds])
        self.s_y = np.array([self.Y[a:b].sum(axis=0) for a, b in bounds])
        self.s_aa = np.array([self.A[a:b].T @ self.A[a:b] for a, b in bounds])
        self.s_ay = np.array([self.A[a:b].T @ self.Y[a:b] for a, b in bounds])

    def residuals(self, cols: np.ndarray, ys: list[int]) -> np.ndarray:
        """Out-of-fold residuals of ``Y[:, ys]`` on ``A[:, cols]``: the same fits as one
        :class:`~rca_app.core.mechanisms.Ridge` per fold and column."""
        n = len(self.Y)
        out = np.empty((n, len(ys)))
        tot_a, tot_y = self.s_a.sum(axis=0)[cols], self.s_y.sum(axis=0)[ys]
        tot_aa = self.s_aa.sum(axis=0)[np.ix_(cols, cols)]
        tot_ay = self.s_ay.sum(axis=0)[np.ix_(cols, np.asarray(ys))]
        p = len(cols)
        for k, (a, b) in enumerate(self.bounds):
            n_tr = n - (b - a)
            mu_a = (tot_a - self.s_a[k, cols]) / n_tr
            mu_y = (tot_y - self.s_y[k, ys]) / n_tr
            pred = np.broadcast_to(mu_y, (b - a, len(ys)))
            if p:
                G = tot_aa - self.s_aa[k][np.ix_(cols, cols)] - n_tr * np.outer(mu_a, mu_a) + 1e-8 * n_tr * np.eye(p)
                rhs = tot_ay - self.s_ay[k][np.ix_(cols, np.asarray(ys))] - n_tr * np.outer(mu_a, mu_y)
                pred = pred + (self.A[a:b, cols] - mu_a) @ np.linalg.solve(G, rhs)
            out[a:b] = self.Y[a:b, ys] - pred
        return out


def _poly2_labels(design: FeatureDesign) -> list[set[str]]:
    """The parents each column of ``design.poly2`` is made of, in its column order."""
    num = design.numeric
    i, j = np.triu_indices(len(num))
    labels = [{p} for p in num] + [{num[a], num[b]} for a, b in zip(i, j, strict=True)]
    for p, lv in design.levels.items():
        labels += [{p}] * (len(lv) - 1)
    return labels


def edge_effects(scm, frame: pd.DataFrame | None = None) -> list[EdgeEffect]:
    """Average causal effect of each edge into a numeric node.

    The child's other parents are partialled out of both the child and the parent with
    cross-fitted nuisance models (degree-2 polynomials), then residual is regressed on residual
    (the partially linear model). A categorical parent gets one effect per level against the
    encoder's baseline level, and its largest contrast as the edge's effect.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted; its folds and levels are used.
    frame : DataFrame, optional
        Rows to estimate on (default: the reference rows the model was fitted on).

    Returns
    -------
    list of EdgeEffect
    """
    values = scm.reference_values_ if frame is None else encode_frame(frame, scm.graph.nodes, scm.levels_)
    folds = scm.folds_
    # Rows in fold order: every fold is a contiguous slice (the estimates are sums over rows).
    perm = np.argsort(folds, kind="stable")
    ends = np.cumsum(np.bincount(folds))
    bounds = [(int(a), int(b)) for a, b in zip(np.r_[0, ends[:-1]], ends, strict=True)]
    values = {k: v[perm] for k, v in values.items()}
    per_child: dict[str, tuple] = {}
    out = []
    for e in scm.graph.edges:
        child, src = e.target, e.source
        if child in scm.categorical or child not in scm.mechanisms_:
            continue
        if child not in per_child:
            per_child[child] = _child_stats(scm, child, values, bounds)
        stats, labels, y_cols = per_child[child]
        cols = np.array([c for c, lab in enumerate(labels) if src not in lab], dtype=int)
        if src in scm.categorical:
            lv = scm.levels_[src]
            if len(lv) < 2:
                continue
            # The child and every dummy column partialled out together (same fits, same folds).
            res = stats.residuals(cols, [0] + y_cols[src])
            y_res, D_res = res[:, 0], res[:, 1:]
            theta, *_ = np.linalg.lstsq(D_res, y_res, rcond=None)
            levels = {lv[0]: 0.0, **{lv[k]: float(theta[k - 1]) for k in range(1, len(lv))}}
            contrast = max(levels.values()) - min(levels.values())
            out.append(EdgeEffect(src, child, float(contrast), None, levels))
            continue
        y_res, x_res = stats.residuals(cols, [0] + y_cols[src]).T
        denom = float(x_res @ x_res)
        if denom <= 0:
            continue
        theta = float(x_res @ y_res) / denom
        psi = (y_res - theta * x_res) * x_res
        n = len(x_res)
        se = float(np.sqrt(np.mean(psi**2)) / (denom / n) / np.sqrt(n))
        out.append(EdgeEffect(src, child, theta, se))
    return out


def _child_stats(scm, child: str, values: dict, bounds) -> tuple[_FoldStats, list[set[str]], dict[str, list[int]]]:
    """Fold statistics of a child's full nuisance polynomial against the child and each parent
    (a numeric parent's values, a categorical one's dummy columns)."""
    parents = scm.graph.parents(child)
    design = FeatureDesign(parents, scm.levels_, values)
    ys, y_cols, width = [values[child][:, None]], {}, 1
    for p in parents:
        col = dummy_columns(values[p], len(scm.levels_[p])) if p in scm.categorical else values[p][:, None]
        y_cols[p] = list(range(width, width + col.shape[1]))
        width += col.shape[1]
        ys.append(col)
    Y = np.hstack(ys)
    return _FoldStats(design.poly2(values), Y, bounds), _poly2_labels(design), y_cols

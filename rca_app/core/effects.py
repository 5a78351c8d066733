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
from rca_app.core.mechanisms import Ridge


@dataclass
class EdgeEffect:
    source: str
    target: str
    effect: float            # per unit of the source; categorical: the largest level contrast
    std_error: float | None
    level_effects: dict[str, float] | None = None  # categorical source: level -> effect vs baseline

    def to_dict(self) -> dict:
        return asdict(self)


def _crossfit_residual(A: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    r = np.empty_like(y)
    for k in range(folds.max() + 1):
        tr, te = folds != k, folds == k
        r[te] = y[te] - (y[tr].mean() if A.shape[1] == 0 else Ridge().fit(A[tr], y[tr]).predict(A[te]))
    return r


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
    out = []
    for e in scm.graph.edges:
        child, src = e.target, e.source
        if child in scm.categorical or child not in scm.mechanisms_:
            continue
        others = [p for p in scm.graph.parents(child) if p != src]
        W = FeatureDesign(others, scm.levels_, values).poly2(values) if others else np.zeros((len(folds), 0))
        y_res = _crossfit_residual(W, values[child], folds)
        if src in scm.categorical:
            lv = scm.levels_[src]
            D = dummy_columns(values[src], len(lv))
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

"""How many parents the simpler model keeps per sensor on a time series: chosen by blocked
cross-validation on the reference.

A short reference gets a simpler model (:mod:`rca_app.core.incident_shapes`): linear with
shrinkage and at most a few parents per sensor. On independent rows the cap is the rule of thumb of
ten rows per coefficient. On a time series that rule must be applied to the rows' information, and
the effective-row count is a rough measure of it (it is the information for a *mean*; a slope on
a slow sensor may carry more or less). So the cap is instead chosen by how well each cap predicts
the reference itself, out of sample: the reference is cut into contiguous blocks, each block is
predicted from a model fitted on the others with a gap of rows around it left out (neighbouring
rows resemble the held-out ones, and without the gap a sensor's own past would leak in), and the
smallest cap whose error is within one standard error of the best is taken (the usual one-SE rule:
the simplest model the data cannot tell from the best one).

Only the KPI and its ancestors count: they are what the ranking runs through.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CAPS = (1, 2, 3, 4)          # the simpler model's caps (max_parents' range)
N_BLOCKS = 5
RIDGE = 1.0                  # on standardised parents: a light shrinkage, as the simple model's


@dataclass
class ParentCap:
    """The cap chosen and what it was chosen on.

    Attributes
    ----------
    cap : int
        Parents kept per sensor.
    errors : dict of int to float
        Per cap: the held-out error, mean over sensors of their squared error over their variance.
    standard_errors : dict of int to float
        Per cap: the error's standard error over the blocks.
    gap_rows : int
        Rows left out on each side of a held-out block.
    """

    cap: int
    errors: dict[int, float] = field(default_factory=dict)
    standard_errors: dict[int, float] = field(default_factory=dict)
    gap_rows: int = 0

    def text(self) -> str:
        """One sentence for the short-reference note."""
        shares = ", ".join(f"{k}: {100 * (1 - e):.0f}%" for k, e in sorted(self.errors.items()))
        return (f"{self.cap} parent(s) per sensor, the fewest that predict held-out stretches of the reference as "
                f"well as any (variance explained per cap, {shares}; contiguous blocks, {self.gap_rows} rows left out "
                "around each)")


def _block_errors(X: np.ndarray, y: np.ndarray, blocks: list[np.ndarray], gap: int) -> np.ndarray:
    """Squared error of y over its variance in each held-out block (ridge on standardised X)."""
    n = len(y)
    out = np.full(len(blocks), np.nan)
    var = float(np.var(y))
    if var <= 0:
        return out
    for i, b in enumerate(blocks):
        train = np.r_[0:max(0, b[0] - gap), min(n, b[-1] + 1 + gap):n]
        if len(train) <= X.shape[1] + 2:
            continue
        mu, sd = X[train].mean(axis=0), X[train].std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        Z = (X[train] - mu) / sd
        ym = y[train].mean()
        beta = np.linalg.solve(Z.T @ Z + RIDGE * np.eye(Z.shape[1]), Z.T @ (y[train] - ym))
        pred = ym + ((X[b] - mu) / sd) @ beta
        out[i] = float(np.mean((y[b] - pred) ** 2)) / var
    return out


def choose_parent_cap(graph, reference: pd.DataFrame, categorical, required, target: str,
                      effective_rows: int | None, caps=CAPS) -> ParentCap | None:
    """The simpler model's cap by blocked cross-validation (see the module docstring).

    Parameters
    ----------
    graph : CausalGraph
        The discovered graph (every parent a sensor has).
    reference : DataFrame
        The reference rows in time order (aligned).
    categorical : iterable of str
    required : iterable of (str, str)
        Edges the layout requires (always kept).
    target : str
    effective_rows : int or None
        The reference's effective rows: the gap is the rows one of them spans.
    caps : tuple of int

    Returns
    -------
    ParentCap or None
        None when there is nothing to choose (no sensor has more parents than the smallest cap, or
        too few rows for the blocks).
    """
    from rca_app.core.unit_ranking import simple_graph

    categorical = set(categorical)
    n = len(reference)
    nodes = [v for v in [*graph.ancestors(target), target] if v not in categorical and v in reference.columns]
    if max((len(graph.parents(v)) for v in nodes), default=0) <= min(caps):
        return None
    if n < 4 * N_BLOCKS:
        return None
    # Rows one independent row spans: the held-out block's neighbours within it are left out.
    gap = int(min(np.ceil(n / max(1, effective_rows or n)), n // (4 * N_BLOCKS)))
    errors, ses = {}, {}
    for cap in caps:
        g, _ = simple_graph(graph, reference, categorical, cap, required)
        rows = []
        for v in nodes:
            parents = [p for p in g.parents(v) if p not in categorical and p in reference.columns]
            if not parents:
                continue
            X = reference[parents].to_numpy(float)
            y = reference[v].to_numpy(float)
            ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
            if ok.sum() < n:          # rows with a gap: predict on the complete rows only
                X, y = X[ok], y[ok]
            rows.append(_block_errors(X, y, np.array_split(np.arange(len(y)), N_BLOCKS), gap))
        if not rows:
            return None
        per_block = np.nanmean(np.vstack(rows), axis=0)    # mean over sensors, per block
        per_block = per_block[np.isfinite(per_block)]
        if len(per_block) < 2:
            return None
        errors[cap] = float(per_block.mean())
        ses[cap] = float(per_block.std(ddof=1) / np.sqrt(len(per_block)))
    best = min(errors, key=lambda k: errors[k])
    cap = min(k for k in errors if errors[k] <= errors[best] + ses[best])
    return ParentCap(cap, errors, ses, gap)

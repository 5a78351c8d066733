"""What the Root causes step draws besides the ranking table: the Pareto chart."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rca_app.core.rootcause import RootCause


def pareto(root_causes: list[RootCause], top: int = 10) -> dict:
    """Data of a Pareto chart of the root causes: which few causes explain most of the loss.

    Bars are the restoration (in %) of the ``top`` causes; the line is the cumulative share of
    all positive restorations.

    Parameters
    ----------
    root_causes : list of RootCause
        ``AnalysisResult.root_causes`` (``node``, ``restoration``), best first.
    top : int, default 10
        Bars shown.

    Returns
    -------
    dict
        ``nodes``, ``restoration_pct`` and ``cumulative_pct``, one value per bar.
    """
    # A cause without a restoration (an origin the model has no path from, ``no_restoration``)
    # is no share of the loss: it is not a bar (a 0% bar would read as "explains nothing").
    shares = [c for c in root_causes if np.isfinite(float(c.restoration))]
    items = shares[:top]
    rest = [100.0 * float(c.restoration) for c in items]
    pos = [max(r, 0.0) for r in rest]
    total = sum(max(100.0 * float(c.restoration), 0.0) for c in shares) or 1.0
    return {"nodes": [c.node for c in items], "restoration_pct": rest,
            "cumulative_pct": [float(v) for v in np.cumsum(pos) / total * 100.0]}

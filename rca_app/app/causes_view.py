"""What the Root causes step draws besides the ranking table: the Pareto chart."""
from __future__ import annotations

import numpy as np


def pareto(root_causes: list[dict], top: int = 10) -> dict:
    """Bars (restoration in %) for the ``top`` causes and the cumulative share of the positive
    restorations (a Pareto chart: which few causes explain most of the loss)."""
    items = root_causes[:top]
    rest = [100.0 * float(c["restoration"]) for c in items]
    pos = [max(r, 0.0) for r in rest]
    total = sum(max(100.0 * float(c["restoration"]), 0.0) for c in root_causes) or 1.0
    return {"nodes": [c["node"] for c in items], "restoration_pct": rest,
            "cumulative_pct": [float(v) for v in np.cumsum(pos) / total * 100.0]}

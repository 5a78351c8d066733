"""Positions for drawing the causal graph left to right by station (GUI and report share it)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _field(item: Any, name: str) -> Any:
    """``item.name`` of a record, ``item[name]`` of a mapping (the canvas view is a dict)."""
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def station_layout(result_graph) -> dict[str, tuple[float, float]]:
    """Node positions for drawing the causal graph along the process flow.

    x = the station's index (process flow left to right); y spreads a station's sensors evenly,
    ordered so that nodes sit near the mean height of their parents (fewer crossings).

    Parameters
    ----------
    result_graph : GraphRecord or mapping
        ``AnalysisResult.graph`` (:class:`rca_app.core.results.GraphRecord`), or a mapping with
        the same keys (the GUI's graph view): nodes with ``name`` and station ``tier``, edges
        with ``source`` and ``target``.

    Returns
    -------
    dict of str to (float, float)
        Node -> ``(x, y)``.
    """
    nodes = _field(result_graph, "nodes")
    parents: dict[str, list[str]] = {_field(n, "name"): [] for n in nodes}
    for e in _field(result_graph, "edges"):
        if _field(e, "target") in parents:
            parents[_field(e, "target")].append(_field(e, "source"))
    tiers: dict[int, list[str]] = {}
    for n in nodes:
        tiers.setdefault(int(_field(n, "tier")), []).append(_field(n, "name"))
    pos: dict[str, tuple[float, float]] = {}
    for t in sorted(tiers):
        names = tiers[t]

        def key(name: str, names: list[str] = names) -> float:
            ys = [pos[p][1] for p in parents[name] if p in pos]
            return sum(ys) / len(ys) if ys else names.index(name) / max(1, len(names))

        if t > min(tiers):
            names = sorted(names, key=key)
        k = len(names)
        for i, name in enumerate(names):
            pos[name] = (float(t), (i + 0.5) / k)
    return pos

"""Positions for drawing the causal graph left to right by station (GUI and report share it)."""
from __future__ import annotations


def station_layout(result_graph: dict) -> dict[str, tuple[float, float]]:
    """Node positions for drawing the causal graph along the process flow.

    x = the station's index (process flow left to right); y spreads a station's sensors evenly,
    ordered so that nodes sit near the mean height of their parents (fewer crossings).

    Parameters
    ----------
    result_graph : dict
        ``AnalysisResult.graph`` (nodes with their station tier, edges).

    Returns
    -------
    dict of str to (float, float)
        Node -> ``(x, y)``.
    """
    nodes = result_graph["nodes"]
    parents: dict[str, list[str]] = {n["name"]: [] for n in nodes}
    for e in result_graph["edges"]:
        if e["target"] in parents:
            parents[e["target"]].append(e["source"])
    tiers: dict[int, list[str]] = {}
    for n in nodes:
        tiers.setdefault(int(n["tier"]), []).append(n["name"])
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

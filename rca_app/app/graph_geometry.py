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


Point = tuple[float, float]


def backward_arc(src: Point, dst: Point, node_h: float, depth: float) -> dict[str, Point]:
    """A lagged edge drawn as a curve under the nodes, from a later station back to an earlier one.

    Recycles run against the flow, so they leave the bottom of the source box, sag below both
    boxes and enter the bottom of the target box, clear of the forward arrows between them.

    Parameters
    ----------
    src, dst : (float, float)
        Box centres in scene units.
    node_h : float
        Box height.
    depth : float
        How far the curve sags below the lower box.

    Returns
    -------
    dict
        ``start``, ``c1``, ``c2``, ``end`` (cubic Bezier) and ``label`` (the curve's lowest point,
        where the lag is written).
    """
    start = (src[0], src[1] + node_h / 2)
    end = (dst[0], dst[1] + node_h / 2 + 2)
    low = max(start[1], end[1]) + depth
    c1, c2 = (start[0], low), (end[0], low)
    # The cubic's midpoint: (p0 + 3 c1 + 3 c2 + p3) / 8.
    label = ((start[0] + 3 * c1[0] + 3 * c2[0] + end[0]) / 8, (start[1] + 3 * c1[1] + 3 * c2[1] + end[1]) / 8)
    return {"start": start, "c1": c1, "c2": c2, "end": end, "label": label}


def self_loop(centre: Point, node_w: float, node_h: float, radius: float = 7.0) -> dict[str, Point | float]:
    """A small loop on a box's top-right corner: the sensor's own slow dynamics (a self-lag).

    Parameters
    ----------
    centre : (float, float)
        Box centre.
    node_w, node_h : float
        Box size.
    radius : float, optional

    Returns
    -------
    dict
        ``centre`` and ``radius`` of the loop's circle, and ``label`` (to its right).
    """
    cx, cy = centre[0] + node_w / 2 - radius, centre[1] - node_h / 2 - radius * 0.6
    return {"centre": (cx, cy), "radius": radius, "label": (cx + radius + 2, cy - radius - 2)}


def feedback_arc(controlled: Point, manipulated: Point, node_w: float, bulge: float = 36.0) -> dict[str, Point]:
    """The controller's half of a control loop: from the controlled sensor back to the manipulated
    one, bulging left of the boxes (the forward arrow of a same-station pair bulges right), so the
    pair reads as a loop.

    Parameters
    ----------
    controlled, manipulated : (float, float)
        Box centres.
    node_w : float
        Box width.
    bulge : float, optional
        How far left of the boxes the arc goes (plus a share of the vertical distance).

    Returns
    -------
    dict
        ``start``, ``c1``, ``c2``, ``end`` (cubic Bezier) and ``label`` (left of the arc).
    """
    start = (controlled[0] - node_w / 2, controlled[1])
    end = (manipulated[0] - node_w / 2 - 2, manipulated[1])
    b = bulge + 0.35 * abs(end[1] - start[1])
    c1, c2 = (start[0] - b, start[1]), (end[0] - b, end[1])
    label = (min(start[0], end[0]) - 0.75 * b, (start[1] + end[1]) / 2)
    return {"start": start, "c1": c1, "c2": c2, "end": end, "label": label}

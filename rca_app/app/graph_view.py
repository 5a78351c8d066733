"""What the Causal graph step draws: nodes by station with their roles, edges by standardised
effect and confidence, and one mechanism's fitted curve against the reference rows."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rca_app.app.formatting import fmt_number
from rca_app.app.graph_geometry import station_layout
from rca_app.core.graph import CausalGraph
from rca_app.core.layout import Layout

if TYPE_CHECKING:
    from rca_app.core.results import AnalysisResult


def graph_view(graph: CausalGraph, layout: Layout, result: AnalysisResult | None = None,
               reference: pd.DataFrame | None = None) -> dict:
    """What the graph canvas draws: nodes with station tier and roles, edges with a
    normalised strength (0..1, from the standardised effect) and confidence, and positions
    (stations left to right, by :func:`station_layout`).

    Effects come from ``result`` for edges it has; an edge added since has none (drawn as
    "not fitted yet"). Standardising (effect x sd(source) / sd(target)) makes effects in
    different units comparable; ``reference`` supplies the spreads.

    Parameters
    ----------
    graph : CausalGraph
        The current, possibly edited, graph.
    layout : Layout
    result : AnalysisResult, optional
        The last analysis (:class:`rca_app.core.results.AnalysisResult`).
    reference : DataFrame, optional
        The reference rows (for the spreads); without them effects are drawn unstandardised.

    Returns
    -------
    dict
        ``nodes`` (name, station, tier, unit, roles), ``edges`` (effect, confidence, origin,
        ``strength`` in 0..1 or None, ``fitted``, ``undetermined``, and ``line``: "dashed" for an
        edge whose direction the data cannot tell, "dotted" for one not fitted yet, else
        "solid"), ``stations`` and ``positions``.
    """
    fitted = {(e.source, e.target): e for e in result.graph.edges} if result is not None else {}
    nodes = []
    for n in graph.nodes:
        try:
            tier, station = layout.tier_of(n), layout.station_of(n)
        except KeyError:
            tier, station = len(layout.stations), ""
        nodes.append({"name": n, "station": station, "tier": tier, "unit": layout.unit(n),
                      "categorical": n in layout.categorical, "controllable": n in layout.controllable,
                      "exogenous": n in set(layout.exogenous), "target": n == layout.target})

    def sd(node: str) -> float | None:
        if reference is None or node not in reference:
            return None
        s = reference[node]
        if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            return None
        v = float(np.nanstd(s.to_numpy(float)))
        return v if v > 0 else None

    cat = set(layout.categorical)
    edges = []
    for e in graph.edges:
        f = fitted.get(e.key)
        effect = f.effect if f is not None else e.effect
        confidence = f.confidence if f is not None else e.confidence
        std = None
        if effect is not None and math.isfinite(effect):
            s_src = 1.0 if e.source in cat else sd(e.source)
            s_dst = sd(e.target)
            if s_src is not None and s_dst:
                std = abs(effect) * s_src / s_dst
            elif reference is None:
                std = abs(effect)
        # Undetermined: the data and the layout cannot tell the direction, and the engineer has
        # not decided it (an edit marks the edge "user").
        undetermined = bool((e.undetermined or (f is not None and f.undetermined)) and e.origin != "user")
        edges.append({"source": e.source, "target": e.target, "effect": effect,
                      "confidence": confidence, "origin": e.origin, "std_effect": std,
                      "fitted": e.key in fitted, "undetermined": undetermined,
                      "line": "dashed" if undetermined else ("solid" if e.key in fitted else "dotted")})
    top = max((e["std_effect"] for e in edges if e["std_effect"] is not None), default=0.0)
    for e in edges:
        e["strength"] = (e["std_effect"] / top) if (e["std_effect"] is not None and top > 0) else None
    view = {"nodes": nodes, "edges": edges, "stations": [s.name for s in layout.stations]}
    view["positions"] = station_layout(view)
    view["lagged_edges"], view["loops"] = dynamics_overlay(graph.nodes, layout, result)
    view["gaps"] = station_gaps(view["stations"], result)
    return view


def station_gaps(stations: list[str], result: AnalysisResult | None) -> list[dict]:
    """The residence times to draw between station columns (where the last analysis used one).

    Parameters
    ----------
    stations : list of str
        The columns, in flow order.
    result : AnalysisResult, optional

    Returns
    -------
    list of dict
        ``after`` (the column index the gap follows), ``text`` ("→ ≈7min →"), ``tip``,
        ``estimated``; only between columns the analysis had next to each other.
    """
    from rca_app.app.dynamics_view import station_gap_labels

    gaps = station_gap_labels(result.dynamics if result is not None else None)
    out = []
    for i, name in enumerate(stations[:-1]):
        g = gaps.get(name)
        if g is not None and g.to_station == stations[i + 1]:
            out.append({"after": i, "text": g.text, "tip": g.tip, "estimated": g.estimated})
    return out


def dynamics_overlay(nodes, layout: Layout, result: AnalysisResult | None = None) -> tuple[list[dict], list[dict]]:
    """What the graph draws over the summary graph for time-series data: lagged edges and loops.

    Parameters
    ----------
    nodes : iterable of str
        The graph's sensors (anything else is left out).
    layout : Layout
        Its [[loop]] tables are drawn even before an analysis ran.
    result : AnalysisResult, optional
        Its ``dynamics.lagged_edges`` (declared and proposed recycles, self-lags) and loop
        readings.

    Returns
    -------
    (list of dict, list of dict)
        Lagged edges (source, target, lag, kind, ``self``, ``text``) and loops (controlled,
        manipulated, ``text``: the declaration and, after an analysis, what the loop did;
        ``proposed`` True only for a loop the data show that the layout does not declare).
    """
    from rca_app.app.dynamics_view import (
        declared_loop_text,
        lagged_edge_text,
        loop_text,
        proposed_loop_text,
        proposed_loops,
    )

    have = set(nodes)
    dyn = result.dynamics if result is not None else None
    lagged = []
    for e in (dyn.lagged_edges if dyn is not None else []):
        if e.source in have and e.target in have:
            lagged.append({"source": e.source, "target": e.target, "lag": e.lag, "kind": e.kind,
                           "self": e.source == e.target, "in_model": e.in_model, "lag_steps": e.lag_steps,
                           "text": lagged_edge_text(e)})
    readings = {(r.controlled, r.manipulated): r for r in (dyn.loops if dyn is not None else [])}
    loops = []
    for lp in layout.loops:
        if lp.controlled in have and lp.manipulated in have:
            rd = readings.get((lp.controlled, lp.manipulated))
            text = "Control loop: " + declared_loop_text(lp) + (f".\nIn the incident: {loop_text(rd)}." if rd else ".")
            loops.append({"controlled": lp.controlled, "manipulated": lp.manipulated, "text": text})
    for p in proposed_loops(dyn, layout):
        if p.controlled in have and p.manipulated in have:
            loops.append({"controlled": p.controlled, "manipulated": p.manipulated, "proposed": True,
                          "text": f"Control loop the data propose (not declared, not used): {proposed_loop_text(p)}. "
                                  "Add it in step 3 (Layout, \"Time, recycles and loops\")."})
    return lagged, loops


# The discovery methods the window offers (value, label); "auto" is the default.
DISCOVERY_CHOICES = (("auto", "Auto"), ("lingam", "LiNGAM"), ("pc", "PC"), ("fci", "FCI (hidden causes)"))
METHOD_NAMES = {"lingam": "LiNGAM", "pc": "the constraint-based search (PC)",
                "fci": "FCI (PC that also looks for unmeasured causes)",
                "pc+lingam": "the constraint-based search (PC), with LiNGAM where the noise is non-Gaussian"}


def discovery_note(result, view: dict | None) -> str:
    """One sentence for the graph step's banner: which method found the graph, and how many
    arrows are dashed because the data cannot tell their direction.

    Parameters
    ----------
    result : AnalysisResult or None
    view : dict or None
        From :func:`graph_view`.

    Returns
    -------
    str
        Empty when there is nothing to say.
    """
    parts = []
    method = result.diagnostics.discovery_method if result is not None else None
    if method:
        parts.append(f"Found by {METHOD_NAMES.get(method, method)}.")
    n = sum(bool(e.get("undetermined")) for e in (view or {}).get("edges", []))
    if n:
        parts.append(f"{n} dashed arrow{'s' * (n != 1)}: the data cannot tell {'their' if n != 1 else 'its'} "
                     "direction; tell us if you know (Reverse or Keep arrow).")
    return " ".join(parts)


def undetermined_words(a: str, b: str) -> str:
    """What an undetermined edge means, in the words the graph and the report use.

    Parameters
    ----------
    a, b : str
        The edge's ends.

    Returns
    -------
    str
    """
    return (f"The data cannot tell whether {a} drives {b} or {b} drives {a}; tell us if you know "
            "(Reverse or Keep this arrow).")


def edge_explanation(edge: dict, units: dict[str, str]) -> str:
    """An arrow of the graph in plant words, for its tooltip: what one more unit of the cause
    does to the effect, how often it was found, where it comes from, what can be done with it.

    Parameters
    ----------
    edge : dict
        An edge of :func:`graph_view` (``categorical_source`` set when the cause is categorical).
    units : dict
        Sensor -> unit.

    Returns
    -------
    str
        Lines separated by newlines.
    """
    src, dst = edge["source"], edge["target"]
    lines = [f"{src} → {dst}"]
    if edge.get("undetermined"):
        lines.append(undetermined_words(src, dst))
    eff = edge.get("effect")
    if edge.get("categorical_source") and eff is not None:
        lines.append(f"Switching {src} between its levels moves {dst} by up to {fmt_number(eff, 3)} "
                     f"{units.get(dst, '')}")
    elif eff is not None and math.isfinite(eff):
        lines.append(f"+1 {units.get(src, '') or 'unit'} of {src} changes {dst} by {eff:+.3g} "
                     f"{units.get(dst, '')}".rstrip())
    else:
        lines.append("Not fitted yet: press Refit (F5) to estimate it.")
    conf = edge.get("confidence")
    if conf is not None:
        lines.append(f"Found in {100 * conf:.0f}% of resamples (darker = more reliable).")
    origin = {"user": "added or kept by you", "required": "required by the layout",
              "discovered": "found in the data"}.get(edge.get("origin"), edge.get("origin"))
    lines.append(f"Origin: {origin}")
    lines.append("Right-click to remove, reverse or keep it.")
    return "\n".join(lines)


def strongest_parent(outcome, node: str) -> str | None:
    """The parent that moves ``node`` most: largest |effect| x sd(parent) (in node units).

    Parameters
    ----------
    outcome : AnalysisOutcome
        A finished analysis with its fitted SCM.
    node : str
        Sensor name.

    Returns
    -------
    str or None
        None for a sensor without parents.
    """
    mech = outcome.scm.mechanisms_.get(node)
    if mech is None or not mech.parents:
        return None
    from rca_app.core.results import as_result

    effects = {(e.source, e.target): e.effect for e in as_result(outcome.result).graph.edges}
    vals = outcome.scm.reference_values_
    best, score = mech.parents[0], -1.0
    for p in mech.parents:
        eff = effects.get((p, node))
        if eff is None or not math.isfinite(eff):
            continue
        spread = 1.0 if p in outcome.scm.categorical else float(np.std(vals[p]))
        if abs(eff) * spread > score:
            best, score = p, abs(eff) * spread
    return best


def mechanism_view(outcome, node: str, parent: str | None = None, points: int = 80) -> dict:
    """How ``node`` depends on one parent in the fitted model, for the mechanism panel.

    Scatter: the reference rows (node against the parent). Curve: the fitted mechanism's
    prediction along the parent's reference range (minimum to maximum) with every other
    parent held at its reference mean (categorical: its most common level).

    Parameters
    ----------
    outcome : AnalysisOutcome
        Uses ``outcome.scm`` (mechanisms, reference values, levels) and ``outcome.result``.
    node : str
    parent : str, optional
        The parent to plot against; by default the one that moves ``node`` most.
    points : int
        Points along a numeric parent's range.

    Returns
    -------
    dict
        ``kind``, ``oof_r2``, ``parents``, ``pooled``, ``parent``; ``scatter_x``/``scatter_y``
        and ``curve_x``/``curve_y`` arrays (None when there is nothing to draw); ``x_levels``
        and ``y_levels`` for categorical axes.
    """
    from rca_app.core.results import as_result

    scm = outcome.scm
    report = next((m for m in as_result(outcome.result).mechanisms if m.node == node), None)
    out = {"node": node, "kind": report.kind if report else None,
           "oof_r2": report.oof_r2 if report else None,
           "parents": list(report.parents) if report else [], "pooled": bool(report and report.pooled),
           "parent": None, "scatter_x": None, "scatter_y": None, "curve_x": None, "curve_y": None,
           "x_levels": None, "y_levels": None}
    mech = scm.mechanisms_.get(node)
    if mech is None:
        return out
    parent = parent or strongest_parent(outcome, node)
    if parent is None:
        return out
    vals = scm.reference_values_
    out["parent"] = parent
    out["scatter_x"] = np.asarray(vals[parent], dtype=float)
    out["scatter_y"] = np.asarray(vals[node], dtype=float)
    if parent in scm.levels_:
        out["x_levels"] = list(scm.levels_[parent])
    if node in scm.levels_:
        out["y_levels"] = list(scm.levels_[node])
    if mech.categorical or mech.kind not in ("linear", "poly2", "spline", "hgb"):
        return out   # a classifier: the scatter (level by parent) says enough
    if parent in scm.levels_:
        grid = np.arange(len(scm.levels_[parent]), dtype=np.int64)
    else:
        grid = np.linspace(float(np.min(vals[parent])), float(np.max(vals[parent])), points)
    inputs = {}
    for p in mech.parents:
        if p in scm.levels_:
            codes = np.asarray(vals[p], dtype=np.int64)
            inputs[p] = np.full(len(grid), int(np.bincount(codes).argmax()), dtype=np.int64)
        else:
            inputs[p] = np.full(len(grid), float(np.mean(vals[p])))
    inputs[parent] = grid
    out["curve_x"] = np.asarray(grid, dtype=float)
    out["curve_y"] = np.asarray(mech.predict(inputs), dtype=float)
    return out

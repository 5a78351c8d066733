"""The engineer's edits of the causal graph, each validated by the core against the tiers."""
from __future__ import annotations

from dataclasses import asdict, replace

from rca_app.core.errors import RcaInputError
from rca_app.core.graph import CausalGraph, Edge

# Graph edits the editor offers (each is validated by CausalGraph against the layout's tiers).
EDIT_OPS = ("add", "remove", "reverse", "force")


def apply_edit(graph: CausalGraph, op: str, source: str, target: str, constraints=None) -> CausalGraph:
    """One editor action on the graph, validated by the core.

    "force" keeps an edge whatever discovery says: it is added if missing and marked as the
    engineer's (origin "user"), so a later re-discovery must keep it. "reverse" and "force" on an
    edge whose direction the data cannot tell decide it: the ranking then uses that direction only.

    Parameters
    ----------
    graph : CausalGraph
        Not changed.
    op : str
        One of :data:`EDIT_OPS`.
    source, target : str
    constraints : Constraints, optional
        The layout's tiers and knowledge; None checks only for cycles.

    Returns
    -------
    CausalGraph
        The edited graph; RcaInputError gives the reason when the edit breaks a rule.
    """
    if op == "add":
        return graph.add_edge(source, target, constraints)
    if op == "remove":
        return graph.remove_edge(source, target, constraints)
    if op == "reverse":
        return graph.reverse_edge(source, target, constraints)
    if op == "force":
        existing = graph.edge(source, target)
        if existing is None:
            return graph.add_edge(source, target, constraints, origin="user")
        if constraints is not None and not constraints.allows(source, target):
            raise RcaInputError(f"{source} -> {target} is not allowed: {constraints.why_not(source, target)}")
        # Kept by the engineer: its direction is now decided (no longer undetermined).
        return graph.with_edges(replace(e, origin="user", undetermined=False) if e.key == (source, target) else e
                                for e in graph.edges)
    raise ValueError(f"unknown edit {op!r}")


def graph_from_result(result_graph) -> CausalGraph:
    """The CausalGraph behind ``AnalysisResult.graph`` (which adds station and effect fields).

    Parameters
    ----------
    result_graph : GraphRecord or dict
        ``AnalysisResult.graph`` (:class:`rca_app.core.results.GraphRecord`), or its JSON data
        (nodes may be dicts or names).

    Returns
    -------
    CausalGraph
    """
    if isinstance(result_graph, dict):
        nodes = [n["name"] if isinstance(n, dict) else n for n in result_graph["nodes"]]
        edge_data = result_graph["edges"]
    else:
        nodes = [n.name for n in result_graph.nodes]
        edge_data = [asdict(e) for e in result_graph.edges]
    keep = Edge.__dataclass_fields__
    edges = [Edge(**{k: v for k, v in e.items() if k in keep}) for e in edge_data]
    return CausalGraph(tuple(nodes), tuple(edges))

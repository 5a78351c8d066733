"""The causal graph as a plain data object: nodes, directed edges, and edits.

Edits (add, remove, reverse) return a new graph so the GUI can keep an undo stack of values.
Every edit is checked against the plant's constraints before it is accepted.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

from rca_app.core.errors import RcaInputError


@dataclass(frozen=True)
class Edge:
    """One directed edge ``source -> target`` of the causal graph: the source is a direct cause.

    Attributes
    ----------
    source, target : str
        Node (sensor or yield column) names.
    effect : float or None
        Average causal effect of one unit of the source on the target, from the fitted SCM.
    confidence : float or None
        Share of bootstrap resamples in which discovery found this edge.
    origin : str
        ``"discovered"``, ``"required"`` (layout knowledge) or ``"user"`` (editor).
    undetermined : bool
        The data and the layout cannot tell this edge's direction (see
        :mod:`rca_app.core.constraint_search`); an engineer's edit decides it.
    """
    source: str
    target: str
    # Average causal effect of one unit of the source on the target (engineering units);
    # filled by the fitted SCM. For a categorical source: the largest level contrast.
    effect: float | None = None
    # Share of bootstrap resamples in which discovery found this edge (None: not bootstrapped).
    confidence: float | None = None
    # "discovered", "required" (layout knowledge) or "user" (added or forced in the editor).
    origin: str = "discovered"
    # True: an edge of the equivalence class whose direction neither the data nor the layout
    # decide (drawn here one way; the ranking considers every way the class allows).
    undetermined: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """The ``(source, target)`` pair identifying the edge."""
        return (self.source, self.target)

    def to_dict(self) -> dict:
        """Plain ``dict`` of the fields, for JSON."""
        return asdict(self)


@dataclass(frozen=True)
class CausalGraph:
    """Directed acyclic graph over the plant's nodes; edits return a new graph.

    Attributes
    ----------
    nodes : tuple of str
        Node names in flow order (upstream stations first); this order breaks every tie.
    edges : tuple of Edge
        Directed edges, each meaning "source directly causes target".
    """
    nodes: tuple[str, ...]
    edges: tuple[Edge, ...] = field(default_factory=tuple)

    def __post_init__(self):
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "edges", tuple(self.edges))

    # --- structure -------------------------------------------------------------------------
    @property
    def edge_keys(self) -> set[tuple[str, str]]:
        """Set of ``(source, target)`` pairs of all edges."""
        return {e.key for e in self.edges}

    def edge(self, source: str, target: str) -> Edge | None:
        """The edge ``source -> target``.

        Parameters
        ----------
        source, target : str
            Node names.

        Returns
        -------
        Edge or None
            The edge, or None when the graph does not have it.
        """
        for e in self.edges:
            if e.source == source and e.target == target:
                return e
        return None

    def parents(self, node: str) -> list[str]:
        """Direct causes of a node.

        Parameters
        ----------
        node : str
            Node name.

        Returns
        -------
        list of str
            Parents in node order, so design matrices are built the same way every time.
        """
        # Parents in node order, so design matrices are built the same way every time.
        ps = {e.source for e in self.edges if e.target == node}
        return [n for n in self.nodes if n in ps]

    def children(self, node: str) -> list[str]:
        """Direct effects of a node.

        Parameters
        ----------
        node : str
            Node name.

        Returns
        -------
        list of str
            Children in node order.
        """
        cs = {e.target for e in self.edges if e.source == node}
        return [n for n in self.nodes if n in cs]

    def topological_order(self) -> list[str]:
        """Causal order of the nodes: every cause before its effects.

        Kahn's algorithm, ties broken by node order (stable and deterministic).

        Returns
        -------
        list of str
            All nodes, causes first.

        Raises
        ------
        RcaInputError
            If the graph has a cycle.
        """
        indeg = {n: 0 for n in self.nodes}
        for e in self.edges:
            indeg[e.target] += 1
        ready = [n for n in self.nodes if indeg[n] == 0]
        order: list[str] = []
        pos = {n: i for i, n in enumerate(self.nodes)}
        while ready:
            ready.sort(key=pos.__getitem__)
            n = ready.pop(0)
            order.append(n)
            for c in self.children(n):
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        if len(order) != len(self.nodes):
            raise RcaInputError(f"the graph has a cycle through: {', '.join(self.find_cycle() or [])}")
        return order

    def find_cycle(self) -> list[str] | None:
        """One directed cycle, if the graph has any (depth-first search).

        Returns
        -------
        list of str or None
            The cycle's nodes with the first repeated at the end, or None for an acyclic graph.
        """
        colour = {n: 0 for n in self.nodes}
        stack: list[str] = []

        def visit(n: str) -> list[str] | None:
            colour[n] = 1
            stack.append(n)
            for c in self.children(n):
                if colour[c] == 1:
                    return stack[stack.index(c):] + [c]
                if colour[c] == 0:
                    found = visit(c)
                    if found:
                        return found
            stack.pop()
            colour[n] = 2
            return None

        for n in self.nodes:
            if colour[n] == 0:
                found = visit(n)
                if found:
                    return found
        return None

    def ancestors(self, node: str) -> set[str]:
        """All direct and indirect causes of a node.

        Parameters
        ----------
        node : str
            Node name.

        Returns
        -------
        set of str
            Ancestors, the node itself excluded.
        """
        seen: set[str] = set()
        todo = self.parents(node)
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.parents(n))
        return seen

    def descendants(self, node: str) -> set[str]:
        """All nodes the node affects directly or indirectly.

        Parameters
        ----------
        node : str
            Node name.

        Returns
        -------
        set of str
            Descendants, the node itself excluded.
        """
        seen: set[str] = set()
        todo = self.children(node)
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.children(n))
        return seen

    def paths(self, source: str, target: str, limit: int = 20) -> list[list[str]]:
        """Directed causal paths ``source -> ... -> target`` (at most ``limit``, shortest first).

        Parameters
        ----------
        source, target : str
            Node names.
        limit : int, default 20
            Most paths returned; the search stops after ``10 * limit`` paths on dense graphs.

        Returns
        -------
        list of list of str
            Each path as its node names from source to target; empty if the target is not reachable.
        """
        out: list[list[str]] = []
        reach = self.ancestors(target) | {target}

        def walk(path: list[str]) -> None:
            if len(out) >= 10 * limit:
                return
            last = path[-1]
            if last == target:
                out.append(list(path))
                return
            for c in self.children(last):
                if c in reach and c not in path:
                    walk(path + [c])

        if source in reach:
            walk([source])
        out.sort(key=len)
        return out[:limit]

    # --- edits (each returns a new graph) -----------------------------------------------------
    def with_edges(self, edges: Iterable[Edge]) -> CausalGraph:
        """The same nodes with another edge set.

        Parameters
        ----------
        edges : iterable of Edge
            The new edges (not checked).

        Returns
        -------
        CausalGraph
            A new graph.
        """
        return replace(self, edges=tuple(edges))

    def add_edge(self, source: str, target: str, constraints=None, origin: str = "user") -> CausalGraph:
        """Add the edge ``source -> target`` after checking nodes, constraints and acyclicity.

        Parameters
        ----------
        source, target : str
            Node names.
        constraints : Constraints, optional
            The plant's constraints (flow order, forbidden and required edges); None skips the check.
        origin : str, default "user"
            Recorded on the new edge.

        Returns
        -------
        CausalGraph
            A new graph with the edge.

        Raises
        ------
        RcaInputError
            If a node is unknown, the edge exists already, the constraints forbid it or it closes a cycle.
        """
        for n in (source, target):
            if n not in self.nodes:
                raise RcaInputError(f"unknown node '{n}'")
        if (source, target) in self.edge_keys:
            raise RcaInputError(f"the edge {source} -> {target} is already in the graph")
        if constraints is not None and not constraints.allows(source, target):
            raise RcaInputError(f"{source} -> {target} is not allowed: {constraints.why_not(source, target)}")
        g = self.with_edges(list(self.edges) + [Edge(source, target, origin=origin)])
        cycle = g.find_cycle()
        if cycle:
            raise RcaInputError(f"adding {source} -> {target} would make a cycle: {' -> '.join(cycle)}")
        return g

    def remove_edge(self, source: str, target: str, constraints=None) -> CausalGraph:
        """Remove the edge ``source -> target``.

        Parameters
        ----------
        source, target : str
            Node names.
        constraints : Constraints, optional
            If given, edges the layout's ``[knowledge]`` requires cannot be removed.

        Returns
        -------
        CausalGraph
            A new graph without the edge.

        Raises
        ------
        RcaInputError
            If there is no such edge or the layout requires it.
        """
        if (source, target) not in self.edge_keys:
            raise RcaInputError(f"there is no edge {source} -> {target}")
        if constraints is not None and (source, target) in constraints.required:
            raise RcaInputError(
                f"{source} -> {target} is required by the layout's [knowledge]; remove it there first"
            )
        return self.with_edges(e for e in self.edges if e.key != (source, target))

    def reverse_edge(self, source: str, target: str, constraints=None) -> CausalGraph:
        """Turn ``source -> target`` into ``target -> source``.

        Parameters
        ----------
        source, target : str
            The existing edge's node names.
        constraints : Constraints, optional
            Checked for both the removal and the new edge.

        Returns
        -------
        CausalGraph
            A new graph with the edge reversed.

        Raises
        ------
        RcaInputError
            If the edge is missing or required, or the reversed edge is forbidden or makes a cycle.
        """
        g = self.remove_edge(source, target, constraints)
        return g.add_edge(target, source, constraints)

    def validate(self, constraints) -> list[str]:
        """Every way this graph breaks the plant's constraints (empty if none).

        Parameters
        ----------
        constraints : Constraints
            The plant's constraints from the layout.

        Returns
        -------
        list of str
            One readable message per violation.
        """
        return constraints.violations(self.edge_keys)

    # --- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain ``dict`` with ``nodes`` and ``edges``, for JSON."""
        return {"nodes": list(self.nodes), "edges": [e.to_dict() for e in self.edges]}

    @classmethod
    def from_dict(cls, d: dict) -> CausalGraph:
        """Rebuild a graph from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            With ``nodes`` (list of str) and ``edges`` (list of edge dicts).

        Returns
        -------
        CausalGraph
        """
        return cls(tuple(d["nodes"]), tuple(Edge(**e) for e in d["edges"]))

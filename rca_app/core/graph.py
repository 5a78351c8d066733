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
    source: str
    target: str
    # Average causal effect of one unit of the source on the target (engineering units);
    # filled by the fitted SCM. For a categorical source: the largest level contrast.
    effect: float | None = None
    # Share of bootstrap resamples in which discovery found this edge (None: not bootstrapped).
    confidence: float | None = None
    # "discovered", "required" (layout knowledge) or "user" (added or forced in the editor).
    origin: str = "discovered"

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.target)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CausalGraph:
    nodes: tuple[str, ...]
    edges: tuple[Edge, ...] = field(default_factory=tuple)

    def __post_init__(self):
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "edges", tuple(self.edges))

    # --- structure -------------------------------------------------------------------------
    @property
    def edge_keys(self) -> set[tuple[str, str]]:
        return {e.key for e in self.edges}

    def edge(self, source: str, target: str) -> Edge | None:
        for e in self.edges:
            if e.source == source and e.target == target:
                return e
        return None

    def parents(self, node: str) -> list[str]:
        # Parents in node order, so design matrices are built the same way every time.
        ps = {e.source for e in self.edges if e.target == node}
        return [n for n in self.nodes if n in ps]

    def children(self, node: str) -> list[str]:
        cs = {e.target for e in self.edges if e.source == node}
        return [n for n in self.nodes if n in cs]

    def topological_order(self) -> list[str]:
        """Kahn's algorithm, ties broken by node order (stable and deterministic)."""
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
        seen: set[str] = set()
        todo = self.parents(node)
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.parents(n))
        return seen

    def descendants(self, node: str) -> set[str]:
        seen: set[str] = set()
        todo = self.children(node)
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.children(n))
        return seen

    def paths(self, source: str, target: str, limit: int = 20) -> list[list[str]]:
        """Directed paths source -> target (at most ``limit``, shortest first)."""
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
        return replace(self, edges=tuple(edges))

    def add_edge(self, source: str, target: str, constraints=None, origin: str = "user") -> CausalGraph:
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
        if (source, target) not in self.edge_keys:
            raise RcaInputError(f"there is no edge {source} -> {target}")
        if constraints is not None and (source, target) in constraints.required:
            raise RcaInputError(
                f"{source} -> {target} is required by the layout's [knowledge]; remove it there first"
            )
        return self.with_edges(e for e in self.edges if e.key != (source, target))

    def reverse_edge(self, source: str, target: str, constraints=None) -> CausalGraph:
        g = self.remove_edge(source, target, constraints)
        return g.add_edge(target, source, constraints)

    def validate(self, constraints) -> list[str]:
        """Every way this graph breaks the plant's constraints (empty if none)."""
        return constraints.violations(self.edge_keys)

    # --- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"nodes": list(self.nodes), "edges": [e.to_dict() for e in self.edges]}

    @classmethod
    def from_dict(cls, d: dict) -> CausalGraph:
        return cls(tuple(d["nodes"]), tuple(Edge(**e) for e in d["edges"]))

"""The causal constraints a layout implies: tiers, exogenous sensors, forbidden and required edges."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Constraints:
    """Algorithm-neutral edge constraints derived from a layout.

    An edge src -> dst is disallowed when: src == dst; src sits at a later station than
    dst (material flows forward); dst is exogenous; src is the target (the outcome has no
    effects among the sensors); or the edge is listed as forbidden. Edges within one
    station are allowed in both directions.

    Attributes
    ----------
    nodes : tuple of str
        Sensors in station order.
    tier : dict of str to int
        0-based station index of each sensor.
    exogenous : frozenset of str
        Sensors nothing in the data causes.
    target : str
        The yield column.
    forbidden, required : frozenset of (str, str)
        Direct edges from the layout's ``[knowledge]``.
    station_names : tuple of str
        Station names by tier, for messages only.
    """

    nodes: tuple[str, ...]
    tier: dict[str, int]
    exogenous: frozenset
    target: str
    forbidden: frozenset = frozenset()
    required: frozenset = frozenset()
    station_names: tuple[str, ...] = ()   # by tier, for messages only

    def _station(self, node: str) -> str:
        t = self.tier[node]
        return self.station_names[t] if t < len(self.station_names) else f"#{t + 1}"

    def _reason(self, src: str, dst: str) -> tuple[str, str] | None:
        """(plain-language reason, the sensor responsible) or None if the edge is allowed."""
        for node in (src, dst):
            if node not in self.tier:
                return f"'{node}' is not a sensor in the layout", node
        if src == dst:
            return f"'{src}' cannot cause itself", src
        if src == self.target:
            return (f"'{src}' is the target: it is the outcome being explained and has "
                    f"no effect on other sensors"), src
        if dst in self.exogenous:
            return f"'{dst}' is declared exogenous: nothing in the data causes it", dst
        if self.tier[src] > self.tier[dst]:
            return (f"'{src}' is at station '{self._station(src)}', after "
                    f"'{self._station(dst)}' where '{dst}' is: material flows forward"), src
        if (src, dst) in self.forbidden:
            return f"the edge '{src}' -> '{dst}' is forbidden in [knowledge]", src
        return None

    def allows(self, src: str, dst: str) -> bool:
        """Whether the direct edge ``src -> dst`` is allowed.

        Parameters
        ----------
        src, dst : str
            Sensor names.

        Returns
        -------
        bool
        """
        return self._reason(src, dst) is None

    def why_not(self, src: str, dst: str) -> str | None:
        """Plain-language reason the edge ``src -> dst`` is not allowed.

        Parameters
        ----------
        src, dst : str
            Sensor names.

        Returns
        -------
        str or None
            The reason, or None if the edge is allowed.
        """
        reason = self._reason(src, dst)
        return reason[0] if reason else None

    def violations(self, edges: Iterable[tuple[str, str]]) -> list[str]:
        """Messages for each disallowed edge, each missing required edge, and each cycle.

        Parameters
        ----------
        edges : iterable of (str, str)
            Edges of a graph (duplicates are ignored).

        Returns
        -------
        list of str
            Empty if the edges respect the layout.
        """
        given = list(dict.fromkeys((s, d) for s, d in edges))   # dedupe, keep order
        messages = []
        for src, dst in given:
            reason = self.why_not(src, dst)
            if reason:
                messages.append(f"'{src}' -> '{dst}' is not allowed: {reason}")
        present = set(given)
        for src, dst in sorted(self.required - present, key=self._edge_key):
            messages.append(f"required edge '{src}' -> '{dst}' is missing")
        for cycle in _cycles(given):
            messages.append(f"the edges form a cycle: {_cycle_text(cycle)}")
        return messages

    def _edge_key(self, edge: tuple[str, str]) -> tuple:
        pos = {n: i for i, n in enumerate(self.nodes)}
        return tuple(pos.get(n, len(pos)) for n in edge) + edge

    def layered_order(self) -> list[str]:
        """Nodes sorted by tier, keeping their order within a tier.

        Returns
        -------
        list of str
        """
        return sorted(self.nodes, key=lambda n: self.tier[n])

    def prior_knowledge(self, order: Iterable[str]) -> np.ndarray:
        """Prior-knowledge matrix for ``lingam`` over the nodes in ``order``.

        Convention (lingam's): ``pk[i, j] == 0``: no directed path from order[j] to
        order[i]; ``1``: a directed path exists; ``-1``: unknown. Like
        ``lingam.utils.make_prior_knowledge``, the diagonal is -1.

        Zeros come from the tiers (no path backwards in the flow), exogenous sensors
        (nothing reaches them) and the target (it reaches nothing); ones from required
        edges. Forbidden *direct* edges cannot be expressed as path knowledge (a path
        through other sensors may still exist), so they are absent here: whoever fits
        the model must also enforce ``allows``.

        Parameters
        ----------
        order : iterable of str
            Sensors, in the column order of the data matrix given to lingam.

        Returns
        -------
        numpy.ndarray of int, shape (n, n)

        Raises
        ------
        ValueError
            If ``order`` names a sensor not in the layout or one twice.

        References
        ----------
        .. [1] S. Shimizu et al. "DirectLiNGAM: A direct method for learning a linear non-Gaussian
           structural equation model." JMLR 12 (2011): 1225-1248.
        """
        order = list(order)
        unknown = [n for n in order if n not in self.tier]
        if unknown:
            raise ValueError(f"not sensors in the layout: {unknown}")
        if len(set(order)) != len(order):
            raise ValueError("order lists a sensor more than once")
        k = len(order)
        pk = np.full((k, k), -1, dtype=int)
        for i, child in enumerate(order):
            for j, parent in enumerate(order):
                if (self.tier[parent] > self.tier[child] or child in self.exogenous
                        or parent == self.target):
                    pk[i, j] = 0
        pos = {n: i for i, n in enumerate(order)}
        for src, dst in self.required:
            if src in pos and dst in pos:
                pk[pos[dst], pos[src]] = 1
        np.fill_diagonal(pk, -1)
        return pk


def _cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """One cycle per strongly connected group of nodes (graphs here are small)."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in succ[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reachable = {n: reach(n) for n in succ}
    done: set[str] = set()
    cycles = []
    for start in succ:
        if start in done or start not in reachable[start]:
            continue
        group = {m for m in reachable[start] if start in reachable[m]}
        done |= group
        # Shortest way back to start, breadth first, inside the group.
        parent: dict[str, str] = {}
        queue = deque([start])
        while queue and start not in parent:
            u = queue.popleft()
            for v in succ[u]:
                if v in group and v not in parent:
                    parent[v] = u
                    queue.append(v)
        path, u = [], parent[start]
        while u != start:
            path.append(u)
            u = parent[u]
        cycles.append([start] + path[::-1])
    return cycles


def _cycle_text(cycle: list[str]) -> str:
    return " -> ".join(f"'{n}'" for n in cycle + cycle[:1])

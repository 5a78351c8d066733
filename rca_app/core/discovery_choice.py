"""Which discovery method decides the numeric graph: LiNGAM, the tiered PC search, or FCI.

LiNGAM tells cause from effect within a station only through non-Gaussian noise: with two
near-Gaussian sensors in one undetermined group its direction there is a guess. The tiered PC
search (:mod:`rca_app.core.constraint_search`) makes no such bet: it finds the skeleton and the
directions that conditional independences and the layout decide, and leaves the rest
undetermined. FCI's orientation (:func:`~rca_app.core.constraint_search.hidden_cause_pairs`) adds
what an unmeasured common cause looks like: two sensors neither of which can cause the other.

``"auto"`` runs the cheap PC search first, reads each sensor's residual given its PC parents
(the noise diagnostics), and then

- uses LiNGAM for the whole plant when the residuals are clearly non-Gaussian (at least two
  thirds of the sensors with causes; this is where LiNGAM has always worked);
- otherwise keeps PC's graph, and orients an undetermined group of sensors by LiNGAM's causal
  order only where at most one of its sensors has near-Gaussian noise (LiNGAM's own condition
  for identifiability, Shimizu et al. 2006); other groups stay undetermined;
- in both cases drops an edge that FCI's marks show to be a hidden common cause.

References
----------
S. Shimizu, P. Hoyer, A. Hyvarinen, A. Kerminen (2006). A linear non-Gaussian acyclic model for
    causal discovery. JMLR 7, 2003-2030.
P. Spirtes, C. Glymour, R. Scheines (2000). Causation, Prediction, and Search, 2nd ed. MIT Press.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rca_app.core.constraint_search import (
    PCResult,
    PCSettings,
    consistent_extensions,
    hidden_cause_pairs,
    tiered_pc,
)

DISCOVERY_METHODS = ("auto", "lingam", "pc", "fci")
# "Clearly non-Gaussian" plant: this share of the sensors with causes have residuals that fail
# the near-Gaussian check. Two thirds: a plant where a third of the noises look Gaussian has
# within-station pairs with two Gaussian noises more often than not.
NONGAUSSIAN_PLANT_SHARE = 2 / 3


@dataclass
class NumericStructure:
    """The numeric part of one discovery pass.

    Attributes
    ----------
    edges : set of (str, str)
        Directed edges (undetermined ones in the orientation chosen for fitting).
    order : list of str
        A causal order of the numeric sensors consistent with ``edges``.
    coef : ndarray
        Linear coefficients (engineering units), ``coef[child, parent]``, numeric order.
    undetermined : list of (str, str)
        Edges whose direction neither the data nor the layout decide (as oriented in ``edges``).
    hidden_pairs : list of (str, str)
        Pairs FCI marks as linked by an unmeasured common cause (no edge between them).
    method : str
        The method that decided: "lingam", "pc", "fci" or "pc+lingam".
    reason : str
        Why, in plant words.
    """

    edges: set[tuple[str, str]]
    order: list[str]
    coef: np.ndarray
    undetermined: list[tuple[str, str]] = field(default_factory=list)
    hidden_pairs: list[tuple[str, str]] = field(default_factory=list)
    method: str = "lingam"
    reason: str = ""


def linear_coefficients(Xs: np.ndarray, numeric: list[str], edges) -> np.ndarray:
    """Least-squares coefficients of each sensor on its parents (standardised data).

    Parameters
    ----------
    Xs : ndarray
        Standardised data, columns in ``numeric`` order.
    numeric : list of str
    edges : iterable of (str, str)

    Returns
    -------
    ndarray
        ``B[child, parent]``.
    """
    pos = {n: i for i, n in enumerate(numeric)}
    edges = set(edges)
    B = np.zeros((len(numeric), len(numeric)))
    for child in numeric:
        ps = [pos[a] for a in numeric if (a, child) in edges]
        if ps:
            B[pos[child], ps] = np.linalg.lstsq(Xs[:, ps], Xs[:, pos[child]], rcond=None)[0]
    return B


def topological(nodes: list[str], edges) -> list[str]:
    """Nodes in a causal order of ``edges``: of the sensors ready at each step the first in
    ``nodes`` (the layout's order, stations upstream first), so the order never depends on how
    the edges were collected and sensors come as early as the layout lists them.

    Parameters
    ----------
    nodes : list of str
    edges : iterable of (str, str)

    Returns
    -------
    list of str
        Nodes on a cycle (there should be none) come last, in ``nodes`` order.
    """
    import heapq

    pos = {n: i for i, n in enumerate(nodes)}
    indeg = {n: 0 for n in nodes}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a in indeg and b in indeg:
            indeg[b] += 1
            children[a].append(b)
    out: list[str] = []
    ready = [pos[n] for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    while ready:
        n = nodes[heapq.heappop(ready)]
        out.append(n)
        for c in children[n]:
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(ready, pos[c])
    return out + [n for n in nodes if n not in out]


def _one_extension(pc: PCResult, constraints) -> list[tuple[str, str]]:
    """The first DAG of the class the layout allows; if finite-sample marks contradict each other
    so that none is found, a DAG close to them (:func:`acyclic_edges`)."""
    ext = consistent_extensions(pc.nodes, pc.directed, pc.undirected, constraints, limit=1)
    if ext:
        return ext[0]
    return acyclic_edges(pc.nodes, list(pc.directed) + list(pc.undirected), constraints)


def acyclic_edges(nodes: list[str], edges: list[tuple[str, str]], constraints) -> list[tuple[str, str]]:
    """Edges taken in turn, each kept as given unless it would close a cycle, then reversed if the
    layout allows that without a cycle, else left out: always a DAG.

    Parameters
    ----------
    nodes : list of str
    edges : list of (str, str)
        Most trusted first.
    constraints : Constraints

    Returns
    -------
    list of (str, str)
    """
    children: dict[str, set[str]] = {n: set() for n in nodes}

    def reaches(a: str, b: str) -> bool:
        stack, seen = [a], {a}
        while stack:
            n = stack.pop()
            if n == b:
                return True
            for c in children[n] - seen:
                seen.add(c)
                stack.append(c)
        return False

    out = []
    for a, b in edges:
        for s, t in ((a, b), (b, a)):
            if (s, t) != (a, b) and not constraints.allows(s, t):
                continue
            if not reaches(t, s):
                children[s].add(t)
                out.append((s, t))
                break
    return out


def undetermined_groups(undirected: list[tuple[str, str]]) -> list[list[str]]:
    """Sensors joined by undetermined edges (connected components), each sorted.

    Parameters
    ----------
    undirected : list of (str, str)

    Returns
    -------
    list of list of str
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in undirected:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for n in parent:
        groups.setdefault(find(n), []).append(n)
    return [sorted(g) for g in groups.values()]


def near_gaussian_residuals(Xs: np.ndarray, numeric: list[str], edges, serial: bool = False) -> dict[str, bool]:
    """For each sensor with causes: is its residual on its parents near-Gaussian?

    The same rule as the analysis's noise checks (:func:`rca_app.core.discovery.noise_checks`):
    the normality test does not reject, or skewness and excess kurtosis are both small.

    Parameters
    ----------
    Xs : ndarray
        Standardised data, columns in ``numeric`` order.
    numeric : list of str
    edges : iterable of (str, str)
    serial : bool
        Rows are consecutive samples of a time series: the normality test allows for the
        residual's autocorrelation (:func:`~rca_app.core.autocorrelation.normality_pvalue`).

    Returns
    -------
    dict of str to bool
    """
    from scipy import stats

    from rca_app.core.autocorrelation import normality_pvalue

    pos = {n: i for i, n in enumerate(numeric)}
    edges = set(edges)
    out = {}
    for child in numeric:
        ps = [pos[a] for a in numeric if (a, child) in edges]
        if not ps or len(Xs) < 20:
            continue
        y = Xs[:, pos[child]]
        r = y - Xs[:, ps] @ np.linalg.lstsq(Xs[:, ps], y, rcond=None)[0]
        if r.std() == 0:
            continue
        p = normality_pvalue(r, serial)
        out[child] = bool(p > 0.01 or (abs(stats.skew(r)) < 0.15 and abs(stats.kurtosis(r)) < 0.3))
    return out


def constraint_structure(Xs: np.ndarray, numeric: list[str], constraints,
                         fci: bool, serial: bool = False) -> tuple[NumericStructure, PCResult]:
    """PC (or FCI's hidden-cause marks on top) on standardised numeric data.

    Parameters
    ----------
    Xs : ndarray
        Standardised numeric reference data, columns in ``numeric`` order.
    numeric : list of str
    constraints : Constraints
    fci : bool
        Also drop the pairs FCI's marks show to be moved by an unmeasured common cause.
    serial : bool
        Rows are consecutive samples of a time series (:attr:`PCSettings.serial`).

    Returns
    -------
    NumericStructure, PCResult
    """
    pcs = PCSettings(serial=serial)
    pc = tiered_pc(Xs, numeric, constraints, pcs)
    hidden = hidden_cause_pairs(Xs, pc, constraints, pcs) if fci else []
    if hidden:
        gone = {frozenset(e) for e in hidden}
        pc = PCResult(pc.nodes, [e for e in pc.directed if frozenset(e) not in gone],
                      [e for e in pc.undirected if frozenset(e) not in gone], pc.separating_sets, pc.p_values,
                      pc.n_tests)
    dag = _one_extension(pc, constraints)
    und = {frozenset(e) for e in pc.undirected}
    structure = NumericStructure(set(dag), topological(numeric, dag), linear_coefficients(Xs, numeric, dag),
                                 [e for e in dag if frozenset(e) in und], hidden,
                                 "fci" if fci else "pc", "")
    return structure, pc


def choose_auto(Xs: np.ndarray, numeric: list[str], constraints, run_lingam, serial: bool = False) -> NumericStructure:
    """The ``"auto"`` choice (see the module text).

    Parameters
    ----------
    Xs : ndarray
        Standardised numeric reference data, columns in ``numeric`` order.
    numeric : list of str
    constraints : Constraints
    run_lingam : callable
        ``run_lingam() -> (edges, order, coef)``: LiNGAM on the same data, called only if needed.
    serial : bool
        Rows are consecutive samples of a time series: the tests and noise diagnostics allow for
        autocorrelation.

    Returns
    -------
    NumericStructure
    """
    pcs, pc = constraint_structure(Xs, numeric, constraints, fci=False, serial=serial)
    near = near_gaussian_residuals(Xs, numeric, pcs.edges, serial)
    n_near = sum(near.values())
    hidden = {frozenset(e) for e in pcs.hidden_pairs}
    if near and (len(near) - n_near) >= NONGAUSSIAN_PLANT_SHARE * len(near):
        edges, order, coef = run_lingam()
        edges = {e for e in edges if frozenset(e) not in hidden}
        return NumericStructure(edges, order, coef, [], pcs.hidden_pairs, "lingam",
                                f"{len(near) - n_near} of {len(near)} sensors with causes have clearly "
                                "non-Gaussian noise, so LiNGAM can tell cause from effect within a station")
    groups = undetermined_groups(pc.undirected)
    by_lingam = [g for g in groups if sum(near.get(n, True) for n in g) <= 1]
    edges = set(pcs.edges)
    undetermined = list(pcs.undetermined)
    method = "pc"
    if by_lingam:
        _, order, _ = run_lingam()
        rank = {n: i for i, n in enumerate(order)}
        members = {n: i for i, g in enumerate(by_lingam) for n in g}
        for a, b in list(undetermined):
            if a in members and members.get(b) == members[a]:
                edges.discard((a, b))
                edges.add((a, b) if rank[a] < rank[b] else (b, a))
                undetermined.remove((a, b))
        if not _no_cycle(numeric, edges):   # LiNGAM's order against PC's directions: keep PC's
            edges, undetermined = set(pcs.edges), list(pcs.undetermined)
        else:
            method = "pc+lingam"
    reason = (f"{n_near} of {len(near)} sensors with causes have nearly Gaussian noise, so LiNGAM's "
              "directions within a station would be guesses; the constraint-based search (PC) decides "
              "what conditional independences and the layout can")
    if method == "pc+lingam":
        names = "; ".join(", ".join(g) for g in by_lingam)
        reason += f", and LiNGAM orients the groups whose noise is non-Gaussian ({names})"
    coef = linear_coefficients(Xs, numeric, edges)
    return NumericStructure(edges, topological(numeric, edges), coef, undetermined, pcs.hidden_pairs, method,
                            reason)


def _no_cycle(nodes: list[str], edges) -> bool:
    indeg = {n: 0 for n in nodes}
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        indeg[b] += 1
        children[a].append(b)
    ready = [n for n in nodes if indeg[n] == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for c in children[n]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    return seen == len(nodes)

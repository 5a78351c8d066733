"""Tiered constraint-based causal search (PC) for numeric sensors.

LiNGAM orients an edge only through non-Gaussian noise. Where plant noise is close to Gaussian,
the PC algorithm finds what the data can tell without that bet: the skeleton from conditional
independence tests, directions from unshielded colliders and Meek's rules, and everything else
from the plant layout. Edges the data and the layout leave open stay *undetermined* (an edge of
the equivalence class), and the result says so instead of guessing. A collider or Meek rule
reads a missing edge as a fact, so it orients only from pairs that tested clearly apart
(conservative, as in Ramsey et al. 2006): a separation that only just passed may be an edge too
weak for the test, and a within-station direction resting on it would be a guess.

The layout cuts the search before any test runs:

- a pair neither of which may cause the other (two exogenous sensors; the KPI and an exogenous
  sensor with nothing between) is never adjacent;
- separating sets are looked for only among sensors at stations no later than the later of the
  pair. In a DAG whose edges respect the tiers, two non-adjacent sensors are separated by the
  parents of the one that is not an ancestor of the other, and parents never sit downstream;
- an edge between stations points downstream; an edge into an exogenous sensor or out of the
  KPI is impossible; required edges are kept and oriented as given.

Conditional independence is tested on a Gram matrix built once (of the standardised sensors and
their squares), so each test costs a small solve, not a pass over the rows: ``"fisher_z"`` is
the partial-correlation test for linear relations, ``"quadratic"`` a nested F-test that also
sees curved relations (an optimum with no slope), at one more degree of freedom. On time-series
rows (``PCSettings.serial``) the terms first pass one common whitening filter
(:func:`~rca_app.core.autocorrelation.whitening_filter`: linear relations among them are kept, the
noise comes out nearly independent, so the tests keep their power on slowly varying levels), and
each test allows for the autocorrelation that remains: its statistic is divided by Bartlett's
inflation ``1 + 2 sum_k r_a,k r_b,k`` of the two residuals' autocorrelations, read from lagged Gram
matrices built alongside the first (:mod:`rca_app.core.autocorrelation`), and its degrees of
freedom count effective rows.

References
----------
P. Spirtes, C. Glymour, R. Scheines (2000). Causation, Prediction, and Search, 2nd ed. MIT Press.
D. Colombo, M. Maathuis (2014). Order-independent constraint-based causal structure learning.
    JMLR 15, 3741-3782 (the "stable" skeleton used here).
C. Meek (1995). Causal inference and causal explanation with background knowledge. UAI.
J. Ramsey, P. Spirtes, J. Zhang (2006). Adjacency-faithfulness and conservative causal inference.
    UAI.
B. Andrews, P. Spirtes, G. Cooper (2020). On the completeness of causal discovery in the
    presence of latent confounding with tiered background knowledge. AISTATS.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from rca_app.core.ci_tests import GramTests
from rca_app.core.progress import Progress, check_cancel


@dataclass
class PCSettings:
    """Settings of the tiered PC search.

    Parameters
    ----------
    alpha : float
        Significance level of each conditional-independence test (an edge is removed when a
        test's p-value exceeds it).
    test : {"quadratic", "fisher_z"}
        ``"quadratic"``: nested F-test of a linear plus squared term (sees curved relations);
        ``"fisher_z"``: partial correlation (linear relations only, slightly more power there).
    max_condition : int
        Largest separating set tried (bounds the cost on dense plants).
    serial : bool
        Rows are consecutive samples of a time series: tests allow for autocorrelation (module
        text). False: independent rows (parts).
    """

    alpha: float = 0.01
    test: str = "quadratic"
    max_condition: int = 4
    serial: bool = False


@dataclass
class PCResult:
    """What the search found: directed edges, undetermined edges and the evidence.

    Attributes
    ----------
    directed : list of (str, str)
        Edges whose direction the data or the layout decide.
    undirected : list of (str, str)
        Adjacent pairs whose direction neither can decide (sorted by node order).
    separating_sets : dict
        For each removed pair (i, j) with i before j in node order, the set that separated them.
    p_values : dict
        Largest p-value seen for each removed pair (how clearly it was removed).
    n_tests : int
        Conditional-independence tests run.
    """

    nodes: list[str]
    directed: list[tuple[str, str]]
    undirected: list[tuple[str, str]]
    separating_sets: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    p_values: dict[tuple[str, str], float] = field(default_factory=dict)
    n_tests: int = 0


_BATCH = 64
# A separation clear enough to orient by (PC's colliders and Meek's rules, FCI's colliders): a
# p-value no test without power would give often (0.2: a weak chain that merely escaped
# detection is separated at p just above the level).
CLEAR_SEPARATION_P = 0.2


def _may_be_adjacent(constraints, a: str, b: str) -> bool:
    return constraints.allows(a, b) or constraints.allows(b, a)


def tiered_pc(X: np.ndarray, nodes: list[str], constraints, settings: PCSettings | None = None,
              progress: Progress | None = None) -> PCResult:
    """Run the tiered PC search on numeric data.

    Skeleton by order-independent ("stable") PC with the settings' conditional-independence test,
    edges the layout rules out never tested; orientation by layout knowledge first, then unshielded
    colliders that agree with it, then Meek's rules R1-R4.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_nodes)
        Numeric sensor values (reference rows), columns in the order of ``nodes``.
    nodes : list of str
        Sensor names.
    constraints : rca_app.core.layout.Constraints
        The layout's background knowledge (``allows(src, dst)``, ``tier``, ``required``).
    settings : PCSettings, optional
    progress : Progress, optional
        Progress and cancel.

    Returns
    -------
    PCResult

    References
    ----------
    D. Colombo, M. Maathuis (2014). Order-independent constraint-based causal structure learning.
        JMLR 15, 3741-3782.
    C. Meek (1995). Causal inference and causal explanation with background knowledge. UAI.
    """
    settings = settings or PCSettings()
    p = len(nodes)
    tier = np.array([constraints.tier[n] for n in nodes])
    tests = GramTests(np.asarray(X, dtype=float), settings.test, settings.serial)
    required = {(nodes.index(a), nodes.index(b)) for a, b in constraints.required if a in nodes and b in nodes}
    req_pairs = {frozenset(e) for e in required}
    adj = np.zeros((p, p), dtype=bool)
    for a, b in combinations(range(p), 2):
        if _may_be_adjacent(constraints, nodes[a], nodes[b]):
            adj[a, b] = adj[b, a] = True
    sepset: dict[tuple[int, int], tuple[int, ...]] = {}
    pmax: dict[tuple[int, int], float] = {}

    depth = 0
    while depth <= settings.max_condition:
        check_cancel(progress)
        if progress is not None:
            progress.step(f"independence tests with {depth} conditioning sensor(s)",
                          depth / (settings.max_condition + 1))
        frozen = adj.copy()           # PC-stable: neighbourhoods fixed for the whole depth
        any_testable = False
        for a, b in combinations(range(p), 2):
            if not adj[a, b] or frozenset((a, b)) in req_pairs:
                continue
            limit = max(tier[a], tier[b])
            removed = False
            seen: set[tuple[int, ...]] = set()   # a set from both neighbourhoods is tested once
            key = (a, b)
            for x, y in ((a, b), (b, a)):
                cands = [int(k) for k in np.flatnonzero(frozen[x]) if k != y and tier[k] <= limit]
                if len(cands) < depth:
                    continue
                any_testable = True
                todo = [S for S in combinations(cands, depth) if S not in seen]
                seen.update(todo)
                # In batches (one stacked solve each), in the order the one-by-one search would
                # take, stopping at the first batch that separates: the same result, far fewer
                # Python-level calls on plants of a hundred sensors.
                for start in range(0, len(todo), _BATCH):
                    part = todo[start:start + _BATCH]
                    pv = tests.p_values(a, b, part)
                    hit = np.flatnonzero(pv > settings.alpha)
                    upto = int(hit[0]) + 1 if len(hit) else len(part)
                    pmax[key] = max(pmax.get(key, 0.0), float(pv[:upto].max()))
                    if len(hit):
                        adj[a, b] = adj[b, a] = False
                        sepset[key] = part[int(hit[0])]
                        removed = True
                        break
                if removed:
                    break
        if not any_testable:
            break
        depth += 1

    directed = _orient(adj, sepset, nodes, tier, constraints, required, pmax)
    out_dir, out_und = [], []
    for a, b in combinations(range(p), 2):
        if not adj[a, b]:
            continue
        if directed[a, b] and not directed[b, a]:
            out_dir.append((nodes[a], nodes[b]))
        elif directed[b, a] and not directed[a, b]:
            out_dir.append((nodes[b], nodes[a]))
        else:
            out_und.append((nodes[a], nodes[b]))
    return PCResult(
        nodes=list(nodes), directed=out_dir, undirected=out_und,
        separating_sets={(nodes[a], nodes[b]): tuple(nodes[s] for s in S) for (a, b), S in sepset.items()},
        p_values={(nodes[a], nodes[b]): v for (a, b), v in pmax.items() if (a, b) in sepset},
        n_tests=tests.count,
    )


def _orient(adj: np.ndarray, sepset, nodes, tier, constraints, required, pmax=None) -> np.ndarray:
    """Orientation marks: ``d[a, b] and not d[b, a]`` means a -> b; both True means undecided.

    Layout knowledge first (it is certain), then unshielded colliders that agree with it, then
    Meek's rules R1-R4 to a fixed point. Colliders and the rules that read a missing edge
    (R1, R3, R4) use only pairs that are clearly apart (:func:`_clearly_apart`): an
    orientation resting on a separation that only just passed its test stays undetermined."""
    p = len(nodes)
    d = adj.copy()                                  # start undirected: both marks set
    pmax = pmax or {}

    def apart(a: int, b: int) -> bool:
        return _clearly_apart(adj, sepset, pmax, a, b)

    def orient(a: int, b: int) -> bool:
        """Set a -> b if still undecided; False if it contradicts a decided edge."""
        if d[a, b] and not d[b, a]:
            return True
        if d[b, a] and not d[a, b]:
            return False
        d[b, a] = False
        return True

    for a in range(p):
        for b in range(p):
            if a != b and adj[a, b] and not constraints.allows(nodes[b], nodes[a]):
                orient(a, b)
    for a, b in required:
        if adj[a, b]:
            orient(a, b)

    # Unshielded colliders a -> c <- b where c did not separate a and b.
    for c in range(p):
        nb = np.flatnonzero(adj[c])
        for a, b in combinations(nb, 2):
            if not apart(a, b):
                continue
            key = (min(a, b), max(a, b))
            if c in sepset.get(key, ()):
                continue
            # Only where the layout allows both arrows into c; otherwise the layout wins.
            if constraints.allows(nodes[a], nodes[c]) and constraints.allows(nodes[b], nodes[c]) \
                    and not (d[c, a] and not d[a, c]) and not (d[c, b] and not d[b, c]):
                orient(a, c)
                orient(b, c)

    def directed(a, b):
        return d[a, b] and not d[b, a]

    def undirected(a, b):
        return d[a, b] and d[b, a]

    changed = True
    while changed:
        changed = False
        for a in range(p):
            for b in range(p):
                if a == b or not undirected(a, b):
                    continue
                # R1: c -> a - b, c and b not adjacent  =>  a -> b
                r1 = any(directed(c, a) and apart(c, b) for c in range(p) if c != b)
                # R2: a -> c -> b and a - b  =>  a -> b
                r2 = any(directed(a, c) and directed(c, b) for c in range(p))
                # R3: a - c -> b, a - e -> b, c and e not adjacent  =>  a -> b
                cs = [c for c in range(p) if undirected(a, c) and directed(c, b)]
                r3 = any(apart(c, e) for c, e in combinations(cs, 2))
                # R4: a - c -> e -> b with c and b not adjacent and a adjacent to e => a -> b
                r4 = any(undirected(a, c) and directed(c, e) and directed(e, b) and apart(c, b)
                         and adj[a, e] for c in range(p) for e in range(p) if len({a, b, c, e}) == 4)
                if (r1 or r2 or r3 or r4) and constraints.allows(nodes[a], nodes[b]):
                    orient(a, b)
                    changed = True
    return d


def _clearly_apart(adj: np.ndarray, sepset, pmax, a: int, b: int) -> bool:
    """Are sensors ``a`` and ``b`` non-adjacent with evidence enough to orient by it?

    Colliders and Meek's rules read a missing edge as a fact: R1 orients ``c -> a - b`` into
    ``a -> b`` because ``a`` separated ``c`` and ``b``. When that separation only just passed (its
    p-value below :data:`CLEAR_SEPARATION_P`), the edge may as well be there, too weak for the
    test: the triple is ambiguous, as in conservative PC (Ramsey et al. 2006), and is not used.
    Pairs the layout keeps apart were never tested and are apart for certain.

    Parameters
    ----------
    adj : ndarray of bool
        The skeleton.
    sepset, pmax : dict
        Separating sets and the largest p-value seen, keyed by ``(i, j)`` with ``i < j``.
    a, b : int

    Returns
    -------
    bool

    References
    ----------
    J. Ramsey, P. Spirtes, J. Zhang (2006). Adjacency-faithfulness and conservative causal inference.
        UAI.
    """
    if adj[a, b]:
        return False
    key = (min(a, b), max(a, b))
    return key not in sepset or pmax.get(key, 1.0) >= CLEAR_SEPARATION_P


def consistent_extensions(nodes: list[str], directed: list[tuple[str, str]], undirected: list[tuple[str, str]],
                          constraints, limit: int = 64, max_steps: int = 20000) -> list[list[tuple[str, str]]]:
    """DAGs of the equivalence class that the layout allows: each undetermined edge oriented so
    that no cycle and no new unshielded collider appears. At most ``limit`` are returned (in a
    fixed order); the first is the one that follows node order where it may.

    Parameters
    ----------
    nodes, directed, undirected
        A :class:`PCResult`'s fields.
    constraints : Constraints
    limit : int
        Most DAGs returned (the count grows fast with large undirected components).
    max_steps : int
        Partial orientations tried before the search gives up (with what it found so far).

    Returns
    -------
    list of list of (str, str)
        Each a complete edge list.
    """
    pos = {n: i for i, n in enumerate(nodes)}
    und = sorted(undirected, key=lambda e: (pos[e[0]], pos[e[1]]))
    base = list(directed)
    adjacent = {frozenset(e) for e in directed + undirected}
    out: list[list[tuple[str, str]]] = []

    def parents_of(edges, n):
        return {a for a, b in edges if b == n}

    def acyclic(edges) -> bool:
        children: dict[str, list[str]] = {}
        indeg = {n: 0 for n in nodes}
        for a, b in edges:
            children.setdefault(a, []).append(b)
            indeg[b] += 1
        ready = [n for n in nodes if indeg[n] == 0]
        seen = 0
        while ready:
            n = ready.pop()
            seen += 1
            for c in children.get(n, []):
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        return seen == len(nodes)

    def new_collider(edges, a, b) -> bool:
        # a -> b: a collider at b with any other parent of b not adjacent to a.
        return any(frozenset((a, c)) not in adjacent for c in parents_of(edges, b) if c != a)

    steps = [0]

    def extend(i: int, edges: list[tuple[str, str]]) -> None:
        # A bounded search: where finite-sample marks contradict each other no member exists,
        # and proving that would take exponentially many steps.
        steps[0] += 1
        if len(out) >= limit or steps[0] > max_steps:
            return
        if i == len(und):
            out.append(list(edges))
            return
        a, b = und[i]
        for s, t in ((a, b), (b, a)):
            if not constraints.allows(s, t):
                continue
            trial = edges + [(s, t)]
            if new_collider(edges, s, t) or not acyclic(trial):
                continue
            extend(i + 1, trial)

    if acyclic(base):       # conflicting marks can leave the directed part cyclic: no member
        extend(0, base)
    # A collider created through an edge oriented later than its partner is checked above only
    # from one side; recheck every result against the class's own colliders.
    return [e for e in out if _same_colliders(e, base, adjacent)]


def _same_colliders(edges, base, adjacent) -> bool:
    parents: dict[str, set[str]] = {}
    for a, b in edges:
        parents.setdefault(b, set()).add(a)
    base_set = set(base)
    for b, ps in parents.items():
        for a, c in combinations(sorted(ps), 2):
            if frozenset((a, c)) not in adjacent and not ((a, b) in base_set and (c, b) in base_set):
                return False
    return True


# A hidden common cause is a strong claim, so its colliders need clear evidence on both sides:
# the pair clearly separated (CLEAR_SEPARATION_P, above), and clearly dependent once the
# collider is added (1e-6: far beyond what curved mechanisms that a quadratic term does not
# fully block leave over on plant-sized histories).
CLEAR_DEPENDENCE_P = 1e-6


def _separated_with(tests, pos, w: str, a: str, b: str, pool: list[str], settings: PCSettings) -> bool:
    """Does some set of at most ``settings.max_condition`` sensors from ``pool``, holding ``b``,
    separate ``w`` and ``a`` at the search's level?"""
    others = [x for x in pool if x != b]
    for size in range(0, min(settings.max_condition, len(others) + 1)):
        for extra in combinations(others, size):
            S = tuple(sorted(pos[x] for x in (b, *extra)))
            if tests.p_value(pos[w], pos[a], S) > settings.alpha:
                return True
    return False


def hidden_cause_pairs(X: np.ndarray, result: PCResult, constraints, settings: PCSettings | None = None
                       ) -> list[tuple[str, str]]:
    """Adjacent pairs that FCI's orientation marks as linked only by an unmeasured cause (A <-> B).

    FCI reads an arrowhead at ``b`` on the edge a - b from the layout (a later station cannot
    cause an earlier one) and from every unshielded collider ``w *-> b <-* a`` (``w`` and ``a``
    separated by a set without ``b``). An edge with arrowheads at both ends says that neither
    sensor causes the other, yet they are dependent: something unmeasured acts on both. Each
    collider is kept only when ``w`` and ``a`` are also clearly dependent given the separating
    set plus ``b`` (the conservative check of Ramsey et al.), so that one borderline test does not
    invent a hidden cause. The possible-d-separation step of full FCI is left out: under tiers it
    rarely removes an edge, and its cost grows fast with the plant.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_nodes)
        The data the search ran on, columns in ``result.nodes`` order.
    result : PCResult
        The tiered search's skeleton and separating sets.
    constraints : Constraints
    settings : PCSettings, optional
        The test and level (those of the search).

    Returns
    -------
    list of (str, str)
        Pairs in node order.

    References
    ----------
    J. Zhang (2008). On the completeness of orientation rules for causal discovery in the presence
        of latent confounders and selection bias. Artificial Intelligence 172, 1873-1896.
    J. Ramsey, P. Spirtes, J. Zhang (2006). Adjacency-faithfulness and conservative causal inference.
        UAI.
    B. Andrews, P. Spirtes, G. Cooper (2020). On the completeness of causal discovery in the
        presence of latent confounding with tiered background knowledge. AISTATS.
    """
    settings = settings or PCSettings()
    nodes = result.nodes
    pos = {n: i for i, n in enumerate(nodes)}
    adjacent = {frozenset(e) for e in result.directed + result.undirected}
    tests = GramTests(np.asarray(X, dtype=float), settings.test, settings.serial)
    arrow: set[tuple[str, str]] = set()       # (a, b): arrowhead at b on the edge a - b
    for a, b in result.directed + result.undirected:
        for s, t in ((a, b), (b, a)):
            if not constraints.allows(t, s):  # the layout: t cannot cause s
                arrow.add((s, t))
    neighbours: dict[str, set[str]] = {n: set() for n in nodes}
    for e in adjacent:
        a, b = tuple(e)
        neighbours[a].add(b)
        neighbours[b].add(a)
    for (w, a), sep in result.separating_sets.items():
        # A separation that only just passed (the largest p-value seen barely above the level)
        # is as likely a test without power as a true independence: no collider from it.
        if result.p_values.get((w, a), 1.0) < CLEAR_SEPARATION_P:
            continue
        limit = max(constraints.tier[w], constraints.tier[a])
        pool = sorted((neighbours[w] | neighbours[a]) - {w, a}, key=pos.__getitem__)
        pool = [x for x in pool if constraints.tier[x] <= limit]
        for b in sorted(neighbours[w] & neighbours[a], key=pos.__getitem__):
            if b in sep:
                continue
            cond = tuple(pos[s] for s in sep) + (pos[b],)
            if tests.p_value(pos[w], pos[a], cond) >= CLEAR_DEPENDENCE_P:
                continue
            # Conservative (Ramsey et al.): a collider only if no set of neighbours that holds b
            # separates the pair; a fork whose two paths cancel is separated by both parents.
            if _separated_with(tests, pos, w, a, b, pool, settings):
                continue
            arrow.add((w, b))
            arrow.add((a, b))
    out = []
    for e in adjacent:
        a, b = sorted(e, key=pos.__getitem__)
        if (a, b) in arrow and (b, a) in arrow and (a, b) not in constraints.required:
            out.append((a, b))
    return sorted(out, key=lambda e: (pos[e[0]], pos[e[1]]))

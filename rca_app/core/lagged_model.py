"""Lagged edges in the structural causal model (a VAR-LiNGAM style model of time-series data).

Discovery on aligned rows gives the contemporaneous structure (within the tiers); the lagged
edges (:mod:`rca_app.core.lagged`: declared recycles, self-lags) and declared control loops add
the part over time. As in a structural vector autoregression,

    x(t) = B0 x(t) + B1 x(t - 1) + ... + e(t),

the lagged part enters the model as extra parent columns: a sensor ``X`` seen ``L`` rows earlier
is the column ``X[t-L]``, a parentless node of the model's graph with an edge to every sensor
whose mechanism takes it. The mechanisms are fitted, cross-fitted and refitted exactly as
before; only the queries change: a counterfactual (a restoration, an action) is propagated
through time, so that a change of ``X`` over the incident rows reaches ``X[t-L]`` ``L`` rows
later (a recycle carries a restoration forward; a controller answers its controlled variable
from the next row; a slow sensor settles at its own pace). Row-per-part data get no lagged
columns, and every query is then the row-by-row one.

Which lagged inputs go in the model:

- a declared recycle's edge the data confirm (``kind="recycle"``), at its lag in aligned rows
  (the physical lag plus the target's alignment shift minus the source's);
- a self-lag (``kind="self"``): ``X[t-1]`` and, for each contemporaneous parent ``P`` of ``X``,
  ``P[t-1]`` (with both, the model holds a sensor that settles slowly after its inputs move, a
  mixing volume, as well as one whose own noise is merely autocorrelated; with ``X[t-1]`` alone
  the second would get a parent's effect 1 / (1 - phi) times too large);
- a declared control loop (recorded as its ``LoopRecord.in_model``): the controller acts within the row and the process
  answers from the next one, so the manipulated variable (MV) takes the controlled one (CV) at
  the same time and both their pasts (a PI law in velocity form), and the CV takes its load, its
  own past and the MV's past. The CV's noise is then what the controller could not see coming,
  which an incident upstream does not move; the same-row MV -> CV the layout fixes for
  discovery is replaced by CV -> MV. Proposed recycles are never used silently.

References
----------
Hyvärinen, A., Zhang, K., Shimizu, S., Hoyer, P. O. (2010). Estimation of a structural vector
autoregression model using non-Gaussianity. JMLR 11, 1709-1731.
Ljung, L. (1999). System Identification: Theory for the User, 2nd ed., ch. 13 (closed-loop
identification: a one-sample delay in the loop makes the direct approach consistent).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.grid_holes import BRIDGE_STEPS
from rca_app.core.results import LaggedEdge
from rca_app.core.support import hold_within, value_bounds

_LAG_NAME = re.compile(r"^(?P<source>.+)\[t-(?P<lag>[1-9][0-9]*)\]$")


def lag_name(source: str, lag: int) -> str:
    """The column holding ``source`` seen ``lag`` rows earlier: ``"source[t-lag]"``."""
    return f"{source}[t-{lag}]"


@dataclass(frozen=True)
class LagInput:
    """A lagged copy of a sensor in the model: ``node`` holds ``source`` ``lag`` rows earlier."""

    node: str
    source: str
    lag: int


def lag_inputs(scm) -> list[LagInput]:
    """The lagged columns of a fitted model (nodes named ``X[t-L]`` whose ``X`` is a node too).

    Parameters
    ----------
    scm : StructuralCausalModel

    Returns
    -------
    list of LagInput
        Empty for a model of row-per-part data.
    """
    cache = scm.__dict__.get("_lag_inputs")
    if cache is not None and cache[0] is scm.graph:
        return cache[1]
    out = lag_inputs_of(scm.graph.nodes)
    scm.__dict__["_lag_inputs"] = (scm.graph, out)
    return out


def lag_inputs_of(nodes) -> list[LagInput]:
    """:func:`lag_inputs` of a list of node names."""
    have = set(nodes)
    out = []
    for n in nodes:
        m = _LAG_NAME.match(n)
        if m and m["source"] in have:
            out.append(LagInput(n, m["source"], int(m["lag"])))
    return out


@dataclass
class LaggedPlan:
    """The lagged inputs of one model and the graph changes they bring.

    Attributes
    ----------
    inputs : dict of (str, int) to list of str
        ``(source, lag)`` -> the sensors that take ``source[t-lag]`` as an input.
    loops : list of (str, str)
        Declared loops ``(CV, MV)`` the model holds over time.
    same_time : tuple of Edge or None
        The model's same-row edges when a loop turned one (``MV -> CV`` became ``CV -> MV``);
        None: the graph's own.
    """

    inputs: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    loops: list[tuple[str, str]] = field(default_factory=list)
    same_time: tuple[Edge, ...] | None = None

    def add(self, source: str, lag: int, target: str) -> None:
        targets = self.inputs.setdefault((source, lag), [])
        if target not in targets:
            targets.append(target)

    @property
    def max_lag(self) -> int:
        return max((k for _, k in self.inputs), default=0)


def plan_lagged_inputs(edges: list[LaggedEdge], loops, graph: CausalGraph, shifts: dict[str, int],
                       numeric: set[str]) -> LaggedPlan:
    """Which lagged inputs the model takes (see the module docstring), and the records.

    Parameters
    ----------
    edges : list of LaggedEdge
        Found by :func:`rca_app.core.lagged.lagged_edges` (physical lags); those put in the
        model get ``in_model = True``.
    loops : list of Loop
        The layout's declared control loops.
    graph : CausalGraph
        The contemporaneous graph (aligned rows).
    shifts : dict
        Grid steps each sensor was moved forward by in the alignment.
    numeric : set of str
        Numeric sensors (categorical ones get no lagged inputs).

    Returns
    -------
    LaggedPlan
    """
    plan = LaggedPlan()
    nodes = set(graph.nodes)
    looped: set[str] = set()
    for lp in loops:
        cv, mv = lp.controlled, lp.manipulated
        if not {cv, mv} <= nodes or not {cv, mv} <= numeric or cv in looped or mv in looped:
            continue
        # The controller answers the CV within the row; the process answers the MV from the next.
        # The turned edge keeps what discovery knew of it (its bootstrap confidence).
        old = graph.edge(mv, cv)
        same = [x for x in graph.edges if x.key != (mv, cv)]
        if graph.edge(cv, mv) is None:
            same.append(replace(old, source=cv, target=mv) if old is not None else Edge(cv, mv, origin="required"))
        turned = graph.with_edges(same)
        if turned.find_cycle() is not None:
            continue   # the graph has MV reaching CV another way: the loop stays as discovered
        graph, plan.same_time = turned, tuple(same)
        looped |= {cv, mv}
        for src, dst in ((cv, cv), (mv, cv), (mv, mv), (cv, mv)):
            plan.add(src, 1, dst)
        plan.loops.append((cv, mv))
    for e in edges:
        if e.source not in nodes or e.target not in nodes or not {e.source, e.target} <= numeric:
            continue
        if e.kind == "recycle":
            # Aligned row t holds X from shift[X] steps before: the lag between the aligned columns.
            lag = e.lag_steps + shifts.get(e.target, 0) - shifts.get(e.source, 0)
            if lag >= 1:
                plan.add(e.source, lag, e.target)
                e.in_model = True
        elif e.kind == "self":
            plan.add(e.source, 1, e.target)
            for p in graph.parents(e.target):
                if p in numeric:
                    plan.add(p, 1, e.target)
            e.in_model = True
    return plan


def stepping_calls(graph: CausalGraph, n_time: int) -> int:
    """Mechanism evaluations one query of ``n_time`` incident rows costs when it goes block by
    block (:func:`propagate_in_time`), at most: blocks times the nodes that go block by block.

    Parameters
    ----------
    graph : CausalGraph
        The model's graph, with its lagged columns.
    n_time : int

    Returns
    -------
    int
    """
    inputs = lag_inputs_of(graph.nodes)
    if not inputs:
        return 0
    stepped: set[str] = set()
    for li in inputs:
        stepped |= set(graph.ancestors(li.source)) | {li.source}
    stepped -= {li.node for li in inputs}
    block = min(li.lag for li in inputs)
    return -(-n_time // block) * len(stepped)


def apply_lagged_plan(plan: LaggedPlan, frame: pd.DataFrame, graph: CausalGraph
                      ) -> tuple[pd.DataFrame, CausalGraph]:
    """The aligned table with the lagged columns and the model's graph with their edges.

    Parameters
    ----------
    plan : LaggedPlan
    frame : DataFrame
        Aligned rows in time order (all of them: a lagged column reaches before the windows).
    graph : CausalGraph

    Returns
    -------
    (DataFrame, CausalGraph)
        The first ``plan.max_lag`` rows have no value in some lagged column.
    """
    cols = {lag_name(src, k): frame[src].shift(k) for (src, k) in plan.inputs}
    out = frame.assign(**cols) if cols else frame
    edges = list(plan.same_time if plan.same_time is not None else graph.edges)
    for (src, k), targets in plan.inputs.items():
        edges += [Edge(lag_name(src, k), t, origin="required") for t in targets]
    nodes = tuple(graph.nodes) + tuple(cols)
    return out, CausalGraph(nodes, tuple(edges))


def contemporaneous_graph(graph: CausalGraph, loops) -> CausalGraph:
    """A model's graph given back as a graph to analyse with (the engineer's, the impact check's):
    the lagged columns left out and each declared loop's same-row edge turned back to MV -> CV as
    the layout fixes it for discovery (the lagged model turns it again).

    Parameters
    ----------
    graph : CausalGraph
    loops : list of Loop

    Returns
    -------
    CausalGraph
        ``graph`` itself when it has no lagged columns.
    """
    if not lag_inputs_of(graph.nodes):
        return graph
    keys = graph.edge_keys
    turned = {(lp.controlled, lp.manipulated) for lp in loops
              if (lag_name(lp.manipulated, 1), lp.controlled) in keys}
    out = summary_graph(graph)
    return out.with_edges([replace(e, source=e.target, target=e.source) if e.key in turned else e
                           for e in out.edges])


def model_edge_key(graph: CausalGraph, source: str, target: str) -> tuple[str, str]:
    """The model's edge behind a drawn one: the same-row edge, else the shortest lagged input of
    ``source`` into ``target`` (a loop's valve acts on its temperature from the next row)."""
    if (source, target) in graph.edge_keys:
        return (source, target)
    lagged = sorted((li.lag, li.node) for li in lag_inputs_of(graph.nodes) if li.source == source
                    and (li.node, target) in graph.edge_keys)
    return (lagged[0][1], target) if lagged else (source, target)


def summary_graph(graph: CausalGraph) -> CausalGraph:
    """The model's graph without its lagged columns (the contemporaneous part, as drawn)."""
    lagged = {li.node for li in lag_inputs_of(graph.nodes)}
    if not lagged:
        return graph
    return CausalGraph(tuple(n for n in graph.nodes if n not in lagged),
                       tuple(e for e in graph.edges if e.source not in lagged))


# --------------------------------------------------------------------------------------------
# Queries through time
# --------------------------------------------------------------------------------------------
@dataclass
class Scenario:
    """One counterfactual over the incident rows: some nodes' noise replaced, some held (do).

    Arrays have one entry per (replica, incident row), replica-major, as the query's base rows.
    """

    noise: dict[str, np.ndarray] = field(default_factory=dict)
    setting: dict[str, np.ndarray] = field(default_factory=dict)


def time_ancestors(scm, node: str) -> set[str]:
    """``node``'s ancestors over time, without the lagged columns: a sensor whose past reaches
    ``node`` through a lagged input counts (a controller's valve acting on its temperature from
    the next row, a recycle's source).

    Parameters
    ----------
    scm : StructuralCausalModel
    node : str

    Returns
    -------
    set of str
    """
    inputs = lag_inputs(scm)
    return _closure(scm, node, inputs) - {node} - {li.node for li in inputs}


def _closure(scm, stop_at: str, inputs: list[LagInput]) -> set[str]:
    """``stop_at``'s ancestors over time: through a lagged column to its source's ancestors."""
    by_node = {li.node: li for li in inputs}
    need = set(scm.graph.ancestors(stop_at)) | {stop_at}
    todo = [n for n in need if n in by_node]
    while todo:
        src = by_node[todo.pop()].source
        for m in set(scm.graph.ancestors(src)) | {src}:
            if m not in need:
                need.add(m)
                if m in by_node:
                    todo.append(m)
    return need


def propagate_in_time(scm, base: dict[str, np.ndarray], noise: dict[str, np.ndarray],
                      scenarios: list[Scenario], stop_at: str, n_time: int, changed=(),
                      bounds: dict[str, tuple[float, float]] | None = None) -> np.ndarray:
    """``stop_at``'s values under each scenario, the incident rows propagated in time order.

    Rows are ``reps`` replicas of the ``n_time`` incident rows (replica-major). A lagged column
    ``X[t-L]`` takes the scenario's ``X`` from ``L`` rows earlier where that row is in the
    incident, and keeps its observed value before (the counterfactual starts with the incident).
    Rows are processed in blocks of the shortest lag, every block after the ones it looks back
    to; only the nodes a lagged column's source depends on go block by block, the rest at once.

    Parameters
    ----------
    scm : StructuralCausalModel
    base, noise : dict
        Encoded rows and their abducted noise (``reps * n_time`` rows).
    scenarios : list of Scenario
    stop_at : str
        The node whose values are returned.
    n_time : int
        Incident rows.
    changed : iterable of str
        Nodes whose ``noise`` was already replaced (in every scenario).
    bounds : dict, optional
        Range each computed node is held within (default: what the plant showed,
        :func:`~rca_app.core.support.value_bounds`); ``{}`` for none.

    Returns
    -------
    ndarray, shape (len(scenarios), reps * n_time)
    """
    inputs = lag_inputs(scm)
    n = len(base[stop_at])
    reps = n // n_time
    s_count = len(scenarios)
    need = _closure(scm, stop_at, inputs)
    by_node = {li.node: li for li in inputs if li.node in need}
    changed = set(changed).union(*({*sc.noise, *sc.setting} for sc in scenarios))
    # Nodes a scenario can move (over time too); the others keep their observed values.
    dirty = set()
    grew = True
    while grew:
        grew = False
        for node in scm.order_:
            if node in dirty or node not in need:
                continue
            li = by_node.get(node)
            moved = node in changed or (li.source in dirty if li else
                                         any(p in dirty for p in scm.graph.parents(node)))
            if moved:
                dirty.add(node)
                grew = True
    # Go block by block: a lagged column's source and everything it depends on at the same time.
    stepped: set[str] = set()
    for li in by_node.values():
        if li.source in dirty:
            stepped |= (set(scm.graph.ancestors(li.source)) | {li.source}) & dirty
    lags = [li for li in by_node.values() if li.source in dirty]
    block = min((li.lag for li in lags), default=n_time)
    # Incident rows with holes between them (rows dropped for a missing value): a lagged input
    # looks back in grid steps, not rows (see lag_sources).
    steps = incident_steps(scm, n_time)
    sources = {li.node: lag_sources(steps, li.lag) for li in lags} if steps is not None else {}
    vals = {k: np.broadcast_to(base[k].reshape(reps, n_time), (s_count, reps, n_time)).copy()
            for k in dirty}
    noises: dict[str, np.ndarray] = {}
    settings: dict[str, list[tuple[int, np.ndarray]]] = {}
    affine: dict[str, tuple[float, list[tuple[str, float]]] | None] = {}
    for node in dirty:
        if node in by_node or node not in scm.mechanisms_:
            continue
        z = noise[node].reshape((reps, n_time) + noise[node].shape[1:])
        noises[node] = np.broadcast_to(z, (s_count,) + z.shape).copy()
        for i, sc in enumerate(scenarios):
            if node in sc.noise:
                noises[node][i] = sc.noise[node].reshape(z.shape)
            if node in sc.setting:
                settings.setdefault(node, []).append((i, np.asarray(sc.setting[node]).reshape(reps, n_time)))
        affine[node] = _affine(scm.mechanisms_[node])
    # Computed values stay within what the plant showed: a fitted recursion whose gain exceeds
    # one would otherwise compound a change row after row (rca_app.core.support).
    if bounds is None:
        bounds = value_bounds(scm, base, dirty)

    def _compute(node: str, t0: int, t1: int) -> None:
        li = by_node.get(node)
        if li is not None and node in sources:
            # The scenario's change of the source at the row it looks back to, on the observed
            # lagged value (which was read on the complete grid, across the holes).
            rows = np.arange(t0, t1)
            rows = rows[sources[node][rows] >= 0]
            if len(rows):
                back = sources[node][rows]
                b_node, b_src = base[node].reshape(reps, n_time), base[li.source].reshape(reps, n_time)
                vals[node][:, :, rows] = b_node[:, rows] + (vals[li.source][:, :, back] - b_src[:, back])
            return
        if li is not None:
            lo = max(t0, li.lag)
            if lo < t1:
                vals[node][:, :, lo:t1] = vals[li.source][:, :, lo - li.lag:t1 - li.lag]
            return
        mech = scm.mechanisms_.get(node)
        if mech is None:
            return

        def parent(p: str) -> np.ndarray:
            return vals[p][:, :, t0:t1] if p in vals else base[p].reshape(reps, n_time)[:, t0:t1]

        form = affine[node]
        if form is not None:
            # A linear mechanism of numeric parents: its affine form, without building features
            # for every block (the block-by-block loop is otherwise dominated by that overhead).
            b0, weights = form
            out = b0 + noises[node][:, :, t0:t1]
            for p, w in weights:
                out = out + w * parent(p)
            vals[node][:, :, t0:t1] = hold_within(out, bounds.get(node))
        else:
            m = s_count * reps * (t1 - t0)
            cols = {node: np.zeros(m)}
            for p in mech.parents:
                cols[p] = np.ascontiguousarray(np.broadcast_to(parent(p), (s_count, reps, t1 - t0))).reshape(-1)
            z = noises[node][:, :, t0:t1]
            z = z.reshape((m,) + z.shape[3:])
            out = hold_within(mech.assign(cols, z), bounds.get(node))
            vals[node][:, :, t0:t1] = out.reshape(s_count, reps, t1 - t0)
        for i, v in settings.get(node, ()):
            vals[node][i, :, t0:t1] = v[:, t0:t1]

    order = [n for n in scm.order_ if n in dirty]
    if stepped:
        for t0, t1 in _blocks(n_time, block, list(sources.values())):
            for node in order:
                if node in stepped or node in by_node:
                    _compute(node, t0, t1)
    for node in order:
        if node not in stepped and node not in by_node:
            _compute(node, 0, n_time)
    if stop_at in vals:
        return vals[stop_at].reshape(s_count, n)
    return np.broadcast_to(base[stop_at], (s_count, n)).copy()


def _blocks(n_time: int, block: int, sources: list[np.ndarray]) -> list[tuple[int, int]]:
    """Row ranges to compute one after another: every row's lagged inputs look back to rows of
    earlier ranges. Without holes, ranges of the shortest lag; with holes (``sources`` from
    :func:`lag_sources`), each range ends before the first row that looks back into it."""
    if not sources:
        return [(t0, min(n_time, t0 + block)) for t0 in range(0, n_time, block)]
    # Rows look back to earlier rows only; the running maximum keeps the search monotone.
    back = np.maximum.accumulate(np.max(np.vstack(sources), axis=0))
    out, t0 = [], 0
    while t0 < n_time:
        t1 = t0 + 1 + int(np.searchsorted(back[t0 + 1:], t0, side="left"))
        out.append((t0, min(n_time, t1)))
        t0 = t1
    return out


def lag_sources(steps: np.ndarray, lag: int, bridge: int = BRIDGE_STEPS) -> np.ndarray:
    """For each incident row, the incident row whose scenario change its lagged input takes.

    Row ``r`` at grid step ``steps[r]`` looks back to grid step ``steps[r] - lag``: the incident
    row there, or, where that step is a hole, the last incident row before it when it is at most
    ``bridge`` steps earlier (the change carried across a dropout, as a sensor's single missing
    sample is bridged, core/grid_holes.py). Further back, across a longer hole, the change is
    unknown and the lagged input keeps its observed value, as it does before the incident (-1).

    Parameters
    ----------
    steps : ndarray of int
        Each incident row's grid step from the first (strictly increasing, ``steps[0] = 0``).
    lag : int
        In grid steps.
    bridge : int

    Returns
    -------
    ndarray of int
        Row index, or -1.
    """
    want = steps - lag
    back = np.searchsorted(steps, want, side="right") - 1
    ok = (want >= 0) & (back >= 0)
    ok &= want - steps[np.maximum(back, 0)] <= bridge
    return np.where(ok, back, -1)


def incident_steps(scm, n_time: int) -> np.ndarray | None:
    """The incident rows' grid steps set by :func:`mark_incident_rows` (None: the rows are
    consecutive grid steps, or the query is on other rows)."""
    steps = scm.__dict__.get("incident_steps_")
    if steps is None or len(steps) != n_time:
        return None
    return steps


def _affine(mech) -> tuple[float, list[tuple[str, float]]] | None:
    """``(b0, [(parent, weight)])`` with ``predict = b0 + sum(weight * parent)`` for a linear
    mechanism of numeric parents with additive noise; None for any other kind."""
    from rca_app.core.mechanisms import LinearMechanism, Mechanism

    if type(mech) is not LinearMechanism or type(mech).assign is not Mechanism.assign or mech.design.n_dummies:
        return None
    k = len(mech.parents)
    basis = {p: np.eye(k + 1)[i + 1] for i, p in enumerate(mech.parents)}
    basis[mech.node] = np.zeros(k + 1)
    f = mech.predict(basis)
    return float(f[0]), [(p, float(f[i + 1] - f[0])) for i, p in enumerate(mech.parents)]


def with_setting(scenario: Scenario, node: str, value, n: int, dtype) -> Scenario:
    """``scenario`` with ``node`` held at ``value`` (a scalar or one value per row)."""
    arr = np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()
    return replace(scenario, setting={**scenario.setting, node: arr})


def mark_incident_rows(scm, incident: pd.DataFrame, target: str, steps: np.ndarray | None = None) -> None:
    """Tell the model's row-by-row queries (:func:`rca_app.core.queries.propagate`) which rows
    are the incident's, so that replicas of them propagate in time too (rows of another period
    are recognised by their KPI values and go row by row); ``steps``: each incident row's grid
    step from the first, when rows were dropped between them (:func:`lag_sources`)."""
    if lag_inputs(scm):
        scm.incident_rows_ = (len(incident), target, incident[target].to_numpy(float))
        consecutive = steps is None or (len(steps) == len(incident) and np.array_equal(steps, np.arange(len(steps))))
        if consecutive:
            scm.__dict__.pop("incident_steps_", None)
        else:
            scm.incident_steps_ = np.asarray(steps, dtype=np.int64)


def incident_replicas(scm, base: dict[str, np.ndarray]) -> int | None:
    """The incident's row count when ``base`` holds replicas of the incident rows marked by
    :func:`mark_incident_rows`, else None."""
    mark = getattr(scm, "incident_rows_", None)
    if mark is None or not lag_inputs(scm):
        return None
    n_time, target, kpi = mark
    rows = base.get(target)
    if rows is None or n_time == 0 or len(rows) % n_time or not np.array_equal(rows[:n_time], kpi):
        return None
    return n_time



def add_lagged_columns(frame: pd.DataFrame, nodes) -> pd.DataFrame:
    """``frame`` (rows in time order) with the lagged columns of ``nodes`` it lacks, each its
    source shifted within the frame; a row with no past in the frame holds the source's first
    value. For queries of a model with lagged inputs on rows other than the analysis's (a change
    check on the rows before and after it).

    Parameters
    ----------
    frame : DataFrame
    nodes : iterable of str
        The model's graph nodes.

    Returns
    -------
    DataFrame
    """
    missing = [li for li in lag_inputs_of(list(nodes)) if li.node not in frame.columns and li.source in frame.columns]
    if not missing:
        return frame
    return frame.assign(**{li.node: frame[li.source].shift(li.lag).bfill() for li in missing})


# A model over time whose whole plant, restored to its reference behaviour, sends the KPI further
# from its reference mean than this many reference sds (beyond the incident's own distance) is
# amplifying itself: lagged coefficients fitted on a short or closed-loop history can make the
# estimated dynamics unstable, and a counterfactual run through a few hundred rows then grows
# without bound (1e24 and more was seen on the Tennessee Eastman benchmark).
DIVERGENCE_SDS = 50.0


def diverges(scm, incident: pd.DataFrame, target: str, seed: int = 0, n_probe: int = 5) -> bool:
    """Whether the model over time blows up on the incident rows.

    Counterfactuals like the ranking's are run through time: the whole plant restored to its
    reference behaviour, and each of the ``n_probe`` sensors whose own noise moved most in the
    incident restored alone (the candidates most likely to carry the model far outside the rows
    it was fitted on). A stable model keeps the KPI within :data:`DIVERGENCE_SDS` reference sds
    (beyond the incident's own distance); an unstable one does not.

    Parameters
    ----------
    scm : StructuralCausalModel
        With lagged inputs (else False).
    incident : DataFrame
        The incident rows, marked by :func:`mark_incident_rows`.
    target : str
    seed : int
    n_probe : int

    Returns
    -------
    bool
    """
    from rca_app.core.queries import incident_abduction, propagate

    if not lag_inputs(scm) or target not in scm.mechanisms_:
        return False
    ab = incident_abduction(scm, incident)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, scm.n_reference_, size=len(incident))
    nodes = [n for n in scm.order_ if n in scm.mechanisms_ and n in ab.noise and n not in scm.categorical]
    drawn = {n: scm.mechanisms_[n].reference_draws(idx, rng, scm.reference_values_) for n in nodes}

    def moved(n: str) -> float:
        ref_noise = np.asarray(scm.mechanisms_[n].ref_noise, dtype=float)
        sd = float(ref_noise.std()) or 1.0
        return abs(float(np.mean(ab.noise[n])) - float(ref_noise.mean())) / sd

    probes = [set(nodes)] + [{n} for n in sorted(nodes, key=moved, reverse=True)[:n_probe]]
    ref = np.asarray(scm.reference_values_[target], dtype=float)
    sd = float(ref.std()) or 1.0
    bound = DIVERGENCE_SDS + abs(float(np.mean(ab.values[target])) - float(ref.mean())) / sd
    for restored in probes:
        noise = dict(ab.noise)
        noise.update({n: drawn[n] for n in restored})
        with np.errstate(all="ignore"):
            # Unbounded: the model's own dynamics are judged, not what the support bound leaves of them.
            out = np.asarray(propagate(scm, ab.values, noise, set(restored), stop_at=target, bounds={})[target],
                             dtype=float)
        dev = np.abs(out - float(ref.mean())) / sd
        if not np.all(np.isfinite(dev)) or float(dev.max()) > bound:
            return True
    return False

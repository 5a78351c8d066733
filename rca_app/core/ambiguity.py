"""What the data cannot decide, carried into the ranking: undetermined edge directions and
unmeasured common causes.

Undetermined edges. Reference data alone cannot orient an edge of the equivalence class (two
near-Gaussian sensors in one station, no collider, no layout rule). The incident can help: a
fault changes the mechanism of the sensor where it enters and leaves every other mechanism
as it was (the sparse mechanism shift principle), so the orientation under which the fewest
sensors' own noise moves in the incident is the most plausible one
(:func:`choose_orientation`). Whichever is drawn, the ranking is repeated over the other DAGs of
the class the layout allows (:func:`restoration_ranges`), each only refitting the sensors whose
causes differ, and every cause's restoration is reported as the range over them.

Unmeasured common causes. Sensors not joined by an edge whose reference noises move together
(:mod:`rca_app.core.confounding`), or pairs FCI marks, are restored together from the same
reference rows (their joint behaviour kept): if that joint restoration beats every measured
candidate clearly, the top cause is reported as "an unmeasured cause acting on X and Y"
(:func:`hidden_cause_candidates`).

References
----------
B. Schölkopf et al. (2021). Toward causal representation learning. Proc. IEEE 109, 612-634
    (the sparse mechanism shift hypothesis).
R. Perry, J. von Kügelgen, B. Schölkopf (2022). Causal discovery in heterogeneous environments
    under the sparse mechanism shift hypothesis. NeurIPS.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from rca_app.core.confounding import suspected_hidden_causes
from rca_app.core.constraint_search import consistent_extensions
from rca_app.core.graph import CausalGraph
from rca_app.core.queries import abduct, incident_abduction, propagate
from rca_app.core.records import Evidence, RootCause

# Most DAGs of the class the ranking is repeated over (each costs a partial refit and one
# restoration pass); the count grows exponentially with large undetermined groups.
MAX_CLASS_MEMBERS = 8
# An unmeasured cause is put first only when restoring the group together recovers clearly more
# than any measured candidate: a quarter more (smaller gains are within what the restorations'
# own intervals vary on plant-sized incidents).
HIDDEN_CAUSE_MARGIN = 1.25


def undetermined_keys(graph: CausalGraph) -> list[tuple[str, str]]:
    """Edges still undetermined (an engineer's edit, origin "user", decides an edge).

    Parameters
    ----------
    graph : CausalGraph

    Returns
    -------
    list of (str, str)
    """
    return [e.key for e in graph.edges if e.undetermined and e.origin != "user"]


def class_members(graph: CausalGraph, constraints, limit: int = MAX_CLASS_MEMBERS) -> list[CausalGraph]:
    """The DAGs of the graph's equivalence class that the layout allows (the graph itself first).

    Parameters
    ----------
    graph : CausalGraph
        Undetermined edges marked (:attr:`Edge.undetermined`).
    constraints : Constraints
    limit : int
        Most DAGs returned.

    Returns
    -------
    list of CausalGraph
        Empty when no edge is undetermined.
    """
    und = undetermined_keys(graph)
    if not und:
        return []
    und_set = set(und)
    directed = [e.key for e in graph.edges if e.key not in und_set]
    dags = consistent_extensions(list(graph.nodes), directed, und, constraints, limit=4 * limit)
    by_key = {e.key: e for e in graph.edges}
    out = [graph]
    seen = {frozenset(graph.edge_keys)}
    for dag in dags:
        if frozenset(dag) in seen:
            continue
        seen.add(frozenset(dag))
        edges = [by_key[k] if k in by_key else replace(by_key[(k[1], k[0])], source=k[0], target=k[1],
                                                        effect=None)
                 for k in dag]
        out.append(graph.with_edges(edges))
        if len(out) >= limit:
            break
    return out


def _shift_score(graph: CausalGraph, ref: pd.DataFrame, an: pd.DataFrame, nodes: set[str]) -> float:
    """How much the incident moves the own noise of ``nodes`` under ``graph`` (linear fits):
    the sum of |mean shift| in reference sds and |log spread ratio|."""
    score = 0.0
    for n in sorted(nodes):
        ps = [p for p in graph.parents(n) if pd.api.types.is_numeric_dtype(ref[p])]
        y0, y1 = ref[n].to_numpy(float), an[n].to_numpy(float)
        if ps:
            A0 = np.column_stack([np.ones(len(ref))] + [ref[p].to_numpy(float) for p in ps])
            A1 = np.column_stack([np.ones(len(an))] + [an[p].to_numpy(float) for p in ps])
            beta = np.linalg.lstsq(A0, y0, rcond=None)[0]
            r0, r1 = y0 - A0 @ beta, y1 - A1 @ beta
        else:
            r0, r1 = y0 - y0.mean(), y1 - y0.mean()
        sd0 = float(r0.std()) or 1.0
        score += abs(float(r1.mean() - r0.mean())) / sd0 + abs(np.log(max(float(r1.std()), 1e-12) / sd0))
    return score


def choose_orientation(graph: CausalGraph, constraints, ref: pd.DataFrame, an: pd.DataFrame) -> CausalGraph:
    """The member of the graph's class under which the incident moves the fewest mechanisms.

    Parameters
    ----------
    graph : CausalGraph
        Undetermined edges marked.
    constraints : Constraints
    ref, an : DataFrame
        Reference and incident rows.

    Returns
    -------
    CausalGraph
        ``graph`` itself when nothing is undetermined or it is already the best (ties keep it).
    """
    members = class_members(graph, constraints)
    if len(members) < 2:
        return graph
    # Only the endpoints of undetermined edges have parent sets that differ between members.
    ends = {n for k in undetermined_keys(graph) for n in k if pd.api.types.is_numeric_dtype(ref[n])}
    scores = [_shift_score(g, ref, an, ends) for g in members]
    return members[int(np.argmin(scores))]


def restoration_ranges(scm, incident, members: list[CausalGraph], point: dict[str, float], seed: int,
                       restorations) -> dict[str, tuple[float, float]]:
    """Each candidate's restoration range over the class members (the fitted graph included).

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted on ``members[0]``.
    incident : Incident
    members : list of CausalGraph
        From :func:`class_members` of the fitted graph.
    point : dict
        The fitted graph's restorations.
    seed : int
    restorations : callable
        :func:`rca_app.core.rootcause.restorations`.

    Returns
    -------
    dict of node to (low, high)
    """
    from rca_app.core.scm import StructuralCausalModel

    lo, hi = dict(point), dict(point)
    base = scm.graph
    for g in members[1:]:
        changed = {n for n in g.nodes if set(g.parents(n)) != set(base.parents(n))}
        alt = StructuralCausalModel(g, scm.categorical, scm.monotone, scm.settings, only=changed,
                                    fixed_kinds={n: m.kind for n, m in scm.mechanisms_.items() if n not in changed},
                                    levels=scm.levels_).fit(incident.reference)
        for n, m in scm.mechanisms_.items():
            if n not in changed:
                alt.mechanisms_[n] = m
                alt.reports_[n] = scm.reports_[n]
        anc = g.ancestors(incident.target)
        nodes = [n for n in alt.order_ if n in anc and n in point] + [incident.target]
        for k, v in restorations(alt, incident, nodes, seed).items():
            if k in lo:
                lo[k], hi[k] = min(lo[k], v), max(hi[k], v)
    return {k: (lo[k], hi[k]) for k in point}


@dataclass
class HiddenCause:
    """A group of sensors moved together by something unmeasured, and what restoring them does.

    Attributes
    ----------
    sensors : list of str
    source : str
        ``"noise correlation"`` (the residual check) or ``"fci"`` (FCI's marks).
    correlation : float or None
        Strongest noise correlation in the group.
    restoration : float
        Share of the KPI's shortfall recovered by restoring the group's sensors together.
    """

    sensors: list[str]
    source: str
    correlation: float | None
    restoration: float


def _group_restoration(scm, incident, sensors: list[str], seed: int) -> float:
    """Restore every sensor of ``sensors`` together: their noise drawn from the same reference rows,
    so their joint behaviour (the unmeasured cause's signature) is kept."""
    rng = np.random.default_rng(seed)
    ab = incident_abduction(scm, incident.anomaly)
    n = len(incident.anomaly)
    reps = max(1, int(np.ceil(2000 / n)))
    base = {k: np.tile(v, reps) for k, v in ab.values.items()}
    noise = {k: (np.tile(v, (reps, 1)) if v.ndim == 2 else np.tile(v, reps)) for k, v in ab.noise.items()}
    idx = rng.integers(0, scm.n_reference_, size=n * reps)
    for s in sensors:
        noise[s] = scm.mechanisms_[s].reference_draws(idx, rng, scm.reference_values_)
    out = propagate(scm, base, noise, set(sensors), stop_at=incident.target)[incident.target]
    short = incident.reference_mean - incident.anomaly_mean
    return float((np.mean(out) - incident.anomaly_mean) / short) if short else 0.0


def hidden_cause_candidates(scm, incident, fci_pairs=(), seed: int = 0) -> list[HiddenCause]:
    """Suspected unmeasured common causes with their joint restoration.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    fci_pairs : iterable of (str, str)
        Pairs FCI marked (no edge between them in the graph).
    seed : int

    Returns
    -------
    list of HiddenCause
        Those acting on at least one ancestor of the KPI (or the KPI).
    """
    numeric = [n for n in scm.order_ if n not in scm.categorical and n in scm.mechanisms_]
    noise = abduct(scm, scm.reference_values_, seed, nodes=numeric)
    adjacent = {frozenset(k) for k in scm.graph.edge_keys}
    groups: list[tuple[list[str], str, float | None]] = [
        (h.sensors, "noise correlation", max(h.correlations.values(), key=abs))
        for h in suspected_hidden_causes(noise, adjacent)]
    grouped = {frozenset(g) for g, _, _ in groups}
    for a, b in fci_pairs:
        if frozenset((a, b)) not in grouped and a in scm.mechanisms_ and b in scm.mechanisms_:
            groups.append(([a, b], "fci", None))
    relevant = scm.graph.ancestors(incident.target) | {incident.target}
    out = []
    for sensors, source, r in groups:
        if not set(sensors) & relevant:
            continue
        out.append(HiddenCause(sensors, source, None if r is None else float(r),
                               _group_restoration(scm, incident, sensors, seed)))
    return out


def unmeasured_cause_record(h: HiddenCause, layout, graph: CausalGraph | None = None) -> RootCause:
    """A root-cause entry for an unmeasured cause acting on the group's sensors (its evidence:
    the paths from those sensors to the KPI)."""
    name = "an unmeasured cause acting on " + " and ".join(h.sensors)
    paths = [p for s in h.sensors for p in graph.paths(s, layout.target, limit=3)] if graph is not None else []
    none = Evidence(None, None, None, None, None, None, None, paths=paths)
    return RootCause(name, layout.station_of(h.sensors[0]), h.restoration, (float("nan"), float("nan")),
                     float("nan"), False, False, none, unmeasured=True, acts_on=list(h.sensors))


def put_unmeasured_first(causes: list[RootCause], hidden: list[HiddenCause], layout,
                         graph: CausalGraph | None = None) -> list[RootCause]:
    """The ranking with an unmeasured cause first when restoring its group together recovers
    clearly more (:data:`HIDDEN_CAUSE_MARGIN`) than every measured candidate."""
    if not hidden or not causes:
        return causes
    best = max(hidden, key=lambda h: h.restoration)
    top = max(c.restoration for c in causes)
    if best.restoration > 0 and best.restoration >= HIDDEN_CAUSE_MARGIN * max(top, 0.0):
        return [unmeasured_cause_record(best, layout, graph)] + causes
    return causes


def rank_with_ambiguity(scm, incident, constraints, layout, causes: list[RootCause], seed: int,
                        fci_pairs=()) -> tuple[list[RootCause], list[HiddenCause], list[str]]:
    """The ranking with what the data cannot decide folded in: restoration ranges over the
    equivalence class, suspected unmeasured causes, and the messages that say so.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted on the drawn graph.
    incident : Incident
    constraints : Constraints
    layout : Layout
    causes : list of RootCause
        The ranking on the drawn graph, best first.
    seed : int
    fci_pairs : iterable of (str, str)
        Pairs FCI marked as moved by an unmeasured cause.

    Returns
    -------
    causes, hidden causes, messages
    """
    from rca_app.core.rootcause import restorations

    messages = []
    members = class_members(scm.graph, constraints)
    if len(members) > 1:
        point = {c.node: c.restoration for c in causes}
        ranges = restoration_ranges(scm, incident, members, point, seed, restorations)
        causes = [replace(c, restoration_range=ranges.get(c.node)) for c in causes]
        und = undetermined_keys(scm.graph)
        messages.append(
            f"The data cannot tell the direction of {len(und)} edge(s) ("
            + "; ".join(f"{a} - {b}" for a, b in und[:6]) + ("..." if len(und) > 6 else "")
            + "): the graph draws the direction under which the incident changes the fewest sensors, "
            f"and each cause's restoration range covers the {len(members)} graphs the layout allows. "
            "Tell us the direction if you know it (fix it in the graph editor).")
    hidden = hidden_cause_candidates(scm, incident, fci_pairs, seed)
    for h in hidden:
        how = (f"their own noises correlate (r = {h.correlation:.2f}) with no edge between them"
               if h.correlation is not None else "neither can cause the other, yet they move together")
        messages.append(f"An unmeasured cause is likely acting on {' and '.join(h.sensors)}: {how}. "
                        f"Restoring them together recovers {100 * h.restoration:.0f}% of the loss.")
    return put_unmeasured_first(causes, hidden, layout, scm.graph), hidden, messages

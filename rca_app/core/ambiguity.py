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

Unmeasured common causes (:mod:`rca_app.core.unmeasured`): pairs whose own noises depend in a
way no edge explains (:mod:`rca_app.core.hidden_evidence`) are grouped; an edge between them is
left out of the measured candidates' restorations, and a group that moved in the incident is
reported first as "an unmeasured cause acting on X and Y" when restoring it together explains
the loss at least as well as any measured sensor.

References
----------
B. Schölkopf et al. (2021). Toward causal representation learning. Proc. IEEE 109, 612-634
    (the sparse mechanism shift hypothesis).
R. Perry, J. von Kügelgen, B. Schölkopf (2022). Causal discovery in heterogeneous environments
    under the sparse mechanism shift hypothesis. NeurIPS.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from rca_app.core.constraint_search import consistent_extensions
from rca_app.core.graph import CausalGraph
from rca_app.core.lab_reads import Samples, regression_rows
from rca_app.core.records import RootCause
from rca_app.core.result_notes import Note
from rca_app.core.unmeasured import (  # noqa: F401 - HiddenCause and the record builders are used from here too
    HIDDEN_CAUSE_MARGIN,
    HiddenCause,
    detect,
    partial_refit,
    put_unmeasured_first,
    unmeasured_cause_record,
    without_spurious_edges,
)
from rca_app.core.unmeasured import messages as hidden_messages

# Most DAGs of the class the ranking is repeated over (each costs a partial refit and one
# restoration pass); the count grows exponentially with large undetermined groups.
MAX_CLASS_MEMBERS = 8


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


def _shift_score(graph: CausalGraph, ref: pd.DataFrame, an: pd.DataFrame, nodes: set[str],
                 samples: Samples | None = None) -> float:
    """How much the incident moves the own noise of ``nodes`` under ``graph`` (linear fits):
    the sum of |mean shift| in reference sds and |log spread ratio|. ``samples``: the lab tags'
    sampled rows, where a fit that involves one is made and read (core/lab_reads.py)."""
    score = 0.0
    for n in sorted(nodes):
        ps = [p for p in graph.parents(n) if pd.api.types.is_numeric_dtype(ref[p])]
        ref_n, an_n = ref, an
        ref_at, an_at = regression_rows(samples, n, ps)
        if ref_at is not None:
            ref_n, an_n = ref.iloc[ref_at], an.iloc[an_at]
        y0, y1 = ref_n[n].to_numpy(float), an_n[n].to_numpy(float)
        if ps:
            A0 = np.column_stack([np.ones(len(ref_n))] + [ref_n[p].to_numpy(float) for p in ps])
            A1 = np.column_stack([np.ones(len(an_n))] + [an_n[p].to_numpy(float) for p in ps])
            beta = np.linalg.lstsq(A0, y0, rcond=None)[0]
            r0, r1 = y0 - A0 @ beta, y1 - A1 @ beta
        else:
            r0, r1 = y0 - y0.mean(), y1 - y0.mean()
        sd0 = float(r0.std()) or 1.0
        score += abs(float(r1.mean() - r0.mean())) / sd0 + abs(np.log(max(float(r1.std()), 1e-12) / sd0))
    return score


def choose_orientation(graph: CausalGraph, constraints, ref: pd.DataFrame, an: pd.DataFrame,
                       samples: Samples | None = None) -> CausalGraph:
    """The member of the graph's class under which the incident moves the fewest mechanisms.

    Parameters
    ----------
    graph : CausalGraph
        Undetermined edges marked.
    constraints : Constraints
    ref, an : DataFrame
        Reference and incident rows.
    samples : (dict, dict), optional
        The lab tags' sampled rows of ``ref`` and ``an``: a sensor's own noise that involves a
        lab value is read on them, each sample once (:mod:`rca_app.core.lab_reads`).

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
    scores = [_shift_score(g, ref, an, ends, samples) for g in members]
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
    lo, hi = dict(point), dict(point)
    for g in members[1:]:
        alt = partial_refit(scm, g, incident.reference)
        anc = g.ancestors(incident.target)
        nodes = [n for n in alt.order_ if n in anc and n in point] + [incident.target]
        for k, v in restorations(alt, incident, nodes, seed).items():
            if k in lo:
                lo[k], hi[k] = min(lo[k], v), max(hi[k], v)
        # A candidate with no path to the KPI in this member (an undetermined edge pointing
        # away from it) restores nothing there: its range reaches zero.
        for k in point:
            if k not in anc and k != incident.target:
                lo[k], hi[k] = min(lo[k], 0.0), max(hi[k], 0.0)
    return {k: (lo[k], hi[k]) for k in point}


def rank_with_ambiguity(scm, incident, constraints, layout, causes: list[RootCause], seed: int, fci_pairs=(),
                        serial: bool = False) -> tuple[list[RootCause], list[HiddenCause], list[str | Note]]:
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
    serial : bool
        Rows are consecutive time steps (the hidden-cause tests count effective rows).

    Returns
    -------
    causes, hidden causes, messages
    """
    from rca_app.core.rootcause import restorations

    messages: list[str | Note] = []
    members = class_members(scm.graph, constraints)
    if len(members) > 1:
        point = {c.node: c.restoration for c in causes}
        ranges = restoration_ranges(scm, incident, members, point, seed, restorations)
        causes = [replace(c, restoration_range=ranges.get(c.node)) for c in causes]
        und = undetermined_keys(scm.graph)
        messages.append(Note(
            f"The data cannot tell the direction of {len(und)} edge(s) ("
            + "; ".join(f"{a} - {b}" for a, b in und[:6]) + ("..." if len(und) > 6 else "")
            + "): the graph draws the direction under which the incident changes the fewest sensors, "
            f"and each cause's restoration range covers the {len(members)} graphs the layout allows. "
            "Tell us the direction if you know it (fix it in the graph editor).", "direction", "caution"))
    # Unmeasured common causes (core/unmeasured.py): edges that carry one are left out of the
    # measured candidates' restorations, and a group that moved may come first.
    loops = {n for lp in getattr(layout, "loops", []) for n in (lp.manipulated, lp.controlled)}
    hidden, _, models = detect(scm, incident, fci_pairs, seed, constraints, loops, serial)
    causes = without_spurious_edges(causes, models["scm"], scm, incident, seed)
    causes = put_unmeasured_first(causes, hidden, layout, scm.graph)
    messages += hidden_messages(hidden)
    return causes, hidden, messages

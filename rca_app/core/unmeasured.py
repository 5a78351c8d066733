"""Unmeasured common causes in the ranking: find them, keep them from inflating a sensor's
restoration, and name one as the root cause when the evidence says so.

Detection is pair by pair (:mod:`rca_app.core.hidden_evidence`): own noises that depend in the
reference period in a way no edge explains, and that both moved in the incident the way they
always moved together. Confounded pairs are joined into groups ("an unmeasured cause acting on
X and Y", or on X, Y and Z).

An edge the search drew between two sensors of a group carries the unmeasured cause's
dependence, not a causal effect: restoring X alone would drag Y back through it and credit X
with Y's part. For the ranking the edge is left out, the child's mechanism refitted without it,
and every candidate's restoration recomputed on that model. The group's own restoration
restores its sensors together, their noises drawn from the same reference rows, so their joint
behaviour (the unmeasured cause's signature) is kept. The group comes first when it moved in
the incident and restoring it recovers at least as much as any measured sensor: the evidence
for the group is in the pair tests, not in the size of its restoration.

The group's figure follows the support rule of the actions (:mod:`rca_app.core.action_support`):
where restoring the sensors together carries the KPI beyond everything it took by
:data:`~rca_app.core.action_support.KPI_BEYOND_SD` or more, the note gives no percentage (it would
be the model's extrapolation, thousands of percent on a plant far from its reference) and says why.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from rca_app.core.action_support import kpi_beyond, kpi_envelope, unstated_figure_text, within_support
from rca_app.core.graph import CausalGraph
from rca_app.core.hidden_evidence import PairEvidence, confounded_groups, pair_evidence
from rca_app.core.lab_reads import window_samples
from rca_app.core.queries import incident_abduction, propagate, replicated
from rca_app.core.records import Evidence, RootCause

# An unmeasured cause that moved in the incident is put first when restoring its sensors
# together recovers at least this share of the best measured candidate's restoration: the
# group's evidence is in the pair tests; its restoration only has to explain the loss at least
# as well as one sensor does.
HIDDEN_CAUSE_MARGIN = 1.0


@dataclass
class HiddenCause:
    """A group of sensors moved together by something unmeasured, and what restoring them does.

    Attributes
    ----------
    sensors : list of str
    source : str
        ``"incident: both moved together"`` (their own noises both changed in the incident, the
        way they co-vary), else ``"noise correlation"`` (own noises correlate with no edge
        between them) or ``"fci"`` (FCI's marks, confirmed by the noise check).
    correlation : float or None
        Strongest own-noise correlation in the group.
    restoration : float
        Share of the KPI's shortfall recovered by restoring the group's sensors together.
    moved : bool
        The sensors' own noises moved together in the incident.
    evidence : list of str
        The tests behind the group, in plain words.
    edges_left_out : list of (str, str)
        Edges between the group's sensors left out of the ranking (they carry the unmeasured
        cause's dependence).
    kpi_beyond : float
        How far restoring the group carries the KPI beyond everything it took, in its reference
        sds (:func:`rca_app.core.action_support.kpi_beyond`; 0: within it).
    """

    sensors: list[str]
    source: str
    correlation: float | None
    restoration: float
    moved: bool = False
    evidence: list[str] = field(default_factory=list)
    edges_left_out: list[tuple[str, str]] = field(default_factory=list)
    kpi_beyond: float = 0.0

    @property
    def supported(self) -> bool:
        """The restoration keeps the KPI within what the plant showed (its figure may be stated)."""
        return within_support(self.kpi_beyond)


def partial_refit(scm, graph: CausalGraph, reference):
    """The model refitted on ``graph``: only sensors whose causes differ are refitted, the
    other mechanisms are shared.

    Parameters
    ----------
    scm : StructuralCausalModel
    graph : CausalGraph
    reference : DataFrame

    Returns
    -------
    StructuralCausalModel
    """
    from rca_app.core.scm import StructuralCausalModel

    base = scm.graph
    changed = {n for n in graph.nodes if set(graph.parents(n)) != set(base.parents(n))}
    alt = StructuralCausalModel(graph, scm.categorical, scm.monotone, scm.settings, only=changed,
                                fixed_kinds={n: m.kind for n, m in scm.mechanisms_.items() if n not in changed},
                                levels=scm.levels_).fit(reference)
    for n, m in scm.mechanisms_.items():
        if n not in changed:
            alt.mechanisms_[n] = m
            alt.reports_[n] = scm.reports_[n]
    return alt


def group_kpi_rows(scm, incident, sensors: list[str], seed: int) -> np.ndarray:
    """The KPI's incident rows (replicated) with every sensor of ``sensors`` restored together:
    their noise drawn from the same reference rows, so their joint behaviour is kept.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    sensors : list of str
    seed : int

    Returns
    -------
    ndarray
        The KPI under the restoration, the incident rows repeated to about 2000 values.
    """
    rng = np.random.default_rng(seed)
    ab = incident_abduction(scm, incident.anomaly)
    n = len(incident.anomaly)
    reps = max(1, int(np.ceil(2000 / n)))
    base, noise = replicated(ab.values, ab.noise, reps)
    idx = rng.integers(0, scm.n_reference_, size=n * reps)
    for s in sensors:
        noise[s] = scm.mechanisms_[s].reference_draws(idx, rng, scm.reference_values_)
    return np.asarray(propagate(scm, base, noise, set(sensors), stop_at=incident.target)[incident.target])


def _share_recovered(rows: np.ndarray, incident) -> float:
    short = incident.reference_mean - incident.anomaly_mean
    return float((np.mean(rows) - incident.anomaly_mean) / short) if short else 0.0


def group_restoration(scm, incident, sensors: list[str], seed: int) -> float:
    """Restore every sensor of ``sensors`` together (:func:`group_kpi_rows`).

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    sensors : list of str
    seed : int

    Returns
    -------
    float
        Share of the KPI's shortfall recovered.
    """
    return _share_recovered(group_kpi_rows(scm, incident, sensors, seed), incident)


def _pair_words(e: PairEvidence) -> str:
    """One pair's evidence in plant words."""
    if not e.moved:
        return (f"{e.a} - {e.b}: their own noises correlate (r = {e.correlation:.2f}) with no edge between "
                "them, in a way neither direction of cause explains")
    what = (f"{e.a} and {e.b} both changed their own behaviour in the incident ({e.shift_a:+.1f} and "
            f"{e.shift_b:+.1f} reference SDs), in the direction they always move together "
            f"(r = {e.correlation:.2f}); one measured cause would change only one of them")
    if e.verdict == "confounded" and e.p_a_to_b is not None and e.p_b_to_a is not None:
        what += (f", and the reference period confirms a shared cause: neither direction leaves a residual "
                 f"independent of its cause (HSIC p = {e.p_a_to_b:.2g} and {e.p_b_to_a:.2g})")
    elif e.verdict in ("a drives b", "b drives a"):
        cause, effect = (e.a, e.b) if e.verdict == "a drives b" else (e.b, e.a)
        what += (f"; the reference period fits {cause} driving {effect}, but a shared cause whose own variation is "
                 "nearly Gaussian fits it too, and two separate faults striking both at once would look the same")
    elif e.adjacent:
        what += ("; the reference period alone cannot tell a shared cause from one of them driving the other "
                 "(their noise is too close to Gaussian), and two separate faults striking both at once would "
                 "look the same")
    return what


def _source(group: list[PairEvidence], fci_pairs: set[frozenset[str]]) -> str:
    if any(e.moved for e in group):
        return "incident: both moved together"
    if any(frozenset((e.a, e.b)) in fci_pairs for e in group):
        return "fci"
    return "noise correlation"


def detect(scm, incident, fci_pairs=(), seed: int = 0, constraints=None, exclude=(), serial: bool = False
           ) -> tuple[list[HiddenCause], list[PairEvidence], dict]:
    """Suspected unmeasured common causes acting on ancestors of the KPI, the pair evidence, and
    the model the ranking should use (spurious edges of moved groups left out).

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    fci_pairs : iterable of (str, str)
        Pairs FCI marked (no edge between them).
    seed : int
    constraints : Constraints, optional
        The layout's rules (which edges could be drawn the other way).
    exclude : iterable of str
        Sensors left out of the check: those of a declared control loop, whose controller
        answers every disturbance (its own behaviour moves whenever anything upstream does,
        which a DAG's "own noise" cannot separate from a shared cause).
    serial : bool
        Rows are consecutive time steps (the tests count effective rows).

    Returns
    -------
    hidden : list of HiddenCause
    evidence : list of PairEvidence
        Every pair tested (the "not identifiable" ones included).
    models : dict
        ``{"scm": model for the ranking}`` (``scm`` itself when no edge is left out).
    """
    graph = scm.graph
    relevant = graph.ancestors(incident.target)
    skip = set(exclude)
    candidates = [n for n in scm.order_ if n in relevant and n not in scm.categorical and n in scm.mechanisms_
                  and n not in skip]
    ref, an = incident.reference, incident.anomaly
    adjacent = {frozenset(k) for k in graph.edge_keys}
    # A lab value's own noise on its samples, each counted once (core/lab_reads.py).
    evidence = pair_evidence(ref, an, {n: graph.parents(n) for n in candidates}, candidates, adjacent, seed,
                             constraints.allows if constraints is not None else None, serial,
                             window_samples(incident))
    fci = {frozenset(p) for p in fci_pairs}
    pos = {n: i for i, n in enumerate(scm.order_)}
    hidden: list[HiddenCause] = []
    left_out: list[tuple[str, str]] = []
    for group in confounded_groups(evidence):
        sensors = sorted({s for e in group for s in (e.a, e.b)}, key=pos.__getitem__)
        moved = any(e.moved for e in group)
        inside = [k for k in graph.edge_keys if k[0] in sensors and k[1] in sensors] if moved else []
        left_out += inside
        hidden.append(HiddenCause(sensors, _source(group, fci), max((e.correlation for e in group), key=abs),
                                  float("nan"), moved, [_pair_words(e) for e in group], inside))
    model = scm
    if left_out:
        gone = set(left_out)
        model = partial_refit(scm, graph.with_edges([e for e in graph.edges if e.key not in gone]), ref)
    envelope = kpi_envelope(incident)
    for h in hidden:
        rows = group_kpi_rows(model, incident, h.sensors, seed)
        h.restoration = _share_recovered(rows, incident)
        h.kpi_beyond = float(kpi_beyond(rows, envelope))
    return hidden, evidence, {"scm": model}


def unmeasured_cause_record(h: HiddenCause, layout, graph: CausalGraph | None = None) -> RootCause:
    """A root-cause entry for an unmeasured cause acting on the group's sensors (its evidence:
    the paths from those sensors to the KPI).

    Parameters
    ----------
    h : HiddenCause
    layout : Layout
    graph : CausalGraph, optional

    Returns
    -------
    RootCause
        ``unmeasured=True``, ``acts_on`` the group's sensors.
    """
    name = "an unmeasured cause acting on " + " and ".join(h.sensors)
    paths = [p for s in h.sensors for p in graph.paths(s, layout.target, limit=3)] if graph is not None else []
    none = Evidence(None, None, None, None, None, None, None, paths=paths)
    return RootCause(name, layout.station_of(h.sensors[0]), h.restoration, (float("nan"), float("nan")),
                     float("nan"), False, False, none, unmeasured=True, acts_on=list(h.sensors))


def without_spurious_edges(causes: list[RootCause], model, scm, incident, seed: int) -> list[RootCause]:
    """Measured candidates' restorations recomputed on ``model`` (the edges that carry an
    unmeasured cause left out); intervals and ranges move with the point value. Re-sorted.

    Parameters
    ----------
    causes : list of RootCause
    model, scm : StructuralCausalModel
        The model without the edges, and the one the ranking was fitted on.
    incident : Incident
    seed : int

    Returns
    -------
    list of RootCause
    """
    if model is scm:
        return causes
    from rca_app.core.rootcause import restorations

    nodes = [c.node for c in causes if not c.unmeasured and c.node in model.mechanisms_]
    new = restorations(model, incident, nodes, seed)
    out = []
    for c in causes:
        if c.node not in new:
            out.append(c)
            continue
        d = new[c.node] - c.restoration
        rng = None if c.restoration_range is None else (c.restoration_range[0] + d, c.restoration_range[1] + d)
        ci = (c.restoration_ci[0] + d, c.restoration_ci[1] + d)
        out.append(replace(c, restoration=new[c.node], restoration_ci=ci, restoration_range=rng))
    out.sort(key=lambda c: -c.restoration)
    return out


def put_unmeasured_first(causes: list[RootCause], hidden: list[HiddenCause], layout,
                         graph: CausalGraph | None = None) -> list[RootCause]:
    """The ranking with an unmeasured cause first when it moved in the incident and restoring
    its group together recovers at least :data:`HIDDEN_CAUSE_MARGIN` times the best measured
    candidate.

    Parameters
    ----------
    causes : list of RootCause
    hidden : list of HiddenCause
    layout : Layout
    graph : CausalGraph, optional

    Returns
    -------
    list of RootCause
    """
    moved = [h for h in hidden if h.moved and np.isfinite(h.restoration)]
    if not moved or not causes:
        return causes
    best = max(moved, key=lambda h: h.restoration)
    top = max(c.restoration for c in causes)
    if best.restoration > 0 and best.restoration >= HIDDEN_CAUSE_MARGIN * max(top, 0.0):
        return [unmeasured_cause_record(best, layout, graph)] + causes
    return causes


def messages(hidden: list[HiddenCause]) -> list[str]:
    """What the result says about unmeasured causes, in plant words.

    Parameters
    ----------
    hidden : list of HiddenCause

    Returns
    -------
    list of str
    """
    out = []
    for h in hidden:
        where = " and ".join(h.sensors)
        text = f"An unmeasured cause is likely acting on {where}: " + "; ".join(h.evidence) + "."
        if h.edges_left_out:
            text += (" The edge(s) " + ", ".join(f"{a} -> {b}" for a, b in h.edges_left_out)
                     + " may carry that shared cause rather than an effect, so the ranking leaves them out"
                     " (neither sensor is credited with the other's change).")
        if h.supported:
            text += f" Restoring them together recovers {100 * h.restoration:.0f}% of the loss."
        else:
            # The action rule (core/action_support.py): no figure the plant's rows cannot support.
            text += " " + unstated_figure_text(h.kpi_beyond, "restoring them together")
        out.append(text)
    return out

"""One investigation from prepared data to a ranked, serialisable result.

The CLI, the GUI and the report all go through :func:`run_analysis` and read the same
:class:`AnalysisResult` (plain data, JSON round-trip).
"""
from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np

import rca_app
from rca_app.core.action_response import action_responses
from rca_app.core.ambiguity import choose_orientation, rank_with_ambiguity, undetermined_keys
from rca_app.core.analysis_notes import (
    constant_in_reference,
    extrapolation_note,
    leading_cause_note,
    new_levels,
    points_outside_intervals,
    unmoved_cause_notes,
    unranked_notes,
)
from rca_app.core.autocorrelation import rows_are_serial
from rca_app.core.control_loops import loop_proposals, loop_readings
from rca_app.core.data import PlantData, min_rows_needed
from rca_app.core.discovery import DiscoveryResult, DiscoverySettings, discover, noise_checks
from rca_app.core.disturbance_origin import disturbance_origin
from rca_app.core.dynamics import (
    align_for_time,
    drift_origin,
    lagged_model_step,
    lagged_step,
)
from rca_app.core.encoding import CategoryEncoder
from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.graph import CausalGraph
from rca_app.core.incident_shapes import (
    effective_reference_rows,
    max_parents,
    plan_incident,
    ranking_basis_text,
    rate_family,
    unlinked_kpi_message,
)
from rca_app.core.kpi_mechanisms import check_kpi_parents, install_kpi_mechanism
from rca_app.core.lab_incident import kpi_on_samples, lab_incident
from rca_app.core.lab_lags import realign_for_lab_stations
from rca_app.core.lab_tags import lab_tag_rows, mechanism_rows, sampled_edge_effects
from rca_app.core.lagged_model import (
    contemporaneous_graph,
    diverges,
    mark_incident_rows,
    model_edge_key,
    time_ancestors,
)
from rca_app.core.model_size import choose_parent_cap
from rca_app.core.parallel import ParallelSettings, prestart_workers
from rca_app.core.progress import Progress, SubProgress, check_cancel
from rca_app.core.redundancy import redundant_sensors
from rca_app.core.result_notes import Note, as_note
from rca_app.core.results import (
    AnalysisResult,
    Diagnostics,
    GraphEdgeRecord,
    GraphNodeRecord,
    GraphRecord,
    HiddenCauseRecord,
    IncidentRecord,
    InputRecord,
    LayoutRecord,
    OwnAnomalyRecord,
    RankingBasis,
    UnstableEdge,
    WindowRecord,
)
from rca_app.core.rootcause import (
    Incident,
    RankingSettings,
    candidate_nodes,
    rank_root_causes,
    self_lag_notes,
    within_noise_warning,
    wrong_way_notes,
)
from rca_app.core.scm import SCMSettings, StructuralCausalModel, edge_effects, pool_invariant_mechanisms
from rca_app.core.settings import AnalysisSettings
from rca_app.core.unit_ranking import (
    anomaly_candidates,
    rank_by_anomaly,
    rank_unit,
    shrink_mechanisms,
    simple_graph,
    small_sample_factor,
    widen_intervals,
)
from rca_app.core.windows import check_enough_rows, resolve_windows, tail_shift_note, window_bound


@dataclass
class Window:
    start: str | int
    end: str | int
    n_rows: int
    first_row: int          # 0-based positions in the prepared data
    stop_row: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AnalysisOutcome:
    """The result plus the live fitted objects (for what-ifs in the GUI; not serialised)."""

    result: AnalysisResult
    scm: StructuralCausalModel
    incident: Incident
    bootstrap_models: list = field(default_factory=list)
    discovery: DiscoveryResult | None = None


def run_analysis(data: PlantData, anomaly, reference=None, settings: AnalysisSettings | None = None,
                 graph: CausalGraph | None = None, progress: Progress | None = None) -> AnalysisOutcome:
    """Discover (unless ``graph`` is given), fit the SCM, rank root causes, propose actions."""
    from threadpoolctl import threadpool_limits

    # One BLAS/OpenMP thread: the engine's matrices are small, where threads cost more than
    # they give, and on a busy machine they stall (a 3000 x 20 least squares went from 2 ms
    # to 90 ms with two cores shared by several processes). Cores are used by processes
    # instead (n_jobs).
    with threadpool_limits(1):
        return _run_analysis(data, anomaly, reference, settings, graph, progress)


def _run_analysis(data: PlantData, anomaly, reference, settings: AnalysisSettings | None,
                  graph: CausalGraph | None, progress: Progress | None) -> AnalysisOutcome:
    settings = settings or AnalysisSettings()
    if graph is None and settings.graph_bootstrap > 0:
        # Worker processes start (and import the engine) while discovery's main pass runs,
        # instead of in a silent stretch before the first resample (issue #10).
        prestart_workers(ParallelSettings(settings.n_jobs, settings.scheduler))
    layout = data.layout
    timings: dict[str, float] = {}
    t_all = time.perf_counter()
    ref_sl, an_sl, win_info = resolve_windows(data, anomaly, reference)
    check_enough_rows(data, ref_sl, an_sl, settings.n_folds)
    frame = data.frame
    # Time series: each sensor aligned by its residence time to the KPI (core.dynamics); the
    # windows keep their rows, the reference loses the first rows that have no upstream past.
    timed = align_for_time(data, layout, ref_sl, an_sl, settings.seed)
    # A station of lab values only (a lab KPI): its residence time from their sampled rows (core/lab_lags.py).
    timed = realign_for_lab_stations(data, layout, timed, ref_sl, an_sl, settings.seed)
    fit_ref_sl = ref_sl
    if timed is not None:
        frame, fit_ref_sl = timed.frame, timed.reference
        check_enough_rows(data, fit_ref_sl, an_sl, settings.n_folds)
    # A loop's setpoint tag is its reference, read with the loop (core/control_loops.py), not a cause.
    setpoints = {lp.setpoint for lp in layout.loops if isinstance(lp.setpoint, str)} & set(frame.columns)
    if setpoints:
        layout = layout.restricted_to([c for c in frame.columns if c not in setpoints])
        frame = frame[[c for c in frame.columns if c not in setpoints]]
    ref = frame.iloc[fit_ref_sl].reset_index(drop=True)
    an = frame.iloc[an_sl].reset_index(drop=True)
    # The incident's shape (core/incident_shapes.py): the KPI's type, a unit incident, a KPI
    # that never varied in the reference, a short reference period.
    n_sensors = len(frame.columns) - 1
    # On a time series the reference is judged on its effective rows (autocorrelation).
    effective = (effective_reference_rows(ref, [c for c in data.numeric_nodes if c in ref.columns])
                 if timed is not None and timed.step is not None else None)
    shape = plan_incident(layout, ref[layout.target], an[layout.target], n_sensors, min_rows_needed(n_sensors),
                          effective)
    messages: list[str | Note] = [*new_levels(data, ref, an), *(timed.messages if timed is not None else []),
                                  *shape.messages]
    if timed is not None and timed.step is not None:
        # Sensors already beyond their limits when the reference ends: the fault began earlier.
        sensors = [c for c in data.numeric_nodes if c in frame.columns and c != layout.target]
        messages[:0] = [Note(m, "warning", "warning") for m in tail_shift_note(data, frame, fit_ref_sl, sensors,
                                                                               timed.record.shifts, win_info["auto"],
                                                                               step=timed.step)]
    frozen = constant_in_reference(data, ref, an, constant_kpi_ranked=shape.kpi_constant)
    if frozen:
        # Nothing can be learnt about a sensor that never moved in the reference period; it is
        # left out (with a prominent note when it did move in the incident).
        messages += [m for _, m in frozen]
        keep = [c for c in frame.columns if c not in {n for n, _ in frozen}]
        layout = layout.restricted_to(keep)
        frame, ref, an = frame[keep], ref[keep], an[keep]
    # Exact copies and linear combinations would make every model singular (effects of 1e6
    # that cancel, restorations of several hundred percent): leave them out and say so.
    numeric = [c for c in layout.nodes if c in frame.columns and c not in data.categorical_nodes
               and c != layout.target]
    redundant = redundant_sensors(ref, numeric, layout.target)
    if redundant:
        messages += [r.message(layout.target) for r in redundant]
        keep = [c for c in frame.columns if c not in {r.sensor for r in redundant}]
        layout = layout.restricted_to(keep)
        frame, ref, an = frame[keep], ref[keep], an[keep]
    constraints = layout.constraints()
    categorical = [c for c in data.categorical_nodes if c in frame.columns]
    # One encoding for the whole investigation: levels of both periods, sorted, the first the
    # baseline; discovery, mechanisms and edge effects all use it. (Time alignment leaves the
    # first rows without an upstream past empty: they are in no window and have no level.)
    encoder = CategoryEncoder.fit(frame.dropna(subset=categorical), categorical)
    levels = encoder.levels
    # Rows on an even time grid that carry their past: tests count effective rows (core/autocorrelation.py).
    serial = timed is not None and timed.step is not None and rows_are_serial(ref, numeric)
    # Lab tags (a sample every many grid rows, held between): their links are learnt on the rows
    # where they were sampled (core/lab_tags.py).
    lab_rows = lab_tag_rows(data, timed, fit_ref_sl) if serial else None

    t = time.perf_counter()
    disc = None
    if graph is None:
        # A KPI that never varied cannot be placed in the graph: it is discovered without it.
        disc = discover(ref.drop(columns=[layout.target]) if shape.kpi_constant else ref, constraints, categorical,
                        DiscoverySettings(engine=settings.discovery_engine, method=settings.discovery,
                                          n_bootstrap=settings.graph_bootstrap,
                                          bootstrap_max_rows=settings.bootstrap_max_rows, seed=settings.seed,
                                          n_jobs=settings.n_jobs, scheduler=settings.scheduler,
                                          time_series=serial),
                        SubProgress(progress, 0.0, 0.35, ""), encoder=encoder, lab_rows=lab_rows)
        graph = disc.graph
        if layout.target not in graph.nodes:
            graph = CausalGraph(tuple(n for n in constraints.nodes if n in graph.nodes or n == layout.target),
                                graph.edges)
        checks = disc.noise_checks
        messages += disc.messages
    else:
        graph = contemporaneous_graph(graph, layout.loops)   # a model's graph given back: without its lags
        problems = graph.validate(constraints)
        if problems:
            raise RcaInputError([Problem(p, file=layout.source) for p in problems])
        checks = noise_checks(ref, graph, set(categorical), encoder, serial)
    # Edges whose direction the data cannot tell: draw the one under which the incident moves
    # the fewest sensors' own mechanisms (rca_app.core.ambiguity).
    graph = choose_orientation(graph, constraints, ref, an,   # lab values read on their samples (core/lab_reads.py)
                               (lab_rows, lab_tag_rows(data, timed, an_sl)) if lab_rows else None)
    timings["discovery_s"] = time.perf_counter() - t

    check_cancel(progress)
    t = time.perf_counter()
    kinds = tuple(settings.mechanisms)
    if shape.rate_kpi and disc is not None:
        family = rate_family(shape.kpi_type, ref[layout.target])
        allowed = [n for n in graph.nodes if n != layout.target and constraints.allows(n, layout.target)]
        graph, weak, missed = check_kpi_parents(graph, ref, layout.target, family, categorical, layout.required,
                                                allowed, serial=serial)
        glm = "logistic" if family == "binary" else "Poisson"
        messages += [f"{p} -> {layout.target} was left out: the {glm} regression of {layout.target} does not "
                     f"support it (Wald z = {z:.1f})." for p, z in weak]
        messages += [f"{p} -> {layout.target} was added: the {glm} regression of {layout.target} on every sensor "
                     f"the layout allows needs it (Wald z = {z:.1f})." for p, z in missed]
    if shape.simple_model:
        # Short reference: fewer parents, linear mechanisms with shrinkage (core/unit_ranking.py).
        cap = max_parents(shape.information_rows)
        if shape.effective_reference_rows is not None:
            # A time series: the cap from blocked cross-validation on the reference (core/model_size.py).
            chosen = choose_parent_cap(graph, ref, categorical, layout.required, layout.target,
                                       shape.effective_reference_rows)
            if chosen is not None:
                cap = chosen.cap
                messages.append(f"Simple model: {chosen.text()}.")
        graph, dropped = simple_graph(graph, ref, categorical, cap, layout.required)
        kinds = ("linear",)
        if dropped:
            messages.append(f"Simple model: {len(dropped)} weaker edge(s) were left out ("
                            + ", ".join(f"{a} -> {b}" for a, b in dropped[:8]) + (", ..." if len(dropped) > 8 else "")
                            + "); with more reference rows they would be kept.")
    # Time series: recycles, self-lags and declared loops become lagged inputs of the model
    # (core/lagged_model.py); the graph drawn stays the contemporaneous one.
    summary, ref_rows, an_rows, lag_messages = graph, ref, an, None
    row_graph, row_ref, row_an = graph, ref, an
    if timed is not None and shape.method == "restoration" and not shape.simple_model:
        lagged, lag_messages = lagged_model_step(timed, data, layout, frame, fit_ref_sl, an_sl, graph)
        if lagged is not None:
            frame_l, graph, lag_ref_sl = lagged
            ref, an = frame_l.iloc[lag_ref_sl].reset_index(drop=True), frame_l.iloc[an_sl].reset_index(drop=True)
    scm_settings = SCMSettings(n_folds=settings.n_folds, mechanisms=kinds, seed=settings.seed,
                               n_jobs=settings.n_jobs, scheduler=settings.scheduler)

    def fit_model(graph, ref, an, fit_progress):
        """The SCM on ``graph`` with its edge effects, the nodes the ranking looks at, and the
        mechanisms pooled over both periods where they evidently held."""
        # Lab tags: their mechanisms and their children's fitted on the rows where they were
        # sampled (core/lab_tags.py); a lagged model's reference starts later.
        own_rows = (mechanism_rows(graph, lab_rows, len(row_ref) - len(ref))
                    if lab_rows and not shape.simple_model else None)
        scm = StructuralCausalModel(graph, categorical, layout.monotone, scm_settings, levels=levels,
                                    fit_rows=own_rows).fit(ref, fit_progress)
        if shape.simple_model:
            shrink_mechanisms(scm)
        if shape.rate_kpi:
            install_kpi_mechanism(scm, layout.target, rate_family(shape.kpi_type, ref[layout.target]))
        effects = {(e.source, e.target): e for e in edge_effects(scm)}
        if own_rows:
            effects.update(sampled_edge_effects(scm, ref, own_rows))   # on the lab tags' sampled rows
        relevant = graph.ancestors(layout.target) | {layout.target}
        if shape.method == "anomaly":
            relevant = set(anomaly_candidates(layout, layout.target, graph.nodes))
        check_cancel(progress)
        # Whether a mechanism held in the incident cannot be judged from 1-4 rows: no pooling.
        # Lab values' residuals compared on their samples (core/lab_incident.py).
        lab = lab_incident(Incident(layout.target, layout.goal, ref, an), data, timed, fit_ref_sl, an_sl) \
            if lab_rows else None
        scm, invariance = (scm, []) if shape.short_incident else pool_invariant_mechanisms(scm, an, relevant,
                                                                                            serial=serial, lab=lab)
        # Time series with lagged inputs: queries in time order, by grid step across holes.
        mark_incident_rows(scm, an, layout.target, timed.model_incident_steps if timed is not None else None)
        return scm, effects, relevant, invariance

    scm, effects, relevant, invariance = fit_model(graph, ref, an, SubProgress(progress, 0.35, 0.45, ""))
    if graph is not row_graph and diverges(scm, an, layout.target, settings.seed):
        # Unstable estimated dynamics: the row-by-row model, with the lagged edges reported only.
        messages.append(Note("The model over time was unstable on this incident (its lagged inputs amplify "
                             "themselves, so a counterfactual run through the incident grows without bound): "
                             "the lagged edges are reported but not used in the model; rows are compared as "
                             "moments after their residence-time alignment.", "unstable", "caution"))
        graph, ref, an = row_graph, row_ref, row_an
        if timed is not None:
            for lagged_edge in timed.record.lagged_edges:
                lagged_edge.in_model = False
            timed.model_loops = set()
        scm, effects, relevant, invariance = fit_model(graph, ref, an, None)
    pooled_nodes = {c.node for c in invariance if c.pooled}
    for n in sorted(pooled_nodes, key=graph.nodes.index):
        messages.append(
            f"{n}: during the incident it left the range seen in the reference period, but one "
            "mechanism explains both periods, so it is treated as following its causes (its "
            "mechanism is learned on reference and incident rows together).")
    timings["fit_s"] = time.perf_counter() - t

    t = time.perf_counter()
    incident = Incident(layout.target, layout.goal, ref, an)
    if lab_rows:
        # Lab values' incident noise and the KPI's shift read on their samples, not on the copies
        # held between them (core/lab_incident.py); restorations stay on every incident row.
        incident = lab_incident(incident, data, timed, fit_ref_sl, an_sl)
    interval_method = settings.interval_method
    rank_settings = RankingSettings(settings.rank_bootstrap, settings.action_grid, settings.seed,
                                    interval_method, settings.n_jobs, settings.scheduler)
    scores: list = []
    if shape.method == "restoration" and candidate_nodes(scm, layout.target) == [layout.target]:
        # No sensor upstream of the KPI (typically a short reference): restoring the KPI's own noise
        # would be its only "cause". Sensors are ranked by their own anomaly instead, labelled not causal.
        shape.method, shape.no_kpi_link = "anomaly", True
        messages.append(Note(unlinked_kpi_message(layout.target, len(ref)), "no_causes", "warning"))
    if shape.method == "anomaly":
        ranking, scores = rank_by_anomaly(scm, incident, layout, anomaly_candidates(
            layout, layout.target, [n for n in scm.order_ if n in layout.nodes]))   # not lagged copies
    elif shape.method == "unit_restoration":
        ranking = rank_unit(scm, incident, layout, rank_settings, progress=SubProgress(progress, 0.45, 1.0, ""))
    else:
        ranking = rank_root_causes(scm, incident, layout, rank_settings, progress=SubProgress(progress, 0.45, 1.0, ""))
    if shape.method == "anomaly" and not shape.kpi_constant:
        # The restoration ranking says it itself; an anomaly ranking must too (audit: a KPI read with
        # -9999 codes "rose" 41 points and only the sensors' anomalies were shown).
        messages[:0] = wrong_way_notes(incident, "the sensors ranked by their own anomaly explain no loss of it")
    noise_only = within_noise_warning(kpi_on_samples(incident), serial) if not shape.short_incident else None
    if noise_only:
        messages.insert(0, noise_only)   # first: it qualifies everything else
    causes, hidden = list(ranking.root_causes), list[Any]()
    if shape.method == "restoration":
        # Undetermined directions and suspected unmeasured causes (core/ambiguity.py): ranges of
        # restoration over the orientations the class allows. A unit or anomaly ranking keeps its own.
        causes, hidden, notes = rank_with_ambiguity(scm, incident, constraints, layout, causes, settings.seed,
                                                    disc.hidden_pairs if disc is not None else (), serial)
        messages += notes
        messages += extrapolation_note(causes, ref, an, ranking.kpi_beyond, layout.target)
    if shape.simple_model and shape.method != "anomaly":
        # Short reference: refits on few rows give too narrow intervals (core/unit_ranking.py).
        factor = small_sample_factor(len(ref))
        widen_intervals([*causes, *ranking.root_causes], ranking.actions, factor)
        messages.append(Note(
            f"Short reference: the 90% intervals were widened {factor:.2f}-fold (a small-sample t-correction of "
            "the refits' spread). They cover the refits' variation only, not the error of the simpler model itself "
            "(a cause left out, a curved effect fitted as a line), which on a short reference is often larger: "
            "read them as the least uncertainty there is.", "reference", "caution"))
    timings["ranking_s"] = time.perf_counter() - t
    if timed is not None:
        # The loop, drift and disturbance-origin readings reorder the causes reported (those after
        # the ambiguity step).
        row_causes, ranking.root_causes = ranking.root_causes, causes
        lead, later = _time_readings(timed, layout, ref_rows, an_rows, ranking, summary, data, lag_messages, scm,
                                     incident, data.time.iloc[an_sl.start] if data.time is not None else None,
                                     (data.frame.iloc[ref_sl], data.frame.iloc[an_sl]), lab_rows)
        causes, ranking.root_causes = list(ranking.root_causes), row_causes
        # Loops the data show but the layout does not declare: proposed (as records the window offers
        # to add, and in a note), never used (core/control_loops.py).
        timed.record.proposed_loops = loop_proposals(layout, data.frame.iloc[ref_sl], data.frame.iloc[an_sl], numeric)
        later += [p.text for p in timed.record.proposed_loops]
        # A controller that lost its authority is read first, after the warnings about the windows.
        at = next((i for i, m in enumerate(messages) if as_note(m).kind != "warning"), len(messages))
        messages[at:at] = lead
        messages += later
    timings["total_s"] = time.perf_counter() - t_all
    if shape.method != "anomaly":
        messages += leading_cause_note(causes, ranking.kpi_beyond, layout.target)   # in the order reported
        messages += unmoved_cause_notes(causes, layout.target) + self_lag_notes(scm, incident, causes)
        messages += unranked_notes(causes, ref_rows, an_rows, numeric, layout.target, summary)
    messages += ranking.messages
    messages += points_outside_intervals(ranking)

    edges_out = []
    for e in summary.edges:
        eff = effects.get(model_edge_key(graph, e.source, e.target))
        edges_out.append(GraphEdgeRecord(
            source=e.source, target=e.target,
            effect=eff.effect if eff is not None else e.effect,
            confidence=e.confidence, origin=e.origin,
            std_error=eff.std_error if eff is not None else None,
            source_station=layout.station_of(e.source), target_station=layout.station_of(e.target),
            level_effects=eff.level_effects if eff is not None and eff.level_effects else None,
            undetermined=e.undetermined and e.origin != "user"))
    graph_out = GraphRecord(
        nodes=[GraphNodeRecord(name=n, station=layout.station_of(n), tier=layout.tier_of(n), unit=layout.unit(n),
                               categorical=n in categorical, controllable=n in layout.controllable,
                               exogenous=layout.is_exogenous(n))
               for n in summary.nodes],
        edges=edges_out,
        stations=[s.name for s in layout.stations],
    )
    ref_target = ref[layout.target].to_numpy(float)
    result = AnalysisResult(
        target=layout.target, goal=layout.goal, plant=layout.name,
        anomaly=IncidentRecord(
            start=window_bound(data, an_sl.start), end=window_bound(data, an_sl.stop),
            first_row=an_sl.start, stop_row=an_sl.stop, n_rows=an_sl.stop - an_sl.start,
            target_reference_mean=incident.reference_mean, target_anomaly_mean=incident.anomaly_mean,
            target_reference_sd=float(ref_target.std()),
            shortfall=incident.shortfall,
            shortfall_pct=(100 * incident.shortfall / abs(incident.reference_mean)
                           if incident.reference_mean else None),
            **win_info,
        ),
        reference=WindowRecord(start=window_bound(data, ref_sl.start), end=window_bound(data, ref_sl.stop),
                               first_row=ref_sl.start, stop_row=ref_sl.stop, n_rows=ref_sl.stop - ref_sl.start),
        root_causes=causes,
        actions=list(ranking.actions),
        graph=graph_out,
        mechanisms=[scm.reports_[n] for n in summary.nodes if n in scm.reports_],
        diagnostics=Diagnostics(
            messages=[as_note(m) for m in messages],
            noise_checks=list(checks),
            unstable_edges=[UnstableEdge(**u) for u in disc.unstable_edges] if disc is not None else [],
            causal_order=disc.causal_order if disc is not None else None,
            graph_source="discovered" if disc is not None else "given",
            data_problems=list(data.problems),
            dropped_rows=dict(data.dropped_rows),
            imputed_cells=dict(data.imputed_cells),
            gaps_policy=data.gaps,
            invariance_checks=list(invariance),
            timings=timings,
            bootstrap_refits_used=len(ranking.bootstrap_models),
            discovery_method=disc.method if disc is not None else None,
            discovery_reason=disc.method_reason if disc is not None else "",
            undetermined_edges=[[a, b] for a, b in undetermined_keys(graph)],
            hidden_causes=[HiddenCauseRecord(h.sensors, h.source, h.correlation, h.restoration, h.moved,
                                             list(h.evidence), [list(e) for e in h.edges_left_out],
                                             h.kpi_beyond)
                           for h in hidden],
        ),
        settings={**settings.to_dict(), "thresholds": _thresholds()},
        seed=settings.seed,
        software={"name": "rca_app", "version": rca_app.__version__, "python": platform.python_version(),
                  **_versions()},
        input=InputRecord(file=data.raw.file_name, path=str(data.raw.path), sha256=data.raw.sha256,
                          size_bytes=data.raw.size_bytes, sheet=data.raw.sheet, rows_used=data.n_rows,
                          gaps=data.gaps, dayfirst=data.dayfirst, sep=data.raw.sep,
                          decimal=data.raw.decimal, encoding=data.raw.encoding,
                          joined=InputRecord.joined_tables(data.raw.joined)),
        layout=LayoutRecord(name=layout.name, file=layout.source, path=layout.path, text=layout.text,
                            target=layout.target, goal=layout.goal, time_column=layout.time_column),
        dynamics=timed.record if timed is not None else None,
        ranking_basis=RankingBasis(
            # incident_shapes decides these from fixed sets of words (checked by RankingBasis's schema).
            method=cast(Any, shape.method),
            explanation=ranking_basis_text(shape.method, shape.kpi_type, shape.incident_rows, shape.no_kpi_link),
            kpi_type=cast(Any, shape.kpi_type), kpi_type_inferred=shape.kpi_type_inferred,
            incident_rows=shape.incident_rows,
            reference_rows=shape.reference_rows, comfortable_reference_rows=shape.comfortable_reference_rows,
            simple_model=shape.simple_model,
            anomaly_scores=[OwnAnomalyRecord(a.node, a.score, a.tail_share, a.noise_shift_sd, first)
                            for a, first in scores]),
        # Setpoints tried and not proposed: the ranking's note carries them (core/action_support.py).
        not_proposed=list(ranking.not_proposed),
    )
    return AnalysisOutcome(result, scm, incident, ranking.bootstrap_models, disc)


def _time_readings(timed, layout, ref, an, ranking, graph, data, lag_messages=None, scm=None,
                   incident=None, start_time=None, clock_rows=None,
                   lab_rows=None) -> tuple[list[Note], list[str | Note]]:
    """Control loops and drift onsets on time-series data (see :mod:`rca_app.core.dynamics`);
    may reorder ``ranking.root_causes``; fills ``timed.record``. ``lag_messages``: the lagged
    edges were already found (for the model); None finds them here. ``clock_rows``: the
    reference and incident rows as recorded (not aligned), where a disturbance's first move is
    read. ``lab_rows``: each lab tag's sampled reference rows (a loop's disturbance source is read
    on them). Returns the messages that lead (saturated loops) and the others."""
    ranking.root_causes = list(ranking.root_causes)
    loops, notes = loop_readings(layout, ref, an, ranking, graph, timed.model_loops, start_time, timed.step,
                                 timed.record.shifts, lab_rows, clock_rows)
    n_lead = sum(rec.saturated for rec in loops)   # loop_readings puts one message per saturated loop first
    lead, messages = notes[:n_lead], list[str | Note](notes[n_lead:])
    onsets, drift = drift_origin(ranking, graph, ref, an)
    # Then, from whichever cause is first now, a disturbance that entered upstream earlier still:
    # in clock time (the rows as recorded), which sensor left its normal operation first.
    clock_ref, clock_an = clock_rows if clock_rows is not None else (ref, an)
    more, origin = disturbance_origin(ranking, layout, graph, clock_ref, clock_an, timed.step, loops)
    onsets = {**onsets, **more}
    lead += [Note(origin, "origin", "caution")] if origin else []   # says why the first cause is first: read early
    timed.record.loops, timed.record.drift_onsets = loops, onsets
    timed.record.bad_samples = {t.tag: t.bad_quality for t in data.tag_reports if t.bad_quality}
    # When the KPI would respond to each action: a record on the action and a note (core/action_response.py).
    messages += action_responses(timed.record, ranking.actions, layout.target, scm, incident)
    if lag_messages is None:
        lag_messages = lagged_step(timed, data, layout, ref, graph)
    drift_note = [Note(drift, "origin", "caution")] if drift else []
    return lead, [*messages, *drift_note, *lag_messages]


def _thresholds() -> dict:
    """The fixed thresholds that change results, recorded with every result so that another
    engineer can see (and a later version can compare) what decided the graph and the model."""
    from rca_app.core import scm

    d = DiscoverySettings()
    return {
        "discovery": {k: getattr(d, k) for k in ("categorical_alpha", "categorical_min_partial_r2",
                                                 "curvature_alpha", "curvature_min_partial_r2")},
        "method_choice": _method_thresholds(),
        "mechanism_choice": {"simpler_within_relative_mse": scm._SIMPLER_MARGIN,
                             "selection_max_rows": scm._SELECTION_MAX_ROWS, "selection_folds": scm._SELECTION_FOLDS},
        "invariance": {"min_shift_sd": scm.INVARIANCE_MIN_SHIFT_SD, "max_z": scm.INVARIANCE_MAX_Z,
                       "pooled_max_shift_sd": scm.INVARIANCE_POOLED_MAX_SHIFT_SD,
                       "max_sd_ratio": scm.INVARIANCE_MAX_SD_RATIO},
    }


def _method_thresholds() -> dict:
    """What decides the discovery method, the pruning, the hidden causes and the class ranking."""
    from rca_app.core import ambiguity, constraint_search, discovery_choice, hidden_evidence, pruning

    return {"nongaussian_plant_share": discovery_choice.NONGAUSSIAN_PLANT_SHARE,
            "pc_alpha": constraint_search.PCSettings().alpha, "pc_test": constraint_search.PCSettings().test,
            "fci_clear_separation_p": constraint_search.CLEAR_SEPARATION_P,
            "fci_clear_dependence_p": constraint_search.CLEAR_DEPENDENCE_P,
            "prune_min_partial_r2": pruning.MIN_PARTIAL_R2, "prune_alpha": pruning.PRUNE_ALPHA,
            "max_class_members": ambiguity.MAX_CLASS_MEMBERS, "hidden_cause_margin": ambiguity.HIDDEN_CAUSE_MARGIN,
            "hidden_moved_sd": hidden_evidence.MOVED_SD, "hidden_moved_alpha": hidden_evidence.MOVED_ALPHA,
            "hidden_dependence_alpha": hidden_evidence.DEPENDENCE_ALPHA,
            "hidden_curvature_p": hidden_evidence.CURVATURE_P, "hidden_hsic_rows": hidden_evidence.HSIC_ROWS}


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for pkg in ("numpy", "pandas", "scipy", "scikit-learn", "lingam"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def what_if(outcome: AnalysisOutcome, node: str, value) -> dict:
    """The KPI of the incident rows under do(node = value), for the what-if slider.

    Returns the per-row predicted KPI (for a distribution plot), its mean, a 90% interval of
    the mean from the bootstrap refits, the restoration, and a warning when ``value`` lies
    beyond the range the plant showed or the model would carry the KPI beyond it, by the rule
    the actions follow (:mod:`rca_app.core.what_if_support`)."""
    from rca_app.core.rootcause import what_if as _rows

    inc = outcome.incident
    rows = _rows(outcome.scm, inc, node, value)
    mean = float(np.mean(rows))
    boots = [float(np.mean(_rows(m, inc, node, value))) for m in outcome.bootstrap_models]
    ci = (float(np.percentile(boots, 5)), float(np.percentile(boots, 95))) if boots else (mean, mean)
    short = inc.reference_mean - inc.anomaly_mean
    warning = None
    if node not in outcome.scm.categorical:
        from rca_app.core.what_if_support import setting_warning

        value = float(value)
        warning = setting_warning(outcome.scm, inc, node, value)
    if node not in time_ancestors(outcome.scm, inc.target):
        warning = f"{node} has no causal path to {inc.target} in the graph: changing it predicts no effect"
    return {
        "node": node, "value": value, "predicted_rows": rows, "predicted_mean": mean,
        "predicted_mean_ci": ci, "incident_mean": inc.anomaly_mean, "reference_mean": inc.reference_mean,
        "restoration": (mean - inc.anomaly_mean) / short if short else 0.0, "warning": warning,
    }

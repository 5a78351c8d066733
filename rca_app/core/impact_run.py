"""Verify a corrective action end to end: windows, the model, the change, the verdict.

:func:`verify_change` is what the command line and the window call. From the data (extended
past the incident), the change time and what changed, it

1. takes the model from the investigation (its graph and windows, refitted on the data before
   the change) or fits a fresh one, finding the reference and the incident in the rows before
   the change with the auto-window rule when none are given (and says what it used);
2. names the changed node (given, or the node whose own noise moved most at the change time);
3. runs :func:`rca_app.core.impact.change_impact` and checks the root causes;
4. judges the effect by the layout's goal and lists the caveats.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from rca_app.core.data import PlantData, rows_for_window
from rca_app.core.dynamics import aligned_rows
from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.graph import CausalGraph
from rca_app.core.impact import (
    MIN_AFTER_ROWS,
    OUTSIDE_RANGE_SHARE,
    ImpactSettings,
    attribution_terms,
    cause_status,
    change_impact,
    shifts_at_change,
)
from rca_app.core.impact_records import ChangeRecord, ChangeSpec, ImpactResult, ImpactSeries
from rca_app.core.lab_incident import change_samples
from rca_app.core.lagged_model import add_lagged_columns
from rca_app.core.progress import Progress, SubProgress, check_cancel
from rca_app.core.results import AnalysisResult, WindowRecord
from rca_app.core.settings import AnalysisSettings
from rca_app.core.windows import window_bound

Verdict = Literal["improved", "no effect", "worse"]
# Share of the incident's loss (or of the KPI's reference sd, when larger) below which an
# effect does not count, however sure: a verdict is about what matters on the line.
MIN_EFFECT_SHARE = 0.1


@dataclass
class ImpactOutcome:
    """The result and the live model behind it (for the window; not serialised)."""

    result: ImpactResult
    analysis: object            # the AnalysisOutcome of the model used
    core: object = None         # the ImpactCore behind the result


def change_row(data: PlantData, time) -> int:
    """Position of the first row at or after the change ``time``.

    Raises
    ------
    RcaInputError
        When the change lies outside the data or leaves no rows on either side.
    """
    if isinstance(time, str) and data.time is None and time.strip().lstrip("+").isdigit():
        time = int(time.strip())
    start = rows_for_window(data, time, None).start
    if start == 0:
        raise RcaInputError(Problem(f"the change at {time} is at the first row: there is nothing before it to "
                                    "compare with", file=data.file_name, column=data.layout.time_column))
    return start


def data_before(data: PlantData, row: int) -> PlantData:
    """The prepared data cut before ``row`` (the investigation's world, before the change)."""
    return replace(data, frame=data.frame.iloc[:row].reset_index(drop=True),
                   time=None if data.time is None else data.time.iloc[:row].reset_index(drop=True),
                   source_rows=data.source_rows[:row])


def _window(data: PlantData, lo: int, hi: int) -> WindowRecord:
    return WindowRecord(window_bound(data, lo), window_bound(data, hi), lo, hi, hi - lo)


def fit_before_change(data: PlantData, row: int, investigation: AnalysisResult | None = None,
                      graph: dict | None = None, reference=None, anomaly=None,
                      settings: AnalysisSettings | None = None, progress: Progress | None = None):
    """The investigation's model, fitted on the rows before the change.

    With an investigation its windows and graph are used (the graph is not rediscovered);
    otherwise the incident is found by the auto-window rule in the rows before the change
    (within ``reference`` when given). Returns the analysis outcome and a sentence saying
    which windows were used and where they came from.
    """
    from rca_app.core.analysis import run_analysis

    cut = data_before(data, row)
    g = None
    if investigation is not None:
        an = investigation.anomaly
        if an.first_row >= row:
            raise RcaInputError(Problem(
                f"the investigation's incident starts at {an.start}, after the change at "
                f"{window_bound(data, row)}: give the change time after the incident's start",
                file=data.file_name))
        anomaly = (an.start, an.end if an.stop_row <= row else None)
        reference = (investigation.reference.start, investigation.reference.end)
        g = CausalGraph.from_dict(graph) if graph is not None else _graph_of(investigation)
        source = "the investigation's windows and graph"
    elif anomaly is None:
        anomaly = "auto"
        source = ("the auto-window rule on the rows before the change"
                  + (" within the given reference" if reference is not None else ""))
    else:
        source = "the windows given"
    outcome = run_analysis(cut, anomaly, reference, settings, graph=g, progress=progress)
    res = outcome.result
    note = (f"reference {res.reference.start} to {res.reference.end} ({res.reference.n_rows} rows), incident "
            f"from {res.anomaly.start} ({res.anomaly.n_rows} rows before the change end at "
            f"{res.anomaly.end}), from {source}")
    return outcome, note


def _graph_of(result: AnalysisResult) -> CausalGraph:
    return CausalGraph.from_dict({
        "nodes": [n.name for n in result.graph.nodes],
        "edges": [{"source": e.source, "target": e.target, "effect": e.effect, "confidence": e.confidence,
                   "origin": e.origin} for e in result.graph.edges]})


def _summary(frame: pd.DataFrame, node: str, categorical: bool):
    if categorical:
        return str(frame[node].astype(str).mode().iloc[0])
    return float(frame[node].mean())


def find_changed_node(scm, before: pd.DataFrame, after: pd.DataFrame, target: str,
                      samples: tuple[dict, dict] | None = None):
    """The node whose own noise moved most at the change among the KPI's causes (and the KPI
    itself), and the shifts of every node. None when nothing moved. ``samples``: lab tags'
    sampled rows before and after (their noise read there)."""
    shifts = shifts_at_change(scm, before, after, samples)
    relevant = scm.graph.ancestors(target) | {target}
    hit = next((s for s in shifts if s.changed and s.node in relevant), None)
    return (hit.node if hit else None), shifts


def verify_change(data: PlantData, change: ChangeSpec, investigation: AnalysisResult | None = None,
                  graph: dict | None = None, reference=None, anomaly=None,
                  analysis_settings: AnalysisSettings | None = None, settings: ImpactSettings | None = None,
                  progress: Progress | None = None, outcome=None) -> ImpactOutcome:
    """Did the change work? See the module docstring.

    Parameters
    ----------
    data : PlantData
        The prepared data, extended past the change.
    change : ChangeSpec
    investigation : AnalysisResult, optional
        The investigation whose windows, graph and ranked causes to use.
    graph : dict, optional
        The investigation's current (possibly edited) graph, ``CausalGraph.to_dict()``.
    reference, anomaly : (start, end), optional
        Windows in the user's terms (without an investigation).
    analysis_settings : AnalysisSettings, optional
        For the fit (seed, refits for the intervals).
    settings : ImpactSettings, optional
    progress : Progress, optional
    outcome : AnalysisOutcome, optional
        A model already fitted on the rows before the change (the window's live model).

    Returns
    -------
    ImpactOutcome
    """
    settings = settings or ImpactSettings(seed=(analysis_settings.seed if analysis_settings else 0))
    layout = data.layout
    target = layout.target
    row = change_row(data, change.time)
    _check_change(data, change, row)
    if outcome is not None and outcome.result.anomaly.stop_row > row:
        # The open model learnt from rows after the change (its incident window runs past it):
        # refit it, with its graph, on the rows before the change.
        investigation = investigation or outcome.result
        graph = graph or outcome.scm.graph.to_dict()
        outcome = None
    if outcome is None:
        outcome, note = fit_before_change(data, row, investigation, graph, reference, anomaly, analysis_settings,
                                          SubProgress(progress, 0.0, 0.8, "") if progress is not None else None)
    else:
        r = outcome.result
        note = f"reference {r.reference.start} to {r.reference.end}, incident from {r.anomaly.start} (the open model)"
    check_cancel(progress)
    res = outcome.result
    scm = outcome.scm
    # The rows as the model was fitted on them: each sensor moved by its residence time to the
    # KPI (a change reaches the KPI's row only after its lag), and a model over time's lagged
    # copies (X[t-L]) added.
    frame, with_past = aligned_rows(data, res.dynamics.shifts if res.dynamics is not None else {})
    frame = add_lagged_columns(frame, scm.graph.nodes)
    ref = frame.iloc[max(res.reference.first_row, with_past):res.reference.stop_row].reset_index(drop=True)
    first = res.anomaly.first_row
    before = frame.iloc[first:row].reset_index(drop=True)
    after = frame.iloc[row:].reset_index(drop=True)
    found = change.node is None
    # Lab values: their noise before and after read on their samples (core/lab_incident.py).
    samples = change_samples(data, first, row, data.n_rows)
    node, shifts = find_changed_node(scm, before, after, target, samples)
    if change.node is not None:
        node = change.node
    elif node is None:
        raise RcaInputError(Problem(
            f"nothing upstream of {target} changed visibly at {window_bound(data, row)} (no sensor's own "
            "behaviour moved by 0.25 reference sds or more): name the change with --node or --switch",
            file=data.file_name))
    if node not in scm.mechanisms_:
        raise RcaInputError(Problem(f"{node} is not in the model (left out of the analysis: see its messages)",
                                    file=data.file_name, column=node))
    core = change_impact(scm, ref, before, after, target, node, _refits(outcome, settings), settings,
                         incident=frame.iloc[first:res.anomaly.stop_row].reset_index(drop=True))
    causes = [c for c in res.root_causes if c.restoration >= 0.1][: settings.max_causes] or res.root_causes[:1]
    status = cause_status(scm, causes, ref, before, after, settings.level, settings.seed, samples=samples)
    terms = attribution_terms(core, node, target, layout)
    categorical = node in scm.categorical
    record = ChangeRecord(window_bound(data, row) if change.time is not None else row, row, change.kind, node,
                          change.value, found, _summary(before, node, categorical), _summary(after, node, categorical))
    n_a = len(after)
    cf_mean = float(core.counterfactual.mean())
    obs_mean = float(core.observed.mean())
    shortfall = res.anomaly.shortfall
    ref_sd = res.anomaly.target_reference_sd
    min_effect = MIN_EFFECT_SHARE * max(shortfall if np.isfinite(shortfall) else 0.0, ref_sd)
    verdict = judge(core.effect_mean, core.effect_mean_ci, layout.goal, min_effect)
    caveats = _caveats(scm, res, ref, before, after, node, change, core, shifts, target, n_a)
    mb = core.mean_band
    times = [window_bound(data, i) for i in range(row, data.n_rows)]
    series = ImpactSeries(
        rows=list(range(row, data.n_rows)), times=times, observed=core.observed.tolist(),
        counterfactual=core.counterfactual.tolist(), expected=core.expected.tolist(),
        band_low=(core.expected + core.band.low).tolist(), band_high=(core.expected + core.band.high).tolist())
    result = ImpactResult(
        plant=layout.name, target=target, goal=layout.goal, change=record,
        reference=_window(data, res.reference.first_row, res.reference.stop_row),
        before=_window(data, first, row), after=_window(data, row, data.n_rows),
        windows_source=note, observed_mean=obs_mean, counterfactual_mean=cf_mean,
        effect_mean=core.effect_mean, effect_mean_ci=core.effect_mean_ci,
        effect_cumulative=core.effect_mean * n_a, effect_cumulative_ci=core.effect_cumulative_ci,
        counterfactual_mean_band=mb, effect_mean_conformal_ci=(obs_mean - mb.high, obs_mean - mb.low),
        row_band=core.band, before_mean=core.before_mean, reference_mean=res.anomaly.target_reference_mean,
        recovery=obs_mean - core.before_mean, attribution=terms, causes=status,
        shifts_at_change=[s for s in shifts if s.changed], verdict=verdict,
        verdict_text="", min_effect=min_effect, caveats=caveats, level=settings.level,
        n_refits=core.n_refits, series=series, seed=settings.seed)
    result.verdict_text = verdict_text(result, layout)
    if progress is not None:
        progress.step("done", 1.0)
    return ImpactOutcome(result, outcome, core)


def _no_score(model, incident, reference_mean):
    return None


def _refits(outcome, settings: ImpactSettings) -> list:
    """The investigation's bootstrap refits, topped up to ``settings.min_refits`` (percentile
    intervals from a few dozen refits are too narrow; refits of the KPI's causes are cheap)."""
    from rca_app.core.parallel import ParallelSettings
    from rca_app.core.rootcause import candidate_nodes
    from rca_app.core.uncertainty import bootstrap_models

    have = list(outcome.bootstrap_models)
    need = settings.min_refits - len(have)
    if need <= 0 or not have:
        return have     # no refits asked for (rank_bootstrap 0): no interval, said as such
    scm = outcome.scm
    nodes = candidate_nodes(scm, outcome.incident.target)
    more = bootstrap_models(scm, outcome.incident, nodes, need, settings.seed + 7919, _no_score, "weighted",
                            ParallelSettings(n_jobs=1))
    return have + [m for m, _ in more]


def _check_change(data: PlantData, change: ChangeSpec, row: int) -> None:
    node = change.node
    if node is None:
        return
    col = node
    if node not in data.frame.columns:
        raise RcaInputError(Problem(f"{node} is not a sensor of the layout", file=data.file_name, column=col))
    categorical = node in data.categorical_nodes
    if change.kind == "switch" and not categorical:
        raise RcaInputError(Problem(f"{node} is numeric: use --node {node} --value V for a setpoint",
                                    file=data.file_name, column=col))
    if change.kind == "setpoint" and categorical:
        raise RcaInputError(Problem(f"{node} is categorical: use --switch {node}=LEVEL",
                                    file=data.file_name, column=col))
    if change.kind == "switch":
        levels = set(data.frame[node].astype(str))
        if str(change.value) not in levels:
            raise RcaInputError(Problem(f"{node} has no level '{change.value}' in the data (levels: "
                                        f"{', '.join(sorted(levels))})", file=data.file_name, column=col))


def judge(effect: float, ci: tuple[float, float], goal: str, min_effect: float) -> Verdict:
    """"improved", "worse" or "no effect" by the layout's goal: the interval must exclude zero
    and the effect reach ``min_effect``.

    Parameters
    ----------
    effect : float
        Observed minus counterfactual mean KPI.
    ci : (float, float)
    goal : {"maximize", "minimize"}
    min_effect : float

    Returns
    -------
    str
    """
    sign = 1.0 if goal == "maximize" else -1.0
    good = sign * effect
    lo, hi = sorted((sign * ci[0], sign * ci[1]))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "no effect"
    if lo > 0 and good >= min_effect:
        return "improved"
    if hi < 0 and good <= -min_effect:
        return "worse"
    return "no effect"


def _caveats(scm, res, ref, before, after, node, change, core, shifts, target, n_a) -> list[str]:
    out = []
    if n_a < MIN_AFTER_ROWS:
        out.append(f"only {n_a} rows after the change (fewer than {MIN_AFTER_ROWS}): the intervals are wide "
                   "and the verdict is tentative; check again when more data have come in.")
    if node not in scm.graph.ancestors(target) and node != target:
        out.append(f"{node} has no causal path to {target} in the graph: the model predicts no effect of "
                   "changing it.")
    if not core.mean_band.exact:
        out.append("the conformal band of the mean is approximate: rows are autocorrelated, so it is "
                   f"calibrated on {core.mean_band.n_calibration} non-overlapping windows of the reference "
                   "residuals.")
    outside = []
    for k in sorted(scm.graph.ancestors(target), key=scm.graph.nodes.index):
        if k in scm.categorical or k == node:
            continue
        lo, hi = ref[k].min(), ref[k].max()
        share = float(((after[k] < lo) | (after[k] > hi)).mean())
        if share > OUTSIDE_RANGE_SHARE:
            outside.append(f"{k} ({100 * share:.0f}% of rows)")
    if outside:
        out.append("after the change these upstream sensors ran outside the range of the reference period, "
                   "where the model extrapolates: " + ", ".join(outside) + ".")
    if node not in scm.categorical and node in ref.columns:
        lo, hi = ref[node].min(), ref[node].max()
        share = float(((after[node] < lo) | (after[node] > hi)).mean())
        if share > OUTSIDE_RANGE_SHARE:
            text = (f"after the change {node} ran outside its reference range ({lo:.4g} to {hi:.4g}) in "
                    f"{100 * share:.0f}% of rows: there the data cannot check the model, and the interval assumes "
                    "the effect goes on as the model has it or as a line or a quadratic that fits the reference "
                    "rows as well would carry it")
            far = core.effect_mean_ci_beyond
            if far is not None:
                text += (f"; if the model's misfit seen at the range's edge goes on, the effect lies within "
                         f"{_fmt(far[0])} to {_fmt(far[1])} (the effect cannot be bounded more tightly from these "
                         "data)")
            out.append(text + ".")
    by = {s.node: s for s in shifts}
    kpi = by.get(target)
    if node != target and kpi is not None and kpi.changed:
        out.append(f"the KPI's own behaviour changed at the change ({target}'s own noise moved by "
                   f"{kpi.shift_sd:+.2f} reference sds): something no measured sensor explains changed too, or "
                   "the change acts on the KPI's mechanism directly. The effect above counts only what acts "
                   "through the measured sensors; the conformal interval of the effect includes the rest.")
    s = by.get(node)
    if change.node is not None and s is not None and not s.changed:
        out.append(f"{node} shows no clear change at the change time in the data (its own behaviour moved by "
                   f"{s.shift_sd:+.2f} sds).")
    if change.kind == "setpoint" and isinstance(change.value, (int, float)) and node not in scm.categorical:
        seen = float(after[node].mean())
        sd = float(ref[node].std()) or 1.0
        if abs(seen - float(change.value)) > 2 * sd:
            out.append(f"the data show {node} at {seen:.4g} on average after the change, not {change.value:.4g}: "
                       "the effect is of what the data show.")
    others = [s.node for s in shifts if s.changed and s.node not in (node, target)]
    if others:
        out.append("other sensors also changed at the same time (kept as they were in both worlds, so not "
                   "credited to the change): " + ", ".join(others[:5]) + ".")
    return out


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.4g}"


def verdict_text(r: ImpactResult, layout=None) -> str:
    """The verdict in plain words, e.g. "The change raised yield_pct by 0.52 (90% interval 0.31
    to 0.70); 80% of the recovery since the incident is due to it; dryer_dewpoint_C is back to
    normal."

    Parameters
    ----------
    r : ImpactResult
    layout : Layout, optional
        For units.

    Returns
    -------
    str
    """
    unit = ""
    if layout is not None:
        u = layout.unit(r.target)
        unit = f" {u}" if u else ""
    lo, hi = r.effect_mean_ci
    pct = round(100 * r.level)
    c = r.change
    if c.kind == "setpoint" and isinstance(c.value, (int, float)):
        head = f"Setting {c.node} to {_fmt(c.value)}"
    elif c.kind == "switch" and c.value is not None:
        head = f"Switching {c.node} to {c.value}"
    elif c.found_in_data:
        head = f"The change at {c.time} (found in the data: {c.node})"
    else:
        head = f"The change of {c.node}"
    interval = f"{pct}% interval {_fmt(lo)} to {_fmt(hi)}"
    if r.verdict == "no effect":
        real = np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)
        why = (f"real but below what counts on the line ({_fmt(r.min_effect)}{unit})" if real
               else "not clearly different from zero")
        first = (f"{head} did not measurably change {r.target}: the effect is {_fmt(r.effect_mean)}{unit} "
                 f"({interval}), {why}")
    else:
        verb = "raised" if r.effect_mean > 0 else "lowered"
        first = f"{head} {verb} {r.target} by {_fmt(abs(r.effect_mean))}{unit} ({interval}): {r.verdict}"
    parts = [first]
    share = r.change_share
    if share is not None and abs(r.recovery) > 0:
        parts.append(f"{100 * share:.0f}% of the change in {r.target} since the incident "
                     f"({_fmt(r.before_mean)} to {_fmt(r.observed_mean)}) is due to it")
        top = max((t for t in r.attribution if t.kind == "upstream" and t.node), key=lambda t: abs(t.contribution),
                  default=None)
        if top is not None and top.share is not None and abs(top.share) >= 0.25:
            parts.append(f"{100 * top.share:.0f}% to {top.node}")
    for cs in r.causes[:3]:
        text = f"{cs.node} is {cs.status}"
        if cs.status != "back to normal" and cs.node != c.node and r.verdict == "improved":
            text += " (the change compensates for it rather than removing it)"
        parts.append(text)
    return "; ".join(parts) + "."

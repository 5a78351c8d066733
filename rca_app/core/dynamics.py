"""The time-aware step of an analysis: residence-time alignment, control loops and drift onsets.

On time-series data (a time column on an even grid) every sensor is moved forward by the
residence time from its station to the KPI's station, so that one row holds the material that
became that row's KPI: cause and effect then sit in the same row, which is what discovery and the
structural model assume. Residence times come from the layout (declared values always win) or are
estimated ("auto", the default) by :func:`rca_app.core.lags.estimate_station_lags`; an estimate
is used only when its block-bootstrap resamples place it (:func:`lag_is_used`), else the
station is left unshifted and the result says so.

After the ranking, two readings that row-by-row statistics miss:

- Control loops (:mod:`rca_app.core.control_loops`): compensated, saturated or not held, and the
  disturbance a compensating controller rejected followed back to its source.
- Slow drifts. Among the leading causes, the one whose own drift (CUSUM on the aligned data)
  started first, clearly before the others and upstream of them, is the one that started it.

The grid is judged on the time column as exported (:func:`rca_app.core.grid_holes.data_grid`):
rows dropped for a missing value are holes in it, and every shift is then taken on the complete
grid, so that a lag of L is L grid steps, not L surviving rows. Rows that are truly uneven are
treated one by one, and a warning note says so whatever the layout declares.

Data without a time column are left exactly as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rca_app.core.autocorrelation import rows_are_serial
from rca_app.core.data.times import TimeGrid
from rca_app.core.drift_onsets import DEPARTED_SD, cusum_onset, drift_origin, onset_interval
from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.graph import CausalGraph
from rca_app.core.grid_holes import (
    BRIDGE_STEPS,
    FullGrid,
    at_rows,
    bridged_steps,
    data_grid,
    first_row_from,
    full_grid,
    grid_slice,
    holes_note,
    missing_runs,
    unknown_cells,
)
from rca_app.core.lags import LagEstimate, estimate_station_lags
from rca_app.core.layout.time_keys import AUTO, duration_text, parse_duration
from rca_app.core.result_notes import Note
from rca_app.core.results import DynamicsRecord, LagRecord

MIN_CONFIDENCE = 0.6          # share of bootstrap resamples agreeing with an "auto" estimate
MIN_LAG_SCORE = 0.02          # adjusted R^2 below which the stations show no lagged relation at all
DEFAULT_MAX_LAG_STEPS = 30    # "auto" tries at least this many grid steps unless lag_max says otherwise
MAX_AUTO_LAG_STEPS = 120      # ... and at most this many (a tenth of the reference rows in between)
LAG_ROWS = 5000               # reference rows (the latest) used to estimate lags and lagged edges
MAX_STEPPED_CALLS = 8000      # mechanism evaluations a query through time may take (about 1 s)

# The drift readings live in core/drift_onsets.py; imported from here as before.
__all__ = ["DEPARTED_SD", "TimeAlignment", "align_for_time", "aligned_rows", "cusum_onset", "drift_origin",
           "duration_text", "lagged_model_step", "lagged_step", "onset_interval", "response_steps", "uneven_note"]


@dataclass
class TimeAlignment:
    """The aligned table and what was done.

    Attributes
    ----------
    frame : DataFrame
        Same rows as the prepared data; each sensor shifted by ``record.shifts`` (leading rows
        without a past value are NaN and excluded from the reference).
    reference : slice
        The reference rows that hold every sensor's past.
    record : DynamicsRecord
    messages : list of str
        For the engineer (lags used, uncertain estimates).
    step : Timedelta or None
        The grid step (None: rows unevenly spaced, nothing aligned).
    max_lag : int
        Lags tried, in steps.
    raw_reference : slice or None
        The reference rows before alignment (lagged edges are found in physical time).
    model_loops : set of (str, str)
        Declared loops ``(controlled, manipulated)`` the structural model holds over time.
    grid : TimeGrid or None
        The grid the rows lie on (``grid.positions``: each row's grid step).
    full : FullGrid or None
        The rows have holes: every grid time, unaligned (:mod:`rca_app.core.grid_holes`).
    grid_aligned : DataFrame or None
        With holes: the aligned table at every grid time (row ``p`` = grid position ``p``).
    model_incident_steps : ndarray or None
        With holes and a model over time: each incident row's grid step from the first, for the
        model's queries (:func:`rca_app.core.lagged_model.mark_incident_rows`).
    """

    frame: pd.DataFrame
    reference: slice
    record: DynamicsRecord
    messages: list[str | Note] = field(default_factory=list)
    step: pd.Timedelta | None = None
    max_lag: int = 0
    raw_reference: slice | None = None     # the reference rows before alignment
    model_loops: set[tuple[str, str]] = field(default_factory=set)   # (CV, MV) held over time in the model
    grid: TimeGrid | None = None
    full: FullGrid | None = None
    grid_aligned: pd.DataFrame | None = None
    model_incident_steps: np.ndarray | None = None   # the lagged model's incident rows' grid steps (holes)


def _steps(duration: str, step: pd.Timedelta) -> int:
    return int(round(parse_duration(duration) / step))


def align_for_time(data, layout, reference: slice, incident: slice, seed: int = 0,
                   estimated: dict[int, LagEstimate] | None = None) -> TimeAlignment | None:
    """Residence times of every station and the table aligned by them.

    Parameters
    ----------
    data : PlantData
        With ``time`` (None: returns None, the data are treated row by row as before).
    layout : Layout
        Stations in flow order with their ``lag`` / ``sensor_lags``, ``lag_max``.
    reference, incident : slice
        Row positions of the two windows.
    seed : int
    estimated : dict, optional
        Station index -> a residence time estimated elsewhere (on a lab station's samples, see
        :mod:`rca_app.core.lab_lags`): used as it is, not estimated again, and recorded as an
        estimate (never doubted as a declaration).

    Returns
    -------
    TimeAlignment or None

    Raises
    ------
    RcaInputError
        When the incident starts before the longest residence time has passed.
    """
    if data.time is None:
        return None
    grid = data_grid(data)
    frame = data.frame
    if grid is None:
        rec = DynamicsRecord(step=None, note=uneven_note(data))
        # Never silently row by row on data with a time column: said whatever the layout declares.
        return TimeAlignment(frame, reference, rec, [Note(rec.note or "", "warning", "warning")])
    step = grid.step
    # Holes (rows dropped for a missing value): the time-aware step works on the complete grid,
    # so a shift of L means L grid steps (core/grid_holes.py).
    full = None if grid.consecutive else full_grid(data, grid)
    on_grid = full.frame if full is not None else frame
    g_ref = grid_slice(grid, reference) if full is not None else reference
    numeric = set(data.numeric_nodes)
    stations = [[s for s in st.sensors if s in numeric and s in frame.columns] for st in layout.stations]
    # The most recent reference rows are enough to estimate a residence time (and bound the cost).
    ref = on_grid.iloc[max(g_ref.start, g_ref.stop - LAG_ROWS): g_ref.stop]
    # A line of independent parts stamped at a fixed cycle keeps the fixed search: a residence
    # time of many cycles is a time series' (continuous plant's) question.
    serial = rows_are_serial(ref, [c for st in stations for c in st])
    max_lag = (_steps(layout.lag_max, step) if layout.lag_max
               else default_lag_search(len(ref)) if serial else DEFAULT_MAX_LAG_STEPS)
    max_lag = max(0, min(max_lag, len(ref) // 10))
    given = {i: _steps(st.lag, step) for i, st in enumerate(layout.stations) if st.lag not in (None, AUTO)}
    target_station = layout.tier_of(layout.target)
    estimated = estimated or {}
    known = {**given, **{s: e.lag_steps for s, e in estimated.items()}}
    wanted = [s for s in range(target_station) if s not in known]
    estimates = []
    if max_lag > 0 and wanted:
        # Only the stations upstream of the KPI matter for its alignment.
        upto = stations[: target_station + 1]
        estimates = [e for e in estimate_station_lags(ref, upto, max_lag, known, n_bootstrap=10, seed=seed)]
    by_station: dict[int, LagEstimate] = {e.from_station: e for e in estimates}
    for s, k in given.items():
        by_station[s] = LagEstimate(s, s + 1, k, float("nan"), 1.0, [], True)
    by_station.update(estimated)
    # A station of lot properties only (a joined lot table) has no residence time on the batch grid.
    held = held_columns(ref, [c for st in stations for c in st])
    lot_station = {i for i, st in enumerate(stations) if st and all(c in held for c in st) and i not in known}
    used: dict[int, int] = {}
    records, messages = [], list[str | Note]()
    if max_lag > 0:
        messages += _declared_lag_doubts(ref, stations, given, target_station, max_lag, step, seed, layout)
    for s in range(len(layout.stations) - 1):
        e = by_station.get(s)
        if e is None or s in lot_station:
            continue
        weak = not e.given and lag_is_weak(e.score)
        ok = e.given or lag_is_used(e)
        used[s] = e.lag_steps if ok else 0
        records.append(LagRecord(
            station=layout.stations[s].name, to_station=layout.stations[s + 1].name,
            lag=duration_text(step * used[s]), lag_steps=used[s], given=e.given,
            estimate_steps=None if e.given else e.lag_steps,
            confidence=None if e.given or not np.isfinite(e.confidence) else float(e.confidence),
            score=None if e.given else float(e.score)))
        if not e.given:
            messages += _search_limit_note(layout, s, e, ok, weak, step, max_lag, len(ref), serial)
    cum = [0] * len(layout.stations)
    for s in range(target_station - 1, -1, -1):
        cum[s] = cum[s + 1] + used.get(s, 0)
    shifts: dict[str, int] = {}
    for i, st in enumerate(layout.stations):
        for c in st.sensors:
            if c not in frame.columns:
                continue
            k = cum[i] if i < target_station else 0
            own = st.sensor_lags.get(c)
            if own is not None and i < target_station:
                own_k = _sensor_lag(c, own, i, stations, ref, max_lag, step, seed, layout, records)
                if own_k is not None:
                    k = cum[i + 1] + own_k
            shifts[c] = k
    rec = DynamicsRecord(step=duration_text(step), lags=records, shifts={c: k for c, k in shifts.items() if k},
                         lag_max=duration_text(step * max_lag))
    longest = max(shifts.values(), default=0)
    if full is not None:
        messages.insert(0, holes_note(grid, _filled_used(full, shifts), duration_text(step)))
    if longest == 0:
        out = TimeAlignment(frame, reference, rec, messages, step, max_lag, reference)
        out.grid, out.full = grid, full
        if full is not None:
            out.grid_aligned = full.frame
        return out
    start_at = int(grid.positions[incident.start]) if full is not None else incident.start
    if start_at < longest:
        raise RcaInputError(Problem(
            f"the incident starts {start_at} grid steps into the data, but the longest residence time to "
            f"{layout.target} is {longest} steps ({duration_text(step * longest)}): include earlier data",
            file=data.file_name))
    aligned = _shifted(on_grid, frame.columns, shifts)
    grid_aligned = None
    if full is not None:
        grid_aligned, aligned = aligned, at_rows(aligned, grid, frame.index)
        new_ref = slice(max(reference.start, first_row_from(grid, longest)), reference.stop)
    else:
        new_ref = slice(max(reference.start, longest), reference.stop)
    rec.rows_without_past = new_ref.start - reference.start
    used_text = ", ".join(f"{r.station} -> {r.to_station} {r.lag}" for r in records if r.lag_steps)
    messages.append(f"time series: each sensor is compared with the {layout.target} its material became, "
                    f"{duration_text(step * longest)} later at most ({used_text})")
    out = TimeAlignment(aligned, new_ref, rec, messages, step, max_lag, reference)
    out.grid, out.full, out.grid_aligned = grid, full, grid_aligned
    return out


def _filled_used(full: FullGrid, shifts: dict[str, int]) -> int:
    """Aligned values at the analysis rows that come from a time the sensor had no good sample."""
    n = 0
    for c, k in shifts.items():
        if k and c in full.filled.columns:
            n += int(full.filled[c].shift(k, fill_value=False).iloc[full.grid.positions].sum())
    return n


def uneven_note(data) -> str:
    """Why rows with a time column are treated one by one: what the time column shows.

    Parameters
    ----------
    data : PlantData

    Returns
    -------
    str
    """
    d = data.time.diff().dropna()
    if d.empty:
        return "only one timestamped row: residence times are not estimated and rows are treated one by one"
    step = d.median()
    share = float((d == step).mean())
    return (f"the rows are not evenly spaced in time (the most common spacing, {duration_text(step)}, separates only "
            f"{100 * share:.0f}% of consecutive rows, 90% are needed): residence times are not estimated, no "
            "recycle or loop is proposed and rows are treated one by one, as parts. For historian data set "
            "[plant] sample = \"...\" (a grid step) in the layout, or export on an even interval")


def default_lag_search(n_ref: int) -> int:
    """Grid steps an "auto" residence time is searched over when the layout sets no lag_max.

    A tenth of the reference rows (the most a lag can take and still leave its regression nine
    rows in ten), at least :data:`DEFAULT_MAX_LAG_STEPS` and at most :data:`MAX_AUTO_LAG_STEPS`:
    tanks and buffer vessels hold material for an hour or more, and the estimate's cost hardly
    grows with the lags tried (its bootstrap blocks grow as its block count falls).

    Parameters
    ----------
    n_ref : int
        Reference rows the lags are estimated on.

    Returns
    -------
    int
    """
    return int(min(MAX_AUTO_LAG_STEPS, max(DEFAULT_MAX_LAG_STEPS, n_ref // 10)))


def lag_is_weak(score: float | None) -> bool:
    """The stations show no lagged relation at all (adjusted R^2 below :data:`MIN_LAG_SCORE`, or none)."""
    return not (score is not None and score >= MIN_LAG_SCORE)


def weak_lag_words(score: float) -> str:
    """Why a weak estimate is not used, as the notes and the window say it."""
    return f"weak (the downstream sensors' adjusted R2 at that lag is {score:.2f})"


def lag_is_used(e: LagEstimate) -> bool:
    """Whether an "auto" residence time is used for the alignment (else the station is left unshifted).

    No lag needs no evidence. Otherwise the stations must show a lagged relation at all (adjusted
    R^2 at least :data:`MIN_LAG_SCORE`) and the resamples must place the lag: most of them within one
    step of the estimate (:data:`MIN_CONFIDENCE`), or their 90% range holding it, narrow (two steps, or
    half the lag) and clear of no lag. The second case is a slow downstream station whose profile is flat
    over a few steps (a 4-min dead time into a 3-min first-order lag scores alike at 4, 5 and 6
    min): the resamples split between neighbours, so few agree within one step, yet every one of them
    says the material takes 4-6 minutes, and aligning by 4 is far nearer the truth than by none.
    """
    if e.lag_steps == 0:
        return True   # NaN confidence: an estimate of no lag is not resampled
    if lag_is_weak(e.score):
        return False
    if e.confidence >= MIN_CONFIDENCE:
        return True
    if e.interval is None:
        return False
    lo, hi = e.interval
    return 1 <= lo <= e.lag_steps <= hi and hi - lo <= max(2, e.lag_steps // 2)


def _search_limit_note(layout, s: int, e: LagEstimate, ok: bool, weak: bool, step: pd.Timedelta, max_lag: int,
                       n_ref: int, serial: bool) -> list[str]:
    """What to do about an estimate that is not used, or that sits at the end of the search: a
    residence time longer than the lags tried shows as an uncertain, weak or edge estimate. On
    independent rows (parts stamped at a fixed cycle) only an uncertain estimate is said, as a
    lag to declare."""
    a, b = layout.stations[s].name, layout.stations[s + 1].name
    if not serial:
        if ok or weak:
            return []
        return [f"residence time {a} -> {b}: the estimate ({duration_text(step * e.lag_steps)}) is uncertain "
                f"(confidence {100 * e.confidence:.0f}%), so no lag is used; declare lag = \"...\" in the layout if "
                "you know it"]
    searched = duration_text(step * max_lag)
    at_edge = max_lag > 0 and e.lag_steps >= max_lag - max(1, max_lag // 10)
    wider = duration_text(step * (2 * max_lag))
    longer = (f"the residence time may be longer than the {searched} searched: set lag_max = \"{wider}\" in [plant] "
              f"(or declare lag = \"...\" on {a})")
    if max_lag >= n_ref // 10 and n_ref // 10 < 2 * max_lag:
        longer += f"; the reference period ({duration_text(step * n_ref)}) allows lags up to a tenth of its length"
    if not ok and e.lag_steps > 0:
        why = (f"uncertain (confidence {100 * e.confidence:.0f}%)" if not weak
               else weak_lag_words(e.score))
        return [f"residence time {a} -> {b}: the estimate ({duration_text(step * e.lag_steps)}) is {why}, so no lag "
                f"is used; {longer}"]
    if at_edge:
        return [f"residence time {a} -> {b}: the estimate ({duration_text(step * e.lag_steps)}) is at the end of the "
                f"lags searched; {longer}"]
    return []


def _shifted(on_grid: pd.DataFrame, columns, shifts: dict[str, int]) -> pd.DataFrame:
    """Each column of ``on_grid`` (one row per grid step) moved forward by its shift."""
    return pd.DataFrame({c: on_grid[c].shift(shifts.get(c, 0)) if shifts.get(c, 0) else on_grid[c]
                         for c in columns}, index=on_grid.index)


def aligned_rows(data, shifts: dict[str, int]) -> tuple[pd.DataFrame, int]:
    """``data``'s rows with each sensor moved forward by its residence time, as
    :func:`align_for_time` aligns them (in grid steps across rows dropped for gaps), and the
    first row whose every sensor has its past in the data; for rows other than the analysis's
    (the change check's, which run past the change).

    Parameters
    ----------
    data : PlantData
    shifts : dict of str to int
        Grid steps per sensor (``DynamicsRecord.shifts``).

    Returns
    -------
    (DataFrame, int)
    """
    frame = data.frame
    longest = max(shifts.values(), default=0)
    if not longest:
        return frame, 0
    grid = data_grid(data)
    if grid is None or grid.consecutive:
        return _shifted(frame, frame.columns, shifts), longest
    full = full_grid(data, grid)
    return at_rows(_shifted(full.frame, frame.columns, shifts), grid, frame.index), first_row_from(grid, longest)


def lagged_step(timed: TimeAlignment, data, layout, aligned_ref: pd.DataFrame, graph) -> list[str]:
    """Recycle streams and self-lags over time (:mod:`rca_app.core.lagged`) into the record.

    Parameters
    ----------
    timed : TimeAlignment
    data : PlantData
    layout : Layout
    aligned_ref : DataFrame
        The aligned reference rows the graph was found on.
    graph : CausalGraph

    Returns
    -------
    list of str
        Messages proposing recycles the layout does not declare.
    """
    from rca_app.core.lagged import lagged_edges

    if timed.step is None or timed.max_lag <= 0:
        return []
    numeric = [c for c in data.numeric_nodes if c in aligned_ref.columns]
    raw = timed.raw_reference
    assert raw is not None and timed.record.step is not None   # set whenever step is
    frame, aligned_tail = data.frame, aligned_ref.iloc[-LAG_ROWS:]
    if timed.full is not None and timed.grid is not None and timed.grid_aligned is not None:
        # Holes: lags over the complete grid, so L rows are L grid steps (core/grid_holes.py).
        frame, raw = timed.full.frame, grid_slice(timed.grid, raw)
        g_ref = grid_slice(timed.grid, timed.reference)
        aligned_tail = timed.grid_aligned.iloc[max(g_ref.start, g_ref.stop - LAG_ROWS): g_ref.stop][
            list(aligned_ref.columns.intersection(timed.grid_aligned.columns))]
    recent = slice(max(raw.start, raw.stop - LAG_ROWS), raw.stop)
    edges, messages = lagged_edges(frame, recent, layout, numeric, timed.record.step,
                                   timed.step.total_seconds(), timed.max_lag, graph, aligned_tail)
    # A lot property repeats over its lot's batches: that is no dynamics of its own (no self-lag).
    held = held_columns(frame.iloc[recent], numeric)
    timed.record.lagged_edges = [e for e in edges if not (e.kind == "self" and e.source in held)]
    return messages


def held_columns(frame: pd.DataFrame, columns) -> set[str]:
    """Columns whose values come in runs of repeats (lot properties on a batch grid, held values).

    Parameters
    ----------
    frame : DataFrame
    columns : iterable of str

    Returns
    -------
    set of str
    """
    from rca_app.core.hidden_evidence import lot_runs

    return {c for c in columns if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c])
            and lot_runs(frame[c].to_numpy(float)) is not None}


def lagged_model_step(timed: TimeAlignment, data, layout, frame: pd.DataFrame, reference: slice, incident: slice,
                      graph: CausalGraph) -> tuple[tuple[pd.DataFrame, CausalGraph, slice] | None, list[str]]:
    """Lagged edges found over time and put in the model (:mod:`rca_app.core.lagged_model`).

    Parameters
    ----------
    timed : TimeAlignment
    data : PlantData
    layout : Layout
    frame : DataFrame
        The aligned rows (all of them), restricted to the sensors analysed.
    reference, incident : slice
        The aligned reference rows and the incident rows.
    graph : CausalGraph
        The contemporaneous graph found on the aligned reference rows.

    Returns
    -------
    ((DataFrame, CausalGraph, slice) or None, list of str)
        The table with the lagged columns, the model's graph and the reference rows that hold
        every lagged column's past (None: nothing lagged goes in the model); and the messages
        proposing recycles.
    """
    from rca_app.core.lagged_model import apply_lagged_plan, lag_name, plan_lagged_inputs, stepping_calls

    if timed.step is None or timed.max_lag <= 0:
        return None, []
    ref = frame.iloc[reference]
    messages = lagged_step(timed, data, layout, ref, graph)
    numeric = {c for c in data.numeric_nodes if c in frame.columns}
    edges = timed.record.lagged_edges
    # A loop on the KPI itself, or whose valve the layout calls exogenous, is not turned round.
    loops = [lp for lp in layout.loops if layout.target not in (lp.controlled, lp.manipulated)
             and not layout.is_exogenous(lp.manipulated)]
    plan = plan_lagged_inputs(edges, loops, graph, timed.record.shifts, numeric)
    grid = timed.grid if timed.full is not None else None
    # Holes: the model's queries step through the incident by grid step, not by row
    # (lagged_model.lag_sources); a single missing step is bridged, a longer outage is not.
    steps = grid.positions[incident] - grid.positions[incident.start] if grid is not None else None

    def apply(plan):
        if grid is None:
            return apply_lagged_plan(plan, frame, graph)
        # Holes: the lagged columns are taken on the complete aligned grid (L grid steps back);
        # a value read in the source's outage is unknown, never interpolated across hours.
        assert timed.grid_aligned is not None and timed.full is not None
        full_aug, g = apply_lagged_plan(plan, timed.grid_aligned[list(frame.columns)], graph)
        unknown = unknown_cells(timed.full, {src for src, _ in plan.inputs})
        for src, k in plan.inputs:
            gone = unknown[src].shift(timed.record.shifts.get(src, 0) + k, fill_value=True).to_numpy(dtype=bool)
            full_aug[lag_name(src, k)] = full_aug[lag_name(src, k)].mask(gone)
        return at_rows(full_aug, grid, frame.index), g

    aug, model_graph = apply(plan)
    n_time = incident.stop - incident.start
    usable = edges
    if stepping_calls(model_graph, n_time) > MAX_STEPPED_CALLS:
        # Self-lags make every query go row by row through the incident: on a long incident with
        # many slow sensors that is too slow, and recycles and loops matter most.
        for e in edges:
            e.in_model = False
        usable = [e for e in edges if e.kind != "self"]
        plan = plan_lagged_inputs(usable, loops, graph, timed.record.shifts, numeric)
        aug, model_graph = apply(plan)
        if stepping_calls(model_graph, n_time) > MAX_STEPPED_CALLS:
            for e in edges:
                e.in_model = False
            messages.append(f"the incident is long ({n_time} rows): the lagged edges are reported but not in the "
                            "model (its counterfactuals would have to go through the incident row by row)")
            return None, messages
        if plan.inputs:
            messages.append(f"the incident is long ({n_time} rows): the sensors' own slow dynamics (self-lags) are "
                            "not in the model, whose counterfactuals would otherwise go row by row; recycles and "
                            "control loops are")

    def reference_start(plan) -> int:
        # A lagged column has no value before its lag has passed: the reference starts later.
        return (first_row_from(grid, int(grid.positions[reference.start]) + plan.max_lag) if grid is not None
                else reference.start + plan.max_lag)

    enough = 0.8 * (reference.stop - reference.start)
    cut_note = None
    if grid is not None and timed.full is not None:
        # A lagged input read in a sensor's outage is unknown. Where the model needs it (an incident
        # row, or a reference row after the first fifth, which a later start would lose), that
        # sensor's lagged inputs leave the model and the others stay; earlier reference rows are cut.
        for _ in range(len(plan.inputs)):
            bad = _outage_sources(aug, plan, reference_start(plan), reference, incident, enough)
            if not bad:
                break
            messages += [f"{src}: its lagged inputs (its own past, a recycle or a loop through it) are left out of "
                         f"the model: {_outage_text(timed, data, src, r, k)}, where the model reads its past "
                         f"{'in the incident' if r >= incident.start else 'in the reference'}; values are never "
                         f"invented across more than {BRIDGE_STEPS} missing grid step(s). The other lagged edges "
                         "stay in the model." for src, (r, k) in bad.items()]
            usable = [e for e in usable if e.source not in bad and not (e.kind == "self" and (
                e.target in bad or set(graph.parents(e.target)) & set(bad)))]
            loops = [lp for lp in loops if not {lp.controlled, lp.manipulated} & set(bad)]
            for e in edges:
                e.in_model = False
            plan = plan_lagged_inputs(usable, loops, graph, timed.record.shifts, numeric)
            aug, model_graph = apply(plan)
    if not plan.inputs:
        for e in edges:
            e.in_model = False
        return None, messages
    first = reference_start(plan)
    lagged_cols = [c for c in aug.columns if c not in frame.columns]
    if grid is not None:
        # Outages read only by early reference rows: the model's reference starts after them.
        gone = np.flatnonzero(aug.iloc[first:reference.stop][lagged_cols].isna().any(axis=1).to_numpy())
        if len(gone):
            first += int(gone[-1]) + 1
            cut_note = (f"the model's reference starts at {data.time.iloc[first]}: the rows before read a lagged "
                        "input in an outage")
    new_ref = slice(first, reference.stop)
    if new_ref.stop - new_ref.start < enough or aug.iloc[incident][lagged_cols].isna().any().any():
        for e in timed.record.lagged_edges:
            e.in_model = False
        if grid is not None:
            messages.append("the lagged edges (recycles, loops, self-lags) are reported but not in the model: too "
                            "many of the rows it needs read a sensor's past in an outage (values are never invented "
                            f"across more than {BRIDGE_STEPS} missing grid step(s))")
        return None, messages
    if grid is not None:
        assert steps is not None and timed.full is not None
        messages.append(_bridging_note(timed.full, plan, steps, grid, reference, incident, cut_note))
        timed.model_incident_steps = steps
    timed.model_loops = set(plan.loops)
    return (aug, model_graph, new_ref), messages


def _outage_sources(aug: pd.DataFrame, plan, first: int, reference: slice, incident: slice,
                    enough: float) -> dict[str, tuple[int, int]]:
    """Sensors whose lagged input is unknown (an outage) where the model needs it: in an incident
    row, or in a reference row late enough that starting after it leaves fewer than ``enough``
    rows. Sensor -> (the first such analysis row, the lag read there)."""
    from rca_app.core.lagged_model import lag_name

    out: dict[str, tuple[int, int]] = {}
    for src, k in sorted(plan.inputs):
        col = aug[lag_name(src, k)].isna().to_numpy()
        late = int(reference.stop - enough)
        rows = np.flatnonzero(col[max(first, late):reference.stop]) + max(first, late)
        rows = np.concatenate([rows, np.flatnonzero(col[incident]) + incident.start])
        if len(rows) and src not in out:
            out[src] = (int(rows[0]), k)
    return out


def _outage_text(timed: TimeAlignment, data, src: str, row: int, lag: int) -> str:
    """The outage analysis row ``row`` reads ``src`` in, ``lag`` steps back: its length and start."""
    assert timed.grid is not None and timed.full is not None and timed.step is not None
    pos = int(timed.grid.positions[row]) - timed.record.shifts.get(src, 0) - lag
    miss = timed.full.filled[src].to_numpy(dtype=bool)
    if pos < 0 or not miss[pos]:
        return (f"its value {lag} grid step(s) before {data.time.iloc[row]} is unknown (before its first or after "
                "its last good sample)")
    start = pos
    while start > 0 and miss[start - 1]:
        start -= 1
    n = int(missing_runs(miss)[pos])
    when = data.time.iloc[0] + timed.step * start
    return f"it had no good sample for {n} grid steps in a row from {when} (an outage)"


def _bridging_note(full: FullGrid, plan, steps: np.ndarray, grid: TimeGrid, reference: slice, incident: slice,
                   cut_note: str | None) -> str:
    """What the model over time bridged across the grid's holes, per tag."""
    from rca_app.core.lagged_model import lag_sources

    span = slice(max(0, int(grid.positions[reference.start]) - plan.max_lag),
                 int(grid.positions[incident.stop - 1]) + 1)
    sources = sorted({src for src, _ in plan.inputs})
    per_tag = [(c, bridged_steps(full, c, span)) for c in sources]
    bridged = ", ".join(f"{c} {n}" for c, n in per_tag if n)
    bridged = f"; per tag: {bridged}" if bridged else ": none needed"
    carried, lost = set(), set()
    for _, k in plan.inputs:
        back = lag_sources(steps, k)
        want = steps - k
        has = back >= 0
        carried |= set(np.flatnonzero(has & (steps[np.maximum(back, 0)] != want)).tolist())
        lost |= set(np.flatnonzero(~has & (want >= 0)).tolist())
    n_holes = int(steps[-1]) + 1 - len(steps)
    text = (f"model over time across the time grid's holes: single missing grid steps of the sensors whose past it "
            f"reads were bridged (interpolated between the neighbouring good samples{bridged}); longer "
            "outages are not bridged")
    if n_holes:
        text += (f". The incident has {n_holes:,} grid step(s) without a row: a restoration's change was carried "
                 f"across a one-step hole to {len(carried):,} incident row(s)")
        if lost:
            text += f", and did not reach {len(lost):,} row(s) whose lagged input looks back into a longer hole"
    if cut_note is not None:
        text += f"; {cut_note}"
    return text


def _declared_lag_doubts(ref: pd.DataFrame, stations: list[list[str]], given: dict[int, int], target_station: int,
                         max_lag: int, step: pd.Timedelta, seed: int, layout) -> list[Note]:
    """A note for each declared residence time the data clearly contradict (the declared one is
    still used): the estimate is confident, more than one grid step away and its resamples'
    range excludes the declared value. A warning on the whole result: a wrong residence time
    misaligns every sensor upstream of it."""
    check = {s for s in given if s < target_station}
    if not check:
        return []
    out = []
    for e in estimate_station_lags(ref, stations[: target_station + 1], max_lag, n_bootstrap=10, seed=seed,
                                   only=check, resample_zero=True):
        declared = given[e.from_station]
        lo, hi = e.interval if e.interval is not None else (e.lag_steps, e.lag_steps)
        if (e.confidence >= MIN_CONFIDENCE and e.score >= MIN_LAG_SCORE and abs(e.lag_steps - declared) > 1
                and not lo <= declared <= hi):
            a, b = layout.stations[e.from_station].name, layout.stations[e.to_station].name
            out.append(Note(f"residence time {a} -> {b}: declared {duration_text(step * declared)}; the data suggest "
                       f"{duration_text(step * e.lag_steps)} (confidence {100 * e.confidence:.0f}%, resampled "
                       f"estimates {duration_text(step * lo)} to {duration_text(step * hi)}). The declared value is "
                       "used: check it, since a wrong residence time misaligns every sensor upstream and can put a "
                       "sensor that did not move first.", "warning", "warning"))
    return out


def _sensor_lag(sensor: str, own: str, i: int, stations: list[list[str]], ref: pd.DataFrame, max_lag: int,
                step: pd.Timedelta, seed: int, layout, records: list) -> int | None:
    """A sensor's own residence time to the next station: declared, or estimated from that sensor
    alone ("auto"), used when confident; recorded either way."""
    to = layout.stations[i + 1].name
    if own != AUTO:
        k = _steps(own, step)
        records.append(LagRecord(station=f"{sensor} ({layout.stations[i].name})", to_station=to,
                                 lag=duration_text(step * k), lag_steps=k, given=True))
        return k
    if sensor not in ref.columns or not stations[i + 1] or max_lag <= 0:
        return None
    e = estimate_station_lags(ref, [[sensor], stations[i + 1]], max_lag, n_bootstrap=10, seed=seed)[0]
    ok = lag_is_used(e)
    records.append(LagRecord(station=f"{sensor} ({layout.stations[i].name})", to_station=to,
                             lag=duration_text(step * (e.lag_steps if ok else 0)), lag_steps=e.lag_steps if ok else 0,
                             given=False, estimate_steps=e.lag_steps,
                             confidence=float(e.confidence) if np.isfinite(e.confidence) else None,
                             score=float(e.score)))
    return e.lag_steps if ok else None


def response_steps(scm, incident, node: str, value, share: float = 0.9) -> int | None:
    """Aligned rows after which the KPI, under do(node = value) from the incident's first row, has
    moved ``share`` of the way to its new level (the change over the last tenth of the rows),
    against do(node = its incident mean) (the step response of the fitted model).

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    node : str
    value : float or str
    share : float

    Returns
    -------
    int or None
        Grid steps (the incident's rows, unless it has holes). None when the model has no lagged
        input on the way (the response is immediate in aligned rows) or the action does not move
        the KPI.
    """
    from rca_app.core.lagged_model import incident_steps, lag_inputs, time_ancestors
    from rca_app.core.rootcause import what_if

    lagged = lag_inputs(scm)
    if not lagged or incident is None or node not in time_ancestors(scm, incident.target):
        return None
    if not any(node == li.source or node in scm.graph.ancestors(li.source) for li in lagged):
        return None
    # A step from where the node sat in the incident to the new value, both held: the difference
    # is the step response (the node's own row-to-row variation cancels).
    col = incident.anomaly[node]
    before = col.astype(str).mode().iloc[0] if node in scm.categorical else float(col.mean())
    d = what_if(scm, incident, node, value) - what_if(scm, incident, node, before)
    tail = max(1, len(d) // 10)
    final = float(np.mean(d[-tail:]))
    if not np.isfinite(final) or abs(final) <= 1e-12:
        return None
    # A short running mean: a nonlinear mechanism's response varies row to row.
    w = min(5, len(d))
    smooth = np.convolve(d, np.ones(w) / w, mode="valid")
    reached = np.flatnonzero(smooth * np.sign(final) >= share * abs(final))
    if not len(reached):
        return None
    row = min(len(d) - 1, int(reached[0]) + (w - 1) // 2)
    # Across the incident's holes a row is not a grid step: the response time is counted in steps.
    steps = incident_steps(scm, len(d))
    return int(steps[row]) if steps is not None else row

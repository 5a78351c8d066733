"""Checking a raw table against the layout and building the analysis table, step by step.

:func:`prepare` runs the steps in order; each records its problems in one
:class:`~rca_app.core.errors.ProblemList`, and only after the last check does one
:class:`~rca_app.core.errors.RcaInputError` carry every error found.

1. :func:`~rca_app.core.data.validation.wanted_columns`: the layout's columns in the file.
2. :func:`_convert_columns`: numbers and category labels, empty columns.
3. :func:`_order_by_time`: parse, drop rows without a timestamp, sort, flag repeats.
4. :func:`_drop_missing_target` and :func:`_drop_gap_rows` / :func:`_impute_gaps`: the gap policy.
5. :func:`_check_enough_rows` (enough rows to estimate anything) and
   :func:`~rca_app.core.data.validation.check_columns_left`.
6. :func:`_build_plant_data`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rca_app.core.data.compressed import mark_compressed
from rca_app.core.data.gap_runs import GapRuns, find_gap_runs, long_gap_warnings
from rca_app.core.data.long_form import UNCERTAIN_STATUS, UNCERTAIN_USE, apply_joins, to_wide
from rca_app.core.data.messages import RowPlaces, quote, quote_cells, row_places
from rca_app.core.data.numbers import parse_numbers
from rca_app.core.data.rules import (
    DROP_REASONS,
    GAP_POLICIES,
    MAX_CATEGORY_LEVELS,
    MIN_ROWS,
    MIN_ROWS_PER_SENSOR,
    min_rows_needed,
)
from rca_app.core.data.tables import PlantData, RawTable
from rca_app.core.data.times import even_step, time_grid, time_numbers
from rca_app.core.data.validation import (
    WantedColumns,
    as_category,
    category_values,
    check_columns_left,
    check_time,
    numeric_values,
    pool_rare_levels,
    wanted_columns,
)
from rca_app.core.data.wide_tags import hold_wide_tags
from rca_app.core.errors import ProblemList, RcaInputError
from rca_app.core.layout import Layout
from rca_app.core.layout.time_keys import lag_rounding_notes

__all__ = ["prepare"]


@dataclass
class _Columns:
    """Converted values of every present layout column, in file row order."""

    values: dict[str, np.ndarray] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)              # columns with an error
    missing_counts: dict[str, int] = field(default_factory=dict)

    def isna(self, col: str) -> np.ndarray:
        v = self.values[col]
        return np.isnan(v) if v.dtype.kind == "f" else pd.isna(v)


@dataclass
class _Rows:
    """Which file rows are kept, in which order, and why others went."""

    order: np.ndarray                       # positions into the raw frame, in time order
    times: pd.Series | None = None          # parsed timestamps of all raw rows (None: no time)
    dayfirst: bool | None = None
    dropped: dict[str, int] = field(default_factory=dict)   # reason -> rows


def prepare(raw: RawTable, layout: Layout, *, dayfirst: bool | None = None,
            gaps: str = "drop", format: str = "auto") -> PlantData:
    """Check ``raw`` against ``layout`` and build the analysis table.

    All problems are collected first; if any is an error one :class:`RcaInputError` carries
    them all. Rows are sorted by time (stable) when the layout names a time column, else kept
    in file order. Messages give spreadsheet row numbers (header = row 1).

    Parameters
    ----------
    raw : RawTable
        The table as read by :func:`~rca_app.core.data.reading.load_table`.
    layout : Layout
        Stations in process order, target, time column.
    dayfirst : bool, optional
        Settles dates like 03/04/2024 (None: decide from a cell such as 13/04/2024, else ask).
    gaps : {"drop", "impute"}
        Missing-value policy. Rows with a missing target value are always dropped and counted;
        ``"drop"`` drops rows with any missing sensor value; ``"impute"`` interpolates numeric
        sensors linearly along time (row order when there is no time column), edges taking the
        nearest value, and fills categorical sensors with the previous value, then the next.
    format : {"auto", "long", "wide"}
        A historian long export (tag, timestamp, value, quality) is pivoted onto the grid of
        ``layout.sample`` first (see :mod:`.long_form`); "auto" recognises it by its header.

    Returns
    -------
    PlantData
        The analysis table; warnings in ``problems``.

    Raises
    ------
    RcaInputError
        With every error found.
    """
    file = raw.file_name
    pl = ProblemList()
    # The layout's own warnings (a station with no sensors) belong to what the engineer reads.
    pl.items.extend(layout.warnings)
    # Historian exports and lot tables become one wide table before any other check.
    raw, layout, tag_reports, step = to_wide(raw, layout, format, dayfirst, pl)
    if pl.errors and not tag_reports:
        pl.raise_if_errors()
    raw = apply_joins(raw, layout, pl)
    frame = raw.frame
    n = len(frame)
    src = np.asarray(raw.source_rows, dtype=np.int64)
    if len(src) != n:   # a RawTable built by hand: assume a plain header + rows
        src = 2 + np.arange(n, dtype=np.int64)
    if gaps not in GAP_POLICIES:
        pl.add(f"unknown gap policy {gaps!r}; use 'drop' or 'impute'", code="gap_policy")

    want = wanted_columns(layout, [str(c) for c in frame.columns], file, pl)
    _point_to_failed_joins(pl)
    if not [n for n in want.nodes if n != layout.target]:
        pl.add(f"{layout.source} has no sensors besides the KPI ({layout.target}): nothing could explain "
               "a change of it. List the stations' sensors in the layout", file=layout.source, code="no_sensors")
    _point_to_other_sheet(raw, want, pl)
    # Rows are named by the file's row numbers, or by time on a pivoted historian grid.
    rows = _order_by_time(raw, want.time_col, dayfirst, row_places(src, grid=raw.pivoted), pl)
    places = row_places(src, rows.times, raw.pivoted)
    cols = _convert_columns(raw, layout, want, places, pl)
    if not tag_reports and (layout.tag_rules or layout.tag_delays):
        # A wide table: [tags] rules hold a column blank between samples (core/data/wide_tags.py).
        tag_reports = hold_wide_tags(layout, cols.values, rows.order, rows.times, want.present, want.target,
                                     want.categorical, src, file, pl)
        if tag_reports and rows.times is not None:
            grid = even_step(rows.times.iloc[rows.order].reset_index(drop=True))
            step = _grid_text(grid) if grid is not None else None
    # Exception-reported tags are held as data, not as lab values (core/data/compressed.py).
    mark_compressed(tag_reports, layout, step, file, pl)
    _check_tag_sampling(tag_reports, step, want, cols, n, file, pl)
    good = [c for c in want.present if c not in cols.bad]
    sensors = [c for c in good if c != want.target]
    keep = _drop_missing_target(cols, rows, want.target in good, want.target, places, file, pl)
    gap_runs = _long_gaps(raw, want, cols, rows, keep, sensors, src, gaps, bool(tag_reports), pl)
    if gaps == "drop":
        keep &= ~_drop_gap_rows(cols, rows, sensors, keep, file, pl)
    final = rows.order[keep]
    values = {c: cols.values[c][final] for c in want.present}
    imputed: dict[str, int] = {}
    if gaps == "impute" and len(final):
        imputed = _impute_gaps(values, rows.times, final, sensors, want.categorical, file, pl)

    _note_rounded_lags(layout, step, rows, final, pl)
    _check_enough_rows(len(final), want, sensors, cols, rows.dropped, gaps, file, pl)
    check_columns_left(values, good, want.target, want.categorical, len(final), file, pl,
                       {lp.setpoint for lp in layout.loops if isinstance(lp.setpoint, str)})
    if pl.errors:
        # The lot table's other findings go with its errors, so it is fixed in one go.
        raise RcaInputError(pl.errors + [p for p in pl.warnings if p.code in _JOIN_FINDINGS])
    data = _build_plant_data(raw, layout, want, values, rows, final, src, cols, imputed, gaps,
                             list(raw.problems) + pl.warnings)
    data.tag_reports, data.sample, data.gap_runs = tag_reports, step, gap_runs
    data.grid = _grid_as_exported(cols, rows, want, data)
    return data


def _grid_as_exported(cols: _Columns, rows: _Rows, want: WantedColumns, data: PlantData) -> pd.DataFrame | None:
    """The layout's columns on every timestamped row before the KPI and gap rules dropped any
    (see ``PlantData.grid``); None when nothing was dropped."""
    if rows.times is None or data.time is None or len(rows.order) == data.n_rows:
        return None
    index = pd.DatetimeIndex(rows.times.iloc[rows.order].to_numpy(), name=want.time_col)
    return pd.DataFrame({c: (cols.values[c][rows.order] if c in data.categorical_nodes
                             else cols.values[c][rows.order].astype(np.float64))
                         for c in data.frame.columns if c in cols.values}, index=index)


def _long_gaps(raw: RawTable, want: WantedColumns, cols: _Columns, rows: _Rows, keep: np.ndarray,
               sensors: list[str], src: np.ndarray, gaps: str, on_grid: bool, pl: ProblemList) -> GapRuns:
    """Where each sensor has no value among the rows with a KPI value (before gap handling), and a
    warning per long stretch (a tag renamed between two exports, a sensor out of service)."""
    cand = rows.order[keep]
    missing = {c: cols.isna(c)[cand] for c in sensors}
    times = rows.times.iloc[cand] if rows.times is not None else None
    found = find_gap_runs(missing, times, src[cand], cand, gaps, on_grid)
    for p in long_gap_warnings(found, raw.frame, _layout_columns(want), raw.file_name):
        pl.warn(p.message, file=p.file, column=p.column, row=p.row, code=p.code)
    return found


def _layout_columns(want: WantedColumns) -> set:
    return set(want.nodes) | ({want.time_col} if want.time_col else set())


def _convert_columns(raw: RawTable, layout: Layout, want: WantedColumns, places: RowPlaces,
                     pl: ProblemList) -> _Columns:
    """Numbers for numeric nodes, labels for categorical ones; a column all missing is an error."""
    file, frame, n = raw.file_name, raw.frame, len(raw.frame)
    out = _Columns()
    for col in want.present:
        s = frame[col]
        if col not in want.categorical and col != want.target and _is_label_column(s, raw.decimal):
            # A column of a few names (suppliers, shifts, tools) that the layout did not declare:
            # taken as categorical, as the engineer would expect; a declaration still decides.
            want.categorical.add(col)
            pl.warn(f"column holds {s.dropna().nunique()} names (e.g. "
                    f"{', '.join(quote(v) for v in sorted(s.dropna().astype(str).unique())[:3])}), not numbers: "
                    f"taken as categorical. Declare it in 'categorical' of station '{want.station_of.get(col)}' "
                    f"in {layout.source} to say so yourself", file=file, column=col, code="categorical_inferred")
        if col in want.categorical:
            out.values[col] = category_values(s)
            continue
        arr = numeric_values(s, col, col == want.target, want.station_of.get(col), layout, raw, places, pl)
        if arr is None:
            out.bad.add(col)
            arr = np.full(n, np.nan)
        out.values[col] = arr
    out.missing_counts = {c: int(out.isna(c).sum()) for c in want.present}
    for col in want.present:
        if col not in out.bad and n and out.missing_counts[col] == n:
            counts = raw.status_counts.get(col)
            why = ""
            if counts:
                why = " (" + ", ".join(f"{quote(k)} ×{v}" for k, v in list(counts.items())[:4]) + ")"
                if UNCERTAIN_STATUS in counts:
                    why += f"; {UNCERTAIN_USE}"
            pl.add(f"column is empty: all {n} values are missing{why}", file=file, column=col,
                   code="all_missing")
            out.bad.add(col)
    return out


def _check_tag_sampling(tag_reports: list, step: str | None, want: WantedColumns, cols: _Columns, n_grid: int,
                        file: str, pl: ProblemList) -> None:
    """What the grid hides about a historian tag the layout uses.

    A tag with a single good sample becomes a constant column on the grid: said as what it is
    (an error; the derived "column is constant" is not added). A tag held by the "last" rule
    across many grid rows (a lab value every 30 min on a 1-min grid) is a step function: a note
    says how rarely it changes and that its links are learnt on its samples (core/lab_tags.py)."""
    if not tag_reports or step is None:
        return
    from rca_app.core.lab_tags import MIN_LAB_SAMPLES  # the engine's rule, said at the data step

    grid = pd.Timedelta(step).total_seconds()
    for t in tag_reports:
        if t.tag not in want.present or t.tag in cols.bad:
            continue
        if t.good_samples == 1:
            of = "" if t.samples == 1 else f" with a good value (of {t.samples})"
            pl.add(f"tag {quote(t.tag)} has only 1 sample{of} ({t.first_good}, row {t.first_good_row}): held on the "
                   f"{step} grid it is a constant and cannot explain a change. "
                   "Leave it out of the layout or export a span where it was sampled more often",
                   file=file, column=t.tag, row=t.first_good_row, code="one_sample")
            cols.bad.add(t.tag)
            continue
        every = (t.median_interval_s or 0) / grid if grid > 0 else 0
        if t.rule == "last" and every >= STEP_FUNCTION_ROWS and not t.compressed:
            pl.warn(f"tag {quote(t.tag)} has a new value only about every {_duration(t.median_interval_s)} and is "
                    f"held by the 'last' rule on the {step} grid: it changes only every {every:.0f} rows, a step "
                    f"function with {t.good_samples} values in {n_grid:,} rows. On time series its links and its "
                    "mechanism (and its children's) are learnt on the rows where it was sampled, not on the held "
                    f"copies; with fewer than {MIN_LAB_SAMPLES} samples in the reference period it gets no links, "
                    "and links between two such tags are not learnt",
                    file=file, column=t.tag, code="step_function")


def _note_rounded_lags(layout: Layout, step: str | None, rows: _Rows, final: np.ndarray, pl: ProblemList) -> None:
    """Declared lags the grid cannot hold exactly: the alignment shifts whole rows, so say what
    each is used as (5 min on a 2-min grid is 4 min)."""
    if not (layout.recycles or any(st.lag or st.sensor_lags for st in layout.stations)):
        return
    grid = pd.Timedelta(step) if step else None
    if grid is None and rows.times is not None and len(final) > 1:
        # Judged on the time column as exported: rows dropped for gaps are holes in the grid.
        found = time_grid(rows.times.iloc[final].reset_index(drop=True), rows.times.iloc[rows.order])
        grid = found.step if found is not None else None
    if grid is None:
        return
    for message, column in lag_rounding_notes(layout, grid):
        pl.warn(message, file=layout.source, column=column, code="lag_rounded")


def _grid_text(step: pd.Timedelta) -> str:
    """A grid step as the layout writes one ("1min", "30s")."""
    s = step.total_seconds()
    for unit, size in (("h", 3600), ("min", 60)):
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    return f"{s:g}s"


# A "last" tag held this many grid rows or more between values is a step function worth a note.
STEP_FUNCTION_ROWS = 5
# ... and is called a lab value only when sampled this much more sparsely than the grid (a lab's
# schedule runs every 15 min to every shift, on grids of a minute or less); a process tag every 5
# minutes on a 1-minute grid is a slow tag, whatever its treatment.
LAB_VALUE_ROWS = 15


def held_tag_words(every_rows: float) -> str:
    """What a tag held between its samples is called: "a lab value" only when it is sampled much
    more sparsely than the grid (:data:`LAB_VALUE_ROWS`), else "a slow tag" with its spacing."""
    if every_rows >= LAB_VALUE_ROWS:
        return "a lab value"
    return f"a slow tag (a new value about every {every_rows:.0f} grid rows)"


def _duration(seconds: float | None) -> str:
    s = float(seconds or 0)
    for unit, size in (("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def _is_label_column(s: pd.Series, decimal: str | None) -> bool:
    """Text that is not numbers (with either decimal mark) and takes few distinct values: names
    of suppliers, shifts, tools."""
    if not pd.api.types.is_string_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return False
    present = s.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty:
        return False
    for mark in dict.fromkeys([decimal or ".", ",", "."]):
        _, bad = parse_numbers(present, mark)
        if bad.mean() < 0.9:      # mostly numbers with a few bad cells: a numeric column with typos
            return False
    k = present.nunique()
    return 2 <= k <= MAX_CATEGORY_LEVELS and k <= len(present) / 2


def _order_by_time(raw: RawTable, time_col: str | None, dayfirst: bool | None, places: RowPlaces,
                   pl: ProblemList) -> _Rows:
    """Rows in time order (stable), rows without a timestamp dropped; file order without time."""
    frame, file, n, src = raw.frame, raw.file_name, len(raw.frame), places.rows
    rows = _Rows(order=np.arange(n), dayfirst=dayfirst)
    if not time_col or time_col not in frame.columns:
        return rows
    times, rows.dayfirst, ok = check_time(frame[time_col], time_col, dayfirst, file, src, pl)
    if ok and n and times.isna().all():
        pl.add(f"time column is empty: none of the {n} rows has a timestamp", file=file,
               column=time_col, code="bad_time")
        ok = False
    if not ok:
        return rows
    no_time = times.isna().to_numpy()
    if no_time.any():
        rows.dropped["missing_time"] = int(no_time.sum())
        pl.warn(f"{int(no_time.sum())} row(s) have no timestamp and were dropped: "
                f"{quote_cells(places[no_time])}", file=file, column=time_col,
                row=places[no_time].row(), code="missing_time")
    order = rows.order[~no_time]
    tnum = time_numbers(times)[order]
    perm = np.argsort(tnum, kind="stable")
    if (np.diff(tnum) < 0).any():
        first = int(src[order][int(np.argmax(np.diff(tnum) < 0)) + 1])
        pl.warn(f"rows were not in time order (first out of order: row {first}); "
                f"sorted by '{time_col}'", file=file, column=time_col, row=first,
                code="unsorted")
    order = order[perm]
    dup = pd.Series(tnum[perm]).duplicated(keep="first").to_numpy()
    if dup.any():
        rows_dup = src[order][dup]
        first_ts = times.iloc[int(order[dup][0])]
        repeated = times.iloc[order[dup]]
        hint = ""
        if dup.sum() >= 3 and repeated.max() - repeated.min() <= pd.Timedelta(hours=1):
            hint = ("; all within one hour: local clock times at the end of summer time? Export in UTC or with the "
                    "UTC offset")
        pl.warn(f"{int(dup.sum())} row(s) repeat an earlier timestamp, first "
                f"{first_ts} at {quote_cells(rows_dup)}{hint}", file=file, column=time_col,
                row=int(rows_dup[0]), code="duplicate_time")
    rows.order, rows.times = order, times
    return rows


def _drop_missing_target(cols: _Columns, rows: _Rows, target_ok: bool, target: str,
                         places: RowPlaces, file: str, pl: ProblemList) -> np.ndarray:
    """Mask over ``rows.order`` of rows to keep: a row without a KPI value says nothing (named by
    row, or by time on a pivoted grid)."""
    keep = np.ones(len(rows.order), dtype=bool)
    if not target_ok:
        return keep
    tmiss = cols.isna(target)[rows.order]
    if tmiss.any():
        rows.dropped["missing_target"] = int(tmiss.sum())
        rws = places[rows.order][tmiss]
        what = "grid time(s)" if places.grid else "row(s)"
        pl.warn(f"{int(tmiss.sum())} {what} have no target value and were dropped: "
                f"{quote_cells(rws)}", file=file, column=target, row=rws.row(),
                code="missing_target_rows")
    return keep & ~tmiss


def _drop_gap_rows(cols: _Columns, rows: _Rows, sensors: list[str], keep: np.ndarray,
                   file: str, pl: ProblemList) -> np.ndarray:
    """gaps='drop': mask over ``rows.order`` of kept rows with a missing sensor value."""
    gap_rows = np.zeros(len(rows.order), dtype=bool)
    per_col = {}
    for c in sensors:
        m = cols.isna(c)[rows.order] & keep
        if m.any():
            per_col[c] = int(m.sum())
            gap_rows |= m
    if gap_rows.any():
        rows.dropped["missing_sensor"] = int(gap_rows.sum())
        detail = ", ".join(f"'{c}': {k}" for c, k in per_col.items())
        pl.warn(f"gaps='drop': {int(gap_rows.sum())} row(s) with missing sensor values "
                f"were dropped (missing per column: {detail})", file=file, code="gaps_dropped")
    return gap_rows


def _impute_gaps(values: dict[str, np.ndarray], times: pd.Series | None, final: np.ndarray,
                 sensors: list[str], categorical: set[str], file: str, pl: ProblemList) -> dict[str, int]:
    """gaps='impute': fill sensor gaps in ``values`` in place; returns cells filled per column."""
    x = (time_numbers(times)[final].astype(float) if times is not None
         else np.arange(len(final), dtype=float))
    imputed: dict[str, int] = {}
    for c in sensors:
        v = values[c]
        miss = pd.isna(v) if v.dtype == object else np.isnan(v)
        if not miss.any() or miss.all():
            continue
        if c in categorical:
            values[c] = pd.Series(v, dtype=object).ffill().bfill().to_numpy(dtype=object)
        else:
            v = v.copy()
            v[miss] = np.interp(x[miss], x[~miss], v[~miss])
            values[c] = v
        imputed[c] = int(miss.sum())
    if imputed:
        detail = ", ".join(f"'{c}': {k}" for c, k in imputed.items())
        pl.warn(f"gaps='impute': filled {sum(imputed.values())} missing sensor value(s) "
                f"({detail})", file=file, code="gaps_imputed")
    return imputed


def _check_enough_rows(n_final: int, want: WantedColumns, sensors: list[str], cols: _Columns,
                       dropped: dict[str, int], gaps: str, file: str, pl: ProblemList) -> None:
    """Too few rows for anything to be estimated is an error, with the likely reason.

    What decides is the analysis' own floor: a reference period of
    :func:`~rca_app.core.incident_shapes.reference_floor` rows (a simpler model is fitted
    below the comfortable :func:`min_rows_needed`) and one incident row (a single unit). The
    windows themselves are checked when they are chosen
    (:func:`~rca_app.core.windows.check_enough_rows`), so a file of a short reference period
    and any incident passes here."""
    from rca_app.core.incident_shapes import reference_floor

    n_sensors = want.n_sensors
    floor = reference_floor(n_sensors)
    # n_final can only shrink once other errors are fixed, so this check never misleads.
    need = floor + 1
    if n_final >= need:
        return
    hint = ""
    if dropped:
        hint = " after dropping rows (" + ", ".join(
            f"{v} {DROP_REASONS.get(k, k)}" for k, v in dropped.items()) + ")"
        missing = cols.missing_counts
        worst = max(sensors, key=lambda c: missing.get(c, 0), default=None)
        if gaps == "drop" and worst and missing.get(worst, 0):
            hint += (f"; '{worst}' alone misses {missing[worst]} values: "
                     f"consider gaps='impute' or leaving it out of the layout")
    pl.add(f"only {n_final} usable row(s){hint}; {n_sensors} sensor(s) need at least {need} rows to estimate "
           f"anything (a reference period of {floor} rows, max(10, 2 per cross-fitting fold, sensors + 2), and "
           f"one incident row), and at least {min_rows_needed(n_sensors)} rows for the full model "
           f"(max({MIN_ROWS}, {MIN_ROWS_PER_SENSOR} per sensor))", file=file, code="too_few_rows")


def _build_plant_data(raw: RawTable, layout: Layout, want: WantedColumns,
                      values: dict[str, np.ndarray], rows: _Rows, final: np.ndarray,
                      src: np.ndarray, cols: _Columns, imputed: dict[str, int], gaps: str,
                      problems: list) -> PlantData:
    out: dict[str, Any] = {}
    numeric_nodes, categorical_nodes = [], []
    for c in want.present:
        v = values[c]
        if c in want.categorical:
            out[c] = as_category(pool_rare_levels(v))
            categorical_nodes.append(c)
        else:
            out[c] = v.astype(np.float64)
            numeric_nodes.append(c)
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(final)))
    time = None
    if rows.times is not None:
        time = rows.times.iloc[final].reset_index(drop=True)
        time.name = want.time_col
    return PlantData(
        frame=frame, time=time, source_rows=src[final], raw=raw, layout=layout,
        problems=problems, dropped_rows=rows.dropped, imputed_cells=imputed,
        numeric_nodes=numeric_nodes, categorical_nodes=categorical_nodes,
        missing_counts=cols.missing_counts, gaps=gaps, dayfirst=rows.dayfirst, rows_read=len(raw.frame),
    )


_JOIN_FINDINGS = ("join_unknown_lot", "join_empty_cell", "join_no_lot_id", "join_repeated_lot")


def _point_to_failed_joins(pl: ProblemList) -> None:
    """A layout column missing from the data may be one a failed ``[[join]]`` would have added:
    say so next to it rather than leave a puzzling "not in the data"."""
    failed = [p for p in pl.errors if p.code in ("join_file", "join_key")]
    if not failed:
        return
    files = ", ".join(dict.fromkeys(p.file or "the lot table" for p in failed))
    pl.items[:] = [dataclasses.replace(p, message=f"{p.message} (it may be a column of {files}, which could not "
                                       "be joined: see above)") if p.code == "missing_column" else p
                   for p in pl.items]


def _point_to_other_sheet(raw: RawTable, want, pl: ProblemList) -> None:
    """When the layout's columns are missing from the sheet read but another sheet of the
    workbook has them, say which sheet and how to choose it."""
    present = set(map(str, raw.frame.columns))
    missing = [c for c in [*want.nodes, want.time_col] if c and c not in present]
    if not missing or not raw.other_sheets:
        return
    best, hits = max(((s, sum(c in set(h) for c in missing)) for s, h in raw.other_sheets.items()),
                     key=lambda t: t[1])
    sheets = ", ".join(f"'{s}'" for s in [raw.sheet, *raw.other_sheets])
    if hits:
        pl.add(f"the layout's columns are not on sheet '{raw.sheet}' (the first), but sheet '{best}' has {hits} "
               f"of the {len(missing)} missing: choose it with --sheet \"{best}\" (the sheets are {sheets})",
               file=raw.file_name, code="other_sheet")


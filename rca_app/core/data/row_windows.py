"""Rows of a prepared table inside a window given as timestamps or row positions."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.data.gap_runs import window_gap_problems
from rca_app.core.data.messages import input_error
from rca_app.core.data.rules import TIME_FORMATS_HINT
from rca_app.core.data.tables import PlantData
from rca_app.core.data.times import parse_times
from rca_app.core.errors import RcaInputError

__all__ = ["check_window_gaps", "rows_for_window"]


def rows_for_window(data: PlantData, start, end) -> slice:
    """Rows of ``data.frame`` in a window, as a slice (rows are in time order).

    With a time column START and END are timestamps (text read with the same rules as the
    data, or datetime objects): start inclusive, end exclusive. Without one they are 0-based
    row positions, END exclusive. None leaves that side open.

    Parameters
    ----------
    data : PlantData
        The prepared table.
    start, end : str, datetime, int or None
        The window's bounds.

    Returns
    -------
    slice
        Row positions into ``data.frame``.

    Raises
    ------
    RcaInputError
        When the window is malformed, out of range or empty, quoting what was given.
    """
    n = data.n_rows
    file = data.file_name
    given = f"window {_bound_text(start, 'start of the data')} to {_bound_text(end, 'end of the data')}"
    if data.time is None:
        lo = 0 if start is None else _position(start, "start", given, file)
        hi = n if end is None else _position(end, "end", given, file)
        if lo >= n or hi > n:
            raise input_error(f"{given} is out of range: the data has {n} rows (positions 0..{n - 1})", file)
        if lo >= hi:
            raise input_error(f"{given} is empty: start must be before end", file)
        return slice(lo, hi)

    col = data.layout.time_column
    t0 = None if start is None else _bound_time(start, "start", data, given)
    t1 = None if end is None else _bound_time(end, "end", data, given)
    if t0 is not None and t1 is not None and t0 >= t1:
        raise input_error(f"{given} is empty: start must be before end", file, column=col)
    lo = 0 if t0 is None else int(data.time.searchsorted(t0, side="left"))
    hi = n if t1 is None else int(data.time.searchsorted(t1, side="left"))
    if hi <= lo:
        if data.gap_runs is not None:
            # Rows were there before gap handling: name the sensor whose gaps emptied the window.
            emptied = window_gap_problems(data.gap_runs, data.raw.frame, _layout_columns(data), t0, t1,
                                          given, file)
            if emptied:
                raise RcaInputError(emptied)
        span = f"{data.time.iloc[0]} to {data.time.iloc[-1]}" if n else "no rows"
        raise input_error(f"{given} holds no rows; the data runs from {span}", file, column=col)
    return slice(lo, hi)


def check_window_gaps(data: PlantData, reference_rows: slice, incident_rows: slice, *, reference=None,
                      incident=None) -> None:
    """Refuse windows that gap handling hollowed out: a sensor missing from most of one.

    With ``gaps="drop"`` a sensor without a value in most of the window's rows leaves a few
    of them (a 4-hour incident becomes one row); with ``gaps="impute"`` it is filled across
    most of the window, a series the plant never had. A tag renamed between two exports does
    both; the message names the sensor, the span, and a column not in the layout that has
    values just there. Kept apart from :func:`rows_for_window`, which only maps a window to
    rows (the GUI draws windows with it, whatever they hold).

    Parameters
    ----------
    data : PlantData
        The prepared table (without ``gap_runs``, nothing is checked).
    reference_rows, incident_rows : slice
        The windows as rows of ``data.frame`` (from
        :func:`~rca_app.core.windows.resolve_windows`).
    reference, incident : tuple of (start, end), optional
        The windows as the engineer gave them, when given as START/END: their bounds are used,
        since rows dropped for a gap have no row in ``data.frame`` to bound a window by.

    Raises
    ------
    RcaInputError
        Naming each sensor and window.
    """
    if data.gap_runs is None or data.time is None:
        return
    found = []
    for what, rows, given in (("the reference period", reference_rows, reference),
                              ("the incident window", incident_rows, incident)):
        if isinstance(given, (tuple, list)) and len(given) == 2:
            text = f"window {_bound_text(given[0], 'start of the data')} to {_bound_text(given[1], 'end of the data')}"
            t0 = None if given[0] is None else _bound_time(given[0], "start", data, text)
            t1 = None if given[1] is None else _bound_time(given[1], "end", data, text)
        elif rows.stop > rows.start:
            # From its first row (the data's start for a window at row 0) to the next row kept.
            t0 = None if rows.start == 0 else data.time.iloc[rows.start]
            t1 = None if rows.stop >= data.n_rows else data.time.iloc[rows.stop]
        else:
            continue
        found += window_gap_problems(data.gap_runs, data.raw.frame, _layout_columns(data), t0, t1, what,
                                     data.file_name)
    if found:
        raise RcaInputError(found)


def _layout_columns(data: PlantData) -> set:
    return set(data.frame.columns) | ({data.layout.time_column} if data.layout.time_column else set())


def _position(v, which: str, given: str, file: str) -> int:
    if isinstance(v, (bool, np.bool_)):
        raise input_error(f"{given}: {which} must be a row position, not {v!r}", file)
    if isinstance(v, (int, np.integer)):
        k = int(v)
    elif isinstance(v, str) and v.strip().lstrip("+").isdigit():
        k = int(v.strip())
    else:
        raise input_error(f"{given}: {which} must be a 0-based row position (the data has no time "
                          f"column), not {v!r}", file)
    if k < 0:
        raise input_error(f"{given}: {which} must not be negative", file)
    return k


def _bound_time(v, which: str, data: PlantData, given: str) -> pd.Timestamp:
    file, col = data.file_name, data.layout.time_column
    if isinstance(v, (int, float, np.integer, np.floating, bool)):
        raise input_error(f"{given}: {which} must be a timestamp (the data has a time column '{col}'), "
                          f"not {v!r}", file, column=col)
    if isinstance(v, str):
        tp = parse_times(pd.Series([v], dtype="str"), data.dayfirst)
        if tp.ambiguous.any() or tp.conflict is not None:
            raise input_error(f"{given}: {which} {v!r} can be read day-first or month-first; write "
                              f"it as ISO 8601 (2024-03-01 14:30)", file, column=col)
        ts = tp.times.iloc[0]
        if pd.isna(ts):
            raise input_error(f"{given}: cannot read {which} {v!r} as a timestamp; {TIME_FORMATS_HINT}",
                              file, column=col)
    else:
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError) as e:
            raise input_error(f"{given}: cannot read {which} {v!r} as a timestamp ({e})", file,
                              column=col) from None
        if pd.isna(ts):
            raise input_error(f"{given}: {which} is not a timestamp", file, column=col)
    assert data.time is not None  # only called for tables with a time column
    data_tz = getattr(data.time.dt, "tz", None)
    if data_tz is not None:
        # Zoned data is held in UTC; a bound without a zone is read as UTC too.
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    elif ts.tzinfo is not None:
        raise input_error(f"{given}: {which} {v!r} has a time zone but the data's timestamps have "
                          f"none", file, column=col)
    return ts


def _bound_text(v, open_text: str) -> str:
    """A window bound as the engineer wrote it, or what an open side means."""
    return open_text if v is None else repr(v)


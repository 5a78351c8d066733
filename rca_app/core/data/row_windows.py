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

__all__ = ["rows_for_window"]


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
    if start is not None and end is not None and data.gap_runs is not None:
        # A sensor missing from most of the window: what gap handling would leave is not the
        # window chosen (1 row of 240, or a value held for hours).
        found = window_gap_problems(data.gap_runs, data.raw.frame, _layout_columns(data), t0, t1, given, file)
        if found:
            raise RcaInputError(found)
    lo = 0 if t0 is None else int(data.time.searchsorted(t0, side="left"))
    hi = n if t1 is None else int(data.time.searchsorted(t1, side="left"))
    if hi <= lo:
        span = f"{data.time.iloc[0]} to {data.time.iloc[-1]}" if n else "no rows"
        raise input_error(f"{given} holds no rows; the data runs from {span}", file, column=col)
    return slice(lo, hi)


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


"""Timestamps written as text, read with a fixed, documented set of forms.

The forms are those of :data:`~rca_app.core.data.rules.TIME_FORMATS_HINT`: ISO 8601 with an
optional zone, dd.mm.yyyy, and slash/dash dates whose day order is asked for or decided by a
cell that can only be read one way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from rca_app.core.data.cells import cell_text

__all__ = ["TimeParse", "TimeGrid", "even_step", "parse_times", "time_grid", "time_numbers"]

_TS_PATTERN = r"""
^(?:
    (?P<Y>[0-9]{4})(?P<s1>[-/.])(?P<Mo>[0-9]{1,2})(?P=s1)(?P<D>[0-9]{1,2})
  | (?P<A>[0-9]{1,2})(?P<s2>[-/.])(?P<B>[0-9]{1,2})(?P=s2)(?P<Y2>[0-9]{4})
)
(?:(?:T|\s+)(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<sec>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?
   \s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?
\s*(?P<tz>[Zz]|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?$
"""
_TS_RE = re.compile(_TS_PATTERN, re.X)


@dataclass
class TimeParse:
    """What reading a time column found, cell by cell.

    Attributes
    ----------
    times : Series of datetime64
        UTC-aware if the text carried zones; NaT where a cell is missing or unreadable.
    bad : ndarray of bool
        Present but unreadable.
    dayfirst : bool or None
        Order used for slash/dash dates (None: not needed).
    ambiguous : ndarray of bool
        Slash dates no cell could decide.
    conflict : (int, int) or None
        Positions of a day-first and a month-first cell, when the column holds both.
    naive_among_aware : ndarray of bool
        Rows without a zone in a column that has zones.
    converted_to_utc : bool
    impossible_clock : ndarray of bool or None
        Cells with a time of day that does not exist (25:61); also in ``bad``.
    offsets : tuple of str
        The zones as written ("+01:00", "Z"), each once, in order of first appearance.
    first_zoned : int or None
        Position of the first cell with a zone (to quote it).
    """

    times: pd.Series                 # datetime64 (UTC-aware if the text carried zones)
    bad: np.ndarray                  # present but unreadable
    dayfirst: bool | None            # order used for slash/dash dates (None: not needed)
    ambiguous: np.ndarray            # slash dates no cell could decide
    conflict: tuple[int, int] | None  # (a day-first position, a month-first position)
    naive_among_aware: np.ndarray    # rows without a zone in a column that has zones
    converted_to_utc: bool = False
    impossible_clock: np.ndarray | None = None
    offsets: tuple[str, ...] = ()
    first_zoned: int | None = None


def _match_cells(s: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """The pattern's groups per cell (None where a cell does not match), and presence."""
    n = len(s)
    text = pd.Series([cell_text(v) for v in s] if s.dtype == object else s, index=range(n))
    present = text.notna().to_numpy()
    # A plain loop with a compiled pattern is ~3x faster than Series.str.extract here.
    empty = (None,) * _TS_RE.groups
    found = []
    for v in text.tolist():
        hit = _TS_RE.fullmatch(v.strip()) if isinstance(v, str) else None
        found.append(hit.groups() if hit else empty)
    return pd.DataFrame(found, columns=list(_TS_RE.groupindex), dtype=object), present


def _with_zones(times: pd.Series, m: pd.DataFrame, matched: np.ndarray,
                none: np.ndarray) -> tuple[pd.Series, np.ndarray, bool]:
    """Shift zoned cells to UTC; returns (times, naive cells among zoned ones, converted)."""
    tz = m["tz"].to_numpy(dtype=object)
    aware = matched & pd.notna(tz)
    if not aware.any():
        return times, none, False
    tzs = pd.Series(tz).fillna("").astype(str)
    sign = np.where(tzs.str.startswith("-"), -1, 1)
    digits = tzs.str.replace(r"[^0-9]", "", regex=True)
    hh = pd.to_numeric(digits.str[:2], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    mm = pd.to_numeric(digits.str[2:4], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    offset = pd.to_timedelta(sign * (hh * 60 + mm), unit="min").as_unit("us")
    return (times - offset).dt.tz_localize("UTC"), matched & ~aware, True


def parse_times(s: pd.Series, dayfirst: bool | None) -> TimeParse:
    """Read a time column.

    Dotted dates (dd.mm.yyyy) are always day-first. Slash/dash dates with the year last
    follow ``dayfirst``; when it is None a cell with a first field > 12 (day-first) or a
    second field > 12 (month-first) decides. Year-first dates are always year-month-day.

    Parameters
    ----------
    s : pandas.Series
        Text cells, or a datetime64 column (then only converted to UTC if zoned).
    dayfirst : bool or None
        Day order of slash/dash dates; None decides from the data.

    Returns
    -------
    TimeParse
        The timestamps and every cell the reading could not settle.
    """
    n = len(s)
    none = np.zeros(n, dtype=bool)
    if ptypes.is_datetime64_any_dtype(s.dtype):
        times = s.reset_index(drop=True)
        conv = False
        if getattr(times.dt, "tz", None) is not None:
            times, conv = times.dt.tz_convert("UTC"), True
        return TimeParse(times, none, dayfirst, none, None, none, conv)

    m, present = _match_cells(s)
    ymd = m["Y"].notna().to_numpy()
    xyz = m["A"].notna().to_numpy()
    matched = ymd | xyz

    def num(col: str, default: int = 0) -> np.ndarray:
        return pd.to_numeric(m[col], errors="coerce").fillna(default).to_numpy(dtype=np.int64)

    a, b = num("A"), num("B")
    dotted = xyz & (m["s2"] == ".").to_numpy()
    slash = xyz & ~dotted
    says_day = slash & (a > 12) & (b <= 12)
    says_month = slash & (b > 12) & (a <= 12)
    undecided = slash & (a <= 12) & (b <= 12) & (a != b)
    conflict = None
    ambiguous = none
    used = dayfirst
    if dayfirst is None:
        if says_day.any() and says_month.any():
            conflict = (int(np.argmax(says_day)), int(np.argmax(says_month)))
        elif says_day.any():
            used = True
        elif says_month.any():
            used = False
        elif undecided.any():
            ambiguous = undecided
    first_is_day = dotted | (slash & (used if used is not None else True))
    day = np.where(ymd, num("D", 1), np.where(first_is_day, a, b))
    month = np.where(ymd, num("Mo", 1), np.where(first_is_day, b, a))
    year = np.where(ymd, num("Y", 2000), num("Y2", 2000))
    hour = num("h")
    ampm = m["ampm"].fillna("").str.lower().str[0].to_numpy(dtype=object)
    pm, am = ampm == "p", ampm == "a"
    hour_ok = ~((pm | am) & ((hour > 12) | (hour == 0)))
    hour = np.where(am & (hour == 12), 0, np.where(pm & (hour < 12), hour + 12, hour))
    # pandas adds hours, minutes and seconds as durations, so 25:61 would roll over into the next
    # day without a word: a time of day that does not exist is unreadable.
    clock_ok = (hour <= 23) & (num("mi") <= 59) & (num("sec") <= 59)
    parts = pd.DataFrame({
        "year": np.where(matched, year, 2000), "month": np.where(matched, month, 1),
        "day": np.where(matched, day, 1), "hour": np.where(matched, hour, 0),
        "minute": np.where(matched, num("mi"), 0), "second": np.where(matched, num("sec"), 0),
    })
    times = pd.to_datetime(parts, errors="coerce")
    frac = m["frac"].fillna("").str.ljust(9, "0").str[:9]
    ns = pd.to_numeric(frac.where(frac != "", "0"), errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    if ns.any():
        # Microseconds: nanosecond arithmetic would overflow for dates past 2262.
        times = times + pd.to_timedelta(ns // 1000, unit="us").as_unit("us")
    # A date past pandas' range ('9999-...') or an impossible one ('31.02.') ends up NaT.
    times = times.where(pd.Series(matched & hour_ok & clock_ok), pd.NaT)
    times, naive_among, converted = _with_zones(times, m, matched, none)
    bad = present & times.isna().to_numpy()
    zoned = matched & m["tz"].notna().to_numpy()
    offsets = tuple(dict.fromkeys(m.loc[zoned, "tz"].astype(str)))
    return TimeParse(times, bad, used, ambiguous, conflict, naive_among, converted, matched & ~clock_ok,
                     offsets, int(np.argmax(zoned)) if zoned.any() else None)


def time_numbers(times: pd.Series) -> np.ndarray:
    """Sortable integers for timestamps (UTC for zoned ones); NaT becomes the minimum.

    Parameters
    ----------
    times : Series of datetime64

    Returns
    -------
    ndarray of int64
        Only their order is meaningful (the unit is the column's own).
    """
    t = times
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    # Native unit (not forced to ns, which overflows past 2262): only the order matters.
    return t.to_numpy().astype(np.int64)


def even_step(times: pd.Series) -> pd.Timedelta | None:
    """The common spacing of sorted timestamps, or None when they are not evenly spaced.

    The same rule as the time-aware engine's grid: the median gap, when at least 90% of the
    gaps equal it.

    Parameters
    ----------
    times : Series of datetime64
        In time order.

    Returns
    -------
    Timedelta or None
    """
    d = times.diff().dropna()
    if d.empty:
        return None
    step = d.median()
    if step <= pd.Timedelta(0) or (d == step).mean() < 0.9:
        return None
    return step


# A grid with more holes than rows is another grid (a lab KPI every 30 min on a 1-min export).
MIN_GRID_SHARE = 0.5
# A row within this share of a step of a grid time sits on it (clock jitter of a wide export).
GRID_TOLERANCE = 0.25


@dataclass
class TimeGrid:
    """The even time grid rows lie on, with holes where rows were dropped.

    Attributes
    ----------
    step : Timedelta
    positions : ndarray of int
        Each row's grid step counted from the first row (strictly increasing); ``positions[i] -
        positions[j]`` steps separate rows i and j, whatever was dropped between them.
    holes : int
        Grid times between the first and the last row that have no row.
    judged_on : str
        "rows" (the rows themselves are evenly spaced) or "export" (the time column as exported,
        before rows were dropped).
    """

    step: pd.Timedelta
    positions: np.ndarray
    holes: int = 0
    judged_on: str = "rows"

    @property
    def consecutive(self) -> bool:
        """No holes: row i + k is k grid steps after row i."""
        return self.holes == 0


def time_grid(times: pd.Series, exported: pd.Index | pd.Series | None = None) -> TimeGrid | None:
    """The even grid of ``times`` (rows kept for the analysis), judged on the time column as
    exported when rows were dropped: rows dropped for a missing value are holes in an even grid,
    not an uneven grid.

    Parameters
    ----------
    times : Series of datetime64
        The rows' timestamps, in time order.
    exported : Index or Series of datetime64, optional
        The timestamps before rows were dropped (``PlantData.grid``'s index).

    Returns
    -------
    TimeGrid or None
        None when neither is evenly spaced (:func:`even_step`), when the rows do not sit on the
        grid, or when more than half the grid's times have no row.
    """
    if len(times) < 2:
        return None
    tried: list[tuple[pd.Timedelta, str]] = []
    if exported is not None and len(exported) > len(times):
        full = pd.Series(pd.unique(pd.Series(exported).dropna())).sort_values().reset_index(drop=True)
        on_export = even_step(full)
        if on_export is not None:
            tried.append((on_export, "export"))
    own = even_step(times)
    if own is not None and all(own != s for s, _ in tried):
        # The rows' own spacing: a lab KPI every 30 min in a 1-min export is a 30-min grid.
        tried.append((own, "rows"))
    for step, judged in tried:
        off = ((times - times.iloc[0]) / step).to_numpy(dtype=float)
        pos = np.round(off)
        if np.any(np.abs(off - pos) > GRID_TOLERANCE) or np.any(np.diff(pos) <= 0):
            continue
        span = int(pos[-1]) + 1
        if len(times) >= MIN_GRID_SHARE * span:
            return TimeGrid(step, pos.astype(np.int64), span - len(times), judged)
    if own is not None:
        # Rows evenly spaced but a few off the grid (clock jitter, repeated stamps): the rows are
        # the steps, as they always were.
        return TimeGrid(own, np.arange(len(times)), 0, "rows")
    return None

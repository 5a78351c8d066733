"""Sensors missing over a long stretch of rows, and windows such a stretch would hollow out.

A sensor can be missing for hours rather than a sample here and there: a DCS migration renamed
its tag between two exports, it was out of service, or the export stopped early. Gap handling
then quietly changes the analysis: ``gaps="drop"`` removes every row of the stretch (a 4-hour
incident becomes one row), ``gaps="impute"`` holds or interpolates one value across it (a
made-up series that is then ranked). So:

- :func:`find_gap_runs` records, before gap handling, where each sensor has no value;
- :func:`long_gap_warnings` says each long stretch once when the data are read, naming the
  sensor, the span, and a column not in the layout that has values just there (the new tag
  name, when a tag was renamed);
- :func:`window_gap_problems` refuses a window that most of one sensor's values are missing
  from, since what would be analysed is not the window the engineer chose.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rca_app.core.errors import Problem

__all__ = ["GapRuns", "find_gap_runs", "long_gap_warnings", "window_gap_problems"]

# A stretch this long (rows and share of all rows) is worth its own warning when reading.
LONG_RUN_ROWS = 10
LONG_RUN_SHARE = 0.05
# A window loses its meaning when a sensor misses more than this share of it.
WINDOW_SHARE = 0.5
# Another column "stands in" for a missing stretch when it has values in this share of the
# stretch, and in at most the complementary share of the rows where the sensor has values.
STANDS_IN = 0.8


@dataclass
class GapRuns:
    """Where each sensor has no value, among the rows with a KPI value, before gap handling.

    Attributes
    ----------
    times : Series of datetime64 or None
        Time of each such row, in time order (None when the data have no time column).
    rows : ndarray of int
        Spreadsheet row of each (grid rows of a pivoted historian export).
    order : ndarray of int
        Position of each in the prepared-from table (``PlantData.raw.frame``).
    runs : dict of str to ndarray
        Sensor -> (k, 2) array of ``[start, stop)`` positions into ``times``, one per stretch.
    gaps : {"drop", "impute"}
        The gap policy the data were prepared with.
    on_grid : bool
        The rows are a historian grid: messages name times, since grid rows are no rows of
        the export.
    """

    times: pd.Series | None
    rows: np.ndarray
    order: np.ndarray
    runs: dict[str, np.ndarray]
    gaps: str
    on_grid: bool = False
    # Per column not in the layout: (first, last, count) of the rows it has a value in, worked out
    # once (exports with thousands of tags) to rule out most columns before looking at them.
    _presence: dict | None = field(default=None, init=False, repr=False, compare=False)


def _runs(missing: np.ndarray) -> np.ndarray:
    """``[start, stop)`` of each stretch of True, as a (k, 2) int array."""
    m = np.concatenate([[False], missing, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(m))
    return edges.reshape(-1, 2).astype(np.int64)


def find_gap_runs(missing: dict[str, np.ndarray], times: pd.Series | None, rows: np.ndarray, order: np.ndarray,
                  gaps: str, on_grid: bool) -> GapRuns:
    """Record where each sensor has no value.

    Parameters
    ----------
    missing : dict of str to ndarray of bool
        Sensor -> missing, over the rows with a KPI value in time order.
    times : Series of datetime64 or None
        Their times.
    rows, order : ndarray of int
        Their spreadsheet rows and positions in the table prepared from.
    gaps : {"drop", "impute"}
    on_grid : bool
        A pivoted historian export.

    Returns
    -------
    GapRuns
    """
    runs = {c: _runs(m) for c, m in missing.items() if m.any()}
    t = None if times is None else times.reset_index(drop=True)
    return GapRuns(t, np.asarray(rows), np.asarray(order), runs, gaps, on_grid)


def _where(g: GapRuns, k: int) -> str:
    """Row ``k`` for a message: its time (and spreadsheet row outside a historian grid)."""
    if g.times is None:
        return f"row {int(g.rows[k])}"
    t = g.times.iloc[k]
    return str(t) if g.on_grid else f"{t} (row {int(g.rows[k])})"


def _span(g: GapRuns, start: int, stop: int) -> str:
    n = len(g.rows)
    a = "the start of the data" if start == 0 else _where(g, start)
    b = "the end of the data" if stop == n else _where(g, stop - 1)
    return f"from {a} to {b}"


def _last_value(g: GapRuns, start: int, stop: int) -> str:
    parts = []
    if start > 0:
        parts.append(f"its last value before is at {_where(g, start - 1)}")
    if stop < len(g.rows):
        parts.append(f"its next at {_where(g, stop)}")
    return "; ".join(parts)


def stand_in(g: GapRuns, raw: pd.DataFrame, sensor: str, start: int, stop: int, layout_columns: set) -> str:
    """A column not in the layout with values just where ``sensor`` has none: its name and
    where it starts, as a sentence for the message ("" when there is none).

    Parameters
    ----------
    g : GapRuns
    raw : DataFrame
        The table the data were prepared from (every column of the file or export).
    sensor : str
    start, stop : int
        The stretch, positions into ``g.times``.
    layout_columns : set of str
        Columns the layout uses (and the time column): never a stand-in.

    Returns
    -------
    str
    """
    inside = np.zeros(len(g.order), dtype=bool)
    inside[start:stop] = True
    has_sensor = np.ones(len(g.order), dtype=bool)
    for a, b in g.runs.get(sensor, np.zeros((0, 2), dtype=np.int64)):
        has_sensor[a:b] = False
    n_run, n_has, n_without = stop - start, int(has_sensor.sum()), int((~has_sensor).sum())
    best, best_key = None, None
    for c, (first_at, last_at, count) in _presence(g, raw, layout_columns).items():
        # Bounds from the column's span and count alone: too few values inside the stretch, or
        # surely too many where the sensor has values.
        if min(last_at + 1, stop) - max(first_at, start) < STANDS_IN * n_run:
            continue
        if n_has and (count - n_without) > (1 - STANDS_IN) * n_has:
            continue
        present = _present(raw[c], g.order)
        cover = present[inside].mean() if inside.any() else 0.0
        alongside = present[has_sensor].mean() if has_sensor.any() else 0.0
        if cover < STANDS_IN or alongside > 1 - STANDS_IN:
            continue
        key = (cover, difflib.SequenceMatcher(None, str(c).casefold(), sensor.casefold()).ratio())
        if best_key is None or key > best_key:
            first = start + int(np.argmax(present[inside]))
            best, best_key = (str(c), first), key
    if best is None:
        return ""
    name, first = best
    kind = "a tag" if g.on_grid else "a column"
    return (f" '{name}', {kind} not in the layout, has values from {_where(g, first)} just where {sensor} has none: "
            "the same sensor renamed between two exports? Give it one name in the data.")


def _present(column: pd.Series, order: np.ndarray) -> np.ndarray:
    present = ~pd.isna(column.to_numpy()[order])
    return present.astype(bool) if present.dtype != bool else present


def _presence(g: GapRuns, raw: pd.DataFrame, layout_columns: set) -> dict:
    if g._presence is None:
        spans = {}
        for c in raw.columns:
            if c in layout_columns:
                continue
            present = _present(raw[c], g.order)
            if present.any():
                spans[c] = (int(np.argmax(present)), len(present) - 1 - int(np.argmax(present[::-1])),
                            int(present.sum()))
        g._presence = spans
    return g._presence


def long_gap_warnings(g: GapRuns, raw: pd.DataFrame, layout_columns: set, file: str) -> list[Problem]:
    """One warning per long stretch without a value (see the module notes).

    Parameters
    ----------
    g : GapRuns
    raw : DataFrame
        The table the data were prepared from.
    layout_columns : set of str
        Columns the layout uses, and the time column.
    file : str
        For the messages.

    Returns
    -------
    list of Problem
    """
    n = len(g.rows)
    long = max(LONG_RUN_ROWS, int(np.ceil(LONG_RUN_SHARE * n)))
    out = []
    for sensor, runs in g.runs.items():
        for start, stop in runs:
            if stop - start < long:
                continue
            then = ("rows without it are dropped (gaps='drop')" if g.gaps == "drop" else
                    "it is filled across them (gaps='impute'): a window inside this stretch would hold made-up "
                    "values of it")
            last = _last_value(g, int(start), int(stop))
            out.append(Problem(
                f"{sensor} has no value {_span(g, int(start), int(stop))} ({stop - start} of {n} rows"
                f"{'; ' + last if last else ''}); {then}."
                f"{stand_in(g, raw, sensor, int(start), int(stop), layout_columns)}",
                file=file, column=sensor, row=None if g.on_grid else int(g.rows[start]), severity="warning",
                code="sensor_missing_span"))
    return out


def window_gap_problems(g: GapRuns, raw: pd.DataFrame, layout_columns: set, t0, t1, what: str,
                        file: str) -> list[Problem]:
    """Errors for a window that gap handling would hollow out, one per sensor.

    With ``gaps="drop"`` a sensor missing from more than half of the window's rows leaves less
    than half of the window; with ``gaps="impute"`` one stretch without a value over more than
    half of it is filled with a held or interpolated value. Either way the analysis would not
    be of the window chosen.

    Parameters
    ----------
    g : GapRuns
    raw : DataFrame
        The table the data were prepared from.
    layout_columns : set of str
        Columns the layout uses, and the time column.
    t0, t1 : Timestamp or None
        The window, start inclusive and end exclusive (None: open).
    what : str
        Which window ("the incident window"); its span before gap handling is added.
    file : str

    Returns
    -------
    list of Problem
    """
    if g.times is None or not g.runs:
        return []
    lo = 0 if t0 is None else int(g.times.searchsorted(t0, side="left"))
    hi = len(g.times) if t1 is None else int(g.times.searchsorted(t1, side="left"))
    size = hi - lo
    if size < 2:
        return []
    given = f"{what} ({_where(g, lo)} to {_where(g, hi - 1)})"
    out = []
    for sensor, runs in g.runs.items():
        a, b = np.maximum(runs[:, 0], lo), np.minimum(runs[:, 1], hi)
        overlap = np.clip(b - a, 0, None)
        total, k = int(overlap.sum()), int(np.argmax(overlap))
        longest = int(overlap[k])
        if (g.gaps == "drop" and total <= WINDOW_SHARE * size) or (g.gaps != "drop" and longest <= WINDOW_SHARE * size):
            continue
        start, stop = int(runs[k, 0]), int(runs[k, 1])
        where = (f"from {_where(g, int(a[k]))} to {_where(g, int(b[k]) - 1)}" if total == longest else
                 f"longest stretch {_span(g, start, stop)}")
        last = _last_value(g, start, stop)
        then = (f"gaps='drop' would leave {size - total} of its {size} rows" if g.gaps == "drop" else
                f"gaps='impute' would fill {longest} of its {size} rows with a held or interpolated value, a series "
                "the plant never had")
        renamed = stand_in(g, raw, sensor, start, stop, layout_columns)
        held = ""
        if g.gaps == "drop" and total > longest and g.times is not None:
            # Blank between scattered samples: a lab value pasted on its sample's row, or a value
            # recorded only when it changed. Holding it keeps it (core/data/wide_tags.py).
            held = (f" If {sensor} is sampled less often than the rows (a lab result, a value recorded when it "
                    f"changed), hold each sample until the next: [tags.{sensor}] rule = \"last\" in the layout; or "
                    "fill the gaps with --gaps impute.")
        leave = "Otherwise leave" if renamed or held else "Leave"
        out.append(Problem(
            f"{given}: {sensor} has no value in {total} of the window's {size} rows ({where}"
            f"{'; ' + last if last else ''}), so {then}.{renamed}{held} {leave} {sensor} out of the layout, or choose "
            "a window where it was measured",
            file=file, column=sensor, row=None if g.on_grid else int(g.rows[int(a[k])]), code="window_sensor_missing"))
    return out

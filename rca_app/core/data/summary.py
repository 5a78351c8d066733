"""Overviews for a person: the raw table's columns before a layout exists, and the
``rca-app validate`` text of a prepared table."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from rca_app.core.data.numbers import parse_numbers
from rca_app.core.data.rules import DROP_REASONS, GUESS_SHARE, MAX_CATEGORY_LEVELS
from rca_app.core.data.times import parse_times
from rca_app.core.data.validation import station_nodes

if TYPE_CHECKING:
    from rca_app.core.data.tables import PlantData

__all__ = ["ColumnSummary", "summarize_column", "plant_summary_text"]


@dataclass
class ColumnSummary:
    """One line of the raw-table overview the GUI shows before a layout exists."""

    name: str
    kind: str                 # "numeric", "categorical", "time", "text" or "empty" (a guess)
    missing: int
    missing_pct: float
    n_unique: int
    min: Any = None
    max: Any = None
    status_values: int = 0    # historian status strings counted among the missing
    non_numeric: int = 0      # cells that spoil an otherwise numeric column

    def to_dict(self) -> dict:
        """Plain ``dict`` of the fields, for JSON and the GUI table."""
        return asdict(self)


def summarize_column(name: str, s: pd.Series, status_values: int, decimal: str) -> ColumnSummary:
    """Guess a raw column's kind and count what is missing.

    Parameters
    ----------
    name : str
        Column name.
    s : pandas.Series
        The column of a :class:`~rca_app.core.data.tables.RawTable`.
    status_values : int
        Historian status strings read as missing in it.
    decimal : str
        The file's decimal mark, to read numbers written as text.

    Returns
    -------
    ColumnSummary
        Kind "numeric" or "time" when at least :data:`GUESS_SHARE` of the present cells
        read as such, "categorical" for few distinct values, else "text" (or "empty").
    """
    n = len(s)
    missing = int(s.isna().sum())
    present = n - missing
    info: dict[str, Any] = dict(
        name=name, missing=missing, status_values=status_values,
        missing_pct=round(100.0 * missing / n, 2) if n else 0.0,
        n_unique=int(s.nunique(dropna=True)),
    )
    if present == 0:
        return ColumnSummary(kind="empty", **info)
    if ptypes.is_bool_dtype(s.dtype):
        return ColumnSummary(kind="categorical", **info)
    if ptypes.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        return ColumnSummary(kind="numeric", min=float(np.nanmin(v)), max=float(np.nanmax(v)), **info)
    if ptypes.is_datetime64_any_dtype(s.dtype):
        return ColumnSummary(kind="time", min=s.min(), max=s.max(), **info)
    values, bad = parse_numbers(s, decimal)
    n_bad = int(bad.sum())
    if n_bad <= (1 - GUESS_SHARE) * present and n_bad < present:
        return ColumnSummary(
            kind="numeric", min=float(np.nanmin(values)), max=float(np.nanmax(values)),
            non_numeric=n_bad, **info,
        )
    sample = s.dropna().head(500)
    if parse_times(sample, None).times.notna().sum() >= GUESS_SHARE * len(sample):
        times = parse_times(s, None).times
        return ColumnSummary(kind="time", min=times.min(), max=times.max(), **info)
    nu = info["n_unique"]
    kind = "categorical" if nu <= MAX_CATEGORY_LEVELS and nu <= max(2, present // 2) else "text"
    return ColumnSummary(kind=kind, non_numeric=n_bad, **info)


def _station_lines(data: PlantData) -> list[str]:
    lines = []
    present = set(data.frame.columns)
    for k, st in enumerate(data.layout.stations, 1):
        names = [n for n in station_nodes(st) if n in present and n != data.layout.target]
        # ``exogenous`` is True for the whole station or a list of its sensors.
        ex = st.exogenous
        ex_set = set() if isinstance(ex, bool) else set(ex or ())
        shown = []
        for n in names:
            tags = [t for t, on in (("categorical", n in data.categorical_nodes),
                                    ("exogenous", n in ex_set)) if on]
            shown.append(f"{n} ({', '.join(tags)})" if tags else n)
        extra = " [exogenous]" if ex is True else ""
        lines.append(f"  {k}. {st.name}{extra}: {len(names)} sensor(s): " + ", ".join(shown))
    return lines


def plant_summary_text(data: PlantData) -> str:
    """Plain summary for ``rca-app validate``: rows, time span, stations, gaps, problems.

    Parameters
    ----------
    data : PlantData
        A prepared table.

    Returns
    -------
    str
        Lines of text, no trailing newline.
    """
    raw = data.raw
    lines = []
    where = f"sheet '{raw.sheet}', " if raw.sheet else ""
    lines.append(f"File: {raw.file_name} ({where}{raw.size_bytes:,} bytes, sha256 {raw.sha256[:12]})")
    for j in getattr(raw, "joined", []):
        lines.append(f"Joined: {j.file} by '{j.on}' ({j.rows:,} rows, {j.size_bytes:,} bytes, sha256 {j.sha256[:12]})")
    drop_txt = ""
    if data.dropped_rows:
        parts = [f"{n:,} {DROP_REASONS.get(k, k)}" for k, n in data.dropped_rows.items() if n]
        if parts:
            drop_txt = " (dropped: " + ", ".join(parts) + ")"
    lines.append(f"Rows: {data.n_rows:,} used of {data.rows_read:,} read{drop_txt}")
    if data.time is not None and len(data.time):
        tz = ", UTC" if getattr(data.time.dt, "tz", None) is not None else ""
        lines.append(
            f"Time: {data.time.iloc[0]} to {data.time.iloc[-1]} "
            f"(column '{data.layout.time_column}'{tz})"
        )
    else:
        lines.append("Time: no time column; rows kept in file order")
    if data.time is not None:
        lines.append(time_treatment_text(data))
    if data.tag_reports:
        lines.append(f"Historian export: {len(data.tag_reports)} tags on a {data.sample} grid "
                     "(rule, samples, bad quality, empty or status text):")
        # Uncertain samples are counted as bad (core/data/quality.py); the overview says how many.
        uncertain = {tag: c.get("Uncertain quality", 0) for tag, c in data.raw.status_counts.items()}
        lines += [f"  {t.tag}: {t.rule}, {t.samples:,} samples, {t.bad_quality:,} bad"
                  + (f" ({uncertain[t.tag]:,} of them 'Uncertain')" if uncertain.get(t.tag) else "")
                  + f", {t.missing_values:,} empty"
                  + (f", {t.no_value_samples:,} 'no value' code(s)" if getattr(t, "no_value_samples", 0) else "")
                  + (f", stamped {t.delay_s:g} s late" if t.delay_s else "") for t in data.tag_reports]
    lines.append(f"Target: {data.layout.target} ({data.layout.goal})")
    lines.append("Stations (in process order):")
    lines += _station_lines(data)
    lines.append("Missing values per column (before gap handling):")
    miss = [(c, n) for c, n in data.missing_counts.items() if n]
    if miss:
        for c, n in miss:
            pct = 100.0 * n / data.rows_read if data.rows_read else 0.0
            lines.append(f"  {c}: {n:,} ({pct:.1f}%)")
    else:
        lines.append("  none")
    if data.imputed_cells:
        lines.append(f"Imputed cells (gaps='{data.gaps}'):")
        for c, n in data.imputed_cells.items():
            lines.append(f"  {c}: {n:,}")
    lines.append("Problems:")
    if data.problems:
        for p in data.problems:
            lines.append(f"  {p.severity}: {p}")
    else:
        lines.append("  none")
    return "\n".join(lines)


def time_treatment_text(data: PlantData) -> str:
    """Whether the analysis will treat the rows as a time series (residence times, recycles,
    loops) or one by one, and why: said before the analysis, whatever the layout declares.

    Parameters
    ----------
    data : PlantData
        With a time column.

    Returns
    -------
    str
    """
    from rca_app.core.dynamics import duration_text, uneven_note
    from rca_app.core.grid_holes import data_grid

    grid = data_grid(data)
    if grid is None:
        return f"Time treatment: does not apply: {uneven_note(data)}"
    holes = ""
    if grid.holes:
        holes = (f", with {grid.holes:,} hole(s) where rows were dropped (counted as grid steps, so residence times "
                 "stay in minutes, not rows)")
    return (f"Time treatment: applies: rows on an even {duration_text(grid.step)} grid{holes}; residence times "
            "are estimated where the layout does not declare them, and recycles and loops the data show are "
            "proposed")

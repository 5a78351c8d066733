"""The two tables of the data step: :class:`RawTable` as read from disk and
:class:`PlantData`, the analysis-ready table checked against a layout."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rca_app.core.data.gap_runs import GapRuns
from rca_app.core.data.summary import ColumnSummary, plant_summary_text, summarize_column
from rca_app.core.errors import Problem
from rca_app.core.layout import Layout

__all__ = ["JoinedTable", "RawTable", "PlantData"]


@dataclass(frozen=True)
class JoinedTable:
    """A ``[[join]]`` table as read: enough to find it again and to prove it is the same file.

    Attributes
    ----------
    file, path, sha256 : str
        Its name, where it was read from, and its content fingerprint.
    size_bytes, rows : int
        Its size and its data rows.
    on : str
        The key column it was joined by.
    """

    file: str
    path: str
    sha256: str
    size_bytes: int
    rows: int
    on: str


@dataclass
class RawTable:
    """A table as read from disk, before any layout is applied.

    ``frame`` columns are float64 (numbers), datetime64 (Excel/Parquet timestamps), bool, or
    ``str`` holding the cell text trimmed of spaces. Missing values (empty cells and the
    status strings in :data:`~rca_app.core.data.rules.MISSING_TOKENS`) are NaN. The index is
    0..n-1; ``source_rows[i]`` is the spreadsheet row number of ``frame`` row ``i``.

    Attributes
    ----------
    frame : DataFrame
    path : Path
    file_name, sha256 : str
        Name for messages, and the content fingerprint that proves a file is the same.
    size_bytes : int
    sheet, sep, decimal, encoding
        How the file was read (workbook sheet, CSV separator, decimal mark, text encoding).
    problems : list of Problem
        Found while reading (mostly warnings).
    source_rows : ndarray of int64
    header_row : int
        Spreadsheet row number of the header.
    status_counts : dict
        Column -> {status text as written: count}; plain empty cells are not listed.
    other_sheets : dict
        Workbooks read without a chosen sheet: the header cells of the other sheets, so that
        data sitting on another sheet can be pointed out by name.
    pivoted : bool
        A historian long export pivoted onto the analysis grid: its rows are grid times, not rows
        of the file, so messages name them by time (:class:`~rca_app.core.data.messages.RowPlaces`).
    joined : list of JoinedTable
        The ``[[join]]`` tables whose columns were added, each with its fingerprint.
    """

    frame: pd.DataFrame
    path: Path
    file_name: str
    sha256: str
    size_bytes: int
    sheet: str | None = None
    sep: str | None = None
    decimal: str = "."
    encoding: str | None = None
    problems: list[Problem] = field(default_factory=list)
    source_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    header_row: int = 1
    # column -> {status text as written: count}; plain empty cells are not listed.
    status_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # Workbooks read without a chosen sheet: the header cells of the other sheets, so that data
    # sitting on another sheet can be pointed out by name.
    other_sheets: dict[str, list[str]] = field(default_factory=dict)
    pivoted: bool = False
    joined: list[JoinedTable] = field(default_factory=list)
    _summary_cache: list[ColumnSummary] | None = field(default=None, init=False, repr=False,
                                                       compare=False)

    @property
    def n_rows(self) -> int:
        """Number of data rows read."""
        return len(self.frame)

    def summary(self) -> list[ColumnSummary]:
        """Per-column overview: kind guess, missing count and %, min, max, distinct values.

        Computed once and cached.

        Returns
        -------
        list of ColumnSummary
            In column order.
        """
        if self._summary_cache is None:
            self._summary_cache = [
                summarize_column(c, self.frame[c], sum(self.status_counts.get(c, {}).values()),
                                 self.decimal)
                for c in self.frame.columns
            ]
        return self._summary_cache


@dataclass
class PlantData:
    """The analysis-ready table: layout nodes only, in station order, rows in time order.

    ``frame`` holds float64 numeric sensors, ``category`` categorical sensors (string
    categories), and the target; its index is 0..n-1. ``time`` is aligned with ``frame``
    (UTC-aware when the file carried time zones) or None. ``source_rows[i]`` is the
    spreadsheet row number of ``frame`` row ``i`` in the original file.

    Attributes
    ----------
    frame : DataFrame
    time : Series or None
    source_rows : ndarray of int
    raw : RawTable
        The table it was prepared from.
    layout : Layout
        The layout the table was prepared under (every node it names is in ``frame``).
    problems : list of Problem
        Warnings (errors raise instead).
    dropped_rows : dict of str to int
        Reason -> rows dropped (see :data:`~rca_app.core.data.rules.DROP_REASONS`).
    imputed_cells : dict of str to int
        Column -> cells filled (``gaps="impute"``).
    numeric_nodes, categorical_nodes : list of str
    missing_counts : dict of str to int
        Missing cells per column, before the gaps policy.
    gaps : {"drop", "impute"}
        How rows with missing values were handled.
    dayfirst : bool or None
        The date order used (asked for or decided from the data).
    rows_read : int
        Data rows in the file, before any was dropped.
    tag_reports : list of TagReport
        A historian long export: how each tag went onto the grid (rule, bad-quality samples).
    sample : str or None
        The grid step of a pivoted historian export ("1min").
    gap_runs : GapRuns or None
        Where each sensor had no value before gap handling (so a window that a long gap would
        hollow out is refused, naming the sensor); None for a table built by hand.
    grid : DataFrame or None
        The layout's columns on every timestamped row as exported (pivoted), before rows without
        a KPI value or with a sensor gap were dropped, indexed by time: the time grid's evenness
        is judged on it (a dropped row is a hole in an even grid) and a sensor's past is read from
        it across holes. None when no row was dropped or there is no time column.
    """

    frame: pd.DataFrame
    time: pd.Series | None
    source_rows: np.ndarray
    raw: RawTable
    layout: Layout
    problems: list[Problem] = field(default_factory=list)
    dropped_rows: dict[str, int] = field(default_factory=dict)   # reason -> rows
    imputed_cells: dict[str, int] = field(default_factory=dict)  # column -> cells
    numeric_nodes: list[str] = field(default_factory=list)
    categorical_nodes: list[str] = field(default_factory=list)
    missing_counts: dict[str, int] = field(default_factory=dict)  # per column, before gaps
    gaps: str = "drop"
    dayfirst: bool | None = None   # the date order used (asked for or decided from the data)
    rows_read: int = 0
    tag_reports: list = field(default_factory=list)
    sample: str | None = None
    gap_runs: GapRuns | None = None
    grid: pd.DataFrame | None = None

    @property
    def file_name(self) -> str:
        """The data file's name (for messages)."""
        return self.raw.file_name

    @property
    def n_rows(self) -> int:
        """Rows used by the analysis."""
        return len(self.frame)

    @property
    def n_dropped(self) -> int:
        """Rows dropped, all reasons together."""
        return sum(self.dropped_rows.values())

    @property
    def time_column(self) -> str | None:
        """Name of the time column, or None when the data have no times."""
        return self.layout.time_column if self.time is not None else None

    def row_number(self, i: int) -> int:
        """Spreadsheet row number of ``frame`` row ``i`` (for messages).

        Parameters
        ----------
        i : int
            Position in ``frame``.

        Returns
        -------
        int
        """
        return int(self.source_rows[i])

    def summary_text(self) -> str:
        """Plain summary for ``rca-app validate``: rows, time span, stations, gaps, problems.

        Returns
        -------
        str
        """
        return plant_summary_text(self)

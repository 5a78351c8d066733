"""How data problems quote what the engineer typed: cells, rows and close column names."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rca_app.core.data.rules import QUOTE_CELLS
from rca_app.core.errors import Problem, RcaInputError

__all__ = ["RowPlaces", "input_error", "quote", "quote_cells", "row_places", "suggest"]


@dataclass(frozen=True)
class RowPlaces:
    """Where the rows of a table are, for messages.

    A file's rows are its spreadsheet rows. A historian export pivoted onto a grid has rows that
    are no rows of the file (grid row 97 is not line 97 of the export, which holds some other
    tag's sample), so they are named by their grid time and a problem points at no row.

    Attributes
    ----------
    rows : ndarray of int
        Spreadsheet row numbers (on a grid: stand-ins, 2 + position, never shown).
    times : ndarray of object or None
        Each row's timestamp, where known (the grid's always).
    grid : bool
        The rows are a pivoted historian grid.
    """

    rows: np.ndarray
    times: np.ndarray | None = None
    grid: bool = False

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key) -> RowPlaces:
        return RowPlaces(np.asarray(self.rows)[key], None if self.times is None else self.times[key], self.grid)

    def row(self, j: int = 0) -> int | None:
        """The spreadsheet row of place ``j``, None on a grid (it has none)."""
        return None if self.grid else int(self.rows[j])

    def name(self, j: int) -> str:
        """Place ``j`` as a message names it: "row 17", or its time on a grid."""
        if self.grid and self.times is not None:
            return str(self.times[j])
        return f"row {int(self.rows[j])}"

    def when(self, j: int) -> str:
        """Place ``j`` with its time where known: "2026-05-04 01:49:00 (row 111)"."""
        if self.times is None:
            return self.name(j)
        return str(self.times[j]) if self.grid else f"{self.times[j]} (row {int(self.rows[j])})"


def row_places(rows: np.ndarray, times: pd.Series | None = None, grid: bool = False) -> RowPlaces:
    """:class:`RowPlaces` from spreadsheet rows and, where known, each row's parsed time."""
    t = None if times is None else np.asarray(times.astype(object).to_numpy(), dtype=object)
    return RowPlaces(np.asarray(rows, dtype=np.int64), t, grid)


def input_error(message: str, file: str | None, **where: Any) -> RcaInputError:
    """One-problem :class:`RcaInputError` naming the file (and column/row in ``where``).

    Parameters
    ----------
    message : str
        What is wrong.
    file : str or None
        File name.
    **where
        ``column``, ``row`` or ``code`` (see :class:`Problem`).

    Returns
    -------
    RcaInputError
        For the caller to raise.
    """
    return RcaInputError(Problem(message, file=file, **where))


def quote(value: Any, limit: int = 40) -> str:
    """A cell as the engineer typed it, in quotes, cut at ``limit`` characters.

    Parameters
    ----------
    value : Any
        The cell.
    limit : int, default 40
        Longest text shown (cut with an ellipsis).

    Returns
    -------
    str
    """
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "'" + text.replace("\n", "\\n").replace("\r", "\\r") + "'"


def quote_cells(rows: np.ndarray | RowPlaces, values: list | None = None, k: int = QUOTE_CELLS) -> str:
    """Where the bad cells are, for a message: ``row 17: '12,5x', row 40: 'abc'``.

    Parameters
    ----------
    rows : ndarray of int or RowPlaces
        Spreadsheet row numbers (or places, which name a pivoted grid's rows by their time).
    values : list, optional
        The cells' text; without it only the rows are named.
    k : int, default QUOTE_CELLS
        Most cells quoted (then ``…``).

    Returns
    -------
    str
    """
    places = rows if isinstance(rows, RowPlaces) else RowPlaces(np.asarray(rows))
    parts = []
    for j in range(min(k, len(places))):
        parts.append(f"{places.name(j)}: {quote(values[j])}" if values is not None else places.name(j))
    more = ", …" if len(rows) > k else ""
    return ", ".join(parts) + more


def suggest(name: str, candidates: list[str]) -> str:
    """Help for a column name not found: ``"; did you mean 'x'?"`` or the columns there are.

    Parameters
    ----------
    name : str
        The name the layout asked for.
    candidates : list of str
        The file's columns.

    Returns
    -------
    str
        Text to append to the message (``""`` if the file has no columns).
    """
    cands = [str(c) for c in candidates]
    same_case = [c for c in cands if c.strip().lower() == name.strip().lower() and c != name]
    close = same_case + [c for c in difflib.get_close_matches(name, cands, n=3, cutoff=0.6)
                         if c not in same_case]
    if close:
        return "; did you mean " + " or ".join(quote(c) for c in close[:3]) + "?"
    if not cands:
        return ""
    shown = ", ".join(quote(c) for c in cands[:12])
    more = f" and {len(cands) - 12} more" if len(cands) > 12 else ""
    return f"; the file's columns are {shown}{more}"

"""How data problems quote what the engineer typed: cells, rows and close column names."""
from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from rca_app.core.data.rules import QUOTE_CELLS
from rca_app.core.errors import Problem, RcaInputError

__all__ = ["input_error", "quote", "quote_cells", "suggest"]


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


def quote_cells(rows: np.ndarray, values: list | None = None, k: int = QUOTE_CELLS) -> str:
    """Where the bad cells are, for a message: ``row 17: '12,5x', row 40: 'abc'``.

    Parameters
    ----------
    rows : ndarray of int
        Spreadsheet row numbers.
    values : list, optional
        The cells' text; without it only the rows are named.
    k : int, default QUOTE_CELLS
        Most cells quoted (then ``…``).

    Returns
    -------
    str
    """
    parts = []
    for j, r in enumerate(rows[:k]):
        parts.append(f"row {int(r)}: {quote(values[j])}" if values is not None else f"row {int(r)}")
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

"""From a header and a grid of cells to the raw table: column names, blank rows, status strings.

Shared by every file format: the readers hand over the header cells, the body and the
spreadsheet row number of each body row; this module names the columns, drops blank rows and
turns historian status strings into missing values (counting them for the overview).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from rca_app.core.data.cells import cell_text, normalize_column
from rca_app.core.data.messages import input_error, quote
from rca_app.core.data.rules import MISSING_TOKENS
from rca_app.core.errors import Problem, RcaInputError

__all__ = ["finish_table"]


class _TextCells:
    """The text columns' cells stripped and checked for status strings in one pass over all of
    them: per-column string operations take minutes on exports with thousands of tags."""

    def __init__(self, positions: list[int], cols: dict[int, pd.Series]) -> None:
        self._pos = {i: k for k, i in enumerate(positions)}
        self._n = len(cols[positions[0]]) if positions else 0
        if positions:
            flat = pd.concat([cols[i] for i in positions], ignore_index=True)
            stripped = flat.str.strip()
            self._stripped = stripped
            self._blank = (stripped.fillna("") == "").to_numpy(dtype=bool)
            self._token = stripped.str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)

    def __contains__(self, i: int) -> bool:
        return i in self._pos

    def _slice(self, i: int) -> slice:
        k = self._pos[i]
        return slice(k * self._n, (k + 1) * self._n)

    def blank(self, i: int) -> np.ndarray:
        """Empty or whitespace-only cells (missing cells included)."""
        return self._blank[self._slice(i)]

    def token(self, i: int) -> np.ndarray:
        """Cells that are missing-value or status strings (empty cells included)."""
        return self._token[self._slice(i)]

    def stripped(self, i: int, rows: np.ndarray) -> pd.Series:
        """The column's cells without surrounding spaces, for the kept rows, indexed 0..k-1."""
        return self._stripped.iloc[self._slice(i)][rows].reset_index(drop=True)


def _kept_columns(names: list[str], blanks: dict[int, np.ndarray], header_row: int, name: str,
                  warnings: list[Problem]) -> list[int]:
    """Positions of the columns to keep; unnamed columns with data get a name (in ``names``)."""
    keep_cols = []
    for i, nm in enumerate(names):
        if nm:
            keep_cols.append(i)
        elif not blanks[i].all():
            new = f"unnamed_{i + 1}"
            while new in names:
                new += "_"
            names[i] = new
            warnings.append(Problem(
                f"column {i + 1} has no name in the header; called it '{new}'",
                file=name, column=new, row=header_row, severity="warning", code="unnamed",
            ))
            keep_cols.append(i)
        # else: an unnamed, empty column (a trailing separator): ignored
    positions: dict[str, list[int]] = {}
    for i in keep_cols:
        positions.setdefault(names[i], []).append(i + 1)
    dups = {k: v for k, v in positions.items() if len(v) > 1}
    if dups:
        raise RcaInputError([
            Problem(
                f"column name appears {len(pos)} times in the header (columns "
                f"{', '.join(map(str, pos))}); column names must be unique",
                file=name, column=nm, row=header_row, code="duplicate_column",
            )
            for nm, pos in dups.items()
        ])
    if not keep_cols:
        raise input_error("the header row has no column names", name, row=header_row)
    return keep_cols


def _status_warnings(status: dict[str, dict[str, int]], first: dict[str, int], name: str) -> list[Problem]:
    """One warning per column with status strings (one in all when there are many columns)."""
    items = list(status.items())
    if len(items) > 10:
        detail = ", ".join(f"'{c}': {sum(v.values())}" for c, v in items[:15])
        more = ", …" if len(items) > 15 else ""
        return [Problem(
            f"historian status values read as missing in {len(items)} columns ({detail}{more})",
            file=name, severity="warning", code="status_values",
        )]
    out = []
    for col, counts in items:
        total = sum(counts.values())
        detail = ", ".join(f"{quote(k)} ×{v}" for k, v in
                           sorted(counts.items(), key=lambda kv: -kv[1])[:4])
        out.append(Problem(
            f"{total} historian status value(s) read as missing ({detail}), first at row {first[col]}",
            file=name, column=col, row=first[col], severity="warning", code="status_values",
        ))
    return out


def finish_table(header: list, body: pd.DataFrame, rows: np.ndarray, header_row: int,
                 name: str, warnings: list[Problem]
                 ) -> tuple[pd.DataFrame, np.ndarray, dict[str, dict[str, int]]]:
    """Name columns, drop blank rows, turn status strings into missing values.

    Parameters
    ----------
    header : list
        Header cells as read (any type; None for an empty cell).
    body : pandas.DataFrame
        Body cells, columns 0..k-1 in header order.
    rows : numpy.ndarray
        Spreadsheet row number of each body row.
    header_row : int
        Spreadsheet row of the header.
    name : str
        File name for messages.
    warnings : list of Problem
        Receives warnings (unnamed columns, status values).

    Returns
    -------
    frame : pandas.DataFrame
        Named columns (float64, bool, datetime64 or str), index 0..n-1.
    rows : numpy.ndarray
        Spreadsheet row number of each kept row.
    status : dict
        Column -> {status text as written: count}.
    """
    names = []
    for v in header:
        t = cell_text(v)
        names.append("" if t is None else t.strip())
    cols = {i: normalize_column(body[i]) for i in range(len(names))}
    text = _TextCells([i for i, c in cols.items() if ptypes.is_string_dtype(c.dtype)], cols)
    blanks = {i: (text.blank(i) if i in text else cols[i].isna().to_numpy()) for i in cols}
    keep_cols = _kept_columns(names, blanks, header_row, name, warnings)
    all_blank = np.logical_and.reduce([blanks[i] for i in keep_cols]) if len(body) else np.zeros(0, bool)
    keep_rows = ~all_blank
    if not keep_rows.any():
        raise input_error("the file has a header row but no data rows", name, row=header_row)

    out: dict[str, pd.Series] = {}
    status: dict[str, dict[str, int]] = {}
    status_first: dict[str, int] = {}
    for i in keep_cols:
        if i in text:
            t, is_token = text.stripped(i, keep_rows), text.token(i)[keep_rows]
            shown = is_token & ~text.blank(i)[keep_rows]
            if shown.any():
                status[names[i]] = {str(k): int(v) for k, v in t[shown].value_counts().items()}
                status_first[names[i]] = int(rows[keep_rows][np.argmax(shown)])
            out[names[i]] = t.mask(is_token)
        else:
            out[names[i]] = cols[i][keep_rows].reset_index(drop=True)
    frame = pd.DataFrame(out)
    frame.index = pd.RangeIndex(len(frame))
    if status:
        warnings.extend(_status_warnings(status, status_first, name))
    return frame, rows[keep_rows], status

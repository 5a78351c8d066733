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
from rca_app.core.data.messages import input_error, quote, quote_cells
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

    def is_name(self, names: list[str]) -> dict[int, np.ndarray]:
        """Per text column, the cells that read exactly as the column's name (in one pass)."""
        if not self._pos:
            return {}
        wanted = np.repeat(np.array([names[i] for i in self._pos], dtype=object), self._n)
        same = (self._stripped.to_numpy(dtype=object) == wanted).reshape(len(self._pos), self._n)
        return {i: same[k] for i, k in self._pos.items()}

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


def _repeated_header_rows(names: list[str], keep_cols: list[int], text: _TextCells,
                          blanks: dict[int, np.ndarray], n: int) -> np.ndarray:
    """Body rows that repeat the header: every filled cell is its column's name, and at least two
    are (one for a one-column table). A second export pasted below the first brings its header
    line along, which would otherwise be a bad number and an unreadable time in every column."""
    named = [i for i in keep_cols if i in text]
    if not named or n == 0:
        return np.zeros(n, dtype=bool)
    same = {i: v for i, v in text.is_name(names).items() if i in keep_cols}
    hits = np.sum([same[i] for i in named], axis=0)
    fits = np.logical_and.reduce([same.get(i, np.zeros(n, dtype=bool)) | blanks[i] for i in keep_cols])
    return fits & (hits >= min(2, len(keep_cols)))


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
    repeated = _repeated_header_rows(names, keep_cols, text, blanks, len(body))
    if repeated.any():
        at = rows[repeated]
        shown = ", ".join(quote(names[i]) for i in keep_cols[:6]) + (", …" if len(keep_cols) > 6 else "")
        warnings.append(Problem(
            (f"row {at[0]} repeats" if len(at) == 1 else f"{len(at)} rows ({quote_cells(at)}) repeat")
            + f" the header line ({shown}): two exports pasted together? "
            + ("It is left out; the rows around it" if len(at) == 1 else "They are left out; the rows around them")
            + " are read as data",
            file=name, row=int(at[0]), severity="warning", code="repeated_header"))
        keep_rows &= ~repeated
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

"""What the Data step shows besides the table itself: where each problem points in the preview."""
from __future__ import annotations

import numpy as np

from rca_app.core.errors import Problem


def problem_cell(raw, problem: Problem) -> tuple[int | None, int | None]:
    """The preview cell a problem points at.

    Parameters
    ----------
    raw : RawTable
        The table as read.
    problem : Problem
        With the spreadsheet row number and column name, if known.

    Returns
    -------
    (int or None, int or None)
        Row index in ``raw.frame`` and column index; either may be None when the problem names no
        row or column of this table.
    """
    cols = [str(c) for c in raw.frame.columns]
    col = cols.index(problem.column) if problem.column in cols else None
    row = None
    if problem.row is not None and len(raw.source_rows):
        hits = np.flatnonzero(np.asarray(raw.source_rows) == int(problem.row))
        if len(hits):
            row = int(hits[0])
    return row, col

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


TAG_COLUMNS = ("Tag", "Rule", "Samples", "Bad quality", "Status / empty", "Interval", "Delay")


def fmt_seconds(s: float | None) -> str:
    """A duration in seconds as the plant writes it ("20 min", "2 h", "30 s"; "–" for none)."""
    if s is None or not np.isfinite(s):
        return "–"
    if s and s % 3600 == 0:
        return f"{s / 3600:g} h"
    if s >= 2 * 3600 and s % 60 == 0:
        # "22 h 30 min", never "1350 min": past two hours nobody counts in minutes.
        return f"{int(s // 3600)} h {int(s % 3600 // 60)} min"
    if s >= 60 and s % 60 == 0:
        return f"{s / 60:g} min"
    return f"{s:g} s"


def fmt_duration_text(text: str | None) -> str:
    """A duration written in the layout's words ("1350min", "2h", "30s") as people read it
    ("22 h 30 min", "2 h", "30 s"); text that is no duration is returned as it is.

    Parameters
    ----------
    text : str or None

    Returns
    -------
    str
    """
    import pandas as pd

    if not text:
        return "–"
    try:
        seconds = pd.Timedelta(str(text)).total_seconds()
    except (ValueError, TypeError):
        return str(text)
    return fmt_seconds(seconds) if seconds else "0 s"


def tag_rows(tag_reports) -> list[list[str]]:
    """How each historian tag went onto the analysis grid, one row per tag (Data step, report).

    Parameters
    ----------
    tag_reports : list of TagReport
        ``PreparedData.tag_reports`` (empty for a wide table).

    Returns
    -------
    list of list of str
        In :data:`TAG_COLUMNS` order: tag, rule, samples, bad-quality samples (with the share of
        good ones), status texts and empty cells, median sampling interval, timestamp delay.
    """
    rows = []
    for t in tag_reports:
        bad = f"{t.bad_quality:,}" + (f" ({1 - t.good_share:.1%} not good)" if t.bad_quality else "")
        # "No value" codes (-9999) are missing like status texts; counted with them.
        rows.append([t.tag, t.rule, f"{t.samples:,}", bad, f"{t.missing_values + t.no_value_samples:,}",
                     fmt_seconds(t.median_interval_s), fmt_seconds(t.delay_s) if t.delay_s else "–"])
    return rows


def analysis_columns(raw) -> list[str]:
    """The columns the layout can name: a historian long export's tags (its pivoted grid's time
    is implicit), else the table's own columns.

    Parameters
    ----------
    raw : RawTable
        The table as read.

    Returns
    -------
    list of str
    """
    from rca_app.core.historian import detect_long_format

    cols = [str(c) for c in raw.frame.columns]
    long = detect_long_format(cols)
    if long is None:
        return cols
    tags = raw.frame[long.tag].dropna().astype(str).str.strip()
    return list(dict.fromkeys(tags))

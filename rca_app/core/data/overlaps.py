"""A span of a historian export that is there twice, sample for sample.

Two exports pasted together often overlap: the second starts before the first ended, so the
file's timestamps go back (by up to the overlap) and then repeat the same samples. In file order
that looks like a local clock going back at the end of summer time, but a repeated clock hour
holds *new* samples (the plant ran on), while an overlap repeats tag, time and value exactly.
The repeats are used once and said once for the whole file, naming the rows and the span.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.errors import Problem

__all__ = ["repeated_span"]

# Share of the samples after a backward jump that must repeat earlier ones exactly for the jump
# to be an overlap rather than a clock change (a few bad-quality rows may differ in the value).
_REPEAT_SHARE = 0.95
# A backward jump followed by fewer samples is a late sample or a duplicate row, said elsewhere.
_MIN_SAMPLES = 3


def repeated_span(tags: pd.Series, times: pd.Series, values: np.ndarray, rows: np.ndarray, file: str,
                  column: str) -> tuple[np.ndarray, Problem | None]:
    """Rows that repeat an earlier span of the export exactly, and the warning that says so.

    Per tag in file order, the samples from a backward jump in time until the tag passes its
    latest earlier timestamp again are the candidates; they count as a repeated span only when
    nearly all of them (over all tags) repeat an earlier sample of their tag with the same time
    and value.

    Parameters
    ----------
    tags : Series of str
        Tag of each row.
    times : Series of datetime64
        Parsed time of each row (NaT where unreadable), without a zone.
    values : ndarray of float
        Value of each row (NaN for an empty cell or a status text).
    rows : ndarray of int
        Spreadsheet row of each row.
    file, column : str
        For the message (the file, its time column).

    Returns
    -------
    (ndarray of bool, Problem or None)
        Rows to leave out (each repeats a sample kept earlier in the file), and a warning when
        there are any.
    """
    n = len(tags)
    none = np.zeros(n, dtype=bool)
    ok = times.notna().to_numpy() & tags.notna().to_numpy()
    if not ok.any():
        return none, None
    d = pd.DataFrame({"tag": tags.to_numpy(dtype=object), "t": times.to_numpy(dtype="datetime64[ns]"),
                      "v": np.asarray(values, dtype=float)})[ok]
    tv = d["t"].to_numpy().astype(np.int64)
    if (np.diff(tv) >= 0).all():
        return none, None           # time never goes back in the file: no tag can repeat a span
    # The latest time each tag had reached before each of its rows (file order).
    latest = pd.Series(tv, index=d.index).groupby(d["tag"].to_numpy()).cummax()
    # (Kept in int64 throughout: nanoseconds since 1970 lose their last digits as floats.)
    first = np.iinfo(np.int64).min
    before = latest.groupby(d["tag"].to_numpy()).shift(1, fill_value=first).to_numpy(dtype=np.int64)
    behind = (before != first) & (tv <= before)
    jump = behind & (tv < before)
    # A stretch of a tag's rows behind its latest time, opened by a jump back.
    key = d["tag"].to_numpy()
    grp = pd.Series(~behind, index=d.index).groupby(key).cumsum().to_numpy()
    stretch = pd.Series(jump, index=d.index).groupby([key, grp]).transform("any").to_numpy() & behind
    if stretch.sum() < _MIN_SAMPLES:
        return none, None
    exact = d.duplicated(["tag", "t", "v"], keep="first").to_numpy()
    if (exact & stretch).sum() < _REPEAT_SHARE * stretch.sum():
        return none, None           # new samples under old times: a clock change, said by the pivot
    drop = none.copy()
    drop[np.flatnonzero(ok)[exact & stretch]] = True
    at = np.asarray(rows)[drop]
    span = times[drop]
    k = tags[drop].nunique()
    problem = Problem(
        f"rows {int(at.min())} to {int(at.max())} repeat {int(drop.sum())} samples of {k} tag(s) from "
        f"{span.min()} to {span.max()} exactly (same tag, time and value): the same span exported twice (two "
        "overlapping exports pasted together?), not a clock change. Each sample is used once",
        file=file, column=column, row=int(at.min()), severity="warning", code="repeated_span")
    return drop, problem

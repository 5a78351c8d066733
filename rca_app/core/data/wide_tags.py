"""``[tags.NAME]`` rules on a wide table: a lab column blank between its samples.

Lab results pasted into a process sheet, or a value recorded only when it changed, leave a
column blank between samples. In a long historian export the tag's rule puts it on the grid
(:mod:`rca_app.core.historian`); a wide table's rows are already the grid, so of the rules only
``"last"`` (the last sample held until the next, from its sample time: its stamp minus the
tag's ``delay``) has anything to do. The held column is then reported as a tag, with its
sample times, exactly as a long export's slow tag is: on time series its links are learnt on the
rows where it was sampled (:mod:`rca_app.core.lab_tags`), and a ``compressed`` tag's held values
count as data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.data.messages import quote
from rca_app.core.errors import ProblemList
from rca_app.core.historian import TagReport

__all__ = ["hold_wide_tags"]


def hold_wide_tags(layout, values: dict[str, np.ndarray], order: np.ndarray, times: pd.Series | None,
                   present: list[str], target: str, categorical: set[str], src: np.ndarray, file: str,
                   pl: ProblemList) -> list[TagReport]:
    """Apply the layout's ``[tags]`` rules to a wide table's columns, in place.

    Parameters
    ----------
    layout : Layout
        Its ``tag_rules`` and ``tag_delays``.
    values : dict of str to ndarray
        Converted values per column, in file row order (changed in place).
    order : ndarray of int
        Row positions in time order (rows without a timestamp left out).
    times : Series of datetime64 or None
        Parsed timestamps of all rows (None: no time column).
    present : list of str
        Layout columns in the file.
    target : str
        The KPI (never held: a row without a KPI value says nothing).
    categorical : set of str
    src : ndarray of int
        Spreadsheet row numbers.
    file : str
    pl : ProblemList

    Returns
    -------
    list of TagReport
        One per held column.
    """
    from rca_app.core.layout.time_keys import parse_duration

    named = [t for t in dict.fromkeys([*layout.tag_rules, *layout.tag_delays]) if t in present]
    if not named:
        return []
    if times is None:
        pl.warn(f"[tags] rules ({', '.join(quote(t) for t in named)}) need a time column: without one each row is "
                "a part, and nothing is held from one row to the next", file=layout.source, code="tag_rule_no_time")
        return []
    out = []
    stamped = times.iloc[order].to_numpy(dtype="datetime64[ns]")
    for tag in named:
        rule = layout.tag_rules.get(tag, "last")
        if tag == target or tag in categorical or rule != "last":
            why = ("the KPI is never held: a row without its value is dropped" if tag == target else
                   "it is categorical" if tag in categorical else
                   f"rule '{rule}' combines a long export's samples within a grid step; a wide table's row is "
                   "already one time")
            pl.warn(f"[tags.{tag}] is not applied to the wide table: {why}", file=layout.source, column=tag,
                    code="tag_rule_wide")
            continue
        v = values[tag][order].astype(float)
        seen = np.isfinite(v)
        if seen.sum() < 1:
            continue
        delay = parse_duration(layout.tag_delays.get(tag)) if tag in layout.tag_delays else None
        delay = delay if delay is not None and delay > pd.Timedelta(0) else pd.Timedelta(0)
        at = stamped[seen] - delay.to_timedelta64()
        # A sample taken at t holds from t until the next one (the grid's "last" rule).
        k = np.searchsorted(at, stamped, side="right") - 1
        held = np.where(k >= 0, v[seen][np.clip(k, 0, None)], np.nan)
        filled = int((~seen & np.isfinite(held)).sum())
        new = values[tag].astype(float).copy()
        new[order] = held
        values[tag] = new
        gaps = np.diff(at).astype("timedelta64[ns]").astype(np.int64) / 1e9
        out.append(TagReport(
            tag=tag, samples=int(seen.sum()), bad_quality=0, missing_values=int((~seen).sum()), good_share=1.0,
            median_interval_s=float(np.median(gaps)) if len(gaps) else None, rule="last",
            delay_s=delay.total_seconds(), good_samples=len(np.unique(at)),
            first_good=pd.Timestamp(stamped[seen][0]), first_good_row=int(src[order][seen][0]),
            sample_times=tuple(pd.DatetimeIndex(at))))
        pl.warn(f"[tags.{tag}] rule = \"last\": its {int(seen.sum())} sample(s) are held until the next one "
                f"({filled:,} blank row(s) filled"
                + (f", each valid from {delay} before its stamp" if delay > pd.Timedelta(0) else "") + ")",
                file=file, column=tag, code="tag_held")
    return out

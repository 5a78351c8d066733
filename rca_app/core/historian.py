"""Plant-historian exports in long form, pivoted onto one time grid.

Historians (PI, IP.21, Canary, GE Historian) export one row per sample: tag, timestamp, value and
often a quality or status column. Tags are sampled at different rates (a temperature every
second, a lab value twice a shift), so the analysis grid needs a rule per tag:

- ``"mean"``: mean of the good samples in each grid interval (analog signals);
- ``"last"``: the last good value at or before each grid time, held until the next (setpoints,
  digital states, lab results: a lab value is valid from its sample time until the next one);
- ``"max"`` / ``"min"``: the extreme of each interval (alarms, peaks).

The default is ``"mean"`` for a tag sampled at least once per grid interval and ``"last"`` for
a slower one. A lab value stamped when it was entered rather than when the sample was taken is
moved back by its ``delay``. Samples flagged bad by the quality column (or a status text in the
value column) are missing, never numbers; the report says how many per tag.

A grid time counts for a tag in interval ``(t - step, t]``: the value at ``t`` is what the plant
had by then, never a later sample.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rca_app.core.errors import Problem

RULES = ("mean", "last", "max", "min")

_SYNONYMS = {
    "tag": ("tag", "tagname", "tag name", "name", "point", "pointname", "sensor", "signal", "variable"),
    "time": ("timestamp", "time stamp", "time", "datetime", "date time", "date", "ts"),
    "value": ("value", "val", "reading", "measurement", "pv"),
    "quality": ("quality", "dataquality", "data quality", "status", "flag", "qualitycode", "quality code"),
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]+", " ", str(name).strip().lower())


@dataclass(frozen=True)
class LongColumns:
    """Which columns of a long export hold the tag, the timestamp, the value and the quality."""

    tag: str
    time: str
    value: str
    quality: str | None = None


def detect_long_format(columns) -> LongColumns | None:
    """The long-form columns when the header looks like a historian export, else None.

    A long export has a tag column, a time column and a value column (and at most a quality
    column and one more, such as units); a wide table has a column per sensor.

    Parameters
    ----------
    columns : iterable of str
        The file's header.

    Returns
    -------
    LongColumns or None
    """
    cols = list(columns)
    if not 3 <= len(cols) <= 6:
        return None
    found: dict[str, str] = {}
    for role, names in _SYNONYMS.items():
        keys = {_norm(n) for n in names}
        hit = next((c for c in cols if _norm(c) in keys and c not in found.values()), None)
        if hit is not None:
            found[role] = hit
    if not {"tag", "time", "value"} <= set(found):
        return None
    return LongColumns(found["tag"], found["time"], found["value"], found.get("quality"))


def _good_quality(q: pd.Series) -> np.ndarray:
    """True where a quality cell says the sample is good.

    Text: empty, "ok", "valid", or starting with "good" (GE's "Good", OPC's "GOOD_..."). Numbers:
    a column holding only 0 and 1 reads 1 as good; other numbers are OPC quality codes, good
    when both top bits of the low byte are set (192-255)."""
    if pd.api.types.is_numeric_dtype(q):
        v = q.to_numpy(dtype=float)
        finite = v[np.isfinite(v)]
        if len(finite) and set(np.unique(finite)) <= {0.0, 1.0}:
            return np.nan_to_num(v, nan=1.0) == 1.0
        codes = np.nan_to_num(v, nan=192).astype(np.int64)
        return (codes & 0xC0) == 0xC0
    text = q.astype("string").fillna("").str.strip().str.lower()
    return (text == "") | text.str.startswith("good") | text.isin(["ok", "valid", "g"])


@dataclass
class TagReport:
    """How one tag's samples went onto the grid.

    Attributes
    ----------
    tag : str
    samples : int
        Rows of the export for this tag.
    bad_quality : int
        Samples flagged bad by the quality column.
    missing_values : int
        Empty cells and status texts ("Bad Input", "Shutdown", ...).
    good_share : float
        Good samples / all samples.
    median_interval_s : float or None
        Median time between samples, in seconds.
    rule : str
        The rule that put the tag on the grid (one of :data:`RULES`).
    delay_s : float
        How far its timestamps were moved back (lab values stamped at entry).
    """

    tag: str
    samples: int
    bad_quality: int
    missing_values: int          # empty cells and status texts ("Bad Input", "Shutdown", ...)
    good_share: float            # good samples / all samples
    median_interval_s: float | None
    rule: str
    delay_s: float = 0.0


@dataclass
class HistorianPivot:
    """A long export on the analysis grid: one row per grid time, one column per tag."""

    frame: pd.DataFrame          # first column "timestamp", then one float column per tag
    step: pd.Timedelta
    tags: list[TagReport]
    problems: list[Problem] = field(default_factory=list)


def _to_timedelta(value, what: str) -> pd.Timedelta:
    try:
        td = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise ValueError(f"{what} '{value}' is not a duration (e.g. '1min', '30s', '2h')") from None
    if td <= pd.Timedelta(0):
        raise ValueError(f"{what} must be positive, not '{value}'")
    return td


def pivot_long(frame: pd.DataFrame, columns: LongColumns, file_name: str, *, sample=None,
               rules: dict[str, str] | None = None, delays: Mapping[str, object] | None = None,
               kpi: str | None = None, times: pd.Series | None = None,
               source_rows: np.ndarray | None = None) -> HistorianPivot:
    """Pivot a long historian export onto one time grid.

    Parameters
    ----------
    frame : DataFrame
        The export as read (values numeric where they parsed, NaN for empty cells and status
        texts).
    columns : LongColumns
        From :func:`detect_long_format`.
    file_name : str
        For messages.
    sample : str or Timedelta, optional
        Grid step ("1min"). Default: the KPI tag's median sampling interval, or the most common
        tag's when no KPI is named.
    rules : dict, optional
        Tag -> one of :data:`RULES`; other tags get the default rule (see the module notes).
    delays : dict, optional
        Tag -> duration by which its timestamps lag the moment the sample was taken (lab
        results stamped at entry); the samples are moved back by it.
    kpi : str, optional
        The target tag (sets the default grid and the span of the grid).
    times : Series of datetime64, optional
        Parsed timestamps of ``frame`` rows (NaT where unparseable); parsed here when absent.
    source_rows : ndarray, optional
        Spreadsheet row numbers of ``frame`` rows, for messages.

    Returns
    -------
    HistorianPivot

    Raises
    ------
    ValueError
        For a bad ``sample``, rule or delay (the message names it).
    """
    rules, delays = dict(rules or {}), dict(delays or {})
    for tag, rule in rules.items():
        if rule not in RULES:
            raise ValueError(f"rule '{rule}' for {tag} is not one of {', '.join(RULES)}")
    rows = source_rows if source_rows is not None else np.arange(len(frame)) + 2
    problems: list[Problem] = []
    t = times if times is not None else pd.to_datetime(frame[columns.time], errors="coerce")
    bad_time = t.isna().to_numpy()
    for i in np.flatnonzero(bad_time)[:20]:
        problems.append(Problem(f"timestamp '{frame[columns.time].iloc[i]}' cannot be read; the sample is left out",
                                file=file_name, column=columns.time, row=int(rows[i]), severity="warning"))
    tags = frame[columns.tag].astype("string").str.strip()
    value = pd.to_numeric(frame[columns.value], errors="coerce")
    good = _good_quality(frame[columns.quality]) if columns.quality else np.ones(len(frame), dtype=bool)
    keep = ~bad_time & tags.notna().to_numpy()
    d = pd.DataFrame({"tag": tags[keep].to_numpy(), "time": t[keep].to_numpy(),
                      "value": value[keep].to_numpy(dtype=float), "good": good[keep]})
    reports: dict[str, TagReport] = {}
    series: dict[str, pd.DataFrame] = {}
    for tag, g in d.groupby("tag", sort=False):
        g = g.sort_values("time", kind="stable")
        delay = _to_timedelta(delays[tag], f"delay of {tag}") if tag in delays else pd.Timedelta(0)
        usable = g[g["good"] & g["value"].notna()]
        gaps = usable["time"].diff().dt.total_seconds().to_numpy()[1:]
        median = float(np.median(gaps)) if len(gaps) else None
        reports[tag] = TagReport(str(tag), len(g), int((~g["good"]).sum()), int(g["value"].isna().sum()),
                                 len(usable) / len(g) if len(g) else 0.0, median, rules.get(tag, ""),
                                 delay.total_seconds())
        series[str(tag)] = usable.assign(time=usable["time"] - delay)
    if not series:
        raise ValueError(f"{file_name}: no tag has a good sample")
    for tag in delays:
        if tag not in series:
            raise ValueError(f"delay given for {tag}, which is not a tag of {file_name}")
    if kpi is not None and kpi not in series:
        problems.append(Problem(f"the KPI {kpi} is not a tag of the export", file=file_name, column=columns.tag))
        kpi = None
    if sample is not None:
        step = _to_timedelta(sample, "sample")
    else:
        ref = kpi or max(series, key=lambda k: len(series[k]))
        med = reports[ref].median_interval_s
        if med is None or med <= 0:
            raise ValueError(f"cannot tell the sampling interval of {ref}: give sample = '1min' (or similar)")
        step = pd.Timedelta(seconds=med)
    span_from = series[kpi] if kpi else d
    start, end = span_from["time"].min().ceil(step), span_from["time"].max().ceil(step)
    grid = pd.date_range(start, end, freq=step)
    out = {"timestamp": grid}
    for tag, s in series.items():
        rep = reports[tag]
        fast = rep.median_interval_s is not None and rep.median_interval_s <= step.total_seconds()
        rule = rep.rule or ("mean" if fast else "last")
        rep.rule = rule
        out[tag] = _onto_grid(s["time"], s["value"].to_numpy(float), grid, step, rule)
    wide = pd.DataFrame(out)
    return HistorianPivot(wide, step, [reports[k] for k in series], problems)


def _onto_grid(times: pd.Series, values: np.ndarray, grid: pd.DatetimeIndex, step: pd.Timedelta,
               rule: str) -> np.ndarray:
    """One tag's samples onto the grid: interval (t - step, t] for mean/max/min, last value at
    or before t for "last"."""
    tv = times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    gv = grid.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if rule == "last":
        idx = np.searchsorted(tv, gv, side="right") - 1
        last = np.full(len(gv), np.nan)
        ok = idx >= 0
        last[ok] = values[idx[ok]]
        return last
    # Bucket k holds samples with grid[k] - step < time <= grid[k].
    bucket = np.searchsorted(gv, tv, side="left")
    inside = (bucket < len(gv)) & (tv > gv[np.clip(bucket, 0, len(gv) - 1)] - step.value)
    b, v = bucket[inside], values[inside]
    out: np.ndarray
    if rule == "mean":
        sums = np.bincount(b, weights=v, minlength=len(gv))
        counts = np.bincount(b, minlength=len(gv))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    else:
        fn = np.fmax if rule == "max" else np.fmin
        init = -np.inf if rule == "max" else np.inf
        acc = np.full(len(gv), init)
        fn.at(acc, b, v)
        out = np.where(np.isfinite(acc), acc, np.nan)
    return out

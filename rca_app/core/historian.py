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

import difflib
import re
from collections.abc import Mapping, Sequence
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

    Text: empty, "ok", "valid", or starting with "good" (GE's "Good", OPC's "GOOD_..."). Numbers,
    whether the column holds numbers or numbers read as text from a CSV ("192"): a column holding
    only 0 and 1 reads 1 as good; other numbers are OPC quality codes, good when both top bits of
    the low byte are set (192-255)."""
    if pd.api.types.is_numeric_dtype(q):
        codes = q.to_numpy(dtype=float, na_value=np.nan)
        is_code = np.ones(len(q), dtype=bool)
    else:
        # A CSV is read as text, so "192" arrives as a string; cells that are whole numbers are
        # codes, the others are words.
        text = q.astype("string").str.strip()
        codes = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        is_code = np.isfinite(codes) & (codes == np.round(codes))
        codes = np.where(is_code, codes, np.nan)
    finite = codes[np.isfinite(codes)]
    if len(finite) and set(np.unique(finite)) <= {0.0, 1.0}:
        by_code = np.nan_to_num(codes, nan=1.0) == 1.0
    else:
        by_code = (np.nan_to_num(codes, nan=192).astype(np.int64) & 0xC0) == 0xC0
    if pd.api.types.is_numeric_dtype(q):
        return by_code
    words = q.astype("string").fillna("").str.strip().str.lower()
    by_word = ((words == "") | words.str.startswith("good") | words.isin(["ok", "valid", "g"])).to_numpy(dtype=bool)
    return np.where(is_code, by_code, by_word)


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
    good_samples : int
        Distinct times with a good value (repeats at one time count once).
    first_good : Timestamp or None
        When the first good sample was stamped.
    first_good_row : int or None
        Its spreadsheet row.
    sample_times : tuple of Timestamp
        A tag slower than the grid (held between samples): when each good sample was taken
        (after the ``delay``), so that its links can be learnt on the grid rows where it was
        measured (:mod:`rca_app.core.lab_tags`). Empty for a tag sampled at least once per grid
        interval, and for a compressed one.
    compressed : bool
        Stored by exception (deadband compression): its held values are data, not a lab value's
        copies (:mod:`rca_app.core.data.compressed`).
    no_value_samples : int
        Samples holding a "no value" code (-9999 far outside its values, or a value declared by
        ``[tags.NAME] missing``), read as missing.
    """

    tag: str
    samples: int
    bad_quality: int
    missing_values: int          # empty cells and status texts ("Bad Input", "Shutdown", ...)
    good_share: float            # good samples / all samples
    median_interval_s: float | None
    rule: str
    delay_s: float = 0.0
    good_samples: int = 0                   # distinct good sample times, after repeats combined
    first_good: pd.Timestamp | None = None  # the first good sample's time (as stamped) ...
    first_good_row: int | None = None       # ... and its spreadsheet row
    sample_times: tuple = ()                # a slow tag's sample times (after its delay)
    compressed: bool = False                # stored by exception: held values are data (core/data/compressed.py)
    no_value_samples: int = 0               # "no value" codes (-9999) read as missing


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


class TagSettingsError(ValueError):
    """``[tags.NAME]`` settings the export cannot honour (a rule or delay for a tag it lacks).

    Raised by :func:`pivot_long` after the whole export was pivoted without those settings, so a
    caller that reports problems can still report everything else at once.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, the settings' errors and the data's warnings.
    pivot : HistorianPivot
        The export on the grid, without the settings that could not be honoured.
    """

    def __init__(self, problems: list[Problem], pivot: HistorianPivot):
        super().__init__("; ".join(p.message for p in problems if p.severity == "error"))
        self.problems = problems
        self.pivot = pivot


def _closest_tag(name: str, tags) -> str:
    """" (did you mean 'X'?)" for a tag name; a case-only difference first (PI tags ignore case,
    a layout written by hand often does not)."""
    tags = [str(t) for t in tags]
    folded = [t for t in tags if t.casefold() == name.casefold()]
    close = folded or difflib.get_close_matches(name, tags, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def pivot_long(frame: pd.DataFrame, columns: LongColumns, file_name: str, *, sample=None,
               rules: dict[str, str] | None = None, delays: Mapping[str, object] | None = None,
               kpi: str | None = None, times: pd.Series | None = None,
               source_rows: np.ndarray | None = None, layout_file: str | None = None,
               missing: Mapping[str, Sequence[float]] | None = None) -> HistorianPivot:
    """Pivot a long historian export onto one time grid.

    Besides putting each tag on the grid, it reports what would otherwise change the data
    silently: several samples of a tag at one timestamp (and how they were combined), a local
    clock that went back an hour (end of summer time), "no value" codes such as -9999 (missing
    values, not numbers), and tag settings for tags the export does not have.

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
    layout_file : str, optional
        Where ``rules`` and ``delays`` come from, for messages (default ``file_name``).
    missing : dict, optional
        Tag -> the values that mean "no value" for it (``[tags.NAME] missing = [-9999]``); an empty
        list keeps every value a number. A tag not named gets its nines codes found by
        :func:`no_value_codes`.

    Returns
    -------
    HistorianPivot

    Raises
    ------
    TagSettingsError
        A rule or delay names a tag the export does not have (after the whole pivot, which the
        exception carries, with every problem found).
    ValueError
        For a bad ``sample``, rule or delay, or an export without a single good sample (the
        message names it).
    """
    rules, delays, missing = dict(rules or {}), dict(delays or {}), dict(missing or {})
    for tag, rule in rules.items():
        if rule not in RULES:
            raise ValueError(f"rule '{rule}' for {tag} is not one of {', '.join(RULES)}")
    rows = source_rows if source_rows is not None else np.arange(len(frame)) + 2
    problems: list[Problem] = []
    if times is None:
        # The project's own reader (ISO, dd.mm.yyyy; no silent rollover of 25:61), not pandas' guessing.
        from rca_app.core.data.times import parse_times

        times = parse_times(frame[columns.time], None).times
        if getattr(times.dt, "tz", None) is not None:
            times = times.dt.tz_localize(None)
    t = times
    bad_time = t.isna().to_numpy()
    for i in np.flatnonzero(bad_time)[:20]:
        problems.append(Problem(f"timestamp '{frame[columns.time].iloc[i]}' cannot be read; the sample is left out",
                                file=file_name, column=columns.time, row=int(rows[i]), severity="warning"))
    tags = frame[columns.tag].astype("string").str.strip()
    value = pd.to_numeric(frame[columns.value], errors="coerce")
    good = _good_quality(frame[columns.quality]) if columns.quality else np.ones(len(frame), dtype=bool)
    no_tag = (tags.isna() | (tags == "")).fillna(True).to_numpy()
    keep = ~bad_time & ~no_tag
    if (no_tag & ~bad_time).any():
        problems.append(_no_tag_problem(frame, columns, t, no_tag & ~bad_time, rows, file_name))
    # Overlapping exports pasted together: each repeated sample used once, said once (not a clock change).
    from rca_app.core.data.overlaps import repeated_span

    repeat, said = repeated_span(tags, t, value.to_numpy(float), np.asarray(rows), file_name, columns.time)
    if said is not None:
        problems.append(said)
        keep &= ~repeat
    d = pd.DataFrame({"tag": tags[keep].to_numpy(), "time": t[keep].to_numpy(),
                      "value": value[keep].to_numpy(dtype=float), "good": good[keep],
                      "row": np.asarray(rows)[keep]})
    settings_errors = _unknown_tag_settings(rules, delays, set(d["tag"]), file_name, layout_file or file_name,
                                            missing)
    fold = _clock_went_back(d)
    reports: dict[str, TagReport] = {}
    series: dict[str, pd.DataFrame] = {}
    for tag, g in d.groupby("tag", sort=False):
        g = g.sort_values("time", kind="stable")
        delay = _to_timedelta(delays[tag], f"delay of {tag}") if tag in delays else pd.Timedelta(0)
        coded = _no_value_samples(str(tag), g, missing, file_name, columns.quality is not None,
                                  layout_file or file_name, problems)
        usable = g[g["good"] & g["value"].notna() & ~coded]
        distinct = usable["time"].drop_duplicates()
        gaps = distinct.diff().dt.total_seconds().to_numpy()[1:]
        median = float(np.median(gaps)) if len(gaps) else None
        first = usable.iloc[0] if len(usable) else None
        reports[tag] = TagReport(str(tag), len(g), int((~g["good"]).sum()), int(g["value"].isna().sum()),
                                 len(usable) / len(g) if len(g) else 0.0, median, rules.get(tag, ""),
                                 delay.total_seconds(), len(distinct),
                                 None if first is None else first["time"],
                                 None if first is None else int(first["row"]), no_value_samples=int(coded.sum()))
        series[str(tag)] = usable.assign(stamped=usable["time"], time=usable["time"] - delay)
    if not keep.any() and len(frame):
        first = int(np.argmax(bad_time)) if bad_time.any() else 0
        raise ValueError(f"{file_name}: none of the {len(frame)} timestamps in '{columns.time}' can be read (first "
                         f"'{frame[columns.time].iloc[first]}' at row {int(rows[first])})")
    if not any(len(s) for s in series.values()):
        raise ValueError(_nothing_good(frame, columns, file_name))
    if kpi is not None and kpi not in series:
        mine = (tags == kpi).fillna(False).to_numpy()
        if mine.any():
            first = int(np.argmax(mine))
            message = (f"the KPI {kpi} has no sample with a readable timestamp (first "
                       f"'{frame[columns.time].iloc[first]}' at row {int(rows[first])})")
        else:
            message = f"the KPI {kpi} is not a tag of the export{_closest_tag(kpi, series)}"
        problems.append(Problem(message, file=file_name, column=columns.tag,
                                code="kpi_timestamps" if mine.any() else "kpi_not_a_tag"))
        kpi = None
    if kpi is not None and not len(series[kpi]):
        rep = reports[kpi]
        why = " and ".join(([f"{rep.bad_quality} flagged bad quality"] if rep.bad_quality else [])
                           + ([f"{rep.missing_values} empty or a status text"] if rep.missing_values else []))
        problems.append(Problem(
            f"the KPI {kpi} has no good sample: of its {rep.samples} samples {why}"
            f"{_quality_seen(frame, columns, tags, kpi)}", file=file_name, column=kpi, row=int(rows[np.argmax(
                (tags == kpi).fillna(False).to_numpy())]), code="kpi_all_bad"))
        kpi = None
    if sample is not None:
        step = _to_timedelta(sample, "sample")
    else:
        ref = kpi or max(series, key=lambda k: len(series[k]))
        med = reports[ref].median_interval_s
        if med is None or med <= 0:
            raise ValueError(f"cannot tell the sampling interval of {ref}: give sample = '1min' (or similar)")
        step = pd.Timedelta(seconds=med)
    span_from = series[kpi] if kpi else pd.concat([s for s in series.values() if len(s)])
    start, end = span_from["time"].min().ceil(step), span_from["time"].max().ceil(step)
    grid = pd.date_range(start, end, freq=step)
    out = {"timestamp": grid}
    for tag, s in series.items():
        rep = reports[tag]
        fast = rep.median_interval_s is not None and rep.median_interval_s <= step.total_seconds()
        rule = rep.rule or ("mean" if fast else "last")
        rep.rule = rule
        s = _combine_repeats(tag, s, rule, fold, file_name, columns.value, problems)
        if not fast:
            rep.sample_times = tuple(pd.DatetimeIndex(s["time"]))
        out[tag] = _onto_grid(s["time"], s["value"].to_numpy(float), grid, step, rule)
    if fold is not None:
        problems.append(_fold_problem(fold, grid, step, file_name, columns.time))
    wide = pd.DataFrame(out)
    pivot = HistorianPivot(wide, step, [reports[k] for k in series], problems)
    if settings_errors:
        raise TagSettingsError(settings_errors + problems, pivot)
    return pivot


def _no_tag_problem(frame: pd.DataFrame, columns: LongColumns, t: pd.Series, where: np.ndarray, rows: np.ndarray,
                    file_name: str) -> Problem:
    """Samples without a tag name: left out, said with how many and when (a sample belongs to no
    sensor, and dropping it silently would hide a broken export)."""
    at = np.flatnonzero(where)
    shown = ", ".join(f"{t.iloc[i]} (row {int(rows[i])})" for i in at[:5]) + (", …" if len(at) > 5 else "")
    return Problem(f"{len(at)} sample(s) have no tag name in '{columns.tag}' and are left out: {shown}",
                   file=file_name, column=columns.tag, row=int(rows[at[0]]), severity="warning", code="no_tag")


def _unknown_tag_settings(rules: dict, delays: dict, known: set, file_name: str, layout_file: str,
                          missing: Mapping | None = None) -> list[Problem]:
    """An error per ``[tags.NAME]`` naming a tag the export does not have: otherwise its rule,
    delay or missing codes would silently not apply."""
    out = []
    missing = missing or {}
    for tag in dict.fromkeys([*rules, *delays, *missing]):
        if tag in known:
            continue
        what = " and ".join(([f"rule '{rules[tag]}'"] if tag in rules else []) + (["delay"] if tag in delays else [])
                            + (["missing"] if tag in missing else []))
        out.append(Problem(f"[tags.{tag}]: {what} given for {tag}, which is not a tag of {file_name}"
                           f"{_closest_tag(tag, known)}; the setting cannot apply", file=layout_file,
                           column=tag, code="unknown_tag"))
    return out


def _nothing_good(frame: pd.DataFrame, columns: LongColumns, file_name: str) -> str:
    """Why an export has no usable sample: the quality values it holds, or its empty values."""
    n = len(frame)
    if columns.quality:
        seen = frame[columns.quality].astype("string").fillna("(empty)").str.strip().value_counts()
        shown = ", ".join(f"'{k}' ×{v}" for k, v in seen.head(5).items())
        return (f"{file_name}: no tag has a good sample: all {n} samples are flagged bad by column "
                f"'{columns.quality}' (its values: {shown}) or have no number in '{columns.value}'. Good "
                "is 'Good', 'OK', an OPC code 192-255, or 1 in a column of 0 and 1")
    return f"{file_name}: no tag has a good sample: none of the {n} values in '{columns.value}' is a number"


def _quality_seen(frame: pd.DataFrame, columns: LongColumns, tags: pd.Series, tag: str) -> str:
    if not columns.quality:
        return ""
    mine = (tags == tag).fillna(False).to_numpy()
    seen = frame.loc[mine, columns.quality].astype("string").fillna("(empty)").str.strip().value_counts()
    return " (quality values: " + ", ".join(f"'{k}' ×{v}" for k, v in seen.head(4).items()) + ")"


@dataclass(frozen=True)
class _Fold:
    """A local clock that went back (end of summer time): ``before`` is followed by ``after``."""

    before: pd.Timestamp
    after: pd.Timestamp
    row: int
    tags: tuple[str, ...]


_HOUR = pd.Timedelta(hours=1)


def _clock_went_back(d: pd.DataFrame) -> _Fold | None:
    """Tags whose timestamps, in file order, go back by up to an hour once and then run on.

    A historian writes samples in true time order; written as local clock times without an
    offset, the hour after the clock went back repeats the hour before, so its timestamps jump
    back by an hour less one sample interval. Sorting would interleave the two hours silently."""
    found: list[tuple[pd.Timestamp, pd.Timestamp, int, str]] = []
    for tag, g in d.groupby("tag", sort=False):
        tv = g["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        if len(tv) < 3:
            continue
        step = np.diff(tv)
        back = np.flatnonzero(step < 0)
        forward = step[step > 0]
        if len(back) != 1 or not len(forward):
            continue
        interval = float(np.median(forward))
        if interval > _HOUR.value / 4:
            continue    # a slow tag (lab values) going back once is a late entry as likely as a clock
        k = int(back[0])
        jump = -float(step[k])
        if _HOUR.value - 2 * interval - 1 <= jump <= _HOUR.value:
            found.append((pd.Timestamp(tv[k]), pd.Timestamp(tv[k + 1]), int(g["row"].iloc[k + 1]), str(tag)))
    if not found:
        return None
    return _Fold(max(f[0] for f in found), min(f[1] for f in found), min(f[2] for f in found),
                 tuple(f[3] for f in found))


def _minutes(td: pd.Timedelta) -> str:
    s = td.total_seconds()
    return f"{s / 60:g} min" if s >= 60 else f"{s:g} s"


def _fold_problem(fold: _Fold, grid: pd.DatetimeIndex, step: pd.Timedelta, file_name: str, column: str) -> Problem:
    # Grid rows whose interval (t - step, t] meets the repeated hour hold samples of both hours.
    mixed = int(((grid >= fold.after) & (grid - step < fold.before)).sum())
    more = f" and {len(fold.tags) - 5} more" if len(fold.tags) > 5 else ""
    names = ", ".join(f"'{t}'" for t in fold.tags[:5]) + more
    return Problem(
        f"the timestamps go back by {_minutes(fold.before - fold.after)} at row {fold.row} "
        f"({fold.before} is followed by "
        f"{fold.after}) for {len(fold.tags)} tag(s) ({names}): local clock times without a UTC offset, at the end of "
        f"summer time? The hour from {fold.after} to {fold.before} then holds two hours of samples, combined onto the "
        f"same {mixed} grid rows, so those rows mix two hours of the plant and the series runs an hour short. Export "
        "in UTC or with the offset (e.g. 2026-10-25T02:30:00+01:00)",
        file=file_name, column=column, row=fold.row, severity="warning", code="clock_back")


_COMBINED = {"mean": "the samples at one time were averaged", "last": "the last of them in the file was used",
             "max": "the largest was used", "min": "the smallest was used"}


def _combine_repeats(tag: str, s: pd.DataFrame, rule: str, fold: _Fold | None, file_name: str, column: str,
                     problems: list[Problem]) -> pd.DataFrame:
    """One sample per timestamp: exact repeats counted once, different values combined by the
    tag's rule, and both said (outside a repeated summer-time hour, which has its own message)."""
    exact = s.duplicated(["time", "value"], keep="first").to_numpy()
    once = s[~exact]
    clash = once["time"].duplicated(keep=False).to_numpy()
    if not exact.any() and not clash.any():
        return s
    stamped = s["stamped"]
    in_fold = ((stamped >= fold.after) & (stamped <= fold.before)).to_numpy() if fold and tag in fold.tags \
        else np.zeros(len(s), dtype=bool)
    repeats = int((exact & ~in_fold).sum())
    conflicts = once[clash & ~in_fold[~exact]]
    parts = []
    if len(conflicts):
        first_t = conflicts["time"].iloc[0]
        at_first = conflicts[conflicts["time"] == first_t]
        shown = ", ".join(f"{v:g} at row {r}" for v, r in zip(at_first["value"], at_first["row"], strict=True))
        k = conflicts["time"].nunique()
        parts.append(f"{k} duplicate timestamp(s) with different values, first {at_first['stamped'].iloc[0]} ({shown})"
                     + (f", last {conflicts['stamped'].iloc[-1]}" if k > 1 else "") + f"; {_COMBINED[rule]}.")
    if repeats:
        first = s[exact & ~in_fold].iloc[0]
        parts.append(f"{repeats} sample(s) repeat an earlier one exactly (same time and value; first at row "
                     f"{int(first['row'])}, {first['stamped']}) and were counted once.")
    twice = conflicts["stamped"]    # exact repeats are a copied export, not a repeated clock hour
    if twice.nunique() >= 3 and twice.max() - twice.min() <= _HOUR:
        parts.append("All are within one hour: local clock times that repeated an hour at the end of summer "
                     "time? Export in UTC or with the UTC offset.")
    if parts:
        row = int(conflicts["row"].iloc[0]) if len(conflicts) else int(s[exact & ~in_fold]["row"].iloc[0])
        problems.append(Problem(f"tag '{tag}': " + " ".join(parts), file=file_name, column=column, row=row,
                                severity="warning", code="duplicate_samples"))
    how = {"mean": "mean", "last": "last", "max": "max", "min": "min"}[rule]
    return once.groupby("time", sort=True, as_index=False).agg(
        value=("value", how), row=("row", "first"), stamped=("stamped", "first"))


def _is_nines(v: float) -> bool:
    """-9999, 9999, -99999, -999 ...: the 'no value' codes historians and loggers write."""
    return v == int(v) and abs(v) >= 999 and set(str(int(abs(v)))) == {"9"}


# How far from the other values' median a nines value must lie, in robust standard deviations
# (1.4826 median absolute deviations), to be read as a code. A reading 8 robust sd out is
# implausible on any plant signal, and the code must also lie outside every other value, so a
# genuine 999 or 9999 among the tag's usual values stays a number.
FAR_ROBUST_SD = 8.0


@dataclass(frozen=True)
class NoValueCode:
    """A value of nines repeated far outside a tag's (or column's) other values.

    Attributes
    ----------
    value : float
        The code (-9999).
    count : int
        How often it occurs.
    median, low, high : float
        The other values' median and range, for the message.
    """

    value: float
    count: int
    median: float
    low: float
    high: float

    def others_text(self) -> str:
        """The other values, as the message gives them."""
        return f"median {self.median:.4g}, {self.low:.4g} to {self.high:.4g}"


def no_value_codes(values: np.ndarray) -> list[NoValueCode]:
    """Values that look like a 'no value' code rather than a reading.

    A code is a value of nines (-9999, 9999, -99999, -999, ...) repeated exactly at least twice,
    outside the range of the other values and more than :data:`FAR_ROBUST_SD` robust standard
    deviations (1.4826 times the median absolute deviation) from their median. Judged on the
    median and MAD, one other outlier neither hides a code nor makes a reading one; a speed that
    really reads 9999 among 5000-9500 is left alone.

    Parameters
    ----------
    values : ndarray of float
        One tag's or column's values (NaN ignored).

    Returns
    -------
    list of NoValueCode
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 3:
        return []
    uniq, counts = np.unique(v, return_counts=True)
    codes = [(float(u), int(c)) for u, c in zip(uniq, counts, strict=True) if c >= 2 and _is_nines(float(u))]
    if not codes:
        return []
    others = v[~np.isin(v, [u for u, _ in codes])]
    if len(others) < 2:
        return []
    med = float(np.median(others))
    scale = 1.4826 * float(np.median(np.abs(others - med)))
    if scale <= 0:
        # Mostly one value (a valve shut, a state tag): the spread of the rest, else a sliver of
        # the level itself, so that a code next to a constant still stands out.
        scale = float(np.std(others)) or max(abs(med) * 1e-3, 1e-9)
    lo, hi = float(others.min()), float(others.max())
    return [NoValueCode(u, c, med, lo, hi) for u, c in codes
            if (u < lo or u > hi) and abs(u - med) > FAR_ROBUST_SD * scale]


def override_text(tag: str, code: float) -> str:
    """How the engineer keeps a code as a number, or declares the codes of a tag."""
    return (f"if {code:g} is a real reading of {tag}, write missing = [] under [tags.{tag}] in the layout (or "
            f"missing = [{code:g}, ...] to name its codes yourself)")


def _no_value_problem(tag: str, code: NoValueCode, s: pd.DataFrame, file_name: str, has_quality: bool) -> Problem:
    first = s[s["value"] == code.value].iloc[0]
    flag = "" if has_quality else " (the export has no quality column to flag them)"
    return Problem(
        f"tag '{tag}': {code.count} samples are exactly {code.value:g} (first at {first['time']}, row "
        f"{int(first['row'])}), far outside its other values ({code.others_text()}): a 'no value' code of the "
        f"historian{flag}, so they are missing values, not numbers; {override_text(tag, code.value)}",
        file=file_name, column=tag, row=int(first["row"]), severity="warning", code="no_value_code")


def _declared_missing_problem(tag: str, hits: pd.DataFrame, codes: tuple, file_name: str,
                              layout_file: str) -> Problem:
    shown = ", ".join(f"{c:g}" for c in codes)
    return Problem(
        f"tag '{tag}': {len(hits)} samples are a value that [tags.{tag}] missing = [{shown}] in {layout_file} "
        f"declares missing (first {hits['value'].iloc[0]:g} at {hits['time'].iloc[0]}, row {int(hits['row'].iloc[0])})"
        "; they are missing values, not numbers", file=file_name, column=tag, row=int(hits["row"].iloc[0]),
        severity="warning", code="declared_missing")


def _no_value_samples(tag: str, g: pd.DataFrame, missing: Mapping[str, Sequence[float]], file_name: str,
                      has_quality: bool, layout_file: str, problems: list[Problem]) -> np.ndarray:
    """Which of a tag's good samples hold a "no value" code, each code said once.

    Without a quality column nothing else flags them, and one -9999 among yields of 90 would
    set the reference mean; so they are missing values, as a Bad sample is. A tag whose codes
    the layout declares (``missing = [...]``, possibly empty) is read by that list alone."""
    ok = (g["good"] & g["value"].notna()).to_numpy()
    values = g["value"].to_numpy(dtype=float)
    if tag in missing:
        declared = tuple(float(c) for c in missing[tag])
        coded = ok & np.isin(values, declared)
        if coded.any():
            problems.append(_declared_missing_problem(tag, g[coded], declared, file_name, layout_file))
        return coded
    found = no_value_codes(values[ok])
    coded = ok & np.isin(values, [c.value for c in found])
    for code in found:
        problems.append(_no_value_problem(tag, code, g[ok], file_name, has_quality))
    return coded


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

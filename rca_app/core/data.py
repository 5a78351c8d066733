"""Reading the engineer's sensor table and checking it against the plant layout.

Two steps, so the GUI can show the raw table before any layout exists:

1. :func:`load_table` reads a CSV, Excel (.xlsx/.xlsm) or Parquet file into a
   :class:`RawTable`. Nothing is interpreted yet beyond what reading needs: text cells stay
   text (so later checks can quote a bad cell exactly as the engineer typed it), historian
   status strings ("Bad Input", "I/O Timeout", "#N/A", ...) become missing values.
2. :func:`prepare` checks the raw table against a :class:`~rca_app.core.layout.Layout` and
   returns :class:`PlantData`: one numeric or categorical column per layout node, rows in
   time order, gaps handled. Every problem is collected; one :class:`RcaInputError` carries
   all errors, warnings ride along in ``PlantData.problems``.

Row numbers
    Every message uses the row number a person sees in a spreadsheet: the header line is
    row 1 and the first data row is row 2. Blank lines in a CSV count as rows (a spreadsheet
    shows them), and in Excel the real sheet row is used, so title lines above the header
    shift the numbers exactly as in Excel. Parquet has no header line; the same convention
    is kept (first record = row 2). ``RawTable.source_rows`` / ``PlantData.source_rows``
    map every kept row back to that number.

Gap policy (``prepare(..., gaps=...)``)
    Rows whose target value is missing are always dropped (a row says nothing about yield
    without it) and counted. Missing sensor values then follow the policy:

    - ``"drop"`` (default): drop every row with a missing value in any layout sensor.
    - ``"impute"``: numeric sensors are interpolated linearly along time (along row order
      when there is no time column) and the edges take the nearest observed value;
      categorical sensors take the previous value, then the next one at the start.

    Either way the counts per column are reported as a warning. The target is never imputed.

Minimum rows
    A causal model needs enough rows per variable: at least ``max(MIN_ROWS,
    MIN_ROWS_PER_SENSOR * number of sensors)`` rows (see :func:`min_rows_needed`), for the
    whole table here and for a reference window elsewhere.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import decimal as _decimal
import difflib
import hashlib
import io
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from rca_app.core.errors import Problem, ProblemList, RcaInputError
from rca_app.core.layout import Layout

__all__ = [
    "MIN_ROWS",
    "MIN_ROWS_PER_SENSOR",
    "MAX_CATEGORY_LEVELS",
    "MISSING_TOKENS",
    "GAP_POLICIES",
    "ColumnSummary",
    "RawTable",
    "PlantData",
    "load_table",
    "prepare",
    "rows_for_window",
    "min_rows_needed",
]

# ---------------------------------------------------------------------------------------
# Rules (documented constants, the README quotes them)

#: Absolute minimum of (reference) rows for an analysis.
MIN_ROWS = 30
#: Rows needed per sensor (non-target node); the rule is max(MIN_ROWS, 5 * sensors).
MIN_ROWS_PER_SENSOR = 5
#: A categorical sensor with more levels than this (or more than half the rows) is suspicious.
MAX_CATEGORY_LEVELS = 50

#: Cell texts read as "no value" (compared case-insensitively after trimming spaces).
#: Historian digital states (OSIsoft PI and similar), spreadsheet error codes and the usual
#: placeholders. A real category level with one of these names would be lost: rename it.
MISSING_TOKENS = frozenset(
    t.lower()
    for t in (
        "", "-", "--", "null", "none", "nan", "n/a", "#n/a", "na",
        "Bad Input", "Bad", "I/O Timeout", "Shutdown", "No Data", "Comm Fail",
        "Scan Off", "Scan Timeout", "Pt Created", "Calc Failed", "Out of Serv",
        "Intf Shut", "Equip Fail", "Not Connect", "No Sample", "Over Range", "Under Range",
        "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
    )
)

GAP_POLICIES = ("drop", "impute")

CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
PARQUET_EXTENSIONS = (".parquet", ".pq")

# How many offending cells a message quotes before saying "..." (enough to spot a pattern).
_QUOTE_CELLS = 3
# Summary: a text column counts as numeric / time when this share of its cells parses.
_GUESS_SHARE = 0.9

TIME_FORMATS_HINT = (
    "use ISO 8601 (2024-03-01 14:30 or 2024-03-01T14:30:00+01:00), "
    "dd.mm.yyyy HH:MM, dd/mm/yyyy or mm/dd/yyyy HH:MM"
)


# ---------------------------------------------------------------------------------------
# Data classes


@dataclass
class ColumnSummary:
    """One line of the raw-table overview the GUI shows before a layout exists."""

    name: str
    kind: str                 # "numeric", "categorical", "time", "text" or "empty" (a guess)
    missing: int
    missing_pct: float
    n_unique: int
    min: Any = None
    max: Any = None
    status_values: int = 0    # historian status strings counted among the missing
    non_numeric: int = 0      # cells that spoil an otherwise numeric column

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RawTable:
    """A table as read from disk, before any layout is applied.

    ``frame`` columns are float64 (numbers), datetime64 (Excel/Parquet timestamps), bool, or
    ``str`` holding the cell text trimmed of spaces. Missing values (empty cells and the
    status strings in :data:`MISSING_TOKENS`) are NaN. The index is 0..n-1;
    ``source_rows[i]`` is the spreadsheet row number of ``frame`` row ``i``.
    """

    frame: pd.DataFrame
    path: Path
    file_name: str
    sha256: str
    size_bytes: int
    sheet: str | None = None
    sep: str | None = None
    decimal: str = "."
    encoding: str | None = None
    problems: list[Problem] = field(default_factory=list)
    source_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    header_row: int = 1
    # column -> {status text as written: count}; plain empty cells are not listed.
    status_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    _summary_cache: list[ColumnSummary] | None = field(default=None, init=False, repr=False,
                                                       compare=False)

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def summary(self) -> list[ColumnSummary]:
        """Per-column overview: kind guess, missing count and %, min, max, distinct values."""
        if self._summary_cache is None:
            self._summary_cache = [self._summarize(c) for c in self.frame.columns]
        return self._summary_cache

    def _summarize(self, name: str) -> ColumnSummary:
        s = self.frame[name]
        n = len(s)
        missing = int(s.isna().sum())
        present = n - missing
        status = sum(self.status_counts.get(name, {}).values())
        info = dict(
            name=name, missing=missing, status_values=status,
            missing_pct=round(100.0 * missing / n, 2) if n else 0.0,
            n_unique=int(s.nunique(dropna=True)),
        )
        if present == 0:
            return ColumnSummary(kind="empty", **info)
        if ptypes.is_bool_dtype(s.dtype):
            return ColumnSummary(kind="categorical", **info)
        if ptypes.is_numeric_dtype(s.dtype):
            v = s.to_numpy(dtype=float, na_value=np.nan)
            return ColumnSummary(kind="numeric", min=float(np.nanmin(v)), max=float(np.nanmax(v)), **info)
        if ptypes.is_datetime64_any_dtype(s.dtype):
            return ColumnSummary(kind="time", min=s.min(), max=s.max(), **info)
        values, bad = _parse_numbers(s, self.decimal)
        n_bad = int(bad.sum())
        if n_bad <= (1 - _GUESS_SHARE) * present and n_bad < present:
            return ColumnSummary(
                kind="numeric", min=float(np.nanmin(values)), max=float(np.nanmax(values)),
                non_numeric=n_bad, **info,
            )
        sample = s.dropna().head(500)
        if _parse_times(sample, None).times.notna().sum() >= _GUESS_SHARE * len(sample):
            times = _parse_times(s, None).times
            return ColumnSummary(kind="time", min=times.min(), max=times.max(), **info)
        nu = info["n_unique"]
        kind = "categorical" if nu <= MAX_CATEGORY_LEVELS and nu <= max(2, present // 2) else "text"
        return ColumnSummary(kind=kind, non_numeric=n_bad, **info)


@dataclass
class PlantData:
    """The analysis-ready table: layout nodes only, in station order, rows in time order.

    ``frame`` holds float64 numeric sensors, ``category`` categorical sensors (string
    categories), and the target; its index is 0..n-1. ``time`` is aligned with ``frame``
    (UTC-aware when the file carried time zones) or None. ``source_rows[i]`` is the
    spreadsheet row number of ``frame`` row ``i`` in the original file.
    """

    frame: pd.DataFrame
    time: pd.Series | None
    source_rows: np.ndarray
    raw: RawTable
    layout: Layout
    problems: list[Problem] = field(default_factory=list)
    dropped_rows: dict[str, int] = field(default_factory=dict)   # reason -> rows
    imputed_cells: dict[str, int] = field(default_factory=dict)  # column -> cells
    numeric_nodes: list[str] = field(default_factory=list)
    categorical_nodes: list[str] = field(default_factory=list)
    missing_counts: dict[str, int] = field(default_factory=dict)  # per column, before gaps
    gaps: str = "drop"
    dayfirst: bool | None = None   # the date order used (asked for or decided from the data)
    rows_read: int = 0

    @property
    def file_name(self) -> str:
        return self.raw.file_name

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped_rows.values())

    @property
    def time_column(self) -> str | None:
        return self.layout.time_column if self.time is not None else None

    def row_number(self, i: int) -> int:
        """Spreadsheet row number of ``frame`` row ``i`` (for messages)."""
        return int(self.source_rows[i])

    def summary_text(self) -> str:
        """Plain summary for ``rca-app validate``: rows, time span, stations, gaps, problems."""
        raw = self.raw
        lines = []
        where = f"sheet '{raw.sheet}', " if raw.sheet else ""
        lines.append(
            f"File: {raw.file_name} ({where}{raw.size_bytes:,} bytes, sha256 {raw.sha256[:12]})"
        )
        drop_txt = ""
        if self.dropped_rows:
            parts = [f"{n:,} {_DROP_REASONS.get(k, k)}" for k, n in self.dropped_rows.items() if n]
            if parts:
                drop_txt = " (dropped: " + ", ".join(parts) + ")"
        lines.append(f"Rows: {self.n_rows:,} used of {self.rows_read:,} read{drop_txt}")
        if self.time is not None and len(self.time):
            tz = ", UTC" if getattr(self.time.dt, "tz", None) is not None else ""
            lines.append(
                f"Time: {self.time.iloc[0]} to {self.time.iloc[-1]} "
                f"(column '{self.layout.time_column}'{tz})"
            )
        else:
            lines.append("Time: no time column; rows kept in file order")
        lines.append(f"Target: {self.layout.target} ({self.layout.goal})")
        lines.append("Stations (in process order):")
        present = set(self.frame.columns)
        for k, st in enumerate(self.layout.stations, 1):
            names = [n for n in _station_nodes(st) if n in present and n != self.layout.target]
            # ``exogenous`` is True for the whole station or a list of its sensors.
            ex = st.exogenous
            ex_set = set() if isinstance(ex, bool) else set(ex or ())
            shown = []
            for n in names:
                tags = [t for t, on in (("categorical", n in self.categorical_nodes),
                                        ("exogenous", n in ex_set)) if on]
                shown.append(f"{n} ({', '.join(tags)})" if tags else n)
            extra = " [exogenous]" if ex is True else ""
            lines.append(f"  {k}. {st.name}{extra}: {len(names)} sensor(s): " + ", ".join(shown))
        lines.append("Missing values per column (before gap handling):")
        miss = [(c, n) for c, n in self.missing_counts.items() if n]
        if miss:
            for c, n in miss:
                pct = 100.0 * n / self.rows_read if self.rows_read else 0.0
                lines.append(f"  {c}: {n:,} ({pct:.1f}%)")
        else:
            lines.append("  none")
        if self.imputed_cells:
            lines.append(f"Imputed cells (gaps='{self.gaps}'):")
            for c, n in self.imputed_cells.items():
                lines.append(f"  {c}: {n:,}")
        lines.append("Problems:")
        if self.problems:
            for p in self.problems:
                lines.append(f"  {p.severity}: {p}")
        else:
            lines.append("  none")
        return "\n".join(lines)


_DROP_REASONS = {
    "missing_time": "without timestamp",
    "missing_target": "without target value",
    "missing_sensor": "with sensor gaps",
}


def min_rows_needed(n_sensors: int) -> int:
    """Rows needed for ``n_sensors`` sensors: max(MIN_ROWS, MIN_ROWS_PER_SENSOR * n)."""
    return max(MIN_ROWS, MIN_ROWS_PER_SENSOR * int(n_sensors))


# ---------------------------------------------------------------------------------------
# Small helpers


def _err(message: str, file: str | None, **where) -> RcaInputError:
    return RcaInputError(Problem(message, file=file, **where))


def _quote(value: Any, limit: int = 40) -> str:
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "'" + text.replace("\n", "\\n").replace("\r", "\\r") + "'"


def _quote_cells(rows: np.ndarray, values: list | None = None, k: int = _QUOTE_CELLS) -> str:
    """'row 17: '12,5x', row 40: 'abc'' (or 'row 17, row 40' without values)."""
    parts = []
    for j, r in enumerate(rows[:k]):
        parts.append(f"row {int(r)}: {_quote(values[j])}" if values is not None else f"row {int(r)}")
    more = ", …" if len(rows) > k else ""
    return ", ".join(parts) + more


def _suggest(name: str, candidates: list[str]) -> str:
    """'; did you mean 'x'?' or, failing a close name, the columns there are."""
    cands = [str(c) for c in candidates]
    same_case = [c for c in cands if c.strip().lower() == name.strip().lower() and c != name]
    close = same_case + [c for c in difflib.get_close_matches(name, cands, n=3, cutoff=0.6)
                         if c not in same_case]
    if close:
        return "; did you mean " + " or ".join(_quote(c) for c in close[:3]) + "?"
    if not cands:
        return ""
    shown = ", ".join(_quote(c) for c in cands[:12])
    more = f" and {len(cands) - 12} more" if len(cands) > 12 else ""
    return f"; the file's columns are {shown}{more}"


def _fmt_number(v: float) -> str:
    """Number as a category label: 3.0 -> '3', 0.5 -> '0.5' (shortest round-trip text)."""
    if np.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _cell_text(v: Any) -> str | None:
    """Excel/Parquet cell value as text, for columns that mix text with other values."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else _fmt_number(float(v))
    if isinstance(v, _dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if v is pd.NaT or v is pd.NA:
        return None
    return str(v)


def _station_nodes(station) -> list[str]:
    # Categorical sensors are normally listed in ``sensors`` too; accept them either way.
    return list(station.sensors) + [c for c in station.categorical if c not in station.sensors]


# ---------------------------------------------------------------------------------------
# Numbers

_SPACE_GROUP = "[ \u00a0\u202f']"   # 1 234,5 / 1'234.5 (Swiss) grouping


def _number_pattern(decimal: str) -> str:
    group = re.escape("," if decimal == "." else ".")
    dec = re.escape(decimal)
    intpart = rf"(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]{{1,3}}(?:{_SPACE_GROUP}[0-9]{{3}})+|[0-9]+)"
    return rf"[+-]?(?:{intpart}(?:{dec}[0-9]*)?|{dec}[0-9]+)(?:[eE][+-]?[0-9]+)?"


_NUMBER_RE = {d: _number_pattern(d) for d in ".,"}
_INF_RE = r"[+-]?(?:inf|infinity)"


def _parse_numbers(s: pd.Series, decimal: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Parse text cells as numbers. Returns (float values, bad mask over present cells).

    Only whole-cell numbers count: '12,5x' is bad, not 12.5. Thousands grouping is accepted
    only in its proper form (1,234,567.8 or 1.234.567,8 or 1 234,5), so a lone '12,5' in a
    decimal-point file is reported instead of silently becoming 125.
    """
    decimal = decimal or "."
    n = len(s)
    values = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    if ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=float, na_value=np.nan), bad
    present = s.notna().to_numpy()
    if not present.any():
        return values, bad
    t = s[present].astype("str").str.strip()
    # Fast path: pandas' C parser for plain numbers; the regex below only sees the rest.
    parsed = np.full(len(t), np.nan)
    if decimal == ".":
        plain = np.ones(len(t), dtype=bool)
        cand = t
    else:
        plain = ~t.str.contains(".", regex=False).to_numpy(dtype=bool)
        cand = t[plain].str.replace(",", ".", regex=False)
    parsed[plain] = pd.to_numeric(cand, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    slow = np.isnan(parsed)
    if slow.any():
        u = t[slow]
        ok = u.str.fullmatch(_NUMBER_RE[decimal]).to_numpy(dtype=bool)
        is_inf = u.str.fullmatch(_INF_RE, case=False).to_numpy(dtype=bool)
        norm = u[ok].str.replace(_SPACE_GROUP, "", regex=True)
        if decimal == ".":
            norm = norm.str.replace(",", "", regex=False)
        else:
            norm = norm.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        sub = np.full(len(u), np.nan)
        sub[ok] = pd.to_numeric(norm, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        sub[is_inf] = np.where(u[is_inf].str.startswith("-").to_numpy(dtype=bool), -np.inf, np.inf)
        parsed[slow] = sub
    values[present] = parsed
    # Whatever is still NaN was present but is no number (the regex uses ASCII digits only,
    # so '١٢' or '𝟙' are reported rather than silently lost).
    bad[present] = np.isnan(parsed)
    return values, bad


def _detect_decimal(columns: list[pd.Series], sep: str | None) -> tuple[str, bool]:
    """Guess the decimal mark from numeric-looking text cells.

    Returns (mark, only_ambiguous_evidence). Cells with both marks ('1.234,5'), repeated
    grouping ('1.234.567') or a mark not followed by exactly three digits ('12,5') are
    decisive. '1,234' / '1.234' could be a decimal or a thousands group, so they only break
    ties, and then only in a semicolon (European) file for the comma.
    """
    strong = {",": 0, ".": 0}
    weak = {",": 0, ".": 0}
    for s in columns:
        v = s.dropna().head(2000).astype("str")
        if v.empty:
            continue
        v = v[v.str.fullmatch(r"[+-]?[0-9.,]*[0-9](?:[eE][+-]?[0-9]+)?")]
        if v.empty:
            continue
        has_c = v.str.contains(",", regex=False)
        has_p = v.str.contains(".", regex=False)
        both = v[has_c & has_p]
        # With both marks the last one is the decimal mark.
        last_c = both.str.rfind(",") > both.str.rfind(".")
        strong[","] += int(last_c.sum())
        strong["."] += int((~last_c).sum())
        for mark, only in ((",", v[has_c & ~has_p]), (".", v[has_p & ~has_c])):
            if only.empty:
                continue
            esc = re.escape(mark)
            repeated = only.str.count(esc) > 1
            other = "." if mark == "," else ","
            strong[other] += int(repeated.sum())   # 1.234.567 -> dot groups -> comma decimal
            single = only[~repeated]
            grouped_like = single.str.fullmatch(rf"[+-]?[0-9]{{1,3}}{esc}[0-9]{{3}}")
            weak[mark] += int(grouped_like.sum())
            strong[mark] += int((~grouped_like).sum())
    if strong[","] != strong["."]:
        return ("," if strong[","] > strong["."] else "."), False
    if weak[","] and sep == ";" and weak[","] >= weak["."]:
        return ",", True
    return ".", bool(weak[","] or weak["."])


# ---------------------------------------------------------------------------------------
# Timestamps

_TS_PATTERN = r"""
^(?:
    (?P<Y>[0-9]{4})(?P<s1>[-/.])(?P<Mo>[0-9]{1,2})(?P=s1)(?P<D>[0-9]{1,2})
  | (?P<A>[0-9]{1,2})(?P<s2>[-/.])(?P<B>[0-9]{1,2})(?P=s2)(?P<Y2>[0-9]{4})
)
(?:(?:T|\s+)(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<sec>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,9}))?)?
   \s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?
\s*(?P<tz>[Zz]|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?$
"""
_TS_RE = re.compile(_TS_PATTERN, re.X)


@dataclass
class _TimeParse:
    times: pd.Series                 # datetime64 (UTC-aware if the text carried zones)
    bad: np.ndarray                  # present but unreadable
    dayfirst: bool | None            # order used for slash/dash dates (None: not needed)
    ambiguous: np.ndarray            # slash dates no cell could decide
    conflict: tuple[int, int] | None  # (a day-first position, a month-first position)
    naive_among_aware: np.ndarray    # rows without a zone in a column that has zones
    converted_to_utc: bool = False


def _parse_times(s: pd.Series, dayfirst: bool | None) -> _TimeParse:
    """Read timestamps with a fixed, documented set of forms (see TIME_FORMATS_HINT).

    Dotted dates (dd.mm.yyyy) are always day-first. Slash/dash dates with the year last
    follow ``dayfirst``; when it is None a cell with a first field > 12 (day-first) or a
    second field > 12 (month-first) decides. Year-first dates are always year-month-day.
    """
    n = len(s)
    none = np.zeros(n, dtype=bool)
    if ptypes.is_datetime64_any_dtype(s.dtype):
        times = s.reset_index(drop=True)
        conv = False
        if getattr(times.dt, "tz", None) is not None:
            times, conv = times.dt.tz_convert("UTC"), True
        return _TimeParse(times, none, dayfirst, none, None, none, conv)

    text = pd.Series([_cell_text(v) for v in s] if s.dtype == object else s, index=range(n))
    present = text.notna().to_numpy()
    # A plain loop with a compiled pattern is ~3x faster than Series.str.extract here.
    empty = (None,) * _TS_RE.groups
    found = []
    for v in text.tolist():
        hit = _TS_RE.fullmatch(v.strip()) if isinstance(v, str) else None
        found.append(hit.groups() if hit else empty)
    m = pd.DataFrame(found, columns=list(_TS_RE.groupindex), dtype=object)
    ymd = m["Y"].notna().to_numpy()
    xyz = m["A"].notna().to_numpy()
    matched = ymd | xyz

    def num(col: str, default: int = 0) -> np.ndarray:
        return pd.to_numeric(m[col], errors="coerce").fillna(default).to_numpy(dtype=np.int64)

    a, b = num("A"), num("B")
    dotted = xyz & (m["s2"] == ".").to_numpy()
    slash = xyz & ~dotted
    says_day = slash & (a > 12) & (b <= 12)
    says_month = slash & (b > 12) & (a <= 12)
    undecided = slash & (a <= 12) & (b <= 12) & (a != b)
    conflict = None
    ambiguous = none
    used = dayfirst
    if dayfirst is None:
        if says_day.any() and says_month.any():
            conflict = (int(np.argmax(says_day)), int(np.argmax(says_month)))
        elif says_day.any():
            used = True
        elif says_month.any():
            used = False
        elif undecided.any():
            ambiguous = undecided
    first_is_day = dotted | (slash & (used if used is not None else True))
    day = np.where(ymd, num("D", 1), np.where(first_is_day, a, b))
    month = np.where(ymd, num("Mo", 1), np.where(first_is_day, b, a))
    year = np.where(ymd, num("Y", 2000), num("Y2", 2000))
    hour = num("h")
    ampm = m["ampm"].fillna("").str.lower().str[0].to_numpy(dtype=object)
    pm, am = ampm == "p", ampm == "a"
    hour_ok = ~((pm | am) & ((hour > 12) | (hour == 0)))
    hour = np.where(am & (hour == 12), 0, np.where(pm & (hour < 12), hour + 12, hour))
    parts = pd.DataFrame({
        "year": np.where(matched, year, 2000), "month": np.where(matched, month, 1),
        "day": np.where(matched, day, 1), "hour": np.where(matched, hour, 0),
        "minute": np.where(matched, num("mi"), 0), "second": np.where(matched, num("sec"), 0),
    })
    times = pd.to_datetime(parts, errors="coerce")
    frac = m["frac"].fillna("").str.ljust(9, "0").str[:9]
    ns = pd.to_numeric(frac.where(frac != "", "0"), errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    if ns.any():
        # Microseconds: nanosecond arithmetic would overflow for dates past 2262.
        times = times + pd.to_timedelta(ns // 1000, unit="us").as_unit("us")
    # A date past pandas' range ('9999-...') or an impossible one ('31.02.') ends up NaT.
    times = times.where(pd.Series(matched & hour_ok), pd.NaT)

    tz = m["tz"].to_numpy(dtype=object)
    aware = matched & pd.notna(tz)
    naive_among = none
    converted = False
    if aware.any():
        naive_among = matched & ~aware
        tzs = pd.Series(tz).fillna("").astype(str)
        sign = np.where(tzs.str.startswith("-"), -1, 1)
        digits = tzs.str.replace(r"[^0-9]", "", regex=True)
        hh = pd.to_numeric(digits.str[:2], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
        mm = pd.to_numeric(digits.str[2:4], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
        offset = pd.to_timedelta(sign * (hh * 60 + mm), unit="min").as_unit("us")
        times = (times - offset).dt.tz_localize("UTC")
        converted = True
    bad = present & times.isna().to_numpy()
    return _TimeParse(times, bad, used, ambiguous, conflict, naive_among, converted)


# ---------------------------------------------------------------------------------------
# Reading


def load_table(
    path: str | Path,
    sheet: str | int | None = None,
    sep: str | None = None,
    decimal: str | None = None,
) -> RawTable:
    """Read a CSV, Excel (.xlsx/.xlsm) or Parquet file into a :class:`RawTable`.

    CSV: the separator (``,`` ``;`` tab ``|``) is sniffed and the decimal mark detected
    unless given; UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252/Latin-1
    with a warning. Excel: the first sheet unless ``sheet`` names one (or gives its 0-based
    index); the header is the first row with at least two filled cells, title lines above
    it are skipped. Any read failure raises :class:`RcaInputError` naming the file.
    """
    p = Path(path)
    name = p.name or str(path)
    if decimal not in (None, ".", ","):
        raise _err(f"decimal mark must be '.' or ',', not {decimal!r}", name)
    if sep is not None and (len(sep) != 1 or sep in "\"\r\n"):
        raise _err(f"separator must be one character such as ',' or ';', not {sep!r}", name)
    if not p.exists():
        raise _err(f"file not found: {p}", name)
    if p.is_dir():
        raise _err(f"{p} is a folder, not a data file", name)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise _err(f"cannot read the file: {e.strerror or e}", name) from None
    if not data.strip():
        raise _err("the file is empty", name)

    ext = p.suffix.lower()
    meta: dict[str, Any] = {"sheet": None, "sep": None, "decimal": decimal, "encoding": None}
    warnings: list[Problem] = []
    if ext in CSV_EXTENSIONS:
        header, body, rows, header_row = _read_csv(data, name, sep, meta, warnings)
    elif ext in EXCEL_EXTENSIONS:
        header, body, rows, header_row = _read_excel(data, name, sheet, meta, warnings)
    elif ext in PARQUET_EXTENSIONS:
        header, body, rows, header_row = _read_parquet(data, name, warnings)
    elif ext == ".xls":
        raise _err("old Excel .xls files are not supported; save it as .xlsx or .csv", name)
    else:
        raise _err(
            f"unsupported file type {ext or '(no extension)'!r}; use .csv, .xlsx/.xlsm or .parquet",
            name,
        )

    frame, rows, status = _finish(header, body, rows, header_row, name, warnings)
    text_cols = [frame[c] for c in frame.columns if ptypes.is_string_dtype(frame[c].dtype)]
    if meta["decimal"] is None:
        mark, unsure = _detect_decimal(text_cols, meta["sep"])
        meta["decimal"] = mark
        if unsure:
            what = "decimal comma" if mark == "," else "decimal point"
            warnings.append(Problem(
                f"numbers such as '1,234' or '1.234' could be decimals or thousands; read as "
                f"{what}. Pass decimal='.' or ',' (--decimal) if that is wrong.",
                file=name, severity="warning", code="decimal_guess",
            ))
    # Numbers as column names usually mean the file has no header line.
    header_values = _parse_numbers(pd.Series(list(frame.columns), dtype="str"), meta["decimal"])[0]
    if len(frame.columns) > 1 and not np.isnan(header_values).any():
        warnings.append(Problem(
            "the first row holds numbers, not column names; the file needs a header row",
            file=name, row=header_row, severity="warning", code="no_header",
        ))
    return RawTable(
        frame=frame, path=p, file_name=name, sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data), sheet=meta["sheet"], sep=meta["sep"], decimal=meta["decimal"],
        encoding=meta["encoding"], problems=warnings, source_rows=rows, header_row=header_row,
        status_counts=status,
    )


def _decode(data: bytes, name: str, warnings: list[Problem]) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _err("the file starts like UTF-16 text but cannot be decoded", name) from None
    if data.startswith(b"PK\x03\x04"):
        raise _err("this is a zip/Excel file, not CSV text; save it with a .xlsx extension", name)
    if b"\x00" in data[:65536]:
        raise _err("the file contains binary data (NUL bytes), not CSV text", name)
    try:
        enc = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        return data.decode("utf-8-sig"), enc
    except UnicodeDecodeError as e:
        offset = e.start
    for enc in ("cp1252", "latin-1"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        warnings.append(Problem(
            f"the file is not valid UTF-8 (first bad byte at offset {offset}); read it as "
            f"{enc}. Check that names with °, µ or umlauts look right.",
            file=name, severity="warning", code="encoding",
        ))
        return text, enc
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _sniff_sep(lines: list[str]) -> str:
    """Pick the separator that splits the first lines into the most, consistent fields."""
    best, best_score = ",", None
    for rank, cand in enumerate((";", "\t", ",", "|")):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=cand) if r]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = (consistent, counts[0], -rank)
        if best_score is None or score > best_score:
            best, best_score = cand, score
    return best


def _read_csv(data: bytes, name: str, sep: str | None, meta: dict, warnings: list[Problem]):
    text, enc = _decode(data, name, warnings)
    meta["encoding"] = enc
    # Leading blank lines would make pandas expect a one-field table; skip but count them.
    stripped = text.lstrip("\r\n")
    lead = text[: len(text) - len(stripped)]
    lead_rows = lead.count("\n") + lead.replace("\r\n", "").count("\r")
    text = stripped
    if not text.strip():
        raise _err("the file is empty", name)
    if sep is None:
        head = text[:65536].splitlines()
        if len(text) > 65536 and len(head) > 1:
            head = head[:-1]   # the last line may be cut short
        sep = _sniff_sep(head[:50])
    meta["sep"] = sep
    opts = dict(sep=sep, header=None, dtype=str, na_filter=False, skip_blank_lines=False,
                engine="c", quotechar='"')
    try:
        grid = pd.read_csv(io.StringIO(text), **opts)
    except pd.errors.ParserError as e:
        m = re.search(r"EOF inside string starting at row (\d+)", str(e))
        if m:   # pandas counts records from 0; the spreadsheet row is one more
            row = lead_rows + int(m.group(1)) + 1
            raise _err(f'a quote (") opened on row {row} is never closed', name, row=row,
                       code="unclosed_quote") from None
        grid = _reread_ragged(text, sep, name, lead_rows, opts, e)
    except Exception as e:  # noqa: BLE001 - any reader failure is a bad file for the user
        raise _err(f"could not read the file as CSV: {e}", name) from None
    if grid.empty:
        raise _err("the file is empty", name)
    header = [None if pd.isna(v) else v for v in grid.iloc[0].tolist()]
    body = grid.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    header_row = lead_rows + 1
    rows = header_row + 1 + np.arange(len(body), dtype=np.int64)
    return header, body, rows, header_row


def _reread_ragged(text: str, sep: str, name: str, lead_rows: int, opts: dict, first_error):
    """A row has more fields than the header. Trailing empty fields are harmless (some
    exports end every data line with a separator); anything else is reported by row."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as e:
        raise _err(f"could not read the file as CSV: {e}", name) from None
    if not records:
        raise _err(f"could not read the file as CSV: {first_error}", name)
    width = len(records[0])
    long_rows = [(i, r) for i, r in enumerate(records) if len(r) > width]
    real = [(i, r) for i, r in long_rows if any(c.strip() for c in r[width:])]
    if real:
        rows = np.array([lead_rows + 1 + i for i, _ in real])
        first_i, first_r = real[0]
        raise RcaInputError(Problem(
            f"{len(real)} row(s) have more fields than the header's {width} columns "
            f"(row {rows[0]} has {len(first_r)}): {_quote_cells(rows)}. "
            f"Check the separator ({sep!r}) and quoting.",
            file=name, row=int(rows[0]), code="ragged",
        ))
    widest = max(len(r) for r in records)
    try:
        return pd.read_csv(io.StringIO(text), names=list(range(widest)), **opts)
    except Exception:  # noqa: BLE001
        raise _err(f"could not read the file as CSV: {first_error}", name) from None


def _read_excel(data: bytes, name: str, sheet, meta: dict, warnings: list[Problem]):
    try:
        import openpyxl
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001
        raise _err(f"could not open the Excel workbook: {type(e).__name__}: {e}", name) from None
    try:
        names = list(wb.sheetnames)
        ws = _pick_sheet(wb, names, sheet, name)
        meta["sheet"] = ws.title
        try:
            raw_rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
        except Exception as e:  # noqa: BLE001
            raise _err(f"could not read sheet '{ws.title}': {type(e).__name__}: {e}", name) from None
    finally:
        wb.close()

    def filled(r: list) -> int:
        return sum(1 for v in r if v is not None and not (isinstance(v, str) and not v.strip()))

    header_i = next((i for i, r in enumerate(raw_rows[:50]) if filled(r) >= 2), None)
    if header_i is None:
        header_i = next((i for i, r in enumerate(raw_rows) if filled(r) >= 1), None)
    if header_i is None:
        raise _err(f"sheet '{ws.title}' is empty", name)
    skipped = [i + 1 for i in range(header_i) if filled(raw_rows[i])]
    if skipped:
        warnings.append(Problem(
            f"sheet '{ws.title}': the header is on row {header_i + 1}; "
            f"title rows above it were skipped",
            file=name, row=header_i + 1, severity="warning", code="header_offset",
        ))
    width = max(len(r) for r in raw_rows[header_i:])
    pad = [r + [None] * (width - len(r)) for r in raw_rows[header_i:]]
    header = pad[0]
    body = pd.DataFrame(pad[1:], columns=range(width), dtype=object)
    rows = header_i + 2 + np.arange(len(body), dtype=np.int64)
    return header, body, rows, header_i + 1


def _pick_sheet(wb, names: list[str], sheet, name: str):
    listing = ", ".join(_quote(n) for n in names)
    if sheet is None:
        if not wb.worksheets:
            raise _err("the workbook has no worksheet", name)
        return wb.worksheets[0]
    if isinstance(sheet, str) and sheet in names:
        ws = wb[sheet]
        if not hasattr(ws, "iter_rows"):
            raise _err(f"sheet '{sheet}' is a chart, not a table", name)
        return ws
    if isinstance(sheet, str) and sheet.strip().isdigit():
        sheet = int(sheet.strip())
    if isinstance(sheet, (int, np.integer)) and not isinstance(sheet, bool):
        if 0 <= sheet < len(wb.worksheets):
            return wb.worksheets[sheet]
        raise _err(
            f"sheet index {sheet} is out of range (0..{len(wb.worksheets) - 1}); "
            f"the sheets are {listing}", name,
        )
    close = difflib.get_close_matches(str(sheet), names, n=1, cutoff=0.6)
    hint = f" (did you mean {_quote(close[0])}?)" if close else ""
    raise _err(f"no sheet named {_quote(sheet)}{hint}; the sheets are {listing}", name)


def _read_parquet(data: bytes, name: str, warnings: list[Problem]):
    try:
        import pyarrow.parquet as pq
        table = pq.read_table(io.BytesIO(data))
        header = list(table.column_names)
        cols = {i: table.column(i).to_pandas() for i in range(table.num_columns)}
    except Exception as e:  # noqa: BLE001
        raise _err(f"could not read the Parquet file: {type(e).__name__}: {e}", name) from None
    if not header:
        raise _err("the Parquet file has no columns", name)
    body = pd.DataFrame(cols)
    body.columns = range(len(header))
    rows = 2 + np.arange(len(body), dtype=np.int64)
    return header, body, rows, 1


def _normalize_column(s: pd.Series) -> pd.Series:
    """Give every column one of: float64, bool, datetime64, str (text)."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        s, dt = s.astype(object), np.dtype(object)
    if ptypes.is_bool_dtype(dt) and dt != object:
        return s if not s.isna().any() else s.astype("boolean")
    if ptypes.is_numeric_dtype(dt) and dt != object:
        return pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index)
    if ptypes.is_datetime64_any_dtype(dt):
        return s
    if ptypes.is_string_dtype(dt) and dt != object:
        return s.astype("str")
    values = s.tolist()
    kinds = set()
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
            continue
        if isinstance(v, str):
            kinds.add("str" if v.strip() else "blank")
        elif isinstance(v, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(v, (int, float, np.integer, np.floating, _decimal.Decimal)):
            kinds.add("num")
        elif isinstance(v, _dt.datetime):
            kinds.add("datetime")
        else:
            kinds.add("other")
    kinds.discard("blank")
    blank = [v is None or (isinstance(v, str) and not v.strip()) for v in values]
    if kinds == {"num"}:
        return pd.Series([np.nan if b else float(v) for v, b in zip(values, blank)],
                         index=s.index, dtype=float)
    if kinds == {"datetime"}:
        try:
            return pd.Series(pd.to_datetime([None if b else v for v, b in zip(values, blank)]),
                             index=s.index)
        except (ValueError, TypeError, OverflowError):
            pass  # mixed zones or out of range: fall back to text, the time check reports it
    return pd.Series([_cell_text(v) for v in values], index=s.index, dtype="str")


def _finish(header: list, body: pd.DataFrame, rows: np.ndarray, header_row: int,
            name: str, warnings: list[Problem]):
    """Name columns, drop blank rows, turn status strings into missing values."""
    names = []
    for v in header:
        t = _cell_text(v)
        names.append("" if t is None else t.strip())
    cols = {i: _normalize_column(body[i]) for i in range(len(names))}

    def blank_mask(s: pd.Series) -> np.ndarray:
        m = s.isna().to_numpy()
        if ptypes.is_string_dtype(s.dtype):
            m = m | (s.fillna("").str.strip() == "").to_numpy(dtype=bool)
        return m

    blanks = {i: blank_mask(c) for i, c in cols.items()}
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
        raise _err("the header row has no column names", name, row=header_row)
    all_blank = np.logical_and.reduce([blanks[i] for i in keep_cols]) if len(body) else np.zeros(0, bool)
    keep_rows = ~all_blank
    if not keep_rows.any():
        raise _err("the file has a header row but no data rows", name, row=header_row)

    out: dict[str, pd.Series] = {}
    status: dict[str, dict[str, int]] = {}
    status_first: dict[str, int] = {}
    for i in keep_cols:
        s = cols[i][keep_rows].reset_index(drop=True)
        if ptypes.is_string_dtype(s.dtype):
            t = s.str.strip()
            is_token = t.str.lower().isin(MISSING_TOKENS).to_numpy(dtype=bool)
            shown = is_token & (t.fillna("") != "").to_numpy(dtype=bool)
            if shown.any():
                status[names[i]] = {str(k): int(v) for k, v in t[shown].value_counts().items()}
                status_first[names[i]] = int(rows[keep_rows][np.argmax(shown)])
            s = t.mask(is_token)
        out[names[i]] = s
    frame = pd.DataFrame(out)
    frame.index = pd.RangeIndex(len(frame))
    kept = rows[keep_rows]

    if status:
        items = list(status.items())
        if len(items) <= 10:
            for col, counts in items:
                total = sum(counts.values())
                detail = ", ".join(f"{_quote(k)} ×{v}" for k, v in
                                   sorted(counts.items(), key=lambda kv: -kv[1])[:4])
                warnings.append(Problem(
                    f"{total} historian status value(s) read as missing ({detail}), "
                    f"first at row {status_first[col]}",
                    file=name, column=col, row=status_first[col], severity="warning",
                    code="status_values",
                ))
        else:
            detail = ", ".join(f"'{c}': {sum(v.values())}" for c, v in items[:15])
            more = ", …" if len(items) > 15 else ""
            warnings.append(Problem(
                f"historian status values read as missing in {len(items)} columns ({detail}{more})",
                file=name, severity="warning", code="status_values",
            ))
    return frame, kept, status


# ---------------------------------------------------------------------------------------
# Checking against the layout


def prepare(raw: RawTable, layout: Layout, *, dayfirst: bool | None = None,
            gaps: str = "drop") -> PlantData:
    """Check ``raw`` against ``layout`` and build the analysis table.

    All problems are collected first; if any is an error one :class:`RcaInputError` carries
    them all. ``dayfirst`` settles dates like 03/04/2024 (None: decide from a cell such as
    13/04/2024, else ask). ``gaps`` is the missing-value policy:

    - rows with a missing target value are always dropped and counted;
    - ``"drop"``: rows with any missing sensor value are dropped;
    - ``"impute"``: numeric sensors are linearly interpolated along time (row order when
      there is no time column), edges take the nearest value; categorical sensors take the
      previous value, then the next.

    Rows are sorted by time (stable) when the layout names a time column, else kept in file
    order. Messages give spreadsheet row numbers (header = row 1).
    """
    file = raw.file_name
    pl = ProblemList()
    frame = raw.frame
    columns = [str(c) for c in frame.columns]
    colset = set(columns)
    src_all = np.asarray(raw.source_rows, dtype=np.int64)
    if len(src_all) != len(frame):   # a RawTable built by hand: assume a plain header + rows
        src_all = 2 + np.arange(len(frame), dtype=np.int64)
    n = len(frame)

    if gaps not in GAP_POLICIES:
        pl.add(f"unknown gap policy {gaps!r}; use 'drop' or 'impute'", code="gap_policy")

    # --- which columns the layout wants ------------------------------------------------
    target = layout.target
    time_col = layout.time_column or None
    nodes: list[str] = []
    station_of: dict[str, str] = {}
    categorical: set[str] = set()
    for st in layout.stations:
        categorical.update(st.categorical)
        for node in _station_nodes(st):
            if node not in station_of and node != time_col:
                nodes.append(node)
                station_of[node] = st.name
    if target not in station_of:
        nodes.append(target)
    if target not in colset:
        pl.add(f"target column '{target}' is not in the data{_suggest(target, columns)}",
               file=file, column=target, code="missing_target")
    for node in nodes:
        if node != target and node not in colset:
            pl.add(
                f"sensor '{node}' (station '{station_of[node]}' in {layout.source}) is not in "
                f"the data{_suggest(node, columns)}",
                file=file, column=node, code="missing_column",
            )
    if time_col and time_col not in colset:
        pl.add(f"time column '{time_col}' (from {layout.source}) is not in the data"
               f"{_suggest(time_col, columns)}", file=file, column=time_col, code="missing_time_column")
    used = set(nodes) | ({time_col} if time_col else set())
    unused = [c for c in columns if c not in used]
    if unused:
        shown = ", ".join(_quote(c) for c in unused[:20]) + (", …" if len(unused) > 20 else "")
        pl.warn(f"{len(unused)} column(s) are in no station of {layout.source} and are left "
                f"out: {shown}", file=file, code="unused_columns")
    present = [c for c in nodes if c in colset]

    # --- convert each column ---------------------------------------------------------
    values: dict[str, np.ndarray] = {}
    bad_cols: set[str] = set()
    for col in present:
        s = frame[col]
        if col in categorical:
            values[col] = _category_values(s)
            continue
        arr = _numeric_values(s, col, col == target, station_of.get(col), layout, raw, src_all, pl)
        if arr is None:
            bad_cols.add(col)
            arr = np.full(n, np.nan)
        values[col] = arr

    def isna(col: str) -> np.ndarray:
        v = values[col]
        return np.isnan(v) if v.dtype.kind == "f" else pd.isna(v)

    missing_counts = {c: int(isna(c).sum()) for c in present}
    for col in present:
        if col not in bad_cols and n and missing_counts[col] == n:
            counts = raw.status_counts.get(col)
            why = ""
            if counts:
                why = " (" + ", ".join(f"{_quote(k)} ×{v}" for k, v in list(counts.items())[:4]) + ")"
            pl.add(f"column is empty: all {n} values are missing{why}", file=file, column=col,
                   code="all_missing")
            bad_cols.add(col)

    # --- time ------------------------------------------------------------------------
    order = np.arange(n)
    times_all: pd.Series | None = None
    used_dayfirst = dayfirst
    dropped: dict[str, int] = {}
    if time_col and time_col in colset:
        times_all, used_dayfirst, time_ok = _check_time(frame[time_col], time_col, dayfirst,
                                                       file, src_all, pl)
        if time_ok and n and times_all.isna().all():
            pl.add(f"time column is empty: none of the {n} rows has a timestamp", file=file,
                   column=time_col, code="bad_time")
            time_ok = False
        if time_ok:
            no_time = times_all.isna().to_numpy()
            if no_time.any():
                dropped["missing_time"] = int(no_time.sum())
                pl.warn(f"{int(no_time.sum())} row(s) have no timestamp and were dropped: "
                        f"{_quote_cells(src_all[no_time])}", file=file, column=time_col,
                        row=int(src_all[no_time][0]), code="missing_time")
            order = order[~no_time]
            tnum = _time_numbers(times_all)[order]
            perm = np.argsort(tnum, kind="stable")
            if (np.diff(tnum) < 0).any():
                first = int(src_all[order][int(np.argmax(np.diff(tnum) < 0)) + 1])
                pl.warn(f"rows were not in time order (first out of order: row {first}); "
                        f"sorted by '{time_col}'", file=file, column=time_col, row=first,
                        code="unsorted")
            order = order[perm]
            dup = pd.Series(tnum[perm]).duplicated(keep="first").to_numpy()
            if dup.any():
                rows_dup = src_all[order][dup]
                first_ts = times_all.iloc[int(order[dup][0])]
                pl.warn(f"{int(dup.sum())} row(s) repeat an earlier timestamp, first "
                        f"{first_ts} at {_quote_cells(rows_dup)}", file=file, column=time_col,
                        row=int(rows_dup[0]), code="duplicate_time")
        else:
            times_all = None

    # --- missing target, then the gap policy ------------------------------------------
    good_cols = [c for c in present if c not in bad_cols]
    keep = np.ones(len(order), dtype=bool)
    if target in good_cols:
        tmiss = isna(target)[order]
        if tmiss.any():
            dropped["missing_target"] = int(tmiss.sum())
            rws = src_all[order][tmiss]
            pl.warn(f"{int(tmiss.sum())} row(s) have no target value and were dropped: "
                    f"{_quote_cells(rws)}", file=file, column=target, row=int(rws[0]),
                    code="missing_target_rows")
        keep &= ~tmiss
    sensors = [c for c in good_cols if c != target]
    imputed: dict[str, int] = {}
    if gaps == "drop":
        gap_rows = np.zeros(len(order), dtype=bool)
        per_col = {}
        for c in sensors:
            m = isna(c)[order] & keep
            if m.any():
                per_col[c] = int(m.sum())
                gap_rows |= m
        if gap_rows.any():
            dropped["missing_sensor"] = int(gap_rows.sum())
            detail = ", ".join(f"'{c}': {k}" for c, k in per_col.items())
            pl.warn(f"gaps='drop': {int(gap_rows.sum())} row(s) with missing sensor values "
                    f"were dropped (missing per column: {detail})", file=file, code="gaps_dropped")
        keep &= ~gap_rows
    final = order[keep]
    out_values: dict[str, np.ndarray] = {c: values[c][final] for c in present}
    if gaps == "impute" and len(final):
        x = (_time_numbers(times_all)[final].astype(float) if times_all is not None
             else np.arange(len(final), dtype=float))
        for c in sensors:
            v = out_values[c]
            miss = pd.isna(v) if v.dtype == object else np.isnan(v)
            if not miss.any() or miss.all():
                continue
            if c in categorical:
                out_values[c] = pd.Series(v, dtype=object).ffill().bfill().to_numpy(dtype=object)
            else:
                v = v.copy()
                v[miss] = np.interp(x[miss], x[~miss], v[~miss])
                out_values[c] = v
            imputed[c] = int(miss.sum())
        if imputed:
            detail = ", ".join(f"'{c}': {k}" for c, k in imputed.items())
            pl.warn(f"gaps='impute': filled {sum(imputed.values())} missing sensor value(s) "
                    f"({detail})", file=file, code="gaps_imputed")
    # --- checks on what is left ---------------------------------------------------------
    n_final = len(final)
    n_sensors = len([c for c in nodes if c != target])
    # n_final can only shrink once other errors are fixed, so this check never misleads.
    need = min_rows_needed(n_sensors)
    if n_final < need:
        hint = ""
        if dropped:
            hint = " after dropping rows (" + ", ".join(
                f"{v} {_DROP_REASONS.get(k, k)}" for k, v in dropped.items()) + ")"
            worst = max(sensors, key=lambda c: missing_counts.get(c, 0), default=None)
            if gaps == "drop" and worst and missing_counts.get(worst, 0):
                hint += (f"; '{worst}' alone misses {missing_counts[worst]} values: "
                         f"consider gaps='impute' or leaving it out of the layout")
        pl.add(f"only {n_final} usable row(s){hint}; {n_sensors} sensor(s) need at least "
               f"{need} rows (max({MIN_ROWS}, {MIN_ROWS_PER_SENSOR} per sensor))",
               file=file, code="too_few_rows")
    for c in good_cols:
        v = out_values[c]
        if n_final and pd.isna(v).all():
            # Only possible with gaps='impute': the column's values sit in dropped rows.
            pl.add(f"no value is left in the {n_final} rows used (its values are all in rows "
                   f"dropped for a missing target or timestamp)", file=file, column=c,
                   code="all_missing")
            continue
        if c in categorical:
            levels = pd.unique(v[~pd.isna(v)])
            if n_final and len(levels) == 1:
                pl.add(f"categorical column has a single level ({_quote(levels[0])}) in all "
                       f"{n_final} rows; it cannot explain anything, leave it out of the layout",
                       file=file, column=c, code="constant")
            elif len(levels) > MAX_CATEGORY_LEVELS or (n_final and len(levels) > n_final / 2):
                pl.warn(f"categorical column has {len(levels)} levels for {n_final} rows; is it "
                        f"an ID or a measurement rather than a category?", file=file, column=c,
                        code="many_levels")
        else:
            fin = v[np.isfinite(v)]
            if len(fin) and np.all(fin == fin[0]):
                what = "target" if c == target else "column"
                pl.add(f"{what} is constant (every value is {_fmt_number(fin[0])} in the "
                       f"{n_final} rows used); it cannot explain a change, leave it out of the "
                       f"layout or widen the data", file=file, column=c, code="constant")

    pl.raise_if_errors()

    # --- build the result -------------------------------------------------------------
    cols: dict[str, Any] = {}
    numeric_nodes, categorical_nodes = [], []
    for c in present:
        v = out_values[c]
        if c in categorical:
            cols[c] = _as_category(v)
            categorical_nodes.append(c)
        else:
            cols[c] = v.astype(np.float64)
            numeric_nodes.append(c)
    out = pd.DataFrame(cols, index=pd.RangeIndex(n_final))
    time = None
    if times_all is not None:
        time = times_all.iloc[final].reset_index(drop=True)
        time.name = time_col
    return PlantData(
        frame=out, time=time, source_rows=src_all[final], raw=raw, layout=layout,
        problems=list(raw.problems) + pl.warnings, dropped_rows=dropped,
        imputed_cells=imputed, numeric_nodes=numeric_nodes,
        categorical_nodes=categorical_nodes, missing_counts=missing_counts, gaps=gaps,
        dayfirst=used_dayfirst, rows_read=n,
    )


def _numeric_values(s: pd.Series, col: str, is_target: bool, station: str | None,
                    layout: Layout, raw: RawTable, src: np.ndarray,
                    pl: ProblemList) -> np.ndarray | None:
    """Float values of a numeric node, or None after recording why it cannot be one."""
    file = raw.file_name
    if ptypes.is_datetime64_any_dtype(s.dtype):
        pl.add("column holds timestamps, not numbers; is it the time column?", file=file,
               column=col, code="non_numeric")
        return None
    vals, bad = _parse_numbers(s, raw.decimal)
    if bad.any():
        present = int(s.notna().sum())
        rows = src[bad]
        texts = s[bad].astype(str).tolist()
        dec = raw.decimal or "."
        other = "," if dec == "." else "."
        _, alt_bad = _parse_numbers(s[bad], other)
        if (~alt_bad).sum() * 2 >= len(texts):
            # Numbers, just written with the other decimal mark: say that, not "text".
            pl.add(f"{int(bad.sum())} value(s) are not numbers with the file's decimal mark "
                   f"{dec!r} (first at {_quote_cells(rows, texts)}); they look like numbers "
                   f"written with {other!r}. Write all numbers the same way, or load the file "
                   f"with decimal={other!r} (--decimal)", file=file, column=col,
                   row=int(rows[0]), code="non_numeric")
        elif bad.sum() > present / 2:
            if is_target:
                fix = "the target must be a number (the yield KPI)"
            else:
                fix = (f"if it is a categorical sensor, add it to 'categorical' of station "
                       f"'{station}' in {layout.source}")
            examples = ", ".join(_quote(v) for v in pd.unique(pd.Series(texts))[:_QUOTE_CELLS])
            pl.add(f"column holds text, not numbers (e.g. {examples}, first at row "
                   f"{int(rows[0])}); {fix}", file=file, column=col, row=int(rows[0]),
                   code="text_column")
        else:
            pl.add(f"{int(bad.sum())} non-numeric value(s), first at "
                   f"{_quote_cells(rows, texts)}", file=file, column=col, row=int(rows[0]),
                   code="non_numeric")
        return None
    inf = np.isinf(vals)
    if inf.any():
        rows = src[inf]
        pl.add(f"{int(inf.sum())} infinite value(s) at {_quote_cells(rows)}; replace them "
               f"with a number or leave the cell empty", file=file, column=col,
               row=int(rows[0]), code="infinite")
        return None
    return vals


def _category_values(s: pd.Series) -> np.ndarray:
    """Labels of a categorical sensor as an object array of str (None for missing)."""
    if ptypes.is_bool_dtype(s.dtype) or ptypes.is_datetime64_any_dtype(s.dtype):
        return np.array([None if pd.isna(v) else str(v) for v in s], dtype=object)
    if ptypes.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        return np.array([None if np.isnan(x) else _fmt_number(x) for x in v], dtype=object)
    return np.array([None if pd.isna(v) else str(v) for v in s], dtype=object)


def _as_category(v: np.ndarray) -> pd.Categorical:
    levels = [x for x in pd.unique(v) if x is not None and not (isinstance(x, float) and np.isnan(x))]

    def key(x: str):
        try:   # integer-like levels sort as numbers: 2 before 10
            return (0, float(x), x)
        except ValueError:
            return (1, 0.0, x)

    levels = sorted(levels, key=key)
    return pd.Categorical(v, categories=pd.Index(levels, dtype="str"))


def _time_numbers(times: pd.Series) -> np.ndarray:
    """Sortable integers for timestamps (UTC for zoned ones); NaT becomes the minimum."""
    t = times
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    # Native unit (not forced to ns, which overflows past 2262): only the order matters.
    return t.to_numpy().astype(np.int64)


def _check_time(s: pd.Series, col: str, dayfirst: bool | None, file: str, src: np.ndarray,
                pl: ProblemList) -> tuple[pd.Series, bool | None, bool]:
    """Parse the time column, record its problems; returns (times, dayfirst used, ok)."""
    if ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype):
        pl.add(f"time column holds numbers, not timestamps; {TIME_FORMATS_HINT}", file=file,
               column=col, code="bad_time")
        return pd.Series(pd.NaT, index=range(len(s))), dayfirst, False
    tp = _parse_times(s, dayfirst)
    ok = True
    text = s.astype(object).tolist()
    if tp.conflict is not None:
        i, j = tp.conflict
        pl.add(f"dates mix day-first (row {src[i]}: {_quote(text[i])}) and month-first "
               f"(row {src[j]}: {_quote(text[j])}) order; use one form for the whole column",
               file=file, column=col, row=int(src[i]), code="time_order_conflict")
        ok = False
    elif tp.ambiguous.any():
        i = int(np.argmax(tp.ambiguous))
        pl.add(f"dates such as {_quote(text[i])} (row {src[i]}) can be read day-first or "
               f"month-first and no cell settles it; pass --dayfirst or --monthfirst "
               f"(dayfirst=True/False)", file=file, column=col, row=int(src[i]),
               code="time_ambiguous")
        ok = False
    if tp.bad.any():
        rows = src[tp.bad]
        vals = [text[k] for k in np.flatnonzero(tp.bad)[:_QUOTE_CELLS]]
        pl.add(f"{int(tp.bad.sum())} timestamp(s) could not be read, first at "
               f"{_quote_cells(rows, vals)}; {TIME_FORMATS_HINT}", file=file, column=col,
               row=int(rows[0]), code="bad_time")
        ok = False
    if tp.naive_among_aware.any():
        rows = src[tp.naive_among_aware]
        pl.add(f"some timestamps carry a time zone and {int(tp.naive_among_aware.sum())} do "
               f"not, first at {_quote_cells(rows)}; give every timestamp a zone or none",
               file=file, column=col, row=int(rows[0]), code="time_zone_mix")
        ok = False
    if ok and tp.converted_to_utc:
        pl.warn("timestamps carry time zones; all were converted to UTC", file=file,
                column=col, code="time_utc")
    return tp.times, tp.dayfirst, ok


# ---------------------------------------------------------------------------------------
# Windows


def rows_for_window(data: PlantData, start, end) -> slice:
    """Rows of ``data.frame`` in a window, as a slice (rows are in time order).

    With a time column START and END are timestamps (text read with the same rules as the
    data, or datetime objects): start inclusive, end exclusive. Without one they are 0-based
    row positions, END exclusive. None leaves that side open. Raises RcaInputError when the
    window is malformed, out of range or empty, quoting what was given.
    """
    n = data.n_rows
    file = data.file_name
    given = f"window {start!r} .. {end!r}"
    if data.time is None:
        lo = 0 if start is None else _position(start, "start", given, file)
        hi = n if end is None else _position(end, "end", given, file)
        if lo >= n or hi > n:
            raise _err(f"{given} is out of range: the data has {n} rows (positions 0..{n - 1})", file)
        if lo >= hi:
            raise _err(f"{given} is empty: start must be before end", file)
        return slice(lo, hi)

    col = data.layout.time_column
    t0 = None if start is None else _bound_time(start, "start", data, given)
    t1 = None if end is None else _bound_time(end, "end", data, given)
    if t0 is not None and t1 is not None and t0 >= t1:
        raise _err(f"{given} is empty: start must be before end", file, column=col)
    lo = 0 if t0 is None else int(data.time.searchsorted(t0, side="left"))
    hi = n if t1 is None else int(data.time.searchsorted(t1, side="left"))
    if hi <= lo:
        span = f"{data.time.iloc[0]} to {data.time.iloc[-1]}" if n else "no rows"
        raise _err(f"{given} holds no rows; the data runs from {span}", file, column=col)
    return slice(lo, hi)


def _position(v, which: str, given: str, file: str) -> int:
    if isinstance(v, (bool, np.bool_)):
        raise _err(f"{given}: {which} must be a row position, not {v!r}", file)
    if isinstance(v, (int, np.integer)):
        k = int(v)
    elif isinstance(v, str) and v.strip().lstrip("+").isdigit():
        k = int(v.strip())
    else:
        raise _err(f"{given}: {which} must be a 0-based row position (the data has no time "
                   f"column), not {v!r}", file)
    if k < 0:
        raise _err(f"{given}: {which} must not be negative", file)
    return k


def _bound_time(v, which: str, data: PlantData, given: str) -> pd.Timestamp:
    file, col = data.file_name, data.layout.time_column
    if isinstance(v, (int, float, np.integer, np.floating, bool)):
        raise _err(f"{given}: {which} must be a timestamp (the data has a time column '{col}'), "
                   f"not {v!r}", file, column=col)
    if isinstance(v, str):
        tp = _parse_times(pd.Series([v], dtype="str"), data.dayfirst)
        if tp.ambiguous.any() or tp.conflict is not None:
            raise _err(f"{given}: {which} {v!r} can be read day-first or month-first; write "
                       f"it as ISO 8601 (2024-03-01 14:30)", file, column=col)
        ts = tp.times.iloc[0]
        if pd.isna(ts):
            raise _err(f"{given}: cannot read {which} {v!r} as a timestamp; {TIME_FORMATS_HINT}",
                       file, column=col)
    else:
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError) as e:
            raise _err(f"{given}: cannot read {which} {v!r} as a timestamp ({e})", file,
                       column=col) from None
        if pd.isna(ts):
            raise _err(f"{given}: {which} is not a timestamp", file, column=col)
    data_tz = getattr(data.time.dt, "tz", None)
    if data_tz is not None:
        # Zoned data is held in UTC; a bound without a zone is read as UTC too.
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    elif ts.tzinfo is not None:
        raise _err(f"{given}: {which} {v!r} has a time zone but the data's timestamps have "
                   f"none", file, column=col)
    return ts

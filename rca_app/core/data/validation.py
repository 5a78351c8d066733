"""Checks of a raw table against the layout, column by column.

Each check records what it finds in a :class:`~rca_app.core.errors.ProblemList` instead of
raising, so :func:`~rca_app.core.data.preparation.prepare` can report every problem at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from rca_app.core.data.cells import number_label
from rca_app.core.data.messages import RowPlaces, quote, quote_cells, suggest
from rca_app.core.data.numbers import parse_numbers
from rca_app.core.data.rules import MAX_CATEGORY_LEVELS, QUOTE_CELLS, TIME_FORMATS_HINT
from rca_app.core.data.times import parse_times
from rca_app.core.errors import ProblemList
from rca_app.core.historian import no_value_codes, override_text
from rca_app.core.layout import Layout

if TYPE_CHECKING:
    from rca_app.core.data.tables import RawTable

__all__ = [
    "WantedColumns",
    "station_nodes",
    "wanted_columns",
    "numeric_values",
    "category_values",
    "as_category",
    "check_time",
    "check_columns_left",
    "utc_note",
]


def station_nodes(station) -> list[str]:
    """A station's sensors, categorical ones included, in layout order.

    Parameters
    ----------
    station : Station

    Returns
    -------
    list of str
    """
    # Categorical sensors are normally listed in ``sensors`` too; accept them either way.
    return list(station.sensors) + [c for c in station.categorical if c not in station.sensors]


@dataclass
class WantedColumns:
    """The columns a layout asks for and which of them the file has."""

    target: str
    time_col: str | None
    nodes: list[str] = field(default_factory=list)        # layout order, target last if stationless
    station_of: dict[str, str] = field(default_factory=dict)
    categorical: set[str] = field(default_factory=set)
    present: list[str] = field(default_factory=list)      # nodes the file has

    @property
    def n_sensors(self) -> int:
        """Number of layout nodes other than the target."""
        return len([c for c in self.nodes if c != self.target])


def wanted_columns(layout: Layout, columns: list[str], file: str, pl: ProblemList) -> WantedColumns:
    """Match the layout's nodes to the file's columns; missing ones are errors, extra ones a warning.

    Parameters
    ----------
    layout : Layout
        Stations, target and time column.
    columns : list of str
        The file's column names.
    file : str
        File name for messages.
    pl : ProblemList
        Receives the problems.

    Returns
    -------
    WantedColumns
    """
    colset = set(columns)
    w = WantedColumns(target=layout.target, time_col=layout.time_column or None)
    for st in layout.stations:
        w.categorical.update(st.categorical)
        for node in station_nodes(st):
            if node not in w.station_of and node != w.time_col:
                w.nodes.append(node)
                w.station_of[node] = st.name
    target, time_col = w.target, w.time_col
    if target not in w.station_of:
        w.nodes.append(target)
    if target not in colset:
        pl.add(f"target column '{target}' is not in the data{suggest(target, columns)}",
               file=file, column=target, code="missing_target")
    for node in w.nodes:
        if node != target and node not in colset:
            pl.add(
                f"sensor '{node}' (station '{w.station_of[node]}' in {layout.source}) is not in "
                f"the data{suggest(node, columns)}",
                file=file, column=node, code="missing_column",
            )
    if time_col and time_col not in colset:
        pl.add(f"time column '{time_col}' (from {layout.source}) is not in the data"
               f"{suggest(time_col, columns)}", file=file, column=time_col, code="missing_time_column")
    used = set(w.nodes) | ({time_col} if time_col else set())
    unused = [c for c in columns if c not in used]
    if unused:
        shown = ", ".join(quote(c) for c in unused[:20]) + (", …" if len(unused) > 20 else "")
        pl.warn(f"{len(unused)} column(s) are in no station of {layout.source} and are left "
                f"out: {shown}{_same_but_case(unused, w.nodes)}", file=file, code="unused_columns")
    w.present = [c for c in w.nodes if c in colset]
    return w


def numeric_values(s: pd.Series, col: str, is_target: bool, station: str | None,
                   layout: Layout, raw: RawTable, src: np.ndarray | RowPlaces,
                   pl: ProblemList) -> np.ndarray | None:
    """Float values of a numeric node, or None after recording why it cannot be one.

    Parameters
    ----------
    s : pandas.Series
        The raw column.
    col : str
        Its name.
    is_target : bool
        Whether it is the KPI (changes the advice for a text column).
    station : str or None
        Its station, for the advice to declare it categorical.
    layout : Layout
        For the layout file's name in messages.
    raw : RawTable
        For the file name and decimal mark.
    src : numpy.ndarray or RowPlaces
        Spreadsheet row number of each row (places also name a pivoted grid's rows by time).
    pl : ProblemList
        Receives the problems.

    Returns
    -------
    numpy.ndarray or None
        float64 values (NaN for missing, and for "no value" codes such as -9999), None if the
        column is not numeric.
    """
    file = raw.file_name
    places = src if isinstance(src, RowPlaces) else RowPlaces(np.asarray(src))
    if ptypes.is_datetime64_any_dtype(s.dtype):
        pl.add("column holds timestamps, not numbers; is it the time column?", file=file,
               column=col, code="non_numeric")
        return None
    vals, bad = parse_numbers(s, raw.decimal)
    if bad.any():
        present = int(s.notna().sum())
        rows = places[bad]
        texts = s[bad].astype(str).tolist()
        dec = raw.decimal or "."
        other = "," if dec == "." else "."
        _, alt_bad = parse_numbers(s[bad], other)
        if (~alt_bad).sum() * 2 >= len(texts):
            # Numbers, just written with the other decimal mark: say that, not "text".
            pl.add(f"{int(bad.sum())} value(s) are not numbers with the file's decimal mark "
                   f"{dec!r} (first at {quote_cells(rows, texts)}); they look like numbers "
                   f"written with {other!r}. Write all numbers the same way, or load the file "
                   f"with decimal={other!r} (--decimal)", file=file, column=col,
                   row=rows.row(), code="non_numeric")
        elif bad.sum() > present / 2:
            if is_target:
                fix = "the target must be a number (the yield KPI)"
            else:
                fix = (f"if it is a categorical sensor, add it to 'categorical' of station "
                       f"'{station}' in {layout.source}")
            examples = ", ".join(quote(v) for v in pd.unique(pd.Series(texts))[:QUOTE_CELLS])
            pl.add(f"column holds text, not numbers (e.g. {examples}, first at "
                   f"{rows.name(0)}); {fix}", file=file, column=col, row=rows.row(),
                   code="text_column")
        else:
            pl.add(f"{int(bad.sum())} non-numeric value(s), first at "
                   f"{quote_cells(rows, texts)}", file=file, column=col, row=rows.row(),
                   code="non_numeric")
        return None
    inf = np.isinf(vals)
    if inf.any():
        rows = places[inf]
        pl.add(f"{int(inf.sum())} infinite value(s) at {quote_cells(rows)}; replace them "
               f"with a number or leave the cell empty", file=file, column=col,
               row=rows.row(), code="infinite")
        return None
    huge = np.abs(vals) > MAX_MAGNITUDE
    if huge.any():
        rows = places[huge]
        pl.add(f"{int(huge.sum())} value(s) too large to analyse (beyond ±{MAX_MAGNITUDE:.0e}; their squares "
               f"would overflow) at {quote_cells(rows, s[huge].astype(str).tolist())}: a wrong unit, a "
               "placeholder such as 9.9e307 for 'no value', or a typo? Fix them or leave the cells empty",
               file=file, column=col, row=rows.row(), code="huge_value")
        return None
    return _no_value_codes_missing(vals, col, layout, places, file, pl)


def _no_value_codes_missing(vals: np.ndarray, col: str, layout: Layout, places: RowPlaces, file: str,
                            pl: ProblemList) -> np.ndarray:
    """-9999 and the like read as missing, each said with its first row and time.

    A logger's or historian's "no value" code far outside a column's values is no reading: used as
    a number, two of them would set its mean. ``[tags.NAME] missing = [...]`` in the layout
    declares a column's codes instead (``[]``: none, every value a number). A historian export
    arrives here with its codes already missing (:mod:`rca_app.core.historian`)."""
    if col in layout.tag_missing:
        declared = np.isin(vals, layout.tag_missing[col])
        if declared.any() and not places.grid:
            rows = places[declared]
            pl.warn(f"{int(declared.sum())} value(s) are one that [tags.{col}] missing in {layout.source} declares "
                    f"missing, first at {rows.when(0)}; they are missing values, not numbers", file=file, column=col,
                    row=rows.row(), code="declared_missing")
        return np.where(declared, np.nan, vals) if declared.any() else vals
    for code in no_value_codes(vals):
        at = vals == code.value
        rows = places[at]
        also = f"; also at {quote_cells(rows[1:], k=3)}" if len(rows) > 1 else ""
        pl.warn(f"{code.count} values are exactly {code.value:g} (first at {rows.when(0)}{also}), far outside the "
                f"column's other values ({code.others_text()}): a 'no value' code of the logger or historian, so "
                f"they are missing values, not numbers; {override_text(col, code.value)}", file=file, column=col,
                row=rows.row(), code="no_value_code")
        vals = np.where(at, np.nan, vals)
    return vals


# Beyond this, variances and regressions overflow double precision (x^2 > 1e300); no physical
# reading on a plant comes near it, so such a value is an error in the file.
MAX_MAGNITUDE = 1e150


# Rare levels beyond MAX_CATEGORY_LEVELS - 1 are pooled under this label: dozens of dummy
# columns estimated from a handful of rows each would only add noise (and time) to every test.
OTHER_LEVEL = "other (rare levels)"


def pool_rare_levels(v: np.ndarray, keep: int = MAX_CATEGORY_LEVELS - 1) -> np.ndarray:
    """Labels with all but the ``keep`` most frequent levels replaced by :data:`OTHER_LEVEL`.

    Ties are broken by label, so the result is the same on every run. Pooling keeps a
    categorical sensor with many levels (e.g. batch numbers) from using up the degrees of freedom.

    Parameters
    ----------
    v : ndarray of object
        Labels (None or NaN for missing).
    keep : int, default MAX_CATEGORY_LEVELS - 1
        Levels kept as they are.

    Returns
    -------
    ndarray of object
        ``v`` itself when there is nothing to pool, else a copy.
    """
    present = pd.Series(v[~pd.isna(v)]).astype(str)
    counts = present.value_counts()
    if len(counts) <= keep + 1:
        return v
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = {k for k, _ in order[:keep]}
    out = v.copy()
    for i, x in enumerate(v):
        if x is not None and not (isinstance(x, float) and np.isnan(x)) and str(x) not in kept:
            out[i] = OTHER_LEVEL
    return out


def category_values(s: pd.Series) -> np.ndarray:
    """Labels of a categorical sensor as an object array of str (None for missing).

    Parameters
    ----------
    s : pandas.Series
        The raw column (numbers become labels like ``'3'``).

    Returns
    -------
    ndarray of object
    """
    if ptypes.is_bool_dtype(s.dtype) or ptypes.is_datetime64_any_dtype(s.dtype):
        return np.array([None if pd.isna(v) else str(v) for v in s], dtype=object)
    if ptypes.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        return np.array([None if np.isnan(x) else number_label(x) for x in v], dtype=object)
    return np.array([None if pd.isna(v) else str(v) for v in s], dtype=object)


def as_category(v: np.ndarray) -> pd.Categorical:
    """Labels as a Categorical whose levels sort integer-like labels as numbers (2 before 10).

    Parameters
    ----------
    v : ndarray of object
        Labels from :func:`category_values`.

    Returns
    -------
    pandas.Categorical
    """
    levels = [x for x in pd.unique(v) if x is not None and not (isinstance(x, float) and np.isnan(x))]

    def key(x: str) -> tuple[int, float, str]:
        try:
            return (0, float(x), x)
        except ValueError:
            return (1, 0.0, x)

    levels = sorted(levels, key=key)
    return pd.Categorical(v, categories=pd.Index(levels, dtype="str"))


def _same_but_case(unused: list[str], nodes: list[str]) -> str:
    """Unused columns that differ from a layout column only in case (PI tag names ignore case; a
    second export may write them differently): said with the layout's name."""
    folded = {n.casefold(): n for n in nodes}
    pairs = [(c, folded[c.casefold()]) for c in unused if c.casefold() in folded and folded[c.casefold()] != c]
    if not pairs:
        return ""
    shown = ", ".join(f"{quote(c)} differs from {quote(n)} of the layout only in case" for c, n in pairs[:5])
    return f" ({shown}: the same sensor?)"


def check_time(s: pd.Series, col: str, dayfirst: bool | None, file: str, src: np.ndarray,
               pl: ProblemList) -> tuple[pd.Series, bool | None, bool]:
    """Parse the time column and record its problems.

    Parameters
    ----------
    s : pandas.Series
        The raw time column.
    col : str
        Its name.
    dayfirst : bool or None
        Day order asked for (None: decide from the data).
    file : str
        File name for messages.
    src : numpy.ndarray
        Spreadsheet row number of each row.
    pl : ProblemList
        Receives the problems.

    Returns
    -------
    times : pandas.Series
    dayfirst : bool or None
        The day order used.
    ok : bool
        False when an error was recorded.
    """
    if ptypes.is_numeric_dtype(s.dtype) or ptypes.is_bool_dtype(s.dtype):
        pl.add(f"time column holds numbers, not timestamps; {TIME_FORMATS_HINT}", file=file,
               column=col, code="bad_time")
        return pd.Series(pd.NaT, index=range(len(s))), dayfirst, False
    tp = parse_times(s, dayfirst)
    ok = True
    text = s.astype(object).tolist()
    if tp.conflict is not None:
        i, j = tp.conflict
        pl.add(f"dates mix day-first (row {src[i]}: {quote(text[i])}) and month-first "
               f"(row {src[j]}: {quote(text[j])}) order; use one form for the whole column",
               file=file, column=col, row=int(src[i]), code="time_order_conflict")
        ok = False
    elif tp.ambiguous.any():
        i = int(np.argmax(tp.ambiguous))
        pl.add(f"dates such as {quote(text[i])} (row {src[i]}) can be read day-first or "
               f"month-first and no cell settles it; pass --dayfirst or --monthfirst "
               f"(dayfirst=True/False)", file=file, column=col, row=int(src[i]),
               code="time_ambiguous")
        ok = False
    if tp.bad.any():
        rows = src[tp.bad]
        vals = [text[k] for k in np.flatnonzero(tp.bad)[:QUOTE_CELLS]]
        clock = tp.impossible_clock
        why = ("" if clock is None or not clock.any() else
               f" ({int(clock.sum())} with a time of day that does not exist, first at row "
               f"{int(src[np.argmax(clock)])}: {quote(text[int(np.argmax(clock))])}; hours run 00-23, minutes 00-59)")
        pl.add(f"{int(tp.bad.sum())} timestamp(s) could not be read, first at "
               f"{quote_cells(rows, vals)}{why}; {TIME_FORMATS_HINT}", file=file, column=col,
               row=int(rows[0]), code="bad_time")
        ok = False
    if tp.naive_among_aware.any():
        rows = src[tp.naive_among_aware]
        pl.add(f"some timestamps carry a time zone and {int(tp.naive_among_aware.sum())} do "
               f"not, first at {quote_cells(rows)}; give every timestamp a zone or none",
               file=file, column=col, row=int(rows[0]), code="time_zone_mix")
        ok = False
    if ok and tp.converted_to_utc and not any(p.code == "time_utc" for p in pl.items):
        # (A historian export said it already, quoting its own cells; its grid arrives zoned.)
        pl.warn(utc_note(tp, text, src), file=file, column=col, code="time_utc")
    return tp.times, tp.dayfirst, ok


def utc_note(tp, text: list, src: np.ndarray) -> str:
    """What converting zoned timestamps to UTC means for the engineer: the zones found, one cell
    as written and as used, and how a window without a zone is read.

    Parameters
    ----------
    tp : TimeParse
        A parse that converted zoned cells (``tp.converted_to_utc``).
    text : list
        The cells as written.
    src : ndarray
        Spreadsheet row of each cell.

    Returns
    -------
    str
    """
    zones = ", ".join(tp.offsets) if tp.offsets else "time zones"
    example = ""
    k = tp.first_zoned
    if k is not None and pd.notna(tp.times.iloc[k]):
        used = tp.times.iloc[k].tz_convert("UTC").tz_localize(None)
        example = f" (row {int(src[k])}: {quote(text[k])} is {used} UTC)"
    if tp.offsets and all(z.upper() in ("Z", "UTC", "GMT", "+00:00", "+0000", "+00") for z in tp.offsets):
        return (f"timestamps are marked as UTC ({zones}); times in the results are UTC, and a window given "
                "without an offset is read as UTC")
    return (f"timestamps carry UTC offsets ({zones}); all were converted to UTC{example}. Times in the results "
            "are UTC; a window given without an offset is read as UTC, so to mean local clock time give it "
            "with the offset, as the file writes its timestamps")


def check_columns_left(values: dict[str, np.ndarray], columns: list[str], target: str,
                       categorical: set[str], n_final: int, file: str, pl: ProblemList,
                       setpoints: frozenset[str] | set[str] = frozenset()) -> None:
    """After rows were dropped: columns with no value, one level or one value explain nothing.

    Parameters
    ----------
    values : dict
        Column -> values of the rows kept.
    columns : list of str
        The columns to check (those without earlier errors).
    target : str
        The KPI column.
    categorical : set of str
        Categorical columns.
    n_final : int
        Rows kept.
    file : str
        File name for messages.
    pl : ProblemList
        Receives the problems.
    setpoints : set of str, optional
        Loops' setpoint tags: a loop's reference, not a candidate cause, so one that held steady
        (the usual case) is fine.
    """
    for c in columns:
        v = values[c]
        if n_final and pd.isna(v).all():
            # Only possible with gaps='impute': the column's values sit in dropped rows.
            pl.add(f"no value is left in the {n_final} rows used (its values are all in rows "
                   f"dropped for a missing target or timestamp)", file=file, column=c,
                   code="all_missing")
            continue
        if c in categorical:
            levels = pd.unique(v[~pd.isna(v)])
            if n_final and len(levels) == 1:
                pl.add(f"categorical column has a single level ({quote(levels[0])}) in all "
                       f"{n_final} rows; it cannot explain anything, leave it out of the layout",
                       file=file, column=c, code="constant")
            elif len(levels) > MAX_CATEGORY_LEVELS and n_final and len(levels) > n_final / 2:
                pl.add(f"categorical column looks like an identifier ({len(levels)} distinct values in "
                       f"{n_final} rows): an ID cannot cause anything. Leave it out of the layout, or if it "
                       "is a measurement, do not declare it categorical", file=file, column=c, code="id_column")
            elif len(levels) > MAX_CATEGORY_LEVELS:
                pl.warn(f"categorical column has {len(levels)} levels; the {MAX_CATEGORY_LEVELS - 1} most "
                        f"frequent are kept and the {len(levels) - MAX_CATEGORY_LEVELS + 1} rarer ones are "
                        f"pooled as '{OTHER_LEVEL}'", file=file, column=c, code="many_levels")
            elif n_final and len(levels) > n_final / 2:
                pl.warn(f"categorical column has {len(levels)} levels for {n_final} rows; is it "
                        f"an ID or a measurement rather than a category?", file=file, column=c,
                        code="many_levels")
        else:
            fin = v[np.isfinite(v)]
            if len(fin) and np.all(fin == fin[0]) and c not in setpoints:
                if c == target:
                    msg = (f"the KPI (target) is constant (every value is {number_label(fin[0])} in the "
                           f"{n_final} rows used): there is no change to explain. Check that the layout "
                           "names the right target column, or include the rows where it changed")
                else:
                    msg = (f"column is constant (every value is {number_label(fin[0])} in the {n_final} "
                           "rows used); it cannot explain a change, leave it out of the layout or widen the data")
                pl.add(msg, file=file, column=c, code="constant")

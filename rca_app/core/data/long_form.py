"""Historian long exports and joined lot tables, turned into the one wide table the checks expect.

Runs first in :func:`~rca_app.core.data.preparation.prepare`:

- A long export (one row per sample: tag, timestamp, value, optional quality) is recognised from
  its header (or forced with ``format="long"``) and pivoted onto the analysis grid by
  :func:`rca_app.core.historian.pivot_long`: ``[plant] sample`` (default: the KPI tag's rate),
  per-tag rules and delays from ``[tags.NAME]``. Bad-quality samples are counted per tag and
  reported with the first one's timestamp.
- ``[[join]]`` tables (lot properties) are joined onto the rows by their key column; lots
  missing from the lot table, lot ids listed twice and rows without a lot id are reported,
  naming rows and ids, and each table's fingerprint is kept for the result's record.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd

from rca_app.core.data.messages import quote, quote_cells, row_places
from rca_app.core.data.numbers import parse_numbers
from rca_app.core.data.overlaps import repeated_span
from rca_app.core.data.quality import decode_hex_quality, uncertain_quality
from rca_app.core.data.tables import JoinedTable, RawTable
from rca_app.core.data.times import parse_times
from rca_app.core.data.validation import utc_note
from rca_app.core.errors import ProblemList
from rca_app.core.historian import LongColumns, TagReport, TagSettingsError, detect_long_format, pivot_long
from rca_app.core.layout import Layout

__all__ = ["FORMATS", "UNCERTAIN_STATUS", "UNCERTAIN_USE", "to_wide", "apply_joins"]

FORMATS = ("auto", "long", "wide")


def _long_columns(raw: RawTable, layout: Layout, fmt: str, pl: ProblemList) -> LongColumns | None:
    cols = [str(c) for c in raw.frame.columns]
    found = detect_long_format(cols)
    if fmt == "wide":
        if found is not None and not set(layout.nodes) <= set(cols):
            # Else the engineer gets one "not in the data" per sensor and no word about why.
            pl.add(f"--format wide: the header ({', '.join(quote(c) for c in cols[:6])}) looks like a historian long "
                   f"export, one sample per row (tag {quote(found.tag)}, time {quote(found.time)}, value "
                   f"{quote(found.value)}), so the layout's sensors are values of {quote(found.tag)}, not columns; "
                   "leave out --format wide (or give --format long) to pivot it onto a time grid",
                   file=raw.file_name, code="looks_long")
        return None
    if fmt == "long":
        if found is None:
            pl.add(f"--format long: the header ({', '.join(quote(c) for c in cols[:6])}) has no tag, time and "
                   "value columns (e.g. Tagname, Timestamp, Value, Quality)", file=raw.file_name, code="not_long")
        return found
    # "auto": a table that already has the layout's columns is wide, whatever its header looks like.
    if found is None or set(layout.nodes) <= set(cols):
        return None
    return found


def to_wide(raw: RawTable, layout: Layout, fmt: str, dayfirst: bool | None,
            pl: ProblemList) -> tuple[RawTable, Layout, list[TagReport], str | None]:
    """A long historian export pivoted onto the analysis grid; a wide table as it is.

    Parameters
    ----------
    raw : RawTable
        As read.
    layout : Layout
        Target (the grid's default rate), ``sample``, ``tag_rules``, ``tag_delays``.
    fmt : {"auto", "long", "wide"}
    dayfirst : bool or None
        Day order of slash dates in the timestamp column.
    pl : ProblemList
        Receives every problem (file, tag, timestamp).

    Returns
    -------
    (RawTable, Layout, list of TagReport, str or None)
        The wide table (time column first), the layout with its time column set, one report per
        tag, and the grid step as text (None for a wide table).
    """
    if fmt not in FORMATS:
        pl.add(f"unknown format {fmt!r}; use 'auto', 'long' or 'wide'", code="format")
        return raw, layout, [], None
    cols = _long_columns(raw, layout, fmt, pl)
    if cols is None:
        return raw, layout, [], None
    file, frame = raw.file_name, raw.frame
    src = np.asarray(raw.source_rows, dtype=np.int64)
    if len(src) != len(frame):
        src = 2 + np.arange(len(frame), dtype=np.int64)
    parsed = parse_times(frame[cols.time], dayfirst)
    times = parsed.times
    zoned = getattr(times.dt, "tz", None) is not None
    if zoned:
        # Pivoted in UTC without a zone (the grid arithmetic), zoned again on the way out.
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
        _check_zones(parsed, frame[cols.time], src, file, cols.time, pl)
    values, bad_number = parse_numbers(frame[cols.value], raw.decimal)
    for i in np.flatnonzero(bad_number)[:20]:
        pl.warn(f"tag {quote(frame[cols.tag].iloc[i])} at {frame[cols.time].iloc[i]}: value "
                f"{quote(frame[cols.value].iloc[i])} is not a number and is left out",
                file=file, column=cols.value, row=int(src[i]), code="bad_sample")
    numeric = frame.assign(**{cols.value: values})
    if cols.quality and raw.status_counts.get(cols.quality):
        # The reader turned status words ("Bad", "Questionable") into missing cells; in a quality
        # column a missing cell is therefore a bad sample, never a good one.
        q = numeric[cols.quality]
        numeric[cols.quality] = q.astype(object).where(q.notna(), "bad")
    if cols.quality:
        # "0xC0" is OPC's 192 (Good) written in hexadecimal: read as the code it is.
        numeric[cols.quality] = decode_hex_quality(numeric[cols.quality])[0]
    repeat, said = repeated_span(numeric[cols.tag].astype("string").str.strip(), times, values, src, file, cols.time)
    if said is not None:
        # Overlapping exports: the second copy of each sample is left out before the pivot, so
        # it is neither read as a clock change nor warned about tag by tag.
        pl.warn(said.message, file=said.file, column=said.column, row=said.row, code=said.code)
        numeric, times, src = (numeric[~repeat].reset_index(drop=True), times[~repeat].reset_index(drop=True),
                               src[~repeat])
    try:
        pivot = pivot_long(numeric, cols, file, sample=layout.sample, rules=layout.tag_rules,
                           delays=layout.tag_delays, kpi=layout.target, times=times, source_rows=src,
                           layout_file=layout.source, missing=layout.tag_missing)
        found = pivot.problems
    except TagSettingsError as e:
        # A [tags.NAME] for a tag the export lacks: said, and every other check still runs on the
        # pivot made without it, so the engineer sees all problems at once.
        pivot, found = e.pivot, e.problems
    except ValueError as e:
        text = str(e)
        pl.add(text[len(file) + 2:] if text.startswith(f"{file}: ") else text, file=file, code="historian")
        return raw, layout, [], None
    for p in found:
        if p.code == "kpi_not_a_tag":
            continue    # the column check says it, with the same suggestion
        (pl.add if p.severity == "error" else pl.warn)(p.message, file=p.file, column=p.column, row=p.row,
                                                       code=p.code or "historian")
    uncertain = _uncertain_per_tag(numeric, cols)
    _report_quality(numeric, cols, times, zoned, pivot.tags, uncertain, file, src, pl)
    if cols.quality:
        # Already said per tag, with the first timestamp.
        pl.items[:] = [p for p in pl.items if p.column != cols.quality]
        out_problems = [p for p in raw.problems if p.column != cols.quality]
    else:
        out_problems = list(raw.problems)
    time_col = layout.time_column or "timestamp"
    wide = pivot.frame.rename(columns={"timestamp": time_col})
    if zoned:
        # As a wide table with zones: the grid is UTC and says so, so a window written with the
        # export's own offset is read correctly and results print their zone.
        wide[time_col] = wide[time_col].dt.tz_localize("UTC")
    status = {t.tag: {k: v for k, v in (("bad quality", t.bad_quality - uncertain.get(t.tag, 0)),
                                         (UNCERTAIN_STATUS, uncertain.get(t.tag, 0))) if v}
              for t in pivot.tags if t.bad_quality}
    # Grid rows are no rows of the export: messages about them name their time (RowPlaces).
    out = dataclasses.replace(raw, frame=wide.reset_index(drop=True), source_rows=2 + np.arange(len(wide)),
                              status_counts=status, problems=out_problems, pivoted=True)
    if layout.time_column is None:
        layout = dataclasses.replace(layout, time_column=time_col)
    step = _duration_text(pivot.step)
    return out, layout, pivot.tags, step


def _check_zones(parsed, cells: pd.Series, src: np.ndarray, file: str, column: str, pl: ProblemList) -> None:
    """Zoned timestamps: said once (converted to UTC, with one cell as written and as used); a
    mix of zoned and unzoned cells is an error, as in a wide table (the unzoned ones would be
    read as UTC, silently an offset away)."""
    text = cells.astype(object).tolist()
    if parsed.naive_among_aware.any():
        rows = src[parsed.naive_among_aware]
        pl.add(f"some timestamps carry a time zone and {int(parsed.naive_among_aware.sum())} do not, first at "
               f"{quote_cells(rows, [text[k] for k in np.flatnonzero(parsed.naive_among_aware)[:3]])}; give every "
               "timestamp a zone or none", file=file, column=column, row=int(rows[0]), code="time_zone_mix")
        return
    pl.warn(utc_note(parsed, text, src), file=file, column=column, code="time_utc")


def _duration_text(td: pd.Timedelta) -> str:
    s = int(td.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


# How an uncertain sample is counted where the overview lists why cells are missing.
UNCERTAIN_STATUS = "Uncertain quality"
UNCERTAIN_USE = ("an uncertain sample is used as missing like a bad one, since its value may be a held last value "
                 "or a sensor out of calibration; if those values are usable, export them with Good quality")


def _uncertain_per_tag(frame: pd.DataFrame, cols: LongColumns) -> dict[str, int]:
    """Samples per tag whose quality says "uncertain" (they are missing like bad ones)."""
    if not cols.quality:
        return {}
    unc = uncertain_quality(frame[cols.quality])
    if not unc.any():
        return {}
    counts = frame.loc[unc, cols.tag].astype("string").str.strip().value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def _report_quality(frame: pd.DataFrame, cols: LongColumns, times: pd.Series, zoned: bool, tags: list[TagReport],
                    uncertain: dict[str, int], file: str, src: np.ndarray, pl: ProblemList) -> None:
    """One warning per tag with bad-quality or missing samples: how many, and the first one's time
    (as the file writes it when it carries a zone, so it can be found there)."""
    if not any(t.bad_quality or t.missing_values for t in tags):
        return
    from rca_app.core.historian import _good_quality

    good = _good_quality(frame[cols.quality]) if cols.quality else np.ones(len(frame), dtype=bool)
    missing = pd.isna(frame[cols.value]).to_numpy()
    tag_of = frame[cols.tag].astype("string").str.strip()
    for t in tags:
        if not (t.bad_quality or t.missing_values):
            continue
        mine = (tag_of == t.tag).fillna(False).to_numpy()
        bad = mine & (~good | missing)
        first = int(np.argmax(bad))
        parts = []
        if t.bad_quality:
            unc = uncertain.get(t.tag, 0)
            why = "" if not unc else (
                f" ({'all' if unc == t.bad_quality else f'{unc} of them'} 'Uncertain'; {UNCERTAIN_USE})")
            parts.append(f"{t.bad_quality} flagged bad quality{why}")
        if t.missing_values:
            parts.append(f"{t.missing_values} empty or a status text")
        pl.warn(f"tag {quote(t.tag)}: {' and '.join(parts)} of {t.samples} samples, first at "
                f"{frame[cols.time].iloc[first] if zoned else times.iloc[first]}; "
                "they are missing values, never numbers", file=file, column=t.tag, row=int(src[first]),
                code="bad_quality")


def _key_text(s: pd.Series) -> pd.Series:
    """Lot ids compared as trimmed text (12 and "12" and "12.0" written by Excel are one lot)."""
    text = s.astype("string").str.strip()
    return text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)


def apply_joins(raw: RawTable, layout: Layout, pl: ProblemList) -> RawTable:
    """Columns of each ``[[join]]`` table added to the rows by key (lot genealogy).

    Parameters
    ----------
    raw : RawTable
        The batch table.
    layout : Layout
        Its ``joins``; files are found next to the layout file, else next to the data file.
    pl : ProblemList
        Receives every problem: missing files or key columns, lot ids listed twice in the lot
        table (errors), batches whose lot is not in it (a warning naming rows and ids).

    Returns
    -------
    RawTable
        With the joined columns appended (missing where the lot is unknown).
    """
    if not layout.joins:
        return raw
    from rca_app.core.data.reading import load_table
    from rca_app.core.errors import RcaInputError

    frame = raw.frame.copy()
    src = np.asarray(raw.source_rows, dtype=np.int64)
    if len(src) != len(frame):
        src = 2 + np.arange(len(frame), dtype=np.int64)
    times = frame[layout.time_column] if raw.pivoted and layout.time_column in frame.columns else None
    places = row_places(src, times, raw.pivoted)
    fingerprints: list[JoinedTable] = []
    said_by_join: set[str] = set()
    # Next to the layout file; a layout read from text (a reopened investigation) has no folder,
    # so the data file's folder is tried too.
    bases = ([Path(layout.path).parent] if layout.path else []) + [Path(raw.path).parent, Path(".")]
    for j in layout.joins:
        path = Path(j.file)
        if not path.is_absolute():
            path = next((b / j.file for b in bases if (b / j.file).exists()), bases[0] / j.file)
        try:
            lots = load_table(path, sheet=j.sheet)
        except RcaInputError as e:
            for p in e.problems:
                pl.add(f"[[join]] {p.message}", file=p.file or j.file, row=p.row, column=p.column, code="join_file")
            continue
        if j.on not in frame.columns:
            pl.add(f"[[join]] key column '{j.on}' is not in the data", file=raw.file_name, column=j.on,
                   code="join_key")
            continue
        if j.on not in lots.frame.columns:
            pl.add(f"[[join]] key column '{j.on}' is not in {lots.file_name}", file=lots.file_name, column=j.on,
                   code="join_key")
            continue
        lot_keys = _key_text(lots.frame[j.on])
        lot_rows = np.asarray(lots.source_rows, dtype=np.int64)
        if len(lot_rows) != len(lot_keys):
            lot_rows = 2 + np.arange(len(lot_keys), dtype=np.int64)
        fingerprints.append(JoinedTable(lots.file_name, str(lots.path), lots.sha256, lots.size_bytes, lots.n_rows,
                                        j.on))
        _report_repeated_lots(lots, lot_keys, lot_rows, j.on, pl)
        # Joined by each lot's first row even when some are listed twice (an error above), so the
        # other problems of both tables are found in the same run instead of a cascade of
        # "not in the data" for the lot properties.
        first = ~lot_keys.duplicated(keep="first").fillna(False).to_numpy()
        extra = [c for c in lots.frame.columns if c != j.on]
        clash = [c for c in extra if c in frame.columns]
        if clash:
            pl.add(f"[[join]] column(s) {', '.join(quote(c) for c in clash)} of {lots.file_name} are already in "
                   f"{raw.file_name}", file=lots.file_name, column=clash[0], code="join_clash")
            extra = [c for c in extra if c not in clash]
        named = lot_keys.notna().to_numpy() & first
        table = lots.frame.loc[named, extra].set_axis(lot_keys[named].to_numpy(), axis=0)
        keys = _key_text(frame[j.on])
        _report_empty_lot_cells(lots, table, lot_rows[named], keys, j.on, raw.file_name, pl)
        known = keys.isin(set(lot_keys.dropna())).to_numpy()
        absent = ~known & keys.notna().to_numpy()
        if absent.any():
            ids = list(dict.fromkeys(keys[absent]))
            pl.warn(f"[[join]] {int(absent.sum())} row(s) use lot id(s) not in {lots.file_name} "
                    f"({', '.join(quote(i) for i in ids[:5])}): {quote_cells(places[absent])}; their lot "
                    f"properties are missing{_near_lot_ids(ids, lot_keys.dropna(), lots.file_name)}",
                    file=raw.file_name, column=j.on, row=places[absent].row(), code="join_unknown_lot")
        no_id = keys.isna().to_numpy()
        if no_id.any():
            # Read as missing by the reader ("n/a", "-", empty): a batch without its lot, said as such.
            said_by_join.add(j.on)
            status = raw.status_counts.get(j.on, {})
            empty = int(no_id.sum()) - sum(status.values())
            written = ", ".join(([f"{empty} empty"] if empty > 0 else [])
                                + [f"{quote(k)} ×{v}" for k, v in status.items()])
            pl.warn(f"[[join]] {int(no_id.sum())} row(s) have no lot id in {quote(j.on)} ({written}): "
                    f"{quote_cells(places[no_id])}; their properties from "
                    f"{lots.file_name} are missing", file=raw.file_name, column=j.on, row=places[no_id].row(),
                    code="join_no_lot_id")
        joined = table.reindex(keys.to_numpy())
        for c in extra:
            frame[c] = joined[c].to_numpy()
    # A status text in a key column ("n/a") is said above as a missing lot id, not as a sensor's status.
    problems = [p for p in raw.problems if not (p.column in said_by_join and p.code == "status_values")]
    return dataclasses.replace(raw, frame=frame, problems=problems, joined=[*raw.joined, *fingerprints])


def _report_repeated_lots(lots: RawTable, lot_keys: pd.Series, lot_rows: np.ndarray, on: str,
                          pl: ProblemList) -> None:
    """A lot listed more than once: the same row repeated (a LIMS export pasted twice) is counted
    once with a warning; repeats whose properties differ (a re-tested lot) are an error, since
    which result holds is the engineer's choice."""
    dup = lot_keys.duplicated(keep=False).fillna(False).to_numpy() & lot_keys.notna().to_numpy()
    if not dup.any():
        return
    props = [c for c in lots.frame.columns if c != on]
    # Compared as trimmed text, so 300.5 and "300.5 " are one value and two empty cells agree.
    text = lots.frame[props].astype("string").apply(lambda s: s.str.strip()).fillna("")
    differ = text[dup].groupby(lot_keys[dup].to_numpy()).nunique().gt(1).any(axis=1)
    same = sorted(differ.index[~differ.to_numpy()])
    clash = sorted(differ.index[differ.to_numpy()])
    for ids, error in ((clash, True), (same, False)):
        if not ids:
            continue
        at = dup & lot_keys.isin(ids).fillna(False).to_numpy()
        listed = f"{', '.join(quote(i) for i in ids[:5])}{', …' if len(ids) > 5 else ''}"
        where = quote_cells(lot_rows[at], list(lot_keys[at]), k=6)
        if error:
            pl.add(f"[[join]] {len(ids)} lot id(s) are listed more than once with different properties ({listed}): "
                   f"{where}; each lot needs one row: keep the result that holds (a re-tested lot) and delete the "
                   "other", file=lots.file_name, column=on, row=int(lot_rows[at][0]), code="join_duplicate")
        else:
            pl.warn(f"[[join]] {len(ids)} lot id(s) are listed more than once with identical properties ({listed}): "
                    f"{where}; each is counted once", file=lots.file_name, column=on, row=int(lot_rows[at][0]),
                    code="join_repeated_lot")


def _near_lot_ids(ids: list[str], lot_keys: pd.Series, lot_file: str, k: int = 3) -> str:
    """A hint for lot ids that are in the lot table apart from case or lost leading zeros (typed
    by hand into an MES, or numbers whose zeros a spreadsheet removed); empty when none is."""
    def zeros(v: str) -> str:
        return re.sub(r"(?<![0-9])0+(?=[0-9])", "", v)

    by_case = {v.casefold(): v for v in lot_keys}
    by_zeros = {zeros(v).casefold(): v for v in lot_keys}
    hints: list[str] = []
    n_case = n_zeros = 0
    for i in ids:
        if i.casefold() in by_case:
            n_case += 1
            if len(hints) < k:
                hints.append(f"{quote(i)} is {quote(by_case[i.casefold()])} in {lot_file} apart from case")
        elif zeros(i).casefold() in by_zeros:
            n_zeros += 1
            if len(hints) < k:
                hints.append(f"{quote(i)} is {quote(by_zeros[zeros(i).casefold()])} in {lot_file} apart from "
                             "leading zeros")
    if not hints:
        return ""
    fix = []
    if n_case:
        fix.append(f"{n_case} of the {len(ids)} id(s) differ only in case")
    if n_zeros:
        fix.append(f"{n_zeros} only in leading zeros (a spreadsheet drops them from numbers: store the ids as "
                   "text)")
    return (". Did you mean: " + "; ".join(hints) + ("; …" if n_case + n_zeros > len(hints) else "")
            + f" ({', '.join(fix)}): correct the ids in one of the files")


def _report_empty_lot_cells(lots: RawTable, table: pd.DataFrame, rows: np.ndarray, keys: pd.Series, on: str,
                            batch_file: str, pl: ProblemList) -> None:
    """A warning per lot property with empty or n/a cells: which lots (and lot-table rows), and how
    many batch rows therefore have no value for it."""
    used = set(keys.dropna())
    for c in table.columns:
        empty = table[c].isna().to_numpy()
        if not empty.any():
            continue
        ids = [str(i) for i in table.index[empty]]
        batches = int(keys.isin(set(ids)).sum())
        unused = "" if any(i in used for i in ids) else " (no batch uses them)"
        pl.warn(f"[[join]] {len(ids)} lot(s) have no value for {quote(c)} (empty or n/a): "
                f"{quote_cells(rows[empty], ids)}; {batches} row(s) of {batch_file} use them and miss it{unused}",
                file=lots.file_name, column=c, row=int(rows[empty][0]), code="join_empty_cell")

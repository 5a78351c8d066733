"""Reading a CSV, Excel or Parquet file into a :class:`~rca_app.core.data.tables.RawTable`.

Nothing is interpreted beyond what reading needs: text cells stay text (so later checks can
quote a bad cell exactly as the engineer typed it), historian status strings become missing
values. Every failure is an :class:`~rca_app.core.errors.RcaInputError` naming the file.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from rca_app.core.data.columns import finish_table
from rca_app.core.data.decoding import decode_text
from rca_app.core.data.messages import input_error, quote, quote_cells
from rca_app.core.data.numbers import detect_decimal, parse_numbers
from rca_app.core.data.rules import CSV_EXTENSIONS, EXCEL_EXTENSIONS, PARQUET_EXTENSIONS
from rca_app.core.data.sniffing import sniff_separator
from rca_app.core.data.tables import RawTable
from rca_app.core.errors import Problem, RcaInputError

__all__ = ["load_table"]

# What a format reader hands to finish_table: header cells, body, spreadsheet rows, header row.
_Grid = tuple[list, pd.DataFrame, np.ndarray, int]


def _read_bytes(p: Path, name: str) -> bytes:
    if not p.exists():
        raise input_error(f"file not found: {p}", name)
    if p.is_dir():
        raise input_error(f"{p} is a folder, not a data file", name)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise input_error(f"cannot read the file: {e.strerror or e}", name) from None
    if not data.strip():
        raise input_error("the file is empty", name)
    return data


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
    it are skipped.

    Parameters
    ----------
    path : str or Path
        The data file.
    sheet : str or int, optional
        Excel sheet name or 0-based index.
    sep : str, optional
        CSV separator (one character); sniffed when None.
    decimal : {".", ","}, optional
        Decimal mark of numbers written as text; detected when None.

    Returns
    -------
    RawTable
        The table with its warnings in ``problems``.

    Raises
    ------
    RcaInputError
        When the file cannot be read as a table.
    """
    p = Path(path)
    name = p.name or str(path)
    if decimal not in (None, ".", ","):
        raise input_error(f"decimal mark must be '.' or ',', not {decimal!r}", name)
    if sep is not None and (len(sep) != 1 or sep in "\"\r\n"):
        raise input_error(f"separator must be one character such as ',' or ';', not {sep!r}", name)
    data = _read_bytes(p, name)

    ext = p.suffix.lower()
    meta: dict[str, Any] = {"sheet": None, "sep": None, "decimal": decimal, "encoding": None, "other_sheets": {}}
    warnings: list[Problem] = []
    if sheet is not None and ext not in EXCEL_EXTENSIONS:
        raise input_error(f"a sheet ({sheet}) was given, but {name} is not an Excel workbook: leave --sheet out "
                          "for CSV and Parquet files", name)
    if ext in EXCEL_EXTENSIONS and not data.startswith(b"PK\x03\x04") and sheet is None and _looks_like_csv(data):
        # An .xlsx that is really CSV text (exported by a tool that picked the wrong name).
        warnings.append(Problem("this is a text (CSV) file, not an Excel workbook; read it as CSV. "
                                "Renaming it to .csv avoids this warning.", file=name, severity="warning",
                                code="csv_named_xlsx"))
        ext = ".csv"
    if ext in CSV_EXTENSIONS:
        header, body, rows, header_row = _read_csv(data, name, sep, meta, warnings)
    elif ext in EXCEL_EXTENSIONS:
        header, body, rows, header_row = _read_excel(data, name, sheet, meta, warnings)
    elif ext in PARQUET_EXTENSIONS:
        header, body, rows, header_row = _read_parquet(data, name)
    elif ext == ".xls":
        raise input_error("old Excel .xls files are not supported; save it as .xlsx or .csv", name)
    else:
        raise input_error(
            f"unsupported file type {ext or '(no extension)'!r}; use .csv, .xlsx/.xlsm or .parquet",
            name,
        )

    frame, rows, status = finish_table(header, body, rows, header_row, name, warnings)
    if meta["decimal"] is None:
        meta["decimal"] = _decide_decimal(frame, meta["sep"], name, warnings)
    # Numbers as column names usually mean the file has no header line.
    header_values = parse_numbers(pd.Series(list(frame.columns), dtype="str"), meta["decimal"])[0]
    if len(frame.columns) > 1 and not np.isnan(header_values).any():
        warnings.append(Problem(
            "the first row holds numbers, not column names; the file needs a header row",
            file=name, row=header_row, severity="warning", code="no_header",
        ))
    return RawTable(
        frame=frame, path=p, file_name=name, sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data), sheet=meta["sheet"], sep=meta["sep"], decimal=meta["decimal"],
        encoding=meta["encoding"], problems=warnings, source_rows=rows, header_row=header_row,
        status_counts=status, other_sheets=meta["other_sheets"],
    )


def _looks_like_csv(data: bytes) -> bool:
    """Text with a header line holding a separator and at least one more line."""
    try:
        text, _ = decode_text(data[:65536], "", [])
    except RcaInputError:
        return False
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) >= 2 and any(sep in lines[0] for sep in ",;\t|")


def _decide_decimal(frame: pd.DataFrame, sep: str | None, name: str, warnings: list[Problem]) -> str:
    text_cols = [frame[c] for c in frame.columns if ptypes.is_string_dtype(frame[c].dtype)]
    mark, unsure = detect_decimal(text_cols, sep)
    if unsure:
        what = "decimal comma" if mark == "," else "decimal point"
        warnings.append(Problem(
            f"numbers such as '1,234' or '1.234' could be decimals or thousands; read as "
            f"{what}. Pass decimal='.' or ',' (--decimal) if that is wrong.",
            file=name, severity="warning", code="decimal_guess",
        ))
    return mark


# --- CSV ---------------------------------------------------------------------------------

def _read_csv(data: bytes, name: str, sep: str | None, meta: dict, warnings: list[Problem]) -> _Grid:
    text, enc = decode_text(data, name, warnings)
    meta["encoding"] = enc
    # Leading blank lines would make pandas expect a one-field table; skip but count them.
    stripped = text.lstrip("\r\n")
    lead = text[: len(text) - len(stripped)]
    lead_rows = lead.count("\n") + lead.replace("\r\n", "").count("\r")
    text = stripped
    if not text.strip():
        raise input_error("the file is empty", name)
    if sep is None:
        head = text[:65536].splitlines()
        if len(text) > 65536 and len(head) > 1:
            head = head[:-1]   # the last line may be cut short
        sep = sniff_separator(head[:50])
    meta["sep"] = sep
    opts = dict(sep=sep, header=None, dtype=str, na_filter=False, skip_blank_lines=False,
                engine="c", quotechar='"')
    try:
        grid = pd.read_csv(io.StringIO(text), **opts)
    except pd.errors.ParserError as e:
        m = re.search(r"EOF inside string starting at row (\d+)", str(e))
        if m:   # pandas counts records from 0; the spreadsheet row is one more
            row = lead_rows + int(m.group(1)) + 1
            raise input_error(f'a quote (") opened on row {row} is never closed', name, row=row,
                              code="unclosed_quote") from None
        grid = _reread_ragged(text, sep, name, lead_rows, opts, e)
    except Exception as e:  # noqa: BLE001 - any reader failure is a bad file for the user
        raise input_error(f"could not read the file as CSV: {e}", name) from None
    if grid.empty:
        raise input_error("the file is empty", name)
    header = [None if pd.isna(v) else v for v in grid.iloc[0].tolist()]
    body = grid.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    header_row = lead_rows + 1
    rows = header_row + 1 + np.arange(len(body), dtype=np.int64)
    return header, body, rows, header_row


def _reread_ragged(text: str, sep: str, name: str, lead_rows: int, opts: dict,
                   first_error: Exception) -> pd.DataFrame:
    """A row has more fields than the header. Trailing empty fields are harmless (some
    exports end every data line with a separator); anything else is reported by row."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except csv.Error as e:
        raise input_error(f"could not read the file as CSV: {e}", name) from None
    if not records:
        raise input_error(f"could not read the file as CSV: {first_error}", name)
    width = len(records[0])
    long_rows = [(i, r) for i, r in enumerate(records) if len(r) > width]
    real = [(i, r) for i, r in long_rows if any(c.strip() for c in r[width:])]
    if real:
        rows = np.array([lead_rows + 1 + i for i, _ in real])
        _, first_r = real[0]
        raise RcaInputError(Problem(
            f"{len(real)} row(s) have more fields than the header's {width} columns "
            f"(row {rows[0]} has {len(first_r)}): {quote_cells(rows)}. "
            f"Check the separator ({sep!r}) and quoting.",
            file=name, row=int(rows[0]), code="ragged",
        ))
    widest = max(len(r) for r in records)
    try:
        return pd.read_csv(io.StringIO(text), names=list(range(widest)), **opts)
    except Exception:  # noqa: BLE001
        raise input_error(f"could not read the file as CSV: {first_error}", name) from None


# --- Excel -------------------------------------------------------------------------------

def _filled(r: list) -> int:
    return sum(1 for v in r if v is not None and not (isinstance(v, str) and not v.strip()))


def _read_excel(data: bytes, name: str, sheet, meta: dict, warnings: list[Problem]) -> _Grid:
    try:
        import openpyxl
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001
        raise input_error(f"could not open the Excel workbook: {type(e).__name__}: {e}", name) from None
    try:
        names = list(wb.sheetnames)
        ws = _pick_sheet(wb, names, sheet, name)
        meta["sheet"] = ws.title
        if sheet is None:
            meta["other_sheets"] = {o.title: _sheet_header(o) for o in wb.worksheets[1:21] if hasattr(o, "iter_rows")}
        try:
            raw_rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
        except Exception as e:  # noqa: BLE001
            raise input_error(f"could not read sheet '{ws.title}': {type(e).__name__}: {e}", name) from None
    finally:
        wb.close()

    header_i = next((i for i, r in enumerate(raw_rows[:50]) if _filled(r) >= 2), None)
    if header_i is None:
        header_i = next((i for i, r in enumerate(raw_rows) if _filled(r) >= 1), None)
    if header_i is None:
        raise input_error(f"sheet '{ws.title}' is empty", name)
    skipped = [i + 1 for i in range(header_i) if _filled(raw_rows[i])]
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


def _sheet_header(ws) -> list[str]:
    """The header cells of a sheet (its first row with two filled cells among the first 50)."""
    try:
        for r in ws.iter_rows(min_row=1, max_row=50, values_only=True):
            if _filled(list(r)) >= 2:
                return [str(c).strip() for c in r if c is not None and str(c).strip()]
    except Exception:  # noqa: BLE001 - a hint only: an unreadable other sheet gives none
        pass
    return []


def _pick_sheet(wb, names: list[str], sheet, name: str):
    listing = ", ".join(quote(n) for n in names)
    if sheet is None:
        if not wb.worksheets:
            raise input_error("the workbook has no worksheet", name)
        return wb.worksheets[0]
    if isinstance(sheet, str) and sheet in names:
        ws = wb[sheet]
        if not hasattr(ws, "iter_rows"):
            raise input_error(f"sheet '{sheet}' is a chart, not a table", name)
        return ws
    if isinstance(sheet, str) and sheet.strip().isdigit():
        sheet = int(sheet.strip())
    if isinstance(sheet, (int, np.integer)) and not isinstance(sheet, bool):
        if 0 <= sheet < len(wb.worksheets):
            return wb.worksheets[sheet]
        raise input_error(
            f"sheet index {sheet} is out of range (0..{len(wb.worksheets) - 1}); "
            f"the sheets are {listing}", name,
        )
    close = difflib.get_close_matches(str(sheet), names, n=1, cutoff=0.6)
    hint = f" (did you mean {quote(close[0])}?)" if close else ""
    raise input_error(f"no sheet named {quote(sheet)}{hint}; the sheets are {listing}", name)


# --- Parquet -----------------------------------------------------------------------------

def _read_parquet(data: bytes, name: str) -> _Grid:
    try:
        import pyarrow.parquet as pq
        table = pq.read_table(io.BytesIO(data))
        header = list(table.column_names)
        cols = {i: table.column(i).to_pandas() for i in range(table.num_columns)}
    except Exception as e:  # noqa: BLE001
        raise input_error(f"could not read the Parquet file: {type(e).__name__}: {e}", name) from None
    if not header:
        raise input_error("the Parquet file has no columns", name)
    body = pd.DataFrame(cols)
    body.columns = range(len(header))
    rows = 2 + np.arange(len(body), dtype=np.int64)
    return header, body, rows, 1

"""CSV text for tables people open in a spreadsheet, with formula injection neutralised.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is taken as a
formula by Excel and LibreOffice: a sensor or supplier named ``=HYPERLINK(...)`` in a data file
would become a live link in the engineer's export. Such text cells get a leading apostrophe,
which spreadsheets show as plain text; numbers are written as numbers.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` made safe for a CSV cell a spreadsheet will open.

    Text that a spreadsheet would run as a formula is quoted with a leading apostrophe; None
    becomes an empty cell; numbers and booleans are unchanged.

    Parameters
    ----------
    value : object
        The cell's value.

    Returns
    -------
    object
        The value to write.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(header: Sequence, rows: Iterable[Sequence], lineterminator: str = "\r\n") -> str:
    """The table as CSV text, every cell passed through :func:`spreadsheet_safe`.

    Parameters
    ----------
    header : sequence
        Column names.
    rows : iterable of sequence
        The table's rows.
    lineterminator : str, default "\\r\\n"
        Line ending (CSV's standard one by default).

    Returns
    -------
    str
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=lineterminator)
    w.writerow([spreadsheet_safe(h) for h in header])
    for r in rows:
        w.writerow([spreadsheet_safe(v) for v in r])
    return buf.getvalue()

"""Numbers as the desktop window shows them to people: a few significant digits, no "nan"."""
from __future__ import annotations

import math

from rca_app.core.result_notes import beyond_share


def fmt_number(v, digits: int = 4) -> str:
    """``v`` with ``digits`` significant digits; "" for None, NaN or infinity; text as it is.

    Parameters
    ----------
    v : number, str or None
    digits : int

    Returns
    -------
    str
    """
    if v is None:
        return ""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return ""
    return f"{f:.{digits}g}"


def fmt_pct(v, digits: int = 0, *, space: bool = True, missing: str = "–") -> str:
    """A share (1.0 = all) as a percentage with ``digits`` decimals.

    The one percentage formatter: the window writes "83 %" (``space``), the report and the
    terminal "83%"; an unknown share (None, NaN) is ``missing``; a share of 100 times the whole
    or more (a restoration the model carried far outside its data) reads "> 10,000%".

    Parameters
    ----------
    v : float or None
    digits : int, default 0
    space : bool, default True
        A space before the percent sign.
    missing : str
        What an unknown share shows.

    Returns
    -------
    str
    """
    if v is None or not math.isfinite(float(v)):
        return missing
    beyond = beyond_share(float(v))   # a model carried far beyond its data: no digits (the JSON keeps them)
    text = beyond if beyond is not None else f"{100 * float(v):.{digits}f}"
    if text.startswith("-") and float(text) == 0:     # never "-0 %"
        text = text[1:]
    return f"{text}{' ' if space else ''}%"


# Longest label a chart axis, legend or list shows: names and levels come from data files, and a
# label of a megabyte would stall the drawing for nothing anyone reads. Results keep it whole.
MAX_LABEL = 40


def short_label(text, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for display only.

    Parameters
    ----------
    text : object
        A sensor name, a category level, a station.
    limit : int
        Most characters shown.

    Returns
    -------
    str
    """
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"

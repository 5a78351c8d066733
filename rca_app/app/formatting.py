"""Numbers as the desktop window shows them to people: a few significant digits, no "nan"."""
from __future__ import annotations

import math


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


def fmt_pct(v, digits: int = 0) -> str:
    """A share (1.0 = all) as a percentage with ``digits`` decimals ("83 %"); "–" when unknown.

    Parameters
    ----------
    v : float or None
    digits : int, default 0

    Returns
    -------
    str
    """
    if v is None or not math.isfinite(float(v)):
        return "–"
    return f"{100 * float(v):.{digits}f} %"

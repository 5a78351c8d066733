"""Every number, percentage, interval, size and time bound the report prints, formatted once.

Plain functions of plain values and of the result's window records (no reportlab), so the
text, the tables and the figures of the report print the same value the same way. A missing
or non-finite value prints as an en dash.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rca_app.app.formatting import fmt_pct as app_fmt_pct
from rca_app.app.formatting import short_label

if TYPE_CHECKING:
    from rca_app.core.results import IncidentRecord, WindowRecord

__all__ = [
    "MISSING",
    "decimals_for",
    "fmt_num",
    "fmt_sig",
    "fmt_pct",
    "fmt_interval",
    "fmt_p_value",
    "with_unit",
    "fmt_amount",
    "fmt_bytes",
    "fmt_seconds",
    "clip",
    "parse_bound",
    "fmt_bound",
    "fmt_window",
    "fmt_duration",
]

#: What a missing value prints as.
MISSING = "–"


# --- numbers ------------------------------------------------------------------------------

def decimals_for(scale: float | None, default: int = 2) -> int:
    """Decimals that show a value to about a tenth of ``scale`` (a typical spread).

    Parameters
    ----------
    scale : float or None
        A typical spread (e.g. a reference SD); None or non-positive gives ``default``.
    default : int
        Decimals when ``scale`` says nothing.

    Returns
    -------
    int
        Between 0 and 6.
    """
    if scale is None or not math.isfinite(scale) or scale <= 0:
        return default
    return max(0, min(6, 1 - math.floor(math.log10(scale))))


def fmt_num(v, decimals: int | None = None) -> str:
    """A number with fixed ``decimals`` (None: 4 significant digits); text passes through.

    Parameters
    ----------
    v : float, int, str or None
        The value.
    decimals : int, optional
        Decimals after the point; None for ``.4g``.

    Returns
    -------
    str
        Never "-0.0"; :data:`MISSING` for None, NaN or infinity.
    """
    if v is None:
        return MISSING
    if isinstance(v, str):
        return v
    v = float(v)
    if not math.isfinite(v):
        return MISSING
    out = f"{v:.4g}" if decimals is None else f"{v:.{decimals}f}"
    return out[1:] if out.startswith("-") and float(out) == 0 else out  # no "-0.0"


def fmt_sig(v, digits: int = 2) -> str:
    """A number to ``digits`` significant digits (standard errors, p-values): ``0.0123`` -> ``0.012``."""
    if v is None or not math.isfinite(float(v)):
        return MISSING
    return f"{float(v):.{digits}g}"


def fmt_pct(frac, decimals: int = 0) -> str:
    """A share (1.0 = all) as a percentage: ``0.993`` -> ``99%`` (the application's formatter)."""
    return app_fmt_pct(frac, decimals, space=False, missing=MISSING)


def fmt_interval(lo, hi, fmt: Callable[[float], str] = fmt_pct) -> str:
    """``lo to hi``, each formatted with ``fmt`` (percentages by default)."""
    return f"{fmt(lo)} to {fmt(hi)}"


def fmt_p_value(p) -> str:
    """A p-value to two significant digits; below what a float can tell apart, ``< 1e-300``."""
    if p is None:
        return MISSING
    return "< 1e-300" if p < 1e-300 else fmt_sig(p, 2)


def with_unit(text: str, unit: str) -> str:
    """``12.5 bar``; a percentage unit sticks to the number: ``91.2%``."""
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def fmt_amount(v: float, unit: str, decimals: int) -> str:
    """A difference in the KPI's unit; a difference of percentages is in percentage points."""
    s = fmt_num(v, decimals)
    if unit == "%":
        return f"{s} percentage points"
    return with_unit(s, unit)


def fmt_bytes(n) -> str:
    """A file size: ``1.2 MB (1,234,567 bytes)``."""
    if n is None:
        return MISSING
    n = int(n)
    for unit, size in (("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def fmt_seconds(v: float) -> str:
    """A computing time: ``12.3 s``."""
    return f"{v:.1f} s"


def clip(s, n: int) -> str:
    """Text cut to ``n`` characters with an ellipsis (page headers have one line)."""
    return short_label(s, n)


# --- time ---------------------------------------------------------------------------------

def parse_bound(v) -> datetime | int | None:
    """A window bound from a result: a row position (int), a timestamp, or None if unreadable."""
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v)
    try:
        return datetime.fromisoformat(str(v))
    except ValueError:
        return None


def fmt_bound(v) -> str:
    """A window bound as a person reads it: ``2026-03-18 08:40`` or ``row 2500``."""
    p = parse_bound(v)
    if p is None:
        return str(v)
    if isinstance(p, int):
        return f"row {p}"
    s = p.strftime("%Y-%m-%d %H:%M:%S" if p.second else "%Y-%m-%d %H:%M")
    if p.tzinfo is not None:
        off = p.utcoffset()
        s += " UTC" if off is not None and off.total_seconds() == 0 else p.strftime(" %z")
    return s


def fmt_window(w: WindowRecord | IncidentRecord) -> str:
    """A window as a person reads it.

    Parameters
    ----------
    w : WindowRecord or IncidentRecord
        The result's reference or incident window.

    Returns
    -------
    str
        ``2026-03-18 08:40 to 2026-03-20 10:40``, or ``rows 0 to 299`` without a time column.
    """
    a, b = parse_bound(w.start), parse_bound(w.end)
    if isinstance(a, int) and isinstance(b, int):
        return f"rows {a} to {b - 1}"  # row windows are 0-based with an exclusive end
    return f"{fmt_bound(w.start)} to {fmt_bound(w.end)}"


def fmt_duration(w: WindowRecord | IncidentRecord) -> str:
    """How long a window is and how many rows it holds.

    Parameters
    ----------
    w : WindowRecord or IncidentRecord
        The result's reference or incident window.

    Returns
    -------
    str
        ``2 d 2 h, 300 rows``; rows only when the data has no time column.
    """
    rows = f"{int(w.n_rows):,} rows"
    a, b = parse_bound(w.start), parse_bound(w.end)
    if not (isinstance(a, datetime) and isinstance(b, datetime)):
        return rows
    try:
        secs = (b - a).total_seconds()
    except TypeError:  # one bound with a time zone, one without
        return rows
    mins = int(round(secs / 60))
    d, rem = divmod(mins, 24 * 60)
    h, m = divmod(rem, 60)
    parts = [f"{d} d" if d else "", f"{h} h" if h else "", f"{m} min" if m and not d else ""]
    span = " ".join(p for p in parts if p) or "0 min"
    return f"{span}, {rows}"

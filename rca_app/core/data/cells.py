"""Cell values as text and columns in one of four kinds, whatever the file format gave.

Excel and Parquet hand over Python objects of mixed types; CSV hands over text. Everything
after reading sees a column as float64, bool, datetime64 or ``str``.
"""
from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["number_label", "cell_text", "normalize_column"]

_OBJECT = np.dtype(object)


def number_label(v: float) -> str:
    """Number as a category label: 3.0 -> '3', 0.5 -> '0.5' (shortest round-trip text).

    Parameters
    ----------
    v : float
        A level of a categorical sensor read as a number (e.g. a mould number).

    Returns
    -------
    str
    """
    if np.isfinite(v) and float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def cell_text(v: Any) -> str | None:
    """Excel/Parquet cell value as text, for columns that mix text with other values.

    Parameters
    ----------
    v : Any
        The cell as the reader produced it.

    Returns
    -------
    str or None
        None for a missing cell; dates in ISO form; whole numbers without ``.0``.
    """
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return None if np.isnan(v) else number_label(float(v))
    if isinstance(v, _dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if v is pd.NaT or v is pd.NA:
        return None
    return str(v)


def _value_kinds(values: list) -> set[str]:
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
    return kinds


def normalize_column(s: pd.Series) -> pd.Series:
    """Give a column one of the kinds float64, bool, datetime64 or ``str`` (text).

    Parameters
    ----------
    s : pandas.Series
        A column as the reader produced it (object columns may mix types).

    Returns
    -------
    pandas.Series
        Numbers as float64, all-datetime columns as datetime64, anything mixed as text.
    """
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        s, dt = s.astype(object), _OBJECT
    if ptypes.is_bool_dtype(dt) and dt != _OBJECT:
        return s if not s.isna().any() else s.astype("boolean")
    if ptypes.is_numeric_dtype(dt) and dt != _OBJECT:
        return pd.Series(s.to_numpy(dtype=float, na_value=np.nan), index=s.index)
    if ptypes.is_datetime64_any_dtype(dt):
        return s
    if ptypes.is_string_dtype(dt) and dt != _OBJECT:
        return s.astype("str")
    values = s.tolist()
    kinds = _value_kinds(values)
    blank = [v is None or (isinstance(v, str) and not v.strip()) for v in values]
    if kinds == {"num"}:
        return pd.Series([np.nan if b else float(v) for v, b in zip(values, blank, strict=True)],
                         index=s.index, dtype=float)
    if kinds == {"datetime"}:
        try:
            return pd.Series(pd.to_datetime([None if b else v for v, b in zip(values, blank, strict=True)]),
                             index=s.index)
        except (ValueError, TypeError, OverflowError):
            pass  # mixed zones or out of range: fall back to text, the time check reports it
    return pd.Series([cell_text(v) for v in values], index=s.index, dtype="str")

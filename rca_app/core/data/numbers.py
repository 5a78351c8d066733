"""Numbers written as text: whole-cell parsing with either decimal mark, and guessing the mark."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["parse_numbers", "detect_decimal"]

_SPACE_GROUP = "[ \u00a0\u202f']"   # 1 234,5 / 1'234.5 (Swiss) grouping


def _number_pattern(decimal: str) -> str:
    group = re.escape("," if decimal == "." else ".")
    dec = re.escape(decimal)
    intpart = rf"(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]{{1,3}}(?:{_SPACE_GROUP}[0-9]{{3}})+|[0-9]+)"
    return rf"[+-]?(?:{intpart}(?:{dec}[0-9]*)?|{dec}[0-9]+)(?:[eE][+-]?[0-9]+)?"


_NUMBER_RE = {d: _number_pattern(d) for d in ".,"}
_INF_RE = r"[+-]?(?:inf|infinity)"


def parse_numbers(s: pd.Series, decimal: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Parse text cells as numbers.

    Only whole-cell numbers count: '12,5x' is bad, not 12.5. Thousands grouping is accepted
    only in its proper form (1,234,567.8 or 1.234.567,8 or 1 234,5), so a lone '12,5' in a
    decimal-point file is reported instead of silently becoming 125.

    Parameters
    ----------
    s : pandas.Series
        A column (text, or already numeric/bool, then taken as is).
    decimal : {".", ","} or None
        The file's decimal mark (None: ".").

    Returns
    -------
    values : numpy.ndarray
        float64, NaN where a cell is missing or no number.
    bad : numpy.ndarray
        bool, True where a cell is present but no number.
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
        parsed[slow] = _parse_grouped(t[slow], decimal)
    values[present] = parsed
    # Whatever is still NaN was present but is no number (the regex uses ASCII digits only,
    # so '١٢' or '𝟙' are reported rather than silently lost).
    bad[present] = np.isnan(parsed)
    return values, bad


def _parse_grouped(u: pd.Series, decimal: str) -> np.ndarray:
    """The cells the C parser refused: thousands groups, the other mark, infinities."""
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
    return sub


def _decimal_evidence(cells: pd.Series) -> tuple[dict[str, int], dict[str, int]]:
    """Decisive (strong) and tie-breaking (weak) counts for each mark over numeric-looking cells."""
    strong = {",": 0, ".": 0}
    weak = {",": 0, ".": 0}
    v = cells[cells.str.fullmatch(r"[+-]?[0-9.,]*[0-9](?:[eE][+-]?[0-9]+)?").fillna(False).astype(bool)]
    if v.empty:
        return strong, weak
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
    return strong, weak


def detect_decimal(columns: list[pd.Series], sep: str | None) -> tuple[str, bool]:
    """Guess the decimal mark from numeric-looking text cells.

    Cells with both marks ('1.234,5'), repeated grouping ('1.234.567') or a mark not followed
    by exactly three digits ('12,5') are decisive. '1,234' / '1.234' could be a decimal or a
    thousands group, so they only break ties, and then only in a semicolon (European) file
    for the comma.

    Parameters
    ----------
    columns : list of pandas.Series
        The text columns of the file (the first 2000 rows of each are read).
    sep : str or None
        The CSV separator, if any.

    Returns
    -------
    mark : str
        "." or ",".
    only_ambiguous_evidence : bool
        True when only cells such as '1,234' decided (worth a warning).
    """
    # Every count is a sum over cells, so all columns' samples are scored in one pass:
    # per-column string operations cost minutes on wide historian exports (thousands of tags).
    cells = pd.concat([s.iloc[:2000] for s in columns], ignore_index=True) if columns else pd.Series([], dtype=object)
    strong, weak = _decimal_evidence(cells.dropna().astype("str"))
    if strong[","] != strong["."]:
        return ("," if strong[","] > strong["."] else "."), False
    if weak[","] and sep == ";" and weak[","] >= weak["."]:
        return ",", True
    return ".", bool(weak[","] or weak["."])

"""Quality cells of a historian export as the pivot reads them, and which of them say "uncertain".

Historians write sample quality in several dialects: words ("Good", "Bad", OPC UA's
"Uncertain"), OPC DA quality codes in decimal (192 = Good) or hexadecimal ("0xC0"), and OPC UA
32-bit status codes in hexadecimal ("0x40000000" = Uncertain). The pivot
(:func:`rca_app.core.historian.pivot_long`) reads words and decimal codes; hexadecimal codes are
turned into the decimal OPC DA code of the same meaning here, before it.

An *uncertain* sample (OPC DA 64-127, OPC UA severity Uncertain, the words "Uncertain..." and
"Questionable") is used as missing, like a bad one: its value may be the last usable value held
by the device, a sensor outside its calibration or a substituted number, none of which is what the
plant did at that time. Because that is a choice, the messages count uncertain samples apart.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["decode_hex_quality", "uncertain_quality"]

_HEX = re.compile(r"^0[xX]([0-9a-fA-F]{1,8})$")
# OPC DA quality of the same meaning as an OPC UA severity (the status code's two top bits).
_UA_TO_DA = {0: 192, 1: 64, 2: 0, 3: 0}
_UNCERTAIN_WORDS = ("uncertain", "questionable")


def _hex_code(cell) -> int | None:
    """The OPC DA code a hexadecimal cell means, or None when it is not one."""
    hit = _HEX.match(str(cell).strip()) if isinstance(cell, str) else None
    if hit is None:
        return None
    digits = hit.group(1)
    code = int(digits, 16)
    if len(digits) > 4:
        # Eight hex digits: an OPC UA status code; its severity sits in the two top bits.
        return _UA_TO_DA[(code >> 30) & 0b11]
    return code


def decode_hex_quality(q: pd.Series) -> tuple[pd.Series, int]:
    """Hexadecimal quality codes written as decimal ones, other cells as they are.

    Parameters
    ----------
    q : Series
        The quality column as read.

    Returns
    -------
    (Series, int)
        The column with "0xC0" read as "192" and "0x40000000" (OPC UA Uncertain) as "64", and how
        many cells were hexadecimal.
    """
    if pd.api.types.is_numeric_dtype(q):
        return q, 0
    codes = [_hex_code(v) for v in q.tolist()]
    n = sum(c is not None for c in codes)
    if not n:
        return q, 0
    out = pd.Series([str(c) if c is not None else v for c, v in zip(codes, q.tolist(), strict=True)],
                    index=q.index, dtype=object)
    return out, n


def uncertain_quality(q: pd.Series) -> np.ndarray:
    """True where a quality cell says "uncertain" (a word, or an OPC DA code 64-127).

    Parameters
    ----------
    q : Series
        The quality column, hexadecimal codes already decoded (:func:`decode_hex_quality`).

    Returns
    -------
    ndarray of bool
    """
    words = q.astype("string").fillna("").str.strip().str.lower()
    by_word = words.str.startswith(_UNCERTAIN_WORDS).to_numpy(dtype=bool)
    codes = pd.to_numeric(words.where(words != ""), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = codes[np.isfinite(codes)]
    if len(finite) and set(np.unique(finite)) <= {0.0, 1.0}:
        return by_word            # a 0/1 flag column has no "uncertain"
    whole = np.isfinite(codes) & (codes == np.round(codes))
    by_code = whole & ((np.nan_to_num(codes, nan=0).astype(np.int64) & 0xC0) == 0x40)
    return by_word | by_code

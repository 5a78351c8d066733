"""Bytes of a CSV file to text: UTF-8 (with or without BOM), UTF-16 with BOM, else
Windows-1252 or Latin-1 with a warning, and a clear refusal of files that are no text."""
from __future__ import annotations

import codecs

from rca_app.core.data.messages import input_error
from rca_app.core.errors import Problem

__all__ = ["decode_text"]


def decode_text(data: bytes, name: str, warnings: list[Problem]) -> tuple[str, str]:
    """Decode a CSV file.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        File name for messages.
    warnings : list of Problem
        Receives the warning when the file is not UTF-8.

    Returns
    -------
    text : str
    encoding : str
        The codec used ("utf-8", "utf-8-sig", "utf-16", "cp1252" or "latin-1").
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise input_error("the file starts like UTF-16 text but cannot be decoded", name) from None
    if data.startswith(b"PK\x03\x04"):
        raise input_error("this is a zip/Excel file, not CSV text; save it with a .xlsx extension", name)
    if b"\x00" in data[:65536]:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise input_error("the file contains binary data (NUL bytes), not CSV text", name)
        text, enc = utf16
        warnings.append(Problem(f"the file is UTF-16 text without a byte-order mark; read it as {enc}",
                                file=name, severity="warning", code="encoding"))
        return _text_table(text, name), enc
    try:
        enc = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        return _text_table(data.decode("utf-8-sig"), name), enc
    except UnicodeDecodeError as e:
        offset = e.start
    for enc in ("cp1252", "latin-1"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        text = _text_table(text, name)
        warnings.append(Problem(
            f"the file is not valid UTF-8 (first bad byte at offset {offset}); read it as "
            f"{enc}. Check that names with °, µ or umlauts look right.",
            file=name, severity="warning", code="encoding",
        ))
        return text, enc
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text without a BOM: ASCII-range characters leave every second byte NUL (the odd
    bytes in little-endian, the even ones in big-endian)."""
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    for enc, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
        if zeros.count(0) >= 0.9 * len(zeros):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                return None
    return None


def _text_table(text: str, name: str) -> str:
    """``text`` when it reads as text; a clear refusal when it is mostly control characters
    (random or binary bytes that happen to have no NUL, an image, an encrypted file)."""
    sample = text[:65536]
    if not sample:
        return text
    control = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\r\n") or 0x7F <= ord(c) < 0xA0 or c == "\ufffd")
    if control > 0.02 * len(sample):
        raise input_error("this is not a text table: the file holds binary data (control characters), "
                          "not comma- or semicolon-separated text", name)
    return text

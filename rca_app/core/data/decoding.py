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
        raise input_error("the file contains binary data (NUL bytes), not CSV text", name)
    try:
        enc = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        return data.decode("utf-8-sig"), enc
    except UnicodeDecodeError as e:
        offset = e.start
    for enc in ("cp1252", "latin-1"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        warnings.append(Problem(
            f"the file is not valid UTF-8 (first bad byte at offset {offset}); read it as "
            f"{enc}. Check that names with °, µ or umlauts look right.",
            file=name, severity="warning", code="encoding",
        ))
        return text, enc
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover

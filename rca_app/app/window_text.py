"""Windows as people type them: ``START/END`` (or ``START..END``), either side open, or "auto".

Shared by the command line and batch files, so a window means the same wherever it is written.
"""
from __future__ import annotations


def split_window(text: str) -> tuple[str | None, str | None]:
    """``START/END`` (or ``START..END``); either side may be empty for an open window.

    Dates such as 03/01/2026 contain slashes too, so with several slashes the middle one
    separates START from END.

    Parameters
    ----------
    text : str
        As typed on the command line or in an incidents file.

    Returns
    -------
    (str or None, str or None)
        Start and end; None for an open side.

    Raises
    ------
    ValueError
        When the text has no separator or an ambiguous one.
    """
    s = text.strip()
    if ".." in s:
        a, b = s.split("..", 1)
    else:
        k = s.count("/")
        if k == 0:
            raise ValueError(f"window '{text}' must look like START/END (or START..END)")
        if k % 2 == 0:
            raise ValueError(f"window '{text}' is ambiguous: use START..END when dates contain slashes")
        cut = [i for i, ch in enumerate(s) if ch == "/"][k // 2]
        a, b = s[:cut], s[cut + 1:]
    a, b = a.strip(), b.strip()
    return (a or None), (b or None)


def parse_window(text: str):
    """"auto" (any case) or the (start, end) pair of :func:`split_window`.

    Parameters
    ----------
    text : str

    Returns
    -------
    str or tuple
        ``"auto"`` or ``(start, end)``.

    Raises
    ------
    ValueError
        See :func:`split_window`.
    """
    if text.strip().lower() == "auto":
        return "auto"
    return split_window(text)


def incident_window(text: str):
    """The incident as ``run_analysis`` takes it: "auto", a (start, end) window, or one row.

    Text without a window separator (``/`` or ``..``) names one row, a single unit, as
    ``analyze --anomaly ROW|TIME`` does; it is resolved against the data by
    :func:`rca_app.core.windows.resolve_windows`.

    Parameters
    ----------
    text : str

    Returns
    -------
    str or tuple
        ``"auto"``, ``(start, end)``, or the one row's text.

    Raises
    ------
    ValueError
        For an empty or ambiguous window.
    """
    t = text.strip()
    if not t:
        raise ValueError("the incident is empty: give a window START/END, 'auto', or one row (ROW or TIME)")
    if t.lower() != "auto" and "/" not in t and ".." not in t:
        return t
    return parse_window(text)

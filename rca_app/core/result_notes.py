"""The result's notes for the engineer, each with what it is about and how much it weighs.

A note is written once by the step that knows what it means (a control loop's reading, the
ambiguity step, the ranking) and carries that meaning as its ``kind`` and ``severity``, so the
window, the terminal and the report decide where to show it from the record, never from its
wording: a note reworded keeps its place.

Results written before notes had kinds (schema version 1) hold plain strings; their kinds are
inferred once, when such a file is read, by :func:`note_from_text` (the wording the window used to
match). Nothing else reads a note's text to classify it.
"""
from __future__ import annotations

import re
from collections import UserString
from dataclasses import dataclass
from typing import Literal

# What a note is about, in the words of the plant and the causal model. The first nine bear on
# how far the ranking can be trusted (see TRUST_ORDER); "data" and "info" say how the analysis
# was done.
NoteKind = Literal[
    "warning",        # the engine's own warning on the whole result (a KPI within noise, a late window)
    "limit",          # a loop's valve at its limit: the controller lost its authority
    "loop",           # a controller compensated, or did not hold its variable
    "no_causes",      # nothing measured links to the KPI: the ranking explains no loss
    "extrapolation",  # the model was carried outside the rows it learnt from
    "unstable",       # an estimate its own resamples disagree with, or a model that diverged
    "direction",      # edges whose direction the data cannot tell
    "origin",         # the drift or disturbance origin that reordered the leading causes
    "reference",      # a short reference period, or one that already holds the fault
    "data",           # sensors or levels the data cannot teach (constant, new in the incident)
    "info",           # how the analysis was done
]
NoteSeverity = Literal["warning", "caution", "info"]

# The kinds that bear on the ranking's trust, most important first: these notes are the first an
# engineer reads (the window's banner, see rca_app.app.result_words.notes_by_importance).
TRUST_ORDER: tuple[NoteKind, ...] = ("warning", "limit", "loop", "no_causes", "extrapolation", "unstable",
                                     "direction", "origin", "reference")


@dataclass(frozen=True, eq=False)
class Note(UserString):
    """One note of the analysis: its text, what it is about and how much it weighs.

    It reads as its text (a :class:`collections.UserString`): ``"limit" in note``,
    ``note.startswith("WARNING:")`` and ``note == "..."`` work as they did when notes were plain
    strings. Where to show it is decided by ``kind`` and ``severity`` alone.

    Attributes
    ----------
    text : str
        The note in plain language, as shown.
    kind : str
        What it is about (see :data:`NoteKind`): "warning", "limit", "loop", "no_causes",
        "extrapolation", "unstable", "direction", "origin", "reference", "data" or "info".
    severity : {"warning", "caution", "info"}
        "warning": the ranking may mislead until this is checked; "caution": read one figure or
        cause with care; "info": how the analysis was done.
    """

    text: str
    kind: NoteKind = "info"
    severity: NoteSeverity = "info"

    @property       # UserString's methods read .data
    def data(self) -> str:  # type: ignore[override]
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        # Another note is equal when all of it is; a plain string when the text is.
        if isinstance(other, Note):
            return (self.text, self.kind, self.severity) == (other.text, other.kind, other.severity)
        return self.text == (other.data if isinstance(other, UserString) else other)

    def __hash__(self) -> int:
        return hash(self.text)       # equal notes (and a note and its text) hash alike

    @property
    def trust_rank(self) -> int:
        """Where the note stands among those on the ranking's trust (0 first); notes on how the
        analysis was done come after all of them (``len(TRUST_ORDER)``)."""
        return TRUST_ORDER.index(self.kind) if self.kind in TRUST_ORDER else len(TRUST_ORDER)


BEYOND_SHARE = 100.0   # a share of 100 times the whole or more is shown as "> 10,000%"


def beyond_share(v: float) -> str | None:
    """"> 10,000" (or "< -10,000") for a share of :data:`BEYOND_SHARE` times the whole or more,
    without the percent sign; None for a share that is shown with its digits."""
    if abs(v) < BEYOND_SHARE:
        return None
    return f"{'>' if v > 0 else '<'} {'' if v > 0 else '-'}{100 * BEYOND_SHARE:,.0f}"


def share_text(v: float) -> str:
    """A share (1.0 = all) as a whole percentage for a note: ``0.92`` -> ``92%``.

    From :data:`BEYOND_SHARE` times the whole on it reads "> 10,000%" (or "< -10,000%"): such a
    restoration is the model carried far beyond its data, and its digits would read as a finding
    (the result's JSON keeps them).

    Parameters
    ----------
    v : float

    Returns
    -------
    str
    """
    beyond = beyond_share(v)
    if beyond is not None:
        return beyond + "%"
    text = f"{100 * v:.0f}"
    return ("0" if text == "-0" else text) + "%"


def as_note(message: str | Note) -> Note:
    """A note as it is, or a plain string as a note of kind "info".

    The engine's steps that write a note on the ranking's trust give its kind themselves; any
    other string is a note on how the analysis was done.

    Parameters
    ----------
    message : str or Note

    Returns
    -------
    Note
    """
    return message if isinstance(message, Note) else Note(str(message))


# The wording the window matched before notes had kinds, most important first. Used only for
# notes written without a kind (schema version 1 results): :func:`note_from_text`.
_OLD_WORDING: list[tuple[NoteKind, NoteSeverity, re.Pattern]] = [
    ("warning", "warning", re.compile(r"^WARNING:")),
    ("limit", "warning", re.compile(r"at its limit|ran at its limit|to its (declared )?limit|saturat|lost authority",
                                    re.I)),
    ("loop", "caution", re.compile(r"^the controller of |compensated", re.I)),
    ("no_causes", "warning", re.compile(r"no causes|no sensor|could not be linked", re.I)),
    ("extrapolation", "caution", re.compile(r"outside (the range|what was observed)|extrapolat", re.I)),
    ("unstable", "caution", re.compile(r"unstable|disagree", re.I)),
    ("direction", "caution", re.compile(r"cannot tell the direction|undetermined", re.I)),
    ("origin", "caution", re.compile(r"began to drift|where the disturbance entered", re.I)),
    ("reference", "caution", re.compile(r"reference (period|window) (is )?short|few reference rows|"
                                        r"contains? .*fault", re.I)),
]


def note_from_text(text: str) -> Note:
    """The note a plain string of an older result stands for, its kind read from its wording.

    The one place notes are classified by their text: results written before notes had kinds
    (schema version 1) are read with it, once, and keep the order the window gave them then.

    Parameters
    ----------
    text : str

    Returns
    -------
    Note
        Kind and severity of the first wording it matches; "info" when none.
    """
    for kind, severity, wording in _OLD_WORDING:
        if wording.search(text):
            return Note(text, kind, severity)
    return Note(text)

"""The engineer's free-text notes for the report (8D fields), from JSON or plain text.

JSON: an object with any of the keys below (strings, or lists of strings). Text: sections
headed ``Team:``, ``Containment:``, ``Corrective action:`` or ``Comments:`` (a heading may
carry text on the same line); text before any heading counts as comments.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from rca_app.core.errors import Problem, RcaInputError

NOTE_KEYS = ("team", "containment", "corrective_action", "comments")
_ALIASES = {
    "team": "team", "d1": "team",
    "containment": "containment", "containment action": "containment",
    "containment actions": "containment", "d3": "containment",
    "corrective action": "corrective_action", "corrective actions": "corrective_action",
    "corrective_action": "corrective_action", "d5": "corrective_action",
    "comments": "comments", "comment": "comments", "notes": "comments",
}
_HEADING = re.compile(r"^\s*(?:#+\s*)?([A-Za-z0-9_ ]{2,24}?)\s*:\s*(.*)$")


def _clean(v) -> str | list[str] | None:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        items = [str(x).strip() for x in v if str(x).strip()]
        return items or None
    s = str(v).strip()
    return s or None


def normalize_notes(notes: dict | None) -> dict:
    """Known keys only (aliases such as "D3" accepted), empty values dropped."""
    out: dict = {}
    for k, v in (notes or {}).items():
        key = _ALIASES.get(str(k).strip().lower().replace("-", " "))
        if key is None:
            key = "comments"
            v = f"{k}: {v}" if not isinstance(v, (list, tuple)) else [f"{k}: {x}" for x in v]
        v = _clean(v)
        if v is None:
            continue
        if key in out:  # two fields mapping to one key: keep both
            prev = out[key] if isinstance(out[key], list) else [out[key]]
            v = prev + (v if isinstance(v, list) else [v])
        out[key] = v
    return out


def parse_notes_text(text: str) -> dict:
    sections: dict[str, list[str]] = {}
    key = "comments"
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m and m.group(1).strip().lower() in _ALIASES:
            key = _ALIASES[m.group(1).strip().lower()]
            rest = m.group(2).strip()
            sections.setdefault(key, [])
            if rest:
                sections[key].append(rest)
            continue
        sections.setdefault(key, []).append(line.rstrip())
    return normalize_notes({k: "\n".join(v).strip() for k, v in sections.items()})


def load_notes(path) -> dict:
    """Read a notes file; a problem (missing, unreadable, bad JSON) is an input error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RcaInputError(Problem("notes file not found", file=str(path))) from None
    except (OSError, UnicodeDecodeError) as e:
        raise RcaInputError(Problem(f"cannot read the notes file: {e}", file=str(path))) from None
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise RcaInputError(Problem(f"not valid JSON: {e.msg}", file=str(path), row=e.lineno)) from None
        if not isinstance(obj, dict):
            raise RcaInputError(Problem(
                "the JSON notes must be an object with keys such as team, containment, "
                "corrective_action, comments", file=str(path)))
        return normalize_notes(obj)
    return parse_notes_text(text)

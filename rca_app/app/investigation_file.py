"""The investigation file (``.rcainv``): versioned JSON, saved atomically, migrated on load.

The data itself is not copied into the file: its path and SHA-256 are (:class:`DataRef`), so a
moved or edited data file is detected and explained instead of silently analysed.

Every change of the format raises :data:`SCHEMA_VERSION` and registers one migration from the
previous version (``@migration(from_version=N)``); loading walks the chain N -> N+1 -> ... on a
copy, so a failed migration leaves nothing half-converted. A file from a newer app is refused
with a plain explanation. Each released version keeps a fixture file in
``tests/fixtures/investigations`` that must still open.
"""
from __future__ import annotations

import copy
import datetime as _dt
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from rca_app.app.data_file import DataRef
from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.fileio import json_text, write_text_atomic
from rca_app.core.graph import CausalGraph
from rca_app.core.impact_records import ChangeSpec, ImpactResult, impact_from_json, impact_to_json
from rca_app.core.results import AnalysisResult, result_from_json, result_to_json
from rca_app.core.serialization import MigrationError, SchemaError, from_json_data, register_migration, upgrade
from rca_app.core.settings import AnalysisSettings

SCHEMA_VERSION = 2
FILE_KIND = "rca_app investigation"
FILE_SUFFIX = ".rcainv"


# from_version -> function turning a dict of that version into one of the next version.
_MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def migration(from_version: int) -> Callable:
    """Register the upgrade of a file of ``from_version`` to ``from_version + 1``.

    Parameters
    ----------
    from_version : int
        The format version the decorated function reads.

    Returns
    -------
    callable
        A decorator; the function takes and returns a plain dict (it need not set
        ``schema_version``: :func:`migrate` does).
    """
    return register_migration(_MIGRATIONS, from_version)


@dataclass
class Verification:
    """A corrective action and whether it worked (the "Verify the fix" step, D6/D7).

    Attributes
    ----------
    change : ChangeSpec
        When and what changed, as the engineer gave it.
    data : DataRef or None
        The data file extended past the change (often a newer export than the investigation's).
    result : ImpactResult or None
        The verdict and everything behind it (stored as
        :func:`rca_app.core.impact_records.impact_to_json`).
    """

    change: ChangeSpec
    data: DataRef | None = None
    result: ImpactResult | None = None


@dataclass
class Investigation:
    """Everything needed to reopen an investigation where it was left.

    The field types are the file's schema: loading checks every key, type and bound
    (:func:`load_investigation`), because an investigation file may come from anywhere.

    Attributes
    ----------
    data : DataRef or None
        The data file (path, SHA-256, reading options).
    layout_toml, layout_source : str
        The layout's TOML text and file name.
    reference, anomaly : list or None
        ``[start, end]`` windows in the engineer's terms.
    graph : dict or None
        The current (possibly edited) graph, ``CausalGraph.to_dict()``.
    graph_edits : list of dict
        The engineer's edits in order (``op``, ``source``, ``target``).
    settings : dict
        ``AnalysisSettings.to_dict()``.
    result : AnalysisResult or None
        The typed result (stored as :func:`rca_app.core.results.result_to_json`, read back with
        :func:`rca_app.core.results.result_from_json`, which migrates older result versions);
        the fitted model is not saved (it is refitted to rebuild).
    result_stale : bool
        Inputs changed after the result was computed.
    notes : dict of str to str
        The engineer's report notes.
    verification : Verification or None
        The corrective action verified after the investigation, and its result.
    step : int
        The step the engineer was on (0..6, :data:`rca_app.app.session.STEPS`; the window's
        "Verify the fix" page is saved as the what-if step it follows).
    saved_at, software
        When and by which rca_app version it was saved.
    """

    data: DataRef | None = None
    layout_toml: str | None = None
    layout_source: str = "layout.toml"
    reference: list[str | int | None] | None = None   # [start, end] in the user's terms
    anomaly: list[str | int | None] | None = None
    graph: dict[str, Any] | None = None   # the current (possibly edited) graph, CausalGraph.to_dict()
    graph_edits: list[dict[str, str]] = field(default_factory=list)  # {"op", "source", "target"} in order
    settings: dict[str, Any] = field(default_factory=dict)           # AnalysisSettings.to_dict()
    result: AnalysisResult | None = None   # stored as result_to_json(result)
    result_stale: bool = False        # inputs changed after the result was computed
    notes: dict[str, str] = field(default_factory=dict)              # report notes: free text by field
    verification: Verification | None = None
    step: int = field(default=0, metadata={"min": 0, "max": 6})     # the step the engineer was on
    saved_at: str | None = None
    software: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The file's JSON object, with ``schema_version`` and ``kind`` first."""
        d = asdict(replace(self, result=None, verification=None))   # results are written by their own rules
        d["data"] = self.data.to_dict() if self.data else None
        d["result"] = result_to_json(self.result) if self.result is not None else None
        d["verification"] = _verification_to_json(self.verification)
        return {"schema_version": SCHEMA_VERSION, "kind": FILE_KIND, **d}

    @classmethod
    def from_dict(cls, d: dict, source: str = "investigation") -> Investigation:
        """Build from a file's (migrated) JSON object, checking every key, type and bound.

        Parameters
        ----------
        d : dict
            The file's JSON object at the current schema version.
        source : str, default "investigation"
            File name for messages.

        Returns
        -------
        Investigation

        Raises
        ------
        RcaInputError
            One problem per thing wrong, each naming the file and where in it.
        """
        d = {k: v for k, v in d.items() if k not in ("schema_version", "kind")}
        # The result has its own schema version and migrations: it is read on its own, and its
        # problems are reported with the rest of the file's, each under "result.".
        result_data = d.pop("result", None)
        verification_data = d.pop("verification", None)
        problems: list[str] = []
        inv = None
        try:
            inv = from_json_data(cls, d, source)
        except SchemaError as e:
            problems += e.problems
        result = None
        if result_data is not None:
            try:
                result = result_from_json(result_data, source)
            except SchemaError as e:
                problems += [f"result: {p.removeprefix('top level: ')}" if p.startswith("top level")
                             else f"result.{p}" for p in e.problems]
        verification = None
        if verification_data is not None:
            try:
                verification = _verification_from_json(verification_data, source)
            except SchemaError as e:
                problems += [f"verification.{p.removeprefix('top level: ')}" for p in e.problems]
        if problems or inv is None:
            raise RcaInputError([Problem(f"{p}", file=source, code="bad_content") for p in problems])
        inv.result = result
        inv.verification = verification
        problems = inv._content_problems()
        if problems:
            raise RcaInputError([Problem(p, file=source, code="bad_content") for p in problems])
        return inv

    def _content_problems(self) -> list[str]:
        """What the types alone cannot say: window pairs, graph shape, edit operations."""
        from rca_app.app.graph_edit import EDIT_OPS

        out = []
        for name in ("reference", "anomaly"):
            w = getattr(self, name)
            if w is not None and len(w) != 2:
                out.append(f"{name}: a window is [start, end], found {len(w)} values")
        if self.graph is not None:
            try:
                CausalGraph.from_dict(self.graph)
            except (KeyError, TypeError, ValueError, RcaInputError) as e:
                out.append(f"graph: not a causal graph ({type(e).__name__}: {e})")
        for i, e in enumerate(self.graph_edits):
            if e.get("op") not in EDIT_OPS or not e.get("source") or not e.get("target"):
                out.append(f"graph_edits[{i}]: expected an op ({', '.join(EDIT_OPS)}), a source and a target")
        try:
            from_json_data(AnalysisSettings, self.settings, "settings")
        except SchemaError as e:
            out += [f"settings.{p}" for p in e.problems]
        return out

    def without_results(self) -> None:
        """Forget the graph and results (they described another data file)."""
        self.result, self.graph, self.graph_edits, self.result_stale = None, None, [], False


def _verification_to_json(v: Verification | None) -> dict | None:
    if v is None:
        return None
    return {"change": asdict(v.change), "data": v.data.to_dict() if v.data else None,
            "result": impact_to_json(v.result) if v.result is not None else None}


def _verification_from_json(d, source: str) -> Verification:
    if not isinstance(d, dict):
        raise SchemaError([f"top level: expected an object, found {type(d).__name__}"], source)
    d = dict(d)
    result_data = d.pop("result", None)
    v = from_json_data(Verification, {**d, "result": None}, source)
    if result_data is not None:
        try:
            v.result = impact_from_json(result_data, source)
        except SchemaError as e:
            raise SchemaError([f"result.{p}" for p in e.problems], source) from None
    return v


@migration(from_version=1)
def _verification_added(d: dict) -> dict:
    """Version 2 adds the verified corrective action (none in an older file)."""
    d["verification"] = None
    return d


def to_json(inv: Investigation) -> str:
    """The file's text: strict JSON (one space indent; an undefined number is ``null``).

    Parameters
    ----------
    inv : Investigation

    Returns
    -------
    str
    """
    return json_text(inv.to_dict(), indent=1)


def write_json(obj, path: str | Path) -> Path:
    """Atomically write any result-like object as JSON (the "Export results as JSON" menu).

    Parameters
    ----------
    obj : object
        JSON-ready data (numpy values, times and paths are converted, NaN written as ``null``).
    path : str or Path

    Returns
    -------
    Path
        ``path``.
    """
    return write_text_atomic(path, json_text(obj, indent=1), newline="\n")


def save_investigation(inv: Investigation, path: str | Path) -> Path:
    """Atomically write ``inv`` to ``path``; the data path is also stored relative to it.

    Parameters
    ----------
    inv : Investigation
        Not changed: the time stamp, software version and relative path go into a copy.
    path : str or Path
        The ``.rcainv`` file; the old content stays whole if writing fails.

    Returns
    -------
    Path
    """
    import rca_app

    path = Path(path)
    inv = copy.deepcopy(inv)
    inv.saved_at = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    inv.software = {"name": "rca_app", "version": rca_app.__version__}
    if inv.data is not None and inv.data.path:
        try:
            inv.data.relative_path = os.path.relpath(inv.data.path, path.resolve().parent)
        except ValueError:   # another drive on Windows: no relative path exists
            inv.data.relative_path = None
    write_text_atomic(path, to_json(inv), newline="\n")
    return path


def migrate(d: dict, source: str = "investigation") -> dict:
    """Bring an investigation dict of any known version up to :data:`SCHEMA_VERSION`.

    Parameters
    ----------
    d : dict
        The file's JSON object; it is not changed (migrations run on a copy).
    source : str
        The file name, for messages.

    Returns
    -------
    dict
        The same investigation in the current format.
    """
    try:
        return upgrade(_MIGRATIONS, d, SCHEMA_VERSION)
    except MigrationError as e:
        v = e.version
        message, code = {
            "no_version": ("this file has no valid 'schema_version', so it is not an rca_app investigation "
                           "(or it is damaged)", "not_investigation"),
            "newer": (f"this investigation was saved by a newer rca_app (file format version {v}); this "
                      f"version reads formats up to {SCHEMA_VERSION}. Update rca_app to open it.", "newer_schema"),
            "bad_version": (f"unknown file format version {v}", "bad_schema"),
            # A release forgot its migration: say so rather than guess.
            "missing_step": (f"no way to read file format version {v} in this rca_app", "bad_schema"),
            "failed": (f"the investigation (format version {v}) could not be converted to version "
                       f"{(v or 0) + 1}: {e.detail}", "bad_content"),
        }[e.kind]
        raise RcaInputError(Problem(message, file=source, code=code)) from None


def load_investigation(path: str | Path) -> Investigation:
    """Read an investigation file, migrating older versions.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Investigation
        RcaInputError (one Problem naming the file) says what is wrong otherwise.
    """
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RcaInputError(Problem(f"file not found: {path}", file=name, code="not_found")) from None
    except (OSError, UnicodeDecodeError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise RcaInputError(Problem(f"cannot read the investigation file: {why}", file=name,
                                    code="unreadable")) from None
    try:
        d = json.loads(text)
    except RecursionError:
        raise RcaInputError(Problem("the investigation file is damaged (nested too deeply to be one)",
                                    file=name, code="bad_json")) from None
    except json.JSONDecodeError as e:
        raise RcaInputError(Problem(
            f"the investigation file is damaged (not valid JSON at line {e.lineno}, column {e.colno})",
            file=name, code="bad_json")) from None
    if not isinstance(d, dict) or d.get("kind") != FILE_KIND:
        raise RcaInputError(Problem("this is not an rca_app investigation file", file=name,
                                    code="not_investigation"))
    d = migrate(d, name)
    return Investigation.from_dict(d, name)


def safe_file_stem(name: str | None) -> str:
    """A file name from a plant name ("Line 7 / North" -> "Line_7___North"), for save dialogs.

    Parameters
    ----------
    name : str or None

    Returns
    -------
    str
        At most 60 characters; ``"investigation"`` when nothing usable is left.
    """
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in (name or "investigation"))
    return keep.strip("_")[:60] or "investigation"

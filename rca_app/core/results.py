"""The result of one analysis: the :class:`AnalysisResult`, its JSON form, schema versions and
migrations.

Everything an investigation found is an :class:`AnalysisResult`: plain dataclasses down to the
last number, so the CLI, the report, the GUI and the investigation file read attributes, not
string keys. The records it is made of live in :mod:`rca_app.core.result_records` and are
re-exported here (import them from either). :func:`result_to_json` writes strict JSON (``null``
for an undefined number); :func:`result_from_json` migrates older versions step by step and
validates every key, type and bound, reporting every problem with its path.
``schemas/analysis_result.schema.json`` is the same contract written as a JSON Schema for other
programs (a test keeps it in step).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from rca_app.core.errors import Problem
from rca_app.core.records import Action, InvarianceCheck, MechanismReport, NoiseCheck, RootCause
from rca_app.core.result_notes import Note, as_note, note_from_text
from rca_app.core.result_records import (
    Diagnostics,
    DynamicsRecord,
    GraphEdgeRecord,
    GraphNodeRecord,
    GraphRecord,
    HiddenCauseRecord,
    IncidentRecord,
    InputRecord,
    LaggedEdge,
    LagRecord,
    LayoutRecord,
    LoopProposal,
    LoopRecord,
    NotProposedAction,
    OwnAnomalyRecord,
    RankingBasis,
    UnstableEdge,
    WindowRecord,
)
from rca_app.core.serialization import (
    MigrationError,
    SchemaError,
    from_json_data,
    json_schema,
    register_migration,
    to_json_data,
    upgrade,
)

# The result and its records, importable from here as before the records moved out; the rest
# (Note, RootCause, Action, ...) as the result's own annotations and callers use them.
__all__ = [
    "RESULT_SCHEMA_VERSION", "MIGRATIONS", "AnalysisResult", "migration", "migrate_result", "result_to_json",
    "result_from_json", "result_json_schema", "as_result",
    "Diagnostics", "DynamicsRecord", "GraphEdgeRecord", "GraphNodeRecord", "GraphRecord", "HiddenCauseRecord",
    "IncidentRecord", "InputRecord", "LaggedEdge", "LagRecord", "LayoutRecord", "LoopProposal", "LoopRecord",
    "NotProposedAction", "OwnAnomalyRecord", "RankingBasis", "UnstableEdge", "WindowRecord",
    "Action", "InvarianceCheck", "MechanismReport", "NoiseCheck", "Note", "Problem", "RootCause", "SchemaError",
    "as_note",
]

# 2: diagnostics.messages are notes with their kind and severity (plain strings before).
RESULT_SCHEMA_VERSION = 2


@dataclass
class AnalysisResult:
    """Everything an investigation found.

    Attributes
    ----------
    target : str
        The KPI (yield) column.
    goal : {"maximize", "minimize"}
    plant : str
        Plant name from the layout.
    anomaly : IncidentRecord
        The incident window and the KPI's shortfall in it.
    reference : WindowRecord
        The window of normal operation the incident is compared with.
    root_causes : list of RootCause
        Ranked by restoration: the share of the shortfall that comes back if the sensor behaves
        as in the reference period (with bootstrap intervals).
    actions : list of Action
        Setpoint changes (do-operator on controllable sensors) and their predicted KPI.
    graph : GraphRecord
        The causal graph used, with fitted effects.
    mechanisms : list of MechanismReport
        Fit quality of each node's mechanism (its model given its parents).
    diagnostics : Diagnostics
        Checks and warnings: how far to trust the result.
    settings : dict
        ``AnalysisSettings`` used.
    seed : int
        Random seed: the same inputs and seed give the same result.
    software : dict of str to str
        Versions of rca_app and its libraries.
    input : InputRecord
    layout : LayoutRecord
    schema_version : int
    ranking_basis : RankingBasis or None
        Which ranking the root causes come from, and why.
    not_proposed : list of NotProposedAction
        Controllable setpoints the ranking tried and did not propose as actions, and why (empty in
        results written before they were recorded).
    """

    target: str
    goal: Literal["maximize", "minimize"]
    plant: str
    anomaly: IncidentRecord
    reference: WindowRecord
    root_causes: list[RootCause]
    actions: list[Action]
    graph: GraphRecord
    mechanisms: list[MechanismReport]
    diagnostics: Diagnostics
    settings: dict
    seed: int
    software: dict[str, str]
    input: InputRecord
    layout: LayoutRecord
    schema_version: int = RESULT_SCHEMA_VERSION
    # Time-series data: residence times, alignment, control loops (None for row-by-row data).
    dynamics: DynamicsRecord | None = None
    # Which ranking was used and why (absent in results written before incident shapes).
    ranking_basis: RankingBasis | None = None
    # Setpoints tried and left out of the actions (the report, window and terminal say why).
    not_proposed: list[NotProposedAction] = field(default_factory=list)

    @property
    def top_cause(self) -> RootCause | None:
        """The highest-ranked root cause, or None if there is none."""
        return self.root_causes[0] if self.root_causes else None

    def to_dict(self) -> dict:
        """Strict-JSON-ready data (see :func:`result_to_json`)."""
        return result_to_json(self)

    @classmethod
    def from_dict(cls, data: dict) -> AnalysisResult:
        """The typed result from JSON data of any schema version (see :func:`result_from_json`)."""
        return result_from_json(data)


# Migrations: MIGRATIONS[v] turns a version-v result into version v + 1 (pure dict -> dict).
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def migration(from_version: int):
    """Register a function that upgrades a result from ``from_version`` to the next version.

    Parameters
    ----------
    from_version : int
        The schema version the decorated function reads.

    Returns
    -------
    callable
        Decorator registering a ``dict -> dict`` function in :data:`MIGRATIONS`.
    """
    return register_migration(MIGRATIONS, from_version)


@migration(1)
def _notes_with_kinds(data: dict) -> dict:
    """Version 2 records each note's kind and severity; a version-1 note (a plain string) gets
    those its wording stood for (:func:`~rca_app.core.result_notes.note_from_text`)."""
    diagnostics = data.get("diagnostics")
    if isinstance(diagnostics, dict) and isinstance(diagnostics.get("messages"), list):
        diagnostics["messages"] = [to_json_data(note_from_text(m)) if isinstance(m, str) else m
                                   for m in diagnostics["messages"]]
    return data


def migrate_result(data: dict, what: str = "result") -> dict:
    """Upgrade result data of any earlier schema version to the current one.

    Parameters
    ----------
    data : dict
        Result JSON data; a missing ``schema_version`` means version 1.
    what : str, default "result"
        Name of the data in messages (e.g. the file name).

    Returns
    -------
    dict
        Data at :data:`RESULT_SCHEMA_VERSION`.

    Raises
    ------
    SchemaError
        If ``data`` is not an object, was written by a newer rca_app, or a migration is missing.
    """
    if not isinstance(data, dict):
        raise SchemaError([f"top level: expected an object, found {type(data).__name__}"], what)
    try:
        return upgrade(MIGRATIONS, {"schema_version": 1, **data}, RESULT_SCHEMA_VERSION)
    except MigrationError as e:
        if e.kind == "newer":
            raise SchemaError([f"schema_version {e.version} was written by a newer rca_app (this one reads up "
                               f"to {RESULT_SCHEMA_VERSION}); update rca_app to open it"], what) from None
        raise SchemaError([f"schema_version: {e}"], what) from None


def result_to_json(result: AnalysisResult) -> dict:
    """Strict-JSON-ready data of a result (no NaN: undefined numbers are ``null``).

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    dict
    """
    return to_json_data(result)


def result_from_json(data: dict, what: str = "result") -> AnalysisResult:
    """A typed result from JSON data of any schema version, migrated and validated.

    Parameters
    ----------
    data : dict
        Parsed JSON of a result file.
    what : str, default "result"
        Name of the data in messages.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    SchemaError
        Listing every problem (unknown or missing keys, wrong types, out-of-bound values).
    """
    return from_json_data(AnalysisResult, migrate_result(data, what), what)


def result_json_schema() -> dict:
    """The JSON Schema of the current result version.

    Returns
    -------
    dict
        A JSON Schema document.
    """
    return json_schema(AnalysisResult, f"rca_app analysis result, schema version {RESULT_SCHEMA_VERSION}")


def as_result(result) -> AnalysisResult:
    """A typed result from whatever a caller holds: the typed record itself, its JSON data (an
    investigation file's ``result``), or any object with ``to_dict()``.

    Parameters
    ----------
    result : AnalysisResult, dict or object with ``to_dict``

    Returns
    -------
    AnalysisResult

    Raises
    ------
    SchemaError
        When the data do not fit the result's schema.
    """
    if isinstance(result, AnalysisResult):
        return result
    if isinstance(result, dict):
        return result_from_json(result)
    if hasattr(result, "to_dict"):
        return result_from_json(result.to_dict())
    raise TypeError(f"not an analysis result: {type(result).__name__}")

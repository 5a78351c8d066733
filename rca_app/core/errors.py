"""Problems found in the user's input, and the one exception that carries them.

Every check collects *all* problems before raising, so an engineer fixes a file once,
not once per run. A problem names where it is: file, column and row.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth knowing) about an input file.

    ``row`` is the row number a person sees when opening the file in a spreadsheet:
    the header is row 1, the first data row is row 2 (for Parquet, whose files have no
    header line, the same convention is kept so numbers are comparable).
    """

    message: str
    file: str | None = None
    column: str | None = None
    row: int | None = None
    severity: Severity = "error"
    # Optional machine-readable code, e.g. "non_numeric", used by the GUI to jump to a cell.
    code: str | None = None

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict:
        return asdict(self)


class RcaInputError(Exception):
    """Bad input from the user (data file, layout, windows, graph edits).

    Carries every problem found, so the CLI prints them all and the GUI lists them.
    """

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = [p for p in problems]
        super().__init__("\n".join(str(p) for p in self.problems))


class Cancelled(Exception):
    """The user cancelled a long computation; nothing was changed."""


@dataclass
class ProblemList:
    """Collector used by validators: add problems, then raise once if any is an error."""

    items: list[Problem] = field(default_factory=list)

    def add(self, message: str, **where) -> None:
        self.items.append(Problem(message, **where))

    def warn(self, message: str, **where) -> None:
        self.items.append(Problem(message, severity="warning", **where))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise RcaInputError(self.errors)

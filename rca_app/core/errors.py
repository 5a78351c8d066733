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

    Attributes
    ----------
    message : str
        What is wrong, in the engineer's words.
    file, column : str or None
        Where it is, if known.
    row : int or None
        Spreadsheet row number (see above).
    severity : {"error", "warning"}
        Errors stop the analysis; warnings are shown and the analysis goes on.
    code : str or None
        Machine-readable kind, e.g. ``"non_numeric"``, used by the GUI to jump to a cell.
    """

    message: str
    file: str | None = None
    column: str | None = None
    row: int | None = None
    severity: Severity = "error"
    # Optional machine-readable code, e.g. "non_numeric", used by the GUI to jump to a cell.
    code: str | None = None

    def where(self) -> str:
        """Where the problem is, as text.

        Returns
        -------
        str
            E.g. ``"line.csv, column 'T3', row 12"``; empty if nothing is known.
        """
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
        """Plain ``dict`` of the fields, for JSON."""
        return asdict(self)


class RcaInputError(Exception):
    """Bad input from the user (data file, layout, windows, graph edits).

    Carries every problem found, so the CLI prints them all and the GUI lists them.

    Parameters
    ----------
    problems : list of Problem, Problem or str
        What is wrong; a plain string becomes one error without a location.

    Attributes
    ----------
    problems : list of Problem
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
        """Record an error.

        Parameters
        ----------
        message : str
            What is wrong.
        **where
            ``file``, ``column``, ``row`` or ``code`` (see :class:`Problem`).
        """
        self.items.append(Problem(message, **where))

    def warn(self, message: str, **where) -> None:
        """Record a warning (the analysis still runs).

        Parameters
        ----------
        message : str
            What is worth knowing.
        **where
            ``file``, ``column``, ``row`` or ``code`` (see :class:`Problem`).
        """
        self.items.append(Problem(message, severity="warning", **where))

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity "error"."""
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems of severity "warning"."""
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        """Raise once with every error collected, if there is any.

        Raises
        ------
        RcaInputError
            Carrying all errors (warnings are left in :attr:`items`).
        """
        if self.errors:
            raise RcaInputError(self.errors)

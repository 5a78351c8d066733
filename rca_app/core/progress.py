"""Progress and cancellation for long work, with no GUI dependency.

The engine's long steps take a ``progress`` object. The CLI passes a console printer, the GUI
a Qt bridge, tests a recorder. Cancelling raises :class:`~rca_app.core.errors.Cancelled`.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Protocol

from rca_app.core.errors import Cancelled


class Progress(Protocol):
    """What the engine's long steps report to: a console printer, a Qt bridge or a test recorder.

    Any object with these two methods will do (structural typing).
    """
    def step(self, message: str, fraction: float | None = None) -> None:
        """Report what is being done and, if known, how far along (0..1) the whole job is.

        Parameters
        ----------
        message : str
            Short text for the engineer, e.g. "discovering the graph".
        fraction : float, optional
            Share of the whole job done, 0..1; None if not known.
        """

    def cancelled(self) -> bool:
        """Whether the user asked to stop.

        Returns
        -------
        bool
            True once the user asked to stop; long steps then raise :class:`Cancelled`.
        """


class NullProgress:
    """Reports nothing and never cancels."""

    def step(self, message: str, fraction: float | None = None) -> None:
        """Ignore the step (see :meth:`Progress.step`)."""
        pass

    def cancelled(self) -> bool:
        """Never cancelled: always False."""
        return False


class CancelFlag:
    """A progress object whose cancel flag can be set from another thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.messages: list[tuple[str, float | None]] = []

    def cancel(self) -> None:
        """Ask the running job to stop (safe from any thread)."""
        self._event.set()

    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def step(self, message: str, fraction: float | None = None) -> None:
        """Record ``(message, fraction)`` in :attr:`messages` (see :meth:`Progress.step`)."""
        self.messages.append((message, fraction))


class ConsoleProgress:
    """Writes one line per step to stderr (the CLI's progress).

    Parameters
    ----------
    stream : file-like, optional
        Where to write; default ``sys.stderr``.
    quiet : bool, default False
        Write nothing (``--quiet``).
    """

    def __init__(self, stream=None, quiet: bool = False) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet or self._stream is None
        self._start = time.perf_counter()
        self._last = ""

    def step(self, message: str, fraction: float | None = None) -> None:
        """Print ``[elapsed] pct% message`` unless quiet or repeated (see :meth:`Progress.step`)."""
        if self._quiet or message == self._last:
            return
        self._last = message
        pct = f"{100 * fraction:5.1f}% " if fraction is not None else ""
        elapsed = time.perf_counter() - self._start
        print(f"[{elapsed:6.1f}s] {pct}{message}", file=self._stream, flush=True)

    def cancelled(self) -> bool:
        """Never cancelled from the console: Ctrl+C raises instead."""
        return False


def check_cancel(progress: Progress | None) -> None:
    """Raise :class:`Cancelled` if the user asked to stop.

    Parameters
    ----------
    progress : Progress or None
        The job's progress object; None never cancels.

    Raises
    ------
    Cancelled
        If ``progress.cancelled()`` is true.
    """
    if progress is not None and progress.cancelled():
        raise Cancelled("cancelled by the user")


class SubProgress:
    """Maps a sub-task's 0..1 onto a slice [lo, hi] of the parent's progress.

    Parameters
    ----------
    parent : Progress or None
        The whole job's progress; None reports nothing.
    lo, hi : float
        The slice of the parent's 0..1 this sub-task covers.
    prefix : str, default ""
        Put before every message, e.g. "bootstrap: ".
    """

    def __init__(self, parent: Progress | None, lo: float, hi: float, prefix: str = "") -> None:
        self._parent = parent or NullProgress()
        self._lo, self._hi, self._prefix = lo, hi, prefix

    def step(self, message: str, fraction: float | None = None) -> None:
        """Forward the step to the parent with the fraction mapped into [lo, hi]."""
        f = None if fraction is None else self._lo + (self._hi - self._lo) * min(max(fraction, 0.0), 1.0)
        self._parent.step(f"{self._prefix}{message}", f)

    def cancelled(self) -> bool:
        """The parent's cancel flag."""
        return self._parent.cancelled()

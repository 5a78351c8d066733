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
    def step(self, message: str, fraction: float | None = None) -> None:
        """Report what is being done and, if known, how far along (0..1) the whole job is."""

    def cancelled(self) -> bool:
        """True once the user asked to stop."""


class NullProgress:
    """Reports nothing and never cancels."""

    def step(self, message: str, fraction: float | None = None) -> None:
        pass

    def cancelled(self) -> bool:
        return False


class CancelFlag:
    """A progress object whose cancel flag can be set from another thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.messages: list[tuple[str, float | None]] = []

    def cancel(self) -> None:
        self._event.set()

    def cancelled(self) -> bool:
        return self._event.is_set()

    def step(self, message: str, fraction: float | None = None) -> None:
        self.messages.append((message, fraction))


class ConsoleProgress:
    """Writes one line per step to stderr (the CLI's progress)."""

    def __init__(self, stream=None, quiet: bool = False) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet or self._stream is None
        self._start = time.perf_counter()
        self._last = ""

    def step(self, message: str, fraction: float | None = None) -> None:
        if self._quiet or message == self._last:
            return
        self._last = message
        pct = f"{100 * fraction:5.1f}% " if fraction is not None else ""
        elapsed = time.perf_counter() - self._start
        print(f"[{elapsed:6.1f}s] {pct}{message}", file=self._stream, flush=True)

    def cancelled(self) -> bool:
        return False


def check_cancel(progress: Progress | None) -> None:
    """Raise :class:`Cancelled` if the user asked to stop."""
    if progress is not None and progress.cancelled():
        raise Cancelled("cancelled by the user")


class SubProgress:
    """Maps a sub-task's 0..1 onto a slice [lo, hi] of the parent's progress."""

    def __init__(self, parent: Progress | None, lo: float, hi: float, prefix: str = "") -> None:
        self._parent = parent or NullProgress()
        self._lo, self._hi, self._prefix = lo, hi, prefix

    def step(self, message: str, fraction: float | None = None) -> None:
        f = None if fraction is None else self._lo + (self._hi - self._lo) * min(max(fraction, 0.0), 1.0)
        self._parent.step(f"{self._prefix}{message}", f)

    def cancelled(self) -> bool:
        return self._parent.cancelled()

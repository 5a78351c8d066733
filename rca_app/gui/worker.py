"""Long computations off the GUI thread, with progress, status text and a real Cancel.

A :class:`Job` runs one module-level function in a QThread. The function receives a
:class:`QtProgress` (the core's CancelFlag, plus Qt signals), so the core's own progress calls
update the progress bar and its cancellation checks stop the work when Cancel is pressed.
"""
from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from rca_app.core.errors import Cancelled
from rca_app.core.progress import CancelFlag

if TYPE_CHECKING:
    from rca_app.core.results import AnalysisResult


class QtProgress(CancelFlag):
    """The core's progress protocol, forwarded to a Job's signals (thread-safe: Qt queues
    signals emitted in the worker thread to receivers in the GUI thread)."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self._job = job

    def step(self, message: str, fraction: float | None = None) -> None:
        self._job.statusChanged.emit(message)
        if fraction is not None:
            self._job.progressChanged.emit(float(fraction))


class Job(QThread):
    """Run ``fn(*args, progress=QtProgress, **kwargs)`` in a thread.

    Exactly one of ``succeeded(result)``, ``failed(exception)`` or ``cancelled()`` is emitted,
    then QThread's own ``finished``."""

    progressChanged = Signal(float)
    statusChanged = Signal(str)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, title: str, fn: Callable[..., Any], *args, cancellable: bool = True,
                 parent=None, **kwargs) -> None:
        super().__init__(parent)
        self.title = title
        self.cancellable = cancellable
        self.progress = QtProgress(self)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.outcome: str | None = None   # "succeeded" | "failed" | "cancelled" once done

    def run(self) -> None:  # runs in the worker thread
        try:
            result = self._fn(*self._args, progress=self.progress, **self._kwargs)
        except Cancelled:
            self.outcome = "cancelled"
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never lost in a thread
            exc.traceback_text = traceback.format_exc()  # type: ignore[attr-defined]
            self.outcome = "failed"
            self.failed.emit(exc)
        else:
            if self.progress.cancelled():
                # Finished before noticing the request: the user asked to drop it, so drop it.
                self.outcome = "cancelled"
                self.cancelled.emit()
            else:
                self.outcome = "succeeded"
                self.succeeded.emit(result)

    def cancel(self) -> None:
        if self.cancellable:
            self.progress.cancel()


# ------------------------------------------------------------------------------------------
# The functions jobs run are module level (no widget state crosses into the worker thread):
# reading and preparing data (rca_app.app.data_file), the analysis (rca_app.app.session), and
# the report below (the application layer does not draw PDFs).
# ------------------------------------------------------------------------------------------
def report_job(result: AnalysisResult, data, out_path: str, notes: dict, author: str | None, progress=None):
    from rca_app.report import build_report  # guarded by the caller

    progress.step("writing the PDF report", None)
    return build_report(result, data, out_path, notes=notes, author=author)

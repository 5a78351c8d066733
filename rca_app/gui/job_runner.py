"""One background job at a time, shown in the status bar: what is being done, how far, Cancel.

The window asks :class:`JobRunner` to start a module-level function; the runner shows its
progress, explains a failure (input problems listed, a missing file said plainly, anything else
with "Copy details"), and tells the window when the job started and how it ended so that it can
disable and re-enable what must not run meanwhile.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

from rca_app.core.errors import RcaInputError
from rca_app.gui import dialogs
from rca_app.gui.worker import Job


class JobRunner(QObject):
    """Runs :class:`~rca_app.gui.worker.Job` s one after the other, with a status-bar display.

    Signals: ``started(title)``; ``ended(title, outcome, kind)`` after every job, with outcome
    "succeeded", "failed" or "cancelled" and the ``kind`` given to :meth:`start`."""

    started = Signal(str)
    ended = Signal(str, str, str)

    def __init__(self, window: QWidget, status_bar: QStatusBar) -> None:
        super().__init__(window)
        self._window = window          # parent of the dialogs that explain a failure
        self.job: Job | None = None
        self.started_at = 0.0
        self.status_text = QLabel("Ready.")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(220)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the computation (it stops at its next checkpoint, within seconds).")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        status_bar.addWidget(self.status_text, 1)
        status_bar.addPermanentWidget(self.progress)
        status_bar.addPermanentWidget(self.cancel_button)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def seconds(self) -> float:
        """How long the current (or last) job has run."""
        return time.perf_counter() - self.started_at

    def start(self, title: str, fn, *args, on_success=None, cancellable: bool = True, kind: str = "",
              **kwargs) -> Job | None:
        """Run ``fn(*args, progress=..., **kwargs)`` in the background; None (and a message)
        when another job is still running."""
        if self.job is not None:
            dialogs.show_info(self._window, "Busy", f"Please wait: {self.job.title.lower()} is still running "
                                                    "(or cancel it first).")
            return None
        job = Job(title, fn, *args, cancellable=cancellable, parent=self._window, **kwargs)
        job.kind = kind
        job.progressChanged.connect(self._show_progress)
        job.statusChanged.connect(self.show_status)
        if on_success is not None:
            job.succeeded.connect(on_success)
        job.failed.connect(lambda exc, t=title: self._failed(t, exc))
        job.cancelled.connect(lambda t=title: self.show_status(f"{t}: cancelled. Nothing was changed."))
        job.finished.connect(lambda j=job: self._done(j))
        self.job = job
        self.started_at = time.perf_counter()
        self.progress.setValue(0)
        self.progress.setRange(0, 1000 if cancellable else 0)   # 0..0: "busy", no fraction
        self.progress.setVisible(True)
        self.cancel_button.setVisible(cancellable)
        self.cancel_button.setEnabled(True)
        self.started.emit(title)
        self.show_status(f"{title}…")
        job.start()
        return job

    def cancel(self) -> None:
        if self.job is not None and self.job.cancellable:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.show_status(f"Cancelling {self.job.title.lower()}… (stops at the next checkpoint)")

    def stop_and_wait(self) -> None:
        """Cancel the running job and wait for its thread (the core checks the flag often)."""
        if self.job is not None:
            self.show_status("Stopping the running computation…")
            self.job.cancel()
            self.job.wait()

    def show_status(self, text: str) -> None:
        self.status_text.setText(text[:1].upper() + text[1:] if text else "")

    def _show_progress(self, fraction: float) -> None:
        if self.progress.maximum() > 0:
            self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))

    def _failed(self, title: str, exc: BaseException) -> None:
        if isinstance(exc, RcaInputError):
            self.show_status(f"{title}: stopped, the input has problems.")
            dialogs.show_problems(self._window, f"{title}: problems with the input",
                                  "The computation could not run. Please fix:", exc.problems)
        elif isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            self.show_status(f"{title}: failed.")
            dialogs.show_error(self._window, title, str(exc))
        else:
            self.show_status(f"{title}: failed unexpectedly.")
            dialogs.report_exception(self._window, exc, getattr(exc, "traceback_text", None),
                                     context=title.lower())

    def _done(self, job: Job) -> None:
        if self.job is not job:
            return
        self.job = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        outcome = job.outcome or "failed"
        job.deleteLater()
        self.ended.emit(job.title, outcome, getattr(job, "kind", ""))

"""The investigation's state as Qt signals: a thin wrapper around the application layer's
:class:`~rca_app.app.session.SessionState`, which holds the state and its rules.

Widgets read fields and call methods on the ``Session`` as on the state itself (both are
forwarded); this class only turns the state's change events into signals they connect to.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from rca_app.app.analysis_job import DEFAULT_PRESET, PRESETS  # noqa: F401 (widgets use them)
from rca_app.app.session import SessionState

# State event -> the signal announcing it.
_SIGNAL_OF = {"raw": "rawChanged", "data": "dataChanged", "layout": "layoutChanged",
              "problems": "problemsChanged", "windows": "windowsChanged", "graph": "graphChanged",
              "result": "resultChanged", "stale": "staleChanged", "dirty": "dirtyChanged",
              "prepare": "prepareRequested"}
_STATE_FIELDS = frozenset(vars(SessionState()))


class Session(QObject):
    rawChanged = Signal()        # a new table was read (or cleared)
    dataChanged = Signal()       # the analysis table (layout applied) changed
    layoutChanged = Signal()
    problemsChanged = Signal()
    windowsChanged = Signal()
    graphChanged = Signal()
    resultChanged = Signal()
    staleChanged = Signal(bool)
    dirtyChanged = Signal(bool)
    # The analysis table must be rebuilt (layout or reading options changed). The window runs
    # prepare_inputs() -> data_file.prepare_data in the background and hands back set_prepared().
    prepareRequested = Signal()

    def __init__(self, parent=None, state: SessionState | None = None) -> None:
        super().__init__(parent)
        self.state = state if state is not None else SessionState()
        self.state.subscribe(self._relay)

    def _relay(self, what: str, value) -> None:
        signal = getattr(self, _SIGNAL_OF[what])
        if value is None:
            signal.emit()
        else:
            signal.emit(value)

    def __getattr__(self, name: str):
        # Only reached for names the QObject lacks: the state's fields and methods.
        if name == "state":
            raise AttributeError(name)
        return getattr(self.state, name)

    def __setattr__(self, name: str, value) -> None:
        if name in _STATE_FIELDS:
            setattr(self.state, name, value)
        else:
            super().__setattr__(name, value)

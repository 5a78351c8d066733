"""The Layout step's station columns: each a name, flow-order buttons, its residence time to the
next station and its sensors (dragged between columns through the core's edits)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QToolButton,
    QVBoxLayout,
)

from rca_app.core.layout import Layout
from rca_app.gui import glossary

if TYPE_CHECKING:
    from rca_app.gui.steps.layout_step import LayoutStep

NAME_ROLE = Qt.ItemDataRole.UserRole
_NAME_ROLE = NAME_ROLE


class SensorList(QListWidget):
    """A station's sensors; drops from any other list move the sensors here (through the core)."""

    def __init__(self, editor: LayoutStep, station: int | None) -> None:
        super().__init__()
        self.editor, self.station = editor, station
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setMinimumWidth(120)
        self.itemSelectionChanged.connect(self._selected)

    def dragEnterEvent(self, event) -> None:
        if isinstance(event.source(), SensorList):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if isinstance(event.source(), SensorList):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        src = event.source()
        if not isinstance(src, SensorList):
            event.ignore()
            return
        names = [i.data(_NAME_ROLE) for i in src.selectedItems()]
        row = self.indexAt(event.position().toPoint()).row()
        # Copy, not move, as seen by Qt: the lists are rebuilt from the layout, so Qt must not
        # also remove the dragged items from the source list afterwards.
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        station = self.station
        QTimer.singleShot(0, lambda: self.editor.move_sensors(names, station, None if row < 0 else row))

    def _selected(self) -> None:
        items = self.selectedItems()
        if items:
            self.editor.select_sensor(items[0].data(_NAME_ROLE), self)


class StationColumn(QFrame):
    def __init__(self, editor: LayoutStep, index: int, layout: Layout) -> None:
        super().__init__()
        st = layout.stations[index]
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("station")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        num = QLabel(f"<b>{index + 1}</b>")
        top.addWidget(num)
        self.name = QLineEdit(st.name)
        # Show a long name from its start ("Compressor, recycle…", not "…ssor, recycle and purge").
        self.name.setCursorPosition(0)
        self.name.setToolTip(f"{st.name}\n\nStation name (stations run left to right in process-flow order)")
        self.name.editingFinished.connect(lambda: editor.rename_station(index, self.name.text()))
        top.addWidget(self.name, 1)
        lay.addLayout(top)
        buttons = QHBoxLayout()
        for text, tip, fn in (
                ("◀", "Move this station earlier in the flow", lambda: editor.move_station(index, index - 1)),
                ("▶", "Move this station later in the flow", lambda: editor.move_station(index, index + 1)),
                ("✕", "Remove this station (its sensors become unassigned)", lambda: editor.remove_station(index))):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.clicked.connect(fn)
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.exo_all = QCheckBox("all exogenous")
        self.exo_all.setToolTip(glossary.EXOGENOUS)
        self.exo_all.setChecked(st.exogenous is True)
        self.exo_all.toggled.connect(lambda on: editor.set_station_exogenous(index, on))
        lay.addWidget(self.exo_all)
        # Residence time to the next station: a duration, "auto" (estimated) or empty (default).
        self.lag = QLineEdit(st.lag or "")
        self.lag.setPlaceholderText("lag: default")
        self.lag.setToolTip("Residence time from this station to the next: a duration (15min), \"auto\" to "
                            "estimate it from the data, or empty for the default (auto on time series).")
        self.lag.editingFinished.connect(lambda: editor.set_lag(index, self.lag.text().strip() or None))
        lag_row = QHBoxLayout()
        lag_row.setSpacing(2)
        lag_row.addWidget(self.lag, 1)
        lay.addLayout(lag_row)
        last = index == len(layout.stations) - 1
        if last:
            # The KPI's station: no next station, so no residence time to give.
            self.lag.setPlaceholderText("last station: no lag")
            self.lag.setToolTip("The last station has no next station, so it has no residence time to the next.")
            self.lag.setEnabled(bool(st.lag))      # a lag given anyway stays visible to be cleared
        # What the last analysis used, in the empty field and in full in its tooltip.
        self.lag_used = editor.lag_readings.get(st.name) if not last else None
        if self.lag_used is not None:
            # A declared lag shown as a bare "5min" in grey reads as the value still declared (after an undo).
            self.lag.setPlaceholderText(f"last run: {self.lag_used.short}" if self.lag_used.given
                                        else self.lag_used.short)
            self.lag.setToolTip(self.lag.toolTip() + f"\nLast analysis: {self.lag_used.text} to "
                                f"{self.lag_used.to_station}.")
        # An estimate the engineer trusts becomes a declaration with one click (undo takes it back).
        self.accept_lag = None
        estimate = self.lag_used.estimate if self.lag_used is not None else None
        if estimate is not None and (st.lag or "auto") == "auto":
            self.accept_lag = QToolButton()
            self.accept_lag.setText(f"use {estimate}")
            self.accept_lag.setToolTip(f"Declare lag = \"{estimate}\" on {st.name}: the estimate becomes the "
                                       "layout's (Ctrl+Z takes it back).")
            self.accept_lag.clicked.connect(lambda: editor.set_lag(index, estimate))
            lag_row.addWidget(self.accept_lag)
            # The button shows the lag: the narrowed field keeps what fits, the confidence (audit:
            # "auto: 7min..." clipped the confidence away).
            self.lag.setPlaceholderText(self.lag_used.beside_estimate)
        self.setFixedWidth(172)
        self.list = SensorList(editor, index)
        editor.fill_list(self.list, st.sensors, layout)
        lay.addWidget(self.list, 1)

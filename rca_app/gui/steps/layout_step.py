"""Step 3, Layout: stations as ordered columns, sensors dragged between them, roles marked,
the layout TOML opened and saved. Every edit is a core function (investigation.layout_*) and is
validated by the core as you go."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor, QFont, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rca_app.app.data_view import analysis_columns
from rca_app.app.dynamics_view import lag_readings
from rca_app.app.layout_edit import (
    draft_layout,
    layout_add_station,
    layout_missing_columns,
    layout_move_sensor,
    layout_move_station,
    layout_remove_station,
    layout_rename_station,
    layout_set_lag,
    layout_set_plant,
    layout_set_role,
    layout_set_unit,
    same_layout,
    unassigned_columns,
    write_layout,
)
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import Layout, load_layout
from rca_app.gui import dialogs, glossary
from rca_app.gui.session import Session
from rca_app.gui.steps.layout_columns import NAME_ROLE as _NAME_ROLE
from rca_app.gui.steps.layout_columns import SensorList, StationColumn
from rca_app.gui.steps.layout_time import TimePanel
from rca_app.gui.widgets import Banner, StepHeader


class _LayoutEdit(QUndoCommand):
    def __init__(self, editor: LayoutStep, before: Layout, after: Layout, text: str) -> None:
        super().__init__(text)
        self.editor, self.before, self.after = editor, before, after

    def redo(self) -> None:
        self.editor._show(self.after)

    def undo(self) -> None:
        self.editor._show(self.before)


class LayoutStep(QWidget):
    appliedLayout = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.layout_obj: Layout | None = None
        self.undo_stack = QUndoStack(self)
        self.selected: str | None = None
        self.columns: list[StationColumn] = []
        self.lag_readings = {}
        self._suspend = False

        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("3  Layout", glossary.STEP_HELP["layout"]))
        bar = QHBoxLayout()
        self.open_button = QPushButton("Open layout…")
        self.open_button.clicked.connect(self.open_layout)
        self.save_button = QPushButton("Save layout as…")
        self.save_button.clicked.connect(self.save_layout)
        self.draft_button = QPushButton("Start from the data columns")
        self.draft_button.setToolTip("A first layout: every column of the file in one station; then split it up.")
        self.draft_button.clicked.connect(self.draft)
        self.add_button = QPushButton("+ Add station")
        self.add_button.clicked.connect(self.add_station)
        self.apply_button = QPushButton("Use this layout")
        f = QFont(self.apply_button.font())
        f.setBold(True)
        self.apply_button.setFont(f)
        self.apply_button.setToolTip("Check the data against this layout and use it for the analysis.")
        self.apply_button.clicked.connect(self.apply)
        for b in (self.open_button, self.save_button, self.draft_button, self.add_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.apply_button)
        lay.addLayout(bar)

        plant = QHBoxLayout()
        self.plant_name = QLineEdit()
        self.plant_name.setPlaceholderText("Line name")
        self.plant_name.editingFinished.connect(lambda: self._plant(name=self.plant_name.text()))
        self.target = QComboBox()
        self.target.setToolTip("The KPI to explain (yield, scrap rate, defect ppm). It must sit in the last station "
                               "that influences it.")
        self.target.activated.connect(lambda _i: self._plant(target=self.target.currentText()))
        self.goal = QComboBox()
        self.goal.addItem("higher is better", "maximize")
        self.goal.addItem("lower is better", "minimize")
        self.goal.activated.connect(lambda _i: self._plant(goal=self.goal.currentData()))
        self.time_column = QComboBox()
        self.time_column.setToolTip("The column holding timestamps (none: rows are in time order).")
        self.time_column.activated.connect(lambda _i: self._plant(time_column=self.time_column.currentData()))
        for label, w in (("Line:", self.plant_name), ("KPI:", self.target), ("", self.goal),
                         ("Time column:", self.time_column)):
            if label:
                plant.addWidget(QLabel(label))
            plant.addWidget(w, 1 if w is self.plant_name else 0)
        lay.addLayout(plant)
        self.banner = Banner()
        lay.addWidget(self.banner)

        self.stations_host = QWidget()
        self.stations_row = QHBoxLayout(self.stations_host)
        self.stations_row.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.stations_host)
        scroll.setToolTip(glossary.STATION)

        props = QGroupBox("Selected sensor")
        form = QFormLayout(props)
        self.sensor_name = QLabel("(click a sensor)")
        self.sensor_name.setWordWrap(True)
        form.addRow(self.sensor_name)
        self.role_boxes = {}
        roles = QHBoxLayout()
        for role, tip in (("exogenous", glossary.EXOGENOUS), ("controllable", glossary.CONTROLLABLE),
                          ("categorical", glossary.CATEGORICAL)):
            box = QCheckBox(role.capitalize())
            box.setToolTip(tip)
            box.toggled.connect(lambda on, r=role: self.set_role(r, on))
            self.role_boxes[role] = box
            roles.addWidget(box)
        form.addRow(roles)
        self.unit = QLineEdit()
        self.unit.setPlaceholderText("e.g. °C, bar, %")
        self.unit.editingFinished.connect(self._unit_changed)
        form.addRow("Unit:", self.unit)
        self.sensor_lag = QLineEdit()
        self.sensor_lag.setPlaceholderText("its station's")
        self.sensor_lag.setToolTip("This sensor's own residence time to the next station, where it differs from "
                                   "its station's (an analyser further down the pipe): a duration or \"auto\".")
        self.sensor_lag.editingFinished.connect(self._sensor_lag_changed)
        form.addRow("Own lag:", self.sensor_lag)
        legend = QLabel("<small><b style='color:#b3261e'>bold red</b>: the KPI &nbsp; <i>grey italic</i>: "
                        "exogenous<br><span style='color:#1d7a3a'>green</span>: controllable setpoint &nbsp; "
                        "◆ categorical</small>")
        form.addRow(legend)
        props.setFixedWidth(330)

        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setMinimumHeight(90)
        self.problems.setToolTip("What the core finds wrong with the layout as it is now.")
        lay.addWidget(scroll, 3)
        checks = QWidget()
        cl = QVBoxLayout(checks)
        cl.setContentsMargins(0, 0, 0, 0)
        self.problems_title = QLabel("<b>Checks</b>")
        cl.addWidget(self.problems_title)
        cl.addWidget(self.problems, 1)
        self.time_panel = TimePanel(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(checks, "Checks")
        time_scroll = QScrollArea()
        time_scroll.setWidgetResizable(True)
        time_scroll.setFrameShape(QFrame.Shape.NoFrame)
        time_scroll.setWidget(self.time_panel)
        self.tabs.addTab(time_scroll, "Time, recycles and loops")
        self.tabs.setMaximumHeight(290)      # the station columns keep the most room
        bottom = QHBoxLayout()
        bottom.addWidget(self.tabs, 1)
        bottom.addWidget(props)
        lay.addLayout(bottom, 1)

        session.layoutChanged.connect(self.load_from_session)
        session.rawChanged.connect(self._raw_changed)
        session.dataChanged.connect(self._data_changed)
        session.resultChanged.connect(lambda: self._show(self.layout_obj))
        self.load_from_session()

    # ------------------------------------------------------------------ state
    def load_from_session(self) -> None:
        s = self.session
        if not (s.layout is not None and self.layout_obj is not None and same_layout(s.layout, self.layout_obj)):
            # Another layout than the one edited here: its history no longer applies. The one just
            # applied from here keeps it, so an applied edit found wrong can still be undone.
            self.undo_stack.clear()
        if s.layout is not None:
            self._show(s.layout)
        elif s.raw is not None:
            self._show(draft_layout(s.raw))
        else:
            self._show(None)

    def _raw_changed(self) -> None:
        if self.session.layout is None and self.session.raw is not None:
            self.undo_stack.clear()
            self._show(draft_layout(self.session.raw))
        else:
            self._show(self.layout_obj)

    def _edit(self, after: Layout, text: str) -> None:
        if self.layout_obj is None:
            return
        self.undo_stack.push(_LayoutEdit(self, self.layout_obj, after, text))

    def _show(self, layout: Layout | None) -> None:
        self.layout_obj = layout
        self._suspend = True
        try:
            self._rebuild()
        finally:
            self._suspend = False
        self._validate()

    def columns_of_data(self) -> list[str]:
        raw = self.session.raw
        if raw is not None:
            if getattr(self, "_columns_for", None) is not raw:
                # A historian long export's columns are tag, time, value: list its tags instead.
                self._columns_for, self._columns = raw, analysis_columns(raw)
            return list(self._columns)
        return list(self.layout_obj.nodes) if self.layout_obj else []

    def _historian_columns(self):
        """The long-form columns (tag, time, value) when the data are a historian export, else None."""
        raw = self.session.raw
        if raw is None:
            return None
        from rca_app.core.historian import detect_long_format

        return detect_long_format([str(c) for c in raw.frame.columns])

    def historian_tags(self) -> list[str]:
        """The tags a [tags.X] rule can name: the historian export's, else the layout's sensors."""
        data = self.session.data
        tags = [t.tag for t in getattr(data, "tag_reports", None) or []] if data is not None else []
        return tags or (list(self.layout_obj.nodes) if self.layout_obj else [])

    def _rebuild(self) -> None:
        lay = self.layout_obj
        while self.stations_row.count():
            item = self.stations_row.takeAt(0)
            if item.widget():
                # Hidden at once: deleteLater waits for the event loop, and until then the old
                # column would still be drawn under the new ones.
                item.widget().hide()
                item.widget().deleteLater()
        self.columns = []
        res = self.session.result
        self.lag_readings = lag_readings(res.dynamics if res is not None else None)
        self.time_panel.show_layout(lay)
        n = len(self.time_panel.proposals)
        self.tabs.setTabText(1, "Time, recycles and loops" + (f"  ({n} proposed)" if n else ""))
        enabled = lay is not None
        for w in (self.save_button, self.add_button, self.apply_button, self.plant_name, self.target,
                  self.goal, self.time_column):
            w.setEnabled(enabled)
        self.draft_button.setEnabled(self.session.raw is not None)
        if lay is None:
            self.stations_row.addWidget(QLabel("Open a data file first, or open a layout file."))
            return
        self.plant_name.setText(lay.name)
        self.plant_name.setCursorPosition(0)      # a long name from its start
        cols = self.columns_of_data()
        self.target.clear()
        numeric = [c for c in cols if c != lay.time_column]
        self.target.addItems(numeric if lay.target in numeric or not lay.target else numeric + [lay.target])
        self.target.setCurrentText(lay.target)
        self.goal.setCurrentIndex(max(0, self.goal.findData(lay.goal)))
        self.time_column.clear()
        long_cols = self._historian_columns()
        if long_cols is not None:
            # A historian export has its time stamps in its own column, not among the tags:
            # the grid's time comes from there, and there is nothing to choose.
            self.time_column.addItem(f"{long_cols.time} (historian time stamps)", lay.time_column)
            self.time_column.setEnabled(False)
            self.time_column.setToolTip(f"A historian export: every sample's time is in its '{long_cols.time}' "
                                        "column, and the tags are put on a common time grid from it.")
        else:
            self.time_column.addItem("(none)", None)
            for c in cols:
                self.time_column.addItem(c, c)
            self.time_column.setCurrentIndex(max(0, self.time_column.findData(lay.time_column)))
            self.time_column.setToolTip("The column holding timestamps (none: rows are in time order).")

        unassigned = unassigned_columns(lay, cols)
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        bl = QVBoxLayout(box)
        bl.setContentsMargins(6, 6, 6, 6)
        bl.addWidget(QLabel("<b>Not in any station</b>"))
        hint = QLabel("<small>Left out of the analysis. Drag into a station to use.</small>")
        hint.setWordWrap(True)
        bl.addWidget(hint)
        self.unassigned_list = SensorList(self, None)
        self.fill_list(self.unassigned_list, unassigned, lay)
        bl.addWidget(self.unassigned_list, 1)
        box.setFixedWidth(160)
        self.stations_row.addWidget(box)
        for i in range(len(lay.stations)):
            col = StationColumn(self, i, lay)
            self.columns.append(col)
            self.stations_row.addWidget(col)
        self.stations_row.addStretch(1)
        self._show_selected()

    def fill_list(self, widget: QListWidget, names: list[str], lay: Layout) -> None:
        for n in names:
            tags = []
            item = QListWidgetItem()
            f = item.font()
            if n == lay.target:
                tags.append("KPI")
                f.setBold(True)
                item.setForeground(QBrush(QColor("#b3261e")))
            if n in lay.categorical:
                tags.append("categorical")
            if n in lay.controllable:
                tags.append("setpoint")
                item.setForeground(QBrush(QColor("#1d7a3a")))
            try:
                exo = lay.is_exogenous(n)
            except KeyError:
                exo = False
            if exo:
                tags.append("exogenous")
                f.setItalic(True)
                if n not in lay.controllable:
                    item.setForeground(QBrush(QColor("#6b6b6b")))
            item.setFont(f)
            unit = lay.unit(n)
            item.setText(("◆ " if n in lay.categorical else "") + n + (f"  [{unit}]" if unit else ""))
            item.setToolTip(f"{n}: " + (", ".join(tags) if tags else "measured sensor"))
            item.setData(_NAME_ROLE, n)
            widget.addItem(item)
            if n == self.selected:
                item.setSelected(True)

    def _checks(self) -> list:
        """What the core finds wrong with the shown layout, and its sensors missing from the data."""
        lay = self.layout_obj
        problems = lay.problems()
        cols = set(self.columns_of_data())
        if self.session.raw is not None:
            for n in layout_missing_columns(lay, cols):
                problems.append(_problem(f"'{n}' is in the layout but not a column of {self.session.raw.file_name}", n))
        return problems

    def unapplied_edit(self) -> list | None:
        """The errors that keep the edited layout from being used (an empty list: it can be applied
        as it is); None when the shown layout is the one in use, or none is in use yet (a first
        draft is used only once the engineer presses 'Use this layout').

        Returns
        -------
        list of Problem or None
        """
        lay, applied = self.layout_obj, self.session.layout
        if lay is None or applied is None or same_layout(applied, lay):
            return None
        return [p for p in self._checks() if p.severity == "error"]

    def _validate(self) -> None:
        self.problems.clear()
        lay = self.layout_obj
        if lay is None:
            self.problems_title.setText("<b>Checks</b>")
            self.banner.clear()
            return
        problems = self._checks()
        for p in problems:
            item = QListWidgetItem(("⛔ " if p.severity == "error" else "⚠ ") + p.message)
            item.setForeground(QBrush(QColor("#b3261e" if p.severity == "error" else "#8a5a00")))
            item.setToolTip(str(p))
            self.problems.addItem(item)
        errors = [p for p in problems if p.severity == "error"]
        self.problems_title.setText(f"<b>Checks</b>: {len(errors)} errors, {len(problems) - len(errors)} warnings"
                                    if problems else "<b>Checks</b>: the layout is valid")
        if not problems:
            self.problems.addItem("✓ No problems found.")
        self.apply_button.setEnabled(not errors)
        applied = self.session.layout
        if applied is not None and same_layout(applied, lay):
            self.banner.show_message("This layout is in use.", "ok")
        elif errors:
            self.banner.show_message("Fix the errors listed below, then press 'Use this layout'.", "error")
        else:
            self.banner.show_message("Layout edited: press 'Use this layout' to check the data against it and use it.",
                                     "warn")

    # ------------------------------------------------------------------ edits
    def move_sensors(self, names: list[str], station: int | None, index: int | None = None) -> None:
        lay = self.layout_obj
        for k, n in enumerate(names):
            lay = layout_move_sensor(lay, n, station, None if index is None else index + k)
        where = "out of every station" if station is None else f"to {lay.stations[station].name}"
        self._edit(lay, f"move {', '.join(names)} {where}")

    def move_station(self, index: int, new_index: int) -> None:
        if 0 <= new_index < len(self.layout_obj.stations):
            self._edit(layout_move_station(self.layout_obj, index, new_index), "reorder stations")

    def remove_station(self, index: int) -> None:
        self._edit(layout_remove_station(self.layout_obj, index), "remove station")

    def rename_station(self, index: int, name: str) -> None:
        if self._suspend or self.layout_obj is None or self.layout_obj.stations[index].name == name:
            return
        self._edit(layout_rename_station(self.layout_obj, index, name), "rename station")

    def add_station(self) -> None:
        k = len(self.layout_obj.stations) + 1
        self._edit(layout_add_station(self.layout_obj, f"Station {k}"), "add station")

    def set_station_exogenous(self, index: int, on: bool) -> None:
        if self._suspend:
            return
        lay = self.layout_obj
        for n in lay.stations[index].sensors:
            lay = layout_set_role(lay, n, "exogenous", on)
        self._edit(lay, "mark station exogenous")

    def _plant(self, **values) -> None:
        if self._suspend or self.layout_obj is None:
            return
        if all(getattr(self.layout_obj, k) == v for k, v in values.items()):
            return
        self._edit(layout_set_plant(self.layout_obj, **values), "change " + ", ".join(values))

    def select_sensor(self, name: str, source: QListWidget | None = None) -> None:
        self.selected = name
        for lst in [c.list for c in self.columns] + [getattr(self, "unassigned_list", None)]:
            if lst is not None and lst is not source:
                lst.blockSignals(True)
                lst.clearSelection()
                lst.blockSignals(False)
        self._show_selected()

    def _show_selected(self) -> None:
        lay, n = self.layout_obj, self.selected
        in_station = lay is not None and n in lay.nodes
        self._suspend = True
        try:
            self.sensor_name.setText(f"<b>{n}</b>" if n and lay is not None else "(click a sensor)")
            for role, box in self.role_boxes.items():
                box.setEnabled(in_station)
                on = False
                if in_station:
                    on = lay.is_exogenous(n) if role == "exogenous" else n in getattr(lay, role)
                box.setChecked(on)
            self.unit.setEnabled(lay is not None and bool(n))
            self.unit.setText(lay.unit(n) if lay is not None and n else "")
            self.sensor_lag.setEnabled(in_station)
            self.sensor_lag.setText(lay.stations[lay.tier_of(n)].sensor_lags.get(n, "") if in_station else "")
        finally:
            self._suspend = False

    def set_role(self, role: str, on: bool) -> None:
        if self._suspend or not self.selected or self.layout_obj is None:
            return
        try:
            after = layout_set_role(self.layout_obj, self.selected, role, on)
        except RcaInputError as e:
            self.banner.show_message("; ".join(p.message for p in e.problems), "error")
            return
        self._edit(after, f"mark {self.selected} {role}" if on else f"unmark {self.selected} {role}")

    def set_lag(self, station: int, lag: str | None, sensor: str | None = None) -> None:
        if self._suspend or self.layout_obj is None:
            return
        st = self.layout_obj.stations[station]
        if (st.lag if sensor is None else st.sensor_lags.get(sensor)) == lag:
            return
        try:
            after = layout_set_lag(self.layout_obj, station, lag, sensor)
        except ValueError as e:
            self.banner.show_message(str(e), "error")
            return
        self._edit(after, f"set lag of {sensor or st.name}")

    def _sensor_lag_changed(self) -> None:
        lay, n = self.layout_obj, self.selected
        if lay is not None and n in lay.nodes:
            self.set_lag(lay.tier_of(n), self.sensor_lag.text().strip() or None, n)

    def _unit_changed(self) -> None:
        if self._suspend or not self.selected or self.layout_obj is None:
            return
        if self.layout_obj.unit(self.selected) != self.unit.text().strip():
            self._edit(layout_set_unit(self.layout_obj, self.selected, self.unit.text().strip()), "set unit")

    # ------------------------------------------------------------------ files
    def draft(self) -> None:
        if self.session.raw is None:
            return
        if self.layout_obj is not None:
            self._edit(draft_layout(self.session.raw), "start from the data columns")
        else:
            self._show(draft_layout(self.session.raw))

    def open_layout(self, path: str | None = None) -> bool:
        path = path or dialogs.open_path(self, "Open plant layout", "Plant layout (*.toml);;All files (*)")
        if not path:
            return False
        try:
            lay = load_layout(path)
        except RcaInputError as e:
            dialogs.show_problems(self, "Layout not opened", f"{Path(path).name} cannot be used as it is:", e.problems)
            return False
        if self.layout_obj is None:
            self._show(lay)
        else:
            self._edit(lay, f"open {Path(path).name}")
        self.apply()
        return True

    def save_layout(self) -> None:
        if self.layout_obj is None:
            return
        path = dialogs.save_path(self, "Save plant layout", "Plant layout (*.toml)", self.layout_obj.source)
        if not path:
            return
        if not path.lower().endswith(".toml"):
            path += ".toml"
        try:
            write_layout(self.layout_obj, path)
        except OSError as e:
            dialogs.show_error(self, "Layout not saved", f"Could not write {path}: {e.strerror or e}")
            return
        self.banner.show_message(f"Saved to {path}.", "ok")

    def apply(self) -> bool:
        if self.layout_obj is None:
            return False
        try:
            self.session.apply_layout(self.layout_obj)
        except RcaInputError as e:
            self.problems.clear()
            for p in e.problems:
                item = QListWidgetItem("⛔ " + p.message)
                item.setForeground(QBrush(QColor("#b3261e")))
                self.problems.addItem(item)
            self.banner.show_message("The layout has errors (listed below): it was not applied.", "error")
            return False
        self._validate()
        self.appliedLayout.emit()
        return True

    def _data_changed(self) -> None:
        s = self.session
        if s.layout is not None and s.raw is not None and s.data is None and self.layout_obj is not None \
                and same_layout(s.layout, self.layout_obj):
            self.banner.show_message("The layout is valid, but the data do not fit it: see the problems in step 1 "
                                     "(Data).", "error")


def _problem(message: str, column: str):
    from rca_app.core.errors import Problem

    return Problem(message, column=column)

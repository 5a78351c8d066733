"""The Layout step's "Time and loops" panel: grid and lag keys, recycles, control loops, historian
tag rules, and the recycles and loops the last analysis proposes. Every edit is a core function
(rca_app.app.layout_edit) pushed on the Layout step's undo stack."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QWidget,
)

from rca_app.app.dynamics_view import (
    declared_loop_text,
    loop_short_text,
    loop_text,
    proposed_loop_text,
    proposed_loops,
    proposed_recycles,
)
from rca_app.app.layout_edit import (
    layout_add_loop,
    layout_add_recycle,
    layout_remove_time_item,
    layout_set_plant,
    layout_set_tag,
)
from rca_app.core.layout import Layout
from rca_app.core.layout.time_keys import TAG_RULES

if TYPE_CHECKING:
    from rca_app.gui.steps.layout_step import LayoutStep

KPI_TYPE_CHOICES = (("inferred from the values", None), ("continuous", "continuous"), ("binary (pass/fail)", "binary"),
                    ("count (defects)", "count"), ("event (rare)", "event"))


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _offer(label: QLabel, button: QPushButton, proposals: list, what: str, key_text: str) -> None:
    """Show the first of the last analysis's proposals as the layout key it would add, with its button."""
    n = len(proposals)
    more = f" (and {n - 1} more)" if n > 1 else ""
    label.setText(f"<small>The data show {what}: <b>{key_text}</b>{more}</small>" if proposals else "")
    label.setVisible(bool(proposals))
    button.setVisible(bool(proposals))


class TimePanel(QWidget):
    """Edits the layout's time keys through ``editor`` (the Layout step).

    Parameters
    ----------
    editor : LayoutStep
        Holds the layout being edited, its undo stack and banner.
    """

    def __init__(self, editor: LayoutStep) -> None:
        super().__init__()
        self.editor = editor
        self.recycle_proposals, self.loop_proposals = [], []
        outer = QHBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)

        grid = QGroupBox("Time grid and KPI")
        gf = QFormLayout(grid)
        self.sample = QLineEdit()
        self.sample.setPlaceholderText("the KPI's rate")
        self.sample.setToolTip("[plant] sample: the analysis grid a historian export is resampled to, e.g. 1min.")
        self.sample.editingFinished.connect(lambda: self._plant(sample=self.sample.text().strip() or None))
        self.lag_max = QLineEdit()
        self.lag_max.setPlaceholderText("default")
        self.lag_max.setToolTip("[plant] lag_max: the longest residence time an \"auto\" lag tries, e.g. 2h.")
        self.lag_max.editingFinished.connect(lambda: self._plant(lag_max=self.lag_max.text().strip() or None))
        self.kpi_type = QComboBox()
        for text, value in KPI_TYPE_CHOICES:
            self.kpi_type.addItem(text, value)
        # Its choices are long ("inferred from the values"): wide enough to read them whole.
        self.kpi_type.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kpi_type.setToolTip("[plant] kpi_type: what kind of number the KPI is; it decides how the incident "
                                 "is detected and tested. Default: inferred from its values.")
        self.kpi_type.activated.connect(lambda _i: self._plant(kpi_type=self.kpi_type.currentData()))
        gf.addRow("Sample:", self.sample)
        gf.addRow("Max lag:", self.lag_max)
        gf.addRow("KPI type:", self.kpi_type)
        self.tag = QComboBox()
        self.tag.setToolTip("A historian tag: how its samples go onto the grid.")
        self.tag.currentIndexChanged.connect(self._show_tag)
        self.rule = QComboBox()
        self.rule.addItem("default", None)
        for r in TAG_RULES:
            self.rule.addItem(r, r)
        self.delay = QLineEdit()
        self.delay.setPlaceholderText("none")
        self.delay.setToolTip("Lab values are stamped when entered: how long after the sample was taken.")
        tag_set = QPushButton("Set")
        tag_set.setToolTip("Set this tag's rule and delay ([tags.X] in the layout).")
        tag_set.clicked.connect(self.set_tag)
        # Rule and delay on rows of their own: side by side the delay had no label and the
        # button was squeezed to a letter.
        row = QHBoxLayout()
        row.addWidget(self.delay, 1)
        row.addWidget(tag_set)
        gf.addRow("Tag:", self.tag)
        gf.addRow("Rule:", self.rule)
        gf.addRow("Delay:", row)
        self.grid_form = gf
        self.tag_rows = (self.tag, self.rule, row)
        outer.addWidget(grid, 3)

        rec = QGroupBox("Recycle streams")
        rl = QGridLayout(rec)
        self.recycles = QListWidget()
        self.recycles.setToolTip("[[recycle]]: a stream from a later station back to an earlier one. Backward "
                                 "causes are then allowed after at least its lag, never at the same moment.")
        rl.addWidget(self.recycles, 2, 0, 1, 5)
        self.rec_from, self.rec_to = QComboBox(), QComboBox()
        self.rec_lag = QLineEdit()
        self.rec_lag.setPlaceholderText("lag (30min)")
        add = QPushButton("Add")
        add.clicked.connect(self.add_recycle)
        rl.addWidget(self.rec_from, 3, 0, 1, 2)
        rl.addWidget(QLabel("→"), 3, 2)
        rl.addWidget(self.rec_to, 3, 3, 1, 2)
        rl.addWidget(self.rec_lag, 4, 0, 1, 3)
        rl.addWidget(add, 4, 3)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self._remove("recycle", self.recycles))
        rl.addWidget(remove, 4, 4)
        self.proposal_text = QLabel()
        self.proposal_text.setWordWrap(True)
        self.proposal_button = QPushButton("Add this recycle")
        self.proposal_button.setToolTip("The last analysis found a backward stream the layout does not declare.")
        self.proposal_button.clicked.connect(self.add_proposed)
        # Above the list: what the data propose is read first, without scrolling the tab.
        rl.addWidget(self.proposal_text, 0, 0, 1, 5)
        rl.addWidget(self.proposal_button, 1, 0, 1, 5)
        outer.addWidget(rec, 3)

        loops = QGroupBox("Control loops")
        ll = QGridLayout(loops)
        self.loops = QListWidget()
        self.loops.setToolTip("[[loop]]: the controller moves the manipulated variable to hold the controlled one; "
                              "a disturbance it rejects shows on the manipulated variable.")
        ll.addWidget(self.loops, 2, 0, 1, 4)
        self.loop_cv, self.loop_mv = QComboBox(), QComboBox()
        self.rec_from.setPlaceholderText("from")
        self.rec_to.setPlaceholderText("back to")
        self.loop_cv.setPlaceholderText("controlled")
        self.loop_mv.setPlaceholderText("manipulated")
        self.loop_cv.setToolTip("Controlled variable (held at its setpoint)")
        self.loop_mv.setToolTip("Manipulated variable (the valve or power the controller moves)")
        self.loop_sp = QLineEdit()
        self.loop_sp.setPlaceholderText("setpoint")
        self.loop_sp.setToolTip("The setpoint: a sensor holding it, or a number (optional)")
        self.loop_low, self.loop_high = QLineEdit(), QLineEdit()
        self.loop_low.setPlaceholderText("low")
        self.loop_high.setPlaceholderText("high")
        self.loop_low.setToolTip("The manipulated variable's limits (valve 0 to 100 %), if known")
        self.loop_high.setToolTip(self.loop_low.toolTip())
        add_loop = QPushButton("Add")
        add_loop.clicked.connect(self.add_loop)
        remove_loop = QPushButton("Remove")
        remove_loop.clicked.connect(lambda: self._remove("loop", self.loops))
        ll.addWidget(self.loop_cv, 3, 0, 1, 2)
        ll.addWidget(self.loop_mv, 3, 2, 1, 2)
        ll.addWidget(self.loop_sp, 4, 0, 1, 2)
        ll.addWidget(self.loop_low, 4, 2)
        ll.addWidget(self.loop_high, 4, 3)
        ll.addWidget(remove_loop, 5, 2)
        ll.addWidget(add_loop, 5, 3)
        self.loop_proposal_text = QLabel()
        self.loop_proposal_text.setWordWrap(True)
        self.loop_proposal_button = QPushButton("Add this loop")
        self.loop_proposal_button.setToolTip("The last analysis found a controller the layout does not declare: "
                                             "declared, the ranking follows the disturbance through it.")
        self.loop_proposal_button.clicked.connect(self.add_proposed_loop)
        ll.addWidget(self.loop_proposal_text, 0, 0, 1, 4)
        ll.addWidget(self.loop_proposal_button, 1, 0, 1, 4)
        for c in range(4):
            ll.setColumnStretch(c, 1)
        outer.addWidget(loops, 4)
        # Sensor names are long: combos size to a few characters and elide, so the panel fits
        # next to the sensor properties at 1366 px.
        # Not the KPI type: its few choices are read whole (AdjustToContents above).
        for combo in (self.tag, self.rule, self.rec_from, self.rec_to, self.loop_cv, self.loop_mv):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(4)
        for edit in (self.sample, self.lag_max, self.delay, self.rec_lag, self.loop_sp, self.loop_low, self.loop_high):
            edit.setMinimumWidth(40)
        for b in self.findChildren(QPushButton):
            b.setMinimumWidth(10)
            b.setMaximumWidth(max(60, b.fontMetrics().horizontalAdvance(b.text()) + 16))
        for lst in (self.recycles, self.loops):
            lst.setMinimumSize(60, 40)

    # ------------------------------------------------------------------ state
    def show_layout(self, lay: Layout | None) -> None:
        """Fill the panel from ``lay`` (signals of the editor are suspended meanwhile)."""
        self.setEnabled(lay is not None)
        if lay is None:
            return
        self.sample.setText(lay.sample or "")
        self.lag_max.setText(lay.lag_max or "")
        self.kpi_type.setCurrentIndex(max(0, self.kpi_type.findData(lay.kpi_type)))
        stations = [st.name for st in lay.stations]
        sensors = list(lay.nodes)
        for combo, names in ((self.rec_from, stations), (self.rec_to, stations), (self.loop_cv, sensors),
                             (self.loop_mv, sensors)):
            keep = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            # Nothing chosen until the engineer picks (the placeholder names the role).
            combo.setCurrentIndex(names.index(keep) if keep in names else -1)
            combo.blockSignals(False)
        # Tag rules put a historian export's samples on the grid: a wide table has no samples to put.
        historian = self.editor._historian_columns() is not None or bool(lay.tag_rules or lay.tag_delays)
        for r in self.tag_rows:
            self.grid_form.setRowVisible(r, historian)
        keep = self.tag.currentText()
        self.tag.blockSignals(True)
        self.tag.clear()
        self.tag.addItems(self.editor.historian_tags())
        if keep:
            self.tag.setCurrentText(keep)
        self.tag.blockSignals(False)
        self._show_tag()
        self.recycles.clear()
        for r in lay.recycles:
            self.recycles.addItem(f"{r.source} → {r.to} (≥ {r.lag})")
            self.recycles.item(self.recycles.count() - 1).setToolTip(
                f"A stream from {r.source} back to {r.to}, taking at least {r.lag}")
        readings = {(rd.controlled, rd.manipulated): rd for rd in self._loop_records()}
        self.loops.clear()
        for lp in lay.loops:
            text = declared_loop_text(lp, sep="\n  ")
            rd = readings.get((lp.controlled, lp.manipulated))
            self.loops.addItem(text + (f"\n  {loop_short_text(rd, sep=chr(10) + '  ')}" if rd is not None else ""))
            self.loops.item(self.loops.count() - 1).setToolTip(text)
            if rd is not None:
                self.loops.item(self.loops.count() - 1).setToolTip(f"{text}\nLast analysis: {loop_text(rd)}.")
        self.show_proposals(lay)

    def _loop_records(self) -> list:
        res = self.editor.session.result
        return list(res.dynamics.loops) if res is not None and res.dynamics is not None else []

    @property
    def proposals(self) -> list:
        """Everything the last analysis proposes to add (recycles, then loops): the tab counts them."""
        return [*self.recycle_proposals, *self.loop_proposals]

    def show_proposals(self, lay: Layout) -> None:
        res = self.editor.session.result
        dyn = res.dynamics if res is not None else None
        self.recycle_proposals = proposed_recycles(dyn, lay)
        self.loop_proposals = proposed_loops(dyn, lay)
        r = self.recycle_proposals[0] if self.recycle_proposals else None
        lp = self.loop_proposals[0] if self.loop_proposals else None
        _offer(self.proposal_text, self.proposal_button, self.recycle_proposals, "a backward stream",
               "" if r is None else f"[[recycle]] from = \"{r.source}\", to = \"{r.to}\", lag = \"{r.lag}\"")
        _offer(self.loop_proposal_text, self.loop_proposal_button, self.loop_proposals, "a control loop",
               "" if lp is None else f"[[loop]] controlled = \"{lp.controlled}\", manipulated = \"{lp.manipulated}\"")
        if lp is not None:
            self.loop_proposal_text.setToolTip(proposed_loop_text(lp) + ".")

    def _show_tag(self) -> None:
        lay = self.editor.layout_obj
        tag = self.tag.currentText()
        if lay is None:
            return
        self.rule.setCurrentIndex(max(0, self.rule.findData(lay.tag_rules.get(tag))))
        self.delay.setText(lay.tag_delays.get(tag, ""))

    # ------------------------------------------------------------------ edits
    def _apply(self, fn, text: str) -> None:
        try:
            after = fn()
        except (ValueError, IndexError) as e:
            self.editor.banner.show_message(str(e), "error")
            return
        self.editor._edit(after, text)

    def _plant(self, **values) -> None:
        lay = self.editor.layout_obj
        if self.editor._suspend or lay is None or all(getattr(lay, k) == v for k, v in values.items()):
            return
        self._apply(lambda: layout_set_plant(lay, **values), "change " + ", ".join(values))

    def set_tag(self) -> None:
        lay, tag = self.editor.layout_obj, self.tag.currentText()
        if lay is None or not tag:
            return
        self._apply(lambda: layout_set_tag(lay, tag, self.rule.currentData(), self.delay.text().strip() or None),
                    f"set rule of tag {tag}")

    def add_recycle(self) -> None:
        lay = self.editor.layout_obj
        if lay is None:
            return
        src, dst, lag = self.rec_from.currentText(), self.rec_to.currentText(), self.rec_lag.text().strip()
        if not (src and dst):
            self.editor.banner.show_message("Choose the station the recycle comes from and the one it goes back to.",
                                            "error")
            return
        self._apply(lambda: layout_add_recycle(lay, src, dst, lag), f"add recycle {src} → {dst}")

    def add_proposed(self) -> None:
        lay = self.editor.layout_obj
        if lay is None or not self.recycle_proposals:
            return
        p = self.recycle_proposals[0]
        self._apply(lambda: layout_add_recycle(lay, p.source, p.to, p.lag), f"add proposed recycle {p.source} → {p.to}")

    def add_proposed_loop(self) -> None:
        """Declare the first loop the last analysis proposes (no setpoint or limits: the engineer
        adds those if known)."""
        lay = self.editor.layout_obj
        if lay is None or not self.loop_proposals:
            return
        p = self.loop_proposals[0]
        self._apply(lambda: layout_add_loop(lay, p.controlled, p.manipulated, None, None, None),
                    f"add proposed loop {p.manipulated} → {p.controlled}")

    def add_loop(self) -> None:
        lay = self.editor.layout_obj
        if lay is None:
            return
        cv, mv, sp = self.loop_cv.currentText(), self.loop_mv.currentText(), self.loop_sp.text().strip()
        if not (cv and mv):
            self.editor.banner.show_message("Choose the controlled and the manipulated sensor of the loop.", "error")
            return

        def edit():
            try:
                setpoint = float(sp) if sp else None
            except ValueError:
                setpoint = sp                     # a sensor holding the setpoint
            try:
                low, high = _number(self.loop_low.text()), _number(self.loop_high.text())
            except ValueError:
                raise ValueError("loop limits must be numbers") from None
            return layout_add_loop(lay, cv, mv, setpoint, low, high)

        self._apply(edit, f"add loop {mv} → {cv}")

    def _remove(self, kind: str, widget: QListWidget) -> None:
        lay, row = self.editor.layout_obj, widget.currentRow()
        if lay is None or row < 0:
            return
        self._apply(lambda: layout_remove_time_item(lay, kind, row), f"remove {kind}")


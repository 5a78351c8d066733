"""The mechanism panel of the Causal graph step: how the selected sensor depends on its causes
in the fitted model (type, share explained, a scatter of the reference rows and the fitted curve)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from rca_app.app.formatting import short_label
from rca_app.app.graph_view import mechanism_view
from rca_app.gui import glossary
from rca_app.gui.widgets import plot_widget

if TYPE_CHECKING:
    from rca_app.core.results import AnalysisResult
    from rca_app.core.scm import MechanismReport


class MechanismPanel(QWidget):
    """How the selected sensor depends on its causes in the fitted model."""

    KIND_TEXT = {
        "linear": "straight-line relation (linear)",
        "poly2": "gentle curve (quadratic)",
        "spline": "smooth bend (spline)",
        "hgb": "flexible, with thresholds (boosted trees)",
        "classifier": "level chosen by its causes (classifier)",
        "empirical": "no measured causes: varies on its own",
        "categorical_empirical": "no measured causes: levels vary on their own",
    }

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 4, 0, 0)
        side = QVBoxLayout()
        self.title = QLabel("<b>Mechanism</b>")
        self.text = QLabel("Click a sensor in the graph.")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setToolTip(glossary.MECHANISM + "\n\n" + glossary.OOF_R2)
        self.parent_combo = QComboBox()
        self.parent_combo.setToolTip("Which cause to plot the sensor against")
        self.plot = plot_widget()
        self.plot.setMinimumHeight(170)
        self.legend = QLabel("<small>Grey dots: reference rows. Red line: the fitted mechanism, with the "
                             "other causes held at their reference averages.</small>")
        self.legend.setWordWrap(True)
        side.addWidget(self.title)
        side.addWidget(self.text)
        against = QHBoxLayout()
        against.addWidget(QLabel("Plot against:"))
        against.addWidget(self.parent_combo, 1)
        side.addLayout(against)
        side.addWidget(self.legend)
        side.addStretch(1)
        box = QWidget()
        box.setLayout(side)
        box.setFixedWidth(340)
        row.addWidget(box)
        row.addWidget(self.plot, 1)
        self.outcome = None
        self.result: AnalysisResult | None = None
        self.node: str | None = None
        self.parent_combo.currentTextChanged.connect(self._parent_changed)

    def show_node(self, node: str | None, outcome, result: AnalysisResult | None, unit_of) -> None:
        self.node, self.outcome, self.result, self._unit_of = node, outcome, result, unit_of
        self.parent_combo.blockSignals(True)
        self.parent_combo.clear()
        self._blank()
        if node is None or result is None:
            self.title.setText("<b>Mechanism</b>")
            self.text.setText("Click a sensor in the graph to see how its causes drive it.")
            self.parent_combo.blockSignals(False)
            return
        self.title.setText(f"<b>{node}</b>")
        report = next((m for m in result.mechanisms if m.node == node), None)
        if report is None:
            self.text.setText("Not fitted in the current model (added since the last run, or outside the "
                              "KPI's causes). Press Refit (F5).")
            self.parent_combo.blockSignals(False)
            return
        view = mechanism_view(outcome, node) if outcome is not None else None
        parents = list(report.parents)
        self.parent_combo.addItems(parents)
        if view is not None and view["parent"]:
            self.parent_combo.setCurrentText(view["parent"])
        self.parent_combo.blockSignals(False)
        self.parent_combo.setEnabled(bool(parents))
        self._describe(report)
        if outcome is None:
            self.text.setText(self.text.text() + "<br><i>The plot needs the fitted model, which is not stored in "
                              "the file: press Refit (F5).</i>")
            return
        self._draw(view)

    def _describe(self, report: MechanismReport) -> None:
        kind = self.KIND_TEXT.get(report.kind, report.kind)
        r2 = report.oof_r2
        parts = [f"Type: {kind}"]
        if report.parents:
            parts.append(f"Causes: {', '.join(report.parents)}")
        if r2 is not None:
            parts.append(f"Explained by its causes: {100 * r2:.0f}% "
                         "<span style='color:#666'>(out-of-fold R²)</span>")
        if report.pooled:
            parts.append("Learned on reference and incident rows together (it behaved the same way in both, "
                         "only driven further).")
        self.text.setText("<br>".join(parts))

    def _blank(self) -> None:
        self.plot.clear()
        for axis in ("bottom", "left"):
            self.plot.setLabel(axis, "")
            self.plot.getAxis(axis).setTicks(None)

    def _parent_changed(self, parent: str) -> None:
        if self.outcome is None or not parent or self.node is None:
            return
        self._draw(mechanism_view(self.outcome, self.node, parent))

    def _draw(self, view: dict | None) -> None:
        self._blank()
        if view is None or view["parent"] is None or view["scatter_x"] is None:
            note = pg.TextItem("No measured causes: nothing to plot it against.", color="#666666", anchor=(0.5, 0.5))
            self.plot.addItem(note)
            note.setPos(0.5, 0.5)
            self.plot.setXRange(0, 1)
            self.plot.setYRange(0, 1)
            self.legend.setVisible(False)
            return
        self.legend.setVisible(True)
        x, y = view["scatter_x"], view["scatter_y"]
        if len(x) > 4000:   # enough dots to see the shape, without slowing the plot
            idx = np.linspace(0, len(x) - 1, 4000).astype(int)
            x, y = x[idx], y[idx]
        self.plot.addItem(pg.ScatterPlotItem(x, y, size=4, pen=None, brush=pg.mkBrush(90, 90, 90, 70)))
        if view["curve_x"] is not None:
            symbol = "o" if view["x_levels"] else None
            self.plot.plot(view["curve_x"], view["curve_y"], pen=pg.mkPen("#c0392b", width=3), symbol=symbol,
                           symbolBrush="#c0392b")
        u = self._unit_of
        px, ny = view["parent"], view["node"]
        self.plot.setLabel("bottom", f"{px} [{u(px)}]" if u(px) else px)
        self.plot.setLabel("left", f"{ny} [{u(ny)}]" if u(ny) else ny)
        bottom = self.plot.getAxis("bottom")
        bottom.setTicks([[(i, short_label(lv)) for i, lv in enumerate(view["x_levels"])]] if view["x_levels"] else None)
        left = self.plot.getAxis("left")
        left.setTicks([[(i, short_label(lv)) for i, lv in enumerate(view["y_levels"])]] if view["y_levels"] else None)
        self.plot.enableAutoRange()



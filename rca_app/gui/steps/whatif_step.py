"""Step 6, What-if: set a controllable setpoint and see the KPI the model predicts for the
incident rows under do(setpoint = value), against what actually happened."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rca_app.app.formatting import fmt_number, fmt_pct, short_label
from rca_app.app.result_words import REFERENCE_RANGE_WORDS, action_response_text, controller_output_text
from rca_app.app.whatif_view import controllable_candidates, setpoint_range, what_if_view
from rca_app.core.action_support import not_proposed_text
from rca_app.core.support import PLANT_RANGE_WORDS
from rca_app.gui import glossary
from rca_app.gui.session import Session
from rca_app.gui.widgets import (
    ANOMALY_COLOR,
    PREDICTED_COLOR,
    REFERENCE_COLOR,
    Banner,
    StepHeader,
    plot_widget,
    with_alpha,
)

if TYPE_CHECKING:
    from rca_app.core.rootcause import Action

_STEPS = 1000        # slider resolution
_MARGIN = 0.15       # the slider reaches this share of the reference range beyond each end


class WhatIfStep(QWidget):
    refitRequested = Signal()
    predicted = Signal(object)

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.range: dict | None = None
        self.last: dict | None = None
        self._busy = False
        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("6  What-if", glossary.STEP_HELP["whatif"]))
        self.banner = Banner()
        lay.addWidget(self.banner)
        self.refit_button = QPushButton("Rebuild the fitted model (Refit, F5)")
        self.refit_button.clicked.connect(self.refitRequested)
        self.refit_button.setVisible(False)
        lay.addWidget(self.refit_button)

        controls = QGroupBox("Setpoint")
        form = QFormLayout(controls)
        self.node = QComboBox()
        self.node.setToolTip(glossary.CONTROLLABLE)
        self.node.currentIndexChanged.connect(self._node_changed)
        form.addRow("Setpoint:", self.node)
        self.recommended = QLabel()
        self.recommended.setWordWrap(True)
        self.recommended.setToolTip(glossary.RECOMMENDED)
        form.addRow(self.recommended)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, _STEPS)
        self.slider.setToolTip(glossary.WHAT_IF)
        self.slider.valueChanged.connect(self._slider_moved)
        form.addRow(self.slider)
        self.range_label = QLabel()
        self.range_label.setWordWrap(True)
        form.addRow(self.range_label)
        self.value = QDoubleSpinBox()
        self.value.setDecimals(3)
        self.value.setKeyboardTracking(False)
        self.value.valueChanged.connect(self._spin_changed)
        self.level = QComboBox()
        self.level.currentTextChanged.connect(lambda _t: self._schedule())
        form.addRow("Value:", self.value)
        form.addRow("Level:", self.level)
        self._form = form
        self.reset_button = QPushButton("Back to the recommended value")
        self.reset_button.clicked.connect(self.reset_to_recommended)
        form.addRow(self.reset_button)
        self.warning = Banner()
        form.addRow(self.warning)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.summary)
        controls.setMinimumWidth(320)
        controls.setMaximumWidth(420)

        self.hist = plot_widget("KPI of the incident rows: predicted under your setting vs actual")
        self.hist.addLegend(offset=(10, 10))
        self.curve = plot_widget("Predicted mean KPI over the setpoint's reference range")
        self.curve.setToolTip("Each point: the incident's mean KPI the model predicts if the setpoint were held "
                              "at that value. Shaded: the setpoint's reference range (" + REFERENCE_RANGE_WORDS + ").")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.hist)
        right.addWidget(self.curve)
        right.setSizes([420, 240])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(controls)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)   # recompute once the slider rests, not on every pixel
        self._timer.timeout.connect(self.update_prediction)
        session.resultChanged.connect(self.refresh)
        session.staleChanged.connect(lambda _s: self.refresh())
        self.refresh()

    # ------------------------------------------------------------------ state
    def refresh(self) -> None:
        s = self.session
        self.node.blockSignals(True)
        self.node.clear()
        outcome = s.outcome
        self.refit_button.setVisible(False)
        if s.result is None:
            self.banner.show_message("No model yet: run the analysis first (F5).", "info")
            self._enable(False)
        elif outcome is None:
            self.banner.show_message("The fitted model is not stored in investigation files. Rebuild it to try "
                                     "setpoints (a refit with the saved graph; no re-discovery).", "info")
            self.refit_button.setVisible(True)
            self._enable(False)
        else:
            names = controllable_candidates(outcome)
            for n in names:
                self.node.addItem(n)
            if not names:
                self.banner.show_message("No controllable setpoints declared: no sensor is marked controllable in "
                                         "the layout (step 3), so there is no setpoint to try here.", "warn")
            elif s.stale:
                self.banner.show_message("The inputs changed after this model was fitted; predictions still use "
                                         "the last fit. Press F5 to update.", "warn")
            else:
                self.banner.show_message("The recommended action is pre-filled. Move the slider to try other "
                                         "values.", "ok")
            self._enable(bool(names))
        self.node.blockSignals(False)
        self._node_changed()

    def _enable(self, on: bool) -> None:
        for w in (self.node, self.slider, self.value, self.level, self.reset_button):
            w.setEnabled(on)
        if not on:
            self.hist.clear()
            self.curve.clear()
            self.summary.setText("")
            self.warning.clear()
            self.recommended.setText("")
            self.range_label.setText("")

    def _node_changed(self) -> None:
        s = self.session
        node = self.node.currentText()
        if s.outcome is None or not node:
            self.range = None
            return
        self.range = r = setpoint_range(s.outcome, node)
        unit = s.unit(node)
        cat = r["categorical"]
        self.slider.setVisible(not cat)
        self._form.setRowVisible(self.value, not cat)
        self._form.setRowVisible(self.level, cat)
        self._busy = True
        try:
            if cat:
                self.level.clear()
                self.level.addItems(r["levels"])
                self.range_label.setText(
                    f"Levels: {', '.join(short_label(x) for x in r['levels'])}; "
                    f"during the incident mostly {short_label(r['incident'])}.")
            else:
                lo, hi = self._slider_span()
                self.value.setRange(lo - (hi - lo), hi + (hi - lo))
                self.value.setSuffix(f" {unit}" if unit else "")
                step = (r["high"] - r["low"]) / 100 or 0.01
                self.value.setSingleStep(float(f"{step:.1g}"))
                self.range_label.setText(
                    f"Reference range: {fmt_number(r['low'])} to {fmt_number(r['high'])} {unit} "
                    f"({REFERENCE_RANGE_WORDS}, mean {fmt_number(r['reference_mean'])}); incident mean "
                    f"{fmt_number(r['incident'])} {unit}.")
                self.range_label.setToolTip("The range the recommended setting was searched over, as the action "
                                            f"and the report give it. A setting beyond {PLANT_RANGE_WORDS} is "
                                            "applied as given, but what the model computes from it is held within "
                                            "that range plus a margin: the warning then says so.")
        finally:
            self._busy = False
        action = next((a for a in s.result.actions if a.node == node), None)
        if action is not None:
            self.recommended.setText(
                f"<b>Recommended:</b> set {node} to <b>{fmt_number(action.recommended_value)} {unit}</b>: "
                f"predicted {s.target} {fmt_number(action.predicted_target)} "
                f"(restores {fmt_pct(action.restoration)} of the loss)." +
                (f" {when}." if (when := action_response_text(action, s.target, lead=True)) else "") +
                ("<br><span style='color:#8a5a00'>" + "<br>".join(action.warnings) + "</span>"
                 if action.warnings else ""))
        elif (left_out := next((x for x in s.result.not_proposed if x.node == node), None)) is not None:
            self.recommended.setText(not_proposed_text(left_out, s.target) + ".")
        else:
            self.recommended.setText(f"{node} has no computed action (it has no path to {s.target}).")
        self._draw_curve(action)
        self.reset_to_recommended()

    def _slider_span(self) -> tuple[float, float]:
        r = self.range
        span = (r["high"] - r["low"]) or max(abs(r["high"]) * 0.1, 1.0)
        return r["low"] - _MARGIN * span, r["high"] + _MARGIN * span

    def reset_to_recommended(self) -> None:
        r = self.range
        if r is None:
            return
        if r["categorical"]:
            self.level.setCurrentText(str(r["recommended"] or r["incident"]))
            self.update_prediction()
            return
        value = r["recommended"] if r["recommended"] is not None else r["incident"]
        self.set_value(value)
        self.update_prediction()

    # ------------------------------------------------------------------ value <-> slider
    def set_value(self, value: float) -> None:
        self._busy = True
        try:
            self.value.setValue(float(value))
            lo, hi = self._slider_span()
            self.slider.setValue(int(round((float(value) - lo) / (hi - lo) * _STEPS)) if hi > lo else 0)
        finally:
            self._busy = False
        self._schedule()

    def current_value(self):
        if self.range is None:
            return None
        return self.level.currentText() if self.range["categorical"] else float(self.value.value())

    def _slider_moved(self, pos: int) -> None:
        if self._busy or self.range is None or self.range["categorical"]:
            return
        lo, hi = self._slider_span()
        self._busy = True
        self.value.setValue(lo + (hi - lo) * pos / _STEPS)
        self._busy = False
        self._schedule()

    def _spin_changed(self, v: float) -> None:
        if self._busy:
            return
        self.set_value(v)

    def _schedule(self) -> None:
        if not self._busy:
            self._timer.start()

    # ------------------------------------------------------------------ prediction
    def update_prediction(self) -> dict | None:
        s = self.session
        node, value = self.node.currentText(), self.current_value()
        if s.outcome is None or not node or value is None or value == "":
            return None
        w = what_if_view(s.outcome, node, value)
        self.last = w
        self._draw_hist(w)
        self._mark_curve(value)
        unit = s.unit(s.target)
        lo, hi = w["predicted_mean_ci"]
        self.summary.setText(
            f"With {node} = <b>{value if isinstance(value, str) else fmt_number(value)}</b>, the model predicts a mean "
            f"{s.target} of <b>{fmt_number(w['predicted_mean'])} {unit}</b> (90% interval of the mean "
            f"{fmt_number(lo)} to {fmt_number(hi)}) for the incident rows, against {fmt_number(w['incident_mean'])} "
            f"actually measured and {fmt_number(w['reference_mean'])} in the reference period: it would restore "
            f"<b>{fmt_pct(w['restoration'])}</b> of the loss. A single unit would land between "
            f"{fmt_number(w['unit_interval'][0])} and {fmt_number(w['unit_interval'][1])} {unit} "
            "(90% prediction interval per unit under the incident's conditions, conformal residuals).")
        # A loop's valve is no free setpoint: its controller would move it back (trial defect 5).
        notes = [t for t in (w.get("warning"), controller_output_text(node, s.result)) if t]
        if notes:
            self.warning.show_message("⚠ " + "\n⚠ ".join(notes), "warn")
        else:
            self.warning.clear()
        self.predicted.emit(w)
        return w

    def _draw_hist(self, w: dict) -> None:
        p = self.hist
        p.clear()
        edges = np.asarray(w["hist_edges"], dtype=float)
        p.plot(edges, w["hist_actual"], stepMode="center", fillLevel=0, pen=pg.mkPen(ANOMALY_COLOR, width=1.5),
               brush=with_alpha(ANOMALY_COLOR, 50), name="actual (incident)")
        p.plot(edges, w["hist_predicted"], stepMode="center", fillLevel=0, pen=pg.mkPen(PREDICTED_COLOR, width=2),
               brush=with_alpha(PREDICTED_COLOR, 60), name="predicted (your setting)")
        lo, hi = w["predicted_mean_ci"]
        if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
            band = pg.LinearRegionItem((lo, hi), movable=False, brush=with_alpha(PREDICTED_COLOR, 40),
                                       pen=pg.mkPen(with_alpha(PREDICTED_COLOR, 90)))
            band.setToolTip(w.get("mean_interval_label", "90% interval of the predicted mean"))
            p.addItem(band)
            p.plot([], [], pen=pg.mkPen(with_alpha(PREDICTED_COLOR, 90), width=8),
                   name=w.get("mean_interval_label", "90% interval of the mean"))
        ulo, uhi = w.get("unit_interval", (math.nan, math.nan))
        if math.isfinite(ulo) and math.isfinite(uhi):
            pen = pg.mkPen(PREDICTED_COLOR, width=1.5, style=Qt.PenStyle.DotLine)
            for v in (ulo, uhi):
                p.addItem(pg.InfiniteLine(v, angle=90, pen=pen))
            p.plot([ulo, ulo], [0, 0], pen=pen, name=w["unit_interval_label"])
        for value, color, label in ((w["reference_mean"], REFERENCE_COLOR, "reference mean"),
                                    (w["incident_mean"], ANOMALY_COLOR, "incident mean"),
                                    (w["predicted_mean"], PREDICTED_COLOR, "predicted mean")):
            pen = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
            p.addItem(pg.InfiniteLine(value, angle=90, pen=pen))
            # A legend entry instead of a label on the line: the three means are often close.
            p.plot([value, value], [0, 0], pen=pen, name=f"{label}: {fmt_number(value)}")
        s = self.session
        unit = s.unit(s.target)
        p.setLabel("bottom", f"{s.target} [{unit}]" if unit else s.target)
        p.setLabel("left", "incident rows")
        p.enableAutoRange()

    def _draw_curve(self, action: Action | None) -> None:
        p = self.curve
        p.clear()
        self._marker = None
        r = self.range
        if action is None or r is None or not action.curve:
            return
        s = self.session
        if r["categorical"]:
            labels = [str(c[0]) for c in action.curve]
            y = [c[1] for c in action.curve]
            p.addItem(pg.BarGraphItem(x=np.arange(len(y)), height=y, width=0.6, brush="#2f6db5"))
            p.getAxis("bottom").setTicks([[(i, short_label(lb)) for i, lb in enumerate(labels)]])
            return
        x = [c[0] for c in action.curve]
        y = [c[1] for c in action.curve]
        p.addItem(pg.LinearRegionItem((r["low"], r["high"]), movable=False,
                                      brush=with_alpha(REFERENCE_COLOR, 30), pen=pg.mkPen(None)))
        p.plot(x, y, pen=pg.mkPen(PREDICTED_COLOR, width=2), symbol="o", symbolSize=4, symbolBrush=PREDICTED_COLOR)
        p.addItem(pg.InfiniteLine(action.predicted_target, angle=0,
                                  pen=pg.mkPen("#888888", style=Qt.PenStyle.DotLine)))
        self._marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#e0a100", width=2))
        p.addItem(self._marker)
        unit, tunit = s.unit(action.node), s.unit(s.target)
        p.setLabel("bottom", f"{action.node} [{unit}]" if unit else action.node)
        p.setLabel("left", f"mean {s.target} [{tunit}]" if tunit else f"mean {s.target}")
        p.getAxis("bottom").setTicks(None)

    def _mark_curve(self, value) -> None:
        if getattr(self, "_marker", None) is not None and not isinstance(value, str):
            self._marker.setValue(float(value))

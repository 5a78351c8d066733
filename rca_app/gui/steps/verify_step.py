"""Step 7, Verify the fix: when was the change made, what changed, and did it work?

The KPI trend carries a third band: an orange line at the change time (draggable) and the rows
after it shaded. "Verify" runs the impact query in the background (the window's job runner);
the result shows the observed against the counterfactual KPI with its conformal bands, the
recovery as a waterfall, and the verdict. All numbers come from
:mod:`rca_app.app.verify_view`; this page only draws them."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rca_app.app.formatting import fmt_number, short_label
from rca_app.app.verify_view import (
    HELP,
    change_choices,
    change_spec,
    change_time_at,
    default_change_time,
    impact_plot,
    trend,
    waterfall,
)
from rca_app.app.windows_view import axis_values
from rca_app.gui.session import Session
from rca_app.gui.widgets import (
    ANOMALY_COLOR,
    KPI_COLOR,
    PREDICTED_COLOR,
    REFERENCE_COLOR,
    Banner,
    StepHeader,
    plot_widget,
    with_alpha,
)

CHANGE_COLOR = QColor(224, 161, 0)
_KIND_COLOR = {"change": REFERENCE_COLOR, "upstream": PREDICTED_COLOR, "unexplained": QColor(140, 148, 158),
               "interactions": QColor(190, 196, 202), "total": KPI_COLOR}
_VERDICT_STYLE = {"improved": "ok", "no effect": "info", "worse": "error"}


class VerifyStep(QWidget):
    """The page; ``verifyRequested(ChangeSpec)`` asks the window to run the query."""

    verifyRequested = Signal(object)

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.result = None          # the last ImpactResult shown
        self._choices = []
        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("7  Verify the fix", HELP))
        self.banner = Banner()
        lay.addWidget(self.banner)

        controls = QGroupBox("The change")
        form = QFormLayout(controls)
        self.time = QLineEdit()
        self.time.setToolTip("When the change was made: the rows from here to the end of the data are compared "
                             "with the same rows had it not been made. Drag the orange line on the trend.")
        self.time.editingFinished.connect(self._time_typed)
        form.addRow("Changed at:", self.time)
        self.what = QComboBox()
        self.what.setToolTip("An action the investigation proposed, any setpoint or categorical sensor, or "
                             "'not named' (a repair, maintenance: the tool finds which sensor changed).")
        self.what.currentIndexChanged.connect(self._choice_changed)
        form.addRow("What changed:", self.what)
        self.value = QLineEdit()
        self.value.setToolTip("The new setpoint (optional: the data say what it was).")
        form.addRow("New value:", self.value)
        self.level = QComboBox()
        form.addRow("New level:", self.level)
        self._form = form
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip("Compare the rows after the change with the same rows without it (runs in "
                                      "the background).")
        self.verify_button.clicked.connect(self.request)
        form.addRow(self.verify_button)
        self.verdict = Banner()
        form.addRow(self.verdict)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.summary)
        controls.setMinimumWidth(330)
        controls.setMaximumWidth(430)

        self.trend = plot_widget("KPI: drag the orange line to when the change was made", time=True)
        self.impact = plot_widget("After the change: measured vs without the change")
        self.impact.addLegend(offset=(10, 5))
        self.waterfall = plot_widget("Recovery since the incident")
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.impact)
        bottom.addWidget(self.waterfall)
        bottom.setSizes([480, 480])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.trend)
        right.addWidget(bottom)
        right.setSizes([230, 420])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(controls)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        self.line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(CHANGE_COLOR, width=3),
                                    hoverPen=pg.mkPen(CHANGE_COLOR, width=5))
        self.line.sigPositionChangeFinished.connect(self._line_moved)
        self.after = pg.LinearRegionItem(movable=False, brush=with_alpha(CHANGE_COLOR, 35), pen=pg.mkPen(None))
        session.resultChanged.connect(self.refresh)
        session.dataChanged.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ state
    def refresh(self) -> None:
        """Rebuild the choices and the trend from the session (a new result or data)."""
        s = self.session
        self.what.blockSignals(True)
        self.what.clear()
        ready = s.data is not None and s.result is not None
        if s.data is None:
            self.banner.show_message("Open the data, extended past the change (step 1).", "info")
        elif s.result is None:
            self.banner.show_message("Run the analysis first (F5): the fix is judged with the investigation's "
                                     "model.", "info")
        else:
            self.banner.show_message("Mark the change time on the trend, say what changed, and press Verify.", "ok")
        if ready:
            levels = {c: sorted(set(s.data.frame[c].astype(str))) for c in s.data.categorical_nodes}
            self._choices = change_choices(s.result, s.layout, levels)
            for c in self._choices:
                self.what.addItem(short_label(c.label, 60))
        else:
            self._choices = []
        self.what.blockSignals(False)
        for w in (self.time, self.what, self.value, self.level, self.verify_button):
            w.setEnabled(ready)
        self._draw_trend()
        if ready and not self.time.text():
            self.set_change_time(default_change_time(s.data, s.result))
        self._choice_changed()
        stored = getattr(s, "verification", None)
        if stored is not None and stored.result is not None and self.result is None:
            self.show_result(stored.result)

    def _draw_trend(self) -> None:
        p = self.trend
        p.clear()
        data = self.session.data
        if data is None:
            return
        t = trend(data)
        p.plot(t["x"], t["y"], pen=pg.mkPen(with_alpha(KPI_COLOR, 150), width=1))
        r = self.session.result
        if r is not None:
            x = t["x"]
            for w, color in ((r.reference, REFERENCE_COLOR), (r.anomaly, ANOMALY_COLOR)):
                lo, hi = x[min(w.first_row, len(x) - 1)], x[min(w.stop_row, len(x)) - 1]
                p.addItem(pg.LinearRegionItem((lo, hi), movable=False, brush=with_alpha(color, 30),
                                              pen=pg.mkPen(None)))
        p.addItem(self.after)
        p.addItem(self.line)
        p.setLabel("left", self.session.target or "")

    def set_change_time(self, when) -> None:
        """Put the change at ``when`` (engineer's terms): the field, the line and the shading."""
        data = self.session.data
        if data is None or when is None:
            return
        from rca_app.core.data import rows_for_window

        self.time.setText(str(when))
        x = axis_values(data)
        try:
            row = rows_for_window(data, when, None).start
        except Exception:   # noqa: BLE001 - a half-typed time: the Verify button reports it
            return
        self.line.blockSignals(True)
        self.line.setValue(float(x[row]))
        self.line.blockSignals(False)
        self.after.setRegion((float(x[row]), float(x[-1])))

    def _line_moved(self) -> None:
        when = change_time_at(self.session.data, self.line.value()) if self.session.data is not None else None
        if when is not None:
            self.set_change_time(when)

    def _time_typed(self) -> None:
        self.set_change_time(self.time.text().strip() or None)

    def _choice_changed(self) -> None:
        i = self.what.currentIndex()
        c = self._choices[i] if 0 <= i < len(self._choices) else None
        switch = c is not None and c.kind == "switch"
        self._form.setRowVisible(self.value, c is not None and c.kind == "setpoint")
        self._form.setRowVisible(self.level, switch)
        self.level.clear()
        if switch:
            self.level.addItems(list(c.levels))
            if c.value is not None:
                self.level.setCurrentText(str(c.value))
        self.value.setText(fmt_number(c.value) if c is not None and c.kind == "setpoint" else "")

    def current_change(self):
        """The :class:`ChangeSpec` the controls describe (None without a choice)."""
        i = self.what.currentIndex()
        if not (0 <= i < len(self._choices)):
            return None
        c = self._choices[i]
        value = None
        if c.kind == "switch":
            value = self.level.currentText() or None
        elif c.kind == "setpoint" and self.value.text().strip():
            try:
                value = float(self.value.text().replace(",", "."))
            except ValueError:
                value = None
        return change_spec(c, self.time.text().strip(), value)

    def request(self) -> None:
        spec = self.current_change()
        if spec is not None:
            self.verifyRequested.emit(spec)

    # ------------------------------------------------------------------ the result
    def show_result(self, r) -> None:
        """Draw an :class:`ImpactResult`."""
        self.result = r
        self.verdict.show_message(f"Verdict: {r.verdict}", _VERDICT_STYLE.get(r.verdict, "info"))
        caveats = "".join(f"<br>⚠ {c}" for c in r.caveats)
        self.summary.setText(f"{r.verdict_text}<br><span style='color:#5a4300'>{caveats}</span>" if caveats
                             else r.verdict_text)
        self._draw_impact(r)
        self._draw_waterfall(r)

    def _draw_impact(self, r) -> None:
        p = self.impact
        p.clear()
        d = impact_plot(r)
        x = np.arange(len(d["observed"]), dtype=float)
        w = max(1, len(x) // 25)
        # The per-unit band around the smoothed prediction: where single units without the
        # change would lie (a band around every row's own prediction is too ragged to read).
        centre = _rolling(np.asarray(d["expected"], dtype=float), w)
        off_lo = np.nanmedian(np.asarray(d["band_low"]) - np.asarray(d["expected"]))
        off_hi = np.nanmedian(np.asarray(d["band_high"]) - np.asarray(d["expected"]))
        ok = np.isfinite(centre)
        lo = pg.PlotDataItem(x[ok], centre[ok] + off_lo, pen=pg.mkPen(None))
        hi = pg.PlotDataItem(x[ok], centre[ok] + off_hi, pen=pg.mkPen(None))
        p.addItem(lo)
        p.addItem(hi)
        p.addItem(pg.FillBetweenItem(lo, hi, brush=with_alpha(ANOMALY_COLOR, 30)))
        p.plot([], [], pen=pg.mkPen(with_alpha(ANOMALY_COLOR, 70), width=8), name=d["labels"]["band"])
        mlo, mhi = d["mean_band"]
        if math.isfinite(mlo) and math.isfinite(mhi):
            p.addItem(pg.LinearRegionItem((mlo, mhi), orientation="horizontal", movable=False,
                                          brush=with_alpha(ANOMALY_COLOR, 70), pen=pg.mkPen(None)))
            p.plot([], [], pen=pg.mkPen(with_alpha(ANOMALY_COLOR, 140), width=8), name=d["labels"]["mean_band"])
        obs = _rolling(np.asarray(d["observed"]), w)
        cf = _rolling(np.asarray(d["counterfactual"]), w)
        p.plot(x, obs, pen=pg.mkPen(KPI_COLOR, width=2), name=d["labels"]["observed"] + f" ({w}-row mean)")
        p.plot(x, cf, pen=pg.mkPen(ANOMALY_COLOR, width=2, style=Qt.PenStyle.DashLine),
               name=d["labels"]["counterfactual"] + f" ({w}-row mean)")
        p.setLabel("bottom", "rows after the change")
        p.setLabel("left", r.target)
        ys = np.concatenate([obs[np.isfinite(obs)], cf[np.isfinite(cf)], centre[ok] + off_lo, centre[ok] + off_hi])
        if len(ys):
            span = float(ys.max() - ys.min()) or 1.0
            p.setYRange(float(ys.min()) - 0.05 * span, float(ys.max()) + 0.45 * span, padding=0)

    def _draw_waterfall(self, r) -> None:
        p = self.waterfall
        p.clear()
        bars = waterfall(r)
        n = len(bars)
        ticks = []
        ends = []
        for i, b in enumerate(bars):
            y = n - 1 - i
            lo, hi = sorted((b.start, b.end))
            if b.kind == "total":
                p.plot([b.end], [y], pen=None, symbol="s", symbolSize=9, symbolBrush=KPI_COLOR)
                text = f"{b.end:.4g}"
                ends.append(b.end)
            else:
                width = max(hi - lo, 1e-12)
                p.addItem(pg.BarGraphItem(x0=[lo], width=[width], y=[y], height=0.6,
                                          brush=_KIND_COLOR.get(b.kind, PREDICTED_COLOR), pen=pg.mkPen(None)))
                text = f"{b.end - b.start:+.3g}"
                ends += [lo, hi]
            label = pg.TextItem(text, color="#222222", anchor=(0, 0.5))
            label.setPos(hi, y)
            p.addItem(label)
            ticks.append((y, short_label(b.label, 24)))
        p.getAxis("left").setTicks([ticks])
        p.getAxis("left").setWidth(185)
        p.setLabel("bottom", r.target)
        span = (max(ends) - min(ends)) or 1.0
        p.setXRange(min(ends) - 0.05 * span, max(ends) + 0.4 * span, padding=0)
        p.setYRange(-0.7, n - 0.3, padding=0)


def _rolling(v: np.ndarray, w: int) -> np.ndarray:
    if w <= 1 or len(v) < w:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    out = np.full(len(v), np.nan)
    out[w - 1:] = (c[w:] - c[:-w]) / w
    return out

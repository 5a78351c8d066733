"""Step 2, Incident: the KPI trend with control limits, draggable reference and incident
windows, auto-detection, and sensors overlaid on the same time axis."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rca_app.app.analysis_job import DEFAULT_PRESET, PRESETS, preset_label, preset_of
from rca_app.app.data_view import fmt_seconds
from rca_app.app.dynamics_view import residence_offset
from rca_app.app.formatting import short_label
from rca_app.app.graph_view import DISCOVERY_CHOICES
from rca_app.app.kpi_spread import kpi_spread
from rca_app.app.windows_view import (
    axis_values,
    investigate_point,
    kpi_limits,
    kpi_type_text,
    node_series,
    window_from_axis,
    window_from_rows,
    window_label,
    window_rows,
    window_to_axis,
    windows_note,
    windows_problem,
)
from rca_app.gui import glossary
from rca_app.gui.session import Session
from rca_app.gui.widgets import (
    ANOMALY_COLOR,
    KPI_COLOR,
    REFERENCE_COLOR,
    Banner,
    StepHeader,
    configure_charts,
    time_axis,
    with_alpha,
)


class IncidentStep(QWidget):
    runRequested = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        configure_charts()
        self.session = session
        self._updating = False
        self._overlays: dict[str, pg.PlotItem] = {}
        self._x = None
        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("2  Incident", glossary.STEP_HELP["incident"]))

        bar = QHBoxLayout()
        self.auto_button = QPushButton("Auto-detect incident")
        self.auto_button.setToolTip(glossary.AUTO_DETECT)
        self.auto_button.clicked.connect(self.auto_detect)
        bar.addWidget(self.auto_button)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Thoroughness:"))
        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(preset_label(name), name)
        self.preset.setCurrentIndex(self.preset.findData(DEFAULT_PRESET))
        self.preset.setToolTip("How many times the model is refitted on resampled data to measure how certain "
                               "the ranking is. More refits: narrower doubt, longer wait. A refit's time grows "
                               "with the rows and faster than the number of sensors: seconds on a small line, "
                               "minutes on fifty sensors.")
        self.preset.currentIndexChanged.connect(lambda i: self._preset_changed(self.preset.itemData(i)))
        bar.addWidget(self.preset)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Discovery:"))
        self.discovery = QComboBox()
        for value, text in DISCOVERY_CHOICES:
            self.discovery.addItem(text, value)
        self.discovery.setToolTip("How the causal graph is found. Auto: LiNGAM where the sensors' noise is clearly "
                                  "non-Gaussian, the constraint-based search (PC) where it is not; the result says "
                                  "which it used and why.")
        self.discovery.currentIndexChanged.connect(self._discovery_changed)
        bar.addWidget(self.discovery)
        bar.addStretch(1)
        self.run_button = QPushButton("Find root causes  (F5)")
        f = QFont(self.run_button.font())
        f.setBold(True)
        self.run_button.setFont(f)
        self.run_button.setMinimumHeight(32)
        self.run_button.setToolTip("Learn the causal graph from the reference period and rank what changed in the "
                                   "incident window. Runs in the background; you can cancel it.")
        self.run_button.clicked.connect(self.runRequested)
        bar.addWidget(self.run_button)
        lay.addLayout(bar)

        self.windows_text = QLabel()
        self.windows_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.windows_text.setWordWrap(True)
        lay.addWidget(self.windows_text)
        self.banner = Banner()
        lay.addWidget(self.banner)

        self.charts = pg.GraphicsLayoutWidget()
        self.charts.ci.setSpacing(2)
        self.kpi_plot = self.charts.addPlot(row=0, col=0, axisItems={"bottom": time_axis()})
        self.kpi_plot.showGrid(x=True, y=True, alpha=0.15)
        self.kpi_plot.setDownsampling(auto=True, mode="peak")
        self.kpi_plot.setClipToView(True)
        self.kpi_curve = self.kpi_plot.plot(pen=pg.mkPen(KPI_COLOR, width=1))
        self.limit_lines = {
            "centre": pg.InfiniteLine(angle=0, pen=pg.mkPen("#555555", width=1)),
            "lower": pg.InfiniteLine(angle=0, pen=pg.mkPen("#c0392b", width=1, style=Qt.PenStyle.DashLine)),
            "upper": pg.InfiniteLine(angle=0, pen=pg.mkPen("#c0392b", width=1, style=Qt.PenStyle.DashLine)),
        }
        for line in self.limit_lines.values():
            line.setToolTip(glossary.CONTROL_LIMITS)
            self.kpi_plot.addItem(line, ignoreBounds=True)
        # Named in a key above the chart, not on the lines (labels collide with the window bands)
        # nor in a legend inside the plot (it covered the KPI trace wherever it was put).
        self.chart_key = QLabel(
            f"<small><span style='color:{pg.mkColor(KPI_COLOR).name()}'>━━</span> KPI &nbsp;&nbsp; "
            "<span style='color:#555555'>──</span> centre (reference) &nbsp;&nbsp; "
            "<span style='color:#c0392b'>╌╌</span> ±3σ control limits</small>")
        self.chart_key.setToolTip(glossary.CONTROL_LIMITS)
        lay.addWidget(self.chart_key)
        # "Investigate this batch": a double-click on the KPI trend makes that one row the incident.
        self.kpi_plot.scene().sigMouseClicked.connect(self._kpi_clicked)
        self.kpi_plot.setToolTip("Double-click a point to investigate that batch (one row) on its own.")
        self.ref_region = self._region(REFERENCE_COLOR, "Reference", glossary.REFERENCE)
        self.an_region = self._region(ANOMALY_COLOR, "Incident", glossary.ANOMALY)

        self.sensors = QListWidget()
        self.sensors.setToolTip("Tick sensors to draw them under the KPI on the same time axis.")
        self.sensors.itemChanged.connect(self._overlay_toggled)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("<b>Overlay sensors</b>"))
        sl.addWidget(self.sensors)
        # Process dynamics: each sensor drawn where it acts on the KPI (its residence time later).
        self.shift_box = QCheckBox("Shift by residence time")
        self.shift_box.setToolTip("Draw each sensor later by its residence time to the KPI (the alignment the last "
                                  "analysis used), so a cause sits above the KPI change it made.")
        self.shift_box.toggled.connect(self._shift_toggled)
        self.shift_box.setVisible(False)
        sl.addWidget(self.shift_box)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.charts)
        split.addWidget(side)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        side.setMinimumWidth(240)
        split.setSizes([900, 240])
        lay.addWidget(split, 1)

        session.dataChanged.connect(self.refresh)
        session.windowsChanged.connect(self.refresh_windows)
        session.resultChanged.connect(self._result_changed)
        self.refresh()

    def _region(self, color, label: str, tip: str) -> pg.LinearRegionItem:
        r = pg.LinearRegionItem(brush=with_alpha(color, 45), hoverBrush=with_alpha(color, 80),
                                pen=pg.mkPen(color, width=2))
        r.setZValue(-10)
        r.setToolTip(tip)
        pg.InfLineLabel(r.lines[0], label, position=0.96, anchor=(0, 0), color=color.darker(130))
        r.sigRegionChangeFinished.connect(self._region_moved)
        r.setVisible(False)
        self.kpi_plot.addItem(r)
        return r

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        s = self.session
        data = s.data
        for name in list(self._overlays):
            self._remove_overlay(name)
        self.sensors.blockSignals(True)
        self.sensors.clear()
        if data is None:
            self._x = None
            self.kpi_curve.setData([], [])
            self.kpi_plot.setTitle("No analysis table yet: open data and a layout that fits it.")
            self.sensors.blockSignals(False)
            self.refresh_windows()
            return
        self._x = axis_values(data)
        target = data.layout.target
        self.kpi_curve.setData(self._x, data.frame[target].to_numpy(float))
        unit = data.layout.unit(target)
        goal = "higher is better" if data.layout.goal == "maximize" else "lower is better"
        self.kpi_plot.setTitle(f"<b>{target}</b> ({goal})", size="11pt")
        self.kpi_plot.setLabel("left", target, units=None)
        if unit:
            self.kpi_plot.setLabel("left", f"{target} [{unit}]")
        self.kpi_plot.getAxis("bottom").setLabel(None if data.time is not None else "row")
        if data.time is None:
            self.kpi_plot.setAxisItems({"bottom": pg.AxisItem("bottom")})
        for n in data.frame.columns:
            if n == target:
                continue
            item = QListWidgetItem(n + (f"  [{data.layout.unit(n)}]" if data.layout.unit(n) else ""))
            item.setData(Qt.ItemDataRole.UserRole, n)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.sensors.addItem(item)
        self.sensors.blockSignals(False)
        self.kpi_plot.enableAutoRange()
        self.refresh_windows()

    def refresh_windows(self) -> None:
        s = self.session
        data = s.data
        self._updating = True
        try:
            for region, w in ((self.ref_region, s.reference), (self.an_region, s.anomaly)):
                if data is None or w is None:
                    region.setVisible(False)
                    continue
                region.setRegion(window_to_axis(data, w))
                region.setVisible(True)
            for plot in self._overlays.values():
                self._sync_overlay_regions(plot)
        finally:
            self._updating = False
        if data is None:
            self.windows_text.setText("")
            self.banner.clear()
            for line in self.limit_lines.values():
                line.setVisible(False)
            return
        limits = kpi_limits(data, s.reference)
        for key, line in self.limit_lines.items():
            line.setValue(limits[key])
            line.setVisible(True)
        parts = []
        spread = None
        if s.reference is not None:
            parts.append(f"<span style='color:{REFERENCE_COLOR.darker(120).name()}'><b>Reference:</b></span> "
                         f"{window_label(data, s.reference)}")
        else:
            parts.append("<b>Reference:</b> every row before the incident")
        if s.anomaly is not None:
            parts.append(f"<span style='color:{ANOMALY_COLOR.name()}'><b>Incident:</b></span> "
                         f"{window_label(data, s.anomaly)}")
            # No reference chosen: the analysis compares with every row before the incident; so does this.
            ref = s.reference
            if ref is None and window_rows(data, s.anomaly).start > 0:
                ref = window_from_rows(data, slice(0, window_rows(data, s.anomaly).start))
            series = node_series(data, data.layout.target, {"reference": ref, "incident": s.anomaly})
            w = series["windows"]
            if "reference" in w and "incident" in w:
                unit = data.layout.unit(data.layout.target)
                ref_y = np.asarray(w["reference"]["y"], dtype=float)
                spread = kpi_spread(w["incident"]["y"], w["reference"]["mean"],
                                    float(np.nanstd(ref_y)) if ref_y.size else np.nan)
                span = (f" (incident range {spread.low:.4g} to {spread.high:.4g})" if spread is not None else "")
                parts.append(f"<b>{data.layout.target}</b> mean: {w['reference']['mean']:.4g} {unit} → "
                             f"{w['incident']['mean']:.4g} {unit}{span}")
        parts.append(kpi_type_text(data, s.reference, s.anomaly))
        self.windows_text.setText("&nbsp;&nbsp;&nbsp;".join(parts))
        problem = windows_problem(data, s.reference, s.anomaly)
        note = None if problem else windows_note(data, s.reference, s.anomaly)
        if not problem and not note and spread is not None and spread.shape == "regimes":
            note = (f"{data.layout.target} sat on both sides of the reference in this incident: {spread.above:.0%} of "
                    f"its rows more than two reference SDs above, {spread.below:.0%} more than two below. Its mean "
                    "hides two regimes: consider a window around one of them.")
        if problem:
            self.banner.show_message(problem, "warn")
        elif note:
            self.banner.show_message(note, "info")
        else:
            self.banner.clear()
        if s.reference is None and s.anomaly is not None:
            # No reference chosen: show the default one (all rows before the incident) draggable.
            rows = window_rows(data, s.anomaly)
            if rows.start > 0:
                self._updating = True
                self.ref_region.setRegion(window_to_axis(data, window_from_rows(data, slice(0, rows.start))))
                self.ref_region.setVisible(True)
                self._updating = False

    # ------------------------------------------------------------------ interaction
    def _region_moved(self) -> None:
        if self._updating or self.session.data is None:
            return
        data = self.session.data
        ref = window_from_axis(data, *self.ref_region.getRegion()) if self.ref_region.isVisible() else None
        an = window_from_axis(data, *self.an_region.getRegion()) if self.an_region.isVisible() else None
        self.session.set_windows(ref, an)

    def _kpi_clicked(self, ev) -> None:
        if ev.double() and self.kpi_plot.sceneBoundingRect().contains(ev.scenePos()):
            self.investigate_x(self.kpi_plot.vb.mapSceneToView(ev.scenePos()).x())

    def investigate_x(self, x: float) -> None:
        """Make the row at chart position ``x`` the incident ("investigate this batch")."""
        if self.session.data is None:
            return
        w = investigate_point(self.session.data, x, self.session.reference)
        self.session.set_windows(w["reference"], w["anomaly"])

    def auto_detect(self) -> None:
        s = self.session
        if s.data is None:
            self.banner.show_message("Open data and a layout first: the KPI column comes from the layout.", "warn")
            return
        found = s.auto_detect()
        if found is None:
            self.banner.show_message(
                f"{s.data.layout.target} never leaves its control limits: no incident to suggest. Drag the red "
                "band over the stretch you want to investigate.", "warn")
            self.an_region.setVisible(False)
        elif not self.banner.text():
            self.banner.show_message(f"Incident window proposed by the rule: {found['rule']}. Adjust it by dragging.",
                                     "info")

    def place_default_windows(self) -> None:
        """When no window is set yet: the incident as auto-detected, else the last fifth."""
        self.session.place_default_windows()

    def _preset_changed(self, name: str) -> None:
        self.session.apply_preset(name)

    def _discovery_changed(self, i: int) -> None:
        value = self.discovery.itemData(i)
        if self.session.settings.get("discovery", "auto") != value:
            self.session.settings["discovery"] = value
            self.session.set_dirty()

    def sync_preset(self) -> None:
        i = self.discovery.findData(self.session.settings.get("discovery", "auto"))
        if i >= 0:
            self.discovery.blockSignals(True)
            self.discovery.setCurrentIndex(i)
            self.discovery.blockSignals(False)
        name = preset_of(self.session.settings)
        if name is not None:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(self.preset.findData(name))
            self.preset.blockSignals(False)

    # ------------------------------------------------------------------ sensor overlays
    def _overlay_toggled(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            self.add_overlay(name)
        else:
            self._remove_overlay(name)

    def add_overlay(self, name: str) -> None:
        data = self.session.data
        if data is None or name in self._overlays:
            return
        for i in range(self.sensors.count()):
            item = self.sensors.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == name and item.checkState() != Qt.CheckState.Checked:
                self.sensors.blockSignals(True)
                item.setCheckState(Qt.CheckState.Checked)
                self.sensors.blockSignals(False)
        row = len(self._overlays) + 1
        axis = time_axis() if data.time is not None else pg.AxisItem("bottom")
        plot = self.charts.addPlot(row=row, col=0, axisItems={"bottom": axis})
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.setXLink(self.kpi_plot)
        series = node_series(data, name, {"all": window_from_rows(data, slice(0, data.n_rows))})
        w = series["windows"]["all"]
        offset = self.overlay_offset(name)
        if offset:
            x = np.asarray(w["x"], dtype=float)
            # The last rows' material reaches the KPI after the data end: nothing to draw them
            # against, and drawn they would stretch the shared time axis past the KPI chart.
            keep = x + offset <= np.nanmax(x) if x.size else np.zeros(0, bool)
            w = dict(w, x=x[keep] + offset, y=np.asarray(w["y"])[keep])
            name_label = f"{name} (+{self._shift_words(name)})"
        else:
            name_label = name
        unit = data.layout.unit(name)
        plot.setLabel("left", f"{name_label} [{unit}]" if unit else name_label)
        if series["levels"]:
            plot.plot(w["x"], w["y"], pen=None, symbol="o", symbolSize=3, symbolPen=None,
                      symbolBrush=pg.mkBrush("#2f6db5"))
            plot.getAxis("left").setTicks([[(i, short_label(lv)) for i, lv in enumerate(series["levels"])]])
        else:
            plot.plot(w["x"], w["y"], pen=pg.mkPen("#2f6db5", width=1))
        plot.regions = []
        for color in (REFERENCE_COLOR, ANOMALY_COLOR):
            r = pg.LinearRegionItem(brush=with_alpha(color, 35), pen=pg.mkPen(with_alpha(color, 120)), movable=False)
            r.setZValue(-10)
            plot.addItem(r)
            plot.regions.append(r)
        self._overlays[name] = plot
        self._sync_overlay_regions(plot)
        self.kpi_plot.getAxis("bottom").setStyle(showValues=False)

    def _dynamics(self):
        r = self.session.result
        return r.dynamics if r is not None else None

    def overlay_offset(self, name: str) -> float:
        """x added to ``name``'s overlay (0 unless the residence-time toggle is on)."""
        if not self.shift_box.isChecked() or self.session.data is None:
            return 0.0
        return residence_offset(self._dynamics(), name, self.session.data.time is not None)

    def _shift_words(self, name: str) -> str:
        offset = self.overlay_offset(name)
        return fmt_seconds(offset) if self.session.data.time is not None else f"{offset:g} rows"

    def _result_changed(self) -> None:
        dyn = self._dynamics()
        self.shift_box.setVisible(bool(dyn is not None and dyn.shifts))
        if self.shift_box.isChecked():
            self._shift_toggled(True)

    def _shift_toggled(self, _on: bool) -> None:
        names = list(self._overlays)
        for n in names:
            self._remove_overlay(n)
        for n in names:
            self.add_overlay(n)

    def _sync_overlay_regions(self, plot) -> None:
        for r, src in zip(plot.regions, (self.ref_region, self.an_region), strict=True):
            r.setVisible(src.isVisible())
            if src.isVisible():
                r.setRegion(src.getRegion())

    def _remove_overlay(self, name: str) -> None:
        plot = self._overlays.pop(name, None)
        if plot is None:
            return
        self.charts.removeItem(plot)
        # Re-pack the remaining overlays under the KPI.
        rest = list(self._overlays.items())
        for _, p in rest:
            self.charts.removeItem(p)
        for i, (_, p) in enumerate(rest, start=1):
            self.charts.addItem(p, row=i, col=0)
        self.kpi_plot.getAxis("bottom").setStyle(showValues=not self._overlays)

    def overlay_names(self) -> list[str]:
        return list(self._overlays)

    def region_values(self) -> dict:
        """The regions as drawn (tests drag them by setting these)."""
        return {"reference": self.ref_region.getRegion(), "anomaly": self.an_region.getRegion()}

    def set_regions(self, reference=None, anomaly=None) -> None:
        if reference is not None:
            self.ref_region.setVisible(True)
            self.ref_region.setRegion(reference)
        if anomaly is not None:
            self.an_region.setVisible(True)
            self.an_region.setRegion(anomaly)
        self._region_moved()

    def x_values(self) -> np.ndarray | None:
        return self._x

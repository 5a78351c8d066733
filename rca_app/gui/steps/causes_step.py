"""Step 5, Root causes: the ranking with intervals, a Pareto chart, and for the selected cause
its trend (reference vs incident), the evidence and its path(s) to the KPI."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rca_app.app.cause_paths import CausePaths, over_time_words, split_paths
from rca_app.app.causes_view import pareto
from rca_app.app.formatting import fmt_number, fmt_pct, short_label
from rca_app.app.result_words import (
    NOT_COMPUTED,
    banner_level,
    controller_move_text,
    controller_output_text,
    no_restoration_text,
    notes_by_importance,
    restoration_range_text,
)
from rca_app.app.windows_view import node_series
from rca_app.gui import glossary
from rca_app.gui.models import RestorationDelegate, RootCauseModel
from rca_app.gui.session import Session
from rca_app.gui.widgets import ANOMALY_COLOR, REFERENCE_COLOR, Banner, StepHeader, plot_widget, with_alpha

if TYPE_CHECKING:
    from rca_app.core.results import AnalysisResult
    from rca_app.core.rootcause import RootCause


def headline(r: AnalysisResult, unit_of) -> str:
    """Two sentences an engineer can forward: what dropped, and the most likely cause.

    Parameters
    ----------
    r : AnalysisResult
    unit_of : callable
        Sensor -> engineering unit.

    Returns
    -------
    str
        Rich text.
    """
    an = r.anomaly
    target, unit = r.target, unit_of(r.target)
    verb = "fell" if r.goal == "maximize" else "rose"
    drop = (f"<b>{target}</b> {verb} from {fmt_number(an.target_reference_mean)} to "
            f"{fmt_number(an.target_anomaly_mean)} {unit} in the incident window ({an.n_rows:,} rows).")
    top = r.top_cause
    basis = r.ranking_basis
    if basis is not None and basis.method == "anomaly":
        if not basis.anomaly_scores:
            return f"{drop}<br>{basis.explanation}"
        a = basis.anomaly_scores[0]
        return (f"{drop}<br>{basis.explanation}<br>Most unusual: <b>{a.node}</b>: only {fmt_pct(a.tail_share)} of its "
                f"reference behaviour was as extreme (score {a.score:.1f}). Not a share of the loss.")
    if basis is not None and basis.method == "unit_restoration":
        drop += f"<br>{basis.explanation}"
    if top is None:
        return drop
    lo, hi = top.restoration_ci
    who = "an unexplained change at the KPI itself" if top.node == target else \
        f"<b>{top.node}</b> (station {top.station})"
    why = no_restoration_text(top, target)
    if why:
        return f"{drop}<br>Most likely cause: {who}: {why}."
    return (f"{drop}<br>Most likely cause: {who}. If it behaved as in the reference period, "
            f"{fmt_pct(top.restoration)} of the loss would come back (90% interval {fmt_pct(lo)} to "
            f"{fmt_pct(hi)}); it ranked first in {fmt_pct(top.share_ranked_first)} of the refits.")


class CausesStep(QWidget):
    causeSelected = Signal(object)       # node name or None
    showInGraph = Signal(str)

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("5  Root causes", glossary.STEP_HELP["causes"]))
        self.banner = Banner()
        lay.addWidget(self.banner)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.headline)

        self.model = RootCauseModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(RootCauseModel.RESTORATION_COLUMN, RestorationDelegate(self.table))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        h = self.table.horizontalHeader()
        for c in (0, 4, 5):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        # Sensor and station: as wide as their names up to a cap (see _fit_columns), elided in
        # the middle beyond it, so that long TE names never squeeze the restoration bars away.
        for c in (1, 2):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        h.setSectionResizeMode(RootCauseModel.RESTORATION_COLUMN, QHeaderView.ResizeMode.Stretch)
        h.setMinimumSectionSize(40)
        self.table.setMinimumWidth(640)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.pareto = plot_widget("Pareto of the causes")
        self.pareto.setToolTip(glossary.RESTORATION + "\n\nOrange line: the cumulative share of the loss "
                               "explained by the causes down to that row.")
        self.pareto.setMinimumWidth(300)
        self.trend = plot_widget("", time=True)
        # Values in plant units: no "(x0.001)" rescaling of the axis behind the engineer's back.
        self.trend.getAxis("left").enableAutoSIPrefix(False)
        self.trend.setToolTip("The selected sensor: green = reference period, red = incident; dashed lines are "
                              "the window means.")
        self.evidence = QLabel()
        self.evidence.setWordWrap(True)
        self.evidence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.evidence.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.evidence.setMinimumWidth(380)
        self.graph_button = QPushButton("Show paths in the graph")
        self.graph_button.clicked.connect(self._show_in_graph)
        ev = QWidget()
        el = QVBoxLayout(ev)
        el.setContentsMargins(0, 0, 0, 0)
        el.addWidget(self.evidence, 1)
        el.addWidget(self.graph_button)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.table)
        top.addWidget(self.pareto)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([700, 460])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.trend)
        bottom.addWidget(ev)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setSizes([700, 460])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([330, 300])
        lay.addWidget(split, 1)

        session.resultChanged.connect(self.refresh)
        session.staleChanged.connect(lambda _s: self._banner())
        self.refresh()

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        s = self.session
        r = s.result
        self.model.set_causes(r.root_causes if r else [], r.target if r else "")
        self._fit_columns()
        self._pareto()
        self._banner()
        if not r:
            self.headline.setText("")
            self.evidence.setText("")
            self.trend.clear()
            self.graph_button.setEnabled(False)
            return
        self.headline.setText(self._headline(r))
        if r.root_causes:
            self.select(r.root_causes[0].node)

    # Widest the sensor and station columns grow to: the restoration column keeps room for its
    # bars and numbers at 1366 px.
    NAME_WIDTH, STATION_WIDTH = 230, 150

    def _fit_columns(self) -> None:
        h = self.table.horizontalHeader()
        for c, cap in ((1, self.NAME_WIDTH), (2, self.STATION_WIDTH)):
            self.table.resizeColumnToContents(c)
            h.resizeSection(c, min(h.sectionSize(c), cap))

    def _banner(self) -> None:
        s = self.session
        if s.result is None:
            self.banner.show_message("No ranking yet: mark the incident in step 2 and press F5.", "info")
        elif s.stale:
            self.banner.show_message("The inputs (windows, layout or graph) changed after this ranking was computed: "
                                     "press F5 to update it.", "warn")
        else:
            # The notes on the ranking's trust (saturated loops, extrapolation, unstable
            # estimates) first, by the kind the engine gave them: the banner shows one (in the
            # warning style when it is a warning), the tooltip the rest.
            notes = notes_by_importance(s.result.diagnostics.messages)
            msgs = [n.text for n in notes]
            if msgs:
                # Short enough that "+N more notes" stays on screen when the banner keeps to one line.
                first = msgs[0] if len(msgs[0]) <= 140 else msgs[0][:138] + "…"
                more = f" (+{len(msgs) - 1} more notes; hover to read all)" if len(msgs) > 1 else ""
                self.banner.show_message(f"Note from the analysis: {first}{more}", banner_level(notes[0]))
                self.banner.setToolTip("\n\n".join(msgs))
            else:
                self.banner.clear()

    def _headline(self, r: AnalysisResult) -> str:
        return headline(r, self.session.unit)

    def _pareto(self) -> None:
        """Horizontal bars (names stay readable), largest at the top; the cumulative share of
        the loss as a line on the same percent axis."""
        self.pareto.clear()
        r = self.session.result
        if not r or not r.root_causes:
            return
        if r.ranking_basis is not None and r.ranking_basis.method == "anomaly":
            self._anomaly_bars(r.ranking_basis.anomaly_scores[:8])
            return
        p = pareto(r.root_causes, top=8)
        k = len(p["nodes"])
        y = np.arange(k)[::-1].astype(float)
        widths = np.array(p["restoration_pct"])
        brushes = [pg.mkBrush("#2f6db5" if w >= 0 else "#b3261e") for w in widths]
        self.pareto.addItem(pg.BarGraphItem(x0=np.minimum(widths, 0), y=y, width=np.abs(widths), height=0.6,
                                            brushes=brushes, pen=None))
        self.pareto.plot(p["cumulative_pct"], y, pen=pg.mkPen("#e0a100", width=2), symbol="o", symbolSize=6,
                         symbolBrush="#e0a100")
        ticks = [(float(yy), self._short(n)) for yy, n in zip(y, p["nodes"], strict=True)]
        self.pareto.getAxis("left").setTicks([ticks])
        self.pareto.setLabel("bottom", "% of the loss")
        self.pareto.addItem(pg.InfiniteLine(pos=100, angle=90, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine)))
        self.pareto.setXRange(min(0.0, float(widths.min())), max(105.0, float(widths.max()) * 1.05))
        self.pareto.setYRange(-0.6, k - 0.4, padding=0)

    def _anomaly_bars(self, scores) -> None:
        """An anomaly ranking has scores, not shares of the loss: bars of the scores alone."""
        if not scores:
            return
        y = np.arange(len(scores))[::-1].astype(float)
        widths = np.array([a.score for a in scores])
        self.pareto.addItem(pg.BarGraphItem(x0=np.zeros(len(y)), y=y, width=widths, height=0.6,
                                            brush=pg.mkBrush("#7a5cb5"), pen=None))
        self.pareto.getAxis("left").setTicks([[(float(yy), self._short(a.node)) for yy, a in zip(y, scores,
                                                                                                 strict=True)]])
        self.pareto.setLabel("bottom", "anomaly score (own behaviour; not a share of the loss)")
        self.pareto.setXRange(0.0, max(1.0, float(widths.max()) * 1.05))
        self.pareto.setYRange(-0.6, len(y) - 0.4, padding=0)

    @staticmethod
    def _short(name: str) -> str:
        return short_label(name, 24)

    # ------------------------------------------------------------------ selection
    def select(self, node: str) -> None:
        for row, c in enumerate(self.model.causes):
            if c.node == node:
                self.table.selectionModel().select(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
                self.table.scrollTo(self.model.index(row, 0))
                return

    def selected_node(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.causes[rows[0].row()].node if rows else None

    def _selection_changed(self) -> None:
        node = self.selected_node()
        self.graph_button.setEnabled(node is not None)
        self._show_cause(node)
        self.causeSelected.emit(node)

    def _show_in_graph(self) -> None:
        node = self.selected_node()
        if node:
            self.showInGraph.emit(node)

    def _show_cause(self, node: str | None) -> None:
        s = self.session
        self.trend.clear()
        if node is None or s.result is None:
            self.evidence.setText("")
            return
        cause = next(c for c in s.result.root_causes if c.node == node)
        self.evidence.setText(self._evidence_text(cause))
        if s.data is None or node not in s.data.frame.columns:
            self.trend.setTitle("(the data file is not loaded)", size="9pt")
            return
        series = node_series(s.data, node, {"reference": s.reference, "incident": s.anomaly})
        unit = s.unit(node)
        self.trend.setTitle(f"<b>{node}</b>: reference vs incident", size="10pt")
        self.trend.setLabel("left", f"{node} [{unit}]" if unit else node)
        for name, color in (("reference", REFERENCE_COLOR), ("incident", ANOMALY_COLOR)):
            w = series["windows"].get(name)
            if w is None:
                continue
            if series["levels"]:
                self.trend.plot(w["x"], w["y"], pen=None, symbol="o", symbolSize=3, symbolPen=None,
                                symbolBrush=pg.mkBrush(with_alpha(color, 160)))
            else:
                self.trend.plot(w["x"], w["y"], pen=pg.mkPen(with_alpha(color, 200), width=1))
                if math.isfinite(w["mean"]) and len(w["x"]):
                    self.trend.plot([w["x"][0], w["x"][-1]], [w["mean"], w["mean"]],
                                    pen=pg.mkPen(color.darker(140), width=2, style=Qt.PenStyle.DashLine))
        left = self.trend.getAxis("left")
        left.setTicks([[(i, short_label(lv)) for i, lv in enumerate(series["levels"])]] if series["levels"] else None)
        self.trend.enableAutoRange()

    def _evidence_text(self, c: RootCause) -> str:
        s = self.session
        ev = c.evidence
        unit = s.unit(c.node)
        lines = [f"<b>{c.node}</b> — station {c.station}"]
        if c.node == s.target:
            lines.append(glossary.UNEXPLAINED)
        if c.unmeasured:
            lines.append(f"Not a sensor: something nobody measures seems to act on {' and '.join(c.acts_on)} "
                         "together (their own variations move together). Restoring them together:")
        lo, hi = c.restoration_ci
        why = no_restoration_text(c, s.target)
        lines.append(f"Restoration: <b>{NOT_COMPUTED}</b>: {why}" if why else
                     f"Restoration: <b>{fmt_pct(c.restoration)}</b> (90% interval {fmt_pct(lo)} to {fmt_pct(hi)})")
        rng = restoration_range_text(c)
        if rng:
            span = rng.replace(" over undetermined directions", "")
            lines.append(f"Over the edge directions the data cannot tell: {span}")
        if ev.reference_mean is not None:
            lines.append(f"Mean: {fmt_number(ev.reference_mean)} {unit} (reference) → "
                         f"{fmt_number(ev.anomaly_mean)} {unit} (incident)")
            if ev.noise_shift_z is not None:
                lines.append(f"Its own change, beyond what its causes explain: {ev.noise_shift_z:+.1f} standard "
                             "deviations")
        elif ev.level_shares:
            shares = ", ".join(f"{lv}: {100 * a:.0f}% → {100 * b:.0f}%" for lv, (a, b) in ev.level_shares.items())
            lines.append(f"Share of rows per level (reference → incident): {shares}")
        drawn = (s.graph.paths(c.node, s.target, limit=8)
                 if s.graph is not None and c.node != s.target and not c.unmeasured else None)
        split = split_paths(drawn, s.result) if drawn is not None else CausePaths(within=list(ev.paths))
        if split.within:
            shown = split.within[:4]
            more = f"<br>&nbsp;&nbsp;(and {len(split.within) - 4} more)" if len(split.within) > 4 else ""
            lines.append("How it reaches the KPI:<br>" + "<br>".join("&nbsp;&nbsp;" + " → ".join(p) for p in shown)
                         + more)
        if split.over_time:
            lines.append(f"Also drawn in the graph, {over_time_words(split)}:<br>"
                         + "<br>".join("&nbsp;&nbsp;" + " → ".join(p) for p in split.over_time[:4]))
        if c.controllable:
            lines.append("It is a setpoint: try it in step 6 (What-if).")
        moved = controller_move_text(c.node, s.result)
        if moved:
            lines.append(f"Not a shift of its own: {moved}.")
        loop_note = controller_output_text(c.node, s.result)
        if loop_note:
            lines.append(loop_note[0].upper() + loop_note[1:] + ".")
        return "<br>".join(lines)

"""Step 4, Causal graph: stations as bands left to right, arrows by strength and confidence,
edits validated by the core (undoable), refit without re-discovery, and each sensor's
mechanism (how its causes drive it)."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath,
                           QPainterPathStroker, QPen, QPolygonF, QUndoCommand, QUndoStack)
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGraphicsItem,
                               QGraphicsPathItem, QGraphicsPolygonItem, QGraphicsRectItem,
                               QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsTextItem,
                               QGraphicsView, QHBoxLayout, QLabel, QMenu, QPushButton, QSplitter, QStyle,
                               QVBoxLayout, QWidget)

from rca_app.app.graph_view import mechanism_view
from rca_app.core.errors import RcaInputError
from rca_app.gui import glossary
from rca_app.gui.models import fmt_number
from rca_app.gui.session import Session
from rca_app.gui.widgets import Banner, StepHeader, plot_widget

MIN_COL_W = 170.0   # below this a station column gets scrollbars instead of squeezed labels
MAX_COL_W = 280.0
NODE_H = 30.0
MIN_ROW_H = 44.0
MAX_ROW_H = 72.0
POS_COLOR = QColor("#2f4f7f")     # the cause raises its effect
NEG_COLOR = QColor("#c0541a")     # the cause lowers its effect
UNK_COLOR = QColor("#6b6b6b")
PATH_COLOR = QColor("#e0a100")


class _GraphEdit(QUndoCommand):
    def __init__(self, session: Session, before, after, text: str) -> None:
        super().__init__(text)
        self.session, self.before, self.after = session, before, after

    def redo(self) -> None:
        self.session.set_graph(*self.after)

    def undo(self) -> None:
        self.session.set_graph(*self.before)


class NodeItem(QGraphicsPathItem):
    def __init__(self, node: dict, canvas: "GraphCanvas", width: float) -> None:
        super().__init__()
        self.name = node["name"]
        self.info = node
        self.canvas = canvas
        self.width = width
        path = QPainterPath()
        path.addRoundedRect(QRectF(-width / 2, -NODE_H / 2, width, NODE_H), 8, 8)
        self.setPath(path)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(5)
        f = QFont()
        f.setPointSizeF(9.0)
        f.setBold(bool(node.get("target")))
        text = QFontMetricsF(f).elidedText(self.name, Qt.TextElideMode.ElideMiddle, width - 12)
        self.label = QGraphicsSimpleTextItem(text, self)
        self.label.setFont(f)
        r = self.label.boundingRect()
        self.label.setPos(-r.width() / 2, -r.height() / 2)
        roles = []
        if node.get("target"):
            roles.append("the KPI")
        if node.get("controllable"):
            roles.append("controllable setpoint")
        if node.get("exogenous"):
            roles.append("exogenous")
        if node.get("categorical"):
            roles.append("categorical")
        unit = f" [{node['unit']}]" if node.get("unit") else ""
        self.setToolTip(f"{self.name}{unit}\nStation: {node['station']}" + (f"\n{', '.join(roles)}" if roles else "")
                        + "\nClick to see how its causes drive it.")
        self.set_style(False, False)

    def set_style(self, on_path: bool, dim: bool) -> None:
        n = self.info
        fill = QColor("#ffffff")
        border = QColor("#555555")
        width = 1.2
        style = Qt.PenStyle.SolidLine
        if n.get("exogenous"):
            fill = QColor("#ececec")
        if n.get("controllable"):
            border, width = QColor("#1d7a3a"), 2.2
        if n.get("target"):
            fill, border, width = QColor("#fde2e0"), QColor("#b3261e"), 2.4
        if n.get("categorical"):
            style = Qt.PenStyle.DashLine
        if on_path:
            border, width = PATH_COLOR.darker(130), 3.0
            fill = QColor("#fff3c4") if not n.get("target") else fill
        if dim:
            fill.setAlpha(120)
            border.setAlpha(90)
        pen = QPen(border, width, style)
        self.setPen(pen)
        self.setBrush(QBrush(fill))
        self.label.setBrush(QBrush(QColor(0, 0, 0, 110 if dim else 255)))

    def paint(self, painter, option, widget=None) -> None:
        if self.isSelected():
            painter.setPen(QPen(QColor("#2f6db5"), 2.0, Qt.PenStyle.DotLine))
            painter.drawRoundedRect(self.boundingRect().adjusted(-3, -3, 3, 3), 10, 10)
        super().paint(painter, option, widget)

    def contextMenuEvent(self, event) -> None:
        self.canvas.node_menu(self.name, event.screenPos())


class EdgeItem(QGraphicsPathItem):
    def __init__(self, edge: dict, src: QPointF, dst: QPointF, same_tier: bool, canvas: "GraphCanvas",
                 node_w: float) -> None:
        super().__init__()
        self.edge = edge
        self.key = (edge["source"], edge["target"])
        self.canvas = canvas
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        path = QPainterPath()
        if same_tier:
            p0 = QPointF(src.x() + node_w / 2, src.y())
            p3 = QPointF(dst.x() + node_w / 2 + 2, dst.y())
            bulge = 30 + 0.35 * abs(dst.y() - src.y())
            c1, c2 = QPointF(p0.x() + bulge, p0.y()), QPointF(p3.x() + bulge, p3.y())
        else:
            p0 = QPointF(src.x() + node_w / 2, src.y())
            p3 = QPointF(dst.x() - node_w / 2 - 2, dst.y())
            dx = max(30.0, (p3.x() - p0.x()) * 0.45)
            c1, c2 = QPointF(p0.x() + dx, p0.y()), QPointF(p3.x() - dx, p3.y())
        path.moveTo(p0)
        path.cubicTo(c1, c2, p3)
        self.setPath(path)
        self.head = QGraphicsPolygonItem(self._arrow(p3, c2), self)
        self.setZValue(2)
        self.setToolTip(canvas.edge_tooltip(edge))
        self.set_style(False, False)

    @staticmethod
    def _arrow(tip: QPointF, before: QPointF) -> QPolygonF:
        ang = math.atan2(tip.y() - before.y(), tip.x() - before.x())
        size = 9.0
        pts = [tip]
        for da in (2.6, -2.6):
            pts.append(QPointF(tip.x() + size * math.cos(ang + da), tip.y() + size * math.sin(ang + da)))
        return QPolygonF(pts)

    def set_style(self, on_path: bool, dim: bool) -> None:
        e = self.edge
        strength = e.get("strength")
        width = 1.2 if strength is None else 1.0 + 6.0 * float(strength)
        conf = e.get("confidence")
        alpha = 220 if conf is None else int(60 + 195 * max(0.0, min(1.0, float(conf))))
        eff = e.get("effect")
        if e.get("categorical_source") or eff is None or not math.isfinite(eff):
            color = QColor(UNK_COLOR)
        else:
            color = QColor(POS_COLOR if eff >= 0 else NEG_COLOR)
        style = Qt.PenStyle.SolidLine if e.get("fitted") else Qt.PenStyle.DashLine
        if on_path:
            color, width, alpha = QColor(PATH_COLOR), max(width, 3.5), 255
        elif dim:
            alpha = 45
        if self.isSelected():
            color = QColor("#2f6db5")
            alpha = 255
        color.setAlpha(alpha)
        self.setPen(QPen(color, width, style, Qt.PenCapStyle.RoundCap))
        self.head.setPen(QPen(color, 1))
        self.head.setBrush(QBrush(color))
        self.setZValue(3 if on_path else 2)

    def paint(self, painter, option, widget=None) -> None:
        # Selection shows as the arrow's colour (set_style), not as Qt's dotted bounding box.
        option.state &= ~QStyle.StateFlag.State_Selected
        super().paint(painter, option, widget)

    def shape(self) -> QPainterPath:
        # A wider invisible band so thin arrows are easy to click.
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.canvas.restyle()
        return super().itemChange(change, value)

    def contextMenuEvent(self, event) -> None:
        self.setSelected(True)
        self.canvas.edge_menu(self.key, event.screenPos())


class GraphCanvas(QGraphicsView):
    nodeClicked = Signal(str)
    edgeSelected = Signal(object)
    editRequested = Signal(str, str, str)   # op, source, target
    addFromRequested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QBrush(QColor("#fafafa")))
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self.view: dict | None = None
        self.paths: list[list[str]] = []
        self._units: dict[str, str] = {}
        self.scene().selectionChanged.connect(self._selection_changed)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(60)
        self._resize_timer.timeout.connect(self._rebuild_if_needed)

    def edge_tooltip(self, e: dict) -> str:
        src, dst = e["source"], e["target"]
        lines = [f"{src} → {dst}"]
        eff = e.get("effect")
        if e.get("categorical_source") and eff is not None:
            lines.append(f"Switching {src} between its levels moves {dst} by up to {fmt_number(eff, 3)} "
                         f"{self._units.get(dst, '')}")
        elif eff is not None and math.isfinite(eff):
            lines.append(f"+1 {self._units.get(src, '') or 'unit'} of {src} changes {dst} by {eff:+.3g} "
                         f"{self._units.get(dst, '')}".rstrip())
        else:
            lines.append("Not fitted yet: press Refit (F5) to estimate it.")
        conf = e.get("confidence")
        if conf is not None:
            lines.append(f"Found in {100 * conf:.0f}% of resamples (darker = more reliable).")
        origin = {"user": "added or kept by you", "required": "required by the layout",
                  "discovered": "found in the data"}.get(e.get("origin"), e.get("origin"))
        lines.append(f"Origin: {origin}")
        lines.append("Right-click to remove, reverse or keep it.")
        return "\n".join(lines)

    def set_view(self, view: dict | None, units: dict[str, str] | None = None) -> None:
        self.view = view
        self._units = dict(units or {})
        self._build()

    def _geometry(self) -> tuple[float, float]:
        """Column width and row height that fill the visible area (text stays at its size;
        too many stations get scrollbars rather than unreadable labels)."""
        n_st = max(1, len(self.view["stations"]))
        per_tier: dict[int, int] = {}
        for n in self.view["nodes"]:
            per_tier[n["tier"]] = per_tier.get(n["tier"], 0) + 1
        rows = max(per_tier.values(), default=1)
        vp = self.viewport().size()
        col_w = min(MAX_COL_W, max(MIN_COL_W, (vp.width() - 90) / n_st))
        row_h = min(MAX_ROW_H, max(MIN_ROW_H, (vp.height() - 110) / rows))
        return col_w, row_h

    def _build(self) -> None:
        scene = self.scene()
        keep = self.selected_edge() if self.edges else None
        scene.blockSignals(True)
        scene.clear()
        scene.blockSignals(False)
        self.nodes, self.edges = {}, {}
        view = self.view
        if view is None:
            t = scene.addText("No graph yet: run the analysis (F5) to discover it.")
            t.setDefaultTextColor(QColor("#666666"))
            scene.setSceneRect(t.boundingRect())
            return
        col_w, row_h = self._geometry()
        self._built_for = (col_w, row_h)
        node_w = col_w - 24
        pos = view["positions"]
        per_tier: dict[int, int] = {}
        for n in view["nodes"]:
            per_tier[n["tier"]] = per_tier.get(n["tier"], 0) + 1
        height = max(per_tier.values(), default=1) * row_h
        names = view["stations"]
        for t in range(len(names)):
            x0 = t * col_w - col_w / 2 + 4
            band = QGraphicsRectItem(QRectF(x0, -62, col_w - 8, height + 74))
            band.setBrush(QBrush(QColor("#eef2f7") if t % 2 == 0 else QColor("#f6f6f1")))
            band.setPen(QPen(QColor("#d5dbe3"), 1))
            band.setZValue(-5)
            band.setToolTip(glossary.STATION)
            scene.addItem(band)
            label = QGraphicsTextItem()
            label.setHtml(f"<div style='text-align:center'><b>{t + 1}. {_html(names[t])}</b></div>")
            label.setTextWidth(col_w - 16)
            f = QFont()
            f.setPointSizeF(9.5)
            label.setFont(f)
            label.setPos(x0 + 4, -58)
            label.setZValue(-4)
            scene.addItem(label)
        cat = {n["name"] for n in view["nodes"] if n.get("categorical")}
        for n in view["nodes"]:
            x, y = pos[n["name"]]
            item = NodeItem(n, self, node_w)
            item.setPos(QPointF(x * col_w, y * height))
            scene.addItem(item)
            self.nodes[n["name"]] = item
        tier = {n["name"]: n["tier"] for n in view["nodes"]}
        for e in view["edges"]:
            if e["source"] not in self.nodes or e["target"] not in self.nodes:
                continue
            e = dict(e, categorical_source=e["source"] in cat)
            item = EdgeItem(e, self.nodes[e["source"]].pos(), self.nodes[e["target"]].pos(),
                            tier[e["source"]] == tier[e["target"]], self, node_w)
            scene.addItem(item)
            self.edges[(e["source"], e["target"])] = item
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-6, -6, 6, 6))
        self.restyle()
        if keep is not None:
            self.select_edge(keep)

    def fit(self) -> None:
        """Back to the natural size (undo Ctrl+wheel zoom) and rebuild for the window size."""
        self.resetTransform()
        self._build()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.view is not None:
            self._resize_timer.start()

    def _rebuild_if_needed(self) -> None:
        if self.view is not None and self._geometry() != getattr(self, "_built_for", None):
            self._build()

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            f = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.scale(f, f)
        else:
            super().wheelEvent(event)

    def highlight(self, paths: list[list[str]]) -> None:
        self.paths = [list(p) for p in paths]
        self.restyle()

    def restyle(self) -> None:
        on_nodes = {n for p in self.paths for n in p}
        on_edges = {(p[i], p[i + 1]) for p in self.paths for i in range(len(p) - 1)}
        dim = bool(self.paths)
        for name, item in self.nodes.items():
            item.set_style(name in on_nodes, dim and name not in on_nodes)
        for key, item in self.edges.items():
            item.set_style(key in on_edges, dim and key not in on_edges)

    def selected_edge(self) -> tuple[str, str] | None:
        for key, item in self.edges.items():
            if item.isSelected():
                return key
        return None

    def select_edge(self, key: tuple[str, str] | None) -> None:
        self.scene().clearSelection()
        if key in self.edges:
            self.edges[key].setSelected(True)

    def _selection_changed(self) -> None:
        items = self.scene().selectedItems()
        node = next((i for i in items if isinstance(i, NodeItem)), None)
        if node is not None:
            self.nodeClicked.emit(node.name)
        self.edgeSelected.emit(self.selected_edge())

    def edge_menu(self, key: tuple[str, str], screen_pos) -> None:
        menu = QMenu(self)
        src, dst = key
        for op, text in (("remove", f"Remove arrow {src} → {dst}"), ("reverse", "Reverse arrow"),
                         ("force", "Keep this arrow (even when re-discovering)")):
            act = menu.addAction(text)
            act.triggered.connect(lambda _=False, o=op: self.editRequested.emit(o, src, dst))
        menu.exec(screen_pos)

    def node_menu(self, name: str, screen_pos) -> None:
        menu = QMenu(self)
        act = menu.addAction(f"Add an arrow from {name} to…")
        act.triggered.connect(lambda: self.addFromRequested.emit(name))
        menu.exec(screen_pos)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AddEdgeDialog(QDialog):
    """Pick the two ends of an arrow; the core checks it on OK."""

    def __init__(self, nodes: list[str], source: str | None, title: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.source = QComboBox()
        self.source.addItems(nodes)
        if source:
            self.source.setCurrentText(source)
        self.target = QComboBox()
        self.target.addItems(nodes)
        form.addRow(QLabel("An arrow means: changing the first sensor changes the second one."))
        form.addRow("From (cause):", self.source)
        form.addRow("To (effect):", self.target)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


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
        self.result = None
        self.node = None
        self.parent_combo.currentTextChanged.connect(self._parent_changed)

    def show_node(self, node: str | None, outcome, result: dict | None, unit_of) -> None:
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
        report = next((m for m in result.get("mechanisms", []) if m["node"] == node), None)
        if report is None:
            self.text.setText("Not fitted in the current model (added since the last run, or outside the "
                              "KPI's causes). Press Refit (F5).")
            self.parent_combo.blockSignals(False)
            return
        view = mechanism_view(outcome, node) if outcome is not None else None
        parents = report["parents"]
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

    def _describe(self, report: dict) -> None:
        kind = self.KIND_TEXT.get(report["kind"], report["kind"])
        r2 = report.get("oof_r2")
        parts = [f"Type: {kind}"]
        if report["parents"]:
            parts.append(f"Causes: {', '.join(report['parents'])}")
        if r2 is not None:
            parts.append(f"Explained by its causes: {100 * r2:.0f}% "
                         "<span style='color:#666'>(out-of-fold R²)</span>")
        if report.get("pooled"):
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
        bottom.setTicks([list(enumerate(view["x_levels"]))] if view["x_levels"] else None)
        left = self.plot.getAxis("left")
        left.setTicks([list(enumerate(view["y_levels"]))] if view["y_levels"] else None)
        self.plot.enableAutoRange()


class GraphStep(QWidget):
    refitRequested = Signal()
    rediscoverRequested = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.undo_stack = QUndoStack(self)
        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("4  Causal graph", glossary.STEP_HELP["graph"]))
        bar = QHBoxLayout()
        self.remove_button = QPushButton("Remove arrow")
        self.reverse_button = QPushButton("Reverse arrow")
        self.force_button = QPushButton("Keep arrow")
        self.force_button.setToolTip("Mark the selected arrow as yours: a re-discovery must keep it.")
        self.add_button = QPushButton("Add arrow…")
        self.refit_button = QPushButton("Refit with my edits  (F5)")
        self.refit_button.setToolTip(glossary.REFIT)
        self.rediscover_button = QPushButton("Re-discover graph")
        self.rediscover_button.setToolTip(glossary.REDISCOVER)
        self.fit_button = QPushButton("Fit to window")
        self.remove_button.clicked.connect(lambda: self._edit_selected("remove"))
        self.reverse_button.clicked.connect(lambda: self._edit_selected("reverse"))
        self.force_button.clicked.connect(lambda: self._edit_selected("force"))
        self.add_button.clicked.connect(lambda: self.add_dialog(None))
        self.refit_button.clicked.connect(self.refitRequested)
        self.rediscover_button.clicked.connect(self.rediscoverRequested)
        for b in (self.remove_button, self.reverse_button, self.force_button, self.add_button):
            bar.addWidget(b)
        bar.addSpacing(10)
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.redo_button.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        bar.addWidget(self.undo_button)
        bar.addWidget(self.redo_button)
        bar.addStretch(1)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.rediscover_button)
        bar.addWidget(self.refit_button)
        lay.addLayout(bar)
        self.banner = Banner()
        lay.addWidget(self.banner)

        self.canvas = GraphCanvas()
        self.canvas.setToolTip(glossary.GRAPH + "\n\n" + glossary.EDGE_WIDTH)
        self.canvas.nodeClicked.connect(self.show_mechanism)
        self.canvas.edgeSelected.connect(self._edge_selected)
        self.canvas.editRequested.connect(self.apply_edit)
        self.canvas.addFromRequested.connect(self.add_dialog)
        self.fit_button.clicked.connect(self.canvas.fit)
        self.legend = QLabel(
            "<small><span style='color:#2f4f7f'>━</span> raises its effect &nbsp; "
            "<span style='color:#c0541a'>━</span> lowers it &nbsp; "
            "<span style='color:#6b6b6b'>━</span> level change (categorical) &nbsp; "
            "width: strength &nbsp; pale: found less reliably &nbsp; dashed: not fitted yet &nbsp; "
            "<span style='color:#b3261e'>▢</span> KPI &nbsp; <span style='color:#1d7a3a'>▢</span> setpoint &nbsp; "
            "grey box: exogenous &nbsp; Ctrl+wheel: zoom</small>")
        self.legend.setWordWrap(True)
        self.path_label = QLabel()
        self.path_label.setWordWrap(True)
        self.mechanism = MechanismPanel()
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.canvas, 1)
        tl.addWidget(self.path_label)
        tl.addWidget(self.legend)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.mechanism)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([460, 250])
        lay.addWidget(split, 1)

        session.graphChanged.connect(self.refresh)
        session.resultChanged.connect(self.refresh)
        session.staleChanged.connect(lambda _s: self._update_banner())
        self._edge_selected(None)
        self.refresh()

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        s = self.session
        keep = self.canvas.selected_edge()
        self.canvas.set_view(s.graph_view(), s.layout.units if s.layout else {})
        if keep is not None:
            self.canvas.select_edge(keep)
        has = s.graph is not None
        for b in (self.add_button, self.refit_button, self.rediscover_button):
            b.setEnabled(has)
        node = self.mechanism.node
        if node is None or node not in self.canvas.nodes:
            node = s.target if s.result is not None and s.target in self.canvas.nodes else None
        if node is None:
            self.mechanism.show_node(None, None, None, s.unit)
        else:
            self.show_mechanism(node)
        self._update_banner()

    def _update_banner(self) -> None:
        s = self.session
        if s.graph is None:
            self.banner.show_message("The graph appears after the analysis has run (F5 on step 2).", "info")
        elif s.edits and s.stale:
            n = len(s.edits)
            self.banner.show_message(f"You edited the graph ({n} change{'s' * (n != 1)}). Press Refit (F5) to update "
                                     "the mechanisms and the ranking with your edits.", "warn")
        elif s.stale:
            self.banner.show_message("The inputs changed since this graph was found: press F5 to run the analysis "
                                     "again.", "warn")
        elif s.outcome is None and s.result is not None:
            self.banner.show_message("Opened from a file: the fitted model is rebuilt by Refit (F5) to show "
                                     "mechanism plots and what-ifs.", "info")
        else:
            src = (s.result or {}).get("diagnostics", {}).get("graph_source", "")
            self.banner.show_message("Graph " + ("discovered from the reference period" if src == "discovered"
                                                 else "as you edited it") + ". Click a sensor to see its mechanism; "
                                     "select an arrow to edit it.", "ok")

    def highlight_paths(self, node: str | None) -> list[list[str]]:
        s = self.session
        paths = []
        if node is not None and s.graph is not None and s.target and node in s.graph.nodes:
            paths = s.graph.paths(node, s.target, limit=8) if node != s.target else [[node]]
        self.canvas.highlight(paths)
        if paths and node != s.target:
            self.path_label.setText(f"<span style='color:#9a6f00'>■</span> Highlighted: how <b>{node}</b> reaches "
                                    f"{s.target} ({len(paths)} path{'s' * (len(paths) != 1)}), from the cause "
                                    "selected in step 5.")
        else:
            self.path_label.setText("")
        return paths

    def show_mechanism(self, node: str) -> None:
        s = self.session
        self.mechanism.show_node(node, s.outcome, s.result, s.unit)
        if s.outcome is not None and s.stale:
            self.mechanism.text.setText(self.mechanism.text.text() + "<br><i>From the last fit: press Refit (F5) "
                                        "to include your changes.</i>")

    # ------------------------------------------------------------------ edits
    def _edge_selected(self, key) -> None:
        for b in (self.remove_button, self.reverse_button, self.force_button):
            b.setEnabled(key is not None)

    def _edit_selected(self, op: str) -> None:
        key = self.canvas.selected_edge()
        if key is not None:
            self.apply_edit(op, *key)

    def apply_edit(self, op: str, source: str, target: str) -> bool:
        """One edit through the core; a refused edit is explained in the banner, nothing changes."""
        s = self.session
        try:
            after = s.edit_graph(op, source, target)
        except RcaInputError as e:
            self.banner.show_message("Not changed: " + "; ".join(p.message for p in e.problems), "error")
            return False
        before = (s.graph, list(s.edits))
        edits = list(s.edits) + [{"op": op, "source": source, "target": target}]
        verb = {"add": "add", "remove": "remove", "reverse": "reverse", "force": "keep"}[op]
        self.undo_stack.push(_GraphEdit(s, before, (after, edits), f"{verb} arrow {source} → {target}"))
        if op == "reverse":
            self.canvas.select_edge((target, source))
        return True

    def add_dialog(self, source: str | None) -> None:
        s = self.session
        if s.graph is None:
            return
        dlg = AddEdgeDialog(list(s.graph.nodes), source, "Add an arrow", self)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.apply_edit("add", dlg.source.currentText(), dlg.target.currentText())

    def reset_history(self) -> None:
        self.undo_stack.clear()

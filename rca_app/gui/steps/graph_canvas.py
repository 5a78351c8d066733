"""The causal graph drawn by station: sensors as boxes in station columns (process flow left to
right), arrows by strength (width) and confidence (darkness), the paths of a cause to the KPI
highlighted; right-click menus ask the step for edits."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsTextItem,
    QGraphicsView,
    QMenu,
    QStyle,
)

from rca_app.app.graph_geometry import backward_arc, feedback_arc, self_loop
from rca_app.app.graph_view import edge_explanation
from rca_app.gui import glossary

MIN_COL_W = 170.0   # below this a station column gets scrollbars instead of squeezed labels
MAX_COL_W = 280.0
NODE_H = 30.0
MIN_ROW_H = 44.0
MAX_ROW_H = 72.0
POS_COLOR = QColor("#2f4f7f")     # the cause raises its effect
NEG_COLOR = QColor("#c0541a")     # the cause lowers its effect
UNK_COLOR = QColor("#6b6b6b")
PATH_COLOR = QColor("#e0a100")
LAG_COLOR = QColor("#5a3d8a")      # a declared recycle: an edge over time, against the flow
PROPOSED_COLOR = QColor("#b5179e")  # a recycle the data show but the layout does not declare
LOOP_COLOR = QColor("#1d7a3a")     # a control loop's feedback (the controller)


def fit_name(name: str, metrics: QFontMetricsF, width: float) -> str:
    """A sensor name that fits ``width``, keeping the part that tells it from its neighbours.

    "reactor_feed_A_concentration" elided in the middle becomes "reactor_fe…centration" for
    every component, A to F alike; shortening the longest words first keeps each word's start,
    short distinguishing words ("A") whole: "react._feed_A_conc.". Only if that is still too
    wide is the middle elided. The full name is in the node's tooltip.
    """
    if metrics.horizontalAdvance(name) <= width:
        return name
    words = name.split("_")
    limits = [len(w) for w in words]

    def joined() -> str:
        # A shortened word ends in "." so that "underfl." does not read as a misspelling.
        return "_".join(w if n >= len(w) else w[:n] + "." for w, n in zip(words, limits, strict=True))

    while metrics.horizontalAdvance(joined()) > width:
        i = max(range(len(words)), key=lambda j: limits[j])
        if limits[i] <= 4:
            break
        limits[i] -= 1
    short = joined()
    if metrics.horizontalAdvance(short) <= width:
        return short
    return metrics.elidedText(short, Qt.TextElideMode.ElideMiddle, width)


class NodeItem(QGraphicsPathItem):
    def __init__(self, node: dict, canvas: GraphCanvas, width: float) -> None:
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
        text = fit_name(self.name, QFontMetricsF(f), width - 12)
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
    def __init__(self, edge: dict, src: QPointF, dst: QPointF, same_tier: bool, canvas: GraphCanvas,
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
        style = {"dashed": Qt.PenStyle.DashLine, "dotted": Qt.PenStyle.DotLine}.get(
            e.get("line"), Qt.PenStyle.SolidLine if e.get("fitted") else Qt.PenStyle.DashLine)
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
        return edge_explanation(e, self._units)

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
        self.dynamics_items: list[QGraphicsPathItem] = []
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
        for gap in view.get("gaps", []):
            # The residence time from one station to the next, on the boundary between their
            # columns under the names ("≈": estimated from the data).
            lag = QGraphicsSimpleTextItem(gap["text"])
            f = QFont()
            f.setPointSizeF(8.0)
            lag.setFont(f)
            lag.setBrush(QBrush(LAG_COLOR))
            r = lag.boundingRect()
            lag.setPos((gap["after"] + 0.5) * col_w - r.width() / 2, -22 - r.height() / 2)
            lag.setToolTip(gap["tip"])
            back = QGraphicsRectItem(lag.sceneBoundingRect().adjusted(-3, -1, 3, 1))
            back.setBrush(QBrush(QColor(255, 255, 255, 225)))
            back.setPen(QPen(QColor("#d5dbe3"), 1))
            back.setZValue(-3)
            back.setToolTip(gap["tip"])
            lag.setZValue(-2)
            scene.addItem(back)
            scene.addItem(lag)
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
        self._draw_dynamics(node_w)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-6, -6, 6, 6))
        self.restyle()
        if keep is not None:
            self.select_edge(keep)

    def _draw_dynamics(self, node_w: float) -> None:
        """Lagged edges (dashed, against the flow, labelled with the lag), self-lags (small loops)
        and each declared control loop's feedback half (so the pair reads as a loop)."""
        def pt(p) -> QPointF:
            return QPointF(float(p[0]), float(p[1]))

        def curve(g: dict, color: QColor, style, tip: str, label: str) -> QGraphicsPathItem:
            path = QPainterPath(pt(g["start"]))
            path.cubicTo(pt(g["c1"]), pt(g["c2"]), pt(g["end"]))
            item = QGraphicsPathItem(path)
            item.setPen(QPen(color, 1.6, style, Qt.PenCapStyle.RoundCap))
            head = QGraphicsPolygonItem(EdgeItem._arrow(pt(g["end"]), pt(g["c2"])), item)
            head.setPen(QPen(color, 1))
            head.setBrush(QBrush(color))
            self._label(item, label, pt(g["label"]), color)
            item.setToolTip(tip)
            item.setZValue(1)
            self.scene().addItem(item)
            self.dynamics_items.append(item)
            return item

        view = self.view
        pos = {n: it.pos() for n, it in self.nodes.items()}
        k = 0
        for e in view.get("lagged_edges", []):
            if e["source"] not in pos or e["target"] not in pos:
                continue
            src, dst = pos[e["source"]], pos[e["target"]]
            if e["self"]:
                g = self_loop((src.x(), src.y()), node_w, NODE_H)
                c, r = pt(g["centre"]), g["radius"]
                path = QPainterPath()
                path.addEllipse(c, r, r)
                item = QGraphicsPathItem(path)
                item.setPen(QPen(UNK_COLOR, 1.2))
                # One grid step is the usual self-lag (autocorrelated sensors): the legend says
                # so once, instead of "3min" on every node; longer ones are labelled.
                if e.get("lag_steps", 2) > 1:
                    self._label(item, e["lag"], pt(g["label"]), UNK_COLOR, size=7.5)
                item.setToolTip(e["text"])
                item.setZValue(6)
                self.scene().addItem(item)
                self.dynamics_items.append(item)
                continue
            color = LAG_COLOR if e["kind"] == "recycle" else PROPOSED_COLOR
            g = backward_arc((src.x(), src.y()), (dst.x(), dst.y()), NODE_H, 26.0 + 14.0 * k)
            k += 1
            word = "recycle" if e["kind"] == "recycle" else "proposed recycle"
            g["label"] = (g["label"][0], g["label"][1] + 8)
            # Solid once the model carries it (restorations travel along it), dashed while only found.
            style = Qt.PenStyle.SolidLine if e.get("in_model") else Qt.PenStyle.DashLine
            curve(g, color, style, e["text"], f"{word}, lag {e['lag']}")
        for lp in view.get("loops", []):
            if lp["controlled"] in pos and lp["manipulated"] in pos:
                cv, mv = pos[lp["controlled"]], pos[lp["manipulated"]]
                g = feedback_arc((cv.x(), cv.y()), (mv.x(), mv.y()), node_w)
                if lp.get("proposed"):
                    # Dashed magenta, as a proposed recycle: found in the data, not declared.
                    curve(g, PROPOSED_COLOR, Qt.PenStyle.DashLine, lp["text"], "proposed controller")
                else:
                    curve(g, LOOP_COLOR, Qt.PenStyle.DashDotLine, lp["text"], "controller")

    def _label(self, parent, text: str, at: QPointF, color: QColor, size: float = 8.0) -> None:
        label = QGraphicsSimpleTextItem(text, parent)
        f = QFont()
        f.setPointSizeF(size)
        label.setFont(f)
        label.setBrush(QBrush(color.darker(120)))
        r = label.boundingRect()
        label.setPos(at.x() - r.width() / 2, at.y() - r.height() / 2)

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



"""Step 4, Causal graph: stations as bands left to right, arrows by strength and confidence,
edits validated by the core (undoable), refit without re-discovery, and each sensor's
mechanism (how its causes drive it)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rca_app.app.cause_paths import over_time_words, split_paths
from rca_app.app.graph_view import discovery_note
from rca_app.core.errors import RcaInputError
from rca_app.gui import glossary
from rca_app.gui.session import Session
from rca_app.gui.steps.graph_canvas import GraphCanvas
from rca_app.gui.steps.mechanism_panel import MechanismPanel
from rca_app.gui.widgets import Banner, StepHeader


class _GraphEdit(QUndoCommand):
    def __init__(self, session: Session, before, after, text: str) -> None:
        super().__init__(text)
        self.session, self.before, self.after = session, before, after

    def redo(self) -> None:
        self.session.set_graph(*self.after)

    def undo(self) -> None:
        self.session.set_graph(*self.before)


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
        # Time-series data only: edges over time and control loops.
        self.dynamics_legend = QLabel(
            "<small>Over time: <span style='color:#5a3d8a'>→ 7min →</span> residence time from one station to "
            "the next (≈: estimated from the data) &nbsp; <span style='color:#5a3d8a'>──</span> recycle in the "
            "model (back against the flow, after its lag; dashed: found but not in the model) &nbsp; "
            "<span style='color:#b5179e'>╌╌</span> recycle or control loop the data propose (add it in step 3) &nbsp; "
            "○ slow own dynamics (self-lag of one grid step; longer ones labelled) "
            "&nbsp; <span style='color:#1d7a3a'>─·─</span> control loop: the "
            "controller's answer</small>")
        self.dynamics_legend.setWordWrap(True)
        self.path_label = QLabel()
        self.path_label.setWordWrap(True)
        self.mechanism = MechanismPanel()
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.canvas, 1)
        tl.addWidget(self.path_label)
        tl.addWidget(self.legend)
        tl.addWidget(self.dynamics_legend)
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
        view = self.canvas.view or {}
        self.dynamics_legend.setVisible(bool(view.get("lagged_edges") or view.get("loops") or view.get("gaps")))
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
            src = s.result.diagnostics.graph_source if s.result is not None else ""
            note = discovery_note(s.result, s.graph_view())
            self.banner.show_message("Graph " + ("discovered from the reference period" if src == "discovered"
                                                 else "as you edited it") + ". Click a sensor to see its mechanism; "
                                     "select an arrow to edit it." + (" " + note if note else ""), "ok")

    def highlight_paths(self, node: str | None) -> list[list[str]]:
        s = self.session
        paths = []
        if node is not None and s.graph is not None and s.target and node in s.graph.nodes:
            paths = s.graph.paths(node, s.target, limit=8) if node != s.target else [[node]]
        self.canvas.highlight(paths)
        if paths and node != s.target:
            split = split_paths(paths, s.result)
            why = (f": {len(split.within)} within the same row, as step 5 lists them, and {len(split.over_time)} "
                   + over_time_words(split)) if split.over_time else ""
            self.path_label.setText(f"<span style='color:#9a6f00'>■</span> Highlighted: how <b>{node}</b> reaches "
                                    f"{s.target} ({len(paths)} path{'s' * (len(paths) != 1)}{why}), from the cause "
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

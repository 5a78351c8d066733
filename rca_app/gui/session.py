"""The state of one investigation, shared by every step of the window.

Views read from the session and call its methods; it calls the core and announces changes with
signals. It holds no widgets, so the same state can be saved, restored and tested.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from rca_app.core import investigation as inv
from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.graph import CausalGraph
from rca_app.core.layout import Layout, parse_layout

# Settings the GUI offers (AnalysisSettings fills in the rest); presets trade time for certainty.
PRESETS = {
    "Quick (about 5 s)": {"graph_bootstrap": 5, "rank_bootstrap": 8},
    "Standard": {"graph_bootstrap": 20, "rank_bootstrap": 30},
    "Thorough (slow)": {"graph_bootstrap": 50, "rank_bootstrap": 100},
}
DEFAULT_PRESET = "Standard"


class Session(QObject):
    rawChanged = Signal()        # a new table was read (or cleared)
    dataChanged = Signal()       # the analysis table (layout applied) changed
    layoutChanged = Signal()
    problemsChanged = Signal()
    windowsChanged = Signal()
    graphChanged = Signal()
    resultChanged = Signal()
    staleChanged = Signal(bool)
    dirtyChanged = Signal(bool)
    # The analysis table must be rebuilt (layout or reading options changed). The window runs
    # prepare_inputs() -> worker.prepare_job in the background and hands back set_prepared().
    prepareRequested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.raw = None
        self.data = None
        self.data_path: str | None = None
        self.load_options: dict = {"gaps": "drop", "dayfirst": None}
        self.layout: Layout | None = None
        self.problems: list[Problem] = []
        self.reference: list | None = None
        self.anomaly: list | None = None
        self.graph: CausalGraph | None = None
        self.edits: list[dict] = []
        self.outcome = None           # live AnalysisOutcome (not saved; refit to rebuild)
        self.result: dict | None = None
        self.stale = False
        self.settings: dict = dict(PRESETS[DEFAULT_PRESET], seed=0)
        self.notes: dict = {}
        self.step = 0
        self.path: Path | None = None  # where the investigation was last saved/opened
        self.dirty = False

    # ------------------------------------------------------------------ state flags
    def set_dirty(self, on: bool = True) -> None:
        if on != self.dirty:
            self.dirty = on
            self.dirtyChanged.emit(on)

    def _set_stale(self, on: bool) -> None:
        if self.result is None:
            on = False
        if on != self.stale:
            self.stale = on
            self.staleChanged.emit(on)

    @property
    def target(self) -> str | None:
        return self.layout.target if self.layout else None

    def unit(self, node: str) -> str:
        return self.layout.unit(node) if self.layout else ""

    # ------------------------------------------------------------------ data and layout
    def reset(self, layout: Layout | None = None) -> None:
        """Start a new investigation (optionally with a layout already chosen)."""
        self.raw = self.data = None
        self.data_path = None
        self.load_options = {"gaps": "drop", "dayfirst": None}
        self.layout = layout
        self.problems = []
        self.reference = self.anomaly = None
        self.notes = {}
        self.step = 0
        self.path = None
        self._clear_analysis()
        for sig in (self.layoutChanged, self.rawChanged, self.problemsChanged, self.dataChanged,
                    self.windowsChanged):
            sig.emit()
        self.set_dirty(False)

    def set_loaded(self, loaded: dict) -> None:
        """Take the result of worker.load_job (a new table, maybe a prepared one)."""
        new_file = self.raw is None or loaded["raw"].sha256 != self.raw.sha256
        self.raw = loaded["raw"]
        self.data_path = str(Path(loaded["path"]).resolve())
        self.load_options = dict(loaded["options"])
        self.problems = list(loaded["problems"])
        self.data = loaded["data"]
        if new_file:
            self._clear_analysis()
            self.reference = self.anomaly = None
        self.rawChanged.emit()
        self.problemsChanged.emit()
        self.dataChanged.emit()
        self._check_windows()
        self.set_dirty()

    def apply_layout(self, layout: Layout) -> None:
        """Use ``layout`` (validated again from its TOML) and rebuild the analysis table.

        Raises RcaInputError when the layout itself is invalid; problems with the data under
        this layout are listed in ``problems`` (the layout is kept so they can be fixed)."""
        checked = None
        if layout.text:
            # Unchanged since read: keep the file's own text (with its comments).
            try:
                original = parse_layout(layout.text, layout.source)
            except RcaInputError:
                original = None
            if original is not None and replace(original, text="") == replace(layout, text=""):
                checked = original
        if checked is None:
            checked = parse_layout(layout.to_toml(), layout.source)
        self.layout = checked
        self.layoutChanged.emit()
        self.set_dirty()
        if self.raw is not None:
            self.prepareRequested.emit()

    def prepare_inputs(self) -> tuple | None:
        """(raw, layout, options) for worker.prepare_job, or None when there is nothing to do."""
        if self.raw is None or self.layout is None:
            return None
        return self.raw, self.layout, dict(self.load_options)

    def reprepare(self) -> None:
        """Rebuild the analysis table here and now (the window does it in the background)."""
        from rca_app.gui.worker import prepare_job
        from rca_app.core.progress import NullProgress

        inputs = self.prepare_inputs()
        if inputs is not None:
            self.set_prepared(prepare_job(*inputs, progress=NullProgress()))

    def set_prepared(self, prepared: dict) -> None:
        """Take the result of worker.prepare_job: the analysis table (or None) and problems."""
        data, problems = prepared["data"], prepared["problems"]
        nodes_before = list(self.data.frame.columns) if self.data is not None else None
        self.data = data
        self.problems = problems
        graph_misfits = (self.graph is not None and self.layout is not None
                         and bool(self.graph.validate(self.layout.constraints())))
        if data is None or list(data.frame.columns) != nodes_before or graph_misfits:
            # Other sensors, or stations that forbid some arrows: the graph must be found again.
            self.graph, self.edits = None, []
            self.graphChanged.emit()
        self._set_stale(True)
        self.problemsChanged.emit()
        self.dataChanged.emit()
        self._check_windows()
        self.set_dirty()

    def set_load_option(self, key: str, value) -> None:
        self.load_options[key] = value
        if self.raw is not None:
            self.prepareRequested.emit()

    def _check_windows(self) -> None:
        """Drop windows the current table cannot hold (another file or time column)."""
        if self.data is None:
            return
        for name in ("reference", "anomaly"):
            w = getattr(self, name)
            if w is None:
                continue
            try:
                inv.window_rows(self.data, w)
            except RcaInputError:
                setattr(self, name, None)
        self.windowsChanged.emit()

    # ------------------------------------------------------------------ windows
    def set_windows(self, reference, anomaly) -> None:
        reference = list(reference) if reference is not None else None
        anomaly = list(anomaly) if anomaly is not None else None
        if reference == self.reference and anomaly == self.anomaly:
            return
        self.reference, self.anomaly = reference, anomaly
        self.windowsChanged.emit()
        self._set_stale(True)
        self.set_dirty()

    def auto_detect(self) -> dict | None:
        found = inv.auto_windows(self.data, self.reference)
        if found is not None:
            self.set_windows(found["reference"], found["anomaly"])
        return found

    # ------------------------------------------------------------------ graph
    def set_graph(self, graph: CausalGraph | None, edits: list[dict]) -> None:
        """Replace the graph (an edit, or its undo); results become stale."""
        self.graph = graph
        self.edits = list(edits)
        self.graphChanged.emit()
        self._set_stale(True)
        self.set_dirty()

    def edit_graph(self, op: str, source: str, target: str) -> CausalGraph:
        """The graph after one edit, validated by the core (RcaInputError with the reason)."""
        if self.graph is None or self.layout is None:
            raise RcaInputError("run the analysis first: there is no graph to edit yet")
        return inv.apply_edit(self.graph, op, source, target, self.layout.constraints())

    def reference_frame(self):
        if self.data is None or self.reference is None:
            return None
        try:
            return self.data.frame.iloc[inv.window_rows(self.data, self.reference)]
        except RcaInputError:
            return None

    def graph_view(self) -> dict | None:
        if self.graph is None or self.layout is None:
            return None
        return inv.graph_view(self.graph, self.layout, self.result, self.reference_frame())

    # ------------------------------------------------------------------ analysis
    def analysis_inputs(self, rediscover: bool = False) -> dict:
        """Arguments for worker.analysis_job; RcaInputError says what is missing."""
        missing = []
        if self.data is None:
            missing.append(Problem("open a data file and a layout that fits it (steps Data and Layout)"))
        if self.anomaly is None:
            missing.append(Problem("mark the incident window (step Incident, or Auto-detect)"))
        if missing:
            raise RcaInputError(missing)
        refit = self.graph is not None and not rediscover and bool(self.edits or self.outcome is None)
        return {"data": self.data, "anomaly": self.anomaly, "reference": self.reference,
                "settings": dict(self.settings), "graph": self.graph if refit else None,
                "edits": list(self.edits)}

    def set_outcome(self, outcome) -> None:
        self.outcome = outcome
        self.result = outcome.result.to_dict()
        self.graph = outcome.scm.graph
        self.reference = list(self._window_of(self.result["reference"]))
        self.anomaly = list(self._window_of(self.result["anomaly"]))
        self.windowsChanged.emit()
        self.graphChanged.emit()
        self.resultChanged.emit()
        self._set_stale(False)
        self.set_dirty()

    @staticmethod
    def _window_of(w: dict) -> tuple:
        return (w["start"], w["end"])

    def _clear_analysis(self) -> None:
        self.outcome = None
        self.result = None
        self.graph, self.edits = None, []
        self.graphChanged.emit()
        self.resultChanged.emit()
        self._set_stale(False)

    # ------------------------------------------------------------------ notes
    def set_notes(self, notes: dict) -> None:
        if notes != self.notes:
            self.notes = dict(notes)
            self.set_dirty()

    # ------------------------------------------------------------------ saving and opening
    def to_investigation(self) -> inv.Investigation:
        ref = None
        if self.raw is not None and self.data_path:
            ref = inv.DataRef(path=self.data_path, sha256=self.raw.sha256, file_name=self.raw.file_name,
                              size_bytes=self.raw.size_bytes, sheet=self.load_options.get("sheet"),
                              sep=self.load_options.get("sep"), decimal=self.load_options.get("decimal"),
                              dayfirst=self.load_options.get("dayfirst"),
                              gaps=self.load_options.get("gaps", "drop"))
        layout_text = None
        if self.layout is not None:
            layout_text = self.layout.text or self.layout.to_toml()
        return inv.Investigation(
            data=ref, layout_toml=layout_text,
            layout_source=self.layout.source if self.layout else "layout.toml",
            reference=self.reference, anomaly=self.anomaly,
            graph=self.graph.to_dict() if self.graph is not None else None,
            graph_edits=list(self.edits), settings=dict(self.settings), result=self.result,
            result_stale=self.stale, notes=dict(self.notes), step=self.step)

    def restore(self, saved: inv.Investigation, loaded: dict | None, path: Path | None) -> None:
        """Put a saved investigation back (``loaded``: its data file read by load_job, or None
        when the engineer chose to open it without data)."""
        self._clear_analysis()
        self.layout = parse_layout(saved.layout_toml, saved.layout_source) if saved.layout_toml else None
        if loaded is not None:
            self.raw = loaded["raw"]
            self.data = loaded["data"]
            self.data_path = str(Path(loaded["path"]).resolve())
            self.load_options = dict(loaded["options"])
            self.problems = list(loaded["problems"])
        else:
            self.raw = self.data = None
            self.data_path = None
            self.problems = []
        self.reference, self.anomaly = saved.reference, saved.anomaly
        self.graph = CausalGraph.from_dict(saved.graph) if saved.graph else None
        self.edits = list(saved.graph_edits)
        self.settings = {**self.settings, **saved.settings}
        self.result = saved.result
        self.outcome = None
        self.notes = dict(saved.notes)
        self.step = saved.step
        self.path = path
        self.layoutChanged.emit()
        self.rawChanged.emit()
        self.problemsChanged.emit()
        self.dataChanged.emit()
        self.windowsChanged.emit()
        self.graphChanged.emit()
        self.resultChanged.emit()
        self.stale = bool(saved.result_stale and saved.result is not None)
        self.staleChanged.emit(self.stale)
        self.set_dirty(False)

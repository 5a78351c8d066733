"""One investigation's state and the rules that keep it consistent, without Qt.

The rules: a result goes *stale* when an input it was computed from changes (windows, graph,
layout, reading options) and is fresh again after the next analysis; the investigation is *dirty*
when it differs from what was last saved; a new data file drops the windows, graph and results,
while the same file re-read (another layout or reading option) keeps the windows the table can
still hold and the graph if it still has the same sensors and fits the stations' tiers.

Changes are announced to subscribers as ``(what, value)`` events (see :data:`EVENTS`); the
desktop window's ``Session`` turns them into Qt signals, tests record them.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rca_app.app.analysis_job import DEFAULT_PRESET, PRESETS
from rca_app.app.data_file import data_ref, prepare_data
from rca_app.app.investigation_file import Investigation
from rca_app.app.layout_edit import as_read
from rca_app.app.windows_view import auto_windows, window_from_rows, window_rows
from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.graph import CausalGraph
from rca_app.core.layout import Layout, parse_layout

if TYPE_CHECKING:
    from rca_app.core.results import AnalysisResult

# What a subscriber hears. Most carry no value; "stale" and "dirty" carry the new flag.
# "prepare": the analysis table must be rebuilt (layout or reading options changed): the caller
# runs prepare_inputs() -> data_file.prepare_data (in the background) and hands back set_prepared().
EVENTS = ("raw", "data", "layout", "problems", "windows", "graph", "result", "stale", "dirty", "prepare")

# The seven steps in order (the window's pages, the investigation file's ``step``).
STEPS = ("data", "incident", "layout", "graph", "causes", "whatif", "report")


class SessionState:
    """Everything the seven steps share: data, layout, windows, graph, result, notes, flags.

    Read the fields freely; change them through the methods, which apply the rules and
    announce what changed.
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[str, Any], None]] = []
        self.raw = None                # RawTable as read
        self.data = None               # PlantData (layout applied), None when they do not fit
        self.data_path: str | None = None
        self.load_options: dict = {"gaps": "drop", "dayfirst": None}
        self.layout: Layout | None = None
        self.problems: list[Problem] = []
        self.reference: list | None = None
        self.anomaly: list | None = None
        self.graph: CausalGraph | None = None
        self.edits: list[dict] = []
        self.outcome = None            # live AnalysisOutcome (not saved; refit to rebuild)
        self.result: AnalysisResult | None = None   # the typed record (rca_app.core.results)
        self.stale = False
        self.settings: dict = dict(PRESETS[DEFAULT_PRESET], seed=0)
        self.notes: dict = {}
        self.verification = None       # the verified corrective action (investigation_file.Verification)
        self.step = 0
        self.path: Path | None = None  # where the investigation was last saved or opened
        self.dirty = False

    # ------------------------------------------------------------------ events
    def subscribe(self, listener: Callable[[str, Any], None]) -> None:
        """Call ``listener(what, value)`` on every change (``what`` in :data:`EVENTS`).

        Parameters
        ----------
        listener : callable
            Called with the event name and its value (a flag, or None).
        """
        self._listeners.append(listener)

    def _announce(self, *whats: str, value: Any = None) -> None:
        for what in whats:
            for listener in list(self._listeners):
                listener(what, value)

    # ------------------------------------------------------------------ flags
    def set_dirty(self, on: bool = True) -> None:
        """Mark the investigation as differing (or not) from what was last saved.

        Parameters
        ----------
        on : bool, default True
            Announces ``"dirty"`` when the flag changes.
        """
        if on != self.dirty:
            self.dirty = on
            self._announce("dirty", value=on)

    def _set_stale(self, on: bool) -> None:
        if self.result is None:
            on = False   # nothing to be stale
        if on != self.stale:
            self.stale = on
            self._announce("stale", value=on)

    @property
    def target(self) -> str | None:
        """The layout's target (yield column), or None without a layout."""
        return self.layout.target if self.layout else None

    def unit(self, node: str) -> str:
        """Engineering unit of a sensor from the layout.

        Parameters
        ----------
        node : str
            Sensor name.

        Returns
        -------
        str
            ``""`` when unknown or without a layout.
        """
        return self.layout.unit(node) if self.layout else ""

    def has_unsaved_work(self) -> bool:
        """Whether an autosave would keep anything: changes, and a table or a layout.

        Returns
        -------
        bool
        """
        return self.dirty and (self.raw is not None or self.layout is not None)

    def steps_done(self) -> list[bool]:
        """Which of the seven steps (:data:`STEPS`) are done, for the check marks.

        Returns
        -------
        list of bool
            One per step; a stale result does not count as done.
        """
        return [self.data is not None, self.anomaly is not None,
                self.layout is not None and self.data is not None, self.graph is not None,
                self.result is not None and not self.stale, self.outcome is not None, False]

    def set_step(self, step: int) -> None:
        """The step on screen (saved with the investigation; not a change of the work).

        Parameters
        ----------
        step : int
            Index into :data:`STEPS`.
        """
        self.step = int(step)

    def apply_preset(self, name: str) -> None:
        """Take a preset's bootstrap sizes into the settings.

        Parameters
        ----------
        name : str
            A key of :data:`PRESETS`.
        """
        self.settings.update(PRESETS[name])
        self.set_dirty()

    def saved_as(self, path: str | Path) -> None:
        """The investigation was written to ``path``: nothing is unsaved any more.

        Parameters
        ----------
        path : str or Path
            The investigation file.
        """
        self.path = Path(path)
        self.set_dirty(False)

    # ------------------------------------------------------------------ data and layout
    def reset(self, layout: Layout | None = None) -> None:
        """Start a new investigation (optionally with a layout already chosen).

        Parameters
        ----------
        layout : Layout, optional
            E.g. a sample plant's layout.
        """
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
        self._announce("layout", "raw", "problems", "data", "windows")
        self.set_dirty(False)

    def set_loaded(self, loaded: dict) -> None:
        """Take the result of :func:`rca_app.app.data_file.read_data` (a new table, maybe a prepared one).

        Another file (by content) drops the windows, graph and results.

        Parameters
        ----------
        loaded : dict
            With ``raw``, ``path``, ``options``, ``problems`` and ``data``.
        """
        new_file = self.raw is None or loaded["raw"].sha256 != self.raw.sha256
        self.raw = loaded["raw"]
        self.data_path = str(Path(loaded["path"]).resolve())
        self.load_options = dict(loaded["options"])
        self.problems = list(loaded["problems"])
        self.data = loaded["data"]
        if new_file:
            self._clear_analysis()
            self.reference = self.anomaly = None
        self._announce("raw", "problems", "data")
        self._check_windows()
        self.set_dirty()

    def apply_layout(self, layout: Layout) -> None:
        """Use ``layout`` (validated again from its TOML) and ask for the table to be rebuilt.

        Problems with the data under this layout are listed in ``problems`` (the layout is kept so
        they can be fixed).

        Parameters
        ----------
        layout : Layout
            The layout as read or as edited in the window.

        Raises
        ------
        RcaInputError
            When the layout itself is invalid.
        """
        # Unchanged since read: keep the file's own text (with its comments).
        checked = as_read(layout) if layout.text else None
        if checked is None:
            checked = parse_layout(layout.to_toml(), layout.source)
        self.layout = checked
        self._announce("layout")
        self.set_dirty()
        if self.raw is not None:
            self._announce("prepare")

    def prepare_inputs(self) -> tuple | None:
        """Arguments for :func:`rca_app.app.data_file.prepare_data`.

        Returns
        -------
        tuple or None
            ``(raw, layout, options)``, or None when there is no table or no layout yet.
        """
        if self.raw is None or self.layout is None:
            return None
        return self.raw, self.layout, dict(self.load_options)

    def reprepare(self) -> None:
        """Rebuild the analysis table here and now (the window does it in the background)."""
        inputs = self.prepare_inputs()
        if inputs is not None:
            self.set_prepared(prepare_data(*inputs))

    def set_prepared(self, prepared: dict) -> None:
        """Take the result of :func:`rca_app.app.data_file.prepare_data`: the analysis table and problems.

        The graph survives only if the table has the same sensors and the graph fits the
        (possibly new) stations' tiers; the result goes stale either way.

        Parameters
        ----------
        prepared : dict
            With ``data`` (PlantData or None) and ``problems``.
        """
        data, problems = prepared["data"], prepared["problems"]
        nodes_before = list(self.data.frame.columns) if self.data is not None else None
        self.data = data
        self.problems = problems
        graph_misfits = (self.graph is not None and self.layout is not None
                         and bool(self.graph.validate(self.layout.constraints())))
        if data is None or list(data.frame.columns) != nodes_before or graph_misfits:
            # Other sensors, or stations that forbid some arrows: the graph must be found again.
            self.graph, self.edits = None, []
            self._announce("graph")
        self._set_stale(True)
        self._announce("problems", "data")
        self._check_windows()
        self.set_dirty()

    def set_load_option(self, key: str, value) -> None:
        """Change a reading option and ask for the table to be rebuilt.

        Parameters
        ----------
        key : str
            A reading option, e.g. ``"gaps"``, ``"dayfirst"``, ``"sheet"``.
        value : object
            The new value.
        """
        self.load_options[key] = value
        if self.raw is not None:
            self._announce("prepare")

    def _check_windows(self) -> None:
        """Drop windows the current table cannot hold (another file or time column)."""
        if self.data is None:
            return
        for name in ("reference", "anomaly"):
            w = getattr(self, name)
            if w is None:
                continue
            try:
                window_rows(self.data, w)
            except RcaInputError:
                setattr(self, name, None)
        self._announce("windows")

    # ------------------------------------------------------------------ windows
    def set_windows(self, reference, anomaly) -> None:
        """Set the reference and incident windows; the result goes stale if they changed.

        Parameters
        ----------
        reference, anomaly : list or None
            ``[start, end]`` in the engineer's terms (times or row numbers).
        """
        reference = list(reference) if reference is not None else None
        anomaly = list(anomaly) if anomaly is not None else None
        if reference == self.reference and anomaly == self.anomaly:
            return
        self.reference, self.anomaly = reference, anomaly
        self._announce("windows")
        self._set_stale(True)
        self.set_dirty()

    def auto_detect(self) -> dict | None:
        """Mark the incident the KPI's control chart finds (see :func:`windows_view.auto_windows`).

        Returns
        -------
        dict or None
            What was found (also set as the windows), or None when the chart shows no incident.
        """
        found = auto_windows(self.data, self.reference)
        if found is not None:
            self.set_windows(found["reference"], found["anomaly"])
        return found

    def place_default_windows(self) -> None:
        """When no window is set yet: the incident as auto-detected, else the last fifth."""
        if self.data is None or self.anomaly is not None:
            return
        if self.auto_detect() is None:
            n = self.data.n_rows
            self.set_windows(window_from_rows(self.data, slice(0, int(n * 0.8))),
                             window_from_rows(self.data, slice(int(n * 0.8), n)))

    def reference_frame(self):
        """The reference rows of the analysis table.

        Returns
        -------
        DataFrame or None
            None when there is no table or no valid reference window yet.
        """
        if self.data is None or self.reference is None:
            return None
        try:
            return self.data.frame.iloc[window_rows(self.data, self.reference)]
        except RcaInputError:
            return None

    # ------------------------------------------------------------------ sample plants
    def start_sample(self, plant) -> None:
        """A new investigation on a sample plant's layout (its data is read next).

        Parameters
        ----------
        plant : SamplePlant
        """
        self.reset(plant.layout)

    def sample_loaded(self, plant) -> None:
        """The sample's data is in: mark the incident its story tells; nothing is unsaved.

        Parameters
        ----------
        plant : SamplePlant
        """
        if self.data is not None and plant.anomaly:
            self.set_windows(plant.reference, plant.anomaly)
        else:
            self.place_default_windows()
        self.set_dirty(False)

    # ------------------------------------------------------------------ graph
    def set_graph(self, graph: CausalGraph | None, edits: list[dict]) -> None:
        """Replace the graph (an edit, or its undo); results become stale.

        Parameters
        ----------
        graph : CausalGraph or None
        edits : list of dict
            The engineer's edits so far (``op``, ``source``, ``target``), kept as layout knowledge
            if discovery runs again.
        """
        self.graph = graph
        self.edits = list(edits)
        self._announce("graph")
        self._set_stale(True)
        self.set_dirty()

    def edit_graph(self, op: str, source: str, target: str) -> CausalGraph:
        """The graph after one edit, validated by the core.

        Parameters
        ----------
        op : str
            One of :data:`rca_app.app.graph_edit.EDIT_OPS` (add, remove, reverse, force).
        source, target : str
            The edge's sensors.

        Returns
        -------
        CausalGraph
            The new graph (not yet set: call :meth:`set_graph`).

        Raises
        ------
        RcaInputError
            With the reason, when there is no graph or the edit breaks the layout or makes a cycle.
        """
        from rca_app.app.graph_edit import apply_edit

        if self.graph is None or self.layout is None:
            raise RcaInputError("run the analysis first: there is no graph to edit yet")
        return apply_edit(self.graph, op, source, target, self.layout.constraints())

    def graph_view(self) -> dict | None:
        """What the graph canvas draws (see :func:`rca_app.app.graph_view.graph_view`).

        Returns
        -------
        dict or None
            None without a graph or a layout.
        """
        from rca_app.app.graph_view import graph_view

        if self.graph is None or self.layout is None:
            return None
        return graph_view(self.graph, self.layout, self.result, self.reference_frame())

    # ------------------------------------------------------------------ analysis
    def analysis_inputs(self, rediscover: bool = False) -> dict:
        """Arguments for :func:`run_analysis_job`.

        An edited graph (or one restored from a file, with no live model) is refitted as it
        is; otherwise, or when ``rediscover``, discovery runs again.

        Parameters
        ----------
        rediscover : bool, default False
            Discover a new graph even when one could be refitted.

        Returns
        -------
        dict
            Keyword arguments for :func:`run_analysis_job`.

        Raises
        ------
        RcaInputError
            Saying what is missing (data, layout, incident window).
        """
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
        """Take a finished analysis: its graph and windows become the session's; fresh again.

        Parameters
        ----------
        outcome : AnalysisOutcome
            From :func:`run_analysis_job`.
        """
        self.outcome = outcome
        from rca_app.core.results import as_result  # loads scipy: not before an analysis ran

        self.result = as_result(outcome.result)
        # The graph the engineer sees and edits is the same-row one; a model over time adds
        # lagged columns (X[t-L]) that are drawn as arcs, not as sensors.
        from rca_app.core.lagged_model import contemporaneous_graph

        loops = self.layout.loops if self.layout is not None else []
        self.graph = contemporaneous_graph(outcome.scm.graph, loops)
        self.reference = [self.result.reference.start, self.result.reference.end]
        self.anomaly = [self.result.anomaly.start, self.result.anomaly.end]
        self._announce("windows", "graph", "result")
        self._set_stale(False)
        self.set_dirty()

    def _clear_analysis(self) -> None:
        self.outcome = None
        self.result = None
        self.graph, self.edits = None, []
        self._announce("graph", "result")
        self._set_stale(False)

    # ------------------------------------------------------------------ notes
    def set_notes(self, notes: dict) -> None:
        """Replace the engineer's notes.

        Parameters
        ----------
        notes : dict
            Free text by step or topic.
        """
        if notes != self.notes:
            self.notes = dict(notes)
            self.set_dirty()

    def set_verification(self, verification) -> None:
        """Keep a verified corrective action (the "Verify the fix" step) with the investigation.

        Parameters
        ----------
        verification : Verification or None
        """
        self.verification = verification
        self.set_dirty()

    # ------------------------------------------------------------------ saving and opening
    def to_investigation(self) -> Investigation:
        """The state as an investigation file holds it (the live model is not saved).

        Returns
        -------
        Investigation
        """
        ref = None
        if self.raw is not None and self.data_path:
            ref = data_ref(self.raw, self.data_path, self.load_options)
        layout_text = None
        if self.layout is not None:
            layout_text = self.layout.text or self.layout.to_toml()
        return Investigation(
            data=ref, layout_toml=layout_text,
            layout_source=self.layout.source if self.layout else "layout.toml",
            reference=self.reference, anomaly=self.anomaly,
            graph=self.graph.to_dict() if self.graph is not None else None,
            graph_edits=list(self.edits), settings=dict(self.settings), result=self.result,
            result_stale=self.stale, notes=dict(self.notes), verification=self.verification, step=self.step)

    def restore(self, saved: Investigation, loaded: dict | None, path: Path | None) -> None:
        """Put a saved investigation back.

        Parameters
        ----------
        saved : Investigation
            As read from the file.
        loaded : dict or None
            Its data file as :func:`rca_app.app.data_file.read_data` gives it, or None when the
            engineer chose to open it without data.
        path : Path or None
            Where it was opened from.
        """
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
        self.verification = saved.verification
        self.step = saved.step
        self.path = path
        self._announce("layout", "raw", "problems", "data", "windows", "graph", "result")
        self.stale = bool(saved.result_stale and saved.result is not None)
        self._announce("stale", value=self.stale)
        self.set_dirty(False)

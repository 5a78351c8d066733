"""The main window: a step list on the left, one page per step, their wiring, jobs and drops.

It binds widgets to the session and hands work to helpers, one per job: ``JobRunner`` (the
background job and its status bar), ``InvestigationFiles`` (save, open, autosave, recovery),
``RecentFiles``, and ``WindowMenus`` (:mod:`rca_app.gui.window_menus`: the menus, their actions
and shortcuts); the rules themselves live in the application layer (``rca_app.app``)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize, QTimer, QUrl, Signal
from PySide6.QtGui import QIcon, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QWidget,
)

from rca_app.app.analysis_job import run_analysis_job
from rca_app.app.data_file import prepare_data, read_data
from rca_app.app.investigation_file import FILE_SUFFIX, Investigation, safe_file_stem, write_json
from rca_app.app.sample_plants import open_sample_plant
from rca_app.app.session import STEPS
from rca_app.app.whatif_view import controllable_candidates
from rca_app.core.errors import RcaInputError
from rca_app.gui import dialogs, glossary
from rca_app.gui._compat import collect_garbage_in_gui_thread, protect_bool_refcounts, protect_none_refcount
from rca_app.gui.investigation_files import DATA_FILTER, InvestigationFiles
from rca_app.gui.job_runner import JobRunner
from rca_app.gui.recent_files import RecentFiles
from rca_app.gui.session import Session
from rca_app.gui.steps.causes_step import CausesStep
from rca_app.gui.steps.data_step import DataStep
from rca_app.gui.steps.graph_step import GraphStep
from rca_app.gui.steps.incident_step import IncidentStep
from rca_app.gui.steps.layout_step import LayoutStep
from rca_app.gui.steps.report_step import ReportStep, report_available
from rca_app.gui.steps.verify_step import VerifyStep
from rca_app.gui.steps.whatif_step import WhatIfStep
from rca_app.gui.window_menus import STEP_TITLES, WINDOW_STEPS, WindowMenus
from rca_app.gui.worker import Job, report_job

DATA_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq"}
AUTOSAVE_MS = 3 * 60 * 1000


class MainWindow(WindowMenus):
    """The window: step pages, their wiring to the session, background jobs, files and drops;
    the menus and their actions come from :class:`~rca_app.gui.window_menus.WindowMenus`."""

    jobFinished = Signal(str, str)        # job title, "succeeded" | "failed" | "cancelled"
    analysisFinished = Signal(str)        # "succeeded" | "failed" | "cancelled"
    loadFinished = Signal(str)

    def __init__(self, settings: QSettings | None = None, recovery_dir: str | Path | None = None,
                 autosave_ms: int = AUTOSAVE_MS) -> None:
        super().__init__()
        protect_bool_refcounts()
        protect_none_refcount()
        collect_garbage_in_gui_thread()
        self.settings = settings if settings is not None else QSettings("rca_app", "rca_app")
        self.recent = RecentFiles(self.settings)
        self.session = Session(self)
        self.files = InvestigationFiles(self, Path(recovery_dir) if recovery_dir else _default_recovery_dir())
        self._prepare_pending = False
        self._rediscovering = False
        self._analyse_after_prepare: bool | None = None   # F5 waiting for an edited layout's check
        self.setWindowTitle("rca_app")
        icon = _app_icon()
        if icon is not None:
            self.setWindowIcon(icon)
        self.setAcceptDrops(True)

        # Pages.
        s = self.session
        self.data_step = DataStep(s)
        self.incident_step = IncidentStep(s)
        self.layout_step = LayoutStep(s)
        self.graph_step = GraphStep(s)
        self.causes_step = CausesStep(s)
        self.whatif_step = WhatIfStep(s)
        self.verify_step = VerifyStep(s)
        self.report_step = ReportStep(s)
        self.pages = [self.data_step, self.incident_step, self.layout_step, self.graph_step,
                      self.causes_step, self.whatif_step, self.verify_step, self.report_step]
        self.stack = QStackedWidget()
        for p in self.pages:
            self.stack.addWidget(p)
        self.step_list = QListWidget()
        self.step_list.setObjectName("steps")
        for i, title in enumerate(STEP_TITLES):
            item = QListWidgetItem(f"{i + 1}   {title}")
            item.setToolTip(glossary.STEP_HELP.get(WINDOW_STEPS[i], ""))
            item.setSizeHint(QSize(150, 40))
            self.step_list.addItem(item)
        self.step_list.setFixedWidth(170)
        self.step_list.setStyleSheet(
            "QListWidget#steps { background:#f1f3f6; border:none; font-size:11pt; padding-top:6px; }"
            "QListWidget#steps::item { padding-left:10px; }"
            "QListWidget#steps::item:selected { background:#2f6db5; color:white; }")
        self.step_list.currentRowChanged.connect(self._step_changed)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 6, 0)
        row.addWidget(self.step_list)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        # Undo/redo follow the step on screen (layout edits or graph edits).
        self.undo_group = QUndoGroup(self)
        self.undo_group.addStack(self.layout_step.undo_stack)
        self.undo_group.addStack(self.graph_step.undo_stack)

        # Status bar: what is being done, how far, and a way to stop it.
        self.jobs = JobRunner(self, self.statusBar())
        self.jobs.started.connect(self._job_started)
        self.jobs.ended.connect(self._job_ended)
        self.status_text, self.cancel_button = self.jobs.status_text, self.jobs.cancel_button

        self._make_actions()
        self._connect_pages()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.files.autosave)
        self.autosave_timer.start()

        s.dirtyChanged.connect(lambda _d: self.update_title())
        s.layoutChanged.connect(self.update_title)
        for sig in (s.dataChanged, s.resultChanged, s.graphChanged, s.windowsChanged):
            sig.connect(self._update_steps)
        s.staleChanged.connect(lambda _s: self._update_steps())
        self._restore_geometry()
        self.step_list.setCurrentRow(0)
        self.update_title()
        self._update_steps()

    def _connect_pages(self) -> None:
        self.data_step.openRequested.connect(self.open_data)
        self.incident_step.runRequested.connect(self.run_analysis)
        self.graph_step.refitRequested.connect(self.run_analysis)
        self.graph_step.rediscoverRequested.connect(lambda: self.run_analysis(True))
        self.whatif_step.refitRequested.connect(self.run_analysis)
        self.causes_step.causeSelected.connect(self.graph_step.highlight_paths)
        self.causes_step.showInGraph.connect(self._show_in_graph)
        self.report_step.exportRequested.connect(self.export_report)
        self.report_step.jsonRequested.connect(self.export_json)
        self.verify_step.verifyRequested.connect(self.run_verify)
        self.session.prepareRequested.connect(self.prepare_data)

    # ================================================================== navigation
    def go_to(self, step: int | str) -> None:
        """Show a step by name or by number.

        Parameters
        ----------
        step : int or str
            A name of :data:`WINDOW_STEPS`, or a step number as the session counts and saves
            them (:data:`rca_app.app.session.STEPS`, without "verify"), not the window's list
            position: a saved investigation's step number stays valid although the window
            shows "Verify the fix" between What-if and Report.
        """
        name = step if isinstance(step, str) else STEPS[int(step)]
        self.step_list.setCurrentRow(WINDOW_STEPS.index(name))

    def current_step(self) -> str:
        return WINDOW_STEPS[self.stack.currentIndex()]

    def _step_changed(self, i: int) -> None:
        if i < 0:
            return
        self.stack.setCurrentIndex(i)
        name = WINDOW_STEPS[i]
        self.session.set_step(STEPS.index(name if name in STEPS else "whatif"))
        self.undo_group.setActiveStack(self.layout_step.undo_stack if name == "layout"
                                       else self.graph_step.undo_stack)

    def _show_in_graph(self, node: str) -> None:
        self.go_to("graph")
        self.graph_step.highlight_paths(node)

    def prepare_data(self) -> bool:
        """Rebuild the analysis table in the background (a new layout or reading option)."""
        inputs = self.session.prepare_inputs()
        if inputs is None:
            return False
        if self.job is not None:
            # After the running job (an analysis started before the edit keeps its own inputs).
            self._prepare_pending = True
            return False

        def done(prepared: dict) -> None:
            s = self.session
            s.set_prepared(prepared)
            if s.data is not None and s.anomaly is None:
                s.place_default_windows()
            n_err = sum(p.severity == "error" for p in s.problems)
            self.jobs.show_status("The data fit the layout." if s.data is not None else
                                  f"The data do not fit the layout: {n_err} problems (step 1).")

        return self.jobs.start("Checking the data against the layout", prepare_data, *inputs, on_success=done,
                               cancellable=False, kind="load") is not None

    def _update_steps(self) -> None:
        done = list(self.session.steps_done())
        # What-if with nothing controllable has nothing to try: no check mark, but a word why.
        no_setpoints = self.session.outcome is not None and not controllable_candidates(self.session.outcome)
        done[5] = done[5] and not no_setpoints
        verified = getattr(self.session.verification, "result", None) is not None
        done = done[:6] + [verified] + done[6:]
        for i, title in enumerate(STEP_TITLES):
            mark = "  ✓" if done[i] else ("  –" if i == 5 and no_setpoints else "")
            self.step_list.item(i).setText(f"{i + 1}   {title}{mark}")
            if i == 5:
                self.step_list.item(i).setToolTip("No controllable setpoints declared: nothing to try."
                                                  if no_setpoints else "")

    def update_title(self) -> None:
        s = self.session
        name = s.path.name if s.path else "unsaved investigation"
        plant = f"{s.layout.name} — " if s.layout and s.layout.name else ""
        self.setWindowTitle(f"{plant}{name}[*] — rca_app")
        self.setWindowModified(s.dirty)

    # ================================================================== background jobs
    @property
    def job(self) -> Job | None:
        """The running background job (None when idle)."""
        return self.jobs.job

    def is_busy(self) -> bool:
        return self.jobs.busy

    def _busy_controls(self) -> list:
        """What must not start while a job runs (the graph step's own buttons follow its
        refresh() afterwards)."""
        return [self.act_run, self.act_rediscover, self.act_open_data, self.act_open_inv, self.act_export,
                self.data_step.open_button, self.incident_step.run_button, self.verify_step.verify_button]

    def _job_started(self, _title: str) -> None:
        self.act_cancel.setEnabled(self.jobs.job.cancellable)
        for c in self._busy_controls() + [self.graph_step.refit_button, self.graph_step.rediscover_button]:
            c.setEnabled(False)

    def _job_ended(self, title: str, outcome: str, kind: str) -> None:
        self.act_cancel.setEnabled(False)
        for c in self._busy_controls():
            c.setEnabled(True)
        self.graph_step.refresh()   # its own buttons follow the graph's state
        self.jobFinished.emit(title, outcome)
        if self._prepare_pending:
            self._prepare_pending = False
            QTimer.singleShot(0, self.prepare_data)
        then, self._analyse_after_prepare = self._analyse_after_prepare, None
        if kind == "load" and then is not None:
            if outcome == "succeeded" and self.session.data is not None:
                QTimer.singleShot(0, lambda: self.run_analysis(then))
            else:
                self.jobs.show_status("The data do not fit the edited layout (see step 1, Data): the analysis "
                                      "did not run.")
        if kind == "analysis":
            self.analysisFinished.emit(outcome)
        elif kind == "load":
            self.loadFinished.emit(outcome)

    # ================================================================== data files
    def open_data(self, path: str | None = None, then=None) -> bool:
        if path is None:
            path = dialogs.open_path(self, "Open sensor data", DATA_FILTER, self.recent.last_folder())
        if not path:
            return False
        layout = self.session.layout
        options = {"gaps": self.session.load_options.get("gaps", "drop"),
                   "dayfirst": self.session.load_options.get("dayfirst")}

        def done(loaded: dict) -> None:
            self.session.set_loaded(loaded)
            self.recent.remember(path)
            self.jobs.show_status(f"Opened {Path(path).name}: {loaded['raw'].n_rows:,} rows.")
            if then is not None:
                then(loaded)
            elif self.session.data is not None:
                self.session.place_default_windows()
                self.go_to("incident")
            else:
                self.go_to("data" if self.session.layout is not None else "layout")

        return self.jobs.start(f"Opening {Path(path).name}", read_data, str(path), options, layout,
                              on_success=done, cancellable=False, kind="load") is not None

    def open_sample(self, name: str) -> bool:
        """A bundled sample plant with its layout and its incident (truth.json) preloaded."""
        if not self.maybe_save():
            return False
        try:
            plant = open_sample_plant(name)
        except RcaInputError as e:
            dialogs.show_problems(self, "Sample plant", "The sample layout cannot be read:", e.problems)
            return False
        self.session.start_sample(plant)
        self.clear_history()

        def done(_loaded) -> None:
            self.session.sample_loaded(plant)
            self.go_to("incident")
            self.jobs.show_status(f"Sample plant '{plant.title}' with its incident loaded: press F5 to find "
                                  "the root causes.")

        return self.open_data(str(plant.data_path), then=done)

    # ================================================================== analysis
    def run_analysis(self, rediscover: bool = False) -> bool:
        if self.layout_step.unapplied_edit() is not None:
            return self._apply_edited_layout_then_analyse(rediscover)
        s = self.session
        try:
            inputs = s.analysis_inputs(rediscover)
        except RcaInputError as e:
            dialogs.show_problems(self, "Cannot run the analysis yet", "Before the analysis can run:", e.problems)
            return False
        refit = inputs["graph"] is not None
        title = "Refitting with the edited graph" if refit else "Finding root causes"
        self._rediscovering = not refit
        # Where the work runs is this computer's preference, not part of the investigation.
        settings = {**inputs["settings"], "scheduler": self.compute_server() or None}
        return self.jobs.start(title, run_analysis_job, inputs["data"], inputs["anomaly"], inputs["reference"],
                              settings, graph=inputs["graph"], edits=inputs["edits"],
                              on_success=self._analysis_done, kind="analysis") is not None

    def _apply_edited_layout_then_analyse(self, rediscover: bool) -> bool:
        """F5 with a layout edited in step 3 but not yet used: the engineer means the layout on the
        screen, so a valid one is applied (the data checked against it) and the analysis follows;
        one with errors stops the run with the errors, never falls back to the previous layout."""
        errors = self.layout_step.unapplied_edit() or []
        if errors:
            dialogs.show_problems(self, "The edited layout has errors",
                                  "The layout edited in step 3 (Layout) has errors, so the analysis did not run. "
                                  "Fix them there, or undo the edit (Ctrl+Z in step 3):", errors)
            return False
        if self.job is not None:
            dialogs.show_info(self, "Busy", f"Please wait: {self.job.title.lower()} is still running.")
            return False
        self._analyse_after_prepare = rediscover
        if not self.layout_step.apply() or self.job is None:
            self._analyse_after_prepare = None
            return False
        self.jobs.show_status("Using the layout as edited in step 3: checking the data against it, then "
                              "finding the root causes…")
        return True

    def _analysis_done(self, outcome) -> None:
        if self._rediscovering:
            self.graph_step.reset_history()
        self.session.set_outcome(outcome)
        r = self.session.result
        took = self.jobs.seconds()
        top = r.top_cause.node if r.top_cause else "none"
        self.jobs.show_status(f"Analysis done in {took:.1f} s. Most likely cause: {top}.")
        if self.current_step() in ("data", "incident", "layout"):
            self.go_to("causes")

    def run_verify(self, change) -> bool:
        """Verify the fix in the background (the "Verify the fix" step's button)."""
        from rca_app.app.impact_job import run_verify_job

        s = self.session
        if s.data is None or s.result is None:
            return False
        return self.jobs.start("Verifying the fix", run_verify_job, s.data, change, s.result,
                               s.graph.to_dict() if s.graph is not None else None, dict(s.settings),
                               outcome=s.outcome, on_success=lambda out, c=change: self._verify_done(c, out),
                               kind="verify") is not None

    def _verify_done(self, change, out) -> None:
        from rca_app.app.investigation_file import Verification

        s = self.session
        ref = None
        if s.raw is not None and s.data_path:
            from rca_app.app.data_file import data_ref

            ref = data_ref(s.raw, s.data_path, s.load_options)
        s.set_verification(Verification(change, ref, out.result))
        self.verify_step.show_result(out.result)
        self._update_steps()
        self.jobs.show_status(f"Verified in {self.jobs.seconds():.1f} s: {out.result.verdict}.")

    # ================================================================== saving and opening
    def save(self, save_as: bool = False) -> bool:
        return self.files.save(save_as)

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the engineer cancelled."""
        return self.files.maybe_save()

    def open_investigation(self, path: str | None = None) -> bool:
        return self.files.open(path)

    def restore_investigation(self, saved: Investigation, path: Path | None, dirty: bool = False) -> bool:
        return self.files.restore(saved, path, dirty)

    def autosave(self) -> Path | None:
        return self.files.autosave()

    def check_recovery(self) -> bool:
        """Offer the investigation autosaved before a crash, if there is one."""
        return self.files.check_recovery()

    def clear_history(self) -> None:
        """Forget the undo history of layout and graph edits (another investigation is open)."""
        self.layout_step.undo_stack.clear()
        self.graph_step.reset_history()

    # ================================================================== export
    def export_report(self) -> bool:
        ok, why = report_available()
        s = self.session
        if not ok:
            self.go_to("report")
            self.report_step.banner.show_message(why, "error")
            return False
        if s.result is None or s.data is None:
            dialogs.show_info(self, "Nothing to report yet", "Run the analysis first (F5); the report presents "
                                                             "its results and needs the data file.")
            return False
        path = dialogs.save_path(self, "Export PDF report", "PDF (*.pdf)",
                                 str(Path(self.recent.last_folder()) / f"{safe_file_stem(s.layout.name)}_report.pdf"))
        if not path:
            return False
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        notes = {k: v for k, v in s.notes.items() if k != "author"}
        author = s.notes.get("author") or None

        def done(_r) -> None:
            self.report_step.status.setText(f"Report written to <a href='{QUrl.fromLocalFile(path).toString()}'>"
                                            f"{path}</a>.")
            self.report_step.status.setOpenExternalLinks(True)
            self.jobs.show_status(f"Report written to {path}.")

        return self.jobs.start("Writing the report", report_job, s.result, s.data, path, notes, author,
                              on_success=done, cancellable=False, kind="report") is not None

    def export_json(self) -> bool:
        s = self.session
        if s.result is None:
            return False
        path = dialogs.save_path(self, "Export results as JSON", "JSON (*.json)",
                                 str(Path(self.recent.last_folder()) / f"{safe_file_stem(s.layout.name)}_result.json"))
        if not path:
            return False
        from rca_app.core.results import result_to_json  # loaded already: a result exists

        try:
            write_json(result_to_json(s.result), path)
        except OSError as e:
            dialogs.show_error(self, "Not exported", f"Could not write {path}: {e.strerror or e}")
            return False
        self.jobs.show_status(f"Results written to {path}.")
        return True

    # ================================================================== files by path, drops
    def open_path(self, path: str) -> bool:
        suffix = Path(path).suffix.lower()
        if suffix == FILE_SUFFIX:
            return self.open_investigation(path)
        if suffix == ".toml":
            self.go_to("layout")
            return self.layout_step.open_layout(path)
        return self.open_data(path)

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and Path(urls[0].toLocalFile()).suffix.lower() in DATA_SUFFIXES | {FILE_SUFFIX, ".toml"}:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls:
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            QTimer.singleShot(0, lambda: self.open_path(path))

    # ================================================================== window state and closing
    def _restore_geometry(self) -> None:
        geo = self.settings.value("geometry")
        if geo is not None and self.restoreGeometry(geo):
            return
        screen = QApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        if avail is None:
            self.resize(1280, 800)
            return
        w = min(1440, int(avail.width() * 0.92))
        h = min(900, int(avail.height() * 0.92))
        self.resize(w, h)
        self.move(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2)

    def closeEvent(self, event) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.jobs.stop_and_wait()
        self.autosave_timer.stop()
        self.settings.setValue("geometry", self.saveGeometry())
        self.files.discard_recovery()
        event.accept()


def _default_recovery_dir() -> Path:
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".rca_app") / "recovery"


def _app_icon() -> QIcon | None:
    from rca_app.resources import resource_path

    path = resource_path("icons", "rca_app.svg")
    return QIcon(str(path)) if path.exists() else None

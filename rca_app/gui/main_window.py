"""The main window: a step list on the left, one page per step, menus, shortcuts, a status bar
with progress and Cancel, background jobs, saving, autosave and crash recovery."""
from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QIcon, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMainWindow, QMenu, QProgressBar, QPushButton, QStackedWidget,
                               QWidget)

from rca_app.core import investigation as inv
from rca_app.core.errors import RcaInputError
from rca_app.gui import dialogs, glossary
from rca_app.gui._compat import collect_garbage_in_gui_thread, protect_bool_refcounts
from rca_app.gui.session import Session
from rca_app.gui.steps.causes_step import CausesStep
from rca_app.gui.steps.data_step import DataStep
from rca_app.gui.steps.graph_step import GraphStep
from rca_app.gui.steps.incident_step import IncidentStep
from rca_app.gui.steps.layout_step import LayoutStep
from rca_app.gui.steps.report_step import ReportStep, report_available
from rca_app.gui.steps.whatif_step import WhatIfStep
from rca_app.gui.worker import Job, analysis_job, load_job, prepare_job, report_job

STEPS = ("data", "incident", "layout", "graph", "causes", "whatif", "report")
STEP_TITLES = ("Data", "Incident", "Layout", "Causal graph", "Root causes", "What-if", "Report")
DATA_FILTER = "Sensor data (*.csv *.txt *.tsv *.xlsx *.xlsm *.parquet *.pq);;All files (*)"
INVESTIGATION_FILTER = f"rca_app investigation (*{inv.FILE_SUFFIX});;All files (*)"
DATA_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq"}
MAX_RECENT = 8
AUTOSAVE_MS = 3 * 60 * 1000


class MainWindow(QMainWindow):
    jobFinished = Signal(str, str)        # job title, "succeeded" | "failed" | "cancelled"
    analysisFinished = Signal(str)        # "succeeded" | "failed" | "cancelled"
    loadFinished = Signal(str)

    def __init__(self, settings: QSettings | None = None, recovery_dir: str | Path | None = None,
                 autosave_ms: int = AUTOSAVE_MS) -> None:
        super().__init__()
        protect_bool_refcounts()
        collect_garbage_in_gui_thread()
        self.settings = settings if settings is not None else QSettings("rca_app", "rca_app")
        self.recovery_dir = Path(recovery_dir) if recovery_dir else _default_recovery_dir()
        self.session = Session(self)
        self.job: Job | None = None
        self._job_started = 0.0
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
        self.report_step = ReportStep(s)
        self.pages = [self.data_step, self.incident_step, self.layout_step, self.graph_step,
                      self.causes_step, self.whatif_step, self.report_step]
        self.stack = QStackedWidget()
        for p in self.pages:
            self.stack.addWidget(p)
        self.step_list = QListWidget()
        self.step_list.setObjectName("steps")
        for i, title in enumerate(STEP_TITLES):
            item = QListWidgetItem(f"{i + 1}   {title}")
            item.setToolTip(glossary.STEP_HELP[STEPS[i]])
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
        self.status_text = QLabel("Ready.")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(220)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the computation (it stops at its next checkpoint, within seconds).")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_job)
        sb = self.statusBar()
        sb.addWidget(self.status_text, 1)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)

        self._make_actions()
        self._connect_pages()

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        s.dirtyChanged.connect(lambda _d: self._update_title())
        s.layoutChanged.connect(self._update_title)
        for sig in (s.dataChanged, s.resultChanged, s.graphChanged, s.windowsChanged):
            sig.connect(self._update_steps)
        s.staleChanged.connect(lambda _s: self._update_steps())
        self._restore_geometry()
        self.step_list.setCurrentRow(0)
        self._update_title()
        self._update_steps()

    # ================================================================== actions and menus
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                a.setShortcuts([QKeySequence(k) for k in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(lambda _=False: slot())
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        self.act_open_data = self._action("Open data file…", self.open_data, QKeySequence.StandardKey.Open,
                                          "Open a CSV, Excel or Parquet file")
        self.act_open_inv = self._action("Open investigation…", self.open_investigation, "Ctrl+Shift+O")
        self.act_save = self._action("Save investigation", self.save, QKeySequence.StandardKey.Save)
        self.act_save_as = self._action("Save investigation as…", lambda: self.save(True), "Ctrl+Shift+S")
        self.act_open_layout = self._action("Open layout…", lambda: self.layout_step.open_layout())
        self.act_save_layout = self._action("Save layout as…", self.layout_step.save_layout)
        self.act_export = self._action("Export PDF report…", self.export_report, "Ctrl+E")
        self.act_export_json = self._action("Export results as JSON…", self.export_json)
        self.act_quit = self._action("Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_run = self._action("Run analysis", self.run_analysis, "F5",
                                    "Find root causes (refits your edited graph if you edited it)")
        self.act_rediscover = self._action("Re-discover graph and run", lambda: self.run_analysis(True), "Shift+F5",
                                           glossary.REDISCOVER)
        self.act_cancel = self._action("Cancel", self.cancel_job, "Esc")
        self.act_cancel.setEnabled(False)
        self.act_undo = self.undo_group.createUndoAction(self, "Undo")
        self.act_undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.act_redo = self.undo_group.createRedoAction(self, "Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        self.step_actions = []
        for i, title in enumerate(STEP_TITLES):
            self.step_actions.append(self._action(f"&{i + 1} {title}", lambda i=i: self.go_to(i), f"Ctrl+{i + 1}"))

        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addAction(self.act_open_data)
        self.samples_menu = QMenu("Open sample plant", self)
        self._fill_samples(self.samples_menu)
        m.addMenu(self.samples_menu)
        self.recent_menu = QMenu("Recent files", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addMenu(self.recent_menu)
        m.addSeparator()
        m.addAction(self.act_open_inv)
        m.addAction(self.act_save)
        m.addAction(self.act_save_as)
        m.addSeparator()
        m.addAction(self.act_open_layout)
        m.addAction(self.act_save_layout)
        m.addSeparator()
        m.addAction(self.act_export)
        m.addAction(self.act_export_json)
        m.addSeparator()
        m.addAction(self.act_quit)
        e = bar.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        a = bar.addMenu("&Analysis")
        a.addAction(self.act_run)
        a.addAction(self.act_rediscover)
        a.addAction(self.act_cancel)
        v = bar.addMenu("&View")
        for act in self.step_actions:
            v.addAction(act)
        h = bar.addMenu("&Help")
        h.addAction(self._action("What do these terms mean?", self.show_glossary, "F1"))
        h.addAction(self._action("About rca_app", self.show_about))
        self.data_step.samples_button.setMenu(self._samples_menu_copy())

    def _fill_samples(self, menu: QMenu) -> None:
        from rca_app.resources import sample_plants_dir

        folder = sample_plants_dir()
        names = sorted(p.name for p in folder.iterdir() if (p / "layout.toml").exists()) if folder.exists() else []
        for name in names:
            act = menu.addAction(name.replace("_", " "))
            act.triggered.connect(lambda _=False, n=name: self.open_sample(n))
        if not names:
            menu.addAction("(no sample plants installed)").setEnabled(False)

    def _samples_menu_copy(self) -> QMenu:
        menu = QMenu(self)
        self._fill_samples(menu)
        return menu

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
        self.session.prepareRequested.connect(self.prepare_data)

    # ================================================================== navigation
    def go_to(self, step: int | str) -> None:
        i = STEPS.index(step) if isinstance(step, str) else int(step)
        self.step_list.setCurrentRow(i)

    def current_step(self) -> str:
        return STEPS[self.stack.currentIndex()]

    def _step_changed(self, i: int) -> None:
        if i < 0:
            return
        self.stack.setCurrentIndex(i)
        self.session.step = i
        self.undo_group.setActiveStack(self.layout_step.undo_stack if STEPS[i] == "layout"
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
                self.incident_step.place_default_windows()
            n_err = sum(p.severity == "error" for p in s.problems)
            self._job_status("The data fit the layout." if s.data is not None else
                             f"The data do not fit the layout: {n_err} problems (step 1).")

        return self.start_job("Checking the data against the layout", prepare_job, *inputs, on_success=done,
                              cancellable=False, kind="load") is not None

    def _update_steps(self) -> None:
        s = self.session
        done = [s.data is not None, s.anomaly is not None, s.layout is not None and s.data is not None,
                s.graph is not None, s.result is not None and not s.stale, s.outcome is not None,
                False]
        for i, title in enumerate(STEP_TITLES):
            mark = "  ✓" if done[i] else ""
            self.step_list.item(i).setText(f"{i + 1}   {title}{mark}")

    def _update_title(self) -> None:
        s = self.session
        name = s.path.name if s.path else "unsaved investigation"
        plant = f"{s.layout.name} — " if s.layout and s.layout.name else ""
        self.setWindowTitle(f"{plant}{name}[*] — rca_app")
        self.setWindowModified(s.dirty)

    # ================================================================== background jobs
    def start_job(self, title: str, fn, *args, on_success=None, cancellable: bool = True, kind: str = "",
                  **kwargs) -> Job | None:
        if self.job is not None:
            dialogs.show_info(self, "Busy", f"Please wait: {self.job.title.lower()} is still running "
                                            "(or cancel it first).")
            return None
        job = Job(title, fn, *args, cancellable=cancellable, parent=self, **kwargs)
        job.kind = kind
        job.progressChanged.connect(self._job_progress)
        job.statusChanged.connect(self._job_status)
        if on_success is not None:
            job.succeeded.connect(on_success)
        job.failed.connect(lambda exc, t=title: self._job_failed(t, exc))
        job.cancelled.connect(lambda t=title: self._job_status(f"{t}: cancelled. Nothing was changed."))
        job.finished.connect(lambda j=job: self._job_done(j))
        self.job = job
        self._job_started = time.perf_counter()
        self.progress.setValue(0)
        self.progress.setRange(0, 1000 if cancellable else 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(cancellable)
        self.cancel_button.setEnabled(True)
        self.act_cancel.setEnabled(cancellable)
        for a in (self.act_run, self.act_rediscover, self.act_open_data, self.act_open_inv, self.act_export):
            a.setEnabled(False)
        for b in (self.incident_step.run_button, self.graph_step.refit_button, self.graph_step.rediscover_button,
                  self.data_step.open_button):
            b.setEnabled(False)
        self._job_status(f"{title}…")
        job.start()
        return job

    def _job_progress(self, fraction: float) -> None:
        if self.progress.maximum() > 0:
            self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))

    def _job_status(self, text: str) -> None:
        self.status_text.setText(text[:1].upper() + text[1:] if text else "")

    def cancel_job(self) -> None:
        if self.job is not None and self.job.cancellable:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self._job_status(f"Cancelling {self.job.title.lower()}… (stops at the next checkpoint)")

    def _job_failed(self, title: str, exc: BaseException) -> None:
        if isinstance(exc, RcaInputError):
            self._job_status(f"{title}: stopped, the input has problems.")
            dialogs.show_problems(self, f"{title}: problems with the input",
                                  "The computation could not run. Please fix:", exc.problems)
        elif isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            self._job_status(f"{title}: failed.")
            dialogs.show_error(self, title, str(exc))
        else:
            self._job_status(f"{title}: failed unexpectedly.")
            dialogs.report_exception(self, exc, getattr(exc, "traceback_text", None), context=title.lower())

    def _job_done(self, job: Job) -> None:
        if self.job is not job:
            return
        self.job = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.act_cancel.setEnabled(False)
        for a in (self.act_run, self.act_rediscover, self.act_open_data, self.act_open_inv, self.act_export):
            a.setEnabled(True)
        self.data_step.open_button.setEnabled(True)
        self.incident_step.run_button.setEnabled(True)
        self.graph_step.refresh()
        outcome = job.outcome or "failed"
        kind = getattr(job, "kind", "")
        job.deleteLater()
        self.jobFinished.emit(job.title, outcome)
        if getattr(self, "_prepare_pending", False):
            self._prepare_pending = False
            QTimer.singleShot(0, self.prepare_data)
        if kind == "analysis":
            self.analysisFinished.emit(outcome)
        elif kind == "load":
            self.loadFinished.emit(outcome)

    def is_busy(self) -> bool:
        return self.job is not None

    # ================================================================== data files
    def open_data(self, path: str | None = None, then=None) -> bool:
        if path is None:
            path = dialogs.open_path(self, "Open sensor data", DATA_FILTER, self._last_folder())
        if not path:
            return False
        layout = self.session.layout
        options = {"gaps": self.session.load_options.get("gaps", "drop"),
                   "dayfirst": self.session.load_options.get("dayfirst")}

        def done(loaded: dict) -> None:
            self.session.set_loaded(loaded)
            self._remember(path)
            self._job_status(f"Opened {Path(path).name}: {loaded['raw'].n_rows:,} rows.")
            if then is not None:
                then(loaded)
            elif self.session.data is not None:
                self.incident_step.place_default_windows()
                self.go_to("incident")
            else:
                self.go_to("data" if self.session.layout is not None else "layout")

        return self.start_job(f"Opening {Path(path).name}", load_job, str(path), options, layout,
                              on_success=done, cancellable=False, kind="load") is not None

    def open_sample(self, name: str) -> bool:
        """A bundled sample plant with its layout and its incident (truth.json) preloaded."""
        from rca_app.core.layout import load_layout
        from rca_app.resources import sample_plant

        if not self.maybe_save():
            return False
        folder = sample_plant(name)
        try:
            layout = load_layout(folder / "layout.toml")
        except RcaInputError as e:
            dialogs.show_problems(self, "Sample plant", "The sample layout cannot be read:", e.problems)
            return False
        truth = {}
        try:
            truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        self.session.reset(layout)
        self.layout_step.undo_stack.clear()
        self.graph_step.reset_history()

        def done(_loaded) -> None:
            s = self.session
            an, ref = truth.get("anomaly"), truth.get("reference")
            if s.data is not None and an:
                s.set_windows([ref["start"], ref["end"]] if ref else None, [an["start"], an["end"]])
            else:
                self.incident_step.place_default_windows()
            s.set_dirty(False)
            self.go_to("incident")
            self._job_status(f"Sample plant '{name.replace('_', ' ')}' with its incident loaded: press F5 to find "
                             "the root causes.")

        return self.open_data(str(folder / "data.csv"), then=done)

    # ================================================================== analysis
    def run_analysis(self, rediscover: bool = False) -> bool:
        s = self.session
        try:
            inputs = s.analysis_inputs(rediscover)
        except RcaInputError as e:
            dialogs.show_problems(self, "Cannot run the analysis yet", "Before the analysis can run:", e.problems)
            return False
        refit = inputs["graph"] is not None
        title = "Refitting with the edited graph" if refit else "Finding root causes"
        self._rediscovering = not refit
        return self.start_job(title, analysis_job, inputs["data"], inputs["anomaly"], inputs["reference"],
                              inputs["settings"], graph=inputs["graph"], edits=inputs["edits"],
                              on_success=self._analysis_done, kind="analysis") is not None

    def _analysis_done(self, outcome) -> None:
        if getattr(self, "_rediscovering", False):
            self.graph_step.reset_history()
        self.session.set_outcome(outcome)
        r = self.session.result
        took = time.perf_counter() - self._job_started
        top = r["root_causes"][0]["node"] if r["root_causes"] else "none"
        self._job_status(f"Analysis done in {took:.1f} s. Most likely cause: {top}.")
        if self.current_step() in ("data", "incident", "layout"):
            self.go_to("causes")

    # ================================================================== saving and opening
    def save(self, save_as: bool = False) -> bool:
        s = self.session
        path = s.path
        if save_as or path is None:
            suggested = str(path or Path(self._last_folder()) / f"{_safe(s.layout.name if s.layout else 'investigation')}"
                                                                  f"{inv.FILE_SUFFIX}")
            chosen = dialogs.save_path(self, "Save investigation", INVESTIGATION_FILTER, suggested)
            if not chosen:
                return False
            path = Path(chosen)
            if path.suffix.lower() != inv.FILE_SUFFIX:
                path = path.with_name(path.name + inv.FILE_SUFFIX)
        try:
            inv.save_investigation(s.to_investigation(), path)
        except (OSError, TypeError, ValueError) as e:
            dialogs.show_error(self, "Not saved", f"The investigation could not be written to {path}:\n"
                                                  f"{getattr(e, 'strerror', None) or e}")
            return False
        s.path = Path(path)
        s.set_dirty(False)
        inv.discard_recovery(self.recovery_dir)
        self._remember(str(path))
        self._update_title()
        self._job_status(f"Saved {path}.")
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the engineer cancelled."""
        if not self.session.dirty:
            return True
        answer = dialogs.ask(self, "Unsaved changes", "This investigation has changes that are not saved. "
                             "Save them first?", ("save", "discard", "cancel"), default="save")
        if answer == "save":
            return self.save()
        return answer == "discard"

    def open_investigation(self, path: str | None = None) -> bool:
        if not self.maybe_save():
            return False
        if path is None:
            path = dialogs.open_path(self, "Open investigation", INVESTIGATION_FILTER, self._last_folder())
        if not path:
            return False
        try:
            saved = inv.load_investigation(path)
        except RcaInputError as e:
            dialogs.show_problems(self, "Investigation not opened", f"{Path(path).name} cannot be opened:", e.problems)
            return False
        self._remember(str(path))
        return self.restore_investigation(saved, Path(path))

    def restore_investigation(self, saved: inv.Investigation, path: Path | None, dirty: bool = False) -> bool:
        """Find the investigation's data file (explaining a moved or changed one), read it, and
        put the saved state back."""
        from rca_app.core.layout import parse_layout

        layout = None
        if saved.layout_toml:
            try:
                layout = parse_layout(saved.layout_toml, saved.layout_source)
            except RcaInputError as e:
                dialogs.show_problems(self, "Investigation not opened", "Its layout is not valid:", e.problems)
                return False
        if saved.data is None:
            self._finish_restore(saved, None, path, dirty)
            return True
        check = inv.check_data_file(saved.data, path)
        while not check.usable:
            buttons = ("locate", "open_without_data", "cancel")
            if check.status == "changed":
                buttons = ("locate", "use_changed_file", "open_without_data", "cancel")
            answer = dialogs.ask(self, "Data file " + ("changed" if check.status == "changed" else "not found"),
                                 check.message, buttons, default="locate")
            if answer == "locate":
                found = dialogs.open_path(self, f"Locate {saved.data.file_name}", DATA_FILTER)
                if not found:
                    continue
                check = inv.check_data_file(saved.data, candidate=found)
            elif answer == "use_changed_file":
                # Explicitly chosen: the saved results described other data, so they are dropped.
                saved.result, saved.graph, saved.graph_edits, saved.result_stale = None, None, [], False
                check = inv.DataFileCheck("ok", check.path, "", saved.data.sha256, check.actual_sha256)
                break
            elif answer == "open_without_data":
                self._finish_restore(saved, None, path, dirty)
                return True
            else:
                return False
        if check.status == "moved":
            dialogs.show_info(self, "Data file moved", check.message + " It will be used from there.")
        options = {k: getattr(saved.data, k) for k in ("sheet", "sep", "decimal", "dayfirst", "gaps")}

        def done(loaded: dict) -> None:
            self._finish_restore(saved, loaded, path, dirty or check.status == "moved")

        self.session.reset(layout)
        return self.start_job(f"Opening {check.path.name}", load_job, str(check.path), options, layout,
                              on_success=done, cancellable=False, kind="load") is not None

    def _finish_restore(self, saved: inv.Investigation, loaded: dict | None, path: Path | None, dirty: bool) -> None:
        self.layout_step.undo_stack.clear()
        self.graph_step.reset_history()
        self.session.restore(saved, loaded, path)
        self.incident_step.sync_preset()
        if dirty:
            self.session.set_dirty(True)
        self._update_title()
        self.go_to(min(max(saved.step, 0), len(STEPS) - 1))
        self._job_status(f"Opened {path.name if path else 'the recovered investigation'}." +
                         ("" if loaded is not None or saved.data is None else " (without its data file)"))

    # ------------------------------------------------------------------ autosave and recovery
    def autosave(self) -> Path | None:
        s = self.session
        if not s.dirty or (s.raw is None and s.layout is None):
            return None
        try:
            return inv.write_recovery(s.to_investigation(), self.recovery_dir, s.path)
        except (OSError, TypeError, ValueError):
            return None   # autosave is a safety net; a failure must not interrupt the work

    def check_recovery(self) -> bool:
        """Offer the investigation autosaved before a crash, if there is one."""
        found = inv.read_recovery(self.recovery_dir)
        if found is None:
            return False
        saved, original = found
        when = saved.saved_at or "an unknown time"
        what = f" (last saved as {original})" if original else ""
        answer = dialogs.ask(self, "Recover unsaved work?",
                             f"rca_app did not close properly last time. An investigation{what} was autosaved at "
                             f"{when}. Recover it?", ("recover", "discard"), default="recover")
        if answer != "recover":
            inv.discard_recovery(self.recovery_dir)
            return False
        return self.restore_investigation(saved, Path(original) if original else None, dirty=True)

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
                                 str(Path(self._last_folder()) / f"{_safe(s.layout.name)}_report.pdf"))
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
            self._job_status(f"Report written to {path}.")

        return self.start_job("Writing the report", report_job, s.result, s.data, path, notes, author,
                              on_success=done, cancellable=False, kind="report") is not None

    def export_json(self) -> bool:
        s = self.session
        if s.result is None:
            return False
        path = dialogs.save_path(self, "Export results as JSON", "JSON (*.json)",
                                 str(Path(self._last_folder()) / f"{_safe(s.layout.name)}_result.json"))
        if not path:
            return False
        try:
            inv.atomic_write_text(path, json.dumps(s.result, indent=1, default=inv._json_default) + "\n")
        except OSError as e:
            dialogs.show_error(self, "Not exported", f"Could not write {path}: {e.strerror or e}")
            return False
        self._job_status(f"Results written to {path}.")
        return True

    # ================================================================== help
    def show_glossary(self) -> None:
        terms = [("Reference period", glossary.REFERENCE), ("Incident window", glossary.ANOMALY),
                 ("Causal graph", glossary.GRAPH), ("Arrow width", glossary.EDGE_WIDTH),
                 ("Confidence", glossary.CONFIDENCE), ("Mechanism", glossary.MECHANISM),
                 ("Out-of-fold R²", glossary.OOF_R2), ("Restoration", glossary.RESTORATION),
                 ("90% interval", glossary.RESTORATION_CI), ("Ranked first", glossary.RANKED_FIRST),
                 ("What-if", glossary.WHAT_IF), ("Exogenous", glossary.EXOGENOUS),
                 ("Controllable", glossary.CONTROLLABLE)]
        text = "\n\n".join(f"{t}\n{d}" for t, d in terms)
        dialogs.show_info(self, "What the terms mean", text)

    def show_about(self) -> None:
        import rca_app

        dialogs.show_info(self, "About rca_app",
                          f"rca_app {rca_app.__version__}\nFind why a production line's yield dropped: causal "
                          "root-cause analysis on the plant's layout.")

    # ================================================================== recent files, drops
    def _remember(self, path: str) -> None:
        recent = [p for p in self.recent_files() if p != str(path)]
        recent.insert(0, str(path))
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self.settings.setValue("last_folder", str(Path(path).parent))

    def recent_files(self) -> list[str]:
        v = self.settings.value("recent", [])
        if isinstance(v, str):
            v = [v]
        return [str(p) for p in (v or [])]

    def _last_folder(self) -> str:
        return str(self.settings.value("last_folder", "") or "")

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        if not files:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        for p in files:
            act = self.recent_menu.addAction(p)
            act.setEnabled(Path(p).exists())
            act.triggered.connect(lambda _=False, f=p: self.open_path(f))

    def open_path(self, path: str) -> bool:
        suffix = Path(path).suffix.lower()
        if suffix == inv.FILE_SUFFIX:
            return self.open_investigation(path)
        if suffix == ".toml":
            self.go_to("layout")
            return self.layout_step.open_layout(path)
        return self.open_data(path)

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and Path(urls[0].toLocalFile()).suffix.lower() in DATA_SUFFIXES | {inv.FILE_SUFFIX, ".toml"}:
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
        if self.job is not None:
            # Stop the computation and wait for its thread; the core checks the flag often.
            self._job_status("Stopping the running computation…")
            self.job.cancel()
            self.job.wait()
        self.autosave_timer.stop()
        self.settings.setValue("geometry", self.saveGeometry())
        inv.discard_recovery(self.recovery_dir)
        event.accept()


def _default_recovery_dir() -> Path:
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".rca_app") / "recovery"


def _safe(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in (name or "investigation"))
    return keep.strip("_")[:60] or "investigation"


def _app_icon() -> QIcon | None:
    from rca_app.resources import resource_path

    path = resource_path("icons", "rca_app.svg")
    return QIcon(str(path)) if path.exists() else None


# Kept for callers that want to open a folder after an export.
def open_folder(path: str) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))

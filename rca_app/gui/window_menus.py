"""The main window's menus: their actions and shortcuts, and the commands only a menu reaches
(sample plants, recent files, the compute server, help).

They change together when a command is added or moved; the steps' own wiring, the background
jobs and the files stay in :mod:`rca_app.gui.main_window`. :class:`WindowMenus` is ``MainWindow``'s
base, so the actions stay the window's attributes (``window.act_run``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from rca_app.app.sample_plants import sample_plant_names
from rca_app.app.session import STEPS
from rca_app.gui import dialogs, glossary

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QUndoGroup

    from rca_app.gui.job_runner import JobRunner
    from rca_app.gui.recent_files import RecentFiles
    from rca_app.gui.steps.data_step import DataStep
    from rca_app.gui.steps.layout_step import LayoutStep

STEP_TITLES = ("Data", "Incident", "Layout", "Causal graph", "Root causes", "What-if", "Verify the fix", "Report")
# The window's pages: the session's steps, with "Verify the fix" after the what-if. The session
# (and the investigation file) count the session's steps; verify is saved as the what-if.
WINDOW_STEPS = STEPS[:6] + ("verify",) + STEPS[6:]


class WindowMenus(QMainWindow):
    """The menu bar of the main window and the commands behind its menus.

    The base of :class:`rca_app.gui.main_window.MainWindow`, which provides the steps, jobs and
    file commands the actions call (declared below for the type checker).
    """

    if TYPE_CHECKING:
        settings: QSettings
        recent: RecentFiles
        jobs: JobRunner
        undo_group: QUndoGroup
        data_step: DataStep
        layout_step: LayoutStep

        def open_data(self, path: str | None = None, then=None) -> bool: ...
        def open_sample(self, name: str) -> bool: ...
        def open_investigation(self, path: str | None = None) -> bool: ...
        def open_path(self, path: str) -> bool: ...
        def save(self, save_as: bool = False) -> bool: ...
        def export_report(self) -> bool: ...
        def export_json(self) -> bool: ...
        def run_analysis(self, rediscover: bool = False) -> bool: ...
        def go_to(self, step: int | str) -> None: ...

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
        self.act_cancel = self._action("Cancel", self.jobs.cancel, "Esc")
        self.act_cancel.setEnabled(False)
        self.act_undo = self.undo_group.createUndoAction(self, "Undo")
        self.act_undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.act_redo = self.undo_group.createRedoAction(self, "Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        self.addAction(self.act_undo)
        self.addAction(self.act_redo)
        self.step_actions = []
        for i, title in enumerate(STEP_TITLES):
            self.step_actions.append(self._action(f"&{i + 1} {title}", lambda i=i: self.go_to(WINDOW_STEPS[i]),
                                                  f"Ctrl+{i + 1}"))

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
        a.addSeparator()
        a.addAction(self._action("Compute server…", self.choose_compute_server))
        v = bar.addMenu("&View")
        for act in self.step_actions:
            v.addAction(act)
        h = bar.addMenu("&Help")
        h.addAction(self._action("What do these terms mean?", self.show_glossary, "F1"))
        h.addAction(self._action("About rca_app", self.show_about))
        self.data_step.samples_button.setMenu(self._samples_menu_copy())

    def _fill_samples(self, menu: QMenu) -> None:
        names = sample_plant_names()
        for name in names:
            act = menu.addAction(name.replace("_", " "))
            act.triggered.connect(lambda _=False, n=name: self.open_sample(n))
        if not names:
            menu.addAction("(no sample plants installed)").setEnabled(False)

    def _samples_menu_copy(self) -> QMenu:
        menu = QMenu(self)
        self._fill_samples(menu)
        return menu

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

    def compute_server(self) -> str:
        """The Dask scheduler address the analysis runs on ("" for this computer's cores)."""
        return str(self.settings.value("compute/scheduler", "") or "").strip()

    def choose_compute_server(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(
            self, "Compute server",
            "Dask scheduler address (tcp://host:8786) for the resamples and refits.\n"
            "Leave empty to use this computer's cores. Results are the same either way.",
            text=self.compute_server())
        if ok:
            self.settings.setValue("compute/scheduler", text.strip())
            where = text.strip() or "this computer"
            self.jobs.show_status(f"Analyses will run on {where}.")

    def show_about(self) -> None:
        import rca_app

        dialogs.show_info(self, "About rca_app",
                          f"rca_app {rca_app.__version__}\nFind why a production line's yield dropped: causal "
                          "root-cause analysis on the plant's layout.")

    # ================================================================== recent files
    def recent_files(self) -> list[str]:
        return self.recent.files()

    def _fill_recent(self) -> None:
        self.recent.fill_menu(self.recent_menu, self.open_path)

"""Step 1, Data: the table as read, a per-column summary and every problem found."""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rca_app.app.data_view import TAG_COLUMNS, problem_cell, tag_rows
from rca_app.gui import glossary
from rca_app.gui.models import DataFrameModel, ProblemsModel, SummaryModel
from rca_app.gui.session import Session
from rca_app.gui.widgets import Banner, StepHeader

_MAX_MARKED = 500   # problem cells highlighted in the preview (the list shows them all)


class DataStep(QWidget):
    openRequested = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("1  Data", glossary.STEP_HELP["data"]))

        bar = QHBoxLayout()
        self.open_button = QPushButton("Open data file…")
        self.open_button.setToolTip("Open a CSV, Excel (.xlsx) or Parquet file (Ctrl+O). "
                                    "You can also drop a file on the window.")
        self.open_button.clicked.connect(self.openRequested)
        bar.addWidget(self.open_button)
        self.samples_button = QToolButton()
        self.samples_button.setText("Sample plants")
        self.samples_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(self.samples_button)
        bar.addSpacing(16)
        bar.addWidget(QLabel("Sensor gaps:"))
        self.gaps = QComboBox()
        self.gaps.addItem("drop the row", "drop")
        self.gaps.addItem("fill in (interpolate)", "impute")
        self.gaps.setToolTip("Rows with a missing sensor value are dropped, or the gap is interpolated in time order. "
                             "Rows without a KPI value are always dropped.")
        self.gaps.currentIndexChanged.connect(self._options_changed)
        bar.addWidget(self.gaps)
        bar.addWidget(QLabel("Dates:"))
        self.dayfirst = QComboBox()
        self.dayfirst.addItem("detect", None)
        self.dayfirst.addItem("day first (31.12.)", True)
        self.dayfirst.addItem("month first (12/31)", False)
        self.dayfirst.setToolTip("How to read dates such as 03/04/2024 when the file does not make it clear.")
        self.dayfirst.currentIndexChanged.connect(self._options_changed)
        bar.addWidget(self.dayfirst)
        bar.addStretch(1)
        lay.addLayout(bar)

        self.file_info = QLabel("No data file open.")
        self.file_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_info.setWordWrap(True)
        lay.addWidget(self.file_info)
        self.banner = Banner()
        lay.addWidget(self.banner)

        self.preview_model = DataFrameModel(self)
        self.preview = QTableView()
        self.preview.setModel(self.preview_model)
        self.preview.setAlternatingRowColors(True)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.preview.horizontalHeader().setDefaultSectionSize(110)
        self.preview.setToolTip("The file as read. Row numbers are the spreadsheet's (header = row 1). "
                                "Yellow: missing value; red: a problem (hover for it).")
        self.summary_model = SummaryModel(self)
        self.summary = QTableView()
        self.summary.setModel(self.summary_model)
        self.summary.verticalHeader().setVisible(False)
        self.summary.verticalHeader().setDefaultSectionSize(22)
        self.summary.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.summary.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.summary.clicked.connect(self._summary_clicked)

        top = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(QLabel("<b>Preview</b>"))
        ll.addWidget(self.preview)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("<b>Columns</b>"))
        rl.addWidget(self.summary, 2)
        # A historian long export: how each tag went onto the grid (rule, bad samples, delay).
        self.tags_title = QLabel()
        self.tags = QTableWidget(0, len(TAG_COLUMNS))
        self.tags.setHorizontalHeaderLabels(list(TAG_COLUMNS))
        self.tags.verticalHeader().setVisible(False)
        self.tags.verticalHeader().setDefaultSectionSize(22)
        self.tags.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tags.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tags.setToolTip("The historian export as pivoted onto the analysis grid: the rule per tag, samples "
                             "flagged bad quality or carrying a status text (treated as missing, never as "
                             "numbers), the median sampling interval and the timestamp delay (lab values).")
        rl.addWidget(self.tags_title)
        rl.addWidget(self.tags, 1)
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 1)

        self.problems_model = ProblemsModel(self)
        self.problems = QTableView()
        self.problems.setModel(self.problems_model)
        self.problems.verticalHeader().setVisible(False)
        self.problems.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.problems.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.problems.setWordWrap(True)
        h = self.problems.horizontalHeader()
        for c in range(4):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        h.setStretchLastSection(True)
        self.problems.clicked.connect(self.select_problem)
        self.problems_title = QLabel("<b>Problems</b>")
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.problems_title)
        bl.addWidget(self.problems)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        session.rawChanged.connect(self.refresh)
        session.problemsChanged.connect(self.refresh_problems)
        session.layoutChanged.connect(self.refresh_summary)
        session.dataChanged.connect(self.refresh_tags)
        session.dataChanged.connect(self.refresh_summary)     # a historian export: per-tag summary
        self.refresh()

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        s = self.session
        raw = s.raw
        self._set_combo(self.gaps, s.load_options.get("gaps", "drop"))
        self._set_combo(self.dayfirst, s.load_options.get("dayfirst"))
        if raw is None:
            self.preview_model.set_frame(None)
            self.file_info.setText("No data file open. Open one (Ctrl+O), drop it on the window, "
                                   "or try a sample plant.")
        else:
            self.preview_model.set_frame(raw.frame, raw.source_rows)
            # Widths from the first rows only: measuring 100k rows would freeze the window.
            self.preview.horizontalHeader().setResizeContentsPrecision(40)
            self.preview.resizeColumnsToContents()
            sheet = f", sheet '{raw.sheet}'" if raw.sheet else ""
            self.file_info.setText(
                f"<b>{raw.file_name}</b>{sheet}: {raw.n_rows:,} rows × {len(raw.frame.columns)} columns, "
                f"{raw.size_bytes:,} bytes. <span style='color:#666'>Content fingerprint (SHA-256) "
                f"{raw.sha256[:16]}…  Path: {s.data_path}</span>")
        self.refresh_summary()
        self.refresh_problems()
        self.refresh_tags()

    def refresh_summary(self) -> None:
        s = self.session
        if s.raw is None:
            self.summary_model.set_summary([])
            return
        roles = {}
        if s.layout is not None:
            roles[s.layout.target] = "KPI"
            if s.layout.time_column:
                roles[s.layout.time_column] = "time"
        summary = s.raw.summary()
        if getattr(s.data, "tag_reports", None):
            # A historian export's raw columns are tag, time, value, quality: "Value min -9999"
            # across every tag says nothing. Summarise each tag on the analysis grid instead.
            from rca_app.core.data.summary import summarize_column

            frame = s.data.frame
            summary = [summarize_column(c, frame[c], 0, ".") for c in frame.columns]
        self.summary_model.set_summary(summary, s.layout.units if s.layout else {}, roles)

    def refresh_tags(self) -> None:
        data = self.session.data
        reports = list(getattr(data, "tag_reports", None) or []) if data is not None else []
        rows = tag_rows(reports)
        self.tags.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                item = QTableWidgetItem(text)
                if j == 3 and reports[i].bad_quality:
                    item.setForeground(QBrush(QColor("#8a5a00")))
                self.tags.setItem(i, j, item)
        bad = sum(t.bad_quality for t in reports)
        self.tags_title.setText(f"<b>Historian tags</b>: {len(reports)} tags on a {data.sample} grid, {bad:,} "
                                "bad-quality samples left out" if reports else "")
        self.tags_title.setVisible(bool(reports))
        self.tags.setVisible(bool(reports))

    def refresh_problems(self) -> None:
        s = self.session
        problems = sorted(s.problems, key=lambda p: p.severity != "error")   # errors first, stable
        if s.raw is not None:
            from rca_app.core.historian import detect_long_format

            long_cols = detect_long_format([str(c) for c in s.raw.frame.columns])
            if long_cols is not None and long_cols.quality:
                # "Bad" in a historian export's quality column is what the column is for: the
                # per-tag lines say how many samples it left out, so it is no problem of its own.
                problems = [p for p in problems if p.severity == "error" or p.column != long_cols.quality]
        self.problems_model.set_problems(problems)
        n_err = sum(p.severity == "error" for p in problems)
        n_warn = len(problems) - n_err
        self.problems_title.setText(f"<b>Problems</b> ({n_err} errors, {n_warn} warnings)" if problems
                                    else "<b>Problems</b> (none found)")
        marks = {}
        if s.raw is not None:
            for p in problems[:_MAX_MARKED]:
                if p.column is None or p.row is None or (p.file and p.file != s.raw.file_name):
                    continue
                r, c = problem_cell(s.raw, p)
                if r is not None and c is not None:
                    marks[(r, c)] = str(p)
        self.preview_model.set_marks(marks)
        if s.raw is not None and s.layout is not None and s.data is None:
            self.banner.show_message(
                f"The table does not fit the layout yet ({n_err} errors below). Fix the file or the "
                "layout (step 3) before running the analysis.", "error")
        elif s.data is not None:
            n_drop = s.data.n_dropped
            drop = (f"; {n_drop:,} row{'s' if n_drop != 1 else ''} dropped (a missing value; see Sensor gaps)"
                    if n_drop else "")
            reports = getattr(s.data, "tag_reports", None) or []
            grid = (f" of the {s.data.sample} grid, pivoted from {sum(t.samples for t in reports):,} historian "
                    "samples," if reports else "")
            self.banner.show_message(f"Ready: {s.data.n_rows:,} rows{grid} used for the analysis{drop}.", "ok")
        elif s.raw is not None:
            self.banner.show_message("Now describe the line in step 3 (Layout): which column is the KPI, "
                                     "and which station each sensor belongs to.", "info")
        else:
            self.banner.clear()

    @staticmethod
    def _set_combo(combo: QComboBox, value) -> None:
        i = combo.findData(value)
        if i >= 0 and i != combo.currentIndex():
            combo.blockSignals(True)
            combo.setCurrentIndex(i)
            combo.blockSignals(False)

    # ------------------------------------------------------------------ actions
    def _options_changed(self) -> None:
        s = self.session
        gaps, dayfirst = self.gaps.currentData(), self.dayfirst.currentData()
        if s.load_options.get("gaps") == gaps and s.load_options.get("dayfirst") == dayfirst:
            return
        s.load_options["dayfirst"] = dayfirst
        s.set_load_option("gaps", gaps)

    def select_problem(self, index) -> None:
        """Select the cell a problem points at (its column when it names no row)."""
        s = self.session
        if s.raw is None or not index.isValid():
            return
        p = self.problems_model.problems[index.row()]
        r, c = problem_cell(s.raw, p)
        sel = self.preview.selectionModel()
        if r is not None and c is not None:
            idx = self.preview_model.index(r, c)
            self.preview.setCurrentIndex(idx)
            sel.select(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.preview.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
        elif c is not None:
            self.preview.selectColumn(c)
            self.preview.scrollTo(self.preview_model.index(0, c))
        elif r is not None:
            self.preview.selectRow(r)
            self.preview.scrollTo(self.preview_model.index(r, 0), QAbstractItemView.ScrollHint.PositionAtCenter)

    def _summary_clicked(self, index) -> None:
        if index.isValid():
            name = self.summary_model.data(self.summary_model.index(index.row(), 0))
            cols = self.preview_model.column_names()
            if name in cols:
                c = cols.index(name)
                top = max(self.preview.rowAt(0), 0)
                self.preview.scrollTo(self.preview_model.index(top, c))
                self.preview.selectColumn(c)

"""Step 7, Report: the engineer's notes and the PDF export (rca_app.report, when installed)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rca_app.gui import glossary
from rca_app.gui.session import Session
from rca_app.gui.widgets import Banner, StepHeader

# Note fields passed to build_report(notes=...): key -> (label, placeholder).
NOTE_FIELDS = {
    "team": ("Team", "Who worked on this (names, roles)"),
    "containment": ("Containment actions", "What was done to protect the customer: parts held, lots sorted, …"),
    "corrective_action": ("Corrective actions", "What will prevent it happening again, who, by when"),
    "comments": ("Comments", "Anything else the reader should know"),
}


def report_available() -> tuple[bool, str]:
    """Whether the PDF report module can be used here, and why not."""
    try:
        import rca_app.report as report
        from rca_app.report import build_report  # noqa: F401
    except ImportError as e:
        return False, (f"PDF export is not available in this installation: the report module could not be "
                       f"loaded ({e}). Your notes are still saved with the investigation (Ctrl+S).")
    check = getattr(report, "report_available", None)
    if check is not None:
        ok, why = check()
        if not ok:
            return False, f"PDF export is not available: {why}. Your notes are still saved with the investigation."
    return True, ""


class ReportStep(QWidget):
    exportRequested = Signal()
    jsonRequested = Signal()

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self._loading = False
        lay = QVBoxLayout(self)
        lay.addWidget(StepHeader("8  Report", glossary.STEP_HELP["report"]))
        self.banner = Banner()
        lay.addWidget(self.banner)
        self.findings = QLabel()
        self.findings.setWordWrap(True)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings.setToolTip("What the report will state (from the last analysis)")
        lay.addWidget(self.findings)
        form = QFormLayout()
        self.author = QLineEdit()
        self.author.setPlaceholderText("Your name (printed on the report)")
        self.author.textChanged.connect(self._changed)
        form.addRow("Author:", self.author)
        self.fields: dict[str, QPlainTextEdit] = {}
        for key, (label, placeholder) in NOTE_FIELDS.items():
            edit = QPlainTextEdit()
            edit.setPlaceholderText(placeholder)
            edit.setTabChangesFocus(True)
            edit.setMinimumHeight(70)
            edit.textChanged.connect(self._changed)
            self.fields[key] = edit
            form.addRow(label + ":", edit)
        lay.addLayout(form, 1)
        row = QHBoxLayout()
        self.json_button = QPushButton("Export results as JSON…")
        self.json_button.clicked.connect(self.jsonRequested)
        self.export_button = QPushButton("Export PDF report…  (Ctrl+E)")
        f = QFont(self.export_button.font())
        f.setBold(True)
        self.export_button.setFont(f)
        self.export_button.setMinimumHeight(32)
        self.export_button.clicked.connect(self.exportRequested)
        row.addStretch(1)
        row.addWidget(self.json_button)
        row.addWidget(self.export_button)
        lay.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)
        session.resultChanged.connect(self.refresh)
        session.staleChanged.connect(lambda _s: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        s = self.session
        self._loading = True
        try:
            self.author.setText(s.notes.get("author", ""))
            for key, edit in self.fields.items():
                if edit.toPlainText() != s.notes.get(key, ""):
                    edit.setPlainText(s.notes.get(key, ""))
        finally:
            self._loading = False
        ok, why = report_available()
        has = s.result is not None
        self.findings.setText(self._findings() if has else "")
        self.export_button.setEnabled(ok and has)
        self.json_button.setEnabled(has)
        if not ok:
            self.banner.show_message(why, "error")
        elif not has:
            self.banner.show_message("Run the analysis first (F5): the report presents its results.", "info")
        elif s.stale:
            self.banner.show_message("The inputs changed after the last run: the report would show the previous "
                                     "results. Press F5 first to update them.", "warn")
        elif s.data is None:
            self.banner.show_message("The data file is not loaded, so the report cannot draw its charts.", "warn")
            self.export_button.setEnabled(False)
        else:
            self.banner.clear()

    def _findings(self) -> str:
        from rca_app.app.formatting import fmt_number, fmt_pct
        from rca_app.gui.steps.causes_step import headline

        r = self.session.result
        text = "<b>Findings</b><br>" + headline(r, self.session.unit)
        acts = [a for a in r.actions if not a.cancelled_by]   # never one a controller would cancel
        if acts:
            a = acts[0]
            text += (f"<br>Best setpoint action: {a.node} at {fmt_number(a.recommended_value)} "
                     f"{self.session.unit(a.node)} (restores {fmt_pct(a.restoration)} of the loss).")
        return text

    def notes(self) -> dict:
        out = {k: e.toPlainText().strip() for k, e in self.fields.items()}
        return {k: v for k, v in out.items() if v}

    def _changed(self) -> None:
        if self._loading:
            return
        notes = self.notes()
        author = self.author.text().strip()
        if author:
            notes["author"] = author
        self.session.set_notes(notes)

"""Message boxes, error reports and file pickers, with one test hook.

Every modal question in the app goes through this module, so tests answer them by setting
``set_test_hook`` instead of blocking on a dialog (and can assert what was shown)."""
from __future__ import annotations

import logging
import platform
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger("rca_app.gui")


@dataclass
class Shown:
    """What a dialog would have shown (for tests)."""

    kind: str                     # "error", "problems", "info", "ask", "exception", "open", "save"
    title: str
    text: str
    details: str = ""
    buttons: tuple = ()
    extra: dict = field(default_factory=dict)


# A callable taking a Shown and returning the answer (button name or path); None: real dialogs.
_hook: Callable[[Shown], object] | None = None


def set_test_hook(hook: Callable[[Shown], object] | None) -> None:
    global _hook
    _hook = hook


def _problem_lines(problems) -> str:
    lines = []
    for p in problems:
        where = p.where() if hasattr(p, "where") else ""
        sev = "" if getattr(p, "severity", "error") == "error" else f"{p.severity}: "
        lines.append(f"• {sev}{where + ': ' if where else ''}{p.message if hasattr(p, 'message') else p}")
    return "\n".join(lines)


def show_problems(parent: QWidget | None, title: str, intro: str, problems) -> None:
    """A readable list of input problems (each with file, column and row)."""
    problems = list(problems)
    text = intro + "\n\n" + _problem_lines(problems[:12])
    if len(problems) > 12:
        text += f"\n… and {len(problems) - 12} more (all listed below)."
    details = _problem_lines(problems) if len(problems) > 12 else ""
    if _hook is not None:
        _hook(Shown("problems", title, text, details, extra={"problems": problems}))
        return
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def show_error(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    if _hook is not None:
        _hook(Shown("error", title, text, details))
        return
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def show_info(parent: QWidget | None, title: str, text: str) -> None:
    if _hook is not None:
        _hook(Shown("info", title, text))
        return
    QMessageBox.information(parent, title, text)


def ask(parent: QWidget | None, title: str, text: str, buttons: tuple[str, ...], default: str | None = None,
        details: str = "") -> str:
    """A question with named buttons; returns the chosen name ("cancel" when closed)."""
    if _hook is not None:
        answer = _hook(Shown("ask", title, text, details, tuple(buttons)))
        return str(answer) if answer is not None else (default or buttons[-1])
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, parent)
    if details:
        box.setInformativeText(details)
    made = {}
    roles = {"cancel": QMessageBox.ButtonRole.RejectRole, "discard": QMessageBox.ButtonRole.DestructiveRole}
    for name in buttons:
        b = box.addButton(name.capitalize().replace("_", " "), roles.get(name, QMessageBox.ButtonRole.AcceptRole))
        made[b] = name
        if name == default:
            box.setDefaultButton(b)
    box.exec()
    return made.get(box.clickedButton(), "cancel")


def open_path(parent: QWidget | None, caption: str, filters: str, folder: str = "") -> str | None:
    if _hook is not None:
        answer = _hook(Shown("open", caption, filters))
        return str(answer) if answer else None
    path, _ = QFileDialog.getOpenFileName(parent, caption, folder, filters)
    return path or None


def save_path(parent: QWidget | None, caption: str, filters: str, suggested: str = "") -> str | None:
    if _hook is not None:
        answer = _hook(Shown("save", caption, filters, extra={"suggested": suggested}))
        return str(answer) if answer else None
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, filters)
    return path or None


# ------------------------------------------------------------------------------------------
# Unexpected errors: logged to a file, shown with a "Copy details" button, never fatal.
# ------------------------------------------------------------------------------------------
def log_file() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    folder = Path(base) / "logs" if base else Path(tempfile.gettempdir()) / "rca_app_logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    return folder / "rca_app_gui_error.log"


def _environment() -> str:
    import rca_app

    return (f"rca_app {rca_app.__version__}, Python {platform.python_version()}, "
            f"{platform.platform()}, Qt platform {QGuiApplication.platformName()}")


def report_exception(parent: QWidget | None, exc: BaseException, tb_text: str | None = None,
                     context: str = "") -> Path | None:
    """Log an unexpected exception and show it with the details an engineer can pass on."""
    tb_text = tb_text or "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    details = f"{context}\n{_environment()}\n\n{tb_text}".strip()
    path = None
    try:
        path = log_file()
        with open(path, "a", encoding="utf-8") as f:
            f.write(details + "\n\n")
    except OSError:
        log.exception("could not write the error log")
    text = (f"Something went wrong inside rca_app{(' while ' + context) if context else ''}:\n"
            f"{type(exc).__name__}: {exc}\n\nYour work is still open. "
            + (f"Details were written to {path}." if path else ""))
    if _hook is not None:
        _hook(Shown("exception", "Unexpected error", text, details))
        return path
    ErrorDialog(parent, text, details).exec()
    return path


class ErrorDialog(QDialog):
    """An unexpected error: what happened in one sentence, the details folded, a copy button."""

    def __init__(self, parent: QWidget | None, text: str, details: str):
        super().__init__(parent)
        self.setWindowTitle("Unexpected error")
        self.details = details
        lay = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(label)
        box = QPlainTextEdit(details)
        box.setReadOnly(True)
        box.setVisible(False)
        box.setMinimumHeight(220)
        lay.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.clicked.connect(self.copy_details)
        show = QPushButton("Show details")
        show.setCheckable(True)
        show.toggled.connect(box.setVisible)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(show, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)
        self.resize(560, 200)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)


def install_excepthook(get_parent: Callable[[], QWidget | None]) -> None:
    """Route uncaught exceptions (in slots and event handlers) to the error dialog."""
    busy = {"on": False}

    def hook(etype, value, tb):
        if issubclass(etype, KeyboardInterrupt):
            sys.__excepthook__(etype, value, tb)
            return
        text = "".join(traceback.format_exception(etype, value, tb))
        log.error("uncaught exception\n%s", text)
        if busy["on"]:   # an error while showing an error: do not loop
            sys.__excepthook__(etype, value, tb)
            return
        busy["on"] = True
        try:
            report_exception(get_parent(), value, text)
        finally:
            busy["on"] = False

    sys.excepthook = hook

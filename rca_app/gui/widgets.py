"""Small shared widgets and chart settings."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

REFERENCE_COLOR = QColor(46, 139, 87)     # green: normal production
ANOMALY_COLOR = QColor(200, 55, 45)       # red: the incident
KPI_COLOR = QColor(30, 30, 30)
PREDICTED_COLOR = QColor(47, 109, 181)

_configured = False


def configure_charts() -> None:
    """White charts with dark text (readable on projectors and in screenshots)."""
    global _configured
    if not _configured:
        pg.setConfigOptions(antialias=True, background="w", foreground="#222222")
        _configured = True


def with_alpha(color: QColor, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def time_axis() -> pg.DateAxisItem:
    # Naive timestamps are placed as UTC seconds (investigation.axis_values), so show UTC.
    return pg.DateAxisItem(orientation="bottom", utcOffset=0)


def plot_widget(title: str = "", time: bool = False) -> pg.PlotWidget:
    configure_charts()
    axis = {"bottom": time_axis()} if time else {}
    w = pg.PlotWidget(axisItems=axis)
    if title:
        w.setTitle(title, size="10pt")
    w.showGrid(x=True, y=True, alpha=0.15)
    w.setMinimumHeight(150)
    return w


class StepHeader(QWidget):
    """Title and one sentence of what to do on this step."""

    def __init__(self, title: str, help_text: str, parent=None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 4)
        lay.setSpacing(2)
        t = QLabel(title)
        f = QFont(t.font())
        f.setPointSizeF(f.pointSizeF() * 1.35)
        f.setBold(True)
        t.setFont(f)
        h = QLabel(help_text)
        h.setWordWrap(True)
        h.setStyleSheet("color: #444;")
        lay.addWidget(t)
        lay.addWidget(h)


class Banner(QFrame):
    """A coloured one-line message (stale results, warnings, missing modules)."""

    STYLES = {
        "info": "background:#e8f0fb; border:1px solid #9db8e0; color:#1b3a66;",
        "warn": "background:#fff4cc; border:1px solid #e0c060; color:#5a4300;",
        "error": "background:#fde2e0; border:1px solid #e09a94; color:#7a1a12;",
        "ok": "background:#e4f4e8; border:1px solid #8cc79a; color:#1d4d2a;",
    }

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.label, 1)
        self.setVisible(False)

    def show_message(self, text: str, kind: str = "info") -> None:
        self.setStyleSheet(f"Banner {{{self.STYLES[kind]} border-radius:3px;}} "
                           "QLabel {border:none; background:transparent;}")
        self.label.setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        self.label.setText("")
        self.setVisible(False)

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

"""Qt item models over the core's data (tables, summaries, problems, root causes)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from rca_app.app.formatting import fmt_number, fmt_pct
from rca_app.app.result_words import NOT_COMPUTED, no_restoration_text, restoration_range_text
from rca_app.gui import glossary

if TYPE_CHECKING:
    from rca_app.core.rootcause import RootCause

_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

MISSING_BG = QColor("#fff4cc")
PROBLEM_BG = QColor("#f8c9c4")


class DataFrameModel(QAbstractTableModel):
    """A read-only view of a DataFrame that formats only the cells on screen.

    Columns are kept as the frame's own arrays (numeric columns as numpy arrays, others as the
    pandas Series), so opening a 100k-row table creates no Python object per cell."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._cols: list = []
        self._kinds: list[str] = []
        self._n = 0
        self._row_numbers: np.ndarray | None = None
        self._marks: dict[tuple[int, int], str] = {}

    def set_frame(self, frame: pd.DataFrame | None, row_numbers=None) -> None:
        self.beginResetModel()
        self._marks = {}
        if frame is None:
            self._names, self._cols, self._kinds, self._n = [], [], [], 0
            self._row_numbers = None
        else:
            self._names = [str(c) for c in frame.columns]
            self._cols, self._kinds = [], []
            for c in frame.columns:
                s = frame[c]
                if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
                    self._cols.append(s.to_numpy(dtype=float, na_value=np.nan))
                    self._kinds.append("num")
                elif pd.api.types.is_datetime64_any_dtype(s.dtype):
                    self._cols.append(s)
                    self._kinds.append("time")
                else:
                    self._cols.append(s)
                    self._kinds.append("text")
            self._n = len(frame)
            self._row_numbers = None if row_numbers is None else np.asarray(row_numbers)
        self.endResetModel()

    def set_marks(self, marks: dict[tuple[int, int], str]) -> None:
        """Cells to highlight, with the problem text as tooltip."""
        self._marks = dict(marks)
        if self._n and self._names:
            self.dataChanged.emit(self.index(0, 0), self.index(self._n - 1, len(self._names) - 1))

    def column_names(self) -> list[str]:
        return list(self._names)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._n

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._names)

    def _value(self, r: int, c: int):
        col = self._cols[c]
        return col[r] if self._kinds[c] == "num" else col.iat[r]

    def data(self, index: QModelIndex, role=_DISPLAY):
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == _DISPLAY:
            v = self._value(r, c)
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
                return ""
            if self._kinds[c] == "num":
                return f"{v:.6g}"
            if self._kinds[c] == "time":
                return pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S")
            return str(v)
        if role == _BACKGROUND:
            if (r, c) in self._marks:
                return QBrush(PROBLEM_BG)
            v = self._value(r, c)
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT or \
                    (not isinstance(v, str) and pd.isna(v)):
                return QBrush(MISSING_BG)
            return None
        if role == _TOOLTIP:
            if (r, c) in self._marks:
                return self._marks[(r, c)]
            return None
        if role == _ALIGN and self._kinds[c] == "num":
            return _RIGHT
        return None

    def headerData(self, section: int, orientation, role=_DISPLAY):
        if role != _DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._names[section] if section < len(self._names) else None
        if self._row_numbers is not None and section < len(self._row_numbers):
            return str(int(self._row_numbers[section]))
        return str(section + 2)


class SummaryModel(QAbstractTableModel):
    """One row per column of the file: kind, unit, missing, min, max."""

    HEADERS = ("Column", "Type", "Unit", "Missing", "Min", "Max", "Distinct")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[dict] = []
        self._units: dict[str, str] = {}
        self._roles: dict[str, str] = {}

    def set_summary(self, summaries, units: dict[str, str] | None = None, roles: dict[str, str] | None = None) -> None:
        self.beginResetModel()
        self._rows = [s.to_dict() for s in summaries] if summaries else []
        self._units = dict(units or {})
        self._roles = dict(roles or {})
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: QModelIndex, role=_DISPLAY):
        if not index.isValid():
            return None
        s = self._rows[index.row()]
        c = index.column()
        if role == _DISPLAY:
            if c == 0:
                return s["name"]
            if c == 1:
                role_txt = self._roles.get(s["name"])
                return f"{s['kind']} ({role_txt})" if role_txt and role_txt != s["kind"] else s["kind"]
            if c == 2:
                return self._units.get(s["name"], "")
            if c == 3:
                return f"{s['missing_pct']:.1f} %" if s["missing"] else "0 %"
            if c in (4, 5):
                v = s["min"] if c == 4 else s["max"]
                if v is None:
                    return ""
                if isinstance(v, (pd.Timestamp,)) or hasattr(v, "strftime"):
                    return pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")
                return fmt_number(v, 5)
            if c == 6:
                return f"{s['n_unique']:,}"
        if role == _ALIGN and c >= 3:
            return _RIGHT
        if role == _FOREGROUND and c == 3 and s["missing_pct"] > 5:
            return QBrush(QColor("#a15c00"))
        if role == _TOOLTIP:
            tips = []
            if s.get("status_values"):
                tips.append(f"{s['status_values']} historian status values (such as 'Bad Input') read as missing")
            if s.get("non_numeric"):
                tips.append(f"{s['non_numeric']} cells are not numbers")
            return "\n".join(tips) or None
        return None

    def headerData(self, section: int, orientation, role=_DISPLAY):
        if role == _DISPLAY and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


class ProblemsModel(QAbstractTableModel):
    """Every validation problem, with where it is (file, column, row)."""

    HEADERS = ("", "File", "Column", "Row", "Problem")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.problems: list = []

    def set_problems(self, problems) -> None:
        self.beginResetModel()
        self.problems = list(problems)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.problems)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: QModelIndex, role=_DISPLAY):
        if not index.isValid():
            return None
        p = self.problems[index.row()]
        c = index.column()
        if role == _DISPLAY:
            return ("Error" if p.severity == "error" else "Warning",
                    p.file or "", p.column or "", "" if p.row is None else str(p.row), p.message)[c]
        if role == _FOREGROUND and c == 0:
            return QBrush(QColor("#b3261e" if p.severity == "error" else "#8a5a00"))
        if role == _TOOLTIP:
            return str(p)
        return None

    def headerData(self, section: int, orientation, role=_DISPLAY):
        if role == _DISPLAY and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None


class RootCauseModel(QAbstractTableModel):
    """The ranked causes: sensor, station, restoration (drawn by RestorationDelegate), share
    ranked first."""

    # Two-line headers: at 1366 px the one-line "Restoration (90% interval)" was clipped.
    HEADERS = ("#", "Sensor", "Station", "Restoration\n(90% interval)", "Ranked\nfirst", "Setpoint")
    RESTORATION_COLUMN = 3
    CauseRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.causes: list[RootCause] = []
        self.target = ""
        self.scale = (0.0, 1.0)

    def set_causes(self, causes: list[RootCause], target: str = "") -> None:
        self.beginResetModel()
        self.causes = list(causes or [])
        self.target = target
        lo = min([0.0] + [min(c.restoration, c.restoration_ci[0]) for c in self.causes
                          if math.isfinite(c.restoration_ci[0])])
        hi = max([1.0] + [max(c.restoration, c.restoration_ci[1]) for c in self.causes
                          if math.isfinite(c.restoration_ci[1])])
        self.scale = (lo, hi)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.causes)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: QModelIndex, role=_DISPLAY):
        if not index.isValid():
            return None
        k = self.causes[index.row()]
        c = index.column()
        if role == self.CauseRole:
            return k
        if role == _DISPLAY:
            if c == 0:
                return str(index.row() + 1)
            if c == 1:
                return k.node + ("  (KPI itself)" if k.node == self.target else "")
            if c == 2:
                return k.station
            if c == 3:
                return NOT_COMPUTED if k.no_restoration else fmt_pct(k.restoration)
            if c == 4:
                return fmt_pct(k.share_ranked_first)
            if c == 5:
                return "yes" if k.controllable else ""
        if role == _TOOLTIP:
            why = no_restoration_text(k, self.target)
            if c == 3 and why:
                return why[0].upper() + why[1:] + "."
            if c == 3:
                lo, hi = k.restoration_ci
                rng = restoration_range_text(k)
                return (f"Restoration {fmt_pct(k.restoration)} (90% interval {fmt_pct(lo)} to {fmt_pct(hi)})"
                        + (f"; {rng}" if rng else "") + f"\n\n{glossary.RESTORATION}\n\n{glossary.RESTORATION_CI}")
            if c == 4:
                return glossary.RANKED_FIRST
            if c == 1 and k.node == self.target:
                return f"{k.node}\n\n{glossary.UNEXPLAINED}"
            if c == 1:
                return k.node          # the column elides long names in the middle
            if c == 2:
                return k.station
        if role == _ALIGN and c in (0, 4):
            return _RIGHT
        return None

    def headerData(self, section: int, orientation, role=_DISPLAY):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == _DISPLAY:
            return self.HEADERS[section]
        if role == _TOOLTIP:
            return {3: glossary.RESTORATION, 4: glossary.RANKED_FIRST,
                    5: glossary.CONTROLLABLE}.get(section)
        return None


class RestorationDelegate(QStyledItemDelegate):
    """Restoration as a bar from 0, its 90% interval as a whisker, on one scale for all rows
    (dashed line at 100% = the whole loss back)."""

    BAR = QColor("#2f6db5")
    NEG = QColor("#b3261e")

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        model = index.model()
        cause = model.data(index, RootCauseModel.CauseRole)
        if cause is None:
            return super().paint(painter, option, index)
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        rect = QRectF(option.rect).adjusted(6, 4, -6, -4)
        text_w = 58.0
        bar_area = QRectF(rect.left(), rect.top(), max(10.0, rect.width() - text_w), rect.height())
        lo_s, hi_s = model.scale
        span = (hi_s - lo_s) or 1.0

        def x(v: float) -> float:
            return bar_area.left() + (min(max(v, lo_s), hi_s) - lo_s) / span * bar_area.width()

        x0 = x(0.0)
        r = cause.restoration
        if cause.no_restoration:
            # No restoration was computed (the record says why): no bar, which would read as 0%.
            painter.setPen(option.palette.highlightedText().color() if option.state & QStyle.StateFlag.State_Selected
                           else QColor("#555555"))
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             NOT_COMPUTED + " (where the disturbance entered)")
            painter.restore()
            return
        color = self.BAR if r >= 0 else self.NEG
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        bar = QRectF(min(x0, x(r)), bar_area.center().y() - bar_area.height() * 0.28,
                     abs(x(r) - x0), bar_area.height() * 0.56)
        painter.fillRect(bar, QColor(color.red(), color.green(), color.blue(), 150))
        lo, hi = cause.restoration_ci
        if math.isfinite(lo) and math.isfinite(hi):
            pen = QPen(QColor("#1d1d1d"), 1.4)
            painter.setPen(pen)
            y = bar_area.center().y()
            painter.drawLine(int(x(lo)), int(y), int(x(hi)), int(y))
            cap = bar_area.height() * 0.3
            painter.drawLine(int(x(lo)), int(y - cap), int(x(lo)), int(y + cap))
            painter.drawLine(int(x(hi)), int(y - cap), int(x(hi)), int(y + cap))
        painter.setPen(QPen(QColor("#777777"), 1))
        painter.drawLine(int(x0), int(bar_area.top()), int(x0), int(bar_area.bottom()))
        pen = QPen(QColor("#777777"), 1, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(int(x(1.0)), int(bar_area.top()), int(x(1.0)), int(bar_area.bottom()))
        painter.setPen(option.palette.highlightedText().color() if option.state & QStyle.StateFlag.State_Selected
                       else option.palette.text().color())
        painter.drawText(QRectF(bar_area.right() + 4, rect.top(), text_w - 4, rect.height()),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), fmt_pct(r))
        painter.restore()

    def sizeHint(self, option, index):
        s = super().sizeHint(option, index)
        s.setWidth(max(s.width(), 240))
        return s

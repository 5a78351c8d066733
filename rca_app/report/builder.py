"""The PDF investigation report (reportlab platypus), built from an ``AnalysisResult``.

Layout: A4, a running header (plant, incident window, report id, "Page N of M") and footer.
The document is built twice: the first pass counts the pages, so the second can print the
total on every page while keeping PDF bookmarks (a deferred-page canvas would break them).
Both passes run before anything replaces the target file.

The page (:mod:`.page`), the building blocks (:mod:`.flowables`) and the sections
(:mod:`.sections`) live in their own modules; :class:`ReportBuilder` holds what the sections
share (result, data, notes, styles, figure cache, heading numbers) and puts the story together.
"""
from __future__ import annotations

import io
import threading
from datetime import datetime
from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Paragraph, Table

import rca_app
from rca_app.core.fileio import atomic_output
from rca_app.core.results import AnalysisResult, as_result
from rca_app.report import figures
from rca_app.report import flowables as FL
from rca_app.report import formatting as F
from rca_app.report import text as T
from rca_app.report.mpl_canvas import FigureFlowable
from rca_app.report.page import (
    FIG_FONTS,
    GREY,
    MARGIN_X,
    NAVY,
    PAGE_H,
    PAGE_W,
    RULE,
    SANS,
    SANS_B,
    SECTIONS,
    Heading,
    ReportDoc,
    make_styles,
    register_fonts,
)
from rca_app.report.page import markup as escape_markup
from rca_app.report.sections import appendix, diagnostics, findings, front, verification

__all__ = ["build_report", "register_fonts", "SECTIONS", "ReportBuilder"]

# rcParams and rl_config are process-wide: one build at a time (the GUI builds in a worker thread).
_BUILD_LOCK = threading.Lock()


class ReportBuilder:
    """What the sections of one report share, and the two-pass build.

    Parameters
    ----------
    result : AnalysisResult
        The analysis to report (the typed record: every section reads its attributes).
    data : PlantData or None
        The table analysed, for the trend figures (None leaves them out with a note).
    notes : dict or None
        The engineer's 8D notes (team, containment, corrective_action, comments).
    author : str or None
        Defaults to the OS user name.
    report_id : str or None
        Defaults to an id derived from the input and settings.
    """

    def __init__(self, result: AnalysisResult, data, notes: dict | None, author: str | None, report_id: str | None,
                 impact=None, layout_path: Path | None = None):
        from rca_app.report.notes import normalize_notes

        self.r = result
        self.impact = impact      # an ImpactResult: adds the D6/D7 verification section
        self.layout_path = layout_path   # the layout used, written beside the report (edited, unsaved)
        self.data = data
        self.notes = normalize_notes(notes)
        self.author = author or T.default_author()
        self.report_id = report_id or T.default_report_id(result)
        self.generated = datetime.now().astimezone()
        self.st = make_styles()
        self.total_pages: int | None = None
        self._figs: dict = {}
        self.kpi = T.kpi_change(result)
        self.data_note = self._check_data()
        self._h = self._h2 = 0

    # -- what the sections use -------------------------------------------------------------
    def _check_data(self) -> str | None:
        """Why the trend figures cannot be drawn from ``data`` (None: they can)."""
        if self.data is None:
            return "The data table was not passed to the report, so the trend figures are left out."
        d, inp = self.data, self.r.input
        sha = getattr(getattr(d, "raw", None), "sha256", None)
        if inp.sha256 and sha and sha != inp.sha256:
            return ("The data passed to the report is not the file that was analysed (SHA-256 differs); "
                    "trend figures are left out.")
        if len(d.frame) != inp.rows_used:
            return ("The data passed to the report has a different number of rows than the analysis used; "
                    "trend figures are left out.")
        if self.r.target not in d.frame.columns:
            return "The data passed to the report lacks the KPI column; trend figures are left out."
        return None

    def _fig(self, key, make):
        """Figures are made once and reused by both build passes."""
        if key not in self._figs:
            self._figs[key] = FigureFlowable(make(), FIG_FONTS)
        return self._figs[key]

    def P(self, text: str, style: str = "body", markup: bool = False) -> Paragraph:
        """A paragraph of ``text`` (escaped, ``**x**`` bold) unless ``markup`` says it is markup."""
        return Paragraph(text if markup else escape_markup(text), self.st[style])

    def H1(self, title: str) -> Heading:
        """A numbered section heading (bookmark level 0)."""
        self._h += 1
        self._h2 = 0
        return Heading(f"{self._h}  {title}", self.st["h1"], 0, f"s{self._h}")

    def H2(self, title: str) -> Heading:
        """A numbered sub-heading (bookmark level 1)."""
        self._h2 += 1
        return Heading(f"{self._h}.{self._h2}  {title}", self.st["h2"], 1, f"s{self._h}_{self._h2}")

    def bullets(self, items: list[str], style: str = "bullet", markup: bool = False) -> list:
        return FL.bullets(self.st, items, style, markup)

    def table(self, rows: list[list], widths: list[float], header: bool = True, bold_first_col: bool = False,
              align_right: tuple[int, ...] = (), highlight_row: int | None = None, style: str = "cell") -> Table:
        return FL.table(self.st, rows, widths, header, bold_first_col, align_right, highlight_row, style)

    def note_box(self, label: str, value, placeholder: str | None = None) -> Table | None:
        return FL.note_box(self.st, label, value, placeholder)

    # -- page decoration -----------------------------------------------------------------
    def decorate(self, canv, doc) -> None:
        """Running header (plant, page N of M, incident, report id) and footer of every page."""
        r = self.r
        canv.saveState()
        top = PAGE_H - 11 * mm
        canv.setFont(SANS_B, 8)
        canv.setFillColor(NAVY)
        canv.drawString(MARGIN_X, top, F.clip(r.plant, 70))
        total = self.total_pages if self.total_pages is not None else "?"
        canv.drawRightString(PAGE_W - MARGIN_X, top, f"Page {doc.page} of {total}")
        canv.setFont(SANS, 7.5)
        canv.setFillColor(GREY)
        canv.drawString(MARGIN_X, top - 10, f"Incident {F.fmt_window(r.anomaly)}   ·   KPI {F.clip(r.target, 40)}")
        canv.drawRightString(PAGE_W - MARGIN_X, top - 10, f"Report {self.report_id}")
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.6)
        canv.line(MARGIN_X, top - 15, PAGE_W - MARGIN_X, top - 15)
        canv.line(MARGIN_X, 11 * mm, PAGE_W - MARGIN_X, 11 * mm)
        canv.setFont(SANS, 6.8)
        canv.drawString(MARGIN_X, 7.5 * mm,
                        f"Root-cause investigation report · rca_app {r.software.get('version', rca_app.__version__)}")
        canv.drawRightString(PAGE_W - MARGIN_X, 7.5 * mm, f"Generated {self.generated:%Y-%m-%d %H:%M} by {self.author}")
        canv.restoreState()

    # -- the document --------------------------------------------------------------------
    def story(self) -> list:
        """Every flowable of the report, in order (heading numbers restart at 1)."""
        self._h = 0
        return (front.title_block(self) + front.summary(self) + front.is_is_not(self)
                + findings.causal_graph(self) + findings.ranking(self)
                + [CondPageBreak(90 * mm)] + findings.evidence(self) + findings.actions(self)
                + ([CondPageBreak(120 * mm)] + verification.verification(self) if self.impact is not None else [])
                + [CondPageBreak(60 * mm)]
                + FL.keep_headed_tables(diagnostics.diagnostics(self)) + appendix.assumptions(self)
                + FL.keep_headed_tables(appendix.appendix(self)))

    def build(self, target: str | Path) -> None:
        """Lay the story out twice (count pages, then print "Page N of M") into ``target``."""
        meta = dict(title=f"Root-cause investigation report {self.report_id}", author=self.author,
                    subject=f"{self.r.target} at {self.r.plant}, incident {F.fmt_window(self.r.anomaly)}",
                    creator=f"rca_app {rca_app.__version__}", keywords=["root cause", "8D", self.report_id])
        counter = io.BytesIO()
        doc = ReportDoc(counter, self.decorate, **meta)
        doc.build(self.story())
        self.total_pages = doc.page
        doc = ReportDoc(str(target), self.decorate, **meta)
        doc.build(self.story())
        if doc.page != self.total_pages:  # cannot happen with a deterministic story; never print a wrong total
            raise RuntimeError(f"page count changed between passes ({self.total_pages} -> {doc.page})")


def build_report(result, data, out_path, notes: dict | None = None, author: str | None = None,
                 report_id: str | None = None, impact=None) -> Path:
    """Write the investigation report of ``result`` to ``out_path`` atomically.

    Parameters
    ----------
    result : AnalysisResult, dict or object with ``to_dict``
        The analysis, read once with :func:`~rca_app.core.results.as_result` (a dict is the
        result's JSON data, e.g. an investigation file's).
    data : PlantData or None
        The table analysed, for the trend figures.
    out_path : str or Path
        The PDF to write; its folder is created. On any failure it is left as it was.
    notes, author, report_id
        See :class:`ReportBuilder`.
    impact : ImpactResult, optional
        A verified corrective action: adds the section "Verification of corrective actions".

    Returns
    -------
    Path
        ``out_path``.
    """
    from matplotlib import rc_context
    from reportlab import rl_config

    result = as_result(result)
    out = Path(out_path)
    register_fonts()
    layout_path = _write_layout_used(result, out)
    with _BUILD_LOCK:
        old_a85 = rl_config.useA85
        try:
            rl_config.useA85 = 0  # plain Flate streams: ASCII85 would add 25% for nothing
            with rc_context(figures.RC_PARAMS), atomic_output(out) as tmp:
                ReportBuilder(result, data, notes, author, report_id, impact, layout_path).build(tmp)
        finally:
            rl_config.useA85 = old_a85
    return out


def _write_layout_used(result: AnalysisResult, out: Path) -> Path | None:
    """Write the layout the analysis used beside the report when no file holds it (edited in the
    window and not saved), so the appendix's command names a file that reproduces the result.

    Returns
    -------
    Path or None
        ``<report>_layout.toml``; None when the command line or the layout file on disk covers it.
    """
    if result.settings.get("command") or not result.layout.text:
        return None
    _found, same = T.layout_on_disk(result)
    if same:
        return None
    path = out.with_name(out.stem + "_layout.toml")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(result.layout.text, encoding="utf-8")
    return path

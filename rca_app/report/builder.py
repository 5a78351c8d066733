"""The PDF investigation report (reportlab platypus), built from an ``AnalysisResult``.

Layout: A4, a running header (plant, incident window, report id, "Page N of M") and footer.
The document is built twice: the first pass counts the pages, so the second can print the
total on every page while keeping PDF bookmarks (a deferred-page canvas would break them).
Both passes run before anything replaces the target file.
"""
from __future__ import annotations

import io
import os
import re
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Frame, KeepTogether, PageTemplate, Paragraph,
                                Preformatted, Spacer, Table, TableStyle)

import rca_app
from rca_app.report import figures
from rca_app.report import text as T
from rca_app.core.fileio import default_file_mode
from rca_app.report.mpl_canvas import FigureFlowable

_BUILD_LOCK = threading.Lock()
PAGE_W, PAGE_H = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 16 * mm
TEXT_W = PAGE_W - 2 * MARGIN_X
FIG_W_IN = TEXT_W / 72

NAVY = colors.HexColor("#1f3b5a")
GREY = colors.HexColor("#6b7680")
RULE = colors.HexColor("#c8ced4")
ZEBRA = colors.HexColor("#f4f6f8")
NOTE_BG = colors.HexColor("#fbf6e6")
NOTE_EDGE = colors.HexColor("#e2c96b")
RED = colors.HexColor("#c0392b")

SANS, SANS_B, SANS_I, SANS_BI, MONO = "RcaSans", "RcaSans-Bold", "RcaSans-Oblique", "RcaSans-BoldOblique", "RcaMono"
FIG_FONTS = {(False, False): SANS, (True, False): SANS_B, (False, True): SANS_I, (True, True): SANS_BI}

SECTIONS = ["Summary", "Is / is not", "Causal graph", "Root-cause ranking", "Evidence", "Actions",
            "Model diagnostics", "Assumptions and limits", "Reproducibility appendix"]

_SHORT = {"linear": "lin", "poly2": "quad", "spline": "spline", "hgb": "trees"}
_KINDS = {
    "empirical": "own distribution (no causes)",
    "categorical_empirical": "level frequencies (no causes)",
    "linear": "linear",
    "poly2": "quadratic",
    "spline": "additive spline",
    "hgb": "gradient-boosted trees",
    "classifier": "classifier",
}


# --- fonts --------------------------------------------------------------------------------

def register_fonts() -> None:
    """Embed DejaVu (shipped with matplotlib) so °, µ, ≤ and non-ASCII names render."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    files = {SANS: "DejaVuSans.ttf", SANS_B: "DejaVuSans-Bold.ttf", SANS_I: "DejaVuSans-Oblique.ttf",
             SANS_BI: "DejaVuSans-BoldOblique.ttf", MONO: "DejaVuSansMono.ttf"}
    have = set(pdfmetrics.getRegisteredFontNames())
    dirs = [Path(matplotlib.get_data_path()) / "fonts" / "ttf"]
    try:
        from rca_app.resources import resource_path

        dirs.append(resource_path("fonts"))
    except Exception:  # noqa: BLE001 - the bundled copy is only a fallback
        pass
    for name, fname in files.items():
        if name in have:
            continue
        path = next((d / fname for d in dirs if (d / fname).exists()), None)
        if path is None:
            raise FileNotFoundError(f"font {fname} not found (looked in {', '.join(map(str, dirs))})")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    for (bold, italic), name in FIG_FONTS.items():
        addMapping(SANS, int(bold), int(italic), name)


# --- styles and small flowable helpers ----------------------------------------------------

def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=12.6, spaceAfter=5, alignment=TA_LEFT,
                          bulletFontName=SANS)
    s = {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontName=SANS_B, fontSize=19, leading=23,
                                textColor=NAVY, spaceAfter=3),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10.5, leading=14, textColor=GREY,
                                   spaceAfter=10),
        "h1": ParagraphStyle("h1", parent=base, fontName=SANS_B, fontSize=13.5, leading=17, textColor=NAVY,
                             spaceBefore=12, spaceAfter=6, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=SANS_B, fontSize=10, leading=13, textColor=NAVY,
                             spaceBefore=8, spaceAfter=4, keepWithNext=1),
        "small": ParagraphStyle("small", parent=base, fontSize=7.8, leading=10.2, spaceAfter=3),
        "caption": ParagraphStyle("caption", parent=base, fontName=SANS_I, fontSize=7.5, leading=9.8,
                                  textColor=GREY, spaceBefore=2, spaceAfter=8),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.3, spaceAfter=0),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=SANS_B, fontSize=7.5, leading=9.3, spaceAfter=0),
        "head": ParagraphStyle("head", parent=base, fontName=SANS_B, fontSize=7.5, leading=9.3,
                               textColor=colors.white, spaceAfter=0),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=7, leading=8.8, spaceAfter=6),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=11, bulletIndent=2, spaceAfter=3),
        "sbullet": ParagraphStyle("sbullet", parent=base, fontSize=7.8, leading=10.2, leftIndent=10,
                                  bulletIndent=2, spaceAfter=2),
        "note": ParagraphStyle("note", parent=base, fontSize=8.8, leading=12, spaceAfter=0),
    }
    return s


def _markup(text: str) -> str:
    """Escape user/result text and turn ``**x**`` into bold."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escape(str(text)))


class Heading(Paragraph):
    """A section heading that also becomes a PDF bookmark."""

    def __init__(self, text: str, style, level: int, key: str):
        super().__init__(escape(text), style)
        self.outline_text, self.outline_level, self.outline_key = text, level, key


class _Doc(BaseDocTemplate):
    def __init__(self, target, decorate, **kw):
        super().__init__(target, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                         topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, **kw)
        frame = Frame(MARGIN_X, MARGIN_BOTTOM, TEXT_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])

    def afterFlowable(self, flowable):
        if isinstance(flowable, Heading):
            self.canv.bookmarkPage(flowable.outline_key)
            self.canv.addOutlineEntry(flowable.outline_text, flowable.outline_key,
                                      level=flowable.outline_level, closed=flowable.outline_level > 0)


# --- the report -------------------------------------------------------------------------

class ReportBuilder:
    def __init__(self, result, data, notes: dict | None, author: str | None, report_id: str | None):
        from rca_app.report.notes import normalize_notes

        self.r = result
        self.data = data
        self.notes = normalize_notes(notes)
        self.author = author or T.default_author()
        self.report_id = report_id or T.default_report_id(result)
        self.generated = datetime.now().astimezone()
        self.st = _styles()
        self.total_pages: int | None = None
        self._figs: dict = {}
        self.kpi = T.kpi_change(result)
        self.data_note = self._check_data()
        self._h = self._h2 = 0

    # -- plumbing ------------------------------------------------------------------------
    def _check_data(self) -> str | None:
        """Why the trend figures cannot be drawn from ``data`` (None: they can)."""
        if self.data is None:
            return "The data table was not passed to the report, so the trend figures are left out."
        d, inp = self.data, self.r.input
        sha = getattr(getattr(d, "raw", None), "sha256", None)
        if inp.get("sha256") and sha and sha != inp["sha256"]:
            return ("The data passed to the report is not the file that was analysed (SHA-256 differs); "
                    "trend figures are left out.")
        if len(d.frame) != inp.get("rows_used", len(d.frame)):
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

    def P(self, text: str, style: str = "body", markup: bool = False):
        return Paragraph(text if markup else _markup(text), self.st[style])

    def H1(self, title: str) -> Heading:
        self._h += 1
        self._h2 = 0
        return Heading(f"{self._h}  {title}", self.st["h1"], 0, f"s{self._h}")

    def H2(self, title: str) -> Heading:
        self._h2 += 1
        return Heading(f"{self._h}.{self._h2}  {title}", self.st["h2"], 1, f"s{self._h}_{self._h2}")

    def bullets(self, items: list[str], style: str = "bullet", markup: bool = False) -> list:
        return [Paragraph(i if markup else _markup(i), self.st[style], bulletText="•") for i in items]

    def table(self, rows: list[list], widths: list[float], header: bool = True, bold_first_col: bool = False,
              align_right: tuple[int, ...] = (), highlight_row: int | None = None, style: str = "cell") -> Table:
        """Cells as wrapped paragraphs; the header repeats when the table splits across pages."""
        data = []
        for i, row in enumerate(rows):
            cells = []
            for j, v in enumerate(row):
                if hasattr(v, "wrap"):
                    cells.append(v)
                    continue
                sty = self.st["head"] if header and i == 0 else (
                    self.st["cellb"] if (bold_first_col and j == 0) else self.st[style])
                if j in align_right and not (header and i == 0):
                    sty = ParagraphStyle(f"r{sty.name}", parent=sty, alignment=2)
                cells.append(Paragraph(_markup(v), sty))
            data.append(cells)
        t = Table(data, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
        cmds = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
            ("TOPPADDING", (0, 0), (-1, -1), 2.2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ]
        if header:
            cmds += [("BACKGROUND", (0, 0), (-1, 0), NAVY),
                     ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA])]
        else:
            cmds += [("ROWBACKGROUNDS", (0, 0), (-1, -1), [colors.white, ZEBRA])]
        if highlight_row is not None:
            cmds.append(("BACKGROUND", (0, highlight_row), (-1, highlight_row), colors.HexColor("#fbe3e0")))
        t.setStyle(TableStyle(cmds))
        return t

    def note_box(self, label: str, value, placeholder: str | None = None):
        """An engineer's note in a tinted box (8D field)."""
        if value is None and placeholder is None:
            return None
        if value is None:
            lines = [f'<font color="#6b7680"><i>{escape(placeholder)}</i></font>']
        elif isinstance(value, list):
            lines = [f"• {escape(v)}" for v in value]
        else:
            lines = [escape(line) or "&nbsp;" for line in value.split("\n")]
        # One row per line, so a long note can split across pages (a table cell cannot).
        rows = [[Paragraph(f"<b>{escape(label)}</b>", self.st["note"])]] + \
            [[Paragraph(line, self.st["note"])] for line in lines]
        t = Table(rows, colWidths=[TEXT_W], hAlign="LEFT")
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), NOTE_BG),
                               ("BOX", (0, 0), (-1, -1), 0.6, NOTE_EDGE),
                               ("LEFTPADDING", (0, 0), (-1, -1), 7), ("RIGHTPADDING", (0, 0), (-1, -1), 7),
                               ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, 0), 5), ("BOTTOMPADDING", (0, -1), (-1, -1), 6)]))
        return t

    # -- page decoration -----------------------------------------------------------------
    def decorate(self, canv, doc) -> None:
        r = self.r
        canv.saveState()
        top = PAGE_H - 11 * mm
        canv.setFont(SANS_B, 8)
        canv.setFillColor(NAVY)
        canv.drawString(MARGIN_X, top, _clip(r.plant, 70))
        total = self.total_pages if self.total_pages is not None else "?"
        canv.drawRightString(PAGE_W - MARGIN_X, top, f"Page {doc.page} of {total}")
        canv.setFont(SANS, 7.5)
        canv.setFillColor(GREY)
        canv.drawString(MARGIN_X, top - 10, f"Incident {T.fmt_window(r.anomaly)}   ·   KPI {_clip(r.target, 40)}")
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

    # -- sections ------------------------------------------------------------------------
    def title_block(self) -> list:
        r, k = self.r, self.kpi
        st = []
        st.append(self.P("Root-cause investigation report", "title"))
        sub = (f"{r.target} {k['verb']} by {k['amount']}" + (f" ({k['pct']})" if k["pct"] else "")
               + f" on {r.plant}")
        st.append(self.P(sub, "subtitle"))
        rows = [
            ["Plant / line", r.plant],
            ["KPI", f"{r.target}" + (f" ({k['unit']})" if k["unit"] else "") + f", goal: {r.goal}"],
            ["Incident window", f"{T.fmt_window(r.anomaly)}  ({T.fmt_duration(r.anomaly)})"
             + ("  · suggested automatically" if r.anomaly.get("auto") else "")],
            ["Reference window", f"{T.fmt_window(r.reference)}  ({T.fmt_duration(r.reference)})"],
            ["Author", self.author],
            ["Date", f"{self.generated:%Y-%m-%d}"],
            ["Report ID", self.report_id],
        ]
        team = self.notes.get("team")
        rows.append(["Team (D1)", ", ".join(team) if isinstance(team, list) else (team or "not recorded")])
        t = self.table(rows, [32 * mm, TEXT_W - 32 * mm], header=False, bold_first_col=True)
        st.append(t)
        st.append(Spacer(1, 4))
        st.append(self.P(
            "8D cross-reference: D1 team (above) · D2 problem description (sections 1–2) · D3 containment "
            "(section 2) · D4 root cause (sections 3–5) · D5 corrective action (section 6).", "caption"))
        return st

    def summary(self) -> list:
        st = [self.H1(SECTIONS[0])]
        for p in T.summary_paragraphs(self.r):
            st.append(self.P(p))
        if self.data_note:
            st.append(self.P(self.data_note, "caption"))
        box = self.note_box("Engineer's comments", self.notes.get("comments"))
        if box is not None:
            st += [Spacer(1, 2), box]
        return st

    def _sensor_rows(self) -> list[dict]:
        """Every sensor (not the KPI) in layout order with its evidence and verdict."""
        causes = {c["node"]: c for c in self.r.root_causes}
        out = []
        for n in self.r.graph["nodes"]:
            name = n["name"]
            if name == self.r.target:
                continue
            c = causes.get(name)
            ev = dict(c["evidence"]) if c else self._data_evidence(name, n)
            verdict, changed = T.classify(ev) if ev else ("no data", False)
            if c is None:
                verdict += " (no path to KPI)"
            out.append({"name": name, "station": n["station"], "ev": ev or {}, "verdict": verdict,
                        "changed": changed, "categorical": n.get("categorical"), "cause": c})
        return out

    def _data_evidence(self, name: str, node: dict) -> dict | None:
        """Shift of a sensor that is not upstream of the KPI (no noise z: no model for it)."""
        if self.data_note is not None or name not in self.data.frame.columns:
            return None
        a, r = self.r.anomaly, self.r.reference
        col = self.data.frame[name]
        ref, inc = col.iloc[r["first_row"]:r["stop_row"]], col.iloc[a["first_row"]:a["stop_row"]]
        if node.get("categorical"):
            rs, ins = ref.astype(str).value_counts(normalize=True), inc.astype(str).value_counts(normalize=True)
            levels = sorted(set(rs.index) | set(ins.index))
            return {"level_shares": {lv: (float(rs.get(lv, 0.0)), float(ins.get(lv, 0.0))) for lv in levels}}
        rm, rsd, im, isd = float(ref.mean()), float(ref.std(ddof=0)), float(inc.mean()), float(inc.std(ddof=0))
        return {"reference_mean": rm, "reference_sd": rsd, "anomaly_mean": im, "anomaly_sd": isd,
                "shift_sd": (im - rm) / rsd if rsd else None, "noise_shift_z": None, "noise_sd_ratio": None}

    def is_is_not(self) -> list:
        r, k = self.r, self.kpi
        rows = self._sensor_rows()
        own = [s for s in rows if s["changed"] and s["verdict"].split(" (")[0] in
               ("shifted on its own", "level mix changed", "spread changed")]
        follow = [s for s in rows if s["changed"] and s not in own]
        same = [s for s in rows if not s["changed"]]
        st = [self.H1(SECTIONS[1])]
        st.append(self.P(
            "What changed between the reference period and the incident, and what did not. A sensor "
            f"counts as shifted when its incident mean is at least {T.SHIFT_SD:g} reference SD away; it shifted "
            f"<b>on its own</b> when its noise z-score (the part its upstream causes do not explain) is at least "
            f"{T.NOISE_Z:g} in size, or its spread changed by a factor {T.SPREAD_RATIO:g}. Sensors that shifted "
            "on their own are where root causes are; the others followed them.", markup=True))

        def names(lst, limit=40):
            # A cell taller than a page cannot be laid out: long lists point to the sensor table.
            if not lst:
                return "none"
            shown = ", ".join(s["name"] for s in lst[:limit])
            return shown + (f" and {len(lst) - limit} more (see the sensor table)" if len(lst) > limit else "")

        st_changed = [s for s in dict.fromkeys(x["station"] for x in own)]
        st_all = [n for n in r.graph.get("stations", [])]
        sensor_stations = {s["station"] for s in rows}
        st_same = [s for s in st_all if s not in st_changed and s in sensor_stations]
        kt = [
            ["", "IS", "IS NOT"],
            ["What", f"Shifted on their own: {names(own)}. Shifted with their causes: {names(follow)}.",
             f"Within the reference behaviour: {names(same)}."],
            ["Where", "Stations with a sensor that shifted on its own: " + (", ".join(st_changed) or "none") + ".",
             "Stations with no sensor that shifted on its own: " + (", ".join(st_same) or "none") + "."],
            ["When", f"From {T.fmt_bound(r.anomaly['start'])} to {T.fmt_bound(r.anomaly['end'])}: "
                     f"{T.fmt_duration(r.anomaly)}.",
             f"Not in the reference period {T.fmt_window(r.reference)} ({T.fmt_duration(r.reference)}), "
             "used as the normal state."],
            ["How much", f"{r.target} {k['verb']} from {k['ref']} to {k['inc']}: {k['amount']}"
                         + (f" ({k['pct']} of the reference level)" if k["pct"] else "") + ".",
             f"Not within normal variation: the reference SD of {r.target} is {k['sd']}."],
        ]
        st.append(self.table(kt, [20 * mm, (TEXT_W - 20 * mm) / 2, (TEXT_W - 20 * mm) / 2], bold_first_col=True))
        st.append(Spacer(1, 8))

        st.append(self.H2("Sensor by sensor"))
        tab = [["Sensor", "Station", "Reference mean (SD)", "Incident mean (SD)", "Shift (ref. SD)",
                "Noise z", "Spread ratio", "Verdict"]]
        hl = []
        for i, s in enumerate(rows, 1):
            ev = s["ev"]
            if ev.get("level_shares"):
                shares = ev["level_shares"]
                ref = " · ".join(f"{lv} {T.fmt_pct(v[0])}" for lv, v in shares.items())
                inc = " · ".join(f"{lv} {T.fmt_pct(v[1])}" for lv, v in shares.items())
                tab.append([s["name"], s["station"], ref, inc, "–", "–", "–", s["verdict"]])
            else:
                dec = T.decimals_for(ev.get("reference_sd"))
                tab.append([s["name"], s["station"],
                            f"{T.fmt_num(ev.get('reference_mean'), dec)} ({T.fmt_num(ev.get('reference_sd'), dec)})",
                            f"{T.fmt_num(ev.get('anomaly_mean'), dec)} ({T.fmt_num(ev.get('anomaly_sd'), dec)})",
                            T.fmt_num(ev.get("shift_sd"), 1), T.fmt_num(ev.get("noise_shift_z"), 1),
                            T.fmt_num(ev.get("noise_sd_ratio"), 2), s["verdict"]])
            if s in own:
                hl.append(i)
        w = [38 * mm, 24 * mm, 25 * mm, 25 * mm, 15 * mm, 13 * mm, 14 * mm]
        w.append(TEXT_W - sum(w))
        t = self.table(tab, w, align_right=(4, 5, 6))
        for i in hl:
            t.setStyle(TableStyle([("BACKGROUND", (0, i), (-1, i), colors.HexColor("#fbe3e0"))]))
        st.append(t)
        st.append(self.P("Highlighted: sensors that shifted on their own. Noise z and spread ratio need the "
                         "model, so they are shown only for sensors upstream of the KPI.", "caption"))
        box = self.note_box("D3 Containment actions", self.notes.get("containment"),
                            placeholder="Not recorded. Containment actions taken can be added with --notes.")
        st.append(KeepTogether([box]))
        return st

    def causal_graph(self) -> list:
        r = self.r
        top = r.top_cause
        head = self.H1(SECTIONS[2])
        n_e = len(r.graph.get("edges", []))
        src = ("given by the user (edited or loaded), not discovered" if r.diagnostics.get("graph_source") == "given"
               else "discovered from the reference period")
        intro = self.P(
            f"The causal graph has {len(r.graph['nodes'])} sensors and {n_e} edges, {src}. Stations run left to "
            "right in process order; an arrow means the upstream sensor drives the downstream one.")
        fig = self._fig("graph", lambda: figures.causal_graph(r, FIG_W_IN, max_height_in=8.2))
        cap = ("Red box and arrows: the top root cause"
               + (f" ({top['node']})" if top else "") + " and its paths to the KPI. Dark box: the KPI. "
               "Orange border: root causes ranked 2nd and 3rd. Green border: controllable setpoint. Dashed box: "
               "categorical sensor. Arrow width and darkness: edge confidence (share of bootstrap resamples that "
               "found the edge); dashed arrows: confidence below 50%.")
        return [KeepTogether([head, intro, fig, self.P(cap, "caption")])]

    def ranking(self) -> list:
        r = self.r
        n = T.refits_used(r)
        st = [self.H1(SECTIONS[3] + " (D4)")]
        st.append(self.P(
            "Restoration is the share of the KPI loss the model predicts would come back if that sensor alone "
            "had behaved as in the reference period (its own noise redrawn from the reference, everything "
            f"downstream recomputed). Intervals are 5–95% over {n} bootstrap refits; “ranked first” is the share "
            "of those refits in which the sensor came out on top."))
        tab = [["#", "Sensor", "Station", "Restoration", "90% interval", "Ranked first", "Setpoint"]]
        for i, c in enumerate(r.root_causes, 1):
            lo, hi = c["restoration_ci"]
            tab.append([str(i), T.cause_label(r, c["node"]), c["station"], T.fmt_pct(c["restoration"]),
                        T.fmt_interval(lo, hi), T.fmt_pct(c["share_ranked_first"]),
                        "yes" if c.get("controllable") else ""])
        w = [8 * mm, 53 * mm, 34 * mm, 20 * mm, 24 * mm, 16 * mm]
        w.append(TEXT_W - sum(w))
        st.append(self.table(tab, w, align_right=(0, 3, 4, 5), highlight_row=1 if r.root_causes else None))
        st.append(Spacer(1, 8))
        if r.root_causes:
            fig = self._fig("ranking", lambda: figures.ranking_chart(r, FIG_W_IN))
            shown = min(12, len(r.root_causes))
            st.append(KeepTogether([fig, self.P(
                f"Restoration of the top {shown} sensors with their 90% intervals. The dotted line marks 100%: "
                "the whole loss.", "caption")]))
        return st

    def evidence(self) -> list:
        r = self.r
        st = [self.H1(SECTIONS[4])]
        causes = r.root_causes[:3]
        if not causes:
            return st + [self.P("No causes to show.")]
        st.append(self.P(
            "For the top causes: how the sensor and the KPI moved over the reference period and the incident, "
            "and the sensor's noise z-score, i.e. how far its own variation (after removing what its upstream "
            "causes explain) moved, in reference noise SDs."))
        if self.data_note:
            st.append(self.P(self.data_note, "caption"))
        for i, c in enumerate(causes, 1):
            ev = c["evidence"]
            lo, hi = c["restoration_ci"]
            block = [self.H2(f"{c['node']} ({c['station']}): restores {T.fmt_pct(c['restoration'])}")]
            txt = (f"Restoration {T.fmt_pct(c['restoration'])} (90% interval {T.fmt_interval(lo, hi)}), ranked "
                   f"first in {T.fmt_pct(c['share_ranked_first'])} of the refits. " + T.shift_text(r, c))
            ratio = ev.get("noise_sd_ratio")
            if ratio is not None:
                txt += (f" The spread of its noise during the incident is {T.fmt_num(ratio, 2)} times the "
                        "reference spread.")
            paths = ev.get("paths") or []
            if paths:
                shown = "; ".join(" → ".join(p) for p in paths[:4])
                more = f" (and {len(paths) - 4} more)" if len(paths) > 4 else ""
                txt += f" Paths to {r.target}: {shown}{more}."
            block.append(self.P(txt))
            if self.data_note is None and c["node"] in self.data.frame.columns:
                node = c["node"]
                fig = self._fig(("trend", node), lambda node=node: figures.trend_figure(r, self.data, node, FIG_W_IN))
                lo_row, hi_row, cut = figures.display_rows(r, len(self.data.frame))
                cap = (f"Top: {node}" + ("" if c.get("categorical") else
                       " (grey: raw values; red: rolling mean; dashed: reference mean)")
                       + f". Bottom: {r.target} (dark blue: rolling mean). Shaded: the incident window.")
                if cut:
                    cap += f" Only the last {r.anomaly['first_row'] - lo_row:,} rows of the reference period are shown."
                block += [fig, self.P(cap, "caption")]
            st.append(KeepTogether(block))
        return st

    def actions(self) -> list:
        r = self.r
        st = [self.H1(SECTIONS[5] + " (D5)")]
        acts = sorted(r.actions, key=lambda a: -a["restoration"])
        if not acts:
            st.append(self.P("No controllable setpoint has a causal path to the KPI, so there is no setpoint "
                             "what-if to report. Declare setpoints as controllable in the layout to get one."))
        else:
            st.append(self.P(
                f"What-if results for the controllable setpoints: each is set to the value in its reference range "
                f"that gives the best predicted {r.target} on the incident rows (do-operator: the setpoint is forced, "
                "everything downstream follows the model, each row keeps its own disturbances). Predictions are "
                "only made inside the range the setpoint covered in the reference period."))
            tab = [["Setpoint (station)", "Incident", "Recommended", "Reference range",
                    f"Predicted {r.target} (90% int.)", "Restores (90% int.)"]]
            for a in acts:
                unit = T.unit_of(r, a["node"])
                rng = a.get("reference_range") or []
                if len(rng) == 2 and not any(isinstance(v, str) for v in rng):
                    rng_txt = f"{T.fmt_setpoint(a, rng[0], '')} to {T.fmt_setpoint(a, rng[1], unit)}"
                else:
                    rng_txt = ", ".join(map(str, rng))
                lo, hi = a["predicted_target_ci"]
                rlo, rhi = a["restoration_ci"]
                inc = a.get("incident_value")
                dec = T.prediction_decimals(r, a)
                tab.append([f"{a['node']} ({a['station']})", T.fmt_setpoint(a, inc, unit) if inc is not None else "–",
                            T.fmt_setpoint(a, a["recommended_value"], unit), rng_txt,
                            f"{T.fmt_num(a['predicted_target'], dec)} ({T.fmt_num(lo, dec)} to "
                            f"{T.fmt_num(hi, dec)})",
                            f"{T.fmt_pct(a['restoration'])} ({T.fmt_interval(rlo, rhi)})"])
            w = [44 * mm, 21 * mm, 26 * mm, 31 * mm, 28 * mm]
            w.append(TEXT_W - sum(w))
            # Heading, intro and the (short) table on one page.
            st = [KeepTogether(st + [self.table(tab, w, highlight_row=1)])]
            warns = [f"{a['node']}: {wtxt}" for a in acts for wtxt in a.get("warnings") or []]
            if warns:
                st.append(Spacer(1, 4))
                st.append(self.P("<b>Warnings</b>", "small", markup=True))
                st += self.bullets(warns, "sbullet")
            best = acts[0]
            fig = self._fig("action", lambda: figures.action_curve(r, best, FIG_W_IN))
            if isinstance(best["recommended_value"], str):
                cap = (f"Predicted mean {r.target} of the incident rows for each level of {best['node']} seen in "
                       "the reference period; green: the recommended level. Dashed lines: the KPI level of the "
                       "reference period and of the incident.")
            else:
                cap = (f"Predicted mean {r.target} of the incident rows for each setting of {best['node']} "
                       "(navy), over the range observed in the reference period (green band). Green point: "
                       "the recommended setting with its 90% interval. Dashed lines: the KPI level of the "
                       "reference period and of the incident.")
            st.append(Spacer(1, 6))
            st.append(KeepTogether([self.H2(f"Predicted {r.target} against {best['node']}"), fig,
                                    self.P(cap, "caption")]))
        box = self.note_box("D5 Corrective actions", self.notes.get("corrective_action"),
                            placeholder="Not recorded. Decided corrective actions can be added with --notes.")
        st.append(KeepTogether([box]))
        return st

    def _warnings(self) -> list[str]:
        """Every warning, grouped (markup strings): data, rows and gaps, model, actions."""
        r, d = self.r, self.r.diagnostics
        out = []
        for p in d.get("data_problems") or []:
            where = ", ".join(x for x in (p.get("file"), f"column '{p['column']}'" if p.get("column") else None,
                                          f"row {p['row']}" if p.get("row") is not None else None) if x)
            out.append(f"<b>Data ({escape(str(p.get('severity', 'warning')))}).</b> "
                       f"{escape(where + ': ' if where else '')}{escape(str(p.get('message', '')))}")
        reasons = {"missing_time": "without a timestamp", "missing_target": "without a KPI value",
                   "missing_sensor": "with sensor gaps"}
        dropped = [f"{n:,} {reasons.get(k, k)}" for k, n in (d.get("dropped_rows") or {}).items() if n]
        imputed = [f"{c} {n:,}" for c, n in (d.get("imputed_cells") or {}).items() if n]
        if dropped or imputed:
            txt = []
            if dropped:
                txt.append("rows dropped: " + ", ".join(dropped))
            if imputed:
                txt.append(f"cells imputed (gap policy '{d.get('gaps_policy')}'): " + ", ".join(imputed))
            joined = "; ".join(txt)
            out.append("<b>Rows and gaps.</b> " + escape(joined[0].upper() + joined[1:] + "."))
        out += [f"<b>Model.</b> {escape(m)}" for m in d.get("messages") or []]
        near = [c["node"] for c in d.get("noise_checks") or [] if c.get("near_gaussian")]
        if near:
            out.append("<b>Model.</b> " + escape("Noise close to Gaussian for " + ", ".join(near) + ": the direction "
                       "of edges between them rests on the station order more than on the data."))
        uns = d.get("unstable_edges") or []
        if uns:
            out.append(f"<b>Model.</b> {len(uns)} candidate edge(s) appeared in some bootstrap resamples but not "
                       "often enough to be kept (listed under Edges).")
        if d.get("graph_source") == "given":
            out.append("<b>Model.</b> The causal graph was supplied or edited by the user; it was not discovered "
                       "from the data.")
        for a in r.actions:
            out += [f"<b>Action (range).</b> {escape(a['node'])}: {escape(w)}" for w in a.get("warnings") or []]
        return out

    def diagnostics(self) -> list:
        r, d = self.r, self.r.diagnostics
        st = [self.H1(SECTIONS[6])]
        st.append(self.H2("Warnings"))
        warns = self._warnings()
        st += self.bullets(warns, "sbullet", markup=True) if warns else [self.P("No warnings.", "small")]

        st.append(self.H2("Mechanisms"))
        st.append(self.P(
            "How each sensor is modelled from its causes, with the out-of-fold R² (share of its variance "
            "predicted on rows the model did not see; 1 is perfect, 0 no better than the mean). Pooled: learned "
            "on reference and incident rows together because the mechanism evidently did not change.", "small"))
        tab = [["Sensor", "Mechanism", "Causes", "R² (out of fold)", "Other candidates (R²)", "Pooled"]]
        for m in r.mechanisms:
            cands = ", ".join(f"{_SHORT.get(k, k)} {T.fmt_num(v, 2)}" for k, v in (m.get("candidates") or {}).items()
                              if k != m["kind"])
            tab.append([m["node"], _KINDS.get(m["kind"], m["kind"]), ", ".join(m.get("parents") or []) or "–",
                        T.fmt_num(m.get("oof_r2"), 2), cands or "–", "yes" if m.get("pooled") else ""])
        w = [38 * mm, 29 * mm, 46 * mm, 17 * mm, 30 * mm]
        w.append(TEXT_W - sum(w))
        st.append(self.table(tab, w, align_right=(3,)))

        st.append(self.H2("Edges"))
        st.append(self.P(
            "Effect: change of the downstream sensor per unit of the upstream one (± standard error), estimated "
            "with cross-fitting. Confidence: share of bootstrap resamples in which discovery found the edge.",
            "small"))
        tab = [["Cause → effect", "Stations", "Effect (± SE)", "Confidence", "Origin"]]
        for e in r.graph.get("edges", []):
            eff = e.get("effect")
            se = e.get("std_error")
            lv = e.get("level_effects")
            if lv:
                base = next((k for k, v in lv.items() if not v), None)
                eff_txt = (f"vs {base}: " if base else "") + ", ".join(
                    f"{k} {T.fmt_num(v, None)}" for k, v in lv.items() if k != base)
            else:
                eff_txt = T.fmt_num(eff, None) + (f" ± {float(se):.2g}" if se is not None else "")
            tab.append([f"{e['source']} → {e['target']}", f"{e.get('source_station')} → {e.get('target_station')}",
                        eff_txt, T.fmt_pct(e.get("confidence")) if e.get("confidence") is not None else "–",
                        str(e.get("origin") or "")])
        w = [64 * mm, 40 * mm, 32 * mm, 20 * mm]
        w.append(TEXT_W - sum(w))
        st.append(self.table(tab, w, align_right=(2, 3)))
        uns = d.get("unstable_edges") or []
        if uns:
            st.append(Spacer(1, 4))
            st.append(self.P("Candidate edges not kept (found in too few resamples): " + "; ".join(
                f"{u['source']} → {u['target']} ({T.fmt_pct(u.get('confidence'))})" for u in uns) + ".", "small"))

        checks = d.get("noise_checks") or []
        if checks:
            st.append(self.H2("Non-Gaussianity of the noise"))
            st.append(self.P(
                "Discovery reads causal directions from the shape of each sensor's noise, which works only when "
                "the noise is not Gaussian. A small p-value of the normality test means clearly non-Gaussian "
                "(good for discovery).", "small"))
            tab = [["Sensor", "Skewness", "Excess kurtosis", "Normality p-value", "Near Gaussian"]]
            for c in checks:
                p = c.get("p_value")
                p_txt = "< 1e-300" if p is not None and p < 1e-300 else (f"{p:.2g}" if p is not None else "–")
                tab.append([c["node"], T.fmt_num(c.get("skewness"), 2), T.fmt_num(c.get("excess_kurtosis"), 2),
                            p_txt, "yes: directions less certain" if c.get("near_gaussian") else "no"])
            w = [60 * mm, 22 * mm, 26 * mm, 28 * mm]
            w.append(TEXT_W - sum(w))
            st.append(self.table(tab, w, align_right=(1, 2, 3)))

        inv = d.get("invariance_checks") or []
        if inv:
            st.append(self.H2("Did a mechanism change? (invariance checks)"))
            st.append(self.P(
                "For sensors that looked anomalous under their reference-only mechanism: the shift of their "
                "incident residuals (in reference standard deviations) and their spread ratio under that "
                "mechanism and under the same kind of mechanism learned on both periods. "
                "When one mechanism explains both, it is pooled and the sensor is taken to have followed its "
                "causes.", "small"))
            tab = [["Sensor", "Shift (reference)", "Shift (pooled)", "Spread (reference)", "Spread (pooled)", "Pooled"]]
            for c in inv:
                tab.append([c["node"], T.fmt_num(c.get("shift_sd_reference"), 2), T.fmt_num(c.get("shift_sd_pooled"), 2),
                            T.fmt_num(c.get("sd_ratio_reference"), 2), T.fmt_num(c.get("sd_ratio_pooled"), 2),
                            "yes" if c.get("pooled") else "no"])
            w = [60 * mm, 22 * mm, 22 * mm, 26 * mm, 24 * mm]
            w.append(TEXT_W - sum(w))
            st.append(self.table(tab, w, align_right=(1, 2, 3, 4)))
        tm = d.get("timings") or {}
        if tm:
            st.append(Spacer(1, 4))
            st.append(self.P("Computing time: " + ", ".join(
                f"{k.replace('_s', '')} {v:.1f} s" for k, v in tm.items() if isinstance(v, (int, float))) + ".",
                "caption"))
        return st

    def assumptions(self) -> list:
        r = self.r
        stations = " → ".join(r.graph.get("stations") or [])
        exo = [n["name"] for n in r.graph["nodes"] if n.get("exogenous")]
        n = T.refits_used(r)
        items = [
            f"<b>Process order (tiers).</b> A sensor can only be caused by sensors of its own or an earlier station, "
            f"in the order of the layout: {escape(stations)}. Sensors declared exogenous are taken to have no causes "
            f"among the measured sensors ({escape(', '.join(exo)) or 'none'}). If the layout order is wrong, so is "
            "the graph.",
            "<b>No hidden common causes.</b> Every factor that drives two measured sensors is assumed to be measured "
            "too. An unmeasured common driver (ambient conditions, a shared utility, a shift change, a raw-material "
            "property nobody logs) can create or hide edges and put the blame on the sensor closest to it.",
            "<b>Rows are simultaneous snapshots.</b> Each row is treated as one unit or time window; delays between "
            "stations and carry-over from earlier rows are not modelled. Within a station, directions come from the "
            "shape of the noise (LiNGAM), which needs non-Gaussian variation.",
            "<b>What restoration means.</b> It is the model's counterfactual answer to “how much of the loss comes "
            "back if this sensor alone had behaved as in the reference period”. It points to where the change "
            "entered the process; it does not prove the sensor or its equipment is faulty, it does not say how to "
            "bring it back, and restorations of different sensors need not add up to 100% (effects interact). A "
            "value slightly above 100% or below 0% is within noise.",
            f"<b>What the intervals cover.</b> The 90% intervals come from {n} refits on resampled reference rows "
            "with the graph held fixed: they include the uncertainty of the fitted mechanisms, not that of the graph "
            "itself (edge confidences show that separately).",
            "<b>Actions only inside the observed range.</b> Setpoint predictions are made only for values the "
            "setpoint took in the reference period; the model does not extrapolate, and a best value at the edge of "
            "the range may lie beyond it. They assume the incident's disturbance persists and that the setpoint has "
            "no side effects outside the graph (other quality attributes, equipment limits). Confirm with a "
            "controlled trial before changing a standard.",
            "<b>Data.</b> Results rest on the rows used; dropped rows, imputed gaps and columns left out are listed "
            "under Model diagnostics.",
        ]
        return [self.H1(SECTIONS[7])] + self.bullets(items, markup=True)

    def appendix(self) -> list:
        from rca_app.core.analysis import AnalysisSettings

        r = self.r
        st = [CondPageBreak(110 * mm), self.H1(SECTIONS[8])]
        st.append(self.P(
            "Everything needed to reproduce the analysis. The analysis is deterministic for a seed: the same "
            "command on a file with the same SHA-256 and the same software versions gives the same numbers."))
        sw = r.software or {}
        st.append(self.H2("Software"))
        rows = [["Package", "Version"], [str(sw.get("name", "rca_app")), str(sw.get("version", "–"))]]
        rows += [[k, str(v)] for k, v in sw.items() if k not in ("name", "version")]
        st.append(self.table(rows, [45 * mm, 45 * mm]))
        inp = r.input
        st.append(self.H2("Input data"))
        sha = Paragraph(f'<font name="{MONO}">{escape(str(inp.get("sha256") or "–"))}</font>', self.st["cell"])
        rows = [["File name", inp.get("file") or "–"], ["Path", inp.get("path") or "–"],
                ["Size", T.fmt_bytes(inp.get("size_bytes"))], ["SHA-256", sha]]
        if inp.get("sheet") not in (None, ""):
            rows.append(["Sheet", str(inp["sheet"])])
        rows += [["Rows used", f"{int(inp.get('rows_used') or 0):,}"],
                 ["Gap policy", str(inp.get("gaps") or r.diagnostics.get("gaps_policy") or "–")]]
        if inp.get("dayfirst") is not None:
            rows.append(["Date order", "day first" if inp["dayfirst"] else "month first"])
        a, ref = r.anomaly, r.reference
        rows += [["Incident window", f"{T.fmt_window(a)} (rows {a['first_row']} to {a['stop_row'] - 1})"],
                 ["Reference window", f"{T.fmt_window(ref)} (rows {ref['first_row']} to {ref['stop_row'] - 1})"]]
        st.append(self.table(rows, [32 * mm, TEXT_W - 32 * mm], header=False, bold_first_col=True))

        st.append(self.H2("Settings"))
        rows = [["Setting", "Value"]]
        for k, v in (r.settings or {}).items():
            if k == "command":
                continue
            rows.append([k, ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)])
        if str(r.settings.get("seed")) != str(r.seed):
            rows.append(["seed (result)", str(r.seed)])
        rows.append(["result schema version", str(getattr(r, "schema_version", "–"))])
        st.append(self.table(rows, [55 * mm, TEXT_W - 55 * mm]))

        st.append(self.H2("Command"))
        cmd, recorded = T.reproduce_command(r)
        st.append(self.P("The command that produced this result:" if recorded else
                         "The result was not produced from the command line; this command reproduces it "
                         "(built from the recorded settings):", "small"))
        st.append(Preformatted(_wrap_command(cmd, 100), self.st["mono"]))
        # Settings the command line cannot set must match the defaults for the command to reproduce.
        defaults = AnalysisSettings().to_dict()
        on_cli = {"seed", "graph_bootstrap", "rank_bootstrap", "n_folds", "discovery_engine", "command"}
        off = [k for k, v in r.settings.items() if k not in on_cli and k in defaults and v != defaults[k]]
        if off:
            st.append(self.P("Note: the settings " + ", ".join(off) + " differ from the defaults and have no "
                             "command-line option; set them in the application to reproduce.", "small"))
        if r.diagnostics.get("graph_source") == "given":
            st.append(self.P("Note: the causal graph was supplied or edited by the user; the command above "
                             "rediscovers it instead.", "small"))

        lay = r.layout or {}
        st.append(self.H2(f"Layout ({lay.get('file') or 'layout'})"))
        st.append(Preformatted(lay.get("text") or "(layout text not recorded)", self.st["mono"],
                               maxLineLength=112, splitChars=" ,", newLineChars="    "))
        return st

    def story(self) -> list:
        self._h = 0
        return (self.title_block() + self.summary() + self.is_is_not() + self.causal_graph() + self.ranking()
                + [CondPageBreak(90 * mm)] + self.evidence() + self.actions() + [CondPageBreak(60 * mm)]
                + _keep_headed_tables(self.diagnostics()) + self.assumptions()
                + _keep_headed_tables(self.appendix()))

    def build(self, target: str) -> None:
        meta = dict(title=f"Root-cause investigation report {self.report_id}", author=self.author,
                    subject=f"{self.r.target} at {self.r.plant}, incident {T.fmt_window(self.r.anomaly)}",
                    creator=f"rca_app {rca_app.__version__}", keywords=["root cause", "8D", self.report_id])
        counter = io.BytesIO()
        doc = _Doc(counter, self.decorate, **meta)
        doc.build(self.story())
        self.total_pages = doc.page
        doc = _Doc(target, self.decorate, **meta)
        doc.build(self.story())
        if doc.page != self.total_pages:  # cannot happen with a deterministic story; never print a wrong total
            raise RuntimeError(f"page count changed between passes ({self.total_pages} -> {doc.page})")


def _keep_headed_tables(story: list) -> list:
    """Keep each sub-heading with its intro and a short table on one page; before a long table
    (which splits with its header repeated) only demand room for a few rows, so a half-empty
    page is not left behind. A heading alone at the foot of a page looks broken."""
    out, i = [], 0
    while i < len(story):
        f = story[i]
        if isinstance(f, Heading) and f.outline_level == 1:
            j = i + 1
            while j < len(story) and j <= i + 3 and not isinstance(story[j], (Table, Heading)):
                j += 1
            if j < len(story) and isinstance(story[j], Table):
                if len(story[j]._cellvalues) <= 16:
                    out.append(KeepTogether(story[i:j + 1]))
                    i = j + 1
                    continue
                # A long table may split; just make sure a few rows follow the heading.
                out.append(CondPageBreak(55 * mm))
        out.append(f)
        i += 1
    return out


def _clip(s: str, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def _wrap_command(cmd: str, width: int) -> str:
    """Break a long shell command into lines ending in `` \\`` so it still pastes into a shell."""
    import shlex

    try:
        tokens = shlex.split(cmd)
    except ValueError:
        return cmd
    parts = [shlex.quote(t) for t in tokens]
    # Keep an option together with its value.
    groups, i = [], 0
    while i < len(parts):
        if parts[i].startswith("--") and i + 1 < len(parts) and not parts[i + 1].startswith("--"):
            groups.append(f"{parts[i]} {parts[i + 1]}")
            i += 2
        else:
            groups.append(parts[i])
            i += 1
    lines, cur = [], ""
    for g in groups:
        if cur and len(cur) + 1 + len(g) > width - 2:
            lines.append(cur + " \\")
            cur = "    " + g
        else:
            cur = f"{cur} {g}" if cur else g
    lines.append(cur)
    return "\n".join(lines)


def build_report(result, data, out_path, notes: dict | None = None, author: str | None = None,
                 report_id: str | None = None) -> Path:
    """Write the investigation report of ``result`` to ``out_path`` atomically; returns the path."""
    from matplotlib import rc_context
    from reportlab import rl_config

    from rca_app.core.analysis import AnalysisResult

    if isinstance(result, dict):
        result = AnalysisResult.from_dict(result)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    register_fonts()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    # rcParams and rl_config are process-wide: one build at a time (the GUI builds in a worker thread).
    with _BUILD_LOCK:
        old_a85 = rl_config.useA85
        try:
            rl_config.useA85 = 0  # plain Flate streams: ASCII85 would add 25% for nothing
            with rc_context(figures.RC_PARAMS):
                ReportBuilder(result, data, notes, author, report_id).build(tmp)
            os.chmod(tmp, default_file_mode())
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            rl_config.useA85 = old_a85
    return out


__all__ = ["build_report", "register_fonts", "SECTIONS", "ReportBuilder"]

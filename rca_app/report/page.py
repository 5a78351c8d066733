"""The report's page: A4 geometry, colours, embedded fonts, paragraph styles, bookmarked
headings and the page template. Everything the sections share about how a page looks."""
from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

__all__ = [
    "PAGE_W", "PAGE_H", "MARGIN_X", "MARGIN_TOP", "MARGIN_BOTTOM", "TEXT_W", "FIG_W_IN",
    "NAVY", "GREY", "RULE", "ZEBRA", "NOTE_BG", "NOTE_EDGE", "RED", "HIGHLIGHT",
    "SANS", "SANS_B", "SANS_I", "SANS_BI", "MONO", "FIG_FONTS", "SECTIONS",
    "register_fonts", "make_styles", "markup", "Heading", "ReportDoc",
]

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
HIGHLIGHT = colors.HexColor("#fbe3e0")   # table rows that matter most (top cause, own shifts)

SANS, SANS_B, SANS_I, SANS_BI, MONO = "RcaSans", "RcaSans-Bold", "RcaSans-Oblique", "RcaSans-BoldOblique", "RcaMono"
FIG_FONTS = {(False, False): SANS, (True, False): SANS_B, (False, True): SANS_I, (True, True): SANS_BI}

SECTIONS = ["Summary", "Is / is not", "Causal graph", "Root-cause ranking", "Evidence", "Actions",
            "Model diagnostics", "Assumptions and limits", "Reproducibility appendix"]


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


def make_styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles by name: body, title, subtitle, h1, h2, small, caption, table cells, ..."""
    base = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=12.6, spaceAfter=5, alignment=TA_LEFT,
                          bulletFontName=SANS)
    return {
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


# Longest run of characters without a space shown in the report: names and levels come from
# data files, and a label of a megabyte would take minutes to lay out for nothing anyone reads.
# The JSON result keeps the full text.
MAX_WORD = 80


def clip_long_words(text: str, limit: int = MAX_WORD) -> str:
    """Every run of more than ``limit`` non-space characters cut to ``limit`` with an ellipsis."""
    return re.sub(rf"\S{{{limit + 1},}}", lambda m: m.group(0)[: limit - 1] + "…", text)


def markup(text: str) -> str:
    """Escape user/result text (over-long words clipped) and turn ``**x**`` into bold."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escape(clip_long_words(str(text))))


class Heading(Paragraph):
    """A section heading that also becomes a PDF bookmark."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str):
        super().__init__(escape(text), style)
        self.outline_text, self.outline_level, self.outline_key = text, level, key


class ReportDoc(BaseDocTemplate):
    """A4 with one text frame; ``decorate(canvas, doc)`` draws header and footer on every page.

    Parameters
    ----------
    target : str or file-like
        Where the PDF goes.
    decorate : callable
        Page decoration, called by reportlab for each page.
    **kw
        Document metadata (title, author, subject, creator, keywords).
    """

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

"""Building blocks the sections lay out: zebra tables, 8D note boxes, bullet lists, keeping a
sub-heading with its table, and a long shell command wrapped so it still pastes."""
from __future__ import annotations

import shlex
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Table, TableStyle

from rca_app.report.page import HIGHLIGHT, NAVY, NOTE_BG, NOTE_EDGE, RULE, TEXT_W, ZEBRA, Heading, markup

__all__ = ["table", "note_box", "bullets", "keep_headed_tables", "wrap_command"]

Styles = dict[str, ParagraphStyle]

_BREAK = "\x00"       # a line break chosen here, turned into <br/> after the text is escaped


def _break_at_underscores(text: str, width: float, font: str, size: float) -> str:
    """Words wider than ``width`` points broken at their underscores, so that a sensor name
    wraps between its parts ("reactor_feed_ / A_concentration"), never mid-word as reportlab
    does by itself. Words without underscores are left to reportlab."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def fit(word: str) -> str:
        if "_" not in word or stringWidth(word, font, size) <= width:
            return word
        lines, cur = [], ""
        for part in word.replace("_", "_\x01").split("\x01"):
            if cur and stringWidth(cur + part, font, size) > width:
                lines.append(cur)
                cur = ""
            cur += part
        lines.append(cur)
        return _BREAK.join(lines)

    return " ".join(fit(w) for w in text.split(" "))


def table(styles: Styles, rows: list[list], widths: list[float], header: bool = True,
          bold_first_col: bool = False, align_right: tuple[int, ...] = (),
          highlight_row: int | None = None, style: str = "cell") -> Table:
    """A table of wrapped paragraphs; the header repeats when the table splits across pages.

    Parameters
    ----------
    styles : dict
        The report's paragraph styles (:func:`~rca_app.report.page.make_styles`).
    rows : list of list
        Cells as text (escaped here, ``**x**`` bold) or ready flowables.
    widths : list of float
        Column widths in points.
    header : bool
        First row is a header (navy, repeated on each page).
    bold_first_col : bool
        Set the first column in bold (label/value tables).
    align_right : tuple of int
        Columns of numbers, right-aligned below the header.
    highlight_row : int, optional
        Row to tint (the top cause).
    style : str
        Paragraph style of body cells.

    Returns
    -------
    reportlab.platypus.Table
    """
    data = []
    for i, row in enumerate(rows):
        cells = []
        for j, v in enumerate(row):
            if hasattr(v, "wrap"):
                cells.append(v)
                continue
            sty = styles["head"] if header and i == 0 else (
                styles["cellb"] if (bold_first_col and j == 0) else styles[style])
            if j in align_right and not (header and i == 0):
                sty = ParagraphStyle(f"r{sty.name}", parent=sty, alignment=2)
            text = str(v)
            if j < len(widths) and widths[j]:
                text = _break_at_underscores(text, widths[j] - 7.0, sty.fontName, sty.fontSize)
            cells.append(Paragraph(markup(text).replace(_BREAK, "<br/>"), sty))
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
        cmds.append(("BACKGROUND", (0, highlight_row), (-1, highlight_row), HIGHLIGHT))
    t.setStyle(TableStyle(cmds))
    return t


def note_box(styles: Styles, label: str, value, placeholder: str | None = None) -> Table | None:
    """An engineer's note in a tinted box (8D field).

    Parameters
    ----------
    styles : dict
        The report's paragraph styles.
    label : str
        The box's title, e.g. "D3 Containment actions".
    value : str, list of str or None
        The note (a list prints as bullets); None shows ``placeholder``.
    placeholder : str, optional
        Grey text for an empty note; None leaves the box out.

    Returns
    -------
    Table or None
    """
    if value is None and placeholder is None:
        return None
    if value is None:
        lines = [f'<font color="#6b7680"><i>{escape(placeholder or "")}</i></font>']
    elif isinstance(value, list):
        lines = [f"• {escape(v)}" for v in value]
    else:
        lines = [escape(line) or "&nbsp;" for line in value.split("\n")]
    # One row per line, so a long note can split across pages (a table cell cannot).
    rows = [[Paragraph(f"<b>{escape(label)}</b>", styles["note"])]] + \
        [[Paragraph(line, styles["note"])] for line in lines]
    t = Table(rows, colWidths=[TEXT_W], hAlign="LEFT")
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), NOTE_BG),
                           ("BOX", (0, 0), (-1, -1), 0.6, NOTE_EDGE),
                           ("LEFTPADDING", (0, 0), (-1, -1), 7), ("RIGHTPADDING", (0, 0), (-1, -1), 7),
                           ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, 0), 5), ("BOTTOMPADDING", (0, -1), (-1, -1), 6)]))
    return t


def bullets(styles: Styles, items: list[str], style: str = "bullet", is_markup: bool = False) -> list:
    """One bulleted paragraph per item (escaped unless ``is_markup``)."""
    return [Paragraph(i if is_markup else markup(i), styles[style], bulletText="•") for i in items]


def keep_headed_tables(story: list) -> list:
    """Keep each sub-heading with its intro and a short table on one page.

    Before a long table (which splits with its header repeated) only room for a few rows is
    demanded, so a half-empty page is not left behind. A heading alone at the foot of a page
    looks broken.
    """
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


def wrap_command(cmd: str, width: int) -> str:
    """Break a long shell command into lines ending in `` \\`` so it still pastes into a shell."""
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

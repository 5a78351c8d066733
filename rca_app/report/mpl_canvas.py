"""Draw matplotlib figures straight onto a reportlab canvas, as vector graphics.

Neither svglib nor pdfrw is available, and a PNG is not vector. A matplotlib renderer is a
small interface (paths, text, images), so this module implements one on top of a reportlab
canvas: figures keep matplotlib's layout (ticks, date axes, legends) and come out as PDF
paths and real text in the report's embedded DejaVu font (searchable, sharp at any zoom).

The figure's dpi is fixed at 72 so one matplotlib pixel is one PDF point. Text is measured
by matplotlib with the same DejaVu TTF files reportlab embeds, so alignment matches.
"""
from __future__ import annotations

import numpy as np
from matplotlib.backend_bases import GraphicsContextBase, RendererBase
from matplotlib.path import Path as MplPath
from reportlab.pdfgen.canvas import FILL_NON_ZERO
from reportlab.platypus import Flowable

_CAPS = {"butt": 0, "round": 1, "projecting": 2}
_JOINS = {"miter": 0, "round": 1, "bevel": 2}
_IMAGE_MAG = 300 / 72  # raster artists (rare here) are resampled at 300 dpi


class ReportlabRenderer(RendererBase):
    """A matplotlib renderer whose output is reportlab canvas operations."""

    def __init__(self, canv, width: float, height: float, fonts: dict[tuple[bool, bool], str]):
        super().__init__()
        self.canv = canv
        self.width = width
        self.height = height
        self.fonts = fonts  # (bold, italic) -> registered reportlab font name

    # --- geometry and metrics ---------------------------------------------------------
    def flipy(self):
        return False  # PDF and matplotlib display coordinates both grow upwards

    def get_canvas_width_height(self):
        return self.width, self.height

    def points_to_pixels(self, points):
        return points  # dpi is 72

    def option_scale_image(self):
        return True

    def get_image_magnification(self):
        return _IMAGE_MAG

    def new_gc(self):
        return GraphicsContextBase()

    # --- state ------------------------------------------------------------------------
    def _apply_clip(self, gc) -> None:
        c = self.canv
        rect = gc.get_clip_rectangle()
        if rect is not None:
            x0, y0, w, h = rect.bounds
            p = c.beginPath()
            p.rect(x0, y0, w, h)
            c.clipPath(p, stroke=0, fill=0)
        path, tr = gc.get_clip_path()
        if path is not None:
            p = c.beginPath()
            self._trace(p, path, tr.get_affine(), clip=None, simplify=False)
            c.clipPath(p, stroke=0, fill=0, fillMode=FILL_NON_ZERO)

    def _stroke_style(self, gc) -> bool:
        """Set stroke colour, width, dashes; return whether the path is stroked at all."""
        c = self.canv
        lw = gc.get_linewidth()
        rgb = gc.get_rgb()
        alpha = gc.get_alpha() if gc.get_forced_alpha() else rgb[3]
        if lw <= 0 or alpha <= 0:
            return False
        c.setStrokeColorRGB(*rgb[:3])
        c.setStrokeAlpha(float(alpha))
        c.setLineWidth(lw)
        c.setLineCap(_CAPS.get(gc.get_capstyle(), 0))
        c.setLineJoin(_JOINS.get(gc.get_joinstyle(), 0))
        offset, dashes = gc.get_dashes()
        if dashes is not None and len(dashes):
            c.setDash([float(d) for d in dashes], float(offset or 0))
        return True

    def _fill_style(self, gc, rgbFace) -> bool:
        if rgbFace is None:
            return False
        alpha = gc.get_alpha() if gc.get_forced_alpha() else (rgbFace[3] if len(rgbFace) > 3 else 1.0)
        if alpha <= 0:
            return False
        self.canv.setFillColorRGB(*rgbFace[:3])
        self.canv.setFillAlpha(float(alpha))
        return True

    @staticmethod
    def _trace(p, path, transform, clip, simplify) -> None:
        last = (0.0, 0.0)
        for verts, code in path.iter_segments(transform, clip=clip, simplify=simplify, curves=True):
            if code == MplPath.MOVETO:
                p.moveTo(*verts)
                last = tuple(verts)
            elif code == MplPath.LINETO:
                p.lineTo(*verts)
                last = tuple(verts)
            elif code == MplPath.CURVE3:
                # PDF has only cubic Béziers: raise the quadratic's degree.
                (cx, cy, x, y), (x0, y0) = verts, last
                p.curveTo(x0 + 2 / 3 * (cx - x0), y0 + 2 / 3 * (cy - y0),
                          x + 2 / 3 * (cx - x), y + 2 / 3 * (cy - y), x, y)
                last = (x, y)
            elif code == MplPath.CURVE4:
                p.curveTo(*verts)
                last = tuple(verts[4:6])
            elif code == MplPath.CLOSEPOLY:
                p.close()

    # --- drawing ----------------------------------------------------------------------
    def draw_path(self, gc, path, transform, rgbFace=None):
        c = self.canv
        c.saveState()
        try:
            self._apply_clip(gc)
            stroke = self._stroke_style(gc)
            fill = self._fill_style(gc, rgbFace)
            if not (stroke or fill):
                return
            # Like matplotlib's PDF backend: clip unfilled paths to the page and simplify
            # long lines (a 10,000-point trend collapses to what is visible).
            clip = None if fill else (-1.0, -1.0, self.width + 1, self.height + 1)
            p = c.beginPath()
            self._trace(p, path, transform, clip=clip, simplify=path.should_simplify and not fill)
            c.drawPath(p, stroke=int(stroke), fill=int(fill), fillMode=FILL_NON_ZERO)
        finally:
            c.restoreState()

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:
            # Mathtext has its own glyph layout: let matplotlib turn it into paths.
            return self._draw_text_as_path(gc, x, y, s, prop, angle, ismath, mtext)
        weight = prop.get_weight()
        bold = weight in ("bold", "heavy", "extra bold", "black", "semibold", "demibold", "demi") or (
            isinstance(weight, (int, float)) and weight >= 600)
        italic = prop.get_style() in ("italic", "oblique")
        font = self.fonts.get((bold, italic)) or self.fonts[(False, False)]
        rgb = gc.get_rgb()
        alpha = gc.get_alpha() if gc.get_forced_alpha() else rgb[3]
        c = self.canv
        c.saveState()
        try:
            self._apply_clip(gc)
            c.setFillColorRGB(*rgb[:3])
            c.setFillAlpha(float(alpha))
            c.translate(x, y)
            if angle:
                c.rotate(angle)
            c.setFont(font, prop.get_size_in_points())
            c.drawString(0, 0, s)
        finally:
            c.restoreState()

    def draw_image(self, gc, x, y, im, transform=None):
        from PIL import Image
        from reportlab.lib.utils import ImageReader

        h, w = im.shape[:2]
        if h == 0 or w == 0:
            return
        img = Image.fromarray(np.asarray(im), "RGBA")  # top row first, as PDF images are
        c = self.canv
        c.saveState()
        try:
            self._apply_clip(gc)
            if transform is None:
                c.drawImage(ImageReader(img), x, y, w / _IMAGE_MAG, h / _IMAGE_MAG, mask="auto")
            else:
                a, b, cc, d, e, f = transform.frozen().to_values()
                c.transform(1, 0, 0, 1, x, y)
                c.transform(a, b, cc, d, e, f)
                c.drawImage(ImageReader(img), 0, 0, 1, 1, mask="auto")
        finally:
            c.restoreState()


def _clip_texts(fig) -> None:
    """Clip every text of the figure (labels, legends, ticks) the way report text is clipped:
    a legend entry a megabyte long would take minutes to measure."""
    from matplotlib.text import Text

    from rca_app.report.page import clip_long_words

    for t in fig.findobj(Text):
        s = t.get_text()
        if len(s) > 40:
            t.set_text(clip_long_words(s[:2000]))


class FigureFlowable(Flowable):
    """A matplotlib figure as a platypus flowable, drawn as vector graphics.

    The figure is laid out once with Agg metrics at 72 dpi, then the layout engine is
    switched off so drawing on the PDF canvas cannot move anything."""

    def __init__(self, fig, fonts: dict[tuple[bool, bool], str]):
        super().__init__()
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig.set_dpi(72)
        _clip_texts(fig)
        FigureCanvasAgg(fig)
        fig.canvas.draw()
        fig.set_layout_engine("none")
        self.fig = fig
        self.fonts = fonts
        self.fig_width, self.fig_height = (float(v) * 72 for v in fig.get_size_inches())

    def wrap(self, availWidth, availHeight):
        return self.fig_width, self.fig_height

    def draw(self):
        renderer = ReportlabRenderer(self.canv, self.fig_width, self.fig_height, self.fonts)
        self.fig.draw(renderer)

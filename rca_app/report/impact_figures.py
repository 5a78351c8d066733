"""Figures of the verification section: the KPI after the change against the KPI without it
(with the conformal bands), and the recovery since the incident as a waterfall."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from rca_app.app.formatting import short_label
from rca_app.app.verify_view import impact_plot, waterfall
from rca_app.core.impact_records import ImpactResult
from rca_app.report.figures import BLUE, GREEN, GREY, NAVY, RED

KIND_COLOURS = {"change": GREEN, "upstream": BLUE, "unexplained": GREY, "interactions": "#b8bec4", "total": NAVY}


def _rolling(v: np.ndarray, w: int) -> np.ndarray:
    if w <= 1 or len(v) < w:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    out = np.full(len(v), np.nan)
    out[w - 1:] = (c[w:] - c[:-w]) / w
    return out


def impact_figure(r: ImpactResult, width_in: float, unit: str = "") -> Figure:
    """Left: the KPI after the change, observed (rolling mean) and without the change, with the
    per-unit conformal band and the band of the window mean. Right: the recovery waterfall."""
    p = impact_plot(r)
    fig = Figure(figsize=(width_in, 2.9), layout="constrained")
    ax, wx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1.0]})
    x = np.arange(len(p["observed"]))
    w = max(1, len(x) // 25)
    obs, cf = np.asarray(p["observed"]), np.asarray(p["counterfactual"])
    ax.fill_between(x, p["band_low"], p["band_high"], color="#d5dbe1", lw=0, label=p["labels"]["band"])
    lo, hi = p["mean_band"]
    ax.axhspan(lo, hi, color="#f3c9c4", alpha=0.7, lw=0, label=p["labels"]["mean_band"])
    ax.plot(x, obs, color=NAVY, lw=0.4, alpha=0.35)
    ax.plot(x, _rolling(obs, w), color=NAVY, lw=1.4, label=p["labels"]["observed"] + f" ({w}-row mean)")
    ax.plot(x, _rolling(cf, w), color=RED, lw=1.4, ls="--", label=p["labels"]["counterfactual"] + f" ({w}-row mean)")
    # Scale to the bands and the means, not to single outlying units.
    lows = np.concatenate([p["band_low"], [lo]])
    highs = np.concatenate([p["band_high"], [hi]])
    y0 = min(np.nanpercentile(lows, 2), np.nanpercentile(obs, 2))
    y1 = max(np.nanpercentile(highs, 98), np.nanpercentile(obs, 98))
    pad = 0.08 * ((y1 - y0) or 1.0)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_xlabel("rows after the change")
    ax.set_ylabel(r.target + (f" ({unit})" if unit else ""))
    ax.set_title("KPI after the change")
    ax.grid(True, color="#e3e6e9", lw=0.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1, fontsize=6)
    bars = waterfall(r)
    ys = np.arange(len(bars))[::-1]
    for y, b in zip(ys, bars, strict=True):
        lo_, hi_ = sorted((b.start, b.end))
        if b.kind == "total":
            wx.plot([b.end], [y], "s", color=NAVY, ms=5)
            wx.text(b.end, y + 0.28, f"{b.end:.4g}", ha="center", fontsize=6, color=NAVY)
        else:
            wx.barh(y, hi_ - lo_, left=lo_, color=KIND_COLOURS.get(b.kind, GREY), height=0.6)
            wx.text(hi_, y, f" {b.end - b.start:+.3g}", va="center", fontsize=6)
    wx.set_yticks(ys, [short_label(b.label, 34) for b in bars])
    totals = [b.end for b in bars] + [b.start for b in bars if b.kind != "total"]
    span = (max(totals) - min(totals)) or 1.0
    wx.set_xlim(min(totals) - 0.1 * span, max(totals) + 0.3 * span)
    wx.set_xlabel(r.target + (f" ({unit})" if unit else ""))
    wx.set_title("Recovery since the incident")
    wx.grid(True, axis="x", color="#e3e6e9", lw=0.5)
    return fig

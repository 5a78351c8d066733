"""The report's figures, as matplotlib Figures (drawn as vectors by :mod:`mpl_canvas`).

Figures are created with ``matplotlib.figure.Figure`` (no pyplot: no global state, nothing
to close) and sized in inches to the report's text width.
"""
from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from rca_app.app.graph_geometry import station_layout
from rca_app.app.graph_view import station_gaps
from rca_app.core.results import AnalysisResult
from rca_app.core.rootcause import Action
from rca_app.report.text import cause_label, fmt_pct, node_info, unit_of

# Colours: one accent for the root cause, one for the KPI; the rest stays quiet.
RED = "#c0392b"
RED_LIGHT = "#f6d5d1"
NAVY = "#1f3b5a"
GREY = "#8a949e"
GREY_LIGHT = "#eef1f4"
GREEN = "#2e7d4f"
GREEN_LIGHT = "#dcefe3"
BLUE = "#3a6ea5"
INCIDENT = "#f3c9c4"

RC_PARAMS = {
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 8,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 7.5,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "text.parse_math": False,      # sensor names may contain '$'
    "text.hinting": "no_hinting",  # metrics must match the unhinted glyphs reportlab embeds
    "figure.dpi": 72,
    "svg.fonttype": "none",
}


def _wrap_name(name: str, width: int) -> str:
    """Break a sensor name at underscores (or anywhere if it must) to fit ``width`` chars."""
    if len(name) <= width:
        return name
    parts = name.replace("_", "_\x00").split("\x00")
    lines, cur = [], ""
    for p in parts:
        if cur and len(cur) + len(p) > width:
            lines.append(cur)
            cur = ""
        cur += p
    lines.append(cur)
    out = []
    for line in lines:
        out += textwrap.wrap(line, width, break_on_hyphens=False) or [line]
    return "\n".join(out)


# --- causal graph -------------------------------------------------------------------------

def causal_graph(result: AnalysisResult, width_in: float, max_height_in: float = 8.5) -> Figure:
    """Nodes placed by :func:`station_layout` in station bands; the top cause's paths to the
    KPI in red, arrow width by edge confidence."""
    g = result.graph
    pos = station_layout(g)
    stations = list(g.stations)
    tiers = sorted({int(n.tier) for n in g.nodes})
    n_cols = max(len(stations), (max(tiers) + 1) if tiers else 1)
    per_tier: dict[int, int] = {}
    for n in g.nodes:
        per_tier[int(n.tier)] = per_tier.get(int(n.tier), 0) + 1
    k_max = max(per_tier.values()) if per_tier else 1
    height = min(max_height_in, max(2.8, 0.52 * k_max + 1.0))

    band_pt = width_in * 72 / n_cols
    fs = 6.5 if band_pt >= 75 else 5.5
    # Many sensors in one station: shrink the labels so the boxes do not overlap vertically.
    fs = max(3.5, min(fs, (height * 72 * 0.9 / k_max) / 3.0))
    chars = max(8, int(band_pt * 0.84 / (0.6 * fs)))

    top = result.top_cause
    path_edges: set[tuple[str, str]] = set()
    if top:
        for p in top.evidence.paths:
            path_edges |= set(zip(p[:-1], p[1:], strict=True))
    ranked = [c.node for c in result.root_causes[:3]]

    fig = Figure(figsize=(width_in, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.5, n_cols - 0.5)
    head = 0.42 / height  # room for station names, in axis units
    ax.set_ylim(-0.04, 1 + head)
    ax.axis("off")

    for i in range(n_cols):
        ax.axvspan(i - 0.5, i + 0.5, color=GREY_LIGHT if i % 2 == 0 else "white", lw=0, zorder=0)
        name = stations[i] if i < len(stations) else f"tier {i}"
        ax.text(i, 1 + head * 0.55, "\n".join(textwrap.wrap(name, chars + 2)) or name, ha="center",
                va="center", fontsize=fs + 0.5, fontweight="bold", color="#44505c", zorder=1)
    ax.axhline(1 + head * 0.1, color="#c8ced4", lw=0.6, zorder=1)
    # The residence time from each station to the next, on the boundary under the names
    # ("≈": estimated from the data), as the window's graph shows it.
    for gap in station_gaps(stations, result):
        ax.text(gap["after"] + 0.5, 1 + head * 0.1, gap["text"], ha="center", va="center", fontsize=fs - 0.5,
                color=RECYCLE_COLOR, zorder=5, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#c8ced4", lw=0.4))

    boxes = {}
    for n in g.nodes:
        name = n.name
        x, y = pos[name]
        fc, ec, tc, lw, weight = "white", "#6b7680", "#222222", 0.7, "normal"
        if name == result.target:
            fc, ec, tc, weight = NAVY, NAVY, "white", "bold"
        elif top and name == top.node:
            fc, ec, lw, weight = RED_LIGHT, RED, 1.6, "bold"
        elif name in ranked:
            ec, lw = "#d98c3a", 1.3
        if n.controllable and name != result.target:
            ec = GREEN if not (top and name == top.node) else ec
            lw = max(lw, 1.3)
        label = ax.text(x, y, _wrap_name(name, chars), ha="center", va="center", fontsize=fs, color=tc,
                    fontweight=weight, zorder=4, linespacing=1.05,
                    bbox=dict(boxstyle="round,pad=0.35", fc=fc, ec=ec, lw=lw,
                              ls="--" if n.categorical else "-"))
        boxes[name] = label
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()  # size the text boxes so arrows can stop at their edges

    for e in g.edges:
        s, t = e.source, e.target
        if s not in pos or t not in pos:
            continue
        (x0, y0), (x1, y1) = pos[s], pos[t]
        hot = (s, t) in path_edges
        conf = e.confidence
        conf = 1.0 if conf is None else float(conf)
        if x0 == x1:
            # Same station: bow out to the right, further when other sensors sit in between.
            between = sum(1 for m, (xm, ym) in pos.items() if xm == x0 and min(y0, y1) < ym < max(y0, y1))
            rad = (0.2 if between == 0 else 0.55 + 0.1 * min(between, 3)) * (1 if y1 > y0 else -1)
        elif abs(x1 - x0) > 1:
            rad = -0.18                          # long edges: arc around the stations between
        else:
            rad = 0.06
        arrow = FancyArrowPatch(
            (x0, y0), (x1, y1), patchA=boxes[s].get_bbox_patch(), patchB=boxes[t].get_bbox_patch(),
            arrowstyle="-|>", mutation_scale=7 if not hot else 9, connectionstyle=f"arc3,rad={rad}",
            lw=(2.0 if hot else 0.4 + 1.1 * conf), color=RED if hot else GREY,
            alpha=1.0 if hot else 0.45 + 0.5 * conf,
            linestyle="-" if conf >= 0.5 and not e.undetermined else (0, (3, 2)),
            zorder=3 if hot else 2, shrinkA=1, shrinkB=1)
        ax.add_patch(arrow)
    _draw_dynamics(ax, result, pos, boxes, fs)
    return fig


# Over-time links drawn apart from the same-time graph: recycles as purple arcs under the
# stations (they run against the flow) and control loops as green arcs between the pair.
RECYCLE_COLOR = "#7b3fa0"
PROPOSED_LOOP_COLOR = "#b5179e"      # as the window draws what the data propose and the layout lacks


# Above this many lagged edges between sensors the figure draws them thin and unlabelled: the
# appendix table lists each (TE: 60 recycle edges whose labels buried the sensor names).
MAX_LABELLED_LAGGED = 8


def _draw_dynamics(ax, result: AnalysisResult, pos: dict, boxes: dict, fs: float) -> None:
    dyn = result.dynamics
    if dyn is None:
        return
    # Self-lags: most sensors of a time series carry their own past; the appendix lists them.
    cross = [le for le in dyn.lagged_edges if le.kind != "self" and le.source in pos and le.target in pos]
    many = len(cross) > MAX_LABELLED_LAGGED
    labelled: set[tuple] = set()
    for le in cross:
        (x0, y0), (x1, y1) = pos[le.source], pos[le.target]
        # Solid only where the model uses the edge (as the window draws it): a lagged edge the
        # model leaves out is a finding, not a path restorations travel.
        arrow = FancyArrowPatch(
            (x0, y0), (x1, y1), patchA=boxes[le.source].get_bbox_patch(),
            patchB=boxes[le.target].get_bbox_patch(), arrowstyle="-|>", mutation_scale=5 if many else 8,
            connectionstyle="arc3,rad=0.5", lw=0.5 if many else 1.2, color=RECYCLE_COLOR,
            alpha=0.45 if many else 1.0, zorder=3,
            linestyle="-" if le.in_model else (0, (3, 2)), shrinkA=1, shrinkB=1)
        ax.add_patch(arrow)
        # One label per stream (station pair, lag, kind), not per sensor pair.
        group = (x0, x1, le.lag, le.kind)
        if many or group in labelled:
            continue
        labelled.add(group)
        # Label at the arc's apex. matplotlib's arc3 bends in display space: the apex of its
        # quadratic curve is the chord's midpoint moved by rad/2 times the rotated chord.
        (d0x, d0y), (d1x, d1y) = ax.transData.transform([(x0, y0), (x1, y1)])
        apex = ((d0x + d1x) / 2 + 0.25 * (d1y - d0y), (d0y + d1y) / 2 - 0.25 * (d1x - d0x))
        lx, ly = ax.transData.inverted().transform(apex)
        ax.text(lx, ly, f"recycle {le.lag}" + ("" if le.kind == "recycle" else " (proposed)"),
                fontsize=fs - 0.5, color=RECYCLE_COLOR, ha="center", va="center", zorder=5,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    if many:
        n_model = sum(1 for le in cross if le.in_model)
        ax.text(0.995, 0.005, f"{len(cross)} lagged edges (thin purple arcs; {n_model} in the model), "
                "listed in the appendix", transform=ax.transAxes, ha="right", va="bottom", fontsize=fs,
                color=RECYCLE_COLOR, zorder=6, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9))
    def loop_arrow(lp, color, linestyle) -> bool:
        """The controller's feedback between a loop's valve and the variable it holds (False:
        one of them is not drawn)."""
        if lp.controlled not in pos or lp.manipulated not in pos:
            return False
        ax.add_patch(FancyArrowPatch(
            pos[lp.manipulated], pos[lp.controlled], patchA=boxes[lp.manipulated].get_bbox_patch(),
            patchB=boxes[lp.controlled].get_bbox_patch(), arrowstyle="<|-|>", mutation_scale=7,
            connectionstyle="arc3,rad=-0.5", lw=1.0, color=color, zorder=3, linestyle=linestyle,
            shrinkA=1, shrinkB=1))
        return True

    for lp in dyn.loops:
        loop_arrow(lp, GREEN, (0, (1, 1.5)))
    # Loops the data show but the layout does not declare: dashed, labelled, never used by the model.
    for lp in dyn.proposed_loops:
        if not loop_arrow(lp, PROPOSED_LOOP_COLOR, (0, (3, 2))):
            continue
        (x0, y0), (x1, y1) = pos[lp.manipulated], pos[lp.controlled]
        (d0x, d0y), (d1x, d1y) = ax.transData.transform([(x0, y0), (x1, y1)])
        # The arc's apex (arc3 bends in display space, by rad/2 of the rotated chord; rad = -0.5).
        apex = ((d0x + d1x) / 2 - 0.25 * (d1y - d0y), (d0y + d1y) / 2 + 0.25 * (d1x - d0x))
        lx, ly = ax.transData.inverted().transform(apex)
        ax.text(lx, ly, "loop (proposed)", fontsize=fs - 0.5, color=PROPOSED_LOOP_COLOR, ha="center", va="center",
                zorder=5, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))


# --- ranking ------------------------------------------------------------------------------

def ranking_chart(result: AnalysisResult, width_in: float, n_max: int = 12) -> Figure:
    causes = result.root_causes[:n_max]
    n = len(causes)
    fig = Figure(figsize=(width_in, max(1.6, 0.26 * n + 0.75)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    # A cause without a restoration (``no_restoration``: an origin the model has no path from) gets
    # no bar and says so: a bar at 0 would read as "explains nothing".
    none = np.array([bool(c.no_restoration) for c in causes], dtype=bool)
    vals = np.array([0.0 if x else 100 * c.restoration for c, x in zip(causes, none, strict=True)])
    lo = np.array([0.0 if x else 100 * c.restoration_ci[0] for c, x in zip(causes, none, strict=True)])
    hi = np.array([0.0 if x else 100 * c.restoration_ci[1] for c, x in zip(causes, none, strict=True)])
    colors = [RED if i == 0 else BLUE for i in range(n)]
    ax.barh(y[~none], vals[~none], color=[c for c, x in zip(colors, none, strict=True) if not x], height=0.62,
            alpha=0.9, zorder=2)
    ax.errorbar(vals[~none], y[~none], xerr=np.vstack([np.maximum(vals - lo, 0), np.maximum(hi - vals, 0)])[:, ~none],
                fmt="none", ecolor="#222222", elinewidth=0.8, capsize=2.5, zorder=3)
    ax.set_yticks(y, [f"{cause_label(result, c.node)}  ({c.station})" for c in causes])
    finite_lo, finite_hi = lo[np.isfinite(lo)], hi[np.isfinite(hi)]
    left = min(0.0, float(finite_lo.min()) if finite_lo.size else 0.0)
    right = max(100.0, float(finite_hi.max()) if finite_hi.size else 100.0)
    span = right - left
    ax.set_xlim(left - 0.02 * span, right + 0.12 * span)
    ax.axvline(0, color="#555555", lw=0.6, zorder=1)
    ax.axvline(100, color=GREY, lw=0.6, ls=":", zorder=1)
    ax.text(100, y.max() + 0.6 if n else 0.6, " whole loss", color=GREY, fontsize=6.5, va="bottom",
            ha="center")
    for yi, v, h, x in zip(y, vals, hi, none, strict=True):
        label = "no restoration computed: where the disturbance entered" if x else fmt_pct(v / 100)
        ax.text(max(v, h) + 0.01 * span, yi, label, va="center", fontsize=6.5, color="#555555" if x else "#222222")
    ax.set_xlabel("restoration: share of the KPI loss that comes back (%), with 90% interval")
    ax.xaxis.grid(True, color="#e3e6e9", lw=0.5, zorder=0)
    ax.set_ylim(-0.6, (y.max() if n else 0) + 1.0)
    ax.tick_params(axis="y", length=0)
    return fig


# --- trends -------------------------------------------------------------------------------

def _envelope(x: np.ndarray, v: np.ndarray, max_points: int = 1200):
    """Thin a long series to per-bucket min and max, which keeps spikes a plain stride drops."""
    n = len(v)
    if n <= max_points:
        return x, v
    k = int(np.ceil(n / (max_points / 2)))
    m = n // k * k
    xb = x[:m].reshape(-1, k)
    vb = v[:m].reshape(-1, k)
    imin = np.nanargmin(np.where(np.isnan(vb), np.inf, vb), axis=1)
    imax = np.nanargmax(np.where(np.isnan(vb), -np.inf, vb), axis=1)
    rows = np.arange(len(vb))
    first = np.minimum(imin, imax)
    second = np.maximum(imin, imax)
    xs = np.column_stack([xb[rows, first], xb[rows, second]]).ravel()
    vs = np.column_stack([vb[rows, first], vb[rows, second]]).ravel()
    return np.concatenate([xs, x[m:]]), np.concatenate([vs, v[m:]])


def _rolling(v: np.ndarray, w: int) -> np.ndarray:
    if w <= 1 or len(v) < w:
        return v
    c = np.convolve(np.nan_to_num(v), np.ones(w) / w, mode="same")
    half = w // 2
    c[:half] = np.nan
    c[len(c) - half:] = np.nan
    return c


def display_rows(result: AnalysisResult, n_rows: int) -> tuple[int, int, bool]:
    """Rows to plot: reference and incident, with a very long reference cut to the part
    right before the incident (so the incident is not a sliver). Returns (start, stop, cut)."""
    a, r = result.anomaly, result.reference
    lo = min(a.first_row, r.first_row)
    hi = min(n_rows, max(a.stop_row, r.stop_row))
    n_inc = a.stop_row - a.first_row
    cut = False
    if r.stop_row <= a.first_row and a.first_row - lo > 10 * n_inc:
        lo, cut = a.first_row - 10 * n_inc, True
    return lo, hi, cut


def trend_figure(result: AnalysisResult, data, node: str, width_in: float) -> Figure:
    """The node (top) and the KPI (bottom) over reference and incident, incident shaded."""
    frame = data.frame
    lo, hi, _ = display_rows(result, len(frame))
    if data.time is not None:
        x = data.time.iloc[lo:hi].to_numpy()
        if getattr(data.time.dt, "tz", None) is not None:
            x = data.time.iloc[lo:hi].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    else:
        x = np.arange(lo, hi)
    a, r = result.anomaly, result.reference
    info = node_info(result)
    fig = Figure(figsize=(width_in, 3.0), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    n = hi - lo
    w = max(3, n // 60)

    def xat(row: int):
        i = min(max(row - lo, 0), n - 1)
        return x[i]

    for ax, name in zip(axes, (node, result.target), strict=True):
        node_rec = info.get(name)
        unit = (node_rec.unit or "") if node_rec is not None else ""
        ax.axvspan(xat(a.first_row), xat(a.stop_row - 1), color=INCIDENT, alpha=0.6, lw=0, zorder=0)
        col = frame[name].iloc[lo:hi]
        if node_rec is not None and node_rec.categorical:
            levels = sorted(col.astype(str).unique())
            for j, lvl in enumerate(levels):
                share = 100 * _rolling((col.astype(str) == lvl).to_numpy(float), max(w, 12))
                step = max(1, n // 700)
                ax.plot(x[::step], share[::step], lw=1.1, label=lvl, color=f"C{j % 10}")
            ax.set_ylabel("share of rows (%)")
            ax.set_ylim(-3, 103)
            ax.legend(loc="upper left", ncols=min(len(levels), 5), handlelength=1.2)
        else:
            v = col.to_numpy(float)
            xe, ve = _envelope(x, v)
            ax.plot(xe, ve, lw=0.35, color="#9aa6b2", zorder=1)
            step = max(1, n // 700)  # the rolling mean is smooth: a stride loses nothing visible
            ax.plot(x[::step], _rolling(v, w)[::step], lw=1.2, color=RED if name == node else NAVY, zorder=2)
            ref = frame[name].iloc[r.first_row:r.stop_row].to_numpy(float)
            ax.axhline(np.nanmean(ref), color=GREEN, lw=0.8, ls="--", zorder=2)
            ax.set_ylabel(unit or "value")
        title = f"{name}" + (" (KPI)" if name == result.target else "")
        z = next((c.evidence.noise_shift_z for c in result.root_causes if c.node == name), None)
        if name != result.target and z is not None:
            title += f"   ·   noise z-score {z:+.2f}"
        ax.set_title(title, fontsize=7.5)
        ax.margins(x=0.005)
    # Label the periods once, in the top panel.
    top = axes[0]
    trans = top.get_xaxis_transform()
    top.text(xat(a.first_row), 1.02, " incident", transform=trans, fontsize=6.5, color=RED,
             va="bottom", ha="left")
    if data.time is not None:
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        loc = AutoDateLocator(minticks=4, maxticks=9)
        axes[1].xaxis.set_major_locator(loc)
        axes[1].xaxis.set_major_formatter(ConciseDateFormatter(loc))
    else:
        axes[1].set_xlabel("row")
    return fig


# --- actions ------------------------------------------------------------------------------

def action_curve(result: AnalysisResult, action: Action, width_in: float) -> Figure:
    """Predicted KPI against the setpoint over the reference range."""
    unit = unit_of(result, action.node)
    kunit = unit_of(result, result.target)
    a = result.anomaly
    fig = Figure(figsize=(width_in, 2.5), layout="constrained")
    ax = fig.add_subplot()
    curve = action.curve
    categorical = any(isinstance(p[0], str) for p in curve) or isinstance(action.recommended_value, str)
    ax.axhline(a.target_reference_mean, color=GREEN, lw=0.9, ls="--", label="KPI in reference period")
    ax.axhline(a.target_anomaly_mean, color=RED, lw=0.9, ls="--", label="KPI during incident")
    lo_ci, hi_ci = action.predicted_target_ci
    if categorical:
        labels = [str(p[0]) for p in curve]
        vals = [float(p[1]) for p in curve]
        colors = [GREEN if lab == str(action.recommended_value) else BLUE for lab in labels]
        # Dots, not bars: the axis does not start at zero, and truncated bars mislead.
        xs = np.arange(len(labels))
        ax.scatter(xs, vals, c=colors, s=42, zorder=3)
        ax.set_xticks(xs, labels)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        lo_y = min(vals + [a.target_anomaly_mean, a.target_reference_mean])
        hi_y = max(vals + [a.target_anomaly_mean, a.target_reference_mean])
        pad = 0.15 * (hi_y - lo_y or 1)
        ax.set_ylim(lo_y - pad, hi_y + pad)
        ax.set_xlabel(action.node)
    else:
        xs = np.array([float(p[0]) for p in curve])
        ys = np.array([float(p[1]) for p in curve])
        rlo, rhi = (float(v) for v in action.reference_range)
        ax.axvspan(rlo, rhi, color=GREEN_LIGHT, lw=0, zorder=0, label="reference range (middle 98%)")
        ax.plot(xs, ys, color=NAVY, lw=1.6, zorder=3, label="predicted KPI (incident rows)")
        rec = float(action.recommended_value)
        pred = float(action.predicted_target)
        ax.errorbar([rec], [pred], yerr=[[max(pred - lo_ci, 0)], [max(hi_ci - pred, 0)]], fmt="o",
                    color=GREEN, ms=5, capsize=3, zorder=4, label="recommended (90% interval)")
        cur = action.incident_value
        if cur is not None and not isinstance(cur, str):
            ax.axvline(float(cur), color="#555555", lw=0.8, ls=":", label="incident average setpoint")
        span = (rhi - rlo) or abs(rhi) * 0.1 or 1.0
        ax.set_xlim(rlo - 0.12 * span, rhi + 0.12 * span)
        ax.set_xlabel(f"{action.node}" + (f" ({unit})" if unit else ""))
    ax.set_ylabel(f"{result.target}" + (f" ({kunit})" if kunit else ""))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(True, color="#e3e6e9", lw=0.5, zorder=0)
    return fig

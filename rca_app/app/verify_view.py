"""What the "Verify the fix" step offers and draws, and the impact result in words (no Qt).

The step asks when the change was made and what changed (an action the investigation proposed,
any controllable setpoint or categorical sensor by hand, or "not named": a repair, a
maintenance job), runs :func:`rca_app.core.impact_run.verify_change` in the background, and
draws the observed against the counterfactual KPI with its conformal band, the recovery as a
waterfall, and the verdict. The command line prints :func:`impact_summary_text`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rca_app.app.formatting import fmt_number, fmt_pct
from rca_app.core.impact_records import ChangeSpec, ImpactResult

UNNAMED = "(not named: find what changed)"


@dataclass
class ChangeChoice:
    """One entry of the step's "what changed" list.

    Attributes
    ----------
    label : str
        As the list shows it.
    node : str or None
        None: an unnamed change (the tool finds it).
    kind : {"setpoint", "switch", "unspecified"}
    value : float, str or None
        The action's recommended value, as a starting point.
    levels : list of str
        Categorical sensors: the levels to switch to.
    """

    label: str
    node: str | None
    kind: str
    value: float | str | None = None
    levels: tuple[str, ...] = ()


def change_choices(result, layout, levels: dict[str, list[str]] | None = None) -> list[ChangeChoice]:
    """What the engineer can say changed: the investigation's actions first (best first), then
    every other controllable setpoint and categorical sensor, then "not named".

    Parameters
    ----------
    result : AnalysisResult or None
    layout : Layout
    levels : dict, optional
        Categorical sensors' levels (from the data).

    Returns
    -------
    list of ChangeChoice
    """
    levels = levels or {}
    out: list[ChangeChoice] = []
    seen = set()
    categorical = set(layout.categorical) if hasattr(layout, "categorical") else set(levels)
    for a in (result.actions if result is not None else []):
        kind = "switch" if a.node in categorical else "setpoint"
        v = a.recommended_value
        vtxt = v if isinstance(v, str) else fmt_number(v)
        out.append(ChangeChoice(f"{a.node} set to {vtxt} (proposed action)", a.node, kind, v,
                                tuple(levels.get(a.node, ()))))
        seen.add(a.node)
    for node in layout.controllable:
        if node not in seen and node != layout.target:
            kind = "switch" if node in categorical else "setpoint"
            out.append(ChangeChoice(f"{node} (setpoint)", node, kind, None, tuple(levels.get(node, ()))))
            seen.add(node)
    for node in sorted(categorical):
        if node not in seen and node in levels:
            out.append(ChangeChoice(f"{node} (switch)", node, "switch", None, tuple(levels[node])))
            seen.add(node)
    out.append(ChangeChoice(UNNAMED, None, "unspecified"))
    return out


def change_spec(choice: ChangeChoice, time, value=None) -> ChangeSpec:
    """The core's change from a choice, a time and an optional value (setpoint or level)."""
    if choice.node is None:
        return ChangeSpec(time)
    v = value if value is not None else choice.value
    if choice.kind == "switch":
        return ChangeSpec(time, choice.node, None if v is None else str(v), "switch")
    return ChangeSpec(time, choice.node, None if v is None else float(v), "setpoint")


def impact_plot(r: ImpactResult) -> dict:
    """The observed and counterfactual KPI after the change, with the per-row conformal band
    and the window mean's band, as plain lists for a chart.

    Returns
    -------
    dict
        ``x`` (row positions), ``times``, ``observed``, ``counterfactual``, ``band_low``,
        ``band_high``, ``expected``, ``mean_band`` (low, high), ``observed_mean``,
        ``counterfactual_mean``, ``labels`` (legend texts).
    """
    s = r.series
    pct = round(100 * r.level)
    return {
        "x": list(s.rows), "times": list(s.times), "observed": list(s.observed),
        "counterfactual": list(s.counterfactual), "expected": list(s.expected),
        "band_low": list(s.band_low), "band_high": list(s.band_high),
        "mean_band": (r.counterfactual_mean_band.low, r.counterfactual_mean_band.high),
        "observed_mean": r.observed_mean, "counterfactual_mean": r.counterfactual_mean,
        "labels": {"observed": f"{r.target} observed",
                   "counterfactual": f"{r.target} without the change",
                   "band": f"{pct}% prediction interval per unit (conformal)",
                   "mean_band": f"{pct}% interval of the mean without the change (conformal, blocks)"},
    }


@dataclass
class WaterfallBar:
    """One bar of the recovery waterfall: from ``start`` to ``end`` in KPI units."""

    label: str
    start: float
    end: float
    kind: str          # "total", "change", "upstream", "unexplained", "interactions"


def waterfall(r: ImpactResult) -> list[WaterfallBar]:
    """The KPI from its mean before the change to its mean after, step by step: the change,
    each other upstream node, the unexplained, the interactions."""
    bars = [WaterfallBar("before the change", 0.0, r.before_mean, "total")]
    level = r.before_mean
    for t in r.attribution:
        if t.contribution == 0 and t.kind == "interactions":
            continue
        bars.append(WaterfallBar(t.label, level, level + t.contribution, t.kind))
        level += t.contribution
    bars.append(WaterfallBar("after the change", 0.0, r.observed_mean, "total"))
    return bars


def _ci(ci, digits=3) -> str:
    lo, hi = ci
    if not (isinstance(lo, (int, float)) and math.isfinite(lo) and math.isfinite(hi)):
        return "no interval"
    return f"{lo:.{digits}g} to {hi:.{digits}g}"


def cause_rows(r: ImpactResult) -> list[tuple[str, str, str, str]]:
    """The "did the root cause go away?" table: cause, before, after (with interval), status."""
    rows = []
    for c in r.causes:
        if c.shift_after_sd is not None:
            before = f"{c.shift_before_sd:+.2f} sd"
            after = f"{c.shift_after_sd:+.2f} sd ({_ci(c.shift_after_ci)})"
        else:
            before = f"distance {fmt_pct(c.distance_before)}"
            after = f"distance {fmt_pct(c.distance_after)}"
        rows.append((c.node, before, after, c.status))
    return rows


def attribution_rows(r: ImpactResult) -> list[tuple[str, str, str, str]]:
    """The recovery table: part, contribution (KPI units), interval, share of the recovery."""
    return [(t.label, f"{t.contribution:+.3g}", _ci(t.contribution_ci), fmt_pct(t.share))
            for t in r.attribution]


def impact_summary_text(r: ImpactResult) -> str:
    """The impact result for a terminal: verdict, numbers, attribution, causes, caveats."""
    pct = round(100 * r.level)
    c = r.change
    v = c.value if isinstance(c.value, str) or c.value is None else fmt_number(c.value)
    what = f"{c.node}" + (f" = {v}" if v is not None else "") + (" (found in the data)" if c.found_in_data else "")
    lines = [
        f"Plant: {r.plant}   KPI: {r.target} ({r.goal})",
        f"Change at {c.time}: {what} [{c.kind}]",
        f"Windows: {r.windows_source}",
        f"After the change: {r.after.n_rows} rows ({r.after.start} to {r.after.end})",
        "",
        f"Verdict: {r.verdict.upper()}",
        f"  {r.verdict_text}",
        "",
        f"{r.target} after the change: observed {r.observed_mean:.4g}, without the change {r.counterfactual_mean:.4g}",
        f"Effect (mean): {r.effect_mean:+.4g}  ({pct}% bootstrap interval {_ci(r.effect_mean_ci, 4)}, "
        f"{r.n_refits} refits)",
        f"Effect (cumulative over {r.after.n_rows} rows): {r.effect_cumulative:+.4g}",
        f"Mean without the change, conformal {pct}% band (block calibration, "
        f"{'exact' if r.counterfactual_mean_band.exact else 'approximate'}): "
        f"{_ci((r.counterfactual_mean_band.low, r.counterfactual_mean_band.high), 4)}",
        "",
        f"Recovery since the incident: {r.before_mean:.4g} -> {r.observed_mean:.4g} ({r.recovery:+.4g}), due to:",
    ]
    for label, contrib, ci, share in attribution_rows(r):
        lines.append(f"  {label:<44} {contrib:>9}  [{ci}]  {share}")
    if r.causes:
        lines += ["", "Did the root cause go away? (own-noise shift from the reference)"]
        for node, before, after, status in cause_rows(r):
            lines.append(f"  {node:<28} before {before:<14} after {after:<32} {status}")
    if r.caveats:
        lines += ["", "Caveats:"] + [f"  - {x}" for x in r.caveats]
    return "\n".join(lines)


HELP = ("Did the corrective action work? Drag the orange line on the KPI trend to when the change was made "
        "(or type the time), say what changed, and press Verify. The data must run past the change; the "
        "model compares the rows after it with the same rows had the change not been made.")


def trend(data) -> dict:
    """The KPI over the whole table for the change-time chart: ``x`` (chart coordinates, as
    :func:`rca_app.app.windows_view.axis_values`) and ``y``."""
    from rca_app.app.windows_view import axis_values

    return {"x": axis_values(data), "y": data.frame[data.layout.target].to_numpy(float)}


def change_time_at(data, x: float):
    """The change time for a chart position: the first row at or after ``x``, in the engineer's
    terms (ISO timestamp or row position); None past the last row."""
    import numpy as np

    from rca_app.app.windows_view import axis_values
    from rca_app.core.windows import window_bound

    xs = axis_values(data)
    row = int(np.searchsorted(xs, x, side="left"))
    if row >= data.n_rows:
        return None
    return window_bound(data, max(row, 1))


def default_change_time(data, result):
    """Where the change line starts: the end of the incident window when rows follow it, else
    three quarters into the data."""
    from rca_app.core.windows import window_bound

    n = data.n_rows
    stop = result.anomaly.stop_row if result is not None else None
    row = stop if stop is not None and 0 < stop < n - 5 else int(0.75 * n)
    return window_bound(data, row)

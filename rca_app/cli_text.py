"""The command line's text for a result: the summary the terminal prints after an analysis.

Plain functions of the result (:class:`~rca_app.core.results.AnalysisResult`); the wording they
share with the GUI and the report comes from :mod:`rca_app.app.result_words`.
"""
from __future__ import annotations

import math


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _clip(text, width: int) -> str:
    """Text cut to ``width`` characters for a terminal column (the JSON keeps it whole)."""
    from rca_app.app.formatting import short_label

    return short_label(text, width)


def _pct(x) -> str:
    """A share as a whole percentage; "n/a" when there is none (no refit, nothing to rank)."""
    from rca_app.app.formatting import fmt_pct

    return fmt_pct(x, space=False, missing="n/a")


def format_summary(r) -> str:
    """Plain-language summary of an analysis result (typed, or its JSON data) for the terminal."""
    from rca_app.app.result_words import NOT_COMPUTED, controller_output_text, drift_onset_lines
    from rca_app.core.results import as_result

    r = as_result(r)
    a = r.anomaly
    lines = [
        f"Plant: {r.plant}   KPI: {r.target} ({r.goal})",
        f"Incident: {a.start} to {a.end} ({a.n_rows} rows)"
        + (f"  [suggested automatically: {a.rule or ''}]" if a.auto else ""),
        f"Reference: {r.reference.start} to {r.reference.end} ({r.reference.n_rows} rows)",
        f"{r.target}: reference mean {a.target_reference_mean:.4g}, incident mean "
        f"{a.target_anomaly_mean:.4g} (shortfall {a.shortfall:.4g}"
        + (f", {a.shortfall_pct:.1f}%" if _finite(a.shortfall_pct) else "") + ")",
        "",
        "Root causes (restoration = share of the KPI loss that comes back if the sensor behaves as in the reference):",
        f"  {'#':>2}  {'sensor':<28} {'station':<22} {'restoration':>11}  {'90% interval':>17}  {'ranked 1st':>10}",
    ]
    basis = r.ranking_basis
    if basis is not None and basis.method != "restoration":
        lines[4:] = _shape_summary(r)
    for i, c in enumerate(r.root_causes[:10] if basis is None or basis.method != "anomaly" else [], 1):
        lo, hi = c.restoration_ci
        interval = f"[{_pct(lo):>6}, {_pct(hi):>6}]" if _finite(lo) and _finite(hi) else "no interval"
        # An unmeasured cause's long name would be clipped before its sensors: name them instead.
        label = ("unmeasured: " + "+".join(c.acts_on)) if c.unmeasured and c.acts_on else c.node
        name, station = _clip(label, 28), _clip(c.station, 22)
        rest = NOT_COMPUTED if c.no_restoration else _pct(c.restoration)   # never 0% (app/result_words.py)
        lines.append(f"  {i:>2}  {name:<28} {station:<22} {rest:>11}  "
                     f"{interval:>17}  {_pct(c.share_ranked_first):>10}")
        if c.unmeasured and len(label) > 28:
            lines.append(f"      ({c.node})")
        lines += [f"      {x}" for x in _cause_remarks(r, c)]
    if r.actions:
        lines += ["", "Setpoint actions (do-operator on the incident rows, inside the reference range):"]
        for act in r.actions:
            v = act.recommended_value
            vtxt = v if isinstance(v, str) else f"{v:.4g}"
            cur = act.incident_value
            ctxt = cur if isinstance(cur, str) or cur is None else f"{cur:.4g}"
            lo, hi = act.predicted_target_ci
            interval = f" [{lo:.4g}, {hi:.4g}]" if _finite(lo) and _finite(hi) else ""
            lines.append(f"  set {_clip(act.node, 60)} to {_clip(vtxt, 60)} (incident: {_clip(ctxt, 60)}): "
                         f"predicted {r.target} "
                         f"{act.predicted_target:.4g}{interval}, restores {_pct(act.restoration)}")
            for w in act.warnings:
                lines.append(f"    warning: {w}")
            loop_note = controller_output_text(act.node, r)
            if loop_note:
                lines.append(f"    note: {loop_note}")
    if r.not_proposed:
        from rca_app.core.action_support import not_proposed_text

        lines += ["", "Setpoints not proposed as actions:"] + [f"  {not_proposed_text(x, r.target)}"
                                                                for x in r.not_proposed]
    lines += dynamics_lines(r.dynamics, r)
    onsets = drift_onset_lines(r)
    if onsets:
        lines += ["", "Drift onsets (CUSUM on each leading cause's own values):"] + [f"  {x}" for x in onsets]
    if r.diagnostics.messages:
        lines += ["", "Notes:"] + [f"  - {m.text}" for m in r.diagnostics.messages]
    return "\n".join(lines)


def _cause_remarks(r, c) -> list[str]:
    """Lines under a ranked cause: the KPI's own entry named as such, and the restoration's
    range over edge directions the data cannot tell."""
    from rca_app.app.result_words import no_restoration_text, restoration_range_text

    out = []
    if c.node == r.target:
        out.append("(KPI itself, unexplained: the part of the loss no measured upstream sensor explains)")
    why = no_restoration_text(c, r.target)
    if why:
        out.append(f"({why})")
    rng = restoration_range_text(c)
    if rng:
        out.append(f"(restoration {_pct(c.restoration)}, {rng})")
    return out


def dynamics_lines(d, r=None) -> list[str]:
    """Residence times used (declared or estimated, with confidence), control loops, recycles and
    slow own dynamics.

    ``r``: the result, for the valves' positions and declared limits (without it the loop
    lines give the share of the way to the limit only)."""
    from rca_app.app.dynamics_view import lagged_edge_text
    from rca_app.app.result_words import uncertain_lag_note, valve_position_text
    from rca_app.core.control_loops import loop_state

    if d is None or not (d.shifts or d.loops or d.lagged_edges or any(x.given for x in d.lags)):
        return []
    out = ["", f"Residence times (grid {d.step}):"]
    for x in d.lags:
        how = "declared" if x.given else (f"estimated, confidence {_pct(x.confidence)}" if x.confidence is not None
                                          else "estimated, confidence not computed: zero lag or too few rows")
        out.append(f"  {_clip(x.station, 22)} -> {_clip(x.to_station, 22)}: {x.lag} ({how})")
        why = uncertain_lag_note(x, d.step)
        if why:
            out.append(f"      note: {why}")
    for lp in d.loops:
        state = loop_state(lp)
        src = f", disturbance from {lp.source}" if lp.source else ""
        travel = (valve_position_text(lp, r) if r is not None
                  else f"valve travel {_pct(lp.limit_use)} of the way to its limit")
        out.append(f"  loop {lp.controlled} / {lp.manipulated}: {state}, {travel}{src}")
    # Streams back to an earlier station (declared or proposed), then slow own dynamics in one line:
    # a self-lag per slow sensor would bury the streams.
    for e in d.lagged_edges:
        if e.kind != "self":
            out.append(f"  {lagged_edge_text(e)}")
    slow = [e for e in d.lagged_edges if e.kind == "self"]
    if slow:
        used = sum(e.in_model for e in slow)
        out.append(f"  slow own dynamics (a sensor's last value carries on): {len(slow)} sensor(s)"
                   + (f", {used} in the model" if used else ", none in the model"))
    return out

def _shape_summary(r) -> list[str]:
    """The ranking's header lines (and, for an anomaly ranking, its rows) for an incident that is
    not an ordinary window: one unit, or a KPI that never varied in the reference."""
    basis = r.ranking_basis
    lines = ["", f"Ranking: {basis.explanation}"]
    if basis.method != "anomaly":
        return lines + [f"  {'#':>2}  {'sensor':<28} {'station':<22} {'restoration':>11}  {'90% interval':>17}  "
                        f"{'ranked 1st':>10}"]
    lines.append(f"  {'#':>2}  {'sensor':<28} {'station':<22} {'anomaly score':>13}  {'tail share':>10}  "
                 f"{'first on rows':>13}")
    scores = {a.node: a for a in basis.anomaly_scores}
    for i, c in enumerate(r.root_causes[:10], 1):
        a = scores.get(c.node)
        score = f"{a.score:.2f}" if a is not None else "n/a"
        tail = f"{100 * a.tail_share:.2g}%" if a is not None else "n/a"
        first = _pct(a.first_on_rows) if a is not None else "n/a"
        lines.append(f"  {i:>2}  {_clip(c.node, 28):<28} {_clip(c.station, 22):<22} {score:>13}  {tail:>10}  "
                     f"{first:>13}")
    return lines

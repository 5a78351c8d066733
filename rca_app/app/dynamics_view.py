"""What the GUI and the report show about process dynamics (issue #14): the residence times used
per station, recycles the data propose, loop readings, the incident trend shifted by residence
times. Qt-free, so the Layout, Incident and Graph steps and the PDF share one wording."""
from __future__ import annotations

from dataclasses import dataclass

from rca_app.core.control_loops import loop_state
from rca_app.core.layout import Layout
from rca_app.core.layout.time_keys import Recycle


@dataclass
class LagReading:
    """The residence time the analysis used from one station to the next.

    Attributes
    ----------
    station, to_station : str
    lag : str
        As a duration ("7min").
    text : str
        One line for the station column and the report ("estimated 7min, confidence 100%").
    given : bool
        Declared in the layout.
    short : str
        For a narrow field ("auto: 7min (100%)").
    estimate : str or None
        The data's estimate the analysis used, to declare with one click ("7min"); None for a
        declared lag, a zero one, or an estimate not trusted (zero was used instead).
    beside_estimate : str
        For a field beside a button that shows the estimate ("auto (100%)"): the lag is on the button.
    """

    station: str
    to_station: str
    lag: str
    text: str
    given: bool
    short: str = ""
    estimate: str | None = None
    beside_estimate: str = ""


def lag_readings(dynamics) -> dict[str, LagReading]:
    """The lag used from each station to the next, by station name.

    Parameters
    ----------
    dynamics : DynamicsRecord or None
        ``AnalysisResult.dynamics``.

    Returns
    -------
    dict of str to LagReading
        Empty for row-by-row data.
    """
    out: dict[str, LagReading] = {}
    for rec in (dynamics.lags if dynamics is not None else []):
        if rec.given:
            text = f"declared {rec.lag}"
        elif rec.confidence is None:
            # No bootstrap agreement to report: zero lag, or too little data to resample.
            text = f"estimated {rec.lag}"
        else:
            text = f"estimated {rec.lag}, confidence {rec.confidence:.0%}"
        if not rec.given and rec.estimate_steps is not None and rec.estimate_steps != rec.lag_steps:
            text += f" (the data's {rec.estimate_steps} steps were not trusted)"
        confidence = f" ({rec.confidence:.0%})" if rec.confidence is not None else ""
        short = rec.lag if rec.given else f"auto: {rec.lag}{confidence}"
        # Zero moves nothing: declaring it would only stop the next run from finding a lag.
        trusted = not rec.given and rec.lag_steps > 0 and rec.estimate_steps in (None, rec.lag_steps)
        out[rec.station] = LagReading(rec.station, rec.to_station, rec.lag, text, rec.given, short,
                                      rec.lag if trusted else None, f"auto{confidence}")
    return out


@dataclass
class GapLabel:
    """The residence time drawn between two station columns of a graph.

    Attributes
    ----------
    station, to_station : str
    text : str
        Short, for the gap ("→ 7min →"; an estimate marked "≈": "→ ≈7min →").
    tip : str
        The reading in words ("Feed → Preheater: estimated 7min, confidence 100%").
    estimated : bool
    """

    station: str
    to_station: str
    text: str
    tip: str
    estimated: bool


def station_gap_labels(dynamics) -> dict[str, GapLabel]:
    """The lag to draw after each station column, by station name (window and report graphs).

    A declared lag is drawn as given, even zero; an estimated one only when it moves something
    (a zero estimate between every column would bury the ones that matter), marked "≈".

    Parameters
    ----------
    dynamics : DynamicsRecord or None

    Returns
    -------
    dict of str to GapLabel
        Empty for row-by-row data.
    """
    readings = lag_readings(dynamics)
    out: dict[str, GapLabel] = {}
    for rec in (dynamics.lags if dynamics is not None else []):
        if not rec.given and rec.lag_steps <= 0:
            continue
        mark = "" if rec.given else "≈"
        rd = readings[rec.station]
        out[rec.station] = GapLabel(rec.station, rec.to_station, f"→ {mark}{rec.lag} →",
                                    f"Residence time {rec.station} → {rec.to_station}: {rd.text}", not rec.given)
    return out


def proposed_recycles(dynamics, layout: Layout) -> list[Recycle]:
    """The [[recycle]] streams the data show but the layout does not declare.

    A proposed lagged edge goes from a sensor of a later station back to one of an earlier
    station; the recycle it asks for joins those two stations with the lag found.

    Parameters
    ----------
    dynamics : DynamicsRecord or None
    layout : Layout
        The layout being edited (its stations name the recycle's ends).

    Returns
    -------
    list of Recycle
        One per station pair (the shortest lag found), in the order found; none already declared.
    """
    if dynamics is None:
        return []
    declared = {(r.source, r.to) for r in layout.recycles}
    best: dict[tuple[str, str], tuple[int, str]] = {}
    for e in dynamics.lagged_edges:
        if e.kind != "proposed_recycle":
            continue
        try:
            src, dst = layout.station_of(e.source), layout.station_of(e.target)
        except KeyError:
            continue
        key = (src, dst)
        if key in declared or src == dst:
            continue
        if key not in best or e.lag_steps < best[key][0]:
            best[key] = (e.lag_steps, e.lag)
    return [Recycle(s, d, lag) for (s, d), (_, lag) in best.items()]


def proposed_loops(dynamics, layout: Layout) -> list:
    """The control loops the last analysis found in the data that the layout does not declare.

    Parameters
    ----------
    dynamics : DynamicsRecord or None
    layout : Layout
        The layout being edited: a proposal whose sensors it no longer has, or that share a
        sensor with a loop declared since, is left out.

    Returns
    -------
    list of LoopProposal
        In the order the analysis proposed them (the strongest mover first).
    """
    if dynamics is None or layout is None:
        return []
    declared = {lp.controlled for lp in layout.loops} | {lp.manipulated for lp in layout.loops}
    have = set(layout.nodes)
    return [p for p in getattr(dynamics, "proposed_loops", None) or []
            if {p.controlled, p.manipulated} <= have and not {p.controlled, p.manipulated} & declared]


def proposed_loop_text(proposal) -> str:
    """A proposed loop in a few words, for a button's neighbour and the graph's tooltip.

    Parameters
    ----------
    proposal : LoopProposal

    Returns
    -------
    str
        "coolant_valve_pct holds reactor_temp_C: it moved +5.2 sd while reactor_temp_C held
        (0.3 sd), and its changes follow reactor_temp_C's level (partial r +0.45)".
    """
    p = proposal
    return (f"{p.manipulated} holds {p.controlled}: it moved {p.mv_shift_sd:+.1f} sd in the incident while "
            f"{p.controlled} held ({abs(p.cv_shift_sd):.1f} sd), and in the reference its changes follow "
            f"{p.controlled}'s level (partial correlation {p.partial_r:+.2f}), as a controller's output does")


def declared_loop_text(loop, sep: str = ", ") -> str:
    """A declared [[loop]] in words ("coolant_valve_pct holds reactor_temp_C at 180, limits 0…100").

    Parameters
    ----------
    loop : Loop
    sep : str, optional
        Before the limits (a line break in a narrow list).

    Returns
    -------
    str
    """
    def num(v):
        return "" if v is None else f"{v:g}"

    text = f"{loop.manipulated} holds {loop.controlled}"
    if loop.setpoint is not None:
        text += f" at {loop.setpoint if isinstance(loop.setpoint, str) else num(loop.setpoint)}"
    if loop.low is not None or loop.high is not None:
        text += f"{sep}limits {num(loop.low)}…{num(loop.high)}"
    return text


def loop_short_text(rec, sep: str = ", ") -> str:
    """A few words on what a control loop did ("compensated, 23% to its limit").

    Parameters
    ----------
    rec : LoopRecord
    sep : str, optional
        Before the disturbance's source.

    Returns
    -------
    str
    """
    source = f"{sep}disturbance from {rec.source}" if rec.source else ""
    return loop_state(rec) + f", {rec.limit_use:.0%} to its limit" + source


def loop_text(rec) -> str:
    """One line on what a control loop did in the incident: its state in the words of
    :func:`rca_app.core.control_loops.loop_state` (the terminal and the report use the same), then
    the shifts behind it.

    Parameters
    ----------
    rec : LoopRecord

    Returns
    -------
    str
    """
    text = (f"{loop_state(rec)}: {rec.manipulated} moved {rec.mv_shift_sd:+.1f} sd, {rec.controlled} "
            f"{rec.cv_shift_sd:+.1f} sd")
    if rec.saturated and rec.saturated_at:
        text += f"; first at its limit {rec.saturated_at}"
    limits = "declared limits" if rec.limits_declared else "reference range"
    text += f"; {rec.limit_use:.0%} of the way to its limit ({limits})"
    if rec.in_model:
        text += "; held in the model over time"
    if rec.source:
        share = f" ({rec.source_share:.0%} of the move)" if rec.source_share is not None else ""
        text += f"; disturbance from {rec.source}{share}"
    return text


def lagged_edge_text(edge) -> str:
    """One line for a lagged edge (graph tooltip, report row).

    Parameters
    ----------
    edge : LaggedEdge or dict
        With source, target, lag, correlation, p_value, kind.

    Returns
    -------
    str
    """
    get = edge.get if isinstance(edge, dict) else (lambda k: getattr(edge, k))
    kind = {"recycle": "declared recycle", "proposed_recycle": "recycle the data propose (not declared)",
            "self": "slow own dynamics"}[get("kind")]
    who = get("source") if get("source") == get("target") else f"{get('source')} → {get('target')}"
    in_model = get("in_model") if not isinstance(edge, dict) else edge.get("in_model", False)
    return (f"{who} after {get('lag')}: {kind}; partial correlation {get('correlation'):+.2f}, "
            f"p = {get('p_value'):.2g}" + ("; in the model (restorations reach it after the lag)" if in_model else ""))


def residence_offset(dynamics, sensor: str, time_axis: bool) -> float:
    """How far right to draw ``sensor`` so that each value sits under the KPI value it acts on.

    The analysis moved the sensor forward by ``dynamics.shifts[sensor]`` grid steps (its
    cumulative residence time to the KPI's station); on a time axis that is steps x the grid
    step in seconds, on a row axis the steps themselves.

    Parameters
    ----------
    dynamics : DynamicsRecord or None
    sensor : str
    time_axis : bool
        The chart's x is seconds (else row numbers).

    Returns
    -------
    float
        0 for a sensor not moved, or without a regular grid.
    """
    import pandas as pd

    if dynamics is None or not dynamics.shifts.get(sensor):
        return 0.0
    steps = int(dynamics.shifts[sensor])
    if not time_axis:
        return float(steps)
    if not dynamics.step:
        return 0.0
    return steps * pd.Timedelta(dynamics.step).total_seconds()

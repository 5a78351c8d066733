"""Words on a result that the terminal, the window and the PDF all show: a cause's restoration
range over undetermined edge directions, setpoints that are a controller's output, where a loop's
valve sat against its limit, when the leading causes began to drift, uncertain residence times,
lagged model inputs, and which notes bear on how far the ranking can be trusted (by the kind
the engine gave each note, never by its wording).

Qt-free and reportlab-free, so the three outputs share one wording.
"""
from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from rca_app.core.dynamics import lag_is_weak, weak_lag_words
from rca_app.core.result_notes import TRUST_ORDER, Note, note_from_text, share_text

# A setpoint's reference range, as the engine searches actions over it (core.rootcause's grid):
# the 1% and 99% quantiles of its reference values, so one stray reading does not stretch it.
# The What-if step, the action and the report show and name this one range.
REFERENCE_RANGE_QUANTILES = (0.01, 0.99)
REFERENCE_RANGE_WORDS = "the middle 98% of its reference values"


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _pct(x) -> str:
    return share_text(float(x))


def restoration_range_text(cause) -> str | None:
    """The spread of a cause's restoration over the graphs the data cannot tell apart.

    Parameters
    ----------
    cause : RootCause

    Returns
    -------
    str or None
        "range -5% to 126% over undetermined directions"; None when the graph is determined
        or the range is no wider than the rounding.
    """
    rng = getattr(cause, "restoration_range", None)
    if rng is None or not (_finite(rng[0]) and _finite(rng[1])):
        return None
    lo, hi = _pct(rng[0]), _pct(rng[1])
    if abs(rng[1] - rng[0]) < 0.015:      # no wider than the rounding of a whole percentage
        return None
    return f"range {lo} to {hi} over undetermined directions"


# The restoration cell of a cause whose record says it has none (``RootCause.no_restoration``):
# never a 0%, which would read as "explains nothing".
NOT_COMPUTED = "not computed"


def no_restoration_text(cause, target: str) -> str | None:
    """Why a cause has no restoration of its own, from its record (``no_restoration``), or None
    when it has one.

    Parameters
    ----------
    cause : RootCause
    target : str
        The KPI.

    Returns
    -------
    str or None
    """
    if getattr(cause, "no_restoration", None) == "no_path_origin":
        return (f"no restoration computed: the model learnt from the reference period has no path from "
                f"{cause.node} to {target}; it is placed first as where the disturbance entered (it moved "
                "clearly, at or upstream of the cause the model credits most, and earlier)")
    if getattr(cause, "no_restoration", None) == "no_path_setpoint":
        return (f"no restoration computed: the model has no path from the loop {cause.node} sets to {target}; it is "
                "placed first as the setpoint the operators changed")
    return None


@dataclass
class DeclaredLoop:
    """A [[loop]] of the layout the result was computed with.

    Attributes
    ----------
    controlled, manipulated : str
    low, high : float or None
        The manipulated variable's declared limits.
    """

    controlled: str
    manipulated: str
    low: float | None = None
    high: float | None = None


def declared_loops(result) -> list[DeclaredLoop]:
    """The control loops of the layout recorded in ``result`` (its TOML text).

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    list of DeclaredLoop
        Empty when the layout text is missing or declares none; the loop readings of the
        dynamics step are used when the text cannot be read.
    """
    text = getattr(getattr(result, "layout", None), "text", None) or ""
    loops: list[DeclaredLoop] = []
    try:
        raw = tomllib.loads(text[1:] if text.startswith("\ufeff") else text)
    except tomllib.TOMLDecodeError:
        raw = {}
    for lp in raw.get("loop", []) if isinstance(raw.get("loop"), list) else []:
        cv, mv = lp.get("controlled"), lp.get("manipulated")
        if isinstance(cv, str) and isinstance(mv, str):
            num = [float(v) if isinstance(v, (int, float)) else None for v in (lp.get("low"), lp.get("high"))]
            loops.append(DeclaredLoop(cv, mv, *num))
    if not loops and getattr(result, "dynamics", None) is not None:
        loops = [DeclaredLoop(x.controlled, x.manipulated) for x in result.dynamics.loops]
    return loops


def controller_output_text(node: str, result) -> str | None:
    """Say that a setpoint is a controller's output (a loop's manipulated variable).

    Forcing such a valve means taking its controller to manual or retuning it: it is not a free
    setpoint, and while the controller runs it will move the valve back.

    Parameters
    ----------
    node : str
        The action's setpoint.
    result : AnalysisResult

    Returns
    -------
    str or None
    """
    cvs = [lp.controlled for lp in declared_loops(result) if lp.manipulated == node]
    if not cvs:
        return None
    return (f"{node} is the output of the controller of {' and '.join(cvs)}: setting it means overriding "
            "(manual mode) or retuning that controller, not moving a free setpoint")


def controller_move_text(node: str, result) -> str | None:
    """The verdict on a loop's manipulated variable whose incident move the loop reading explains.

    A controller that compensated (or ran to its limit) moved its valve to answer a disturbance:
    the valve shifted, but not on its own, and its station is not where the root cause is.

    Parameters
    ----------
    node : str
    result : AnalysisResult

    Returns
    -------
    str or None
        "moved by its controller, answering feed_impurity_pct" (or "..., holding reactor_temp_C"
        when the disturbance's source was not found); None when no loop reading explains the move
        (not a manipulated variable, a loop that did not compensate, or a declaration in doubt).
    """
    dyn = getattr(result, "dynamics", None)
    for rec in (dyn.loops if dyn is not None else []):
        if rec.manipulated == node and (rec.compensated or rec.saturated) and not rec.questioned:
            return "moved by its controller, " + (f"answering {rec.source}" if rec.source
                                                  else f"holding {rec.controlled}")
    return None


def action_response_text(action, target: str, lead: bool = False) -> str | None:
    """When the KPI would respond to an action, in words (its table row, page 1, the What-if step).

    Parameters
    ----------
    action : Action
    target : str
        The KPI.
    lead : bool, optional
        Worded to open a sentence ("After the change, yield_pct would start to respond in about
        13min ..."): a sensor name keeps its spelling.

    Returns
    -------
    str or None
        "yield_pct would start to respond about 13min after the change and reach 90% of its new
        level about 15min after it"; None when the action has no response record (rows that are
        not a time series, or a setpoint at the KPI's station with nothing in the model to delay it).
    """
    resp = getattr(action, "response", None)
    if resp is None:
        return None
    if lead:
        text = f"After the change, {target} would " + (f"respond in about {resp.start}" if resp.settle is None else
                                                       f"start to respond in about {resp.start}")
        return text + (f" and reach 90% of its new level in about {resp.settle}" if resp.settle else "")
    if resp.settle is None:
        return f"{target} would respond about {resp.start} after the change"
    return (f"{target} would start to respond about {resp.start} after the change and reach 90% of its new level "
            f"about {resp.settle} after it")


def _sensor_levels(result, node: str) -> tuple[float | None, float | None]:
    """(reference mean, incident mean) of a sensor, from its ranking evidence."""
    for c in result.root_causes:
        if c.node == node and c.evidence is not None:
            return c.evidence.reference_mean, c.evidence.anomaly_mean
    return None, None


def _num(v) -> str:
    return f"{v:.4g}"


def valve_position_text(rec, result, named: bool = True) -> str:
    """Where a loop's manipulated variable sat in the incident against the limit it moved toward.

    Parameters
    ----------
    rec : LoopRecord
    result : AnalysisResult
    named : bool, default True
        Start with the valve's name (False: the caller names it).

    Returns
    -------
    str
        "a_feed_valve averaged 99.7 in the incident (reference 61.3), limit 100 (declared); at its
        extreme 98% of the way there"; the position is left out when the valve is not among the
        ranked sensors.
    """
    ref, inc = _sensor_levels(result, rec.manipulated)
    lp = next((x for x in declared_loops(result)
               if x.manipulated == rec.manipulated and x.controlled == rec.controlled), None)
    limit = None
    if lp is not None and rec.limits_declared:
        limit = lp.high if rec.mv_shift_sd >= 0 else lp.low
    if limit is not None:
        where = f"its declared limit {_num(limit)}"
    elif rec.limits_declared:
        where = "its declared limit"
    else:
        where = "the edge of its reference range"
    text = f"at its extreme {_pct(rec.limit_use)} of the way to {where}"
    both = sorted(rec.saturated_limits)
    if len(both) == 2:
        # A mean between two saturations says nothing of where the valve was.
        text = f"swung between its declared limits {_num(both[0])} and {_num(both[1])}, sitting at each in turn"
    if _finite(inc):
        text = f"{rec.manipulated + ' ' if named else ''}averaged {_num(inc)} in the incident" + (
            f" (reference {_num(ref)})" if _finite(ref) else "") + "; " + text
    return text


def drift_onset_lines(result) -> list[str]:
    """When each leading cause's own drift began in the incident (CUSUM onsets).

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    list of str
        One line per compared cause, in onset order; empty for row-by-row data.
    """
    dyn = getattr(result, "dynamics", None)
    if dyn is None or not dyn.drift_onsets:
        return []
    step_s = _step_seconds(dyn.step)
    start = _timestamp(result.anomaly.start)
    out = []
    known = sorted((row, node) for node, row in dyn.drift_onsets.items() if row is not None)
    for row, node in known:
        when = f"incident row {row}"
        if step_s:
            when += f", {_minutes(row * step_s)} after the incident began"
            if start is not None:
                when += f" (about {start + _timedelta(row * step_s):%Y-%m-%d %H:%M})"
        out.append(f"{node}: its own drift began at {when}")
    out += [f"{node}: no onset of its own found in the incident (no sustained CUSUM run)"
            for node, row in dyn.drift_onsets.items() if row is None]
    return out


def _step_seconds(step) -> float | None:
    if not step:
        return None
    try:
        import pandas as pd

        return float(pd.Timedelta(step).total_seconds()) or None
    except (ValueError, TypeError):
        return None


def _timestamp(text):
    try:
        import pandas as pd

        t = pd.Timestamp(text)
        return None if pd.isna(t) else t
    except (ValueError, TypeError):
        return None


def _timedelta(seconds: float):
    import pandas as pd

    return pd.Timedelta(seconds=seconds)


def _minutes(seconds: float) -> str:
    """A duration for people: "45 s", "22 min", "3.5 h"."""
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3 * 3600:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def uncertain_lag_note(rec, step) -> str | None:
    """Why an estimated residence time was not used (confidence 0%, or the data's lag not trusted).

    Parameters
    ----------
    rec : LagRecord
    step : str or None
        The grid step (``DynamicsRecord.step``).

    Returns
    -------
    str or None
    """
    if rec.given or rec.estimate_steps is None:
        return None
    if rec.estimate_steps == rec.lag_steps and (rec.confidence is None or rec.confidence > 0):
        return None
    s = _step_seconds(step)
    n = rec.estimate_steps
    est = f"{n} row{'s' if n != 1 else ''}" + (f" = {_minutes(n * s)}" if s else "")
    conf = f" (confidence {_pct(rec.confidence)})" if rec.confidence is not None else ""
    # Not used because the stations hardly relate at any lag, however steady the estimate (a
    # confidence of 100% on a weak profile is no contradiction, so it must not read "uncertain").
    weak = rec.score is not None and lag_is_weak(rec.score)
    why = weak_lag_words(rec.score) if weak else f"uncertain{conf}"
    return (f"the data's estimate, {est}, is {why}, so {rec.lag} is used; declare lag = \"...\" "
            f"on {rec.station} in the layout if you know it")


_LAGGED = re.compile(r"^(?P<source>.+)\[t-(?P<lag>[1-9][0-9]*)\]$")


def lagged_input_text(name: str, step) -> str:
    """A lagged model input ``X[t-L]`` with its lag in time: ``X[t-22 rows = 22 min]``.

    ``L`` counts rows of the residence-time-aligned grid (each sensor already moved forward by its
    residence time to the KPI), so it differs from a recycle's own lag; other names are returned
    as they are.

    Parameters
    ----------
    name : str
    step : str or None
        The grid step.

    Returns
    -------
    str
    """
    m = _LAGGED.match(name)
    if m is None:
        return name
    lag = int(m.group("lag"))
    s = _step_seconds(step)
    rows = f"{lag} row" + ("s" if lag != 1 else "")
    return f"{m.group('source')}[t-{rows}" + (f" = {_minutes(lag * s)}" if s else "") + "]"


_AnyNote = TypeVar("_AnyNote", bound="Note | str")


def notes_by_importance(messages: Sequence[_AnyNote]) -> list[_AnyNote]:
    """The result's notes with those on the ranking's trust first, by their kind.

    The engine's warnings, saturated or compensating control loops, then an empty graph into the
    KPI, extrapolation, unstable estimates, undetermined directions, drift or disturbance origins
    and a short reference (:data:`~rca_app.core.result_notes.TRUST_ORDER`); everything else after,
    each group keeping the engine's order. The kinds are the ones the engine gave: a reworded note
    keeps its place.

    Parameters
    ----------
    messages : sequence of Note (or str)
        ``result.diagnostics.messages``; a plain string (a caller without kinds) is placed by
        the kind its wording stood for before notes had kinds
        (:func:`~rca_app.core.result_notes.note_from_text`).

    Returns
    -------
    list of Note (or str)
        The same notes, reordered.
    """
    def rank(m: Note | str) -> int:
        return (m if isinstance(m, Note) else note_from_text(m)).trust_rank

    return sorted(messages, key=rank)       # sorted() is stable: the engine's order within a group


def banner_level(note: Note | str) -> str:
    """The banner style for a note that leads the window's notes: "warn" for a warning, else "info".

    Parameters
    ----------
    note : Note or str

    Returns
    -------
    str
    """
    return "warn" if isinstance(note, Note) and note.severity == "warning" else "info"


# A declared residence time the data contradict this surely is worth a line where the ranking is read.
LAG_DISAGREE_CONFIDENCE = 0.6


def declared_lag_disagreements(result) -> list[str]:
    """Declared residence times the data's estimate contradicts, in words.

    Read from the lag records' numbers (declared lag, the data's estimate and its bootstrap
    confidence), so the warning reaches the first page whatever kind the engine gave its note.

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    list of str
        One sentence per declared lag whose estimate differs by more than one grid step with a
        confidence of at least :data:`LAG_DISAGREE_CONFIDENCE`.
    """
    dyn = getattr(result, "dynamics", None)
    if dyn is None:
        return []
    s = _step_seconds(dyn.step)
    out = []
    for rec in dyn.lags:
        if not rec.given or rec.estimate_steps is None or abs(rec.estimate_steps - rec.lag_steps) <= 1:
            continue
        if rec.confidence is None or rec.confidence < LAG_DISAGREE_CONFIDENCE:
            continue
        n = rec.estimate_steps
        est = _minutes(n * s) if s else f"{n} row{'s' if n != 1 else ''}"
        out.append(f"The declared residence time {rec.station} → {rec.to_station} ({rec.lag}) disagrees with the "
                   f"data, which suggest {est} (confidence {_pct(rec.confidence)}). The declared value was used: "
                   "a wrong residence time misaligns every sensor upstream and can change the order of the causes")
    return out


def trust_notes(result) -> list[str]:
    """What bears on how far the ranking can be trusted, most important first: declared lags the
    data contradict, then the notes the engine marked "warning" or "caution" on the ranking's
    trust (by kind, see :data:`~rca_app.core.result_notes.TRUST_ORDER`).

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    list of str
        Sentences without a final full stop.
    """
    notes = [m for m in result.diagnostics.messages if isinstance(m, Note)]
    weighty = [m for m in notes_by_importance(notes) if m.trust_rank < len(TRUST_ORDER)
               and m.severity in ("warning", "caution") and not _about_a_minor_figure(m, result)]
    lead = [m for m in weighty if m.kind == "warning"]
    rest = [m for m in weighty if m.kind != "warning"]
    texts = [str(m).removeprefix("WARNING:").strip() for m in lead] + declared_lag_disagreements(result) \
        + [str(m) for m in rest]
    return [_sentence_case(t.rstrip(". ")) for t in texts]


# An unstable estimate bears on the ranking's trust only for a figure that matters: the first
# cause, the recommended action, or a share (estimate or interval bound) this large.
SHARE_THAT_MATTERS = 0.10


def _about_a_minor_figure(note: Note, result) -> bool:
    """Whether ``note`` is an "unstable estimate" note on a cause or action too small to bear on
    the ranking (its sentence stays among the diagnostics, not on page 1 or the trust list)."""
    if note.kind != "unstable":
        return False
    text = note.text
    for i, c in enumerate(result.root_causes):
        if text.startswith(f"{c.node}:"):
            shares = [c.restoration, *c.restoration_ci]
            return i > 0 and not any(_finite(x) and abs(x) >= SHARE_THAT_MATTERS for x in shares)
    for i, a in enumerate(result.actions):
        if text.startswith(f"setting {a.node}:"):
            shares = [a.restoration, *a.restoration_ci]
            return i > 0 and not any(_finite(x) and abs(x) >= SHARE_THAT_MATTERS for x in shares)
    return False


def _sentence_case(text: str) -> str:
    """Capitalise a sentence's first word unless it is a name (a sensor's keeps its spelling)."""
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.isalpha() and first.islower() else text

"""Control loops read from the incident: compensated, held, not held, or saturated.

A controller rejects a disturbance by moving its manipulated variable (MV), so the controlled
variable (CV) stays put and the MV carries the shift. When the MV is ranked above its source,
the disturbance is followed back through the MV: the upstream sensor whose own incident shift
explains most of the MV's (through their reference-period relation) is put first, and the result
says that the controller compensated and how close to its limits it ran. The CV of a loop that
compensated is ranked last: it held, so it did not change on its own, and what the model credits
to its own behaviour is the controller's correction read as its noise.

A loop whose MV sat at (or within :data:`SATURATED_BAND` of the travel from) a declared limit for
a meaningful part of the incident has lost its authority: whatever the CV did after that is the
disturbance getting through, so the loop is "saturated", never "held", and its reading leads the
messages (when the MV hit the limit, how far the CV moved). One that swung from one limit to the
other is said to be saturated at both.

A loop whose setpoint is a tag is read against it: the CV "held" when it stayed at its setpoint,
wherever that was. When the operators moved the setpoint in the incident and the CV followed it, the
setpoint change is the cause (the operators made it) and is ranked first; the MV only answered it.

A loop's declaration is questioned when the data contradict it: its MV reads outside the limits
declared for it (a 180 degC temperature with valve limits 0-100 %), or its CV moved while its MV
held, the reverse of what a controller in automatic does. The note names the loop and, where the
reference shows the controller's signature the other way round, suggests the swap.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from rca_app.core.loop_setpoints import SETPOINT_MOVED_SD, followed_setpoint, setpoint_reading
from rca_app.core.result_notes import Note
from rca_app.core.results import LoopProposal, LoopRecord

COMPENSATED_MV_SD = 2.0       # an MV moved this many reference sds ...
COMPENSATED_CV_SD = 1.0       # ... while its CV stayed within this many: the controller compensated
SOURCE_MIN_SHARE = 0.5        # a source must explain this share of the MV's shift
SOURCE_MIN_SAMPLES = 8        # a lab tag's relation with the MV is read on at least this many sampled rows
UPSTREAM_MOVED_SD = 3.0       # no source found: upstream sensors that moved this much go before the loop's pair
SATURATED_BAND = 0.02         # an MV within this share of its travel from a declared limit is at it ...
SATURATED_SHARE = 0.1         # ... and saturated when it sat there this much longer than in the reference
# A declaration the data contradict.
LIMIT_TOLERANCE = 0.01        # a reading this share of the travel beyond a limit is still at it (calibration)
OUTSIDE_LIMITS_SHARE = 0.5    # most of the MV's readings outside its declared limits: the limits are not its own
REVERSED_CV_SD = 3.0          # the CV moved this many reference sds ...
REVERSED_MV_SD = 1.0          # ... while the MV held within this: the reverse of a controller in automatic


def reference_sd(x: np.ndarray) -> float:
    """The reference rows' sd, the unit shifts are read in (1 for a constant, so a shift stays finite)."""
    s = float(np.std(x))
    return s if s > 0 else 1.0


def mean_shift_sd(x: np.ndarray, ref: np.ndarray) -> float:
    """How far the mean of ``x`` moved from the reference's, in reference sds (signed)."""
    return (float(np.mean(x)) - float(np.mean(ref))) / reference_sd(ref)


def loop_state(rec: LoopRecord) -> str:
    """A loop's reading in a few words: saturated, compensated, held or did not hold.

    Parameters
    ----------
    rec : LoopRecord

    Returns
    -------
    str
    """
    if rec.questioned:
        return f"declaration questioned ({rec.questioned})"
    if rec.saturated and len(rec.saturated_limits) > 1:
        return "saturated at both limits (swung between them; lost authority)"
    if rec.saturated:
        return "saturated (lost authority)"
    if rec.limits_declared and rec.limit_use >= 1 - SATURATED_BAND:
        return "reached its limit at times (authority nearly lost)"
    if rec.compensated and abs(rec.cv_shift_sd) > COMPENSATED_CV_SD:
        # Compensated although the CV moved: it held its setpoint tag, which the operators moved.
        return f"followed its moved setpoint ({rec.controlled} {rec.cv_shift_sd:+.1f} sd with it)"
    if rec.compensated:
        return "compensated"
    if abs(rec.cv_shift_sd) > COMPENSATED_CV_SD:
        return f"did not hold {rec.controlled} (it moved {rec.cv_shift_sd:+.1f} sd)"
    return "held"


def _saturation(lp, mv_r: np.ndarray, mv_a: np.ndarray) -> list[tuple[float, int, float]]:
    """The declared limits the MV sat at: ``(share of incident rows, first such row, limit)`` for each
    limit where it sat clearly longer than in the reference, the longest first; empty when no limit
    is declared or it sat at none (both: it swung from one to the other)."""
    low, high = lp.low, lp.high
    if low is None and high is None:
        return []
    span = (high - low) if low is not None and high is not None and high > low else 6 * reference_sd(mv_r)
    out = []
    for limit, sign in ((high, 1.0), (low, -1.0)):
        if limit is None:
            continue
        # Distance inside the limit, positive while the valve still has travel left.
        hit_a = sign * (limit - mv_a) <= SATURATED_BAND * span
        hit_r = sign * (limit - mv_r) <= SATURATED_BAND * span
        share = float(hit_a.mean()) if len(hit_a) else 0.0
        extra = share - (float(hit_r.mean()) if len(hit_r) else 0.0)
        if share >= SATURATED_SHARE and extra >= SATURATED_SHARE:
            out.append((share, int(np.flatnonzero(hit_a)[0]), float(limit)))
    return sorted(out, key=lambda x: -x[0])


def _when(row: int, shift: int, start_time, step) -> str:
    """The physical time of aligned incident row ``row`` of a sensor moved forward by ``shift``."""
    if start_time is None or step is None:
        return f"in incident row {row + 1}"
    offset = (row - shift) * step
    minutes = offset.total_seconds() / 60
    at = pd.Timestamp(start_time) + offset
    rel = (f"{minutes:.0f} min after the incident began" if minutes >= 0
           else f"{-minutes:.0f} min before the incident window began")
    return f"at {at:%Y-%m-%d %H:%M} ({rel})"


def loop_readings(layout, ref: pd.DataFrame, an: pd.DataFrame, ranking, graph, in_model=frozenset(),
                  start_time=None, step=None, shifts=None, sampled=None,
                  clock=None) -> tuple[list[LoopRecord], list[Note]]:
    """For each declared loop: did the controller compensate, did it saturate, how close to its
    limits it ran, and which upstream sensor the disturbance came from.

    Parameters
    ----------
    layout : Layout
    ref, an : DataFrame
        Aligned reference and incident rows.
    ranking : RankingResult
        Its ``root_causes`` are reordered in place when a compensated MV was ranked above its
        disturbance's source.
    graph : CausalGraph
    in_model : set of (str, str)
        Loops ``(controlled, manipulated)`` the structural model holds over time.
    start_time : Timestamp, optional
        The incident's first time (to say when an MV hit its limit).
    step : Timedelta, optional
        The grid step.
    shifts : dict of str to int, optional
        Grid steps each sensor was moved forward by in the alignment.
    sampled : dict of str to ndarray of int, optional
        Lab tags: the positions within ``ref`` where each has a fresh sample
        (:func:`rca_app.core.lab_tags.lab_tag_rows`). Its relation with a loop's MV is read on those
        rows, where the held value is what was measured at that time, not on the held copies, whose
        relation with the MV is diluted towards zero.

    Returns
    -------
    (list of LoopRecord, list of Note)
        The readings and the notes for the engineer, saturated loops first.
    """
    out, lead, messages = [], [], []
    order = [c.node for c in ranking.root_causes]
    shifts = shifts or {}
    for lp in layout.loops:
        if lp.manipulated not in ref.columns or lp.controlled not in ref.columns:
            continue
        mv_r, mv_a = ref[lp.manipulated].to_numpy(float), an[lp.manipulated].to_numpy(float)
        cv_r, cv_a = ref[lp.controlled].to_numpy(float), an[lp.controlled].to_numpy(float)
        mv_shift, cv_shift = mean_shift_sd(mv_a, mv_r), mean_shift_sd(cv_a, cv_r)
        sp = setpoint_reading(lp, clock)
        # How far the CV left its setpoint: its own shift for a fixed setpoint, its error for a tag.
        cv_dev = sp.error_sd if sp is not None else cv_shift
        followed = sp is not None and abs(sp.moved_sd) >= SETPOINT_MOVED_SD and abs(cv_dev) <= COMPENSATED_CV_SD
        outside = _outside_limits(lp, np.concatenate([mv_r, mv_a]))
        declared = lp
        if outside is not None:
            # Limits the MV does not read within are not its travel: nothing is read against them.
            lp = replace(lp, low=None, high=None)
        compensated = abs(mv_shift) >= COMPENSATED_MV_SD and abs(cv_dev) <= COMPENSATED_CV_SD
        low = lp.low if lp.low is not None else float(mv_r.min())
        high = lp.high if lp.high is not None else float(mv_r.max())
        span = high - low if high > low else 1.0
        toward = high if mv_shift >= 0 else low
        # 1 = at the limit it moved toward throughout the incident, 0 = where it sat in the reference.
        use = float(np.clip((np.quantile(mv_a, 0.95 if mv_shift >= 0 else 0.05) - mv_r.mean())
                            / (toward - mv_r.mean() or span), 0.0, 1.0))
        sat = _saturation(lp, mv_r, mv_a)
        sat_share = sat[0][0] if sat else None
        when = {limit: _when(row, shifts.get(lp.manipulated, 0), start_time, step) for _, row, limit in sat}
        source, share = (_disturbance_source(lp, layout, ref, an, mv_r, mv_a, sampled or {})
                         if compensated and not followed else (None, 0.0))
        doubt, doubt_note = _declaration_doubt(declared, outside, mv_r, mv_a, cv_r, cv_a, mv_shift, cv_dev,
                                               bool(sat))
        rec = LoopRecord(controlled=lp.controlled, manipulated=lp.manipulated, mv_shift_sd=float(mv_shift),
                         cv_shift_sd=float(cv_shift), compensated=bool(compensated),
                         limit_use=use, limits_declared=lp.low is not None or lp.high is not None,
                         source=source, source_share=float(share) if source else None,
                         in_model=(lp.controlled, lp.manipulated) in in_model,
                         saturated=bool(sat), saturated_share=sat_share,
                         saturated_at=when[sat[0][2]] if sat else None,
                         saturated_limits=sorted(limit for *_, limit in sat), questioned=doubt)
        out.append(rec)
        if sat:
            lead.append(Note(_saturated_text(lp, sat, when, cv_shift, mv_shift), "limit", "warning"))
        if doubt_note is not None:
            messages.append(doubt_note)
        if followed and sp is not None:
            messages.append(Note(followed_setpoint(lp, sp, cv_shift, mv_shift, ranking,
                                                    layout.station_of(lp.controlled), start_time, step),
                                 "loop", "warning"))
            order = [c.node for c in ranking.root_causes]
            continue
        if not compensated:
            if not sat and doubt_note is None and abs(cv_dev) >= 3 * COMPENSATED_CV_SD:
                at = f" at its setpoint {lp.setpoint}" if sp is not None else ""
                messages.append(Note(f"the controller of {lp.controlled} did not hold it{at}: {lp.controlled} moved "
                                     f"{cv_dev:+.1f} reference sd{' from it' if at else ''} while {lp.manipulated} "
                                     f"moved {mv_shift:+.1f} sd.", "loop", "caution"))
            continue
        limits = "its declared limit" if rec.limits_declared else "the edge of its reference range"
        msg = (f"the controller of {lp.controlled} compensated: it moved {lp.manipulated} by {mv_shift:+.1f} "
               f"reference sd while {lp.controlled} stayed within {abs(cv_shift):.1f} sd; at its extreme it "
               f"went {100 * use:.0f}% of the way to {limits}")
        if use >= 0.9:
            msg += " (it ran at its limit: it could not reject more)"
        if source:
            msg += (f". The disturbance it rejected came from {source} (its shift explains {100 * share:.0f}% of "
                    f"{lp.manipulated}'s)")
            # The loop's own sensors only answered the disturbance (the CV's residual is the
            # controller's error): the source goes before whichever of them ranked first.
            ahead = [n for n in order if n in (lp.manipulated, lp.controlled)]
            if ahead and source in order and order.index(ahead[0]) < order.index(source):
                move_before(ranking, source, ahead[0])
                order = [c.node for c in ranking.root_causes]
                msg += f": {source} is ranked before {ahead[0]}, which only followed it"
        else:
            msg += _unsourced(lp, layout, ref, an, ranking, graph)
            order = [c.node for c in ranking.root_causes]
        at_limit = use >= 0.9      # ran at its limit: the loop's saturation, read with the saturated ones
        messages.append(Note(msg + ".", "limit" if at_limit else "loop", "warning" if at_limit else "caution"))
        held = _held_cv_last(lp, ranking, source, cv_dev, mv_shift, sp is not None)
        if held:
            messages.append(Note(held, "loop", "caution"))
        order = [c.node for c in ranking.root_causes]
    return out, lead + messages


def _held_cv_last(lp, ranking, source: str | None, cv_dev: float, mv_shift: float, to_setpoint: bool) -> str:
    """Put the controlled variable of a loop that compensated last in the ranking, and say why
    where its restoration is positive and above a cause it is now behind (empty otherwise).

    Its controller held it, so it did not change on its own. What a model credits to its own
    behaviour is the controller's correction read as its noise: the relation between its
    manipulated variable and it, learnt in closed loop (the valve moves because the CV deviated),
    never captures the whole correction, so when a disturbance moves the valve the CV's noise
    takes the rest, and "restoring" that noise means switching the compensation off. Its refits
    ranked first pass to the disturbance's source when one was found.
    """
    causes = list(ranking.root_causes)
    item = next((c for c in causes if c.node == lp.controlled), None)
    if item is None:
        return ""
    credit = getattr(item, "restoration", None)
    shown = credit is not None and np.isfinite(credit) and round(100 * credit) > 0
    # Said only where its place would contradict the figure it shows (a positive restoration
    # behind causes with less); a CV the model already credits nothing is moved silently.
    behind = causes[causes.index(item) + 1:]
    contradicts = shown and any(np.isfinite(getattr(c, "restoration", np.nan)) and c.restoration < credit
                                for c in behind)
    if causes[-1] is not item:
        causes.remove(item)
        causes.append(item)
        heir = next((c for c in causes if c.node == source), None) or causes[0]
        if hasattr(item, "share_ranked_first") and hasattr(heir, "share_ranked_first") and heir is not item:
            heir.share_ranked_first += item.share_ranked_first
            item.share_ranked_first = 0.0
        ranking.root_causes[:] = causes
    if not contradicts or credit is None:
        return ""
    credited = f"the {100 * credit:.0f}% restoration the model credits to its own behaviour"
    at = "its setpoint" if to_setpoint else "its reference level"
    return (f"{lp.controlled} is ranked last: its controller held it within {abs(cv_dev):.1f} reference sd of {at} "
            f"while {lp.manipulated} moved {mv_shift:+.1f} sd, so it did not change on its own. {credited[0].upper()}"
            f"{credited[1:]} is the controller's correction read as {lp.controlled}'s noise (a relation learnt in "
            f"closed loop never captures the whole correction), not a cause: restoring it would switch the "
            "compensation off. "
            f"(If {lp.controlled}'s sensor itself drifted, the controller held the reading, not the process: check it "
            f"when nothing upstream explains {lp.manipulated}'s move.)")


def _saturated_text(lp, sat, when, cv_shift: float, mv_shift: float) -> str:
    """The lead note of a saturated loop: the limit (or both limits) its MV sat at, since when."""
    band = f"{100 * SATURATED_BAND:.0f}%"
    if len(sat) == 1:
        share, _, limit = sat[0]
        side = "upper" if limit == lp.high else "lower"
        how = (f"{lp.manipulated} went to its declared {side} limit ({limit:g}) {when[limit]} and sat within "
               f"{band} of it for {100 * share:.0f}% of the incident")
    else:
        parts = [f"the {'upper' if limit == lp.high else 'lower'} ({limit:g}) for {100 * share:.0f}% of the incident, "
                 f"first {when[limit]}" for share, _, limit in sorted(sat, key=lambda x: x[2])]
        how = (f"{lp.manipulated} swung between its declared limits, sitting within {band} of "
               + ", and of ".join(parts) + f" (its mean, {mv_shift:+.1f} sd, says little of where it was)")
    return (f"the controller of {lp.controlled} lost authority: {how}, while {lp.controlled} moved {cv_shift:+.1f} "
            f"reference sd ({lp.manipulated} {mv_shift:+.1f} sd). From then on the loop could not reject more of the "
            f"disturbance: look upstream of {lp.manipulated} for what drove it there; {lp.controlled}'s move is the "
            "disturbance getting through, not a cause of its own.")


def _limits_text(lp) -> str:
    if lp.low is not None and lp.high is not None:
        return f"{lp.low:g} to {lp.high:g}"
    return f"low {lp.low:g}" if lp.low is not None else f"high {lp.high:g}"


def _share_outside(lp, x: np.ndarray, ref_sd: float) -> float:
    """Share of the readings ``x`` beyond the loop's declared limits (a small tolerance allowed)."""
    low, high = lp.low, lp.high
    span = (high - low) if low is not None and high is not None and high > low else 6 * ref_sd
    tol = LIMIT_TOLERANCE * span
    beyond = np.zeros(len(x), dtype=bool)
    if low is not None:
        beyond |= x < low - tol
    if high is not None:
        beyond |= x > high + tol
    return float(beyond.mean()) if len(x) else 0.0


def _outside_limits(lp, mv: np.ndarray) -> float | None:
    """Share of the MV's readings (both periods) outside its declared limits, when it is most of
    them (the limits are then not the MV's own travel); None otherwise or without limits."""
    if (lp.low is None and lp.high is None) or len(mv) == 0:
        return None
    share = _share_outside(lp, mv, reference_sd(mv))
    return share if share >= OUTSIDE_LIMITS_SHARE else None


def _has_signature(r: float, p: float) -> bool:
    return abs(r) >= PROPOSE_MIN_PARTIAL_R and p <= PROPOSE_MAX_P


def _declaration_doubt(lp, outside: float | None, mv_r, mv_a, cv_r, cv_a, mv_shift: float, cv_shift: float,
                       saturated: bool) -> tuple[str | None, Note | None]:
    """Whether the data contradict the loop as declared, in a few words and as a note naming it.

    Two readings: the MV outside the limits declared for it (``outside``, most of its readings),
    and the controller's pattern reversed (the CV moved while the MV held, not at a limit). The
    swap is suggested where the CV lies within the declared limits, or where the reference shows
    the integral signature of a controller the other way round (:func:`_integral_signature`); a
    loop that shows its signature as declared was in manual, not declared wrongly.

    Returns
    -------
    (str or None, Note or None)
        The doubt for :attr:`LoopRecord.questioned` (None: a loop in manual is not in doubt) and
        the note; (None, None) when the data read the loop as declared.
    """
    cv, mv = lp.controlled, lp.manipulated
    reasons, short, swap, no_loop = [], [], False, False
    if outside is not None:
        mv_all, cv_all = np.concatenate([mv_r, mv_a]), np.concatenate([cv_r, cv_a])
        reasons.append(f"{mv}, declared as the manipulated variable, reads {mv_all.min():.4g} to {mv_all.max():.4g} "
                       f"(mean {mv_all.mean():.4g}), outside the limits declared for it ({_limits_text(lp)}) in "
                       f"{100 * outside:.0f}% of the rows, so no limit or saturation is read against them")
        short.append(f"{mv} outside its declared limits")
        if _share_outside(lp, cv_all, reference_sd(cv_r)) <= 1 - OUTSIDE_LIMITS_SHARE:
            reasons.append(f"{cv}, declared as controlled, lies within them ({cv_all.min():.4g} to {cv_all.max():.4g})")
            swap = True
    in_manual = False
    if not saturated and abs(cv_shift) >= REVERSED_CV_SD and abs(mv_shift) <= REVERSED_MV_SD:
        reasons.append(f"{cv} moved {cv_shift:+.1f} reference sd in the incident while {mv} held within "
                       f"{abs(mv_shift):.1f} sd: a controller in automatic does the reverse (it moves its output to "
                       "hold its variable)")
        r_decl, p_decl = _integral_signature(cv_r, mv_r)
        r_swap, p_swap = _integral_signature(mv_r, cv_r)
        if _has_signature(r_swap, p_swap) and abs(r_swap) > abs(r_decl):
            reasons.append(f"in the reference {cv}'s changes follow {mv}'s level (partial correlation {r_swap:+.2f}), "
                           "as a controller's output does")
            swap = True
        elif _has_signature(r_decl, p_decl):
            reasons.append(f"in the reference {mv}'s changes do follow {cv}'s level (partial correlation "
                           f"{r_decl:+.2f}), so the loop exists and was probably in manual (its output held) in the "
                           "incident")
            in_manual = not swap
        else:
            reasons.append("the reference shows a controller's signature neither way")
            no_loop = not swap
        if not in_manual:
            short.append(f"{cv} moved while {mv} held")
    if not reasons:
        return None, None
    text = f"loop {cv} / {mv} (declared controlled / manipulated): " + "; ".join(reasons) + "."
    if swap:
        text += (f" Are controlled and manipulated swapped? If {cv} is the controller's output, declare [[loop]] "
                 f"controlled = \"{mv}\", manipulated = \"{cv}\" (its low and high are then {cv}'s travel).")
        short.append("controlled and manipulated swapped?")
    elif no_loop:
        text += " Is it a control loop at all, or are controlled and manipulated swapped? Check its [[loop]] block."
        short.append("no loop, or swapped?")
    elif outside is not None:
        text += f" Check the loop's limits (low, high): they are {mv}'s own travel, such as 0 to 100 for a valve in %."
    if in_manual and outside is None:
        return None, Note(text, "loop", "caution")
    return "; ".join(short), Note(text, "loop", "warning")


def _loop_tags(layout) -> set[str]:
    """Every declared loop's controlled and manipulated variables and setpoint tags."""
    return ({x.manipulated for x in layout.loops} | {x.controlled for x in layout.loops}
            | {x.setpoint for x in layout.loops if isinstance(x.setpoint, str)})


def _upstream_movers(lp, layout, ref, an, graph) -> list[tuple[str, float]]:
    """Sensors that moved clearly (:data:`UPSTREAM_MOVED_SD`) upstream of a loop: at an earlier
    station than its MV, or at its station and an ancestor of its CV or MV in the graph; the
    largest shift first. No loop's own sensors, no KPI."""
    tier = layout.tier_of(lp.manipulated)
    near = set()
    for n in (lp.controlled, lp.manipulated):
        if graph is not None and n in graph.nodes:
            near |= graph.ancestors(n)
    out = []
    for c in ref.columns:
        if c in _loop_tags(layout) or c == layout.target or c not in an.columns \
                or not pd.api.types.is_numeric_dtype(ref[c]) or c not in layout.nodes:
            continue
        if not (layout.tier_of(c) < tier or (layout.tier_of(c) == tier and c in near)):
            continue
        shift = mean_shift_sd(an[c].to_numpy(float), ref[c].to_numpy(float))
        if np.isfinite(shift) and abs(shift) >= UPSTREAM_MOVED_SD:
            out.append((c, float(shift)))
    return sorted(out, key=lambda x: -abs(x[1]))


def _unsourced(lp, layout, ref, an, ranking, graph) -> str:
    """A compensated loop whose disturbance no single upstream sensor explains: say so, and put
    the upstream sensors that moved clearly before the loop's pair (its MV is the controller's
    answer and its CV held: neither is where the disturbance came from). Returns the words added
    to the loop's note."""
    movers = _upstream_movers(lp, layout, ref, an, graph)
    text = (f". No single upstream sensor explains at least {100 * SOURCE_MIN_SHARE:.0f}% of {lp.manipulated}'s "
            "shift through its reference relation with it, so where the disturbance came from is not pinned down "
            "(an unmeasured feed property, or a lab value sampled too rarely to show the relation)")
    if not movers:
        return text + f"; no sensor upstream of {lp.manipulated} moved clearly either: look for an unmeasured one"
    order = [c.node for c in ranking.root_causes]
    ahead = [n for n in order if n in (lp.manipulated, lp.controlled)]
    moved = ", ".join(f"{c} ({s:+.1f} sd)" for c, s in movers)
    text += f"; upstream of it these moved clearly: {moved}"
    ranked = [c for c, _ in movers if c in order]
    if ahead and ranked:
        for c in ranked:
            if order.index(c) > order.index(ahead[0]):
                move_before(ranking, c, ahead[0])
            order = [x.node for x in ranking.root_causes]
        text += (f": {', '.join(ranked)} {'is' if len(ranked) == 1 else 'are'} ranked before {ahead[0]}, which "
                 "only answered the disturbance")
    return text


def _disturbance_source(lp, layout, ref, an, mv_r, mv_a, sampled) -> tuple[str | None, float]:
    """The sensor upstream of (or at) the MV's station whose incident shift, through its reference
    relation with the MV, explains most of the MV's shift. A lab tag's relation is read on its
    sampled rows (``sampled``: positions within ``ref``)."""
    tier = layout.tier_of(lp.manipulated)
    skip = {lp.controlled, lp.manipulated, layout.target}
    if isinstance(lp.setpoint, str):
        skip.add(lp.setpoint)
    others = {x.manipulated for x in layout.loops} | {x.controlled for x in layout.loops}
    moved = mv_a.mean() - mv_r.mean()
    best, best_share = None, 0.0
    for c in ref.columns:
        if c in skip or c in others or layout.tier_of(c) > tier or not pd.api.types.is_numeric_dtype(ref[c]):
            continue
        x, y = ref[c].to_numpy(float), mv_r
        rows = sampled.get(c)
        if rows is not None and len(rows) >= SOURCE_MIN_SAMPLES:
            x, y = x[rows], mv_r[rows]
        if np.std(x) == 0:
            continue
        slope = np.cov(x, y)[0, 1] / np.var(x, ddof=1)
        share = slope * (an[c].to_numpy(float).mean() - x.mean()) / moved if moved else 0.0
        if share > best_share:
            best, best_share = c, float(share)
    return (best, best_share) if best_share >= SOURCE_MIN_SHARE else (None, best_share)


def move_before(ranking, node: str, before: str) -> None:
    """Put ``node`` just before ``before`` in ``ranking.root_causes`` (in place).

    The time readings that call this decide from the data, the layout and the graph, never from
    the fitted effects, so in every refit where ``before`` came first the same reading would have
    put ``node`` there: its share of refits ranked first passes to ``node``. (Refits led by a third
    cause keep their count: whether the reading would have moved them is not known.)
    """
    causes = list(ranking.root_causes)
    item = next(c for c in causes if c.node == node)
    ahead = next(c for c in causes if c.node == before)
    causes.remove(item)
    causes.insert(causes.index(ahead), item)
    ranking.root_causes[:] = causes
    if hasattr(item, "share_ranked_first") and hasattr(ahead, "share_ranked_first"):
        item.share_ranked_first += ahead.share_ranked_first
        ahead.share_ranked_first = 0.0


# Proposing loops the layout does not declare (the analysis never uses them itself; the command line
# re-runs with the strong ones added, rca_app/app/strong_proposals.py).
PROPOSE_MV_SD = 3.0           # the manipulated variable moved at least this much in the incident ...
PROPOSE_CV_SD = 1.0           # ... while the controlled one held within this
PROPOSE_MIN_PARTIAL_R = 0.3   # reference: the MV's changes follow the CV's level this strongly
PROPOSE_MAX_P = 1e-4          # and this clearly (on the effective rows)


def _integral_signature(cv: np.ndarray, mv: np.ndarray) -> tuple[float, float]:
    """Partial correlation of the MV's change with the CV's level, given the CV's change (now and
    one row back) and the MV's previous change, and its p-value on the effective rows.

    A controller with integral action moves its output by an amount proportional to the
    controlled variable's deviation (dMV_t = kp dCV_t + ki e_t), so dMV depends on the CV's
    *level*; a plain process relation (MV = a CV + noise) ties the changes only.
    """
    from scipy import stats

    from rca_app.core.autocorrelation import autocorrelations, pair_inflation

    d_mv, d_cv = np.diff(mv), np.diff(cv)
    y = d_mv[1:]
    level = cv[2:] - cv.mean()
    Z = np.column_stack([np.ones(len(y)), d_cv[1:], d_cv[:-1], d_mv[:-1]])
    coef_y, *_ = np.linalg.lstsq(Z, y, rcond=None)
    coef_x, *_ = np.linalg.lstsq(Z, level, rcond=None)
    ry, rx = y - Z @ coef_y, level - Z @ coef_x
    den = float(np.sqrt((ry @ ry) * (rx @ rx)))
    if den <= 0:
        return 0.0, 1.0
    r = float(ry @ rx) / den
    n_eff = len(y) / pair_inflation(autocorrelations(ry), autocorrelations(rx))
    t = r * np.sqrt(max(n_eff - 5, 1) / max(1e-12, 1 - r * r))
    return r, float(2 * stats.t.sf(abs(t), max(n_eff - 5, 1)))


def loop_proposals(layout, ref: pd.DataFrame, an: pd.DataFrame, numeric) -> list[LoopProposal]:
    """Control loops the data show but the layout does not declare, as records.

    A pair is proposed when, at the same or adjacent stations, one sensor (the manipulated
    variable) moved clearly in the incident while the other (controlled) held, and in the
    reference the first one's changes follow the second one's level
    (:func:`_integral_signature`). Records, so the window can offer each loop with one button and
    the graph can draw it. Like a proposed recycle, a proposed loop is never
    used by the analysis itself: it changes how the disturbance is followed, so the engineer
    declares it in the window; the command line uses the strong ones
    (:mod:`rca_app.app.strong_proposals`).

    Parameters
    ----------
    layout : Layout
    ref, an : DataFrame
        Reference and incident rows in physical time (not aligned: a loop acts within its station).
    numeric : iterable of str
        Numeric sensors.

    Returns
    -------
    list of LoopProposal
        The strongest mover first; each sensor in one proposal at most.
    """
    declared = {lp.manipulated for lp in layout.loops} | {lp.controlled for lp in layout.loops}
    exo = set(layout.exogenous)
    cols = [c for c in numeric if c in ref.columns and c != layout.target and c not in declared]
    shift = {c: mean_shift_sd(an[c].to_numpy(float), ref[c].to_numpy(float)) for c in cols}
    out: list[LoopProposal] = []
    taken: set[str] = set()
    movers = sorted((c for c in cols if abs(shift[c]) >= PROPOSE_MV_SD and c not in exo), key=lambda c: -abs(shift[c]))
    for mv in movers:
        if mv in taken:
            continue
        best = None
        for cv in cols:
            if cv == mv or cv in taken or abs(shift[cv]) > PROPOSE_CV_SD:
                continue
            if abs(layout.tier_of(cv) - layout.tier_of(mv)) > 1:
                continue
            r, p = _integral_signature(ref[cv].to_numpy(float), ref[mv].to_numpy(float))
            if _has_signature(r, p) and (best is None or abs(r) > abs(best[1])):
                best = (cv, r)
        if best is None:
            continue
        cv, r = best
        taken |= {cv, mv}
        text = (f"the data show a control loop the layout does not declare: {mv} moved {shift[mv]:+.1f} reference "
                f"sd in the incident while {cv} held (within {abs(shift[cv]):.1f} sd), and in the reference "
                f"{mv}'s changes follow {cv}'s level (partial correlation {r:+.2f}, as a controller with integral "
                f"action does). A controller holding {cv} with {mv} hides the disturbance in {mv}. It is not used "
                f"until you declare it: [[loop]] controlled = \"{cv}\", manipulated = \"{mv}\"")
        out.append(LoopProposal(controlled=cv, manipulated=mv, mv_shift_sd=float(shift[mv]),
                                cv_shift_sd=float(shift[cv]), partial_r=float(r), text=text))
    return out

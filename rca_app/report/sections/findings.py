"""What the analysis found: the causal graph, the root-cause ranking (D4), the evidence of the
top causes and the setpoint actions (D5)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from rca_app.app.cause_paths import over_time_words, result_paths
from rca_app.app.result_words import (
    NOT_COMPUTED,
    REFERENCE_RANGE_WORDS,
    action_response_text,
    controller_output_text,
    no_restoration_text,
    restoration_range_text,
)
from rca_app.core.action_support import not_proposed_text
from rca_app.core.support import PLANT_RANGE_WORDS
from rca_app.report import figures
from rca_app.report import formatting as F
from rca_app.report import text as T
from rca_app.report.page import FIG_W_IN, SECTIONS, TEXT_W

if TYPE_CHECKING:
    from rca_app.report.builder import ReportBuilder

__all__ = ["causal_graph", "ranking", "evidence", "actions"]


def causal_graph(b: ReportBuilder) -> list:
    r = b.r
    top = r.top_cause
    head = b.H1(SECTIONS[2])
    n_e = len(r.graph.edges)
    src = ("given by the user (edited or loaded), not discovered" if r.diagnostics.graph_source == "given"
           else "discovered from the reference period")
    intro = b.P(
        f"The causal graph has {len(r.graph.nodes)} sensors and {n_e} edges, {src}. Stations run left to "
        "right in process order; an arrow means the upstream sensor drives the downstream one.")
    fig = b._fig("graph", lambda: figures.causal_graph(r, FIG_W_IN, max_height_in=8.2))
    cap = ("Red box and arrows: the top root cause"
           + (f" ({top.node})" if top else "") + " and its paths to the KPI. Dark box: the KPI. "
           "Orange border: root causes ranked 2nd and 3rd. Green border: controllable setpoint. Dashed box: "
           "categorical sensor. Arrow width and darkness: edge confidence (share of bootstrap resamples that "
           "found the edge); dashed arrows: confidence below 50%"
           + (", or a direction the data cannot tell." if r.diagnostics.undetermined_edges else ".")
           + _dynamics_caption(r))
    return [KeepTogether([head, intro, fig, b.P(cap, "caption")])] + [b.P(t) for t in T.discovery_paragraphs(r)]


def _dynamics_caption(r) -> str:
    """The graph caption's words for links over time, only for those the figure draws."""
    dyn = r.dynamics
    if dyn is None:
        return ""
    from rca_app.report.figures import MAX_LABELLED_LAGGED

    cross = [le for le in dyn.lagged_edges if le.kind != "self"]
    parts = []
    from rca_app.app.graph_view import station_gaps

    gaps = station_gaps(list(r.graph.stations), r)
    if gaps:
        parts.append("Between the station columns: the residence time from one station to the next used to align "
                     "the rows (" + ("≈: estimated from the data; " if any(g["estimated"] for g in gaps) else "")
                     + "Process dynamics in the appendix lists each with its confidence)")
    if cross:
        parts.append("Purple arcs: recycle streams acting after their lag (solid: a lagged input of the model; "
                     "dashed: found in the data but not used by the model, e.g. proposed and not declared"
                     + ("; drawn thin and unlabelled, as there are many: the appendix lists each with its lag"
                        if len(cross) > MAX_LABELLED_LAGGED else "; one label per stream") + ")")
    if dyn.loops:
        parts.append("Green dotted double arrows: control loops (manipulated and controlled variable)")
    if getattr(dyn, "proposed_loops", None):
        parts.append("Magenta dashed double arrows: control loops the data show but the layout does not declare "
                     "(proposed, not used: section 7 gives the [[loop]] to add)")
    return (" " + ". ".join(parts) + ".") if parts else ""


def _anomaly_scores(r) -> dict:
    """The anomaly ranking's scores by sensor, or {} when the causes are ranked by restoration."""
    basis = r.ranking_basis
    if basis is None or basis.method != "anomaly":
        return {}
    return {a.node: a for a in basis.anomaly_scores}


def _anomaly_ranking(b: ReportBuilder, scores: dict) -> list:
    """The ranking section of an anomaly ranking: the sensors' own anomaly scores, said plainly
    not to be restorations (the KPI never varied in the reference: nothing to restore)."""
    r = b.r
    st = [b.H1(SECTIONS[3] + " (D4)")]
    st.append(b.P(
        f"**This is an anomaly ranking, not a restoration.** {r.target} never varied in the reference period, "
        "so there is no reference behaviour of it to restore to, and how much of its change each sensor explains "
        "cannot be estimated. Instead, each sensor at or upstream of the KPI's station is scored by how unusual "
        "its own behaviour was in the incident, given its measured causes. Anomaly score: the mean over the "
        "incident rows of −log of the share of reference noise at least as extreme (0: typical; 4.6: as extreme as "
        "1 reference row in 100). Tail share: that share itself. Noise shift: the incident's mean noise against "
        "the reference, in reference SDs (its sign is the direction of the change). First on rows: the share of "
        "incident rows on which the sensor had the highest score. A high score says the sensor behaved unusually; "
        "it does not say how much of the KPI change it caused."))
    tab = [["#", "Sensor", "Station", "Anomaly score", "Tail share", "Noise shift (SD)", "First on rows",
            "Setpoint"]]
    for i, c in enumerate(r.root_causes, 1):
        a = scores.get(c.node)
        tab.append([str(i), T.cause_label(r, c.node), c.station,
                    F.fmt_num(a.score, 2) if a else F.MISSING,
                    F.fmt_pct(a.tail_share, 1) if a else F.MISSING,
                    F.fmt_num(a.noise_shift_sd, 1) if a else F.MISSING,
                    F.fmt_pct(a.first_on_rows) if a else F.MISSING,
                    "yes" if c.controllable else ""])
    w = [8 * mm, 40 * mm, 28 * mm, 21 * mm, 17 * mm, 20 * mm, 18 * mm]
    w.append(TEXT_W - sum(w))
    st.append(b.table(tab, w, align_right=(0, 3, 4, 5, 6), highlight_row=1 if r.root_causes else None))
    st.append(Spacer(1, 8))
    return st


def ranking(b: ReportBuilder) -> list:
    r = b.r
    scores = _anomaly_scores(r)
    if scores:
        return _anomaly_ranking(b, scores)
    n = T.refits_used(r)
    st = [b.H1(SECTIONS[3] + " (D4)")]
    st.append(b.P(
        "Restoration is the share of the KPI loss the model predicts would come back if that sensor alone "
        "had behaved as in the reference period (its own noise redrawn from the reference, everything "
        f"downstream recomputed). Intervals are 5–95% over {n} bootstrap refits; “ranked first” is the share "
        "of those refits in which the sensor came out on top."
        + (" The reference period is short, so the intervals were widened by a small-sample correction; they "
           "still cover only the refits' variation, not the error of the simpler model itself."
           if r.ranking_basis is not None and r.ranking_basis.simple_model else "")))
    tab = [["#", "Sensor", "Station", "Restoration", "90% interval", "Ranked first", "Setpoint"]]
    ranged = False
    unrestored = []   # causes without a restoration of their own (the record says why)
    for i, c in enumerate(r.root_causes, 1):
        lo, hi = c.restoration_ci
        rng = restoration_range_text(c)
        ranged = ranged or rng is not None
        why = no_restoration_text(c, r.target)
        if why:
            unrestored.append(f"{c.node}: {why}.")
            tab.append([str(i), T.cause_label(r, c.node), c.station, NOT_COMPUTED + "†", F.MISSING,
                        F.fmt_pct(c.share_ranked_first), "yes" if c.controllable else ""])
            continue
        tab.append([str(i), T.cause_label(r, c.node), c.station,
                    F.fmt_pct(c.restoration) + (f" ({rng.replace(' over undetermined directions', '')}*)"
                                                if rng else ""),
                    F.fmt_interval(lo, hi), F.fmt_pct(c.share_ranked_first),
                    "yes" if c.controllable else ""])
    w = [8 * mm, 50 * mm, 31 * mm, 26 * mm, 24 * mm, 16 * mm]
    w.append(TEXT_W - sum(w))
    st.append(b.table(tab, w, align_right=(0, 3, 4, 5), highlight_row=1 if r.root_causes else None))
    if ranged:
        st.append(b.P("* Range: the lowest and highest restoration over the graphs the data cannot tell apart "
                      "(edges whose direction is undetermined); the graph figure draws one of them.", "small"))
    for text in unrestored:
        st.append(b.P("† " + text, "small"))
    st.append(Spacer(1, 8))
    if r.root_causes:
        fig = b._fig("ranking", lambda: figures.ranking_chart(r, FIG_W_IN))
        shown = min(12, len(r.root_causes))
        st.append(KeepTogether([fig, b.P(
            f"Restoration of the top {shown} sensors with their 90% intervals. The dotted line marks 100%: "
            "the whole loss.", "caption")]))
    return st


def evidence(b: ReportBuilder) -> list:
    r = b.r
    st = [b.H1(SECTIONS[4])]
    causes = r.root_causes[:3]
    if not causes:
        return st + [b.P("No causes to show.")]
    st.append(b.P(
        "For the top causes: how the sensor and the KPI moved over the reference period and the incident, "
        "and the sensor's noise z-score, i.e. how far its own variation (after removing what its upstream "
        "causes explain) moved, in reference noise SDs."))
    if b.data_note:
        st.append(b.P(b.data_note, "caption"))
    scores = _anomaly_scores(r)
    for c in causes:
        ev = c.evidence
        lo, hi = c.restoration_ci
        a = scores.get(c.node)
        if a is not None:
            # An anomaly ranking has no restoration to show (see _anomaly_ranking).
            block = [b.H2(f"{c.node} ({c.station}): anomaly score {F.fmt_num(a.score, 2)}")]
            # (The noise shift is in shift_text, as the noise z-score.)
            txt = (f"Anomaly score {F.fmt_num(a.score, 2)}: given its measured causes, {F.fmt_pct(a.tail_share, 1)} "
                   f"of its reference behaviour was as extreme as in the incident, and it scored highest on "
                   f"{F.fmt_pct(a.first_on_rows)} of the incident rows. This is an anomaly score, not a "
                   f"restoration: {r.target} never varied in the reference period. " + T.shift_text(r, c))
        else:
            block = [b.H2(f"{T.cause_label(r, c.node)} ({c.station}): restores {F.fmt_pct(c.restoration)}")]
            txt = (f"Restoration {F.fmt_pct(c.restoration)} (90% interval {F.fmt_interval(lo, hi)}), ranked "
                   f"first in {F.fmt_pct(c.share_ranked_first)} of the refits. " + T.shift_text(r, c))
        ratio = ev.noise_sd_ratio
        if ratio is not None:
            txt += (f" The spread of its noise during the incident is {F.fmt_num(ratio, 2)} times the "
                    "reference spread.")
        paths = ev.paths
        if paths:
            shown = "; ".join(" → ".join(p) for p in paths[:4])
            more = f" (and {len(paths) - 4} more)" if len(paths) > 4 else ""
            txt += f" Paths to {r.target}: {shown}{more}."
        if c.node != r.target and not c.unmeasured:
            # The graph draws paths through a loop the model holds over time: say why they are not above.
            drawn = result_paths(r, c.node)
            if drawn.over_time:
                n, via = len(drawn.over_time), over_time_words(drawn)
                listed = "; ".join(" → ".join(p) for p in drawn.over_time[:2])
                txt += (f" The graph draws {drawn.count} paths; the other {n} run {via}: {listed}." if paths else
                        f" Its path{'s' if n > 1 else ''} to {r.target} run{'' if n > 1 else 's'} {via}: {listed}.")
        block.append(b.P(txt))
        if c.node == r.target:
            # The KPI's own entry: its trend is the KPI's, drawn below every other cause already.
            block.append(b.P(f"{T.cause_label(r, c.node)}: the part of the loss no measured upstream sensor "
                             "explains; no trend of its own is drawn (it would be the KPI against itself).", "small"))
        elif b.data_note is None and c.node in b.data.frame.columns:
            node = c.node
            fig = b._fig(("trend", node), lambda node=node: figures.trend_figure(r, b.data, node, FIG_W_IN))
            lo_row, hi_row, cut = figures.display_rows(r, len(b.data.frame))
            cap = (f"Top: {node}" + ("" if c.categorical else
                   " (grey: raw values; red: rolling mean; dashed: reference mean)")
                   + f". Bottom: {r.target} (dark blue: rolling mean). Shaded: the incident window.")
            if cut:
                cap += f" Only the last {r.anomaly.first_row - lo_row:,} rows of the reference period are shown."
            block += [fig, b.P(cap, "caption")]
        st.append(KeepTogether(block))
    return st


def actions(b: ReportBuilder) -> list:
    r = b.r
    st = [b.H1(SECTIONS[5] + " (D5)")]
    acts = sorted(r.actions, key=lambda a: -a.restoration)
    # Setpoints the model could only extrapolate are named with why (core/action_support.py).
    left_out = [not_proposed_text(x, r.target) + "." for x in r.not_proposed]
    if not acts and left_out:
        st.append(b.P("No setpoint change is proposed: every setting the model could judge would carry the plant "
                      f"beyond {PLANT_RANGE_WORDS}."))
        st += b.bullets(left_out, "sbullet")
    elif not acts:
        st.append(b.P("No controllable setpoint has a causal path to the KPI, so there is no setpoint "
                         "what-if to report. Declare setpoints as controllable in the layout to get one."))
    else:
        st.append(b.P(
            f"What-if results for the controllable setpoints: each is set to the value in its reference range "
            f"that gives the best predicted {r.target} on the incident rows (do-operator: the setpoint is forced, "
            "everything downstream follows the model, each row keeps its own disturbances). Predictions are "
            f"only made inside the setpoint's reference range: {REFERENCE_RANGE_WORDS}."))
        tab = [["Setpoint (station)", "Incident", "Recommended", "Reference range",
                f"Predicted {r.target} (90% int.)", "Restores (90% int.)"]]
        for a in acts:
            unit = T.unit_of(r, a.node)
            rng = a.reference_range
            if len(rng) == 2 and not any(isinstance(v, str) for v in rng):
                rng_txt = f"{T.fmt_setpoint(a, rng[0], '')} to {T.fmt_setpoint(a, rng[1], unit)}"
            else:
                rng_txt = ", ".join(map(str, rng))
            lo, hi = a.predicted_target_ci
            rlo, rhi = a.restoration_ci
            inc = a.incident_value
            dec = T.prediction_decimals(r, a)
            tab.append([f"{a.node} ({a.station})", T.fmt_setpoint(a, inc, unit) if inc is not None else F.MISSING,
                        T.fmt_setpoint(a, a.recommended_value, unit), rng_txt,
                        f"{F.fmt_num(a.predicted_target, dec)} ({F.fmt_num(lo, dec)} to "
                        f"{F.fmt_num(hi, dec)})",
                        f"{F.fmt_pct(a.restoration)} ({F.fmt_interval(rlo, rhi)})"])
        w = [44 * mm, 21 * mm, 26 * mm, 31 * mm, 28 * mm]
        w.append(TEXT_W - sum(w))
        # Heading, intro and the (short) table on one page.
        st = [KeepTogether(st + [b.table(tab, w, highlight_row=1)])]
        # When the KPI would respond, with the action: an operator who sees nothing for the
        # residence time must not undo the change.
        when = [f"{a.node}: {t}" for a in acts if (t := action_response_text(a, r.target))]
        if when:
            st.append(Spacer(1, 4))
            st.append(b.P(f"<b>When {r.target} would respond</b> (after the change; judge it no sooner)", "small",
                          markup=True))
            st += b.bullets(when, "sbullet")
        warns = [f"{a.node}: {wtxt}" for a in acts for wtxt in a.warnings]
        # A loop's valve is no free setpoint: say so with the action (trial defect 5).
        warns += [t for t in (controller_output_text(a.node, r) for a in acts) if t]
        if warns:
            st.append(Spacer(1, 4))
            st.append(b.P("<b>Warnings</b>", "small", markup=True))
            st += b.bullets(warns, "sbullet")
        if left_out:
            st.append(b.P("<b>Not proposed</b>", "small", markup=True))
            st += b.bullets(left_out, "sbullet")
        best = acts[0]
        fig = b._fig("action", lambda: figures.action_curve(r, best, FIG_W_IN))
        if isinstance(best.recommended_value, str):
            cap = (f"Predicted mean {r.target} of the incident rows for each level of {best.node} seen in "
                   "the reference period; green: the recommended level. Dashed lines: the KPI level of the "
                   "reference period and of the incident.")
        else:
            cap = (f"Predicted mean {r.target} of the incident rows for each setting of {best.node} "
                   f"(navy), over its reference range ({REFERENCE_RANGE_WORDS}, green band). Green point: "
                   "the recommended setting with its 90% interval. Dashed lines: the KPI level of the "
                   "reference period and of the incident.")
        st.append(Spacer(1, 6))
        st.append(KeepTogether([b.H2(f"Predicted {r.target} against {best.node}"), fig,
                                b.P(cap, "caption")]))
    box = b.note_box("D5 Corrective actions", b.notes.get("corrective_action"),
                        placeholder="Not recorded. Decided corrective actions can be added with --notes.")
    st.append(KeepTogether([box]))
    return st

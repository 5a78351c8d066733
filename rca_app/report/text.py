"""Numbers and sentences of the report, kept free of reportlab so they are easy to test.

Everything here reads the typed :class:`~rca_app.core.results.AnalysisResult` and returns
plain strings; the builder only escapes and lays them out. Numbers and times are formatted by
:mod:`rca_app.report.formatting`.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import shlex
from datetime import datetime
from pathlib import Path

from rca_app.app.kpi_spread import kpi_spread
from rca_app.app.result_words import (
    action_response_text,
    controller_move_text,
    no_restoration_text,
    trust_notes,
)
from rca_app.core.action_support import unstated_figure_text, within_support
from rca_app.core.results import AnalysisResult, GraphNodeRecord, IncidentRecord, WindowRecord
from rca_app.core.rootcause import Action, Evidence, RootCause
from rca_app.core.support import PLANT_RANGE_WORDS
from rca_app.report.formatting import (
    decimals_for,
    fmt_amount,
    fmt_duration,
    fmt_interval,
    fmt_num,
    fmt_pct,
    fmt_window,
    parse_bound,
    with_unit,
)

# A sensor "moved" when its incident mean is this many reference SDs away; it moved "on its
# own" when its noise (what its causes do not explain) moved this far. One SD is large enough
# to matter on a plant and small enough to catch the drifts that cost yield.
SHIFT_SD = 1.0
NOISE_Z = 1.0
SPREAD_RATIO = 1.5          # incident/reference noise spread outside [1/1.5, 1.5]: spread changed
MIX_CHANGE = 0.2            # total-variation distance of a categorical's level shares


# --- result helpers -----------------------------------------------------------------------

def node_info(result: AnalysisResult) -> dict[str, GraphNodeRecord]:
    """The graph's nodes by sensor name."""
    return {n.name: n for n in result.graph.nodes}


def unit_of(result: AnalysisResult, node: str) -> str:
    """The sensor's engineering unit, "" when the layout gives none."""
    n = node_info(result).get(node)
    return (n.unit or "") if n is not None else ""


def target_decimals(result: AnalysisResult) -> int:
    """Decimals for the KPI: about a tenth of its reference SD."""
    return decimals_for(result.anomaly.target_reference_sd)


def refits_used(result: AnalysisResult) -> int:
    """Bootstrap refits behind the intervals."""
    return int(result.diagnostics.bootstrap_refits_used)


def default_author() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers/services
        return "unknown"


def default_report_id(result: AnalysisResult) -> str:
    """Stable for one analysis: the incident date plus a hash of the input and settings, so
    regenerating the report of the same analysis keeps its id."""
    a, ref = result.anomaly, result.reference
    start = parse_bound(a.start)
    day = start.strftime("%Y%m%d") if isinstance(start, datetime) else "ROWS"
    key = json.dumps({"sha": result.input.sha256, "anomaly": [a.start, a.end], "reference": [ref.start, ref.end],
                      "settings": {k: v for k, v in result.settings.items() if k != "command"}},
                     sort_keys=True, default=str)
    return f"RCA-{day}-{hashlib.sha256(key.encode()).hexdigest()[:6].upper()}"


def kpi_change(result: AnalysisResult) -> dict:
    """Direction words and formatted numbers of the KPI change."""
    a = result.anomaly
    unit = unit_of(result, result.target)
    dec = target_decimals(result)
    worse = a.shortfall > 0  # NaN (no shortfall known) is not worse
    maximize = result.goal == "maximize"
    moved = a.target_anomaly_mean < a.target_reference_mean
    return {
        "unit": unit, "dec": dec, "worse": worse,
        "verb": "dropped" if moved else "rose",
        "loss_word": ("loss" if maximize else "increase") if worse else "change",
        "ref": with_unit(fmt_num(a.target_reference_mean, dec), unit),
        "inc": with_unit(fmt_num(a.target_anomaly_mean, dec), unit),
        "amount": fmt_amount(abs(a.target_anomaly_mean - a.target_reference_mean), unit, dec),
        "pct": (f"{abs(a.shortfall_pct):.1f}%" if a.shortfall_pct is not None else None),
        "sd": with_unit(fmt_num(a.target_reference_sd, dec), unit),
    }


def kpi_spread_text(result: AnalysisResult, values) -> str:
    """How the KPI spread over the incident, beside its mean: its range and middle 80%, and a
    warning when it swung so much (or sat on both sides of the reference) that the mean hides
    what happened (:func:`rca_app.app.kpi_spread.kpi_spread`).

    Parameters
    ----------
    result : AnalysisResult
    values : array-like
        The KPI over the incident rows (NaN ignored).

    Returns
    -------
    str
        A sentence (or two) to follow the KPI's mean; "" without values.
    """
    a = result.anomaly
    sp = kpi_spread(values, a.target_reference_mean, a.target_reference_sd)
    if sp is None:
        return ""
    k = kpi_change(result)
    dec, unit = k["dec"], k["unit"]
    out = (f"Over the incident it ranged from {fmt_num(sp.low, dec)} to {with_unit(fmt_num(sp.high, dec), unit)} "
           f"(middle 80% of the rows {fmt_num(sp.p10, dec)} to {with_unit(fmt_num(sp.p90, dec), unit)}).")
    if sp.shape == "regimes":
        out += (f" It did not sit at its mean: {fmt_pct(sp.above)} of the incident rows were more than two reference "
                f"SDs above the reference level and {fmt_pct(sp.below)} more than two below, so the incident holds "
                "more than one regime and its mean hides them. Look at its trend (section 5, under each cause) before "
                "reading the restorations; a window around one regime may explain it better.")
    elif sp.shape == "swung":
        out += (f" It swung widely: its SD over the incident is {fmt_num(sp.sd_ratio, 1)} times the reference's, "
                "so the mean is only part of the story.")
    return out


# --- is / is not --------------------------------------------------------------------------

def mix_change(level_shares: dict | None) -> float | None:
    if not level_shares:
        return None
    return 0.5 * sum(abs(float(inc) - float(ref)) for ref, inc in level_shares.values())


def classify(ev: Evidence, held_by_loop: bool = False, moved_by_loop: str | None = None) -> tuple[str, bool]:
    """(verdict, changed) for one sensor's evidence.

    A sensor is called "shifted" only when its incident mean moved at least :data:`SHIFT_SD`
    reference SDs: its noise z-score says whether the move was its own or its causes', never
    that it moved. A sensor whose own noise moved while its mean held was held against its
    causes (by its controller, when a loop controls it): it is not where the root cause is.

    Parameters
    ----------
    ev : Evidence
    held_by_loop : bool
        A declared control loop controls this sensor.
    moved_by_loop : str, optional
        This sensor is a loop's manipulated variable whose move the loop reading explains: the
        verdict for it when it shifted (``result_words.controller_move_text``), never "on its own".

    Returns
    -------
    verdict : str
    changed : bool
        True for a sensor the incident moved (its mean, spread or level mix).
    """
    if ev.level_shares:
        tv = mix_change(ev.level_shares) or 0.0
        return ("level mix changed", True) if tv >= MIX_CHANGE else ("within reference", False)
    z, s, r = ev.noise_shift_z, ev.shift_sd, ev.noise_sd_ratio
    shifted = s is not None and abs(s) >= SHIFT_SD
    own = z is not None and abs(z) >= NOISE_Z
    if shifted and moved_by_loop:
        return moved_by_loop, True
    if shifted and own:
        return "shifted on its own", True
    if r is not None and r > 0 and (r >= SPREAD_RATIO or r <= 1 / SPREAD_RATIO):
        return "spread changed", True
    if shifted:
        return "shifted with its causes", True
    if own:
        # Its causes pushed it and something pushed back by as much: the mean stayed.
        return ("held by its controller" if held_by_loop else "held against its causes"), False
    return "within reference", False


HELD_VERDICTS = ("held by its controller", "held against its causes")


def level_change_text(level_shares: dict) -> str:
    """The level whose share grew most: ``Ostglas made up 88% of the incident rows (5% before)``."""
    lvl, (ref, inc) = max(level_shares.items(), key=lambda kv: float(kv[1][1]) - float(kv[1][0]))
    return f"{lvl} made up {fmt_pct(inc)} of the incident rows against {fmt_pct(ref)} in the reference"


def shift_text(result: AnalysisResult, cause: RootCause) -> str:
    """How the cause moved in the incident, in words (empty when its evidence has no mean)."""
    ev = cause.evidence
    if cause.categorical and ev.level_shares:
        return f"The mix of its levels changed: {level_change_text(ev.level_shares)}."
    if ev.reference_mean is None:
        return ""
    unit = unit_of(result, cause.node)
    dec = decimals_for(ev.reference_sd)
    s = (f"During the incident it averaged {with_unit(fmt_num(ev.anomaly_mean, dec), unit)} against "
         f"{with_unit(fmt_num(ev.reference_mean, dec), unit)} in the reference "
         f"({fmt_num(ev.shift_sd, 1)} reference SD)")
    z = ev.noise_shift_z
    if z is not None and abs(z) >= NOISE_Z and (ev.shift_sd is None or abs(ev.shift_sd) < SHIFT_SD):
        s += (f"; its mean held, but its own noise z-score is {fmt_num(z, 1)}: something (a controller, "
              "a compensating effect) held it against what its upstream causes did")
    elif z is not None and abs(z) >= NOISE_Z:
        s += (f"; its own noise z-score is {fmt_num(z, 1)}, so the change is not explained by the "
              "sensors upstream of it")
    elif z is not None:
        s += f"; its noise z-score is only {fmt_num(z, 1)}, so it mostly followed its upstream causes"
    return s + "."


# --- discovery ----------------------------------------------------------------------------

METHOD_WORDS = {
    "lingam": "LiNGAM (directions from the non-Gaussian shape of the sensors' noise)",
    "pc": "the constraint-based search PC (directions from conditional independences and the layout only)",
    "fci": "FCI (the constraint-based search that also marks unmeasured common causes)",
    "pc+lingam": "the constraint-based search PC, with LiNGAM's directions where the noise is non-Gaussian",
}


def discovery_paragraphs(result: AnalysisResult) -> list[str]:
    """How the graph was found and what it cannot tell: the method and why, the edges whose
    direction the data cannot decide, the suspected unmeasured causes (empty for a given graph
    with nothing undetermined)."""
    d = result.diagnostics
    out = []
    if d.discovery_method:
        p = f"The graph was found by {METHOD_WORDS.get(d.discovery_method, d.discovery_method)}"
        out.append(p + (f": {d.discovery_reason}." if d.discovery_reason else "."))
    if d.undetermined_edges:
        pairs = "; ".join(f"{a} and {b}" for a, b in d.undetermined_edges[:8])
        more = f" (and {len(d.undetermined_edges) - 8} more)" if len(d.undetermined_edges) > 8 else ""
        ranged = [c for c in result.root_causes[:3] if c.restoration_range is not None]
        p = (f"The data cannot tell which way {len(d.undetermined_edges)} edge(s) point: {pairs}{more} "
             "(dashed in the graph). The graph draws the direction under which the incident changes the fewest "
             "sensors; the ranking was repeated over every direction the layout allows")
        if ranged:
            p += ", and the top causes restore " + "; ".join(
                f"{c.node} {fmt_pct(c.restoration_range[0])} to {fmt_pct(c.restoration_range[1])}" for c in ranged)
        out.append(p + ". If you know a direction, fix it in the graph editor and refit.")
    for h in d.hidden_causes:
        if h.evidence:
            why = "; ".join(e.rstrip(".") for e in h.evidence)
        elif h.correlation is not None:
            why = f"their own noises correlate (r = {fmt_num(h.correlation, 2)}) with no edge between them"
        else:
            why = "neither can cause the other, yet they move together"
        p = f"An unmeasured cause is likely acting on {' and '.join(h.sensors)}: {why}. " + (
            f"Restoring them together recovers {fmt_pct(h.restoration)} of the loss."
            if h.kpi_beyond is None or within_support(h.kpi_beyond)
            else unstated_figure_text(h.kpi_beyond, "restoring them together"))
        if h.edges_left_out:
            p += (" The edge(s) " + ", ".join(f"{a} → {b}" for a, b in h.edges_left_out)
                  + " were left out of the ranking: they carry the shared cause, so neither sensor is credited "
                  "with the other's change.")
        out.append(p)
    return out


# --- summary ------------------------------------------------------------------------------

def confidence_word(share: float) -> str:
    if share >= 0.9:
        return "the ranking is clear"
    if share >= 0.6:
        return "the ranking is fairly clear"
    return "the ranking is uncertain"


def cause_label(result: AnalysisResult, node: str) -> str:
    """The KPI's own noise can rank as a cause: say what that means."""
    return f"{node} (KPI's own, unexplained)" if node == result.target else node


def best_action(result: AnalysisResult) -> Action | None:
    """The action that restores most, None without actions; never one a declared loop's
    controller would cancel (``Action.cancelled_by``)."""
    acts = [a for a in result.actions if a.restoration is not None and not a.cancelled_by]
    return max(acts, key=lambda a: a.restoration) if acts else None


def prediction_decimals(result: AnalysisResult, action: Action) -> int:
    """Enough decimals that a narrow 90% interval does not print as ``1.46 to 1.46``."""
    lo, hi = action.predicted_target_ci
    return max(target_decimals(result), min(decimals_for(10 * abs(hi - lo)), 5))


def action_value_decimals(action: Action) -> int:
    """Decimals for a setpoint: about a quarter of its reference range, shown to a tenth."""
    rng = action.reference_range
    if len(rng) == 2 and not any(isinstance(v, str) for v in rng):
        return decimals_for((float(rng[1]) - float(rng[0])) / 4)
    return 2


def fmt_setpoint(action: Action, value, unit: str) -> str:
    """A setpoint value (a level passes through) with the action's decimals and ``unit``."""
    if isinstance(value, str):
        return value
    return with_unit(fmt_num(value, action_value_decimals(action)), unit)


def summary_paragraphs(result: AnalysisResult) -> list[str]:
    """Plain-language summary; ``**x**`` marks words the builder sets in bold."""
    a = result.anomaly
    k = kpi_change(result)
    kpi = result.target
    out = []
    pct = f" ({k['pct']} of the reference level)" if k["pct"] else ""
    art = "an" if k["loss_word"][0] in "aeiou" else "a"
    p = (f"During the incident ({fmt_window(a)}; {fmt_duration(a)}) **{kpi}** averaged {k['inc']} against "
         f"{k['ref']} in the reference period: {art} {k['loss_word']} of **{k['amount']}**{pct}. "
         f"For comparison, its normal variation in the reference period is {k['sd']} (one SD).")
    if a.auto:
        p += (" The incident window was suggested automatically from the KPI alone (a control-chart rule; "
              "the rule is stated in the appendix).")
    out.append(p)

    basis = result.ranking_basis
    if basis is not None:
        out.append(ranking_basis_paragraph(result))
    top = result.top_cause
    if basis is not None and basis.method == "anomaly":
        out.append(anomaly_paragraph(result))
    elif top is None:
        out.append("No sensor upstream of the KPI was found, so no root cause can be ranked.")
    elif top.unmeasured:
        h = next((h for h in result.diagnostics.hidden_causes if set(h.sensors) == set(top.acts_on)), None)
        if h is None or h.kpi_beyond is None or within_support(h.kpi_beyond):
            size = (f"Restoring {' and '.join(top.acts_on)} together, as they behaved in the reference period, "
                    f"brings back **{fmt_pct(top.restoration)}** of the {k['loss_word']}, at least as much as any "
                    "one measured sensor.")
        else:
            size = unstated_figure_text(h.kpi_beyond, f"restoring {' and '.join(top.acts_on)} together")
        p = (f"The most likely root cause is not measured: **{top.node}**. {size} Both changed their own "
             "behaviour in the incident, in the direction they always move together, which one measured cause "
             "cannot do: as if one thing nobody logs (ambient conditions, an operator action, a raw-material "
             "property) acted on both. Look for what acts on them.")
        if h is not None and not any("confirm" in e and "not" not in e for e in h.evidence):
            p += " Two separate faults striking both at once would look the same."
        if len(result.root_causes) > 1:
            r2 = result.root_causes[1]
            p += (f" The measured sensor with the largest share is {cause_label(result, r2.node)} "
                  f"({r2.station}), restoring {fmt_pct(r2.restoration)}.")
        out.append(p)
    elif top.node == result.target:
        lo, hi = top.restoration_ci
        p = (f"The largest part of the {k['loss_word']} is not explained by any measured sensor: it sits in "
             f"{kpi}'s own variation, which restores **{fmt_pct(top.restoration)}** (90% interval "
             f"{fmt_interval(lo, hi)}). The cause is probably something that is not measured (a raw-material "
             "property, a step without sensors, the measurement of the KPI itself).")
        if len(result.root_causes) > 1:
            r2 = result.root_causes[1]
            p += (f" The measured sensor with the largest share is {r2.node} ({r2.station}), restoring "
                  f"{fmt_pct(r2.restoration)}.")
        out.append(p)
    elif top.no_restoration:
        # Placed first where the disturbance entered, with no restoration of its own (the record says so).
        p = (f"The most likely root cause is **{top.node}** at the {top.station} station: "
             f"{no_restoration_text(top, kpi)}. " + shift_text(result, top))
        if len(result.root_causes) > 1:
            r2 = result.root_causes[1]
            p += (f" The sensor the model credits most, {cause_label(result, r2.node)} ({r2.station}), restores "
                  f"{fmt_pct(r2.restoration)}: read it as the path the disturbance took.")
        out.append(p)
    else:
        lo, hi = top.restoration_ci
        n = refits_used(result)
        p = (f"The most likely root cause is **{top.node}** at the {top.station} station. If it had "
             f"behaved as in the reference period, the model predicts that **{fmt_pct(top.restoration)}** "
             f"of the {k['loss_word']} would come back (90% interval {fmt_interval(lo, hi)}). "
             + shift_text(result, top))
        p += (f" It was ranked first in {fmt_pct(top.share_ranked_first)} of {n} bootstrap refits: "
              f"{confidence_word(top.share_ranked_first)}.")
        if len(result.root_causes) > 1:
            r2 = result.root_causes[1]
            moved = controller_move_text(r2.node, result)     # a valve that only answered the first
            p += (f" The runner-up, {cause_label(result, r2.node)} ({r2.station}), restores "
                  f"{fmt_pct(r2.restoration)}" + (f" ({moved}: not a cause of its own)." if moved else "."))
            if r2.restoration > top.restoration:
                where = "the notes below" if trust_notes(result) else "section 7"
                p += (f" It restores more but ranks second: the ranking also weighs when and where each sensor "
                      f"moved and what its controller did; read {where} before acting on either.")
        if top.controllable and 0 < top.restoration <= 2:
            p += (f" {top.node} is a controllable setpoint, so returning it to its reference level "
                  "is the direct correction.")
        elif top.controllable and top.restoration > 2:
            # Over twice the loss: the model carried the plant beyond what it showed (see the notes).
            p += (f" {top.node} is a controllable setpoint, but the model's figure for returning it is over twice "
                  "the loss: read it as a direction, not an amount, before acting.")
        elif top.restoration <= 0:
            # The model says putting it back alone does not help: never call that the correction.
            p += (f" The model predicts that returning {top.node} alone to its reference behaviour would not bring "
                  "the KPI back (a restoration of zero or less): it ranks first for when and where it moved, "
                  "not for what restoring it would do.")
        out.append(p)

    act = best_action(result)
    if act is None and result.not_proposed:
        out.append("No setpoint change is proposed: every setting the model could judge would carry the plant "
                   f"beyond {PLANT_RANGE_WORDS} (see the notes): the root cause itself has to be removed.")
    elif act is None and any(a.cancelled_by for a in result.actions):
        held = sorted({cv for a in result.actions for cv in a.cancelled_by})
        out.append(f"No setpoint change is recommended: the setpoints that act on the KPI do so only through "
                   f"{' and '.join(held)}, which a controller holds, so in automatic the controller would cancel "
                   "the change (see the actions section): the root cause itself has to be removed.")
    elif act is None:
        out.append("No controllable setpoint acts on the KPI in the causal graph, so no setpoint "
                   "compensation is proposed: the root cause itself has to be removed.")
    else:
        unit = unit_of(result, act.node)
        lo, hi = act.predicted_target_ci
        cur = act.incident_value
        if isinstance(cur, str):
            cur_txt = f" (during the incident mostly {cur})"
        else:
            cur_txt = f" (incident average {fmt_setpoint(act, cur, unit)})" if cur is not None else ""
        dec = prediction_decimals(result, act)
        p = (f"Recommended action: set the controllable setpoint **{act.node}** ({act.station}) to "
             f"**{fmt_setpoint(act, act.recommended_value, unit)}**{cur_txt}. The model predicts "
             f"{kpi} of {with_unit(fmt_num(act.predicted_target, dec), k['unit'])} (90% interval "
             f"{fmt_num(lo, dec)} to {fmt_num(hi, dec)}), which recovers "
             f"{fmt_pct(act.restoration)} of the {k['loss_word']}.")
        when = action_response_text(act, kpi, lead=True)
        if when:
            p += f" {when}: do not judge the change sooner."
        if act.restoration < 0.5:
            p += (" This compensates only part of it; removing the root cause remains the priority, "
                  "the setpoint change is a containment measure.")
        if act.warnings:
            p += " Caution: " + " ".join(w[0].upper() + w[1:] + ("" if w.endswith(".") else ".")
                                        for w in act.warnings)
        out.append(p)
    return out


def ranking_basis_paragraph(result: AnalysisResult) -> str:
    """Which ranking the causes come from, why, and on how many rows (the incident's shape)."""
    b = result.ranking_basis
    kpi = result.target
    p = f"**How the causes are ranked.** {b.explanation}"
    kind = {"binary": "a pass/fail flag", "count": "a count", "event": "an event (alarm)"}.get(b.kpi_type)
    if kind:
        p += (f" {kpi} is treated as {kind}" + (" (inferred from its values)" if b.kpi_type_inferred else "")
              + (", modelled by its rate given its causes." if b.method == "restoration" else "."))
    unit = "one row" if b.incident_rows == 1 else f"{b.incident_rows:,} rows"
    p += f" Rows used: {unit} in the incident, {b.reference_rows:,} in the reference period."
    if b.incident_rows < 5:
        p += (" With so few incident rows the ranking explains these units, not a lasting change, and a single "
              "misread sensor weighs fully.")
    if b.simple_model:
        p += (f" The reference period is shorter than the {b.comfortable_reference_rows:,} rows the full model "
              "wants, so a simpler model was fitted (linear with shrinkage, fewer causes per sensor): effects are "
              "pulled towards zero and the intervals are wide.")
    return p


def anomaly_paragraph(result: AnalysisResult) -> str:
    """The lead paragraph of an anomaly ranking (a KPI that never varied in the reference)."""
    b = result.ranking_basis
    if not b.anomaly_scores:
        return "No sensor upstream of the KPI could be scored, so no root cause can be ranked."
    a = b.anomaly_scores[0]
    top = next((c for c in result.root_causes if c.node == a.node), None)
    station = f" at the {top.station} station" if top is not None else ""
    p = (f"The sensor whose own behaviour was most unusual in the incident is **{a.node}**{station}: given its "
         f"measured causes, only {fmt_pct(a.tail_share, 1)} of its reference behaviour was as extreme "
         f"(anomaly score {a.score:.1f}). This is an anomaly ranking, not a restoration: {result.target} never "
         "varied in the reference period, so how much of its change each sensor explains cannot be estimated.")
    if len(b.anomaly_scores) > 1:
        r2 = b.anomaly_scores[1]
        p += f" The runner-up is {r2.node} (score {r2.score:.1f}, {fmt_pct(r2.tail_share, 1)} as extreme)."
    return p


# --- reproducibility ----------------------------------------------------------------------

def _window_arg(w: WindowRecord | IncidentRecord) -> str:
    """A window as ``--anomaly`` / ``--reference`` take it."""
    a, b = w.start, w.end
    if isinstance(a, int) and isinstance(b, int):
        return f"{w.first_row}/{w.stop_row}"
    sep = ".." if "/" in f"{a}{b}" else "/"
    return f"{a}{sep}{b}"


# Named in a rebuilt command when the layout used is in no file: the appendix prints its text.
LAYOUT_PLACEHOLDER = "LAYOUT_AS_USED.toml"


def layout_on_disk(result: AnalysisResult) -> tuple[Path | None, bool]:
    """The layout file the analysis was read from, and whether it still holds the layout used.

    The window lets the engineer edit a layout and use it without saving it: then the file on
    disk is not what the analysis used, and a command naming it would not reproduce the result.

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    path : Path or None
        The file (its recorded path, else its name next to the data), None when not found.
    same : bool
        The file's text is the layout used (True also when the result kept no text to compare).
    """
    lay, inp = result.layout, result.input
    found = None
    for cand in (lay.path, lay.file and Path(inp.path or inp.file or ".").parent / lay.file):
        if cand and Path(cand).is_file():
            found = Path(cand)
            break
    if found is None:
        return None, False
    if lay.text is None:
        return found, True
    try:
        on_disk = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return found, False
    return found, on_disk.strip() == lay.text.strip()


def reproduce_command(result: AnalysisResult, layout_path: str | Path | None = None) -> tuple[str, bool]:
    """The CLI command that reproduces the result, and whether it was recorded (True) or
    rebuilt from the settings (False).

    Parameters
    ----------
    result : AnalysisResult
    layout_path : str or Path, optional
        Where the layout used was written (beside the report), for a result whose layout is in
        no file (edited in the window and not saved). Without it such a command names
        :data:`LAYOUT_PLACEHOLDER`: the layout's text is printed with the command.

    Returns
    -------
    command : str
    recorded : bool
    """
    cmd = result.settings.get("command")
    if cmd:
        return str(cmd), True
    inp, lay, s = result.input, result.layout, result.settings
    data_path = inp.path or inp.file or "DATA"
    found, same = layout_on_disk(result)
    if found is not None and same:
        layout = str(found)
    elif layout_path is not None:
        layout = str(layout_path)
    elif found is None and lay.text is None:
        layout = lay.file or "layout.toml"
    else:
        layout = LAYOUT_PLACEHOLDER
    parts = ["rca-app", "analyze", data_path, "--layout", layout]
    if inp.sheet not in (None, ""):
        parts += ["--sheet", str(inp.sheet)]
    if inp.dayfirst is True:
        parts.append("--dayfirst")
    elif inp.dayfirst is False:
        parts.append("--monthfirst")
    if inp.gaps and inp.gaps != "drop":
        parts += ["--gaps", str(inp.gaps)]
    parts += ["--anomaly", _window_arg(result.anomaly), "--reference", _window_arg(result.reference)]
    defaults = {"graph_bootstrap": 20, "rank_bootstrap": 30, "n_folds": 5}
    parts += ["--seed", str(result.seed)]
    for key, flag in (("graph_bootstrap", "--graph-bootstrap"), ("rank_bootstrap", "--rank-bootstrap"),
                      ("n_folds", "--folds")):
        if key in s and s[key] != defaults[key]:
            parts += [flag, str(s[key])]
    if s.get("discovery", "auto") != "auto":
        parts += ["--discovery", str(s["discovery"])]
    if s.get("discovery_engine", "fast") != "fast":
        parts += ["--lingam-engine", str(s["discovery_engine"])]
    return " ".join(shlex.quote(str(p)) for p in parts), False

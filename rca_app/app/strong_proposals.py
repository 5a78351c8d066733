"""Loops and recycles the data show strongly, used without the engineer's click (issue #14 §2).

An analysis proposes the control loops (:func:`rca_app.core.control_loops.loop_proposals`) and
recycle streams (:func:`rca_app.core.lagged.lagged_edges`) the data show but the layout does not
declare. The window asks the engineer about each; the command line cannot, so it uses those whose
evidence is strong, re-runs the analysis with them added to a copy of the layout (never over a
declared loop or recycle, never writing the layout file) and says which it used, with the
evidence, and which it only proposed.

"Strong" is read from the evidence the proposals carry, each part clearly past the bar that made
it a proposal at all:

- A loop: its controlled variable (CV) held within :data:`STRONG_LOOP_CV_SD` of a reference sd
  (a proposal allows up to 1 sd, where a CV that partly followed its load, or a sensor that is
  no CV at all, still passes), while its manipulated variable (MV) moved (3+ sd, the proposal's
  own bar); and in the reference the MV's changes follow the CV's level with a partial
  correlation of at least :data:`STRONG_LOOP_PARTIAL_R` (a controller's integral action explains
  a quarter or more of what is left of the MV's change). The proposal's bar, 0.3 at p <= 1e-4, is
  passed on a long reference by a slow shared drift as much as by a controller.
- A recycle: its partial correlation beyond the target's own past is at least
  :data:`STRONG_RECYCLE_R` and its corrected p-value at most :data:`STRONG_RECYCLE_P`, the
  proposal's bar (1e-6) squared: as clear as two independent halves of the reference each passing
  it. On a long reference the bar alone is passed by a partial correlation near 0.1, which a
  mis-set lag or a common slow cause can give.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from rca_app.app.dynamics_view import proposed_loops
from rca_app.app.layout_edit import layout_add_loop, layout_add_recycle
from rca_app.core.result_notes import Note, as_note

STRONG_LOOP_CV_SD = 0.5        # the CV held within this many reference sds in the incident ...
STRONG_LOOP_PARTIAL_R = 0.5    # ... and the MV's changes follow its level at least this strongly
STRONG_RECYCLE_R = 0.2         # a backward stream's partial correlation beyond the target's own past ...
# ... at this corrected p-value or below: rca_app.core.lagged.PROPOSE_P squared (not imported: it
# loads scipy, which the window's start-up must not).
STRONG_RECYCLE_P = 1e-12


@dataclass
class WeighedProposal:
    """A proposed loop or recycle and whether its evidence is strong enough to use unasked.

    Attributes
    ----------
    kind : {"loop", "recycle"}
    block : str
        The TOML block to paste into the layout.
    evidence : str
        What the data showed, in words.
    strong : bool
    why : str
        Which part of the evidence falls short (empty when strong).
    item : Loop or Recycle
        What would be added to the layout.
    """

    kind: Literal["loop", "recycle"]
    block: str
    evidence: str
    strong: bool
    why: str
    item: object


def weigh_proposals(dynamics, layout) -> list[WeighedProposal]:
    """The loops and recycles ``dynamics`` proposes that ``layout`` does not declare, weighed.

    Parameters
    ----------
    dynamics : DynamicsRecord or None
        An analysis's time-aware record (its ``proposed_loops`` and ``proposed_recycle`` edges).
    layout : Layout
        The layout analysed: a proposal over a declared loop's sensors or a declared recycle's
        stations is left out (declared values always win).

    Returns
    -------
    list of WeighedProposal
        Loops first, each in the order proposed.
    """
    from rca_app.core.layout.time_keys import Loop, Recycle

    if dynamics is None:
        return []
    out = []
    for p in proposed_loops(dynamics, layout):
        short = []
        if abs(p.cv_shift_sd) > STRONG_LOOP_CV_SD:
            short.append(f"{p.controlled} moved {abs(p.cv_shift_sd):.1f} sd, more than the {STRONG_LOOP_CV_SD:g} sd a "
                         "held variable stays within")
        if abs(p.partial_r) < STRONG_LOOP_PARTIAL_R:
            short.append(f"the controller's signature (partial correlation {p.partial_r:+.2f}) is below "
                         f"{STRONG_LOOP_PARTIAL_R:g}")
        evidence = (f"{p.manipulated} moved {p.mv_shift_sd:+.1f} reference sd in the incident while {p.controlled} "
                    f"held within {abs(p.cv_shift_sd):.1f} sd, and in the reference {p.manipulated}'s changes follow "
                    f"{p.controlled}'s level (partial correlation {p.partial_r:+.2f})")
        block = f"[[loop]] controlled = \"{p.controlled}\", manipulated = \"{p.manipulated}\""
        out.append(WeighedProposal("loop", block, evidence, not short, "; ".join(short),
                                   Loop(p.controlled, p.manipulated)))
    declared = {(r.source, r.to) for r in layout.recycles}
    # A loop across two stations explains a later CV acting on an earlier MV (as a declared one
    # does in the recycle search): the backward link between its pair is not a stream of its own.
    loop_pairs = {frozenset((w.item.controlled, w.item.manipulated)) for w in out}  # type: ignore[attr-defined]
    pairs: dict[tuple[str, str], list] = {}
    for e in dynamics.lagged_edges:
        if e.kind != "proposed_recycle" or frozenset((e.source, e.target)) in loop_pairs:
            continue
        try:
            key = (layout.station_of(e.source), layout.station_of(e.target))
        except KeyError:
            continue
        if key[0] != key[1] and key not in declared:
            pairs.setdefault(key, []).append(e)
    for (src, dst), edges in pairs.items():
        # The recycle's lag is the shortest one found (a stream acts from its transport time on);
        # its evidence is the clearest edge.
        lag = min(edges, key=lambda e: e.lag_steps).lag
        best = min(edges, key=lambda e: e.p_value)
        short = []
        if abs(best.correlation) < STRONG_RECYCLE_R:
            short.append(f"its partial correlation ({best.correlation:+.2f}) is below {STRONG_RECYCLE_R:g}")
        if best.p_value > STRONG_RECYCLE_P:
            short.append(f"its p-value ({best.p_value:.1e}) is above {STRONG_RECYCLE_P:.0e}")
        evidence = (f"{best.source} acts on {best.target} about {best.lag} later (partial correlation "
                    f"{best.correlation:+.2f} beyond its own past, p {best.p_value:.1e} corrected for the lags tried)")
        block = f"[[recycle]] from = \"{src}\", to = \"{dst}\", lag = \"{lag}\""
        out.append(WeighedProposal("recycle", block, evidence, not short, "; ".join(short), Recycle(src, dst, lag)))
    return out


def layout_with_proposals(layout, proposals: list[WeighedProposal]):
    """A copy of ``layout`` with ``proposals`` added (the layout itself and its file are not
    changed); its text, recorded with the result, ends with the blocks added under a comment."""
    out = layout
    for p in proposals:
        if p.kind == "loop":
            out = layout_add_loop(out, p.item.controlled, p.item.manipulated)  # type: ignore[attr-defined]
        else:
            out = layout_add_recycle(out, p.item.source, p.item.to, p.item.lag)  # type: ignore[attr-defined]
    added = "\n".join(_toml_block(p) for p in proposals)
    text = (layout.text.rstrip("\n") + "\n\n" if layout.text else "") + (
        "# Added by rca-app analyze for this run (strong proposals from the data; not in the layout file):\n" + added)
    return replace(out, text=text)


def _toml_block(p: WeighedProposal) -> str:
    it = p.item
    if p.kind == "loop":
        return f"[[loop]]\ncontrolled = \"{it.controlled}\"\nmanipulated = \"{it.manipulated}\"\n"  # type: ignore[attr-defined]
    return f"[[recycle]]\nfrom = \"{it.source}\"\nto = \"{it.to}\"\nlag = \"{it.lag}\"\n"  # type: ignore[attr-defined]


def proposals_note(used: list[WeighedProposal], only_proposed: list[WeighedProposal],
                   switched_off: bool) -> Note | None:
    """What was done with the proposals, for the result's notes (None when there were none).

    Parameters
    ----------
    used : list of WeighedProposal
        Added to the layout for this analysis.
    only_proposed : list of WeighedProposal
        Reported only: weak, or every one when using them was switched off.
    switched_off : bool
        Proposals were not to be used (``--proposals none``).
    """
    if not used and not only_proposed:
        return None
    parts = []
    if used:
        parts.append("Used in this analysis, because the data show them strongly (your layout file is unchanged; "
                     "declare them to keep them, or run with --proposals none to leave them out): "
                     + "; ".join(f"{p.block} ({p.evidence})" for p in used) + ".")
    if only_proposed:
        why = ("because --proposals none was given" if switched_off
               else "because their evidence is not strong enough to use without you")
        parts.append(f"Only proposed, not used, {why}: "
                     + "; ".join(f"{p.block} ({p.evidence}{'; ' + p.why if p.why and not switched_off else ''})"
                                 for p in only_proposed)
                     + ". Declare them in the layout if they are right.")
    return Note("Proposed loops and recycles: " + " ".join(parts), "loop", "caution" if used else "info")


def analyze_with_proposals(data, anomaly, reference=None, settings=None, use: bool = True, progress=None):
    """Run the analysis; when it proposes loops or recycles with strong evidence (and ``use``),
    run it again with them added to a copy of the layout.

    Parameters
    ----------
    data : PlantData
    anomaly, reference
        As for :func:`rca_app.core.analysis.run_analysis`.
    settings : AnalysisSettings, optional
    use : bool
        False: every proposal is only reported.
    progress : Progress, optional

    Returns
    -------
    (AnalysisOutcome, list of WeighedProposal, list of WeighedProposal)
        The outcome reported, the proposals it used and those it only proposed. Its notes start
        with what was done with them.
    """
    from rca_app.core.analysis import run_analysis

    outcome = run_analysis(data, anomaly, reference, settings, progress=progress)
    weighed = weigh_proposals(outcome.result.dynamics, data.layout)
    used = [p for p in weighed if p.strong and use]
    if used:
        outcome = run_analysis(replace(data, layout=layout_with_proposals(data.layout, used)), anomaly, reference,
                               settings, progress=progress)
        # What the final run still proposes (weak ones, or any the added ones brought out) is reported only.
        weighed = weigh_proposals(outcome.result.dynamics, layout_with_proposals(data.layout, used))
    only = [p for p in weighed if p not in used]
    note = proposals_note(used, only, not use)
    if note is not None:
        notes = outcome.result.diagnostics.messages
        # After the warnings that qualify the whole result, before the rest.
        at = next((i for i, m in enumerate(notes) if as_note(m).severity != "warning"), len(notes))
        notes.insert(at, note)
    outcome.result.settings["proposals"] = {"use": "strong" if use else "none",
                                            "used": [p.block for p in used],
                                            "only_proposed": [p.block for p in only]}
    return outcome, used, only

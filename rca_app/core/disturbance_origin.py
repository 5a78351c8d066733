"""Where a disturbance entered a time-series plant: the sensor that left its normal operation first.

The restoration ranking reads the structural model; on a plant under feedback control that model
is learnt from reference rows in which the controllers kept every disturbance small and cancelled
its spread downstream, so the link from where a disturbance enters to the KPI can be weak in the
model while, during the incident, it is plain to see in time: the entry point leaves its normal
operation first, and the sensors the model credits follow minutes to hours later. (On the
Tennessee Eastman process the model credited the purge flow for a loss of the A feed: the feed
flow fell 43 reference sd at the fault's start, the purge moved 28 rows later.)

The reading here uses only the layout's flow order, the graph and the order in time, which stay
reliable when the model's effects do not. The first-ranked cause gives way to a sensor when that
sensor

- moved clearly in the incident (its mean at least :data:`ORIGIN_MIN_SHIFT_SD` reference sd
  from the reference mean),
- sits at the first cause's station or upstream of it in the flow order, or is its ancestor in
  the graph,
- began to move before the first cause, on the rows as recorded: it had left its normal operation
  beyond doubt before the first cause's departure could have begun (the spans of
  :func:`~rca_app.core.dynamics.onset_interval`, a CUSUM whose bar counts autocorrelation
  combined with a 3-sigma limit, do not overlap), or the first cause never clearly moved at all
  (a cause credited by the model without changing itself). The spans say how precisely each
  start is known, so the rule reads the same on a 1-minute or a 5-minute grid: a large step is
  dated to its row, a slow departure is not.

Among such sensors the earliest wins; those whose spans overlap the earliest one's began together
as far as the rows can tell, and among them the one furthest upstream in the flow (then the
larger shift).
The onsets are read in clock time, not on the rows aligned by residence time: through a mixing
volume a response starts long before the single delay the alignment uses, which would make the
upstream sensor look later than its own effect. Two faults that start together at two stations
start together in clock time and do not reorder the ranking. Rows per part have no order in time
and are left as they are.

A declared loop's manipulated variable is never an origin while its controller was acting
(compensating, or at its limit): its move is the controller's answer to the disturbance, and it
moves before the sensors downstream of it by construction. Nor is its controlled variable, which
held, followed its setpoint, or (saturated) let the disturbance through. An upstream sensor that
moved clearly and first but is not in the ranking at all (the model, learnt from a short
reference, has no path from it to the KPI) is still considered: it is put first with no
restoration of its own (the model cannot compute one) and the note says so.
"""
from __future__ import annotations

import pandas as pd

from rca_app.core.control_loops import mean_shift_sd, move_before
from rca_app.core.dynamics import duration_text, onset_interval
from rca_app.core.records import Evidence, RootCause

ORIGIN_MIN_SHIFT_SD = 3.0   # an origin left its normal operation clearly (3 reference sd)


def disturbance_origin(ranking, layout, graph, ref: pd.DataFrame, an: pd.DataFrame,
                       step: pd.Timedelta | None = None, loops=()) -> tuple[dict[str, int | None], str | None]:
    """Put first the sensor where the incident's disturbance entered, when the ranking's first
    cause only followed it in time (see the module's description).

    Parameters
    ----------
    ranking : RankingResult
        Its ``root_causes`` are reordered in place when an origin is found.
    layout : Layout
    graph : CausalGraph
        The same-row graph (ancestors count as upstream).
    ref, an : DataFrame
        Reference and incident rows as recorded (clock time).
    step : Timedelta, optional
        The grid step, to say the lead in time.
    loops : list of LoopRecord, optional
        The loops' readings: the manipulated and controlled variables of one whose controller
        compensated or saturated are not origins.

    Returns
    -------
    (dict, str or None)
        Onset row (in the incident) of the first cause and of each sensor considered, and the
        message when the order changed.
    """
    causes = list(ranking.root_causes)
    if not causes or causes[0].node not in ref.columns:
        return {}, None
    first = causes[0].node
    # A loop whose controller acted: its MV answered, its CV held (or followed its setpoint, or let
    # the disturbance through once saturated); neither is where the disturbance entered.
    answers = {n for rec in loops if (rec.compensated or rec.saturated) and not rec.questioned
               for n in (rec.manipulated, rec.controlled)}
    ranked = {c.node for c in causes} | {n for c in causes for n in getattr(c, "acts_on", ())}
    # The ranked sensors, then the upstream ones the model left without a path to the KPI.
    after_kpi = graph.descendants(layout.target) if layout.target in graph.nodes else set()
    numeric = [n for n in [c.node for c in causes] + [c for c in layout.nodes if c not in ranked | after_kpi]
               if n in ref.columns and n in an.columns and n != layout.target and n not in answers
               and pd.api.types.is_numeric_dtype(ref[n]) and float(ref[n].std()) > 0]
    if not pd.api.types.is_numeric_dtype(ref[first]):
        return {}, None

    def onset(c):
        return onset_interval(an[c].to_numpy(float), ref[c].to_numpy(float))

    def moved_sd(c):
        return abs(mean_shift_sd(an[c].to_numpy(float), ref[c].to_numpy(float)))

    first_onset = onset(first)
    first_moved = first_onset is not None and moved_sd(first) >= ORIGIN_MIN_SHIFT_SD
    tier_first = _tier(layout, first)
    upstream = graph.ancestors(first) if first in graph.nodes else set()
    onsets: dict[str, int | None] = {first: first_onset[0] if first_onset else None}
    found: list[tuple[tuple[int, int], float, str]] = []
    for c in numeric:
        if c == first or not (_tier(layout, c) <= tier_first or c in upstream):
            continue
        shift = moved_sd(c)
        if shift < ORIGIN_MIN_SHIFT_SD:
            continue
        rows = onset(c)
        onsets[c] = rows[0] if rows else None
        if rows is None:
            continue
        # Earlier only when it had surely left before the first cause could have (see onset_interval).
        if not first_moved or rows[1] < first_onset[0]:
            found.append((rows, -shift, c))
    if not found:
        return onsets, None
    # Departures whose spans overlap the earliest one's began together as far as the rows can tell:
    # the flow order decides between them, then the larger shift.
    earliest = min(found)[0]
    rows, neg_shift, origin = min((f for f in found if f[0][0] <= earliest[1]),
                                  key=lambda f: (_tier(layout, f[2]), f[1]))
    unranked = origin not in ranked
    if unranked:
        ranking.root_causes.append(_unranked_cause(origin, layout, ref, an))
    move_before(ranking, origin, first)
    kpi_itself = first == layout.target
    if first_moved:
        lead = first_onset[0] - rows[1]   # >= 1: the spans do not overlap
        when = f"{lead} row{'s' if lead > 1 else ''}" + (f" ({duration_text(lead * step)})" if step is not None else "")
        why = f"it was clearly out of its normal operation {when} before {first} began to move"
    elif kpi_itself:
        # The KPI's own entry is the loss no measured sensor explains, not a sensor that stood still.
        why = (f"the model's largest share is {first}'s own unexplained change (the part of the loss no measured "
               f"sensor upstream explains), which moved less clearly than {origin}")
    else:
        why = f"{first}, which the model credits most, did not itself clearly change in the incident"
    share = (f"read {first}'s own share as what the model could not link to a sensor, not as a second cause"
             if kpi_itself else f"read {first}'s larger share as the path the disturbance took, not as a second cause")
    return onsets, (
        f"{origin} is ranked first as where the disturbance entered: it moved {-neg_shift:.0f} reference sd, "
        f"it is at or upstream of {first} in the flow, and {why}. The restoration figures follow the model's "
        f"effects, learnt in the reference period; where controllers or recycles sit between the two, those "
        f"effects understate the upstream link: {share}."
        + (f" {origin} was not in the ranking: the model learnt from the reference period has no path from it to "
           f"{layout.target}, so no restoration was computed for it (none is shown); it is put first for when and "
           "where it moved, which the model cannot weigh. A longer reference, in which it varied, would let the model "
           "learn its effect." if unranked else ""))


def _tier(layout, node: str) -> int:
    """A sensor's station index; a loop's setpoint tag (the loop's reference, in no station of the
    model) sits at its controlled variable's station."""
    if node in layout.nodes:
        return layout.tier_of(node)
    cv = next((lp.controlled for lp in layout.loops if lp.setpoint == node), None)
    return layout.tier_of(cv) if cv is not None else len(layout.stations)


def _unranked_cause(node: str, layout, ref: pd.DataFrame, an: pd.DataFrame) -> RootCause:
    """A ranking entry for a sensor the model has no path from: its evidence, no restoration (the
    record says why: ``no_restoration``)."""
    r, a = ref[node].to_numpy(float), an[node].to_numpy(float)
    evidence = Evidence(reference_mean=float(r.mean()), reference_sd=float(r.std()), anomaly_mean=float(a.mean()),
                        anomaly_sd=float(a.std()), shift_sd=mean_shift_sd(a, r), noise_shift_z=None,
                        noise_sd_ratio=None)
    nan = float("nan")
    return RootCause(node=node, station=layout.station_of(node), restoration=nan, restoration_ci=(nan, nan),
                     share_ranked_first=0.0, controllable=node in layout.controllable, categorical=False,
                     evidence=evidence, no_restoration="no_path_origin")

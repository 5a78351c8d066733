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
- began to move (CUSUM onset, whose decision interval counts autocorrelation, on the rows as
  recorded) at least :data:`ORIGIN_LEAD_STEPS` rows before the first cause, or the first cause
  never clearly moved at all (a cause credited by the model without changing itself).

Among such sensors the earliest wins; onsets within the lead of the earliest count as
simultaneous, and among them the one furthest upstream in the flow (then the larger shift).
The onsets are read in clock time, not on the rows aligned by residence time: through a mixing
volume a response starts long before the single delay the alignment uses, which would make the
upstream sensor look later than its own effect. Two faults that start together at two stations
start together in clock time and do not reorder the ranking. Rows per part have no order in time
and are left as they are.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.control_loops import move_before, reference_sd
from rca_app.core.dynamics import cusum_onset, duration_text

ORIGIN_MIN_SHIFT_SD = 3.0   # an origin left its normal operation clearly (3 reference sd)
ORIGIN_LEAD_STEPS = 5       # and began at least this many rows before the first cause


def _shift_sd(x: np.ndarray, ref: np.ndarray) -> float:
    return abs(float(np.mean(x)) - float(np.mean(ref))) / reference_sd(ref)


def disturbance_origin(ranking, layout, graph, ref: pd.DataFrame, an: pd.DataFrame,
                       step: pd.Timedelta | None = None) -> tuple[dict[str, int | None], str | None]:
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
    numeric = [c.node for c in causes if c.node in ref.columns and c.node != layout.target
               and pd.api.types.is_numeric_dtype(ref[c.node])]
    if not pd.api.types.is_numeric_dtype(ref[first]):
        return {}, None

    def onset(c):
        return cusum_onset(an[c].to_numpy(float), ref[c].to_numpy(float))

    first_onset = onset(first)
    first_moved = first_onset is not None and _shift_sd(an[first].to_numpy(float),
                                                         ref[first].to_numpy(float)) >= ORIGIN_MIN_SHIFT_SD
    tier_first = layout.tier_of(first)
    upstream = graph.ancestors(first) if first in graph.nodes else set()
    onsets: dict[str, int | None] = {first: first_onset}
    found: list[tuple[int, float, str]] = []
    for c in numeric:
        if c == first or not (layout.tier_of(c) <= tier_first or c in upstream):
            continue
        shift = _shift_sd(an[c].to_numpy(float), ref[c].to_numpy(float))
        if shift < ORIGIN_MIN_SHIFT_SD:
            continue
        t = onset(c)
        onsets[c] = t
        if t is None:
            continue
        if not first_moved or t + ORIGIN_LEAD_STEPS <= first_onset:
            found.append((t, -shift, c))
    if not found:
        return onsets, None
    # Onsets within the lead of the earliest are simultaneous at this resolution (a CUSUM dates a
    # run's start only roughly): the flow order decides between them, then the larger shift.
    earliest = min(t for t, _, _ in found)
    t, neg_shift, origin = min(((t, s, c) for t, s, c in found if t <= earliest + ORIGIN_LEAD_STEPS),
                               key=lambda x: (layout.tier_of(x[2]), x[1]))
    move_before(ranking, origin, first)
    if first_moved:
        lead = first_onset - t
        when = f"{lead} rows" + (f" ({duration_text(lead * step)})" if step is not None else "")
        why = f"it left its normal operation {when} before {first} did"
    else:
        why = f"{first}, which the model credits most, did not itself clearly change in the incident"
    return onsets, (
        f"{origin} is ranked first as where the disturbance entered: it moved {-neg_shift:.0f} reference sd, "
        f"it is at or upstream of {first} in the flow, and {why}. The restoration figures follow the model's "
        f"effects, learnt in the reference period; where controllers or recycles sit between the two, those "
        f"effects understate the upstream link: read {first}'s larger share as the path the disturbance "
        f"took, not as a second cause.")

"""A lab value's incident read on its samples: each observation counted once.

A lab result held on the grid by the ``"last"`` rule (:mod:`rca_app.core.lab_tags`) shows up in
the incident window as runs of copies: a yield analysed every 15 minutes is 15 equal rows on a
1-minute grid, of which only the first was measured at its row's time. Statistics of the incident
read on every row count each result 15 times, and the copies are no evidence: the tag's own noise
on a copy row is its stale value against parents that have moved on, and a test or a "barely
moved" warning that counts rows takes 15 times the observations there are. Its mechanism and its
reference noise are already learnt on the sampled rows (:func:`rca_app.core.lab_tags.mechanism_rows`);
here the incident is read the same way:

- a lab tag's value in the incident (mean, sd, shift) on the incident rows where it was sampled;
- a node's own noise on the rows its mechanism would be fitted on: the common samples of the lab
  tags among it and its parents when its mechanism was fitted on some rows, a lab tag's own
  samples otherwise; the reference noise it is compared with on the same kind of rows;
- the KPI's "within its normal variation" check on the KPI's samples when the KPI is a lab value;
- the change check's shifts at the change and its causes' status, before and after the change
  (:func:`change_samples`).

The restoration (the incident mean of the counterfactual KPI) stays on every incident row: each
row is a moment of the incident the counterfactual is asked about, and the copies of a sampled
KPI carry equal weight in its observed mean too, so both sides of the shortfall weigh alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rca_app.core.lab_tags import lab_tag_rows
from rca_app.core.queries import incident_abduction
from rca_app.core.rootcause import Incident


@dataclass
class LabIncident(Incident):
    """An incident whose lab tags' sampled rows are known.

    Attributes
    ----------
    reference_samples, incident_samples : dict of str to ndarray of int
        Lab tag -> positions of the rows of ``reference`` / ``anomaly`` where it has a fresh
        sample, ascending.
    """

    reference_samples: dict[str, np.ndarray] = field(default_factory=dict)
    incident_samples: dict[str, np.ndarray] = field(default_factory=dict)


def lab_incident(incident: Incident, data, timed, reference: slice, anomaly: slice) -> Incident:
    """The incident with its lab tags' sampled rows, or ``incident`` itself without lab tags.

    Parameters
    ----------
    incident : Incident
        Its ``reference`` holds the last ``len(reference)`` rows of ``reference`` (a lagged model's
        reference starts later), its ``anomaly`` the rows of ``anomaly``.
    data : PlantData
    timed : TimeAlignment or None
    reference, anomaly : slice
        The windows' rows in the aligned frame.

    Returns
    -------
    Incident
    """
    n_ref = len(incident.reference)
    ref_rows = lab_tag_rows(data, timed, slice(reference.stop - n_ref, reference.stop))
    if not ref_rows:
        return incident
    an_rows = lab_tag_rows(data, timed, anomaly)
    return LabIncident(incident.target, incident.goal, incident.reference, incident.anomaly,
                       {k: v for k, v in ref_rows.items() if k in incident.reference.columns},
                       {k: v for k, v in an_rows.items() if k in incident.anomaly.columns})


def value_rows(incident: Incident, node: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Where a node's own values are read: a lab tag's sampled rows of the reference and of the
    incident, (None, None) for every row (a sensor read on every row, or no sample in a window).

    Parameters
    ----------
    incident : Incident
    node : str

    Returns
    -------
    (ndarray or None, ndarray or None)
    """
    if not isinstance(incident, LabIncident) or node not in incident.incident_samples:
        return None, None
    ref, an = incident.reference_samples.get(node), incident.incident_samples[node]
    if ref is None or len(ref) == 0 or len(an) == 0:
        return None, None
    return ref, an


def noise_rows(scm, incident: Incident, node: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Where a node's own noise is read (module text): positions in its reference noise
    (``mech.ref_noise``) and in the incident rows; None for all of them.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    node : str

    Returns
    -------
    (ndarray or None, ndarray or None)
        Reference noise positions (None: all of it, which for a mechanism fitted on some rows is
        already those rows) and incident row positions (None: every incident row).
    """
    if not isinstance(incident, LabIncident) or node not in scm.mechanisms_:
        return None, None
    an = sampled_noise_rows(scm, incident.incident_samples, node)
    if an is None:
        return None, None
    mech = scm.mechanisms_[node]
    ref = incident.reference_samples.get(node)
    # Fitted on every reference row (a lab tag without parents, or too few common samples): its
    # reference noise on its samples too (a pooled mechanism keeps the reference rows first).
    use_ref = mech.rows is None and ref is not None and len(ref) and len(mech.ref_noise) >= len(incident.reference)
    return (ref if use_ref else None), an


def sampled_noise_rows(scm, samples: dict[str, np.ndarray], node: str) -> np.ndarray | None:
    """The rows of a window on which a node's own noise is read, given its lab tags' sampled rows
    there: where every lab tag among it and its parents was sampled when its mechanism was fitted
    on such rows (:func:`rca_app.core.lab_tags.mechanism_rows`), a lab tag's own samples
    otherwise, None (every row) for a node that involves no lab value.

    Parameters
    ----------
    scm : StructuralCausalModel
    samples : dict of str to ndarray of int
        Lab tag -> positions of its sampled rows in the window.
    node : str

    Returns
    -------
    ndarray of int or None
    """
    mech = scm.mechanisms_.get(node)
    if mech is None or not samples:
        return None
    if mech.rows is not None:
        labs = [t for t in [node, *scm.graph.parents(node)] if t in samples]
        if labs:
            rows = samples[labs[0]]
            for t in labs[1:]:
                rows = np.intersect1d(rows, samples[t])
            if len(rows):
                return rows
    own = samples.get(node)
    return own if own is not None and len(own) else None


def change_samples(data, first: int, change: int, stop: int) -> tuple[dict, dict]:
    """The lab tags' sampled rows before and after a change, as positions in the before rows
    (``first`` to ``change``) and in the after rows (``change`` to ``stop``) of the data's grid.

    Parameters
    ----------
    data : PlantData
    first, change, stop : int
        Grid rows: the incident's first row, the change's, the end of the after rows.

    Returns
    -------
    (dict, dict)
        Lab tag -> positions, before and after; empty without lab tags.
    """
    from rca_app.core.data.times import even_step
    from rca_app.core.lab_tags import fresh_rows

    step = even_step(data.time) if data.time is not None else None
    if step is None:
        return {}, {}
    before, after = {}, {}
    for tag, rows in fresh_rows(data, step).items():
        before[tag] = rows[(rows >= first) & (rows < change)] - first
        after[tag] = rows[(rows >= change) & (rows < stop)] - change
    return before, after


def own_noise_read(scm, incident: Incident, node: str) -> tuple[np.ndarray, np.ndarray]:
    """The node's own noise in the incident and in the reference, each on the rows it is read on
    (:func:`noise_rows`).

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    node : str
        A numeric node with a mechanism.

    Returns
    -------
    (ndarray, ndarray)
        Incident noise, reference noise.
    """
    an_noise = incident_abduction(scm, incident.anomaly).noise[node]
    ref_noise = scm.mechanisms_[node].ref_noise
    ref_rows, an_rows = noise_rows(scm, incident, node)
    return (an_noise if an_rows is None else an_noise[an_rows],
            ref_noise if ref_rows is None else ref_noise[ref_rows])


def kpi_on_samples(incident: Incident) -> Incident:
    """The incident with only the KPI's sampled rows in both windows when the KPI is a lab value
    (for statistics of the KPI's mean that count observations), else ``incident`` itself.

    Parameters
    ----------
    incident : Incident

    Returns
    -------
    Incident
    """
    ref, an = value_rows(incident, incident.target)
    if an is None:
        return incident
    return Incident(incident.target, incident.goal, incident.reference.iloc[ref].reset_index(drop=True),
                    incident.anomaly.iloc[an].reset_index(drop=True))

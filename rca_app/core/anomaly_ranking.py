"""Ranking by how anomalous each sensor's own behaviour is, when there is nothing to restore.

Restoration asks how much of the KPI's shortfall comes back if a sensor behaves as in the
reference period. An alarm or a defect flag that never fired in the reference period has no
reference behaviour to come back to, so that question has no answer. What can still be asked is
which upstream sensor itself behaved unusually during the incident, given its own causes: its
noise (what its measured causes do not explain) lies far in the tail of its reference noise.
Only sensors with a causal path to the KPI are ranked. The score is information-theoretic, as in
DoWhy's anomaly attribution: ``-log`` of the share of reference noises at least as extreme
(with the usual +1 so that a never-seen value scores finitely), averaged over the incident rows.

This is an anomaly ranking, not a restoration: the result must say so.

Also here: the plain baseline engineers use, ranking sensors by the shift of their own values
(no model), which the benchmarks compare against.

References
----------
K. Budhathoki, L. Minorics, P. Bloebaum, D. Janzing (2022). Causal structure-based root cause
    analysis of outliers. ICML.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class AnomalyScore:
    """How unusual a sensor's own behaviour was in the incident.

    Attributes
    ----------
    node : str
    score : float
        Mean information-theoretic score over the incident rows (see :func:`tail_scores`).
    tail_share : float
        Mean share of reference noises at least as extreme.
    noise_shift_sd : float
        Incident mean noise minus reference mean, in reference sds (the direction of the change).
    """

    node: str
    score: float                 # mean information-theoretic score over the incident rows
    tail_share: float            # mean share of reference noises at least as extreme
    noise_shift_sd: float        # incident mean noise minus reference mean, in reference sds


def tail_scores(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Information-theoretic tail score of each value against a reference sample.

    Per value: ``-log((k + 1) / (n + 1))``, k = reference values at least as far from the
    reference median (two-sided, in absolute deviation), n = reference size.

    Parameters
    ----------
    reference : ndarray
        Reference-period noise of one sensor.
    values : ndarray
        Incident-period noise of the same sensor.

    Returns
    -------
    ndarray
        One score per value; 0 for a typical value, at most ``log(n + 1)``.

    References
    ----------
    K. Budhathoki, L. Minorics, P. Bloebaum, D. Janzing (2022). Causal structure-based root cause
        analysis of outliers. ICML.
    """
    ref = np.asarray(reference, dtype=float)
    med = float(np.median(ref))
    dev = np.sort(np.abs(ref - med))
    d = np.abs(np.asarray(values, dtype=float) - med)
    k = len(dev) - np.searchsorted(dev, d, side="left")
    return -np.log((k + 1) / (len(dev) + 1))


def rank_by_own_anomaly(reference_noise: dict[str, np.ndarray], incident_noise: dict[str, np.ndarray],
                        candidates: list[str]) -> list[AnomalyScore]:
    """Candidates ranked by how anomalous their own noise is in the incident rows.

    Parameters
    ----------
    reference_noise, incident_noise : dict
        Node -> noise (cross-fitted in the reference; abducted in the incident), numeric nodes.
    candidates : list of str
        The nodes to rank (the KPI's ancestors).

    Returns
    -------
    list of AnomalyScore
        Highest score first; ties keep the candidates' order.
    """
    out = []
    for k in candidates:
        if k not in reference_noise or k not in incident_noise:
            continue
        ref, inc = np.asarray(reference_noise[k], float), np.asarray(incident_noise[k], float)
        if ref.ndim != 1 or len(inc) == 0:
            continue
        s = tail_scores(ref, inc)
        sd = float(ref.std()) or 1.0
        out.append(AnomalyScore(k, float(s.mean()), float(np.exp(-s).mean()), float((inc.mean() - ref.mean()) / sd)))
    return sorted(out, key=lambda a: -a.score)


def rank_by_marginal_shift(reference: dict[str, np.ndarray], incident: dict[str, np.ndarray],
                           candidates: list[str]) -> list[tuple[str, float]]:
    """The model-free baseline: how far each sensor's own mean moved, largest first.

    Score: |incident mean - reference mean| / reference sd of the sensor's own values.

    Parameters
    ----------
    reference, incident : dict of str to ndarray
        Sensor -> values in the reference and in the incident rows.
    candidates : list of str
        Sensors to rank.

    Returns
    -------
    list of (str, float)
        ``(sensor, score)``, largest score first.
    """
    out = []
    for k in candidates:
        ref, inc = np.asarray(reference[k], float), np.asarray(incident[k], float)
        sd = float(ref.std()) or 1.0
        out.append((k, abs(float(inc.mean()) - float(ref.mean())) / sd))
    return sorted(out, key=lambda t: -t[1])

"""Lab values read on their samples by the checks that fit their own regressions.

:mod:`rca_app.core.lab_incident` reads a lab tag's incident evidence on the rows where it was
sampled, each sample counted once, for the statistics computed from the model's mechanisms. The
incident checks that fit regressions of their own (the hidden-cause pair tests, the orientation
of undetermined edges) follow the same rule here: a regression of a sensor on its causes is
fitted and read where the lab values among them were measured, as its mechanism would be
(:func:`rca_app.core.lab_tags.mechanism_rows`): the common samples of the lab tags among the
sensor and its causes when there are enough of them, a lab tag's own samples otherwise, every
row for a regression that involves no lab value. On the held copies between samples a lab value
meets the plant of minutes later, and the misfit there is no behaviour of the sensor's own.
"""
from __future__ import annotations

import numpy as np

from rca_app.core.lab_tags import MIN_LAB_SAMPLES

# A lab tag -> its sampled rows, in the reference and in the incident (positions in each window).
Samples = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


def window_samples(incident) -> Samples | None:
    """The lab tags' sampled rows of an incident's two windows, or None without lab tags.

    Parameters
    ----------
    incident : Incident
        A :class:`~rca_app.core.lab_incident.LabIncident` carries them.

    Returns
    -------
    (dict, dict) or None
    """
    ref = getattr(incident, "reference_samples", None)
    an = getattr(incident, "incident_samples", None)
    return (ref, an) if ref and an else None


def regression_rows(samples: Samples | None, sensor: str, causes) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The reference and incident rows a regression of ``sensor`` on ``causes`` is fitted and read
    on (module text); (None, None) for every row.

    Parameters
    ----------
    samples : (dict, dict) or None
        :func:`window_samples`.
    sensor : str
    causes : list of str

    Returns
    -------
    (ndarray or None, ndarray or None)
    """
    if not samples:
        return None, None
    ref, an = samples
    causes = list(causes)
    labs = [t for t in [sensor, *causes] if t in ref and t in an]
    if not labs:
        return None, None
    if causes:
        common_ref, common_an = _common(ref, labs), _common(an, labs)
        if len(common_ref) >= MIN_LAB_SAMPLES + 2 * len(causes) and len(common_an):
            return common_ref, common_an
    own_ref, own_an = ref.get(sensor), an.get(sensor)
    if own_ref is not None and own_an is not None and len(own_ref) > len(causes) + 1 and len(own_an):
        return own_ref, own_an
    return None, None


def _common(samples: dict[str, np.ndarray], tags: list[str]) -> np.ndarray:
    rows = np.asarray(samples[tags[0]], dtype=int)
    for t in tags[1:]:
        rows = np.intersect1d(rows, np.asarray(samples[t], dtype=int))
    return rows


def held_on_rows(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Values read on ``rows`` (ascending) of a window of ``n`` rows, each held on the rows until
    the next one, as the lab value itself is; NaN before the first.

    Parameters
    ----------
    values : ndarray
        One per entry of ``rows``.
    rows : ndarray of int
    n : int

    Returns
    -------
    ndarray of shape (n,)
    """
    out = np.full(n, np.nan)
    if len(rows) == 0:
        return out
    at = np.searchsorted(np.asarray(rows), np.arange(n), side="right") - 1
    ok = at >= 0
    out[ok] = np.asarray(values, dtype=float)[at[ok]]
    return out

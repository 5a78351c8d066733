"""How the KPI spread over the incident, beside its mean: an engineer reads a window whose KPI
swung between two regimes differently from one where it sat lower, and the mean alone cannot
tell them apart. Shared by the Incident step and the report."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The incident KPI "swung" when its SD is this many times the reference's; it held "more than
# one regime" when this share of its rows lies beyond two reference SDs on each side.
SWING_SD_RATIO = 2.0
SWING_SHARE = 0.2


@dataclass
class KpiSpread:
    """The KPI over the incident rows against the reference.

    Attributes
    ----------
    low, high : float
        Smallest and largest value.
    p10, p90 : float
        The middle 80% of the rows.
    above, below : float or None
        Share of the rows more than two reference SDs above / below the reference mean.
    sd_ratio : float or None
        Incident SD over reference SD.
    shape : {"steady", "swung", "regimes"}
        "regimes": rows on both sides of the reference (the mean hides them); "swung": a spread
        of at least :data:`SWING_SD_RATIO` reference SDs.
    """

    low: float
    high: float
    p10: float
    p90: float
    above: float | None
    below: float | None
    sd_ratio: float | None
    shape: str


def kpi_spread(values, reference_mean: float, reference_sd: float) -> KpiSpread | None:
    """The spread of the KPI's incident ``values`` (NaN ignored) against the reference.

    Parameters
    ----------
    values : array-like
    reference_mean, reference_sd : float

    Returns
    -------
    KpiSpread or None
        None with fewer than two values.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return None
    p10, p90 = (float(x) for x in np.percentile(v, [10, 90]))
    above = below = ratio = None
    shape = "steady"
    if reference_sd and np.isfinite(reference_sd) and np.isfinite(reference_mean):
        above = float(np.mean(v > reference_mean + 2 * reference_sd))
        below = float(np.mean(v < reference_mean - 2 * reference_sd))
        ratio = float(v.std(ddof=0)) / reference_sd
        if above >= SWING_SHARE and below >= SWING_SHARE:
            shape = "regimes"
        elif ratio >= SWING_SD_RATIO:
            shape = "swung"
    return KpiSpread(float(v.min()), float(v.max()), p10, p90, above, below, ratio, shape)

"""Plant families for the discovery accuracy benchmark: where LiNGAM's bet on non-Gaussian noise
holds, where it does not, and where something unmeasured moves two sensors.

Each family draws plants from :func:`rca_sim.plants.random_plant` with its own seed range
(different from the other benchmarks', so no plant is tuned on twice):

- ``near_gaussian``: every noise Gaussian, linear mechanisms, one sensor's mean shifted (the
  case the issue measured: LiNGAM cannot orient within a station);
- ``hidden_cause``: an unmeasured driver (ambient humidity, an unlogged operator action) acting
  on two sensors and shifting in the incident; Gaussian and non-Gaussian noise mixed;
- ``curved``: about a quarter of the mechanisms curved (optimum, saturation, knee), noise mixed;
- ``lingam_works``: non-Gaussian noise, linear mechanisms (no regression allowed here);
- ``near_gaussian_within``: as ``near_gaussian``, but the fault enters at a sensor that drives
  another sensor of its own station, where the direction is what the data cannot tell from the
  reference period alone (the hard case: a wrong direction ranks the child or the parent).
"""
from __future__ import annotations

import numpy as np

from rca_sim.plants import MeanShift, ancestors, random_plant, simulate, target_drop_sd, truth_edges

FAMILIES = {
    # name: (first seed, random_plant keywords)
    "near_gaussian": (13000, {"fault": "mean_shift", "noise": "gaussian", "mechanisms": "linear"}),
    "hidden_cause": (14000, {"fault": "hidden_confounder", "noise": "mixed", "mechanisms": "linear"}),
    "curved": (15000, {"fault": "mean_shift", "noise": "mixed", "mechanisms": "mixed", "supplier": False}),
    "lingam_works": (16000, {"fault": "mean_shift", "noise": "nongaussian", "mechanisms": "linear"}),
    "near_gaussian_within": (17000, {"fault": None, "noise": "gaussian", "mechanisms": "linear"}),
}
# The faults of the families drawn here move the KPI by this many reference SDs (about what
# random_plant calibrates its own faults to).
TARGET_DROP_SD = 2.2


def family_plant(family: str, index: int):
    """The ``index``-th plant of a family and its fault(s).

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    index : int
        0, 1, 2, ...

    Returns
    -------
    (PlantSpec, list of faults, seed)
    """
    first, kw = FAMILIES[family]
    seed = first + int(index)
    spec, faults = random_plant(seed, **kw)
    if family == "near_gaussian_within":
        faults = [_within_station_shift(spec, seed)]
    return spec, faults, seed


def _within_station_shift(spec, seed: int) -> MeanShift:
    """A mean shift at a sensor that drives another sensor of its own station (and reaches the
    KPI), sized so the KPI gets worse by :data:`TARGET_DROP_SD` (the plants are linear, so one
    trial shift gives the size)."""
    rng = np.random.default_rng([seed, 21])
    edges = truth_edges(spec)
    station = spec.station_index()
    up = ancestors(edges, spec.target)
    cands = sorted({a for a, b in edges if station[a] == station[b] and a in up and b != spec.target
                    and not spec.node(a).exogenous})
    if not cands:
        cands = sorted(a for a in up if not spec.node(a).exogenous) or sorted(up)
    # In a random order, the first candidate through which a 3-SD shift moves the KPI by at
    # least a third of what is wanted (a weaker path would need an implausibly large fault).
    trial_sd = 3.0
    best = None
    for j in rng.permutation(len(cands)):
        node = cands[int(j)]
        trial = trial_sd * spec.node(node).noise.sd
        df, _ = simulate(spec, 2000, 300, [MeanShift(node, trial)], seed)
        drop = target_drop_sd(spec, df[spec.target].to_numpy(), 2000)
        if best is None or abs(drop) > abs(best[2]):
            best = (node, trial, drop)
        if abs(drop) >= TARGET_DROP_SD / 3:
            break
    node, trial, drop = best
    sign = 1.0 if drop >= 0 else -1.0
    return MeanShift(node, float(sign * trial * TARGET_DROP_SD / max(abs(drop), 1e-6)))

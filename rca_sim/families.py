"""Plant families for the discovery accuracy benchmark: where LiNGAM's bet on non-Gaussian noise
holds, where it does not, and where something unmeasured moves two sensors.

Each family draws plants from :func:`rca_sim.plants.random_plant` with its own seed range
(different from the other benchmarks', so no plant is tuned on twice):

- ``near_gaussian``: every noise Gaussian, linear mechanisms, one sensor's mean shifted (the
  case the issue measured: LiNGAM cannot orient within a station);
- ``hidden_cause``: an unmeasured driver (ambient humidity, an unlogged operator action) acting
  on two sensors and shifting in the incident; Gaussian and non-Gaussian noise mixed;
- ``curved``: about a quarter of the mechanisms curved (optimum, saturation, knee), noise mixed;
- ``lingam_works``: non-Gaussian noise, linear mechanisms (no regression allowed here).
"""
from __future__ import annotations

from rca_sim.plants import random_plant

FAMILIES = {
    # name: (first seed, random_plant keywords)
    "near_gaussian": (13000, {"fault": "mean_shift", "noise": "gaussian", "mechanisms": "linear"}),
    "hidden_cause": (14000, {"fault": "hidden_confounder", "noise": "mixed", "mechanisms": "linear"}),
    "curved": (15000, {"fault": "mean_shift", "noise": "mixed", "mechanisms": "mixed", "supplier": False}),
    "lingam_works": (16000, {"fault": "mean_shift", "noise": "nongaussian", "mechanisms": "linear"}),
}


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
    return spec, faults, seed

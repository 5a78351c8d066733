"""Plant families for the discovery accuracy benchmark: where LiNGAM's bet on non-Gaussian noise
holds, where it does not, and where something unmeasured moves two sensors.

Each family draws plants from :func:`rca_sim.plants.random_plant` with its own seed range
(different from the other benchmarks', so no plant is tuned on twice):

- ``near_gaussian``: every noise Gaussian, linear mechanisms, one sensor's mean shifted (the
  case the issue measured: LiNGAM cannot orient within a station);
- ``hidden_cause``: an unmeasured driver acting on two or three sensors, in one station or
  several, that varies in the reference period as well and shifts in the incident: ambient
  humidity (Gaussian), an unlogged operator action (on/off: a two-peaked mixture) or a
  raw-material lot property (uniform over the lots' range); the sensors' own noises are mixed
  Gaussian and non-Gaussian (:func:`hidden_cause_faults`);
- ``hidden_control``: the same kind of unmeasured driver, varying in both periods but steady on
  average, while the fault is a mean shift at a measured sensor (half the time one the hidden
  driver acts on): the truth is that sensor, and an unmeasured cause ranked first is a false
  alarm;
- ``two_faults``: two measured sensors shift at once (curved mechanisms and mixed noise as
  drawn by :func:`rca_sim.plants.random_plant`): a false-alarm control for "two sensors moved
  together";
- ``related_faults``: the hard control: two faults at once on the two ends of one real edge,
  each in the direction that hurts the KPI (when that is the direction the pair always moves
  together, it looks like one unmeasured cause);
- ``curved``: about a quarter of the mechanisms curved (optimum, saturation, knee), noise mixed;
- ``lingam_works``: non-Gaussian noise, linear mechanisms (no regression allowed here);
- ``near_gaussian_within``: as ``near_gaussian``, but the fault enters at a sensor that drives
  another sensor of its own station, where the direction is what the data cannot tell from the
  reference period alone (the hard case: a wrong direction ranks the child or the parent).
"""
from __future__ import annotations

import numpy as np

from rca_sim.plants import (
    HiddenConfounder,
    MeanShift,
    ancestors,
    random_plant,
    simulate,
    target_drop_sd,
    truth_edges,
)

FAMILIES = {
    # name: (first seed, random_plant keywords)
    "near_gaussian": (13000, {"fault": "mean_shift", "noise": "gaussian", "mechanisms": "linear"}),
    "hidden_cause": (14100, {"fault": None, "noise": "mixed", "mechanisms": "linear"}),
    "hidden_control": (19000, {"fault": None, "noise": "mixed", "mechanisms": "linear"}),
    "two_faults": (18000, {"fault": "two_faults"}),
    "related_faults": (18500, {"fault": None, "noise": "mixed", "mechanisms": "linear"}),
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
    elif family == "hidden_cause":
        faults = [hidden_cause_faults(spec, seed, shifts=True)]
    elif family == "hidden_control":
        hidden = hidden_cause_faults(spec, seed, shifts=False)
        faults = [hidden, _measured_shift(spec, seed, hidden)]
    elif family == "related_faults":
        faults = _related_faults(spec, seed)
    return spec, faults, seed


def family_truth(faults) -> tuple[list[str], list[str]]:
    """What a family's plant counts as the right answer.

    Parameters
    ----------
    faults : list
        From :func:`family_plant`.

    Returns
    -------
    measured : list of str
        Measured sensors where a fault enters (empty when the cause is unmeasured).
    hidden_children : list of str
        The measured sensors an unmeasured cause that *shifts* in the incident acts on
        (empty when there is none).
    """
    measured, hidden = [], []
    for f in faults:
        if isinstance(f, HiddenConfounder):
            if f.shift:
                hidden += list(f.children)
        else:
            measured.append(f.node)
    return measured, hidden


# Unmeasured drivers of the hidden families: what varies in a plant without being logged, and
# how its values spread (an operator action is on or off, lots spread evenly over a range).
HIDDEN_DRIVERS = (("ambient_humidity", "gaussian"), ("operator_action", "mixture"), ("lot_property", "uniform"))


def hidden_cause_faults(spec, seed: int, shifts: bool = True) -> HiddenConfounder:
    """An unmeasured driver acting on two or three measured ancestors of the KPI.

    The driver has unit SD in both periods; each sensor gets 0.5 to 1.0 of its own noise SD
    from it, in the direction that hurts the KPI. The sensors are drawn from the six through
    which a shift reaches the KPI most strongly, in one station or in several (at random). With
    ``shifts`` the driver's mean moves in the incident so the KPI gets worse by
    :data:`TARGET_DROP_SD` (the plants are linear: one trial shift gives the size); of up to
    twelve draws, the first that needs at most a 4-SD move is kept (else the smallest move).

    Parameters
    ----------
    spec : PlantSpec
    seed : int
    shifts : bool

    Returns
    -------
    HiddenConfounder
    """
    rng = np.random.default_rng([seed, 31])
    station = spec.station_index()
    sens = _sensitivities(spec, seed)
    up = sorted(sens, key=lambda a: -abs(sens[a]))[:6]
    name, kind = HIDDEN_DRIVERS[int(rng.integers(len(HIDDEN_DRIVERS)))]
    best = None
    for _ in range(12):
        k = 3 if (rng.random() < 1 / 3 and len(up) >= 3) else 2
        first = up[int(rng.integers(len(up)))]
        same = [a for a in up if a != first and station[a] == station[first]]
        pool = same if (rng.random() < 0.5 and len(same) >= k - 1) else [a for a in up if a != first]
        children = [first] + [pool[int(j)] for j in rng.permutation(len(pool))[:k - 1]]
        coefs = {c: float(np.sign(sens[c]) * rng.uniform(0.5, 1.0) * spec.node(c).noise.sd) for c in children}
        if not shifts:
            return HiddenConfounder(name, coefs, 0.0, 1.0, kind)
        trial = 2.0
        df, _ = simulate(spec, 2000, 300, [HiddenConfounder(name, coefs, trial, 1.0, kind)], seed)
        drop = target_drop_sd(spec, df[spec.target].to_numpy(), 2000)
        size = trial * TARGET_DROP_SD / max(abs(drop), 1e-6)
        if best is None or size < best[1]:
            best = (coefs, size, 1.0 if drop >= 0 else -1.0)
        if size <= 4.0:
            break
    coefs, size, sign = best
    return HiddenConfounder(name, coefs, float(sign * size), 1.0, kind)


def _sensitivities(spec, seed: int) -> dict[str, float]:
    """KPI drop (reference SDs, signed: positive is worse) per own-noise SD of a mean shift, for
    each numeric measured ancestor of the KPI."""
    edges = truth_edges(spec)
    out = {}
    for a in sorted(ancestors(edges, spec.target)):
        node = spec.node(a)
        if node.kind != "numeric" or not node.observed:
            continue
        df, _ = simulate(spec, 2000, 300, [MeanShift(a, 2.0 * node.noise.sd)], seed)
        out[a] = target_drop_sd(spec, df[spec.target].to_numpy(), 2000) / 2.0
    return out


def _measured_shift(spec, seed: int, hidden: HiddenConfounder) -> MeanShift:
    """A mean shift at a measured sensor (half the time one the hidden driver acts on) sized so
    the KPI gets worse by :data:`TARGET_DROP_SD`, the driver present in both periods."""
    rng = np.random.default_rng([seed, 32])
    edges = truth_edges(spec)
    up = sorted(a for a in ancestors(edges, spec.target) if spec.node(a).kind == "numeric")
    children = sorted(hidden.children)
    first = children if rng.random() < 0.5 else [a for a in up if a not in hidden.children]
    cands = [first[int(j)] for j in rng.permutation(len(first))] + [up[int(j)] for j in rng.permutation(len(up))]
    return _calibrated_shift(spec, cands, seed, [hidden])


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
    return _calibrated_shift(spec, [cands[int(j)] for j in rng.permutation(len(cands))], seed)


def _calibrated_shift(spec, cands: list[str], seed: int, also=()) -> MeanShift:
    """A mean shift at the first of ``cands`` (in their order) through which a 3-SD shift moves
    the KPI by at least a third of :data:`TARGET_DROP_SD` (a weaker path would need an
    implausibly large fault; else the strongest tried), sized so the KPI gets worse by
    :data:`TARGET_DROP_SD` (the plants are linear, so one trial gives the size). ``also``:
    faults present in both simulations (a hidden driver)."""
    best = None
    for node in cands:
        trial = 3.0 * spec.node(node).noise.sd
        df, _ = simulate(spec, 2000, 300, [*also, MeanShift(node, trial)], seed)
        drop = target_drop_sd(spec, df[spec.target].to_numpy(), 2000)
        if best is None or abs(drop) > abs(best[2]):
            best = (node, trial, drop)
        if abs(drop) >= TARGET_DROP_SD / 3:
            break
    node, trial, drop = best
    sign = 1.0 if drop >= 0 else -1.0
    return MeanShift(node, float(sign * trial * TARGET_DROP_SD / max(abs(drop), 1e-6)))


def _related_faults(spec, seed: int) -> list[MeanShift]:
    """Mean shifts at both ends of one real edge between measured ancestors of the KPI, each
    1.5-3 own-noise SDs in the direction that hurts the KPI, scaled together so the KPI gets
    worse by :data:`TARGET_DROP_SD`."""
    rng = np.random.default_rng([seed, 33])
    sens = _sensitivities(spec, seed)
    # Both ends among the eight sensors through which a shift reaches the KPI most strongly
    # (a weak path would need an implausibly large fault).
    strong = set(sorted(sens, key=lambda k: -abs(sens[k]))[:8])
    pairs = sorted((a, b) for a, b in truth_edges(spec) if a in strong and b in strong) or \
        sorted((a, b) for a, b in truth_edges(spec) if a in sens and b in sens)
    a, b = pairs[int(rng.integers(len(pairs)))]
    da, db = (float(np.sign(sens[k]) * rng.uniform(1.5, 3.0) * spec.node(k).noise.sd) for k in (a, b))
    df, _ = simulate(spec, 2000, 300, [MeanShift(a, da), MeanShift(b, db)], seed)
    drop = target_drop_sd(spec, df[spec.target].to_numpy(), 2000)
    k = TARGET_DROP_SD / drop if abs(drop) > 1e-6 else 1.0
    return [MeanShift(a, da * k), MeanShift(b, db * k)]

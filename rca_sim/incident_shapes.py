"""Small plants for the incident shapes engineers bring: one bad unit, an alarm, a defect count,
a short reference period. Each has a known root cause and a known graph.

A plant is linear in its sensors with uniform (non-Gaussian) noise, so tiered LiNGAM can find
its graph. The root cause's own noise is shifted by ``shift_sd`` of its sd in the incident rows,
in the direction that hurts the KPI, and the change propagates downstream. The KPI is

- ``continuous``: a linear function of its parents plus noise (goal maximize);
- ``binary``: a pass/fail flag ``1[latent > threshold]`` that fails in ``rate`` of the
  reference rows (goal minimize);
- ``event``: an alarm that never fired in the reference period (threshold above every reference
  latent); the incident is the rows where it fired;
- ``count``: a defect count, Poisson with log-rate linear in the parents (goal minimize).

The root cause is a sensor with causes of its own where the plant has one (a fault mid-line).
A plant is drawn again until the KPI moved the bad way in the incident, and a continuous single
unit (1-4 rows) until its KPI is beyond 3 reference sds: units are investigated because their KPI
left its control limits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

KINDS = ("continuous", "binary", "event", "count")


@dataclass
class ShapePlant:
    """A simulated incident with its truth.

    Attributes
    ----------
    frame : DataFrame
        Reference rows, then incident rows (no time column: windows are row positions).
    layout_toml : str
    kpi : str
    kind : str
    root_cause : str
    edges : list of (str, str)
        The true graph.
    n_reference, n_incident : int
    """

    frame: pd.DataFrame
    layout_toml: str
    kpi: str
    kind: str
    root_cause: str
    edges: list[tuple[str, str]]
    n_reference: int
    n_incident: int
    stations: list[list[str]] = field(default_factory=list)

    @property
    def incident_window(self) -> tuple[int, int]:
        return (self.n_reference, self.n_reference + self.n_incident)

    def save(self, folder: Path) -> tuple[Path, Path]:
        """Write ``data.csv`` and ``layout.toml`` as an engineer would receive them."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.frame.to_csv(folder / "data.csv", index=False, lineterminator="\n")
        (folder / "layout.toml").write_text(self.layout_toml, encoding="utf-8")
        return folder / "data.csv", folder / "layout.toml"


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    # Uniform with sd 1: clearly non-Gaussian, as LiNGAM needs.
    return rng.uniform(-np.sqrt(3), np.sqrt(3), n)


def _structure(rng: np.random.Generator, n_sensors: int, n_stations: int):
    names = [f"s{i:02d}" for i in range(n_sensors)]
    station_of = np.sort(rng.integers(0, n_stations, n_sensors))
    station_of[0] = 0
    parents: dict[str, list[tuple[str, float]]] = {}
    for i, s in enumerate(names):
        earlier = [names[j] for j in range(i) if station_of[j] < station_of[i]]
        k = min(len(earlier), int(rng.integers(0, 3)))
        chosen = list(rng.choice(earlier, k, replace=False)) if k else []
        parents[s] = [(str(p), float(rng.choice([-1, 1]) * rng.uniform(0.6, 1.5))) for p in chosen]
    # Own-noise scale per sensor: a sensor tightly driven by its causes moves as much (in its own
    # sds) as the cause itself, so the marginal shift cannot tell them apart.
    scale = {s: float(rng.uniform(0.3, 1.0)) for s in names}
    return names, station_of, parents, scale


def _linear_total_effects(names, parents, kpi_parents) -> dict[str, float]:
    """Total effect of each sensor on the KPI's linear predictor (sum over paths)."""
    effect = {s: 0.0 for s in names}
    for p, b in kpi_parents:
        effect[p] += b
    for s in reversed(names):     # names are in causal order
        for p, b in parents[s]:
            effect[p] += b * effect[s]
    return effect


def simulate_shape(kind: str = "continuous", n_sensors: int = 8, n_reference: int = 1000, n_incident: int = 1,
                   seed: int = 0, shift_sd: float = 4.0, rate: float = 0.1, n_stations: int = 4,
                   declare_kpi_type: bool = True, max_tries: int = 50) -> ShapePlant:
    """One simulated incident of the given shape (see the module docstring).

    Parameters
    ----------
    kind : {"continuous", "binary", "event", "count"}
    n_sensors : int
    n_reference : int
        Reference rows.
    n_incident : int
        Incident rows simulated (for ``event``, only the rows where the alarm fired are kept).
    seed : int
    shift_sd : float
        Shift of the root cause's own noise, in its sds.
    rate : float
        Reference failure rate (``binary``) or mean count (``count``).
    n_stations : int
    declare_kpi_type : bool
        Write ``kpi_type`` into the layout (else the analysis must infer it).
    max_tries : int
        An ``event`` plant whose alarm does not fire in the incident, or a single unit whose KPI
        stayed within 3 reference sds, is drawn again.

    Returns
    -------
    ShapePlant
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    rng = np.random.default_rng(seed)
    for _ in range(max_tries):
        plant = _draw(kind, n_sensors, n_reference, n_incident, rng, shift_sd, rate, n_stations, declare_kpi_type)
        if plant is not None:
            return plant
    raise RuntimeError(f"no incident of shape {kind!r} in {max_tries} draws")


def _draw(kind, n_sensors, n_reference, n_incident, rng, shift_sd, rate, n_stations, declare):
    names, station_of, parents, scale = _structure(rng, n_sensors, n_stations)
    pool = [s for s in names if station_of[names.index(s)] < n_stations - 1] or names
    k = min(3, len(pool))
    kpi_parents = [(str(p), float(rng.choice([-1, 1]) * rng.uniform(0.6, 1.0)))
                   for p in rng.choice(pool, k, replace=False)]
    effect = _linear_total_effects(names, parents, kpi_parents)
    upstream = [s for s in names if abs(effect[s]) > 0.3]
    # A fault mid-line (a sensor with causes of its own) where there is one: there the raw shift
    # misleads, as its causes' variation hides part of its own change.
    mid = [s for s in upstream if parents[s]]
    root = str(rng.choice(mid or upstream))
    # KPI goes down (continuous, goal maximize) or the failure latent up (minimize).
    bad = -1.0 if kind == "continuous" else 1.0
    direction = bad * np.sign(effect[root])
    n = n_reference + n_incident
    vals: dict[str, np.ndarray] = {}
    for s in names:
        e = scale[s] * _noise(rng, n)
        if s == root:
            e[n_reference:] += direction * shift_sd * scale[s]
        x = e.copy()
        for p, b in parents[s]:
            x += b * vals[p]
        vals[s] = x
    # Standardise each sensor by its reference rows, so that coefficients mean what they say.
    for s in names:
        r = vals[s][:n_reference]
        vals[s] = (vals[s] - r.mean()) / r.std()
    latent = sum(b * vals[p] for p, b in kpi_parents)
    kpi_noise = _noise(rng, n)
    if kind == "continuous":
        y = 50.0 + 2.0 * (latent + 0.5 * kpi_noise)
        keep = np.arange(n)
        ref_y = y[:n_reference]
        if n_incident < 5 and y[n_reference:].mean() > ref_y.mean() - 3 * ref_y.std():
            return None     # a unit is investigated because its KPI left its control limits
    elif kind == "binary":
        z = latent + 0.5 * rng.logistic(size=n)
        thr = np.quantile(z[:n_reference], 1 - rate)
        y = (z > thr).astype(int)
        keep = np.arange(n)
    elif kind == "event":
        z = latent + 0.3 * kpi_noise
        thr = z[:n_reference].max() + 0.05
        y = (z > thr).astype(int)
        fired = np.flatnonzero(y[n_reference:] == 1) + n_reference
        if len(fired) == 0:
            return None
        keep = np.r_[np.arange(n_reference), fired]
    else:
        y = rng.poisson(rate * np.exp(0.8 * latent)).astype(int)
        keep = np.arange(n)
    # An incident is a KPI that moved the bad way (the fault's direction is set from unscaled
    # path effects, which the sensors' scaling can overturn): otherwise draw again.
    moved = (y[keep][n_reference:].mean() - y[:n_reference].mean()) * (1.0 if kind == "continuous" else -1.0)
    if moved >= 0:
        return None
    frame = pd.DataFrame({s: np.round(vals[s][keep], 6) for s in names})
    frame["kpi"] = y[keep] if kind != "continuous" else np.round(y[keep], 6)
    stations = [[s for s in names if station_of[names.index(s)] == t] for t in range(n_stations)]
    stations[-1].append("kpi")
    stations = [st for st in stations if st]
    edges = [(p, s) for s in names for p, _ in parents[s]] + [(p, "kpi") for p, _ in kpi_parents]
    goal = "maximize" if kind == "continuous" else "minimize"
    toml = ["[plant]", f'name = "shape {kind}"', 'target = "kpi"', f'goal = "{goal}"']
    if declare:
        toml.append(f'kpi_type = "{kind}"')
    for i, st in enumerate(stations):
        toml += ["", "[[station]]", f'name = "station {i + 1}"', "sensors = [" + ", ".join(f'"{s}"' for s in st) + "]"]
    return ShapePlant(frame, "\n".join(toml) + "\n", "kpi", kind, root, edges, n_reference, len(keep) - n_reference,
                      stations)

"""Dynamic plants with known causes: residence times, recycles, control loops, drifts, historian
exports at mixed rates, and batch lines with lot genealogy.

Every sensor follows a lagged structural equation on a regular time grid::

    x(t) = nominal + sum coef * (parent(t - lag) - parent's nominal) + u(t),
    u(t) = ar * u(t - 1) + e(t)      (non-Gaussian innovations e)

A control loop holds its controlled variable (CV) at a setpoint by moving its manipulated
variable (MV) with integral action between limits, so a disturbance it rejects shows on the MV,
not on the CV. Faults act from the incident's first row: a step (``mean_shift``) or a ramp
(``drift``) added to the node's own noise, so they travel downstream after the lags.

:func:`dynamic_case` builds one plant of a given kind for the benchmarks and tests; the two
sample plants are :func:`continuous_reactor_case` (written as a historian long export) and
:func:`batch_genealogy_case` (a batch table and a lot table joined by lot id). Deterministic for a
seed. Not part of the product (like :mod:`rca_sim.plants`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DYNAMIC_KINDS", "HARD_KINDS", "DynNode", "DynLoop", "DynamicCase", "batch_genealogy_case",
           "continuous_reactor_case", "dynamic_case", "hard_case", "simulate_dynamic", "to_historian_long",
           "write_case"]

DYNAMIC_KINDS = ("lags", "recycle", "control_loop", "drift", "historian", "genealogy",
                 "mixing_tanks", "ar_disturbances", "pi_saturating", "slow_drift")
# The harder kinds (:func:`hard_case`): process dynamics beyond one pure delay per station.
HARD_KINDS = DYNAMIC_KINDS[6:]
ISO = "%Y-%m-%dT%H:%M:%S"


@dataclass
class DynNode:
    """One sensor: its station, lagged parents ``(parent, coef, lag_steps)`` and its own noise."""

    name: str
    station: str
    nominal: float
    sd: float
    parents: list[tuple[str, float, int]] = field(default_factory=list)
    ar: float = 0.0
    decimals: int = 3
    exogenous: bool = False
    meas_sd: float = 0.0        # measurement noise: in the reading, not passed downstream
    smoothing: float = 0.0      # first-order lag (a mixing volume): out(t) = a out(t-1) + (1-a) in(t)
    # The sensor reads the outlet of its station's mixing volume: what flows in from upstream
    # (lagged parents) and the station's own disturbance pass the volume (``smoothing``); sensors
    # read at the same outlet (same-time parents) do not pass it again.
    tank: bool = False


@dataclass
class DynLoop:
    """An integral controller: ``mv`` moves so that ``cv`` stays at ``setpoint``.

    ``cv`` is computed from its parents (the load) minus ``gain`` times the MV's deviation."""

    cv: str
    mv: str
    setpoint: float
    gain: float = 1.0
    ki: float = 0.3
    smoothing: float = 0.6
    low: float = 0.0
    high: float = 100.0
    kp: float = 0.0             # proportional action (velocity form); 0: integral only


@dataclass
class DynamicCase:
    """A simulated plant ready to write: data, layout, truth and any extra files."""

    name: str
    kind: str
    frame: pd.DataFrame                    # wide, with "timestamp" first
    layout_toml: str
    truth: dict
    files: dict[str, str] = field(default_factory=dict)   # extra files (name -> text)
    data_text: str | None = None           # the data file's text when not the wide frame


def _innovations(rng: np.random.Generator, n: int) -> np.ndarray:
    # Laplace and uniform mixed: non-Gaussian, as LiNGAM needs, with unit variance.
    if rng.random() < 0.5:
        return rng.laplace(0, 1 / np.sqrt(2), n)
    return rng.uniform(-np.sqrt(3), np.sqrt(3), n)


def simulate_dynamic(nodes: list[DynNode], n_reference: int, n_anomaly: int, faults: list[dict], seed: int,
                     loops: list[DynLoop] = (), recycles: list[tuple[str, str, float, int]] = ()) -> pd.DataFrame:
    """Simulate the plant; ``nodes`` in an order where every contemporaneous parent comes first.

    Parameters
    ----------
    nodes : list of DynNode
    n_reference, n_anomaly : int
        Rows before and from the incident.
    faults : list of dict
        ``{"type": "mean_shift", "node", "delta"}`` or ``{"type": "drift", "node", "per_row"}``.
    seed : int
    loops : list of DynLoop
    recycles : list of (source, target, coef, lag)
        Backward streams: ``target`` receives ``coef * source(t - lag)`` (lag >= 1).

    Returns
    -------
    DataFrame
        One column per node, rows in time order.
    """
    rng = np.random.default_rng(seed)
    n = n_reference + n_anomaly
    values: dict[str, np.ndarray] = {}
    nominal = {nd.name: nd.nominal for nd in nodes}
    own: dict[str, np.ndarray] = {}
    for nd in nodes:
        e = _innovations(rng, n) * nd.sd * np.sqrt(1 - nd.ar ** 2)
        u = np.empty(n)
        acc = 0.0
        for t in range(n):
            acc = nd.ar * acc + e[t]
            u[t] = acc
        for f in faults:
            if f["node"] != nd.name:
                continue
            if f["type"] == "mean_shift":
                u[n_reference:] += f["delta"]
            elif f["type"] == "drift":
                u[n_reference:] += f["per_row"] * np.arange(1, n_anomaly + 1)
        own[nd.name] = u
    by_cv = {lp.cv: lp for lp in loops}
    mvs = {lp.mv for lp in loops}
    back = {}
    for src, dst, coef, lag in recycles:
        back.setdefault(dst, []).append((src, coef, lag))

    def lagged(p: str, lag: int) -> np.ndarray:
        x = values[p] - nominal[p]
        return np.concatenate([np.zeros(lag), x[: n - lag]]) if lag else x

    # Recycles make the plant a loop over time: iterate the whole simulation a few times so the
    # backward stream sees the forward values it was computed from (the lag keeps this causal).
    for _ in range(3 if recycles else 1):
        for nd in nodes:
            if nd.name in mvs:
                continue
            x = nd.nominal + own[nd.name]
            for p, coef, lag in nd.parents:
                if p in values:
                    x = x + coef * lagged(p, lag)
            for p, coef, lag in back.get(nd.name, []):
                if p in values:
                    x = x + coef * lagged(p, lag)
            if nd.tank:
                from scipy.signal import lfilter
                a = nd.smoothing
                streams = nd.parents + back.get(nd.name, [])
                inflow = own[nd.name] + sum((coef * lagged(p, lag) for p, coef, lag in streams if lag and p in values),
                                            np.zeros(n))
                outlet = sum((coef * lagged(p, 0) for p, coef, lag in nd.parents if not lag and p in values),
                             np.zeros(n))
                x = nd.nominal + lfilter([1 - a], [1, -a], inflow) + outlet
            elif nd.smoothing:
                from scipy.signal import lfilter
                a = nd.smoothing
                x = nd.nominal + lfilter([1 - a], [1, -a], x - nd.nominal)
            if nd.name in by_cv:
                lp = by_cv[nd.name]
                values[lp.cv], values[lp.mv] = _control(lp, x, nominal[lp.mv], own[lp.mv], n)
                continue
            values[nd.name] = x
    meas = {nd.name: rng.laplace(0, nd.meas_sd / np.sqrt(2), n) if nd.meas_sd else 0.0 for nd in nodes}
    return pd.DataFrame({nd.name: np.round(values[nd.name] + meas[nd.name], nd.decimals) for nd in nodes})


def _control(lp: DynLoop, load: np.ndarray, mv_nominal: float, mv_noise: np.ndarray, n: int):
    """CV and MV of an integral loop: the CV follows its load minus the MV's action, smoothed; the
    MV integrates the CV's error within its limits."""
    cv, mv = np.empty(n), np.empty(n)
    c, m = lp.setpoint, mv_nominal
    for t in range(n):
        target = load[t] - lp.gain * (m - mv_nominal)
        c = lp.smoothing * c + (1 - lp.smoothing) * target
        if lp.kp:
            # PI in velocity form: the change of the error as well as the error itself.
            prev = cv[t - 1] if t else lp.setpoint
            m = float(np.clip(m + (lp.kp * (c - prev) + lp.ki * (c - lp.setpoint)) / lp.gain, lp.low, lp.high))
        else:
            m = float(np.clip(m + lp.ki * (c - lp.setpoint) / lp.gain, lp.low, lp.high))
        cv[t], mv[t] = c, m + mv_noise[t]
    return cv, mv


def _layout(name: str, target: str, nodes: list[DynNode], goal: str = "maximize", extra: str = "",
            time_column: str | None = "timestamp", station_keys: dict[str, str] | None = None) -> str:
    stations: dict[str, list[DynNode]] = {}
    for nd in nodes:
        stations.setdefault(nd.station, []).append(nd)
    out = ["[plant]", f'name = "{name}"', f'target = "{target}"', f'goal = "{goal}"']
    if time_column:
        out.append(f'time_column = "{time_column}"')
    for st, members in stations.items():
        out += ["", "[[station]]", f'name = "{st}"', "sensors = [" + ", ".join(f'"{m.name}"' for m in members) + "]"]
        exo = [m.name for m in members if m.exogenous]
        if exo:
            out.append("exogenous = [" + ", ".join(f'"{x}"' for x in exo) + "]")
        if station_keys and st in station_keys:
            out.append(station_keys[st])
    return "\n".join(out) + ("\n" + extra if extra else "") + "\n"


def _frame(df: pd.DataFrame, step_min: int, start="2026-03-01") -> pd.DataFrame:
    ts = pd.date_range(start, periods=len(df), freq=f"{step_min}min").strftime(ISO)
    return pd.concat([pd.Series(ts, name="timestamp"), df], axis=1)


def _truth(df, n_ref, step_min, root, target, goal, kind, edges, extra=None) -> dict:
    ts = pd.date_range("2026-03-01", periods=len(df) + 1, freq=f"{step_min}min")
    y = df[target].to_numpy(float)
    drop = (y[:n_ref].mean() - y[n_ref:].mean()) / y[:n_ref].std() * (1 if goal == "maximize" else -1)
    return {"root_causes": [root], "kind": kind, "edges": edges, "target": target, "goal": goal,
            "anomaly": {"start": ts[n_ref].strftime(ISO), "end": ts[len(df)].strftime(ISO)},
            "reference": {"start": ts[0].strftime(ISO), "end": ts[n_ref].strftime(ISO)},
            "target_drop_sd": round(float(drop), 3), **(extra or {})}


def _edges(nodes, recycles=(), loops=()) -> list[list]:
    out = [[p, nd.name, lag] for nd in nodes for p, _, lag in nd.parents]
    out += [[s, d, lag] for s, d, _, lag in recycles]
    out += [[lp.cv, lp.mv, 0] for lp in loops]
    return out


def _chain(rng: np.random.Generator, n_stations: int = 4) -> tuple[list[DynNode], list[int]]:
    """A line of stations with two or three sensors each and a residence time between them."""
    nodes: list[DynNode] = []
    lags = [int(rng.integers(3, 9)) for _ in range(n_stations - 1)]
    prev: list[str] = []
    for s in range(n_stations):
        st = f"S{s + 1}"
        here = []
        for k in range(2 if s else 3):
            name = f"s{s + 1}_{'abc'[k]}"
            parents = []
            if prev:
                for p in rng.choice(prev, size=min(len(prev), 1 + int(rng.random() < 0.5)), replace=False):
                    parents.append((str(p), float(rng.choice([-1, 1]) * rng.uniform(0.6, 1.2)), lags[s - 1]))
            if here and rng.random() < 0.4:
                parents.append((here[0], float(rng.uniform(0.3, 0.8)), 0))
            nodes.append(DynNode(name, st, 50.0 + 10 * k, 1.0, parents, ar=float(rng.uniform(0.5, 0.9)),
                                 exogenous=not prev))
            here.append(name)
        prev = here
    last = [nd.name for nd in nodes if nd.station == f"S{n_stations}"]
    nodes.append(DynNode("yield_pct", f"S{n_stations}", 90.0, 0.5,
                         [(p, float(rng.uniform(0.4, 0.8)) * (-1 if i else 1), 0) for i, p in enumerate(last)],
                         ar=0.3))
    return nodes, lags


def _root_and_fault(rng, nodes, kind: str, target_drop: float = 2.5):
    """An upstream sensor with a path to the KPI and a fault on it sized to drop the KPI."""
    children = {nd.name: [p for p, _, _ in nd.parents] for nd in nodes}

    def reaches(a: str, b: str) -> bool:
        return a == b or any(reaches(a, p) for p in children[b])
    early = [nd.name for nd in nodes if nd.station in ("S1", "S2") and reaches(nd.name, "yield_pct")]
    return str(rng.choice(early))


def _calibrate(nodes, n_ref, n_an, fault, seed, target, loops=(), recycles=(), drop=2.5):
    """Scale the fault so the KPI drops by ``drop`` reference sds (in the bad direction)."""
    key = "delta" if fault["type"] == "mean_shift" else "per_row"
    trial = dict(fault, **{key: fault[key]})
    df = simulate_dynamic(nodes, n_ref, n_an, [trial], seed, loops, recycles)
    y = df[target].to_numpy(float)
    base = simulate_dynamic(nodes, n_ref, n_an, [], seed, loops, recycles)[target].to_numpy(float)
    sd = y[:n_ref].std()
    moved = (y[n_ref:].mean() - base[n_ref:].mean()) / sd
    if abs(moved) < 1e-9:
        return trial
    scale = -drop / moved          # a drop: the KPI (maximised) goes down
    trial[key] = fault[key] * scale
    return trial


def dynamic_case(kind: str, seed: int, n_reference: int = 1500, n_anomaly: int = 300) -> DynamicCase:
    """One random dynamic plant of a kind, with its incident and truth.

    Parameters
    ----------
    kind : str
        One of :data:`DYNAMIC_KINDS`.
    seed : int
    n_reference, n_anomaly : int
        Grid rows (batches for "genealogy").

    Returns
    -------
    DynamicCase
    """
    if kind == "genealogy":
        return batch_genealogy_case(seed)
    if kind in HARD_KINDS:
        return hard_case(kind, seed, n_reference, n_anomaly)
    rng = np.random.default_rng(seed)
    nodes, lags = _chain(rng)
    loops, recycles, extra = [], [], ""
    root = _root_and_fault(rng, nodes, kind)
    if kind == "recycle":
        # A stream from the last station back to the second, after a transport time.
        src = next(nd.name for nd in nodes if nd.station == "S4")
        dst = next(nd.name for nd in nodes if nd.station == "S2")
        lag = int(sum(lags) + rng.integers(2, 6))
        recycles = [(src, dst, 0.4, lag)]
        extra = f'[[recycle]]\nfrom = "S4"\nto = "S2"\nlag = "{lag}min"\n'
    if kind == "control_loop":
        return _loop_case(seed, n_reference, n_anomaly, variant=seed % 3)
    # An analyser downstream that follows the cause strongly and has little noise of its own:
    # it moves more (in its own sds) than the cause, which misleads a ranking by shift.
    cum = {"S1": sum(lags), "S2": sum(lags[1:]), "S3": lags[2]}
    here = next(nd for nd in nodes if nd.name == root)
    # The cause fluctuates fast; the analyser sits behind a mixing volume that smooths those
    # fluctuations out but passes a sustained change in full.
    here.ar = 0.0
    nodes.insert(len(nodes) - 1, DynNode("analyser_x", "S4", 10.0, 0.2, [(root, 2.5, cum[here.station])], ar=0.5,
                                         smoothing=0.9))
    fault = ({"type": "drift", "node": root, "per_row": 0.02} if kind == "drift"
             else {"type": "mean_shift", "node": root, "delta": 1.0})
    fault = _calibrate(nodes, n_reference, n_anomaly, fault, seed, "yield_pct", loops, recycles)
    df = simulate_dynamic(nodes, n_reference, n_anomaly, [fault], seed, loops, recycles)
    frame = _frame(df, 1)
    truth = _truth(df, n_reference, 1, root, "yield_pct", "maximize", kind, _edges(nodes, recycles, loops),
                   {"lags_min": lags, "faults": [fault]})
    toml = _layout(f"{kind} plant {seed}", "yield_pct", nodes, extra=extra)
    case = DynamicCase(f"{kind}_{seed}", kind, frame, toml, truth)
    if kind == "historian":
        case.data_text = to_historian_long(frame, seed)
        case.layout_toml = toml.replace('time_column = "timestamp"\n', 'sample = "1min"\n')
    return case


def _loop_case(seed: int, n_reference: int, n_anomaly: int, names: dict | None = None,
               variant: int = 0) -> DynamicCase:
    """A reactor whose temperature controller rejects a feed disturbance with its coolant valve;
    the same disturbance lowers the yield through the conversion, after the residence times.

    ``variant`` 1: the disturbance is the feed temperature (through the preheater); 2: the coolant
    valve works near its upper limit and saturates. Both add a second loop (the separator's
    temperature held by its reboiler steam), whose valve moves with the conversion."""
    rng = np.random.default_rng(seed)
    nm = {"impurity": "feed_impurity_pct", "feed_temp": "feed_temp_C", "flow": "feed_flow_m3h",
          "preheat": "preheat_temp_C", "cv": "reactor_temp_C", "mv": "coolant_valve_pct",
          "conv": "conversion_pct", "recycle": "recycle_flow_m3h", "sep": "separator_temp_C",
          "purity": "product_purity_pct", "yield": "yield_pct", **(names or {})}
    l1, l2, l3 = int(rng.integers(4, 8)), int(rng.integers(5, 10)), int(rng.integers(3, 7))
    nodes = [
        DynNode(nm["impurity"], "Feed", 1.0, 0.08, ar=0.8, exogenous=True),
        DynNode(nm["feed_temp"], "Feed", 25.0, 0.8, ar=0.9, exogenous=True, decimals=2),
        DynNode(nm["flow"], "Feed", 12.0, 0.3, ar=0.7, exogenous=True, decimals=2),
        DynNode(nm["preheat"], "Preheater", 150.0, 0.6, [(nm["feed_temp"], 0.8, l1)], ar=0.5, decimals=2),
        # The reactor's heat load: the preheated feed and the impurity's side reaction.
        DynNode(nm["cv"], "Reactor", 180.0, 0.15, [(nm["preheat"], 0.5, 0), (nm["impurity"], 12.0, l1)], ar=0.3,
                decimals=2),
        DynNode(nm["mv"], "Reactor", 50.0, 0.3, ar=0.2, decimals=2),
        DynNode(nm["conv"], "Reactor", 92.0, 0.3, [(nm["cv"], 0.6, 0), (nm["impurity"], -6.0, l1),
                                                    (nm["flow"], -0.8, l1)], ar=0.4, decimals=2),
        DynNode(nm["sep"], "Separator", 95.0, 0.4, [(nm["conv"], 0.5, l2)], ar=0.5, decimals=2),
        DynNode(nm["recycle"], "Separator", 3.0, 0.1, [(nm["conv"], -0.1, l2)], ar=0.6, decimals=3),
        DynNode(nm["purity"], "Product", 99.0, 0.08, [(nm["sep"], 0.05, l3)], ar=0.3),
        DynNode(nm["yield"], "Product", 90.0, 0.4, [(nm["conv"], 0.9, l2 + l3), (nm["purity"], 2.0, 0)], ar=0.3,
                decimals=2),
    ]
    high = 100.0
    root, delta = nm["impurity"], 0.1
    loops = [DynLoop(nm["cv"], nm["mv"], 180.0, gain=0.5, ki=0.4, low=0.0, high=high)]
    extra = ""
    if variant:
        if variant == 1:
            # The feed temperature loads the reactor through the preheater and speeds the reaction.
            root, delta = nm["feed_temp"], 1.0
            nodes[6].parents.append((nm["preheat"], 0.5, 0))
        else:
            # The coolant valve already runs near its limit: a large disturbance saturates it.
            nodes[5].nominal, high = 80.0, 90.0
            loops[0] = DynLoop(nm["cv"], nm["mv"], 180.0, gain=0.5, ki=0.4, low=0.0, high=high)
        # The separator's temperature is held by its reboiler steam, which moves with the conversion.
        nodes.insert(9, DynNode("reboiler_steam_pct", "Separator", 40.0, 0.2, ar=0.2, decimals=2))
        loops.append(DynLoop(nm["sep"], "reboiler_steam_pct", 95.0, gain=0.5, ki=0.4))
        extra = ('[[loop]]\ncontrolled = "separator_temp_C"\nmanipulated = "reboiler_steam_pct"\nsetpoint = 95.0\n'
                 'low = 0.0\nhigh = 100.0\n\n')
    recycles = [(nm["recycle"], nm["conv"], 1.5, l2 + 6)]
    fault = _calibrate(nodes, n_reference, n_anomaly, {"type": "mean_shift", "node": root, "delta": delta},
                       seed, nm["yield"], loops, recycles)
    df = simulate_dynamic(nodes, n_reference, n_anomaly, [fault], seed, loops, recycles)
    frame = _frame(df, 1)
    truth = _truth(df, n_reference, 1, root, nm["yield"], "maximize", "control_loop",
                   _edges(nodes, recycles, loops), {"lags_min": [l1, 0, l2, l3], "faults": [fault],
                                                    "variant": variant})
    extra = (f'[[loop]]\ncontrolled = "{nm["cv"]}"\nmanipulated = "{nm["mv"]}"\nsetpoint = 180.0\nlow = 0.0\n'
             f'high = {high!r}\n\n' + extra + f'[[recycle]]\nfrom = "Separator"\nto = "Reactor"\nlag = "{l2 + 6}min"\n')
    toml = _layout(f"Reactor train {seed}", nm["yield"], nodes, extra="\n" + extra)
    return DynamicCase(f"control_loop_{seed}", "control_loop", frame, toml, truth)


def hard_case(kind: str, seed: int, n_reference: int = 1500, n_anomaly: int = 300) -> DynamicCase:
    """A plant with the dynamics real processes add to pure delays.

    - ``"mixing_tanks"``: every station downstream of the feed is a mixing volume (a first-order
      lag of time constant 2-10 grid steps) on top of its transport delay, and every sensor's own
      disturbance is strongly autocorrelated (AR(1) 0.8-0.95).
    - ``"ar_disturbances"``: pure delays, but every disturbance, the KPI's included, is a slow
      AR(1) process (0.9-0.98): consecutive rows are nearly copies of each other.
    - ``"pi_saturating"``: a PI controller at the third station holds a temperature against the
      cause's load by moving its valve; the valve reaches its limit during the incident, so part
      of the disturbance gets through to the temperature and on to the KPI.
    - ``"slow_drift"``: mixing volumes and AR(1) disturbances, and the cause drifts slowly (a ramp
      over 600 rows) while a smooth analyser downstream follows it closely.

    Parameters
    ----------
    kind : str
        One of :data:`HARD_KINDS`.
    seed : int
    n_reference, n_anomaly : int
        Grid rows (1-minute steps); ``"slow_drift"`` doubles the incident.

    Returns
    -------
    DynamicCase
    """
    if kind not in HARD_KINDS:
        raise ValueError(f"unknown hard kind '{kind}' ({', '.join(HARD_KINDS)})")
    rng = np.random.default_rng(seed)
    nodes, lags = _chain(rng)
    root = _root_and_fault(rng, nodes, kind)
    loops: list[DynLoop] = []
    extra = ""
    if kind in ("mixing_tanks", "slow_drift"):
        # Every station after the feed is a mixing volume of time constant tau = -1 / ln(a), 2 to
        # 10 grid steps, which all its sensors read at the outlet.
        volume = {f"S{s}": float(np.exp(-1 / rng.uniform(2, 10))) for s in range(2, 5)}
        for nd in nodes:
            nd.ar = float(rng.uniform(0.8, 0.95))
            if nd.station in volume:
                nd.smoothing, nd.tank = volume[nd.station], True
    if kind == "ar_disturbances":
        for nd in nodes:
            nd.ar = float(rng.uniform(0.9, 0.98))
    cum = {"S1": sum(lags), "S2": sum(lags[1:]), "S3": lags[2]}
    if kind == "slow_drift":
        n_anomaly *= 2
        here = next(nd for nd in nodes if nd.name == root)
        nodes.insert(len(nodes) - 1, DynNode("analyser_x", "S4", 10.0, 0.2, [(root, 2.5, cum[here.station])],
                                             ar=0.9, smoothing=0.9))
    if kind == "pi_saturating":
        here = next(nd for nd in nodes if nd.name == root)
        to_s3 = cum[here.station] - cum["S3"]
        # The loop's load: the cause (after its transport time) and the station's other inputs.
        cv = DynNode("s3_temp_C", "S3", 150.0, 0.3, [(root, 1.5, to_s3)], ar=0.5, decimals=2)
        mv = DynNode("s3_valve_pct", "S3", 60.0, 0.3, ar=0.3, decimals=2)
        at = next(i for i, nd in enumerate(nodes) if nd.station == "S4")
        nodes[at:at] = [cv, mv]
        nodes[-1].parents.append((cv.name, -0.5, lags[2]))
        loops = [DynLoop(cv.name, mv.name, 150.0, gain=0.5, ki=0.2, kp=0.5, low=0.0, high=100.0)]
    fault = ({"type": "drift", "node": root, "per_row": 0.01} if kind == "slow_drift"
             else {"type": "mean_shift", "node": root, "delta": 1.0})
    fault = _calibrate(nodes, n_reference, n_anomaly, fault, seed, "yield_pct", loops)
    if kind == "pi_saturating":
        # The valve's upper limit at 60 % of the travel the fault would need: it saturates.
        df = simulate_dynamic(nodes, n_reference, n_anomaly, [fault], seed, loops)
        mvx = df["s3_valve_pct"].to_numpy(float)
        move = float(np.abs(mvx[n_reference:] - 60.0).max())
        side = "high" if mvx[n_reference:].mean() > 60.0 else "low"
        limit = 60.0 + 0.6 * move if side == "high" else 60.0 - 0.6 * move
        loops = [DynLoop("s3_temp_C", "s3_valve_pct", 150.0, gain=0.5, ki=0.2, kp=0.5,
                         low=limit if side == "low" else 0.0, high=limit if side == "high" else 100.0)]
        fault = _calibrate(nodes, n_reference, n_anomaly, dict(fault, delta=1.0), seed, "yield_pct", loops)
        extra = (f'[[loop]]\ncontrolled = "s3_temp_C"\nmanipulated = "s3_valve_pct"\nsetpoint = 150.0\n'
                 f'low = {loops[0].low!r}\nhigh = {loops[0].high!r}\n')
    df = simulate_dynamic(nodes, n_reference, n_anomaly, [fault], seed, loops)
    frame = _frame(df, 1)
    truth = _truth(df, n_reference, 1, root, "yield_pct", "maximize", kind, _edges(nodes, (), loops),
                   {"lags_min": lags, "faults": [fault],
                    "time_constants_min": {nd.station: round(float(-1 / np.log(nd.smoothing)), 2)
                                           for nd in nodes if nd.tank}})
    toml = _layout(f"{kind} plant {seed}", "yield_pct", nodes, extra=extra)
    return DynamicCase(f"{kind}_{seed}", kind, frame, toml, truth)


def to_historian_long(frame: pd.DataFrame, seed: int, slow: dict[str, int] | None = None) -> str:
    """A wide 1-minute table written as a historian long export (CSV text) at mixed rates.

    Fast tags are sampled every 30 s (the grid's interval mean gives the
    minute's value back), slow ones (``slow``: tag -> minutes) once per period; about 1 % of
    samples carry Bad quality with a junk value, a few a status text instead of a number.

    Parameters
    ----------
    frame : DataFrame
        "timestamp" then one column per tag, 1-minute rows.
    seed : int
    slow : dict, optional

    Returns
    -------
    str
    """
    rng = np.random.default_rng(seed + 7)
    slow = dict(slow or {})
    ts = pd.to_datetime(frame["timestamp"])
    out = []
    for tag in frame.columns[1:]:
        v = frame[tag].to_numpy(float)
        every = slow.get(tag)
        for i, t in enumerate(ts):
            if every:
                if i % every == 0:
                    out.append((tag, t, f"{v[i]:.4g}", "Good"))
                continue
            # two samples in (t - 1 min, t] whose mean is the minute's value
            jitter = rng.normal(0, 1e-3 * (abs(v[i]) + 1))
            for s, x in zip((-30, 0), (v[i] + jitter, v[i] - jitter), strict=True):
                q = "Good"
                r = rng.random()
                if r < 0.01:
                    q, x = "Bad", -9999.0
                elif r < 0.012:
                    out.append((tag, t + pd.Timedelta(seconds=s), "I/O Timeout", "Good"))
                    continue
                out.append((tag, t + pd.Timedelta(seconds=s), f"{x:.6g}", q))
    long = pd.DataFrame(out, columns=["Tagname", "TimeStamp", "Value", "Quality"])
    long = long.sort_values(["TimeStamp", "Tagname"], kind="stable")
    long["TimeStamp"] = long["TimeStamp"].dt.strftime(ISO)
    return long.to_csv(index=False, lineterminator="\n")


def continuous_reactor_case(seed: int = 7, n_reference: int = 1000, n_anomaly: int = 240) -> DynamicCase:
    """The continuous sample plant: feed, preheater, reactor with a temperature loop and a recycle,
    separator, product; the feed's impurity rises and the coolant valve absorbs it. Written as a
    historian long export with a lab purity every 30 minutes, stamped 20 minutes late."""
    case = _loop_case(seed, n_reference, n_anomaly)
    case.name, case.kind = "continuous_reactor", "historian"
    purity = "product_purity_pct"
    frame = case.frame.copy()
    # The lab stamps its purity result when entered, 20 minutes after the sample.
    lab = frame[purity].copy()
    frame[purity] = lab.shift(20)
    text = to_historian_long(frame.iloc[20:].reset_index(drop=True), seed, slow={purity: 30})
    case.data_text = text
    case.layout_toml = case.layout_toml.replace(
        'time_column = "timestamp"\n', 'sample = "1min"\nlag_max = "40min"\n') + (
        f'\n[tags.{purity}]\nrule = "last"\ndelay = "20min"\n')
    ts = pd.to_datetime(frame["timestamp"])
    case.truth["anomaly"]["start"] = ts[n_reference].strftime(ISO)
    case.truth["reference"]["start"] = ts[20].strftime(ISO)
    return case


def batch_genealogy_case(seed: int = 11, n_reference: int = 900, n_anomaly: int = 200) -> DynamicCase:
    """A batch line: each batch uses one raw-material lot, whose certificate values (viscosity,
    moisture) sit in a second table; one lot of high viscosity reaches the line in the incident.

    Parameters
    ----------
    seed : int
    n_reference, n_anomaly : int
        Batches.

    Returns
    -------
    DynamicCase
        ``files["lots.csv"]`` holds the lot table; the batch table has ``lot_id``.
    """
    rng = np.random.default_rng(seed)
    n = n_reference + n_anomaly
    n_lots = n_reference // 6 + 10
    visc = 300 + rng.laplace(0, 12, n_lots)
    moist = 0.5 + rng.uniform(-0.1, 0.1, n_lots)
    # Lots are used in sequence, several batches each; the incident's lots are the bad ones.
    per = np.maximum(1, rng.poisson(8, n_lots - 5))
    lot_of = np.resize(np.repeat(np.arange(n_lots - 5), per), n_reference)
    lot_of = np.concatenate([lot_of, n_lots - 5 + (np.arange(n_anomaly) * 5 // n_anomaly)])
    shift = 40.0 + rng.uniform(0, 10)
    visc[n_lots - 5:] += shift
    e = lambda s: rng.laplace(0, s, n)  # noqa: E731
    mix_temp = 60 + e(0.8)
    mix_time = 30 + rng.uniform(-2, 2, n)
    homog = 80 - 0.08 * (visc[lot_of] - 300) + 0.5 * (mix_time - 30) + e(0.6)
    fill_dev = 1.0 + 0.02 * (visc[lot_of] - 300) + 0.3 * (mix_temp - 60) * 0.1 + e(0.12)
    cure = 12 + 2.0 * (moist[lot_of] - 0.5) + e(0.3)
    yield_pct = 95 + 0.25 * (homog - 80) - 0.8 * (fill_dev - 1.0) - 0.2 * (cure - 12) + e(0.4)
    ts = pd.date_range("2026-03-01", periods=n + 1, freq="45min")
    frame = pd.DataFrame({"timestamp": ts[:n].strftime(ISO), "lot_id": [f"L{1000 + k}" for k in lot_of],
                          "mix_temp_C": mix_temp.round(2), "mix_time_min": mix_time.round(2),
                          "homogeneity_pct": homog.round(2), "fill_deviation_g": fill_dev.round(3),
                          "cure_time_h": cure.round(2), "yield_pct": yield_pct.round(2)})
    lots = pd.DataFrame({"lot_id": [f"L{1000 + k}" for k in range(n_lots)], "lot_viscosity_mPas": visc.round(1),
                         "lot_moisture_pct": moist.round(3)})
    toml = "\n".join([
        "[plant]", f'name = "Batch line {seed}"', 'target = "yield_pct"', 'goal = "maximize"',
        'time_column = "timestamp"', "", "[[station]]", 'name = "Raw material lot"',
        'sensors = ["lot_viscosity_mPas", "lot_moisture_pct"]', "exogenous = true", "", "[[station]]",
        'name = "Mixer"', 'sensors = ["mix_temp_C", "mix_time_min", "homogeneity_pct"]',
        'exogenous = ["mix_temp_C", "mix_time_min"]', 'controllable = ["mix_time_min"]', "",
        "[[station]]", 'name = "Filling"', 'sensors = ["fill_deviation_g", "cure_time_h", "yield_pct"]', "",
        "[[join]]", 'file = "lots.csv"', 'on = "lot_id"', ""])
    edges = [["lot_viscosity_mPas", "homogeneity_pct", 0], ["mix_time_min", "homogeneity_pct", 0],
             ["lot_viscosity_mPas", "fill_deviation_g", 0], ["mix_temp_C", "fill_deviation_g", 0],
             ["lot_moisture_pct", "cure_time_h", 0], ["homogeneity_pct", "yield_pct", 0],
             ["fill_deviation_g", "yield_pct", 0], ["cure_time_h", "yield_pct", 0]]
    y = yield_pct
    truth = {"root_causes": ["lot_viscosity_mPas"], "kind": "genealogy", "edges": edges, "target": "yield_pct",
             "goal": "maximize",
             "anomaly": {"start": ts[n_reference].strftime(ISO), "end": ts[n].strftime(ISO)},
             "reference": {"start": ts[0].strftime(ISO), "end": ts[n_reference].strftime(ISO)},
             "target_drop_sd": round(float((y[:n_reference].mean() - y[n_reference:].mean())
                                           / y[:n_reference].std()), 3),
             "bad_lots": [f"L{1000 + k}" for k in range(n_lots - 5, n_lots)]}
    return DynamicCase("batch_genealogy", "genealogy", frame, toml, truth,
                       files={"lots.csv": lots.to_csv(index=False, lineterminator="\n")})


def write_case(case: DynamicCase, folder: Path, readme: str | None = None) -> list[Path]:
    """Write layout.toml, data.csv, truth.json (and extra files, README.md) into ``folder``.

    Parameters
    ----------
    case : DynamicCase
    folder : Path
    readme : str, optional

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"layout.toml": case.layout_toml,
             "data.csv": case.data_text if case.data_text is not None else case.frame.to_csv(index=False,
                                                                                            lineterminator="\n"),
             "truth.json": json.dumps(case.truth, indent=2) + "\n", **case.files}
    if readme:
        texts["README.md"] = readme
    out = []
    for name, text in texts.items():
        p = folder / name
        p.write_bytes(text.encode("utf-8"))
        out.append(p)
    return out


_READMES = {
    "continuous_reactor": """# Continuous reactor (historian export)

A continuous esterification train on a 1-minute grid: feed, preheater, a reactor whose
temperature controller moves the coolant valve, a separator with a recycle back to the reactor,
and the product. Material takes minutes from one station to the next.

`data.csv` is a historian long export (Tagname, TimeStamp, Value, Quality) at mixed rates: the
process tags twice a minute, the lab's product purity every 30 minutes, entered 20 minutes after
the sample was taken; about 1% of samples are flagged Bad, a few hold "I/O Timeout".

The incident: the feed's impurity rises. The temperature controller rejects the extra heat by
opening the coolant valve, so the reactor temperature hardly moves and the valve moves most; the
impurity also lowers the conversion, and the yield falls some 15 minutes later. The true cause is
`feed_impurity_pct`; the layout declares the loop and the recycle and leaves the residence times
to "auto".
""",
    "batch_genealogy": """# Batch line with lot genealogy

One row per batch (`data.csv`) with the raw-material lot it used (`lot_id`); the lots'
certificate values are in a second table (`lots.csv`), joined by the layout's `[[join]]`.

The incident: a run of lots with high viscosity reaches the line; homogeneity falls and the
filling deviates, and the yield drops. The true cause is `lot_viscosity_mPas`.
""",
}

SAMPLE_CASES = {"continuous_reactor": continuous_reactor_case, "batch_genealogy": batch_genealogy_case}


def write_sample_plants(root: Path) -> list[Path]:
    """Write the dynamic sample plants into ``root`` (``sample_plants/``), byte-identical each run.

    Parameters
    ----------
    root : Path

    Returns
    -------
    list of Path
    """
    out = []
    for name, make in SAMPLE_CASES.items():
        out += write_case(make(), Path(root) / name, _READMES[name])
    return out


if __name__ == "__main__":
    import sys

    here = Path(__file__).resolve().parents[1] / "sample_plants"
    for p in write_sample_plants(Path(sys.argv[1]) if len(sys.argv) > 1 else here):
        print(p)

"""Plants with a third period: after an incident, someone changes something.

:func:`simulate_change` runs a plant through three periods: reference, incident (the faults
start), and after the change (the faults persist unless repaired; the engineers' change starts;
other things may change the same day, such as a new raw-material lot). Every node keeps one
noise stream over all three periods, so the true effect of the change is exact: the same rows
simulated again without it (same noise), the rung-3 counterfactual, averaged over the rows
after the change.

The mechanisms are those of :mod:`rca_sim.plants` (the same terms and noise families); only
mean shifts of a node's noise (a setpoint moved, a dryer lost its dew point, a drier lot) and
level switches of a categorical node are supported as changes, which is what a setpoint, a
supplier switch or a repair is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rca_sim.plants import (
    ISO,
    CategorySwitch,
    MeanShift,
    PlantSpec,
    _node_rng,
    _std_noise,
    _term_fn,
    _topo_order,
    fault_dict,
    goal_sign,
    truth_edges,
    validate_spec,
)


@dataclass(frozen=True)
class Period:
    """Rows ``[start, stop)`` during which a shift or switch is active."""

    start: int
    stop: int


def _active(changes, n: int) -> list[tuple[object, np.ndarray]]:
    out = []
    for f, period in changes:
        mask = np.zeros(n, bool)
        mask[period.start:period.stop] = True
        out.append((f, mask))
    return out


def _simulate_values(spec: PlantSpec, n: int, changes, seed: int) -> tuple[dict, dict]:
    """Values of every node (numeric floats, categorical codes) with ``changes``, a list of
    (MeanShift or CategorySwitch, Period)."""
    validate_spec(spec)
    nodes = {nd.name: nd for nd in spec.nodes()}
    active = _active(changes, n)
    values: dict[str, np.ndarray] = {}
    levels: dict[str, list[str]] = {}
    for name in _topo_order(spec):
        node = nodes[name]
        rng = _node_rng(seed, name)
        mine = [(f, m) for f, m in active if f.node == name]
        if node.kind == "categorical":
            names = list(node.levels)
            p = np.array([node.levels[k] for k in names], float)
            cum = np.cumsum(p / p.sum())
            u, u_switch = rng.random(n), rng.random(n)
            codes = np.minimum(np.searchsorted(cum, u, side="right"), len(names) - 1)
            for f, m in mine:
                if not isinstance(f, CategorySwitch):
                    raise ValueError(f"{name} is categorical: only a level switch can change it")
                codes = np.where(m & (u_switch < f.share), names.index(f.level), codes)
            values[name], levels[name] = codes, names
            continue
        e = _std_noise(node.noise, rng, n) * node.noise.sd
        for f, m in mine:
            if not isinstance(f, MeanShift):
                raise ValueError(f"{name} is numeric: only a mean shift can change it")
            e = e + np.where(m, f.delta, 0.0)
        x = node.nominal + e
        for t in node.terms:
            pv = values[t.parent]
            if t.kind == "category":
                off = np.array([t.offsets.get(k, 0.0) for k in levels[t.parent]])
                x = x + off[pv]
                continue
            pnom = nodes[t.parent].nominal
            center = pnom if t.center is None else t.center
            anchor = float(_term_fn(t.kind, t.coef, center, t.scale, np.array(pnom)))
            x = x + _term_fn(t.kind, t.coef, center, t.scale, pv) - anchor
        values[name] = x
    return values, levels


def _frame(spec: PlantSpec, values: dict, levels: dict, n: int) -> pd.DataFrame:
    step = pd.Timedelta(minutes=spec.interval_minutes)
    t0 = pd.Timestamp(spec.start)
    data: dict[str, object] = {spec.time_column: t0 + step * np.arange(n)}
    for node in spec.nodes():
        if not node.observed:
            continue
        v = values[node.name]
        if node.kind == "categorical":
            data[node.name] = np.array(levels[node.name], dtype=object)[v]
        else:
            if node.decimals is not None:
                v = np.round(v, node.decimals) + 0.0
            data[node.name] = v
    return pd.DataFrame(data)


def simulate_change(spec: PlantSpec, n_reference: int, n_incident: int, n_after: int, faults,
                    change, coincident=(), repaired: bool = False, seed: int = 0
                    ) -> tuple[pd.DataFrame, dict]:
    """Reference, incident and after-change rows, and the true effect of the change.

    Parameters
    ----------
    spec : PlantSpec
    n_reference, n_incident, n_after : int
        Rows per period.
    faults : list of MeanShift or CategorySwitch
        Start with the incident and persist (unless ``repaired``).
    change : list of MeanShift or CategorySwitch
        The engineers' change, from the first row after the incident on (a setpoint moved by
        ``delta``, a supplier switched to ``level``).
    coincident : list of MeanShift or CategorySwitch
        Changes nobody made on purpose that start at the same row (a new raw-material lot).
    repaired : bool
        The faults end where the change starts (a repair is then part of ``change``'s story;
        the counterfactual keeps the faults).
    seed : int

    Returns
    -------
    (DataFrame, dict)
        The data (time column first, rounded like a historian), and the truth: windows, the
        change, the true per-row and mean effect on the KPI (observed minus the same rows
        without the change, unrounded), the KPI means per period.
    """
    n = n_reference + n_incident + n_after
    t_change = n_reference + n_incident
    after = Period(t_change, n)
    fault_period = Period(n_reference, t_change if repaired else n)
    with_change = ([(f, fault_period) for f in faults] + [(f, after) for f in change]
                   + [(f, after) for f in coincident])
    without = [(f, fault_period) for f in faults] + [(f, after) for f in coincident]
    if repaired:
        # Had nobody repaired it, the faults would have continued.
        without += [(f, after) for f in faults]
    values, levels = _simulate_values(spec, n, with_change, seed)
    cf, _ = _simulate_values(spec, n, without, seed)
    df = _frame(spec, values, levels, n)
    y, y_cf = values[spec.target][t_change:], cf[spec.target][t_change:]
    effect_rows = y - y_cf
    step = pd.Timedelta(minutes=spec.interval_minutes)
    t0 = pd.Timestamp(spec.start)
    fmt = lambda i: (t0 + step * i).strftime(ISO)  # noqa: E731
    target = values[spec.target]
    truth = {
        "target": spec.target,
        "goal": spec.goal,
        "edges": truth_edges(spec),
        "reference": {"start": fmt(0), "end": fmt(n_reference)},
        "incident": {"start": fmt(n_reference), "end": fmt(t_change)},
        "change": {"time": fmt(t_change), "row": t_change,
                   "what": [fault_dict(f) for f in change], "repaired_faults": bool(repaired)},
        "faults": [fault_dict(f) for f in faults],
        "coincident": [fault_dict(f) for f in coincident],
        "effect_mean": float(effect_rows.mean()),
        "effect_rows": effect_rows,
        "target_means": {"reference": float(target[:n_reference].mean()),
                         "incident": float(target[n_reference:t_change].mean()),
                         "after": float(target[t_change:].mean()),
                         "after_without_change": float(y_cf.mean())},
        "goal_sign": goal_sign(spec),
    }
    return df, truth


def truth_for_json(truth: dict) -> dict:
    """The truth without the per-row effects (for a ``truth.json`` next to the data)."""
    out = {k: v for k, v in truth.items() if k != "effect_rows"}
    out["effect_mean"] = round(out["effect_mean"], 6)
    out["target_means"] = {k: round(v, 6) for k, v in out["target_means"].items()}
    return out

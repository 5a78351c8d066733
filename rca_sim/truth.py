"""True restorations from the generating model, for calibration benchmarks.

The restoration of node k, as the engine defines it: in the incident rows keep every node's
own noise except k's, which is replaced by reference-period draws (k behaves as in the
reference period, so a fault on k is undone too), and propagate through the plant's TRUE
mechanisms. Here that is done exactly: the simulator's per-node noise draws are reused (same
seed), k's incident draws are replaced by draws of reference rows and k's faults are removed.
"""
from __future__ import annotations

import numpy as np

from rca_sim.plants import PlantSpec, _as_faults, _run

__all__ = ["true_restorations"]


def true_restorations(spec: PlantSpec, n_reference: int, n_anomaly: int, faults, seed: int,
                      nodes: list[str], n_draws: int = 20, draw_seed: int = 0) -> dict[str, float]:
    """Share of the target's shortfall each node's restoration recovers, by the true model.

    Parameters
    ----------
    spec, n_reference, n_anomaly, faults, seed
        Exactly what :func:`rca_sim.simulate` was given.
    nodes : list of str
        Observed nodes to restore.
    n_draws : int
        Reference draws per incident row (averaged; common to every node).
    draw_seed : int

    Returns
    -------
    dict of node to restoration (1: the whole shortfall recovered)
    """
    faults = _as_faults(faults)
    cache: dict = {}
    base = _run(spec, n_reference, n_anomaly, faults, seed, cache)
    target = spec.target
    y = base.values[target]
    ref_mean, an_mean = float(y[:n_reference].mean()), float(y[n_reference:].mean())
    shortfall = ref_mean - an_mean
    keys = {k[0]: k for k in cache}
    rng = np.random.default_rng(draw_seed)
    rows = [rng.integers(0, n_reference, n_anomaly) for _ in range(n_draws)]
    out = {}
    for node in nodes:
        key = keys.get(node)
        if key is None:
            continue
        kept = [f for f in faults if f.node != node]
        total = 0.0
        for r in rows:
            c = dict(cache)
            c[key] = _with_reference_draws(cache[key], r, n_reference)
            total += float(_run(spec, n_reference, n_anomaly, kept, seed, c).values[target][n_reference:].mean())
        cf = total / n_draws
        out[node] = (cf - an_mean) / shortfall if shortfall != 0 else 0.0
    return out


def _with_reference_draws(draws, rows: np.ndarray, n_reference: int):
    if isinstance(draws, tuple):
        return tuple(_with_reference_draws(d, rows, n_reference) for d in draws)
    d = np.array(draws, copy=True)
    d[n_reference:] = draws[rows]
    return d



"""Queries of a fitted structural causal model, as plain functions (DoWhy gcm style).

- :func:`abduct`: each row's noise under the model;
- :func:`incident_abduction`: the same for the incident rows, computed once per fitted model
  and reused by every later query (restorations, action curves, what-if sliders);
- :func:`propagate`: recompute the nodes downstream of a change (noise replaced, or
  do-interventions) in causal order;
- :func:`counterfactual`, :func:`interventional_samples`: the usual rung-2 and rung-3 queries.

One seed policy: a model's abduction uses a stream derived from the model's own seed
(``scm.settings.seed``), so the same model gives the same noise to every query.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rca_app.core.encoding import decode_values as _decode
from rca_app.core.encoding import encode_frame, encode_value
from rca_app.core.lagged_model import Scenario, incident_replicas, lag_inputs, propagate_in_time
from rca_app.core.support import hold_within, value_bounds


@dataclass
class Abduction:
    """Encoded rows and each node's noise in them under one fitted model."""

    values: dict[str, np.ndarray]
    noise: dict[str, np.ndarray]
    seed: int

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.values.values())))


def abduction_seed(seed: int) -> int:
    """The seed of a model's abduction stream, derived from the model's seed (the first child
    of its ``SeedSequence``; the second is left to reference draws)."""
    return int(np.random.SeedSequence(seed).spawn(2)[0].generate_state(1)[0])


def abduct(scm, values: dict[str, np.ndarray], seed: int = 0,
           nodes: list[str] | None = None) -> dict[str, np.ndarray]:
    """Each node's noise in the given rows: what the mechanisms cannot explain.

    Parameters
    ----------
    scm : StructuralCausalModel
    values : dict
        Encoded rows (see :func:`~rca_app.core.encoding.encode_frame`).
    seed : int
        Seeds the Gumbel posterior draws of classifier nodes (numeric noise is exact).
    nodes : list of str, optional
        Only these nodes (default: all, in causal order).

    Returns
    -------
    dict of str to ndarray
    """
    rng = np.random.default_rng(seed)
    noise = {}
    for node in nodes or scm.order_:
        mech = scm.mechanisms_.get(node)
        if mech is not None:
            noise[node] = mech.abduct(values, rng)
    return noise


def replicated(values: dict[str, np.ndarray], noise: dict[str, np.ndarray],
               reps: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``values`` and ``noise`` with their rows repeated ``reps`` times (replica-major), as the
    queries that average over many draws of other rows take them; a classifier's noise (one
    column per level) is repeated by rows."""
    base = {k: np.tile(v, reps) for k, v in values.items()}
    return base, {k: (np.tile(v, (reps, 1)) if v.ndim == 2 else np.tile(v, reps)) for k, v in noise.items()}


def incident_abduction(scm, frame: pd.DataFrame) -> Abduction:
    """The rows of ``frame`` (the incident) encoded and abducted under ``scm``, once.

    The result is kept on the model for the same frame object, so an action curve, a what-if
    slider and the restorations all reuse one abduction instead of repeating it per call.

    Parameters
    ----------
    scm : StructuralCausalModel
    frame : DataFrame

    Returns
    -------
    Abduction
    """
    cache = scm.__dict__.setdefault("_abductions", {})
    hit = cache.get(id(frame))
    if hit is not None and hit[0] is frame:
        return hit[1]
    values = encode_frame(frame, scm.graph.nodes, scm.levels_)
    seed = abduction_seed(scm.settings.seed)
    ab = Abduction(values, abduct(scm, values, seed), seed)
    cache[id(frame)] = (frame, ab)   # the frame is held so its id cannot be reused
    return ab


def _upstream(scm, node: str | None) -> set[str] | None:
    """``node`` and its ancestors (cached on the model), or None for no limit."""
    if node is None:
        return None
    cache = scm.__dict__.setdefault("_upstream", {})
    if node not in cache:
        cache[node] = set(scm.graph.ancestors(node)) | {node}
    return cache[node]


def propagate(scm, base: dict[str, np.ndarray], noise: dict[str, np.ndarray],
              changed: set[str], interventions: dict[str, np.ndarray | float] | None = None,
              stop_at: str | None = None, bounds: dict[str, tuple[float, float]] | None = None
              ) -> dict[str, np.ndarray]:
    """Recompute every node downstream of ``changed`` (nodes whose noise or value was replaced)
    in causal order; all other nodes keep their ``base`` values. Intervened nodes are held at
    their set values (the do-operator cuts them from their parents). With ``stop_at`` only that
    node and its ancestors are recomputed (nothing else can change it). Computed values stay
    within what the plant showed (``bounds``, default :func:`~rca_app.core.support.value_bounds`
    of ``base``).

    A model with lagged inputs (time series, :mod:`rca_app.core.lagged_model`) whose rows are
    replicas of the incident's (marked by :func:`~rca_app.core.lagged_model.mark_incident_rows`)
    is propagated in time order, and only ``stop_at`` is recomputed."""
    interventions = interventions or {}
    vals = dict(base)
    n = len(next(iter(base.values())))
    n_time = incident_replicas(scm, base) if stop_at is not None else None
    if n_time:
        # Replicas of the incident rows, and lagged inputs in the model: in time order.
        setting = {k: np.broadcast_to(np.asarray(v, dtype=vals[k].dtype), (n,)) for k, v in interventions.items()}
        vals[stop_at] = propagate_in_time(scm, base, noise, [Scenario(setting=setting)], stop_at, n_time, changed,
                                          bounds)[0]
        return vals
    dirty = set(changed) | set(interventions)
    needed = _upstream(scm, stop_at)
    if bounds is None:
        bounds = value_bounds(scm, base, scm.order_ if needed is None else needed)
    for node in scm.order_:
        if needed is not None and node not in needed:
            continue
        if node in interventions:
            v = interventions[node]
            vals[node] = np.broadcast_to(np.asarray(v, dtype=vals[node].dtype), (n,)).copy()
            continue
        mech = scm.mechanisms_.get(node)
        if mech is None:
            continue
        if node in changed or any(p in dirty for p in mech.parents):
            vals[node] = hold_within(mech.assign(vals, noise[node]), bounds.get(node))
            dirty.add(node)
        if stop_at is not None and node == stop_at:
            break
    return vals


def counterfactual(scm, frame: pd.DataFrame, interventions: dict[str, float], seed: int = 0) -> pd.DataFrame:
    """What these rows would have been under do(interventions), with their own noise kept."""
    values = encode_frame(frame, scm.graph.nodes, scm.levels_)
    noise = abduct(scm, values, seed)
    enc = {k: encode_value(scm.levels_, k, v) for k, v in interventions.items()}
    out = propagate(scm, values, noise, set(), enc)
    return _decode(scm.levels_, scm.graph.nodes, out)


def interventional_samples(scm, interventions: dict[str, float], n: int, seed: int = 0) -> pd.DataFrame:
    """Fresh samples from the model under do(interventions): noises drawn from the reference."""
    if lag_inputs(scm):
        # Independent rows have no past to fill the lagged columns with.
        raise ValueError("a model with lagged inputs (time series) has no independent fresh samples: "
                         "query it on incident rows (counterfactual, what_if)")
    rng = np.random.default_rng(seed)
    noise = {}
    base = {}
    for node in scm.order_:
        mech = scm.mechanisms_[node]
        if mech.kind == "classifier":
            u = rng.uniform(1e-12, 1, (n, mech.n_levels))
            noise[node] = -np.log(-np.log(u))
        else:
            noise[node] = rng.choice(mech.ref_noise, size=n, replace=True)
        base[node] = np.zeros(n, dtype=np.int64 if mech.categorical else float)
    enc = {k: encode_value(scm.levels_, k, v) for k, v in interventions.items()}
    out = propagate(scm, base, noise, set(scm.order_), enc, bounds=value_bounds(scm, None, scm.order_))
    return _decode(scm.levels_, scm.graph.nodes, out)


def propagate_replacements(scm, base: dict[str, np.ndarray], noise: dict[str, np.ndarray],
                           replacements: list[tuple[str, np.ndarray]], stop_at: str,
                           chunk: int = 64, bounds: dict[str, tuple[float, float]] | None = None) -> np.ndarray:
    """``stop_at``'s values under each of several single-node noise replacements, in one pass.

    The same as calling :func:`propagate` once per replacement (node ``k``'s noise replaced,
    everything downstream recomputed), but each mechanism is evaluated once for all the
    replacements that reach it, on their rows stacked: one call per node instead of one per
    node and replacement.

    Parameters
    ----------
    scm : StructuralCausalModel
    base, noise : dict
        Encoded rows and their noise (as from :func:`abduct`), ``N`` rows each.
    replacements : list of (node, noise array)
        Node whose noise is replaced, and the new noise (``N`` rows).
    stop_at : str
        The node whose values are returned (propagation stops there).
    chunk : int
        Replacements processed together (bounds memory: ``chunk x N`` values per node).
    bounds : dict, optional
        Range each computed node is held within (default: what the plant showed,
        :func:`~rca_app.core.support.value_bounds`); ``{}`` for none.

    Returns
    -------
    ndarray, shape (len(replacements), N)
    """
    n = len(next(iter(base.values())))
    out = np.empty((len(replacements), n), dtype=base[stop_at].dtype)
    if bounds is None:
        bounds = value_bounds(scm, base, _upstream(scm, stop_at))
    for start in range(0, len(replacements), chunk):
        part = replacements[start:start + chunk]
        out[start:start + len(part)] = _propagate_chunk(scm, base, noise, part, stop_at, n, bounds)
    return out


def _propagate_chunk(scm, base, noise, replacements, stop_at, n, bounds) -> np.ndarray:
    own: dict[str, list[int]] = {}
    for i, (node, _) in enumerate(replacements):
        own.setdefault(node, []).append(i)
    affected: dict[str, np.ndarray] = {}   # node -> replacements whose change reaches it
    vals: dict[str, np.ndarray] = {}       # node -> its values under those (len x n)
    needed = _upstream(scm, stop_at)
    for node in scm.order_:
        mech = scm.mechanisms_.get(node) if node in needed else None
        if mech is not None:
            ks = set(own.get(node, ()))
            for p in mech.parents:
                ks.update(affected.get(p, ()))
            if ks:
                ks = np.array(sorted(ks))
                m = len(ks)
                stacked = {node: np.zeros(m * n)}   # sets the row count for parentless kinds
                for p in mech.parents:
                    arr = np.broadcast_to(base[p], (m, n)).copy()
                    if p in affected:
                        hit = np.isin(ks, affected[p])
                        arr[hit] = vals[p][np.searchsorted(affected[p], ks[hit])]
                    stacked[p] = arr.reshape(-1)
                nz = noise[node]
                z = np.broadcast_to(nz, (m,) + nz.shape).copy()
                for i, k in enumerate(ks):
                    if replacements[k][0] == node:
                        z[i] = replacements[k][1]
                z = z.reshape((m * n,) + nz.shape[1:])
                affected[node] = ks
                vals[node] = hold_within(mech.assign(stacked, z), bounds.get(node)).reshape(m, n)
        if node == stop_at:
            break
    res = np.broadcast_to(base[stop_at], (len(replacements), n)).copy()
    if stop_at in affected:
        res[affected[stop_at]] = vals[stop_at]
    return res

"""Restoration ranking on hand-built incidents with known answers."""
import numpy as np
import pandas as pd

from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.rootcause import Incident, candidate_nodes, restorations
from rca_app.core.scm import StructuralCausalModel, pool_invariant_mechanisms


def _chain(n_ref=2000, n_an=300, p_shift=0.0, x_offset=0.0, hinge=False, seed=0):
    rng = np.random.default_rng(seed)
    n = n_ref + n_an
    p = rng.uniform(-1, 1, n)
    p[n_ref:] += p_shift
    x = 2.0 * p + rng.laplace(scale=0.3, size=n)
    x[n_ref:] += x_offset
    # y responds to x through a hinge the reference period hardly reaches
    y = 90 - (4.0 * np.maximum(0, x - 2.5) if hinge else 1.0 * x) + rng.uniform(-0.5, 0.5, n)
    f = pd.DataFrame({"p": p, "x": x, "y": y})
    g = CausalGraph(("p", "x", "y"), (Edge("p", "x"), Edge("x", "y")))
    return f.iloc[:n_ref].reset_index(drop=True), f.iloc[n_ref:].reset_index(drop=True), g


def _rank(ref, an, g):
    scm = StructuralCausalModel(g).fit(ref)
    scm, checks = pool_invariant_mechanisms(scm, an, {"p", "x", "y"})
    inc = Incident("y", "maximize", ref, an)
    r = restorations(scm, inc, candidate_nodes(scm, "y"))
    return sorted(r, key=r.get, reverse=True), r, checks


def test_own_change_downstream_is_not_pooled_away():
    # p leaves its range AND x's own mechanism shifts: x must stay a cause, not be "explained".
    ref, an, g = _chain(p_shift=3.0, x_offset=3.0)
    order, r, checks = _rank(ref, an, g)
    assert not any(c.pooled and c.node == "x" for c in checks)
    assert r["x"] > 0.3 and r["p"] > 0.3
    assert abs(r["x"] + r["p"] - 1.0) < 0.15


def test_threshold_crossed_only_in_incident_is_credited_upstream():
    # Only p changed; y's hinge is seen in the incident only. p must rank first.
    ref, an, g = _chain(p_shift=1.5, hinge=True)
    order, r, checks = _rank(ref, an, g)
    assert order[0] == "p", r


def test_minimize_goal_uses_the_same_restoration_sign():
    ref, an, g = _chain(p_shift=1.0)
    ref = ref.assign(y=-ref["y"])
    an = an.assign(y=-an["y"])
    scm = StructuralCausalModel(g).fit(ref)
    inc = Incident("y", "minimize", ref, an)
    r = restorations(scm, inc, candidate_nodes(scm, "y"))
    assert inc.shortfall > 0
    assert max(r, key=r.get) == "p" and 0.8 < r["p"] < 1.2


def test_block_bootstrap_keeps_runs_of_consecutive_rows():
    from rca_app.core.rootcause import block_bootstrap_rows

    rng = np.random.default_rng(0)
    idx = block_bootstrap_rows(1000, rng)
    assert len(idx) == 1000 and idx.min() >= 0 and idx.max() < 1000
    steps = np.diff(idx)
    assert (steps == 1).mean() > 0.85            # blocks of ~10 consecutive rows
    assert len(np.unique(idx)) < 1000            # but still a resample

"""Choosing the discovery method: auto keeps LiNGAM where the noise is clearly non-Gaussian and
uses the constraint-based search where it is not (leaving what the data cannot orient
undetermined); FCI's marks find a hidden common cause; pruning drops edges too weak to matter."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.constraint_search import PCSettings, hidden_cause_pairs, tiered_pc
from rca_app.core.discovery import DiscoverySettings, discover
from rca_app.core.discovery_choice import topological
from rca_app.core.layout import Constraints
from rca_app.core.pruning import prune_weak_edges


def _constraints(tiers: dict[str, int], exogenous=(), target="kpi", required=()) -> Constraints:
    return Constraints(nodes=tuple(tiers), tier=dict(tiers), exogenous=frozenset(exogenous), target=target,
                       required=frozenset(required))


def _chain(noise, n=3000, seed=0) -> pd.DataFrame:
    """feed -> temp -> visc within one station, both into the KPI at the next."""
    rng = np.random.default_rng(seed)
    feed = noise(rng, n)
    temp = 0.8 * feed + noise(rng, n)
    visc = 0.8 * temp + noise(rng, n)
    kpi = visc + 0.5 * noise(rng, n)
    return pd.DataFrame({"feed": feed, "temp": temp, "visc": visc, "kpi": kpi})


TIERS = {"feed": 0, "temp": 0, "visc": 0, "kpi": 1}


def test_auto_uses_pc_on_gaussian_noise_and_leaves_the_chain_undetermined():
    frame = _chain(lambda r, n: r.normal(size=n))
    d = discover(frame, _constraints(TIERS), [], DiscoverySettings(n_bootstrap=3))
    assert d.method == "pc" and "nearly Gaussian" in d.method_reason
    # The chain within the station: the data cannot orient it, and the result says so.
    assert {frozenset(e) for e in d.undetermined} == {frozenset(("feed", "temp")), frozenset(("temp", "visc"))}
    assert all(d.graph.edge(*e).undetermined for e in d.undetermined)
    assert not d.graph.edge("visc", "kpi").undetermined     # between stations: the layout decides
    # Undetermined edges are not "unstable" however the resamples draw them.
    assert not {(u["source"], u["target"]) for u in d.unstable_edges} & {e for e in d.undetermined}


def test_auto_keeps_lingam_where_the_noise_is_clearly_non_gaussian():
    frame = _chain(lambda r, n: r.uniform(-1, 1, size=n))
    d = discover(frame, _constraints(TIERS), [], DiscoverySettings(n_bootstrap=0))
    assert d.method == "lingam" and "non-Gaussian" in d.method_reason
    assert {("feed", "temp"), ("temp", "visc"), ("visc", "kpi")} <= d.graph.edge_keys
    assert not d.undetermined
    forced = discover(frame, _constraints(TIERS), [], DiscoverySettings(n_bootstrap=0, method="pc"))
    assert forced.method == "pc" and forced.undetermined


def test_unknown_method_refused():
    with pytest.raises(ValueError, match="unknown discovery method"):
        discover(_chain(lambda r, n: r.normal(size=n), n=200), _constraints(TIERS), [],
                 DiscoverySettings(n_bootstrap=0, method="magic"))


def test_fci_marks_a_hidden_common_cause_and_not_a_chain():
    rng = np.random.default_rng(4)
    n = 4000
    viscosity = rng.normal(size=n)                         # raw material lot, exogenous
    humidity = rng.normal(size=n)                          # unmeasured
    moisture = 0.8 * viscosity + humidity + 0.6 * rng.normal(size=n)
    mould = humidity + 0.6 * rng.normal(size=n)            # no edge moisture -> mould
    kpi = -moisture - mould + rng.normal(size=n)
    tiers = {"viscosity": 0, "moisture": 1, "mould": 2, "kpi": 3}
    cons = _constraints(tiers, exogenous=("viscosity",))
    X = np.column_stack([viscosity, moisture, mould, kpi])
    X = (X - X.mean(0)) / X.std(0)
    r = tiered_pc(X, list(tiers), cons, PCSettings())
    assert hidden_cause_pairs(X, r, cons) == [("moisture", "mould")]
    # The same layout with a real edge moisture -> mould: no hidden cause.
    mould2 = 0.9 * moisture + 0.6 * rng.normal(size=n)
    X2 = np.column_stack([viscosity, moisture, mould2, -moisture - mould2 + rng.normal(size=n)])
    X2 = (X2 - X2.mean(0)) / X2.std(0)
    assert hidden_cause_pairs(X2, tiered_pc(X2, list(tiers), cons), cons) == []
    frame = pd.DataFrame(X, columns=list(tiers))
    d = discover(frame, cons, [], DiscoverySettings(n_bootstrap=0, method="fci"))
    assert d.method == "fci" and d.hidden_pairs == [("moisture", "mould")]
    assert ("moisture", "mould") not in d.graph.edge_keys


def test_pruning_drops_weak_edges_keeps_strong_and_required_ones():
    rng = np.random.default_rng(5)
    n = 20000
    a, b = rng.normal(size=n), rng.normal(size=n)
    c = a + 0.04 * b + rng.normal(size=n)      # b explains 0.1% of c: significant, too small to matter
    d = np.tanh(2 * c) + 0.3 * rng.normal(size=n)   # curved but strong
    frame = pd.DataFrame({"a": a, "b": b, "c": c, "d": d})
    edges = {("a", "c"), ("b", "c"), ("c", "d"), ("b", "d")}
    kept = prune_weak_edges(frame, list(frame), edges, keep=set())
    assert kept == {("a", "c"), ("c", "d")}
    assert prune_weak_edges(frame, list(frame), edges, keep={("b", "d")}) == {("a", "c"), ("c", "d"), ("b", "d")}


def test_causal_order_follows_the_layout_whatever_the_edge_order():
    nodes = ["a", "b", "c", "d"]
    edges = [("c", "d"), ("a", "d"), ("b", "c")]
    assert topological(nodes, edges) == topological(nodes, list(reversed(edges))) == ["a", "b", "c", "d"]


def test_conflicting_marks_still_give_a_dag():
    from rca_app.core.constraint_search import PCResult, consistent_extensions
    from rca_app.core.discovery_choice import _no_cycle, _one_extension

    tiers = {"a": 0, "b": 0, "c": 0, "d": 0, "kpi": 1}
    cons = _constraints(tiers)
    # Finite-sample colliders and Meek's rules can contradict each other into a cycle.
    pc = PCResult(list(tiers), directed=[("a", "b"), ("b", "c"), ("c", "a"), ("c", "kpi")], undirected=[("c", "d")])
    assert consistent_extensions(pc.nodes, pc.directed, pc.undirected, cons) == []
    dag = _one_extension(pc, cons)
    # Each edge kept as marked unless it closes a cycle, then reversed: c -> a becomes a -> c.
    assert _no_cycle(list(tiers), dag) and set(dag) == {("a", "b"), ("b", "c"), ("a", "c"), ("c", "kpi"), ("c", "d")}

"""Tiered PC: the layout prunes and orients, colliders orient within a station, what the data
cannot decide stays undetermined, curved relations are seen, and on Gaussian plants the graph is
close to the truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.constraint_search import PCSettings, consistent_extensions, tiered_pc
from rca_app.core.layout import Constraints, parse_layout


def _constraints(tiers: dict[str, int], exogenous=(), target="kpi", required=()) -> Constraints:
    return Constraints(nodes=tuple(tiers), tier=dict(tiers), exogenous=frozenset(exogenous), target=target,
                       required=frozenset(required))


def test_collider_within_a_station_is_oriented_and_a_chain_is_not():
    rng = np.random.default_rng(0)
    n = 4000
    a, b = rng.normal(size=n), rng.normal(size=n)
    c = a + b + rng.normal(size=n)            # a -> c <- b: a collider, decidable from the data
    d = rng.normal(size=n)
    e = d + rng.normal(size=n)
    f = e + rng.normal(size=n)                # d - e - f: a chain, the data cannot orient it
    kpi = c + f + rng.normal(size=n)
    nodes = ["a", "b", "c", "d", "e", "f", "kpi"]
    X = np.column_stack([a, b, c, d, e, f, kpi])
    tiers = {"a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "f": 0, "kpi": 1}
    r = tiered_pc(X, nodes, _constraints(tiers), PCSettings(test="fisher_z"))
    assert {("a", "c"), ("b", "c"), ("c", "kpi"), ("f", "kpi")} <= set(r.directed)
    assert set(r.undirected) == {("d", "e"), ("e", "f")}
    assert ("a", "b") in r.separating_sets and r.separating_sets[("a", "b")] == ()
    dags = consistent_extensions(r.nodes, r.directed, r.undirected, _constraints(tiers))
    chains = {frozenset(e for e in dag if e[0] in "def" and e[1] in "def") for dag in dags}
    # d->e->f, f->e->d, d<-e->f; never the collider d->e<-f (it would add an independence)
    assert chains == {frozenset({("d", "e"), ("e", "f")}), frozenset({("f", "e"), ("e", "d")}),
                      frozenset({("e", "d"), ("e", "f")})}


def test_layout_prunes_pairs_and_orients_downstream():
    rng = np.random.default_rng(1)
    n = 3000
    m1, m2 = rng.normal(size=n), rng.normal(size=n)       # two exogenous raw-material sensors
    t = 0.8 * m1 + rng.normal(size=n)
    kpi = 0.7 * t - 0.5 * m2 + rng.normal(size=n)
    tiers = {"m1": 0, "m2": 0, "t": 1, "kpi": 2}
    r = tiered_pc(np.column_stack([m1, m2, t, kpi]), list(tiers),
                  _constraints(tiers, exogenous=("m1", "m2")))
    assert set(r.directed) == {("m1", "t"), ("t", "kpi"), ("m2", "kpi")} and not r.undirected
    # m1 and m2 were never tested (neither may cause the other): no separating set recorded
    assert ("m1", "m2") not in r.separating_sets


def test_required_edge_kept_even_when_tests_would_drop_it():
    rng = np.random.default_rng(2)
    n = 2000
    x, y = rng.normal(size=n), rng.normal(size=n)          # independent
    kpi = x + rng.normal(size=n)
    tiers = {"x": 0, "y": 1, "kpi": 2}
    r = tiered_pc(np.column_stack([x, y, kpi]), list(tiers), _constraints(tiers, required=(("x", "y"),)))
    assert ("x", "y") in r.directed


def test_curved_relation_seen_by_the_quadratic_test_only():
    rng = np.random.default_rng(3)
    n = 3000
    temp = rng.normal(size=n)
    kpi = -1.0 * temp**2 + 0.5 * rng.normal(size=n)        # an optimum: no linear slope at all
    tiers = {"temp": 0, "kpi": 1}
    X = np.column_stack([temp, kpi])
    quadratic = tiered_pc(X, ["temp", "kpi"], _constraints(tiers), PCSettings(test="quadratic"))
    assert quadratic.directed == [("temp", "kpi")]
    assert tiered_pc(X, ["temp", "kpi"], _constraints(tiers), PCSettings(test="fisher_z")).directed == []


def test_unknown_test_refused():
    with pytest.raises(ValueError, match="unknown conditional-independence test"):
        tiered_pc(np.zeros((10, 2)), ["a", "kpi"], _constraints({"a": 0, "kpi": 1}), PCSettings(test="magic"))


@pytest.mark.slow
def test_close_to_the_truth_on_gaussian_plants():
    from rca_sim import random_plant, simulate
    from rca_sim.plants import write_layout_toml

    precision, recall = [], []
    for seed in (101, 102, 103):
        spec, _ = random_plant(seed, n_nodes=24, fault=None, noise="gaussian", supplier=False)
        df, truth = simulate(spec, n_reference=3000, n_anomaly=10, faults=[], seed=seed)
        cons = parse_layout(write_layout_toml(spec), source="plant.toml").constraints()
        nodes = [c for c in cons.nodes if pd.api.types.is_numeric_dtype(df[c])]
        r = tiered_pc(df[nodes].to_numpy(float)[:3000], nodes, cons)
        true = {frozenset(e) for e in truth["edges"] if e[0] in nodes and e[1] in nodes}
        found = {frozenset(e) for e in r.directed + r.undirected}
        precision.append(len(found & true) / len(found))
        recall.append(len(found & true) / len(true))
        true_dir = {tuple(e) for e in truth["edges"]}
        assert sum(e in true_dir for e in r.directed) >= 0.9 * len(r.directed)
    assert np.mean(precision) >= 0.85 and np.mean(recall) >= 0.85

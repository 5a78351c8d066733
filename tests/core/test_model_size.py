"""The simpler model's parent cap on a time series, chosen by blocked cross-validation."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.model_size import choose_parent_cap


def _ar1(rng, n: int, phi: float) -> np.ndarray:
    x = np.zeros(n)
    e = rng.standard_normal(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


GRAPH = CausalGraph(("a", "b", "c", "d", "y"), tuple(Edge(p, "y") for p in "abcd"))


def test_three_real_causes_keep_three_parents():
    # y depends on a, b and c alike (d is idle): held-out blocks need all three.
    rng = np.random.default_rng(0)
    n = 600
    X = {k: _ar1(rng, n, 0.8) for k in "abcd"}
    y = X["a"] + X["b"] + X["c"] + 0.5 * rng.standard_normal(n)
    ref = pd.DataFrame({**X, "y": y})
    chosen = choose_parent_cap(GRAPH, ref, (), (), "y", effective_rows=150)
    assert chosen is not None and chosen.cap == 3, chosen
    assert chosen.errors[3] < chosen.errors[1] - 0.3
    assert "3 parent(s) per sensor" in chosen.text()


def test_parents_that_do_not_help_on_held_out_stretches_are_cut():
    # One real cause (a); b, c and d are sensors unrelated to y. Whatever they fit within the rows
    # they were fitted on does not carry over to a held-out stretch, and the one-SE rule then takes
    # the fewest parents.
    for seed in range(5):
        rng = np.random.default_rng(seed)
        n = 720
        X = {k: _ar1(rng, n, 0.6) for k in "abcd"}
        y = X["a"] + _ar1(rng, n, 0.6)
        ref = pd.DataFrame({**X, "y": y})
        chosen = choose_parent_cap(GRAPH, ref, (), (), "y", effective_rows=30)
        assert chosen is not None and chosen.cap == 1, (seed, chosen)
        assert chosen.gap_rows == 24          # a block's neighbours within one independent row are left out


def test_nothing_to_choose_when_no_sensor_has_more_than_one_parent():
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"a": rng.standard_normal(200), "y": rng.standard_normal(200)})
    assert choose_parent_cap(CausalGraph(("a", "y"), (Edge("a", "y"),)), ref, (), (), "y", 50) is None

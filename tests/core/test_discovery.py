"""Discovery under the tiers: numeric edges, categorical edges, curved edges, confidence,
and the Gaussianity warning."""
import numpy as np
import pandas as pd
import pytest

from rca_app.core.discovery import DiscoverySettings, discover
from rca_app.core.layout import parse_layout

LAYOUT = """
[plant]
name = "Test line"
target = "yield_pct"

[[station]]
name = "Incoming"
sensors = ["moisture", "supplier", "ambient"]
exogenous = true
categorical = ["supplier"]

[[station]]
name = "Dryer"
sensors = ["dryer_temp", "dewpoint"]

[[station]]
name = "Press"
sensors = ["viscosity", "pressure"]

[[station]]
name = "Quality"
sensors = ["yield_pct"]
"""
TRUE = {("moisture", "dewpoint"), ("dryer_temp", "dewpoint"), ("dewpoint", "viscosity"),
        ("supplier", "viscosity"), ("viscosity", "pressure"), ("pressure", "yield_pct"),
        ("ambient", "yield_pct")}


def _frame(n=3000, seed=0, gaussian=False):
    rng = np.random.default_rng(seed)
    e = (lambda s: rng.normal(0, s, n)) if gaussian else (lambda s: rng.uniform(-s, s, n) * 1.7)
    moisture = 0.15 + e(0.02)
    supplier = rng.choice(["A", "B"], n, p=[0.6, 0.4])
    ambient = 22 + e(1.5)
    dryer_temp = 80 + e(2)
    dewpoint = -20 + 200 * (moisture - 0.15) - 0.8 * (dryer_temp - 80) + e(1)
    viscosity = 100 + 1.5 * dewpoint + np.where(supplier == "B", 4.0, 0.0) + e(1)
    pressure = 1200 - 3 * viscosity + e(3)
    # yield has an optimum in ambient temperature at its usual value: no linear slope at all.
    yield_pct = 95 + 0.05 * (pressure - 900) - 0.3 * (ambient - 22) ** 2 + e(0.3)
    return pd.DataFrame({"moisture": moisture, "supplier": pd.Categorical(supplier), "ambient": ambient,
                         "dryer_temp": dryer_temp, "dewpoint": dewpoint, "viscosity": viscosity,
                         "pressure": pressure, "yield_pct": yield_pct})


@pytest.fixture(scope="module")
def result():
    c = parse_layout(LAYOUT).constraints()
    return discover(_frame(), c, ["supplier"], DiscoverySettings(n_bootstrap=8, seed=1)), c


def test_finds_the_true_graph(result):
    res, _ = result
    found = res.graph.edge_keys
    assert found >= TRUE, TRUE - found
    assert len(found - TRUE) <= 1, found - TRUE


def test_every_edge_respects_the_tiers(result):
    res, c = result
    assert all(c.allows(s, t) for s, t in res.graph.edge_keys)
    assert res.graph.find_cycle() is None


def test_categorical_and_curved_edges(result):
    res, _ = result
    assert ("supplier", "viscosity") in res.graph.edge_keys       # by the conditional test
    assert ("supplier", "pressure") not in res.graph.edge_keys    # explained by viscosity
    assert ("ambient", "yield_pct") in res.graph.edge_keys        # curved, found by the F-test


def test_confidence_is_a_share_of_resamples(result):
    res, _ = result
    for e in res.graph.edges:
        assert 0.0 <= e.confidence <= 1.0
        if e.key in TRUE:
            assert e.confidence >= 0.75, e


def test_gaussian_data_is_flagged():
    c = parse_layout(LAYOUT).constraints()
    res = discover(_frame(gaussian=True, n=2000), c, ["supplier"], DiscoverySettings(n_bootstrap=0))
    assert any("Gaussian" in m for m in res.messages)
    assert sum(ch.near_gaussian for ch in res.noise_checks) >= 4


def test_deterministic_for_a_seed():
    c = parse_layout(LAYOUT).constraints()
    f = _frame(n=1500, seed=3)
    a = discover(f, c, ["supplier"], DiscoverySettings(n_bootstrap=4, seed=9))
    b = discover(f, c, ["supplier"], DiscoverySettings(n_bootstrap=4, seed=9))
    assert a.graph == b.graph


def test_lingam_engine_gives_the_same_graph():
    c = parse_layout(LAYOUT).constraints()
    f = _frame(n=1500, seed=4)
    fast = discover(f, c, ["supplier"], DiscoverySettings(n_bootstrap=0, engine="fast"))
    ref = discover(f, c, ["supplier"], DiscoverySettings(n_bootstrap=0, engine="lingam"))
    assert fast.graph.edge_keys == ref.graph.edge_keys
    assert fast.causal_order == ref.causal_order


def test_curved_parent_search_matches_one_regression_per_candidate():
    """The partialled (Schur complement) search picks the candidate, and passes or rejects it,
    exactly as fitting each nested model by least squares does, including a candidate that
    duplicates a base column (solved by least squares)."""
    from scipy import stats

    from rca_app.core.discovery import _clearest_curved_parent

    rng = np.random.default_rng(3)
    n, k = 2000, 6
    Z = rng.normal(size=(n, k))
    Z[:, 4] = Z[:, 1]                      # collinear with a base column (column 2 of M)
    y = 0.5 * Z[:, 1] + 0.4 * Z[:, 2] ** 2 + 0.15 * Z[:, 3] ** 2 + rng.normal(size=n)
    M = np.column_stack([np.ones(n), Z, y, Z * Z - 1.0, y * y - 1.0])
    kk = k + 1                              # columns 1..kk: x (y last), kk+1..2kk: x^2
    G = M.T @ M
    settings = DiscoverySettings()

    def by_lstsq(base, yc, cands):
        def rss(cols):
            coef = np.linalg.lstsq(M[:, cols], M[:, yc], rcond=None)[0]
            r = M[:, yc] - M[:, cols] @ coef
            return float(r @ r)
        rss0, best = rss(base), None
        for i, c in enumerate(cands):
            cols = base + [c, c + kk]
            rss1 = rss(cols)
            dof = n - len(cols)
            r2 = (rss0 - rss1) / rss0
            if r2 < settings.curvature_min_partial_r2:
                continue
            p = stats.f.sf(((rss0 - rss1) / 2) / (rss1 / dof), 2, dof)
            if p < settings.curvature_alpha and (best is None or r2 > best[1]):
                best = (i, r2)
        return None if best is None else best[0]

    yc = kk
    for base, cands in [([0, 2], [1, 3, 4, 5, 6]), ([0, 1], [2, 3, 4, 5, 6]), ([0, 1, 3], [2, 4, 5, 6]),
                        ([0, 1, 3], [4, 5, 6])]:
        got = _clearest_curved_parent(G, base, yc, cands, kk, n, settings)
        assert got == by_lstsq(base, yc, cands)
    # columns: 2 is Z1 (linear effect), 3 and 4 are Z2 and Z3 (curved effects), 5 copies Z1
    assert _clearest_curved_parent(G, [0, 2], yc, [4, 3], kk, n, settings) == 1   # the clearer curve
    assert _clearest_curved_parent(G, [0, 2], yc, [5, 6], kk, n, settings) is None

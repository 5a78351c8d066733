"""The categorical tests of discovery, a flag KPI's parent check, LiNGAM's BIC and the drift-onset
CUSUM on autocorrelated rows: on fault-free AR(1) data (phi = 0.9) they no longer find what is
not there, and they still find a real effect."""
import numpy as np
import pandas as pd
from scipy.signal import lfilter

from rca_app.core.discovery import DiscoverySettings, _categorical_adds, _categorical_child_parents
from rca_app.core.dynamics import cusum_onset
from rca_app.core.encoding import CategoryEncoder
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.kpi_mechanisms import check_kpi_parents
from rca_app.core.lingam_fast import FastDirectLiNGAM, _adaptive_lasso_adjacency

SEEDS = range(10)


def ar1(rng, n, phi=0.9):
    e = rng.laplace(0, 1 / np.sqrt(2), n + 200)
    return lfilter([1.0], [1.0, -phi], e)[200:]


def tercile(x):
    return np.digitize(x, np.quantile(x, [1 / 3, 2 / 3]))


def settings(serial):
    return DiscoverySettings(categorical_alpha=0.01, categorical_min_partial_r2=0.0, time_series=serial)


def _category_case(seed, effect, n=1500):
    rng = np.random.default_rng(seed)
    b, u, s = ar1(rng, n), ar1(rng, n), ar1(rng, n)
    cat = tercile(s)      # a supplier's lots: a level persists for many rows
    f = pd.DataFrame({"b": b, "y": 0.8 * b + u + effect * u.std() * (cat == 2), "cat": pd.Categorical(cat.astype(str))})
    return f, CategoryEncoder.fit(f, {"cat"})


def test_categorical_f_test_adds_no_spurious_category_on_a_time_series():
    old = new = 0
    for seed in SEEDS:
        f, enc = _category_case(seed, 0.0)
        old += _categorical_adds(f, "y", ["b"], "cat", enc, settings(False))
        new += _categorical_adds(f, "y", ["b"], "cat", enc, settings(True))
    assert old >= 2          # counting rows as parts finds the category in noise
    assert new <= 1


def test_categorical_f_test_still_finds_a_real_category_effect():
    found = 0
    for seed in SEEDS:
        f, enc = _category_case(seed, 0.5)
        found += _categorical_adds(f, "y", ["b"], "cat", enc, settings(True))
    assert found >= 9


def _mode_case(seed, effect, n=1500):
    rng = np.random.default_rng(100 + seed)
    x, s = ar1(rng, n), ar1(rng, n)
    mode = (effect * x / x.std() + s / s.std() > 0).astype(int)
    f = pd.DataFrame({"x": x, "mode": pd.Categorical(mode.astype(str))})
    return f, CategoryEncoder.fit(f, {"mode"})


def test_categorical_child_lr_test_on_a_time_series():
    old = new = found = 0
    for seed in SEEDS:
        f, enc = _mode_case(seed, 0.0)
        old += "x" in _categorical_child_parents(f, "mode", ["x"], enc, settings(False))
        new += "x" in _categorical_child_parents(f, "mode", ["x"], enc, settings(True))
        f, enc = _mode_case(seed, 0.5)
        found += "x" in _categorical_child_parents(f, "mode", ["x"], enc, settings(True))
    assert old >= 2 and new <= 1
    assert found >= 8


def _alarm_case(seed, effect, n=1500):
    rng = np.random.default_rng(200 + seed)
    b, w, u = ar1(rng, n), ar1(rng, n), ar1(rng, n)
    latent = 0.8 * b + u + effect * w
    return pd.DataFrame({"b": b, "w": w, "alarm": (latent > np.quantile(latent, 0.8)).astype(float)})


def test_flag_kpi_keeps_no_spurious_parent_on_a_time_series_and_keeps_a_real_one():
    graph = CausalGraph(("b", "w", "alarm"), (Edge("b", "alarm"), Edge("w", "alarm")))
    old = new = found = 0
    for seed in SEEDS:
        f = _alarm_case(seed, 0.0)
        old += "w" not in {p for p, _ in check_kpi_parents(graph, f, "alarm", "binary")[1]}
        new += "w" not in {p for p, _ in check_kpi_parents(graph, f, "alarm", "binary", serial=True)[1]}
        f = _alarm_case(seed, 0.5)
        g, dropped, _ = check_kpi_parents(graph, f, "alarm", "binary", serial=True)
        found += {"b", "w"} <= set(g.parents("alarm"))
    assert old >= 2 and new <= 1
    assert found >= 9


def test_flag_kpi_does_not_add_a_spurious_candidate_on_a_time_series():
    graph = CausalGraph(("b", "w", "alarm"), (Edge("b", "alarm"),))
    added = 0
    for seed in SEEDS:
        f = _alarm_case(seed, 0.0)
        added += bool(check_kpi_parents(graph, f, "alarm", "binary", candidates=["b", "w"], serial=True)[2])
    assert added <= 1


def test_lingam_bic_counts_effective_rows_only_when_asked():
    old = new = found = 0
    for seed in SEEDS:
        rng = np.random.default_rng(300 + seed)
        b, w, u = ar1(rng, 1500), ar1(rng, 1500), ar1(rng, 1500)
        X = np.column_stack([b, w, 0.8 * b + u])
        old += _adaptive_lasso_adjacency(X, [0, 1, 2], None)[2, 1] != 0
        new += _adaptive_lasso_adjacency(X, [0, 1, 2], None, serial=True)[2, 1] != 0
        X[:, 2] += 0.3 * w
        found += _adaptive_lasso_adjacency(X, [0, 1, 2], None, serial=True)[2, 1] != 0
    assert old >= 2 and new <= 1
    assert found >= 9
    # Independent rows: the same answer with or without the flag (lingam's).
    X = np.random.default_rng(5).laplace(size=(500, 4))
    X[:, 3] += X[:, 0]
    assert np.array_equal(FastDirectLiNGAM().fit(X).adjacency_matrix_,
                          FastDirectLiNGAM(serial=True).fit(X).adjacency_matrix_)


def test_cusum_onset_does_not_trip_on_fault_free_ar_data_and_still_dates_a_drift():
    trips = 0
    errors = []
    for seed in range(20):
        s = ar1(np.random.default_rng(400 + seed), 1800)
        ref, x = s[:1500], s[1500:].copy()
        trips += cusum_onset(x, ref) is not None
        x[100:] += np.linspace(0, 4 * ref.std(), 200)
        onset = cusum_onset(x, ref)
        errors.append(abs(onset - 100) if onset is not None else np.inf)
    # The plain chart trips on every one of these (its 8-sd bar is hit by the noise's slow swings).
    assert trips <= 2
    assert np.median(errors) <= 60 and np.mean(np.isfinite(errors)) >= 0.9


def test_independent_rows_get_no_correction_even_when_flagged_serial():
    from rca_app.core.discovery import _serial_categorical_pvalue
    from rca_app.core.kpi_mechanisms import _wald_z

    rng = np.random.default_rng(7)
    b, w, u = rng.laplace(size=(3, 2000))
    latent = 0.8 * b + u + 0.2 * w
    f = pd.DataFrame({"b": b, "w": w, "alarm": (latent > np.quantile(latent, 0.8)).astype(float)})
    assert np.array_equal(_wald_z(f, "alarm", "binary", ["b", "w"]), _wald_z(f, "alarm", "binary", ["b", "w"], True))
    # The categorical F-test: no whitening and no inflation, so the independent-row p-value.
    from scipy import stats

    cat = rng.integers(0, 3, 2000)
    y = 0.5 * b + u + 0.1 * (cat == 2)
    A0 = np.column_stack([np.ones(2000), b])
    D = np.column_stack([cat == 1, cat == 2]).astype(float)
    A1 = np.hstack([A0, D])
    rss = [float(np.sum((y - A @ np.linalg.lstsq(A, y, rcond=None)[0]) ** 2)) for A in (A0, A1)]
    p_rows = stats.f.sf((rss[0] - rss[1]) / 2 / (rss[1] / (2000 - 4)), 2, 2000 - 4)
    assert np.isclose(_serial_categorical_pvalue(y, A0, D, None), p_rows, rtol=1e-9)


def test_discovery_on_a_time_series_adds_no_spurious_supplier_edge():
    from rca_app.core.discovery import discover
    from rca_app.core.layout.constraints import Constraints

    c = Constraints(nodes=("supplier", "b", "y"), tier={"supplier": 0, "b": 0, "y": 1},
                    exogenous=frozenset({"supplier", "b"}), target="y")
    old = new = 0
    for seed in SEEDS:
        f, _ = _category_case(seed, 0.0)
        f = f.rename(columns={"cat": "supplier"})[["supplier", "b", "y"]]
        for serial in (False, True):
            s = DiscoverySettings(n_bootstrap=0, method="lingam", time_series=serial, categorical_min_partial_r2=0.0)
            edges = {e.key for e in discover(f, c, ["supplier"], s).graph.edges}
            assert ("b", "y") in edges
            if serial:
                new += ("supplier", "y") in edges
            else:
                old += ("supplier", "y") in edges
    assert old >= 2 and new <= 1

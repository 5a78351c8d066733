"""Mechanisms, cross-fitting, do-operator queries and edge effects on models with known truth."""
import numpy as np
import pandas as pd
import pytest

from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.scm import (
    SCMSettings,
    StructuralCausalModel,
    abduct,
    counterfactual,
    edge_effects,
    encode_frame,
    interventional_samples,
)


def _graph(nodes, edges):
    return CausalGraph(tuple(nodes), tuple(Edge(a, b) for a, b in edges))


@pytest.fixture(scope="module")
def confounded():
    """z -> x -> y and z -> y: the naive slope of y on x is biased, the causal one is 2."""
    rng = np.random.default_rng(0)
    n = 3000
    z = rng.uniform(-1, 1, n) * 3
    x = 1.5 * z + rng.laplace(size=n)
    y = 2.0 * x - 3.0 * z + rng.uniform(-1, 1, n)
    frame = pd.DataFrame({"z": z, "x": x, "y": y})
    g = _graph(["z", "x", "y"], [("z", "x"), ("x", "y"), ("z", "y")])
    return frame, StructuralCausalModel(g).fit(frame)


def test_linear_mechanisms_chosen_and_r2_reported(confounded):
    _, scm = confounded
    assert scm.reports_["x"].kind == "linear"
    assert scm.reports_["y"].kind == "linear"
    assert scm.reports_["y"].oof_r2 > 0.9
    assert scm.reports_["z"].kind == "empirical"


def test_noise_is_out_of_fold(confounded):
    frame, scm = confounded
    # In-sample residuals of OLS are orthogonal to the regressors; out-of-fold ones are not
    # exactly, and their variance is (slightly) larger than the in-sample residual variance.
    A = np.column_stack([np.ones(len(frame)), frame["z"], frame["x"]])
    coef, *_ = np.linalg.lstsq(A, frame["y"], rcond=None)
    insample = frame["y"] - A @ coef
    assert scm.mechanisms_["y"].ref_noise.var() > insample.var()
    assert not np.allclose(scm.mechanisms_["y"].ref_noise, insample)


def test_edge_effect_partials_out_confounder(confounded):
    frame, scm = confounded
    eff = {(e.source, e.target): e for e in edge_effects(scm)}
    assert eff[("x", "y")].effect == pytest.approx(2.0, abs=0.05)
    assert eff[("z", "y")].effect == pytest.approx(-3.0, abs=0.1)
    naive = np.polyfit(frame["x"], frame["y"], 1)[0]
    assert abs(naive - 2.0) > 0.5  # the test would catch a naive slope


def test_counterfactual_without_intervention_reproduces_rows(confounded):
    frame, scm = confounded
    cf = counterfactual(scm, frame.iloc[:50], {})
    np.testing.assert_allclose(cf["y"], frame["y"].iloc[:50], atol=1e-9)


def test_do_operator_cuts_parents(confounded):
    frame, scm = confounded
    rows = frame.iloc[:200]
    cf = counterfactual(scm, rows, {"x": 1.0})
    assert np.allclose(cf["x"], 1.0)
    # z is upstream of x and must not move; y moves by 2 per unit of x.
    np.testing.assert_allclose(cf["z"], rows["z"])
    np.testing.assert_allclose(cf["y"] - rows["y"], 2.0 * (1.0 - rows["x"]), atol=0.1)
    samples = interventional_samples(scm, {"x": 0.0}, 5000, seed=1)
    assert samples["y"].mean() == pytest.approx(-3.0 * frame["z"].mean(), abs=0.15)


def test_quadratic_mechanism_is_detected():
    rng = np.random.default_rng(1)
    n = 2000
    t = rng.uniform(170, 190, n)
    y = 95 - 0.08 * (t - 180) ** 2 + rng.laplace(scale=0.3, size=n)
    frame = pd.DataFrame({"t": t, "y": y})
    scm = StructuralCausalModel(_graph(["t", "y"], [("t", "y")])).fit(frame)
    assert scm.reports_["y"].kind in ("poly2", "hgb")
    assert scm.reports_["y"].candidates["linear"] < 0.2 < scm.reports_["y"].oof_r2


def test_monotone_declaration_excludes_quadratic_and_constrains_trees():
    rng = np.random.default_rng(2)
    n = 1500
    x = rng.uniform(0, 10, n)
    y = np.where(x > 5, 3.0, 0.0) + rng.laplace(scale=0.3, size=n)
    frame = pd.DataFrame({"x": x, "y": y})
    scm = StructuralCausalModel(_graph(["x", "y"], [("x", "y")]), monotone={("x", "y"): 1}).fit(frame)
    assert "poly2" not in scm.reports_["y"].candidates
    grid = np.linspace(0, 10, 50)
    pred = scm.mechanisms_["y"].predict({"x": grid})
    assert np.all(np.diff(pred) >= -1e-9)


def test_categorical_parent_and_classifier_child():
    rng = np.random.default_rng(3)
    n = 2000
    supplier = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2])
    visc = 100 + np.select([supplier == "B", supplier == "C"], [5.0, -4.0], 0.0) + rng.laplace(size=n)
    grade = np.where(visc + rng.logistic(size=n) > 101, "high", "low")
    frame = pd.DataFrame({"supplier": pd.Categorical(supplier), "visc": visc, "grade": pd.Categorical(grade)})
    g = _graph(["supplier", "visc", "grade"], [("supplier", "visc"), ("visc", "grade")])
    scm = StructuralCausalModel(g, categorical={"supplier", "grade"}).fit(frame)
    assert scm.reports_["grade"].kind == "classifier"
    eff = {(e.source, e.target): e for e in edge_effects(scm)}
    levels = eff[("supplier", "visc")].level_effects
    assert levels["B"] == pytest.approx(5.0, abs=0.3) and levels["C"] == pytest.approx(-4.0, abs=0.3)
    # Gumbel-max counterfactual: without intervention every row keeps its level.
    values = encode_frame(frame, g.nodes, scm.levels_)
    noise = abduct(scm, values, seed=0)
    from rca_app.core.scm import propagate
    same = propagate(scm, values, noise, {"visc"})
    assert np.array_equal(same["grade"], values["grade"])
    # Forcing every supplier to B raises viscosity, so more rows become "high".
    cf = counterfactual(scm, frame, {"supplier": "B"})
    assert (cf["grade"] == "high").mean() > (frame["grade"] == "high").mean() + 0.05


def test_deterministic_for_a_seed(confounded):
    frame, _ = confounded
    g = _graph(["z", "x", "y"], [("z", "x"), ("x", "y"), ("z", "y")])
    a = StructuralCausalModel(g, settings=SCMSettings(seed=7)).fit(frame)
    b = StructuralCausalModel(g, settings=SCMSettings(seed=7)).fit(frame)
    np.testing.assert_array_equal(a.mechanisms_["y"].ref_noise, b.mechanisms_["y"].ref_noise)


def test_binned_trees_cut_like_scikit_learns_unweighted_binning():
    """The tree refit cuts its features where scikit-learn's own (unweighted) bin mapper would,
    so fitting on the cut features is the weighted model with pre-1.6 binning."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from rca_app.core.mechanisms import BinnedTrees, hgb_regressor

    rng = np.random.default_rng(0)
    A = np.column_stack([rng.normal(size=3000), rng.integers(0, 2, 3000).astype(float),
                         rng.integers(0, 40, 3000).astype(float)])
    y = np.sin(A[:, 0]) + 0.5 * A[:, 1] + 0.01 * A[:, 2] + rng.normal(scale=0.1, size=3000)
    ref = HistGradientBoostingRegressor(max_iter=5).fit(A, y)
    model = BinnedTrees(hgb_regressor(None, 0, max_iter=30), A)
    for ours, theirs in zip(model.edges, ref._bin_mapper.bin_thresholds_, strict=True):
        np.testing.assert_allclose(ours, theirs)
    w = rng.exponential(size=3000)
    p1 = model.fit(A, y, w).predict(A)
    p2 = BinnedTrees(hgb_regressor(None, 0, max_iter=30), A).fit(A, y, w).predict(A)
    np.testing.assert_array_equal(p1, p2)
    assert np.sqrt(np.mean((p1 - y) ** 2)) < 0.2

"""Root-cause queries (what-if, action curves, categorical counterfactuals), the single
abduction per model, the one encoder and the mechanism interface, on models with known truth."""
import numpy as np
import pandas as pd
import pytest

from rca_app.core.discovery import DiscoverySettings, _categorical_adds
from rca_app.core.encoding import CategoryEncoder, FeatureDesign
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.mechanisms import (
    ClassifierMechanism,
    EmpiricalMechanism,
    HGBMechanism,
    LinearMechanism,
    Mechanism,
)
from rca_app.core.queries import incident_abduction
from rca_app.core.rootcause import Incident, action_curve, what_if
from rca_app.core.scm import SCMSettings, StructuralCausalModel


def _graph(nodes, edges):
    return CausalGraph(tuple(nodes), tuple(Edge(a, b) for a, b in edges))


@pytest.fixture(scope="module")
def setpoint_plant():
    """s (a setpoint) -> t -> y with y = 50 + 3 t; the incident raised t's own offset by 2."""
    rng = np.random.default_rng(0)
    n_ref, n_an = 2000, 200
    n = n_ref + n_an
    s = rng.uniform(0, 10, n)
    t = 0.5 * s + rng.laplace(scale=0.2, size=n)
    t[n_ref:] += 2.0
    y = 50 - 3.0 * t + rng.uniform(-0.3, 0.3, n)
    f = pd.DataFrame({"s": s, "t": t, "y": y})
    g = _graph(["s", "t", "y"], [("s", "t"), ("t", "y")])
    ref, an = f.iloc[:n_ref].reset_index(drop=True), f.iloc[n_ref:].reset_index(drop=True)
    scm = StructuralCausalModel(g).fit(ref)
    return scm, Incident("y", "maximize", ref, an)


def test_what_if_shifts_each_row_by_the_causal_effect(setpoint_plant):
    scm, inc = setpoint_plant
    rows = what_if(scm, inc, "s", 2.0)
    # do(s = 2) changes t by 0.5 (2 - s) in each row (its own noise kept), y by -3 times that.
    expected = inc.anomaly["y"] - 3.0 * 0.5 * (2.0 - inc.anomaly["s"])
    np.testing.assert_allclose(rows, expected, atol=0.15)


def test_action_curve_is_the_mean_of_what_if_and_slopes_the_right_way(setpoint_plant):
    scm, inc = setpoint_plant
    grid = [1.0, 4.0, 7.0]
    curve = action_curve(scm, inc, "s", grid)
    assert curve == pytest.approx([float(np.mean(what_if(scm, inc, "s", v))) for v in grid], rel=1e-12)
    # y falls 1.5 per unit of s: the lowest setting is best.
    assert np.diff(curve) == pytest.approx([-4.5, -4.5], abs=0.3)


def test_incident_is_abducted_once_per_model(setpoint_plant, monkeypatch):
    scm, inc = setpoint_plant
    first = incident_abduction(scm, inc.anomaly)
    calls = []
    original = Mechanism.abduct
    monkeypatch.setattr(Mechanism, "abduct", lambda self, v, rng: calls.append(self.node) or original(self, v, rng))
    for v in np.linspace(0, 10, 30):
        what_if(scm, inc, "s", v)
    action_curve(scm, inc, "s", [1.0, 2.0])
    assert calls == []
    assert incident_abduction(scm, inc.anomaly) is first
    # A different frame (even with equal content) is abducted afresh.
    assert incident_abduction(scm, inc.anomaly.copy()) is not first


@pytest.fixture(scope="module")
def supplier_plant():
    rng = np.random.default_rng(3)
    n = 2000
    supplier = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2])
    visc = 100 + np.select([supplier == "B", supplier == "C"], [5.0, -4.0], 0.0) + rng.laplace(size=n)
    grade = np.where(visc + rng.logistic(size=n) > 101, "high", "low")
    kpi = 10.0 + 2.0 * (grade == "high") + rng.normal(scale=0.1, size=n)
    f = pd.DataFrame({"supplier": pd.Categorical(supplier), "visc": visc, "grade": pd.Categorical(grade),
                      "kpi": kpi})
    g = _graph(["supplier", "visc", "grade", "kpi"],
               [("supplier", "visc"), ("visc", "grade"), ("grade", "kpi")])
    ref, an = f.iloc[:1800].reset_index(drop=True), f.iloc[1800:].reset_index(drop=True)
    scm = StructuralCausalModel(g, categorical={"supplier", "grade"}).fit(ref)
    return scm, Incident("kpi", "maximize", ref, an)


def test_categorical_what_if_moves_levels_the_right_way(supplier_plant):
    scm, inc = supplier_plant
    assert isinstance(scm.mechanisms_["grade"], ClassifierMechanism)
    to_b = what_if(scm, inc, "supplier", "B").mean()
    to_c = what_if(scm, inc, "supplier", "C").mean()
    assert to_b > inc.anomaly_mean > to_c
    with pytest.raises(ValueError, match="not a level"):
        what_if(scm, inc, "supplier", "Z")


def test_categorical_counterfactual_keeps_levels_without_a_change(supplier_plant):
    scm, inc = supplier_plant
    # do(supplier = each row's own level) changes nothing: every grade stays as observed.
    ab = incident_abduction(scm, inc.anomaly)
    vals = ab.values
    assert np.array_equal(scm.mechanisms_["grade"].assign(vals, ab.noise["grade"]), vals["grade"])


def test_abduction_seed_comes_from_the_model():
    rng = np.random.default_rng(5)
    n = 800
    x = rng.normal(size=n)
    c = np.where(x + rng.logistic(size=n) > 0, "on", "off")
    f = pd.DataFrame({"x": x, "c": pd.Categorical(c)})
    g = _graph(["x", "c"], [("x", "c")])
    a = StructuralCausalModel(g, categorical={"c"}, settings=SCMSettings(seed=1)).fit(f)
    b = StructuralCausalModel(g, categorical={"c"}, settings=SCMSettings(seed=2)).fit(f)
    na, nb = incident_abduction(a, f).noise["c"], incident_abduction(b, f).noise["c"]
    assert not np.allclose(na, nb)
    np.testing.assert_array_equal(na, incident_abduction(a, f.copy()).noise["c"])


# ---- the one encoder -------------------------------------------------------------------------
def test_encoder_levels_sorted_with_first_as_baseline_and_incident_only_levels_kept():
    ref = pd.DataFrame({"sup": ["B", "A", "B"]})
    both = pd.concat([ref, pd.DataFrame({"sup": ["C"]})], ignore_index=True)
    enc = CategoryEncoder.fit(both, ["sup"])
    assert enc.levels["sup"] == ["A", "B", "C"] and enc.baseline("sup") == "A"
    codes = enc.codes(ref["sup"])
    assert codes.tolist() == [1, 0, 1]
    assert enc.dummies("sup", codes).shape == (3, 2)
    # The incident-only level C has no column when only present levels are asked for.
    assert enc.dummies("sup", codes, present_only=True).shape == (3, 1)


def test_reference_f_test_ignores_levels_seen_only_in_the_incident():
    rng = np.random.default_rng(0)
    n = 400
    sup = rng.choice(["A", "B"], n)
    y = rng.normal(size=n) + 0.3 * (sup == "B")
    ref = pd.DataFrame({"sup": pd.Categorical(sup, categories=["A", "B", "C"]), "y": y})
    enc = CategoryEncoder.fit(pd.concat([ref, pd.DataFrame({"sup": ["C"], "y": [0.0]})]), ["sup"])
    # Same decision and the same F-test as with an encoder that never heard of C.
    s = DiscoverySettings(categorical_alpha=0.5, categorical_min_partial_r2=0.0)
    only_ref = CategoryEncoder.fit(ref, ["sup"])
    assert _categorical_adds(ref, "y", [], "sup", enc, s) == _categorical_adds(ref, "y", [], "sup", only_ref, s)
    D = enc.dummies("sup", enc.codes(ref["sup"]), present_only=True)
    assert D.shape[1] == 1


def test_design_and_edge_effects_use_the_encoder_baseline():
    enc = CategoryEncoder({"sup": ["A", "B", "C"]})
    values = {"sup": np.array([0, 1, 2, 2]), "x": np.array([1.0, 2.0, 3.0, 4.0])}
    d = FeatureDesign(["x", "sup"], enc.levels, values)
    A = d.linear(values)
    np.testing.assert_array_equal(A[:, 1:], [[0, 0], [1, 0], [0, 1], [0, 1]])


# ---- one class per mechanism ------------------------------------------------------------------
def test_mechanisms_share_one_interface_and_clone_unfitted():
    rng = np.random.default_rng(1)
    n = 600
    values = {"x": rng.normal(size=n)}
    values["y"] = 2 * values["x"] + rng.normal(scale=0.1, size=n)
    folds = np.arange(n) % 5
    design = FeatureDesign(["x"], {}, values)
    for mech in (EmpiricalMechanism("x"), LinearMechanism("y", ["x"], design),
                 HGBMechanism("y", ["x"], design, None, 0)):
        fitted = mech.fit(values, folds)
        assert fitted is mech and mech.ref_noise.shape == (n,)
        noise = mech.abduct(values, rng)
        np.testing.assert_allclose(mech.assign(values, noise), values[mech.node])
        twin = mech.clone()
        assert twin.ref_noise is None and type(twin) is type(mech) and twin.kind == mech.kind
        twin.fit(values, folds)
        np.testing.assert_allclose(twin.predict(values), mech.predict(values))


def test_linear_fold_models_average_to_one_coefficient_vector():
    rng = np.random.default_rng(2)
    n = 500
    values = {"x": rng.normal(size=n), "z": rng.normal(size=n)}
    values["y"] = 1 + values["x"] - values["z"] + rng.normal(scale=0.5, size=n)
    design = FeatureDesign(["x", "z"], {}, values)
    mech = LinearMechanism("y", ["x", "z"], design).fit(values, np.arange(n) % 5)
    A = design.linear(values)
    mean_of_folds = np.mean([m.predict(A) for m in mech.models], axis=0)
    np.testing.assert_allclose(mech.predict(values), mean_of_folds, rtol=1e-12)
    assert mech.coef_.shape == (2,)

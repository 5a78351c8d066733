"""Counterfactuals stay within what the plant showed (rca_app.core.support): a fitted recursion
whose gain exceeds one cannot carry a restoration to astronomic multiples of the loss, the factual
rows are never moved by the bound, and row models are held the same way."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.lagged_model import LaggedPlan, apply_lagged_plan, lag_name, mark_incident_rows
from rca_app.core.queries import incident_abduction, propagate
from rca_app.core.rootcause import Incident, restorations
from rca_app.core.scm import SCMSettings, StructuralCausalModel
from rca_app.core.support import SUPPORT_MARGIN, value_bounds

LAG = 2


def _recycle_plant(n: int, shift: float, n_shift: int, seed: int = 3) -> pd.DataFrame:
    """a -> b -> y, with y returning to b after LAG rows (gain 0.4: stable as simulated)."""
    rng = np.random.default_rng(seed)
    a = rng.laplace(0, 1, n)
    a[n - n_shift:] += shift
    b, y = np.zeros(n), np.zeros(n)
    for t in range(n):
        b[t] = 0.9 * a[t] + (0.4 * y[t - LAG] if t >= LAG else 0.0) + rng.uniform(-0.3, 0.3)
        y[t] = b[t] + rng.uniform(-0.3, 0.3)
    return pd.DataFrame({"a": a, "b": b, "y": y})


def _model(explosive: bool, n_shift: int = 120):
    frame = _recycle_plant(1500, shift=-2.5, n_shift=n_shift)
    graph = CausalGraph(("a", "b", "y"), (Edge("a", "b"), Edge("b", "y")))
    plan = LaggedPlan()
    plan.add("y", LAG, "b")
    aug, g = apply_lagged_plan(plan, frame, graph)
    ref = aug.iloc[LAG:len(aug) - n_shift].reset_index(drop=True)
    an = aug.iloc[len(aug) - n_shift:].reset_index(drop=True)
    scm = StructuralCausalModel(g, settings=SCMSettings(mechanisms=("linear",))).fit(ref)
    if explosive:
        # The recycle's fitted gain tipped over one (as a weighted refit can): 0.4 -> 1.6.
        b = scm.mechanisms_["b"]
        b.coef_ = b.coef_.copy()
        b.coef_[b.parents.index(lag_name("y", LAG))] *= 4.0
    mark_incident_rows(scm, an, "y")
    return scm, ref, an


def test_an_explosive_recursion_cannot_carry_a_restoration_beyond_what_the_plant_showed():
    scm, ref, an = _model(explosive=True)
    incident = Incident("y", "maximize", ref, an)
    ab = incident_abduction(scm, an)
    # Unbounded, restoring a compounds row after row (1.6 every LAG rows over 120 rows).
    drawn = dict(ab.noise)
    rng = np.random.default_rng(0)
    drawn["a"] = scm.mechanisms_["a"].reference_draws(rng.integers(0, scm.n_reference_, len(an)), rng)
    free = propagate(scm, ab.values, drawn, {"a"}, stop_at="y", bounds={})["y"]
    assert np.max(np.abs(free)) > 1e6
    held = propagate(scm, ab.values, drawn, {"a"}, stop_at="y")["y"]
    lo, hi = value_bounds(scm, ab.values, ["y"])["y"]
    assert np.all((held >= lo - 1e-9) & (held <= hi + 1e-9))
    # The ranking's restoration is bounded accordingly: at most the margin beyond the KPI's range.
    r = restorations(scm, incident, ["a", "b"])
    most = (hi - incident.anomaly_mean) / incident.shortfall
    assert np.isfinite(r["a"]) and abs(r["a"]) <= most + 1e-9 and most < 5


def test_the_bound_never_moves_the_factual_rows():
    scm, ref, an = _model(explosive=False)
    ab = incident_abduction(scm, an)
    # Every node recomputed from its own abducted noise gives back what was observed.
    again = propagate(scm, ab.values, ab.noise, {"a", "b", "y"}, stop_at="y")["y"]
    assert np.allclose(again, ab.values["y"])


def test_bounds_span_the_reference_and_the_queried_rows_with_a_margin():
    scm, ref, an = _model(explosive=True)
    ab = incident_abduction(scm, an)
    lo, hi = value_bounds(scm, ab.values, ["a"])["a"]
    seen = np.concatenate([ref["a"].to_numpy(), an["a"].to_numpy()])
    span = seen.max() - seen.min()
    assert np.isclose(lo, seen.min() - SUPPORT_MARGIN * span) and np.isclose(hi, seen.max() + SUPPORT_MARGIN * span)
    # Fresh samples know only the reference.
    lo_ref, hi_ref = value_bounds(scm, None, ["a"])["a"]
    ref_span = np.ptp(ref["a"].to_numpy())
    assert np.isclose(hi_ref - lo_ref, (1 + 2 * SUPPORT_MARGIN) * ref_span)


def test_a_row_model_holds_a_descendant_of_an_extreme_setting_but_not_the_setting():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, 800)
    frame = pd.DataFrame({"a": a, "y": 3.0 * a + rng.normal(0, 0.2, 800)})
    scm = StructuralCausalModel(CausalGraph(("a", "y"), (Edge("a", "y"),)),
                                settings=SCMSettings(mechanisms=("linear",))).fit(frame)
    ab = incident_abduction(scm, frame.iloc[:50])
    out = propagate(scm, ab.values, ab.noise, set(), {"a": 100.0})
    _, hi = value_bounds(scm, ab.values, ["y"])["y"]
    assert np.all(out["a"] == 100.0)              # the setting itself is the engineer's
    assert np.allclose(out["y"], hi)              # a line extrapolated 30 sd out is not evidence

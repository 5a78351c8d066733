"""The impact's interval spreads over the mechanism kinds the reference rows cannot tell apart.

A setpoint acts on the KPI through a sensor with a mild curvature (x + 0.03 x^2): over the
reference range a line fits it about as well as a quadratic, so the analysis mostly picks the
line; a step of 3 sds takes the setpoint past the range, where the line falls short. Refits
that keep the line give a tight interval around the shortfall; refits that draw among the
competitive kinds cover the true effect."""
import numpy as np
import pandas as pd

from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.impact import ImpactSettings, _interval, change_impact
from rca_app.core.impact_kinds import competitive_kinds, path_nodes
from rca_app.core.scm import SCMSettings, StructuralCausalModel
from rca_app.core.uncertainty import BootstrapContext


def _plant(seed, n_ref=800, n_inc=200, n_after=200, step=3.0):
    rng = np.random.default_rng(seed)
    n = n_ref + n_inc + n_after
    sp = rng.normal(0, 1, n)
    e_s, e_y = rng.normal(0, 0.5, n), rng.normal(0, 0.3, n)

    def kpi(setpoint):
        s = setpoint + 0.03 * setpoint ** 2 + e_s
        return s, 2.0 * s + e_y

    moved = sp.copy()
    moved[n_ref + n_inc:] += step
    s, y = kpi(moved)
    _, y_without = kpi(sp)
    frame = pd.DataFrame({"sp": moved, "s": s, "y": y})
    g = CausalGraph(("sp", "s", "y"), (Edge("sp", "s"), Edge("s", "y")))
    # The true effect: the same rows, the same noise, without the step.
    truth = float((y - y_without)[n_ref + n_inc:].mean())
    parts = [frame.iloc[a:b].reset_index(drop=True)
             for a, b in ((0, n_ref), (n_ref, n_ref + n_inc), (n_ref + n_inc, n))]
    return parts, g, truth


def test_a_mild_curve_past_the_range_is_covered_once_the_kinds_spread():
    covered = {False: 0, True: 0}
    lines = 0
    for seed in range(10):
        (ref, inc, after), g, truth = _plant(seed)
        scm = StructuralCausalModel(g).fit(ref)
        if scm.mechanisms_["s"].kind == "linear":
            lines += 1
            sets = competitive_kinds(scm, "sp", "y")
            assert sets["s"].kinds == ["linear", "poly2"]     # the curve is not clear in range
        ctx = BootstrapContext(scm, inc, ["sp", "s", "y"])
        refits = [ctx.model(d, ctx.refit_mechanisms(d)) for d in ctx.draws(seed, 30)]
        points = set()
        for spread in (False, True):
            core = change_impact(scm, ref, inc, after, "y", "sp", refits,
                                 ImpactSettings(draws=1000, refit_draws=300, kind_uncertainty=spread))
            lo, hi = core.effect_mean_ci
            covered[spread] += lo <= truth <= hi
            assert lo <= core.effect_mean <= hi
            points.add(core.effect_mean)
        assert len(points) == 1                              # the point estimate stays the model's
    assert lines >= 6
    # The line's refits miss past the range; the kinds' spread holds the truth (90% intervals).
    assert covered[False] <= 7 and covered[True] >= 9


def test_kinds_on_the_path_only():
    (ref, inc, after), g, truth = _plant(0)
    scm = StructuralCausalModel(g).fit(ref)
    assert path_nodes(scm, "sp", "y") == ["s", "y"]
    assert path_nodes(scm, "s", "y") == ["y"]


def test_interval_takes_the_order_statistics_that_hold_one_more_draw():
    x = np.arange(1.0, 61.0)              # 60 refits
    assert _interval(x, 5.0) == (3.0, 58.0)   # (61 - 2 * 3) / 61 >= 90%
    assert _interval(x[:10], 5.0) == (1.0, 10.0)


def test_a_clear_curve_leaves_the_line_out():
    rng = np.random.default_rng(0)
    sp = rng.normal(0, 1, 800)
    s = sp + 0.3 * sp ** 2 + rng.normal(0, 0.5, 800)
    frame = pd.DataFrame({"sp": sp, "s": s, "y": 2.0 * s + rng.normal(0, 0.3, 800)})
    g = CausalGraph(("sp", "s", "y"), (Edge("sp", "s"), Edge("s", "y")))
    # Without trees among the candidates (they are tried once a curve shows, and are slow).
    scm = StructuralCausalModel(g, settings=SCMSettings(mechanisms=("linear", "poly2", "spline"))).fit(frame)
    assert scm.mechanisms_["s"].kind == "poly2"
    sets = competitive_kinds(scm, "sp", "y")
    assert "s" not in sets            # the quadratic alone: the line is clearly worse in range

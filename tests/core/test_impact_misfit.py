"""The misfit check behind the effect interval: a path the graph lacks, or a setpoint moved past
the range the model learnt, shows in the interval instead of hiding in other nodes' noise."""
import numpy as np
import pandas as pd
import pytest

from rca_app.core.encoding import encode_frame
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.impact import ImpactSettings, change_impact
from rca_app.core.impact_misfit import autocorrelation_block, misfit_check
from rca_app.core.scm import StructuralCausalModel
from rca_app.core.uncertainty import BootstrapContext


def _plant(direct: float, setpoint_step: float, n_ref=1500, n_inc=300, n_after=300, seed=1):
    """setpoint -> x -> y, and (when ``direct``) setpoint -> y as well, which the graph lacks."""
    rng = np.random.default_rng(seed)
    n = n_ref + n_inc + n_after
    sp = rng.normal(0, 0.4, n)
    sp[n_ref + n_inc:] += setpoint_step
    lot = rng.uniform(-1, 1, n)
    lot[n_ref:] += 1.0
    x = lot - 0.8 * sp + rng.normal(0, 0.2, n)
    y = 90 - 2.0 * x + direct * sp + rng.normal(0, 0.2, n)
    f = pd.DataFrame({"lot": lot, "setpoint": sp, "x": x, "y": y})
    g = CausalGraph(("lot", "setpoint", "x", "y"), (Edge("lot", "x"), Edge("setpoint", "x"), Edge("x", "y")))
    truth = (1.6 + direct) * setpoint_step
    return (f.iloc[:n_ref].reset_index(drop=True), f.iloc[n_ref:n_ref + n_inc].reset_index(drop=True),
            f.iloc[n_ref + n_inc:].reset_index(drop=True)), g, truth


def _refits(scm, ref, inc, n=20):
    ctx = BootstrapContext(scm, inc, ["lot", "setpoint", "x", "y"])
    return [ctx.model(d, ctx.refit_mechanisms(d)) for d in ctx.draws(1, n)]


def test_a_right_graph_gives_no_misfit_curve():
    (ref, inc, after), g, _ = _plant(direct=0.0, setpoint_step=0.5)
    scm = StructuralCausalModel(g).fit(ref)
    # No node's noise clearly follows the setpoint's: nothing is moved along a chance curve.
    assert misfit_check(scm, encode_frame(ref, scm.graph.nodes, scm.levels_), "y", "setpoint") == {}


def test_a_path_the_graph_lacks_is_in_the_effect_and_its_interval():
    (ref, inc, after), g, truth = _plant(direct=0.8, setpoint_step=0.6)
    scm = StructuralCausalModel(g).fit(ref)
    check = misfit_check(scm, encode_frame(ref, scm.graph.nodes, scm.levels_), "y", "setpoint")
    # The direct path shows as y's noise following the setpoint's (part of it is absorbed by
    # y's fitted slope on x, which the setpoint also moves).
    assert check["y"](np.array([check["y"].scale]))[0] > 0.15
    core = change_impact(scm, ref, inc, after, "y", "setpoint", _refits(scm, ref, inc), ImpactSettings(draws=2000))
    lo, hi = core.effect_mean_ci
    assert core.effect_mean == pytest.approx(truth, abs=0.12)
    assert lo <= truth <= hi
    # The model alone would credit the change with 1.6 per unit only: 0.48 short here.
    assert abs(truth - 1.6 * 0.6) > 0.4


def test_a_setpoint_beyond_the_reference_range_gets_a_wider_reading_beside_the_interval():
    (ref, inc, after), g, truth = _plant(direct=0.8, setpoint_step=3.0)
    scm = StructuralCausalModel(g).fit(ref)
    core = change_impact(scm, ref, inc, after, "y", "setpoint", _refits(scm, ref, inc), ImpactSettings(draws=2000))
    far = core.effect_mean_ci_beyond
    assert far is not None
    assert far[0] <= core.effect_mean_ci[0] and far[1] >= core.effect_mean_ci[1]
    # The direct path is linear, so carrying its curve on past the range finds the truth.
    assert far[0] <= truth <= far[1]

    (ref, inc, after), g, truth = _plant(direct=0.0, setpoint_step=3.0)
    scm = StructuralCausalModel(g).fit(ref)
    core = change_impact(scm, ref, inc, after, "y", "setpoint", _refits(scm, ref, inc), ImpactSettings(draws=2000))
    # A right model with no misfit: the check leaves the effect alone even 7 sds out.
    assert core.effect_mean == pytest.approx(truth, abs=0.1)


def test_block_length_follows_the_autocorrelation():
    rng = np.random.default_rng(0)
    white = rng.normal(size=300)
    ar = np.zeros(300)
    for i in range(1, 300):
        ar[i] = 0.95 * ar[i - 1] + rng.normal()
    assert autocorrelation_block(white) == round(300 ** (1 / 3))
    assert autocorrelation_block(ar) > 2 * autocorrelation_block(white)
    assert autocorrelation_block(ar) <= 60

"""Weighted (Bayesian block) bootstrap refits: same answer on any number of workers, weighted
refits that agree with a direct weighted fit, cancel between refits."""
import numpy as np
import pandas as pd
import pytest

from rca_app.app.sample_plants import load_sample_plant
from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.errors import Cancelled
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.mechanisms import Ridge
from rca_app.core.progress import CancelFlag
from rca_app.core.rootcause import Incident, RankingSettings, rank_root_causes
from rca_app.core.scm import StructuralCausalModel
from rca_app.core.uncertainty import BootstrapContext, block_weights, row_blocks


def _without_timings(d: dict) -> dict:
    d = dict(d)
    d["diagnostics"] = {k: v for k, v in d["diagnostics"].items() if k != "timings"}
    d.pop("settings")
    return d


@pytest.mark.slow
def test_whole_analysis_identical_on_one_and_two_workers():
    plant, data = load_sample_plant("injection_moulding")
    truth = plant.truth
    an = (truth["anomaly"]["start"], truth["anomaly"]["end"])
    runs = [run_analysis(data, an, None, AnalysisSettings(graph_bootstrap=4, rank_bootstrap=6, n_jobs=j)).result
            for j in (1, 2)]
    a, b = (_without_timings(r.to_dict()) for r in runs)
    assert a == b
    assert runs[0].diagnostics.bootstrap_refits_used == 6


def _hinge_plant(seed=0):
    rng = np.random.default_rng(seed)
    n_ref, n_an = 1500, 150
    n = n_ref + n_an
    p = rng.uniform(-1, 1, n)
    p[n_ref:] += 0.8
    x = 2.0 * p + 0.5 * p**2 + rng.laplace(scale=0.3, size=n)
    y = 90 - 1.5 * x + rng.uniform(-0.5, 0.5, n)
    f = pd.DataFrame({"p": p, "x": x, "y": y})
    g = CausalGraph(("p", "x", "y"), (Edge("p", "x"), Edge("x", "y")))
    scm = StructuralCausalModel(g).fit(f.iloc[:n_ref].reset_index(drop=True))
    return scm, Incident("y", "maximize", f.iloc[:n_ref].reset_index(drop=True), f.iloc[n_ref:].reset_index(drop=True))


def test_weighted_refit_equals_a_direct_weighted_least_squares():
    scm, inc = _hinge_plant()
    ctx = BootstrapContext(scm, inc.anomaly, ["p", "x", "y"])
    draw = ctx.draws(3, 1)[0]
    mech = ctx.refit_mechanisms(draw)["x"]
    values = scm.reference_values_
    w = draw.weights[ctx.ref_blocks]
    A = scm.mechanisms_["x"].features(values)
    direct = Ridge().fit(A, values["x"], weights=w)
    np.testing.assert_allclose(mech.predict(values), direct.predict(A), rtol=1e-7, atol=1e-7)
    # The refit is a new object; the fitted model is untouched.
    assert mech is not scm.mechanisms_["x"] and mech.main is scm.mechanisms_["x"]
    # Empirical root: the weighted mean.
    p = ctx.refit_mechanisms(draw)["p"]
    assert p.constant == pytest.approx(float(w @ values["p"] / w.sum()))


def test_blocks_and_weights():
    b = row_blocks(1000)
    assert b[0] == 0 and np.all(np.diff(b) >= 0) and b[-1] + 1 == int(np.ceil(1000 / 10))
    assert row_blocks(200_000)[-1] + 1 <= 500
    w = block_weights(100, np.random.default_rng(0))
    assert w.mean() == pytest.approx(1.0) and (w > 0).all()


def test_weighted_intervals_cover_the_point_and_cancel_acts():
    scm, inc = _hinge_plant()

    class Layout:
        controllable = ()

        def station_of(self, n):
            return "s"

    res = rank_root_causes(scm, inc, Layout(), RankingSettings(n_bootstrap=12, n_jobs=1))
    top = res.root_causes[0]
    assert top.node == "p"
    lo, hi = top.restoration_ci
    assert lo < hi and lo - 0.1 < top.restoration < hi + 0.1
    flag = CancelFlag()
    flag.cancel()
    with pytest.raises(Cancelled):
        rank_root_causes(scm, inc, Layout(), RankingSettings(n_bootstrap=12, n_jobs=1), progress=flag)

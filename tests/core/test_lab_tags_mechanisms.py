"""Lab tags in the model: mechanisms fitted on the sampled rows, and a lab KPI (trial defect #3)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rca_app.core.analysis import run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.lab_tags import MIN_LAB_SAMPLES, mechanism_rows
from rca_app.core.layout import load_layout
from rca_app.core.scm import SCMSettings, StructuralCausalModel
from rca_app.core.settings import AnalysisSettings

SAMPLES = Path(__file__).resolve().parents[2] / "sample_plants"
INCIDENT = ("2026-03-01T16:40:00", "2026-03-01T20:40:00")


def _graph(nodes, edges) -> CausalGraph:
    return CausalGraph(tuple(nodes), tuple(Edge(a, b) for a, b in edges))


def test_mechanism_rows_are_the_lab_parents_common_samples():
    g = _graph(["a", "lab1", "lab2", "y", "z"], [("a", "lab1"), ("lab1", "y"), ("lab2", "y"), ("a", "z")])
    lab = {"lab1": np.arange(0, 600, 10), "lab2": np.arange(0, 600, 20), "y": np.arange(5, 600, 30)}
    rows = mechanism_rows(g, lab)
    assert np.array_equal(rows["lab1"], lab["lab1"])                 # its own samples
    assert "z" not in rows and "a" not in rows                        # no lab value involved / no parents
    # y is a lab tag with two lab parents: no row where all three were sampled.
    assert "y" not in rows
    lab["y"] = np.arange(0, 600, 20)
    assert np.array_equal(mechanism_rows(g, lab)["y"], np.arange(0, 600, 20))
    # A lagged model's reference starts later: the positions move with it.
    assert mechanism_rows(g, lab, offset=15)["lab1"][0] == 5
    few = {"lab1": np.arange(0, 10 * (MIN_LAB_SAMPLES + 1), 10)}     # 13 rows < 12 + 2 per parent
    assert mechanism_rows(g, few) == {}


def test_a_childs_mechanism_fitted_on_the_samples_recovers_the_lab_effect():
    rng = np.random.default_rng(0)
    n, every = 4000, 20
    # A lab value with fast dynamics, measured every 20 rows and held; y follows the true value.
    lab_true = rng.normal(0, 1, n)
    rows = np.arange(0, n, every)
    held = np.repeat(lab_true[rows], every)[:n]
    y = 2.0 * lab_true + rng.normal(0, 0.5, n)
    frame = pd.DataFrame({"lab": held, "y": y})
    g = _graph(["lab", "y"], [("lab", "y")])
    settings = SCMSettings(mechanisms=("linear",))

    def slope(m) -> float:
        mech = m.mechanisms_["y"]
        return float(mech.coef_[0] / mech.design.sd["lab"])

    every_row = StructuralCausalModel(g, settings=settings).fit(frame)
    sampled = StructuralCausalModel(g, settings=settings, fit_rows=mechanism_rows(g, {"lab": rows})).fit(frame)
    assert abs(slope(every_row)) < 0.5                     # the held copies dilute it
    assert slope(sampled) == pytest.approx(2.0, abs=0.2)
    mech = sampled.mechanisms_["y"]
    assert len(mech.ref_noise) == len(rows) and mech.ref_noise.std() == pytest.approx(0.5, abs=0.1)
    # A weighted refit handed every reference row refits on the sampled ones.
    blocks = np.arange(n) // 50
    refit = mech.weighted_refit(sampled.reference_values_, blocks, np.ones(blocks.max() + 1))
    assert float(refit.coef_[0] / refit.design.sd["lab"]) == pytest.approx(slope(sampled), rel=0.02)
    # Its reference noise draws are the sampled rows' noise, centred on the refit.
    draws = refit.reference_draws(np.arange(n), np.random.default_rng(1), sampled.reference_values_)
    assert abs(draws.mean()) < 0.1 and draws.std() == pytest.approx(0.5, abs=0.1)


def test_continuous_sample_purity_effect_is_learnt_on_its_samples():
    folder = SAMPLES / "continuous_reactor"
    data = prepare(load_table(folder / "data.csv"), load_layout(folder / "layout.toml"))
    out = run_analysis(data, INCIDENT, None, AnalysisSettings(graph_bootstrap=0, rank_bootstrap=4, n_jobs=1))
    r = out.result
    assert r.root_causes[0].node == "feed_impurity_pct"
    effect = next(e.effect for e in r.graph.edges if (e.source, e.target) == ("product_purity_pct", "yield_pct"))
    assert 1.4 < effect < 4.0                                    # true 2.0; 0.33 on every row
    assert out.scm.mechanisms_["yield_pct"].rows is not None


@pytest.fixture(scope="module")
def lab_kpi_result(tmp_path_factory):
    """The continuous sample with its yield kept only every 15 minutes (trial defect #3)."""
    folder = SAMPLES / "continuous_reactor"
    d = pd.read_csv(folder / "data.csv", dtype=str)
    ts = pd.to_datetime(d["TimeStamp"])
    keep = (d["Tagname"] != "yield_pct") | ((ts.dt.minute % 15 == 0) & (ts.dt.second == 0))
    path = tmp_path_factory.mktemp("kpi15") / "data.csv"
    d[keep].to_csv(path, index=False)
    data = prepare(load_table(path), load_layout(folder / "layout.toml"))
    return run_analysis(data, INCIDENT, None, AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1))


def test_a_lab_kpi_is_explained_by_restoration_through_its_parents(lab_kpi_result):
    r = lab_kpi_result.result
    assert r.ranking_basis.method == "restoration"              # not the anomaly ranking
    assert r.root_causes[0].node == "feed_impurity_pct" and r.root_causes[0].restoration > 0.5
    assert ("conversion_pct", "yield_pct") in {(e.source, e.target) for e in r.graph.edges}
    assert lab_kpi_result.scm.mechanisms_["yield_pct"].rows is not None


def test_a_lab_kpis_residence_time_is_estimated_on_its_samples(lab_kpi_result):
    r = lab_kpi_result.result
    lag = next(x for x in r.dynamics.lags if x.station == "Separator")
    # True 5 minutes; on every grid row the held values read 0.
    assert lag.lag_steps == 5 and not lag.given and lag.estimate_steps == 5
    assert any(m.text.startswith("residence time Separator -> Product: every sensor of Product is a lab value")
               for m in r.diagnostics.messages)

"""The dynamic sample plants: written byte-identically by rca_sim.dynamic, loaded through the
app's sample-plant path (historian pivot, lot join), and their true cause ranked first."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from rca_app.app.sample_plants import load_sample_plant, open_sample_plant, sample_plant_names
from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_sim.dynamic import SAMPLE_CASES, DynLoop, DynNode, simulate_dynamic, write_sample_plants
from tests.paths import ROOT


def test_sample_files_equal_what_the_generator_writes(tmp_path):
    for path in write_sample_plants(tmp_path):
        committed = ROOT / "sample_plants" / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run python -m rca_sim.dynamic"


def test_dynamic_sample_plants_are_listed_next_to_the_others():
    names = sample_plant_names()
    assert set(SAMPLE_CASES) <= set(names) and {"injection_moulding", "chemical_reactor", "bottling_line"} <= set(names)


def test_the_continuous_plant_is_a_historian_export_with_bad_samples():
    plant = open_sample_plant("continuous_reactor")
    head = pd.read_csv(plant.data_path, nrows=2000)
    assert list(head.columns) == ["Tagname", "TimeStamp", "Value", "Quality"] and (head["Quality"] == "Bad").any()
    assert plant.layout.loops and plant.layout.recycles and plant.layout.tag_delays
    _, data = load_sample_plant("continuous_reactor")
    assert data.sample == "1min" and sum(t.bad_quality for t in data.tag_reports) > 100


def test_an_integral_controller_holds_its_cv_and_moves_its_mv():
    nodes = [DynNode("d", "A", 0.0, 0.1, exogenous=True), DynNode("cv", "B", 50.0, 0.05, [("d", 5.0, 0)]),
             DynNode("mv", "B", 50.0, 0.05)]
    df = simulate_dynamic(nodes, 500, 300, [{"type": "mean_shift", "node": "d", "delta": 1.0}], 0,
                          [DynLoop("cv", "mv", 50.0, gain=1.0, ki=0.4)])
    ref, an = df.iloc[:500], df.iloc[-200:]
    assert abs(an["cv"].mean() - 50.0) < 0.1 and an["mv"].mean() - ref["mv"].mean() == pytest.approx(5.0, rel=0.1)


@pytest.mark.parametrize("name", sorted(SAMPLE_CASES))
def test_the_true_cause_comes_first(name):
    plant, data = load_sample_plant(name)
    truth = json.loads((plant.folder / "truth.json").read_text("utf-8"))
    result = run_analysis(data, tuple(plant.anomaly), None,
                          AnalysisSettings(graph_bootstrap=0, rank_bootstrap=5, n_jobs=1)).result
    assert result.root_causes[0].node == truth["root_causes"][0]

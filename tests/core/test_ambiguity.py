"""What the data cannot decide reaches the ranking: undetermined edges are drawn the way that
explains the incident with the fewest changed sensors, restorations come as ranges over the
equivalence class, and an unmeasured cause acting on two sensors comes out as itself."""
from __future__ import annotations

import json

import pytest

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.layout import load_layout
from rca_app.core.results import result_from_json, result_to_json
from rca_sim import Node, Noise, PlantSpec, Station, hidden_confounder, linear, mean_shift, save_plant, simulate

FAST = dict(graph_bootstrap=3, rank_bootstrap=4)


def _data(tmp_path, spec, faults, seed=0):
    df, truth = simulate(spec, 2000, 300, faults, seed)
    save_plant(tmp_path, spec, df, truth)
    return prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml")), truth


def _gaussian_chain_plant() -> PlantSpec:
    """Three Gaussian sensors in a chain inside one station (nothing can orient it), the KPI next."""
    return PlantSpec("chain", [
        Station("Mixing", [Node("feed_temp", 60.0, Noise("gaussian", 1.0)),
                           Node("mix_temp", 65.0, Noise("gaussian", 1.0), terms=[linear("feed_temp", 0.8)]),
                           Node("viscosity", 30.0, Noise("gaussian", 1.0), terms=[linear("mix_temp", 0.8)])]),
        Station("Filling", [Node("yield_pct", 92.0, Noise("gaussian", 0.5), terms=[linear("viscosity", -0.6)])]),
    ], "yield_pct")


def test_undetermined_edges_ranked_over_the_class(tmp_path):
    data, truth = _data(tmp_path, _gaussian_chain_plant(), [mean_shift("mix_temp", 3.0)])
    an = truth["anomaly"]
    r = run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings(discovery="pc", **FAST)).result
    d = r.diagnostics
    assert d.discovery_method == "pc"
    assert {frozenset(e) for e in d.undetermined_edges} == {frozenset(("feed_temp", "mix_temp")),
                                                            frozenset(("mix_temp", "viscosity"))}
    # Drawn the way under which only mix_temp's own mechanism changed in the incident.
    assert [e for e in d.undetermined_edges] == [["feed_temp", "mix_temp"], ["mix_temp", "viscosity"]]
    assert {(e.source, e.target) for e in r.graph.edges if e.undetermined} == {("feed_temp", "mix_temp"),
                                                                               ("mix_temp", "viscosity")}
    top = r.root_causes[0]
    assert top.node == "mix_temp"
    lo, hi = top.restoration_range
    assert lo <= top.restoration <= hi and hi > lo
    assert any("cannot tell the direction" in m for m in d.messages)
    back = result_from_json(json.loads(json.dumps(result_to_json(r))))
    assert back.root_causes[0].restoration_range == top.restoration_range
    assert back.diagnostics.undetermined_edges == d.undetermined_edges


def test_a_direction_the_engineer_fixes_is_kept(tmp_path):
    from rca_app.app.graph_edit import apply_edit, graph_from_result

    data, truth = _data(tmp_path, _gaussian_chain_plant(), [mean_shift("mix_temp", 3.0)])
    an = truth["anomaly"]
    first = run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings(discovery="pc", **FAST)).result
    g = graph_from_result(first.graph)
    g = apply_edit(g, "reverse", "feed_temp", "mix_temp")        # the engineer knows better
    g = apply_edit(g, "force", "mix_temp", "viscosity")
    r = run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings(**FAST), graph=g).result
    assert ("mix_temp", "feed_temp") in {(e.source, e.target) for e in r.graph.edges}
    assert not r.diagnostics.undetermined_edges and not any(e.undetermined for e in r.graph.edges)
    assert r.root_causes[0].restoration_range is None


def test_unmeasured_cause_named_instead_of_a_measured_sensor(tmp_path):
    spec = PlantSpec("humidity", [
        Station("Raw", [Node("lot_viscosity", 50.0, Noise("gaussian", 1.0), exogenous=True)]),
        Station("Dryer", [Node("moisture", 0.2, Noise("gaussian", 0.02), terms=[linear("lot_viscosity", 0.016)])]),
        Station("Moulding", [Node("mould_temp", 80.0, Noise("gaussian", 1.0))]),
        Station("Inspection", [Node("yield_pct", 92.0, Noise("gaussian", 0.4),
                                    terms=[linear("moisture", -20.0), linear("mould_temp", -0.4)])]),
    ], "yield_pct")
    fault = hidden_confounder("ambient_humidity", {"moisture": 0.025, "mould_temp": 1.2}, shift=1.6)
    data, truth = _data(tmp_path, spec, [fault], seed=3)
    an = truth["anomaly"]
    r = run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings(discovery="fci", **FAST)).result
    top = r.root_causes[0]
    assert top.unmeasured and top.acts_on == ["moisture", "mould_temp"]
    assert top.node == "an unmeasured cause acting on moisture and mould_temp"
    assert [h.sensors for h in r.diagnostics.hidden_causes] == [["moisture", "mould_temp"]]
    # Neither sensor is credited with the other's change: no edge joins them.
    assert ("moisture", "mould_temp") not in {(e.source, e.target) for e in r.graph.edges}
    from rca_app.report.text import discovery_paragraphs, summary_paragraphs

    assert any("unmeasured" in p for p in summary_paragraphs(r))
    assert any("FCI" in p for p in discovery_paragraphs(r))


@pytest.mark.parametrize("method", ["lingam", "pc"])
def test_forced_method_recorded(tmp_path, method):
    data, truth = _data(tmp_path, _gaussian_chain_plant(), [mean_shift("mix_temp", 3.0)])
    an = truth["anomaly"]
    r = run_analysis(data, (an["start"], an["end"]), None,
                     AnalysisSettings(discovery=method, graph_bootstrap=0, rank_bootstrap=0)).result
    assert r.diagnostics.discovery_method == method and r.settings["discovery"] == method

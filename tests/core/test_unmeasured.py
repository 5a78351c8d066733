"""An unmeasured cause acting on two sensors of one station comes out as itself, with the edge
discovery drew between them left out of the ranking; the same hidden cause steady on average
while one of its sensors has its own fault does not hide that sensor."""
from __future__ import annotations

import json

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.layout import load_layout
from rca_app.core.results import result_from_json, result_to_json
from rca_sim import Node, Noise, PlantSpec, Station, hidden_confounder, linear, mean_shift, save_plant, simulate

FAST = dict(graph_bootstrap=0, rank_bootstrap=0)


def _plant() -> PlantSpec:
    """Ambient humidity (unmeasured) acts on both dryer sensors; both reach the yield."""
    return PlantSpec("dryer", [
        Station("Feed", [Node("feed_rate", 10.0, Noise("laplace", 1.0), exogenous=True)]),
        Station("Dryer", [Node("dryer_temp", 80.0, Noise("gaussian", 1.0), terms=[linear("feed_rate", 0.3)]),
                          Node("resin_moisture", 0.5, Noise("uniform", 0.05))]),
        Station("Moulding", [Node("yield_pct", 92.0, Noise("gaussian", 0.5),
                                  terms=[linear("dryer_temp", -0.4), linear("resin_moisture", -8.0)])]),
    ], "yield_pct")


def _run(tmp_path, faults, seed):
    df, truth = simulate(_plant(), 2000, 300, faults, seed)
    save_plant(tmp_path, _plant(), df, truth)
    data = prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))
    an = truth["anomaly"]
    return run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings(**FAST)).result


def test_unmeasured_cause_through_an_edge_named_and_edge_left_out(tmp_path):
    humidity = hidden_confounder("ambient_humidity", {"dryer_temp": 0.9, "resin_moisture": 0.045}, shift=2.5,
                                 noise_kind="mixture")
    r = _run(tmp_path, [humidity], seed=1)
    top = r.root_causes[0]
    assert top.unmeasured and set(top.acts_on) == {"dryer_temp", "resin_moisture"}
    (h,) = [h for h in r.diagnostics.hidden_causes if h.moved_in_incident]
    assert set(h.sensors) == {"dryer_temp", "resin_moisture"} and h.source == "incident: both moved together"
    assert h.evidence and all("both changed their own behaviour" in e for e in h.evidence)
    # Discovery joins the two dryer sensors; the ranking does not let either carry the other.
    drawn = {(e.source, e.target) for e in r.graph.edges}
    assert len(h.edges_left_out) == 1 and tuple(h.edges_left_out[0]) in drawn
    assert {frozenset(h.edges_left_out[0])} == {frozenset(("dryer_temp", "resin_moisture"))}
    assert any("leaves them out" in m for m in r.diagnostics.messages)
    single = {c.node: c.restoration for c in r.root_causes if not c.unmeasured}
    assert max(single["dryer_temp"], single["resin_moisture"]) < 0.8 < top.restoration
    back = result_from_json(json.loads(json.dumps(result_to_json(r))))
    assert back.diagnostics.hidden_causes == r.diagnostics.hidden_causes
    # Restoring the pair keeps the yield within what it took: its figure is stated.
    assert h.kpi_beyond is not None and h.kpi_beyond < 1.0
    assert any(f"recovers {100 * h.restoration:.0f}% of the loss" in m for m in r.diagnostics.messages)


def test_own_fault_of_a_sensor_the_hidden_cause_acts_on_is_not_hidden(tmp_path):
    humidity = hidden_confounder("ambient_humidity", {"dryer_temp": 0.9, "resin_moisture": 0.045}, shift=0.0,
                                 noise_kind="mixture")
    r = _run(tmp_path, [humidity, mean_shift("resin_moisture", 0.15)], seed=2)
    assert r.root_causes[0].node == "resin_moisture" and not r.root_causes[0].unmeasured
    assert not any(h.moved_in_incident for h in r.diagnostics.hidden_causes)


def _confounded_incident(seed=0):
    """Something unmeasured lifts both x1 and x2 (non-Gaussian noises); y loses what they gain."""
    import numpy as np
    import pandas as pd

    from rca_app.core.graph import CausalGraph, Edge
    from rca_app.core.rootcause import Incident
    from rca_app.core.scm import StructuralCausalModel

    rng = np.random.default_rng(seed)
    n_ref, n_an = 1500, 300
    h = rng.laplace(size=n_ref + n_an)
    h[n_ref:] += 3.0
    x1 = h + 0.5 * rng.uniform(-1, 1, n_ref + n_an)
    x2 = 0.8 * h + 0.5 * rng.uniform(-1, 1, n_ref + n_an)
    y = 50 - x1 - x2 + 0.3 * rng.standard_normal(n_ref + n_an)
    f = pd.DataFrame({"x1": x1, "x2": x2, "y": y})
    g = CausalGraph(("x1", "x2", "y"), (Edge("x1", "y"), Edge("x2", "y")))
    ref, an = f.iloc[:n_ref].reset_index(drop=True), f.iloc[n_ref:].reset_index(drop=True)
    return StructuralCausalModel(g).fit(ref), Incident("y", "maximize", ref, an)


def test_a_groups_restoration_is_judged_by_the_actions_support_rule():
    import numpy as np

    from rca_app.core.action_support import kpi_beyond, kpi_envelope
    from rca_app.core.unmeasured import detect, group_kpi_rows, group_restoration

    scm, incident = _confounded_incident()
    hidden, _, models = detect(scm, incident, seed=3)
    (h,) = [h for h in hidden if h.moved]
    rows = group_kpi_rows(models["scm"], incident, h.sensors, 3)
    assert h.kpi_beyond == float(kpi_beyond(rows, kpi_envelope(incident)))
    assert h.restoration == group_restoration(models["scm"], incident, h.sensors, 3)
    # Restoring both brings y back within what it took: the figure is stated.
    assert h.supported and np.isfinite(h.restoration) and 0.5 < h.restoration < 1.5


def test_a_group_figure_beyond_what_the_kpi_took_is_not_stated():
    from rca_app.core.unmeasured import HiddenCause, messages

    kept = HiddenCause(["a", "b"], "incident: both moved together", 0.8, 0.92, True, ["a and b moved"])
    far = HiddenCause(["a", "b"], "incident: both moved together", 0.8, 30.25, True, ["a and b moved"],
                      kpi_beyond=12.0)
    (kept_text,) = messages([kept])
    (far_text,) = messages([far])
    assert "recovers 92% of the loss" in kept_text
    assert "3025" not in far_text and "%" not in far_text.split("moved")[-1]
    assert "not stated" in far_text and "12 reference sd beyond anything it took" in far_text
    (inf_text,) = messages([HiddenCause(["a", "b"], "fci", 0.8, float("nan"), True, ["x"], kpi_beyond=float("inf"))])
    assert "far beyond anything it took" in inf_text

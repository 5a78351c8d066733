"""What the Causal graph step draws from a fitted model."""
import pytest

from rca_app.app.graph_edit import apply_edit, graph_from_result
from rca_app.app.graph_view import graph_view, mechanism_view
from rca_app.core.results import as_result


def test_graph_view_of_a_fitted_model(outcome, data):
    r = as_result(outcome.result)
    graph = graph_from_result(r.graph)
    assert graph.edge_keys == outcome.scm.graph.edge_keys
    view = graph_view(graph, data.layout, r, data.frame.iloc[:2000])
    strengths = [e["strength"] for e in view["edges"] if e["strength"] is not None]
    assert max(strengths) == pytest.approx(1.0) and min(strengths) >= 0
    assert set(view["positions"]) == set(graph.nodes)
    assert all(e["fitted"] for e in view["edges"])
    # An edge the engineer adds has no fitted effect until the refit.
    g2 = apply_edit(graph, "add", "ambient_temp_C", "part_weight_g", data.layout.constraints())
    added = next(e for e in graph_view(g2, data.layout, r)["edges"]
                 if (e["source"], e["target"]) == ("ambient_temp_C", "part_weight_g"))
    assert not added["fitted"] and added["strength"] is None


def test_mechanism_view_of_a_fitted_model(outcome):
    # The mechanism curve: along the parent's range, other parents at their means.
    m = mechanism_view(outcome, "dried_moisture_pct")
    assert m["parent"] in m["parents"] and m["kind"] and 0 < m["oof_r2"] <= 1
    assert len(m["curve_x"]) == len(m["curve_y"]) and m["curve_x"].min() >= m["scatter_x"].min()
    cat = mechanism_view(outcome, "injection_pressure_bar", "resin_supplier")
    assert cat["x_levels"] == ["NordPoly", "Resinex"] and len(cat["curve_y"]) == 2
    root = mechanism_view(outcome, "ambient_rh_pct")
    assert root["parent"] is None and root["kind"] == "empirical"


@pytest.mark.parametrize("edge, words", [
    ({"source": "dryer_temp_C", "target": "yield_pct", "effect": -0.25, "confidence": 0.85, "origin": "discovered"},
     ["+1 °C of dryer_temp_C changes yield_pct by -0.25 %", "Found in 85% of resamples", "found in the data"]),
    ({"source": "resin_supplier", "target": "yield_pct", "effect": 1.234, "categorical_source": True,
      "confidence": None, "origin": "user"},
     ["Switching resin_supplier between its levels moves yield_pct by up to 1.23 %", "added or kept by you"]),
    ({"source": "a", "target": "b", "effect": None, "confidence": None, "origin": "required"},
     ["Not fitted yet", "required by the layout"]),
])
def test_edge_explanation_in_plant_words(edge, words):
    from rca_app.app.graph_view import edge_explanation

    text = edge_explanation(edge, {"dryer_temp_C": "°C", "yield_pct": "%"})
    assert text.splitlines()[0] == f"{edge['source']} → {edge['target']}"
    for w in words:
        assert w in text
    assert ("resamples" in text) == (edge["confidence"] is not None)

"""The graph editor's actions are validated by the core against the layout's tiers."""
import pytest

from rca_app.app.graph_edit import apply_edit, graph_from_result
from rca_app.core.errors import RcaInputError
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.layout import load_layout


def test_graph_edits_are_validated_by_the_core(plant):
    lay = load_layout(plant / "layout.toml")
    c = lay.constraints()
    g = CausalGraph(tuple(lay.nodes), (Edge("dryer_dewpoint_C", "dried_moisture_pct"),))
    with pytest.raises(RcaInputError, match="material flows forward"):
        apply_edit(g, "add", "melt_temp_C", "dried_moisture_pct", c)
    with pytest.raises(RcaInputError, match="exogenous"):
        apply_edit(g, "add", "melt_temp_C", "barrel_temp_C", c)
    g2 = apply_edit(g, "force", "dried_moisture_pct", "melt_temp_C", c)
    assert g2.edge("dried_moisture_pct", "melt_temp_C").origin == "user"
    # Forcing an edge discovery already found keeps it, marked as the engineer's.
    g3 = apply_edit(g, "force", "dryer_dewpoint_C", "dried_moisture_pct", c)
    assert g3.edge("dryer_dewpoint_C", "dried_moisture_pct").origin == "user" and len(g3.edges) == 1
    with pytest.raises(ValueError, match="unknown edit"):
        apply_edit(g, "flip", "dryer_dewpoint_C", "dried_moisture_pct", c)


def test_graph_from_result_ignores_the_view_fields():
    result_graph = {"nodes": [{"name": "a", "station": "S1"}, "b"],
                    "edges": [{"source": "a", "target": "b", "effect": 0.5, "confidence": 0.9, "std": 1.0}]}
    g = graph_from_result(result_graph)
    assert g.nodes == ("a", "b") and g.edge("a", "b").effect == 0.5

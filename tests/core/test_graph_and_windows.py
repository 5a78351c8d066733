"""Graph edits validated against the plant's tiers; the auto incident-window rule."""
import numpy as np
import pytest

from rca_app.core.errors import RcaInputError
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.layout import parse_layout
from rca_app.core.windows import suggest_anomaly_window

LAYOUT = """
[plant]
name = "Line"
target = "yield_pct"

[[station]]
name = "Incoming"
sensors = ["moisture", "supplier"]
exogenous = true
categorical = ["supplier"]

[[station]]
name = "Dryer"
sensors = ["dryer_temp", "dewpoint"]
controllable = ["dryer_temp"]

[[station]]
name = "Quality"
sensors = ["part_weight", "yield_pct"]
"""


@pytest.fixture
def constraints():
    return parse_layout(LAYOUT).constraints()


@pytest.fixture
def graph():
    nodes = ("moisture", "supplier", "dryer_temp", "dewpoint", "part_weight", "yield_pct")
    return CausalGraph(nodes, (Edge("moisture", "dewpoint"), Edge("dryer_temp", "dewpoint"),
                               Edge("dewpoint", "yield_pct")))


def test_structure_queries(graph):
    assert graph.parents("dewpoint") == ["moisture", "dryer_temp"]
    assert graph.ancestors("yield_pct") == {"moisture", "dryer_temp", "dewpoint"}
    assert graph.paths("moisture", "yield_pct") == [["moisture", "dewpoint", "yield_pct"]]
    order = graph.topological_order()
    assert order.index("moisture") < order.index("dewpoint") < order.index("yield_pct")


def test_edits_return_new_graphs_and_respect_tiers(graph, constraints):
    g2 = graph.add_edge("supplier", "yield_pct", constraints)
    assert ("supplier", "yield_pct") in g2.edge_keys and ("supplier", "yield_pct") not in graph.edge_keys
    g3 = g2.reverse_edge("dryer_temp", "dewpoint", constraints)
    assert ("dewpoint", "dryer_temp") in g3.edge_keys
    with pytest.raises(RcaInputError, match="exogenous"):
        graph.add_edge("dewpoint", "moisture", constraints)       # into an exogenous sensor
    with pytest.raises(RcaInputError, match="Quality"):
        graph.add_edge("part_weight", "dewpoint", constraints)    # later station -> earlier
    with pytest.raises(RcaInputError):
        graph.add_edge("yield_pct", "dewpoint", constraints)      # out of the target
    with pytest.raises(RcaInputError, match="cycle"):
        graph.add_edge("dewpoint", "dryer_temp").add_edge("yield_pct", "dewpoint")
    with pytest.raises(RcaInputError, match="no edge"):
        graph.remove_edge("moisture", "yield_pct")


def test_json_round_trip(graph):
    g = graph.with_edges([Edge("moisture", "dewpoint", effect=1.5, confidence=0.9)])
    assert CausalGraph.from_dict(g.to_dict()) == g


def test_auto_window_finds_the_drop():
    rng = np.random.default_rng(0)
    y = 95 + rng.laplace(scale=0.5, size=1000)
    y[800:900] -= 2.0
    w = suggest_anomaly_window(y, "maximize")
    assert w is not None
    assert 780 <= w.start <= 805 and 895 <= w.end <= 915


def test_auto_window_minimize_and_quiet_series():
    rng = np.random.default_rng(1)
    y = 2 + rng.uniform(-0.2, 0.2, 600)
    assert suggest_anomaly_window(y, "minimize") is None
    y[500:] += 0.3
    w = suggest_anomaly_window(y, "minimize")
    assert w is not None and w.end == 600 and 490 <= w.start <= 505

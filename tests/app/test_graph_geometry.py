"""Positions of the causal graph's nodes: stations left to right, children near their parents."""
from rca_app.app.graph_geometry import station_layout


def test_stations_left_to_right_and_children_near_their_parents():
    graph = {"nodes": [{"name": "low", "tier": 0}, {"name": "high", "tier": 0},
                       {"name": "x", "tier": 1}, {"name": "y", "tier": 1}],
             "edges": [{"source": "high", "target": "x"}, {"source": "low", "target": "y"}]}
    pos = station_layout(graph)
    assert pos["low"][0] == pos["high"][0] == 0.0 and pos["x"][0] == pos["y"][0] == 1.0
    assert pos["low"][1] < pos["high"][1]
    assert pos["y"][1] < pos["x"][1]   # reordered: y follows low, x follows high
    assert all(0 < p[1] < 1 for p in pos.values())

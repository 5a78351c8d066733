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


def test_the_typed_result_graph_gets_the_same_positions_as_its_json_data():
    from rca_app.core.results import GraphEdgeRecord, GraphNodeRecord, GraphRecord

    def node(name, tier):
        return GraphNodeRecord(name, f"S{tier}", tier, None, False, False, False)

    def edge(source, target):
        return GraphEdgeRecord(source, target, 1.0, 0.9, "discovered", None, "S0", "S1")

    typed = GraphRecord([node("low", 0), node("high", 0), node("x", 1), node("y", 1)],
                        [edge("high", "x"), edge("low", "y")], ["S0", "S1"])
    as_dicts = {"nodes": [{"name": n.name, "tier": n.tier} for n in typed.nodes],
                "edges": [{"source": e.source, "target": e.target} for e in typed.edges]}
    assert station_layout(typed) == station_layout(as_dicts)
    assert station_layout(typed)["y"][1] < station_layout(typed)["x"][1]

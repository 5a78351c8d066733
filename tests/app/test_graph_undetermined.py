"""An edge whose direction the data cannot tell is drawn dashed with the plant words, and the
engineer's reverse or keep decides it."""
from dataclasses import replace

from rca_app.app.graph_edit import apply_edit, graph_from_result
from rca_app.app.graph_view import discovery_note, edge_explanation, graph_view
from rca_app.core.errors import RcaInputError
from rca_app.core.results import as_result


def test_undetermined_edge_dashed_explained_and_decided_by_an_edit(outcome, data):
    r = as_result(outcome.result)
    graph = graph_from_result(r.graph)
    e0 = graph.edges[0]
    graph = graph.with_edges(replace(e, undetermined=True) if e.key == e0.key else e for e in graph.edges)
    view = graph_view(graph, data.layout, r, data.frame.iloc[:2000])
    drawn = {(e["source"], e["target"]): e for e in view["edges"]}
    edge = drawn[e0.key]
    assert edge["undetermined"] and edge["line"] == "dashed"
    assert all(e["line"] == "solid" for k, e in drawn.items() if k != e0.key)
    a, b = e0.key
    assert (f"the data cannot tell whether {a} drives {b} or {b} drives {a}; tell us if you know"
            in edge_explanation(edge, {}).lower())
    assert "1 dashed arrow" in discovery_note(r, view) and "Found by" in discovery_note(r, view)
    cons = data.layout.constraints()
    for op in ("force", "reverse"):
        try:
            g2 = apply_edit(graph, op, a, b, cons)
        except RcaInputError:  # a reverse the layout forbids is refused: nothing to check
            continue
        assert not any(e["undetermined"] for e in graph_view(g2, data.layout, r)["edges"])

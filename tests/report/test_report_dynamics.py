"""The reproducibility appendix on the dynamic sample plants: lags used, alignment, loops,
lagged edges, historian tags and joins (issue #14)."""
from __future__ import annotations

from types import SimpleNamespace

import pypdf
import pytest

from rca_app.app.sample_plants import load_sample_plant
from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.report import build_report
from rca_app.report.sections.dynamics import dynamics_appendix


def _text(path) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(str(path)).pages)


@pytest.fixture(scope="module")
def reactor_pdf(tmp_path_factory):
    plant, data = load_sample_plant("continuous_reactor")
    result = run_analysis(data, tuple(plant.anomaly), None,
                          AnalysisSettings(graph_bootstrap=0, rank_bootstrap=3, n_jobs=1)).result
    return _text(build_report(result, data, tmp_path_factory.mktemp("dyn") / "reactor.pdf")), result


def test_appendix_states_lags_alignment_loops_edges_and_tags(reactor_pdf):
    text, result = reactor_pdf
    dyn = result.dynamics
    assert "Process dynamics" in text and "Time-series data on a 1min grid" in text
    lag = dyn.lags[0]
    assert f"{lag.station} {lag.to_station} {lag.lag} estimated {lag.lag}, confidence {lag.confidence:.0%}" in text
    assert "feed_impurity_pct 20 min 20" in text
    loop = dyn.loops[0]
    shifts = f"MV {loop.mv_shift_sd:+.1f}, CV {loop.cv_shift_sd:+.1f}"
    assert f"reactor_temp_C coolant_valve_pct {shifts} compensated" in text
    assert "recycle_flow_m3h → conversion_pct 14min declared recycle" in text
    assert "Slow own dynamics (self-lags): feed_impurity_pct (1min" in text
    # The historian table: the lab tag's rule, interval and delay; bad samples per tag.
    assert "product_purity_pct last 41 0 0 30 min 20 min" in text
    assert "separator_temp_C mean 2,440 34 (1.5% not good)" in text
    # The layout text follows the dynamics part.
    assert text.index("Process dynamics") < text.index("[[recycle]]")


def test_joins_are_listed_and_row_data_add_nothing():
    b = SimpleNamespace(r=SimpleNamespace(dynamics=None, layout=SimpleNamespace(text="")), data=None)
    assert dynamics_appendix(b) == []
    heads = []
    b = SimpleNamespace(r=SimpleNamespace(dynamics=None, layout=SimpleNamespace(
        text='[plant]\nname = "x"\n[[join]]\nfile = "lots.csv"\non = "lot_id"\n')), data=None,
        H2=lambda t: heads.append(t) or t, P=lambda t, style="body": t,
        table=lambda rows, widths, **kw: SimpleNamespace(rows=rows))
    out = dynamics_appendix(b)
    assert heads == ["Process dynamics"]
    assert [t.rows for t in out if hasattr(t, "rows")] == [[["Joined table", "Key column", "Sheet"],
                                                          ["lots.csv", "lot_id", "–"]]]


def test_graph_figure_draws_recycles_self_lags_and_loops(reactor_pdf):
    """The PDF's graph shows the recycle and the control loop the appendix lists, and its caption
    names them."""
    from matplotlib.patches import FancyArrowPatch

    from rca_app.report import figures

    text, result = reactor_pdf
    fig = figures.causal_graph(result, 6.5)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    recycle = next(le for le in result.dynamics.lagged_edges if le.kind == "recycle")
    assert f"recycle {recycle.lag}" in labels
    colours = [p.get_edgecolor() for p in ax.patches if isinstance(p, FancyArrowPatch)]
    from matplotlib.colors import to_rgba
    assert to_rgba(figures.RECYCLE_COLOR) in [tuple(c) for c in colours]
    assert to_rgba(figures.GREEN) in [tuple(c) for c in colours]
    assert "Purple arcs: recycle streams" in text and "Green dotted double arrows: control loops" in text


def _recycle_arcs(ax):
    from matplotlib.colors import to_rgba
    from matplotlib.patches import FancyArrowPatch

    from rca_app.report import figures

    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)
            and tuple(p.get_edgecolor())[:3] == to_rgba(figures.RECYCLE_COLOR)[:3]]


def test_lagged_edges_the_model_leaves_out_are_dashed_and_labelled_once_per_stream(reactor_pdf):
    import copy

    from rca_app.core.results import LaggedEdge
    from rca_app.report import figures

    _, result = reactor_pdf
    r = copy.deepcopy(result)
    # Three sensor pairs of one stream (Separator -> Reactor, 14min), none in the model.
    r.dynamics.lagged_edges = [LaggedEdge(s, t, "14min", 14, 0.3, 1e-5, "proposed_recycle", in_model=False)
                               for s, t in (("recycle_flow_m3h", "conversion_pct"),
                                            ("separator_temp_C", "conversion_pct"),
                                            ("recycle_flow_m3h", "reactor_temp_C"))]
    ax = figures.causal_graph(r, 6.5).axes[0]
    arcs = _recycle_arcs(ax)
    assert len(arcs) == 3 and all(a.get_linestyle() != "-" for a in arcs)
    assert [t.get_text() for t in ax.texts].count("recycle 14min (proposed)") == 1


def test_many_lagged_edges_are_drawn_thin_without_labels_and_pointed_to_the_appendix(reactor_pdf):
    import copy

    from rca_app.core.results import LaggedEdge
    from rca_app.report import figures

    _, result = reactor_pdf
    r = copy.deepcopy(result)
    later = ["recycle_flow_m3h", "separator_temp_C"]
    earlier = ["conversion_pct", "reactor_temp_C", "coolant_valve_pct", "preheat_temp_C", "feed_temp_C"]
    r.dynamics.lagged_edges = [LaggedEdge(s, t, f"{k}min", k, 0.3, 1e-5, "recycle", in_model=k % 2 == 0)
                               for k, (s, t) in enumerate(((s, t) for s in later for t in earlier), 3)]
    ax = figures.causal_graph(r, 6.5).axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert not any(x.startswith("recycle ") for x in labels)
    assert any("10 lagged edges" in x and "appendix" in x for x in labels)
    assert all(a.get_linewidth() < 1.0 for a in _recycle_arcs(ax))


def test_appendix_gives_samples_pivoted_drift_onsets_and_valve_positions(reactor_pdf):
    text, result = reactor_pdf
    assert "1,219 rows of the 1min analysis grid, pivoted from 24,441 historian samples of 11 tags" in text
    assert "Drift onsets" in text
    first = next(n for n, row in result.dynamics.drift_onsets.items() if row is not None)
    assert f"{first}: its own drift began at incident row" in text
    assert "coolant_valve_pct (holds reactor_temp_C): averaged" in text
    assert "of the way to its declared limit 100" in text


def test_summary_page_leaves_the_incident_rule_to_the_appendix(reactor_pdf):
    import copy

    from rca_app.report.text import summary_paragraphs

    r = copy.deepcopy(reactor_pdf[1])
    r.anomaly.auto, r.anomaly.rule = True, "EWMA z_t = 0.2 x_t + 0.8 z_(t-1) outside 3 sigma"
    paragraphs = summary_paragraphs(r)
    assert not any("EWMA" in p for p in paragraphs)
    assert any("suggested automatically" in p and "appendix" in p for p in paragraphs)


def test_graph_edges_csv_carries_the_lags(reactor_pdf, tmp_path):
    # Audit of #14: graph_edges.csv had no lags and no lagged edges.
    import csv

    from rca_app.report import EXPORT_FILES, export_tables

    _, result = reactor_pdf
    export_tables(result, tmp_path)
    with open(tmp_path / EXPORT_FILES["edges"], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    shifts, step = result.dynamics.shifts, result.dynamics.step
    # The feed's impurity acts on the reactor's temperature 7 min later (Feed -> Preheater 7 min, Preheater ->
    # Reactor 0: the truth), and the CSV says so on the edge.
    edge = next(r for r in rows if (r["source"], r["target"]) == ("feed_impurity_pct", "reactor_temp_C"))
    assert step == "1min" and shifts["feed_impurity_pct"] - shifts["reactor_temp_C"] == 7 and edge["lag"] == "7min"
    recycle = [r for r in rows if r["origin"] == "recycle"]
    assert recycle and recycle[0]["source"] == "recycle_flow_m3h" and recycle[0]["lag"] == "14min"
    assert recycle[0]["in_model"] == "True"

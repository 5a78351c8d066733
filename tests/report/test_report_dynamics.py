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
    assert f"reactor_temp_C coolant_valve_pct MV {loop.mv_shift_sd:+.1f}, CV {loop.cv_shift_sd:+.1f} yes" in text
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

"""One batch by double-click on the KPI trend ("investigate this batch"), and the KPI's type in
the incident step."""
from PySide6.QtCore import QPointF

from rca_app.app.windows_view import axis_values, window_rows


class _Click:
    """What pyqtgraph's scene hands a click handler: a position and whether it was a double-click."""

    def __init__(self, pos, double=True):
        self._pos, self._double = pos, double

    def double(self):
        return self._double

    def scenePos(self):
        return self._pos


def test_double_click_investigates_that_batch(qtbot, window, load_sample):
    w = load_sample(window)
    step, s = w.incident_step, w.session
    x = axis_values(s.data)[2100]
    y = float(s.data.frame[s.data.layout.target].iloc[2100])
    step.resize(1200, 700)
    step.show()
    # The plot must have its final geometry before a view point is mapped to the scene (after
    # other tests the pending resize otherwise lands between the mapping and the click).
    qtbot.waitUntil(lambda: step.kpi_plot.vb.width() > 100, timeout=5000)
    qtbot.wait(50)
    pos = step.kpi_plot.vb.mapViewToScene(QPointF(x, y))
    step._kpi_clicked(_Click(pos, double=False))      # a single click changes nothing
    assert window_rows(s.data, s.anomaly).stop - window_rows(s.data, s.anomaly).start == 300
    step._kpi_clicked(_Click(pos))
    rows = window_rows(s.data, s.anomaly)
    assert rows.stop - rows.start == 1 and abs(rows.start - 2100) <= 1
    assert "one unit" in step.banner.text()
    assert "KPI type: continuous" in step.windows_text.text()


def test_causes_step_shows_an_anomaly_ranking_as_scores(qtbot, tmp_path):
    from rca_app.core.analysis import AnalysisSettings, run_analysis
    from rca_app.core.data import load_table, prepare
    from rca_app.core.layout import load_layout
    from rca_app.gui.session import Session
    from rca_app.gui.steps.causes_step import CausesStep
    from rca_sim.incident_shapes import simulate_shape

    plant = simulate_shape("event", seed=502, n_sensors=6, n_reference=600, n_incident=8)
    csv, lay = plant.save(tmp_path)
    data = prepare(load_table(csv), load_layout(lay))
    outcome = run_analysis(data, plant.incident_window, None, AnalysisSettings(graph_bootstrap=2, rank_bootstrap=2,
                                                                               n_jobs=1))
    session = Session()
    step = CausesStep(session)
    qtbot.addWidget(step)
    session.set_outcome(outcome)
    text = step.headline.text()
    assert "Anomaly ranking" in text and f"<b>{plant.root_cause}</b>" in text and "Not a share" in text
    assert "anomaly score" in step.pareto.getAxis("bottom").labelText

"""The GUI side of process dynamics (issue #14) on the continuous reactor: time keys edited in
the Layout step with undo, historian tags in the Data step, residence-time overlay in the
Incident step, lagged edges and loops on the graph."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from rca_app.core.layout.time_keys import Recycle


@pytest.fixture
def reactor(window, load_sample, run_analysis):
    load_sample(window, "continuous_reactor")
    assert run_analysis(window) == "succeeded"
    return window


def test_layout_step_edits_lags_recycles_loops_and_tags_with_undo(reactor):
    w = reactor
    step = w.layout_step
    w.go_to("layout")
    panel = step.time_panel
    # The station columns show the lags the analysis used; the loop shows what it did.
    assert step.columns[0].lag_used.text == "estimated 7min, confidence 100%"
    # The estimate is on its "use 7min" button; the narrowed field keeps the confidence.
    assert step.columns[0].accept_lag.text() == "use 7min"
    assert step.columns[0].lag.placeholderText() == "auto (100%)"
    assert step.columns[-1].lag_used is None          # the KPI's station has no next one
    assert panel.loops.item(0).text().split("\n") == [
        "coolant_valve_pct holds reactor_temp_C at 180", "  limits 0…100", "  compensated, 23% to its limit",
        "  disturbance from feed_impurity_pct"]
    # The historian export's tags are the columns to place, not its tag/time/value columns.
    assert step.unassigned_list.count() == 0
    assert panel.recycles.item(0).text() == "Separator → Reactor (≥ 14min)"

    col = step.columns[1]
    col.lag.setText("4min")
    col.lag.editingFinished.emit()
    assert step.layout_obj.stations[1].lag == "4min"
    col = step.columns[1]
    col.lag.setText("soon")
    col.lag.editingFinished.emit()
    assert step.layout_obj.stations[1].lag == "4min" and "duration" in step.banner.text()

    step.select_sensor("conversion_pct")
    step.sensor_lag.setText("auto")
    step.sensor_lag.editingFinished.emit()
    assert step.layout_obj.stations[2].sensor_lags == {"conversion_pct": "auto"}

    panel.sample.setText("2min")
    panel.sample.editingFinished.emit()
    panel.kpi_type.setCurrentIndex(panel.kpi_type.findData("continuous"))
    panel.kpi_type.activated.emit(panel.kpi_type.currentIndex())
    assert step.layout_obj.sample == "2min" and step.layout_obj.kpi_type == "continuous"

    panel.add_recycle()                       # nothing chosen yet: said, not added
    assert "Choose the station" in step.banner.text() and len(step.layout_obj.recycles) == 1
    panel.rec_from.setCurrentText("Product")
    panel.rec_to.setCurrentText("Preheater")
    panel.rec_lag.setText("30min")
    panel.add_recycle()
    assert Recycle("Product", "Preheater", "30min") in step.layout_obj.recycles
    assert panel.recycles.count() == 2

    panel.loop_cv.setCurrentText("separator_temp_C")
    panel.loop_mv.setCurrentText("recycle_flow_m3h")
    panel.loop_sp.setText("120")
    panel.loop_low.setText("0")
    panel.add_loop()
    lp = step.layout_obj.loops[-1]
    assert (lp.controlled, lp.setpoint, lp.low) == ("separator_temp_C", 120.0, 0.0)

    panel.tag.setCurrentText("conversion_pct")
    panel.rule.setCurrentIndex(panel.rule.findData("max"))
    panel.delay.setText("5min")
    panel.set_tag()
    assert step.layout_obj.tag_rules["conversion_pct"] == "max"
    assert step.layout_obj.tag_delays["conversion_pct"] == "5min"

    panel.loops.setCurrentRow(1)
    panel._remove("loop", panel.loops)
    assert len(step.layout_obj.loops) == 1

    edits = step.undo_stack.count()
    assert edits == 8
    for _ in range(edits):
        step.undo_stack.undo()
    assert step.layout_obj == w.session.layout
    assert step.time_panel.sample.text() == "1min" and step.columns[1].lag.text() == ""


def test_a_proposed_recycle_is_added_in_one_click(reactor):
    from dataclasses import replace

    from rca_app.core.results import LaggedEdge

    w = reactor
    step = w.layout_step
    dyn = w.session.result.dynamics
    dyn.lagged_edges.append(LaggedEdge("product_purity_pct", "preheat_temp_C", "22min", 22, 0.3, 1e-6,
                                       "proposed_recycle"))
    w.session.resultChanged.emit()
    panel = step.time_panel
    assert not panel.proposal_button.isHidden() and step.tabs.tabText(1).endswith("(1 proposed)")
    assert 'from = "Product", to = "Preheater", lag = "22min"' in panel.proposal_text.text()
    panel.proposal_button.click()
    assert Recycle("Product", "Preheater", "22min") in step.layout_obj.recycles
    assert panel.proposal_button.isHidden()
    step.undo_stack.undo()
    assert step.layout_obj.recycles == w.session.layout.recycles
    assert replace(step.layout_obj) == w.session.layout


def test_the_window_with_the_time_panel_fits_1366_px(window):
    assert window.minimumSizeHint().width() <= 1366


def test_data_step_lists_historian_tags(reactor):
    reactor.go_to("data")
    step = reactor.data_step
    assert step.tags.isVisibleTo(step) and step.tags.rowCount() == 11
    rows = {step.tags.item(i, 0).text(): [step.tags.item(i, j).text() for j in range(7)]
            for i in range(step.tags.rowCount())}
    assert rows["product_purity_pct"][1] == "last" and rows["product_purity_pct"][6] == "20 min"
    assert rows["separator_temp_C"][3].startswith("34 (")
    assert "bad-quality samples left out" in step.tags_title.text()
    # Trial defect 18: the columns summary is per tag on the grid, not the export's four columns;
    # the quality column's "Bad" is not listed as a problem; the banner counts the samples.
    m = step.summary_model
    names = {m.data(m.index(i, 0)) for i in range(m.rowCount())}
    assert "yield_pct" in names and "Value" not in names and "Quality" not in names
    assert not [p for p in step.problems_model.problems if p.column == "Quality"]
    assert "pivoted from 24,441 historian samples" in step.banner.text()


def test_incident_overlay_shifts_sensors_by_their_residence_time(reactor):
    step = reactor.incident_step
    dyn = reactor.session.result.dynamics
    assert not step.shift_box.isHidden()
    step.add_overlay("feed_impurity_pct")
    plot = step._overlays["feed_impurity_pct"]
    x0 = plot.listDataItems()[0].getData()[0].copy()
    step.shift_box.setChecked(True)
    plot = step._overlays["feed_impurity_pct"]
    x1 = plot.listDataItems()[0].getData()[0]
    # 20 steps on the 1-minute grid: drawn 20 minutes later.
    assert dyn.shifts["feed_impurity_pct"] == 20
    assert x1[0] - x0[0] == pytest.approx(20 * 60)
    assert "(+20 min)" in plot.getAxis("left").labelText
    step.shift_box.setChecked(False)
    assert step._overlays["feed_impurity_pct"].listDataItems()[0].getData()[0][0] == x0[0]


def test_graph_draws_recycles_self_lags_and_loops(reactor):
    w = reactor
    w.go_to("graph")
    canvas = w.graph_step.canvas
    view = canvas.view
    recycle = [e for e in view["lagged_edges"] if e["kind"] == "recycle"]
    assert [(e["source"], e["target"], e["lag"]) for e in recycle] == [("recycle_flow_m3h", "conversion_pct", "14min")]
    assert view["loops"][0]["controlled"] == "reactor_temp_C" and "compensated" in view["loops"][0]["text"]
    tips = [it.toolTip() for it in canvas.dynamics_items]
    assert sum("declared recycle" in t for t in tips) == 1
    assert sum("slow own dynamics" in t for t in tips) == sum(e["self"] for e in view["lagged_edges"]) > 0
    assert sum(t.startswith("Control loop") for t in tips) == 1
    # The recycle runs against the flow: it leaves its source and ends at the earlier target.
    item = next(it for it in canvas.dynamics_items if "declared recycle" in it.toolTip())
    path = item.path()
    src, dst = canvas.nodes["recycle_flow_m3h"].pos(), canvas.nodes["conversion_pct"].pos()
    assert path.pointAtPercent(0).x() == pytest.approx(src.x()) and path.pointAtPercent(1).x() == pytest.approx(dst.x())
    assert any(c.text() == "recycle, lag 14min" for c in item.childItems() if hasattr(c, "text"))
    # The model's lagged columns (X[t-L]) are arcs, never sensors of their own on the canvas,
    # and the recycle the model holds is drawn solid.
    assert not [n for n in canvas.nodes if "[t-" in n]
    assert not [n for n in w.session.graph.nodes if "[t-" in n]
    assert item.pen().style() == Qt.PenStyle.SolidLine
    # Self-lags of one grid step are explained once in the legend, not labelled on every node.
    selfs = [it for it in canvas.dynamics_items if "slow own dynamics" in it.toolTip()]
    assert selfs and not any(hasattr(c, "text") for it in selfs for c in it.childItems())


def test_step_details_on_historian_data_without_setpoints(reactor):
    """Trial defect 18: the historian export's time column, the last station's lag field, the
    incident chart's key outside the plot, and What-if without a check mark when nothing is
    controllable."""
    w = reactor
    w.go_to("layout")
    step = w.layout_step
    assert "historian time stamps" in step.time_column.currentText() and not step.time_column.isEnabled()
    last = step.columns[-1]
    assert not last.lag.isEnabled() and "no lag" in last.lag.placeholderText()
    assert step.columns[0].lag.isEnabled()
    assert w.incident_step.kpi_plot.legend is None and "control limits" in w.incident_step.chart_key.text()
    whatif = w.step_list.item(5)
    assert "✓" not in whatif.text() and "No controllable setpoints" in whatif.toolTip()
    w.go_to("whatif")
    assert "No controllable setpoints declared" in w.whatif_step.banner.text()


def test_long_similar_names_keep_the_part_that_tells_them_apart(qtbot):
    from PySide6.QtGui import QFont, QFontMetricsF

    from rca_app.gui.steps.graph_canvas import fit_name

    m = QFontMetricsF(QFont())
    names = [f"reactor_feed_{c}_concentration" for c in "ABCDEF"]
    width = m.horizontalAdvance("reactor_feed_A_conc") * 0.95
    shown = [fit_name(n, m, width) for n in names]
    assert len(set(shown)) == len(names)
    assert all(m.horizontalAdvance(s) <= width for s in shown)
    assert all(f"_{c}_" in s for c, s in zip("ABCDEF", shown, strict=True))
    assert fit_name("yield_pct", m, width) == "yield_pct"


def test_root_cause_table_keeps_room_for_restoration_with_long_names(window):
    """Trial defect 18: TE's long sensor and station names squeezed the restoration column."""
    from rca_app.core.records import Evidence, RootCause

    step = window.causes_step
    ev = Evidence(None, None, None, None, None, None, None)
    causes = [RootCause(f"stripper_underflow_{c}_concentration_measured_online", "Compressor, recycle and purge",
                        0.1 * i, (0.0, 0.2 * i), 0.1, False, False, ev) for i, c in enumerate("ABCDEFGH")]
    step.model.set_causes(causes, "yield")
    step._fit_columns()
    h = step.table.horizontalHeader()
    assert h.sectionSize(1) <= step.NAME_WIDTH and h.sectionSize(2) <= step.STATION_WIDTH
    idx = step.model.index(0, 1)
    assert step.model.data(idx, Qt.ItemDataRole.ToolTipRole) == causes[0].node

"""The whole investigation through the window, as an engineer would do it, on a sample plant."""
import json

import pytest
from PySide6.QtCore import Qt

from rca_app.app.investigation_file import SCHEMA_VERSION
from rca_app.gui.steps.report_step import report_available


def test_whole_workflow(qtbot, window, load_sample, run_analysis, truth, dialogs_log, tmp_path):
    w = window
    s = w.session
    load_sample(w)
    # The sample opens on its incident: windows from truth.json, shown on the KPI chart.
    assert w.current_step() == "incident"
    assert s.anomaly == [truth["anomaly"]["start"], truth["anomaly"]["end"]]
    assert w.incident_step.an_region.isVisible() and w.incident_step.ref_region.isVisible()
    assert "300 rows" in w.incident_step.windows_text.text()

    # Dragging the incident band changes the window (snapped to rows), dragging back restores it.
    x0, x1 = w.incident_step.region_values()["anomaly"]
    w.incident_step.set_regions(anomaly=(x0 + 3600, x1))
    assert s.anomaly[0] != truth["anomaly"]["start"]
    w.incident_step.set_regions(anomaly=(x0, x1))
    assert s.anomaly == [truth["anomaly"]["start"], truth["anomaly"]["end"]]

    # A sensor overlaid on the shared time axis.
    w.incident_step.add_overlay("dryer_dewpoint_C")
    assert w.incident_step.overlay_names() == ["dryer_dewpoint_C"]

    # F5: discovery and ranking in the background; the true cause comes out on top.
    assert run_analysis(w) == "succeeded"
    assert w.current_step() == "causes"
    top = w.causes_step.model.causes[0].node
    assert top in truth["root_causes"]
    assert w.causes_step.selected_node() == top
    assert top in w.causes_step.headline.text()
    assert not s.stale and s.dirty   # a new result marks the investigation unsaved

    # Selecting the cause highlights its path(s) to the KPI in the graph.
    paths = w.graph_step.canvas.paths
    assert paths and all(p[0] == top and p[-1] == s.target for p in paths)

    # Clicking a sensor shows its mechanism (kind, R², scatter with the fitted curve).
    w.go_to("graph")
    w.graph_step.canvas.nodes["dried_moisture_pct"].setSelected(True)
    assert w.graph_step.mechanism.node == "dried_moisture_pct"
    assert "Explained by its causes" in w.graph_step.mechanism.text.text()
    assert w.graph_step.mechanism.plot.getPlotItem().listDataItems()

    # An impossible edit is refused with the core's reason; nothing changes.
    edges_before = set(s.graph.edge_keys)
    assert not w.graph_step.apply_edit("add", "yield_pct", "dryer_temp_C")
    assert "target" in w.graph_step.banner.text() and s.graph.edge_keys == edges_before

    # Remove an arrow (via the canvas selection), undo, redo, then refit without re-discovery.
    victim = next(k for k in sorted(edges_before) if top not in k)
    w.graph_step.canvas.select_edge(victim)
    qtbot.mouseClick(w.graph_step.remove_button, Qt.MouseButton.LeftButton)
    assert victim not in s.graph.edge_keys and s.stale
    assert "Refit" in w.graph_step.banner.text()
    w.act_undo.trigger()
    assert victim in s.graph.edge_keys
    w.act_redo.trigger()
    assert victim not in s.graph.edge_keys and s.edits[-1]["op"] == "remove"
    assert run_analysis(w) == "succeeded"
    assert s.result.diagnostics.graph_source == "given"
    assert victim not in {(e.source, e.target) for e in s.result.graph.edges}
    assert not s.stale

    # What-if: the engine's action is pre-filled; moving the slider changes the prediction.
    w.go_to("whatif")
    step = w.whatif_step
    node = step.node.currentText()
    action = next(a for a in s.result.actions if a.node == node)
    assert step.current_value() == pytest.approx(action.recommended_value)
    first = step.last["predicted_mean"]
    step.slider.setValue(0)      # the low end (below the reference range)
    qtbot.waitUntil(lambda: step.last["value"] != action.recommended_value, timeout=3000)
    assert step.last["predicted_mean"] != pytest.approx(first)
    assert step.warning.isVisible() and "beyond the range the plant showed" in step.warning.text()
    assert step.hist.getPlotItem().listDataItems()
    # A setpoint the ranking left out says why, from the result's record (not "no path").
    from rca_app.core.results import NotProposedAction

    kept = (list(s.result.actions), list(s.result.not_proposed))
    s.result.actions = [a for a in s.result.actions if a.node != node]
    s.result.not_proposed = [NotProposedAction(node, "kpi_beyond", f"{node} at 1 (predicted {s.target} 9)", 5.0)]
    step._node_changed()
    assert step.recommended.text().startswith(f"{node} is not proposed: every setting tried")
    assert "no path" not in step.recommended.text()
    s.result.actions, s.result.not_proposed = kept
    step._node_changed()

    # Notes for the report, then save.
    w.go_to("report")
    w.report_step.fields["team"].setPlainText("Line 7 process team")
    w.report_step.fields["containment"].setPlainText("Parts since 14 March held")
    assert s.notes["team"] == "Line 7 process team"
    saved = tmp_path / "case.rcainv"
    dialogs_log.answers.append(str(saved))
    assert w.save()
    assert saved.exists() and not s.dirty
    assert json.loads(saved.read_text())["schema_version"] == SCHEMA_VERSION

    # Reopen in a new window: the same state comes back.
    expected = {"reference": s.reference, "anomaly": s.anomaly, "edges": s.graph.edge_keys,
                "edits": s.edits, "causes": [c.node for c in s.result.root_causes],
                "notes": s.notes, "layout": s.layout.to_toml(), "settings": s.settings}
    w2 = w.__class__(settings=w.settings, recovery_dir=tmp_path / "rec2")
    qtbot.addWidget(w2)
    with qtbot.waitSignal(w2.loadFinished, timeout=30000):
        assert w2.open_investigation(str(saved))
    s2 = w2.session
    assert s2.reference == expected["reference"] and s2.anomaly == expected["anomaly"]
    assert s2.graph.edge_keys == expected["edges"] and s2.edits == expected["edits"]
    assert [c.node for c in s2.result.root_causes] == expected["causes"]
    assert s2.notes == expected["notes"] and s2.layout.to_toml() == expected["layout"]
    assert s2.settings == expected["settings"]
    assert not s2.dirty and s2.data is not None
    assert w2.current_step() == "report"
    assert w2.report_step.fields["team"].toPlainText() == "Line 7 process team"
    # The live model is not in the file: the what-if step offers to rebuild it.
    assert w2.whatif_step.refit_button.isVisibleTo(w2.whatif_step)
    w2.session.set_dirty(False)
    w2.close()

    # The report (when the report module is installed) is written in the background.
    ok, _why = report_available()
    if ok:
        pdf = tmp_path / "report.pdf"
        dialogs_log.answers.append(str(pdf))
        with qtbot.waitSignal(w.jobFinished, timeout=120000) as blocker:
            assert w.export_report()
        assert blocker.args[1] == "succeeded", dialogs_log.shown[-1:]
        assert pdf.exists() and pdf.read_bytes()[:4] == b"%PDF"


def test_reopened_investigation_refits_for_what_if(qtbot, make_window, load_sample, run_analysis, tmp_path,
                                                   dialogs_log):
    w = make_window()
    load_sample(w)
    assert run_analysis(w) == "succeeded"
    causes = [c.node for c in w.session.result.root_causes][:3]
    dialogs_log.answers.append(str(tmp_path / "a.rcainv"))
    assert w.save()
    w2 = make_window()
    with qtbot.waitSignal(w2.loadFinished, timeout=30000):
        w2.open_investigation(str(tmp_path / "a.rcainv"))
    assert w2.session.outcome is None
    # F5 after reopening rebuilds the model from the saved graph (no re-discovery).
    assert run_analysis(w2) == "succeeded"
    assert w2.session.result.diagnostics.graph_source == "given"
    assert [c.node for c in w2.session.result.root_causes][:1] == causes[:1]
    w2.go_to("whatif")
    assert w2.whatif_step.last is not None

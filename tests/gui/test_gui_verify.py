"""The "Verify the fix" step: after What-if, the change time on the trend, what changed from the
actions, the job off the GUI thread, the verdict, the bands and the waterfall drawn, and the
verification kept with the investigation."""
import os

import pytest

from rca_app.resources import sample_plant

PLANT = sample_plant("injection_moulding")
INCIDENT = ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]
REFERENCE = ["2026-03-01T00:00:00", "2026-03-14T21:20:00"]


@pytest.fixture
def verified_window(qtbot, make_window, load_sample, run_analysis):
    w = make_window()
    load_sample(w)
    with qtbot.waitSignal(w.loadFinished, timeout=30000):
        assert w.open_data(str(PLANT / "post_fix_worked.csv"))
    w.session.set_windows(REFERENCE, INCIDENT)
    assert run_analysis(w) == "succeeded"
    return w


def test_verify_step_sits_after_what_if_and_reports_the_verdict(qtbot, verified_window, tmp_path, dialogs_log):
    w = verified_window
    w.go_to("verify")
    assert w.current_step() == "verify"
    assert w.step_list.item(6).text().startswith("7   Verify the fix")
    assert w.step_list.item(7).text().startswith("8   Report")
    # Saved as the what-if step: the file's step numbers keep their meaning.
    assert w.session.step == 5
    page = w.verify_step
    assert page.verify_button.isEnabled()
    # The change line starts at the end of the incident window.
    assert page.time.text() == "2026-03-16T23:20:00"
    labels = [page.what.itemText(i) for i in range(page.what.count())]
    i = next(i for i, t in enumerate(labels) if t.startswith("dryer_temp_C"))
    page.what.setCurrentIndex(i)
    page.value.setText("128")
    change = page.current_change()
    assert change.node == "dryer_temp_C" and change.value == 128.0 and change.kind == "setpoint"
    with qtbot.waitSignal(w.jobFinished, timeout=120000) as blocker:
        page.request()
        assert w.job is not None and w.job.title == "Verifying the fix"     # off the GUI thread
    assert blocker.args == ["Verifying the fix", "succeeded"], dialogs_log.shown[-1:]
    r = page.result
    assert r.verdict == "improved" and "Verdict: improved" in page.verdict.text()
    assert page.impact.getPlotItem().listDataItems() and page.waterfall.getPlotItem().items
    assert w.step_list.item(6).text().endswith("✓")
    # Kept with the investigation.
    assert w.session.verification.result is r and w.session.dirty
    inv = w.session.to_investigation()
    assert inv.verification.change == change
    if os.environ.get("RCA_SCREENSHOTS"):
        w.resize(1366, 768)
        qtbot.wait(300)
        w.grab().save(os.path.join(os.environ["RCA_SCREENSHOTS"], "1366x768_verify_fix.png"))
        w.go_to("whatif")
        qtbot.wait(500)
        w.grab().save(os.path.join(os.environ["RCA_SCREENSHOTS"], "1366x768_what_if.png"))


def test_dragging_the_change_line_sets_the_time(qtbot, verified_window):
    w = verified_window
    w.go_to("verify")
    page = w.verify_step
    from rca_app.app.windows_view import axis_values

    x = axis_values(w.session.data)
    page.line.setValue(float(x[2100]) + 1.0)
    page._line_moved()
    assert page.time.text() == "2026-03-15T14:10:00"       # the first row at or after the line
    lo, hi = page.after.getRegion()
    assert lo == pytest.approx(x[2101]) and hi == pytest.approx(x[-1])
    # An unnamed change is offered too.
    assert page.what.itemText(page.what.count() - 1).startswith("(not named")

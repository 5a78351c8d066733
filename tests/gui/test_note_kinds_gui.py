"""The causes step's banner leads with the note the engine marked most important, in the warning
style for a warning, whatever its wording."""
from __future__ import annotations

import json

from rca_app.core.result_notes import Note
from rca_app.core.results import result_from_json
from tests.paths import GOLDEN


def test_the_banner_leads_with_a_reworded_warning_in_the_warning_style(qtbot):
    from rca_app.gui.session import Session
    from rca_app.gui.steps.causes_step import CausesStep
    from rca_app.gui.widgets import Banner

    d = json.loads((GOLDEN / "injection_moulding.json").read_text(encoding="utf-8"))
    d["software"], d["diagnostics"]["timings"] = {"name": "rca_app", "version": "0"}, {"total_s": 1.0}
    d["input"]["path"], d["layout"]["path"] = "/plant/data.csv", "/plant/layout.toml"
    result = result_from_json(d)
    reworded = Note("Heads up: yield_pct hardly changed, so the ranking explains noise.", "warning", "warning")
    result.diagnostics.messages = [Note("time series: sensors compared after their residence times"),
                                   Note("The data cannot tell the direction of 1 edge(s)", "direction", "caution"),
                                   reworded]
    session = Session()
    step = CausesStep(session)
    qtbot.addWidget(step)
    session.state.result = result
    step._banner()
    assert step.banner.label.text() == f"Note from the analysis: {reworded.text} (+2 more notes; hover to read all)"
    assert Banner.STYLES["warn"] in step.banner.styleSheet()
    assert step.banner.toolTip().split("\n\n") == [reworded.text, result.diagnostics.messages[1].text,
                                                   result.diagnostics.messages[0].text]
    # Without a warning among them the banner keeps the informative style.
    result.diagnostics.messages = result.diagnostics.messages[:2]
    step._banner()
    assert step.banner.label.text().startswith("Note from the analysis: The data cannot tell")
    assert Banner.STYLES["info"] in step.banner.styleSheet()

"""The D6/D7 section "Verification of corrective actions": present with a verified change (after
the actions, before the diagnostics), with its verdict, figure, tables and caveats; and
``rca-app impact --report`` writes it."""
from __future__ import annotations

import re

import pytest

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("reportlab")

from rca_app.cli import main  # noqa: E402
from rca_app.core.data import load_table, prepare  # noqa: E402
from rca_app.core.impact_records import ChangeSpec  # noqa: E402
from rca_app.core.impact_run import data_before, verify_change  # noqa: E402
from rca_app.core.layout import load_layout  # noqa: E402
from rca_app.core.settings import AnalysisSettings  # noqa: E402
from rca_app.report import build_report  # noqa: E402
from rca_app.report.sections.verification import TITLE  # noqa: E402
from rca_app.resources import sample_plant  # noqa: E402

PLANT = sample_plant("injection_moulding")
CHANGE = "2026-03-16T23:20:00"


def _text(path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages))


@pytest.fixture(scope="module")
def verified():
    data = prepare(load_table(PLANT / "post_fix_lot.csv"), load_layout(PLANT / "layout.toml"))
    out = verify_change(data, ChangeSpec(CHANGE, "barrel_temp_C", 297.0, "setpoint"),
                        analysis_settings=AnalysisSettings(graph_bootstrap=0, rank_bootstrap=6, n_jobs=1))
    return data, out


def test_the_section_reports_verdict_effect_attribution_and_causes(verified, tmp_path):
    data, out = verified
    path = build_report(out.analysis.result, data_before(data, out.result.change.row), tmp_path / "r.pdf",
                        impact=out.result)
    text = _text(path)
    assert TITLE in text
    # After the actions (D5), before the model diagnostics.
    assert text.index("Actions (D5)") < text.index(TITLE) < text.index("Model diagnostics")
    assert "Verdict: no effect." in text
    assert "Attribution of the recovery" in text and "resin_moisture_pct" in text
    assert "Did the root cause go away?" in text and "still shifted" in text
    assert "split-conformal prediction interval per unit" in text and "block calibration" in text
    assert "Caveats" in text


def test_impact_command_writes_the_report(tmp_path, capsys):
    pdf = tmp_path / "impact.pdf"
    code = main(["impact", str(PLANT / "post_fix_worked.csv"), "--layout", str(PLANT / "layout.toml"),
                 "--change", CHANGE, "--node", "dryer_temp_C", "--value", "128", "--report", str(pdf),
                 "--graph-bootstrap", "0", "--rank-bootstrap", "6", "--jobs", "1", "--quiet"])
    assert code == 0, capsys.readouterr().err
    text = _text(pdf)
    assert "Verdict: improved." in text and "Setting dryer_temp_C to 128 raised yield_pct" in text
    # The investigation's own sections describe the rows before the change: trends are drawn.
    assert "trend figures are left out" not in text

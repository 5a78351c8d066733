"""The report says which ranking was used and why, and on how many rows: one bad unit, and an
alarm that never fired in the reference (an anomaly ranking, never called a restoration)."""
from __future__ import annotations

import re

import pytest

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("reportlab")

from rca_app.core.analysis import AnalysisSettings, run_analysis  # noqa: E402
from rca_app.core.data import load_table, prepare  # noqa: E402
from rca_app.core.layout import load_layout  # noqa: E402
from rca_app.report import build_report  # noqa: E402
from rca_app.report import text as T  # noqa: E402
from rca_sim.incident_shapes import simulate_shape  # noqa: E402

FAST = AnalysisSettings(graph_bootstrap=2, rank_bootstrap=4, n_jobs=1)


def _result(tmp_path, kind, seed, **kw):
    plant = simulate_shape(kind, seed=seed, **kw)
    csv, lay = plant.save(tmp_path)
    data = prepare(load_table(csv), load_layout(lay))
    return plant, data, run_analysis(data, plant.incident_window, None, FAST).result


def _pdf_text(path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages))


def test_one_unit_report_names_the_ranking_and_the_rows(tmp_path):
    _, data, r = _result(tmp_path, "continuous", 500, n_sensors=6, n_reference=600, n_incident=1)
    paragraphs = T.summary_paragraphs(r)
    basis = next(p for p in paragraphs if p.startswith("**How the causes are ranked.**"))
    assert "Restoration per unit (one row)" in basis and "Rows used: one row in the incident, 600" in basis
    text = _pdf_text(build_report(r, data, tmp_path / "unit.pdf"))
    assert "How the causes are ranked" in text and "one row in the incident" in text


def test_alarm_report_says_anomaly_ranking_not_restoration(tmp_path):
    plant, data, r = _result(tmp_path, "event", 502, n_sensors=6, n_reference=600, n_incident=8)
    paragraphs = T.summary_paragraphs(r)
    lead = next(p for p in paragraphs if "most unusual" in p)
    assert f"**{plant.root_cause}**" in lead and "not a restoration" in lead
    assert not any("would come back" in p for p in paragraphs)
    text = _pdf_text(build_report(r, data, tmp_path / "alarm.pdf"))
    assert "Anomaly ranking" in text and "an event (alarm)" in text
    # The ranking table and the per-cause pages show the anomaly scores, not empty restorations.
    top = r.ranking_basis.anomaly_scores[0]
    assert "This is an anomaly ranking, not a restoration." in text
    assert f"{plant.root_cause} (" in text and f"anomaly score {top.score:.2f}" in text
    assert "restores –" not in text and "ranked first in –" not in text and "– to –" not in text


def test_short_reference_report_says_the_intervals_were_widened(tmp_path):
    _, data, r = _result(tmp_path, "continuous", 501, n_sensors=12, n_reference=36, n_incident=24)
    assert r.ranking_basis.simple_model
    text = _pdf_text(build_report(r, data, tmp_path / "short.pdf"))
    assert "widened by a small-sample correction" in text

"""PDF investigation report and table exports of an analysis result.

Importing this package is cheap: reportlab and matplotlib load only when a report is built
(the CLI imports it on every ``analyze``). Never imports Qt.
"""
from __future__ import annotations

import os
from pathlib import Path

from rca_app.report.exports import EXPORT_FILES, export_tables
from rca_app.report.notes import NOTE_KEYS, load_notes

__all__ = ["build_report", "export_tables", "load_notes", "report_available", "EXPORT_FILES", "NOTE_KEYS"]


def report_available() -> tuple[bool, str]:
    """Whether the PDF report can be built here, and why not."""
    import importlib.util

    if importlib.util.find_spec("reportlab") is None:
        return False, "the PDF report needs the reportlab package: pip install 'rca-app[report]'"
    return True, ""


def build_report(result, data, out_path, notes: dict | None = None, author: str | None = None,
                 report_id: str | None = None, impact=None) -> Path:
    """Write the PDF investigation report of ``result`` (the typed ``AnalysisResult``, its JSON
    data, or an object with ``to_dict()``).

    ``data`` (the ``PlantData`` analysed) adds trend figures; None leaves them out with a note.
    ``notes``: optional free text with keys team, containment, corrective_action, comments.
    ``author`` defaults to the OS user name; ``report_id`` to an id derived from the input and
    settings. ``impact`` (an ``ImpactResult``) adds the D6/D7 section "Verification of corrective
    actions". The file is written atomically: on any failure no partial PDF is left.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    from rca_app.report.builder import build_report as _build

    return _build(result, data, out_path, notes=notes, author=author, report_id=report_id, impact=impact)

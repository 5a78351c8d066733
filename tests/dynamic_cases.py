"""Simulated time-series plants read back as a user would, for the tests of the time-aware engine."""
from __future__ import annotations

from rca_app.core.data import load_table, prepare
from rca_app.core.layout import load_layout
from rca_sim.dynamic import write_case


def load_case(case, folder, layout_text=None):
    """``case`` (from :mod:`rca_sim.dynamic`) written to ``folder`` and prepared, optionally with
    another layout text."""
    write_case(case, folder)
    if layout_text is not None:
        (folder / "layout.toml").write_text(layout_text, encoding="utf-8")
    return prepare(load_table(folder / "data.csv"), load_layout(folder / "layout.toml"))


def incident_window(case):
    """The case's true incident window (start, end)."""
    return case.truth["anomaly"]["start"], case.truth["anomaly"]["end"]

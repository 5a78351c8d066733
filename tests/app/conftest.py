"""Shared fixtures of the application-layer tests: the injection-moulding sample plant, its
analysis table, one fast analysis of it, and an investigation with every field filled."""
import copy
import functools

import numpy as np
import pytest

from rca_app.app.data_file import DataRef, file_sha256
from rca_app.app.investigation_file import Investigation
from rca_app.core.data import load_table, prepare
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.layout import load_layout
from rca_app.core.results import AnalysisResult, as_result
from rca_app.resources import sample_plant

PLANT = sample_plant("injection_moulding")
INCIDENT = ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]


@pytest.fixture(scope="session")
def data():
    return prepare(load_table(PLANT / "data.csv"), load_layout(PLANT / "layout.toml"))


@pytest.fixture(scope="session")
def outcome(data):
    from rca_app.core.analysis import AnalysisSettings, run_analysis

    return run_analysis(data, tuple(INCIDENT), settings=AnalysisSettings(graph_bootstrap=3, rank_bootstrap=4))


@pytest.fixture(scope="session")
def plant():
    """The sample plant's folder."""
    return PLANT


@pytest.fixture
def make_investigation(outcome):
    """An investigation of the data file at a given path, with every field filled (its result
    is the fast analysis's, with the top cause's restoration set to a numpy 0.8 [0.7, 0.9])."""
    result = copy.deepcopy(as_result(outcome.result))
    result.root_causes[0].restoration = np.float64(0.8)
    result.root_causes[0].restoration_ci = (0.7, 0.9)
    return functools.partial(_make_investigation, result=result)


def _make_investigation(data_path, result: AnalysisResult) -> Investigation:
    return Investigation(
        data=DataRef(path=str(data_path), sha256=file_sha256(data_path), file_name=data_path.name),
        layout_toml=(PLANT / "layout.toml").read_text(encoding="utf-8"),
        reference=["2026-03-01T00:00:00", "2026-03-14T21:20:00"],
        anomaly=list(INCIDENT),
        graph=CausalGraph(("a", "b"), (Edge("a", "b", 0.5, 0.9),)).to_dict(),
        graph_edits=[{"op": "remove", "source": "b", "target": "c"}],
        settings={"seed": 3, "graph_bootstrap": 5},
        result=copy.deepcopy(result),
        notes={"team": "Line 7 night shift", "containment": "quarantine lots 14-16"},
        step=4,
    )

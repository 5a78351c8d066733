"""The typed analysis result: golden results read back typed and validate against the committed
JSON Schema, which stays in step with the code; older versions migrate; bad files are refused
with every problem named."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from rca_app.core.results import (
    RESULT_SCHEMA_VERSION,
    AnalysisResult,
    result_from_json,
    result_json_schema,
    result_to_json,
)
from rca_app.core.rootcause import RootCause
from rca_app.core.serialization import SchemaError
from tests.paths import ROOT

SCHEMA_FILE = ROOT / "schemas" / "analysis_result.schema.json"
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.json"))


def _full(path: Path) -> dict:
    """A golden result with the machine-dependent fields the golden files leave out."""
    d = json.loads(path.read_text(encoding="utf-8"))
    d["software"] = {"name": "rca_app", "version": "0"}
    d["input"]["path"] = "/plant/data.csv"
    d["layout"]["path"] = "/plant/layout.toml"
    d["diagnostics"]["timings"] = {"total_s": 1.0}
    return d


def test_committed_schema_is_current():
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == result_json_schema(), (
        "regenerate schemas/analysis_result.schema.json from rca_app.core.results.result_json_schema()")


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_results_read_typed_and_validate(path):
    data = _full(path)
    result = result_from_json(data, path.name)
    assert isinstance(result, AnalysisResult) and isinstance(result.root_causes[0], RootCause)
    assert result.top_cause.node == data["root_causes"][0]["node"]
    written = json.loads(json.dumps(result_to_json(result), allow_nan=False))
    jsonschema.Draft202012Validator(result_json_schema()).validate(written)
    assert result_from_json(written) == result                # a second round trip changes nothing


def test_newer_version_and_damage_are_refused_naming_every_problem():
    data = _full(GOLDEN[0])
    newer = dict(data, schema_version=RESULT_SCHEMA_VERSION + 1)
    with pytest.raises(SchemaError, match="newer rca_app"):
        result_from_json(newer)
    data["root_causes"][0]["restoration"] = "a lot"
    data["graph"]["nodes"][0]["tier"] = None
    data["diagnostics"]["surprise"] = []
    with pytest.raises(SchemaError) as e:
        result_from_json(data, "case.json")
    msg = str(e.value)
    assert "3 problem(s) in the case.json" in msg
    assert "root_causes[0].restoration: expected a number" in msg
    assert "graph.nodes[0].tier: expected a whole number, found null" in msg
    assert "diagnostics.surprise: unknown key" in msg


def test_as_result_accepts_typed_json_and_to_dict_objects():
    from rca_app.core.results import as_result

    data = _full(GOLDEN[0])
    typed = as_result(data)
    assert as_result(typed) is typed

    class Old:
        def to_dict(self):
            return data
    assert as_result(Old()) == typed

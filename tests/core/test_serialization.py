"""Typed records to JSON and back: round trip, every problem reported with its path, bounds,
NaN as null, and a JSON Schema that accepts what we write and rejects what the reader rejects."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Literal

import jsonschema
import numpy as np
import pytest

from rca_app.core.serialization import SchemaError, from_json_data, json_schema, to_json_data


@dataclass
class Inner:
    node: str
    restoration: float
    interval: tuple[float, float]
    note: str | None = None


@dataclass
class Outer:
    name: str
    kind: Literal["continuous", "binary"]
    causes: list[Inner]
    counts: dict[str, int] = field(default_factory=dict)
    refits: int = field(default=30, metadata={"min": 0, "max": 1000})
    tags: tuple[str, ...] = ()


def _sample() -> Outer:
    return Outer("line 7", "continuous",
                 [Inner("dryer_temp", np.float64(0.8), (0.5, float("nan"))), Inner("moisture", -0.1, (-0.2, 0.0), "x")],
                 {"dropped": np.int64(3)}, 30, ("a", "b"))


def test_round_trip_and_nan_as_null():
    data = to_json_data(_sample())
    text = json.dumps(data, allow_nan=False)         # strict JSON: NaN became null
    assert data["causes"][0]["interval"] == [0.5, None]
    back = from_json_data(Outer, json.loads(text))
    assert back.causes[0].interval[0] == 0.5 and math.isnan(back.causes[0].interval[1])
    assert back.counts == {"dropped": 3} and back.tags == ("a", "b")
    assert isinstance(back.causes[1], Inner) and back.causes[1].note == "x"


def test_every_problem_reported_with_its_path():
    data = to_json_data(_sample())
    data["causes"][1]["restoration"] = "high"
    data["causes"][0]["interval"] = [0.1]
    data["kind"] = "sometimes"
    data["refits"] = 10**12
    data["surprise"] = 1
    del data["name"]
    with pytest.raises(SchemaError) as e:
        from_json_data(Outer, data, "result file r.json")
    msg = str(e.value)
    assert "6 problem(s) in the result file r.json" in msg
    for line in ("causes[1].restoration: expected a number, found 'high'",
                 "causes[0].interval: expected 2 values, found 1",
                 "kind: expected one of 'continuous', 'binary', found 'sometimes'",
                 "refits: 1000000000000 is outside 0 to 1000",
                 "surprise: unknown key", "name: missing"):
        assert line in msg


@pytest.mark.parametrize("bad", ["x", 3, None, [1], {"causes": "x"}])
def test_wrong_shapes_are_problems_not_crashes(bad):
    with pytest.raises(SchemaError):
        from_json_data(Outer, bad)


def test_schema_accepts_written_data_and_rejects_what_the_reader_rejects():
    schema = json_schema(Outer)
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    good = to_json_data(_sample())
    assert not list(v.iter_errors(good))
    for mutate in (lambda d: d.update(surprise=1), lambda d: d.update(refits=-1),
                   lambda d: d.update(kind="x"), lambda d: d["causes"][0].update(interval=[1])):
        bad = json.loads(json.dumps(good))
        mutate(bad)
        assert list(v.iter_errors(bad))
        with pytest.raises(SchemaError):
            from_json_data(Outer, bad)


def test_written_json_is_strict_with_null_for_nan(tmp_path):
    import pandas as pd

    from rca_app.core.fileio import write_json_atomic

    p = write_json_atomic(tmp_path / "r.json", {"ci": (float("nan"), np.float32(0.5)), "n": np.int64(3),
                                                "when": pd.Timestamp("2026-03-01 06:00"), "inf": float("inf")})
    text = p.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"ci": [None, 0.5], "n": 3, "when": "2026-03-01T06:00:00", "inf": None}

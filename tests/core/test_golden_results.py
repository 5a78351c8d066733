"""The sample plants' results stay what they were unless a change of results is intended.

The committed files in ``tests/golden/`` were written by ``python -m tests.golden.regenerate``.
A restructuring must reproduce them (floats to 1e-9 relative: summation order may differ in the
last bits); a change that is meant to move results regenerates them and says why in its commit.
"""
from __future__ import annotations

import json
import math

import pytest

from tests.golden.regenerate import PLANTS, analysis_result
from tests.paths import GOLDEN


def _diff(a, b, path="", out=None, rtol=1e-9, atol=1e-12):
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'golden' if k in a else 'new'}")
            else:
                _diff(a[k], b[k], f"{path}/{k}", out, rtol, atol)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} != {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):      # a length change is reported above
            _diff(x, y, f"{path}[{i}]", out, rtol, atol)
    elif isinstance(a, float) or isinstance(b, float):
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        if not numbers or not (math.isclose(a, b, rel_tol=rtol, abs_tol=atol) or (math.isnan(a) and math.isnan(b))):
            out.append(f"{path}: {a!r} != {b!r}")
    elif a != b:
        out.append(f"{path}: {a!r} != {b!r}")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("plant", PLANTS)
def test_sample_plant_result_unchanged(plant):
    golden = json.loads((GOLDEN / f"{plant}.json").read_text(encoding="utf-8"))
    diffs = _diff(golden, analysis_result(plant))
    assert not diffs, f"{len(diffs)} differences, first: " + "\n".join(diffs[:20])

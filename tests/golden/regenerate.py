"""Write the sample plants' analysis results that ``test_golden_results`` compares against.

Run only when a change of results is intended, and say in the commit which fields moved and why:
``python -m tests.golden.regenerate``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLANTS = ("injection_moulding", "chemical_reactor", "bottling_line")

# Fields that depend on the machine, the clock or the checkout, not on the analysis.
VOLATILE = {("diagnostics", "timings"), ("software",), ("input", "path"), ("layout", "path")}


def analysis_result(plant: str) -> dict:
    """The demo's analysis of one sample plant (default settings, seed 0) as JSON-ready data."""
    from rca_app.app.sample_plants import load_sample_plant
    from rca_app.core.analysis import AnalysisSettings, run_analysis

    sample, data = load_sample_plant(plant)
    outcome = run_analysis(data, tuple(sample.anomaly), None, AnalysisSettings())
    return stable(outcome.result.to_dict())


def stable(d: dict) -> dict:
    d = json.loads(json.dumps(d))
    for path in VOLATILE:
        node = d
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    return d


def main(argv: list[str]) -> int:
    for plant in argv or PLANTS:
        out = HERE / f"{plant}.json"
        out.write_text(json.dumps(analysis_result(plant), indent=1, sort_keys=True, allow_nan=True) + "\n",
                       encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

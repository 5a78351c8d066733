"""Write the injection-moulding plant's post-fix data: two weeks after the dryer incident.

Run from anywhere:  python sample_plants/generate_post_fix.py [OUTPUT_DIR]
(default: sample_plants/injection_moulding). Writes, next to the existing files (which it never
touches), byte-identical on every run:

- ``post_fix_worked.csv`` / ``post_fix_worked_truth.json``: the dryer still holds a poor dew
  point, and the engineers raise the dryer temperature by 8 °C (the investigation's action):
  the residual moisture falls below the splay threshold and yield recovers because of it.
- ``post_fix_lot.csv`` / ``post_fix_lot_truth.json``: the engineers raise the barrel
  temperature by 2 °C ("to dry the melt", which does nothing for hydrolysis), and the same day
  a new, drier resin lot arrives: yield recovers, but not because of the change.

Both have the same 2000 reference rows and 300 incident rows as the plant's story (from the
same simulator and seed, though not the same bytes as ``data.csv``), then 400 rows after the
change (2.8 days at 10 minutes).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from generate import injection_moulding  # noqa: E402

from rca_sim import csv_text, mean_shift  # noqa: E402
from rca_sim.changes import simulate_change, truth_for_json  # noqa: E402

N_AFTER = 400
SCENARIOS = {
    "post_fix_worked": dict(change=[mean_shift("dryer_temp_C", 8.0)], coincident=[]),
    "post_fix_lot": dict(change=[mean_shift("barrel_temp_C", 2.0)],
                         coincident=[mean_shift("resin_moisture_pct", -0.11)]),
}


def scenario(name: str):
    """(data, truth) of one post-fix scenario."""
    case = injection_moulding()
    sc = SCENARIOS[name]
    return simulate_change(case.spec, case.n_reference, case.n_anomaly, N_AFTER, case.faults, sc["change"],
                           sc["coincident"], seed=case.seed)


def generate(out_dir: Path | str = HERE / "injection_moulding") -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCENARIOS:
        df, truth = scenario(name)
        (out / f"{name}.csv").write_bytes(csv_text(df).encode("utf-8"))
        (out / f"{name}_truth.json").write_bytes(
            (json.dumps(truth_for_json(truth), indent=2, sort_keys=True) + "\n").encode("utf-8"))
        written += [out / f"{name}.csv", out / f"{name}_truth.json"]
    return written


if __name__ == "__main__":
    for p in generate(*sys.argv[1:2]):
        print(p)

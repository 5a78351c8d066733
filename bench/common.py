"""Shared helpers for the benchmarks: simulated plants through the real loading path."""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

from rca_app.core.data import load_table, prepare
from rca_app.core.layout import load_layout
from rca_sim import save_plant, simulate


def plant_data(spec, faults, seed, n_reference=2000, n_anomaly=300):
    """Simulate a plant, write it as an engineer would receive it, and load it back."""
    df, truth = simulate(spec, n_reference, n_anomaly, faults, seed)
    d = Path(tempfile.mkdtemp(prefix="rca_bench_"))
    save_plant(d, spec, df, truth)
    layout = load_layout(d / "layout.toml")
    data = prepare(load_table(d / "data.csv"), layout)
    return data, truth, df


@contextmanager
def timer(out: dict, key: str):
    t = time.perf_counter()
    yield
    out[key] = time.perf_counter() - t


def graph_scores(found: set[tuple[str, str]], true: set[tuple[str, str]]) -> dict:
    """Precision, recall and structural Hamming distance of a discovered DAG."""
    tp = len(found & true)
    reversed_ = {(b, a) for a, b in found} & true - found
    fp = len(found - true)
    fn = len(true - found)
    # SHD: additions + deletions + reversals (a reversed edge counts once, not twice).
    shd = fp + fn - len(reversed_)
    return {
        "precision": tp / len(found) if found else 1.0,
        "recall": tp / len(true) if true else 1.0,
        "shd": shd,
    }

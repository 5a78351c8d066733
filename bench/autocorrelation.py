"""False alarms on autocorrelated data with no effect: the engine's tests and window rule as they
treat rows (independent, "before") against their time-series versions ("after"; see
:mod:`rca_app.core.autocorrelation`), side by side on the same simulated series.

Null data only: every rejection is a false alarm, so each rate should sit near its nominal level
(the test's alpha; for the window rule, the rate on independent rows). Series are AR(1) with
``phi`` in 0 (independent rows), 0.5 and 0.9, and a smoother process (an AR(1) 0.9 disturbance
through a mixing volume, ``x(t) = 0.8 x(t-1) + 0.2 u(t)``) that one lag-1 coefficient describes
only approximately.

``python -m bench.autocorrelation [--reps N]`` prints a table and writes
bench/results/autocorrelation.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from rca_app.core.autocorrelation import mean_shift_z, normality_pvalue
from rca_app.core.constraint_search import _GramTests
from rca_app.core.pruning import prune_weak_edges
from rca_app.core.windows import suggest_anomaly_window

OUT = Path(__file__).resolve().parent / "results"
ALPHA = 0.01
PROCESSES = ("phi=0", "phi=0.5", "phi=0.9", "mixed phi=0.9")


def series(process: str, n: int, rng: np.random.Generator, gaussian: bool = False) -> np.ndarray:
    """One null series of ``process`` (unit-variance innovations, a 200-row burn-in dropped)."""
    m = n + 200
    e = rng.normal(size=m) if gaussian else rng.laplace(0, 1 / np.sqrt(2), m)
    phi = {"phi=0": 0.0, "phi=0.5": 0.5, "phi=0.9": 0.9, "mixed phi=0.9": 0.9}[process]
    x = lfilter([1.0], [1.0, -phi], e)
    if process.startswith("mixed"):
        x = lfilter([0.2], [1.0, -0.8], x)
    return x[200:]


def window_rate(process: str, reps: int, rng) -> dict:
    """Share of fault-free KPIs of 1000 rows for which the auto-window rule suggests an incident."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        y = 90 + series(process, 1000, rng)
        hits["before"] += suggest_anomaly_window(y, "maximize") is not None
        hits["after"] += suggest_anomaly_window(y, "maximize", serial=True) is not None
    return {k: v / reps for k, v in hits.items()}


def ci_rate(process: str, reps: int, rng, test: str) -> dict:
    """Rejection rate at ALPHA of PC's test of x0 independent of x1 given x2 (all independent)."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        X = np.column_stack([series(process, 1500, rng) for _ in range(3)])
        hits["before"] += _GramTests(X, test).p_value(0, 1, (2,)) < ALPHA
        hits["after"] += _GramTests(X, test, serial=True).p_value(0, 1, (2,)) < ALPHA
    return {k: v / reps for k, v in hits.items()}


def prune_rate(process: str, reps: int, rng) -> dict:
    """Share of spurious edges a -> c (c independent of a, with a true parent b) that the pruning
    F-test keeps (no minimum effect size, so that only the test decides)."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        a, b, u = (series(process, 1500, rng) for _ in range(3))
        f = pd.DataFrame({"a": a, "b": b, "c": 0.8 * b + u})
        edges = {("a", "c"), ("b", "c")}
        for key, serial in (("before", False), ("after", True)):
            kept = prune_weak_edges(f, ["a", "b", "c"], edges, set(), min_partial_r2=0.0, alpha=ALPHA, serial=serial)
            hits[key] += ("a", "c") in kept
    return {k: v / reps for k, v in hits.items()}


def normality_rate(process: str, reps: int, rng) -> dict:
    """Rejection rate at ALPHA of the noise diagnostics' normality test on Gaussian AR series."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        r = series(process, 1500, rng, gaussian=True)
        hits["before"] += normality_pvalue(r, False) < ALPHA
        hits["after"] += normality_pvalue(r, True) < ALPHA
    return {k: v / reps for k, v in hits.items()}


def shift_rate(process: str, reps: int, rng) -> dict:
    """Share of unchanged mechanisms whose incident residual shift reaches |z| >= 3 (the
    invariance check's bar; two-sided nominal 0.27 %): 1500 reference rows, 300 incident rows."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        r = series(process, 1800, rng)
        hits["before"] += abs(mean_shift_z(r[:1500], r[1500:], False)) >= 3
        hits["after"] += abs(mean_shift_z(r[:1500], r[1500:], True)) >= 3
    return {k: v / reps for k, v in hits.items()}


CHECKS = {
    "auto incident window (false incidents)": window_rate,
    "PC test, fisher_z (alpha 1%)": lambda p, n, rng: ci_rate(p, n, rng, "fisher_z"),
    "PC test, quadratic (alpha 1%)": lambda p, n, rng: ci_rate(p, n, rng, "quadratic"),
    "pruning F-test (alpha 1%)": prune_rate,
    "normality test (alpha 1%)": normality_rate,
    "invariance shift |z| >= 3 (0.27%)": shift_rate,
}


def run(reps: int = 200, seed: int = 0) -> dict:
    """Every check on every process; returns ``{check: {process: {"before", "after"}}}``."""
    out = {}
    for name, check in CHECKS.items():
        out[name] = {}
        for k, process in enumerate(PROCESSES):
            out[name][process] = check(process, reps, np.random.default_rng(seed + 1000 * k))
    return out


def report(res: dict) -> str:
    lines = ["| check | " + " | ".join(PROCESSES) + " |", "|---|" + "---|" * len(PROCESSES)]
    for name, per in res.items():
        cells = [f"{100 * per[p]['before']:.1f}% -> {100 * per[p]['after']:.1f}%" for p in PROCESSES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args(argv)
    res = run(args.reps)
    OUT.mkdir(exist_ok=True)
    (OUT / "autocorrelation.json").write_text(json.dumps({"reps": args.reps, "rates": res}, indent=1),
                                              encoding="utf-8")
    print("False-alarm rates on null data, independent-row statistics -> time-series statistics")
    print(report(res))


if __name__ == "__main__":
    main()

"""False alarms on autocorrelated data with no effect: the engine's tests and window rule as they
treat rows (independent, "before") against their time-series versions ("after"; see
:mod:`rca_app.core.autocorrelation`), side by side on the same simulated series.

Null data first: every rejection is a false alarm, so each rate should sit near its nominal level
(the test's alpha; for the window rule and the CUSUM, the rate on independent rows). Series are
AR(1) with ``phi`` in 0 (independent rows), 0.5 and 0.9, and a smoother process (an AR(1) 0.9
disturbance through a mixing volume, ``x(t) = 0.8 x(t-1) + 0.2 u(t)``) that one lag-1
coefficient describes only approximately. Categorical sensors are terciles (or halves) of such a
series, so that on time series a supplier's lot or an operating mode persists for many rows.

Then power, on the same processes with a real effect (a category's shift of the child, a weaker
real parent of a flag KPI or of a sensor, a drift onset), so that a correction that silences the
false alarms is seen not to silence the real ones as well.

``python -m bench.autocorrelation [--reps N]`` prints the tables and writes
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
from rca_app.core.ci_tests import GramTests
from rca_app.core.discovery import DiscoverySettings, _categorical_adds, _categorical_child_parents
from rca_app.core.dynamics import cusum_onset
from rca_app.core.encoding import CategoryEncoder
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.kpi_mechanisms import check_kpi_parents
from rca_app.core.lingam_fast import _adaptive_lasso_adjacency
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
        hits["before"] += GramTests(X, test).p_value(0, 1, (2,)) < ALPHA
        hits["after"] += GramTests(X, test, serial=True).p_value(0, 1, (2,)) < ALPHA
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


def category(process: str, n: int, rng, levels: int = 3) -> np.ndarray:
    """A categorical sensor whose level persists as ``process`` does: quantile bins of a series."""
    s = series(process, n, rng)
    return np.digitize(s, np.quantile(s, np.arange(1, levels) / levels))


def _cat_settings(serial: bool) -> DiscoverySettings:
    # No minimum effect size, so that only the test decides (as for the pruning above).
    return DiscoverySettings(categorical_alpha=ALPHA, categorical_min_partial_r2=0.0, time_series=serial)


def categorical_rate(process: str, reps: int, rng, effect: float = 0.0) -> dict:
    """Share of categorical sensors the discovery's F-test adds as a parent of ``y = 0.8 b + u``
    given ``b`` (``effect``: the top tercile shifts ``y`` by that many sds of ``u``)."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        b, u = series(process, 1500, rng), series(process, 1500, rng)
        cat = category(process, 1500, rng)
        f = pd.DataFrame({"b": b, "y": 0.8 * b + u + effect * u.std() * (cat == 2),
                          "cat": pd.Categorical(cat.astype(str))})
        enc = CategoryEncoder.fit(f, {"cat"})
        for key, serial in (("before", False), ("after", True)):
            hits[key] += _categorical_adds(f, "y", ["b"], "cat", enc, _cat_settings(serial))
    return {k: v / reps for k, v in hits.items()}


def categorical_child_rate(process: str, reps: int, rng, effect: float = 0.0) -> dict:
    """Share of numeric sensors the likelihood-ratio test makes a parent of a two-level mode
    (``effect``: the mode is the sign of ``effect x + s``, ``s`` the mode's own series, in sds)."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        x, s = series(process, 1500, rng), series(process, 1500, rng)
        mode = (effect * x / x.std() + s / s.std() > 0).astype(int)
        f = pd.DataFrame({"x": x, "mode": pd.Categorical(mode.astype(str))})
        enc = CategoryEncoder.fit(f, {"mode"})
        for key, serial in (("before", False), ("after", True)):
            hits[key] += "x" in _categorical_child_parents(f, "mode", ["x"], enc, _cat_settings(serial))
    return {k: v / reps for k, v in hits.items()}


def kpi_parent_rate(process: str, reps: int, rng, effect: float = 0.0) -> dict:
    """Share of flag-KPI parents kept by the Wald z (|z| >= 2.58, two-sided 1%): the alarm is
    ``0.8 b + u + effect w`` above its 80th percentile; ``effect`` 0 asks about ``w`` as a
    spurious parent, otherwise as a real one."""
    hits = {"before": 0, "after": 0}
    graph = CausalGraph(("b", "w", "alarm"), (Edge("b", "alarm"), Edge("w", "alarm")))
    for _ in range(reps):
        b, w, u = (series(process, 1500, rng) for _ in range(3))
        latent = 0.8 * b + u + effect * w
        f = pd.DataFrame({"b": b, "w": w, "alarm": (latent > np.quantile(latent, 0.8)).astype(float)})
        for key, serial in (("before", False), ("after", True)):
            _, dropped, _ = check_kpi_parents(graph, f, "alarm", "binary", serial=serial)
            hits[key] += "w" not in {p for p, _ in dropped}
    return {k: v / reps for k, v in hits.items()}


def lingam_bic_rate(process: str, reps: int, rng, effect: float = 0.0) -> dict:
    """Share of edges ``w -> c`` LiNGAM's adaptive-lasso BIC keeps (causal order given, no later
    pruning), ``c = 0.8 b + u + effect w``: before counts n rows, after the effective rows."""
    hits = {"before": 0, "after": 0}
    for _ in range(reps):
        b, w, u = (series(process, 1500, rng) for _ in range(3))
        X = np.column_stack([b, w, 0.8 * b + u + effect * w])
        for key, serial in (("before", False), ("after", True)):
            hits[key] += _adaptive_lasso_adjacency(X, [0, 1, 2], None, serial=serial)[2, 1] != 0
    return {k: v / reps for k, v in hits.items()}


def _cusum_before(x: np.ndarray, ref: np.ndarray) -> int | None:
    """The CUSUM as it was: decision interval 8 reference sds whatever the autocorrelation."""
    z = (x - ref.mean()) / (ref.std() or 1.0)
    hi = lo = 0.0
    start_hi = start_lo = 0
    for i, v in enumerate(z):
        start_hi, start_lo = (i if hi == 0.0 else start_hi), (i if lo == 0.0 else start_lo)
        hi, lo = max(0.0, hi + v - 0.5), max(0.0, lo - v - 0.5)
        if hi > 8.0:
            return start_hi
        if lo > 8.0:
            return start_lo
    return None


def cusum_rate(process: str, reps: int, rng, drift: float = 0.0) -> dict:
    """Share of 300-row incidents after 1500 reference rows in which the drift-onset CUSUM trips
    (``drift``: a ramp from row 100 to that many reference sds at the end; then also the median
    distance of the dated onset from row 100)."""
    hits = {"before": 0, "after": 0}
    err: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(reps):
        s = series(process, 1800, rng)
        ref, x = s[:1500], s[1500:].copy()
        x[100:] += np.linspace(0, drift * ref.std(), 200)
        for key, onset in (("before", _cusum_before(x, ref)), ("after", cusum_onset(x, ref))):
            hits[key] += onset is not None
            if onset is not None:
                err[key].append(abs(onset - 100))
    out: dict = {k: v / reps for k, v in hits.items()}
    if drift:
        out["onset_error_rows"] = {k: float(np.median(v)) if v else None for k, v in err.items()}
    return out


CHECKS = {
    "auto incident window (false incidents)": window_rate,
    "PC test, fisher_z (alpha 1%)": lambda p, n, rng: ci_rate(p, n, rng, "fisher_z"),
    "PC test, quadratic (alpha 1%)": lambda p, n, rng: ci_rate(p, n, rng, "quadratic"),
    "pruning F-test (alpha 1%)": prune_rate,
    "normality test (alpha 1%)": normality_rate,
    "invariance shift |z| >= 3 (0.27%)": shift_rate,
    "categorical parent F-test (alpha 1%)": categorical_rate,
    "categorical child LR test (alpha 1%)": categorical_child_rate,
    "flag KPI parent Wald z (1%)": kpi_parent_rate,
    "LiNGAM BIC, no pruning (spurious edge kept)": lingam_bic_rate,
    "drift-onset CUSUM (trips in 300 rows)": cusum_rate,
}

# The same checks with a real effect: the share found (higher is better).
POWER = {
    "categorical parent F-test, shift 0.3 sd": lambda p, n, rng: categorical_rate(p, n, rng, effect=0.3),
    "categorical child LR test, effect 0.3": lambda p, n, rng: categorical_child_rate(p, n, rng, effect=0.3),
    "flag KPI parent Wald z, weaker parent 0.3": lambda p, n, rng: kpi_parent_rate(p, n, rng, effect=0.3),
    "LiNGAM BIC, weaker parent 0.3": lambda p, n, rng: lingam_bic_rate(p, n, rng, effect=0.3),
    "drift-onset CUSUM, ramp to 4 sd": lambda p, n, rng: cusum_rate(p, n, rng, drift=4.0),
}


def true_inflation(process: str) -> float:
    """``1 + 2 sum rho_k`` of ``process`` (long-run over marginal variance), from its impulse response."""
    phi = {"phi=0": 0.0, "phi=0.5": 0.5, "phi=0.9": 0.9, "mixed phi=0.9": 0.9}[process]
    h = lfilter([1.0], [1.0, -phi], np.r_[1.0, np.zeros(5000)])
    if process.startswith("mixed"):
        h = lfilter([0.2], [1.0, -0.8], h)
    return float(h.sum() ** 2 / (h @ h))


def inflation_rules(reps: int = 200, seed: int = 2) -> dict:
    """The two variance-inflation rules side by side: the impact query's (autocorrelations summed
    until the first non-positive one, :func:`integrated_autocorrelation_time`) and the engine
    tests' (cut at the 3/sqrt(n) noise band, :func:`mean_inflation` of :func:`autocorrelations`).
    For reference series of 300 and 1500 rows: the median estimate against the truth, its relative
    RMSE, and the false-alarm rate of the invariance shift |z| >= 3 of 300 further rows."""
    from rca_app.core.autocorrelation import autocorrelations, integrated_autocorrelation_time, mean_inflation

    out: dict = {}
    for n in (300, 1500):
        for k, process in enumerate(PROCESSES):
            rng = np.random.default_rng(seed + 1000 * k + n)
            truth = true_inflation(process)
            est: dict[str, list[float]] = {"first non-positive": [], "noise band": []}
            alarms = {"first non-positive": 0, "noise band": 0}
            for _ in range(reps):
                s = series(process, n + 300, rng)
                ref, inc = s[:n], s[n:]
                for rule, infl in (("first non-positive", integrated_autocorrelation_time(ref)),
                                   ("noise band", mean_inflation(autocorrelations(ref)))):
                    est[rule].append(infl)
                    z = (inc.mean() - ref.mean()) / (ref.std() / np.sqrt(len(inc) / infl))
                    alarms[rule] += abs(z) >= 3
            out[f"n={n} {process}"] = {"true": truth, **{rule: {
                "median": float(np.median(v)), "relative_rmse": float(np.sqrt(np.mean((np.asarray(v) / truth - 1) ** 2))),
                "shift_false_alarms": alarms[rule] / reps} for rule, v in est.items()}}
    return out


def run(reps: int = 200, seed: int = 0, checks: dict | None = None) -> dict:
    """Every check on every process; returns ``{check: {process: {"before", "after"}}}``."""
    out = {}
    for name, check in (CHECKS if checks is None else checks).items():
        out[name] = {}
        for k, process in enumerate(PROCESSES):
            out[name][process] = check(process, reps, np.random.default_rng(seed + 1000 * k))
    return out


def report(res: dict) -> str:
    lines = ["| check | " + " | ".join(PROCESSES) + " |", "|---|" + "---|" * len(PROCESSES)]
    for name, per in res.items():
        cells = [f"{100 * per[p]['before']:.1f}% -> {100 * per[p]['after']:.1f}%" for p in PROCESSES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if any("onset_error_rows" in per[p] for p in PROCESSES):
            err = [per[p].get("onset_error_rows", {}) for p in PROCESSES]
            lines.append("| (median onset error, rows) | "
                         + " | ".join(f"{e.get('before')} -> {e.get('after')}" for e in err) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args(argv)
    res = run(args.reps)
    power = run(args.reps, seed=1, checks=POWER)
    rules = inflation_rules(args.reps)
    OUT.mkdir(exist_ok=True)
    (OUT / "autocorrelation.json").write_text(json.dumps({"reps": args.reps, "rates": res, "power": power,
                                                          "inflation_rules": rules}, indent=1), encoding="utf-8")
    print("False-alarm rates on null data, independent-row statistics -> time-series statistics")
    print(report(res))
    print("\nPower on a real effect (share found), independent-row statistics -> time-series statistics")
    print(report(power))
    print("\nVariance inflation 1 + 2 sum rho_k: median estimate (relative RMSE; shift false alarms at |z| >= 3)")
    print("| series | true | first non-positive (impact query) | noise band (engine tests) |\n|---|---|---|---|")
    for name, r in rules.items():
        cells = [f"{r[k]['median']:.1f} ({r[k]['relative_rmse']:.2f}; {100 * r[k]['shift_false_alarms']:.1f}%)"
                 for k in ("first non-positive", "noise band")]
        print(f"| {name} | {r['true']:.1f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

"""Same-row discovery on time series takes LiNGAM's order from the VAR innovations (VAR-LiNGAM):
the VAR's fit and order, the direction the innovations recover where the autocorrelated levels
hide it, edges still decided on the levels, declared control loops left on the levels, and rows
per part exactly as before."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from bench.var_lingam import ar_chain
from rca_app.core.discovery import DiscoverySettings, discover
from rca_app.core.innovations import fit_var, innovation_rows, loop_pairs
from rca_app.core.layout import parse_layout

CHAIN = parse_layout('[plant]\nname = "chain"\ntarget = "z"\n\n[[station]]\nname = "line"\nsensors = ["x", "y", "z"]\n')


def _var2(n=4000, seed=0):
    """A known VAR(2) of three sensors in engineering units, and its shocks."""
    rng = np.random.default_rng(seed)
    M1 = np.array([[0.6, 0.0, 0.0], [0.4, 0.3, 0.0], [0.0, -0.5, 0.5]])
    M2 = np.array([[0.2, 0.0, 0.0], [0.0, 0.2, 0.0], [0.0, 0.0, -0.2]])
    e = rng.uniform(-1, 1, (n, 3))
    X = np.zeros((n, 3))
    for t in range(2, n):
        X[t] = M1 @ X[t - 1] + M2 @ X[t - 2] + e[t]
    scale, level = np.array([1.0, 10.0, 0.1]), np.array([5.0, 300.0, 1.0])
    return X * scale + level, e * scale, M1, M2, scale


def test_var_order_coefficients_and_innovations_are_recovered():
    Z, e, M1, M2, scale = _var2()
    fit = fit_var(Z)
    assert fit.order == 2 and 0 < fit.ridge < 1e-3
    units = scale[:, None] / scale[None, :]          # coefficient of sensor m in sensor i's equation
    assert np.allclose(fit.coefs[0], M1 * units, atol=0.05 * units)
    assert np.allclose(fit.coefs[1], M2 * units, atol=0.05 * units)
    # The residuals are the shocks (rows 2.. of the data), in the sensors' units.
    assert fit.residuals.shape == (len(Z) - 2, 3)
    for j in range(3):
        assert np.corrcoef(fit.residuals[:, j], e[2:, j])[0, 1] > 0.99
    # They are what the fitted VAR leaves of each row.
    pred = fit.intercept + Z[1:-1] @ fit.coefs[0].T + Z[:-2] @ fit.coefs[1].T
    assert np.allclose(Z[2:] - pred, fit.residuals)


def test_independent_rows_have_no_var_and_few_rows_get_none():
    rng = np.random.default_rng(1)
    assert fit_var(rng.laplace(size=(2000, 4))).order == 0
    frame = pd.DataFrame(rng.normal(size=(12, 4)), columns=list("abcd"))
    assert innovation_rows(frame, list("abcd")) is None          # too few rows for any lag
    frame.iloc[3, 1] = np.nan
    assert innovation_rows(frame, list("abcd")) is None


def test_a_short_reference_gets_a_low_order_and_a_firmer_ridge():
    rng = np.random.default_rng(2)
    Z = lfilter([1.0], [1.0, -0.9], rng.uniform(-1, 1, (150, 12)), axis=0)
    fit = fit_var(Z)
    assert fit.order == 1 and fit.ridge > 5e-3                  # 12 lags per equation on 150 rows
    own = np.diag(fit.coefs[0])                                  # each sensor's own memory kept
    assert own.min() > 0.6 and own.mean() > 0.75


def test_time_series_discovery_finds_the_chain_the_autocorrelated_levels_hide():
    # x -> y -> z in the same row, each sensor's own disturbance AR(1) 0.9 of uniform shocks:
    # the levels are nearly Gaussian, the innovations as non-Gaussian as the shocks.
    found = {True: 0, False: 0}
    for seed in range(10):
        frame = ar_chain(1000, 0.9, seed)
        for innovations in (True, False):
            settings = DiscoverySettings(method="lingam", n_bootstrap=0, time_series=True,
                                         var_innovations=innovations)
            keys = discover(frame, CHAIN.constraints(), [], settings).graph.edge_keys
            found[innovations] += {("x", "y"), ("y", "z")} <= keys
    assert found[True] == 10 and found[False] <= 6


def test_the_innovations_are_what_discovery_saw():
    frame = ar_chain(1000, 0.9, 3)
    settings = DiscoverySettings(method="lingam", n_bootstrap=3, time_series=True, n_jobs=1,
                                 var_innovations=True)
    res = discover(frame, CHAIN.constraints(), [], settings)
    assert any("innovations of a VAR(1)" in m for m in res.messages)
    # The noise checks are the innovations' (uniform shocks: excess kurtosis near -1.2), not
    # the levels' (near 0), and the resamples ran on them too.
    x = next(c for c in res.noise_checks if c.node == "x")
    assert x.excess_kurtosis < -0.9 and not x.near_gaussian
    levels = discover(frame, CHAIN.constraints(), [], DiscoverySettings(
        method="lingam", n_bootstrap=0, time_series=True, var_innovations=False))
    assert next(c for c in levels.noise_checks if c.node == "x").excess_kurtosis > -0.5
    assert not any("innovations" in m for m in levels.messages)
    assert all(e.confidence is not None for e in res.graph.edges)


def test_rows_per_part_are_untouched_by_the_innovations():
    # time_series off: the flag changes nothing (same graph, coefficients, order, checks).
    frame = ar_chain(800, 0.0, 5)
    a = discover(frame, CHAIN.constraints(), [], DiscoverySettings(n_bootstrap=2, n_jobs=1,
                                                                    var_innovations=True)).to_dict()
    b = discover(frame, CHAIN.constraints(), [], DiscoverySettings(n_bootstrap=2, n_jobs=1,
                                                                    var_innovations=False)).to_dict()
    assert a == b
    # Independent rows called a time series: no past to take out, the levels as before.
    c = discover(frame, CHAIN.constraints(), [], DiscoverySettings(n_bootstrap=0, time_series=True,
                                                                    var_innovations=True)).to_dict()
    d = discover(frame, CHAIN.constraints(), [], DiscoverySettings(n_bootstrap=0, time_series=True,
                                                                    var_innovations=False)).to_dict()
    assert c == d


def test_a_declared_loop_keeps_the_levels():
    # The layout's MV -> CV stands for the valve's action over time, which the levels carry.
    rng = np.random.default_rng(4)
    n = 800
    load = lfilter([1.0], [1.0, -0.8], rng.uniform(-1, 1, n))
    temp, valve = np.zeros(n), np.zeros(n)
    for t in range(1, n):
        temp[t] = 0.6 * temp[t - 1] + 0.4 * (load[t] - 0.5 * valve[t - 1]) + 0.05 * rng.laplace()
        valve[t] = valve[t - 1] + 0.4 * temp[t]
    frame = pd.DataFrame({"load": load, "temp": 180 + temp, "valve": 50 + valve + 0.2 * rng.uniform(-1, 1, n)})
    frame["y"] = 90 - 2.0 * frame["temp"] + rng.laplace(0, 0.5, n)
    text = ('[plant]\nname = "r"\ntarget = "y"\n\n[[station]]\nname = "Feed"\nsensors = ["load"]\n\n'
            '[[station]]\nname = "Reactor"\nsensors = ["temp", "valve", "y"]\n')
    looped = parse_layout(text + '\n[[loop]]\ncontrolled = "temp"\nmanipulated = "valve"\nsetpoint = 180.0\n')
    c = looped.constraints()
    assert loop_pairs(c) == {("valve", "temp")} and not loop_pairs(parse_layout(text).constraints())
    on, off = (discover(frame, c, [], DiscoverySettings(method="lingam", n_bootstrap=0, time_series=True,
                                                        var_innovations=v)).to_dict() for v in (True, False))
    assert on == off and ("valve", "temp") in {(e["source"], e["target"]) for e in on["graph"]["edges"]}
    # Without the loop the same rows go through their innovations.
    free = discover(frame, parse_layout(text).constraints(), [], DiscoverySettings(
        method="lingam", n_bootstrap=0, time_series=True, var_innovations=True))
    assert any("innovations" in m for m in free.messages)


def test_an_effect_through_a_mixing_volume_stays_an_edge():
    # y reads the outlet of a mixing volume fed by x, which responds from the next row: within a
    # row of innovations x does not move y at all, but the model fits the levels, where the edge
    # is plain (and the alignment's residence times are whole rows, rarely exact).
    rng = np.random.default_rng(6)
    n = 1200
    x = lfilter([1.0], [1.0, -0.7], rng.uniform(-1, 1, n))
    y = lfilter([0.0, 0.1], [1.0, -0.9], 2.0 * x + 0.3 * rng.laplace(size=n)) + 0.02 * rng.laplace(size=n)
    frame = pd.DataFrame({"x": x, "y": y, "kpi": 0.5 * y + 0.05 * rng.uniform(-1, 1, n)})
    layout = parse_layout('[plant]\nname = "tank"\ntarget = "kpi"\n\n[[station]]\nname = "Feed"\nsensors = ["x"]\n\n'
                          '[[station]]\nname = "Tank"\nsensors = ["y", "kpi"]\n')
    res = discover(frame, layout.constraints(), [], DiscoverySettings(method="lingam", n_bootstrap=0,
                                                                      time_series=True, var_innovations=True))
    assert any("innovations" in m for m in res.messages)
    assert {("x", "y"), ("y", "kpi")} <= res.graph.edge_keys


def test_auto_deciding_pc_with_lingam_on_the_innovations_runs_pc_on_the_levels():
    # "pc+lingam" names auto's decision, not a method one can ask for (it crashed the dynamic
    # benchmark's mixing_tanks 701): the levels get PC, as the decision's skeleton is PC's.
    from types import SimpleNamespace

    from rca_app.core.innovations import structure_from_innovations

    asked = []

    def run_structure(X, constraints, settings):
        asked.append(settings.method)
        return SimpleNamespace(method="pc+lingam" if len(asked) == 1 else settings.method)

    settings = DiscoverySettings(method="auto")
    X = np.random.default_rng(0).normal(size=(50, 2))
    out = structure_from_innovations(X, pd.DataFrame(X, columns=["a", "b"]), ["a", "b"], None, settings,
                                     run_structure)
    assert asked == ["auto", "pc"] and out.method == "pc"

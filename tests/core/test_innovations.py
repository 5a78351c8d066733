"""Same-row discovery on time series runs on the VAR innovations (VAR-LiNGAM): the VAR's fit and
order, the direction the innovations recover where the autocorrelated levels hide it, declared
control loops searched as the controller answers, and rows per part exactly as before."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from bench.var_lingam import ar_chain
from rca_app.core.discovery import DiscoverySettings, discover
from rca_app.core.innovations import feedback_search_constraints, fit_var, innovation_rows, without_feedback_cycles
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


def test_a_declared_loop_is_searched_as_the_controller_answers_and_put_back():
    layout = parse_layout('[plant]\nname = "r"\ntarget = "y"\n\n[[station]]\nname = "Reactor"\n'
                          'sensors = ["temp", "valve", "y"]\n\n[[loop]]\ncontrolled = "temp"\n'
                          'manipulated = "valve"\nsetpoint = 180.0\n')
    c = layout.constraints()
    assert ("valve", "temp") in c.required and ("temp", "valve") in c.forbidden
    s = feedback_search_constraints(c)
    assert ("temp", "valve") in s.required and s.allows("temp", "valve") and not s.allows("valve", "temp")
    plain = CHAIN.constraints()
    assert feedback_search_constraints(plain) is plain
    # The search ordered temp first and found temp -> conv -> valve: with valve -> temp that is
    # a cycle, so the edge into the valve goes; temp -> valve itself is the layout's to forbid.
    edges = {("valve", "temp"), ("temp", "conv"), ("conv", "valve"), ("feed", "valve")}
    assert without_feedback_cycles(edges, {("valve", "temp")}) == {("valve", "temp"), ("temp", "conv"),
                                                                     ("feed", "valve")}


def test_a_loop_on_innovations_keeps_the_layouts_edge_and_no_cycle():
    rng = np.random.default_rng(4)
    n = 800
    load = lfilter([1.0], [1.0, -0.8], rng.uniform(-1, 1, n))
    temp, valve = np.zeros(n), np.zeros(n)
    for t in range(1, n):
        temp[t] = 0.6 * temp[t - 1] + 0.4 * (load[t] - 0.5 * valve[t - 1]) + 0.05 * rng.laplace()
        valve[t] = valve[t - 1] + 0.4 * temp[t]
    frame = pd.DataFrame({"load": load, "temp": 180 + temp, "valve": 50 + valve + 0.2 * rng.uniform(-1, 1, n)})
    frame["y"] = 90 - 2.0 * frame["temp"] + rng.laplace(0, 0.5, n)
    layout = parse_layout('[plant]\nname = "r"\ntarget = "y"\n\n[[station]]\nname = "Feed"\nsensors = ["load"]\n\n'
                          '[[station]]\nname = "Reactor"\nsensors = ["temp", "valve", "y"]\n\n[[loop]]\n'
                          'controlled = "temp"\nmanipulated = "valve"\nsetpoint = 180.0\n')
    c = layout.constraints()
    res = discover(frame, c, [], DiscoverySettings(method="lingam", n_bootstrap=0, time_series=True,
                                                   var_innovations=True))
    assert ("valve", "temp") in res.graph.edge_keys and ("temp", "y") in res.graph.edge_keys
    assert not c.violations(res.graph.edge_keys)

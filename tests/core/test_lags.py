"""Residence times from data: the true lag between stations is found (also under slow drift),
declared lags win, and alignment puts cause and effect in one row."""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.lags import align_to_target, cumulative_lags, estimate_station_lags


def _plant(n=3000, lag1=6, lag2=11, seed=0):
    rng = np.random.default_rng(seed)

    def ar(phi, size):
        e = rng.normal(size=size)
        x = np.zeros(size)
        for t in range(1, size):
            x[t] = phi * x[t - 1] + e[t]
        return x

    drift = np.linspace(0, 5, n)                          # a slow drift shared by everything
    moisture = ar(0.8, n) + drift
    feed = ar(0.5, n)
    temp = np.roll(0.9 * moisture, lag1) + 0.5 * ar(0.3, n) + drift
    purity = np.roll(-0.8 * temp + 0.3 * np.roll(feed, lag1), lag2) + 0.5 * ar(0.3, n)
    yield_ = purity + 0.3 * rng.normal(size=n)
    f = pd.DataFrame({"moisture": moisture, "feed": feed, "temp": temp, "purity": purity, "yield": yield_})
    return f.iloc[50:].reset_index(drop=True)       # drop the wrapped-around start


def test_true_lags_found_with_confidence():
    f = _plant()
    stations = [["moisture", "feed"], ["temp"], ["purity", "yield"]]
    lags = estimate_station_lags(f, stations, max_lag=20, n_bootstrap=10)
    assert [e.lag_steps for e in lags] == [6, 11]
    assert all(e.confidence >= 0.8 for e in lags)
    assert lags[0].profile[6] == max(lags[0].profile)


def test_declared_lag_wins_and_alignment_joins_cause_and_effect():
    f = _plant()
    stations = [["moisture", "feed"], ["temp"], ["purity", "yield"]]
    lags = estimate_station_lags(f, stations, max_lag=20, given={1: 11}, n_bootstrap=0)
    assert lags[1].given and lags[1].lag_steps == 11
    cum = cumulative_lags(lags, 3, target_station=2)
    assert cum == [17, 11, 0]
    station_of = {c: i for i, st in enumerate(stations) for c in st}
    aligned = align_to_target(f, station_of, cum)
    assert len(aligned) == len(f) - 17
    before = abs(np.corrcoef(np.diff(f["moisture"]), np.diff(f["yield"]))[0, 1])
    after = abs(np.corrcoef(np.diff(aligned["moisture"]), np.diff(aligned["yield"]))[0, 1])
    assert before < 0.1 < 0.3 < after


def test_no_lag_is_used_between_independent_stations():
    from rca_app.core.dynamics import lag_is_used

    # Unrelated series: the estimate is weak or its resamples scatter, whatever the seed.
    for seed in range(8):
        rng = np.random.default_rng(seed)
        noise = pd.DataFrame({"u": rng.standard_normal(360), "d": rng.standard_normal(360)})
        e = estimate_station_lags(noise, [["u"], ["d"]], 30, n_bootstrap=10, seed=seed)[0]
        assert not lag_is_used(e) or e.lag_steps == 0, (seed, e.lag_steps, e.confidence, e.interval, e.score)


def test_a_lag_is_not_used_when_the_resamples_scatter_or_include_no_lag():
    from rca_app.core.dynamics import lag_is_used
    from rca_app.core.lags import LagEstimate

    placed = LagEstimate(0, 1, 4, 0.17, 0.5, interval=(4, 6))
    assert lag_is_used(placed)
    assert not lag_is_used(LagEstimate(0, 1, 4, 0.17, 0.5, interval=(0, 6)))     # no lag not excluded
    assert not lag_is_used(LagEstimate(0, 1, 4, 0.17, 0.5, interval=(2, 19)))    # scattered
    assert not lag_is_used(LagEstimate(0, 1, 28, 0.03, 0.0, interval=(20, 23)))  # the resamples elsewhere
    assert not lag_is_used(LagEstimate(0, 1, 4, 0.01, 0.9, interval=(4, 4)))     # no lagged relation at all
    assert lag_is_used(LagEstimate(0, 1, 4, 0.17, 0.7, interval=(2, 19)))        # most resamples agree

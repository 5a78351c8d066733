"""Conformal bands: per-row coverage on exchangeable rows, window-mean coverage on autocorrelated
rows where the naive band under-covers, and honest flags when calibration is too small."""
from __future__ import annotations

import numpy as np

from rca_app.core.conformal import row_band, window_mean_band


def _ar1(rng, n, phi=0.8):
    e = rng.normal(size=n)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def test_row_band_covers_new_rows():
    rng = np.random.default_rng(0)
    hits = []
    for _ in range(300):
        calib = rng.standard_t(4, size=200)
        band = row_band(calib, 0.9)
        new = rng.standard_t(4)
        hits.append(band.low <= new <= band.high)
    assert band.exact and band.n_calibration == 200
    assert 0.86 <= np.mean(hits) <= 0.95


def test_window_mean_band_covers_autocorrelated_means_where_the_iid_band_does_not():
    rng = np.random.default_rng(1)
    m, hits, naive = 48, [], []
    for _ in range(200):
        series = _ar1(rng, 3000 + m)
        calib, future = series[:3000], series[3000:]
        band = window_mean_band(calib, m, 0.9)
        hits.append(band.low <= future.mean() <= band.high)
        q = row_band(calib, 0.9).high / np.sqrt(m)          # the iid answer: far too narrow
        naive.append(-q <= future.mean() <= q)
    assert 0.84 <= np.mean(hits) <= 0.97
    assert np.mean(naive) < 0.7
    assert band.n_calibration == 3000 // m and not band.exact


def test_too_little_calibration_is_said():
    assert not row_band(np.arange(5.0), 0.9).exact
    assert np.isnan(window_mean_band(np.arange(5.0), 10).low)

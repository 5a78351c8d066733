"""Residence times between stations, estimated from time-series data, and the alignment they give.

In a continuous plant, material takes time to flow from one station to the next: a change in the
raw material shows at the reactor minutes later and in the yield later still. Cause and effect
then sit in different rows, and a row-by-row analysis sees only noise. Given the stations in
flow order, the residence time from station s to s+1 is estimated as the lag at which station s's
sensors best predict station s+1's (lagged least squares, summed R^2 over the downstream
sensors, within ``max_lag`` steps), on first differences so that slow drifts common to both do
not make every lag look alike. Its confidence is the share of moving-block bootstrap resamples
whose estimate falls within one step of it.

Aligning moves each sensor forward by its station's cumulative residence time to the KPI's
station, so that one row holds the material that became that row's KPI.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BOOTSTRAP_ROWS = 2000         # rows in each block-bootstrap resample of the confidence


@dataclass
class LagEstimate:
    """Residence time from one station to the next.

    Attributes
    ----------
    from_station, to_station : int
        Station indices in flow order (``to_station = from_station + 1``).
    lag_steps : int
        The estimate, in grid steps.
    score : float
        Mean R^2 of the downstream sensors at that lag (differenced data).
    confidence : float
        Share of block-bootstrap resamples estimating within one step of ``lag_steps``.
    profile : list of float
        Score at every lag 0..max_lag (for a plot).
    given : bool
        True when declared in the layout rather than estimated.
    interval : (int, int) or None
        The 5th to 95th percentile of the resamples' estimates (None: no resamples).
    """

    from_station: int
    to_station: int
    lag_steps: int
    score: float
    confidence: float
    profile: list[float] = field(default_factory=list)
    given: bool = False
    interval: tuple[int, int] | None = None


def _lag_scores(U: np.ndarray, D: np.ndarray, max_lag: int) -> np.ndarray:
    """Mean R^2 of each column of D(t) regressed on all columns of U(t - k), k = 0..max_lag."""
    n = len(U)
    scores = np.full(max_lag + 1, np.nan)
    for k in range(max_lag + 1):
        m = n - k
        if m <= U.shape[1] + 5:
            break
        A = U[:m]
        Y = D[k:]
        A = A - A.mean(axis=0)
        Y = Y - Y.mean(axis=0)
        coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
        resid = Y - A @ coef
        tot = (Y * Y).sum(axis=0)
        ok = tot > 0
        if not ok.any():
            scores[k] = 0.0
            continue
        r2 = 1 - (resid * resid).sum(axis=0)[ok] / tot[ok]
        # Adjusted for the number of upstream sensors, so longer overlaps compare fairly.
        p = U.shape[1]
        scores[k] = float(np.mean(1 - (1 - r2) * (m - 1) / max(1, m - p - 1)))
    return scores


def _standardised_differences(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    X = frame[cols].to_numpy(dtype=float)
    dX = np.diff(X, axis=0)
    sd = dX.std(axis=0)
    dX = (dX - dX.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return np.nan_to_num(dX)


def estimate_station_lags(frame: pd.DataFrame, stations: list[list[str]], max_lag: int,
                          given: dict[int, int] | None = None, n_bootstrap: int = 20,
                          seed: int = 0, only: set[int] | None = None,
                          resample_zero: bool = False) -> list[LagEstimate]:
    """Residence time between each pair of consecutive stations.

    Parameters
    ----------
    frame : DataFrame
        Numeric sensors on a regular time grid, in time order (no gaps).
    stations : list of list of str
        Each station's numeric sensors, in flow order.
    max_lag : int
        Largest residence time tried, in grid steps.
    given : dict, optional
        Station index -> declared lag (steps) to the next station; declared values win.
    n_bootstrap : int
        Moving-block resamples for the confidence (0, or an estimate of no lag: no confidence,
        reported as NaN).
    seed : int
    only : set of int, optional
        Estimate only the pairs starting at these stations.
    resample_zero : bool
        Resample an estimate of no lag too (to check a declared lag against it).

    Returns
    -------
    list of LagEstimate
        One per consecutive pair of stations with sensors on both sides.
    """
    given = dict(given or {})
    rng = np.random.default_rng(seed)
    out = []
    for s in range(len(stations) - 1):
        up, down = stations[s], stations[s + 1]
        if s in given:
            out.append(LagEstimate(s, s + 1, int(given[s]), float("nan"), 1.0, [], True))
            continue
        if not up or not down or (only is not None and s not in only):
            continue
        U, D = _standardised_differences(frame, up), _standardised_differences(frame, down)
        profile = _lag_scores(U, D, max_lag)
        best = int(np.nanargmax(profile))
        hits = []
        n = len(U)
        block = max(max_lag * 2, int(round(n ** (1 / 3))))
        # No lag needs no confidence: nothing is shifted, so the resamples would be wasted.
        # Resamples of at most BOOTSTRAP_ROWS rows: enough to tell a lag apart, and the cost
        # stays bounded on long histories.
        n_blocks = int(np.ceil(min(n, BOOTSTRAP_ROWS) / block))
        found = []
        for _ in range(n_bootstrap if best > 0 or resample_zero else 0):
            # Resample blocks of consecutive rows with the same start for both sides, so the
            # lagged relation inside each block survives.
            starts = rng.integers(0, max(1, n - block - max_lag), n_blocks)
            scores = np.zeros(max_lag + 1)
            for st in starts:
                seg = slice(st, st + block + max_lag)
                sc = _lag_scores(U[seg], D[seg], max_lag)
                scores += np.nan_to_num(sc, nan=-np.inf)
            found.append(int(np.argmax(scores)))
            hits.append(abs(found[-1] - best) <= 1)
        conf = float(np.mean(hits)) if hits else float("nan")
        interval = (int(np.floor(np.percentile(found, 5))), int(np.ceil(np.percentile(found, 95)))) if found else None
        out.append(LagEstimate(s, s + 1, best, float(profile[best]), conf,
                               [float(v) for v in np.nan_to_num(profile, nan=0.0)], interval=interval))
    return out


def cumulative_lags(lags: list[LagEstimate], n_stations: int, target_station: int) -> list[int]:
    """Steps from each station to the target's station (0 at and after it).

    Parameters
    ----------
    lags : list of LagEstimate
        Residence times between consecutive stations.
    n_stations : int
        Number of stations in the layout.
    target_station : int
        Station index of the KPI.

    Returns
    -------
    list of int
        One per station.
    """
    step = {e.from_station: e.lag_steps for e in lags}
    cum = [0] * n_stations
    for s in range(target_station - 1, -1, -1):
        cum[s] = cum[s + 1] + step.get(s, 0)
    return cum


def align_to_target(frame: pd.DataFrame, station_of: dict[str, int], cumulative: list[int]) -> pd.DataFrame:
    """Shift each sensor forward by its station's cumulative residence time to the target.

    Row t of the result holds, for a sensor at station s, its value at ``t - cumulative[s]``:
    the material that reached the target at t. Rows at the start without every sensor's past are
    dropped; columns in no station (the time column) are kept as they are.

    Parameters
    ----------
    frame : DataFrame
        Sensors on a regular time grid, in time order.
    station_of : dict of str to int
        Sensor -> station index.
    cumulative : list of int
        From :func:`cumulative_lags`.

    Returns
    -------
    DataFrame
        The aligned rows.
    """
    shifted = {}
    for c in frame.columns:
        k = cumulative[station_of[c]] if c in station_of else 0
        shifted[c] = frame[c].shift(k) if k else frame[c]
    out = pd.DataFrame(shifted, index=frame.index)
    first = max((cumulative[s] for s in set(station_of.values())), default=0)
    return out.iloc[first:]

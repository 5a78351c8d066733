"""Residence time into a station of lab values only, estimated on the rows where they were sampled.

The residence time from one station to the next is estimated from how the first station's
sensors predict the next one's row by row, on first differences (:mod:`rca_app.core.lags`). When
every sensor of the downstream station is a lab value held on the grid between samples (a yield
analysed every 15 minutes on a 1-minute grid: the KPI's own station, the common case), its first
differences are zero on all rows but the sampled ones, and the estimate is noise: on the
continuous sample plant with a 15-minute yield, Separator -> Product came out 0 minutes instead of
5, every upstream sensor was misaligned by 5 rows, and no sensor was linked to the yield.

Here such a residence time is estimated on the samples. Each lab value's samples are set against
every upstream sensor (all stations above, not only the next one: the yield follows the reactor's
conversion two stations up), each aligned by the residence times already estimated for the
stations between, and moved ``k`` more rows back for ``k`` = 0 .. ``lag_max``. Four statistics per
``k``: the best single sensor's r^2 with the samples' levels and with their changes from one
sample to the next, and all sensors' joint R^2 with each (levels carry the most when the samples
are few; changes stay sharp when a slow sensor makes the levels' profile flat). Each is measured
in its spread over pairings that cannot be linked, and the four summed: a real link lifts them
together at its lag. The lag is where the sum peaks.

Whether the samples follow the upstream sensors at all is tested, not assumed from a resample
agreement: with 30 samples of a 30-minute lab the best of 41 lags and 9 sensors is high by
chance, and block resamples of so few samples rarely agree on the lag even when it is right (the
continuous plant at 30 minutes: the right 5 minutes, 33% agreement; at one sampling offset a
wrong 2 minutes with 72%). The best is compared with the best of time-shifted copies of the
samples (each sample paired with the plant some hundreds of rows away, wrapped round the
reference period), which keep the samples' and the sensors' own autocorrelation and the search
over every lag and sensor, and break only the link (:func:`_p_value`). A lag is used when the
p-value is below the engine's edge-test level (:data:`~rca_app.core.pruning.PRUNE_ALPHA`). When
none is, the lag stays as the grid rows had it, and the station's lab values get no link from the
stations upstream (:func:`rca_app.core.lab_tags.lab_tag_rows`'s ``unlinked``): the search was that
test, at every lag, and a second look at the one lag left passed on noise (2 of 20 simulated lab
KPIs with no cause among the sensors). A note says which. A declared lag always wins.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rca_app.core.autocorrelation import memory
from rca_app.core.lab_tags import MIN_LAB_SAMPLES, MIN_RESIDUAL_DOF, fresh_rows
from rca_app.core.pruning import PRUNE_ALPHA
from rca_app.core.result_notes import Note

# Fewest non-overlapping windows of lags the time-shifted copies of the samples must span (every
# shift the reference allows is used): the copies' spread is read from no fewer.
MIN_WINDOWS = 10


@dataclass
class LabLag:
    """The residence time into a lab station as its samples show it.

    Attributes
    ----------
    lag : int
        Grid steps.
    r2 : float
        The best upstream sensor's r^2 with the samples' levels at that lag.
    sensor : str
        That sensor.
    p_value : float
        How often time-shifted copies of the samples match the upstream as well (:func:`_p_value`).
    n_samples : int
    n_shifts : int
    """

    lag: int
    r2: float
    sensor: str
    p_value: float
    n_samples: int
    n_shifts: int

    @property
    def found(self) -> bool:
        return self.p_value < PRUNE_ALPHA


def _r2(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Squared correlation of ``y`` (B, n) with each column of ``X`` (B, n, C): (B, C)."""
    yc = y - y.mean(axis=-1, keepdims=True)
    Xc = X - X.mean(axis=-2, keepdims=True)
    num = (yc[:, None, :] @ Xc)[:, 0, :]
    den = np.sqrt((yc * yc).sum(axis=-1))[:, None] * np.sqrt((Xc * Xc).sum(axis=-2))
    return np.where(den > 1e-12, num / np.where(den > 1e-12, den, 1.0), 0.0) ** 2


def _joint_r2(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """R^2 of ``y`` (B, n) on all columns of ``X`` (B, n, C) together: (B,)."""
    yc = y - y.mean(axis=-1, keepdims=True)
    Xc = X - X.mean(axis=-2, keepdims=True)
    G = Xc.transpose(0, 2, 1) @ Xc
    b = (yc[:, None, :] @ Xc)[:, 0, :]
    ridge = (1e-9 * np.trace(G, axis1=1, axis2=2) + 1e-300)[:, None, None] * np.eye(X.shape[2])
    coef = np.linalg.solve(G + ridge, b[..., None])[..., 0]
    yy = (yc * yc).sum(axis=-1)
    return np.where(yy > 0, (b * coef).sum(axis=-1) / np.where(yy > 0, yy, 1.0), 0.0)


# Four statistics of one pairing: the best single sensor's r^2 with the samples' levels and with
# their changes from one sample to the next, and all sensors' joint R^2 with each.
STATISTICS = ("levels", "changes", "levels, all sensors", "changes, all sensors")


def _by_offset(parts, U: np.ndarray, offsets: np.ndarray, window: tuple[int, int]):
    """The statistics (:data:`STATISTICS`; each lab value weighted by its samples) with each
    sample paired with the upstream sensors ``m`` rows later (``m`` < 0: earlier), wrapped round
    ``window``, for each ``m`` of ``offsets``: (offsets, statistics); and each sensor's r^2 with
    the levels: (offsets, sensors)."""
    lo, hi = window
    M, C = len(offsets), U.shape[1]
    out = np.zeros((M, len(STATISTICS)))
    single = np.zeros((M, C))
    total = sum(len(y) for y, _, _ in parts)
    # In batches: offsets x samples x sensors values at a time.
    per = max(1, int(2e6 // (total * C)))
    for i in range(0, M, per):
        m = offsets[i: i + per]
        for y, rows, back in parts:
            n = len(y)
            idx = rows[None, :, None] - back[None, None, :] + m[:, None, None]
            X = U[lo + (idx - lo) % (hi - lo), np.arange(C)]              # (batch, n, C)
            yy = np.broadcast_to(y, (len(m), n))
            dy, dX = np.diff(yy, axis=1), np.diff(X, axis=1)
            r_lev = _r2(yy, X)
            out[i: i + per, 0] += n * r_lev.max(axis=1)
            out[i: i + per, 1] += n * _r2(dy, dX).max(axis=1)
            # All sensors together only where the samples leave residual degrees of freedom.
            if n >= C + MIN_RESIDUAL_DOF + 2:
                out[i: i + per, 2] += n * _joint_r2(yy, X)
                out[i: i + per, 3] += n * _joint_r2(dy, dX)
            single[i: i + per] += n * r_lev
    return out / total, single / total


def _p_value(observed: float, null: np.ndarray) -> float:
    """How often copies match as well as the samples (module text): the larger of the copies'
    share at least as good and the tail of an extreme-value (Gumbel) law with the copies' mean
    and spread.

    Neighbouring copies share all lags but one, so their best matches move together: a share
    of copies alone cannot go below one over the non-overlapping windows among them however many
    there are (a 16-hour reference searched over 40 minutes holds some 23), and the samples'
    best beats them all by chance far more often than the share says. The Gumbel law, the limit
    of a maximum over many lags and sensors, reads the tail from the copies' bulk instead."""
    sd = null.std()
    if sd <= 0:
        return 1.0
    beta = sd * np.sqrt(6.0) / np.pi
    loc = null.mean() - np.euler_gamma * beta
    tail = -np.expm1(-np.exp(-(observed - loc) / beta))
    return max(float(tail), float((null >= observed).sum() + 1) / (len(null) + 1))


def _lab_lag(on_grid: pd.DataFrame, up: list[str], back: dict[str, dict[str, int]], down: dict[str, np.ndarray],
             max_lag: int, window: tuple[int, int]) -> LabLag | None:
    """The lag into a lab station (module text). ``back[tag][sensor]``: rows the sensor is
    already moved back against the tag by the other stations' residence times; ``down``: each
    lab value's sampled grid positions; ``window``: the reference period's grid positions."""
    lo, hi = window
    U = on_grid[up].to_numpy(float)[lo:hi]
    U = np.where(np.isfinite(U), U, np.nanmean(U, axis=0))
    U = (U - U.mean(axis=0)) / np.where(U.std(axis=0) > 0, U.std(axis=0), 1.0)
    U = np.vstack([np.zeros((lo, len(up))), U])      # row p is grid position p
    parts = []
    for tag, rows in down.items():
        b = np.array([back[tag][c] for c in up])
        rows = rows[(rows - max_lag - b.max() >= lo) & (rows < hi)]
        y = on_grid[tag].to_numpy(float)[rows]
        if len(rows) >= MIN_LAB_SAMPLES and np.isfinite(y).all() and y.std() > 0:
            parts.append((y, rows, b))
    if not parts:
        return None
    # The copies: every shift far enough from the true pairing that no lag searched reaches
    # back to it, nor a sensor's own memory of it.
    reach = max_lag + max(int(p[2].max()) for p in parts) + max(memory(U[lo:, j]) for j in range(len(up)))
    shifts = np.arange(reach + 1, hi - lo - reach)
    if len(shifts) < MIN_WINDOWS * (max_lag + 1):
        return None
    # Lag k of a copy shifted by s pairs each sample with the plant s - k rows later: each
    # offset is computed once, and each copy's profile over k read from them.
    offsets = np.arange(shifts[0] - max_lag, shifts[-1] + 1)
    stats, _ = _by_offset(parts, U, offsets, window)
    profile, single = _by_offset(parts, U, -np.arange(max_lag + 1), window)                    # (k, stats)
    # One score per pairing: the statistics, each measured in its spread over the copies' pairings,
    # summed (a real link lifts them together at its lag; noise lifts one here, another there).
    centre, spread = stats.mean(axis=0), stats.std(axis=0)
    used = spread > 0
    score = ((stats[:, used] - centre[used]) / spread[used]).sum(axis=1)
    observed = ((profile[:, used] - centre[used]) / spread[used]).sum(axis=1)
    null = score[shifts[:, None] - np.arange(max_lag + 1)[None, :] - offsets[0]].max(axis=1)   # (copies,)
    p = _p_value(float(observed.max()), null)
    k = int(np.argmax(observed))
    j = int(np.argmax(single[k]))
    return LabLag(k, float(single[k, j]), up[j], p, sum(len(p_[1]) for p_ in parts), len(shifts))


def realign_for_lab_stations(data, layout, timed, reference: slice, incident: slice, seed: int = 0):
    """The residence-time alignment, with the lag into each station whose sensors are all lab
    values estimated on their sampled rows (module text).

    Parameters
    ----------
    data : PlantData
    layout : Layout
    timed : TimeAlignment or None
        From :func:`rca_app.core.dynamics.align_for_time`.
    reference, incident : slice
        The windows (rows as recorded).
    seed : int

    Returns
    -------
    TimeAlignment or None
        ``timed`` itself when nothing changes.
    """
    from rca_app.core.dynamics import LAG_ROWS, align_for_time, duration_text
    from rca_app.core.lags import LagEstimate
    from rca_app.core.layout.time_keys import AUTO

    if timed is None or timed.step is None or timed.max_lag <= 0:
        return timed
    lab = fresh_rows(data, timed.step)
    if not lab:
        return timed
    numeric = set(data.numeric_nodes)
    # Rows dropped for gaps are holes in the grid: the lags are counted on the complete grid
    # (row p = grid step p, core/grid_holes.py), the samples placed on it by their grid step.
    full = getattr(timed, "full", None)
    on_grid = full.frame if full is not None else data.frame
    stations = [[s for s in st.sensors if s in numeric and s in on_grid.columns] for st in layout.stations]
    target_station = layout.tier_of(layout.target)
    used = {r.station: r.lag_steps for r in timed.record.lags}
    shifts = timed.record.shifts
    first = max(reference.start, reference.stop - LAG_ROWS)
    if reference.stop <= first:
        return timed
    positions = np.asarray(full.grid.positions) if full is not None else np.arange(data.n_rows)
    window = (int(positions[first]), int(positions[reference.stop - 1]) + 1)
    step = timed.step
    new: dict[int, LabLag] = {}
    said: dict[str, str] = {}
    unlinked: dict[str, str] = {}
    for s in range(target_station):
        down = stations[s + 1]
        if layout.stations[s].lag not in (None, AUTO) or not down or any(c not in lab for c in down):
            continue
        a, b = layout.stations[s].name, layout.stations[s + 1].name
        up = [c for st in stations[: s + 1] for c in st if c not in lab]
        if not up:
            continue
        # Each upstream sensor stays aligned by the residence times already estimated between
        # it and this station; only this station's own lag is searched.
        back = {t: {c: shifts.get(c, 0) - shifts.get(t, 0) - used.get(a, 0) for c in up} for t in down}
        rows = {t: positions[r[(r >= first) & (r < reference.stop)]] for t, r in lab.items() if t in down}
        est = _lab_lag(on_grid, up, back, rows, timed.max_lag, window)
        if est is None:
            continue
        head = (f"residence time {a} -> {b}: every sensor of {b} is a lab value held between samples "
                f"({', '.join(down)}), so it was estimated on the {est.n_samples} reference rows where they were "
                f"sampled, against every sensor upstream at each lag up to {duration_text(step * timed.max_lag)}")
        grid_read = duration_text(step * used.get(a, 0))
        if est.found:
            new[s] = est
            said[a] = (f"{head}: {duration_text(step * est.lag)} ({est.sensor} matches them best there, r2 "
                       f"{est.r2:.2f}; p = {est.p_value:.3f} against {est.n_shifts} time-shifted copies of the "
                       f"samples; on every grid row it read {grid_read})")
        else:
            said[a] = (f"{head}: no lag ties them to a sensor upstream more closely than time-shifted copies of the "
                       f"samples do (p = {est.p_value:.2f}; below {PRUNE_ALPHA:g} needed), so "
                       + ("no lag is used" if not used.get(a, 0) else f"the {grid_read} read on every grid row is kept")
                       + f" and no link from {a} or the stations before it into {', '.join(down)} is drawn")
            for t in down:
                unlinked[t] = (f"no lag up to {duration_text(step * timed.max_lag)} tied its samples to a sensor "
                               f"upstream more closely than time-shifted copies of them (p = {est.p_value:.2f})")
    if not said:
        return timed
    # The grid's own note on these stations is about held copies: the samples' note replaces it.
    stale = tuple(f"residence time {a} -> " for a in said)
    if not new:
        out = copy.copy(timed)
    else:
        # The other stations keep the estimates already made (handed in, not estimated again): only
        # the lab stations' residence times are new, so every other lag, confidence and note stays.
        index = {st.name: i for i, st in enumerate(layout.stations)}
        kept = {index[r.station]: LagEstimate(index[r.station], index[r.station] + 1, r.estimate_steps,
                                              float("nan") if r.score is None else r.score,
                                              float("nan") if r.confidence is None else r.confidence)
                for r in timed.record.lags if not r.given and r.estimate_steps is not None}
        kept.update({s: LagEstimate(s, s + 1, e.lag, e.r2, 1.0 - e.p_value) for s, e in new.items()})
        out = align_for_time(data, layout, reference, incident, seed, estimated=kept)
        assert out is not None   # the same even grid as ``timed``
    notes: list[str | Note] = list(said.values())
    out.messages = notes + [m for m in out.messages if not str(m).startswith(stale)]
    # Read by lab_tags.lab_tag_rows: the search over lags was the test of these tags' upstream
    # links, and it found none.
    out.lab_unlinked = unlinked
    return out

"""Residence time into a station of lab values only, estimated on the rows where they were sampled.

The residence time from one station to the next is estimated from how the first station's
sensors predict the next one's row by row, on first differences (:mod:`rca_app.core.lags`). When
every sensor of the downstream station is a lab value held on the grid between samples (a yield
analysed every 15 minutes on a 1-minute grid: the KPI's own station, the common case), its first
differences are zero on all rows but the sampled ones, and the estimate is noise: on the
continuous sample plant with a 15-minute yield, Separator -> Product came out 0 minutes instead of
5, every upstream sensor was misaligned by 5 rows, and no sensor was linked to the yield.

Here such a residence time is estimated as the grid estimate is, on the sampled rows: the change
of each lab value from one sample to the next against the change of the upstream station's
sensors over the same interval, ``k`` rows earlier (least squares, adjusted R^2, ``k`` up to
``lag_max``); its confidence is the share of block resamples of the samples that agree within one
step. A confident estimate replaces the grid's, which is then said; a declared lag always wins.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.autocorrelation import moving_block_rows
from rca_app.core.lab_tags import MIN_LAB_SAMPLES, fresh_rows
from rca_app.core.result_notes import Note

N_RESAMPLES = 40


def _profile(y: np.ndarray, U: np.ndarray, rows: np.ndarray, max_lag: int,
             pairs: np.ndarray | None = None) -> np.ndarray:
    """Adjusted R^2 of the lab value's sample-to-sample changes on the upstream sensors' changes
    over the same intervals, ``k`` rows earlier, for k = 0..max_lag (``pairs``: of these
    consecutive pairs of samples only, e.g. a resample)."""
    a, b = rows[:-1], rows[1:]
    if pairs is not None:
        a, b = a[pairs], b[pairs]
    dy = y[b] - y[a]
    n, p = len(dy), U.shape[1]
    out = np.full(max_lag + 1, np.nan)
    if n <= p + 5 or dy.var() == 0:
        return out
    for k in range(max_lag + 1):
        dX = U[b - k] - U[a - k]
        A = np.column_stack([np.ones(n), dX])
        r = dy - A @ np.linalg.lstsq(A, dy, rcond=None)[0]
        out[k] = 1 - (1 - (1 - r.var() / dy.var())) * (n - 1) / max(1, n - p - 1)
    return out


def _estimate(frame: pd.DataFrame, up: list[str], down: dict[str, np.ndarray], max_lag: int,
              seed: int) -> tuple[int, float, float, int] | None:
    """The lag, its score, its confidence and the samples used (None: too few samples)."""
    U = frame[up].to_numpy(float)
    U = (U - np.nanmean(U, axis=0)) / np.where(np.nanstd(U, axis=0) > 0, np.nanstd(U, axis=0), 1.0)
    parts = [(frame[tag].to_numpy(float), rows) for tag, rows in down.items() if len(rows) > MIN_LAB_SAMPLES]
    if not parts:
        return None

    def score(rng=None) -> np.ndarray:
        # A resample draws blocks of consecutive sample-to-sample changes.
        profiles = [_profile(y, U, rows, max_lag,
                             None if rng is None else moving_block_rows(len(rows) - 1, len(rows) - 1, rng))
                    for y, rows in parts]
        # Each lab value weighs as many samples as it has.
        P = np.vstack(profiles)
        w = np.array([len(rows) for _, rows in parts], dtype=float)[:, None] * np.isfinite(P)
        return np.where(w.sum(axis=0) > 0, (np.nan_to_num(P) * w).sum(axis=0) / np.maximum(w.sum(axis=0), 1e-300),
                        np.nan)

    with np.errstate(all="ignore"):
        profile = score()
        if not np.isfinite(profile).any():
            return None
        best = int(np.nanargmax(profile))
        rng = np.random.default_rng(seed)
        hits = []
        for _ in range(N_RESAMPLES):
            prof = score(rng)
            hits.append(bool(np.isfinite(prof).any()) and abs(int(np.nanargmax(prof)) - best) <= 1)
    return best, float(profile[best]), float(np.mean(hits)), sum(len(r) for _, r in parts)


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
    from rca_app.core.dynamics import (
        LAG_ROWS,
        MIN_CONFIDENCE,
        MIN_LAG_SCORE,
        align_for_time,
        duration_text,
    )
    from rca_app.core.lags import LagEstimate
    from rca_app.core.layout.time_keys import AUTO

    if timed is None or timed.step is None or timed.max_lag <= 0:
        return timed
    lab = fresh_rows(data, timed.step)
    if not lab:
        return timed
    frame = data.frame
    numeric = set(data.numeric_nodes)
    stations = [[s for s in st.sensors if s in numeric and s in frame.columns] for st in layout.stations]
    target_station = layout.tier_of(layout.target)
    used = {r.station: r.lag_steps for r in timed.record.lags}
    lo = max(reference.start, reference.stop - LAG_ROWS) + timed.max_lag + 1
    # Rows dropped for gaps are holes in the grid: the lags are counted on the complete grid
    # (row p = grid step p, core/grid_holes.py), the samples placed on it by their grid step.
    full = getattr(timed, "full", None)
    positions = np.asarray(full.grid.positions) if full is not None else None
    on_grid = full.frame if full is not None else frame
    new: dict[int, tuple[int, float, float, int]] = {}
    for s in range(target_station):
        down = stations[s + 1]
        if (layout.stations[s].lag not in (None, AUTO) or not stations[s] or not down
                or any(c not in lab for c in down)):
            continue
        rows = {c: lab[c][(lab[c] >= lo) & (lab[c] < reference.stop)] for c in down}
        if positions is not None:
            rows = {c: positions[r] for c, r in rows.items()}
        est = _estimate(on_grid, stations[s], rows, timed.max_lag, seed + 101 * s)
        if est is None or est[2] < MIN_CONFIDENCE or est[1] < MIN_LAG_SCORE:
            continue
        if est[0] != used.get(layout.stations[s].name, 0):
            new[s] = est
    if not new:
        return timed
    # The other stations keep the estimates already made (handed in, not estimated again): only
    # the lab stations' residence times are new, so every other lag, confidence and note stays.
    index = {st.name: i for i, st in enumerate(layout.stations)}
    kept = {index[r.station]: LagEstimate(index[r.station], index[r.station] + 1, r.estimate_steps,
                                          float("nan") if r.score is None else r.score,
                                          float("nan") if r.confidence is None else r.confidence)
            for r in timed.record.lags if not r.given and r.estimate_steps is not None}
    kept.update({s: LagEstimate(s, s + 1, k, score, conf) for s, (k, score, conf, _) in new.items()})
    out = align_for_time(data, layout, reference, incident, seed, estimated=kept)
    assert out is not None   # the same even grid as ``timed``
    notes: list[str | Note] = []
    for s, (k, _, conf, n) in new.items():
        a, b = layout.stations[s].name, layout.stations[s + 1].name
        notes.append(f"residence time {a} -> {b}: every sensor of {b} is a lab value held between samples "
                     f"({', '.join(stations[s + 1])}), so it was estimated on the {n} reference rows where they "
                     f"were sampled (their change from one sample to the next against {a}'s): "
                     f"{duration_text(timed.step * k)} (confidence {100 * conf:.0f}%; on every grid row it read "
                     f"{duration_text(timed.step * used.get(a, 0))})")
    out.messages = notes + out.messages
    return out

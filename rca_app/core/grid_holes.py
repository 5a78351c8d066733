"""Rows on an even time grid with holes: what the time-aware step does where rows were dropped.

A historian export on a 30 s grid with scattered Bad samples loses a row wherever any tag had
no good value (``gaps="drop"``), and a batch line loses the batches whose lot is unknown. The
rows left are still samples of an even grid, with holes: a residence time of ``L`` steps is
``L`` grid steps, not ``L`` surviving rows. The time-aware step therefore works on the complete
grid (:func:`full_grid`): each sensor's value at every grid time, read from the export where the
row was dropped for another tag's gap, and interpolated along time only where the sensor itself
had no good value (a Bad sample between two good ones, as a historian's interpolated retrieval
would give). Residence times are estimated there, sensors are shifted there, and the aligned
rows are then the analysis rows again (:func:`at_rows`): the analysis itself never sees an
interpolated value of the row's own time, only of a sensor's past.

The model over time (core/lagged_model.py) reads sensors' pasts as lagged inputs. There a
sensor's value is bridged only across a single missing grid step (:data:`BRIDGE_STEPS`); in a
longer run of missing steps (an outage) it is unknown (:func:`unknown_cells`), and the rows
that would read it are cut or that sensor's lagged inputs leave the model (core/dynamics.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rca_app.core.data.times import GRID_TOLERANCE, TimeGrid, time_grid


@dataclass
class FullGrid:
    """Every grid time from the first analysis row to the last.

    Attributes
    ----------
    frame : DataFrame
        One row per grid time (``RangeIndex``: row ``p`` is grid position ``p``).
    filled : DataFrame of bool
        Cells that were not observed (interpolated along time, or the nearest value at an edge).
    grid : TimeGrid
    """

    frame: pd.DataFrame
    filled: pd.DataFrame
    grid: TimeGrid


def data_grid(data) -> TimeGrid | None:
    """The grid ``data``'s rows lie on (judged on the export when rows were dropped).

    Parameters
    ----------
    data : PlantData

    Returns
    -------
    TimeGrid or None
        None without a time column or when the rows are not on an even grid.
    """
    if data.time is None:
        return None
    grid = getattr(data, "grid", None)
    return time_grid(data.time, grid.index if grid is not None else None)


def full_grid(data, grid: TimeGrid, columns=None) -> FullGrid:
    """The analysis columns at every grid time, holes filled (see the module notes).

    Parameters
    ----------
    data : PlantData
    grid : TimeGrid
        From :func:`data_grid`.
    columns : list of str, optional
        Default: every column of ``data.frame``.

    Returns
    -------
    FullGrid
    """
    columns = list(columns if columns is not None else data.frame.columns)
    span = int(grid.positions[-1]) + 1
    frame = data.frame[columns]
    categorical = [c for c in columns if c in data.categorical_nodes]
    out = {c: np.full(span, np.nan) for c in columns if c not in categorical}
    out.update({c: np.full(span, None, dtype=object) for c in categorical})
    exported = getattr(data, "grid", None)
    if exported is not None:
        # Where a row was dropped for another tag's gap, this sensor's own value was exported.
        # (Numeric sensors only: a category's levels may have been pooled since.)
        t0 = data.time.iloc[0]
        off = np.asarray((exported.index - t0) / grid.step, dtype=float)
        pos = np.round(off)
        ok = (np.abs(off - pos) <= GRID_TOLERANCE) & (pos >= 0) & (pos < span)
        first = ~pd.Index(pos[ok]).duplicated(keep="first")
        at = pos[ok][first].astype(np.int64)
        for c in columns:
            if c in exported.columns and c not in categorical:
                out[c][at] = exported[c].to_numpy(dtype=float)[ok][first]
    for c in columns:
        out[c][grid.positions] = frame[c].to_numpy(dtype=object if c in categorical else float)
    full = pd.DataFrame(out, columns=columns)
    filled = full.isna()
    for c in columns:
        if c in categorical:
            full[c] = full[c].ffill().bfill().astype(frame[c].dtype)
        else:
            full[c] = full[c].interpolate(limit_area="inside").ffill().bfill()
    filled.iloc[grid.positions] = False
    return FullGrid(full, filled, grid)


def at_rows(full: pd.DataFrame, grid: TimeGrid, index: pd.Index) -> pd.DataFrame:
    """The grid rows at the analysis rows' positions, indexed like the analysis rows.

    Parameters
    ----------
    full : DataFrame
        Grid rows (row ``p`` = position ``p``).
    grid : TimeGrid
    index : Index
        The analysis rows' index.

    Returns
    -------
    DataFrame
    """
    return full.iloc[grid.positions].set_axis(index, axis=0)


def first_row_from(grid: TimeGrid, position: int) -> int:
    """The first analysis row at or after grid ``position``.

    Parameters
    ----------
    grid : TimeGrid
    position : int

    Returns
    -------
    int
    """
    return int(np.searchsorted(grid.positions, position, side="left"))


def grid_slice(grid: TimeGrid, rows: slice) -> slice:
    """Grid positions spanned by a slice of analysis rows.

    Parameters
    ----------
    grid : TimeGrid
    rows : slice

    Returns
    -------
    slice
    """
    if rows.stop <= rows.start:
        return slice(0, 0)
    return slice(int(grid.positions[rows.start]), int(grid.positions[rows.stop - 1]) + 1)


def holes_note(grid: TimeGrid, used_filled: int, step_text: str) -> str:
    """What the holes changed, for the engineer.

    Parameters
    ----------
    grid : TimeGrid
    used_filled : int
        Aligned values taken from a time at which the sensor had no good sample.
    step_text : str

    Returns
    -------
    str
    """
    n = len(grid.positions)
    text = (f"time grid: {step_text} steps with {grid.holes:,} hole(s) among {n + grid.holes:,} grid times (rows "
            "dropped for a missing value); residence times and lags are counted in grid steps across them")
    if used_filled:
        text += (f"; {used_filled:,} aligned value(s) fell where that sensor had no good sample and were "
                 "interpolated from its neighbouring samples")
    return text


# The longest run of grid steps a sensor may miss and still be bridged (interpolated between its
# neighbouring good samples) where the model over time reads its past. Residence times are only
# resolved to one grid step (an "auto" estimate counts as placed when its resamples agree within
# one step, core/dynamics.py), so a value bridged across one missing step puts no more timing
# error into a lagged input than the lag itself already carries. Two or more steps in a row are an
# outage, not a dropout: those values are unknown and never invented.
BRIDGE_STEPS = 1


def missing_runs(missing: np.ndarray) -> np.ndarray:
    """The length of the run of missing grid steps each step belongs to (0 where observed).

    Parameters
    ----------
    missing : ndarray of bool
        One entry per grid step.

    Returns
    -------
    ndarray of int
    """
    m = np.asarray(missing, dtype=bool)
    out = np.zeros(len(m), dtype=np.int64)
    if not m.any():
        return out
    edges = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for a, b in zip(starts, stops, strict=True):
        out[a:b] = b - a
    return out


def unknown_cells(full: FullGrid, columns, limit: int = BRIDGE_STEPS) -> pd.DataFrame:
    """Cells of the complete grid whose value is unknown: in a run of more than ``limit`` grid
    steps the sensor had no good sample (an outage), or before its first / after its last good
    sample (nothing to bridge from).

    Parameters
    ----------
    full : FullGrid
    columns : iterable of str
    limit : int

    Returns
    -------
    DataFrame of bool
    """
    out = {}
    for c in columns:
        miss = full.filled[c].to_numpy(dtype=bool)
        unknown = missing_runs(miss) > limit
        seen = np.flatnonzero(~miss)
        if len(seen):
            unknown[: seen[0]] = True
            unknown[seen[-1] + 1:] = True
        else:
            unknown[:] = True
        out[c] = unknown
    return pd.DataFrame(out, index=full.frame.index)


def bridged_steps(full: FullGrid, column: str, span: slice, limit: int = BRIDGE_STEPS) -> int:
    """Grid steps within ``span`` where ``column`` had no good sample and was bridged (a run of
    at most ``limit`` missing steps between good samples)."""
    miss = full.filled[column].to_numpy(dtype=bool)
    runs = missing_runs(miss)
    unknown = unknown_cells(full, [column], limit)[column].to_numpy()
    return int((miss & ~unknown & (runs > 0))[span].sum())

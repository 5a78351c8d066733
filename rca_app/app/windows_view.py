"""The reference and incident windows on the KPI chart: rows, chart coordinates, labels, checks.

A window is kept in the engineer's terms (ISO timestamps when the layout names a time column,
else row positions) so that it survives re-reading the file; these functions translate it to
rows of the analysis table and to the chart's x axis, both ways.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from rca_app.core.autocorrelation import is_time_series
from rca_app.core.data import check_window_gaps, rows_for_window
from rca_app.core.errors import RcaInputError
from rca_app.core.windows import check_enough_rows, control_limits, suggest_anomaly_window, window_bound


def axis_values(data) -> np.ndarray:
    """The chart's x value of each row.

    Seconds since 1970 (naive times read as UTC, so the axis shows the times as written), or the
    row position when the data have no time column.

    Parameters
    ----------
    data : PlantData
        The analysis table.

    Returns
    -------
    ndarray of float
        One value per row.
    """
    if data.time is None:
        return np.arange(data.n_rows, dtype=float)
    t = data.time
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((t - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)


def _step(x: np.ndarray) -> float:
    d = np.diff(x)
    return float(np.median(d)) if len(d) else 1.0


def window_from_rows(data, rows: slice) -> list:
    """Rows of the analysis table -> ``[start, end)`` in the engineer's terms.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    rows : slice
        Row positions.

    Returns
    -------
    list
        Two bounds (see :func:`window_bound`).
    """
    return [window_bound(data, rows.start), window_bound(data, rows.stop)]


def window_rows(data, window) -> slice:
    """A window in the engineer's terms -> rows of the analysis table.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    window : list
        ``[start, end)`` in the engineer's terms (ISO timestamps or row positions).

    Returns
    -------
    slice

    Raises
    ------
    RcaInputError
        When the table cannot hold the window (times without a time column, or outside the data).
    """
    return rows_for_window(data, window[0], window[1])


def window_from_axis(data, x0: float, x1: float) -> list:
    """A dragged region ``[x0, x1)`` on the chart -> the window of rows inside it, in the engineer's terms.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    x0, x1 : float
        Chart x values (see :func:`axis_values`), in either order.

    Returns
    -------
    list
        Always at least one row.
    """
    x = axis_values(data)
    n = len(x)
    lo = int(np.clip(np.searchsorted(x, min(x0, x1), "left"), 0, max(0, n - 1)))
    hi = int(np.clip(np.searchsorted(x, max(x0, x1), "left"), lo + 1, n))
    return window_from_rows(data, slice(lo, hi))


def window_to_axis(data, window) -> tuple[float, float]:
    """A window -> the region to draw: from its first row to the row after its last one.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    window : list
        ``[start, end)`` in the engineer's terms (ISO timestamps or row positions).

    Returns
    -------
    (float, float)
        Chart x values.

    Raises
    ------
    RcaInputError
        When the table cannot hold the window (times without a time column, or outside the data).
    """
    rows = window_rows(data, window)
    x = axis_values(data)
    end = x[rows.stop] if rows.stop < len(x) else x[-1] + _step(x)
    return float(x[rows.start]), float(end)


def window_label(data, window) -> str:
    """'2026-03-01 00:00 to 2026-03-14 21:20 (2,000 rows)' for the window under a chart.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    window : list
        ``[start, end)`` in the engineer's terms (ISO timestamps or row positions).

    Returns
    -------
    str

    Raises
    ------
    RcaInputError
        When the table cannot hold the window (times without a time column, or outside the data).
    """
    rows = window_rows(data, window)
    n = rows.stop - rows.start
    if data.time is None:
        return f"rows {rows.start} to {rows.stop - 1} ({n:,} rows)"
    first = data.time.iloc[rows.start]
    last = data.time.iloc[rows.stop - 1]
    fmt = "%Y-%m-%d %H:%M"
    return f"{first.strftime(fmt)} to {last.strftime(fmt)} ({n:,} rows)"


def windows_problem(data, reference, anomaly) -> str | None:
    """Why these windows cannot be analysed yet, in one sentence an engineer can act on.

    Parameters
    ----------
    data : PlantData
    reference, anomaly : list or None
        Windows in the engineer's terms; no reference means every row before the incident.

    Returns
    -------
    str or None
        None when the analysis can run on them.
    """
    if anomaly is None:
        return "Mark the incident window (red band), or press Auto-detect."
    try:
        an = window_rows(data, anomaly)
        ref = window_rows(data, reference) if reference is not None else slice(0, an.start)
    except RcaInputError as e:
        return "; ".join(p.message for p in e.problems)
    if ref.start < an.stop and an.start < ref.stop:
        return "The reference and incident windows overlap: move them apart."
    try:
        check_enough_rows(data, ref, an)      # the engine's rule, said the window's way
    except RcaInputError as e:
        return "; ".join(p.message[:1].upper() + p.message[1:] for p in e.problems) + ". Widen it."
    try:
        check_window_gaps(data, ref, an, reference=reference, incident=anomaly)
    except RcaInputError as e:
        return "; ".join(p.message[:1].upper() + p.message[1:] for p in e.problems)
    return None


def point_window(data, x: float) -> list:
    """The one-row incident window of the point nearest ``x`` on the KPI chart ("investigate
    this batch").

    Parameters
    ----------
    data : PlantData
        The analysis table.
    x : float
        A chart x value (see :func:`axis_values`), e.g. where the engineer clicked.

    Returns
    -------
    list
        ``[start, end)`` holding exactly that row, in the engineer's terms.
    """
    xs = axis_values(data)
    row = int(np.argmin(np.abs(xs - float(x)))) if len(xs) else 0
    return window_from_rows(data, slice(row, row + 1))


def investigate_point(data, x: float, reference=None) -> dict:
    """The windows for "investigate this batch": the clicked row as the incident, the engineer's
    reference kept unless it holds that row (then every row before it).

    Parameters
    ----------
    data : PlantData
    x : float
        Chart x value of the click.
    reference : list, optional
        The reference window marked so far.

    Returns
    -------
    dict
        ``reference`` (list or None) and ``anomaly`` (a one-row window).
    """
    anomaly = point_window(data, x)
    row = window_rows(data, anomaly).start
    if reference is not None:
        ref = window_rows(data, reference)
        if ref.start <= row < ref.stop:
            reference = None
    return {"reference": reference, "anomaly": anomaly}


def kpi_type_text(data, reference=None, anomaly=None) -> str:
    """'KPI type: binary (inferred from its values)' for the incident step.

    Parameters
    ----------
    data : PlantData
    reference, anomaly : list or None
        The windows (a KPI constant in the reference is an event).

    Returns
    -------
    str
    """
    from rca_app.core.incident_shapes import infer_kpi_type

    declared = getattr(data.layout, "kpi_type", None)
    if declared:
        return f"KPI type: {declared} (from the layout)"
    y = data.frame[data.layout.target].to_numpy(float)
    kind = infer_kpi_type(y)
    if anomaly is not None and kind in ("binary", "count"):
        try:
            an = window_rows(data, anomaly)
            ref = window_rows(data, reference) if reference is not None else slice(0, an.start)
        except RcaInputError:
            ref = slice(0, 0)
        r = y[ref]
        if len(r) and np.all(r == r[0]):
            kind = "event"
    return f"KPI type: {kind} (inferred from its values; set kpi_type in the layout to change it)"


def windows_note(data, reference, anomaly) -> str | None:
    """What the analysis will do differently with these windows (not a problem: a note).

    A window of 1-4 rows is ranked per unit; a reference period below the comfortable row count
    gets a simpler model.

    Parameters
    ----------
    data : PlantData
    reference, anomaly : list or None
        As for :func:`windows_problem`.

    Returns
    -------
    str or None
    """
    from rca_app.core.data import min_rows_needed
    from rca_app.core.incident_shapes import SHORT_INCIDENT_ROWS

    if anomaly is None or windows_problem(data, reference, anomaly) is not None:
        return None
    an = window_rows(data, anomaly)
    ref = window_rows(data, reference) if reference is not None else slice(0, an.start)
    notes = []
    n_an = an.stop - an.start
    if n_an < SHORT_INCIDENT_ROWS:
        what = "one unit" if n_an == 1 else f"{n_an} rows"
        notes.append(f"The incident is {what}: its causes are ranked for {'this unit' if n_an == 1 else 'these rows'} "
                     "(restoration per unit), with wider intervals.")
    need = min_rows_needed(len(data.frame.columns) - 1)
    if ref.stop - ref.start < need:
        notes.append(f"The reference has {ref.stop - ref.start} rows (the full model wants {need}): a simpler "
                     "model will be fitted, with wider intervals.")
    return " ".join(notes) or None


def kpi_limits(data, reference=None) -> dict:
    """Centre line and 3-sigma (I-MR) control limits of the KPI in the reference window.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    reference : list, optional
        The reference window; None uses every row.

    Returns
    -------
    dict
        ``centre``, ``sigma``, ``lower`` and ``upper``.

    References
    ----------
    D. C. Montgomery (2019). Introduction to Statistical Quality Control, 8th ed. Wiley
        (individuals and moving-range charts).
    """
    y = data.frame[data.layout.target].to_numpy(float)
    base = y[window_rows(data, reference)] if reference is not None else y
    centre, sigma = control_limits(base)
    return {"centre": centre, "sigma": sigma, "lower": centre - 3 * sigma, "upper": centre + 3 * sigma}


def auto_windows(data, reference=None) -> dict | None:
    """The core's suggested incident window, with a reference that does not overlap it.

    With no reference given, the reference is every row before the incident.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    reference : list, optional
        A reference window the engineer already marked.

    Returns
    -------
    dict or None
        ``anomaly``, ``reference``, ``rule`` and ``limit``, or None when the KPI never leaves its
        control limits.
    """
    y = data.frame[data.layout.target].to_numpy(float)
    ref_rows = window_rows(data, reference) if reference is not None else None
    # The same rule as the CLI's --anomaly auto, autocorrelation allowance included.
    sw = suggest_anomaly_window(y, data.layout.goal, ref_rows, is_time_series(data))
    if sw is None:
        return None
    if ref_rows is None or (ref_rows.start < sw.end and sw.start < ref_rows.stop):
        ref_rows = slice(0, sw.start) if sw.start > 0 else None
    return {
        "anomaly": window_from_rows(data, slice(sw.start, sw.end)),
        "reference": window_from_rows(data, ref_rows) if ref_rows is not None else None,
        "rule": sw.rule, "limit": sw.limit,
    }


def node_series(data, node: str, windows: dict[str, Any]) -> dict:
    """A sensor's values in each named window (for reference vs incident trends), with the window means.

    Categorical sensors give their level codes and the level names.

    Parameters
    ----------
    data : PlantData
        The analysis table.
    node : str
        Sensor name.
    windows : dict
        Name (e.g. ``"reference"``) -> window; None windows are skipped.

    Returns
    -------
    dict
        ``levels`` (list of str or None) and ``windows``: name -> ``{"x", "y", "mean"}``.
    """
    x = axis_values(data)
    s = data.frame[node]
    levels = None
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = [str(c) for c in s.cat.categories]
        values = s.cat.codes.to_numpy(dtype=float)
    else:
        values = s.to_numpy(dtype=float)
    out = {"levels": levels, "windows": {}}
    for name, w in windows.items():
        if w is None:
            continue
        rows = window_rows(data, w)
        v = values[rows]
        out["windows"][name] = {"x": x[rows], "y": v, "mean": float(np.nanmean(v)) if len(v) else math.nan}
    return out

"""Suggesting the incident window from the KPI alone.

Rule (documented for engineers, and printed by the CLI):
1. Baseline: the given reference rows, or else the first half of the series.
2. Centre = baseline mean; sigma = average moving range / 1.128 (the I-MR chart's short-term
   sigma, which is not inflated by slow drifts).
3. An EWMA of the KPI (lambda = 0.1) is compared with its 3-sigma EWMA control limit on the bad
   side (below for maximize, above for minimize). Each row where it is beyond the limit signals.
4. The incident is the longest run of signalling rows (gaps of up to 5 rows bridged). Its start is
   moved back to the last row before the run where the EWMA was still on the good side of the
   centre line (the EWMA reacts with a lag); its end is moved back, symmetrically, to the last
   row where an EWMA run backwards in time is still on the bad side (exclusive: +1), or it is
   the end of the data when the run reaches it.

On time-series data (a time column on an even grid) consecutive KPI values are correlated, and
both numbers of step 2-3 under-cover: the moving range sees only the short-term part of the
variation, and an EWMA of correlated rows wanders further than one of independent rows. There
the limit uses the KPI's reference autocorrelations ``r_k``: the process sigma is the I-MR sigma /
sqrt(1 - r_1) (the moving range of a stationary series estimates sigma * sqrt(1 - r_1)), and the
EWMA's variance is that of independent rows times ``1 + 2 sum r_k (1 - lambda)^k`` over the lags
where the autocorrelation is evidently there (the EWMAST chart, Zhang 1998; Montgomery,
Introduction to SPC, section 10.4; see :mod:`rca_app.core.autocorrelation`). Rows per part, and a
KPI whose autocorrelation is within the noise of independent rows, keep the rule above exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rca_app.core.autocorrelation import autocorrelations, ewma_inflation, is_time_series

EWMA_LAMBDA = 0.1
EWMA_L = 3.0
MAX_GAP = 5
RULE = "EWMA(lambda=0.1) beyond 3-sigma limit of the reference I-MR sigma"
SERIAL_RULE = (RULE + ", widened for the KPI's autocorrelation over {lags} lags (lag-1 r = {rho:.2f}): process "
               "sigma I-MR / sqrt(1 - r), EWMA variance x {inflation:.1f} (1 + 2 sum r_k (1 - lambda)^k)")


@dataclass
class SuggestedWindow:
    start: int       # 0-based row position, inclusive
    end: int         # exclusive
    centre: float
    sigma: float
    limit: float     # the EWMA control limit that was crossed
    rule: str = RULE


def control_limits(y: np.ndarray) -> tuple[float, float]:
    """Centre and short-term sigma (I-MR) of a KPI series."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    centre = float(y.mean())
    mr = np.abs(np.diff(y))
    sigma = float(mr.mean() / 1.128) if len(mr) else float(y.std())
    return centre, sigma if sigma > 0 else float(y.std() or 1.0)


def _ewma_chart(base: np.ndarray, serial: bool) -> tuple[float, float, float, str]:
    """Centre, process sigma, EWMA limit half-width and the rule's text from baseline rows."""
    centre, sigma = control_limits(base)
    rule, inflation = RULE, 1.0
    rho = autocorrelations(base) if serial else np.zeros(0)
    if rho.any():
        # The moving range sees 2 sigma^2 (1 - r_1) of any stationary series.
        sigma = sigma / np.sqrt(1 - min(float(rho[0]), 0.999))
        inflation = ewma_inflation(rho, EWMA_LAMBDA)
        rule = SERIAL_RULE.format(lags=int(np.count_nonzero(rho)), rho=float(rho[0]), inflation=inflation)
    width = EWMA_L * sigma * np.sqrt(EWMA_LAMBDA / (2 - EWMA_LAMBDA) * inflation)
    return centre, float(sigma), float(width), rule


def _ewma(y: np.ndarray, centre: float) -> np.ndarray:
    z = np.empty(len(y))
    acc = centre
    for i, v in enumerate(y):
        acc = EWMA_LAMBDA * v + (1 - EWMA_LAMBDA) * acc
        z[i] = acc
    return z


def suggest_anomaly_window(y, goal: str = "maximize", reference: slice | None = None,
                           serial: bool = False) -> SuggestedWindow | None:
    """The incident window by the rule in this module's docstring.

    Parameters
    ----------
    y : array-like
        The KPI, rows in order.
    goal : {"maximize", "minimize"}
    reference : slice, optional
        Baseline rows (default: the first half).
    serial : bool
        Rows are consecutive samples of a time series: the limit allows for the KPI's
        autocorrelation. False (rows per part): the I-MR rule as it always was.

    Returns
    -------
    SuggestedWindow or None
        None if the KPI never leaves its limits.

    References
    ----------
    N. F. Zhang (1998). A statistical control chart for stationary process data. Technometrics 40,
        24-38.
    C.-W. Lu, M. R. Reynolds (1999). EWMA control charts for monitoring the mean of
        autocorrelated processes. J. Quality Technology 31, 166-188.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 20:
        return None
    base = y[reference] if reference is not None else y[: n // 2]
    centre, sigma, width, rule = _ewma_chart(base, serial)
    lam = EWMA_LAMBDA
    z = _ewma(y, centre)
    sign = -1.0 if goal == "maximize" else 1.0
    limit = centre + sign * width
    bad = (z - limit) * sign > 0
    if not bad.any():
        return None
    # Longest run of signals, bridging short gaps.
    runs = []
    i = 0
    while i < n:
        if bad[i]:
            j = i
            last = i
            while j < n and (bad[j] or j - last <= MAX_GAP):
                if bad[j]:
                    last = j
                j += 1
            runs.append((i, last))
            i = last + 1
        else:
            i += 1
    s, e = max(runs, key=lambda r: r[1] - r[0])
    start = s
    while start > 0 and (z[start - 1] - centre) * sign > 0:
        start -= 1
    # The EWMA also lags at the end. The same rule run backwards in time: an EWMA from the last
    # row towards the first, and the end moved back to the last row where it still sits on the
    # bad side of the centre line.
    zb = np.empty(n)
    acc = centre
    for i in range(n - 1, -1, -1):
        acc = lam * y[i] + (1 - lam) * acc
        zb[i] = acc
    last = e
    while last > start and (zb[last] - centre) * sign <= 0:
        last -= 1
    end = last + 1
    if n - end <= MAX_GAP:
        end = n
    return SuggestedWindow(start, end, centre, float(sigma), float(limit), rule)


# --------------------------------------------------------------------------------------------
# A fault that began before the incident window
# --------------------------------------------------------------------------------------------
TAIL_MIN_ROWS = 5        # a sensor's EWMA beyond its limits over at least this many last samples ...
TAIL_SHIFT_SD = 2.0      # ... with its mean there this many process sigmas from its centre: a shift


@dataclass
class TailShift:
    """A sensor that had already left its control limits when the reference period ended.

    Attributes
    ----------
    sensor : str
    first_row : int
        Row position (in the frame searched) where its excursion began.
    shift_sd : float
        Its mean from there to the reference's end, in process sigmas from the reference centre.
    """

    sensor: str
    first_row: int
    shift_sd: float


def reference_tail_shifts(frame, reference: slice, columns, serial: bool = True) -> list[TailShift]:
    """Sensors whose EWMA, charted as the incident rule charts the KPI (two-sided, limits from the
    reference's first half, widened for autocorrelation on time series), is beyond its limits
    from some row to the reference's end with a clear shift: the fault had begun already.

    Parameters
    ----------
    frame : DataFrame
        Rows in time order (aligned by residence time, so that a sensor upstream of the KPI is
        compared with the KPI its material became).
    reference : slice
    columns : iterable of str
        Numeric sensors.
    serial : bool

    Returns
    -------
    list of TailShift
        Earliest first.
    """
    out = []
    for c in columns:
        y = frame[c].to_numpy(float)[reference]
        n = len(y)
        if n < 40 or not np.isfinite(y).all():
            continue
        base = y[: n // 2]
        centre, sigma, width, _ = _ewma_chart(base, serial)
        # A held value (a lab sample valid until the next) has almost no moving range: its sigma
        # is then the baseline's spread, so that a step between samples is no "shift".
        spread = float(base.std())
        if spread > sigma:
            width, sigma = width * spread / sigma if sigma > 0 else width, spread
        z = _ewma(y, centre)
        out_rows = np.abs(z - centre) > width
        if not out_rows[-1]:
            continue
        start, last = n - 1, n - 1
        while start > 0 and (out_rows[start - 1] or last - (start - 1) <= MAX_GAP):
            start -= 1
            if out_rows[start]:
                last = start
        start = last   # the first row of the excursion that reaches the reference's end
        shift = (float(y[start:].mean()) - centre) / sigma if sigma > 0 else 0.0
        # Rows of a held value (one lab sample repeated) are one observation, not many.
        samples = 1 + int(np.count_nonzero(np.diff(y[start:])))
        if samples >= TAIL_MIN_ROWS and abs(shift) >= TAIL_SHIFT_SD:
            out.append(TailShift(c, reference.start + start, shift))
    return sorted(out, key=lambda t: t.first_row)


def tail_shift_note(data, frame, reference: slice, columns, shifts: dict[str, int], auto: bool,
                    serial: bool = True, step=None) -> list[str]:
    """A warning when sensors had already shifted in the reference period's last rows.

    Parameters
    ----------
    data : PlantData
        For the times (``data.time``).
    frame : DataFrame
        The (aligned) rows.
    reference : slice
    columns : iterable of str
    shifts : dict of str to int
        Grid steps each sensor was moved forward by (to name physical times).
    auto : bool
        The incident window was suggested from the KPI (its start is then likely late).
    serial : bool
    step : Timedelta, optional
        The grid step: a sensor's own time is its row's time less its shift in steps (exact when
        rows were dropped for gaps, where a shift of k steps is not k rows).

    Returns
    -------
    list of str
    """
    found = reference_tail_shifts(frame, reference, columns, serial)
    if not found:
        return []

    def when(t: TailShift) -> str:
        k = shifts.get(t.sensor, 0)
        if data.time is not None and step is not None:
            return (data.time.iloc[t.first_row] - k * step).isoformat()
        row = t.first_row - k
        return data.time.iloc[max(0, row)].isoformat() if data.time is not None else f"row {row}"

    first = found[0]
    named = ", ".join(f"{t.sensor} ({t.shift_sd:+.1f} sd from {when(t)})" for t in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    rows = reference.stop - first.first_row
    why = ("the incident window was suggested from the KPI alone, which reacts late: the fault likely began "
           "earlier" if auto else "the fault may have begun before the incident window")
    return [f"WARNING: the reference period ends with {len(found)} sensor(s) already beyond their control limits: "
            f"{named}{more}. The first left its limits at {when(first)}: {why}, and about {rows} rows of it sit in "
            f"the reference, which then blurs the comparison. End the reference before {when(first)} "
            "(--reference START/END), or start the incident window there."]


# --------------------------------------------------------------------------------------------
# The analysis windows in the user's terms
# --------------------------------------------------------------------------------------------
def window_bound(data, pos: int):
    """A window bound in the user's terms: a timestamp (ISO) or a row position.

    Parameters
    ----------
    data : PlantData
    pos : int
        0-based row position; ``data.n_rows`` means one past the last row.

    Returns
    -------
    str or int
    """
    import pandas as pd

    if data.time is None:
        return int(pos)
    if pos >= data.n_rows:
        # Exclusive end past the last row: one sampling step after the last timestamp.
        t = data.time.iloc[-1]
        step = data.time.diff().median() if data.n_rows > 1 else pd.Timedelta(0)
        return (t + (step if pd.notna(step) else pd.Timedelta(0))).isoformat()
    return data.time.iloc[max(0, pos)].isoformat()


def single_row(data, point) -> slice:
    """The one row a single-unit incident names: a 0-based row position, or a time (the row at
    that time, else the first row after it).

    Parameters
    ----------
    data : PlantData
    point : int, str or datetime

    Returns
    -------
    slice
        One row.

    Raises
    ------
    RcaInputError
        When the position or time lies outside the data.
    """
    from dataclasses import replace

    from rca_app.core.data import rows_for_window
    from rca_app.core.errors import RcaInputError

    try:
        rows = rows_for_window(data, point, None)
    except RcaInputError as e:
        # Said as what was meant: one row, or else a window typed without its separator.
        raise RcaInputError([replace(p, message=f"incident '{point}' is neither a window START/END nor one row "
                                                f"(ROW or TIME) of the data: {p.message}")
                             for p in e.problems]) from None
    return slice(rows.start, rows.start + 1)


def resolve_windows(data, anomaly, reference=None) -> tuple[slice, slice, dict]:
    """Turn the user's window strings (or "auto") into row slices of ``data.frame``.

    Parameters
    ----------
    data : PlantData
    anomaly : tuple of (start, end), "auto", or one row
        The incident window; "auto" applies the rule in this module's docstring; a single value
        (a row position, or a time) is the one row of a single unit (see :func:`single_row`).
    reference : tuple of (start, end), optional
        Default: every row before the incident.

    Returns
    -------
    (reference slice, incident slice, info dict)
        ``info["auto"]`` says whether the incident window was suggested, with the rule's numbers.
    """
    from rca_app.core.data import check_window_gaps, rows_for_window
    from rca_app.core.errors import Problem, RcaInputError

    info: dict = {"auto": False}
    target = data.layout.target
    if isinstance(anomaly, str) and anomaly.strip().lower() == "auto":
        ref_slice = None
        if reference is not None:
            ref_slice = rows_for_window(data, *reference)
        serial = is_time_series(data)
        sw = suggest_anomaly_window(data.frame[target].to_numpy(float), data.layout.goal, ref_slice, serial)
        if sw is None:
            raise RcaInputError(Problem(
                f"{target} never leaves its reference control limits ({RULE}"
                f"{', allowing for its autocorrelation' if serial else ''}); "
                "no incident window to suggest: give one with --anomaly START/END",
                file=data.file_name, column=target))
        an = slice(sw.start, sw.end)
        info.update(auto=True, rule=sw.rule, centre=sw.centre, sigma=sw.sigma, limit=sw.limit)
    elif isinstance(anomaly, (tuple, list)):
        an = rows_for_window(data, *anomaly)
    else:
        an = single_row(data, anomaly)
    if reference is None:
        if an.start == 0:
            raise RcaInputError(Problem(
                "the incident window starts at the first row, so there is no reference period "
                "before it: give one with --reference START/END", file=data.file_name))
        ref = slice(0, an.start)
    else:
        ref = rows_for_window(data, *reference)
        if ref.start < an.stop and an.start < ref.stop:
            raise RcaInputError(Problem("the reference and incident windows overlap", file=data.file_name))
    # A sensor missing from most of a window (a tag renamed between two exports) is refused here,
    # not in rows_for_window, which the window also uses to draw whatever the rows hold.
    check_window_gaps(data, ref, an, reference=reference, incident=anomaly)
    return ref, an, info


def check_enough_rows(data, ref: slice, an: slice, n_folds: int = 5) -> None:
    """Raise :class:`~rca_app.core.errors.RcaInputError` only when nothing can be estimated.

    One incident row is enough (a single bad unit is ranked per unit). A reference period
    shorter than the comfortable count (:func:`~rca_app.core.data.min_rows_needed`) gets a
    simpler model; below :func:`~rca_app.core.incident_shapes.reference_floor` rows nothing can
    be estimated, and the message says how many rows would do.

    Parameters
    ----------
    data : PlantData
    ref, an : slice
        Reference and incident rows.
    n_folds : int
        Cross-fitting folds (the floor needs two rows per fold).
    """
    from rca_app.core.data import min_rows_needed
    from rca_app.core.errors import Problem, RcaInputError
    from rca_app.core.incident_shapes import reference_floor

    n_ref = ref.stop - ref.start
    n_sensors = len(data.frame.columns) - 1  # the KPI is not a sensor
    floor = reference_floor(n_sensors, n_folds)
    problems = []
    if n_ref < floor:
        problems.append(Problem(
            f"the reference period has {n_ref} rows; at least {floor} are needed to estimate anything for "
            f"{n_sensors} sensors (about {min_rows_needed(n_sensors)} give the full model)", file=data.file_name))
    if an.stop - an.start < 1:
        problems.append(Problem("the incident window has no rows", file=data.file_name))
    if problems:
        raise RcaInputError(problems)

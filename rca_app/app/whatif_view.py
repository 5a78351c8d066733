"""What the What-if step offers and draws: which setpoints, their slider range, and the
predicted KPI under do(setpoint = value) against the incident's actual KPI."""
from __future__ import annotations

import numpy as np


def setpoint_range(outcome, node: str) -> dict:
    """The range a what-if slider offers for ``node``: its reference range, the value the
    engine recommends (if it computed an action for it) and the incident's value.

    Parameters
    ----------
    outcome : AnalysisOutcome
    node : str
        A setpoint from :func:`controllable_candidates`.

    Returns
    -------
    dict
        Numeric: ``low``, ``high`` (the reference range the action was searched over: the
        1% to 99% quantiles of the reference values, as the action records it), ``recommended``,
        ``incident`` (incident mean), ``reference_mean``. Categorical: ``levels``,
        ``recommended`` and ``incident`` (the most common level).
    """
    from rca_app.app.result_words import REFERENCE_RANGE_QUANTILES
    from rca_app.core.results import as_result  # here: the window opens without scipy loaded

    ref = outcome.incident.reference[node]
    inc = outcome.incident.anomaly[node]
    action = next((a for a in as_result(outcome.result).actions if a.node == node), None)
    if node in outcome.scm.categorical:
        levels = list(outcome.scm.levels_[node])
        return {"node": node, "categorical": True, "levels": levels,
                "recommended": action.recommended_value if action else None,
                "incident": str(inc.astype(str).mode().iloc[0]) if len(inc) else None}
    r = ref.to_numpy(float)
    # One range with the action's (and the report's): where the engine searched for the best setting.
    low, high = (action.reference_range if action is not None and len(action.reference_range) == 2
                 else np.quantile(r, REFERENCE_RANGE_QUANTILES))
    return {"node": node, "categorical": False, "low": float(low), "high": float(high),
            "recommended": float(action.recommended_value) if action else None,
            "incident": float(inc.to_numpy(float).mean()) if len(inc) else None,
            "reference_mean": float(r.mean())}


def what_if_view(outcome, node: str, value, bins: int = 30) -> dict:
    """The core's what-if, plus histograms of the predicted KPI per incident row under
    do(node = value) and of the KPI the incident actually had, on common bins.

    Parameters
    ----------
    outcome : AnalysisOutcome
    node : str
    value : float or str
        The setpoint (a level name for a categorical one).
    bins : int

    Returns
    -------
    dict
        The core's ``what_if`` answer plus ``hist_edges``, ``hist_predicted``,
        ``hist_actual``, ``actual_rows``, and the per-unit interval ``unit_interval`` with its
        ``unit_interval_label`` (see :func:`unit_interval`) next to the mean's
        ``predicted_mean_ci`` (``mean_interval_label``).
    """
    from rca_app.core.analysis import what_if  # here: the window opens without scipy loaded

    w = dict(what_if(outcome, node, value))
    w.update(unit_interval(outcome, np.asarray(w["predicted_rows"], dtype=float)))
    target = outcome.incident.target
    actual = outcome.incident.anomaly[target].to_numpy(float)
    pred = np.asarray(w["predicted_rows"], dtype=float)
    both = np.concatenate([actual, pred])
    both = both[np.isfinite(both)]
    edges = np.histogram_bin_edges(both, bins=bins) if len(both) else np.linspace(0, 1, bins + 1)
    w["hist_edges"] = edges
    w["hist_predicted"] = np.histogram(pred, bins=edges)[0]
    w["hist_actual"] = np.histogram(actual, bins=edges)[0]
    w["actual_rows"] = actual
    return w


def controllable_candidates(outcome) -> list[str]:
    """Setpoints offered in the what-if step.

    The actions the engine computed (best first), then the other controllable sensors that
    are in the graph.

    Parameters
    ----------
    outcome : AnalysisOutcome

    Returns
    -------
    list of str
    """
    from rca_app.core.results import as_result

    result = as_result(outcome.result)
    names = [a.node for a in result.actions]
    for n in result.graph.nodes:
        if n.controllable and n.name not in names:
            names.append(n.name)
    return names


def unit_interval(outcome, predicted_rows: np.ndarray, level: float = 0.9, max_residuals: int = 2000) -> dict:
    """Where a single unit made at the setting would land, as opposed to the mean of many.

    The predicted rows keep each incident row's own KPI noise; without it they are the model's
    prediction for a unit under that row's conditions. A unit's KPI is that prediction plus a
    residual like the KPI mechanism's cross-fitted reference residuals (the split-conformal
    calibration set, :mod:`rca_app.core.conformal`). The interval holds the central ``level``
    of every condition of the incident combined with every calibration residual: a unit drawn
    from the incident's conditions (the per-row conformal band alone would hold a unit under
    one fixed condition).

    Parameters
    ----------
    outcome : AnalysisOutcome
    predicted_rows : ndarray
        The what-if's per-row KPI (``what_if(...)["predicted_rows"]``).
    level : float
    max_residuals : int
        Calibration residuals used (evenly spaced order statistics beyond this many).

    Returns
    -------
    dict
        ``unit_interval`` (low, high), ``unit_interval_exact`` (the per-row conformal band's
        calibration set was large enough), ``unit_interval_label`` and
        ``mean_interval_label`` (for the legend).
    """
    from rca_app.core.conformal import row_band
    from rca_app.core.queries import incident_abduction

    scm, inc = outcome.scm, outcome.incident
    own = incident_abduction(scm, inc.anomaly).noise[inc.target]
    expected = np.asarray(predicted_rows, dtype=float) - own
    res = np.sort(np.asarray(scm.mechanisms_[inc.target].ref_noise, dtype=float))
    res = res[np.isfinite(res)]
    if len(res) > max_residuals:
        res = res[np.linspace(0, len(res) - 1, max_residuals).round().astype(int)]
    units = np.add.outer(expected[np.isfinite(expected)], res).ravel()
    tail = (1 - level) / 2
    lo, hi = (np.quantile(units, [tail, 1 - tail]) if len(units) else (np.nan, np.nan))
    pct = round(100 * level)
    return {"unit_interval": (float(lo), float(hi)), "unit_interval_exact": row_band(res, level).exact,
            "unit_interval_label": f"{pct}% prediction interval for a single unit (conformal residuals)",
            "mean_interval_label": f"{pct}% interval of the mean over the incident rows (bootstrap refits)"}

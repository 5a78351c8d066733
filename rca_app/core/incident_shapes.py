"""What kind of incident this is, and so which model and which ranking it gets.

An engineer brings one of several shapes, decided here from the layout and the windows before
anything is fitted:

- the KPI's type (``[plant] kpi_type``, else inferred): continuous, binary (pass/fail),
  count (defects) or event (an alarm);
- the incident's length: 5 rows or more is the usual window; 1 to 4 rows is a single unit or a
  short incident, ranked per unit (:mod:`rca_app.core.unit_ranking`);
- whether the KPI varied in the reference period: a KPI that never moved there (an alarm that
  never fired) has no reference behaviour to restore to, so sensors are ranked by how anomalous
  their own behaviour was (:mod:`rca_app.core.anomaly_ranking`) and the result says so;
- the reference period's length: below the comfortable count (5 rows per sensor) a simpler,
  shrunk linear model with fewer parents is fitted; below :func:`reference_floor` nothing can be
  estimated and the analysis refuses, saying how many rows would do. On a time series the
  comfortable count is of *effective* rows (:func:`effective_reference_rows`): 119 one-minute rows
  of sensors that carry their past for several minutes hold the information of some 30 independent
  rows, and a model that counts them as 119 is confidently wrong (trial 3: a downstream sensor
  ranked first in every refit, the true cause without a path to the KPI).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KPI_TYPES = ("continuous", "binary", "count", "event")
# Fewer incident rows than this: a unit incident, ranked per row.
SHORT_INCIDENT_ROWS = 5
# Inferring a count: whole numbers from 0 to at most this, with at least this share of zeros.
COUNT_MAX = 100
COUNT_MIN_ZERO_SHARE = 0.1


@dataclass
class IncidentShape:
    """The shape of one incident and what it gets.

    Attributes
    ----------
    kpi_type : str
        One of :data:`KPI_TYPES`.
    kpi_type_inferred : bool
        True when the layout did not declare it.
    kpi_constant : bool
        The KPI never varied in the reference period.
    incident_rows, reference_rows : int
    comfortable_reference_rows : int
        Rows the full model wants (5 per sensor, at least 30).
    method : {"restoration", "unit_restoration", "anomaly"}
    simple_model : bool
        A shrunk linear model with fewer parents (short reference period).
    no_kpi_link : bool
        The fitted model has no sensor upstream of the KPI (typically a short reference): the
        sensors are ranked by their own anomaly instead (:func:`unlinked_kpi_message`).
    effective_reference_rows : int or None
        On a time series, the independent rows the reference is worth (None: rows are independent).
    messages : list of str
        What the engineer must hear about this shape.
    """

    kpi_type: str
    kpi_type_inferred: bool
    kpi_constant: bool
    incident_rows: int
    reference_rows: int
    comfortable_reference_rows: int
    method: str
    simple_model: bool
    messages: list[str] = field(default_factory=list)
    no_kpi_link: bool = False     # restoration planned, but the model found no cause of the KPI
    effective_reference_rows: int | None = None

    @property
    def information_rows(self) -> int:
        """The reference's rows as independent rows: what the model's size is judged on."""
        return self.effective_reference_rows if self.effective_reference_rows is not None else self.reference_rows

    @property
    def short_incident(self) -> bool:
        return self.incident_rows < SHORT_INCIDENT_ROWS

    @property
    def rate_kpi(self) -> bool:
        """A flag or count KPI that varied in the reference: a rate mechanism is fitted."""
        return self.kpi_type in ("binary", "count", "event") and not self.kpi_constant


def infer_kpi_type(values) -> str:
    """The KPI's type from its values: 0/1 only is binary, small whole numbers with zeros a count.

    Parameters
    ----------
    values : array-like
        The KPI over all rows.

    Returns
    -------
    str
        "binary", "count" or "continuous".
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return "continuous"
    distinct = np.unique(v)
    if set(distinct.tolist()) <= {0.0, 1.0} and len(distinct) == 2:
        return "binary"
    whole = np.all(v == np.round(v))
    if whole and v.min() >= 0 and v.max() <= COUNT_MAX and np.mean(v == 0) >= COUNT_MIN_ZERO_SHARE:
        return "count"
    return "continuous"


def rate_family(kpi_type: str, values) -> str:
    """The rate mechanism's family: "binary" for 0/1 outcomes, else "count"."""
    v = np.asarray(values, dtype=float)
    return "binary" if kpi_type == "binary" or set(np.unique(v).tolist()) <= {0.0, 1.0} else "count"


def reference_floor(n_sensors: int, n_folds: int = 5) -> int:
    """Fewest reference rows from which anything can be estimated.

    The simple model (a shrunk linear mechanism per sensor with at most a few parents) is
    cross-fitted over ``n_folds`` folds, and discovery regresses every sensor on the others:
    that needs more rows than sensors and at least two rows per fold.

    Parameters
    ----------
    n_sensors : int
    n_folds : int

    Returns
    -------
    int
    """
    return max(10, 2 * n_folds, n_sensors + 2)


def effective_reference_rows(ref, columns) -> int | None:
    """The independent rows a time-series reference is worth: the median over ``columns`` of
    ``n / (1 + 2 sum rho_k)`` (:func:`~rca_app.core.autocorrelation.mean_inflation`), or None when
    consecutive rows are not dependent (:func:`~rca_app.core.autocorrelation.rows_are_serial`).

    The median, as for the serial test: one slow sensor does not shrink the reference, a process
    where most sensors carry their past does.

    Parameters
    ----------
    ref : DataFrame
        The reference rows in time order (aligned).
    columns : list of str
        Numeric sensors (the KPI included).

    Returns
    -------
    int or None
    """
    from rca_app.core.autocorrelation import autocorrelations, mean_inflation, rows_are_serial

    cols = [c for c in columns if c in ref.columns]
    if not cols or not rows_are_serial(ref, cols):
        return None
    worth = []
    for c in cols:
        x = ref[c].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if len(x) >= 3 and float(np.std(x)) > 0:
            worth.append(len(x) / mean_inflation(autocorrelations(x)))
    return int(np.median(worth)) if worth else None


def plan_incident(layout, ref_kpi, an_kpi, n_sensors: int, comfortable_rows: int,
                  effective_rows: int | None = None) -> IncidentShape:
    """Decide the incident's shape (see the module docstring).

    Parameters
    ----------
    layout : Layout
    ref_kpi, an_kpi : array-like
        The KPI in the reference and in the incident rows.
    n_sensors : int
        Sensors besides the KPI.
    comfortable_rows : int
        Reference rows the full model wants.
    effective_rows : int, optional
        On a time series, the independent rows the reference is worth
        (:func:`effective_reference_rows`): the full model is judged on these.

    Returns
    -------
    IncidentShape
    """
    ref_kpi = np.asarray(ref_kpi, dtype=float)
    an_kpi = np.asarray(an_kpi, dtype=float)
    target = layout.target
    messages = []
    declared = getattr(layout, "kpi_type", None)
    constant = bool(len(ref_kpi) and np.all(ref_kpi == ref_kpi[0]))
    if declared:
        kpi_type, inferred = declared, False
        _check_declared_type(target, kpi_type, np.r_[ref_kpi, an_kpi], getattr(layout, "source", None))
    else:
        inferred = True
        kpi_type = infer_kpi_type(np.r_[ref_kpi, an_kpi])
        if constant and kpi_type in ("binary", "count"):
            kpi_type = "event"
        if kpi_type != "continuous":
            what = {"binary": "a pass/fail flag (only 0 and 1)",
                    "count": "a count (small whole numbers, often 0)",
                    "event": f"an event that never occurred in the reference period ({target} was always "
                             f"{ref_kpi[0]:.6g} there)"}[kpi_type]
            messages.append(f"{target} was taken as {what}: kpi_type = \"{kpi_type}\" (set [plant] kpi_type in the "
                            "layout to override).")
    n_an, n_ref = len(an_kpi), len(ref_kpi)
    if constant:
        method = "anomaly"
        messages.append(
            f"{target} was constant ({ref_kpi[0]:.6g}) throughout the reference period, so there is no reference "
            f"behaviour of {target} to restore to: the sensors are ranked by how anomalous their own behaviour was "
            f"in the incident (given their causes), not by restoration. A high score says a sensor itself behaved "
            f"unusually; it does not measure how much of the {target} change it explains.")
    elif n_an < SHORT_INCIDENT_ROWS:
        method = "unit_restoration"
    else:
        method = "restoration"
    if n_an < SHORT_INCIDENT_ROWS:
        unit = "one unit (row)" if n_an == 1 else f"{n_an} rows"
        intervals = ("" if method == "anomaly" else
                     "; the intervals combine the spread of the reference draws and the refits and are wider than "
                     "for a longer incident")
        messages.append(
            f"The incident has {unit}: the ranking explains {'this unit' if n_an == 1 else 'these rows'} only, not "
            "a lasting change of the process. Each ancestor's noise is read off the row itself, so a single "
            f"misread sensor weighs fully{intervals}. Confirm with more rows when the fault persists.")
    n_info = effective_rows if effective_rows is not None else n_ref
    simple = n_info < comfortable_rows
    if simple:
        # On a time series the cap is chosen after discovery, by blocked cross-validation (core/model_size.py).
        cap = (f"at most {max_parents(n_info)} parent(s) per sensor" if effective_rows is None
               else "fewer parents per sensor")
        worth = ("" if effective_rows is None else
                 f" of a time series whose consecutive rows resemble each other, worth about {effective_rows} "
                 "independent rows")
        messages.append(
            f"The reference period has {n_ref} rows{worth}, fewer than the {comfortable_rows} the full model wants "
            f"for {n_sensors} sensors: a simpler model was fitted (linear with shrinkage, {cap}, no curved "
            "mechanisms). Effects are pulled towards zero and "
            "the intervals, from refits on these few rows, are wide: treat the ranking as a lead, and add "
            f"reference rows (about {comfortable_rows}{'' if effective_rows is None else ' independent ones'}) "
            "for a firmer one.")
    return IncidentShape(kpi_type, inferred, constant, n_an, n_ref, comfortable_rows, method, simple, messages,
                         effective_reference_rows=effective_rows)


def _check_declared_type(target: str, kpi_type: str, values: np.ndarray, source) -> None:
    """A declared flag must hold 0 and 1 only, a count whole numbers from 0: else the mechanism
    would model something the KPI is not."""
    from rca_app.core.errors import Problem, RcaInputError

    v = values[np.isfinite(values)]
    bad = None
    if kpi_type == "binary" and not set(np.unique(v).tolist()) <= {0.0, 1.0}:
        bad = "0 and 1 only (1 = failed)"
    elif kpi_type in ("count", "event") and (np.any(v < 0) or np.any(v != np.round(v))):
        bad = "whole numbers from 0"
    if bad:
        raise RcaInputError(Problem(f"[plant] kpi_type = \"{kpi_type}\" but {target} holds other values; a "
                                    f"{kpi_type} KPI holds {bad}: fix the column or the kpi_type", file=source,
                                    column=target))


def max_parents(n_reference_rows: int) -> int:
    """Parents a sensor keeps in the simple model: about one per 10 reference rows, 1 to 4
    (ten rows per coefficient, the usual rule of thumb for regression)."""
    return int(min(4, max(1, n_reference_rows // 10)))


def unlinked_kpi_message(target: str, n_reference_rows: int) -> str:
    """What the engineer must hear when no sensor could be linked to the KPI.

    Parameters
    ----------
    target : str
    n_reference_rows : int

    Returns
    -------
    str
    """
    return (f"No sensor could be linked to {target} from the {n_reference_rows} reference rows: the graph learnt "
            f"from them has no edge into {target}, so no restoration can be computed (restoring {target}'s own "
            f"noise would 'explain' 100% of the loss and say nothing). Instead the sensors are ranked by how "
            "unusual their own behaviour was in the incident. This ranking is NOT causal: a sensor that moved "
            f"need not have moved {target}. Use a longer reference period (more rows in which the sensors "
            f"varied) to learn what drives {target}.")


def ranking_basis_text(method: str, kpi_type: str, incident_rows: int, no_kpi_link: bool = False) -> str:
    """One sentence on which ranking was used and why, for the report and the window."""
    if method == "anomaly" and no_kpi_link:
        return ("Anomaly ranking (not causal): no sensor could be linked to the KPI from the reference period, so "
                "nothing can be restored; sensors are ranked by how unusual their own behaviour (noise given "
                "their causes) was in the incident.")
    if method == "anomaly":
        return ("Anomaly ranking: the KPI never varied in the reference period, so nothing can be restored; "
                "sensors are ranked by how unusual their own behaviour (noise given their causes) was in the "
                "incident.")
    if method == "unit_restoration":
        rows = "one row" if incident_rows == 1 else f"{incident_rows} rows"
        return (f"Restoration per unit ({rows}): each cause's share of this unit's KPI loss that comes back when "
                "it alone behaves as in the reference period, averaged over reference draws.")
    rate = {"binary": " of the failure rate", "event": " of the event rate", "count": " of the mean count"}
    return (f"Restoration{rate.get(kpi_type, '')}: each cause's share of the KPI's loss that comes back when it "
            "alone behaves as in the reference period.")

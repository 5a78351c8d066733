"""The result of "did the fix work?" as typed records, and its JSON form (numpy-free).

:mod:`rca_app.core.impact` fills an :class:`ImpactResult`; the CLI writes it as strict JSON, the
report and the window read it by attribute, and the investigation file stores it. Its JSON has,
at top level, ``effect_mean`` (observed minus counterfactual mean KPI after the change, in KPI
units: positive means the change raised the KPI), ``effect_mean_ci`` (90% by default),
``verdict`` and the recovery attribution.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rca_app.core.results import WindowRecord
from rca_app.core.serialization import SchemaError, from_json_data, json_schema, to_json_data

IMPACT_SCHEMA_VERSION = 1
VERDICTS = ("improved", "no effect", "worse")


@dataclass
class ChangeRecord:
    """What changed and when.

    Attributes
    ----------
    time : str or int
        When, as the engineer gave it (timestamp, or row position without a time column).
    row : int
        0-based position of the first row after the change.
    kind : {"setpoint", "switch", "unspecified"}
        A setpoint moved (``do(node = value)``), a categorical switch (supplier B to A), or a
        change nobody could name (a repair, maintenance): then ``node`` is what the data show
        changed.
    node : str
        The node whose behaviour changed.
    value : float, str or None
        The new setpoint or level, when given.
    found_in_data : bool
        ``node`` was found from the data (the node whose own noise shifted most at ``time``).
    observed_before, observed_after : float, str or None
        The node's mean (or most common level) before and after the change.
    """

    time: str | int
    row: int
    kind: Literal["setpoint", "switch", "unspecified"]
    node: str
    value: float | str | None = None
    found_in_data: bool = False
    observed_before: float | str | None = None
    observed_after: float | str | None = None


@dataclass
class NodeShift:
    """How much one node's own noise moved at the change (after minus before).

    Attributes
    ----------
    node : str
    shift_sd : float
        Mean shift in reference noise sds (categorical: 4 x the total-variation distance of
        the level shares, so that a large switch ranks like a large shift).
    z : float or None
        The shift over its standard error, with rows counted in blocks (autocorrelation).
    spread_ratio : float or None
        After / before noise sd (numeric nodes).
    changed : bool
        Counted as changed (|z| >= 3 and shift >= 0.25 sd; categorical: distance >= 0.1).
    """

    node: str
    shift_sd: float
    z: float | None
    spread_ratio: float | None
    changed: bool


@dataclass
class AttributionTerm:
    """One part of the KPI's recovery since the incident.

    Attributes
    ----------
    kind : {"change", "upstream", "unexplained", "interactions"}
        The change itself; another upstream node returning to (or leaving) its incident
        behaviour; the KPI's own noise (what no measured sensor explains); and what is left
        when the parts do not add up (interactions of nonlinear mechanisms).
    node : str or None
    label : str
        In plant words, for the waterfall.
    contribution : float
        KPI units: the after-change mean minus the after-change mean had this node behaved
        as before the change.
    contribution_ci : (float, float)
        Bootstrap interval (NaN without refits).
    share : float or None
        Of the recovery (after minus before mean); None when the KPI did not move.
    """

    kind: Literal["change", "upstream", "unexplained", "interactions"]
    node: str | None
    label: str
    contribution: float
    contribution_ci: tuple[float, float]
    share: float | None


@dataclass
class CauseStatus:
    """Is one of the investigation's root causes back to its reference behaviour?

    Attributes
    ----------
    node : str
    restoration : float or None
        Its restoration in the investigation.
    shift_before_sd, shift_after_sd : float or None
        Its own noise's mean shift from the reference, in reference sds, before and after the
        change (numeric nodes).
    shift_after_ci : (float, float) or None
        Moving-block bootstrap interval of ``shift_after_sd``.
    spread_ratio_after : float or None
        After-change / reference noise sd.
    distance_before, distance_after : float or None
        Categorical nodes: total-variation distance of the level shares from the reference's.
    status : {"back to normal", "partly back", "still shifted"}
    """

    node: str
    restoration: float | None
    shift_before_sd: float | None
    shift_after_sd: float | None
    shift_after_ci: tuple[float, float] | None
    spread_ratio_after: float | None
    distance_before: float | None
    distance_after: float | None
    status: Literal["back to normal", "partly back", "still shifted"]


@dataclass
class ImpactSeries:
    """Per-row series over the rows after the change (for a plot).

    Attributes
    ----------
    rows : list of int
        Positions in the prepared data.
    times : list of str or int
        ISO timestamps, or row positions without a time column.
    observed : list of float
        The KPI as measured.
    counterfactual : list of float
        The KPI had the change not been made, with each row's own upstream behaviour and own
        KPI noise (abduction).
    expected : list of float
        The model's prediction of the counterfactual KPI from the rows' (counterfactual)
        upstream alone, the centre of the conformal band.
    band_low, band_high : list of float
        Split-conformal per-row prediction interval of the counterfactual KPI.
    """

    rows: list[int]
    times: list[str | int]
    observed: list[float]
    counterfactual: list[float]
    expected: list[float]
    band_low: list[float]
    band_high: list[float]


@dataclass
class ConformalRecord:
    """A split-conformal interval and what its guarantee is.

    Attributes
    ----------
    low, high : float
        The interval (KPI units).
    level : float
    n_calibration : int
        Calibration values (effective: non-overlapping windows for a window mean).
    exact : bool
        The finite-sample guarantee holds (exchangeable rows); False for a window mean of
        autocorrelated rows (approximate) or a calibration set too small for the level.
    method : str
        In words, for the report.
    """

    low: float
    high: float
    level: float
    n_calibration: int
    exact: bool
    method: str


@dataclass
class ImpactResult:
    """Did the fix work? The causal impact of a change on the KPI.

    Attributes
    ----------
    plant, target : str
    goal : {"maximize", "minimize"}
    change : ChangeRecord
    reference, before, after : WindowRecord
        The model's reference period; the rows from the incident's start to the change; the
        rows from the change to the end of the data.
    windows_source : str
        Where the windows came from, in words (the investigation, the engineer, or the auto rule).
    observed_mean, counterfactual_mean : float
        KPI mean after the change, as measured and had the change not been made.
    effect_mean : float
        ``observed_mean - counterfactual_mean``: positive means the change raised the KPI.
    effect_mean_ci : (float, float)
        Bootstrap interval of ``effect_mean`` at ``level``: refits of the model, resampled
        before- and after-change behaviour, and in each refit the check of the model's misfit
        (paths the graph lacks, mechanism kinds too simple) on resampled reference rows (see
        :mod:`rca_app.core.impact`). Beyond the reference range of the changed sensor it assumes
        the effect goes on as the model has it; a caveat gives the wider reading.
    effect_cumulative, effect_cumulative_ci
        The effect summed over the rows after the change.
    counterfactual_mean_band : ConformalRecord
        Block-calibrated conformal interval of the counterfactual KPI's mean over the
        after-change window (approximate for autocorrelated rows; says so).
    effect_mean_conformal_ci : (float, float)
        ``observed_mean`` minus that band: the effect including any change of the KPI's own
        behaviour, without trusting the model's abduction of the KPI's noise.
    row_band : ConformalRecord
        The per-row conformal interval's offsets (exact for exchangeable rows).
    before_mean, reference_mean : float
        KPI mean before the change (since the incident) and in the reference period.
    recovery : float
        ``observed_mean - before_mean`` (KPI units).
    attribution : list of AttributionTerm
        The recovery split into the change, other upstream nodes, the unexplained and the
        interactions; the contributions add up to ``recovery``.
    causes : list of CauseStatus
        The investigation's ranked causes: are they back to normal?
    shifts_at_change : list of NodeShift
        Every node whose own noise moved at the change, largest first.
    verdict : {"improved", "no effect", "worse"}
        Judged by the layout's goal: the interval excludes zero and the effect is at least
        ``min_effect``.
    verdict_text : str
        The verdict in plain words.
    min_effect : float
        The smallest effect counted as one (KPI units).
    caveats : list of str
    level : float
    n_refits : int
        Bootstrap refits behind the intervals.
    series : ImpactSeries
    seed : int
    schema_version : int
    """

    plant: str
    target: str
    goal: Literal["maximize", "minimize"]
    change: ChangeRecord
    reference: WindowRecord
    before: WindowRecord
    after: WindowRecord
    windows_source: str
    observed_mean: float
    counterfactual_mean: float
    effect_mean: float
    effect_mean_ci: tuple[float, float]
    effect_cumulative: float
    effect_cumulative_ci: tuple[float, float]
    counterfactual_mean_band: ConformalRecord
    effect_mean_conformal_ci: tuple[float, float]
    row_band: ConformalRecord
    before_mean: float
    reference_mean: float
    recovery: float
    attribution: list[AttributionTerm]
    causes: list[CauseStatus]
    shifts_at_change: list[NodeShift]
    verdict: Literal["improved", "no effect", "worse"]
    verdict_text: str
    min_effect: float
    caveats: list[str]
    level: float
    n_refits: int
    series: ImpactSeries
    seed: int = 0
    schema_version: int = IMPACT_SCHEMA_VERSION

    @property
    def change_share(self) -> float | None:
        """The share of the recovery due to the change (None when the KPI did not move)."""
        return next((t.share for t in self.attribution if t.kind == "change"), None)

    def to_dict(self) -> dict:
        """Strict-JSON-ready data (``null`` for an undefined number)."""
        return impact_to_json(self)


def impact_to_json(result: ImpactResult) -> dict:
    """Strict-JSON-ready data of an impact result, ``effect_mean`` and ``verdict`` first.

    Parameters
    ----------
    result : ImpactResult

    Returns
    -------
    dict
    """
    d = to_json_data(result)
    first = ("effect_mean", "effect_mean_ci", "verdict", "verdict_text", "attribution")
    return {**{k: d[k] for k in first}, **{k: v for k, v in d.items() if k not in first}}


def impact_from_json(data: dict, what: str = "impact result") -> ImpactResult:
    """A typed impact result from its JSON data, every key and type checked.

    Parameters
    ----------
    data : dict
    what : str
        Name of the data in messages.

    Returns
    -------
    ImpactResult

    Raises
    ------
    SchemaError
        Listing every problem; also for a result written by a newer rca_app.
    """
    if not isinstance(data, dict):
        raise SchemaError([f"top level: expected an object, found {type(data).__name__}"], what)
    version = data.get("schema_version", 1)
    if isinstance(version, int) and version > IMPACT_SCHEMA_VERSION:
        raise SchemaError([f"schema_version {version} was written by a newer rca_app (this one reads up to "
                           f"{IMPACT_SCHEMA_VERSION}); update rca_app to open it"], what)
    return from_json_data(ImpactResult, data, what)


def impact_json_schema() -> dict:
    """The JSON Schema of the impact result (``schemas/impact_result.schema.json``).

    Returns
    -------
    dict
    """
    return json_schema(ImpactResult, f"rca_app impact result, schema version {IMPACT_SCHEMA_VERSION}")


@dataclass
class ChangeSpec:
    """The change as the engineer describes it (before it is checked against the data).

    Attributes
    ----------
    time : str or int
        When (a timestamp, or a row position without a time column).
    node : str or None
        The setpoint or categorical sensor changed; None: find it in the data.
    value : float, str or None
        The new setpoint value or level.
    kind : {"setpoint", "switch", "unspecified"}
    """

    time: str | int
    node: str | None = None
    value: float | str | None = None
    kind: Literal["setpoint", "switch", "unspecified"] = "unspecified"

    def describe(self) -> str:
        """The change in plant words."""
        if self.kind == "switch" and self.node:
            return f"{self.node} switched to {self.value}"
        if self.kind == "setpoint" and self.node:
            return (f"{self.node} set to {self.value:.6g}" if isinstance(self.value, (int, float))
                    else f"{self.node} changed")
        if self.node:
            return f"a change to {self.node}"
        return "an unnamed change (repair, maintenance)"

"""The records an analysis result is made of: the windows, the graph, the diagnostics, the
ranking's basis, the input and layout used, the process dynamics and the setpoints not proposed.

Plain dataclasses, read by attribute everywhere (the CLI, the report, the GUI); they change with
the engine steps that fill them. The result that holds them, its schema version and its JSON form
are in :mod:`rca_app.core.results`, which also re-exports every record here, so
``from rca_app.core.results import LoopRecord`` keeps working.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rca_app.core.errors import Problem
from rca_app.core.records import InvarianceCheck, NoiseCheck
from rca_app.core.result_notes import Note, as_note


@dataclass
class WindowRecord:
    """A window of rows: bounds as the user gives them (ISO timestamps, or 0-based row
    positions when the data have no time column; end exclusive) and as positions.

    Attributes
    ----------
    start, end : str or int
        The bounds as the user gives them.
    first_row, stop_row : int
        0-based positions in the prepared data (``stop_row`` exclusive).
    n_rows : int
    """

    start: str | int
    end: str | int
    first_row: int
    stop_row: int
    n_rows: int


@dataclass
class IncidentRecord:
    """The incident window and what the KPI did in it.

    Attributes
    ----------
    start, end, first_row, stop_row, n_rows
        As in :class:`WindowRecord`.
    target_reference_mean, target_anomaly_mean : float
        KPI mean in the reference and in the incident window.
    target_reference_sd : float
        KPI standard deviation in the reference window.
    shortfall : float
        Reference minus incident mean, positive = the bad way (the loss restorations are shares of).
    shortfall_pct : float or None
        The shortfall in % of the reference mean's size (None when that mean is 0).
    auto : bool
        Suggested by the auto-window rule rather than marked by the engineer.
    rule, centre, sigma, limit
        The auto-window rule that fired, and its control chart's centre line, sigma and limit.
    """

    start: str | int
    end: str | int
    first_row: int
    stop_row: int
    n_rows: int
    target_reference_mean: float
    target_anomaly_mean: float
    target_reference_sd: float
    shortfall: float                    # reference minus incident mean, positive = the bad way
    shortfall_pct: float | None
    auto: bool = False                  # suggested by the auto-window rule
    rule: str | None = None
    centre: float | None = None
    sigma: float | None = None
    limit: float | None = None


@dataclass
class GraphNodeRecord:
    """One node of the result's causal graph, with its place and roles in the layout.

    Attributes
    ----------
    name, station : str
        Sensor and the station it belongs to.
    tier : int
        0-based station index in the flow order.
    unit : str or None
        Engineering unit.
    categorical, controllable, exogenous : bool
        Roles from the layout.
    """
    name: str
    station: str
    tier: int
    unit: str | None
    categorical: bool
    controllable: bool
    exogenous: bool


@dataclass
class GraphEdgeRecord:
    """One edge of the result's causal graph with its fitted effect.

    Attributes
    ----------
    source, target : str
        The source directly causes the target.
    effect : float or None
        Average causal effect per unit of the source (target units).
    confidence : float or None
        Share of discovery resamples that found the edge.
    origin : str
        ``"discovered"``, ``"required"`` or ``"user"``.
    std_error : float or None
        Standard error of ``effect``.
    source_station, target_station : str
        Stations of both ends, for drawing.
    level_effects : dict of str to float or None
        Categorical source: effect of each level against the reference level.
    """
    source: str
    target: str
    effect: float | None                # average causal effect per unit of the source
    confidence: float | None            # share of discovery resamples that found the edge
    origin: str                         # discovered | required | user
    std_error: float | None
    source_station: str
    target_station: str
    level_effects: dict[str, float] | None = None   # categorical source: level -> effect
    # True: neither the data nor the layout decide this edge's direction (drawn one way; the
    # ranking's restoration ranges cover every way the equivalence class allows).
    undetermined: bool = False


@dataclass
class GraphRecord:
    """The causal graph as stored in the result.

    Attributes
    ----------
    nodes : list of GraphNodeRecord
    edges : list of GraphEdgeRecord
    stations : list of str
        Station names in flow order.
    """
    nodes: list[GraphNodeRecord]
    edges: list[GraphEdgeRecord]
    stations: list[str]


@dataclass
class UnstableEdge:
    """An edge found in at least a third of the resamples but not in the final graph."""

    source: str
    target: str
    confidence: float


@dataclass
class HiddenCauseRecord:
    """Sensors that something unmeasured seems to move together.

    Attributes
    ----------
    sensors : list of str
    source : str
        ``"incident: both moved together"`` (their own noises both changed in the incident, the
        way they co-vary: what one measured cause cannot do), ``"noise correlation"`` (their
        own noises correlate with no edge between them) or ``"fci"`` (FCI's marks, confirmed
        by the noise check). ``evidence`` says whether the reference period's shape test
        confirmed it.
    correlation : float or None
        Strongest noise correlation in the group.
    restoration : float
        Share of the KPI's shortfall recovered by restoring the sensors together.
    moved_in_incident : bool
        Their own noises moved together in the incident (the unmeasured cause changed then).
    evidence : list of str
        The tests behind the group, one line per pair, in plain words.
    edges_left_out : list of [str, str]
        Edges between the sensors that the ranking leaves out (they carry the shared cause).
    kpi_beyond : float or None
        How far restoring them together carries the KPI beyond everything it took, in its
        reference sds (:func:`rca_app.core.action_support.kpi_beyond`); from
        :data:`~rca_app.core.action_support.KPI_BEYOND_SD` on, ``restoration`` is the model's
        extrapolation and is not stated. None in results written before it was recorded.
    """

    sensors: list[str]
    source: str
    correlation: float | None
    restoration: float
    moved_in_incident: bool = False
    evidence: list[str] = field(default_factory=list)
    edges_left_out: list[list[str]] = field(default_factory=list)
    kpi_beyond: float | None = None


@dataclass
class Diagnostics:
    """How far the analysis can be trusted: model checks, warnings and run facts.

    Attributes
    ----------
    messages : list of Note
        Notes for the engineer, in plain language, each with its kind and severity (what it is
        about and how much it weighs); plain strings given here become notes of kind "info".
    noise_checks : list of NoiseCheck
        Per-node residual checks (LiNGAM assumes non-Gaussian, independent noise).
    unstable_edges : list of UnstableEdge
        Edges found often in resamples but not in the final graph.
    causal_order : list of str or None
        The order discovery found (None for a given graph).
    graph_source : {"discovered", "given"}
        Whether the graph was learned or supplied by the user.
    data_problems : list of Problem
        Warnings from reading the data.
    dropped_rows, imputed_cells : dict of str to int
        Rows dropped and cells filled, by reason or column.
    gaps_policy : str
        How missing values were handled.
    invariance_checks : list of InvarianceCheck
        Whether mechanisms fitted on the reference hold in the incident window.
    timings : dict of str to float
        Seconds per step.
    bootstrap_refits_used : int
        Resamples actually refitted for the intervals.
    """
    messages: list[Note]
    noise_checks: list[NoiseCheck]
    unstable_edges: list[UnstableEdge]
    causal_order: list[str] | None
    graph_source: Literal["discovered", "given"]
    data_problems: list[Problem]
    dropped_rows: dict[str, int]
    imputed_cells: dict[str, int]
    gaps_policy: str
    invariance_checks: list[InvarianceCheck]
    timings: dict[str, float]
    bootstrap_refits_used: int
    # Which discovery method decided the graph ("lingam", "pc", "fci", "pc+lingam"; None for a
    # given graph) and why; edges whose direction the data cannot tell (as drawn); suspected
    # unmeasured common causes.
    discovery_method: str | None = None
    discovery_reason: str = ""
    undetermined_edges: list[list[str]] = field(default_factory=list)
    hidden_causes: list[HiddenCauseRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A step that gives no kind writes a note on how the analysis was done.
        self.messages = [as_note(m) for m in self.messages]


@dataclass
class OwnAnomalyRecord:
    """How unusual one sensor's own behaviour was in the incident (an anomaly ranking's score).

    Attributes
    ----------
    node : str
    score : float
        Mean of ``-log`` of the share of reference noises at least as extreme (0: typical).
    tail_share : float
        Mean share of reference noises at least as extreme.
    noise_shift_sd : float
        Incident mean noise minus reference mean, in reference sds (NaN for categorical).
    first_on_rows : float
        Share of the incident rows on which this sensor scored highest.
    """

    node: str
    score: float
    tail_share: float
    noise_shift_sd: float
    first_on_rows: float = float("nan")


@dataclass
class RankingBasis:
    """Which ranking the root causes come from, and why (the incident's shape).

    Attributes
    ----------
    method : {"restoration", "unit_restoration", "anomaly"}
        Restoration over the incident window; restoration per unit (1-4 incident rows); or an
        anomaly ranking (the KPI never varied in the reference period: nothing to restore).
    explanation : str
        One sentence for the engineer.
    kpi_type : {"continuous", "binary", "count", "event"}
    kpi_type_inferred : bool
        The layout did not declare it.
    incident_rows, reference_rows : int
        Rows used.
    comfortable_reference_rows : int
        Reference rows the full model wants.
    simple_model : bool
        A shrunk linear model with fewer parents was fitted (short reference period).
    anomaly_scores : list of OwnAnomalyRecord
        The anomaly ranking's scores (empty for restorations).
    """

    method: Literal["restoration", "unit_restoration", "anomaly"]
    explanation: str
    kpi_type: Literal["continuous", "binary", "count", "event"]
    kpi_type_inferred: bool
    incident_rows: int
    reference_rows: int
    comfortable_reference_rows: int
    simple_model: bool
    anomaly_scores: list[OwnAnomalyRecord] = field(default_factory=list)


@dataclass
class JoinedTableRecord:
    """A ``[[join]]`` table (lot properties) as read, fingerprinted like the data file: a changed
    lot table gives other numbers, so reproducing the result needs the same one."""

    file: str
    path: str
    sha256: str
    size_bytes: int
    rows: int
    on: str                              # the key column it was joined by


@dataclass
class InputRecord:
    """The data file as read: enough to find it again and to prove it is the same file; and so
    each table joined onto it (``joined``)."""

    file: str
    path: str
    sha256: str
    size_bytes: int
    sheet: str | int | None
    rows_used: int
    gaps: str
    dayfirst: bool | None
    sep: str | None
    decimal: str | None
    encoding: str | None
    joined: list[JoinedTableRecord] = field(default_factory=list)

    @staticmethod
    def joined_tables(tables) -> list[JoinedTableRecord]:
        """Records of the data's joined tables (``RawTable.joined``)."""
        return [JoinedTableRecord(t.file, t.path, t.sha256, t.size_bytes, t.rows, t.on) for t in tables]


@dataclass
class LayoutRecord:
    """The layout the analysis used, with its text for reproducibility.

    Attributes
    ----------
    name : str
        Plant name.
    file, path : str or None
        File name and full path it was loaded from.
    text : str or None
        The layout TOML as used.
    target : str
        The yield column.
    goal : {"maximize", "minimize"}
    time_column : str or None
    """
    name: str
    file: str | None
    path: str | None
    text: str | None                    # the layout TOML as used (reproducibility)
    target: str
    goal: Literal["maximize", "minimize"]
    time_column: str | None


@dataclass
class LagRecord:
    """The residence time used from one station to the next.

    Attributes
    ----------
    station, to_station : str
    lag : str
        As a duration ("15min").
    lag_steps : int
        In grid steps.
    given : bool
        Declared in the layout (declared values always win).
    estimate_steps : int or None
        The data's estimate ("auto"); not used when its confidence was too low.
    confidence : float or None
        Share of block-bootstrap resamples agreeing with the estimate within one step.
    score : float or None
        Mean adjusted R^2 of the downstream sensors at that lag.
    """

    station: str
    to_station: str
    lag: str
    lag_steps: int
    given: bool
    estimate_steps: int | None = None
    confidence: float | None = None
    score: float | None = None


@dataclass
class LoopRecord:
    """What a control loop did in the incident.

    Attributes
    ----------
    controlled, manipulated : str
    mv_shift_sd, cv_shift_sd : float
        Incident minus reference mean, in reference sds.
    compensated : bool
        The manipulated variable moved while the controlled one held.
    limit_use : float
        How far toward its limit the manipulated variable went (1: at the limit).
    limits_declared : bool
        Limits from the layout (else the reference range).
    source : str or None
        The sensor the rejected disturbance came from.
    source_share : float or None
        Share of the manipulated variable's shift that the source explains.
    in_model : bool
        The structural model holds the loop over time (:mod:`rca_app.core.lagged_model`): the
        controller answers the controlled variable within the row (CV -> MV) and the process
        answers the manipulated variable from the next row (MV[t-1] -> CV), so restorations and
        actions run through the controller.
    saturated : bool
        The manipulated variable sat at a declared limit for a meaningful part of the incident:
        the controller lost its authority (:mod:`rca_app.core.control_loops`).
    saturated_share : float or None
        Share of the incident rows it sat there.
    saturated_at : str or None
        When it first reached the limit.
    saturated_limits : list of float
        The declared limits it sat at: both when it swung from one to the other.
    questioned : str or None
        Why the declaration itself is in doubt (its manipulated variable outside its declared
        limits, or the controlled variable moving while the manipulated one held); None when
        the data read it as declared.
    """

    controlled: str
    manipulated: str
    mv_shift_sd: float
    cv_shift_sd: float
    compensated: bool
    limit_use: float
    limits_declared: bool = False
    source: str | None = None
    source_share: float | None = None
    in_model: bool = False
    saturated: bool = False
    saturated_share: float | None = None
    saturated_at: str | None = None
    saturated_limits: list[float] = field(default_factory=list)
    questioned: str | None = None


@dataclass
class LoopProposal:
    """A control loop the data show but the layout does not declare (never used until declared).

    Attributes
    ----------
    controlled, manipulated : str
        The sensor the controller appears to hold, and the one it moves.
    mv_shift_sd, cv_shift_sd : float
        Incident minus reference mean, in reference sds: the manipulated variable moved while
        the controlled one held.
    partial_r : float
        In the reference, the partial correlation of the manipulated variable's changes with
        the controlled variable's level (a controller's integral action).
    text : str
        The evidence in words, with the ``[[loop]]`` block to paste.
    """

    controlled: str
    manipulated: str
    mv_shift_sd: float
    cv_shift_sd: float
    partial_r: float
    text: str


@dataclass
class LaggedEdge:
    """An edge over time: ``source`` at t - ``lag`` acts on ``target`` at t.

    Attributes
    ----------
    source, target : str
        The same sensor for a self-lag (slow own dynamics).
    lag : str
        As a duration.
    lag_steps : int
    correlation : float
        Partial correlation at that lag beyond the target's own past (the lag-1 coefficient for
        a self-lag).
    p_value : float
        Corrected for the lags tried; conditioned on the target's own past (autocorrelation).
    kind : {"recycle", "proposed_recycle", "self"}
        A declared recycle, a backward stream the data show but the layout does not declare, or
        a self-lag.
    in_model : bool
        The structural model takes this edge as a lagged input (see
        :mod:`rca_app.core.lagged_model`): restorations and actions propagate through it in time.
    """

    source: str
    target: str
    lag: str
    lag_steps: int
    correlation: float
    p_value: float
    kind: Literal["recycle", "proposed_recycle", "self"]
    in_model: bool = False


@dataclass
class DynamicsRecord:
    """The time-aware treatment of time-series data (None in a result for row-by-row data).

    Attributes
    ----------
    step : str or None
        The rows' time spacing (None: uneven, nothing was aligned).
    lags : list of LagRecord
        Residence times between consecutive stations up to the KPI's.
    shifts : dict of str to int
        Grid steps each sensor was moved forward by (only those moved).
    lag_max : str or None
        The longest residence time "auto" tried.
    rows_without_past : int
        Reference rows left out because an upstream sensor had no value that far back.
    loops : list of LoopRecord
    drift_onsets : dict of str to int or None
        Incident row where each leading cause's own drift began (CUSUM).
    bad_samples : dict of str to int
        Historian tags: samples flagged bad quality, per tag.
    note : str or None
    lagged_edges : list of LaggedEdge
        Recycle streams (declared or proposed) and self-lags found over time.
    proposed_loops : list of LoopProposal
        Control loops the data show but the layout does not declare (never used).
    """

    step: str | None
    lags: list[LagRecord] = field(default_factory=list)
    shifts: dict[str, int] = field(default_factory=dict)
    lag_max: str | None = None
    rows_without_past: int = 0
    loops: list[LoopRecord] = field(default_factory=list)
    drift_onsets: dict[str, int | None] = field(default_factory=dict)
    bad_samples: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    lagged_edges: list[LaggedEdge] = field(default_factory=list)
    proposed_loops: list[LoopProposal] = field(default_factory=list)


@dataclass
class NotProposedAction:
    """A controllable setpoint tried as an action and not proposed, and why.

    Attributes
    ----------
    node : str
        The setpoint.
    reason : {"kpi_beyond", "sensor_beyond"}
        "kpi_beyond": every setting tried predicts a KPI beyond everything it took in the
        reference and the incident (by :data:`rca_app.core.action_support.KPI_BEYOND_SD` of its
        reference sds or more); "sensor_beyond": some settings keep the KPI within that but carry
        a sensor on the way to it far beyond what the sensor took
        (:data:`~rca_app.core.action_support.NODE_BEYOND_SD`), the others the KPI itself.
    text : str
        The settings tried and what they predict, in plain words ("valve anywhere from 1 to 3
        (predicted y 120 to 130, 5 reference sd beyond its range)").
    kpi_beyond : float or None
        The least distance of the predicted KPI beyond its range over the settings tried, in its
        reference sds (None: not computed).
    """

    node: str
    reason: Literal["kpi_beyond", "sensor_beyond"]
    text: str
    kpi_beyond: float | None = None

"""The records the engine's results are made of, as plain dataclasses with no heavy imports.

Discovery, the SCM and the ranking fill them; :mod:`rca_app.core.results` assembles them into the
typed result that the report, the window and the files read. Keeping them here (numpy-free) lets
those readers import the result types without loading the engine.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass
class NoiseCheck:
    """Is a sensor's noise (its residual given its parents) non-Gaussian enough for LiNGAM?"""

    node: str
    skewness: float
    excess_kurtosis: float
    p_value: float
    near_gaussian: bool


@dataclass
class Evidence:
    reference_mean: float | None
    reference_sd: float | None
    anomaly_mean: float | None
    anomaly_sd: float | None
    shift_sd: float | None          # (anomaly - reference mean) / reference sd, of the node itself
    noise_shift_z: float | None     # same, of the node's own noise: how anomalous it is itself
    noise_sd_ratio: float | None    # incident noise spread / reference noise spread
    level_shares: dict | None = None  # categorical: level -> (reference share, incident share)
    paths: list[list[str]] = field(default_factory=list)


@dataclass
class RootCause:
    node: str
    station: str
    restoration: float
    restoration_ci: tuple[float, float]
    share_ranked_first: float
    controllable: bool
    categorical: bool
    evidence: Evidence
    # Lowest and highest restoration over the graphs the data cannot tell apart (edges of
    # undetermined direction); None when the graph is fully determined.
    restoration_range: tuple[float, float] | None = None
    # True: not a sensor but an unmeasured cause acting on the sensors ``acts_on`` together.
    unmeasured: bool = False
    acts_on: list[str] = field(default_factory=list)
    # Why the cause has no restoration of its own (None: it has one). "no_path_origin": the model
    # learnt from the reference period has no path from this sensor to the KPI, and the
    # disturbance-origin reading put it first as where the disturbance entered
    # (core/disturbance_origin.py); "no_path_setpoint": a loop's setpoint tag the operators moved,
    # ranked first, whose loop has no path to the KPI in the model (core/loop_setpoints.py). Either
    # way its restoration and interval are undefined (NaN), not 0%.
    no_restoration: Literal["no_path_origin", "no_path_setpoint"] | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["restoration_ci"] = list(self.restoration_ci)
        if self.restoration_range is not None:
            d["restoration_range"] = list(self.restoration_range)
        return d


@dataclass
class ActionResponse:
    """When the KPI would respond to a setpoint change (time-series data).

    Attributes
    ----------
    start : str
        After the change, as a duration ("13min"): the residence time from the setpoint's
        station to the KPI's.
    start_steps : int
        The same in grid steps.
    settle : str or None
        When the KPI would have reached 90% of its new level, where the model's lagged inputs
        (recycles, controllers, slow sensors) spread the response over time; None otherwise.
    settle_steps : int or None
    """

    start: str
    start_steps: int
    settle: str | None = None
    settle_steps: int | None = None


@dataclass
class Action:
    node: str
    station: str
    recommended_value: float | str
    incident_value: float | str | None       # mean (or most common level) during the incident
    reference_range: tuple[float, float] | list[str]
    predicted_target: float
    predicted_target_ci: tuple[float, float]
    predicted_target_row_interval: tuple[float, float]   # 5-95% of the incident rows' outcomes
    restoration: float
    restoration_ci: tuple[float, float]
    curve: list[tuple[float | str, float]]   # (setpoint, predicted target mean)
    warnings: list[str] = field(default_factory=list)
    # When the KPI would respond (time-series data; None: rows are independent, or it would not lag).
    response: ActionResponse | None = None
    # Declared loops' controlled variables every path of this setting to the KPI runs through: in
    # automatic their controllers cancel it (rca_app.core.loop_actions), so it is never the
    # recommended action. Empty when some path avoids them.
    cancelled_by: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("predicted_target_ci", "predicted_target_row_interval", "restoration_ci"):
            d[k] = list(d[k])
        d["reference_range"] = list(self.reference_range)
        d["curve"] = [list(p) for p in self.curve]
        return d


@dataclass
class MechanismReport:
    node: str
    kind: str          # empirical | linear | poly2 | spline | hgb | classifier | categorical_empirical
    parents: list[str]
    oof_r2: float | None
    candidates: dict[str, float] = field(default_factory=dict)  # kind -> out-of-fold R^2
    noise_sd: float | None = None
    # True: learned on reference + incident rows (an unchanged mechanism driven outside the
    # reference range; see pool_invariant_mechanisms).
    pooled: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class InvarianceCheck:
    node: str
    z_reference_model: float     # incident residual shift under the reference-only mechanism (z)
    shift_sd_reference: float    # the same shift in reference sds (an effect size)
    shift_sd_pooled: float       # the shift under the mechanism learned on both periods
    sd_ratio_reference: float    # incident / reference residual spread, reference-only mechanism
    sd_ratio_pooled: float       # the same, pooled mechanism
    pooled: bool                 # True: the mechanism is taken as unchanged and learned on both

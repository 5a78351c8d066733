"""Root causes ranked by restoration, with bootstrap intervals, and setpoint actions.

Restoration of node k: in the incident rows, keep every node's own (abducted) noise except k's,
which is replaced by draws from k's reference noise, i.e. k behaves as it did in the reference
period (a changed mechanism shows up in the noise too, so it is restored as well). The
counterfactual is propagated downstream. Restoration is the share of the KPI's shortfall
(reference mean minus incident mean, in the bad direction) that this recovers:
1.0 means the whole loss comes back, 0 means none, negative means it would get worse.

Actions answer "the cause is raw material, which we cannot change: what setpoint compensates?":
for each controllable setpoint c, do(c = v) over a grid inside c's reference range, applied to
the incident rows with their own noise kept.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from rca_app.core.progress import Progress, check_cancel
from rca_app.core.encoding import encode_value
from rca_app.core.queries import incident_abduction, propagate
from rca_app.core.scm import StructuralCausalModel

# Incident rows are replicated so that each restoration averages over this many draws at least.
_TARGET_DRAWS = 4000
_MAX_REPLICAS = 50


@dataclass
class RankingSettings:
    n_bootstrap: int = 30
    action_grid: int = 25
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["restoration_ci"] = list(self.restoration_ci)
        return d


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

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("predicted_target_ci", "predicted_target_row_interval", "restoration_ci"):
            d[k] = list(d[k])
        d["reference_range"] = list(self.reference_range)
        d["curve"] = [list(p) for p in self.curve]
        return d


@dataclass
class Incident:
    """The incident rows and what the KPI did, as the ranking needs them."""

    target: str
    goal: str
    reference: pd.DataFrame
    anomaly: pd.DataFrame

    @property
    def reference_mean(self) -> float:
        return float(self.reference[self.target].mean())

    @property
    def anomaly_mean(self) -> float:
        return float(self.anomaly[self.target].mean())

    @property
    def shortfall(self) -> float:
        """Reference minus incident mean, positive when the KPI moved the bad way."""
        d = self.reference_mean - self.anomaly_mean
        return d if self.goal == "maximize" else -d


def candidate_nodes(scm: StructuralCausalModel, target: str) -> list[str]:
    """The target's ancestors, and the target itself: restoring the target's own noise asks
    "was it something no measured upstream sensor explains?" (a cause at the last station, or
    one the data do not see)."""
    anc = scm.graph.ancestors(target)
    return [n for n in scm.order_ if n in anc] + [target]


def restorations(scm: StructuralCausalModel, incident: Incident, nodes: list[str], seed: int = 0,
                 reference_mean: float | None = None) -> dict[str, float]:
    """Restoration of each node in ``nodes`` under one fitted SCM."""
    # The model's own abduction (once per model); the reference draws take the second child
    # of this call's seed, so abduction and draws never share a stream.
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    target = incident.target
    ab = incident_abduction(scm, incident.anomaly)
    values, noise = ab.values, ab.noise
    n = len(incident.anomaly)
    reps = int(min(_MAX_REPLICAS, max(1, np.ceil(_TARGET_DRAWS / n))))
    base = {k: np.tile(v, reps) for k, v in values.items()}
    noise_t = {k: (np.tile(v, (reps, 1)) if v.ndim == 2 else np.tile(v, reps)) for k, v in noise.items()}
    # One set of reference rows for every node: common random numbers make the scores comparable.
    idx = rng.integers(0, scm.n_reference_, size=n * reps)
    ref_mean = incident.reference_mean if reference_mean is None else reference_mean
    anom_mean = incident.anomaly_mean
    shortfall = ref_mean - anom_mean
    out = {}
    for k in nodes:
        new_noise = dict(noise_t)
        new_noise[k] = scm.mechanisms_[k].reference_draws(idx, rng)
        vals = propagate(scm, base, new_noise, {k}, stop_at=target)
        cf = float(np.mean(vals[target]))
        out[k] = (cf - anom_mean) / shortfall if shortfall != 0 else 0.0
    return out


def evidence_for(scm: StructuralCausalModel, incident: Incident, node: str) -> Evidence:
    ref, an = incident.reference, incident.anomaly
    paths = scm.graph.paths(node, incident.target, limit=5)
    if node in scm.categorical:
        r = ref[node].astype(str).value_counts(normalize=True)
        a = an[node].astype(str).value_counts(normalize=True)
        shares = {lv: (float(r.get(lv, 0.0)), float(a.get(lv, 0.0))) for lv in sorted(set(r.index) | set(a.index))}
        return Evidence(None, None, None, None, None, None, None, shares, paths)
    rv, av = ref[node].to_numpy(float), an[node].to_numpy(float)
    rsd = float(rv.std()) or 1.0
    mech = scm.mechanisms_[node]
    an_noise = incident_abduction(scm, an).noise[node]
    ref_noise = mech.ref_noise
    nsd = float(ref_noise.std()) or 1.0
    return Evidence(
        float(rv.mean()), float(rv.std()), float(av.mean()), float(av.std()),
        float((av.mean() - rv.mean()) / rsd),
        float((an_noise.mean() - ref_noise.mean()) / nsd),
        float(an_noise.std() / nsd),
        None, paths,
    )


def _grid(scm, incident: Incident, node: str, size: int):
    if node in scm.categorical:
        return list(scm.levels_[node])
    v = incident.reference[node].to_numpy(float)
    lo, hi = np.quantile(v, [0.01, 0.99])
    if hi <= lo:
        return [float(lo)]
    return list(np.linspace(lo, hi, size))


def action_curve(scm, incident: Incident, node: str, grid) -> np.ndarray:
    """Predicted incident-mean KPI under do(node = v) for each v in ``grid``."""
    ab = incident_abduction(scm, incident.anomaly)
    values, noise = ab.values, ab.noise
    means = []
    for v in grid:
        enc = encode_value(scm.levels_, node, v)
        vals = propagate(scm, values, noise, set(), {node: enc}, stop_at=incident.target)
        means.append(float(np.mean(vals[incident.target])))
    return np.array(means)


def what_if(scm, incident: Incident, node: str, value) -> np.ndarray:
    """Per-row predicted KPI of the incident rows under do(node = value)."""
    ab = incident_abduction(scm, incident.anomaly)
    values, noise = ab.values, ab.noise
    enc = encode_value(scm.levels_, node, value)
    vals = propagate(scm, values, noise, set(), {node: enc}, stop_at=incident.target)
    return vals[incident.target]


def block_bootstrap_rows(n: int, rng: np.random.Generator, block: int | None = None) -> np.ndarray:
    """Row indices of a moving-block bootstrap resample of ``n`` rows in time order.

    Plant data are autocorrelated (a drifting temperature, a batch of raw material), so
    resampling single rows would understate the uncertainty; blocks of about n^(1/3) consecutive
    rows keep short-range dependence inside each block."""
    block = block or max(1, int(round(n ** (1 / 3))))
    starts = rng.integers(0, max(1, n - block + 1), int(np.ceil(n / block)))
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]


def _better(goal: str, a: np.ndarray) -> int:
    return int(np.argmax(a) if goal == "maximize" else np.argmin(a))


def _ci(x, lo=5, hi=95) -> tuple[float, float]:
    x = np.asarray([v for v in x if np.isfinite(v)])
    if len(x) == 0:
        return (float("nan"), float("nan"))
    return (float(np.percentile(x, lo)), float(np.percentile(x, hi)))


@dataclass
class RankingResult:
    root_causes: list[RootCause]
    actions: list[Action]
    bootstrap_models: list = field(default_factory=list, repr=False)   # kept for what-ifs, not saved
    messages: list[str] = field(default_factory=list)


def rank_root_causes(scm: StructuralCausalModel, incident: Incident, layout, settings: RankingSettings,
                     refit=None, progress: Progress | None = None) -> RankingResult:
    """Rank the target's ancestors by restoration, with bootstrap intervals, and compute actions.

    Intervals come from refits on moving-block bootstrap resamples of the reference rows.

    ``refit(frame, seed)``, optional, returns an SCM fitted on a resample; by default the model
    refits itself (:meth:`StructuralCausalModel.refit`: graph, kinds and pooling kept; only the
    candidates are refitted)."""
    target = incident.target
    nodes = candidate_nodes(scm, target)
    if refit is None:
        def refit(sample, seed):
            return scm.refit(sample, seed, set(nodes), incident.anomaly)
    messages: list[str] = []
    if incident.shortfall <= 0:
        messages.append(
            f"{target} did not move the bad way in the incident window (reference mean "
            f"{incident.reference_mean:.4g}, incident mean {incident.anomaly_mean:.4g}, goal {incident.goal}); "
            "restorations are not meaningful."
        )
    if not nodes:
        messages.append(f"{target} has no causes in the graph: nothing to rank.")
    check_cancel(progress)
    point = restorations(scm, incident, nodes, settings.seed)
    controllable = list(layout.controllable) if hasattr(layout, "controllable") else []
    grids = {c: _grid(scm, incident, c, settings.action_grid) for c in controllable if c in nodes}
    curves = {c: action_curve(scm, incident, c, g) for c, g in grids.items()}

    boot_rest = {k: [] for k in nodes}
    boot_first = {k: 0 for k in nodes}
    boot_models = []
    boot_curves = {c: [] for c in grids}
    rng = np.random.default_rng(settings.seed + 1)
    nb = settings.n_bootstrap
    for b in range(nb):
        check_cancel(progress)
        if progress is not None:
            progress.step(f"uncertainty: refit {b + 1} of {nb} on resampled reference rows", b / max(1, nb))
        idx = block_bootstrap_rows(len(incident.reference), rng)
        sample = incident.reference.iloc[idx].reset_index(drop=True)
        try:
            m = refit(sample, settings.seed + 100 + b)
        except (np.linalg.LinAlgError, ValueError):
            continue  # a degenerate resample (a level missing, a constant column)
        r = restorations(m, incident, nodes, settings.seed + b, reference_mean=float(sample[target].mean()))
        for k, v in r.items():
            boot_rest[k].append(v)
        if r:
            boot_first[max(r, key=r.get)] += 1
        for c, g in grids.items():
            boot_curves[c].append(action_curve(m, incident, c, g))
        boot_models.append(m)
    n_ok = max(1, len(boot_models))
    if nb > 0 and not boot_models:
        messages.append("no bootstrap refit succeeded: restorations have no intervals")

    causes = []
    for k in nodes:
        station = layout.station_of(k)
        # No successful refit: no interval (NaN), rather than a false zero-width one.
        ci = _ci(boot_rest[k]) if boot_rest[k] else (float("nan"), float("nan"))
        causes.append(RootCause(k, station, point[k], ci, boot_first[k] / n_ok if boot_models else float("nan"),
                                k in controllable, k in scm.categorical, evidence_for(scm, incident, k)))
    causes.sort(key=lambda c: -c.restoration)

    actions = []
    ref_mean, anom_mean = incident.reference_mean, incident.anomaly_mean
    shortfall_raw = ref_mean - anom_mean
    for c, grid in grids.items():
        curve = curves[c]
        best = _better(incident.goal, curve)
        v = grid[best]
        pred = float(curve[best])
        boot_at = [bc[best] for bc in boot_curves[c]]
        rows = what_if(scm, incident, c, v)
        rest = (pred - anom_mean) / shortfall_raw if shortfall_raw else 0.0
        rest_b = [(p - anom_mean) / shortfall_raw for p in boot_at] if shortfall_raw else []
        warns = []
        if c not in scm.categorical and len(grid) > 1 and best in (0, len(grid) - 1):
            warns.append(
                f"the best {c} is at the edge of its reference range ({grid[best]:.4g}); a better setting "
                "may lie outside what was observed, and the model does not extrapolate there"
            )
        if c in scm.categorical:
            inc_val = incident.anomaly[c].astype(str).mode().iloc[0]
            rng_ = list(grid)
        else:
            inc_val = float(incident.anomaly[c].mean())
            rng_ = (float(grid[0]), float(grid[-1]))
        actions.append(Action(
            c, layout.station_of(c), v if isinstance(v, str) else float(v), inc_val, rng_, pred,
            _ci(boot_at), _ci(rows), rest, _ci(rest_b),
            [(g if isinstance(g, str) else float(g), float(m)) for g, m in zip(grid, curve)], warns,
        ))
    actions.sort(key=lambda a: -a.restoration)
    if progress is not None:
        progress.step("ranking finished", 1.0)
    return RankingResult(causes, actions, boot_models, messages)

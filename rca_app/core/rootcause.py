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

Support: a counterfactual (a restoration, a setting) is only as good as the rows the mechanisms
learnt from. One whose KPI rows lie, on average, more than :data:`KPI_BEYOND_SD` reference sds
beyond everything the KPI took in the reference and the incident rests on mechanisms carried
far outside those rows (a valve that hardly moved in the reference, set by a whole valve-percent;
a curved fit driven far beyond its data): its figure is the model's, not the plant's. Such
settings are never proposed, and such restorations are named in the notes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from rca_app.core.action_support import (
    KPI_BEYOND_SD,
    NODE_BEYOND_SD,
    action_doubts,
    kpi_beyond,
    kpi_envelope,
    nodes_beyond,
    settings_text,
    unsupported_actions_note,
)
from rca_app.core.analysis_notes import unmoved_cause_notes, unranked_notes  # noqa: F401  (moved; old import path)
from rca_app.core.encoding import encode_value
from rca_app.core.lagged_model import Scenario, lag_inputs, propagate_in_time, time_ancestors, with_setting
from rca_app.core.loop_actions import held_loop_warnings, held_on_the_way
from rca_app.core.parallel import ParallelSettings
from rca_app.core.progress import Progress, check_cancel
from rca_app.core.queries import incident_abduction, propagate, propagate_replacements, replicated
from rca_app.core.records import Action, Evidence, RootCause
from rca_app.core.result_notes import Note
from rca_app.core.results import NotProposedAction
from rca_app.core.scm import StructuralCausalModel
from rca_app.core.uncertainty import bootstrap_models

# Incident rows are replicated so that each restoration averages over this many draws at least.
_TARGET_DRAWS = 4000
_MAX_REPLICAS = 50
# Bootstrap refits average over fewer draws: their Monte Carlo error only widens the interval
# slightly (and is measured by the coverage benchmark), while the refits are most of the work.
BOOTSTRAP_DRAWS = 1000
@dataclass
class RankingSettings:
    n_bootstrap: int = 30
    action_grid: int = 25
    seed: int = 0
    # "weighted": Bayesian block bootstrap by weighted refits (fast); "resample": models fitted
    # from scratch on moving-block resamples (the former method). See core/uncertainty.py.
    interval_method: str = "weighted"
    n_jobs: int | None = None         # local workers for the refits (None: one per core)
    scheduler: str | None = None      # a Dask scheduler address instead of local workers

    def to_dict(self) -> dict:
        return asdict(self)


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


# A KPI whose incident mean moved less than this many sds of a window mean (the reference's own
# variation of a mean over as many rows) is within normal variation: the ranking explains noise.
WITHIN_NOISE_Z = 1.0


def within_noise_warning(incident: Incident, serial: bool = False) -> Note | None:
    """A prominent warning when the KPI's shortfall is within the reference's own variation.

    The yardstick is the sd of a mean over the incident's rows under reference behaviour:
    ``sd / sqrt(n_eff)`` with ``n_eff = n / (1 + 2 sum rho_k)`` on a time series (autocorrelated
    rows carry less information than their count), ``n`` for independent rows.

    Parameters
    ----------
    incident : Incident
    serial : bool
        The rows are a time series (effective rows counted).

    Returns
    -------
    str or None
    """
    from rca_app.core.autocorrelation import autocorrelations, mean_inflation

    ref = incident.reference[incident.target].to_numpy(float)
    ref = ref[np.isfinite(ref)]
    n = len(incident.anomaly)
    sd = float(ref.std()) if len(ref) > 1 else 0.0
    if n == 0 or sd <= 0 or incident.shortfall <= 0:
        return None   # a KPI that did not move the bad way has its own message
    inflation = mean_inflation(autocorrelations(ref)) if serial else 1.0
    n_eff = max(1.0, n / inflation)
    z = incident.shortfall / (sd / np.sqrt(n_eff))
    if z >= WITHIN_NOISE_Z:
        return None
    rows = f"{n} rows" + (f" (about {n_eff:.0f} independent ones)" if serial and inflation > 1 else "")
    return Note(f"WARNING: {incident.target} barely moved. Its shortfall ({incident.shortfall:.4g}, "
                f"{incident.shortfall / sd:.2f} reference sd) is only {z:.2f} times the sd that a mean over {rows} "
                f"has in the reference period: the incident is within {incident.target}'s normal variation, so the "
                "ranking explains noise, not a loss. Check the window and the KPI before acting on it.",
                "warning", "warning")


def candidate_nodes(scm: StructuralCausalModel, target: str) -> list[str]:
    """The target's ancestors, and the target itself: restoring the target's own noise asks
    "was it something no measured upstream sensor explains?" (a cause at the last station, or
    one the data do not see)."""
    # Time series with lagged inputs: ancestors over time (a sensor's past goes with the sensor).
    anc = time_ancestors(scm, target) if lag_inputs(scm) else scm.graph.ancestors(target)
    return [n for n in scm.order_ if n in anc] + [target]


def restorations(scm: StructuralCausalModel, incident: Incident, nodes: list[str], seed: int = 0,
                 reference_mean: float | None = None, draws: int = _TARGET_DRAWS,
                 beyond: dict[str, float] | None = None) -> dict[str, float]:
    """Restoration of each node in ``nodes`` under one fitted SCM.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    nodes : list of str
    seed : int
        Seeds the reference draws (the abduction is the model's own).
    reference_mean : float, optional
        The KPI's reference mean (default: the incident's reference rows').
    draws : int
        Incident rows are replicated until they give at least this many draws.
    beyond : dict, optional
        Filled with each node's :func:`kpi_beyond`: how far its counterfactual carries the KPI
        outside everything it took, in reference sds, with the model trusted beyond what the
        plant showed (the restorations themselves are held within it,
        :mod:`rca_app.core.support`; this says how far the model alone would have gone).

    Returns
    -------
    dict of node to restoration (share of the KPI's shortfall recovered)
    """
    # The model's own abduction (once per model); the reference draws take the second child
    # of this call's seed, so abduction and draws never share a stream.
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    target = incident.target
    ab = incident_abduction(scm, incident.anomaly)
    values, noise = ab.values, ab.noise
    n = len(incident.anomaly)
    reps = int(min(_MAX_REPLICAS, max(1, np.ceil(draws / n))))
    base, noise_t = replicated(values, noise, reps)
    # One set of reference rows for every node: common random numbers make the scores comparable.
    weights = getattr(scm, "bootstrap_weights_", None)
    if weights is None:
        idx = rng.integers(0, scm.n_reference_, size=n * reps)
    else:
        # A weighted refit: reference rows drawn in proportion to their bootstrap weights.
        cdf = np.cumsum(weights)
        idx = np.minimum(np.searchsorted(cdf, rng.random(n * reps) * cdf[-1], side="right"), len(cdf) - 1)
    ref_mean = incident.reference_mean if reference_mean is None else reference_mean
    anom_mean = incident.anomaly_mean
    shortfall = ref_mean - anom_mean
    # Every candidate in one pass through the graph (each mechanism evaluated once for all
    # the candidates upstream of it).
    draws = [(k, scm.mechanisms_[k].reference_draws(idx, rng, scm.reference_values_)) for k in nodes]
    def restored(bounds=None) -> np.ndarray:
        if lag_inputs(scm):
            # Time series with lagged inputs: restored over the incident rows, in time order.
            return propagate_in_time(scm, base, noise_t, [Scenario(noise={k: d}) for k, d in draws], target, n,
                                     bounds=bounds)
        return propagate_replacements(scm, base, noise_t, draws, target, bounds=bounds)

    rows = restored()
    cf = rows.mean(axis=1)
    if beyond is not None:
        with np.errstate(all="ignore"):
            free = restored(bounds={})
        beyond.update(zip(nodes, map(float, kpi_beyond(free, kpi_envelope(incident))), strict=True))
    return {k: float((c - anom_mean) / shortfall) if shortfall != 0 else 0.0 for k, c in zip(nodes, cf, strict=True)}


def _self_lags(scm, node: str) -> list[str]:
    """The node's own lagged copies among its parents (``node[t-L]``: a self-lag in the model)."""
    from rca_app.core.lagged_model import lag_inputs_of

    return [li.node for li in lag_inputs_of([*scm.graph.parents(node), node]) if li.source == node]


def own_shift_beyond_other_causes(scm, incident: Incident, node: str) -> float | None:
    """The node's incident shift not explained by its parents other than its own past, in
    reference sds of that residual; None when it has no self-lag.

    With a self-lag ``x_t = a x_(t-1) + ... + e_t`` a lasting step of ``d`` moves the noise ``e``
    by only ``d (1 - a)``: the sensor's own past absorbs the step, and the per-row noise
    understates how much the sensor itself changed.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    node : str

    Returns
    -------
    float or None
    """
    own = _self_lags(scm, node)
    if not own or node in scm.categorical:
        return None
    from rca_app.core.lab_incident import value_rows

    ref, an = incident.reference, incident.anomaly
    ref_rows, an_rows = value_rows(incident, node)
    if an_rows is not None:
        # A lab value: its samples, not the copies held between them (core/lab_incident.py).
        ref, an = ref.iloc[ref_rows], an.iloc[an_rows]
    others = [p for p in scm.graph.parents(node) if p not in own and p in ref.columns
              and p not in scm.categorical and pd.api.types.is_numeric_dtype(ref[p])]
    A0 = np.column_stack([np.ones(len(ref))] + [ref[p].to_numpy(float) for p in others])
    A1 = np.column_stack([np.ones(len(an))] + [an[p].to_numpy(float) for p in others])
    y0, y1 = ref[node].to_numpy(float), an[node].to_numpy(float)
    coef, *_ = np.linalg.lstsq(A0, y0, rcond=None)
    r0, r1 = y0 - A0 @ coef, y1 - A1 @ coef
    sd = float(r0.std()) or 1.0
    return float((r1.mean() - r0.mean()) / sd)


def self_lag_notes(scm, incident: Incident, causes, top: int = 3) -> list[str]:
    """A note for each leading cause whose self-lag absorbs most of its own change.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    causes : list of RootCause
        Their ``evidence.noise_shift_z`` already holds the shift beyond the other causes.
    top : int

    Returns
    -------
    list of str
    """
    out = []
    for c in causes[:top]:
        if c.unmeasured or c.node not in scm.mechanisms_ or not _self_lags(scm, c.node):
            continue
        beyond = c.evidence.noise_shift_z
        per_row = incident_noise_z(scm, incident, c.node)
        if beyond is None or per_row is None or abs(beyond) < 2 or abs(beyond) < 2 * abs(per_row):
            continue
        out.append(f"{c.node}: its own change is {beyond:+.1f} reference sd beyond its other causes; its row-to-row "
                   f"noise given its own past moved only {per_row:+.1f} sd, because the model's self-lag carries a "
                   "lasting step forward from row to row. The first figure is the one to read (Evidence shows it).")
    return out


def incident_noise_z(scm, incident: Incident, node: str) -> float | None:
    """The node's own noise shift in the incident, in reference noise sds (per row, all parents given)."""
    if node in scm.categorical:
        return None
    from rca_app.core.lab_incident import own_noise_read

    an_noise, ref_noise = own_noise_read(scm, incident, node)   # a lab value: on its samples
    return float((an_noise.mean() - ref_noise.mean()) / (float(ref_noise.std()) or 1.0))


def evidence_for(scm: StructuralCausalModel, incident: Incident, node: str) -> Evidence:
    ref, an = incident.reference, incident.anomaly
    paths = scm.graph.paths(node, incident.target, limit=5)
    if node in scm.categorical:
        r = ref[node].astype(str).value_counts(normalize=True)
        a = an[node].astype(str).value_counts(normalize=True)
        shares = {lv: (float(r.get(lv, 0.0)), float(a.get(lv, 0.0))) for lv in sorted(set(r.index) | set(a.index))}
        return Evidence(None, None, None, None, None, None, None, shares, paths)
    from rca_app.core.lab_incident import own_noise_read, value_rows

    rv, av = ref[node].to_numpy(float), an[node].to_numpy(float)
    ref_rows, an_rows = value_rows(incident, node)
    if an_rows is not None:
        rv, av = rv[ref_rows], av[an_rows]   # a lab value: its samples (core/lab_incident.py)
    rsd = float(rv.std()) or 1.0
    an_noise, ref_noise = own_noise_read(scm, incident, node)
    nsd = float(ref_noise.std()) or 1.0
    # A self-lag absorbs a lasting step into the sensor's own past: its own change is then the
    # shift beyond its other causes (trial defect 11).
    beyond = own_shift_beyond_other_causes(scm, incident, node)
    return Evidence(
        float(rv.mean()), float(rv.std()), float(av.mean()), float(av.std()),
        float((av.mean() - rv.mean()) / rsd),
        beyond if beyond is not None else float((an_noise.mean() - ref_noise.mean()) / nsd),
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
    return action_rows(scm, incident, node, grid).mean(axis=1)


def action_rows(scm, incident: Incident, node: str, grid, inside: dict | None = None) -> np.ndarray:
    """The incident rows' predicted KPI under do(node = v) for each v in ``grid``.

    Parameters
    ----------
    scm : StructuralCausalModel
    incident : Incident
    node : str
    grid : sequence
        Settings of ``node``.
    inside : dict, optional
        Filled with ``"free"``: the KPI rows with the model trusted beyond what the plant showed
        (the rows returned are held within it, :mod:`rca_app.core.support`), and, for a model
        without lagged inputs (whose propagation gives every node on the way), with ``"beyond"``
        (per setting, how far the sensors the setting moves would go beyond anything they took,
        the farthest; :func:`~rca_app.core.action_support.nodes_beyond`) and ``"node"`` (which
        sensor, per setting).

    Returns
    -------
    ndarray, shape (len(grid), incident rows)
    """
    ab = incident_abduction(scm, incident.anomaly)
    g, n = len(grid), ab.n_rows
    if g == 0:
        return np.zeros((0, n))
    # The whole grid in one propagation: the incident rows stacked once per setpoint.
    values, noise = replicated(ab.values, ab.noise, g)
    setting = np.repeat([encode_value(scm.levels_, node, v) for v in grid], n)
    if lag_inputs(scm):
        # Held from the incident's first row on: its lagged copies follow after their lags.
        scenario = [Scenario(setting={node: setting})]
        out = propagate_in_time(scm, values, noise, scenario, incident.target, n)
        if inside is not None:
            with np.errstate(all="ignore"):
                inside["free"] = propagate_in_time(scm, values, noise, scenario, incident.target, n,
                                                   bounds={}).reshape(g, n)
        return out.reshape(g, n)
    vals = propagate(scm, values, noise, set(), {node: setting}, stop_at=incident.target)
    if inside is not None:
        with np.errstate(all="ignore"):
            free = propagate(scm, values, noise, set(), {node: setting}, stop_at=incident.target, bounds={})
        inside["free"] = free[incident.target].reshape(g, n)
        inside["beyond"], inside["node"] = nodes_beyond(scm, ab.values, free, (node, incident.target), g)
    return vals[incident.target].reshape(g, n)


def what_if(scm, incident: Incident, node: str, value) -> np.ndarray:
    """Per-row predicted KPI of the incident rows under do(node = value)."""
    ab = incident_abduction(scm, incident.anomaly)
    values, noise = ab.values, ab.noise
    enc = encode_value(scm.levels_, node, value)
    if lag_inputs(scm):
        scen = with_setting(Scenario(), node, enc, ab.n_rows, values[node].dtype)
        return propagate_in_time(scm, values, noise, [scen], incident.target, ab.n_rows)[0]
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


def _bootstrap_score(model, incident: Incident, reference_mean: float, nodes, grids) -> tuple[dict, dict]:
    """Restorations and action curves under one refitted model (a worker task's work)."""
    r = restorations(model, incident, nodes, model.settings.seed, reference_mean=reference_mean,
                     draws=BOOTSTRAP_DRAWS)
    return r, {c: action_curve(model, incident, c, g) for c, g in grids.items()}


def _refit_with(refit, incident, nodes, settings, score, progress) -> list[tuple]:
    """Refits by a caller's ``refit(frame, seed)`` on moving-block resamples, in this process."""
    rng = np.random.default_rng(settings.seed + 1)
    out = []
    for b in range(settings.n_bootstrap):
        check_cancel(progress)
        idx = block_bootstrap_rows(len(incident.reference), rng)
        sample = incident.reference.iloc[idx].reset_index(drop=True)
        try:
            m = refit(sample, settings.seed + 100 + b)
        except (np.linalg.LinAlgError, ValueError):
            continue
        out.append((m, score(m, incident, float(sample[incident.target].mean()))))
    return out


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
    # Node -> how far its restoration carries the KPI beyond everything it took (kpi_beyond).
    kpi_beyond: dict[str, float] = field(default_factory=dict)
    # Setpoints whose every setting lies beyond what the plant showed (core/action_support.py).
    not_proposed: list[NotProposedAction] = field(default_factory=list)


def wrong_way_notes(incident: Incident, consequence: str = "restorations are not meaningful") -> list[Note]:
    """A warning when the KPI did not move the bad way in the incident (none when it did): whatever
    the ranking, it then explains no loss (a swapped window, a KPI full of no-value codes)."""
    if incident.shortfall > 0:
        return []
    return [Note(f"{incident.target} did not move the bad way in the incident window (reference mean "
                 f"{incident.reference_mean:.4g}, incident mean {incident.anomaly_mean:.4g}, goal {incident.goal}); "
                 f"{consequence}.", "warning", "warning")]


def rank_root_causes(scm: StructuralCausalModel, incident: Incident, layout, settings: RankingSettings,
                     refit=None, progress: Progress | None = None) -> RankingResult:
    """Rank the target's ancestors by restoration, with bootstrap intervals, and compute actions.

    Intervals come from refits of the candidates' mechanisms (``settings.interval_method``, see
    :mod:`rca_app.core.uncertainty`), run on ``settings.n_jobs`` workers with the same result
    for any number of them.

    ``refit(frame, seed)``, optional: a caller's own refit on moving-block resamples instead."""
    target = incident.target
    nodes = candidate_nodes(scm, target)
    messages: list[str] = []
    messages += wrong_way_notes(incident)
    if nodes == [target]:
        # The KPI is always its own candidate: alone, it is no finding (issue #14 trial, defect 3).
        messages.append(Note(f"{target} has no causes in the graph: only its own unexplained change can be "
                             "ranked, which says nothing about where the loss came from.", "no_causes", "warning"))
    check_cancel(progress)
    beyond: dict[str, float] = {}
    point = restorations(scm, incident, nodes, settings.seed, beyond=beyond)
    controllable = list(layout.controllable) if hasattr(layout, "controllable") else []
    grids = {c: _grid(scm, incident, c, settings.action_grid) for c in controllable if c in nodes}
    envelope = kpi_envelope(incident)
    inside = {c: {} for c in grids}
    curve_rows = {c: action_rows(scm, incident, c, g, inside[c]) for c, g in grids.items()}
    curves = {c: r.mean(axis=1) for c, r in curve_rows.items()}
    # Settings whose predicted KPI stays within what the KPI took, and whose way there keeps the
    # sensors near what they took: the only ones proposed.
    curve_beyond = {c: kpi_beyond(inside[c]["free"], envelope) for c in curve_rows}
    supported = {c: (curve_beyond[c] < KPI_BEYOND_SD) & (inside[c].get("beyond", 0.0) < NODE_BEYOND_SD)
                 for c in grids}

    boot_rest = {k: [] for k in nodes}
    boot_first = {k: 0 for k in nodes}
    boot_curves = {c: [] for c in grids}
    nb = settings.n_bootstrap
    score = partial(_bootstrap_score, nodes=nodes, grids=grids)
    if refit is not None:
        boot = _refit_with(refit, incident, nodes, settings, score, progress)
    else:
        boot = bootstrap_models(scm, incident, nodes, nb, settings.seed, score, settings.interval_method,
                                ParallelSettings(settings.n_jobs, settings.scheduler), progress,
                                block_bootstrap_rows)
    boot_models = []
    for m, (r, cv) in boot:
        for k, v in r.items():
            boot_rest[k].append(v)
        if r:
            boot_first[max(r, key=r.get)] += 1
        for c in grids:
            boot_curves[c].append(cv[c])
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

    actions, unsupported = [], []
    ref_mean, anom_mean = incident.reference_mean, incident.anomaly_mean
    shortfall_raw = ref_mean - anom_mean
    controller_of = {lp.manipulated: lp.controlled for lp in getattr(layout, "loops", [])}
    for c, grid in grids.items():
        curve = curves[c]
        ok = supported[c]
        if not ok.any():
            unsupported.append((c, grid, curve, curve_beyond[c], inside[c]))
            continue
        best = _better(incident.goal, np.where(ok, curve, -np.inf if incident.goal == "maximize" else np.inf))
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
        if not ok.all():
            left = [g for g, k in zip(grid, ok, strict=True) if not k]
            warns.append(f"{len(left)} of the {len(grid)} settings of {c} tried were left out ("
                         + settings_text(left) + f"): there the predicted {target}, or a sensor on the way to it, "
                         "lies far beyond anything it took in the reference and the incident, where the model is "
                         "extrapolated")
        warns += action_doubts(rest, _ci(rest_b))
        if c in controller_of:
            warns.append(f"{c} is the output of the controller of {controller_of[c]}: in automatic that controller "
                         f"would fight the change (it moves {c} back to hold {controller_of[c]}), so setting it means "
                         "putting the loop in manual, and the prediction assumes the rest of the plant answers as in "
                         "the reference")
        loops = getattr(layout, "loops", [])
        warns += held_loop_warnings(scm.graph, c, target, loops, lag_inputs(scm))
        held, every = held_on_the_way(scm.graph, c, target, loops, lag_inputs(scm))
        if c in scm.categorical:
            inc_val = incident.anomaly[c].astype(str).mode().iloc[0]
            rng_ = list(grid)
        else:
            inc_val = float(incident.anomaly[c].mean())
            rng_ = (float(grid[0]), float(grid[-1]))
        actions.append(Action(
            c, layout.station_of(c), v if isinstance(v, str) else float(v), inc_val, rng_, pred,
            _ci(boot_at), _ci(rows), rest, _ci(rest_b),
            [(g if isinstance(g, str) else float(g), float(m)) for g, m, k in zip(grid, curve, ok, strict=True) if k],
            warns, cancelled_by=[lp.controlled for lp in held] if every else [],
        ))
    not_proposed: list[NotProposedAction] = []
    if unsupported:
        note, not_proposed = unsupported_actions_note(unsupported, incident, envelope)
        messages.append(note)
    actions.sort(key=lambda a: -a.restoration)
    if progress is not None:
        progress.step("ranking finished", 1.0)
    return RankingResult(causes, actions, boot_models, messages, beyond, not_proposed)

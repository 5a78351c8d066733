"""Did the fix work? The causal impact of a process change on the KPI, over a fitted SCM.

After an investigation the engineers change something (a setpoint, a supplier, a repair). The
question a week later is how much of the KPI's recovery is due to that change rather than to a
better raw-material lot or the season. SPC charts show that the KPI moved, not why.

The counterfactual (rung 3, abduction-action-prediction): every row after the change keeps its
own noise at every node (so a better lot that arrived the same week stays in both worlds and is
not credited to the change) except the changed node, whose noise is drawn from its own
behaviour before the change (since the incident started); the KPI is recomputed downstream. A
setpoint, a categorical switch and an unnamed repair are the same query: the changed node's own
noise (its setpoint, its level, or what its mechanism no longer explains) goes back to how it
was. The effect is observed minus counterfactual KPI, per row and on average.

The same machinery, run for every upstream node in turn, splits the recovery since the
incident (after-change mean minus before-change mean) into the change, each other node
returning to normal, the KPI's own noise (what no measured sensor explains) and the
interactions left over (:mod:`rca_app.core.rootcause` does this for the incident).

Intervals:

- ``effect_mean_ci``: refits of the model under the weighted block bootstrap (the
  investigation's refits) with the before- and after-change rows resampled in blocks as long
  as the changed node's own autocorrelation needs, and in each refit the misfit check below
  redone on block-resampled reference rows; and in each refit every node on a path from the
  changed node to the KPI takes one of the mechanism kinds the reference rows cannot tell
  apart (:mod:`rca_app.core.impact_kinds`): a step of a few sds moves the path to the edge of
  the reference range and past it, where the effect rests on the shape of the mechanisms (a
  line or a quadratic through a threshold) more than on the rows. The interval takes the order
  statistics that hold one more refit at the level (not the interpolated percentiles).

Misfit check (on the reference rows). The SCM's effect is only as good as its graph and
mechanism kinds: a missing path, or a curved mechanism fitted with a line, leaves part of the
changed node's influence inside other nodes' abducted noise, which the counterfactual then keeps
fixed. Under a right model the changed node's own noise is independent of every other node's
noise. So, for each numeric node that feeds the KPI (and the KPI), outside the changed node and
its ancestors, its noise is regressed on a quadratic in the changed node's standardised noise
(the misfit curve, about zero for a right model); in the counterfactual that noise moves along
its curve together with the changed node's noise, and the KPI is recomputed. This nests a
missing path (the KPI's noise then carries the whole effect) and a line fitted to a curve. It
is redone in every refit on block-resampled reference rows, so its estimation error is in the
interval. Beyond the reference range of the changed node's noise nothing checks the model: the
point estimate holds each curve at its edge value, and the interval spans the refits of both
that reading (``effect_mean_ci``) and, reported beside it, of the curves carried on along their
edge slopes (``effect_mean_ci_beyond``, in the caveats): the data cannot bound the effect there
better than that. Categorical changed nodes are not
checked. (A graph bootstrap would be the direct alternative; rediscovering the graph in every
refit costs a discovery per refit, which the query cannot afford interactively.)
- The counterfactual KPI's split-conformal intervals (:mod:`rca_app.core.conformal`): per row,
  from the KPI mechanism's cross-fitted reference residuals (exact for exchangeable rows), and
  for the window mean calibrated on windows of the same length cut from the time-ordered
  residuals (approximate for autocorrelated rows, and stated as such).

References
----------
J. Pearl (2009). Causality, 2nd ed., ch. 7 (counterfactuals by abduction, action, prediction).
A. C. Davison, D. V. Hinkley (1997). Bootstrap Methods and their Application, section 5.2
    (order statistics of B resamples at (B + 1) alpha).
K. Brodersen et al. (2015). Inferring causal impact using Bayesian structural time-series
    models. Annals of Applied Statistics 9, 247-274 (the question; a pure time-series answer).
V. Chernozhukov, K. Wuthrich, Y. Zhu (2021). An exact and robust conformal inference method for
    counterfactual and synthetic controls. JASA 116, 1849-1864.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rca_app.core.conformal import row_band, window_mean_band
from rca_app.core.encoding import encode_frame
from rca_app.core.impact_kinds import competitive_kinds, model_with_drawn_kinds
from rca_app.core.impact_misfit import autocorrelation_block, beyond_range, changed_counterfactual, misfit_check
from rca_app.core.impact_records import AttributionTerm, CauseStatus, ConformalRecord, NodeShift
from rca_app.core.queries import abduct, abduction_seed, propagate_replacements, replicated
from rca_app.core.rootcause import block_bootstrap_rows, candidate_nodes
from rca_app.core.support import show_rows

# A node counts as changed at the change time when its own noise moved this much (reference sds)
# and this significantly (rows counted in blocks); a categorical node when its level shares
# moved by this total-variation distance.
CHANGED_MIN_SHIFT_SD = 0.25
CHANGED_MIN_Z = 3.0
CHANGED_MIN_DISTANCE = 0.1
# A categorical distance counts this many sds when ranking what changed (a full switch = 4 sds).
DISTANCE_AS_SD = 4.0
# A root cause is back to normal when its own noise is within this many reference sds.
BACK_TO_NORMAL_SD = 0.25
Status = Literal["back to normal", "partly back", "still shifted"]
# Fewer rows after the change than this: the verdict is tentative.
MIN_AFTER_ROWS = 30
# Share of after-change rows outside the reference range that makes a node worth a caveat.
OUTSIDE_RANGE_SHARE = 0.05


@dataclass
class ImpactSettings:
    """Settings of the impact query.

    Attributes
    ----------
    level : float
        Coverage of every interval (0.9: 90%).
    seed : int
    draws : int
        After-change rows are replicated until the before-change draws number at least this.
    refit_draws : int
        The same in each bootstrap refit.
    max_causes : int
        The investigation's causes checked for "did the root cause go away?".
    min_refits : int
        The investigation's bootstrap refits are topped up to this many for the intervals.
    kind_uncertainty : bool
        Spread the refits over the mechanism kinds the reference rows cannot tell apart on the
        path from the changed node to the KPI.
    """

    level: float = 0.9
    seed: int = 0
    draws: int = 4000
    refit_draws: int = 1000
    max_causes: int = 5
    min_refits: int = 60
    # Refits spread over the competitive mechanism kinds on the path to the KPI (see
    # :mod:`rca_app.core.impact_kinds`); False keeps each node's chosen kind in every refit.
    kind_uncertainty: bool = True


@dataclass
class ImpactCore:
    """What :func:`change_impact` computes, before it is put in plant words."""

    observed: np.ndarray             # after-change KPI per row
    counterfactual: np.ndarray       # per row, had the change not been made
    expected: np.ndarray             # per row, the model's prediction of it without KPI noise
    band: ConformalRecord            # per-row conformal offsets
    mean_band: ConformalRecord       # conformal band of the window mean (offsets added)
    effect_mean: float
    effect_mean_ci: tuple[float, float]
    effect_cumulative_ci: tuple[float, float]
    contributions: dict[str, float]
    contributions_ci: dict[str, tuple[float, float]]
    before_mean: float
    n_refits: int
    # With the changed node's noise beyond the reference range: the interval if the misfit seen
    # at the range's edge goes on (the data cannot check the model there).
    effect_mean_ci_beyond: tuple[float, float] | None = None


def _noise_rows(noise: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return noise[idx]


def _contributions(scm, target: str, nodes: list[str], values_a: dict, noise_a: dict, noise_b: dict,
                   idx_b: np.ndarray, reps: int) -> dict[str, np.ndarray]:
    """Per after-change row, the KPI had each node in ``nodes`` behaved as before the change
    (its noise drawn from the before rows ``idx_b``); every other node keeps its own noise."""
    n = len(values_a[target])
    base, noise_t = replicated(values_a, noise_a, reps)
    repl = [(k, _noise_rows(noise_b[k], idx_b)) for k in nodes]
    cf = propagate_replacements(scm, base, noise_t, repl, target)
    return {k: cf[i].reshape(reps, n).mean(axis=0) for i, k in enumerate(nodes)}


def _reps(n: int, draws: int) -> int:
    return int(min(50, max(1, np.ceil(draws / max(1, n)))))


def change_impact(scm, reference: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame, target: str,
                  changed: str, bootstrap_models=(), settings: ImpactSettings | None = None,
                  incident: pd.DataFrame | None = None) -> ImpactCore:
    """Observed against counterfactual KPI after a change of ``changed``, the recovery's parts,
    and their intervals.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted on the reference period (the investigation's model).
    reference, before, after : DataFrame
        The reference rows, the rows from the incident's start to the change, and the rows
        after the change (in time order).
    target : str
        The KPI.
    changed : str
        The node whose behaviour the change altered.
    bootstrap_models : sequence of StructuralCausalModel
        Refits for the intervals (the investigation's weighted bootstrap refits).
    settings : ImpactSettings, optional
    incident : DataFrame, optional
        The incident rows the model was fitted with (mechanisms pooled over reference and
        incident learn from them; without them those nodes keep their kind).

    Returns
    -------
    ImpactCore
    """
    settings = settings or ImpactSettings()
    nodes = candidate_nodes(scm, target)
    on_path = changed in nodes
    parts = list(nodes)
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed).spawn(3)[2])
    va = encode_frame(after, scm.graph.nodes, scm.levels_)
    vb = encode_frame(before, scm.graph.nodes, scm.levels_)
    # The counterfactual replays the before rows' behaviour on the after rows: both periods are
    # what the plant showed (rca_app.core.support).
    show_rows(scm, vb)
    seed = abduction_seed(scm.settings.seed)
    na, nb = abduct(scm, va, seed), abduct(scm, vb, seed + 1)
    n_a, n_b = len(after), len(before)
    reps = _reps(n_a, settings.draws)
    idx = rng.integers(0, n_b, n_a * reps)
    cf = _contributions(scm, target, parts, va, na, nb, idx, reps)
    y = va[target].astype(float)
    vr = encode_frame(reference, scm.graph.nodes, scm.levels_)
    check = misfit_check(scm, vr, target, changed)
    checked = check is not None
    if checked:
        cf_change = changed_counterfactual(scm, target, changed, va, na, nb, idx, reps, check)
    else:
        cf_change = cf[changed] if on_path else y.copy()
    contributions = {k: float(y.mean() - cf[k].mean()) for k in parts}
    if on_path:
        contributions[changed] = float(y.mean() - cf_change.mean())

    # The model's prediction of the counterfactual KPI from its (counterfactual) upstream
    # alone: without the row's own KPI noise, which the conformal band stands for instead.
    expected = cf_change - na[target] if changed != target else cf_change
    ref_res = scm.mechanisms_[target].ref_noise
    rb = row_band(ref_res, settings.level)
    wb = window_mean_band(ref_res, n_a, settings.level)
    band = ConformalRecord(rb.low, rb.high, settings.level, rb.n_calibration, rb.exact,
                           "split conformal on the KPI mechanism's cross-fitted reference residuals, per row")
    mean_band = ConformalRecord(float(expected.mean() + wb.low), float(expected.mean() + wb.high), settings.level,
                                wb.n_calibration, wb.exact,
                                f"conformal for the mean of {n_a} consecutive rows, calibrated on the means of "
                                f"{n_a}-row stretches of the reference residuals (block calibration, "
                                f"{wb.n_calibration} non-overlapping windows); approximate for "
                                "autocorrelated rows")

    # Refits: the same query under each bootstrap model, with the before rows resampled in
    # blocks (the before-change behaviour is itself estimated from a finite stretch).
    boot_eff: list[float] = []
    boot_contrib: dict[str, list[float]] = {k: [] for k in parts}
    reps_b = _reps(n_a, settings.refit_draws)
    # Blocks as long as the changed node's own noise is autocorrelated: a slowly wandering
    # setpoint carries fewer independent rows than n^(1/3)-blocks would assume.
    own_a = na[changed] if changed in na and np.ndim(na[changed]) == 1 else y
    own_b = nb[changed] if changed in nb and np.ndim(nb[changed]) == 1 else vb[target]
    block_a, block_b = autocorrelation_block(own_a), autocorrelation_block(own_b)
    block_r = autocorrelation_block(vr[changed]) if checked else None
    n_r = len(reference)
    beyond = check is not None and beyond_range(check, na[changed])
    boot_far: list[float] = []
    kind_sets = {}
    if settings.kind_uncertainty and on_path and bootstrap_models:
        inc_values = encode_frame(incident, scm.graph.nodes, scm.levels_) if incident is not None else None
        kind_sets = competitive_kinds(scm, changed, target, inc_values)
    for b, m in enumerate(bootstrap_models):
        brng = np.random.default_rng(np.random.SeedSequence([settings.seed, b]).spawn(1)[0])
        if kind_sets:
            krng = np.random.default_rng(np.random.SeedSequence([settings.seed, b, 1]))
            m, _ = model_with_drawn_kinds(m, kind_sets, krng, settings.seed + 31 * b)
        show_rows(m, vb)
        rows_b = block_bootstrap_rows(n_b, brng, block_b)
        # The after rows are resampled in blocks too: the changed node's own after-change
        # noise (its setpoint's scatter) is part of what the effect is estimated from.
        rows_a = block_bootstrap_rows(n_a, brng, block_a)
        va_b = {k: v[rows_a] for k, v in va.items()}
        s = abduction_seed(m.settings.seed)
        na_b, nb_b = abduct(m, va_b, s), abduct(m, vb, s + 1)
        idx_b = rows_b[brng.integers(0, n_b, n_a * reps_b)]
        cf_b = _contributions(m, target, parts, va_b, na_b, nb_b, idx_b, reps_b)
        y_b = va_b[target].astype(float)
        for k in parts:
            boot_contrib[k].append(float(y_b.mean() - cf_b[k].mean()))
        if checked:
            check_b = misfit_check(m, vr, target, changed, block_bootstrap_rows(n_r, brng, block_r))
            eff_b = float(y_b.mean() - changed_counterfactual(m, target, changed, va_b, na_b, nb_b, idx_b, reps_b,
                                                              check_b).mean())
            if on_path:
                boot_contrib[changed][-1] = eff_b
            boot_eff.append(eff_b)
            if beyond:
                boot_far.append(float(y_b.mean() - changed_counterfactual(
                    m, target, changed, va_b, na_b, nb_b, idx_b, reps_b, check_b, continued=True).mean()))
        else:
            boot_eff.append(boot_contrib[changed][-1] if on_path else 0.0)
    tail = 100 * (1 - settings.level) / 2
    effect_mean = float(y.mean() - cf_change.mean())
    ci = _interval(boot_eff, tail) if (on_path or checked) else (0.0, 0.0)
    beyond_ci = None
    if boot_far:
        # Beyond the reference range nothing checks the model: this interval spans both readings
        # (the misfit stops at the edge, or goes on as it was going there).
        far = _interval(boot_far, tail)
        beyond_ci = (min(ci[0], far[0]), max(ci[1], far[1]))
    return ImpactCore(
        observed=y, counterfactual=cf_change, expected=expected, band=band, mean_band=mean_band,
        effect_mean=effect_mean, effect_mean_ci=ci,
        effect_cumulative_ci=(ci[0] * n_a, ci[1] * n_a),
        contributions=contributions,
        contributions_ci={k: _interval(v, tail) for k, v in boot_contrib.items()},
        before_mean=float(before[target].mean()), n_refits=len(boot_eff), effect_mean_ci_beyond=beyond_ci,
    )


def _interval(x, tail: float) -> tuple[float, float]:
    """Equal-tailed interval of refit values ``x`` (``tail`` percent in each tail).

    With B refits the interpolated 5th and 95th percentiles hold one more draw from the same
    spread only (B - 7.1) / (B + 1) of the time (87% at B = 60), so the order statistics
    ``k = floor((B + 1) * tail)`` from each end are taken instead: ``(B + 1 - 2k) / (B + 1)``
    reaches the level (Davison and Hinkley 1997, section 5.2). Too few refits for that: the
    extremes."""
    x = np.sort(np.asarray([v for v in x if np.isfinite(v)], dtype=float))
    if len(x) == 0:
        return (float("nan"), float("nan"))
    k = int(np.floor((len(x) + 1) * tail / 100))
    if k < 1:
        return (float(x[0]), float(x[-1]))
    return (float(x[k - 1]), float(x[len(x) - k]))


# --------------------------------------------------------------------------------------------
# What changed at the change time, and are the causes gone?
# --------------------------------------------------------------------------------------------
def _block(n: int) -> int:
    return max(1, int(round(n ** (1 / 3))))


def _tv(a: pd.Series, b: pd.Series) -> float:
    pa, pb = a.astype(str).value_counts(normalize=True), b.astype(str).value_counts(normalize=True)
    levels = set(pa.index) | set(pb.index)
    return float(0.5 * sum(abs(pa.get(k, 0.0) - pb.get(k, 0.0)) for k in levels))


def own_noise(scm, frame: pd.DataFrame, seed_offset: int = 0) -> dict[str, np.ndarray]:
    """Each node's own noise in ``frame``'s rows under ``scm``."""
    values = encode_frame(frame, scm.graph.nodes, scm.levels_)
    return abduct(scm, values, abduction_seed(scm.settings.seed) + seed_offset)


def _on_samples(scm, nb: dict, na: dict, samples: tuple[dict, dict] | None) -> tuple[dict, dict]:
    """Each node's before and after noise on the rows it is read on: a lab value's (and a child
    fitted on its samples) where it was sampled (:func:`rca_app.core.lab_incident.sampled_noise_rows`)."""
    if not samples or not (samples[0] or samples[1]):
        return nb, na
    from rca_app.core.lab_incident import sampled_noise_rows

    out_b, out_a = dict(nb), dict(na)
    for node in scm.mechanisms_:
        if scm.mechanisms_[node].categorical:
            continue
        rb, ra = sampled_noise_rows(scm, samples[0], node), sampled_noise_rows(scm, samples[1], node)
        if rb is not None and ra is not None:
            out_b[node], out_a[node] = nb[node][rb], na[node][ra]
    return out_b, out_a


def shifts_at_change(scm, before: pd.DataFrame, after: pd.DataFrame,
                     samples: tuple[dict, dict] | None = None) -> list[NodeShift]:
    """How much every node's own noise moved from the before-change rows to the after-change
    rows, largest first. Under the sparse-mechanism-shift view a change (a setpoint, a repair,
    a new lot) shows up in the noise of the node it acted on, not in its descendants'.

    Parameters
    ----------
    scm : StructuralCausalModel
    before, after : DataFrame
    samples : (dict, dict), optional
        Lab tags' sampled rows in ``before`` and ``after``
        (:func:`rca_app.core.lab_incident.change_samples`): a lab value's noise is read there,
        each sample counted once, not once per held copy.

    Returns
    -------
    list of NodeShift
    """
    nb, na = _on_samples(scm, own_noise(scm, before, 1), own_noise(scm, after), samples)
    out = []
    for node in scm.order_:
        mech = scm.mechanisms_.get(node)
        if mech is None:
            continue
        if mech.categorical:
            d = _tv(before[node], after[node])
            out.append(NodeShift(node, DISTANCE_AS_SD * d, None, None, d >= CHANGED_MIN_DISTANCE))
            continue
        sd = float(np.std(mech.ref_noise)) or 1.0
        a, b = na[node], nb[node]
        shift = (float(a.mean()) - float(b.mean())) / sd
        # Rows counted in blocks of about n^(1/3): autocorrelated rows carry less information.
        se = np.sqrt(np.var(a) * _block(len(a)) / len(a) + np.var(b) * _block(len(b)) / len(b))
        z = (float(a.mean()) - float(b.mean())) / se if se > 0 else 0.0
        ratio = float(np.std(a) / np.std(b)) if np.std(b) > 0 else None
        out.append(NodeShift(node, shift, float(z), ratio,
                             abs(z) >= CHANGED_MIN_Z and abs(shift) >= CHANGED_MIN_SHIFT_SD))
    out.sort(key=lambda s: -abs(s.shift_sd))
    return out


def cause_status(scm, causes, reference: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame,
                 level: float = 0.9, seed: int = 0, n_resamples: int = 200,
                 samples: tuple[dict, dict] | None = None) -> list[CauseStatus]:
    """For each of the investigation's causes: is its own behaviour back to the reference?

    Parameters
    ----------
    scm : StructuralCausalModel
    causes : list of RootCause
        The investigation's ranking (those to check).
    reference, before, after : DataFrame
    level : float
    seed : int
    n_resamples : int
        Moving-block bootstrap resamples of the after-change noise mean.
    samples : (dict, dict), optional
        Lab tags' sampled rows in ``before`` and ``after`` (as for :func:`shifts_at_change`).

    Returns
    -------
    list of CauseStatus
    """
    nb, na = _on_samples(scm, own_noise(scm, before, 1), own_noise(scm, after), samples)
    rng = np.random.default_rng(seed)
    tail = 100 * (1 - level) / 2
    out = []
    for c in causes:
        mech = scm.mechanisms_.get(c.node)
        if mech is None:
            continue
        if mech.categorical:
            d_b, d_a = _tv(reference[c.node], before[c.node]), _tv(reference[c.node], after[c.node])
            status: Status = ("back to normal" if d_a < CHANGED_MIN_DISTANCE
                              else "partly back" if d_a < 0.5 * d_b else "still shifted")
            out.append(CauseStatus(c.node, c.restoration, None, None, None, None, d_b, d_a, status))
            continue
        ref = mech.ref_noise
        sd = float(np.std(ref)) or 1.0
        centre = float(np.mean(ref))
        s_b = (float(nb[c.node].mean()) - centre) / sd
        a = na[c.node]
        s_a = (float(a.mean()) - centre) / sd
        boots = [(float(a[block_bootstrap_rows(len(a), rng)].mean()) - centre) / sd for _ in range(n_resamples)]
        ci = _interval(boots, tail)
        ratio = float(np.std(a) / sd)
        status_n: Status
        if (abs(s_a) < BACK_TO_NORMAL_SD or ci[0] <= 0 <= ci[1]) and ratio < 1.5:
            status_n = "back to normal"
        elif abs(s_a) < 0.5 * abs(s_b):
            status_n = "partly back"
        else:
            status_n = "still shifted"
        out.append(CauseStatus(c.node, c.restoration, s_b, s_a, ci, ratio, None, None, status_n))
    return out


def attribution_terms(core: ImpactCore, changed: str, target: str, layout, min_share: float = 0.02
                      ) -> list[AttributionTerm]:
    """The recovery's parts as waterfall terms: the change, the upstream nodes whose part is at
    least ``min_share`` of the recovery (smaller ones are pooled as "other sensors"), the KPI's
    own noise, and the interactions that make the parts add up to the recovery."""
    recovery = float(core.observed.mean() - core.before_mean)

    def share(x: float) -> float | None:
        return x / recovery if abs(recovery) > 1e-12 else None

    nan2 = (float("nan"), float("nan"))
    own = core.contributions.get(changed, 0.0)
    terms = [AttributionTerm("change", changed, f"the change ({changed})", own,
                             core.contributions_ci.get(changed, (0.0, 0.0)), share(own))]
    others = [k for k in core.contributions if k not in (changed, target)]
    others.sort(key=lambda k: -abs(core.contributions[k]))
    small = 0.0
    for k in others:
        v = core.contributions[k]
        if abs(recovery) > 1e-12 and abs(v) < min_share * abs(recovery):
            small += v
            continue
        station = layout.station_of(k) if layout is not None else ""
        terms.append(AttributionTerm("upstream", k, f"{k} ({station})" if station else k, v,
                                     core.contributions_ci.get(k, nan2), share(v)))
    if small:
        terms.append(AttributionTerm("upstream", None, "other sensors", small, nan2, share(small)))
    if target != changed:
        v = core.contributions.get(target, 0.0)
        terms.append(AttributionTerm("unexplained", target, "unexplained (the KPI's own noise)", v,
                                     core.contributions_ci.get(target, nan2), share(v)))
    rest = recovery - sum(t.contribution for t in terms)
    terms.append(AttributionTerm("interactions", None, "interactions", rest, nan2, share(rest)))
    return terms

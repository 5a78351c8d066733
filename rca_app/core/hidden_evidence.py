"""Evidence that two sensors are moved by one unmeasured cause, pair by pair.

An unmeasured common cause (ambient humidity, an unlogged operator action, a raw-material lot
property) that varies in the reference period and moves in the incident leaves these marks:

1. **In the incident both sensors' own behaviour changes.** A sensor's own noise is what its
   causes in the graph do not explain. One measured cause entering at X changes X's own noise
   only: an edge X -> Y carries X's change into Y, and Y's own noise stays where it was (the
   sparse mechanism shift principle). An unmeasured cause moves both: with an edge X -> Y
   drawn between them, only part of Y's move comes through it.
2. **In the direction they always move together.** A common cause moves the pair the way it
   moved them in the reference period (the sign of their noise correlation, each sensor's
   partner left out), which two unrelated faults striking at once do only by chance.
3. **The reference period's shape test** confirms it when the noise is non-Gaussian: if X
   causes Y, the residual of Y regressed on X is independent of X; with a hidden common cause
   neither direction leaves an independent residual (Darmois-Skitovich: two mixtures that share
   a non-Gaussian component are dependent however they are rescaled). This is the pairwise
   test of RCD (Maeda & Shimizu 2020), run with HSIC. It cannot rule a common cause out: a
   Gaussian common cause with one non-Gaussian sensor passes in one direction, and with
   Gaussian noise throughout both directions pass and a common cause and an edge look alike
   (not identifiable from the reference period; the result text says so).

Without an edge between them, a clear correlation of their own noises in the reference period
is itself a sign (:mod:`rca_app.core.confounding`), even when the cause did not move.

Regressions add the parents' squares where the reference rows clearly need them, so a curved
mechanism does not leave a misfit that looks like a shared cause.

References
----------
S. Shimizu, P. Hoyer, A. Hyvarinen, A. Kerminen (2006). A linear non-Gaussian acyclic model for
    causal discovery. JMLR 7, 2003-2030.
P. Hoyer, S. Shimizu, A. Kerminen, M. Palviainen (2008). Estimation of causal effects using
    linear non-Gaussian causal models with hidden variables. Int. J. Approx. Reasoning 49, 362-378.
T. N. Maeda, S. Shimizu (2020). RCD: Repetitive causal discovery of linear non-Gaussian acyclic
    models with latent confounders. AISTATS.
A. Gretton, K. Fukumizu, C. H. Teo, L. Song, B. Schoelkopf, A. Smola (2008). A kernel statistical
    test of independence. NIPS (HSIC with the gamma approximation).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtri

from rca_app.core.autocorrelation import autocorrelations, mean_inflation, memory, pair_inflation
from rca_app.core.confounding import noise_correlation_pairs
from rca_app.core.lab_reads import Samples, held_on_rows, regression_rows

# A sensor's own noise "moved" in the incident when its mean left the reference mean by at
# least half a reference SD (a shift an engineer sees on a trend chart; smaller ones are what
# a misfit regression leaves over when a parent moves) and the shift is far beyond chance
# (two-sided 1e-3 over the sensors tested).
MOVED_SD = 0.5
MOVED_ALPHA = 1e-3
# HSIC level for "the residual depends on its regressor" (both directions must reach it).
DEPENDENCE_ALPHA = 0.01
# Squares of the parents enter a sensor's regression only when an F-test on the reference rows
# needs them at this level (strict: a spurious square extrapolates badly in the incident).
CURVATURE_P = 1e-4
# Rows used by the HSIC tests (its cost grows with the square of the rows).
HSIC_ROWS = 800
# Most pairs given the (quadratic-cost) HSIC shape test per analysis.
MAX_SHAPE_TESTS = 40
# Noise correlation of a pair without an edge: clear (Bonferroni over the pairs) and not tiny.
CORRELATION_ALPHA = 1e-3
MIN_ABS_R = 0.1


@dataclass
class PairEvidence:
    """What the data say about one unmeasured cause acting on sensors ``a`` and ``b``.

    Attributes
    ----------
    a, b : str
    adjacent : bool
        The graph joins them by an edge.
    correlation : float
        Reference correlation of their own noises (the partner left out of each).
    shift_a, shift_b : float
        Incident mean shift of each own noise, in reference SDs.
    moved : bool
        Both own noises moved, in the direction their correlation predicts.
    p_a_to_b, p_b_to_a : float or None
        HSIC p-values of "a causes b" (residual of b on a independent of a) and the reverse.
    verdict : str
        The reference period's shape test: ``"confounded"`` (neither direction leaves an
        independent residual), ``"a drives b"``, ``"b drives a"`` (one direction does, which
        does not rule out a common cause whose noise is Gaussian), ``"not identifiable"``
        (both do: Gaussian noise, the shape cannot tell; also an edge not tested).
    """

    a: str
    b: str
    adjacent: bool
    correlation: float
    shift_a: float
    shift_b: float
    moved: bool
    p_a_to_b: float | None = None
    p_b_to_a: float | None = None
    verdict: str = "not identifiable"


def _design(frame: pd.DataFrame, parents: list[str], ref: pd.DataFrame, squares: bool) -> np.ndarray:
    """Columns of a regression on ``parents``: each numeric parent standardised on the reference
    rows (and its square with ``squares``), one indicator per level of a categorical one."""
    cols = [np.ones(len(frame))]
    for p in parents:
        if pd.api.types.is_numeric_dtype(ref[p]):
            mu, sd = float(ref[p].mean()), float(ref[p].std()) or 1.0
            z = (frame[p].to_numpy(float) - mu) / sd
            cols += [z, z * z] if squares else [z]
        else:
            for lv in sorted(map(str, ref[p].dropna().unique()))[1:]:
                cols.append((frame[p].astype(str) == lv).to_numpy(float))
    return np.column_stack(cols)


def own_noise(ref: pd.DataFrame, an: pd.DataFrame, parents: list[str], sensor: str
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """A sensor's own noise in the reference and incident rows: what ``parents`` leave over.

    Least squares on the reference rows, linear in each parent; the parents' squares are added
    only when the reference rows clearly need them (nested F-test at :data:`CURVATURE_P`),
    because a square fitted on noise extrapolates wildly when a parent leaves its reference range
    in the incident and would make a still sensor look moved.

    Parameters
    ----------
    ref, an : DataFrame
    parents : list of str
    sensor : str

    Returns
    -------
    (ndarray, ndarray, float)
        Reference and incident residuals, and the standard error of the incident residuals'
        mean in units of the residual SD when nothing changed: chance in the incident rows plus
        the fitted coefficients' error carried to where the parents sat in the incident (a parent
        pushed twenty SDs away turns a tiny coefficient error into a visible shift).
    """
    y0, y1 = ref[sensor].to_numpy(float), an[sensor].to_numpy(float)

    def fit(squares: bool):
        A0 = _design(ref, parents, ref, squares)
        beta = np.linalg.lstsq(A0, y0, rcond=None)[0]
        return A0, beta, float(np.sum((y0 - A0 @ beta) ** 2))

    A0, beta, rss = fit(False)
    squares = False
    if any(pd.api.types.is_numeric_dtype(ref[p]) for p in parents):
        B0, gamma, rss2 = fit(True)
        extra, dof = B0.shape[1] - A0.shape[1], len(y0) - B0.shape[1]
        if extra and dof > 0 and rss2 > 0:
            f = ((rss - rss2) / extra) / (rss2 / dof)
            if float(stats.f.sf(f, extra, dof)) < CURVATURE_P:
                A0, beta, squares = B0, gamma, True
    A1 = _design(an, parents, ref, squares)
    m1 = A1.mean(axis=0)
    spread = float(m1 @ np.linalg.pinv(A0.T @ A0) @ m1) * len(y0)
    se = float(np.sqrt(1.0 / max(1, len(y1)) + max(spread, 1.0) / len(y0)))
    return y0 - A0 @ beta, y1 - A1 @ beta, se


def hsic_p(x: np.ndarray, y: np.ndarray) -> float:
    """p-value of the HSIC independence test (Gaussian kernels, gamma approximation).

    Parameters
    ----------
    x, y : ndarray of shape (n,)

    Returns
    -------
    float
    """
    from lingam.hsic import hsic_test_gamma

    return float(hsic_test_gamma(np.asarray(x, float).reshape(-1, 1), np.asarray(y, float).reshape(-1, 1))[1])


def _residual(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """y minus its cubic least-squares fit on x (standardised): a curved causal mechanism
    leaves an independent residual, a common cause does not."""
    z = (x - x.mean()) / (x.std() or 1.0)
    A = np.column_stack([np.ones_like(z), z, z * z, z ** 3])
    return y - A @ np.linalg.lstsq(A, y, rcond=None)[0]


def direction_p_values(x: np.ndarray, y: np.ndarray, seed: int = 0, step: int = 1) -> tuple[float, float]:
    """HSIC p-values of "x causes y" and "y causes x" (each: the effect's residual on the cause
    is independent of the cause) on at most :data:`HSIC_ROWS` reference rows.

    Parameters
    ----------
    x, y : ndarray of shape (n,)
        Own noises of the two sensors (their other causes regressed out).
    seed : int
    step : int
        Keep every ``step``-th row first: on time series, rows further apart than the noises'
        memory are close to independent, which the test's null distribution assumes.

    Returns
    -------
    (float, float)
    """
    x, y = x[::max(1, step)], y[::max(1, step)]
    n = len(x)
    if n > HSIC_ROWS:
        idx = np.sort(np.random.default_rng(seed).choice(n, HSIC_ROWS, replace=False))
        x, y = x[idx], y[idx]
    return hsic_p(_residual(y, x), x), hsic_p(_residual(x, y), y)


def verdict(adjacent: bool, correlation: float, p_ab: float | None, p_ba: float | None) -> str:
    """Read the direction tests (see :class:`PairEvidence`)."""
    if p_ab is None or p_ba is None:
        return "not identifiable" if adjacent else "confounded"
    dep_ab, dep_ba = p_ab < DEPENDENCE_ALPHA, p_ba < DEPENDENCE_ALPHA
    if dep_ab and dep_ba:
        return "confounded"
    if dep_ab != dep_ba:
        return "b drives a" if dep_ab else "a drives b"
    # Both directions look fine: Gaussian noise. Without an edge, the search found them
    # separable while their noises correlate, which only a common cause explains; with one,
    # a causal edge and a common cause look alike.
    return "confounded" if not adjacent else "not identifiable"


def pair_evidence(ref: pd.DataFrame, an: pd.DataFrame, parents: dict[str, list[str]],
                  candidates: list[str], adjacent: set[frozenset[str]], seed: int = 0,
                  allows: Callable[[str, str], bool] | None = None, serial: bool = False,
                  samples: Samples | None = None) -> list[PairEvidence]:
    """Every pair of ``candidates`` with some sign of one unmeasured cause acting on both.

    Two noises per sensor: its *own* noise given all its causes in the graph (the partner
    included when an edge joins them), which tells whether its mechanism changed in the
    incident; and its noise with the partner left out, whose reference dependence on the
    partner's is what an edge or a common cause must explain.

    A pair is kept (and given the HSIC shape test, both directions) when both own noises moved
    in the incident in the direction their reference dependence predicts (one measured cause
    moves one mechanism: an edge X -> Y carries X's change into Y and leaves Y's own noise
    still) and, for an edge the layout lets be drawn either way, still both move with the edge
    reversed (else a misoriented edge and one fault explain it); or, with no edge between them,
    when their noises correlate clearly (a hidden cause that did not move in this incident is
    still worth knowing about). A moved sensor must shift by :data:`MOVED_SD` and beyond
    chance at :data:`MOVED_ALPHA` over the sensors, with the standard error of
    :func:`own_noise`.

    Parameters
    ----------
    ref, an : DataFrame
        Reference and incident rows.
    parents : dict of str to list of str
        Each sensor's causes in the graph.
    candidates : list of str
        Numeric sensors the unmeasured cause may act on.
    adjacent : set of frozenset
        Pairs the graph joins by an edge.
    seed : int
    allows : callable, optional
        ``allows(a, b)``: may ``a`` cause ``b`` (the layout)? An edge the layout could not
        draw the other way is not checked for a misorientation.
    serial : bool
        Rows are consecutive time steps: a shift's standard error grows by the noise's variance
        inflation ``1 + 2 sum rho_k``, a correlation counts Bartlett's effective rows, and the
        shape test keeps rows further apart than the noises' memory.
    samples : (dict, dict), optional
        The lab tags' sampled rows of ``ref`` and ``an`` (:func:`rca_app.core.lab_reads.window_samples`):
        an own noise that involves a lab value is fitted and read on them, each sample counted once
        (:func:`_own_read`).

    Returns
    -------
    list of PairEvidence
        Tested pairs only; ``shift_a``/``shift_b`` are the own-noise shifts (all causes given).
    """
    cache: dict[tuple[str, frozenset[str]], tuple[np.ndarray, np.ndarray, float, float]] = {}
    n0 = len(ref)
    # Lot properties (and held values) repeat one observation over many rows: count the runs.
    runs = {s: lot_runs(ref[s].to_numpy(float)) or n0 for s in candidates}

    def noise_of(s: str, partner: str | None) -> tuple[np.ndarray, np.ndarray, float, float]:
        ps = [p for p in parents.get(s, []) if p != partner]
        key = (s, frozenset(ps))
        if key not in cache:
            cache[key] = _own_read(ref, an, ps, s, serial, samples, runs[s])
        return cache[key]

    z_moved = float(-ndtri(MOVED_ALPHA / (2 * max(1, len(candidates)))))
    z_corr = float(-ndtri(CORRELATION_ALPHA / (2 * max(1, len(candidates) * (len(candidates) - 1) // 2))))
    moved = {s: _moved(*noise_of(s, None)[2:], z_moved) for s in candidates}
    # Pairs without an edge whose own noises correlate clearly (the same noises for both).
    flagged = {frozenset((a, b)) for a, b, r, _ in noise_correlation_pairs(
        {s: noise_of(s, None)[0] for s in candidates}, adjacent, CORRELATION_ALPHA, MIN_ABS_R, serial)
        if _clear(r, min(runs[a], runs[b]), z_corr)}
    # Only pairs that both moved, or that the correlation check flagged, can be evidence: the
    # loop stays short on plants with hundreds of sensors.
    movers = [s for s in candidates if moved[s]]
    pos = {s: i for i, s in enumerate(candidates)}
    todo = sorted({frozenset(p) for p in combinations(movers, 2)} | flagged,
                  key=lambda p: sorted(pos[x] for x in p))
    out = []
    shape_tests = 0
    for pair in todo:
        a, b = sorted(pair, key=pos.__getitem__)
        adj = pair in adjacent
        ra0 = noise_of(a, b)[0]
        rb0 = noise_of(b, a)[0]
        if ra0.std() == 0 or rb0.std() == 0:
            continue
        r = float(np.corrcoef(ra0, rb0)[0, 1])
        n_eff = n0 / pair_inflation(autocorrelations(ra0), autocorrelations(rb0)) if serial else n0
        clear = _clear(r, min(n_eff, runs[a], runs[b]), z_corr)
        sa, sb = noise_of(a, None)[2], noise_of(b, None)[2]
        both = bool(moved[a] and moved[b] and clear and np.sign(sa * sb) == np.sign(r))
        if both and adj:
            # The edge drawn the other way: if then only one of them moved, one measured cause
            # (at the true parent of a misoriented edge) explains the incident.
            child = b if a in parents.get(b, []) else a
            other = a if child == b else b
            if allows is None or allows(child, other):   # the layout may forbid the reverse
                both = _moves_reversed(ref, an, parents, child, other, z_moved, serial, samples)
        if not both and pair not in flagged:
            continue
        # Beyond MAX_SHAPE_TESTS pairs (a plant full of correlated leftovers) the shape test is
        # skipped: a pair without an edge then counts as confounded, as the correlation says.
        p_ab = p_ba = None
        if shape_tests < MAX_SHAPE_TESTS:
            step = 1 + max(memory(ra0), memory(rb0)) if serial else 1
            p_ab, p_ba = direction_p_values(ra0, rb0, seed, step)
            shape_tests += 1
        ev = PairEvidence(a, b, adj, r, sa, sb, both, p_ab, p_ba)
        ev.verdict = verdict(adj, r, p_ab, p_ba)
        out.append(ev)
    return out


HELD_SHARE = 0.5   # a column that changes on at most this share of its rows holds each value over a run


def lot_runs(x: np.ndarray) -> int | None:
    """Distinct runs of repeated values in a column that comes in runs (a lot property joined
    onto every batch of its lot, a lab value held until the next sample), else None.

    Rows of one run repeat one observation: a test counts the runs, not the rows.

    Parameters
    ----------
    x : ndarray
        The column's rows in time order.

    Returns
    -------
    int or None
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return None
    runs = 1 + int(np.count_nonzero(np.diff(x)))
    return runs if 1 < runs <= HELD_SHARE * len(x) else None


def _moved(shift: float, se: float, z_moved: float) -> bool:
    """A mean shift (reference SDs) large enough to see and far beyond chance (``se``: its
    standard error, see :func:`own_noise`)."""
    return abs(shift) >= MOVED_SD and abs(shift) / se >= z_moved


def _clear(r: float, n_eff: float, z_corr: float) -> bool:
    """A correlation clearly there on ``n_eff`` independent rows (and not tiny)."""
    return bool(abs(r) >= MIN_ABS_R
                and abs(np.arctanh(np.clip(r, -0.999999, 0.999999))) * np.sqrt(max(1.0, n_eff - 3)) >= z_corr)


def _serial_factor(r0: np.ndarray, serial: bool) -> float:
    """How much wider a mean's standard error is for autocorrelated noise (1 for independent rows)."""
    return float(np.sqrt(mean_inflation(autocorrelations(r0)))) if serial else 1.0


def _own_read(ref: pd.DataFrame, an: pd.DataFrame, causes: list[str], sensor: str, serial: bool,
              samples: Samples | None, runs: int | None = None) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A sensor's own noise given ``causes``: one per reference row, the incident's on the rows it
    is read on, its incident shift in reference sds and that shift's standard error.

    Every row, unless the regression involves a lab value (:func:`rca_app.core.lab_reads.regression_rows`):
    then it is fitted and read on the samples, each counted once (the held copies between them
    pair a value with the plant of minutes later, a misfit that is no behaviour of the sensor's
    own), and its reference noise held from each sample to the next, as the value is, for the
    comparisons with other sensors' noise row by row. ``runs``: the distinct runs of a column
    that holds its values over runs (:func:`lot_runs`, None: not one), which a shift counts.
    """
    ref_at, an_at = regression_rows(samples, sensor, causes)
    if ref_at is None:
        r0, r1, se = own_noise(ref, an, causes, sensor)
        n0 = len(ref)
        se *= _serial_factor(r0, serial) if runs is None or runs >= n0 else np.sqrt(n0 / runs)
        return r0, r1, float(r1.mean() - r0.mean()) / (float(r0.std()) or 1.0), se
    r0, r1, se = own_noise(ref.iloc[ref_at], an.iloc[an_at], causes, sensor)
    se *= _serial_factor(r0, serial)
    shift = float(r1.mean() - r0.mean()) / (float(r0.std()) or 1.0)
    held = held_on_rows(r0, ref_at, len(ref))
    held[: ref_at[0]] = r0[0]   # before the first sample: its noise (the row-by-row comparisons take no gaps)
    return held, r1, shift, se


def _shift(ref: pd.DataFrame, an: pd.DataFrame, causes: list[str], sensor: str,
           serial: bool = False, samples: Samples | None = None) -> tuple[float, float]:
    return _own_read(ref, an, causes, sensor, serial, samples)[2:]


def _moves_reversed(ref: pd.DataFrame, an: pd.DataFrame, parents: dict[str, list[str]], child: str,
                    parent: str, z_moved: float, serial: bool = False, samples: Samples | None = None) -> bool:
    """With the edge ``parent -> child`` drawn the other way, do both own noises still move?"""
    return (_moved(*_shift(ref, an, [*parents.get(parent, []), child], parent, serial, samples), z_moved)
            and _moved(*_shift(ref, an, [p for p in parents.get(child, []) if p != parent], child, serial,
                               samples), z_moved))


def confounded_groups(evidence: list[PairEvidence]) -> list[list[PairEvidence]]:
    """Pairs that point to an unmeasured cause, joined into groups (connected components): one
    cause acting on three sensors shows as three pairs.

    Pairs that moved together in the incident form groups of their own, whatever the reference
    shape test said: it confirms a common cause when both directions fail, but passing it (one
    direction or both) does not rule one out, since a Gaussian common cause with one
    non-Gaussian sensor passes in one direction and Gaussian noise passes in both. Pairs that
    did not move form groups only when the reference period shows confounding.

    Parameters
    ----------
    evidence : list of PairEvidence

    Returns
    -------
    list of list of PairEvidence
        Groups that moved in the incident first, then by the strongest correlation.
    """
    moved = [e for e in evidence if e.moved]
    done = {s for e in moved for s in (e.a, e.b)}
    still = [e for e in evidence if not e.moved and e.verdict == "confounded" and not {e.a, e.b} & done]
    out = _components(moved) + _components(still)
    return sorted(out, key=lambda g: (not g[0].moved, -max(abs(e.correlation) for e in g)))


def _components(pairs: list[PairEvidence]) -> list[list[PairEvidence]]:
    root: dict[str, str] = {}

    def find(x: str) -> str:
        while root.setdefault(x, x) != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for e in pairs:
        root[find(e.a)] = find(e.b)
    groups: dict[str, list[PairEvidence]] = {}
    for e in pairs:
        groups.setdefault(find(e.a), []).append(e)
    return list(groups.values())

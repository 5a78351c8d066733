"""The check of the impact query's model against the reference rows (see :mod:`rca_app.core.impact`).

A counterfactual by abduction keeps every node's noise but the changed node's. When the graph
lacks a path from the changed node, or a curved mechanism was fitted with a line, part of the
changed node's influence sits in other nodes' abducted noise, and the counterfactual keeps it
fixed: the effect is off and a bootstrap that holds the graph and the kinds fixed cannot see it.
Under a right model the changed node's own noise is independent of every other node's noise,
so a clear dependence of a node's noise on it (a quadratic regression, Wald-tested with rows
counted by their autocorrelation) is the model's misfit; the counterfactual moves that node's
noise along its curve together with the changed node's noise.

References
----------
J. Peters, D. Janzing, B. Schoelkopf (2017). Elements of Causal Inference, ch. 4 and 6 (noise
    independence of a right structural causal model; checking a model by it).
A. Sokal (1997). Monte Carlo methods in statistical mechanics: foundations and new algorithms
    (the integrated autocorrelation time).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from rca_app.core.autocorrelation import integrated_autocorrelation_time
from rca_app.core.queries import abduct, abduction_seed, propagate, replicated

# The misfit curves: polynomials of this degree in the changed node's standardised noise.
MISFIT_DEGREE = 2
# A curve counts only when this clear (family-wise, over the nodes checked) ...
MISFIT_ALPHA = 0.01
# ... and is held constant outside these quantiles of the changed node's reference noise.
MISFIT_RANGE = (0.01, 0.99)


@dataclass
class MisfitCurve:
    """How a node's abducted noise depends on the changed node's own noise (it should not):
    ``d(v) = sum_k coef[k] * ((v - center) / scale) ** (k + 1)``."""

    coef: np.ndarray
    center: float
    scale: float
    z_low: float      # the range of standardised noise the curve was fitted on
    z_high: float

    def __call__(self, v: np.ndarray, continued: bool = False) -> np.ndarray:
        """The curve at ``v``; outside the fitted range held at its edge value (nothing was
        checked there), or with ``continued`` carried on along its slope at the edge."""
        z = (np.asarray(v, dtype=float) - self.center) / self.scale
        zc = np.clip(z, self.z_low, self.z_high)
        d = sum(c * zc ** (k + 1) for k, c in enumerate(self.coef))
        if continued:
            slope = sum((k + 1) * c * zc ** k for k, c in enumerate(self.coef))
            d = d + slope * (z - zc)
        return d


def misfit_check(scm, ref_values: dict, target: str, changed: str, rows: np.ndarray | None = None,
                 seed_offset: int = 2) -> dict[str, MisfitCurve] | None:
    """The misfit check of the module docstring on the reference rows: for each numeric node
    that feeds the KPI (and the KPI), outside the changed node and its ancestors, the regression
    of its abducted noise on a polynomial in the changed node's standardised noise.

    Parameters
    ----------
    scm : StructuralCausalModel
    ref_values : dict
        The reference rows, encoded.
    target, changed : str
    rows : ndarray, optional
        Reference rows to use (a block bootstrap resample).
    seed_offset : int

    Returns
    -------
    dict of str to MisfitCurve, or None for a categorical changed node or too few rows.
    """
    mech = scm.mechanisms_.get(changed)
    if mech is None or mech.categorical or changed == target:
        return None
    values = ref_values if rows is None else {k: v[rows] for k, v in ref_values.items()}
    skip = set(scm.graph.ancestors(changed)) | {changed}
    nodes = [k for k in scm.order_ if (k == target or k in scm.graph.ancestors(target)) and k not in skip
             and k in scm.mechanisms_ and not scm.mechanisms_[k].categorical]
    noise = abduct(scm, values, abduction_seed(scm.settings.seed) + seed_offset, nodes=[changed] + nodes)
    v = np.asarray(noise[changed], dtype=float)
    n = len(v)
    scale = float(np.std(v))
    if n < 10 * (MISFIT_DEGREE + 1) or scale <= 0:
        return None
    center = float(np.mean(v))
    z = (v - center) / scale
    X = np.column_stack([np.ones(n)] + [z ** (k + 1) for k in range(MISFIT_DEGREE)])
    # The curve is trusted where the changed node's noise has data, not at its last few rows
    # (a quadratic's value there is mostly chance).
    z_low, z_high = (float(q) for q in np.quantile(z, MISFIT_RANGE))
    # Only a clear dependence counts (chance curves, moved along far, would add bias): a Wald
    # test of the curve's coefficients, rows counted in blocks, Bonferroni over the nodes.
    crit = float(chi2.isf(MISFIT_ALPHA / max(1, len(nodes)), MISFIT_DEGREE))
    xtx_inv = np.linalg.pinv(X.T @ X)
    out = {}
    for k in nodes:
        e = np.asarray(noise[k], dtype=float)
        beta, *_ = np.linalg.lstsq(X, e, rcond=None)
        resid = e - X @ beta
        var = float(resid @ resid) / max(1, n - X.shape[1])
        # Autocorrelated rows: the coefficients vary more than for independent rows, by about
        # the integrated autocorrelation time of the residual's product with the regressor.
        inflation = max(integrated_autocorrelation_time(resid * z), 1.0)
        cov = xtx_inv[1:, 1:] * var * inflation
        wald = float(beta[1:] @ np.linalg.pinv(cov) @ beta[1:])
        if wald > crit:
            out[k] = MisfitCurve(beta[1:], center, scale, z_low, z_high)
    return out


def changed_counterfactual(scm, target: str, changed: str, values_a: dict, noise_a: dict, noise_b: dict,
                           idx_b: np.ndarray, reps: int, check: dict[str, MisfitCurve] | None,
                           continued: bool = False) -> np.ndarray:
    """Per after-change row, the KPI had ``changed`` behaved as before the change (its noise
    drawn from the before rows ``idx_b``), with every checked node's noise moved along its
    misfit curve from the row's own to the drawn value of the changed node's noise.

    Parameters
    ----------
    scm : StructuralCausalModel
    target, changed : str
    values_a, noise_a : dict
        The after rows, encoded, and their noise.
    noise_b : dict
        The before rows' noise.
    idx_b : ndarray
        ``reps`` draws of before rows per after row.
    reps : int
    check : dict of str to MisfitCurve, optional
        From :func:`misfit_check`; None gives the plain counterfactual.
    continued : bool
        Beyond the reference range continue the curves along their edge slopes (else hold
        them at their edge values).

    Returns
    -------
    ndarray
        The mean counterfactual KPI per after row.
    """
    n = len(values_a[target])
    base, noise_t = replicated(values_a, noise_a, reps)
    drawn = noise_b[changed][idx_b]
    noise_t[changed] = drawn
    own = np.tile(noise_a[changed], reps)
    moved = {changed}
    for k, curve in (check or {}).items():
        noise_t[k] = noise_t[k] + curve(drawn, continued) - curve(own, continued)
        moved.add(k)
    vals = propagate(scm, base, noise_t, moved, stop_at=target)
    return np.asarray(vals[target], dtype=float).reshape(reps, n).mean(axis=0)


def beyond_range(check: dict[str, MisfitCurve], noise: np.ndarray, share: float = 0.05) -> bool:
    """Whether more than ``share`` of the after rows' changed-node noise lies outside the range
    the misfit curves were fitted on.

    Parameters
    ----------
    check : dict of str to MisfitCurve
    noise : ndarray
    share : float

    Returns
    -------
    bool
    """
    c = next(iter(check.values()), None)
    if c is None:
        return False
    z = (np.asarray(noise, dtype=float) - c.center) / c.scale
    return bool(np.mean((z < c.z_low) | (z > c.z_high)) > share)


def autocorrelation_block(x: np.ndarray, max_lag: int = 50) -> int:
    """Block length for a moving-block bootstrap of ``x``'s mean: n^(1/3), or longer when the
    series' integrated autocorrelation time is longer. Capped at a fifth of the rows.

    Parameters
    ----------
    x : ndarray
    max_lag : int

    Returns
    -------
    int
    """
    n = len(x)
    base = max(1, int(round(n ** (1 / 3))))
    tau = integrated_autocorrelation_time(x, max_lag)
    return int(min(max(base, int(np.ceil(tau))), max(1, n // 5)))

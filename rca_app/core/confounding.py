"""Signs of an unmeasured common cause: sensors whose own noises move together.

In a structural causal model with every common cause measured, each sensor's noise (what its
measured causes do not explain) is independent of every other's. Two sensors not joined by an
edge whose noises correlate clearly are therefore moved by something the data do not hold:
ambient humidity acting on two stations, an unlogged operator action, a raw-material lot
property nobody measures. Such a pair is marked so that the ranking can treat the pair as one
candidate ("an unmeasured cause acting on X and Y") instead of crediting either sensor alone.

The test is Pearson correlation of the cross-fitted reference noises with a Bonferroni-corrected
level over the pairs tested, plus a minimum size (|r| >= ``min_abs_r``) so that long histories do
not flag correlations too small to matter.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.special import ndtr

from rca_app.core.autocorrelation import autocorrelations, pair_inflation


@dataclass
class HiddenCauseSuspect:
    """Sensors whose noises move together, as if one unmeasured cause acted on all of them.

    Attributes
    ----------
    sensors : list of str
    correlations : dict of str to float
        ``"a|b"`` -> noise correlation, for each linked pair.
    p_value : float
        Smallest corrected p-value of the linked pairs.
    """

    sensors: list[str]
    correlations: dict[str, float]      # "a|b" -> noise correlation, for each linked pair
    p_value: float                      # smallest corrected p-value of the linked pairs


def noise_correlation_pairs(noise: dict[str, np.ndarray], adjacent: set[frozenset[str]],
                            alpha: float = 1e-3, min_abs_r: float = 0.1,
                            serial: bool = False) -> list[tuple[str, str, float, float]]:
    """Non-adjacent sensor pairs whose noises correlate: (a, b, r, corrected p-value).

    Parameters
    ----------
    noise : dict
        Sensor -> reference noise (numeric sensors only; equal lengths).
    adjacent : set of frozenset
        Pairs joined by an edge in the graph (their noises are not compared: the edge already
        carries their dependence).
    alpha : float
        Family-wise level over all pairs tested.
    min_abs_r : float
        Smallest correlation worth reporting.
    serial : bool
        Rows are consecutive time steps: two autocorrelated series correlate by chance more
        than independent rows would, so each pair counts ``n / (1 + 2 sum_k rho_a,k rho_b,k)``
        rows (Bartlett; :func:`rca_app.core.autocorrelation.pair_inflation`).

    Returns
    -------
    list of tuple
        Sorted by decreasing |r|.
    """
    names = [k for k, v in noise.items() if np.ndim(v) == 1 and np.std(v) > 0]
    if len(names) < 2:
        return []
    Z = np.column_stack([noise[k] for k in names]).astype(float)
    n = len(Z)
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    R = (Z.T @ Z) / n
    pairs = [(i, j) for i, j in combinations(range(len(names)), 2)
             if frozenset((names[i], names[j])) not in adjacent]
    rho = [autocorrelations(Z[:, j]) for j in range(len(names))] if serial else None
    out = []
    for i, j in pairs:
        r = float(np.clip(R[i, j], -0.999999, 0.999999))
        n_eff = n / pair_inflation(rho[i], rho[j]) if rho is not None else n
        z = np.arctanh(r) * np.sqrt(max(1.0, n_eff - 3))
        p = min(1.0, float(2 * ndtr(-abs(z))) * len(pairs))
        if p < alpha and abs(r) >= min_abs_r:
            out.append((names[i], names[j], r, p))
    out.sort(key=lambda t: -abs(t[2]))
    return out


def suspected_hidden_causes(noise: dict[str, np.ndarray], adjacent: set[frozenset[str]],
                            alpha: float = 1e-3, min_abs_r: float = 0.1) -> list[HiddenCauseSuspect]:
    """Groups of sensors linked by correlated noises (connected components of the pairs).

    Parameters
    ----------
    noise : dict of str to ndarray
        Sensor -> reference noise (numeric sensors only; equal lengths).
    adjacent : set of frozenset
        Pairs joined by an edge in the graph (not compared).
    alpha : float, default 1e-3
        Family-wise level over all pairs tested (Bonferroni).
    min_abs_r : float, default 0.1
        Smallest correlation worth reporting.

    Returns
    -------
    list of HiddenCauseSuspect
        One per group of sensors whose noises move together.

    See Also
    --------
    noise_correlation_pairs : the pairwise test behind the groups.
    """
    pairs = noise_correlation_pairs(noise, adjacent, alpha, min_abs_r)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _, _ in pairs:
        parent[find(a)] = find(b)
    groups: dict[str, list[tuple[str, str, float, float]]] = {}
    for pr in pairs:
        groups.setdefault(find(pr[0]), []).append(pr)
    order = {k: i for i, k in enumerate(noise)}
    out = []
    for prs in groups.values():
        sensors = sorted({s for a, b, _, _ in prs for s in (a, b)}, key=order.__getitem__)
        out.append(HiddenCauseSuspect(sensors, {f"{a}|{b}": r for a, b, r, _ in prs}, min(p for *_, p in prs)))
    out.sort(key=lambda h: h.p_value)
    return out

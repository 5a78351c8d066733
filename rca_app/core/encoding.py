"""One encoding of the plant's values, fitted once per investigation and used everywhere.

Numeric sensors are float arrays. Categorical sensors (supplier, shift, tool) are integer codes
into a fixed list of levels, sorted as strings; the first level is the *baseline* that dummy
(one-hot) columns leave out and that level effects are reported against. Discovery's tests,
the mechanisms and the edge effects all use the same :class:`CategoryEncoder`, so the level a
report calls "baseline" is the one every model used.

Levels are fitted on the whole analysed table (reference and incident), so a level seen only
in the incident still has a code; the dummy columns of a level that does not occur in the rows
at hand are left out by :meth:`CategoryEncoder.dummies` when asked (``present_only``), so that
a test on the reference rows counts only the levels it can estimate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class CategoryEncoder:
    """Fixed levels of the categorical sensors.

    Parameters
    ----------
    levels : dict of str to list of str
        Each categorical sensor's levels; the first is the baseline.
    """

    levels: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, categorical) -> CategoryEncoder:
        """Levels of every categorical column of ``frame``, sorted as strings.

        Parameters
        ----------
        frame : DataFrame
            All the rows the investigation will look at (reference and incident).
        categorical : iterable of str
            The categorical sensors (those absent from ``frame`` are skipped).

        Returns
        -------
        CategoryEncoder
        """
        return cls({c: sorted(frame[c].astype(str).unique().tolist()) for c in categorical if c in frame.columns})

    def __contains__(self, node: str) -> bool:
        return node in self.levels

    def baseline(self, node: str) -> str:
        """The level dummies leave out and effects are measured against."""
        return self.levels[node][0]

    def codes(self, column) -> np.ndarray:
        """Integer codes of one categorical column (-1 for a level the encoder does not know)."""
        name = column.name
        cat = pd.Categorical(pd.Series(column).astype(str), categories=self.levels[name])
        return np.asarray(cat.codes, dtype=np.int64)

    def encode(self, frame: pd.DataFrame, nodes) -> dict[str, np.ndarray]:
        """Columns ``nodes`` of ``frame`` as arrays: floats, or codes for categorical ones."""
        return encode_frame(frame, nodes, self.levels)

    def dummies(self, node: str, codes: np.ndarray, present_only: bool = False) -> np.ndarray:
        """Indicator columns of every level but the baseline (full rank next to an intercept).

        Parameters
        ----------
        node : str
            A categorical sensor.
        codes : ndarray of int
            Its codes in the rows at hand.
        present_only : bool
            Leave out the columns of levels absent from these rows (all zeros): a test then
            counts only the levels the rows can inform.

        Returns
        -------
        ndarray, shape (n_rows, n_levels - 1) or fewer with ``present_only``
        """
        return dummy_columns(codes, len(self.levels[node]), present_only)


def dummy_columns(codes: np.ndarray, n_levels: int, present_only: bool = False) -> np.ndarray:
    """Indicators of levels 1..n_levels-1 (level 0 is the baseline) for integer ``codes``."""
    codes = np.asarray(codes)
    cols = [(codes == k).astype(float) for k in range(1, n_levels)]
    if present_only:
        cols = [c for c in cols if c.any()]
    return np.column_stack(cols) if cols else np.zeros((len(codes), 0))


def encode_frame(frame: pd.DataFrame, nodes, levels: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Columns ``nodes`` of ``frame``: numeric ones as float arrays, categorical ones (those in
    ``levels``) as integer codes into their levels."""
    out = {}
    for n in nodes:
        if n in levels:
            cat = pd.Categorical(frame[n].astype(str), categories=levels[n])
            out[n] = np.asarray(cat.codes, dtype=np.int64)
        else:
            out[n] = frame[n].to_numpy(dtype=float)
    return out


def encode_value(levels: dict[str, list[str]], node: str, v):
    """One setpoint in model terms: a level's code, or a float."""
    if node in levels:
        lv = levels[node]
        if str(v) not in lv:
            raise ValueError(f"'{v}' is not a level of {node} (levels: {', '.join(lv)})")
        return lv.index(str(v))
    return float(v)


def decode_values(levels: dict[str, list[str]], nodes, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Arrays back to a table: codes become categorical columns with their levels."""
    cols = {}
    for n in nodes:
        if n not in values:
            continue
        if n in levels:
            cols[n] = pd.Categorical.from_codes(values[n], categories=levels[n])
        else:
            cols[n] = values[n]
    return pd.DataFrame(cols)


class FeatureDesign:
    """The features a mechanism sees of its parents: numeric parents standardised (with the
    training rows' mean and sd), categorical parents as baseline-coded dummies.

    Parameters
    ----------
    parents : list of str
    levels : dict
        The investigation's levels (see :class:`CategoryEncoder`).
    values : dict of str to ndarray
        The training rows (fixes the standardisation).
    """

    def __init__(self, parents: list[str], levels: dict[str, list[str]], values: dict[str, np.ndarray]):
        self.parents = parents
        self.levels = {p: levels[p] for p in parents if p in levels}
        self.mu = {}
        self.sd = {}
        self.z_range = {}
        for p in parents:
            if p not in self.levels:
                v = values[p]
                self.mu[p] = float(v.mean())
                s = float(v.std())
                self.sd[p] = s if s > 0 else 1.0
                self.z_range[p] = ((float(v.min()) - self.mu[p]) / self.sd[p],
                                   (float(v.max()) - self.mu[p]) / self.sd[p])
        self._splines = None

    @property
    def numeric(self) -> list[str]:
        return [p for p in self.parents if p not in self.levels]

    @property
    def n_dummies(self) -> int:
        return sum(len(lv) - 1 for lv in self.levels.values())

    def numeric_matrix(self, values) -> np.ndarray:
        n = len(next(iter(values.values())))
        cols = [(values[p] - self.mu[p]) / self.sd[p] for p in self.numeric]
        return np.column_stack(cols) if cols else np.zeros((n, 0))

    def dummies(self, values) -> np.ndarray:
        n = len(next(iter(values.values())))
        cols = [dummy_columns(values[p], len(lv)) for p, lv in self.levels.items()]
        return np.hstack(cols) if cols else np.zeros((n, 0))

    def linear(self, values) -> np.ndarray:
        return np.hstack([self.numeric_matrix(values), self.dummies(values)])

    def poly2(self, values) -> np.ndarray:
        """Degree-2 terms that continue linearly outside the training rows' range.

        Inside the range each product is z_i z_j. Outside, it is its tangent plane at the
        nearest point c of the range, c_j z_i + c_i z_j - c_i c_j: a parent pushed far out in
        an incident (tens of SDs on a real plant) then moves the node along the curve's last
        slope instead of by its square, which chained through a few quadratic mechanisms made
        counterfactuals of 1e50 and more (seen on the Tennessee Eastman benchmark).
        """
        Z = self.numeric_matrix(values)
        k = Z.shape[1]
        i, j = np.triu_indices(k)    # (0,0), (0,1), ..., (1,1), ...: products in a fixed order
        if k:
            lo = np.array([self.z_range[p][0] for p in self.numeric])
            hi = np.array([self.z_range[p][1] for p in self.numeric])
            C = np.clip(Z, lo, hi)
            Q = C[:, j] * Z[:, i] + C[:, i] * Z[:, j] - C[:, i] * C[:, j]
        else:
            Q = Z[:, i] * Z[:, j]
        return np.hstack([Z, Q, self.dummies(values)])

    def spline(self, values) -> np.ndarray:
        """Additive cubic splines per numeric parent (knots at quantiles, linear beyond the
        outer knots): thresholds and saturation without the blockiness of trees. The knots
        are placed on the first rows this is called with (model selection's rows)."""
        Z = self.numeric_matrix(values)
        if self._splines is None:
            from sklearn.preprocessing import SplineTransformer

            self._splines = [
                SplineTransformer(n_knots=8, degree=3, knots="quantile", extrapolation="linear").fit(Z[:, [i]])
                for i in range(Z.shape[1])
            ]
        cols = [sp.transform(Z[:, [i]]) for i, sp in enumerate(self._splines)]
        return np.hstack(cols + [self.dummies(values)]) if cols else self.dummies(values)

    def features(self, kind: str, values) -> np.ndarray:
        """Feature matrix for a mechanism of ``kind`` (linear, poly2, spline; anything else
        gets the linear features)."""
        if kind == "poly2":
            return self.poly2(values)
        if kind == "spline":
            return self.spline(values)
        return self.linear(values)

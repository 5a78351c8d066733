"""Sensors that carry no information of their own: exact copies and exact linear combinations.

A historian export often holds the same signal twice (a tag and its alias, °C and °F, a sum of
two flows next to both flows). Such columns make every regression singular: effects of about
1e6 that cancel, restorations of several hundred percent. A sensor that is an exact copy (or an
exact linear function) of the KPI would explain the KPI trivially. Both are found on the
reference rows before discovery and left out with a note naming what they duplicate; of a group
of redundant sensors the most upstream one (then the first in the layout) is kept, since a cause
is measured where it enters.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# A column whose residual, after regressing on the kept columns, keeps less than this share of
# its variance is an exact linear combination of them (rounding in the file leaves about 1e-12).
EXACT = 1e-9


@dataclass
class Redundant:
    """A sensor left out because other columns already hold all of it.

    Attributes
    ----------
    sensor : str
        The sensor left out.
    of : list of str
        The kept columns it is an exact linear function of.
    copy_of_kpi : bool
        True when it is an exact linear function of the KPI itself.
    """

    sensor: str
    of: list[str]          # the kept columns it is an exact linear function of
    copy_of_kpi: bool

    def message(self, target: str) -> str:
        """The note for the engineer saying why the sensor was left out.

        Parameters
        ----------
        target : str
            The KPI's name.

        Returns
        -------
        str
        """
        if self.copy_of_kpi:
            return (f"{self.sensor} is an exact copy (or linear transform) of the KPI {target} in the reference "
                    "period: it would explain the KPI trivially, so it is left out of the analysis.")
        what = "an exact copy" if len(self.of) == 1 else "an exact linear combination"
        return (f"{self.sensor} is {what} of {', '.join(self.of)} in the reference period: it adds nothing, "
                f"and together they would make every model singular, so {self.sensor} is left out "
                f"(the upstream one is kept).")


def redundant_sensors(reference: pd.DataFrame, sensors: list[str], target: str) -> list[Redundant]:
    """Numeric sensors that are exact linear functions of the KPI or of sensors kept before them.

    Parameters
    ----------
    reference : DataFrame
        The reference rows.
    sensors : list of str
        Numeric sensors in layout order (upstream first); the order decides which one of a
        redundant group is kept.
    target : str
        The KPI (numeric).

    Returns
    -------
    list of Redundant
        In the order of ``sensors``.
    """
    def standardised(col: str) -> np.ndarray | None:
        v = reference[col].to_numpy(dtype=float)
        sd = v.std()
        return None if not np.isfinite(sd) or sd == 0 else (v - v.mean()) / sd

    out: list[Redundant] = []
    y = standardised(target)
    basis: list[np.ndarray] = []       # orthonormal directions of the kept sensors
    kept: list[tuple[str, np.ndarray]] = []
    n = len(reference)
    for s in sensors:
        z = standardised(s)
        if z is None:
            continue
        if y is not None and 1 - abs(float(z @ y) / n) < EXACT:
            out.append(Redundant(s, [target], True))
            continue
        r = z.copy()
        for q in basis:                # modified Gram-Schmidt: stable enough for this test
            r -= (q @ r) * q
        if float(r @ r) / n < EXACT:
            A = np.column_stack([k for _, k in kept])
            coef, *_ = np.linalg.lstsq(A, z, rcond=None)
            of = [name for (name, _), c in zip(kept, coef, strict=True) if abs(c) > 1e-6]
            out.append(Redundant(s, of, False))
            continue
        basis.append(r / np.linalg.norm(r))
        kept.append((s, z))
    return out

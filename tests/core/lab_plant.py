"""A small plant with one lab value, for the tests of lab values read on their samples: P (a
sensor on every row, slow), L = 2 P + noise measured every K rows and held between samples (as a
historian's "last" rule puts it on the grid), Q and M (sensors on every row) and the KPI Y."""
from __future__ import annotations

import numpy as np
import pandas as pd

K = 15              # grid rows per lab sample
N_REF, N_AN = 1200, 240


def held(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x`` sampled on ``rows`` and held until the next sample."""
    at = np.searchsorted(rows, np.arange(len(x)), side="right") - 1
    return x[rows][np.maximum(at, 0)]


def lab_plant(seed: int = 0, oscillate: float = 0.0, between: float = 0.0, q_shift: float = 0.0,
              m_shift: float = 0.0, hidden_sd: float = 0.0, m_follows_lab: bool = False, lab_shift: float = 0.0):
    """Reference and incident frames and the lab tag's sampled rows in each.

    ``oscillate``: amplitude of a fast swing of P in the incident, back where it was at every
    sample (period 5 rows, three to a sample interval): the samples see none of it; ``between``: P
    raised by this much on the rows between incident samples, back at each sample: the samples
    see none of it either; ``q_shift``, ``m_shift``: the own shift of Q, M in the
    incident (in their sds); ``hidden_sd``: an unmeasured cause acting on L and M."""
    rng = np.random.default_rng(seed)
    n = N_REF + N_AN
    p = np.zeros(n)
    for t in range(1, n):
        p[t] = 0.995 * p[t - 1] + rng.normal(0, 0.1)
    t_an = np.arange(N_AN)
    p[N_REF:] += oscillate * np.sin(2 * np.pi * t_an / 5) + between * (t_an % K >= 1)
    h = np.zeros(n)   # slow, as a raw-material property is
    for t in range(1, n):
        h[t] = 0.99 * h[t - 1] + rng.normal(0, 0.14 * hidden_sd)
    lab_true = 2 * p + h + rng.normal(0, 0.3, n)
    lab_true[N_REF:] += lab_shift
    rows = np.arange(0, n, K)
    q = rng.normal(0, 1, n)
    q[N_REF:] += q_shift
    m = h + rng.normal(0, 0.5, n) + (lab_true if m_follows_lab else 0.0)
    m[N_REF:] += m_shift * float(np.std(m[:N_REF]))
    y = q + 0.5 * p + rng.normal(0, 0.3, n)
    frame = pd.DataFrame({"P": p, "Q": q, "L": held(lab_true, rows), "M": m, "Y": y})
    ref, an = frame.iloc[:N_REF].reset_index(drop=True), frame.iloc[N_REF:].reset_index(drop=True)
    ref_rows, an_rows = rows[rows < N_REF], rows[rows >= N_REF] - N_REF
    return ref, an, {"L": ref_rows}, {"L": an_rows}

"""Anomaly ranking: the sensor whose own noise is unusual comes first, not its descendants (whose
noise is normal given their causes); a single bad row works; the marginal-shift baseline is what
it says."""
from __future__ import annotations

import numpy as np

from rca_app.core.anomaly_ranking import rank_by_marginal_shift, rank_by_own_anomaly, tail_scores


def test_tail_scores_grow_with_extremeness_and_stay_finite():
    ref = np.random.default_rng(0).normal(size=999)
    s = tail_scores(ref, np.array([0.0, 2.0, 3.0, 50.0]))
    assert s[0] < s[1] < s[2] <= s[3] == np.log(1000)


def test_own_anomaly_beats_a_descendant_that_merely_followed():
    rng = np.random.default_rng(1)
    ref = {k: rng.normal(size=2000) for k in ("moisture", "dewpoint", "temp")}
    # One bad batch: moisture's own noise is far out; dewpoint moved only because of moisture,
    # so its noise given moisture is ordinary.
    inc = {"moisture": np.array([4.5]), "dewpoint": np.array([0.3]), "temp": np.array([-0.2])}
    ranking = rank_by_own_anomaly(ref, inc, ["moisture", "dewpoint", "temp"])
    assert [a.node for a in ranking][0] == "moisture"
    assert ranking[0].tail_share < 0.01 and ranking[0].noise_shift_sd > 4


def test_marginal_shift_baseline():
    ref = {"a": np.array([0.0, 2.0]), "b": np.array([0.0, 2.0])}
    inc = {"a": np.array([1.0]), "b": np.array([4.0])}
    assert rank_by_marginal_shift(ref, inc, ["a", "b"]) == [("b", 3.0), ("a", 0.0)]

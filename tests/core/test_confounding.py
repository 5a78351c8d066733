"""An unmeasured common cause shows as correlated noises of non-adjacent sensors; independent
noises and adjacent pairs are never flagged."""
from __future__ import annotations

import numpy as np

from rca_app.core.confounding import noise_correlation_pairs, suspected_hidden_causes


def test_hidden_common_cause_flagged_and_grouped():
    rng = np.random.default_rng(0)
    n = 3000
    humidity = rng.laplace(size=n)                       # unmeasured, acts on three sensors
    noise = {
        "resin_moisture": 0.8 * humidity + rng.normal(size=n),
        "dryer_dewpoint": 0.7 * humidity + rng.normal(size=n),
        "mould_temp": rng.normal(size=n),
        "cycle_time": rng.normal(size=n),
        "screw_speed": 0.6 * humidity + rng.normal(size=n),
    }
    (group,) = suspected_hidden_causes(noise, adjacent=set())
    assert group.sensors == ["resin_moisture", "dryer_dewpoint", "screw_speed"]
    assert group.p_value < 1e-6 and all(r > 0.2 for r in group.correlations.values())


def test_independent_noises_and_adjacent_pairs_not_flagged():
    rng = np.random.default_rng(1)
    n = 20000
    noise = {f"s{i}": rng.standard_t(5, size=n) for i in range(30)}
    assert noise_correlation_pairs(noise, set()) == []
    shared = rng.normal(size=n)
    noise["a"], noise["b"] = shared + rng.normal(size=n), shared + rng.normal(size=n)
    assert noise_correlation_pairs(noise, {frozenset(("a", "b"))}) == []
    # A correlation that is significant on a long history but too small to matter is ignored.
    noise["c"] = 0.05 * noise["s0"] + rng.normal(size=n)
    assert all({"c", "s0"} != {a, b} for a, b, _, _ in noise_correlation_pairs(noise, set()))

"""Implausibly large restorations are called what they are: extrapolation, not evidence."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from rca_app.core.analysis_notes import extrapolation_note


def _cause(node, restoration, unmeasured=False):
    return SimpleNamespace(node=node, restoration=restoration, unmeasured=unmeasured)


def test_restorations_of_several_times_the_loss_are_flagged_with_how_far_the_sensor_went():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"valve": np.tile([49.0, 51.0], 250), "temp": rng.normal(80, 2, 500)})
    an = pd.DataFrame({"valve": np.full(50, 130.0), "temp": rng.normal(80, 2, 50)})
    note = extrapolation_note([_cause("valve", 102.3), _cause("temp", 0.4)], ref, an)
    assert len(note) == 1 and "valve (> 10,000%, incident +80 reference sd away)" in note[0]   # 102x the loss
    assert "temp" not in note[0]
    # Plausible restorations (up to twice the loss), unmeasured groups and NaN add nothing.
    assert extrapolation_note([_cause("valve", 1.3), _cause("temp", -0.5)], ref, an) == []
    assert extrapolation_note([_cause("an unmeasured cause acting on a and b", 5.0, True),
                                _cause("temp", float("nan"))], ref, an) == []

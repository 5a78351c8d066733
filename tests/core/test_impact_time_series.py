"""The change check on a time-series plant whose model carries lagged inputs (X[t-L]): the rows
it evaluates must carry the lagged copies too (it raised KeyError before)."""
from __future__ import annotations

import numpy as np

from rca_app.app.sample_plants import load_sample_plant
from rca_app.core.impact_records import ChangeSpec
from rca_app.core.impact_run import verify_change
from rca_app.core.lagged_model import lag_inputs
from rca_app.core.settings import AnalysisSettings


def test_verify_change_runs_on_a_model_over_time():
    plant, data = load_sample_plant("continuous_reactor")
    change_row = len(data.frame) - 60
    out = verify_change(data, ChangeSpec(time=str(data.time.iloc[change_row]), node="feed_temp_C", value=25.0,
                                         kind="setpoint"),
                        anomaly=(plant.anomaly[0], str(data.time.iloc[change_row - 1])),
                        analysis_settings=AnalysisSettings(graph_bootstrap=0, rank_bootstrap=3, n_jobs=1))
    assert lag_inputs(out.analysis.scm)          # the path under test: a model with lagged inputs
    r = out.result
    assert r.verdict in ("improved", "no effect", "worse")
    assert np.isfinite(r.effect_mean) and r.effect_mean_ci[0] <= r.effect_mean <= r.effect_mean_ci[1]

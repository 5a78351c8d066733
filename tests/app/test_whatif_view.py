"""What the What-if step offers and draws from a fitted model."""
from rca_app.app.whatif_view import controllable_candidates, setpoint_range, what_if_view


def test_what_if_view_of_a_fitted_model(outcome):
    # What-if: the slider's range, the histograms on common bins, an out-of-range warning.
    node = controllable_candidates(outcome)[0]
    rng = setpoint_range(outcome, node)
    assert rng["low"] < rng["high"] and rng["recommended"] is not None
    inside = what_if_view(outcome, node, rng["recommended"])
    assert inside["warning"] is None
    assert inside["hist_predicted"].sum() == inside["hist_actual"].sum() == 300
    outside = what_if_view(outcome, node, rng["high"] + 10 * (rng["high"] - rng["low"]))
    assert "beyond the range the plant showed" in outside["warning"]


def test_what_if_shows_the_mean_interval_and_the_wider_per_unit_interval(outcome):
    node = controllable_candidates(outcome)[0]
    w = what_if_view(outcome, node, setpoint_range(outcome, node)["recommended"])
    lo_m, hi_m = w["predicted_mean_ci"]
    lo_u, hi_u = w["unit_interval"]
    # A single unit scatters far more than the mean of 300.
    assert hi_u - lo_u > 3 * (hi_m - lo_m)
    assert lo_u < w["predicted_mean"] < hi_u and w["unit_interval_exact"]
    assert "single unit" in w["unit_interval_label"] and "mean" in w["mean_interval_label"]
    # It holds about 90% of the incident's units as the model predicts them under the setting.
    import numpy as np

    rows = np.asarray(w["predicted_rows"])
    assert 0.8 <= np.mean((rows >= lo_u) & (rows <= hi_u)) <= 0.97


def test_the_slider_range_is_the_actions_reference_range(outcome):
    # One range everywhere (trial 3 #9): the What-if step's is the one the action was searched over
    # (the 1-99% quantiles of the reference values), not the reference's minimum and maximum.
    import numpy as np

    from rca_app.core.results import as_result

    node = controllable_candidates(outcome)[0]
    rng = setpoint_range(outcome, node)
    action = next(a for a in as_result(outcome.result).actions if a.node == node)
    assert (rng["low"], rng["high"]) == tuple(action.reference_range)
    ref = outcome.incident.reference[node].to_numpy(float)
    assert np.allclose((rng["low"], rng["high"]), np.quantile(ref, [0.01, 0.99]))
    assert ref.min() <= rng["low"] < rng["high"] <= ref.max()

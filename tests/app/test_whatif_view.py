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
    assert "outside the range" in outside["warning"]

"""The harder dynamic plants (rca_sim.dynamic.hard_case): what each kind is meant to contain."""
import numpy as np
import pytest

from rca_app.core.autocorrelation import autocorrelations
from rca_sim.dynamic import HARD_KINDS, dynamic_case, hard_case

N_REF, N_AN = 600, 150


@pytest.mark.parametrize("kind", HARD_KINDS)
def test_hard_kinds_are_deterministic_and_drop_the_kpi(kind):
    a, b = hard_case(kind, 3, N_REF, N_AN), hard_case(kind, 3, N_REF, N_AN)
    assert a.frame.equals(b.frame) and a.truth["root_causes"] == b.truth["root_causes"]
    assert a.truth["target_drop_sd"] > 1.0
    assert dynamic_case(kind, 3, N_REF, N_AN).frame.equals(a.frame)


def test_mixing_tanks_smooth_every_station_after_the_feed():
    case = hard_case("mixing_tanks", 4, N_REF, N_AN)
    tau = case.truth["time_constants_min"]
    assert set(tau) == {"S2", "S3", "S4"} and all(2 <= t <= 10 for t in tau.values())
    # Outlets of mixing volumes fed by autocorrelated streams remember far back.
    assert len(np.flatnonzero(autocorrelations(case.frame["s3_a"].to_numpy(float)[:N_REF]))) >= 10


def test_pi_loop_valve_saturates_and_lets_the_disturbance_through():
    case = hard_case("pi_saturating", 5, N_REF, N_AN)
    valve = case.frame["s3_valve_pct"].to_numpy(float)
    temp = case.frame["s3_temp_C"].to_numpy(float)
    low, high = (float(v.split("=")[1]) for v in case.layout_toml.split("[[loop]]")[1].splitlines()
                 if v.startswith(("low", "high")))
    at_limit = np.minimum(np.abs(valve[N_REF:] - high), np.abs(valve[N_REF:] - low)) < 1.0
    assert at_limit.mean() > 0.3
    # Held at its setpoint in the reference; off it once the valve is at its limit.
    assert abs(temp[:N_REF].mean() - 150.0) < 0.5
    assert abs(temp[N_REF:].mean() - 150.0) > 3 * temp[:N_REF].std()


def test_slow_drift_ramps_over_a_long_incident():
    case = hard_case("slow_drift", 6, N_REF, N_AN)
    assert len(case.frame) == N_REF + 2 * N_AN
    assert case.truth["faults"][0]["type"] == "drift" and "analyser_x" in case.frame.columns

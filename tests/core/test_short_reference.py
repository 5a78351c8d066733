"""A short reference period (3 rows per sensor) is analysed whatever the incident's length: the
file is refused only below the analysis' own floor, and the message says how many rows would do
(issue #12)."""
from __future__ import annotations

import pytest

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_app.core.data import load_table, min_rows_needed, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.incident_shapes import reference_floor
from rca_app.core.layout import load_layout
from rca_sim.incident_shapes import simulate_shape

FAST = AnalysisSettings(graph_bootstrap=2, rank_bootstrap=6, n_jobs=1)


@pytest.mark.parametrize("n_incident", [1, 5])
def test_three_rows_per_sensor_and_a_short_incident_are_analysed(tmp_path, n_incident):
    # 12 sensors, 36 reference rows: the whole file (37 or 41 rows) holds fewer than the
    # 5 rows per sensor (60) the full model wants.
    plant = simulate_shape("continuous", seed=501, n_sensors=12, n_reference=36, n_incident=n_incident)
    csv, lay = plant.save(tmp_path)
    data = prepare(load_table(csv), load_layout(lay))
    assert data.n_rows == 36 + n_incident < min_rows_needed(12)
    r = run_analysis(data, plant.incident_window, None, FAST).result
    assert r.ranking_basis.simple_model and r.ranking_basis.reference_rows == 36
    assert r.ranking_basis.method == ("unit_restoration" if n_incident == 1 else "restoration")
    assert r.root_causes and r.diagnostics.bootstrap_refits_used == 6
    # The intervals from refits on 36 rows (12 blocks) are widened, and the result says so.
    assert any("widened 1.14-fold" in m for m in r.diagnostics.messages)


def test_a_file_below_the_floor_is_refused_saying_how_many_rows_would_do(tmp_path):
    floor = reference_floor(12)
    assert floor == 14
    plant = simulate_shape("continuous", seed=501, n_sensors=12, n_reference=36, n_incident=5)
    csv, lay = plant.save(tmp_path)
    # As many rows as the reference floor: one short (no row left for the incident).
    plant.frame.iloc[20:20 + floor].to_csv(csv, index=False)
    with pytest.raises(RcaInputError) as e:
        prepare(load_table(csv), load_layout(lay))
    msg = str(e.value)
    assert f"only {floor} usable row(s)" in msg and f"at least {floor + 1} rows to estimate anything" in msg
    assert f"a reference period of {floor} rows" in msg and "at least 60 rows for the full model" in msg
    plant.frame.iloc[20:21 + floor].to_csv(csv, index=False)
    assert prepare(load_table(csv), load_layout(lay)).n_rows == floor + 1


def test_a_time_aligned_short_reference_with_a_supplier_column_is_analysed(tmp_path):
    # Time alignment leaves the first row without an upstream past (an empty supplier cell):
    # the category levels come from the rows that have one.
    from rca_sim import random_plant, save_plant, simulate

    spec, faults = random_plant(7100, fault="variance_increase", n_nodes=12, n_stations=4)
    df, truth = simulate(spec, 33, 30, faults, 7100)
    save_plant(tmp_path, spec, df, truth)
    data = prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))
    assert data.categorical_nodes == ["supplier"]
    an = truth["anomaly"]
    r = run_analysis(data, (an["start"], an["end"]), None, FAST).result
    assert r.dynamics is not None and r.ranking_basis.simple_model and r.root_causes


def test_small_sample_factor_is_the_t_correction_of_the_blocks_bootstrapped():
    from scipy.stats import norm, t

    from rca_app.core.records import RootCause
    from rca_app.core.unit_ranking import small_sample_factor, widen_intervals

    # 33 rows: 11 blocks of 3 rows.
    assert small_sample_factor(33) == pytest.approx(t.ppf(0.95, 10) / norm.ppf(0.95) * (11 / 10) ** 0.5)
    factors = [small_sample_factor(n) for n in (12, 33, 100, 300, 3000)]
    assert factors == sorted(factors, reverse=True) and factors[-1] < 1.02 and factors[0] > 1.3
    nan = float("nan")
    cause = RootCause("a", "s", 0.5, (0.2, 0.6), 1.0, False, False, None)
    undefined = RootCause("b", "s", nan, (nan, nan), nan, False, False, None)
    widen_intervals([cause, undefined, cause], [], 1.5)
    assert cause.restoration_ci == pytest.approx((0.1, 0.7))        # about the centre 0.4
    assert all(v != v for v in undefined.restoration_ci)

"""The impact of a change on hand-built lines with known answers: the counterfactual keeps each
row's own upstream behaviour (a coinciding better lot is not credited to the change), the parts
of the recovery add up, an unnamed change is found, and the verdict follows the goal."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.impact import (
    ImpactSettings,
    attribution_terms,
    change_impact,
    shifts_at_change,
)
from rca_app.core.impact_records import ImpactResult, impact_from_json, impact_to_json
from rca_app.core.impact_run import judge
from rca_app.core.scm import StructuralCausalModel
from rca_app.core.serialization import SchemaError
from rca_app.core.uncertainty import BootstrapContext


def _line(n_ref=1500, n_inc=300, n_after=300, setpoint_step=0.0, lot_step=0.0, seed=0):
    """lot -> x <- setpoint; x -> y. The incident: the lot gets worse (moves x up, y down).
    After the change the setpoint moves by ``setpoint_step`` and the lot by ``lot_step``."""
    rng = np.random.default_rng(seed)
    n = n_ref + n_inc + n_after
    lot = rng.uniform(-1, 1, n)
    lot[n_ref:] += 1.5
    lot[n_ref + n_inc:] += lot_step
    sp = rng.laplace(0, 0.3, n)
    sp[n_ref + n_inc:] += setpoint_step
    x = 1.0 * lot - 0.8 * sp + rng.uniform(-0.3, 0.3, n)
    noise_y = rng.laplace(0, 0.2, n)
    y = 90 - 2.0 * x + noise_y
    f = pd.DataFrame({"lot": lot, "setpoint": sp, "x": x, "y": y})
    g = CausalGraph(("lot", "setpoint", "x", "y"), (Edge("lot", "x"), Edge("setpoint", "x"), Edge("x", "y")))
    true_effect = 2.0 * 0.8 * setpoint_step      # y per unit setpoint, rows keep their own noise
    parts = (f.iloc[:n_ref].reset_index(drop=True), f.iloc[n_ref:n_ref + n_inc].reset_index(drop=True),
             f.iloc[n_ref + n_inc:].reset_index(drop=True))
    return parts, g, true_effect


def _refits(scm, ref, inc, n=20):
    ctx = BootstrapContext(scm, inc, ["lot", "setpoint", "x", "y"])
    out = []
    for d in ctx.draws(1, n):
        out.append(ctx.model(d, ctx.refit_mechanisms(d)))
    return out


@pytest.mark.parametrize("setpoint_step, lot_step", [(1.0, 0.0), (1.0, -1.5), (0.0, -1.5)])
def test_the_change_gets_its_own_effect_and_a_better_lot_is_not_credited(setpoint_step, lot_step):
    (ref, inc, after), g, truth = _line(setpoint_step=setpoint_step, lot_step=lot_step)
    scm = StructuralCausalModel(g).fit(ref)
    core = change_impact(scm, ref, inc, after, "y", "setpoint", _refits(scm, ref, inc),
                         ImpactSettings(draws=2000))
    assert core.effect_mean == pytest.approx(truth, abs=0.12)
    lo, hi = core.effect_mean_ci
    assert lo <= core.effect_mean <= hi and hi - lo < 0.4
    # (How often the 90% interval holds the truth is measured in bench/impact.py.)
    assert judge(core.effect_mean, core.effect_mean_ci, "maximize", 0.2) == ("improved" if truth else "no effect")
    # A naive before/after difference credits the lot to the change; the query does not.
    naive = after["y"].mean() - inc["y"].mean()
    if lot_step:
        assert abs(naive - truth) > 2.0
        # The lot's own part: y per unit lot times how far the lot moved since the incident.
        assert core.contributions["lot"] == pytest.approx(2.0 * (inc["lot"].mean() - after["lot"].mean()), abs=0.15)
    # The parts add up to the recovery since the incident.
    terms = attribution_terms(core, "setpoint", "y", None)
    assert sum(t.contribution for t in terms) == pytest.approx(after["y"].mean() - inc["y"].mean(), abs=1e-9)
    assert terms[0].kind == "change" and terms[-1].kind == "interactions"
    assert abs(terms[-1].contribution) < 0.05     # a linear line has no interactions


def test_per_row_series_and_conformal_bands_are_consistent():
    (ref, inc, after), g, truth = _line(setpoint_step=1.0)
    scm = StructuralCausalModel(g).fit(ref)
    core = change_impact(scm, ref, inc, after, "y", "setpoint", (), ImpactSettings(draws=2000))
    assert len(core.observed) == len(after) == len(core.counterfactual)
    assert np.allclose(core.observed, after["y"])
    # Per-row 90% band: the counterfactual rows (with their own KPI noise) fall inside it
    # about 90% of the time.
    inside = np.mean((core.counterfactual >= core.expected + core.band.low)
                     & (core.counterfactual <= core.expected + core.band.high))
    assert 0.82 <= inside <= 0.97
    assert core.band.exact and not core.mean_band.exact
    assert core.mean_band.low < core.mean_band.high
    assert math.isnan(core.effect_mean_ci[0])          # no refits: no interval, not a false one


def test_an_unnamed_change_is_found_in_the_noise_of_the_node_it_acted_on():
    (ref, inc, after), g, _ = _line(setpoint_step=1.0)
    scm = StructuralCausalModel(g).fit(ref)
    shifts = shifts_at_change(scm, inc, after)
    changed = [s.node for s in shifts if s.changed]
    # x moved too, but its own noise did not: the setpoint explains it.
    assert changed == ["setpoint"]
    assert shifts[0].node == "setpoint" and shifts[0].shift_sd > 2


@pytest.mark.parametrize("effect, ci, goal, expected", [
    (0.5, (0.3, 0.7), "maximize", "improved"),
    (0.5, (-0.1, 0.9), "maximize", "no effect"),
    (0.01, (0.005, 0.02), "maximize", "no effect"),     # sure, but too small to matter
    (-0.5, (-0.7, -0.3), "maximize", "worse"),
    (-0.5, (-0.7, -0.3), "minimize", "improved"),       # a lower scrap rate is better
    (0.5, (float("nan"), float("nan")), "maximize", "no effect"),
])
def test_verdict_follows_the_goal(effect, ci, goal, expected):
    assert judge(effect, ci, goal, 0.05) == expected


def test_result_round_trips_as_strict_json(impact_result):
    d = impact_to_json(impact_result)
    assert list(d)[:3] == ["effect_mean", "effect_mean_ci", "verdict"]
    text = json.dumps(d, allow_nan=False)
    back = impact_from_json(json.loads(text))
    assert isinstance(back, ImpactResult)
    assert back.effect_mean == impact_result.effect_mean and back.verdict == impact_result.verdict
    assert impact_to_json(back) == d
    with pytest.raises(SchemaError, match="newer rca_app"):
        impact_from_json({**d, "schema_version": 99})
    with pytest.raises(SchemaError, match="verdict"):
        impact_from_json({**d, "verdict": "great"})


@pytest.fixture(scope="module")
def impact_result():
    from rca_app.core.impact_records import (
        ChangeRecord,
        ConformalRecord,
        ImpactSeries,
    )
    from rca_app.core.results import WindowRecord

    (ref, inc, after), g, _ = _line(n_after=40, setpoint_step=1.0)
    scm = StructuralCausalModel(g).fit(ref)
    core = change_impact(scm, ref, inc, after, "y", "setpoint", _refits(scm, ref, inc, 5), ImpactSettings(draws=500))
    w = WindowRecord(0, 10, 0, 10, 10)
    band = ConformalRecord(-1.0, 1.0, 0.9, 100, True, "per row")
    return ImpactResult(
        plant="test", target="y", goal="maximize",
        change=ChangeRecord(1800, 1800, "setpoint", "setpoint", 1.0),
        reference=w, before=w, after=w, windows_source="given", observed_mean=float(core.observed.mean()),
        counterfactual_mean=float(core.counterfactual.mean()), effect_mean=core.effect_mean,
        effect_mean_ci=core.effect_mean_ci, effect_cumulative=core.effect_mean * 40,
        effect_cumulative_ci=core.effect_cumulative_ci, counterfactual_mean_band=core.mean_band,
        effect_mean_conformal_ci=(0.0, 1.0), row_band=band, before_mean=core.before_mean, reference_mean=90.0,
        recovery=1.0, attribution=attribution_terms(core, "setpoint", "y", None), causes=[], shifts_at_change=[],
        verdict="improved", verdict_text="better", min_effect=0.1, caveats=["few rows"], level=0.9, n_refits=5,
        series=ImpactSeries(list(range(40)), list(range(40)), core.observed.tolist(), core.counterfactual.tolist(),
                            core.expected.tolist(), core.expected.tolist(), core.expected.tolist()))


def test_committed_impact_schema_is_current_and_validates_a_stored_result():
    import jsonschema

    from rca_app.core.impact_records import impact_json_schema
    from tests.paths import FIXTURES, ROOT

    schema = json.loads((ROOT / "schemas" / "impact_result.schema.json").read_text(encoding="utf-8"))
    assert schema == impact_json_schema(), "regenerate schemas/impact_result.schema.json from impact_json_schema()"
    stored = json.loads((FIXTURES / "investigations" / "v2_injection_moulding.rcainv").read_text())
    jsonschema.validate(stored["verification"]["result"], schema)

"""The injection-moulding plant's two post-fix periods: the files are reproducible, and the tool
says the dryer setpoint worked, and that the barrel change did little (a drier lot did it)."""
import json

from rca_app.core.data import load_table, prepare
from rca_app.core.impact_records import ChangeSpec
from rca_app.core.impact_run import verify_change
from rca_app.core.layout import load_layout
from rca_app.core.settings import AnalysisSettings
from rca_app.resources import sample_plant
from tests.paths import ROOT

PLANT = sample_plant("injection_moulding")
CHANGE = "2026-03-16T23:20:00"
FAST = AnalysisSettings(graph_bootstrap=0, rank_bootstrap=20, n_jobs=1)


def _verify(name, spec):
    data = prepare(load_table(PLANT / f"{name}.csv"), load_layout(PLANT / "layout.toml"))
    truth = json.loads((PLANT / f"{name}_truth.json").read_text())
    return verify_change(data, spec, analysis_settings=FAST).result, truth


def test_post_fix_files_are_reproducible(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_post_fix", ROOT / "sample_plants" / "generate_post_fix.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for p in mod.generate(tmp_path):
        assert p.read_bytes() == (PLANT / p.name).read_bytes(), p.name


def test_the_dryer_setpoint_worked():
    r, truth = _verify("post_fix_worked", ChangeSpec(CHANGE, "dryer_temp_C", 128.0, "setpoint"))
    assert r.verdict == "improved"
    lo, hi = r.effect_mean_ci
    assert lo <= truth["effect_mean"] <= hi
    assert r.change_share > 0.8
    # The dryer itself is still broken: the setpoint compensates for it.
    dew = next(c for c in r.causes if c.node == "dryer_dewpoint_C")
    assert dew.status == "still shifted"
    assert "raised yield_pct" in r.verdict_text and "dryer_dewpoint_C is still shifted" in r.verdict_text
    assert "auto-window rule" in r.windows_source


def test_an_unnamed_change_is_found_to_be_the_dryer_setpoint():
    r, _ = _verify("post_fix_worked", ChangeSpec(CHANGE))
    assert r.change.node == "dryer_temp_C" and r.change.found_in_data
    assert r.verdict == "improved"


def test_a_drier_lot_the_same_day_is_not_credited_to_the_barrel_change():
    r, truth = _verify("post_fix_lot", ChangeSpec(CHANGE, "barrel_temp_C", 297.0, "setpoint"))
    assert r.verdict == "no effect"
    assert abs(r.effect_mean - truth["effect_mean"]) < 0.05
    # The yield did recover, and a before/after comparison would credit the change with it.
    assert r.recovery > 0.5
    assert abs(r.change_share) < 0.1
    assert "resin_moisture_pct" in " ".join(r.caveats)

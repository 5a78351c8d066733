"""The command line on time-series data: a historian export read by --format, its tags reported by
validate, residence times and loops in the analysis summary."""
from __future__ import annotations

from rca_app.cli import main
from rca_app.resources import sample_plants_dir

PLANT = sample_plants_dir() / "continuous_reactor"
ARGS = [str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml")]


def test_validate_reports_the_historian_tags(capsys):
    assert main(["validate", *ARGS]) == 0
    out = capsys.readouterr().out
    assert "Historian export: 11 tags on a 1min grid" in out
    assert "product_purity_pct: last" in out and "stamped 1200 s late" in out


def test_format_forces_the_shape(capsys):
    assert main(["validate", *ARGS, "--format", "long"]) == 0
    capsys.readouterr()
    assert main(["validate", *ARGS, "--format", "wide"]) == 2
    assert "--format wide: the header" in capsys.readouterr().err   # it looks like a long export, and says so


def test_analyze_shows_residence_times_and_the_loop(capsys):
    code = main(["analyze", *ARGS, "--anomaly", "2026-03-01T16:40:00/2026-03-01T20:40:00", "--graph-bootstrap", "0",
                 "--rank-bootstrap", "3", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Residence times (grid 1min):" in out and "Feed -> Preheater: 7min (estimated" in out
    assert "compensated" in out and "disturbance from feed_impurity_pct" in out
    assert out.index("1  feed_impurity_pct") < out.index("coolant_valve_pct")
    # The declared recycle and the slow sensors are in the block too (audit: only the loop was).
    assert "recycle_flow_m3h → conversion_pct after 14min: declared recycle" in out
    assert "slow own dynamics (a sensor's last value carries on):" in out


def test_join_option_adds_a_lot_table(tmp_path, capsys):
    batch = sample_plants_dir() / "batch_genealogy"
    layout = (batch / "layout.toml").read_text(encoding="utf-8")
    plain = tmp_path / "layout.toml"
    plain.write_text(layout[: layout.index("[[join]]")], encoding="utf-8")
    args = ["validate", str(batch / "data.csv"), "--layout", str(plain)]
    assert main(args) == 2 and "lot_viscosity_mPas" in capsys.readouterr().err
    assert main([*args, "--join", f"{batch / 'lots.csv'}:lot_id"]) == 0
    assert "lot_viscosity_mPas" in capsys.readouterr().out
    assert main([*args, "--join", "lots.csv"]) == 2 and "FILE:KEY" in capsys.readouterr().err

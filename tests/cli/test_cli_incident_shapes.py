"""The command line on incident shapes: one row by time or by position, and an alarm that never
fired in the reference period (an anomaly ranking, said so)."""
from __future__ import annotations

import json

from rca_app.cli import build_parser, main
from rca_app.resources import sample_plants_dir
from rca_sim.incident_shapes import simulate_shape

PLANT = sample_plants_dir() / "chemical_reactor"
FAST = ["--graph-bootstrap", "2", "--rank-bootstrap", "4", "--jobs", "1", "--quiet"]


def test_anomaly_option_takes_one_row():
    p = build_parser()
    assert p.parse_args(["analyze", "d.csv", "--layout", "l.toml", "--anomaly", "4711"]).anomaly == "4711"
    assert p.parse_args(["analyze", "d.csv", "--layout", "l.toml", "--anomaly", "5/9"]).anomaly == ("5", "9")
    assert p.parse_args(["analyze", "d.csv", "--layout", "l.toml", "--anomaly", "auto"]).anomaly == "auto"


def test_one_batch_by_its_time(tmp_path, capsys):
    truth = json.loads((PLANT / "truth.json").read_text(encoding="utf-8"))
    out = tmp_path / "r.json"
    code = main(["analyze", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml"),
                 "--anomaly", truth["anomaly"]["start"], "--json", str(out), *FAST])
    assert code == 0, capsys.readouterr().err
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["anomaly"]["n_rows"] == 1 and d["anomaly"]["start"] == truth["anomaly"]["start"]
    assert d["ranking_basis"]["method"] == "unit_restoration"
    assert "Restoration per unit (one row)" in capsys.readouterr().out


def test_one_row_by_position_and_an_alarm_ranking(tmp_path, capsys):
    plant = simulate_shape("event", seed=502, n_sensors=6, n_reference=600, n_incident=1, shift_sd=5.0)
    csv, lay = plant.save(tmp_path)
    code = main(["analyze", str(csv), "--layout", str(lay), "--anomaly", str(plant.n_reference), *FAST])
    text = capsys.readouterr().out
    assert code == 0
    assert "Anomaly ranking" in text and "anomaly score" in text
    first = text.split("anomaly score")[1].splitlines()[1]
    assert plant.root_cause in first

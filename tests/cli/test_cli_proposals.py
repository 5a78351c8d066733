"""The continuous sample plant on a day-one layout (no loop, recycle, grid or lab tag rules): the
command line uses the loop and the recycle the data show strongly, says so, and the temperature
the controller held is not ranked as a cause; with --proposals none both are only reported. The
shipped layout (everything declared) ranks the same way (truth: sample_plants/continuous_reactor)."""
from __future__ import annotations

import json
import re

import pytest

from rca_app.cli import main
from rca_app.resources import sample_plants_dir

PLANT = sample_plants_dir() / "continuous_reactor"
WINDOW = ["--anomaly", "2026-03-01T16:40:00/2026-03-01T20:40:00", "--graph-bootstrap", "0", "--rank-bootstrap", "3",
          "--quiet"]
TRUTH = json.loads((PLANT / "truth.json").read_text(encoding="utf-8"))["root_causes"][0]


def _day_one(tmp_path):
    """The shipped layout up to its first [[loop]], without its grid and lag_max: stations only (the
    analysis then runs on the KPI's 30 s rate)."""
    text = (PLANT / "layout.toml").read_text(encoding="utf-8")
    text = "".join(line for line in text[: text.index("[[loop]]")].splitlines(keepends=True)
                   if not line.startswith(("sample =", "lag_max =")))
    path = tmp_path / "dayone.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _ranked(out: str) -> list[str]:
    table = out[out.index("Root causes"): out.index("Residence times")]
    return re.findall(r"^\s+\d+\s+(\S+)", table, flags=re.M)


@pytest.mark.slow
def test_a_day_one_layout_uses_the_strong_loop_and_recycle(tmp_path, capsys):
    layout = _day_one(tmp_path)
    before = layout.read_text(encoding="utf-8")
    out_json = tmp_path / "r.json"
    assert main(["analyze", str(PLANT / "data.csv"), "--layout", str(layout), *WINDOW, "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    ranked = _ranked(out)
    assert ranked[0] == TRUTH
    assert ranked[-1] == "reactor_temp_C"
    assert "Used in this analysis, because the data show them strongly" in out
    assert '[[loop]] controlled = "reactor_temp_C", manipulated = "coolant_valve_pct"' in out
    assert '[[recycle]] from = "Separator", to = "Reactor"' in out
    assert "It is not used until you declare it" not in out
    assert layout.read_text(encoding="utf-8") == before
    result = json.loads(out_json.read_text(encoding="utf-8"))
    assert result["root_causes"][-1]["node"] == "reactor_temp_C"
    temp = result["root_causes"][-1]["restoration"]
    if round(100 * temp) > 0:
        # What the model credits it (the 30 s grid's holes keep the loop out of the model over
        # time) is read as the controller's correction.
        assert (f"reactor_temp_C is ranked last: its controller held it within 0.1 reference sd of its reference "
                f"level while coolant_valve_pct moved +4.9 sd, so it did not change on its own. The "
                f"{100 * temp:.0f}% restoration") in out
    assert result["settings"]["proposals"]["use"] == "strong" and len(result["settings"]["proposals"]["used"]) == 2
    assert [lp["controlled"] for lp in result["dynamics"]["loops"]] == ["reactor_temp_C"]

    assert main(["analyze", str(PLANT / "data.csv"), "--layout", str(layout), *WINDOW, "--proposals", "none"]) == 0
    out = capsys.readouterr().out
    assert "Only proposed, not used, because --proposals none was given" in out
    assert "It is not used until you declare it" in out
    assert _ranked(out)[0] == TRUTH


@pytest.mark.slow
def test_the_shipped_layout_reads_the_held_temperature_last(tmp_path, capsys):
    out_json = tmp_path / "r.json"
    assert main(["analyze", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml"), *WINDOW,
                 "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert _ranked(out)[0] == TRUTH
    ranked = [c["node"] for c in json.loads(out_json.read_text(encoding="utf-8"))["root_causes"]]
    assert ranked[0] == TRUTH and ranked[-1] == "reactor_temp_C"
    assert "Proposed loops and recycles" not in out
    # Its loop is in the model here, which credits it nothing: it is moved without a note.
    assert "reactor_temp_C is ranked last" not in out

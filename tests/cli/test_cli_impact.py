"""``rca-app impact``: the JSON contract, the windows it says it used, an investigation as the
basis, and every bad option named with its file and column (exit 2, before any fitting)."""
import json

import pytest

from rca_app.app.investigation_file import Investigation, save_investigation
from rca_app.cli import main
from rca_app.resources import sample_plant
from tests.paths import FIXTURES

PLANT = sample_plant("injection_moulding")
DATA = str(PLANT / "post_fix_worked.csv")
LAYOUT = str(PLANT / "layout.toml")
CHANGE = "2026-03-16T23:20:00"
FAST = ["--graph-bootstrap", "0", "--rank-bootstrap", "12", "--jobs", "1", "--quiet"]


def test_impact_writes_the_json_contract_and_says_which_windows_it_used(tmp_path, capsys):
    out = tmp_path / "impact.json"
    code = main(["impact", DATA, "--layout", LAYOUT, "--change", CHANGE, "--json", str(out), *FAST])
    text = capsys.readouterr().out
    assert code == 0
    d = json.loads(out.read_text())
    assert list(d)[:3] == ["effect_mean", "effect_mean_ci", "verdict"]
    lo, hi = d["effect_mean_ci"]
    assert lo <= d["effect_mean"] <= hi and d["verdict"] == "improved"
    assert d["change"]["node"] == "dryer_temp_C" and d["change"]["found_in_data"] is True
    assert {t["kind"] for t in d["attribution"]} >= {"change", "interactions"}
    assert len(d["series"]["observed"]) == d["after"]["n_rows"] == 400
    # Without --reference/--investigation it says what it used.
    assert "auto-window rule on the rows before the change" in text and "Verdict: IMPROVED" in text


def test_an_investigation_supplies_windows_graph_and_causes(tmp_path, capsys):
    from rca_app.core.data import load_table, prepare
    from rca_app.core.impact_run import fit_before_change
    from rca_app.core.layout import load_layout
    from rca_app.core.settings import AnalysisSettings

    data = prepare(load_table(DATA), load_layout(LAYOUT))
    outcome, _ = fit_before_change(data, 2300, anomaly=("2026-03-14T21:20:00", None),
                                   settings=AnalysisSettings(graph_bootstrap=0, rank_bootstrap=4, n_jobs=1))
    inv = Investigation(layout_toml=load_layout(LAYOUT).text, graph=outcome.scm.graph.to_dict(),
                        result=outcome.result, anomaly=["2026-03-14T21:20:00", CHANGE])
    path = save_investigation(inv, tmp_path / "case.rcainv")
    out = tmp_path / "impact.json"
    code = main(["impact", DATA, "--layout", LAYOUT, "--change", CHANGE, "--node", "dryer_temp_C", "--value", "128",
                 "--investigation", str(path), "--json", str(out), *FAST])
    assert code == 0, capsys.readouterr().err
    d = json.loads(out.read_text())
    assert "investigation's windows and graph" in d["windows_source"]
    assert d["before"]["start"] == "2026-03-14T21:20:00"
    assert d["causes"][0]["node"] == "dryer_dewpoint_C"


@pytest.mark.parametrize("args, words", [
    (["--node", "nope", "--value", "1"], ["column 'nope'", "not a sensor"]),
    (["--node", "dryer_temp_C", "--value", "hot"], ["--value must be a number", "column 'dryer_temp_C'"]),
    (["--value", "3"], ["--value needs --node"]),
    (["--switch", "resin_supplier"], ["NODE=LEVEL"]),
    (["--switch", "resin_supplier=Acme"], ["no level 'Acme'", "NordPoly", "column 'resin_supplier'"]),
    (["--switch", "dryer_temp_C=3"], ["is numeric"]),
    (["--node", "yield_pct", "--value", "97"], ["is the KPI"]),
])
def test_bad_change_options_exit_2_naming_what_is_wrong(args, words, capsys):
    code = main(["impact", DATA, "--layout", LAYOUT, "--change", CHANGE, *args, *FAST])
    err = capsys.readouterr().err
    assert code == 2
    for w in words:
        assert w in err


@pytest.mark.parametrize("change, words", [
    ("2027-01-01T00:00", ["holds no rows"]),
    ("2026-03-01T00:00", ["first row", "nothing before it"]),
])
def test_a_change_time_outside_the_data_is_named(change, words, capsys):
    code = main(["impact", DATA, "--layout", LAYOUT, "--change", change, *FAST])
    err = capsys.readouterr().err
    assert code == 2
    for w in words:
        assert w in err


def test_an_investigation_without_a_result_is_refused(capsys):
    code = main(["impact", DATA, "--layout", LAYOUT, "--change", CHANGE,
                 "--investigation", str(FIXTURES / "investigations" / "v1_injection_moulding.rcainv"), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "v1_injection_moulding.rcainv" in err and "no result yet" in err

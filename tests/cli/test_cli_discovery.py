"""`--discovery` forces a method; the result and its reproduce command say which was used."""
import json

from rca_app.cli import main
from rca_app.resources import sample_plants_dir

PLANT = sample_plants_dir() / "chemical_reactor"


def test_discovery_method_forced_and_recorded(tmp_path):
    truth = json.loads((PLANT / "truth.json").read_text(encoding="utf-8"))
    out = tmp_path / "r.json"
    an = f"{truth['anomaly']['start']}/{truth['anomaly']['end']}"
    code = main(["analyze", str(PLANT / "data.csv"), "--layout", str(PLANT / "layout.toml"), "--anomaly", an,
                 "--json", str(out), "--graph-bootstrap", "0", "--rank-bootstrap", "0", "--quiet",
                 "--discovery", "pc"])
    assert code == 0
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["diagnostics"]["discovery_method"] == "pc" and d["settings"]["discovery"] == "pc"
    assert "--discovery pc" in d["settings"]["command"]
    assert d["root_causes"][0]["node"] in truth["root_causes"]

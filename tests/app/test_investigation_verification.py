"""Format version 2 of the investigation file: the verified corrective action (change and impact
result) is stored and read back; version 1 files migrate (no verification)."""
import copy
import json

import pytest

from rca_app.app import investigation_file as invf
from rca_app.core.errors import RcaInputError
from rca_app.core.impact_records import ChangeSpec, impact_to_json
from tests.paths import FIXTURES

V1 = FIXTURES / "investigations" / "v1_injection_moulding.rcainv"
V2 = FIXTURES / "investigations" / "v2_injection_moulding.rcainv"


def test_v1_file_migrates_without_a_verification(tmp_path):
    d = json.loads(V1.read_text())
    d["step"] = 6                     # saved on the report step
    p = tmp_path / "old.rcainv"
    p.write_text(json.dumps(d))
    inv = invf.load_investigation(p)
    assert inv.verification is None and inv.step == 6
    assert d["schema_version"] == 1 and "verification" not in d


def test_v2_fixture_holds_the_change_and_its_result():
    inv = invf.load_investigation(V2)
    v = inv.verification
    assert v.change == ChangeSpec("2026-03-16T23:20:00", "dryer_temp_C", 128.0, "setpoint")
    assert v.data.file_name == "post_fix_worked.csv"
    assert v.result.verdict == "improved" and v.result.effect_mean > 0.5
    assert v.result.change.node == "dryer_temp_C"


def test_verification_round_trips(tmp_path):
    inv = invf.load_investigation(V2)
    path = invf.save_investigation(inv, tmp_path / "case.rcainv")
    back = invf.load_investigation(path)
    assert back.verification.change == inv.verification.change
    assert impact_to_json(back.verification.result) == impact_to_json(inv.verification.result)
    assert json.loads(path.read_text())["schema_version"] == invf.SCHEMA_VERSION == 2


@pytest.mark.parametrize("change, words", [
    (lambda d: d["verification"]["result"].update(verdict="great"), "verification.result.verdict"),
    (lambda d: d["verification"]["change"].update(kind="magic"), "verification.change.kind"),
    (lambda d: d["verification"].update(result=[]), "verification.result"),
])
def test_a_damaged_verification_is_named(tmp_path, change, words):
    d = json.loads(V2.read_text())
    d = copy.deepcopy(d)
    change(d)
    p = tmp_path / "bad.rcainv"
    p.write_text(json.dumps(d))
    with pytest.raises(RcaInputError) as e:
        invf.load_investigation(p)
    text = str(e.value)
    assert words in text and "bad.rcainv" in text

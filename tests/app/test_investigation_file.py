"""Investigation files: round trip, atomic save, every old version opens, migrations, damage."""
import json
import os
import shutil
from pathlib import Path

import pytest

from rca_app.app import investigation_file as invf
from rca_app.app.data_file import check_data_file
from rca_app.core.errors import RcaInputError
from rca_app.core.graph import CausalGraph
from rca_app.core.layout import parse_layout
from rca_app.core.results import RESULT_SCHEMA_VERSION, result_to_json
from rca_app.core.rootcause import RootCause
from tests.paths import FIXTURES as ALL_FIXTURES

FIXTURES = ALL_FIXTURES / "investigations"


def test_round_trip_keeps_everything(tmp_path, plant, make_investigation):
    csv = tmp_path / "data.csv"
    shutil.copy(plant / "data.csv", csv)
    original = make_investigation(csv)
    path = invf.save_investigation(original, tmp_path / "case.rcainv")
    back = invf.load_investigation(path)
    assert back.layout_toml == original.layout_toml
    assert back.reference == original.reference and back.anomaly == original.anomaly
    assert back.graph == original.graph and back.graph_edits == original.graph_edits
    assert back.settings == original.settings and back.notes == original.notes and back.step == 4
    assert back.result.root_causes[0].restoration == 0.8
    assert list(back.result.root_causes[0].restoration_ci) == [0.7, 0.9]
    assert isinstance(back.result.root_causes[0], RootCause)   # records, not dicts, come back
    assert result_to_json(back.result) == result_to_json(original.result)
    assert back.data.sha256 == original.data.sha256 and back.data.relative_path == "data.csv"
    assert back.saved_at and back.software["name"] == "rca_app"
    assert json.loads(path.read_text())["schema_version"] == invf.SCHEMA_VERSION
    assert check_data_file(back.data, path).status == "ok"
    assert original.saved_at is None   # the caller's investigation is not changed by saving


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path, monkeypatch, plant, make_investigation):
    target = tmp_path / "case.rcainv"
    target.write_text("old content")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        invf.save_investigation(make_investigation(plant / "data.csv"), target)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["case.rcainv"]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("v*.rcainv")))
def test_every_old_version_opens(name, tmp_path, plant):
    # One fixture per schema version ever released; each must open in this version.
    back = invf.load_investigation(FIXTURES / name)
    assert back.layout_toml and parse_layout(back.layout_toml).target == "yield_pct"
    assert back.anomaly == ["2026-03-14T21:20:00", "2026-03-16T23:20:00"]
    assert back.notes["team"]
    graph = CausalGraph.from_dict(back.graph)
    assert ("dryer_dewpoint_C", "dried_moisture_pct") in graph.edge_keys
    # The saved absolute path does not exist here. The saved relative path climbs out of the
    # fixture's folder (../../../sample_plants/...): an investigation file is untrusted input, so
    # only its own folder is searched, and the engineer is asked to locate the file.
    check = check_data_file(back.data, FIXTURES / name)
    assert check.status == "missing" and "Locate" in check.message
    # The same file next to its data (an investigation folder moved as a whole) finds it.
    (tmp_path / "data.csv").write_bytes((plant / "data.csv").read_bytes())
    (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    check = check_data_file(back.data, tmp_path / name)
    assert check.status == "moved" and check.path == tmp_path / "data.csv"


def test_v1_fixture_is_the_first_version():
    assert json.loads((FIXTURES / "v1_injection_moulding.rcainv").read_text())["schema_version"] == 1


def test_every_version_has_a_fixture_and_a_migration():
    # Raising SCHEMA_VERSION needs a fixture of the old version and a registered migration.
    versions = {int(p.name[1:].split("_")[0]) for p in FIXTURES.glob("v*.rcainv")}
    assert versions == set(range(1, invf.SCHEMA_VERSION + 1))
    assert set(invf._MIGRATIONS) == set(range(1, invf.SCHEMA_VERSION))


def test_migrations_run_in_order_on_a_copy(monkeypatch):
    # A future format 3: v1 renamed "notes" to "report_notes" in v2, v2 added "units" in v3.
    monkeypatch.setattr(invf, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(invf, "_MIGRATIONS", {})
    seen = []

    @invf.migration(from_version=1)
    def notes_renamed(d):
        seen.append(d["schema_version"])
        d["report_notes"] = d.pop("notes")
        return d

    @invf.migration(from_version=2)
    def units_added(d):
        seen.append(d["schema_version"])
        d["units"] = {}
        return d

    with pytest.raises(ValueError, match="already registered"):
        invf.migration(from_version=1)(lambda d: d)
    old = {"kind": invf.FILE_KIND, "schema_version": 1, "notes": {"team": "A"}}
    new = invf.migrate(old, "old.rcainv")
    assert seen == [1, 2]
    assert new == {"kind": invf.FILE_KIND, "schema_version": 3, "report_notes": {"team": "A"}, "units": {}}
    assert old["notes"] == {"team": "A"} and old["schema_version"] == 1   # the input is untouched
    # A version 2 file skips the first step.
    seen.clear()
    assert invf.migrate({"schema_version": 2, "report_notes": {}})["units"] == {}
    assert seen == [2]


def test_a_failing_migration_is_explained(monkeypatch):
    monkeypatch.setattr(invf, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(invf, "_MIGRATIONS", {})
    invf.migration(from_version=1)(lambda d: d["no such field"])
    with pytest.raises(RcaInputError, match="could not be converted to version 2") as e:
        invf.migrate({"schema_version": 1}, "old.rcainv")
    assert e.value.problems[0].file == "old.rcainv"
    monkeypatch.setattr(invf, "_MIGRATIONS", {})
    with pytest.raises(RcaInputError, match="no way to read file format version 1"):
        invf.migrate({"schema_version": 1})


def test_newer_version_is_refused_clearly(tmp_path):
    d = json.loads((FIXTURES / "v1_injection_moulding.rcainv").read_text())
    d["schema_version"] = invf.SCHEMA_VERSION + 1
    p = tmp_path / "future.rcainv"
    p.write_text(json.dumps(d))
    with pytest.raises(RcaInputError) as e:
        invf.load_investigation(p)
    msg = str(e.value)
    assert "newer rca_app" in msg and "Update rca_app" in msg and "future.rcainv" in msg


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid JSON"),
    ('{"kind": "something else"}', "not an rca_app investigation"),
    ('{"kind": "rca_app investigation"}', "schema_version"),
    ('{"kind": "rca_app investigation", "schema_version": "1"}', "schema_version"),
    ('{"kind": "rca_app investigation", "schema_version": 0}', "unknown file format version 0"),
])
def test_damaged_files_are_explained(tmp_path, content, words):
    p = tmp_path / "bad.rcainv"
    p.write_text(content)
    with pytest.raises(RcaInputError, match=words):
        invf.load_investigation(p)


def test_missing_file_is_explained(tmp_path):
    with pytest.raises(RcaInputError, match="file not found"):
        invf.load_investigation(tmp_path / "nope.rcainv")


def test_results_export_as_plain_json(tmp_path):
    import numpy as np

    path = invf.write_json({"x": np.float32(0.5), "rows": np.arange(3), "at": Path("/a")}, tmp_path / "r.json")
    assert json.loads(path.read_text()) == {"x": 0.5, "rows": [0, 1, 2], "at": "/a"}
    with pytest.raises(TypeError, match="cannot store object"):
        invf.to_json(invf.Investigation(notes={"bad": object()}))


def test_without_results_forgets_what_described_other_data(plant, make_investigation):
    inv = make_investigation(plant / "data.csv")
    inv.result_stale = True
    inv.without_results()
    assert inv.result is None and inv.graph is None and inv.graph_edits == [] and not inv.result_stale
    assert inv.notes["team"] and inv.anomaly   # the engineer's own work stays


@pytest.mark.parametrize("name, stem", [("Line 7 / North", "Line_7___North"), ("", "investigation"),
                                        (None, "investigation"), ("***", "investigation")])
def test_safe_file_stem(name, stem):
    assert invf.safe_file_stem(name) == stem


def test_crafted_data_references_are_not_followed(tmp_path):
    """A crafted investigation cannot make the app read a network share, a device, a file
    outside its folder by a relative path, or an absolute file name."""
    from rca_app.app.data_file import DataRef, is_network_path

    inside = tmp_path / "case"
    inside.mkdir()
    secret = tmp_path / "outside.csv"
    secret.write_text("a,b\n1,2\n")
    from rca_app.app.data_file import file_sha256
    sha = file_sha256(secret)
    inv_path = inside / "case.rcainv"
    for ref in (DataRef(path="", sha256=sha, relative_path="../outside.csv"),
                DataRef(path="", sha256=sha, file_name=str(secret)),
                DataRef(path="//fileserver/share/outside.csv", sha256=sha, file_name="outside.csv")):
        check = check_data_file(ref, inv_path)
        assert check.status == "missing" and check.path is None
    unc = check_data_file(DataRef(path="\\\\fileserver\\share\\x.csv", sha256=sha), inv_path)
    assert "network share" in unc.message and "Locate" in unc.message
    assert is_network_path("\\\\host\\share\\x.csv") and is_network_path("//host/share/x.csv")
    assert not is_network_path("/home/engineer/x.csv") and not is_network_path("C:\\data\\x.csv")
    # A device named as the data file is never read (it would never end).
    dev = check_data_file(DataRef(path="/dev/zero", sha256=sha, size_bytes=10), inv_path)
    assert dev.status == "missing"
    # A file of another size is "changed" without reading it.
    big = inside / "data.csv"
    big.write_bytes(b"x" * 1000)
    check = check_data_file(DataRef(path=str(big), sha256=sha, size_bytes=12), inv_path)
    assert check.status == "changed" and "size differs" in check.message


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(data="x"), "data: expected an object"),
    (lambda d: d["data"].update(path=12), "data.path: expected text, found 12"),
    (lambda d: d.update(notes=[]), "notes: expected an object"),
    (lambda d: d.update(step=float("nan")), "step: expected a whole number"),
    (lambda d: d.update(step=99), "step: 99 is outside 0 to 6"),
    (lambda d: d.update(anomaly=["2026-03-14T21:20:00"]), "anomaly: a window is [start, end]"),
    (lambda d: d.update(graph={"nodes": "abc"}), "graph: not a causal graph"),
    (lambda d: d.update(graph_edits=[{"op": "explode", "source": "a", "target": "b"}]), "graph_edits[0]"),
    (lambda d: d.update(surprise=1), "surprise: unknown key"),
    (lambda d: d["data"].update(gaps="guess"), "data.gaps: expected one of 'drop', 'impute'"),
    (lambda d: d["settings"].update(graph_bootstrap=10**12),
     "settings.graph_bootstrap: 1000000000000 is outside 0 to 1000"),
    (lambda d: d["settings"].update(n_folds=1), "settings.n_folds: 1 is outside 2 to 20"),
    (lambda d: d["settings"].update(mechanisms=["linear", "magic"]), "settings.mechanisms[1]: expected one of"),
    (lambda d: d["settings"].update(seed=-3), "settings.seed: -3 is outside"),
])
def test_malformed_investigation_files_are_refused_with_every_problem_named(tmp_path, change, words):
    d = json.loads((FIXTURES / "v1_injection_moulding.rcainv").read_text())
    change(d)
    p = tmp_path / "crafted.rcainv"
    p.write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(RcaInputError) as e:
        invf.load_investigation(p)
    msgs = [str(x) for x in e.value.problems]
    assert any(words in m for m in msgs), msgs
    assert all("crafted.rcainv" in m for m in msgs)


def test_deeply_nested_file_is_refused_not_crashed(tmp_path):
    p = tmp_path / "deep.rcainv"
    p.write_text('{"kind": "rca_app investigation", "schema_version": 1, "notes": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(RcaInputError, match="damaged"):
        invf.load_investigation(p)


@pytest.mark.parametrize("change, words", [
    (lambda r: r["root_causes"][0].update(restoration="most"), "result.root_causes[0].restoration: expected"),
    (lambda r: r["anomaly"].pop("shortfall"), "result.anomaly.shortfall: missing"),
    (lambda r: r.update(schema_version=99), "newer rca_app"),
    (lambda r: r["graph"].update(edges={}), "result.graph.edges: expected"),
])
def test_a_damaged_saved_result_is_refused_naming_the_file(tmp_path, plant, make_investigation, change, words):
    path = invf.save_investigation(make_investigation(plant / "data.csv"), tmp_path / "case.rcainv")
    d = json.loads(path.read_text())
    change(d["result"])
    (tmp_path / "crafted.rcainv").write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(RcaInputError) as e:
        invf.load_investigation(tmp_path / "crafted.rcainv")
    msgs = [str(x) for x in e.value.problems]
    assert any(words in m for m in msgs), msgs
    assert all("crafted.rcainv" in m for m in msgs)


def test_a_saved_result_of_the_first_schema_opens_typed(tmp_path, plant, make_investigation):
    # Results saved before the result had its own version carry none: they are version 1, read
    # through the migrations to the current version.
    path = invf.save_investigation(make_investigation(plant / "data.csv"), tmp_path / "case.rcainv")
    d = json.loads(path.read_text())
    assert "NaN" not in path.read_text()   # strict JSON: an undefined number is null
    del d["result"]["schema_version"]
    path.write_text(json.dumps(d), encoding="utf-8")
    back = invf.load_investigation(path)
    assert isinstance(back.result.root_causes[0], RootCause) and back.result.schema_version == RESULT_SCHEMA_VERSION
    assert back.result.anomaly.start == "2026-03-14T21:20:00"

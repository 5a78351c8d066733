"""rca-app batch: many incidents from one file, one result each plus a summary; a failed incident
is reported and never stops the others; the same results locally and on a Dask cluster."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rca_app.app.batch import read_batch, run_batch
from rca_app.cli import main
from rca_app.core.errors import RcaInputError
from rca_app.core.parallel import ParallelSettings
from rca_app.resources import sample_plants_dir

PLANTS = sample_plants_dir()
FAST = {"graph_bootstrap": 2, "rank_bootstrap": 3}


def _incidents_toml(tmp_path: Path, broken: bool = True) -> Path:
    lines = []
    for plant in ("injection_moulding", "bottling_line"):
        an = json.loads((PLANTS / plant / "truth.json").read_text())["anomaly"]
        lines += ["[[incident]]", f'name = "{plant}"', f'data = "{(PLANTS / plant / "data.csv").as_posix()}"',
                  f'layout = "{(PLANTS / plant / "layout.toml").as_posix()}"',
                  f'anomaly = "{an["start"]}..{an["end"]}"', ""]
    if broken:
        # A window before the data starts: nothing to analyse.
        lines += ["[[incident]]", 'name = "wrong_window"',
                  f'data = "{(PLANTS / "bottling_line" / "data.csv").as_posix()}"',
                  f'layout = "{(PLANTS / "bottling_line" / "layout.toml").as_posix()}"',
                  'anomaly = "1990-01-01T00:00..1990-01-02T00:00"', ""]
    path = tmp_path / "incidents.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.slow
def test_batch_runs_every_incident_and_reports_the_failed_one(tmp_path, capsys):
    inc = _incidents_toml(tmp_path)
    out = tmp_path / "out"
    code = main(["batch", str(inc), "--out", str(out), "--graph-bootstrap", "2", "--rank-bootstrap", "3",
                 "--jobs", "1", "--quiet"])
    text = capsys.readouterr().out
    assert code == 2 and "2 of 3 incidents analysed" in text
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8-sig")))
    status = {r["name"]: r for r in rows}
    assert [r["name"] for r in rows] == ["injection_moulding", "bottling_line", "wrong_window"]
    for plant in ("injection_moulding", "bottling_line"):
        truth = json.loads((PLANTS / plant / "truth.json").read_text())
        assert status[plant]["status"] == "ok"
        assert status[plant]["top_cause"] in truth["root_causes"]
        assert json.loads((out / f"{plant}.json").read_text())["root_causes"][0]["node"] == status[plant]["top_cause"]
    assert status["wrong_window"]["status"] == "failed" and status["wrong_window"]["problems"]
    assert not (out / "wrong_window.json").exists()


def test_bad_incidents_file_names_every_problem(tmp_path):
    p = tmp_path / "incidents.toml"
    p.write_text('[[incident]]\nname = "a"\ndata = "missing.csv"\nlayout = "x.toml"\nanomaly = "nothing"\n'
                 'colour = "red"\n\n[[incident]]\nname = "a b"\n', encoding="utf-8")
    with pytest.raises(RcaInputError) as e:
        read_batch(p)
    msgs = [str(x) for x in e.value.problems]
    assert any("incident 1: unknown key 'colour'" in m for m in msgs)
    assert any("incident 2: 'data' is missing" in m for m in msgs)
    assert all("incidents.toml" in m for m in msgs)


def test_csv_incidents_and_duplicate_names(tmp_path):
    data, layout = PLANTS / "bottling_line" / "data.csv", PLANTS / "bottling_line" / "layout.toml"
    p = tmp_path / "incidents.csv"
    p.write_text(f"name,data,layout,anomaly\nx,{data},{layout},auto\nx,{data},{layout},auto\n", encoding="utf-8")
    with pytest.raises(RcaInputError, match="row 3: the name 'x' is already used by row 2"):
        read_batch(p)
    p.write_text(f"name,data,layout,anomaly,seed\nx,{data},{layout},auto,4\n", encoding="utf-8")
    (spec,) = read_batch(p)
    assert spec.seed == 4 and spec.anomaly == "auto" and spec.data == str(data)


@pytest.mark.slow
def test_same_results_on_a_dask_cluster_as_locally(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    specs = read_batch(_incidents_toml(tmp_path, broken=False))[:1]
    local = run_batch(specs, tmp_path / "local", FAST, ParallelSettings(n_jobs=1))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = run_batch(specs, tmp_path / "cluster", FAST, ParallelSettings(scheduler=cluster.scheduler_address))
    assert [o.status for o in remote] == [o.status for o in local] == ["ok"]

    def stable(path):
        d = json.loads(path.read_text())
        d["diagnostics"].pop("timings")
        return d
    name = f"{specs[0].name}.json"
    assert stable(tmp_path / "cluster" / name) == stable(tmp_path / "local" / name)


@pytest.mark.slow
def test_analyze_on_a_dask_cluster_gives_the_local_result(tmp_path, capsys):
    distributed = pytest.importorskip("dask.distributed")
    plant = PLANTS / "bottling_line"
    an = json.loads((plant / "truth.json").read_text())["anomaly"]
    base = ["analyze", str(plant / "data.csv"), "--layout", str(plant / "layout.toml"),
            "--anomaly", f"{an['start']}..{an['end']}", "--graph-bootstrap", "3", "--rank-bootstrap", "4", "--quiet"]
    assert main([*base, "--jobs", "1", "--json", str(tmp_path / "local.json")]) == 0
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        assert main([*base, "--scheduler", cluster.scheduler_address, "--json", str(tmp_path / "dask.json")]) == 0

    def stable(path):
        d = json.loads(path.read_text())
        d["diagnostics"].pop("timings")
        d["settings"].pop("n_jobs", None)
        d["settings"].pop("scheduler", None)
        return d
    assert stable(tmp_path / "dask.json") == stable(tmp_path / "local.json")


def test_unreachable_scheduler_is_refused_before_the_data_are_read(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    plant = PLANTS / "bottling_line"
    code = main(["analyze", str(plant / "data.csv"), "--layout", str(plant / "layout.toml"), "--anomaly", "auto",
                 "--scheduler", "tcp://127.0.0.1:9", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot use the Dask scheduler at tcp://127.0.0.1:9" in err and "Traceback" not in err


@pytest.mark.parametrize("seed", ["-1", "4.5", "2e3", str(2**32), "x"])
def test_seed_outside_the_settings_bounds_is_refused(tmp_path, seed):
    data, layout = PLANTS / "bottling_line" / "data.csv", PLANTS / "bottling_line" / "layout.toml"
    p = tmp_path / "incidents.csv"
    p.write_text(f"name,data,layout,anomaly,seed\nx,{data},{layout},auto,{seed}\n", encoding="utf-8")
    with pytest.raises(RcaInputError, match=r"row 2.*seed must be a whole number from 0 to 4294967295"):
        read_batch(p)

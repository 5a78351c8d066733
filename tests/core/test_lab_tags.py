"""Lab tags (a sample every many grid rows, held by "last"): links learnt on the sampled rows."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.lab_tags import LAB, compare, lab_plant
from rca_app.core.analysis import run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.dynamics import align_for_time
from rca_app.core.lab_tags import MIN_LAB_SAMPLES, lab_tag_rows
from rca_app.core.layout import load_layout
from rca_app.core.settings import AnalysisSettings
from rca_app.core.windows import resolve_windows

SAMPLES = Path(__file__).resolve().parents[2] / "sample_plants"
# The bench's plant, shorter (1000 reference minutes: 100 lab samples at 10 rows, 33 at 30).
SHORT = {"n_reference": 1000, "n_anomaly": 120}


def _prepared(tmp_path: Path, text: str, layout: str):
    (tmp_path / "data.csv").write_text(text, encoding="utf-8")
    (tmp_path / "layout.toml").write_text(layout, encoding="utf-8")
    return prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))


def test_sampled_rows_are_where_the_sample_was_taken_after_the_alignment(tmp_path):
    text, layout, truth = lab_plant(30, 0, **SHORT)
    data = _prepared(tmp_path, text, layout)
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
    rows = lab_tag_rows(data, timed, timed.reference)[LAB]
    ref = timed.frame.iloc[timed.reference].reset_index(drop=True)
    lab = ref[LAB].to_numpy()
    # Each sampled row is where the held value changes, and holds a sample taken on the half
    # hour (stamped 20 min later): after the separator's shift, on the row of the yield its
    # material became.
    changes = np.flatnonzero(np.diff(lab) != 0) + 1
    assert set(rows[rows > 0]) == set(changes)
    shift = timed.record.shifts[LAB]
    assert shift == 5
    taken = data.time.iloc[rows + timed.reference.start - shift]
    assert (taken.dt.minute % 30 == 0).all() and (taken.dt.second == 0).all()
    assert len(rows) >= (timed.reference.stop - timed.reference.start) // 30 - 1


def test_a_wide_table_has_no_lab_tags(tmp_path):
    data = prepare(load_table(SAMPLES / "chemical_reactor" / "data.csv"),
                   load_layout(SAMPLES / "chemical_reactor" / "layout.toml"))
    assert lab_tag_rows(data, None, slice(0, data.n_rows)) == {}


@pytest.mark.parametrize("every", [10, 30])
def test_the_lab_tags_true_edge_into_the_kpi_is_found(tmp_path, every):
    text, layout, truth = lab_plant(every, 0, effect=True, **SHORT)
    found = compare(tmp_path, text, layout, truth, rank=False)
    assert (LAB, "yield_pct") in found["now"]["edges"]
    assert ("reactor_x", LAB) in found["now"]["edges"]
    # On every grid row (the engine before) the held copies hide the edge into the KPI.
    assert (LAB, "yield_pct") not in found["before"]["edges"]


def test_a_lab_tag_with_no_effect_gets_no_edge_out(tmp_path):
    text, layout, truth = lab_plant(30, 0, effect=False, **SHORT)
    found = compare(tmp_path, text, layout, truth, rank=False)["now"]["edges"]
    assert not [e for e in found if e[0] == LAB]
    assert ("reactor_x", LAB) in found


def test_too_few_samples_give_no_edges_and_say_why(tmp_path):
    # Every 60 rows over 600 reference rows: 10 samples.
    text, layout, truth = lab_plant(60, 1, effect=True, n_reference=600)
    data = _prepared(tmp_path, text, layout)
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
    assert len(lab_tag_rows(data, timed, timed.reference)[LAB]) < MIN_LAB_SAMPLES
    out = run_analysis(data, truth["anomaly"], None, AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0,
                                                                      mechanisms=("linear",), n_jobs=1))
    r = out.result
    assert not [e for e in r.graph.edges if LAB in (e.source, e.target)]
    assert any(m.startswith(f"{LAB}: a lab value held on the grid with only") for m in r.diagnostics.messages)


def test_continuous_sample_plant_purity_reaches_the_kpi():
    folder = SAMPLES / "continuous_reactor"
    data = prepare(load_table(folder / "data.csv"), load_layout(folder / "layout.toml"))
    out = run_analysis(data, ("2026-03-01T16:40:00", "2026-03-01T20:40:00"), None,
                       AnalysisSettings(graph_bootstrap=4, rank_bootstrap=4, n_jobs=1))
    r = out.result
    edges = {(e.source, e.target) for e in r.graph.edges}
    assert ("product_purity_pct", "yield_pct") in edges
    assert r.root_causes[0].node == "feed_impurity_pct"
    note = next(m for m in r.diagnostics.messages if m.startswith("product_purity_pct: a lab value"))
    assert "32 reference rows where it was sampled" in note


def _held(x: np.ndarray, every: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` sampled every ``every`` rows and held until the next sample, and the sampled rows."""
    rows = np.arange(0, len(x), every)
    return np.repeat(x[rows], every)[: len(x)], rows


def test_a_lab_tags_link_within_its_station_is_undetermined_and_uses_only_the_samples():
    from rca_app.core.discovery import DiscoverySettings, discover
    from rca_app.core.layout import parse_layout

    rng = np.random.default_rng(3)
    n, every = 3000, 20
    a = rng.uniform(-1, 1, n)
    lab = 0.8 * a + rng.laplace(0, 0.4, n)
    b = 0.9 * lab + rng.uniform(-0.5, 0.5, n)          # the lab value drives b in the same row
    y = 0.7 * b + rng.laplace(0, 0.5, n)
    held, rows = _held(lab, every)
    frame = pd.DataFrame({"a": a, "lab": held, "b": b, "y": y})
    layout = parse_layout('[plant]\nname = "t"\ntarget = "y"\n\n[[station]]\nname = "S1"\nsensors = ["a"]\n\n'
                          '[[station]]\nname = "S2"\nsensors = ["lab", "b"]\n\n'
                          '[[station]]\nname = "S3"\nsensors = ["y"]\n')
    disc = discover(frame, layout.constraints(), [], DiscoverySettings(n_bootstrap=5, time_series=True, n_jobs=1),
                    lab_rows={"lab": rows})
    edges = {e.key: e for e in disc.graph.edges}
    assert ("a", "lab") in edges and not edges[("a", "lab")].undetermined
    pair = edges.get(("lab", "b")) or edges.get(("b", "lab"))
    assert pair is not None and pair.undetermined
    assert ("b", "y") in edges
    assert disc.causal_order.index("lab") < disc.causal_order.index("y")
    # The held copies between samples are no evidence: scrambling them changes nothing.
    scrambled = frame.copy()
    others = np.setdiff1d(np.arange(n), rows)
    scrambled.loc[others, "lab"] = rng.permutation(scrambled.loc[others, "lab"].to_numpy())
    again = discover(scrambled, layout.constraints(), [], DiscoverySettings(n_bootstrap=0, time_series=True),
                     lab_rows={"lab": rows})
    assert {e.key for e in again.graph.edges if "lab" in e.key} == {k for k in edges if "lab" in k}


def test_a_lab_tag_that_caused_the_incident_is_ranked_now(tmp_path):
    # Before, the lab tag had no path to the KPI and could not be ranked at all. Now it is; its
    # restoration is still understated, as the mechanisms are fitted on every row (held copies).
    text, layout, truth = lab_plant(10, 0, effect=True, lab_cause=True, **SHORT)
    got = compare(tmp_path, text, layout, truth)
    assert got["before"]["cause_rank"] is None
    assert got["now"]["cause_rank"] is not None and got["now"]["cause_restoration"] > 0


def test_a_required_edge_of_a_lab_tag_is_kept_with_full_confidence():
    from rca_app.core.discovery import DiscoverySettings, discover
    from rca_app.core.layout import parse_layout

    rng = np.random.default_rng(5)
    n = 2000
    a = rng.uniform(-1, 1, n)
    c = rng.uniform(-1, 1, n)                            # no relation to the lab value at all
    lab, rows = _held(0.8 * a + rng.laplace(0, 0.4, n), 20)
    y = 0.5 * c + rng.laplace(0, 0.5, n)
    frame = pd.DataFrame({"a": a, "c": c, "lab": lab, "y": y})
    layout = parse_layout('[plant]\nname = "t"\ntarget = "y"\n\n[[station]]\nname = "S1"\nsensors = ["a", "c"]\n\n'
                          '[[station]]\nname = "S2"\nsensors = ["lab"]\n\n[[station]]\nname = "S3"\nsensors = ["y"]\n\n'
                          '[knowledge]\nrequired = [["c", "lab"]]\n')
    disc = discover(frame, layout.constraints(), [], DiscoverySettings(n_bootstrap=4, time_series=True, n_jobs=1),
                    lab_rows={"lab": rows})
    edges = {e.key: e for e in disc.graph.edges}
    assert edges[("c", "lab")].origin == "required" and edges[("c", "lab")].confidence == 1.0
    assert not edges[("c", "lab")].undetermined
    assert ("a", "lab") in edges and ("lab", "y") not in edges

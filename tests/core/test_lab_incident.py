"""Lab values in the incident and between lab tags: the incident's noise read on the samples, a
lab tag -> lab tag link learnt on common samples, and a lab station's residence time added to the
other stations' estimates without estimating them again."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from bench.lab_tags import LAB, PRODUCT_LAG, compare, lab_plant
from rca_app.core.analysis import run_analysis
from rca_app.core.data import load_table, prepare
from rca_app.core.discovery import DiscoverySettings, discover
from rca_app.core.dynamics import align_for_time
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.impact import cause_status, own_noise, shifts_at_change
from rca_app.core.lab_incident import LabIncident, kpi_on_samples, noise_rows
from rca_app.core.lab_lags import realign_for_lab_stations
from rca_app.core.lab_tags import lab_tag_rows, mechanism_rows
from rca_app.core.layout import load_layout
from rca_app.core.layout.constraints import Constraints
from rca_app.core.queries import incident_abduction
from rca_app.core.rootcause import Incident, evidence_for, incident_noise_z, within_noise_warning
from rca_app.core.scm import SCMSettings, StructuralCausalModel
from rca_app.core.settings import AnalysisSettings
from rca_app.core.windows import resolve_windows

SHORT = {"n_reference": 1000, "n_anomaly": 120}


def _prepared(tmp_path: Path, text: str, layout: str):
    (tmp_path / "data.csv").write_text(text, encoding="utf-8")
    (tmp_path / "layout.toml").write_text(layout, encoding="utf-8")
    return prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))


def test_a_lab_stations_residence_time_leaves_the_other_stations_estimates_as_they_were(tmp_path):
    text, layout, truth = lab_plant(10, 0, lab_kpi=True, **SHORT)
    data = _prepared(tmp_path, text, layout)
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
    # Any station estimated a second time would fail here: only the lab station's lag is new.
    with mock.patch("rca_app.core.dynamics.estimate_station_lags", side_effect=AssertionError("estimated again")):
        out = realign_for_lab_stations(data, data.layout, timed, ref_sl, an_sl, 0)
    assert out is not timed
    before = {r.station: r for r in timed.record.lags}
    after = {r.station: r for r in out.record.lags}
    assert before.keys() == after.keys()
    assert all(after[s] == before[s] for s in before if s != "Separator")     # identical records
    assert before["Separator"].lag_steps == 0 and after["Separator"].lag_steps == PRODUCT_LAG
    assert {k: v for k, v in out.record.shifts.items() if k != "yield_pct"} == {
        k: v + PRODUCT_LAG for k, v in timed.record.shifts.items() if k != "yield_pct"} | {
        k: PRODUCT_LAG for k in ("sep_temp", "sep_lab") if k not in timed.record.shifts}


@pytest.fixture(scope="module")
def lab_kpi_outcome(tmp_path_factory):
    """The bench's plant with its yield analysed every 10 minutes; the incident a step in feed_b."""
    text, layout, truth = lab_plant(10, 0, lab_kpi=True, **SHORT)
    data = _prepared(tmp_path_factory.mktemp("labkpi"), text, layout)
    out = run_analysis(data, truth["anomaly"], None, AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1))
    return data, truth, out


def test_a_lab_kpis_incident_noise_is_read_on_its_samples_only(lab_kpi_outcome):
    data, truth, out = lab_kpi_outcome
    incident, scm = out.incident, out.scm
    assert isinstance(incident, LabIncident)
    fresh = incident.incident_samples["yield_pct"]
    n_rows = len(incident.anomaly)
    assert 0 < len(fresh) <= n_rows // 10 + 1                        # one per 10 incident rows
    # Each sampled row is where the held KPI takes a new value.
    kpi = incident.anomaly["yield_pct"].to_numpy()
    assert set(fresh[fresh > 0]) <= set(np.flatnonzero(np.diff(kpi) != 0) + 1)
    # The KPI's own noise: as many incident observations as samples, not as rows.
    ref_rows, an_rows = noise_rows(scm, incident, "yield_pct")
    assert np.array_equal(an_rows, fresh)
    noise = incident_abduction(scm, incident.anomaly).noise["yield_pct"]
    ref_noise = scm.mechanisms_["yield_pct"].ref_noise
    assert scm.mechanisms_["yield_pct"].rows is not None and ref_rows is None   # already on its samples
    z = (noise[fresh].mean() - ref_noise.mean()) / ref_noise.std()
    assert incident_noise_z(scm, incident, "yield_pct") == pytest.approx(z)
    ev = evidence_for(scm, incident, "yield_pct")
    assert ev.anomaly_mean == pytest.approx(kpi[fresh].mean())
    assert ev.noise_sd_ratio == pytest.approx(noise[fresh].std() / ref_noise.std())
    # Read on every row, the copies count: a different figure (what it was).
    z_all = (noise.mean() - ref_noise.mean()) / ref_noise.std()
    assert abs(z_all - z) > 1e-6


def test_the_barely_moved_warning_counts_a_lab_kpis_samples():
    rng = np.random.default_rng(0)
    every, n_ref, n_an = 15, 1500, 300
    y = rng.normal(0, 1, n_ref + n_an)
    y[n_ref:] -= 0.1          # a small loss: 0.47 sds of a mean of its 20 samples, 1.8 of 300 rows
    held = np.repeat(y[::every], every)[: n_ref + n_an]
    frame = pd.DataFrame({"yield_pct": held})
    ref, an = frame.iloc[:n_ref].reset_index(drop=True), frame.iloc[n_ref:].reset_index(drop=True)
    incident = LabIncident("yield_pct", "maximize", ref, an, {"yield_pct": np.arange(0, n_ref, every)},
                           {"yield_pct": np.arange(0, n_an, every)})
    on_samples = kpi_on_samples(incident)
    assert len(on_samples.anomaly) == n_an // every and len(on_samples.reference) == n_ref // every
    note = within_noise_warning(on_samples, serial=True)
    assert note is not None and f"over {n_an // every} rows" in note.text
    # Every row counted (300 observations of 20 results): the same loss looked like a real one.
    assert within_noise_warning(Incident("yield_pct", "maximize", ref, an), serial=False) is None
    # A continuous KPI is read on every row.
    assert kpi_on_samples(Incident("yield_pct", "maximize", ref, an)).anomaly is an


@pytest.mark.parametrize("effect", [True, False])
def test_a_link_between_two_lab_values_is_learnt_on_their_common_samples(tmp_path, effect):
    # Every 15 minutes, the separator's lab (stamped 20 min late, moved 5 min by the alignment)
    # and the yield's analyses fall on the same rows: 66 common samples.
    text, layout, truth = lab_plant(15, 0, effect=effect, lab_kpi=True, **SHORT)
    found = compare(tmp_path, text, layout, truth, rank=False, engines=("now",))["now"]["edges"]
    assert ((LAB, "yield_pct") in found) is effect
    assert ("reactor_x", LAB) in found


def test_two_lab_values_never_sampled_together_get_no_link_and_a_note(tmp_path):
    # Every 10 minutes the aligned samples are 5 rows apart: nothing to learn the link from.
    text, layout, truth = lab_plant(10, 0, lab_kpi=True, **SHORT)
    data = _prepared(tmp_path, text, layout)
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = realign_for_lab_stations(data, data.layout, align_for_time(data, data.layout, ref_sl, an_sl, 0),
                                     ref_sl, an_sl, 0)
    ref = timed.frame.iloc[timed.reference].reset_index(drop=True)
    rows = lab_tag_rows(data, timed, timed.reference)
    assert len(np.intersect1d(rows[LAB], rows["yield_pct"])) == 0
    disc = discover(ref, data.layout.constraints(), [], DiscoverySettings(n_bootstrap=0, time_series=True),
                    lab_rows=rows)
    assert (LAB, "yield_pct") not in disc.graph.edge_keys
    assert any(m.startswith(f"{LAB} and yield_pct: both lab values, sampled together on 0 reference rows")
               for m in disc.messages)


def test_a_lab_link_within_one_station_is_undetermined_and_its_confidence_comes_from_resamples():
    rng = np.random.default_rng(4)
    n, every = 1200, 10
    a = rng.normal(0, 1, n)
    x = rng.normal(0, 1, n)
    b = 0.8 * a + 0.5 * x + rng.normal(0, 0.5, n)
    rows = np.arange(0, n, every)
    held = {k: np.repeat(v[rows], every)[:n] for k, v in (("lab_a", a), ("lab_b", b))}
    frame = pd.DataFrame({"x": x, **held, "y": x + rng.normal(0, 1, n)})
    constraints = Constraints(("x", "lab_a", "lab_b", "y"), {"x": 0, "lab_a": 1, "lab_b": 1, "y": 2},
                              frozenset(), "y")
    disc = discover(frame, constraints, [], DiscoverySettings(n_bootstrap=4, time_series=True, seed=0, n_jobs=1),
                    lab_rows={"lab_a": rows, "lab_b": rows})
    edge = disc.graph.edge("lab_a", "lab_b")
    assert edge is not None and edge.undetermined and edge.confidence >= 0.8
    assert edge.effect == pytest.approx(0.8, abs=0.15)
    assert ("x", "lab_b") in disc.graph.edge_keys and disc.graph.edge("lab_b", "lab_a") is None
    order = disc.causal_order
    assert order.index("lab_a") < order.index("lab_b")


def test_a_changes_shift_of_a_lab_value_counts_its_samples_not_its_copies():
    rng = np.random.default_rng(2)
    every, n = 20, 2400
    lab = rng.normal(0, 1, n)
    lab[1800:] += 0.4                                         # the change at row 1800
    rows = np.arange(0, n, every)
    held = np.repeat(lab[rows], every)[:n]
    frame = pd.DataFrame({"lab": held, "y": held + rng.normal(0, 1, n)})
    g = CausalGraph(("lab", "y"), (Edge("lab", "y"),))
    scm = StructuralCausalModel(g, settings=SCMSettings(mechanisms=("linear",)),
                                fit_rows=mechanism_rows(g, {"lab": rows[rows < 1200]})).fit(frame.iloc[:1200])
    before, after = frame.iloc[1200:1800].reset_index(drop=True), frame.iloc[1800:].reset_index(drop=True)
    samples = ({"lab": np.arange(0, 600, every)}, {"lab": np.arange(0, 600, every)})
    on_samples = {s.node: s for s in shifts_at_change(scm, before, after, samples)}["lab"]
    a, b = after["lab"].to_numpy()[::every], before["lab"].to_numpy()[::every]     # 30 samples each
    block = max(1, round(30 ** (1 / 3)))
    se = np.sqrt(np.var(a) * block / 30 + np.var(b) * block / 30)
    assert on_samples.z == pytest.approx((a.mean() - b.mean()) / se)
    # Every copy counted as an observation: 20 times the rows, a z about 4 times as large.
    every_row = {s.node: s for s in shifts_at_change(scm, before, after)}["lab"]
    assert every_row.z > 2 * on_samples.z
    status = cause_status(scm, [mock.Mock(node="lab", restoration=1.0)], frame.iloc[:1200], before, after,
                          samples=samples)[0]
    ref_noise = scm.mechanisms_["lab"].ref_noise
    noise_after = own_noise(scm, after)["lab"][::every]
    assert status.shift_after_sd == pytest.approx((noise_after.mean() - ref_noise.mean()) / ref_noise.std())
    assert status.spread_ratio_after == pytest.approx(noise_after.std() / ref_noise.std())


def test_a_lab_tags_sampled_rows_are_moved_by_grid_steps_across_holes(monkeypatch):
    """Rows dropped for gaps are holes in the grid: a sample moved forward by its residence time
    lands k grid steps later, not k surviving rows later, and one moved onto a hole has no row."""
    from types import SimpleNamespace

    import rca_app.core.lab_tags as lab_tags

    monkeypatch.setattr(lab_tags, "fresh_rows", lambda data, step: {"lab": np.array([2, 5, 6])})
    # Grid step 4 was dropped: analysis rows 0..8 lie on grid steps 0, 1, 2, 3, 5, 6, 7, 8, 9.
    grid = SimpleNamespace(positions=np.array([0, 1, 2, 3, 5, 6, 7, 8, 9]), consecutive=False)
    timed = SimpleNamespace(step=pd.Timedelta("1min"), grid=grid, record=SimpleNamespace(shifts={"lab": 2}))
    data = SimpleNamespace(time=pd.Series(pd.date_range("2026-01-01", periods=9, freq="1min")))
    rows = lab_tags.lab_tag_rows(data, timed, slice(0, 9))
    # Row 2 (step 2) -> step 4, a hole; row 5 (step 6) -> step 8 = row 7; row 6 (step 7) -> step 9 = row 8.
    assert rows["lab"].tolist() == [7, 8]
    # Without holes the same shift is two rows.
    grid.consecutive = True
    assert lab_tags.lab_tag_rows(data, timed, slice(0, 9))["lab"].tolist() == [4, 7, 8]


def test_a_lab_stations_residence_time_is_counted_in_grid_steps_across_holes(tmp_path):
    """Rows dropped for gaps (a feed tag Bad for whole minutes) are holes in the grid: the lab
    station's residence time, estimated on its samples, is the same number of grid steps (counted
    in surviving rows no lag could be estimated at all)."""
    text, layout, truth = lab_plant(10, 0, lab_kpi=True, **SHORT)
    lines = text.splitlines()
    bad = [lines[0]]
    for line in lines[1:]:
        tag, stamp, value, quality = line.split(",")
        minute = int(stamp[14:16])
        if tag == "feed_a" and minute % 30 < 10:       # ten minutes in every thirty without a good feed_a
            quality = "Bad"
        bad.append(",".join([tag, stamp, value, quality]))
    data = _prepared(tmp_path, "\n".join(bad) + "\n", layout)
    ref_sl, an_sl, _ = resolve_windows(data, truth["anomaly"], None)
    timed = align_for_time(data, data.layout, ref_sl, an_sl, 0)
    assert timed.full is not None                       # the grid has holes (about 30% of it)
    out = realign_for_lab_stations(data, data.layout, timed, ref_sl, an_sl, 0)
    assert out is not timed
    assert {r.station: r.lag_steps for r in out.record.lags}["Separator"] == PRODUCT_LAG

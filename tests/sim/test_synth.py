"""Tests for rca_sim (the ground-truth plant simulator) and the sample plants it writes."""
from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from io import StringIO

import numpy as np
import pandas as pd
import pytest

import rca_sim.plants as S
from tests.paths import ROOT

SAMPLES = ROOT / "sample_plants"


def _load_generator():
    spec = importlib.util.spec_from_file_location("sample_plants_generate",
                                                  SAMPLES / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up while defining
    spec.loader.exec_module(mod)
    return mod


GEN = _load_generator()
CASES = {make().folder: make for make in GEN.CASES}


def small_plant() -> S.PlantSpec:
    """Three stations, one categorical, one nonlinear term: enough to exercise every fault."""
    return S.PlantSpec("Test line", [
        S.Station("In", [
            S.Node("moisture", 0.2, S.Noise("laplace", 0.02), "%", exogenous=True),
            S.Node("supplier", kind="categorical", exogenous=True,
                   levels={"A": 0.7, "B": 0.25, "C": 0.05}),
        ]),
        S.Station("Dryer", [
            S.Node("dryer_temp", 80.0, S.Noise("uniform", 1.0), "°C", exogenous=True,
                   controllable=True),
            S.Node("residual", 0.05, S.Noise("exponential", 0.004), "%",
                   terms=[S.linear("moisture", 0.3), S.linear("dryer_temp", -0.002, pivot=20.0),
                          S.category("supplier", {"A": 0.0, "B": 0.004, "C": 0.02})]),
        ]),
        S.Station("Quality", [
            S.Node("thickness", 2.0, S.Noise("student_t", 0.01, df=7), "mm",
                   terms=[S.linear("residual", -0.5), S.quadratic("dryer_temp", -0.0005, 80.0)]),
            S.Node("yield_pct", 95.0, S.Noise("laplace", 0.2), "%",
                   terms=[S.linear("thickness", 20.0), S.linear("residual", -10.0)]),
        ]),
    ], target="yield_pct")


ALL_FAULTS = {
    "mean_shift": [S.mean_shift("moisture", 0.05)],
    "variance_increase": [S.variance_increase("residual", 3.0)],
    "mechanism_change": [S.mechanism_change("residual", "dryer_temp", -0.0015)],
    "category_switch": [S.category_switch("supplier", "C", 0.9)],
    "two_faults": [S.mean_shift("moisture", 0.03), S.mean_shift("thickness", -0.02)],
}


# ----------------------------------------------------------------------------- engine
def test_same_seed_gives_identical_frame_and_truth():
    spec = small_plant()
    a, ta = S.simulate(spec, 500, 100, ALL_FAULTS["two_faults"], seed=5)
    b, tb = S.simulate(spec, 500, 100, ALL_FAULTS["two_faults"], seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert ta == tb
    c, _ = S.simulate(spec, 500, 100, ALL_FAULTS["two_faults"], seed=6)
    assert not a["yield_pct"].equals(c["yield_pct"])


@pytest.mark.parametrize("kind", sorted(ALL_FAULTS))
def test_faults_act_only_in_anomaly_rows(kind):
    spec = small_plant()
    n_ref = 400
    clean, _ = S.simulate(spec, n_ref, 200, [], seed=3)
    faulty, truth = S.simulate(spec, n_ref, 200, ALL_FAULTS[kind], seed=3)
    pd.testing.assert_frame_equal(clean.iloc[:n_ref], faulty.iloc[:n_ref])
    assert not clean.iloc[n_ref:].equals(faulty.iloc[n_ref:])
    assert truth["fault_types"] == [f.type for f in ALL_FAULTS[kind]]
    assert truth["anomaly"]["start"] == faulty["timestamp"].iloc[n_ref].strftime(S.ISO)


def test_hidden_confounder_is_unobserved_and_shifts_only_in_anomaly():
    spec = small_plant()
    kids = {"moisture": 0.02, "thickness": 0.01}
    base, _ = S.simulate(spec, 400, 200, [S.hidden_confounder("humidity", kids, 0.0)], seed=2)
    df, truth = S.simulate(spec, 400, 200, [S.hidden_confounder("humidity", kids, 2.5)], seed=2)
    assert "humidity" not in df.columns
    assert truth["root_causes"] == ["moisture", "thickness"]
    assert truth["hidden_confounders"] == [{"name": "humidity",
                                            "children": ["moisture", "thickness"]}]
    assert all("humidity" not in e for e in truth["edges"])
    pd.testing.assert_frame_equal(base.iloc[:400], df.iloc[:400])
    # both children move by coef * shift in the anomaly rows
    for k, c in kids.items():
        moved = df[k].iloc[400:].mean() - base[k].iloc[400:].mean()
        assert moved == pytest.approx(c * 2.5, rel=0.35)


def test_mean_shift_moves_node_and_propagates_downstream():
    spec = small_plant()
    clean, _ = S.simulate(spec, 400, 400, [], seed=1)
    df, _ = S.simulate(spec, 400, 400, [S.mean_shift("moisture", 0.05)], seed=1)
    d = (df.iloc[400:].mean(numeric_only=True) - clean.iloc[400:].mean(numeric_only=True))
    assert d["moisture"] == pytest.approx(0.05)
    assert d["residual"] == pytest.approx(0.3 * 0.05)           # linear child
    assert d["dryer_temp"] == 0.0                               # not downstream
    assert d["yield_pct"] < 0


def test_variance_increase_keeps_mean_and_scales_spread():
    spec = small_plant()
    clean, _ = S.simulate(spec, 400, 2000, [], seed=4)
    df, _ = S.simulate(spec, 400, 2000, [S.variance_increase("moisture", 3.0)], seed=4)
    e0 = clean["moisture"].iloc[400:] - 0.2
    e1 = df["moisture"].iloc[400:] - 0.2
    assert np.allclose(e1, 3.0 * e0, atol=1e-9)


def test_category_switch_uses_mostly_the_new_level():
    spec = small_plant()
    df, truth = S.simulate(spec, 1000, 1000, [S.category_switch("supplier", "C", 0.9)], seed=8)
    ref, an = df["supplier"].iloc[:1000], df["supplier"].iloc[1000:]
    assert (ref == "C").mean() < 0.1
    assert (an == "C").mean() > 0.85
    assert truth["root_causes"] == ["supplier"]


def test_noise_families_are_standardised_to_the_requested_sd():
    rng = np.random.default_rng(0)
    for kind in S.NOISE_KINDS:
        z = S._std_noise(S.Noise(kind, mirror=True), rng, 200_000)
        assert abs(z.mean()) < 0.02 and z.std() == pytest.approx(1.0, abs=0.02), kind
    # engineering scale: a 180 °C temperature with sd 2
    spec = small_plant()
    spec.node("dryer_temp").nominal, spec.node("dryer_temp").noise = 180.0, S.Noise("laplace", 2.0)
    df, _ = S.simulate(spec, 20_000, 0, [], seed=0)
    assert df["dryer_temp"].mean() == pytest.approx(180.0, abs=0.05)
    assert df["dryer_temp"].std() == pytest.approx(2.0, rel=0.03)


def test_invalid_specs_are_rejected():
    spec = small_plant()
    spec.node("residual").terms.append(S.linear("thickness", 1.0))     # against the flow
    with pytest.raises(ValueError, match="against the process flow"):
        S.validate_spec(spec)
    spec = small_plant()
    spec.node("dryer_temp").terms.append(S.linear("moisture", 1.0))    # exogenous with parent
    with pytest.raises(ValueError, match="exogenous"):
        S.validate_spec(spec)
    with pytest.raises(ValueError):
        S.simulate(small_plant(), 10, 10, [S.category_switch("supplier", "Z")])


def test_layout_toml_format():
    text = S.write_layout_toml(small_plant())
    doc = tomllib.loads(text)
    assert set(doc) == {"plant", "station", "units"}
    assert doc["plant"] == {"name": "Test line", "target": "yield_pct", "goal": "maximize",
                            "time_column": "timestamp"}
    first, dryer, quality = doc["station"]
    assert first == {"name": "In", "sensors": ["moisture", "supplier"], "exogenous": True,
                     "categorical": ["supplier"]}
    assert dryer == {"name": "Dryer", "sensors": ["dryer_temp", "residual"],
                     "exogenous": ["dryer_temp"], "controllable": ["dryer_temp"]}
    assert quality == {"name": "Quality", "sensors": ["thickness", "yield_pct"]}
    assert doc["units"]["dryer_temp"] == "°C"


# ----------------------------------------------------------------------------- sample plants
def _tiers(layout: dict) -> dict[str, int]:
    return {s: i for i, st in enumerate(layout["station"]) for s in st["sensors"]}


def _exogenous(layout: dict) -> set[str]:
    out = set()
    for st in layout["station"]:
        exo = st.get("exogenous", False)
        out |= set(st["sensors"]) if exo is True else set(exo or [])
    return out


def test_sample_files_equal_what_the_generator_writes(tmp_path):
    written = GEN.generate(tmp_path)
    assert len(written) >= 13
    for path in written:
        committed = SAMPLES / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} missing: run python sample_plants/generate.py"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed.relative_to(ROOT)} is stale: run python sample_plants/generate.py")


@pytest.mark.parametrize("folder", sorted(CASES))
def test_sample_plant_files_are_consistent(folder):
    d = SAMPLES / folder
    layout = tomllib.loads((d / "layout.toml").read_text("utf-8"))
    truth = json.loads((d / "truth.json").read_text("utf-8"))
    df = pd.read_csv(d / "data.csv")
    # truth.json shape
    assert {"edges", "root_causes", "anomaly", "fault_types", "reference"} <= set(truth)
    assert all(isinstance(e, list) and len(e) == 2 for e in truth["edges"])
    assert set(truth["anomaly"]) == set(truth["reference"]) == {"start", "end"}
    assert truth["reference"]["end"] == truth["anomaly"]["start"]
    # data: ISO timestamps, regular 10-minute spacing, columns = layout sensors
    sensors = [s for st in layout["station"] for s in st["sensors"]]
    assert list(df.columns) == [layout["plant"]["time_column"]] + sensors
    ts = pd.to_datetime(df["timestamp"], format=S.ISO)
    assert (ts.diff().dropna() == pd.Timedelta(minutes=10)).all()
    assert ts.iloc[0] == pd.Timestamp("2026-03-01")
    n_anom = int((ts >= pd.Timestamp(truth["anomaly"]["start"])).sum())
    assert 200 <= n_anom <= 400 and 1500 <= len(df) - n_anom <= 3000
    assert pd.Timestamp(truth["anomaly"]["end"]) == ts.iloc[-1] + pd.Timedelta(minutes=10)
    assert 10 <= len(sensors) - 1 <= 40 and 3 <= len(layout["station"]) <= 6
    # edges respect the tiers, never enter an exogenous sensor, never leave the target
    tier, exo, target = _tiers(layout), _exogenous(layout), layout["plant"]["target"]
    for src, dst in truth["edges"]:
        assert tier[src] <= tier[dst] and dst not in exo and src != target, (src, dst)
    for rc in truth["root_causes"]:
        assert rc in S.ancestors(truth["edges"], target)
    assert sum(1 for st in layout["station"] for _ in st.get("controllable", [])) >= 2


def test_sample_layouts_parse_with_the_app_parser():
    layout_mod = pytest.importorskip("rca_app.core.layout")
    for folder in CASES:
        text = (SAMPLES / folder / "layout.toml").read_text("utf-8")
        lay = layout_mod.parse_layout(text, f"{folder}/layout.toml")
        truth = json.loads((SAMPLES / folder / "truth.json").read_text("utf-8"))
        assert lay.constraints().violations([tuple(e) for e in truth["edges"]]) == []


@pytest.mark.parametrize("folder", sorted(CASES))
def test_sample_incident_worsens_target_by_promised_amount(folder):
    d = SAMPLES / folder
    layout = tomllib.loads((d / "layout.toml").read_text("utf-8"))
    truth = json.loads((d / "truth.json").read_text("utf-8"))
    df = pd.read_csv(d / "data.csv")
    target, goal = layout["plant"]["target"], layout["plant"]["goal"]
    anom = df["timestamp"] >= truth["anomaly"]["start"]
    ref_t, an_t = df.loc[~anom, target], df.loc[anom, target]
    worse = (ref_t.mean() - an_t.mean()) * (1 if goal == "maximize" else -1) / ref_t.std()
    assert 1.5 <= worse <= 3.0
    assert worse == pytest.approx(truth["target_drop_sd"], abs=1e-3)


def test_a_downstream_sensor_moves_more_than_the_root_cause():
    case = CASES["injection_moulding"]()
    d = SAMPLES / case.folder
    truth = json.loads((d / "truth.json").read_text("utf-8"))
    df = pd.read_csv(d / "data.csv")
    anom = df["timestamp"] >= truth["anomaly"]["start"]

    def moved(col):
        return abs(df.loc[anom, col].mean() - df.loc[~anom, col].mean()) / df.loc[~anom, col].std()
    root = truth["root_causes"][0]
    assert case.misleading not in (root, case.spec.target)
    assert case.misleading in {dst for _, dst in truth["edges"]} and \
        root in S.ancestors(truth["edges"], case.misleading)
    assert moved(case.misleading) > moved(root) + 1.0
    # ...while the root cause's own anomaly is clear: 1.5-3 sds of its noise
    fault = case.faults[0]
    assert 1.5 <= abs(fault.delta) / case.spec.node(root).noise.sd <= 3.0
    assert moved(root) >= 1.5


def test_bottling_root_cause_is_categorical():
    truth = json.loads((SAMPLES / "bottling_line" / "truth.json").read_text("utf-8"))
    layout = tomllib.loads((SAMPLES / "bottling_line" / "layout.toml").read_text("utf-8"))
    cats = {c for st in layout["station"] for c in st.get("categorical", [])}
    assert truth["root_causes"] == ["bottle_supplier"] and "bottle_supplier" in cats
    assert layout["plant"]["goal"] == "minimize"


@pytest.mark.parametrize("folder", sorted(CASES))
def test_a_setpoint_compensates_the_fault(folder):
    case = CASES[folder]()
    setpoint, change = case.compensation
    assert case.spec.node(setpoint).controllable
    _, truth = S.simulate(case.spec, case.n_reference, case.n_anomaly,
                          case.faults + [S.mean_shift(setpoint, change)], case.seed)
    assert abs(truth["target_drop_sd"]) < 0.5


# ----------------------------------------------------------------------------- random plants
@pytest.mark.parametrize("fault", S.FAULT_TYPES)
def test_random_plants_have_an_ancestral_root_cause_and_a_real_drop(fault):
    for seed in range(30):
        spec, faults = S.random_plant(seed, fault=fault)
        df, truth = S.simulate(spec, 800, 200, faults, seed=1000 + seed)
        tiers = spec.station_index()
        assert all(tiers[a] <= tiers[b] for a, b in truth["edges"])
        anc = S.ancestors(truth["edges"], spec.target)
        assert truth["root_causes"] and set(truth["root_causes"]) <= anc, (fault, seed)
        assert 3 <= len(spec.stations) <= 6
        assert truth["target_drop_sd"] > 1.0, (fault, seed, truth["target_drop_sd"])
        if fault == "two_faults":
            assert len(truth["root_causes"]) == 2
        if fault == "hidden_confounder":
            assert truth["hidden_confounders"] and \
                not set(df.columns) & {h["name"] for h in truth["hidden_confounders"]}


def test_random_plant_is_deterministic_and_sized():
    a = S.random_plant(4, fault="mechanism_change")
    b = S.random_plant(4, fault="mechanism_change")
    assert repr(a) == repr(b)
    for seed in range(10):
        spec, _ = S.random_plant(seed, fault=None)
        sizes = [sum(n.kind == "numeric" for n in st.nodes) for st in spec.stations]
        assert 3 <= len(sizes) <= 6 and all(2 <= k <= 8 for k in sizes)
        assert all(n.exogenous for n in spec.stations[0].nodes)
        S.validate_spec(spec)


def test_random_plant_linear_nongaussian_for_benchmarks():
    spec, faults = S.random_plant(1, n_nodes=100, fault=None, mechanisms="linear",
                                  noise="nongaussian")
    assert faults == [] and len(spec.observed()) == 100
    assert all(t.kind == "linear" for n in spec.nodes() for t in n.terms)
    assert all(n.noise.kind != "gaussian" for n in spec.nodes())
    edges = S.truth_edges(spec)
    non_root = sum(1 for n in spec.nodes() if n.terms)
    assert 1.5 <= len(edges) / non_root <= 2.5
    df, _ = S.simulate(spec, 1000, 0, [], seed=0)
    assert df.shape == (1000, 101) and np.isfinite(df.drop(columns="timestamp").to_numpy()).all()
    gs, _ = S.random_plant(1, n_nodes=25, fault=None, noise="gaussian")
    assert all(n.noise.kind == "gaussian" for n in gs.nodes())


def test_save_plant_roundtrip(tmp_path):
    spec, faults = S.random_plant(2, fault="category_switch")
    df, truth = S.simulate(spec, 300, 100, faults, seed=2)
    S.save_plant(tmp_path / "p", spec, df, truth)
    back = pd.read_csv(StringIO((tmp_path / "p" / "data.csv").read_text("utf-8")))
    assert list(back.columns) == list(df.columns)
    assert json.loads((tmp_path / "p" / "truth.json").read_text("utf-8")) == truth
    assert tomllib.loads((tmp_path / "p" / "layout.toml").read_text("utf-8"))["plant"]["target"] \
        == spec.target

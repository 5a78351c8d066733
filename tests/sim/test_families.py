"""The hidden-cause benchmark families: an unmeasured driver that varies in both periods, acts on
two or three measured ancestors of the KPI, and either shifts (the truth is the unmeasured
cause) or stays steady while a measured sensor has the fault (the truth is that sensor)."""
from __future__ import annotations

from rca_sim import ancestors, simulate, truth_edges
from rca_sim.families import HIDDEN_DRIVERS, family_plant, family_truth
from rca_sim.plants import HiddenConfounder, MeanShift


def test_hidden_cause_plants_are_varied_and_hurt_the_kpi():
    kinds, sizes = set(), set()
    for i in range(3):
        spec, faults, seed = family_plant("hidden_cause", i)
        (h,) = faults
        assert isinstance(h, HiddenConfounder) and h.shift != 0 and h.sd == 1.0
        up = ancestors(truth_edges(spec), spec.target)
        assert 2 <= len(h.children) <= 3 and set(h.children) <= up
        kinds.add(h.noise_kind)
        sizes.add(len(h.children))
        measured, children = family_truth(faults)
        assert measured == [] and children == list(h.children)
        df, truth = simulate(spec, 2000, 300, faults, seed)
        assert truth["target_drop_sd"] >= 1.5 and h.name not in df.columns
    assert kinds <= {k for _, k in HIDDEN_DRIVERS} and len(kinds) >= 2 and sizes == {2, 3}


def test_control_plants_keep_the_driver_steady_and_fault_a_sensor():
    spec, faults, seed = family_plant("hidden_control", 0)
    h, shift = faults
    assert isinstance(h, HiddenConfounder) and h.shift == 0.0 and isinstance(shift, MeanShift)
    assert family_truth(faults) == ([shift.node], [])
    _, truth = simulate(spec, 2000, 300, faults, seed)
    assert truth["target_drop_sd"] >= 1.5


def test_related_faults_strike_both_ends_of_one_real_edge():
    spec, faults, seed = family_plant("related_faults", 0)
    a, b = faults
    assert isinstance(a, MeanShift) and isinstance(b, MeanShift)
    assert [a.node, b.node] in truth_edges(spec)
    assert family_truth(faults) == ([a.node, b.node], [])
    _, truth = simulate(spec, 2000, 300, faults, seed)
    assert abs(truth["target_drop_sd"] - 2.2) < 0.3

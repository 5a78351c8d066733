"""Random plants from the simulator, one per fault type: the engine discovers its own graph and
must name the true root cause (the benchmark runs many more; see `make bench`)."""
import pytest

from rca_app.core.analysis import AnalysisSettings, run_analysis
from rca_sim import FAULT_TYPES, random_plant, simulate


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULT_TYPES)
def test_true_root_cause_on_top(fault, tmp_path):
    from rca_app.core.data import load_table, prepare
    from rca_app.core.layout import load_layout
    from rca_sim import save_plant

    seed = 77 + FAULT_TYPES.index(fault)
    spec, faults = random_plant(seed, fault=fault)
    df, truth = simulate(spec, 1500, 250, faults, seed)
    save_plant(tmp_path, spec, df, truth)
    data = prepare(load_table(tmp_path / "data.csv"), load_layout(tmp_path / "layout.toml"))
    an = truth["anomaly"]
    r = run_analysis(data, (an["start"], an["end"]), None, AnalysisSettings(graph_bootstrap=2, rank_bootstrap=3)).result
    ranked = [c.node for c in r.root_causes]
    top = r.root_causes[0]
    if top.unmeasured:
        # "An unmeasured cause acting on X and Y" (issue #13): only where one is, and acting on
        # at least two of the sensors it drives (truth's root causes for a hidden confounder).
        assert fault == "hidden_confounder", (ranked[:4], truth["root_causes"])
        assert len(set(top.acts_on) & set(truth["root_causes"])) >= 2, (top.acts_on, truth["root_causes"])
    else:
        assert ranked[0] in truth["root_causes"], (ranked[:4], truth["root_causes"])
    if fault == "two_faults":
        assert set(truth["root_causes"]) <= set(ranked[:3]), (ranked[:4], truth["root_causes"])

"""A lab value's incident evidence is read on its samples, each counted once, by the checks that
still read it on every row: the invariance check (scm.pool_invariant_mechanisms), the anomaly
ranking (unit_ranking.rank_by_anomaly), the hidden-cause pair tests (hidden_evidence, through
unmeasured.detect) and the orientation of undetermined edges (ambiguity.choose_orientation).

The plant (tests/core/lab_plant.py): L = 2 P + noise, sampled every 15 rows and held between. In
the incidents here P moves only between L's samples: every sample of L is as its mechanism says,
while the held copies between them pair a stale L with a P that moved, a misfit read on every row
as L's own behaviour."""
from __future__ import annotations

from pathlib import Path

import pytest

from rca_app.core.ambiguity import choose_orientation
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.hidden_evidence import pair_evidence
from rca_app.core.lab_incident import LabIncident
from rca_app.core.lab_tags import mechanism_rows
from rca_app.core.layout import load_layout
from rca_app.core.rootcause import Incident
from rca_app.core.scm import INVARIANCE_MAX_SD_RATIO, SCMSettings, StructuralCausalModel, pool_invariant_mechanisms
from rca_app.core.unit_ranking import rank_by_anomaly
from rca_app.core.unmeasured import detect
from tests.core.lab_plant import lab_plant

LAYOUT = """
[plant]
target = "Y"
goal = "maximize"
[[station]]
name = "Feed"
sensors = ["P", "Q"]
[[station]]
name = "Lab"
sensors = ["L", "M"]
[[station]]
name = "Product"
sensors = ["Y"]
"""
SEEDS = [0, 1, 2, 3]


@pytest.fixture()
def layout(tmp_path):
    (tmp_path / "layout.toml").write_text(LAYOUT, encoding="utf-8")
    return load_layout(Path(tmp_path / "layout.toml"))


def _model(graph, ref, lab_rows=None):
    """Linear mechanisms; with ``lab_rows``, L's and its children's fitted on L's samples (as the
    analysis fits them, core/lab_tags.py)."""
    fit_rows = mechanism_rows(graph, lab_rows) if lab_rows else None
    return StructuralCausalModel(graph, settings=SCMSettings(mechanisms=("linear",)), fit_rows=fit_rows).fit(ref)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_anomaly_ranking_scores_a_lab_value_on_its_samples(layout, seed):
    # Q's own behaviour moved 1.5 sd; L's samples are normal, its held copies swing with P.
    ref, an, ref_rows, an_rows = lab_plant(seed, oscillate=1.5, q_shift=1.5)
    graph = CausalGraph(("P", "Q", "L", "Y"), (Edge("P", "L"), Edge("Q", "Y"), Edge("P", "Y")))
    ref, an = ref[list(graph.nodes)], an[list(graph.nodes)]
    scm = _model(graph, ref, ref_rows)
    ranking, scores = rank_by_anomaly(scm, LabIncident("Y", "maximize", ref, an, ref_rows, an_rows), layout,
                                      ["Q", "L"])
    assert [c.node for c in ranking.root_causes] == ["Q", "L"]
    share_first = {a.node: s for a, s in scores}
    # Row by row, L's score holds from a sample to the next: Q scores highest on most rows.
    assert share_first["Q"] > 0.5 and share_first["Q"] + share_first["L"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_anomaly_ranking_sees_a_lab_value_whose_own_change_the_held_copies_hide(layout, seed):
    # The other way round: L itself changed by +2 (some 7 sds of its own noise), and P rose by 1
    # between its samples, so on the held copies the stale L sits where 2 P now is. Read on every
    # row its change shows on one row in 15 only and Q (1.5 sd) came first.
    ref, an, ref_rows, an_rows = lab_plant(seed, between=1.0, lab_shift=2.0, q_shift=1.5)
    graph = CausalGraph(("P", "Q", "L", "Y"), (Edge("P", "L"), Edge("Q", "Y"), Edge("P", "Y")))
    ref, an = ref[list(graph.nodes)], an[list(graph.nodes)]
    scm = _model(graph, ref, ref_rows)
    ranking, _ = rank_by_anomaly(scm, LabIncident("Y", "maximize", ref, an, ref_rows, an_rows), layout, ["Q", "L"])
    assert [c.node for c in ranking.root_causes] == ["L", "Q"]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_invariance_check_reads_a_lab_values_residuals_on_its_samples(seed):
    # L's mechanism fitted on every row (a simple model, or too few samples for its own rows): it
    # is pooled if it evidently held; the held copies' misfit is no spread of its own.
    ref, an, ref_rows, an_rows = lab_plant(seed, oscillate=1.5)
    graph = CausalGraph(("P", "L"), (Edge("P", "L"),))
    ref, an = ref[["P", "L"]], an[["P", "L"]]
    scm = _model(graph, ref)
    lab = LabIncident("L", "maximize", ref, an, ref_rows, an_rows)
    _, checks = pool_invariant_mechanisms(scm, an, serial=True, lab=lab)
    assert not [c for c in checks if c.node == "L" and c.sd_ratio_reference >= INVARIANCE_MAX_SD_RATIO], checks
    # Read on every row, the held copies' swing is three times L's reference spread.
    _, every_row = pool_invariant_mechanisms(scm, an, serial=True)
    assert [c.node for c in every_row if c.sd_ratio_reference > 3] == ["L"]


@pytest.mark.parametrize("seed", SEEDS)
def test_held_copies_do_not_make_a_lab_value_move_with_a_sensor_that_shares_its_slow_cause(layout, seed):
    # L and M share a slow unmeasured cause; M's own behaviour moved in the incident, L's did not
    # (its samples follow 2 P), but between its samples P was raised, so its held copies read low.
    ref, an, ref_rows, an_rows = lab_plant(seed, between=2.0, m_shift=-4.0, hidden_sd=1.0)
    evidence = pair_evidence(ref, an, {"L": ["P"], "M": []}, ["L", "M"], set(), 0, None, True, (ref_rows, an_rows))
    assert not any(e.moved for e in evidence), evidence
    assert all(e.moved for e in pair_evidence(ref, an, {"L": ["P"], "M": []}, ["L", "M"], set(), 0, None, True))
    # The same through the ranking's detection, which reads the samples off the incident record.
    graph = CausalGraph(("P", "Q", "L", "M", "Y"), (Edge("P", "L"), Edge("L", "Y"), Edge("M", "Y"), Edge("Q", "Y")))
    ref, an = ref[list(graph.nodes)], an[list(graph.nodes)]
    scm = _model(graph, ref, ref_rows)
    hidden, _, _ = detect(scm, LabIncident("Y", "maximize", ref, an, ref_rows, an_rows), (), 0,
                          layout.constraints(), (), True)
    assert not [h for h in hidden if h.moved], hidden
    every_row, _, _ = detect(scm, Incident("Y", "maximize", ref, an), (), 0, layout.constraints(), (), True)
    assert [h.sensors for h in every_row if h.moved] == [["L", "M"]]


@pytest.mark.parametrize("seed", SEEDS)
def test_an_undetermined_edge_is_oriented_on_a_lab_values_samples(layout, seed):
    # M is L's online measurement (L -> M, M on every row); the direction is undetermined. P moves
    # between L's samples only: on the samples neither mechanism of L -> M changed, while on every
    # row L's held copies misfit both and the reverse looks the quieter one.
    ref, an, ref_rows, an_rows = lab_plant(seed, between=2.0, m_follows_lab=True)
    graph = CausalGraph(("P", "Q", "L", "M", "Y"), (Edge("P", "L"), Edge("M", "L", undetermined=True),
                                                      Edge("Q", "Y"), Edge("P", "Y")))
    drawn = choose_orientation(graph, layout.constraints(), ref, an, (ref_rows, an_rows))
    assert ("L", "M") in drawn.edge_keys and ("M", "L") not in drawn.edge_keys
    every_row = choose_orientation(graph, layout.constraints(), ref, an)
    assert ("M", "L") in every_row.edge_keys

"""Our DirectLiNGAM must give lingam's own answer: same causal order, same edges."""
import os

import numpy as np
import pytest

from rca_app.core.lingam_fast import FastDirectLiNGAM, _standardised
from rca_app.core.lingam_search import SearchMemory, choose_next
from rca_sim import tiered_linear_data


def _plant(p, n, n_tiers, seed, nongauss=True):
    return tiered_linear_data(p, n, n_tiers, seed, gaussian=not nongauss)


@pytest.fixture(scope="module")
def lingam():
    os.environ.setdefault("MPLBACKEND", "Agg")
    import lingam

    return lingam


def _assert_same(ours, ref):
    assert ours.causal_order_ == list(ref.causal_order_)
    np.testing.assert_array_equal(ours.adjacency_matrix_ != 0, ref.adjacency_matrix_ != 0)
    np.testing.assert_allclose(ours.adjacency_matrix_, ref.adjacency_matrix_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("p,n,tiers,seed,nongauss", [
    (6, 500, 1, 0, True), (12, 1500, 3, 1, True), (20, 2000, 4, 2, True), (15, 1000, 1, 3, False),
    (16, 1200, 10, 4, True), (18, 1000, 3, 5, False), (14, 800, 2, 6, True),
])
def test_same_order_and_edges_as_lingam(lingam, p, n, tiers, seed, nongauss):
    X, pk = _plant(p, n, tiers, seed, nongauss)
    ref = lingam.DirectLiNGAM(prior_knowledge=pk).fit(X)
    _assert_same(FastDirectLiNGAM(prior_knowledge=pk).fit(X), ref)


def test_threads_give_the_same_answer(lingam):
    # Large enough rows that the entropy blocks are split over the pool.
    X, pk = _plant(10, 6000, 2, 7)
    ref = lingam.DirectLiNGAM(prior_knowledge=pk).fit(X)
    _assert_same(FastDirectLiNGAM(prior_knowledge=pk, n_jobs=2).fit(X), ref)
    _assert_same(FastDirectLiNGAM(prior_knowledge=pk, n_jobs=1).fit(X), ref)


def test_without_prior_knowledge_matches_lingam(lingam):
    X, _ = _plant(8, 800, 1, 5)
    ref = lingam.DirectLiNGAM().fit(X)
    _assert_same(FastDirectLiNGAM().fit(X), ref)


def test_exactly_collinear_sensors_still_give_an_order():
    # A sensor that is exactly another one's multiple: lingam's own choice there is decided by
    # rounding (NaN or garbage entropies of an all-zero residual), so only sanity is checked.
    X, _ = _plant(7, 600, 1, 8)
    X = np.column_stack([X, 3.0 * X[:, 2]])
    with np.errstate(all="ignore"):
        ours = FastDirectLiNGAM(prior_knowledge=-np.ones((8, 8))).fit(X)
    assert sorted(ours.causal_order_) == list(range(8))
    assert np.isfinite(ours.adjacency_matrix_).all()


@pytest.mark.parametrize("seed", range(4))
def test_lazy_search_picks_what_full_scoring_picks(seed):
    """Step by step, the bounded search and the exhaustive one agree (no lingam needed)."""
    X, _ = _plant(16, 1500, 1 + seed % 3, 10 + seed, nongauss=seed != 3)
    R = np.ascontiguousarray(X.T)
    ids = list(range(16))
    mem_lazy, mem_full = SearchMemory.for_sensors(16), SearchMemory.for_sensors(16)
    while len(ids) > 1:
        Z = _standardised(R[ids])
        cand = list(range(len(ids)))
        lazy = choose_next(Z, Z, ids, cand, memory=mem_lazy)
        full = choose_next(Z, Z, ids, cand, memory=mem_full, exhaustive=True)
        assert lazy == full
        m = ids.pop(full)
        xm = R[m] - R[m].mean()
        for i in ids:
            R[i] = R[i] - np.cov(R[i], xm, bias=True)[0, 1] / xm.var() * R[m]
    assert mem_lazy.pairs_evaluated < mem_full.pairs_evaluated


def test_float32_respects_the_tiers_and_mostly_agrees(lingam):
    X, pk = _plant(14, 2000, 4, 9)
    ref = lingam.DirectLiNGAM(prior_knowledge=pk).fit(X)
    ours = FastDirectLiNGAM(prior_knowledge=pk, precision="float32").fit(X)
    later = (pk == 0).sum(axis=1)  # pk[i, j] = 0: j is in a later tier than i
    pos = {s: i for i, s in enumerate(ours.causal_order_)}
    assert all(pos[a] < pos[b] for a in range(14) for b in range(14) if later[a] > later[b])
    agree = (ours.adjacency_matrix_ != 0) == (ref.adjacency_matrix_ != 0)
    assert agree.mean() > 0.95


def test_recovers_true_order_on_nongaussian_chain():
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.uniform(-1, 1, n)
    b = 2 * a + rng.uniform(-1, 1, n)
    c = -1.5 * b + rng.uniform(-1, 1, n)
    X = np.column_stack([c, a, b])  # shuffled columns
    m = FastDirectLiNGAM().fit(X)
    assert m.causal_order_ == [1, 2, 0]
    assert m.adjacency_matrix_[2, 1] == pytest.approx(2, abs=0.1)
    assert m.adjacency_matrix_[0, 2] == pytest.approx(-1.5, abs=0.1)
    assert m.adjacency_matrix_[0, 1] == 0  # no direct a -> c


def test_cancel_stops_the_search():
    from rca_app.core.errors import Cancelled
    from rca_app.core.progress import CancelFlag

    X, pk = _plant(10, 500, 2, 0)
    flag = CancelFlag()
    flag.cancel()
    with pytest.raises(Cancelled):
        FastDirectLiNGAM(prior_knowledge=pk).fit(X, progress=flag)

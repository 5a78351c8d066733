"""Our DirectLiNGAM must give lingam's own answer: same causal order, same edges."""
import os

import numpy as np
import pytest

from rca_app.core.lingam_fast import FastDirectLiNGAM
from rca_sim import tiered_linear_data


def _plant(p, n, n_tiers, seed, nongauss=True):
    return tiered_linear_data(p, n, n_tiers, seed, gaussian=not nongauss)


@pytest.fixture(scope="module")
def lingam():
    os.environ.setdefault("MPLBACKEND", "Agg")
    import lingam

    return lingam


@pytest.mark.parametrize("p,n,tiers,seed,nongauss", [
    (6, 500, 1, 0, True), (12, 1500, 3, 1, True), (20, 2000, 4, 2, True), (15, 1000, 1, 3, False),
])
def test_same_order_and_edges_as_lingam(lingam, p, n, tiers, seed, nongauss):
    X, pk = _plant(p, n, tiers, seed, nongauss)
    ref = lingam.DirectLiNGAM(prior_knowledge=pk).fit(X)
    ours = FastDirectLiNGAM(prior_knowledge=pk).fit(X)
    assert ours.causal_order_ == ref.causal_order_
    np.testing.assert_array_equal(ours.adjacency_matrix_ != 0, ref.adjacency_matrix_ != 0)
    np.testing.assert_allclose(ours.adjacency_matrix_, ref.adjacency_matrix_, rtol=1e-6, atol=1e-9)


def test_without_prior_knowledge_matches_lingam(lingam):
    X, _ = _plant(8, 800, 1, 5)
    ref = lingam.DirectLiNGAM().fit(X)
    ours = FastDirectLiNGAM().fit(X)
    assert ours.causal_order_ == ref.causal_order_
    np.testing.assert_array_equal(ours.adjacency_matrix_ != 0, ref.adjacency_matrix_ != 0)


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

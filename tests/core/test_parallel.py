"""Parallel task runner: same results in any worker count, cancel stops it."""
from __future__ import annotations

import numpy as np
import pytest

from rca_app.core.errors import Cancelled
from rca_app.core.parallel import ParallelSettings, run_tasks, task_seeds
from rca_app.core.progress import CancelFlag


def _draw(seed: int) -> float:
    return float(np.random.default_rng(seed).normal(size=1000).mean())


def test_seeds_are_distinct_and_reproducible():
    a, b = task_seeds(7, 20), task_seeds(7, 20)
    assert a == b and len(set(a)) == 20
    assert task_seeds(7, 5) == a[:5]          # a task's seed does not depend on how many there are
    assert task_seeds(8, 5) != a[:5]


def test_results_identical_in_process_and_in_two_workers():
    seeds = task_seeds(3, 6)
    serial = run_tasks(_draw, seeds, ParallelSettings(n_jobs=1))
    pooled = run_tasks(_draw, seeds, ParallelSettings(n_jobs=2))
    assert serial == pooled == [_draw(s) for s in seeds]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cancel_stops_and_reports_progress(n_jobs):
    flag = CancelFlag()
    flag.cancel()
    with pytest.raises(Cancelled):
        run_tasks(_draw, task_seeds(0, 4), ParallelSettings(n_jobs=n_jobs), flag, "refit")


def test_progress_counts_tasks():
    flag = CancelFlag()
    run_tasks(_draw, task_seeds(0, 3), ParallelSettings(n_jobs=1), flag, "refit")
    assert [m for m, _ in flag.messages] == [f"refit ({i} of 3)" for i in range(4)]
    assert flag.messages[-1][1] == 1.0


def test_prestarted_workers_have_the_engine_imported():
    from rca_app.core.parallel import _import_modules, prestart_workers

    thread = prestart_workers(ParallelSettings(n_jobs=2), ("json",))
    assert thread is not None
    thread.join(timeout=120)
    assert not thread.is_alive()
    # Later tasks run in those processes, not in this one.
    pids = run_tasks(_import_modules, [("json",)] * 2, ParallelSettings(n_jobs=2))
    assert all(p != __import__("os").getpid() for p in pids)
    assert prestart_workers(ParallelSettings(n_jobs=1)) is None

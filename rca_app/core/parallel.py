"""Independent tasks (bootstrap refits, discovery resamples, whole incidents) on every core, or
on a Dask cluster, with the same result whatever runs them.

Determinism comes from the tasks, not from the workers: each task carries its own seed (see
:func:`task_seeds`), and :func:`run_tasks` returns results in task order. One worker, two local
processes or a cluster therefore give identical results for a given seed.

Cancellation is checked each time a result arrives and every tenth of a second while waiting;
the tasks still pending are dropped (the ones running finish in their workers, unobserved).

Frozen (PyInstaller) builds run tasks in threads: a process pool would relaunch the whole
application in each worker (``rca_app.__main__`` sets this up).
"""
from __future__ import annotations

import os
import queue
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.progress import Progress, check_cancel

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ParallelSettings:
    """Where independent tasks run.

    Parameters
    ----------
    n_jobs : int or None
        Local worker processes. ``None``: one per core; ``1``: in this process (no pool).
    scheduler : str or None
        Address of a Dask distributed scheduler (``tcp://host:8786``). When given, tasks run on
        that cluster's workers instead of local processes. Needs the ``cluster`` extra.
    """

    n_jobs: int | None = None
    scheduler: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def task_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent seeds derived from ``seed`` (``SeedSequence.spawn``), one per task.

    Integers rather than ``SeedSequence`` objects so that tasks pickle small and the seeds can be
    written into results."""
    return [int(s.generate_state(1, np.uint32)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def effective_jobs(settings: ParallelSettings | None, n_tasks: int) -> int:
    """Local workers worth starting for ``n_tasks`` tasks (1 means: run in this process)."""
    settings = settings or ParallelSettings()
    if n_tasks <= 1:
        return 1
    n = settings.n_jobs if settings.n_jobs is not None else (os.cpu_count() or 1)
    return max(1, min(int(n), n_tasks))


# What a worker needs for the engine's tasks: importing it is the slow part of a worker's first
# task (seconds on a busy machine, with every progress step waiting for it).
ENGINE_MODULES = ("rca_app.core.discovery", "rca_app.core.scm", "rca_app.core.rootcause",
                  "sklearn.ensemble", "sklearn.linear_model")


def _import_modules(modules: tuple[str, ...]) -> int:
    import importlib

    for m in modules:
        importlib.import_module(m)
    return os.getpid()


def prestart_workers(settings: ParallelSettings | None = None,
                     modules: tuple[str, ...] = ENGINE_MODULES) -> threading.Thread | None:
    """Start the local worker processes and import the engine in them, in the background.

    Call it when an analysis is coming (a data file opened, the analysis started): the start
    then overlaps other work instead of being a long silent first step. Later tasks reuse the
    same processes. Nothing is done for a cluster, one worker, or a frozen build (threads).

    Parameters
    ----------
    settings : ParallelSettings, optional
    modules : tuple of str
        Modules every worker imports.

    Returns
    -------
    threading.Thread or None
        The thread starting them (join it to wait), or None when there is nothing to start.
    """
    settings = settings or ParallelSettings()
    n = effective_jobs(settings, os.cpu_count() or 1)
    if settings.scheduler is not None or getattr(sys, "frozen", False) or n <= 1:
        return None
    def start() -> None:
        try:
            run_tasks(_import_modules, [modules] * n, settings)
        except Exception:  # noqa: BLE001 - only a head start: the real tasks start them anyway
            pass

    thread = threading.Thread(target=start, daemon=True, name="rca-prestart-workers")
    thread.start()
    return thread


_CLIENTS: dict[str, Any] = {}


def dask_client(address: str):
    """A connected ``dask.distributed.Client`` for ``address`` (one per address, reused).

    Raises
    ------
    RcaInputError
        When Dask is not installed or the scheduler cannot be reached (the address is the
        user's to fix, so the CLI exits 2 and the window shows the problem)."""
    client = _CLIENTS.get(address)
    if client is None or client.status not in ("running", "connecting"):
        try:
            from dask.distributed import Client
        except ImportError:
            raise RcaInputError(Problem(
                f"a Dask scheduler ({address}) was given but dask.distributed is not installed: "
                "pip install 'rca-app[cluster]'")) from None
        try:
            client = Client(address, timeout="10s")
        except Exception as e:  # noqa: BLE001 - any connection failure: say where and why
            raise RcaInputError(Problem(
                f"cannot use the Dask scheduler at {address} ({type(e).__name__}: {e}); check the address "
                "and that the scheduler runs, or leave the compute server empty to use this computer")) from None
        _CLIENTS[address] = client
    return client


def run_tasks(fn: Callable[[T], R], tasks: Sequence[T], settings: ParallelSettings | None = None,
              progress: Progress | None = None, message: str = "") -> list[R]:
    """``[fn(t) for t in tasks]``, in parallel where that pays, results in task order.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the workers) of one task.
    tasks : sequence
        Task arguments; each should carry its own seed.
    settings : ParallelSettings, optional
        Local processes (default: one per core) or a Dask scheduler.
    progress : Progress, optional
        Receives ``message`` with the share of tasks done; its cancel flag stops the run
        (:class:`~rca_app.core.errors.Cancelled`).
    message : str
        What the tasks do, for the progress line ("refit 3 of 30" style counts are added).

    Returns
    -------
    list
        ``fn(task)`` for every task, in the order of ``tasks``.
    """
    settings = settings or ParallelSettings()
    n = len(tasks)
    out: list[R] = []

    def report(done: int) -> None:
        check_cancel(progress)
        if progress is not None and message:
            progress.step(f"{message} ({done} of {n})", done / max(1, n))

    if settings.scheduler is None and effective_jobs(settings, n) == 1:
        for i, t in enumerate(tasks):
            report(i)
            out.append(fn(t))
        report(n)
        return out

    from joblib import Parallel, delayed, parallel_config

    if settings.scheduler is not None:
        dask_client(settings.scheduler)
        config = parallel_config(backend="dask")
        n_jobs = -1
    else:
        # Frozen builds: threads (JOBLIB_MULTIPROCESSING=0 is set in __main__), never loky.
        backend = "threading" if getattr(sys, "frozen", False) else "loky"
        config = parallel_config(backend=backend, inner_max_num_threads=1 if backend == "loky" else None)
        n_jobs = effective_jobs(settings, n)
    report(0)

    def start():
        with config:   # joblib's configuration is per thread: enter it in the collecting one
            # Every task handed over at the start (pre_dispatch="all"): with the default, each result
            # makes loky's manager thread submit the next task and wake itself through a pipe, and
            # in a CI run that thread hung for good writing to its own wake-up pipe (py-spy: the
            # manager inside submit, both workers idle, the analysis waiting). The tasks are few
            # (refits, mechanisms, resample groups), so holding them all queued costs little.
            return Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="all")(delayed(fn)(t) for t in tasks)

    # The tasks are started and their results collected by a helper thread, so that this one
    # can check for a cancel every _CANCEL_POLL_S seconds instead of only when a task ends: a
    # worker task (a group of discovery resamples on a large plant, the workers' start on a
    # busy machine) can run for many seconds, and Cancel must act within a second.
    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    collector = threading.Thread(target=_collect, args=(start, results, stop), daemon=True,
                                 name="rca-run-tasks")
    collector.start()
    try:
        while len(out) < n:
            try:
                kind, value = results.get(timeout=_CANCEL_POLL_S)
            except queue.Empty:
                check_cancel(progress)
                continue
            if kind == "error":
                raise value
            out.append(value)
            report(len(out))
    finally:
        # Tasks not yet started are dropped when the collector closes the generator; the ones
        # running finish in their workers, unobserved.
        stop.set()
    return out


_CANCEL_POLL_S = 0.1


def _collect(start: Callable[[], Any], results: queue.Queue, stop: threading.Event) -> None:
    """Start the tasks (``start()`` returns joblib's result generator) and move their results,
    or the first error, into ``results`` until they end or ``stop`` is set."""
    gen = None
    try:
        gen = start()
        for r in gen:
            if stop.is_set():
                break
            results.put(("ok", r))
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
        results.put(("error", exc))
    finally:
        if gen is not None:
            # joblib's warning that tasks still running were dropped says nothing the caller
            # does not know.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*tasks which were still being processed",
                                        category=UserWarning)
                gen.close()

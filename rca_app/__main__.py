"""Entry point for ``python -m rca_app`` and for the frozen (PyInstaller) executable.

Frozen-app pitfalls are handled here, before anything heavy is imported:
``multiprocessing.freeze_support()`` first; windowed builds have ``sys.stdout``/``sys.stderr``
set to None; matplotlib must use Agg; no process pools (a frozen loky worker would relaunch the
whole app), so joblib is told to use threads.
"""
from __future__ import annotations

import os
import sys


def _prepare_process() -> None:
    import multiprocessing

    multiprocessing.freeze_support()
    # Windowed builds have no console: a sink that stays open for the whole process.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    os.environ.setdefault("MPLBACKEND", "Agg")
    if getattr(sys, "frozen", False):
        os.environ.setdefault("JOBLIB_MULTIPROCESSING", "0")
        os.environ.setdefault("LOKY_MAX_CPU_COUNT", "1")


def run(argv: list[str] | None = None) -> int:
    _prepare_process()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--smoke-test":
        from rca_app.smoke import run_and_exit

        run_and_exit(argv[1:])
    from rca_app.cli import main

    return main(argv)


if __name__ == "__main__":
    raise SystemExit(run())

"""Command line: ``rca-app validate``, ``analyze``, ``batch``, ``demo``, ``impact``.

Exit codes: 0 success, 2 bad input (every problem on stderr, no traceback), 130 cancelled,
1 internal error (details written to a log file whose path is printed).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import traceback
from pathlib import Path

from rca_app.app.window_text import incident_window, parse_window
from rca_app.cli_text import format_summary

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


def _window_arg(text: str):
    try:
        return parse_window(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _anomaly_arg(text: str):
    """``--anomaly``: a window START/END, "auto", or one row (ROW, or TIME): a single unit,
    resolved against the data by :func:`rca_app.core.windows.resolve_windows` (one parser with
    batch files: :func:`rca_app.app.window_text.incident_window`)."""
    try:
        return incident_window(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _count(name: str, low: int, high: int):
    """An argparse type: an integer in [low, high], with a message naming the option."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, not '{text}'") from None
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low} and {high}, not {v}")
        return v
    return parse


def _setting_arg(option: str, field_name: str, **kw) -> dict:
    """argparse keywords for an AnalysisSettings field: its default and its bounds, defined once
    in core/settings (a light module, so ``--help`` stays quick)."""
    from rca_app.core.settings import AnalysisSettings

    f = AnalysisSettings.__dataclass_fields__[field_name]
    lo, hi = f.metadata.get("min", 0), f.metadata.get("max", 10**9)
    return {"type": _count(option, lo, hi), "default": f.default, **kw}


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV, Excel (.xlsx) or Parquet file, one row per unit/batch/time window")
    p.add_argument("--layout", required=True, help="plant layout TOML (stations in process-flow order)")
    p.add_argument("--sheet", help="Excel sheet name or 0-based index (default: the first sheet)")
    p.add_argument("--sep", help="CSV field separator (default: detected; ',' or ';')")
    p.add_argument("--decimal", help="CSV decimal mark (default: detected; '.' or ',')")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True, default=None,
                   help="read ambiguous dates as day/month (31.12. style)")
    g.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                   help="read ambiguous dates as month/day (US style)")
    p.add_argument("--gaps", choices=["drop", "impute"], default="drop",
                   help="sensor gaps: drop the row (default) or impute (interpolate in time order)")
    p.add_argument("--format", choices=["auto", "long", "wide"], default="auto",
                   help="table shape: a historian long export (tag, timestamp, value, quality) or one "
                        "column per sensor (default: recognised from the header)")
    p.add_argument("--join", action="append", default=[], metavar="FILE:KEY",
                   help="join the columns of another table (lot properties) by its key column, as "
                        "[[join]] in the layout does; may be repeated")


def build_parser() -> argparse.ArgumentParser:
    from rca_app import __version__

    parser = argparse.ArgumentParser(
        prog="rca-app", description="Find why yield dropped: causal root-cause analysis of a production line.")
    parser.add_argument("--version", action="version", version=f"rca-app {__version__}")
    sub = parser.add_subparsers(dest="command")

    v = sub.add_parser("validate", help="check a data file against a plant layout and summarise it")
    _add_data_args(v)

    a = sub.add_parser("analyze", help="rank the root causes of a KPI drop and propose setpoint actions")
    _add_data_args(a)
    a.add_argument("--anomaly", required=True, type=_anomaly_arg,
                   help="incident window START/END (timestamps, or 0-based rows with END exclusive), 'auto', "
                        "or one row (ROW or TIME: a single bad unit or batch)")
    a.add_argument("--reference", type=_window_arg,
                   help="reference window START/END (default: all rows before the incident)")
    a.add_argument("--json", dest="json_out", help="write the full result as JSON here")
    a.add_argument("--seed", **_setting_arg("--seed", "seed",
                   help="random seed, 0 or more (results are deterministic for a seed)"))
    a.add_argument("--graph-bootstrap", **_setting_arg("--graph-bootstrap", "graph_bootstrap",
                   help="resamples for edge confidence (default %(default)s; 0 for none)"))
    a.add_argument("--rank-bootstrap", **_setting_arg("--rank-bootstrap", "rank_bootstrap",
                   help="refits for restoration intervals (default %(default)s; 0 for none)"))
    a.add_argument("--discovery", choices=["auto", "lingam", "pc", "fci"], default="auto",
                   help="discovery method: auto (default: LiNGAM where the noise is clearly non-Gaussian, the "
                        "constraint-based PC search where not), or force lingam, pc, or fci (PC that also "
                        "marks hidden common causes)")
    a.add_argument("--lingam-engine", choices=["fast", "lingam"], default="fast",
                   help="DirectLiNGAM implementation: ours (default; the same answer, faster) or the lingam package's")
    a.add_argument("--folds", **_setting_arg("--folds", "n_folds",
                   help="cross-fitting folds (default %(default)s)"))
    a.add_argument("--jobs", **_setting_arg("--jobs", "n_jobs"),
                   help="worker processes for resamples and refits (default: one per core; 1: none)")
    a.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="run resamples and refits on this Dask scheduler's workers (needs rca-app[cluster])")
    a.add_argument("--proposals", choices=["strong", "none"], default="strong",
                   help="control loops and recycle streams the data show but the layout does not declare: "
                        "'strong' (default) uses those whose evidence is strong for this run (the layout file is "
                        "not changed) and reports the rest; 'none' only reports them")
    a.add_argument("--quiet", action="store_true", help="no progress lines")
    a.add_argument("--report", metavar="OUT.pdf", help="write the PDF investigation report here")
    a.add_argument("--export-dir", metavar="DIR",
                   help="write ranking.csv, actions.csv, graph_edges.csv and result.json into DIR")
    a.add_argument("--author", help="author named in the report (default: the OS user name)")
    a.add_argument("--notes", metavar="FILE", help="engineer's notes for the report, JSON or text "
                   "(team, containment, corrective action, comments)")

    d = sub.add_parser("demo", help="analyse a bundled sample plant headless and say where the results went")
    d.add_argument("--plant", default=None, help="sample plant folder name (default: injection_moulding)")
    d.add_argument("--out", default=None, help="output folder (default: ./rca_demo_output)")
    d.add_argument("--quiet", action="store_true")
    d.add_argument("--report", metavar="OUT.pdf", help="also write the PDF investigation report here")

    b = sub.add_parser("batch", help="analyse many incidents listed in a TOML or CSV file")
    b.add_argument("incidents", help="TOML ([[incident]] entries) or CSV (name,data,layout,anomaly,reference)")
    b.add_argument("--out", default="rca_batch_output",
                   help="folder for NAME.json (and NAME.pdf) per incident and summary.csv "
                        "(default: ./rca_batch_output)")
    b.add_argument("--report", action="store_true", help="also write a PDF investigation report per incident")
    b.add_argument("--jobs", **_setting_arg("--jobs", "n_jobs"),
                   help="incidents analysed at once on this machine (default: one per core)")
    b.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="run the incidents on this Dask scheduler's workers (needs rca-app[cluster])")
    b.add_argument("--graph-bootstrap", **_setting_arg("--graph-bootstrap", "graph_bootstrap"))
    b.add_argument("--rank-bootstrap", **_setting_arg("--rank-bootstrap", "rank_bootstrap"))
    b.add_argument("--folds", **_setting_arg("--folds", "n_folds"))
    b.add_argument("--quiet", action="store_true", help="no progress lines")

    _add_impact_parser(sub)
    sub.add_parser("gui", help="open the desktop application")
    return parser


def _add_impact_parser(sub) -> None:
    i = sub.add_parser("impact", help="did the fix work? the causal impact of a process change on the KPI")
    _add_data_args(i)
    i.add_argument("--change", required=True, metavar="TIME",
                   help="when the change was made (timestamp, or 0-based row without a time column); "
                        "the rows from TIME to the end of the data are the after-change window")
    what = i.add_mutually_exclusive_group()
    what.add_argument("--node", metavar="N", help="the setpoint that was changed (with --value)")
    what.add_argument("--switch", metavar="N=LEVEL", help="a categorical switch, e.g. resin_supplier=NordPoly")
    i.add_argument("--value", metavar="V", help="the new setpoint value (with --node)")
    i.add_argument("--investigation", metavar="FILE.rcainv",
                   help="use this investigation's windows, graph and ranked causes")
    i.add_argument("--reference", type=_window_arg,
                   help="reference window START/END (default: the investigation's, or worked out from the "
                        "data before the change)")
    i.add_argument("--json", dest="json_out", help="write the full impact result as JSON here")
    i.add_argument("--report", metavar="OUT.pdf",
                   help="write the investigation report with its verification section (D6/D7) here")
    i.add_argument("--seed", **_setting_arg("--seed", "seed"))
    i.add_argument("--rank-bootstrap", **_setting_arg("--rank-bootstrap", "rank_bootstrap",
                   help="refits behind the intervals (default %(default)s)"))
    i.add_argument("--graph-bootstrap", **_setting_arg("--graph-bootstrap", "graph_bootstrap"))
    i.add_argument("--jobs", **_setting_arg("--jobs", "n_jobs"))
    i.add_argument("--quiet", action="store_true", help="no progress lines")


def _load(args):
    from rca_app.core.data import load_table, prepare
    from rca_app.core.layout import load_layout

    layout = load_layout(args.layout)
    sheet = args.sheet
    if sheet is not None and sheet.isdigit():
        sheet = int(sheet)
    raw = load_table(args.data, sheet=sheet, sep=args.sep, decimal=args.decimal)
    if args.join:
        layout = _with_joins(layout, args.join)
    return prepare(raw, layout, dayfirst=args.dayfirst, gaps=args.gaps, format=args.format)


def _with_joins(layout, specs: list[str]):
    """The layout with ``--join FILE:KEY`` tables added (files relative to the working folder)."""
    import dataclasses

    from rca_app.core.errors import Problem, RcaInputError
    from rca_app.core.layout.time_keys import Join

    joins = list(layout.joins)
    for spec in specs:
        file, sep, key = spec.rpartition(":")
        if not sep or not file or not key:
            raise RcaInputError(Problem(f"--join {spec!r}: write FILE:KEY, e.g. lots.csv:lot_id", code="join_option"))
        joins.append(Join(str(Path(file).resolve()), key))
    return dataclasses.replace(layout, joins=joins)


def cmd_validate(args) -> int:
    data = _load(args)
    print(data.summary_text())
    return EXIT_OK


def _write_json_atomic(path: Path, obj) -> None:
    from rca_app.core.fileio import write_json_atomic

    write_json_atomic(path, obj)


def cmd_analyze(args) -> int:
    from rca_app.app.strong_proposals import analyze_with_proposals
    from rca_app.core.analysis import AnalysisSettings
    from rca_app.core.progress import ConsoleProgress

    notes = _report_preflight(args)
    data = _load(args)
    for p in data.problems:
        print(f"warning: {p}", file=sys.stderr)
    settings = AnalysisSettings(seed=args.seed, graph_bootstrap=args.graph_bootstrap,
                                rank_bootstrap=args.rank_bootstrap, n_folds=args.folds,
                                discovery_engine=args.lingam_engine, discovery=args.discovery, n_jobs=args.jobs,
                                scheduler=args.scheduler)
    # Loops and recycles the data show strongly are used, the others reported (app/strong_proposals.py).
    outcome, _, _ = analyze_with_proposals(data, args.anomaly, args.reference, settings,
                                           use=args.proposals == "strong", progress=ConsoleProgress(quiet=args.quiet))
    r = outcome.result
    r.settings["command"] = _analyze_command(args)
    if args.anomaly == "auto":
        print(f"Incident window used (auto): {r.anomaly.start}/{r.anomaly.end}")
    print(format_summary(r))
    if args.json_out:
        _write_json_atomic(Path(args.json_out), r.to_dict())
        print(f"\nResult written to {args.json_out}")
    _write_report_outputs(r, data, args.report, args.export_dir, notes, args.author)
    return EXIT_OK


def cmd_demo(args) -> int:
    from rca_app.app.sample_plants import load_sample_plant
    from rca_app.core.analysis import AnalysisSettings, run_analysis
    from rca_app.core.progress import ConsoleProgress

    _report_preflight(args)
    plant, data = load_sample_plant(args.plant)
    an = plant.anomaly
    print(f"Analysing sample plant '{plant.name}' ({plant.folder}), incident {an[0]} to {an[1]}", flush=True)
    outcome = run_analysis(data, tuple(an), None, AnalysisSettings(),
                           progress=ConsoleProgress(quiet=args.quiet))
    out = Path(args.out or "rca_demo_output")
    _write_json_atomic(out / f"{plant.name}_result.json", outcome.result.to_dict())
    print(format_summary(outcome.result))
    print(f"\nTrue root cause (truth.json): {', '.join(plant.root_causes)}")
    print(f"Results written to {(out / f'{plant.name}_result.json').resolve()}")
    _write_report_outputs(outcome.result, data, getattr(args, "report", None), None, None, None)
    return EXIT_OK


def cmd_batch(args) -> int:
    from rca_app.app.batch import read_batch, run_batch, summary_text
    from rca_app.app.output_paths import Output, check_outputs
    from rca_app.core.errors import Problem, RcaInputError
    from rca_app.core.parallel import ParallelSettings
    from rca_app.core.progress import ConsoleProgress

    specs = read_batch(args.incidents)
    names = [f"{s.name}.json" for s in specs] + [f"{s.name}.pdf" for s in specs if args.report]
    problems = check_outputs([Output("--out", Path(args.out), True, tuple(names + ["summary.csv", "summary.json"]))],
                             [args.incidents] + [s.data for s in specs] + [s.layout for s in specs])
    if args.report:
        from rca_app.report import report_available

        ok, why = report_available()
        if not ok:
            problems.append(Problem(f"--report: {why}"))
    if args.scheduler:
        problems += _scheduler_problems(args.scheduler)
    if problems:
        raise RcaInputError(problems)
    writer = None
    if args.report:
        from rca_app.report import build_report as writer
    settings = {"graph_bootstrap": args.graph_bootstrap, "rank_bootstrap": args.rank_bootstrap, "n_folds": args.folds}
    print(f"Analysing {len(specs)} incidents from {args.incidents}", flush=True)
    outcomes = run_batch(specs, args.out, settings, ParallelSettings(n_jobs=args.jobs, scheduler=args.scheduler),
                         writer, ConsoleProgress(quiet=args.quiet))
    print(summary_text(outcomes))
    print(f"\nResults and summary.csv written to {Path(args.out).resolve()}")
    return EXIT_OK if all(o.status == "ok" for o in outcomes) else EXIT_INPUT


def cmd_impact(args) -> int:
    from rca_app.app.impact_job import change_from_options, load_investigation_for_impact
    from rca_app.app.verify_view import impact_summary_text
    from rca_app.core.impact_run import verify_change
    from rca_app.core.progress import ConsoleProgress
    from rca_app.core.settings import AnalysisSettings

    _report_preflight(args)
    data = _load(args)
    for p in data.problems:
        print(f"warning: {p}", file=sys.stderr)
    change = change_from_options(data, args.change, args.node, args.value, args.switch)
    inv = load_investigation_for_impact(args.investigation, data, args.reference) if args.investigation else None
    settings = AnalysisSettings(seed=args.seed, graph_bootstrap=args.graph_bootstrap,
                                rank_bootstrap=args.rank_bootstrap, n_jobs=args.jobs)
    out = verify_change(data, change, inv.result if inv else None, inv.graph if inv else None, args.reference,
                        analysis_settings=settings, progress=ConsoleProgress(quiet=args.quiet))
    r = out.result
    print(impact_summary_text(r))
    if args.json_out:
        _write_json_atomic(Path(args.json_out), r.to_dict())
        print(f"\nImpact result written to {args.json_out}")
    if args.report:
        from rca_app.core.impact_run import data_before
        from rca_app.report import build_report

        # The investigation's part of the report describes the rows before the change.
        path = build_report(out.analysis.result, data_before(data, r.change.row), args.report, impact=r)
        print(f"Report written to {path.resolve()}")
    return EXIT_OK


def _analyze_command(args) -> str:
    """The shell command that reproduces this analysis, for the report's appendix.

    Rebuilt from the parsed options rather than taken from sys.argv, which belongs to the host
    process when main(argv) is called in-process (GUI, tests); output options are left out."""
    def window(w):
        return w if isinstance(w, str) else f"{w[0] or ''}{'..' if '/' in f'{w[0]}{w[1]}' else '/'}{w[1] or ''}"

    parts = ["rca-app", "analyze", args.data, "--layout", args.layout]
    for flag, value in (("--sheet", args.sheet), ("--sep", args.sep), ("--decimal", args.decimal)):
        if value is not None:
            parts += [flag, str(value)]
    if args.dayfirst is not None:
        parts.append("--dayfirst" if args.dayfirst else "--monthfirst")
    if args.gaps != "drop":
        parts += ["--gaps", args.gaps]
    parts += ["--anomaly", window(args.anomaly)]
    if args.reference is not None:
        parts += ["--reference", window(args.reference)]
    parts += ["--seed", str(args.seed), "--graph-bootstrap", str(args.graph_bootstrap),
              "--rank-bootstrap", str(args.rank_bootstrap), "--folds", str(args.folds)]
    if args.discovery != "auto":
        parts += ["--discovery", args.discovery]
    if args.lingam_engine != "fast":
        parts += ["--lingam-engine", args.lingam_engine]
    if getattr(args, "proposals", "strong") != "strong":
        parts += ["--proposals", args.proposals]
    return shlex.join(parts)


def _report_preflight(args) -> dict | None:
    """Check everything that could fail after a long analysis, before it starts: reportlab
    present, notes file readable, and every output writable, not a folder, not an input."""
    from rca_app.core.errors import Problem, RcaInputError

    notes = None
    if getattr(args, "report", None):
        from rca_app.report import report_available

        ok, why = report_available()
        if not ok:
            raise RcaInputError(Problem(f"--report: {why}"))
    problems = _output_problems(args)
    if getattr(args, "scheduler", None):
        problems += _scheduler_problems(args.scheduler)
    if problems:
        raise RcaInputError(problems)
    if getattr(args, "notes", None):
        from rca_app.report import load_notes

        notes = load_notes(args.notes)
    return notes


def _scheduler_problems(address: str) -> list:
    """Connect to the Dask scheduler now, so that a wrong address fails in seconds, not after
    the data are read."""
    from rca_app.core.errors import RcaInputError
    from rca_app.core.parallel import dask_client

    try:
        dask_client(address)
    except RcaInputError as e:
        return list(e.problems)
    return []


def _output_problems(args) -> list:
    from rca_app.app.output_paths import Output, check_outputs

    outputs = []
    if getattr(args, "json_out", None):
        outputs.append(Output("--json", Path(args.json_out)))
    if getattr(args, "report", None):
        outputs.append(Output("--report", Path(args.report)))
    if getattr(args, "export_dir", None):
        from rca_app.report.exports import EXPORT_FILES

        outputs.append(Output("--export-dir", Path(args.export_dir), is_folder=True,
                              contents=tuple(EXPORT_FILES.values())))
    if getattr(args, "out", None) is not None and getattr(args, "command", None) == "demo":
        outputs.append(Output("--out", Path(args.out), is_folder=True))
    inputs = [getattr(args, k, None) for k in ("data", "layout", "notes", "investigation")]
    return check_outputs(outputs, inputs)


def _write_report_outputs(result, data, report, export_dir, notes, author) -> None:
    if export_dir:
        from rca_app.report import export_tables

        paths = export_tables(result, export_dir)
        print(f"Exports written to {Path(export_dir).resolve()}: {', '.join(p.name for p in paths)}")
    if report:
        from rca_app.report import build_report

        path = build_report(result, data, report, notes=notes, author=author)
        print(f"Report written to {path.resolve()}")


def display_available() -> tuple[bool, str]:
    """Whether a Qt window can be shown here, and why not."""
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        return True, ""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display available (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    import importlib.util

    if importlib.util.find_spec("PySide6") is None:
        return False, "the GUI libraries (PySide6) are not installed"
    if os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM", "").startswith("wayland"):
        from rca_app.app.system_libraries import qt_window_libraries_problem

        why = qt_window_libraries_problem()
        if why:
            return False, why
    return True, ""


def cmd_start(args) -> int:
    """No sub-command: open the desktop app, or fall back to the headless demo."""
    ok, why = display_available()
    if ok:
        try:
            from rca_app.gui import app as gui_app
        except ImportError as e:
            ok, why = False, f"the desktop window cannot start ({e})"
    if ok:
        code = gui_app.main([])
        if code != 2:  # 2: Qt could not open the display (gui.app said why on stderr)
            return code
        why = "the window could not open on this display"
    print(f"{why}: running the headless analysis of a sample plant instead.", file=sys.stderr)
    return cmd_demo(argparse.Namespace(plant=None, out=None, quiet=False, report=None))


def _log_internal_error(exc: BaseException) -> Path:
    """Append the traceback to this user's error log; returns its path (``OSError`` if it
    cannot be written: the caller still shows the error itself)."""
    from rca_app.app.userdirs import log_dir

    path = log_dir() / "rca_app_error.log"
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(traceback.format_exception(exc)))
        f.write("\n")
    return path


def _report_internal_error(exc: BaseException) -> None:
    """Say what went wrong and where the details are; failing to log never hides the error."""
    try:
        where = f"Details were written to {_log_internal_error(exc)}"
    except Exception as log_error:  # noqa: BLE001 - any logging failure: still report the original
        where = f"(the details could not be written to a log file: {log_error})"
    print(f"internal error: {type(exc).__name__}: {exc}\n{where}", file=sys.stderr)


def _stop_on_sigterm() -> None:
    """Treat SIGTERM (a scheduler or service manager stopping us) like Ctrl+C, so atomic writes
    clean up their temporary files and the exit code says "cancelled". Only the main thread may
    install signal handlers; elsewhere (main() called from a worker) nothing changes."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@contextlib.contextmanager
def _quiet_libraries():
    """Library warnings (numpy's divide-by-zero, scikit-learn's convergence notes) never reach
    the engineer's terminal: what matters is said in the result's notes. Worker processes
    inherit the setting through PYTHONWARNINGS."""
    import warnings

    old = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if old is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = old


def main(argv: list[str] | None = None) -> int:
    from rca_app.core.errors import Cancelled, RcaInputError

    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in ("gui", None):
        # The desktop window closes on SIGTERM by Qt's rules; a KeyboardInterrupt raised inside
        # its event loop would only print a traceback.
        _stop_on_sigterm()
    commands = {"validate": cmd_validate, "analyze": cmd_analyze, "demo": cmd_demo, "batch": cmd_batch,
                "impact": cmd_impact, "gui": cmd_start, None: cmd_start}
    try:
        with _quiet_libraries():
            return commands[args.command](args)
    except RcaInputError as e:
        print(f"error: {len(e.problems)} problem(s) with the input:", file=sys.stderr)
        for p in e.problems:
            print(f"  - {p}", file=sys.stderr)
        return EXIT_INPUT
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as e:  # noqa: BLE001 - last line of defence: log, say where, never a raw traceback
        _report_internal_error(e)
        return EXIT_INTERNAL


if __name__ == "__main__":
    # ``python -m rca_app.cli``: the same entry as ``python -m rca_app`` (frozen-app preparation
    # included), so running this module directly is never silent.
    from rca_app.__main__ import run

    raise SystemExit(run())

"""Many investigations in one run: ``rca-app batch INCIDENTS.toml`` (or ``.csv``).

A site reviewing a month of incidents, or every line of a plant, lists them in one file; each
gets its own JSON result (and PDF report when asked) and one summary table ranks what was found.
Incidents run in parallel on local processes or on a Dask cluster (``ParallelSettings``); each
analysis then runs its own refits in one process, so the cores are not split twice. A failed
incident (bad data, no shortfall, an internal error) is reported in the summary and never stops
the others.

The incidents file, TOML::

    [defaults]                       # optional: keys every incident inherits
    layout = "line7.toml"
    seed = 0

    [[incident]]
    name = "line7-march"             # names the output files; unique
    data = "line7_march.csv"         # paths relative to this file's folder
    anomaly = "2026-03-05T06:00/2026-03-05T18:00"    # or "auto", or one row: "4711" or a time
    reference = "..2026-03-04T00:00" # optional (default: every row before the incident)

or CSV with a header row and the same keys as columns (``name,data,layout,anomaly,reference``).

An ``anomaly`` without a window separator is one row, as ``analyze --anomaly ROW|TIME`` takes it:
a 0-based row number when the data have no time column (``"4711"``), else the row at that time
(or the first after it). One bad batch is then ranked per unit.
"""
from __future__ import annotations

import csv
import io
import math
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from rca_app.app.window_text import incident_window, parse_window
from rca_app.core.csv_text import csv_text
from rca_app.core.errors import Cancelled, Problem, RcaInputError
from rca_app.core.parallel import ParallelSettings, run_tasks
from rca_app.core.progress import Progress
from rca_app.core.settings import AnalysisSettings

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


@dataclass(frozen=True)
class IncidentSpec:
    """One investigation of a batch, with paths already resolved.

    Attributes
    ----------
    name : str
        Names the incident's output files.
    data, layout : str
        Paths of the data file and the layout.
    anomaly : str
        Incident window as ``START/END`` text, ``"auto"``, or one row (a row number or a time:
        a single unit).
    reference : str or None
        Reference window (None: every row before the incident).
    sheet : str or None
        Workbook sheet name or number.
    gaps : {"drop", "impute"}
    seed : int
    proposals : {"strong", "none"}
        Loops and recycles the data show with strong evidence used (as ``analyze``), or only reported.
    where : str
        Where it was written, for messages (``"incidents.toml, incident 3"``).
    """

    name: str
    data: str
    layout: str
    anomaly: str
    reference: str | None = None
    sheet: str | None = None
    gaps: str = "drop"
    seed: int = 0
    proposals: str = "strong"            # as `analyze --proposals`: strong loop/recycle proposals used
    where: str = ""                      # "incidents.toml, incident 3" for messages


@dataclass
class IncidentOutcome:
    """What one incident of a batch gave: a summary row.

    Attributes
    ----------
    name : str
    status : {"ok", "failed"}
    top_cause, top_station : str or None
        The highest-ranked root cause and its station.
    top_restoration : float or None
        Its restoration (share of the shortfall it brings back); None for an anomaly ranking.
    ranking : str or None
        How the causes were ranked: "restoration", "unit_restoration" (1-4 incident rows) or
        "anomaly" (a KPI that never varied in the reference period).
    top_anomaly_score : float or None
        The top cause's anomaly score (an anomaly ranking only).
    shortfall : float or None
        KPI reference mean minus incident mean, positive = the bad way.
    incident_rows : int or None
    seconds : float
        Wall time of the analysis.
    json_path, report_path : str or None
        Outputs written.
    problems : list of str
        Why it failed, or warnings.
    """

    name: str
    status: str                          # ok | failed
    top_cause: str | None = None
    top_station: str | None = None
    top_restoration: float | None = None
    ranking: str | None = None
    top_anomaly_score: float | None = None
    shortfall: float | None = None
    incident_rows: int | None = None
    seconds: float = 0.0
    json_path: str | None = None
    report_path: str | None = None
    problems: list[str] = field(default_factory=list)


_KEYS = {f.name for f in fields(IncidentSpec)} - {"where"}
_REQUIRED = ("name", "data", "layout", "anomaly")


def read_batch(path: str | Path) -> list[IncidentSpec]:
    """Read and check an incidents file (TOML or CSV); every problem is reported at once.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (one incident per row) or TOML (one ``[[incident]]`` table each, with defaults).

    Returns
    -------
    list of IncidentSpec
        In file order.

    Raises
    ------
    RcaInputError
        Naming the file, the incident (entry number or CSV row) and the key for each problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise RcaInputError(Problem("the incidents file is not UTF-8 text", file=path.name)) from None
    if path.suffix.lower() == ".csv":
        entries = [(f"row {i}", {k.strip(): (v or "").strip() for k, v in row.items() if k})
                   for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2)]
        defaults: dict = {}
    else:
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise RcaInputError(Problem(f"not valid TOML: {e}", file=path.name)) from None
        defaults = doc.get("defaults", {})
        unknown = sorted(set(doc) - {"defaults", "incident"})
        problems = [Problem(f"unknown section [{k}] (expected [defaults] and [[incident]])", file=path.name)
                    for k in unknown]
        if problems:
            raise RcaInputError(problems)
        entries = [(f"incident {i}", e) for i, e in enumerate(doc.get("incident", []), start=1)]
    if not entries:
        raise RcaInputError(Problem("no incidents listed ([[incident]] entries or CSV rows)", file=path.name))
    problems: list[Problem] = []
    specs: list[IncidentSpec] = []
    seen: dict[str, str] = {}
    for where, entry in entries:
        spec = _spec(path, where, {**defaults, **{k: v for k, v in entry.items() if v != ""}}, problems)
        if spec is None:
            continue
        if spec.name in seen:
            problems.append(Problem(f"{where}: the name '{spec.name}' is already used by {seen[spec.name]}",
                                    file=path.name, column="name"))
            continue
        seen[spec.name] = where
        specs.append(spec)
    if problems:
        raise RcaInputError(problems)
    return specs


def _spec(path: Path, where: str, entry: dict, problems: list[Problem]) -> IncidentSpec | None:
    n_before = len(problems)

    def bad(key: str, msg: str) -> None:
        problems.append(Problem(f"{where}: {msg}", file=path.name, column=key))

    for k in sorted(set(entry) - _KEYS):
        bad(k, f"unknown key '{k}' (known: {', '.join(sorted(_KEYS))})")
    for k in _REQUIRED:
        if k not in entry:
            bad(k, f"'{k}' is missing")
    if len(problems) > n_before:
        return None
    name = str(entry["name"])
    if not name or set(name) - _NAME_CHARS or name.startswith("."):
        bad("name", f"'{name}' cannot name output files: use letters, digits, '-', '_' and '.'")
    resolved = {}
    for k in ("data", "layout"):
        p = Path(str(entry[k]))
        p = p if p.is_absolute() else path.parent / p
        if not p.is_file():
            bad(k, f"{k} file {p} does not exist")
        resolved[k] = str(p)
    for k, parse in (("anomaly", incident_window), ("reference", parse_window)):
        if k in entry:
            try:
                parse(str(entry[k]))
            except ValueError as e:
                bad(k, str(e))
    seed = entry.get("seed", 0)
    # The same bounds as the command line and the investigation file: one place, the settings.
    seed_bounds = AnalysisSettings.__dataclass_fields__["seed"].metadata
    try:
        if isinstance(seed, bool) or str(seed).strip() != str(int(seed)):
            raise ValueError
        seed = int(seed)
        if not seed_bounds["min"] <= seed <= seed_bounds["max"]:
            raise ValueError
    except (TypeError, ValueError):
        bad("seed", f"seed must be a whole number from {seed_bounds['min']} to {seed_bounds['max']}, not '{seed}'")
    gaps = str(entry.get("gaps", "drop"))
    if gaps not in ("drop", "impute"):
        bad("gaps", f"gaps must be 'drop' or 'impute', not '{gaps}'")
    proposals = str(entry.get("proposals", "strong"))
    if proposals not in ("strong", "none"):
        bad("proposals", f"proposals must be 'strong' or 'none', not '{proposals}'")
    if len(problems) > n_before:
        return None
    return IncidentSpec(name=name, data=resolved["data"], layout=resolved["layout"], anomaly=str(entry["anomaly"]),
                        reference=str(entry["reference"]) if "reference" in entry else None,
                        sheet=str(entry["sheet"]) if "sheet" in entry else None, gaps=gaps, seed=seed,
                        proposals=proposals, where=f"{path.name}, {where}")


@dataclass(frozen=True)
class _Task:
    spec: IncidentSpec
    out_dir: str
    settings: dict
    report_writer: Callable | None


def run_incident(task: _Task) -> IncidentOutcome:
    """Analyse one incident and write its outputs; every failure becomes a failed outcome.

    Module-level so process pools and Dask workers can run it.

    Parameters
    ----------
    task : _Task
        The incident, the output folder, the analysis settings and the report writer (or None).

    Returns
    -------
    IncidentOutcome
        ``status`` "ok" with the top cause and output paths, or "failed" with the problems.
    """
    from rca_app.app.strong_proposals import analyze_with_proposals
    from rca_app.core.data import load_table, prepare
    from rca_app.core.fileio import write_json_atomic
    from rca_app.core.layout import load_layout

    spec = task.spec
    t0 = time.perf_counter()
    out = IncidentOutcome(spec.name, "failed")
    try:
        layout = load_layout(spec.layout)
        sheet = int(spec.sheet) if spec.sheet is not None and spec.sheet.isdigit() else spec.sheet
        data = prepare(load_table(spec.data, sheet=sheet), layout, gaps=spec.gaps)
        reference = parse_window(spec.reference) if spec.reference else None
        # The incidents are the parallel tasks: each analysis runs its own refits in one process.
        settings = AnalysisSettings.from_dict({**task.settings, "seed": spec.seed, "n_jobs": 1, "scheduler": None})
        # As `analyze`: loops and recycles the data show strongly are used, and said (app/strong_proposals.py).
        outcome, _, _ = analyze_with_proposals(data, incident_window(spec.anomaly), reference, settings,
                                               use=spec.proposals == "strong")
        r = outcome.result
        json_path = Path(task.out_dir) / f"{spec.name}.json"
        write_json_atomic(json_path, r.to_dict())
        out.json_path = str(json_path)
        top = r.root_causes[0] if r.root_causes else None
        basis = r.ranking_basis
        out.ranking = basis.method if basis is not None else "restoration"
        if top is not None:
            out.top_cause, out.top_station = top.node, top.station
            # An anomaly ranking has no restoration (NaN): its score is reported instead.
            out.top_restoration = top.restoration if math.isfinite(top.restoration) else None
        if basis is not None and basis.anomaly_scores:
            out.top_anomaly_score = basis.anomaly_scores[0].score
        out.shortfall = r.anomaly.shortfall
        out.incident_rows = r.anomaly.n_rows
        if task.report_writer is not None:
            pdf = Path(task.out_dir) / f"{spec.name}.pdf"
            task.report_writer(r, data, pdf)
            out.report_path = str(pdf)
        out.status = "ok"
    except RcaInputError as e:
        out.problems = [str(p) for p in e.problems]
    except Cancelled:
        raise
    except Exception as e:  # noqa: BLE001 - one incident's failure must not stop the batch
        out.problems = [f"internal error: {type(e).__name__}: {e}"]
    out.seconds = time.perf_counter() - t0
    return out


def run_batch(specs: list[IncidentSpec], out_dir: str | Path, settings: dict | None = None,
              parallel: ParallelSettings | None = None, report_writer: Callable | None = None,
              progress: Progress | None = None) -> list[IncidentOutcome]:
    """Run every incident and write ``summary.csv`` and ``summary.json`` into ``out_dir``.

    Parameters
    ----------
    specs : list of IncidentSpec
        From :func:`read_batch`.
    out_dir : path
        Where each incident's ``NAME.json`` (and ``NAME.pdf``) and the summary go.
    settings : dict, optional
        Analysis settings (``AnalysisSettings`` fields) shared by every incident; each
        incident's own seed wins.
    parallel : ParallelSettings, optional
        Local processes (default: one per core) or a Dask scheduler; incidents are the tasks.
    report_writer : callable, optional
        ``report_writer(result, data, pdf_path)``: writes a PDF per incident (the CLI passes the
        report package's builder; this layer never imports it).
    progress : Progress, optional

    Returns
    -------
    list of IncidentOutcome
        In the order of ``specs``.
    """
    from rca_app.core.fileio import write_json_atomic, write_text_atomic

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = [_Task(s, str(out), dict(settings or {}), report_writer) for s in specs]
    outcomes = run_tasks(run_incident, tasks, parallel, progress, "incidents analysed")
    write_text_atomic(out / "summary.csv", summary_csv(outcomes), encoding="utf-8-sig")
    write_json_atomic(out / "summary.json", [asdict(o) for o in outcomes])
    return outcomes


_SUMMARY_COLUMNS = ("name", "status", "top_cause", "top_station", "top_restoration", "ranking",
                    "top_anomaly_score", "shortfall", "incident_rows", "seconds", "json_path", "report_path",
                    "problems")


def summary_csv(outcomes: list[IncidentOutcome]) -> str:
    """The summary table as CSV (one row per incident, problems joined by " | ").

    Parameters
    ----------
    outcomes : list of IncidentOutcome

    Returns
    -------
    str
        Formula-safe CSV text (see :func:`rca_app.core.csv_text.csv_text`).
    """
    rows = []
    for o in outcomes:
        d = asdict(o)
        d["problems"] = " | ".join(o.problems)
        d["seconds"] = f"{o.seconds:.1f}"
        if o.top_restoration is not None:
            d["top_restoration"] = f"{o.top_restoration:.4f}"
        if o.top_anomaly_score is not None:
            d["top_anomaly_score"] = f"{o.top_anomaly_score:.3f}"
        rows.append([d[c] for c in _SUMMARY_COLUMNS])
    return csv_text(_SUMMARY_COLUMNS, rows, lineterminator="\n")


def summary_text(outcomes: list[IncidentOutcome]) -> str:
    """A short table for the terminal: status, top cause and its restoration per incident.

    Parameters
    ----------
    outcomes : list of IncidentOutcome

    Returns
    -------
    str
    """
    ok = sum(o.status == "ok" for o in outcomes)
    lines = [f"{ok} of {len(outcomes)} incidents analysed", "",
             f"  {'incident':<28} {'status':<7} {'top cause':<28} {'restoration':>11}  time"]
    for o in outcomes:
        rest = f"{100 * o.top_restoration:.0f}%" if o.top_restoration is not None else ""
        if o.top_anomaly_score is not None:
            rest = f"score {o.top_anomaly_score:.1f}"     # an anomaly ranking: nothing restored
        lines.append(f"  {o.name:<28} {o.status:<7} {o.top_cause or '':<28} {rest:>11}  {o.seconds:5.1f} s")
        for p in o.problems[:3]:
            lines.append(f"      {p}")
    return "\n".join(lines)

"""A whole investigation as a file, and the small pure computations the desktop window shows.

Investigation files are versioned JSON (``schema_version``). Older versions are migrated step by
step on load (``_MIGRATIONS``); a file from a newer app is refused with a plain explanation. The
data itself is not copied into the file: its path and SHA-256 are, so a moved or edited data file
is detected and explained instead of silently analysed.

Everything here is free of Qt so it can be tested without a display; the GUI only draws.
"""
from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.fileio import write_text_atomic
from rca_app.core.graph import CausalGraph
from rca_app.core.layout import Layout, Station

SCHEMA_VERSION = 1
FILE_KIND = "rca_app investigation"
FILE_SUFFIX = ".rcainv"
RECOVERY_NAME = "recovery" + FILE_SUFFIX

# Graph edits the editor offers (each is validated by CausalGraph against the layout's tiers).
EDIT_OPS = ("add", "remove", "reverse", "force")


# =============================================================================================
# Atomic writes
# =============================================================================================
def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the new content, never half
    (the project's one atomic-write helper, with Unix line endings on every platform)."""
    write_text_atomic(path, text, newline="\n")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# =============================================================================================
# The investigation file
# =============================================================================================
@dataclass
class DataRef:
    """Which data file an investigation used, and how it was read."""

    path: str                       # absolute path when saved
    sha256: str
    file_name: str = ""
    size_bytes: int | None = None
    relative_path: str | None = None  # from the investigation file's folder (survives moving both)
    sheet: str | int | None = None
    sep: str | None = None
    decimal: str | None = None
    dayfirst: bool | None = None
    gaps: str = "drop"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DataRef":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class Investigation:
    """Everything needed to reopen an investigation where it was left."""

    data: DataRef | None = None
    layout_toml: str | None = None
    layout_source: str = "layout.toml"
    reference: list | None = None     # [start, end] in the user's terms (ISO time or row position)
    anomaly: list | None = None
    graph: dict | None = None         # the current (possibly edited) graph, CausalGraph.to_dict()
    graph_edits: list[dict] = field(default_factory=list)  # {"op", "source", "target"} in order
    settings: dict = field(default_factory=dict)           # AnalysisSettings.to_dict()
    result: dict | None = None        # AnalysisResult.to_dict()
    result_stale: bool = False        # inputs changed after the result was computed
    notes: dict = field(default_factory=dict)              # report notes: free text by field
    step: int = 0                     # the step the engineer was on
    saved_at: str | None = None
    software: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data"] = self.data.to_dict() if self.data else None
        return {"schema_version": SCHEMA_VERSION, "kind": FILE_KIND, **d}

    @classmethod
    def from_dict(cls, d: dict) -> "Investigation":
        d = dict(d)
        data = d.pop("data", None)
        inv = cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})
        inv.data = DataRef.from_dict(data) if data else None
        return inv


def _json_default(o: Any):
    # Results hold numpy scalars and tuples in places; JSON needs plain numbers and lists.
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (pd.Timestamp, _dt.datetime, _dt.date)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot store {type(o).__name__} in an investigation file")


def investigation_json(inv: Investigation) -> str:
    return json.dumps(inv.to_dict(), indent=1, default=_json_default, allow_nan=True) + "\n"


def save_investigation(inv: Investigation, path: str | Path) -> Path:
    """Atomically write ``inv`` to ``path``; the data path is also stored relative to it."""
    import rca_app

    path = Path(path)
    inv = copy.deepcopy(inv)
    inv.saved_at = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    inv.software = {"name": "rca_app", "version": rca_app.__version__}
    if inv.data is not None and inv.data.path:
        try:
            inv.data.relative_path = os.path.relpath(inv.data.path, path.resolve().parent)
        except ValueError:   # another drive on Windows: no relative path exists
            inv.data.relative_path = None
    atomic_write_text(path, investigation_json(inv))
    return path


# version -> function upgrading a dict of that version to the next one.
_MIGRATIONS: dict = {}


def migrate(d: dict, source: str = "investigation") -> dict:
    """Bring an investigation dict of any known version up to :data:`SCHEMA_VERSION`."""
    version = d.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise RcaInputError(Problem(
            "this file has no valid 'schema_version', so it is not an rca_app investigation "
            "(or it is damaged)", file=source, code="not_investigation"))
    if version > SCHEMA_VERSION:
        raise RcaInputError(Problem(
            f"this investigation was saved by a newer rca_app (file format version {version}); "
            f"this version reads formats up to {SCHEMA_VERSION}. Update rca_app to open it.",
            file=source, code="newer_schema"))
    if version < 1:
        raise RcaInputError(Problem(f"unknown file format version {version}", file=source,
                                    code="bad_schema"))
    while version < SCHEMA_VERSION:
        d = _MIGRATIONS[version](d)
        version = d["schema_version"]
    return d


def load_investigation(path: str | Path) -> Investigation:
    """Read an investigation file, migrating older versions; RcaInputError says what is wrong."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RcaInputError(Problem(f"file not found: {path}", file=name, code="not_found")) from None
    except (OSError, UnicodeDecodeError) as e:
        why = getattr(e, "strerror", None) or str(e)
        raise RcaInputError(Problem(f"cannot read the investigation file: {why}", file=name,
                                    code="unreadable")) from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise RcaInputError(Problem(
            f"the investigation file is damaged (not valid JSON at line {e.lineno}, column {e.colno})",
            file=name, code="bad_json")) from None
    if not isinstance(d, dict) or d.get("kind") != FILE_KIND:
        raise RcaInputError(Problem("this is not an rca_app investigation file", file=name,
                                    code="not_investigation"))
    d = migrate(d, name)
    try:
        return Investigation.from_dict(d)
    except (TypeError, ValueError) as e:
        raise RcaInputError(Problem(f"the investigation file is damaged ({e})", file=name,
                                    code="bad_content")) from None


# =============================================================================================
# Finding the data file again
# =============================================================================================
@dataclass
class DataFileCheck:
    """Whether an investigation's data file is still there and unchanged.

    ``status``: "ok" (found, same content), "moved" (found elsewhere with the same content: use
    ``path``), "changed" (a file is there but its content differs), "missing" (not found)."""

    status: str
    path: Path | None
    message: str
    expected_sha256: str = ""
    actual_sha256: str | None = None

    @property
    def usable(self) -> bool:
        return self.status in ("ok", "moved")


def check_data_file(ref: DataRef, investigation_path: str | Path | None = None,
                    candidate: str | Path | None = None) -> DataFileCheck:
    """Look for the data file at its saved path, then next to the investigation file.

    ``candidate``: a file the engineer pointed to instead (after "Locate file..."); it is
    accepted only if its content is the one the investigation used."""
    expected = ref.sha256
    short = expected[:12]
    places: list[Path] = []
    if candidate is not None:
        places.append(Path(candidate))
    else:
        places.append(Path(ref.path))
        if investigation_path is not None:
            folder = Path(investigation_path).resolve().parent
            if ref.relative_path:
                places.append(folder / ref.relative_path)
            if ref.file_name:
                places.append(folder / ref.file_name)
    changed: tuple[Path, str] | None = None
    for i, p in enumerate(dict.fromkeys(places)):
        if not p.is_file():
            continue
        try:
            actual = file_sha256(p)
        except OSError:
            continue
        if actual == expected:
            if i == 0 and candidate is None:
                return DataFileCheck("ok", p, "", expected, actual)
            return DataFileCheck("moved", p, (
                f"The data file was found at {p} (its content is identical to the one the "
                f"investigation used, SHA-256 {short}...)."), expected, actual)
        changed = changed or (p, actual)
    if changed is not None:
        p, actual = changed
        return DataFileCheck("changed", p, (
            f"The data file {p} has changed since this investigation was saved: its content "
            f"fingerprint (SHA-256) was {short}... and is now {actual[:12]}... Rows may have been "
            "added, removed or edited, so the saved windows and results may no longer match it. "
            "Locate the original file, or use the changed file and run the analysis again."),
            expected, actual)
    where = f"{ref.path}" + (" or next to the investigation file" if investigation_path else "")
    return DataFileCheck("missing", None, (
        f"The data file '{ref.file_name or Path(ref.path).name}' was not found at {where}. It "
        "may have been moved, renamed or deleted. Locate it to continue."), expected, None)


# =============================================================================================
# Crash recovery (autosave)
# =============================================================================================
def recovery_file(folder: str | Path) -> Path:
    return Path(folder) / RECOVERY_NAME


def write_recovery(inv: Investigation, folder: str | Path, original: str | Path | None = None) -> Path:
    """Autosave: the investigation plus where it was last saved by the engineer (if anywhere)."""
    inv = copy.deepcopy(inv)
    inv.notes = dict(inv.notes)
    inv.notes["_recovery_of"] = str(original) if original else ""
    path = recovery_file(folder)
    inv.saved_at = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    atomic_write_text(path, investigation_json(inv))
    return path


def read_recovery(folder: str | Path) -> tuple[Investigation, str | None] | None:
    """The autosaved investigation left by a crash, and its original path; None if none (or
    unreadable, in which case it is useless and removed)."""
    path = recovery_file(folder)
    if not path.is_file():
        return None
    try:
        inv = load_investigation(path)
    except RcaInputError:
        discard_recovery(folder)
        return None
    original = inv.notes.pop("_recovery_of", "") or None
    return inv, original


def discard_recovery(folder: str | Path) -> None:
    try:
        recovery_file(folder).unlink()
    except FileNotFoundError:
        pass


# =============================================================================================
# Windows on the KPI chart
# =============================================================================================
def axis_values(data) -> np.ndarray:
    """The chart's x value of each row: seconds since 1970 (naive times read as UTC, so the
    axis shows the times as written) or the row position."""
    if data.time is None:
        return np.arange(data.n_rows, dtype=float)
    t = data.time
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((t - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)


def _step(x: np.ndarray) -> float:
    d = np.diff(x)
    return float(np.median(d)) if len(d) else 1.0


def window_bound(data, pos: int):
    """Row position -> a window bound in the user's terms (ISO timestamp or row position).
    A position past the last row is one sampling step after it (end bounds are exclusive)."""
    n = data.n_rows
    if data.time is None:
        return int(pos)
    if pos >= n:
        step = data.time.diff().median() if n > 1 else pd.Timedelta(0)
        return (data.time.iloc[-1] + (step if pd.notna(step) else pd.Timedelta(0))).isoformat()
    return data.time.iloc[max(0, pos)].isoformat()


def window_from_rows(data, rows: slice) -> list:
    return [window_bound(data, rows.start), window_bound(data, rows.stop)]


def window_rows(data, window) -> slice:
    from rca_app.core.data import rows_for_window

    return rows_for_window(data, window[0], window[1])


def window_from_axis(data, x0: float, x1: float) -> list:
    """A dragged region [x0, x1) -> the window of rows inside it, in the user's terms."""
    x = axis_values(data)
    n = len(x)
    lo = int(np.clip(np.searchsorted(x, min(x0, x1), "left"), 0, max(0, n - 1)))
    hi = int(np.clip(np.searchsorted(x, max(x0, x1), "left"), lo + 1, n))
    return window_from_rows(data, slice(lo, hi))


def window_to_axis(data, window) -> tuple[float, float]:
    """A window -> the region to draw: from its first row to the row after its last one."""
    rows = window_rows(data, window)
    x = axis_values(data)
    end = x[rows.stop] if rows.stop < len(x) else x[-1] + _step(x)
    return float(x[rows.start]), float(end)


def window_label(data, window) -> str:
    """'2026-03-01 00:00 to 2026-03-14 21:20 (2,000 rows)' for the window under a chart."""
    rows = window_rows(data, window)
    n = rows.stop - rows.start
    if data.time is None:
        return f"rows {rows.start} to {rows.stop - 1} ({n:,} rows)"
    first = data.time.iloc[rows.start]
    last = data.time.iloc[rows.stop - 1]
    fmt = "%Y-%m-%d %H:%M"
    return f"{first.strftime(fmt)} to {last.strftime(fmt)} ({n:,} rows)"


def windows_problem(data, reference, anomaly) -> str | None:
    """Why these windows cannot be analysed yet (None if they can), in one sentence."""
    from rca_app.core.data import min_rows_needed

    if anomaly is None:
        return "Mark the incident window (red band), or press Auto-detect."
    try:
        an = window_rows(data, anomaly)
        ref = window_rows(data, reference) if reference is not None else slice(0, an.start)
    except RcaInputError as e:
        return "; ".join(p.message for p in e.problems)
    if ref.start < an.stop and an.start < ref.stop:
        return "The reference and incident windows overlap: move them apart."
    need = min_rows_needed(len(data.frame.columns) - 1)
    if ref.stop - ref.start < need:
        return (f"The reference window has {ref.stop - ref.start} rows; at least {need} are needed "
                f"for {len(data.frame.columns) - 1} sensors. Widen it.")
    if an.stop - an.start < 5:
        return f"The incident window has {an.stop - an.start} rows; at least 5 are needed."
    return None


def kpi_limits(data, reference=None) -> dict:
    """Centre line and 3-sigma (I-MR) control limits of the KPI in the reference window."""
    from rca_app.core.windows import control_limits

    y = data.frame[data.layout.target].to_numpy(float)
    base = y[window_rows(data, reference)] if reference is not None else y
    centre, sigma = control_limits(base)
    return {"centre": centre, "sigma": sigma, "lower": centre - 3 * sigma, "upper": centre + 3 * sigma}


def auto_windows(data, reference=None) -> dict | None:
    """The core's suggested incident window, with a reference that does not overlap it.

    Returns {"anomaly", "reference", "rule", "limit"} or None when the KPI never leaves its
    limits. With no reference given, the reference is every row before the incident."""
    from rca_app.core.windows import suggest_anomaly_window

    y = data.frame[data.layout.target].to_numpy(float)
    ref_rows = window_rows(data, reference) if reference is not None else None
    sw = suggest_anomaly_window(y, data.layout.goal, ref_rows)
    if sw is None:
        return None
    if ref_rows is None or (ref_rows.start < sw.end and sw.start < ref_rows.stop):
        ref_rows = slice(0, sw.start) if sw.start > 0 else None
    return {
        "anomaly": window_from_rows(data, slice(sw.start, sw.end)),
        "reference": window_from_rows(data, ref_rows) if ref_rows is not None else None,
        "rule": sw.rule, "limit": sw.limit,
    }


def node_series(data, node: str, windows: dict[str, Any]) -> dict:
    """A sensor's values in each named window (for reference vs incident trends), with the
    window means. Categorical sensors give their level codes and the level names."""
    x = axis_values(data)
    s = data.frame[node]
    levels = None
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = [str(c) for c in s.cat.categories]
        values = s.cat.codes.to_numpy(dtype=float)
    else:
        values = s.to_numpy(dtype=float)
    out = {"levels": levels, "windows": {}}
    for name, w in windows.items():
        if w is None:
            continue
        rows = window_rows(data, w)
        v = values[rows]
        out["windows"][name] = {"x": x[rows], "y": v, "mean": float(np.nanmean(v)) if len(v) else math.nan}
    return out


# =============================================================================================
# Problems -> table cells
# =============================================================================================
def problem_cell(raw, problem: Problem) -> tuple[int | None, int | None]:
    """The preview cell a problem points at: (row index in ``raw.frame``, column index); either
    may be None when the problem names no row or column of this table."""
    cols = [str(c) for c in raw.frame.columns]
    col = cols.index(problem.column) if problem.column in cols else None
    row = None
    if problem.row is not None and len(raw.source_rows):
        hits = np.flatnonzero(np.asarray(raw.source_rows) == int(problem.row))
        if len(hits):
            row = int(hits[0])
    return row, col


# =============================================================================================
# Editing a layout (each function returns a new Layout; the input is not changed)
# =============================================================================================
def _copy(layout: Layout) -> Layout:
    out = copy.deepcopy(layout)
    out.warnings = list(layout.warnings)
    return out


def _exo_list(st: Station) -> list[str]:
    if st.exogenous is True:
        return list(st.sensors)
    return list(st.exogenous) if isinstance(st.exogenous, list) else []


def _set_exo(st: Station, names: list[str]) -> None:
    names = [s for s in st.sensors if s in names]
    if st.sensors and names == list(st.sensors):
        st.exogenous = True
    else:
        st.exogenous = names or False


def layout_move_sensor(layout: Layout, sensor: str, to_station: int | None, index: int | None = None) -> Layout:
    """Move ``sensor`` to station ``to_station`` (None: out of every station). Its roles
    (controllable, categorical, exogenous) travel with it; a wholly exogenous station keeps
    making its sensors exogenous."""
    out = _copy(layout)
    roles = {"controllable": False, "categorical": False, "exogenous": False}
    for st in out.stations:
        if sensor in st.sensors:
            roles["controllable"] = sensor in st.controllable
            roles["categorical"] = sensor in st.categorical
            roles["exogenous"] = st.is_exogenous(sensor)
            exo = [s for s in _exo_list(st) if s != sensor]
            whole = st.exogenous is True
            st.sensors = [s for s in st.sensors if s != sensor]
            st.controllable = [s for s in st.controllable if s != sensor]
            st.categorical = [s for s in st.categorical if s != sensor]
            if whole:
                st.exogenous = True if st.sensors else False
            else:
                _set_exo(st, exo)
    if to_station is not None:
        st = out.stations[to_station]
        pos = len(st.sensors) if index is None else max(0, min(index, len(st.sensors)))
        exo_before = _exo_list(st)
        whole = st.exogenous is True
        st.sensors.insert(pos, sensor)
        if roles["controllable"]:
            st.controllable.append(sensor)
        if roles["categorical"]:
            st.categorical.append(sensor)
        if not whole:
            _set_exo(st, exo_before + ([sensor] if roles["exogenous"] else []))
    return out


def layout_set_role(layout: Layout, sensor: str, role: str, on: bool) -> Layout:
    """Mark or unmark ``sensor`` as exogenous, controllable or categorical."""
    if role not in ("exogenous", "controllable", "categorical"):
        raise ValueError(f"unknown role {role!r}")
    out = _copy(layout)
    for st in out.stations:
        if sensor not in st.sensors:
            continue
        if role == "exogenous":
            names = [s for s in _exo_list(st) if s != sensor] + ([sensor] if on else [])
            _set_exo(st, names)
        else:
            names = [s for s in getattr(st, role) if s != sensor]
            if on:
                names.append(sensor)
            setattr(st, role, [s for s in st.sensors if s in names])
        return out
    raise RcaInputError(Problem(f"'{sensor}' is in no station: put it in one first", column=sensor))


def layout_move_station(layout: Layout, index: int, new_index: int) -> Layout:
    out = _copy(layout)
    new_index = max(0, min(new_index, len(out.stations) - 1))
    st = out.stations.pop(index)
    out.stations.insert(new_index, st)
    return out


def layout_add_station(layout: Layout, name: str, index: int | None = None) -> Layout:
    out = _copy(layout)
    st = Station(name=name, sensors=[])
    out.stations.insert(len(out.stations) if index is None else index, st)
    return out


def layout_rename_station(layout: Layout, index: int, name: str) -> Layout:
    out = _copy(layout)
    out.stations[index].name = name
    return out


def layout_remove_station(layout: Layout, index: int) -> Layout:
    """Remove a station; its sensors become unassigned."""
    out = _copy(layout)
    out.stations.pop(index)
    return out


def layout_set_plant(layout: Layout, **values) -> Layout:
    """Change [plant] keys: name, target, goal, time_column (None or "" removes it)."""
    out = _copy(layout)
    for key, v in values.items():
        if key not in ("name", "target", "goal", "time_column"):
            raise ValueError(f"unknown plant key {key!r}")
        if key == "time_column":
            v = v or None
        setattr(out, key, v)
    return out


def layout_set_unit(layout: Layout, sensor: str, unit: str) -> Layout:
    out = _copy(layout)
    if unit:
        out.units[sensor] = unit
    else:
        out.units.pop(sensor, None)
    return out


def unassigned_columns(layout: Layout | None, columns: Iterable[str]) -> list[str]:
    """Data columns that are in no station and not the time column."""
    cols = [str(c) for c in columns]
    if layout is None:
        return cols
    return layout.unassigned(cols)


def layout_missing_columns(layout: Layout, columns: Iterable[str]) -> list[str]:
    """Sensors the layout names that the data file does not have."""
    have = {str(c) for c in columns}
    return [n for n in layout.nodes if n not in have]


def draft_layout(raw, name: str = "") -> Layout:
    """A first layout for a table that comes without one: the time column if one is
    recognised, every numeric and categorical column in one station, the last numeric column
    as the KPI. The engineer then splits it into stations."""
    summary = raw.summary()
    time_col = next((c.name for c in summary if c.kind == "time"), None)
    numeric = [c.name for c in summary if c.kind == "numeric"]
    categorical = [c.name for c in summary if c.kind == "categorical"]
    sensors = [c.name for c in summary if c.name in numeric or c.name in categorical]
    target = numeric[-1] if numeric else ""
    return Layout(name=name or Path(str(raw.file_name)).stem, target=target, goal="maximize",
                  stations=[Station("Station 1", sensors, categorical=categorical)],
                  time_column=time_col, source="layout.toml")


def layout_with_edits(layout: Layout, edits: list[dict]) -> Layout:
    """The layout with the graph editor's decisions as knowledge, for a fresh discovery that
    keeps them: forced (and added) edges become required, removed ones forbidden."""
    out = _copy(layout)
    required, forbidden = set(out.required), set(out.forbidden)
    for e in edits:
        key = (e["source"], e["target"])
        if e["op"] in ("add", "force"):
            required.add(key)
            forbidden.discard(key)
        elif e["op"] == "remove":
            forbidden.add(key)
            required.discard(key)
        elif e["op"] == "reverse":
            forbidden.add(key)
            required.discard(key)
            required.add(key[::-1])
            forbidden.discard(key[::-1])
    out.required = sorted(required)
    out.forbidden = sorted(forbidden)
    return out


# =============================================================================================
# Graph edits and drawing
# =============================================================================================
def apply_edit(graph: CausalGraph, op: str, source: str, target: str, constraints=None) -> CausalGraph:
    """One editor action on the graph, validated by the core (RcaInputError with the reason).

    "force" keeps an edge whatever discovery says: it is added if missing and marked as the
    engineer's (origin "user"), so a later re-discovery must keep it."""
    if op == "add":
        return graph.add_edge(source, target, constraints)
    if op == "remove":
        return graph.remove_edge(source, target, constraints)
    if op == "reverse":
        return graph.reverse_edge(source, target, constraints)
    if op == "force":
        existing = graph.edge(source, target)
        if existing is None:
            return graph.add_edge(source, target, constraints, origin="user")
        if constraints is not None and not constraints.allows(source, target):
            raise RcaInputError(f"{source} -> {target} is not allowed: {constraints.why_not(source, target)}")
        from dataclasses import replace

        return graph.with_edges(replace(e, origin="user") if e.key == (source, target) else e
                                for e in graph.edges)
    raise ValueError(f"unknown edit {op!r}")


def graph_from_result(result_graph: dict) -> CausalGraph:
    """The CausalGraph behind ``AnalysisResult.graph`` (which adds station and effect fields)."""
    from rca_app.core.graph import Edge

    nodes = [n["name"] if isinstance(n, dict) else n for n in result_graph["nodes"]]
    keep = Edge.__dataclass_fields__
    edges = [Edge(**{k: v for k, v in e.items() if k in keep}) for e in result_graph["edges"]]
    return CausalGraph(tuple(nodes), tuple(edges))


def graph_view(graph: CausalGraph, layout: Layout, result: dict | None = None,
               reference: pd.DataFrame | None = None) -> dict:
    """What the graph canvas draws: nodes with station tier and roles, edges with a
    normalised strength (0..1, from the standardised effect) and confidence, and positions
    (stations left to right, by :func:`station_layout`).

    Effects come from ``result`` for edges it has; an edge added since has none (drawn as
    "not fitted yet"). Standardising (effect x sd(source) / sd(target)) makes effects in
    different units comparable; ``reference`` supplies the spreads."""
    from rca_app.core.graph_layout import station_layout

    fitted = {}
    if result is not None:
        for e in result.get("graph", {}).get("edges", []):
            fitted[(e["source"], e["target"])] = e
    nodes = []
    for n in graph.nodes:
        try:
            tier, station = layout.tier_of(n), layout.station_of(n)
        except KeyError:
            tier, station = len(layout.stations), ""
        nodes.append({"name": n, "station": station, "tier": tier, "unit": layout.unit(n),
                      "categorical": n in layout.categorical, "controllable": n in layout.controllable,
                      "exogenous": n in set(layout.exogenous), "target": n == layout.target})

    def sd(node: str) -> float | None:
        if reference is None or node not in reference:
            return None
        s = reference[node]
        if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            return None
        v = float(np.nanstd(s.to_numpy(float)))
        return v if v > 0 else None

    cat = set(layout.categorical)
    edges = []
    for e in graph.edges:
        f = fitted.get(e.key, {})
        effect = f.get("effect", e.effect)
        confidence = f.get("confidence", e.confidence)
        std = None
        if effect is not None and math.isfinite(effect):
            s_src = 1.0 if e.source in cat else sd(e.source)
            s_dst = sd(e.target)
            if s_src is not None and s_dst:
                std = abs(effect) * s_src / s_dst
            elif reference is None:
                std = abs(effect)
        edges.append({"source": e.source, "target": e.target, "effect": effect,
                      "confidence": confidence, "origin": e.origin, "std_effect": std,
                      "fitted": e.key in fitted})
    top = max((e["std_effect"] for e in edges if e["std_effect"] is not None), default=0.0)
    for e in edges:
        e["strength"] = (e["std_effect"] / top) if (e["std_effect"] is not None and top > 0) else None
    view = {"nodes": nodes, "edges": edges, "stations": [s.name for s in layout.stations]}
    view["positions"] = station_layout(view)
    return view


def pareto(root_causes: list[dict], top: int = 10) -> dict:
    """Bars (restoration in %) for the ``top`` causes and the cumulative share of the positive
    restorations (a Pareto chart: which few causes explain most of the loss)."""
    items = root_causes[:top]
    rest = [100.0 * float(c["restoration"]) for c in items]
    pos = [max(r, 0.0) for r in rest]
    total = sum(max(100.0 * float(c["restoration"]), 0.0) for c in root_causes) or 1.0
    return {"nodes": [c["node"] for c in items], "restoration_pct": rest,
            "cumulative_pct": [float(v) for v in np.cumsum(pos) / total * 100.0]}


def strongest_parent(outcome, node: str) -> str | None:
    """The parent that moves ``node`` most: largest |effect| x sd(parent) (in node units)."""
    mech = outcome.scm.mechanisms_.get(node)
    if mech is None or not mech.parents:
        return None
    effects = {(e["source"], e["target"]): e.get("effect") for e in outcome.result.graph["edges"]}
    vals = outcome.scm.reference_values_
    best, score = mech.parents[0], -1.0
    for p in mech.parents:
        eff = effects.get((p, node))
        if eff is None or not math.isfinite(eff):
            continue
        spread = 1.0 if p in outcome.scm.categorical else float(np.std(vals[p]))
        if abs(eff) * spread > score:
            best, score = p, abs(eff) * spread
    return best


def mechanism_view(outcome, node: str, parent: str | None = None, points: int = 80) -> dict:
    """How ``node`` depends on one parent in the fitted model, for the mechanism panel.

    Scatter: the reference rows (node against the parent). Curve: the fitted mechanism's
    prediction along the parent's reference range (minimum to maximum) with every other
    parent held at its reference mean (categorical: its most common level)."""
    scm = outcome.scm
    report = next((m for m in outcome.result.mechanisms if m["node"] == node), None)
    out = {"node": node, "kind": report["kind"] if report else None,
           "oof_r2": report.get("oof_r2") if report else None,
           "parents": report["parents"] if report else [], "pooled": bool(report and report.get("pooled")),
           "parent": None, "scatter_x": None, "scatter_y": None, "curve_x": None, "curve_y": None,
           "x_levels": None, "y_levels": None}
    mech = scm.mechanisms_.get(node)
    if mech is None:
        return out
    parent = parent or strongest_parent(outcome, node)
    if parent is None:
        return out
    vals = scm.reference_values_
    out["parent"] = parent
    out["scatter_x"] = np.asarray(vals[parent], dtype=float)
    out["scatter_y"] = np.asarray(vals[node], dtype=float)
    if parent in scm.levels_:
        out["x_levels"] = list(scm.levels_[parent])
    if node in scm.levels_:
        out["y_levels"] = list(scm.levels_[node])
    if mech.categorical or mech.kind not in ("linear", "poly2", "spline", "hgb"):
        return out   # a classifier: the scatter (level by parent) says enough
    if parent in scm.levels_:
        grid = np.arange(len(scm.levels_[parent]), dtype=np.int64)
    else:
        grid = np.linspace(float(np.min(vals[parent])), float(np.max(vals[parent])), points)
    inputs = {}
    for p in mech.parents:
        if p in scm.levels_:
            codes = np.asarray(vals[p], dtype=np.int64)
            inputs[p] = np.full(len(grid), int(np.bincount(codes).argmax()), dtype=np.int64)
        else:
            inputs[p] = np.full(len(grid), float(np.mean(vals[p])))
    inputs[parent] = grid
    out["curve_x"] = np.asarray(grid, dtype=float)
    out["curve_y"] = np.asarray(mech.predict(inputs), dtype=float)
    return out


# =============================================================================================
# What-if
# =============================================================================================
def setpoint_range(outcome, node: str) -> dict:
    """The range a what-if slider offers for ``node``: its reference range, the value the
    engine recommends (if it computed an action for it) and the incident's value."""
    ref = outcome.incident.reference[node]
    inc = outcome.incident.anomaly[node]
    action = next((a for a in outcome.result.actions if a["node"] == node), None)
    if node in outcome.scm.categorical:
        levels = list(outcome.scm.levels_[node])
        return {"node": node, "categorical": True, "levels": levels,
                "recommended": action["recommended_value"] if action else None,
                "incident": str(inc.astype(str).mode().iloc[0]) if len(inc) else None}
    r = ref.to_numpy(float)
    return {"node": node, "categorical": False, "low": float(np.min(r)), "high": float(np.max(r)),
            "recommended": float(action["recommended_value"]) if action else None,
            "incident": float(inc.to_numpy(float).mean()) if len(inc) else None,
            "reference_mean": float(r.mean())}


def what_if_view(outcome, node: str, value, bins: int = 30) -> dict:
    """The core's what-if, plus histograms of the predicted KPI per incident row under
    do(node = value) and of the KPI the incident actually had, on common bins."""
    from rca_app.core.analysis import what_if

    w = dict(what_if(outcome, node, value))
    target = outcome.incident.target
    actual = outcome.incident.anomaly[target].to_numpy(float)
    pred = np.asarray(w["predicted_rows"], dtype=float)
    both = np.concatenate([actual, pred])
    both = both[np.isfinite(both)]
    edges = np.histogram_bin_edges(both, bins=bins) if len(both) else np.linspace(0, 1, bins + 1)
    w["hist_edges"] = edges
    w["hist_predicted"] = np.histogram(pred, bins=edges)[0]
    w["hist_actual"] = np.histogram(actual, bins=edges)[0]
    w["actual_rows"] = actual
    return w


def controllable_candidates(outcome) -> list[str]:
    """Setpoints offered in the what-if step: the actions the engine computed (best first),
    then the other controllable sensors that are in the graph."""
    names = [a["node"] for a in outcome.result.actions]
    for n in outcome.result.graph["nodes"]:
        if n.get("controllable") and n["name"] not in names:
            names.append(n["name"])
    return names

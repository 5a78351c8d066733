"""The plant's physical layout, and the causal constraints it implies.

Stations are listed in process-flow order. Material flows forward, so a sensor at a later
station cannot cause one at an earlier station: the layout becomes tiered background
knowledge for causal discovery.

INTERFACE CONTRACT (other modules rely on these names; the parser/validator fills them):
- load_layout(path) -> Layout            (raises RcaInputError with every problem)
- parse_layout(text, source="layout.toml") -> Layout
- Layout.nodes, Layout.station_of(node), Layout.tier_of(node), Layout.constraints()
- Constraints.allows(src, dst), Constraints.violations(edges), Constraints.prior_knowledge(order)

The file format (TOML)::

    [plant]
    name = "Line 7"
    target = "yield_pct"
    goal = "maximize"            # or "minimize"; default "maximize"
    time_column = "timestamp"    # optional

    [[station]]                  # one per station, in process-flow order
    name = "Incoming material"
    sensors = ["resin_moisture_pct", "resin_supplier"]
    exogenous = true             # or a list of this station's sensors
    controllable = []            # setpoints an engineer can change
    categorical = ["resin_supplier"]

    [knowledge]                  # optional; pairs are [source, target]
    forbidden = [["a", "b"]]     # direct edge a -> b must not exist
    required = [["a", "b"]]      # direct edge a -> b must exist
    increasing = [["a", "b"]]    # b increases with a
    decreasing = [["a", "b"]]    # b decreases with a

    [units]                      # optional: sensor = "unit"
    a = "°C"
"""
from __future__ import annotations

import difflib
import re
import tomllib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rca_app.core.errors import Problem, ProblemList, RcaInputError

Goal = Literal["maximize", "minimize"]
GOALS = ("maximize", "minimize")

_TOP_KEYS = ("plant", "station", "knowledge", "units")
_PLANT_KEYS = ("name", "target", "goal", "time_column")
_STATION_KEYS = ("name", "sensors", "exogenous", "controllable", "categorical")
_KNOWLEDGE_KEYS = ("forbidden", "required", "increasing", "decreasing")


@dataclass
class Station:
    name: str
    sensors: list[str]
    # True: every sensor of the station is exogenous; a list: only those sensors are.
    exogenous: bool | list[str] = False
    controllable: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)

    def is_exogenous(self, sensor: str) -> bool:
        if isinstance(self.exogenous, bool):
            return self.exogenous and sensor in self.sensors
        return sensor in self.exogenous


@dataclass
class Layout:
    name: str
    target: str
    goal: Goal
    stations: list[Station]
    time_column: str | None = None
    forbidden: list[tuple[str, str]] = field(default_factory=list)
    required: list[tuple[str, str]] = field(default_factory=list)
    # Monotone mechanism declarations: (parent, child) -> +1 (increasing) or -1 (decreasing).
    monotone: dict[tuple[str, str], int] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    source: str = "layout.toml"   # file name, for messages
    text: str = ""                # the TOML as read, for the report's reproducibility appendix
    path: str = field(default="", compare=False)  # where it was loaded from ("" if from text)
    # Non-fatal findings from parsing (e.g. a station without sensors); not part of equality.
    warnings: list[Problem] = field(default_factory=list, compare=False, repr=False)

    # ----------------------------------------------------------------- derived views
    @property
    def nodes(self) -> list[str]:
        """Every sensor, in station order (the target included)."""
        return [s for st in self.stations for s in st.sensors]

    def _station_index(self) -> dict[str, int]:
        index: dict[str, int] = {}
        for i, st in enumerate(self.stations):
            for s in st.sensors:
                index.setdefault(s, i)   # first station wins if a file was invalid
        return index

    def tier_of(self, node: str) -> int:
        """0-based index of the station holding ``node`` (KeyError if in no station)."""
        try:
            return self._station_index()[node]
        except KeyError:
            raise KeyError(f"'{node}' is not a sensor of any station in {self.source}") from None

    def station_of(self, node: str) -> str:
        return self.stations[self.tier_of(node)].name

    def is_exogenous(self, node: str) -> bool:
        return self.stations[self.tier_of(node)].is_exogenous(node)

    @property
    def exogenous(self) -> list[str]:
        return [s for st in self.stations for s in st.sensors if st.is_exogenous(s)]

    @property
    def controllable(self) -> list[str]:
        return [s for st in self.stations for s in st.controllable]

    @property
    def categorical(self) -> list[str]:
        return [s for st in self.stations for s in st.categorical]

    def unit(self, node: str) -> str:
        return self.units.get(node, "")

    def unassigned(self, columns: Iterable[str]) -> list[str]:
        """Data columns that are in no station (the time column is not counted)."""
        known = set(self.nodes)
        if self.time_column:
            known.add(self.time_column)
        return [c for c in columns if c not in known]

    def constraints(self) -> Constraints:
        index = self._station_index()
        return Constraints(
            nodes=tuple(index),
            tier=dict(index),
            exogenous=frozenset(self.exogenous),
            target=self.target,
            forbidden=frozenset(self.forbidden),
            required=frozenset(self.required),
            station_names=tuple(st.name for st in self.stations),
        )

    def problems(self) -> list[Problem]:
        """Validate the layout as it is now (e.g. after GUI edits); errors and warnings."""
        problems = ProblemList()
        _check_layout(self, problems)
        return problems.items

    def restricted_to(self, nodes: Iterable[str]) -> Layout:
        """A copy keeping only the sensors in ``nodes`` (others vanish from stations,
        knowledge and units). Stations keep their places, even if emptied, so tiers are
        unchanged. ``text`` still holds the file as the user wrote it."""
        keep = set(nodes)
        if self.target not in keep:
            raise RcaInputError(Problem(
                f"the target '{self.target}' is not among the data columns",
                file=self.source, column=self.target, code="missing_target_column"))
        stations = []
        for st in self.stations:
            exo = st.exogenous
            if isinstance(exo, list):
                exo = [s for s in exo if s in keep] or False
            stations.append(Station(
                name=st.name,
                sensors=[s for s in st.sensors if s in keep],
                exogenous=exo,
                controllable=[s for s in st.controllable if s in keep],
                categorical=[s for s in st.categorical if s in keep],
            ))

        def both(pair: tuple[str, str]) -> bool:
            return pair[0] in keep and pair[1] in keep

        return Layout(
            name=self.name, target=self.target, goal=self.goal, stations=stations,
            time_column=self.time_column,
            forbidden=[e for e in self.forbidden if both(e)],
            required=[e for e in self.required if both(e)],
            monotone={e: v for e, v in self.monotone.items() if both(e)},
            units={k: v for k, v in self.units.items() if k in keep},
            source=self.source, text=self.text, warnings=list(self.warnings), path=self.path,
        )

    # ----------------------------------------------------------------- serialisation
    def to_toml(self) -> str:
        """Serialise to TOML that parse_layout reads back to an equal Layout.
        Comments and formatting of the original file are not kept."""
        out = ["[plant]",
               f"name = {_toml_str(self.name)}",
               f"target = {_toml_str(self.target)}",
               f"goal = {_toml_str(self.goal)}"]
        if self.time_column is not None:
            out.append(f"time_column = {_toml_str(self.time_column)}")
        for st in self.stations:
            out += ["", "[[station]]",
                    f"name = {_toml_str(st.name)}",
                    f"sensors = {_toml_list(st.sensors)}"]
            if st.exogenous is True:
                out.append("exogenous = true")
            elif isinstance(st.exogenous, list) and st.exogenous:
                out.append(f"exogenous = {_toml_list(st.exogenous)}")
            if st.controllable:
                out.append(f"controllable = {_toml_list(st.controllable)}")
            if st.categorical:
                out.append(f"categorical = {_toml_list(st.categorical)}")
        knowledge = {
            "forbidden": list(self.forbidden),
            "required": list(self.required),
            "increasing": [e for e, v in self.monotone.items() if v > 0],
            "decreasing": [e for e, v in self.monotone.items() if v < 0],
        }
        if any(knowledge.values()):
            out += ["", "[knowledge]"]
            for key, pairs in knowledge.items():
                if pairs:
                    items = ", ".join(_toml_list(list(p)) for p in pairs)
                    out.append(f"{key} = [{items}]")
        if self.units:
            out += ["", "[units]"]
            out += [f"{_toml_key(k)} = {_toml_str(v)}" for k, v in self.units.items()]
        return "\n".join(out) + "\n"


# --------------------------------------------------------------------- constraints
@dataclass(frozen=True)
class Constraints:
    """Algorithm-neutral edge constraints derived from a layout.

    An edge src -> dst is disallowed when: src == dst; src sits at a later station than
    dst (material flows forward); dst is exogenous; src is the target (the outcome has no
    effects among the sensors); or the edge is listed as forbidden. Edges within one
    station are allowed in both directions.
    """

    nodes: tuple[str, ...]
    tier: dict[str, int]
    exogenous: frozenset
    target: str
    forbidden: frozenset = frozenset()
    required: frozenset = frozenset()
    station_names: tuple[str, ...] = ()   # by tier, for messages only

    def _station(self, node: str) -> str:
        t = self.tier[node]
        return self.station_names[t] if t < len(self.station_names) else f"#{t + 1}"

    def _reason(self, src: str, dst: str) -> tuple[str, str] | None:
        """(plain-language reason, the sensor responsible) or None if the edge is allowed."""
        for node in (src, dst):
            if node not in self.tier:
                return f"'{node}' is not a sensor in the layout", node
        if src == dst:
            return f"'{src}' cannot cause itself", src
        if src == self.target:
            return (f"'{src}' is the target: it is the outcome being explained and has "
                    f"no effect on other sensors"), src
        if dst in self.exogenous:
            return f"'{dst}' is declared exogenous: nothing in the data causes it", dst
        if self.tier[src] > self.tier[dst]:
            return (f"'{src}' is at station '{self._station(src)}', after "
                    f"'{self._station(dst)}' where '{dst}' is: material flows forward"), src
        if (src, dst) in self.forbidden:
            return f"the edge '{src}' -> '{dst}' is forbidden in [knowledge]", src
        return None

    def allows(self, src: str, dst: str) -> bool:
        return self._reason(src, dst) is None

    def why_not(self, src: str, dst: str) -> str | None:
        reason = self._reason(src, dst)
        return reason[0] if reason else None

    def violations(self, edges: Iterable[tuple[str, str]]) -> list[str]:
        """Messages for each disallowed edge, each missing required edge, and each cycle."""
        given = list(dict.fromkeys((s, d) for s, d in edges))   # dedupe, keep order
        messages = []
        for src, dst in given:
            reason = self.why_not(src, dst)
            if reason:
                messages.append(f"'{src}' -> '{dst}' is not allowed: {reason}")
        present = set(given)
        for src, dst in sorted(self.required - present, key=self._edge_key):
            messages.append(f"required edge '{src}' -> '{dst}' is missing")
        for cycle in _cycles(given):
            messages.append(f"the edges form a cycle: {_cycle_text(cycle)}")
        return messages

    def _edge_key(self, edge: tuple[str, str]) -> tuple:
        pos = {n: i for i, n in enumerate(self.nodes)}
        return tuple(pos.get(n, len(pos)) for n in edge) + edge

    def layered_order(self) -> list[str]:
        """Nodes sorted by tier, keeping their order within a tier."""
        return sorted(self.nodes, key=lambda n: self.tier[n])

    def prior_knowledge(self, order: Iterable[str]) -> np.ndarray:
        """Prior-knowledge matrix for ``lingam`` over the nodes in ``order``.

        Convention (lingam's): ``pk[i, j] == 0``: no directed path from order[j] to
        order[i]; ``1``: a directed path exists; ``-1``: unknown. Like
        ``lingam.utils.make_prior_knowledge``, the diagonal is -1.

        Zeros come from the tiers (no path backwards in the flow), exogenous sensors
        (nothing reaches them) and the target (it reaches nothing); ones from required
        edges. Forbidden *direct* edges cannot be expressed as path knowledge (a path
        through other sensors may still exist), so they are absent here: whoever fits
        the model must also enforce ``allows``.
        """
        order = list(order)
        unknown = [n for n in order if n not in self.tier]
        if unknown:
            raise ValueError(f"not sensors in the layout: {unknown}")
        if len(set(order)) != len(order):
            raise ValueError("order lists a sensor more than once")
        k = len(order)
        pk = np.full((k, k), -1, dtype=int)
        for i, child in enumerate(order):
            for j, parent in enumerate(order):
                if (self.tier[parent] > self.tier[child] or child in self.exogenous
                        or parent == self.target):
                    pk[i, j] = 0
        pos = {n: i for i, n in enumerate(order)}
        for src, dst in self.required:
            if src in pos and dst in pos:
                pk[pos[dst], pos[src]] = 1
        np.fill_diagonal(pk, -1)
        return pk


# --------------------------------------------------------------------- loading
def load_layout(path: str | Path) -> Layout:
    """Read and validate a layout file (UTF-8, with or without BOM)."""
    path = Path(path)
    source = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise RcaInputError(Problem(f"cannot read the layout file '{path}': {why}",
                                    file=source, code="unreadable")) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RcaInputError(Problem(
            f"the layout file is not UTF-8 text (bad byte at position {exc.start}); "
            "save it as UTF-8", file=source, code="not_utf8")) from None
    layout = parse_layout(text, source)
    layout.path = str(path.resolve())
    return layout


def parse_layout(text: str, source: str = "layout.toml") -> Layout:
    """Parse and validate layout TOML; raise RcaInputError listing every problem."""
    body = text[1:] if text.startswith("\ufeff") else text
    try:
        raw = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        raise RcaInputError(_syntax_problem(exc, body, source)) from None
    reader = _Reader(source)
    layout = reader.build(raw)
    layout.text = text
    _check_layout(layout, reader.problems, reader.suppress)
    reader.problems.raise_if_errors()
    layout.warnings = reader.problems.warnings
    return layout


def _syntax_problem(exc: tomllib.TOMLDecodeError, text: str, source: str) -> Problem:
    # Python 3.11's TOMLDecodeError has no lineno attribute: the position is in the text.
    msg = str(exc)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", msg)
    if m:
        where = f"line {m.group(1)}, column {m.group(2)}"
        msg = msg[:m.start()]
    else:
        m = re.search(r"\s*\(at end of document\)\s*$", msg)
        where = f"the end of the file (line {text.count(chr(10)) + 1})"
        msg = msg[:m.start()] if m else msg
    return Problem(f"TOML syntax error at {where}: {msg}", file=source, code="toml_syntax")


def _closest(word: str, choices: Iterable[str]) -> str | None:
    choices = list(choices)
    # A case-only difference is the likeliest slip, and difflib may rank it below others.
    folded = [c for c in choices if c.casefold() == word.casefold()]
    # Abbreviations ("max" for "maximize") score too low for difflib.
    prefix = [c for c in choices if len(word) >= 3 and c.casefold().startswith(word.casefold())]
    match = folded or prefix[:1] or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return match[0] if match else None


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    match = _closest(word, choices)
    return f" (did you mean '{match}'?)" if match else ""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


class _Reader:
    """Turns the parsed TOML dict into a Layout, recording type/key problems.

    Bad values are replaced by harmless placeholders so later checks still run; checks
    that would only echo an earlier problem are listed in ``suppress``.
    """

    def __init__(self, source: str):
        self.source = source
        self.problems = ProblemList()
        self.suppress: set[str] = set()

    def add(self, message: str, code: str, column: str | None = None) -> None:
        self.problems.add(message, file=self.source, column=column, code=code)

    def keys(self, table: dict, allowed: tuple[str, ...], where: str) -> dict:
        """Report unknown keys. Return the table with misspelt keys read as the key they
        were probably meant as (if that key is absent), so later checks see the values
        instead of reporting a second, derived problem."""
        read = {k: v for k, v in table.items() if k in allowed}
        for key, value in table.items():
            if key not in allowed:
                match = _closest(key, allowed)
                hint = f" (did you mean '{match}'?)" if match else ""
                self.add(f"unknown key '{key}' in {where}{hint}", "unknown_key")
                if match and match not in table:
                    read.setdefault(match, value)
        return read

    def text(self, value: Any, where: str, default: str = "") -> str:
        if isinstance(value, str):
            return value
        self.add(f"{where} must be text in quotes, got {_kind(value)}", "wrong_type")
        return default

    def names(self, value: Any, where: str) -> list[str] | None:
        """A list of names; a lone string is accepted as a one-item list for checking."""
        if isinstance(value, str):
            self.add(f"{where} must be a list of names like [\"{value}\"], got a single text",
                     "wrong_type")
            return [value]
        if not isinstance(value, list):
            self.add(f"{where} must be a list of names, got {_kind(value)}", "wrong_type")
            return None
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            self.add(f"{where} must contain only names in quotes, got {_kind(bad[0])}",
                     "wrong_type")
        return [v for v in value if isinstance(v, str)]

    def pairs(self, value: Any, where: str) -> list[tuple[str, str]]:
        if not isinstance(value, list):
            self.add(f"{where} must be a list of [source, target] pairs, got {_kind(value)}",
                     "wrong_type")
            return []
        if value and all(isinstance(v, str) for v in value):
            self.add(f"{where} must be a list of pairs: write [[\"a\", \"b\"]], "
                     "not [\"a\", \"b\"]", "wrong_type")
            return []
        out = []
        for n, item in enumerate(value, 1):
            if (isinstance(item, list) and len(item) == 2
                    and all(isinstance(v, str) for v in item)):
                out.append((item[0], item[1]))
            else:
                self.add(f"{where} entry {n} must be a pair [source, target] of sensor "
                         f"names, got {_kind(item)}", "wrong_type")
        return out

    def build(self, raw: dict) -> Layout:
        raw = self.keys(raw, _TOP_KEYS, "the top level of the file")

        plant = raw.get("plant", {})
        if not isinstance(plant, dict):
            self.add(f"'plant' must be a table ([plant]), got {_kind(plant)}", "wrong_type")
            plant = {}
        plant = self.keys(plant, _PLANT_KEYS, "[plant]")
        if "target" in plant and not isinstance(plant["target"], str):
            self.suppress.update({"no_target", "missing_target"})
        name = self.text(plant.get("name", ""), "[plant] key 'name'")
        target = self.text(plant.get("target", ""), "[plant] key 'target'")
        goal = self.text(plant.get("goal", "maximize"), "[plant] key 'goal'", "maximize")
        goal = goal.strip().lower()
        time_column = None
        if "time_column" in plant:
            time_column = self.text(plant["time_column"], "[plant] key 'time_column'") or None

        stations = self.stations(raw.get("station", []))

        knowledge = raw.get("knowledge", {})
        if not isinstance(knowledge, dict):
            self.add(f"'knowledge' must be a table ([knowledge]), got {_kind(knowledge)}",
                     "wrong_type")
            knowledge = {}
        knowledge = self.keys(knowledge, _KNOWLEDGE_KEYS, "[knowledge]")
        edges = {k: self.pairs(knowledge.get(k, []), f"[knowledge] key '{k}'")
                 for k in _KNOWLEDGE_KEYS}
        monotone: dict[tuple[str, str], int] = {}
        for pair in edges["increasing"]:
            monotone[pair] = 1
        for pair in edges["decreasing"]:
            if monotone.get(pair) == 1:
                self.add(f"[knowledge] declares '{pair[0]}' -> '{pair[1]}' both increasing "
                         "and decreasing", "monotone_conflict", column=pair[1])
            else:
                monotone[pair] = -1

        units_raw = raw.get("units", {})
        if not isinstance(units_raw, dict):
            self.add(f"'units' must be a table ([units]), got {_kind(units_raw)}", "wrong_type")
            units_raw = {}
        units = {}
        for key, value in units_raw.items():
            if isinstance(value, str):
                units[key] = value
            else:
                self.add(f"[units] key '{key}' must be text in quotes, got {_kind(value)}",
                         "wrong_type", column=key)

        return Layout(name=name, target=target, goal=goal, stations=stations,  # type: ignore[arg-type]
                      time_column=time_column, forbidden=edges["forbidden"],
                      required=edges["required"], monotone=monotone, units=units,
                      source=self.source)

    def stations(self, value: Any) -> list[Station]:
        if isinstance(value, dict):
            self.add("'station' must be repeated tables: write [[station]] (double brackets) "
                     "before each station", "wrong_type")
            value = [value]
        elif not isinstance(value, list):
            self.add(f"'station' must be [[station]] tables, got {_kind(value)}", "wrong_type")
            self.suppress.update({"unknown_sensor", "missing_target", "no_stations"})
            return []
        stations = []
        for n, table in enumerate(value, 1):
            if not isinstance(table, dict):
                self.add(f"station #{n} must be a [[station]] table, got {_kind(table)}",
                         "wrong_type")
                self.suppress.update({"unknown_sensor", "missing_target"})
                continue
            label = f"station #{n}"
            if isinstance(table.get("name"), str) and table["name"].strip():
                label += f" '{table['name']}'"
            table = self.keys(table, _STATION_KEYS, label)
            name = self.text(table.get("name", ""), f"{label} key 'name'")
            if "sensors" in table:
                sensors = self.names(table["sensors"], f"{label} key 'sensors'")
            else:
                sensors = None
                self.add(f"{label} has no 'sensors' list", "missing_sensors")
            if sensors is None or (isinstance(table.get("sensors"), list)
                                   and len(sensors) < len(table["sensors"])):
                # Some sensor names are unknown, so "in no station" checks would mislead.
                self.suppress.update({"unknown_sensor", "missing_target"})
            exo = table.get("exogenous", False)
            if isinstance(exo, bool):
                exogenous: bool | list[str] = exo
            else:
                exogenous = self.names(exo, f"{label} key 'exogenous' (true/false or a list)") or False
            stations.append(Station(
                name=name, sensors=sensors or [], exogenous=exogenous,
                controllable=self.names(table.get("controllable", []),
                                        f"{label} key 'controllable'") or [],
                categorical=self.names(table.get("categorical", []),
                                       f"{label} key 'categorical'") or [],
            ))
        return stations


# --------------------------------------------------------------------- validation
def _check_layout(layout: Layout, problems: ProblemList,
                  suppress: Iterable[str] = ()) -> None:
    """Checks on the meaning of a layout (its values already have the right types)."""
    suppress = set(suppress)
    src = layout.source

    def add(message: str, code: str, column: str | None = None) -> None:
        if code not in suppress:
            problems.add(message, file=src, column=column, code=code)

    if not layout.stations:
        add("the layout has no [[station]] tables", "no_stations")
        suppress.add("missing_target")   # it is in no station, trivially

    # Station names.
    seen_names: dict[str, int] = {}
    for n, st in enumerate(layout.stations, 1):
        if not st.name.strip():
            add(f"station #{n} has an empty name", "empty_station_name")
            continue
        key = st.name.strip().casefold()
        if key in seen_names:
            add(f"station #{n} '{st.name}' has the same name as station #{seen_names[key]}",
                "duplicate_station")
        else:
            seen_names[key] = n

    # Sensors: each in exactly one station.
    where: dict[str, int] = {}
    for n, st in enumerate(layout.stations):
        label = f"station #{n + 1} '{st.name}'"
        if not st.sensors:
            problems.warn(f"{label} has no sensors", file=src, code="empty_station")
        for s in st.sensors:
            if not s.strip():
                add(f"{label} lists an empty sensor name", "empty_sensor_name")
            elif s in where:
                first = where[s]
                if first == n:
                    add(f"sensor '{s}' is listed twice in {label}", "duplicate_sensor", s)
                else:
                    add(f"sensor '{s}' is listed in two stations: '{layout.stations[first].name}' "
                        f"(#{first + 1}) and '{st.name}' (#{n + 1})", "duplicate_sensor", s)
            else:
                where[s] = n
    all_sensors = list(where)

    def unknown(s: str, context: str) -> None:
        if s not in where:
            add(f"{context} names '{s}', which is in no station"
                f"{_did_you_mean(s, all_sensors)}", "unknown_sensor", s)

    # Per-station lists must name that station's own sensors.
    for n, st in enumerate(layout.stations):
        label = f"station #{n + 1} '{st.name}'"
        lists = {"controllable": st.controllable, "categorical": st.categorical}
        if isinstance(st.exogenous, list):
            lists["exogenous"] = st.exogenous
        for key, names in lists.items():
            for s in names:
                if s not in where:
                    unknown(s, f"{label} key '{key}'")
                elif s not in st.sensors:
                    add(f"{label} key '{key}' names '{s}', which is a sensor of station "
                        f"'{layout.stations[where[s]].name}', not of this one",
                        "wrong_station", s)

    # Target and goal.
    target = layout.target
    if not target.strip():
        add("[plant] has no 'target': name the quality/yield column to explain",
            "no_target")
    else:
        if target not in where:
            add(f"the target '{target}' ([plant] key 'target') is not a sensor of any "
                f"station{_did_you_mean(target, all_sensors)}; list it in the last "
                "station's sensors", "missing_target", target)
        else:
            st = layout.stations[where[target]]
            if st.is_exogenous(target):
                add(f"the target '{target}' is declared exogenous at station '{st.name}': "
                    "the outcome must be explainable by the sensors", "target_exogenous", target)
        for st in layout.stations:
            if target in st.controllable:
                add(f"the target '{target}' is listed as controllable at station "
                    f"'{st.name}': it is the outcome, not a setpoint",
                    "target_controllable", target)
            if target in st.categorical:
                add(f"the target '{target}' is listed as categorical at station "
                    f"'{st.name}': it must be numeric", "target_categorical", target)
    if layout.goal not in GOALS:
        add(f"[plant] key 'goal' must be 'maximize' or 'minimize', got '{layout.goal}'"
            f"{_did_you_mean(layout.goal, GOALS)}", "bad_goal")
    if layout.time_column is not None and layout.time_column in where:
        add(f"[plant] key 'time_column' names '{layout.time_column}', which is also listed "
            f"as a sensor of station '{layout.stations[where[layout.time_column]].name}'",
            "time_column_is_sensor", layout.time_column)

    # Units.
    for s in layout.units:
        unknown(s, "[units]")

    # Knowledge. Tier logic without forbidden edges: whether a path could exist at all.
    flow = Constraints(
        nodes=tuple(where), tier=dict(where), exogenous=frozenset(layout.exogenous),
        target=target, station_names=tuple(st.name for st in layout.stations))
    forbidden = set(layout.forbidden)
    for key, pairs in (("forbidden", layout.forbidden), ("required", layout.required)):
        for a, b in pairs:
            unknown(a, f"[knowledge] {key} edge '{a}' -> '{b}'")
            unknown(b, f"[knowledge] {key} edge '{a}' -> '{b}'")
    consistent = []   # required edges that pass the flow checks
    for a, b in layout.required:
        if a not in where or b not in where:
            continue
        reason = flow._reason(a, b)
        if reason:
            add(f"[knowledge] required edge '{a}' -> '{b}' contradicts the layout: "
                f"{reason[0]}", "required_contradicts_layout", reason[1])
            continue
        consistent.append((a, b))
        if (a, b) in forbidden:
            add(f"[knowledge] edge '{a}' -> '{b}' is both required and forbidden",
                "required_and_forbidden", a)
    # A cycle through a backward edge is already reported above; these stay in a station.
    for cycle in _cycles(consistent):
        add(f"[knowledge] required edges form a cycle: {_cycle_text(cycle)}",
            "required_cycle", cycle[0])
    for (a, b), sign in layout.monotone.items():
        key = "increasing" if sign > 0 else "decreasing"
        unknown(a, f"[knowledge] {key} pair '{a}' -> '{b}'")
        unknown(b, f"[knowledge] {key} pair '{a}' -> '{b}'")
        if a in where and b in where:
            reason = flow._reason(a, b)
            if reason:
                add(f"[knowledge] {key} pair '{a}' -> '{b}' is impossible: {reason[0]}",
                    "monotone_contradicts_layout", reason[1])


# --------------------------------------------------------------------- helpers
def _cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """One cycle per strongly connected group of nodes (graphs here are small)."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in succ[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reachable = {n: reach(n) for n in succ}
    done: set[str] = set()
    cycles = []
    for start in succ:
        if start in done or start not in reachable[start]:
            continue
        group = {m for m in reachable[start] if start in reachable[m]}
        done |= group
        # Shortest way back to start, breadth first, inside the group.
        parent: dict[str, str] = {}
        queue = deque([start])
        while queue and start not in parent:
            u = queue.popleft()
            for v in succ[u]:
                if v in group and v not in parent:
                    parent[v] = u
                    queue.append(v)
        path, u = [], parent[start]
        while u != start:
            path.append(u)
            u = parent[u]
        cycles.append([start] + path[::-1])
    return cycles


def _cycle_text(cycle: list[str]) -> str:
    return " -> ".join(f"'{n}'" for n in cycle + cycle[:1])


def _toml_str(value: str) -> str:
    # TOML basic string: escape quote, backslash and every control character.
    out = []
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, f"\\u{code:04X}"))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)

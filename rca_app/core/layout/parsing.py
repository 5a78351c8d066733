"""Reading layout TOML: every problem found at once, misspelt keys with a "did you mean"."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from rca_app.core.errors import Problem, ProblemList, RcaInputError
from rca_app.core.layout.checks import _check_layout, _closest
from rca_app.core.layout.model import Layout, Station
from rca_app.core.layout.time_keys import TimeKeyReader, place_setpoint_tags

_TOP_KEYS = ("plant", "station", "knowledge", "units", "tags", "recycle", "loop", "join")
_PLANT_KEYS = ("name", "target", "goal", "time_column", "kpi_type", "sample", "lag_max")
_STATION_KEYS = ("name", "sensors", "exogenous", "controllable", "categorical", "lag", "lags")
_KNOWLEDGE_KEYS = ("forbidden", "required", "increasing", "decreasing")


def load_layout(path: str | Path) -> Layout:
    """Read and validate a layout file (UTF-8, with or without BOM).

    Parameters
    ----------
    path : str or Path
        The ``layout.toml`` file.

    Returns
    -------
    Layout
        With ``path`` set to the resolved file path.

    Raises
    ------
    RcaInputError
        If the file cannot be read, is not UTF-8, or the layout has errors (all listed).
    """
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
    """Parse and validate layout TOML; raise RcaInputError listing every problem.

    Parameters
    ----------
    text : str
        The TOML text (a leading BOM is ignored).
    source : str, default "layout.toml"
        File name used in messages.

    Returns
    -------
    Layout
        Non-fatal findings are in ``layout.warnings``.

    Raises
    ------
    RcaInputError
        On TOML syntax errors or layout errors (every one found).
    """
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

        kpi_type = None
        if "kpi_type" in plant:
            kpi_type = self.text(plant["kpi_type"], "[plant] key 'kpi_type'").strip().lower() or None

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

        tk = TimeKeyReader(self)
        sample, lag_max = tk.plant(plant)
        rules, delays, compressed, missing = tk.tags(raw.get("tags", {}))
        loops = tk.loops(raw.get("loop", []))
        place_setpoint_tags(stations, loops)   # a setpoint tag in no station is read with its loop
        return Layout(name=name, target=target, goal=goal, stations=stations,  # type: ignore[arg-type]
                      time_column=time_column, forbidden=edges["forbidden"],
                      required=edges["required"], monotone=monotone, units=units,
                      source=self.source, sample=sample, lag_max=lag_max, tag_rules=rules,
                      tag_delays=delays, tag_compressed=compressed, tag_missing=missing,
                      recycles=tk.recycles(raw.get("recycle", [])),
                      loops=loops, joins=tk.joins(raw.get("join", [])),
                      kpi_type=kpi_type)

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
            lag, sensor_lags = TimeKeyReader(self).station(table, label)
            stations.append(Station(
                name=name, sensors=sensors or [], exogenous=exogenous, lag=lag, sensor_lags=sensor_lags,
                controllable=self.names(table.get("controllable", []),
                                        f"{label} key 'controllable'") or [],
                categorical=self.names(table.get("categorical", []),
                                       f"{label} key 'categorical'") or [],
            ))
        return stations

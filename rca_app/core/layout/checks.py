"""Checks on what a layout means: stations, sensors, the target, knowledge against the tiers."""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rca_app.core.errors import ProblemList
from rca_app.core.layout.constraints import Constraints, _cycle_text, _cycles

if TYPE_CHECKING:
    from rca_app.core.layout.model import Layout

# What a layout may ask of the KPI.
GOALS = ("maximize", "minimize")
KPI_TYPES = ("continuous", "binary", "count", "event")


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
    if layout.kpi_type is not None and layout.kpi_type not in KPI_TYPES:
        add(f"[plant] key 'kpi_type' must be one of {', '.join(KPI_TYPES)}, got '{layout.kpi_type}'"
            f"{_did_you_mean(layout.kpi_type, KPI_TYPES)}", "bad_kpi_type")
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
    # Recycles, loops and per-sensor lags name stations and sensors of this layout.
    from rca_app.core.layout.time_keys import check_time_keys

    def warn(message: str, code: str, column: str | None = None) -> None:
        problems.warn(message, file=src, column=column, code=code)

    check_time_keys(layout, add, warn)

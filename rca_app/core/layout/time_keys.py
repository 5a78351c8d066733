"""The layout's keys about time: sampling grid, residence times, recycles, control loops, joins.

All optional; a layout without them reads as before. In TOML::

    [plant]
    sample = "1min"              # analysis grid of a historian export (default: the KPI's rate)
    lag_max = "2h"               # longest residence time "auto" tries

    [[station]]
    lag = "15min"                # residence time to the next station, or "auto"
    lags = { analyser_x = "25min" }   # a sensor whose lag differs from its station's

    [tags.lab_viscosity]         # how a historian tag goes onto the grid
    rule = "last"                # mean, last, max or min
    delay = "40min"              # stamped this long after the sample was taken
    compressed = true            # stored by exception/deadband: held values are data, not a lab value
    missing = [-9999]            # its "no value" codes ([] keeps a nines value a number)

    [[recycle]]                  # a backward stream
    from = "Separator"
    to = "Reactor"
    lag = "30min"

    [[loop]]                     # a control loop
    controlled = "reactor_temp"
    manipulated = "coolant_valve"
    setpoint = "reactor_temp_sp" # a tag (need not be in a station) or a number
    low = 0                      # optional limits of the manipulated variable
    high = 100

    [[join]]                     # batch genealogy: lot properties from a second table
    file = "lots.csv"            # relative to the layout file
    on = "lot_id"                # the key column, in both tables
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AUTO = "auto"
TAG_RULES = ("mean", "last", "max", "min")


@dataclass(frozen=True)
class Recycle:
    """A backward stream from a later station to an earlier one.

    Attributes
    ----------
    source, to : str
        Station names (``from`` in the TOML).
    lag : str
        Its shortest transport time, a duration ("30min").
    """

    source: str
    to: str
    lag: str


@dataclass(frozen=True)
class Loop:
    """A control loop: the controller moves ``manipulated`` to hold ``controlled`` at its setpoint.

    Attributes
    ----------
    controlled, manipulated : str
        Sensors.
    setpoint : str or float or None
        A setpoint tag or a fixed number. A tag is the loop's reference, read against the
        controlled variable (did it hold its setpoint, did the operators move it), not a candidate
        cause: it may hold steady throughout, and one in no station is read with its loop's
        controlled variable's station (:func:`place_setpoint_tags`).
    low, high : float or None
        The manipulated variable's limits (valve 0-100 %), when known.
    """

    controlled: str
    manipulated: str
    setpoint: str | float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Join:
    """Columns of a second table joined by key (lot properties onto batches).

    Attributes
    ----------
    file : str
        The table, relative to the layout file.
    on : str
        The key column, present in both tables.
    sheet : str or None
        Excel sheet of the second table.
    """

    file: str
    on: str
    sheet: str | None = None


def parse_duration(value: Any) -> Any:
    """A pandas Timedelta for a duration text, or None when it is not one.

    Parameters
    ----------
    value : Any

    Returns
    -------
    Timedelta or None
    """
    import pandas as pd

    if not isinstance(value, str) or not value.strip():
        return None
    try:
        td = pd.Timedelta(value.strip())
    except (ValueError, TypeError):
        return None
    return td if td >= pd.Timedelta(0) else None


class TimeKeyReader:
    """Reads the time keys of a parsed layout TOML, reporting through the layout reader.

    Parameters
    ----------
    reader : object
        The layout parser's reader (``add``, ``keys``, ``text``).
    """

    def __init__(self, reader):
        self.r = reader

    def duration(self, value: Any, where: str, allow_auto: bool = False) -> str | None:
        if allow_auto and isinstance(value, str) and value.strip().lower() == AUTO:
            return AUTO
        if parse_duration(value) is None:
            extra = ' or "auto"' if allow_auto else ""
            self.r.add(f"{where} must be a duration such as \"15min\", \"30s\" or \"2h\"{extra}, "
                       f"got {value!r}", "bad_duration")
            return None
        return value.strip()

    def station(self, table: dict, label: str) -> tuple[str | None, dict[str, str]]:
        lag = None
        if "lag" in table:
            lag = self.duration(table["lag"], f"{label} key 'lag'", allow_auto=True)
        sensor_lags: dict[str, str] = {}
        raw = table.get("lags", {})
        if not isinstance(raw, dict):
            self.r.add(f"{label} key 'lags' must be a table such as {{ sensor = \"5min\" }}", "wrong_type")
            raw = {}
        for sensor, value in raw.items():
            d = self.duration(value, f"{label} lag of '{sensor}'", allow_auto=True)
            if d is not None:
                sensor_lags[sensor] = d
        return lag, sensor_lags

    def plant(self, plant: dict) -> tuple[str | None, str | None]:
        sample = lag_max = None
        if "sample" in plant:
            sample = self.duration(plant["sample"], "[plant] key 'sample'")
            if sample is not None and parse_duration(sample).total_seconds() <= 0:
                self.r.add("[plant] key 'sample' must be longer than zero", "bad_duration")
                sample = None
        if "lag_max" in plant:
            lag_max = self.duration(plant["lag_max"], "[plant] key 'lag_max'")
        return sample, lag_max

    def tags(self, value: Any) -> tuple[dict[str, str], dict[str, str], dict[str, bool], dict[str, tuple]]:
        rules: dict[str, str] = {}
        delays: dict[str, str] = {}
        compressed: dict[str, bool] = {}
        missing: dict[str, tuple] = {}
        if not isinstance(value, dict):
            self.r.add("'tags' must be tables such as [tags.lab_viscosity]", "wrong_type")
            return rules, delays, compressed, missing
        for tag, table in value.items():
            if not isinstance(table, dict):
                self.r.add(f"[tags.{tag}] must be a table with 'rule', 'delay', 'compressed' and/or 'missing'",
                           "wrong_type")
                continue
            table = self.r.keys(table, ("rule", "delay", "compressed", "missing"), f"[tags.{tag}]")
            if "missing" in table:
                codes = table["missing"]
                if isinstance(codes, list) and all(isinstance(c, (int, float)) and not isinstance(c, bool)
                                                   for c in codes):
                    missing[tag] = tuple(float(c) for c in codes)
                else:
                    self.r.add(f"[tags.{tag}] missing must be a list of numbers such as [-9999] (or [] for none), "
                               f"got {codes!r}", "wrong_type", column=tag)
            if "compressed" in table:
                if isinstance(table["compressed"], bool):
                    compressed[tag] = table["compressed"]
                else:
                    self.r.add(f"[tags.{tag}] compressed must be true or false, got {table['compressed']!r}",
                               "wrong_type", column=tag)
            if "rule" in table:
                rule = table["rule"]
                if rule not in TAG_RULES:
                    self.r.add(f"[tags.{tag}] rule must be one of {', '.join(TAG_RULES)}, got {rule!r}",
                               "bad_rule", column=tag)
                else:
                    rules[tag] = rule
            if "delay" in table:
                d = self.duration(table["delay"], f"[tags.{tag}] key 'delay'")
                if d is not None:
                    delays[tag] = d
        return rules, delays, compressed, missing

    def _tables(self, value: Any, key: str) -> list[dict]:
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.r.add(f"'{key}' must be [[{key}]] tables", "wrong_type")
            return []
        return value

    def recycles(self, value: Any) -> list[Recycle]:
        out = []
        for n, t in enumerate(self._tables(value, "recycle"), 1):
            t = self.r.keys(t, ("from", "to", "lag"), f"recycle #{n}")
            src = self.r.text(t.get("from", ""), f"recycle #{n} key 'from'")
            dst = self.r.text(t.get("to", ""), f"recycle #{n} key 'to'")
            lag = self.duration(t.get("lag", ""), f"recycle #{n} key 'lag'") if "lag" in t else None
            if "lag" not in t:
                self.r.add(f"recycle #{n} needs a 'lag' (its shortest transport time)", "missing_lag")
            if src and dst and lag:
                out.append(Recycle(src, dst, lag))
        return out

    def loops(self, value: Any) -> list[Loop]:
        out = []
        for n, t in enumerate(self._tables(value, "loop"), 1):
            t = self.r.keys(t, ("controlled", "manipulated", "setpoint", "low", "high"), f"loop #{n}")
            cv = self.r.text(t.get("controlled", ""), f"loop #{n} key 'controlled'")
            mv = self.r.text(t.get("manipulated", ""), f"loop #{n} key 'manipulated'")
            sp = t.get("setpoint")
            if sp is not None and (isinstance(sp, bool) or not isinstance(sp, (str, int, float))):
                self.r.add(f"loop #{n} key 'setpoint' must be a sensor name or a number", "wrong_type")
                sp = None
            limits = []
            for k in ("low", "high"):
                v = t.get(k)
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    self.r.add(f"loop #{n} key '{k}' must be a number", "wrong_type")
                    v = None
                limits.append(float(v) if v is not None else None)
            if cv and mv:
                out.append(Loop(cv, mv, float(sp) if isinstance(sp, (int, float)) else sp, *limits))
            elif not (cv and mv):
                self.r.add(f"loop #{n} needs both 'controlled' and 'manipulated'", "missing_loop_sensor")
        return out

    def joins(self, value: Any) -> list[Join]:
        out = []
        for n, t in enumerate(self._tables(value, "join"), 1):
            t = self.r.keys(t, ("file", "on", "sheet"), f"join #{n}")
            f = self.r.text(t.get("file", ""), f"join #{n} key 'file'")
            on = self.r.text(t.get("on", ""), f"join #{n} key 'on'")
            sheet = t.get("sheet")
            if not f or not on:
                self.r.add(f"join #{n} needs 'file' and 'on' (the key column)", "missing_join_key")
                continue
            out.append(Join(f, on, sheet if isinstance(sheet, str) else None))
        return out


def place_setpoint_tags(stations: list, loops: list[Loop]) -> None:
    """Put each loop's setpoint tag that is in no station with its controlled variable's station
    (in place), so that the data are read for it; it stays the loop's reference, never a cause.

    Parameters
    ----------
    stations : list of Station
    loops : list of Loop
    """
    listed = {s for st in stations for s in st.sensors}
    for lp in loops:
        if not isinstance(lp.setpoint, str) or lp.setpoint in listed:
            continue
        home = next((st for st in stations if lp.controlled in st.sensors), None)
        if home is not None:
            home.sensors.append(lp.setpoint)
            listed.add(lp.setpoint)


def check_time_keys(layout, add, warn=None) -> None:
    """Names in recycles, loops and sensor lags must exist in the layout; lags that cannot apply.

    Parameters
    ----------
    layout : Layout
    add : callable
        ``add(message, code, column)`` records an error.
    warn : callable, optional
        ``warn(message, code, column)`` records a warning (a lag that is not used).
    """
    from rca_app.core.layout.checks import _did_you_mean

    stations = [st.name for st in layout.stations]
    index = {st.name: i for i, st in enumerate(layout.stations)}
    sensors = list(layout.nodes)
    for n, rc in enumerate(layout.recycles, 1):
        for key, name in (("from", rc.source), ("to", rc.to)):
            if name not in index:
                add(f"recycle #{n} key '{key}' names station '{name}', which is not in the layout"
                    f"{_did_you_mean(name, stations)}", "unknown_station", None)
        if rc.source in index and rc.to in index and index[rc.source] <= index[rc.to] and rc.source != rc.to:
            add(f"recycle from '{rc.source}' to '{rc.to}' goes forward: a recycle returns material to an "
                "earlier station", "recycle_forward", None)
    for n, lp in enumerate(layout.loops, 1):
        named = [("controlled", lp.controlled), ("manipulated", lp.manipulated)]
        if isinstance(lp.setpoint, str) and lp.setpoint in (lp.controlled, lp.manipulated):
            add(f"loop #{n} key 'setpoint' names '{lp.setpoint}', its own controlled or manipulated variable: the "
                "setpoint is the value the controller holds the controlled variable at (a tag or a number)",
                "loop_same", lp.setpoint)
        for key, name in named:
            if name not in sensors:
                add(f"loop #{n} key '{key}' names '{name}', which is not a sensor of any station"
                    f"{_did_you_mean(name, sensors)}", "unknown_sensor", name)
        if lp.controlled == lp.manipulated:
            add(f"loop on '{lp.controlled}' names it as both controlled and manipulated", "loop_same", lp.controlled)
        if lp.low is not None and lp.high is not None and lp.low >= lp.high:
            add(f"loop on '{lp.controlled}': low ({lp.low}) must be below high ({lp.high})", "loop_limits", None)
    for st in layout.stations:
        for s in st.sensor_lags:
            if s not in st.sensors:
                add(f"station '{st.name}' gives a lag for '{s}', which is not one of its sensors"
                    f"{_did_you_mean(s, st.sensors)}", "unknown_sensor", s)
    if warn is not None:
        for message, column in unused_lags(layout):
            warn(message, "lag_not_used", column)


def _why_lag_unused(layout, i: int) -> str | None:
    """Why station ``i``'s lags move nothing, or None when they are used."""
    where = {s: k for k, st in enumerate(layout.stations) for s in st.sensors}
    kpi_at = where.get(layout.target)
    if kpi_at is not None and i == kpi_at:
        return (f"it holds the KPI ({layout.target}): a lag is the residence time to the next station, and "
                "every sensor is aligned to the KPI's own station, so this lag moves nothing")
    if kpi_at is not None and i > kpi_at:
        return (f"it comes after the KPI's station '{layout.stations[kpi_at].name}': material there no longer "
                "reaches the KPI, so this lag moves nothing")
    if i == len(layout.stations) - 1:
        return "it is the last station: a lag is the residence time to the next station, and there is none"
    return None


def unused_lags(layout) -> list[tuple[str, str | None]]:
    """Declared lags the alignment cannot use, with why.

    A station's lag is the residence time to the next station, and every sensor is aligned to the
    KPI's station; so a lag on the KPI's own station, on a station after it, or on the last
    station (no next station) moves nothing.

    Parameters
    ----------
    layout : Layout

    Returns
    -------
    list of (message, column)
    """
    out: list[tuple[str, str | None]] = []
    for i, st in enumerate(layout.stations):
        declared = [(f'lag = "{st.lag}"', None)] if st.lag not in (None, AUTO) else []
        declared += [(f'the lag of {s} ("{v}")', s) for s, v in st.sensor_lags.items() if v != AUTO]
        why = _why_lag_unused(layout, i) if declared else None
        if why is not None:
            out.extend((f"station '{st.name}' declares {what}, which is not used: {why}", column)
                       for what, column in declared)
    return out


def duration_text(td) -> str:
    """A duration as the layout writes it: "4min", "2h", "30s".

    Parameters
    ----------
    td : Timedelta

    Returns
    -------
    str
    """
    s = td.total_seconds()
    for unit, size in (("h", 3600), ("min", 60)):
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    return f"{s:g}s"


def lag_rounding_notes(layout, step) -> list[tuple[str, str | None]]:
    """Declared lags that are not a whole number of grid steps, and what they are used as.

    The alignment shifts whole rows, so a lag of 5 min on a 2-min grid is used as 4 min (round
    half to even, as :func:`round` does); a recycle's lag is at least one step.

    Parameters
    ----------
    layout : Layout
    step : Timedelta
        The analysis grid's step.

    Returns
    -------
    list of (message, column)
    """
    if step is None or step.total_seconds() <= 0:
        return []
    grid = duration_text(step)
    out: list[tuple[str, str | None]] = []

    def check(what: str, value: str, column: str | None, at_least: int = 0) -> None:
        td = parse_duration(value)
        if td is None:
            return
        rounded = int(round(td / step))
        k = max(at_least, rounded)
        if rounded < at_least and abs(td - rounded * step) <= step * 1e-9:
            # A whole number of steps (0), but too short: the stream comes back no sooner than
            # the next row, or it would be a contemporaneous backward edge.
            least = "one grid step" if at_least == 1 else f"{at_least} grid steps"
            out.append((f'{what} "{value}" is less than {least} ({grid}): material on a recycle comes back one '
                        "row later at the earliest (a backward link within the same row is not allowed), so it is "
                        f"used as {duration_text(k * step)} ({k} step{'s' if k != 1 else ''})", column))
            return
        if abs(td - k * step) > step * 1e-9:
            used = duration_text(k * step) if k else "0s (no lag)"
            out.append((f'{what} "{value}" is not a whole number of {grid} grid steps: it is used as {used} '
                        f"({k} step{'s' if k != 1 else ''})", column))

    for i, st in enumerate(layout.stations):
        if _why_lag_unused(layout, i) is not None:
            continue        # already said to move nothing
        if st.lag not in (None, AUTO):
            check(f"station '{st.name}' lag", st.lag, None)
        for s, v in st.sensor_lags.items():
            if v != AUTO:
                check(f"station '{st.name}' lag of {s}", v, s)
    for n, rc in enumerate(layout.recycles, 1):
        check(f"recycle #{n} ({rc.source} -> {rc.to}) lag", rc.lag, None, at_least=1)
    return out

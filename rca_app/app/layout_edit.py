"""Editing a plant layout in the Layout step: each function returns a new Layout (the input is
not changed), so an edit can be undone by keeping the previous one."""
from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.fileio import write_text_atomic
from rca_app.core.layout import Layout, Station, parse_layout
from rca_app.core.layout.time_keys import AUTO, TAG_RULES, Loop, Recycle, parse_duration


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
    """Move ``sensor`` to station ``to_station`` (None: out of every station).

    Its roles (controllable, categorical, exogenous) travel with it; a wholly exogenous station
    keeps making its sensors exogenous.

    Parameters
    ----------
    layout : Layout
        Not changed.
    sensor : str
    to_station : int or None
        Index of the station in process-flow order.
    index : int, optional
        Position among the station's sensors (None: last).

    Returns
    -------
    Layout
        A new layout; check it with ``Layout.problems()``.
    """
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
            # A sensor's own residence time belonged to its old place in the flow.
            st.sensor_lags.pop(sensor, None)
            if whole:
                st.exogenous = bool(st.sensors)
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
    """Mark or unmark ``sensor`` as exogenous, controllable or categorical.

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    sensor : str
    role : {"exogenous", "controllable", "categorical"}
    on : bool
        Mark (True) or unmark (False).

    Returns
    -------
    Layout
        The edited copy.

    Raises
    ------
    ValueError
        For an unknown role.
    RcaInputError
        If the sensor is in no station.
    """
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
    """Move station ``index`` to position ``new_index`` in the process flow (clamped to the ends).

    Moving a station changes the tiers: sensors can then only cause sensors at or after it.

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    index, new_index : int
        Positions in the flow order, 0 first.

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    new_index = max(0, min(new_index, len(out.stations) - 1))
    st = out.stations.pop(index)
    out.stations.insert(new_index, st)
    return out


def layout_add_station(layout: Layout, name: str, index: int | None = None) -> Layout:
    """A new empty station ``name`` at position ``index`` (None: after the last one).

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    name : str
    index : int, optional

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    st = Station(name=name, sensors=[])
    out.stations.insert(len(out.stations) if index is None else index, st)
    return out


def layout_rename_station(layout: Layout, index: int, name: str) -> Layout:
    """Station ``index`` renamed ``name`` (validation, e.g. of duplicates, is the core's).

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    index : int
    name : str

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    old = out.stations[index].name
    out.stations[index].name = name
    # Recycles name stations: they follow the new name.
    out.recycles = [Recycle(name if r.source == old else r.source, name if r.to == old else r.to, r.lag)
                    for r in out.recycles]
    return out


def layout_remove_station(layout: Layout, index: int) -> Layout:
    """Remove a station; its sensors become unassigned.

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    index : int

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    gone = out.stations.pop(index).name
    out.recycles = [r for r in out.recycles if gone not in (r.source, r.to)]
    return out


def layout_set_plant(layout: Layout, **values) -> Layout:
    """Change [plant] keys: name, target, goal, time_column, sample, lag_max, kpi_type (None or ""
    removes the last four; no kpi_type: inferred from the KPI's values).

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    **values
        The keys to change and their new values.

    Returns
    -------
    Layout
        The edited copy.

    Raises
    ------
    ValueError
        For another key, a sample / lag_max that is not a duration, or an unknown kpi_type.
    """
    from rca_app.core.layout.checks import KPI_TYPES

    out = _copy(layout)
    for key, v in values.items():
        if key not in ("name", "target", "goal", "time_column", "sample", "lag_max", "kpi_type"):
            raise ValueError(f"unknown plant key {key!r}")
        if key in ("sample", "lag_max") and v:
            v = _duration(v, key)
        if key == "kpi_type" and v and v not in KPI_TYPES:
            raise ValueError(f"kpi_type must be one of {', '.join(KPI_TYPES)}, not {v!r}")
        if key in ("time_column", "sample", "lag_max", "kpi_type"):
            v = v or None
        setattr(out, key, v)
    return out


def layout_set_unit(layout: Layout, sensor: str, unit: str) -> Layout:
    """``sensor``'s unit for labels and the report ("" removes it).

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    sensor, unit : str

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    if unit:
        out.units[sensor] = unit
    else:
        out.units.pop(sensor, None)
    return out


def unassigned_columns(layout: Layout | None, columns: Iterable[str]) -> list[str]:
    """Data columns that are in no station and not the time column.

    Parameters
    ----------
    layout : Layout or None
        None: every column is unassigned.
    columns : iterable of str
        The data file's columns.

    Returns
    -------
    list of str
    """
    cols = [str(c) for c in columns]
    if layout is None:
        return cols
    return layout.unassigned(cols)


def layout_missing_columns(layout: Layout, columns: Iterable[str]) -> list[str]:
    """Sensors the layout names that the data file does not have.

    Parameters
    ----------
    layout : Layout
    columns : iterable of str
        The data file's columns.

    Returns
    -------
    list of str
        In layout order.
    """
    have = {str(c) for c in columns}
    return [n for n in layout.nodes if n not in have]


def draft_layout(raw, name: str = "") -> Layout:
    """A first layout for a table that comes without one.

    The time column if one is recognised, every numeric and categorical column in one station,
    the last numeric column as the KPI. The engineer then splits it into stations in flow order.

    Parameters
    ----------
    raw : RawTable
        The table as read.
    name : str, optional
        Plant name; default the file's stem.

    Returns
    -------
    Layout
        For a historian long export: every tag in one station (the KPI the last), a
        "timestamp" time column (the pivoted grid's).
    """
    from rca_app.core.historian import detect_long_format

    long = detect_long_format([str(c) for c in raw.frame.columns])
    if long is not None:
        tags = list(dict.fromkeys(raw.frame[long.tag].dropna().astype(str).str.strip()))
        return Layout(name=name or Path(str(raw.file_name)).stem, target=tags[-1] if tags else "",
                      goal="maximize", stations=[Station("Station 1", tags)], time_column="timestamp",
                      source="layout.toml")
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
    """The layout with the graph editor's decisions as knowledge, for a fresh discovery that keeps them.

    Forced (and added) edges become required, removed ones forbidden; a reversed edge is
    forbidden one way and required the other.

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    edits : list of dict
        Each with ``op``, ``source`` and ``target``.

    Returns
    -------
    Layout
        The edited copy.
    """
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


def same_layout(a: Layout, b: Layout) -> bool:
    """Whether two layouts say the same (their TOML text and file name aside).

    Parameters
    ----------
    a, b : Layout

    Returns
    -------
    bool
    """
    return replace(a, text="", source="") == replace(b, text="", source="")


def as_read(layout: Layout) -> Layout | None:
    """The layout its own TOML text gives, if it still says the same (not edited since it was read).

    Saving that text keeps the file's comments and order.

    Parameters
    ----------
    layout : Layout

    Returns
    -------
    Layout or None
        None when the layout has no text, or was edited since.
    """
    if not layout.text:
        return None
    try:
        original = parse_layout(layout.text, layout.source)
    except RcaInputError:
        return None
    return original if same_layout(original, layout) else None


def write_layout(layout: Layout, path: str | Path) -> Path:
    """Save ``layout`` as TOML atomically (its original text if unchanged, see :func:`as_read`).

    Parameters
    ----------
    layout : Layout
    path : str or Path

    Returns
    -------
    Path
    """
    text = layout.text if as_read(layout) is not None else layout.to_toml()
    return write_text_atomic(path, text, newline="\n")


# ----------------------------------------------------------------------------- time keys
def _duration(value: str, what: str, allow_auto: bool = False) -> str:
    text = str(value).strip()
    if allow_auto and text.lower() == AUTO:
        return AUTO
    if parse_duration(text) is None:
        raise ValueError(f"{what} must be a duration such as '15min', '30s' or '2h'"
                         + (" or 'auto'" if allow_auto else "") + f", not {value!r}")
    return text


def layout_set_lag(layout: Layout, station: int, lag: str | None, sensor: str | None = None) -> Layout:
    """Residence time from station ``station`` to the next ("auto", a duration, or None for the
    default), or of one of its sensors when ``sensor`` is given.

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    station : int
    lag : str or None
    sensor : str, optional

    Returns
    -------
    Layout
        The edited copy.

    Raises
    ------
    ValueError
        For a lag that is not a duration or "auto", or a sensor of another station.
    """
    out = _copy(layout)
    st = out.stations[station]
    value = _duration(lag, "lag", allow_auto=True) if lag else None
    if sensor is None:
        st.lag = value
        return out
    if sensor not in st.sensors:
        raise ValueError(f"'{sensor}' is not a sensor of station '{st.name}'")
    if value is None:
        st.sensor_lags.pop(sensor, None)
    else:
        st.sensor_lags[sensor] = value
    return out


def layout_add_recycle(layout: Layout, source: str, to: str, lag: str) -> Layout:
    """A recycle stream from station ``source`` back to the earlier station ``to``.

    Parameters
    ----------
    layout : Layout
        Not changed; check the result with ``Layout.problems()``.
    source, to : str
        Station names.
    lag : str
        Its shortest transport time.

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    out.recycles.append(Recycle(source, to, _duration(lag, "recycle lag")))
    return out


def layout_add_loop(layout: Layout, controlled: str, manipulated: str, setpoint: str | float | None = None,
                    low: float | None = None, high: float | None = None) -> Layout:
    """A control loop (an existing loop on ``controlled`` is replaced).

    Parameters
    ----------
    layout : Layout
        Not changed; check the result with ``Layout.problems()``.
    controlled, manipulated : str
    setpoint : str or float, optional
    low, high : float, optional
        The manipulated variable's limits.

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    out.loops = [lp for lp in out.loops if lp.controlled != controlled]
    out.loops.append(Loop(controlled, manipulated, setpoint, low, high))
    return out


def layout_remove_time_item(layout: Layout, kind: str, index: int) -> Layout:
    """Remove the ``index``-th recycle (``kind="recycle"``) or loop (``kind="loop"``).

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    kind : {"recycle", "loop"}
    index : int

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    items = {"recycle": out.recycles, "loop": out.loops}[kind]
    items.pop(index)
    return out


def layout_set_tag(layout: Layout, tag: str, rule: str | None = None, delay: str | None = None) -> Layout:
    """How a historian tag goes onto the grid (None: the default rule / no delay).

    Parameters
    ----------
    layout : Layout
        Not changed; the edit is made on a copy.
    tag : str
    rule : {"mean", "last", "max", "min"} or None
    delay : str or None

    Returns
    -------
    Layout
        The edited copy.
    """
    out = _copy(layout)
    if rule is not None and rule not in TAG_RULES:
        raise ValueError(f"rule must be one of {', '.join(TAG_RULES)}, not {rule!r}")
    for table, value in ((out.tag_rules, rule), (out.tag_delays, _duration(delay, "delay") if delay else None)):
        if value is None:
            table.pop(tag, None)
        else:
            table[tag] = value
    return out

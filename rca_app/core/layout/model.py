"""Stations and the layout: which sensor sits where, in process-flow order, with its roles."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from rca_app.core.errors import Problem, ProblemList, RcaInputError
from rca_app.core.layout.checks import GOALS, _check_layout
from rca_app.core.layout.constraints import Constraints
from rca_app.core.layout.time_keys import Join, Loop, Recycle
from rca_app.core.layout.toml_text import _toml_key, _toml_list, _toml_str

Goal = Literal["maximize", "minimize"]
__all__ = ["GOALS", "Goal", "Layout", "Station"]


@dataclass
class Station:
    """One station of the line: the sensors measured there and their roles.

    Attributes
    ----------
    name : str
        Station name as in the layout, e.g. ``"Extruder"``.
    sensors : list of str
        Data columns measured at this station.
    exogenous : bool or list of str
        True: every sensor of the station is exogenous (nothing in the data causes it, e.g.
        raw-material properties); a list: only those sensors are.
    controllable : list of str
        Setpoints the engineer can change; only these get setpoint actions (do-operator).
    categorical : list of str
        Sensors holding levels (supplier, shift, mould) rather than numbers.
    lag : str or None
        Residence time from this station to the next: a duration ("15min") or "auto"; None
        means "auto" wherever the data have a time column.
    sensor_lags : dict of str to str
        Sensors whose lag to the next station differs from the station's.
    """
    name: str
    sensors: list[str]
    # True: every sensor of the station is exogenous; a list: only those sensors are.
    exogenous: bool | list[str] = False
    controllable: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    lag: str | None = None
    sensor_lags: dict[str, str] = field(default_factory=dict)

    def is_exogenous(self, sensor: str) -> bool:
        """Whether a sensor of this station is declared exogenous.

        Parameters
        ----------
        sensor : str
            Sensor name.

        Returns
        -------
        bool
        """
        if isinstance(self.exogenous, bool):
            return self.exogenous and sensor in self.sensors
        return sensor in self.exogenous


@dataclass
class Layout:
    """The plant layout: stations in process-flow order, the target, and prior knowledge.

    The flow order gives the tiers of tiered causal discovery: a later station cannot cause an
    earlier one.

    Attributes
    ----------
    name : str
        Plant or line name, for the report.
    target : str
        The yield (or scrap) column being explained.
    goal : {"maximize", "minimize"}
        Which way the target should go.
    stations : list of Station
        In process-flow order.
    time_column : str or None
        Timestamp column of the data, if any.
    forbidden, required : list of (str, str)
        Direct edges ruled out or known to exist (``[knowledge]``).
    monotone : dict
        ``(parent, child) -> +1`` (increasing) or ``-1`` (decreasing) mechanism declarations.
    units : dict
        Engineering unit per sensor, for messages and the report.
    source, text, path : str
        File name for messages, TOML as read (for the report's reproducibility appendix), and
        where it was loaded from (``""`` if from text).
    warnings : list of Problem
        Non-fatal findings from parsing.
    sample, lag_max : str or None
        Grid step of a historian export and the longest residence time "auto" tries.
    tag_rules, tag_delays : dict of str to str
        Per historian tag: how it goes onto the grid, and how late its timestamps are.
    tag_compressed : dict of str to bool
        Per historian tag: stored by exception (deadband compression), so its held values are
        data (True), or a lab value whatever its spacing looks like (False); unset: detected.
    tag_missing : dict of str to tuple of float
        Per tag or column: the values that mean "no value" (-9999); an empty tuple keeps every
        value a number. Unset: a value of nines far outside the others is found and read as missing.
    recycles, loops, joins : list
        :class:`Recycle` streams, control :class:`Loop` s, :class:`Join` ed tables.
    """
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
    sample: str | None = None
    lag_max: str | None = None
    tag_rules: dict[str, str] = field(default_factory=dict)
    tag_delays: dict[str, str] = field(default_factory=dict)
    tag_compressed: dict[str, bool] = field(default_factory=dict)
    tag_missing: dict[str, tuple] = field(default_factory=dict)
    recycles: list[Recycle] = field(default_factory=list)
    loops: list[Loop] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)
    # What kind of number the KPI is: "continuous", "binary" (pass/fail), "count" (defects) or
    # "event" (an alarm); None: inferred from the data (see core/incident_shapes.py).
    kpi_type: str | None = None

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
        """0-based index of the station holding ``node`` (its tier in the flow order).

        Parameters
        ----------
        node : str
            Sensor name.

        Returns
        -------
        int

        Raises
        ------
        KeyError
            If the sensor is in no station.
        """
        try:
            return self._station_index()[node]
        except KeyError:
            raise KeyError(f"'{node}' is not a sensor of any station in {self.source}") from None

    def station_of(self, node: str) -> str:
        """Name of the station holding ``node``.

        Parameters
        ----------
        node : str
            Sensor name.

        Returns
        -------
        str
        """
        return self.stations[self.tier_of(node)].name

    def is_exogenous(self, node: str) -> bool:
        """Whether ``node`` is declared exogenous (nothing in the data causes it).

        Parameters
        ----------
        node : str
            Sensor name.

        Returns
        -------
        bool
        """
        return self.stations[self.tier_of(node)].is_exogenous(node)

    @property
    def exogenous(self) -> list[str]:
        """Every exogenous sensor, in station order."""
        return [s for st in self.stations for s in st.sensors if st.is_exogenous(s)]

    @property
    def controllable(self) -> list[str]:
        """Every controllable setpoint, in station order."""
        return [s for st in self.stations for s in st.controllable]

    @property
    def categorical(self) -> list[str]:
        """Every categorical sensor, in station order."""
        return [s for st in self.stations for s in st.categorical]

    def unit(self, node: str) -> str:
        """Engineering unit of a sensor.

        Parameters
        ----------
        node : str
            Sensor name.

        Returns
        -------
        str
            The unit, or ``""`` if none is given.
        """
        return self.units.get(node, "")

    def unassigned(self, columns: Iterable[str]) -> list[str]:
        """Data columns that are in no station (the time column is not counted).

        Parameters
        ----------
        columns : iterable of str
            Column names of the data file.

        Returns
        -------
        list of str
            In the order given.
        """
        known = set(self.nodes)
        if self.time_column:
            known.add(self.time_column)
        return [c for c in columns if c not in known]

    def constraints(self) -> Constraints:
        """The causal constraints this layout implies (tiers, exogenous sensors, knowledge).

        Returns
        -------
        Constraints
        """
        index = self._station_index()
        # A control loop's manipulated variable acts on its controlled variable within the row
        # (the valve moves the temperature); the controller's answer (temperature -> valve) is
        # feedback, which a DAG of one row cannot hold. Declaring the loop therefore fixes the
        # contemporaneous direction MV -> CV, unless the engineer said otherwise or the tiers forbid it.
        required, forbidden = set(self.required), set(self.forbidden)
        for lp in self.loops:
            mv, cv = lp.manipulated, lp.controlled
            if (mv in index and cv in index and index[mv] <= index[cv] and cv not in self.exogenous
                    and cv != self.target and (cv, mv) not in required and (mv, cv) not in forbidden):
                required.add((mv, cv))
                forbidden.add((cv, mv))
        return Constraints(
            nodes=tuple(index),
            tier=dict(index),
            exogenous=frozenset(self.exogenous),
            target=self.target,
            forbidden=frozenset(forbidden),
            required=frozenset(required),
            station_names=tuple(st.name for st in self.stations),
        )

    def problems(self) -> list[Problem]:
        """Validate the layout as it is now (e.g. after GUI edits).

        Returns
        -------
        list of Problem
            Errors and warnings; empty if the layout is fine.
        """
        problems = ProblemList()
        _check_layout(self, problems)
        return problems.items

    def restricted_to(self, nodes: Iterable[str]) -> Layout:
        """A copy keeping only the sensors in ``nodes``.

        Other sensors vanish from stations, knowledge and units. Stations keep their places, even
        if emptied, so tiers are unchanged. ``text`` still holds the file as the user wrote it.

        Parameters
        ----------
        nodes : iterable of str
            Sensors to keep, usually the data file's columns.

        Returns
        -------
        Layout

        Raises
        ------
        RcaInputError
            If the target is not among ``nodes``.
        """
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
                lag=st.lag,
                sensor_lags={k: v for k, v in st.sensor_lags.items() if k in keep},
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
            sample=self.sample, lag_max=self.lag_max, tag_rules=dict(self.tag_rules),
            tag_delays=dict(self.tag_delays), tag_compressed=dict(self.tag_compressed),
            tag_missing=dict(self.tag_missing), recycles=list(self.recycles),
            loops=[lp for lp in self.loops if lp.controlled in keep and lp.manipulated in keep],
            joins=list(self.joins),
            kpi_type=self.kpi_type,
        )

    # ----------------------------------------------------------------- serialisation
    def to_toml(self) -> str:
        """Serialise to TOML that :func:`parse_layout` reads back to an equal Layout.

        Comments and formatting of the original file are not kept.

        Returns
        -------
        str
        """
        out = ["[plant]",
               f"name = {_toml_str(self.name)}",
               f"target = {_toml_str(self.target)}",
               f"goal = {_toml_str(self.goal)}"]
        if self.time_column is not None:
            out.append(f"time_column = {_toml_str(self.time_column)}")
        for key in ("sample", "lag_max"):
            if getattr(self, key) is not None:
                out.append(f"{key} = {_toml_str(getattr(self, key))}")
        if self.kpi_type is not None:
            out.append(f"kpi_type = {_toml_str(self.kpi_type)}")
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
            if st.lag is not None:
                out.append(f"lag = {_toml_str(st.lag)}")
            if st.sensor_lags:
                items = ", ".join(f"{_toml_key(k)} = {_toml_str(v)}" for k, v in st.sensor_lags.items())
                out.append(f"lags = {{ {items} }}")
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
        out += self._time_toml()
        return "\n".join(out) + "\n"

    def _time_toml(self) -> list[str]:
        """The TOML of tags, recycles, loops and joins (see :mod:`.time_keys`)."""
        out: list[str] = []
        for tag in dict.fromkeys([*self.tag_rules, *self.tag_delays, *self.tag_compressed, *self.tag_missing]):
            out += ["", f"[tags.{_toml_key(tag)}]"]
            if tag in self.tag_rules:
                out.append(f"rule = {_toml_str(self.tag_rules[tag])}")
            if tag in self.tag_delays:
                out.append(f"delay = {_toml_str(self.tag_delays[tag])}")
            if tag in self.tag_compressed:
                out.append(f"compressed = {'true' if self.tag_compressed[tag] else 'false'}")
            if tag in self.tag_missing:
                out.append(f"missing = [{', '.join(f'{c:g}' for c in self.tag_missing[tag])}]")
        for rc in self.recycles:
            out += ["", "[[recycle]]", f"from = {_toml_str(rc.source)}", f"to = {_toml_str(rc.to)}",
                    f"lag = {_toml_str(rc.lag)}"]
        for lp in self.loops:
            out += ["", "[[loop]]", f"controlled = {_toml_str(lp.controlled)}",
                    f"manipulated = {_toml_str(lp.manipulated)}"]
            if isinstance(lp.setpoint, str):
                out.append(f"setpoint = {_toml_str(lp.setpoint)}")
            elif lp.setpoint is not None:
                out.append(f"setpoint = {lp.setpoint!r}")
            out += [f"{k} = {getattr(lp, k)!r}" for k in ("low", "high") if getattr(lp, k) is not None]
        for j in self.joins:
            out += ["", "[[join]]", f"file = {_toml_str(j.file)}", f"on = {_toml_str(j.on)}"]
            if j.sheet is not None:
                out.append(f"sheet = {_toml_str(j.sheet)}")
        return out

    @property
    def time_declared(self) -> bool:
        """Whether the layout declares anything about time (lags, recycles, loops)."""
        return bool(self.recycles or self.loops or any(st.lag is not None or st.sensor_lags
                                                       for st in self.stations))

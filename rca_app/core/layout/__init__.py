"""The plant's physical layout, and the causal constraints it implies.

Stations are listed in process-flow order. Material flows forward, so a sensor at a later
station cannot cause one at an earlier station: the layout becomes tiered background
knowledge for causal discovery.

Modules: ``model`` (Station, Layout), ``constraints`` (Constraints), ``parsing`` (reading TOML),
``checks`` (what a layout means), ``toml_text``. The public names:
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
    kpi_type = "continuous"      # optional: "binary", "count" or "event"; default inferred

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
from rca_app.core.layout.constraints import Constraints
from rca_app.core.layout.model import GOALS, Goal, Layout, Station
from rca_app.core.layout.parsing import load_layout, parse_layout

__all__ = ["GOALS", "Constraints", "Goal", "Layout", "Station", "load_layout", "parse_layout"]

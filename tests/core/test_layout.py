"""Tests for rca_app.core.layout: parsing, validation, constraints, lingam prior knowledge."""
from __future__ import annotations

import dataclasses
import itertools
import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rca_app.core.errors import RcaInputError
from rca_app.core.layout import (
    Constraints,
    Layout,
    Station,
    load_layout,
    parse_layout,
)
from tests.paths import FIXTURES as ALL_FIXTURES

FIXTURES = ALL_FIXTURES / "layouts"

# A small valid 3-station plant; error cases below are one edit away from it.
BASE = """\
[plant]
name = "Line 7"
target = "yield_pct"
goal = "maximize"

[[station]]
name = "Incoming"
sensors = ["moisture", "supplier"]
exogenous = true
categorical = ["supplier"]

[[station]]
name = "Dryer"
sensors = ["dryer_temp", "dewpoint"]
controllable = ["dryer_temp"]

[[station]]
name = "Quality"
sensors = ["thickness", "yield_pct"]

[knowledge]
forbidden = [["dewpoint", "dryer_temp"]]
required = [["dryer_temp", "dewpoint"]]

[units]
dryer_temp = "°C"
"""


def edited(*replacements: tuple[str, str]) -> str:
    text = BASE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def problems_of(text: str, source: str = "plant.toml"):
    with pytest.raises(RcaInputError) as info:
        parse_layout(text, source)
    return info.value.problems


# --------------------------------------------------------------------- parsing
def test_base_parses_with_derived_views():
    lay = parse_layout(BASE, "plant.toml")
    assert lay.source == "plant.toml" and lay.text == BASE
    assert lay.name == "Line 7" and lay.target == "yield_pct" and lay.goal == "maximize"
    assert lay.time_column is None
    assert lay.nodes == ["moisture", "supplier", "dryer_temp", "dewpoint", "thickness",
                         "yield_pct"]
    assert [lay.tier_of(n) for n in lay.nodes] == [0, 0, 1, 1, 2, 2]
    assert lay.station_of("dewpoint") == "Dryer"
    assert lay.station_of("yield_pct") == "Quality"
    assert lay.is_exogenous("moisture") and lay.is_exogenous("supplier")
    assert not lay.is_exogenous("dryer_temp")
    assert lay.exogenous == ["moisture", "supplier"]
    assert lay.controllable == ["dryer_temp"]
    assert lay.categorical == ["supplier"]
    assert lay.unit("dryer_temp") == "°C" and lay.unit("thickness") == ""
    assert lay.forbidden == [("dewpoint", "dryer_temp")]
    assert lay.required == [("dryer_temp", "dewpoint")]
    assert lay.warnings == []
    with pytest.raises(KeyError, match="nope"):
        lay.tier_of("nope")


def test_fixture_file_with_monotone_time_column_and_bom(tmp_path):
    lay = load_layout(FIXTURES / "line7.toml")
    assert lay.source == "line7.toml"
    assert lay.time_column == "timestamp"
    assert lay.goal == "maximize"
    assert lay.monotone == {("hold_pressure_bar", "wall_thickness_mm"): 1,
                            ("resin_moisture_pct", "yield_pct"): -1}
    assert lay.unit("ambient_temp_C") == "°C"
    assert lay.tier_of("yield_pct") == 3
    # The same file saved by a Windows editor with a byte-order mark.
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "line7.toml").read_bytes())
    assert dataclasses.replace(load_layout(bom), source="line7.toml", text=lay.text) == lay


def test_exogenous_as_list_marks_only_those_sensors():
    lay = parse_layout(edited(('exogenous = true', 'exogenous = ["moisture"]')))
    assert lay.is_exogenous("moisture") and not lay.is_exogenous("supplier")
    assert lay.constraints().allows("supplier", "moisture") is False   # into exogenous
    assert lay.constraints().allows("moisture", "supplier") is True    # same station
    assert lay.constraints().exogenous == {"moisture"}


def test_goal_minimize_and_defaults():
    lay = parse_layout(edited(('goal = "maximize"', 'goal = "minimize"')))
    assert lay.goal == "minimize"
    lay = parse_layout(edited(('goal = "maximize"\n', '')))
    assert lay.goal == "maximize"


def test_station_without_sensors_is_a_warning_not_an_error():
    text = edited(('[[station]]\nname = "Quality"',
                   '[[station]]\nname = "Spare"\nsensors = []\n\n[[station]]\nname = "Quality"'))
    lay = parse_layout(text, "p.toml")
    assert [w.code for w in lay.warnings] == ["empty_station"]
    assert "Spare" in lay.warnings[0].message and lay.warnings[0].file == "p.toml"


# --------------------------------------------------------------------- file errors
def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(RcaInputError) as info:
        load_layout(tmp_path / "absent.toml")
    (p,) = info.value.problems
    assert p.file == "absent.toml" and "absent.toml" in p.message


def test_directory_is_unreadable(tmp_path):
    with pytest.raises(RcaInputError) as info:
        load_layout(tmp_path)
    assert info.value.problems[0].code == "unreadable"


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace("°C", "\xb0C").encode("latin-1"))
    with pytest.raises(RcaInputError) as info:
        load_layout(path)
    (p,) = info.value.problems
    assert p.file == "latin1.toml" and "UTF-8" in p.message


def test_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.toml"
    # Line 4 loses its quotes.
    path.write_text(BASE.replace('goal = "maximize"', 'goal = maximize'), encoding="utf-8")
    with pytest.raises(RcaInputError) as info:
        load_layout(path)
    (p,) = info.value.problems
    assert p.file == "broken.toml" and p.code == "toml_syntax"
    assert str(p) == "broken.toml: TOML syntax error at line 4, column 8: Invalid value"


def test_syntax_error_at_end_of_document():
    (p,) = problems_of("[plant]\nname = ", "end.toml")
    assert p.code == "toml_syntax" and "end of the file (line 2)" in p.message


# --------------------------------------------------------------------- validation
# (id, edits, code, column, words that must appear in the message)
ERROR_CASES = [
    ("sensor_in_two_stations",
     [('["thickness", "yield_pct"]', '["thickness", "dewpoint", "yield_pct"]')],
     "duplicate_sensor", "dewpoint", ["'dewpoint'", "'Dryer'", "'Quality'"]),
    ("sensor_twice_in_one_station",
     [('sensors = ["dryer_temp", "dewpoint"]', 'sensors = ["dryer_temp", "dewpoint", "dryer_temp"]')],
     "duplicate_sensor", "dryer_temp", ["twice", "'Dryer'"]),
    ("unknown_sensor_in_knowledge",
     [('forbidden = [["dewpoint", "dryer_temp"]]', 'forbidden = [["dewpoint", "dryer_tmp"]]')],
     "unknown_sensor", "dryer_tmp", ["[knowledge] forbidden", "did you mean 'dryer_temp'?"]),
    ("unknown_sensor_in_units",
     [('dryer_temp = "°C"', 'drier_temp = "°C"')],
     "unknown_sensor", "drier_temp", ["[units]", "did you mean 'dryer_temp'?"]),
    ("unknown_controllable",
     [('controllable = ["dryer_temp"]', 'controllable = ["Dryer_Temp"]')],
     "unknown_sensor", "Dryer_Temp", ["'controllable'", "did you mean 'dryer_temp'?"]),
    ("categorical_of_another_station",
     [('controllable = ["dryer_temp"]', 'controllable = ["dryer_temp"]\ncategorical = ["supplier"]')],
     "wrong_station", "supplier", ["'categorical'", "'Incoming'", "'Dryer'"]),
    ("exogenous_list_unknown",
     [('exogenous = true', 'exogenous = ["moisture", "humidity"]')],
     "unknown_sensor", "humidity", ["'exogenous'", "in no station"]),
    ("target_in_no_station",
     [('target = "yield_pct"', 'target = "Yield_pct"')],
     "missing_target", "Yield_pct", ["target", "did you mean 'yield_pct'?"]),
    ("target_missing_entirely",
     [('target = "yield_pct"\n', '')],
     "no_target", None, ["[plant]", "'target'"]),
    ("sensors_not_a_list",
     [('sensors = ["dryer_temp", "dewpoint"]', 'sensors = 5')],
     "wrong_type", None, ["station #2 'Dryer' key 'sensors'", "list"]),
    ("sensors_a_single_string",
     [('sensors = ["thickness", "yield_pct"]', 'sensors = "yield_pct"')],
     "wrong_type", None, ["station #3 'Quality' key 'sensors'", "[\"yield_pct\"]"]),
    ("sensor_name_not_text",
     [('sensors = ["dryer_temp", "dewpoint"]', 'sensors = ["dryer_temp", 3, "dewpoint"]')],
     "wrong_type", None, ["key 'sensors'", "the number 3"]),
    ("goal_not_a_choice",
     [('goal = "maximize"', 'goal = "max"')],
     "bad_goal", None, ["[plant] key 'goal'", "'max'", "did you mean 'maximize'?"]),
    ("goal_not_text",
     [('goal = "maximize"', 'goal = 1')],
     "wrong_type", None, ["[plant] key 'goal'", "the number 1"]),
    ("name_not_text",
     [('name = "Line 7"', 'name = ["Line 7"]')],
     "wrong_type", None, ["[plant] key 'name'", "a list"]),
    ("empty_station_name",
     [('name = "Dryer"', 'name = "  "')],
     "empty_station_name", None, ["station #2", "empty name"]),
    ("duplicate_station_name",
     [('name = "Quality"', 'name = "dryer"')],
     "duplicate_station", None, ["station #3 'dryer'", "station #2"]),
    ("required_against_flow",
     [('required = [["dryer_temp", "dewpoint"]]', 'required = [["thickness", "dryer_temp"]]')],
     "required_contradicts_layout", "thickness",
     ["'thickness'", "'dryer_temp'", "'Quality'", "'Dryer'", "flows forward"]),
    ("required_into_exogenous",
     [('required = [["dryer_temp", "dewpoint"]]', 'required = [["supplier", "moisture"]]')],
     "required_contradicts_layout", "moisture", ["'moisture'", "exogenous"]),
    ("required_out_of_target",
     [('required = [["dryer_temp", "dewpoint"]]', 'required = [["yield_pct", "thickness"]]')],
     "required_contradicts_layout", "yield_pct", ["'yield_pct'", "target"]),
    ("required_self_loop",
     [('required = [["dryer_temp", "dewpoint"]]', 'required = [["dewpoint", "dewpoint"]]')],
     "required_contradicts_layout", "dewpoint", ["itself"]),
    ("required_and_forbidden",
     [('forbidden = [["dewpoint", "dryer_temp"]]', 'forbidden = [["dryer_temp", "dewpoint"]]')],
     "required_and_forbidden", "dryer_temp", ["'dryer_temp' -> 'dewpoint'", "forbidden"]),
    ("required_cycle",
     [('sensors = ["dryer_temp", "dewpoint"]', 'sensors = ["dryer_temp", "dewpoint", "airflow"]'),
      ('forbidden = [["dewpoint", "dryer_temp"]]', ''),
      ('required = [["dryer_temp", "dewpoint"]]',
       'required = [["dryer_temp", "dewpoint"], ["dewpoint", "airflow"], ["airflow", "dryer_temp"]]')],
     "required_cycle", "dryer_temp",
     ["cycle", "'dryer_temp' -> 'dewpoint' -> 'airflow' -> 'dryer_temp'"]),
    ("cycle_through_a_backward_edge_is_reported_once",
     [('required = [["dryer_temp", "dewpoint"]]',
       'required = [["dryer_temp", "thickness"], ["thickness", "dryer_temp"]]')],
     "required_contradicts_layout", "thickness", ["'thickness' -> 'dryer_temp'", "forward"]),
    ("unknown_key_in_station",
     [('sensors = ["dryer_temp", "dewpoint"]', 'sensros = ["dryer_temp", "dewpoint"]')],
     "unknown_key", None, ["'sensros'", "station #2 'Dryer'", "did you mean 'sensors'?"]),
    ("unknown_key_in_plant",
     [('target = "yield_pct"', 'traget = "yield_pct"')],
     "unknown_key", None, ["'traget'", "[plant]", "did you mean 'target'?"]),
    ("unknown_table",
     [('[knowledge]', '[knowlege]')],
     "unknown_key", None, ["'knowlege'", "did you mean 'knowledge'?"]),
    ("unknown_key_in_knowledge",
     [('forbidden = ', 'forbiden = ')],
     "unknown_key", None, ["'forbiden'", "[knowledge]", "did you mean 'forbidden'?"]),
    ("unknown_key_without_suggestion",
     [('goal = "maximize"', 'goal = "maximize"\nshift_pattern = 3')],
     "unknown_key", None, ["'shift_pattern'", "[plant]"]),
    ("controllable_target",
     [('sensors = ["thickness", "yield_pct"]',
       'sensors = ["thickness", "yield_pct"]\ncontrollable = ["yield_pct"]')],
     "target_controllable", "yield_pct", ["controllable", "'Quality'"]),
    ("categorical_target",
     [('sensors = ["thickness", "yield_pct"]',
       'sensors = ["thickness", "yield_pct"]\ncategorical = ["yield_pct"]')],
     "target_categorical", "yield_pct", ["categorical"]),
    ("target_exogenous",
     [('sensors = ["thickness", "yield_pct"]',
       'sensors = ["thickness", "yield_pct"]\nexogenous = ["yield_pct"]')],
     "target_exogenous", "yield_pct", ["exogenous", "'Quality'"]),
    ("pairs_not_nested",
     [('required = [["dryer_temp", "dewpoint"]]', 'required = ["dryer_temp", "dewpoint"]')],
     "wrong_type", None, ["[knowledge] key 'required'", "pairs"]),
    ("pair_of_three",
     [('required = [["dryer_temp", "dewpoint"]]', 'required = [["dryer_temp", "dewpoint", "x"]]')],
     "wrong_type", None, ["[knowledge] key 'required' entry 1"]),
    ("unit_not_text",
     [('dryer_temp = "°C"', 'dryer_temp = 5')],
     "wrong_type", "dryer_temp", ["[units] key 'dryer_temp'"]),
    ("time_column_is_a_sensor",
     [('goal = "maximize"', 'goal = "maximize"\ntime_column = "thickness"')],
     "time_column_is_sensor", "thickness", ["time_column", "'Quality'"]),
    ("monotone_against_flow",
     [('required = [["dryer_temp", "dewpoint"]]',
       'required = [["dryer_temp", "dewpoint"]]\nincreasing = [["thickness", "moisture"]]')],
     "monotone_contradicts_layout", "moisture", ["increasing", "'thickness' -> 'moisture'"]),
    ("monotone_both_ways",
     [('required = [["dryer_temp", "dewpoint"]]',
       'required = [["dryer_temp", "dewpoint"]]\nincreasing = [["thickness", "yield_pct"]]\n'
       'decreasing = [["thickness", "yield_pct"]]')],
     "monotone_conflict", "yield_pct", ["increasing", "decreasing"]),
]


@pytest.mark.parametrize("edits, code, column, words",
                         [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_each_error_is_reported_once_naming_file_and_culprit(edits, code, column, words):
    problems = problems_of(edited(*edits), "plant.toml")
    # Exactly one problem: a single mistake must not cascade into derived complaints.
    assert len(problems) == 1, [str(p) for p in problems]
    (p,) = problems
    assert p.code == code, str(p)
    assert p.file == "plant.toml" and str(p).startswith("plant.toml")
    assert p.column == column
    for word in words:
        assert word in p.message, (word, p.message)


def test_misspelt_sensors_key_still_checks_its_values():
    # The values under the misspelt key are still read, so an unknown sensor there is found.
    problems = problems_of(edited(
        ('sensors = ["dryer_temp", "dewpoint"]', 'sensros = ["dryer_temp", "dewpoint"]'),
        ('forbidden = [["dewpoint", "dryer_temp"]]', 'forbidden = [["dewpoint", "dryer_tmp"]]')))
    assert [p.code for p in problems] == ["unknown_key", "unknown_sensor"]


def test_three_errors_give_three_problems():
    text = edited(
        ('["thickness", "yield_pct"]', '["thickness", "dewpoint", "yield_pct"]'),
        ('goal = "maximize"', 'goal = "minimise"'),
        ('controllable = ["dryer_temp"]', 'controlable = ["dryer_temp"]'),
    )
    problems = problems_of(text, "three.toml")
    assert sorted(p.code for p in problems) == ["bad_goal", "duplicate_sensor", "unknown_key"]
    assert all(p.file == "three.toml" for p in problems)
    assert any("did you mean 'minimize'?" in p.message for p in problems)
    assert any("did you mean 'controllable'?" in p.message for p in problems)
    # The exception text lists every problem, one per line.
    with pytest.raises(RcaInputError) as info:
        parse_layout(text, "three.toml")
    assert str(info.value).count("three.toml") == 3


def test_single_bracket_station():
    text = '[plant]\ntarget = "y"\n\n[station]\nname = "Quality"\nsensors = ["y"]\n'
    (p,) = problems_of(text, "one.toml")
    assert p.code == "wrong_type" and "[[station]] (double brackets)" in p.message


def test_no_stations():
    (p,) = problems_of('[plant]\ntarget = "y"\n', "empty.toml")
    assert p.code == "no_stations" and p.file == "empty.toml"


def test_problems_of_an_edited_layout():
    lay = parse_layout(BASE)
    assert lay.problems() == []
    lay.stations[0].sensors.append("thickness")
    lay.required.append(("yield_pct", "dewpoint"))
    codes = sorted(p.code for p in lay.problems())
    assert codes == ["duplicate_sensor", "required_contradicts_layout"]


# --------------------------------------------------------------------- round trip
def test_round_trip_keeps_everything():
    lay = load_layout(FIXTURES / "line7.toml")
    lay.stations[0].exogenous = ["ambient_temp_C"]
    lay.stations[1].name = 'Dryer "B"\\2'
    lay.units["wall_thickness_mm"] = "mm\t(±0.01)"
    text = lay.to_toml()
    back = parse_layout(text, lay.source)
    assert back == dataclasses.replace(lay, text=text)
    assert back.to_toml() == text


def test_round_trip_odd_sensor_names_as_unit_keys():
    text = edited(('["thickness", "yield_pct"]', '["wall thickness (mm)", "yield_pct"]'),
                  ('dryer_temp = "°C"', 'dryer_temp = "°C"\n"wall thickness (mm)" = "mm"'))
    lay = parse_layout(text)
    assert parse_layout(lay.to_toml()) == dataclasses.replace(lay, text=lay.to_toml())


_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6).filter(
    lambda s: s.strip() != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_names, min_size=1, max_size=3), min_size=1, max_size=3),
       st.lists(_names, min_size=3, max_size=3, unique_by=lambda s: s.strip().casefold()),
       _names, st.booleans())
def test_round_trip_any_names(groups, station_names, unit, minimize):
    seen: set[str] = set()
    stations = []
    for name, group in zip(station_names, groups, strict=False):  # fewer groups than names: unnamed extras
        sensors = [s for s in dict.fromkeys(group) if not (s in seen or seen.add(s))]
        stations.append(Station(name=name, sensors=sensors))
    stations = [s for s in stations if s.sensors]
    target = stations[-1].sensors[-1]
    lay = Layout(name=unit, target=target, goal="minimize" if minimize else "maximize",
                 stations=stations, units={target: unit})
    text = lay.to_toml()
    assert parse_layout(text) == dataclasses.replace(lay, text=text)


# --------------------------------------------------------------------- restriction
def test_restricted_to_drops_missing_sensors_everywhere():
    lay = parse_layout(edited(('dryer_temp = "°C"', 'dryer_temp = "°C"\ndewpoint = "°C"')))
    small = lay.restricted_to(["moisture", "dryer_temp", "yield_pct", "not_in_layout"])
    assert small.nodes == ["moisture", "dryer_temp", "yield_pct"]
    assert [s.name for s in small.stations] == ["Incoming", "Dryer", "Quality"]
    assert small.tier_of("yield_pct") == 2
    assert small.categorical == [] and small.controllable == ["dryer_temp"]
    assert small.forbidden == [] and small.required == []
    assert small.units == {"dryer_temp": "°C"}
    assert lay.nodes[1] == "supplier"   # the original is untouched
    assert small.problems() == []
    with pytest.raises(RcaInputError) as info:
        lay.restricted_to(["moisture"])
    assert info.value.problems[0].column == "yield_pct"


def test_restricted_exogenous_list_becomes_false_when_emptied():
    lay = parse_layout(edited(('exogenous = true', 'exogenous = ["moisture"]')))
    small = lay.restricted_to(["supplier", "yield_pct"])
    assert small.stations[0].exogenous is False
    assert parse_layout(small.to_toml()).stations[0].exogenous is False


def test_unassigned_columns():
    lay = parse_layout(edited(('goal = "maximize"', 'goal = "maximize"\ntime_column = "ts"')))
    assert lay.unassigned(["ts", "moisture", "shift", "yield_pct", "operator"]) == \
        ["shift", "operator"]


# --------------------------------------------------------------------- constraints
NODES = ["moisture", "supplier", "dryer_temp", "dewpoint", "thickness", "yield_pct"]
# Every edge allowed in BASE: forward or within a station, never into the exogenous
# sensors, never out of the target, never dewpoint -> dryer_temp (forbidden).
ALLOWED = {
    ("moisture", "dryer_temp"), ("moisture", "dewpoint"), ("moisture", "thickness"),
    ("moisture", "yield_pct"),
    ("supplier", "dryer_temp"), ("supplier", "dewpoint"), ("supplier", "thickness"),
    ("supplier", "yield_pct"),
    ("dryer_temp", "dewpoint"), ("dryer_temp", "thickness"), ("dryer_temp", "yield_pct"),
    ("dewpoint", "thickness"), ("dewpoint", "yield_pct"),
    ("thickness", "yield_pct"),
}
# lingam convention, rows = child, columns = parent, in NODES order.
PK = np.array([
    # moist supp  dtemp dewp  thick yield   <- parent
    [-1,    0,    0,    0,    0,    0],   # moisture (exogenous)
    [0,    -1,    0,    0,    0,    0],   # supplier (exogenous)
    [-1,   -1,   -1,   -1,    0,    0],   # dryer_temp (forbidden dewpoint->it is NOT here)
    [-1,   -1,    1,   -1,    0,    0],   # dewpoint (required dryer_temp->it)
    [-1,   -1,   -1,   -1,   -1,    0],   # thickness
    [-1,   -1,   -1,   -1,   -1,   -1],   # yield_pct (target)
])


@pytest.fixture
def constraints() -> Constraints:
    return parse_layout(BASE).constraints()


def test_constraints_fields(constraints):
    assert constraints.nodes == tuple(NODES)
    assert constraints.tier == dict(zip(NODES, [0, 0, 1, 1, 2, 2], strict=True))
    assert constraints.exogenous == {"moisture", "supplier"}
    assert constraints.target == "yield_pct"
    assert constraints.forbidden == {("dewpoint", "dryer_temp")}
    assert constraints.required == {("dryer_temp", "dewpoint")}
    assert constraints.layered_order() == NODES


def test_allows_every_ordered_pair(constraints):
    for src, dst in itertools.product(NODES, NODES):
        expected = (src, dst) in ALLOWED
        assert constraints.allows(src, dst) is expected, (src, dst)
        assert (constraints.why_not(src, dst) is None) is expected, (src, dst)


def test_why_not_explains_in_plain_language(constraints):
    assert constraints.why_not("thickness", "dewpoint") == (
        "'thickness' is at station 'Quality', after 'Dryer' where 'dewpoint' is: "
        "material flows forward")
    assert "exogenous" in constraints.why_not("dryer_temp", "moisture")
    assert "target" in constraints.why_not("yield_pct", "thickness")
    assert "forbidden" in constraints.why_not("dewpoint", "dryer_temp")
    assert "itself" in constraints.why_not("dewpoint", "dewpoint")
    assert "not a sensor" in constraints.why_not("ghost", "dewpoint")
    assert constraints.allows("ghost", "dewpoint") is False


def test_violations(constraints):
    assert constraints.violations([("dryer_temp", "dewpoint"), ("dewpoint", "yield_pct")]) == []
    msgs = constraints.violations([("thickness", "dewpoint"), ("dewpoint", "thickness"),
                                   ("thickness", "dewpoint")])
    assert len(msgs) == 3, msgs
    assert msgs[0].startswith("'thickness' -> 'dewpoint' is not allowed") and "forward" in msgs[0]
    assert msgs[1] == "required edge 'dryer_temp' -> 'dewpoint' is missing"
    assert "cycle" in msgs[2] and "'dewpoint' -> 'thickness'" in msgs[2]


def test_prior_knowledge_matrix_entry_by_entry(constraints):
    pk = constraints.prior_knowledge(NODES)
    assert pk.shape == (6, 6)
    np.testing.assert_array_equal(pk, PK)


def test_prior_knowledge_follows_the_given_order_and_subset(constraints):
    order = ["yield_pct", "dewpoint", "moisture", "thickness", "dryer_temp"]
    pk = constraints.prior_knowledge(order)
    full = {n: i for i, n in enumerate(NODES)}
    for i, child in enumerate(order):
        for j, parent in enumerate(order):
            assert pk[i, j] == PK[full[child], full[parent]], (child, parent)
    with pytest.raises(ValueError, match="ghost"):
        constraints.prior_knowledge(["ghost", "dewpoint"])
    with pytest.raises(ValueError):
        constraints.prior_knowledge(["dewpoint", "dewpoint"])


# --------------------------------------------------------------------- lingam
def _lingam():
    os.environ["MPLBACKEND"] = "Agg"
    import lingam

    return lingam


def test_prior_knowledge_matches_lingams_own_builder(constraints):
    lingam = _lingam()
    idx = {n: i for i, n in enumerate(NODES)}
    no_paths = [(idx[a], idx[b]) for a, b in itertools.product(NODES, NODES)
                if constraints.tier[a] > constraints.tier[b]]
    expected = lingam.utils.make_prior_knowledge(
        len(NODES), exogenous_variables=[idx["moisture"], idx["supplier"]],
        sink_variables=[idx["yield_pct"]], paths=[(idx["dryer_temp"], idx["dewpoint"])],
        no_paths=no_paths)
    np.testing.assert_array_equal(constraints.prior_knowledge(NODES), expected)


def _simulate(rng, n, against_flow):
    """Linear model with uniform (non-Gaussian) noise over the BASE sensors."""
    e = {k: rng.uniform(-1, 1, n) for k in NODES}
    x = {}
    x["moisture"] = e["moisture"]
    x["supplier"] = e["supplier"]
    x["dryer_temp"] = 0.8 * x["supplier"] + e["dryer_temp"]
    x["dewpoint"] = 0.9 * x["dryer_temp"] - 0.7 * x["moisture"] + e["dewpoint"]
    x["thickness"] = 0.8 * x["dewpoint"] + e["thickness"]
    x["yield_pct"] = 0.7 * x["thickness"] + 0.6 * x["dryer_temp"] + e["yield_pct"]
    if against_flow:
        # Data that contradicts the layout: the target drives an earlier sensor.
        x["moisture"] = x["moisture"] + 1.5 * x["yield_pct"]
    return x


@pytest.mark.parametrize("against_flow", [False, True])
def test_direct_lingam_with_prior_knowledge_respects_allows(constraints, against_flow):
    lingam = _lingam()
    started = time.perf_counter()
    rng = np.random.default_rng(7)
    order = ["thickness", "moisture", "yield_pct", "dewpoint", "supplier", "dryer_temp"]
    x = _simulate(rng, 600, against_flow)
    data = np.column_stack([x[n] for n in order])
    model = lingam.DirectLiNGAM(prior_knowledge=constraints.prior_knowledge(order))
    model.fit(data)
    adj = model.adjacency_matrix_
    found = {(order[j], order[i]) for i, j in zip(*np.nonzero(adj), strict=True)}
    # The layout has no forbidden edge that the matrix could not express, so lingam's
    # output must be fully allowed.
    assert not [e for e in found if not constraints.allows(*e)], found
    if not against_flow:
        # Guard against a vacuous pass (e.g. an all-zero matrix): strong true edges found.
        assert {("dryer_temp", "dewpoint"), ("dewpoint", "thickness"),
                ("thickness", "yield_pct")} <= found
    assert time.perf_counter() - started < 2.0


def test_unconstrained_lingam_does_find_the_disallowed_edge():
    # Control for the test above: without prior knowledge the against-flow data yields an
    # edge the layout forbids, so the constrained run is actually constraining something.
    lingam = _lingam()
    order = NODES
    x = _simulate(np.random.default_rng(7), 600, against_flow=True)
    model = lingam.DirectLiNGAM().fit(np.column_stack([x[n] for n in order]))
    adj = model.adjacency_matrix_
    found = {(order[j], order[i]) for i, j in zip(*np.nonzero(adj), strict=True)}
    cons = parse_layout(BASE).constraints()
    assert [e for e in found if not cons.allows(*e)]


def test_a_declared_control_loop_fixes_the_valve_to_temperature_direction():
    from rca_app.core.layout import parse_layout

    text = ('[plant]\nname = "p"\ntarget = "y"\n\n[[station]]\nname = "Feed"\nsensors = ["f"]\nexogenous = ["f"]\n\n'
            '[[station]]\nname = "Reactor"\nsensors = ["temp", "valve", "y"]\n\n'
            '[[loop]]\ncontrolled = "temp"\nmanipulated = "valve"\nsetpoint = 180.0\n')
    c = parse_layout(text).constraints()
    assert ("valve", "temp") in c.required and ("temp", "valve") in c.forbidden
    # The engineer's own knowledge wins over the loop's default direction.
    reverse = parse_layout(text.replace('[[loop]]', '[knowledge]\nrequired = [["temp", "valve"]]\n\n[[loop]]'))
    assert ("valve", "temp") not in reverse.constraints().required

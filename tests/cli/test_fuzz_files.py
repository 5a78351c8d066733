"""Fuzzing the layout parser and the investigation-file loader (a fixed budget, in CI): whatever
the text, they answer with a layout or investigation, or with RcaInputError, never anything else."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rca_app.app import investigation_file as invf
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import parse_layout
from rca_app.resources import sample_plants_dir
from tests.paths import FIXTURES

LAYOUT = (sample_plants_dir() / "chemical_reactor" / "layout.toml").read_text(encoding="utf-8")
FIXTURE = json.loads((FIXTURES / "investigations" / "v1_injection_moulding.rcainv")
                     .read_text(encoding="utf-8"))
_budget = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@_budget
@given(st.text(max_size=400))
def test_layout_parser_on_any_text(text):
    try:
        parse_layout(text, source="fuzz.toml")
    except RcaInputError as e:
        assert all("fuzz.toml" in str(p) for p in e.problems)


@_budget
@given(st.integers(0, len(LAYOUT) - 1), st.integers(0, 40), st.text(max_size=20))
def test_layout_parser_on_edited_layouts(at, cut, insert):
    text = LAYOUT[:at] + insert + LAYOUT[at + cut:]
    try:
        lay = parse_layout(text, source="fuzz.toml")
    except RcaInputError:
        return
    lay.constraints()
    lay.to_toml()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@_budget
@given(st.sampled_from(sorted(FIXTURE)), _json)
def test_investigation_loader_on_any_field_value(tmp_path, key, value):
    d = dict(FIXTURE)
    d[key] = value
    p = tmp_path / "fuzz.rcainv"
    p.write_text(json.dumps(d), encoding="utf-8")
    try:
        inv = invf.load_investigation(p)
    except RcaInputError as e:
        assert all(pr.file == "fuzz.rcainv" for pr in e.problems)
        return
    invf.save_investigation(inv, tmp_path / "again.rcainv")


@_budget
@given(st.binary(max_size=300))
def test_investigation_loader_on_any_bytes(tmp_path, data):
    p = tmp_path / "fuzz.rcainv"
    p.write_bytes(data)
    try:
        invf.load_investigation(p)
    except RcaInputError:
        pass

"""A lot table with several faults (issue #14 trial): a lot listed twice, a lot missing and n/a
cells are all reported in one run, naming lot ids and rows, never a cascade of "not in the data"."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import load_layout
from rca_app.resources import sample_plants_dir


@pytest.fixture
def plant(tmp_path):
    src = sample_plants_dir() / "batch_genealogy"
    for name in ("data.csv", "layout.toml", "lots.csv"):
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def _run(plant):
    return prepare(load_table(plant / "data.csv"), load_layout(plant / "layout.toml"))


def test_duplicate_missing_lots_and_na_cells_in_one_go(plant):
    lots = pd.read_csv(plant / "lots.csv", dtype=str)
    lots.loc[7, "lot_viscosity_mPas"] = "n/a"                  # row 9 of lots.csv
    gone = lots.loc[11, "lot_id"]
    # The lot of row 6 listed again with another result (a re-tested lot: an exact repeat is only counted once).
    again = lots.iloc[[4]].assign(lot_viscosity_mPas=str(float(lots.loc[4, "lot_viscosity_mPas"]) + 10))
    lots = pd.concat([lots.drop(index=11), again], ignore_index=True)
    lots.to_csv(plant / "lots.csv", index=False)
    with pytest.raises(RcaInputError) as e:
        _run(plant)
    probs = {p.code: p for p in e.value.problems}
    dup = probs["join_duplicate"]
    assert dup.file == "lots.csv" and dup.row == 6 and "'L1004'" in dup.message
    assert f"row {len(lots) + 1}" in dup.message
    na = probs["join_empty_cell"]
    assert na.file == "lots.csv" and na.column == "lot_viscosity_mPas" and na.row == 9 and "'L1007'" in na.message
    unknown = probs["join_unknown_lot"]
    assert unknown.file == "data.csv" and f"'{gone}'" in unknown.message
    assert not [p for p in e.value.problems if "is not in the data" in p.message]


def test_a_join_that_fails_is_pointed_to_from_the_columns_it_would_add(plant):
    lots = pd.read_csv(plant / "lots.csv", dtype=str).rename(columns={"lot_id": "lot"})
    lots.to_csv(plant / "lots.csv", index=False)
    with pytest.raises(RcaInputError) as e:
        _run(plant)
    missing = [p for p in e.value.problems if p.code == "missing_column"]
    assert {p.column for p in missing} == {"lot_viscosity_mPas", "lot_moisture_pct"}
    assert all("lots.csv, which could not be joined" in p.message for p in missing)

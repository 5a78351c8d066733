"""Diagnoses for files that are not what they claim: random bytes, UTF-16 without a BOM, an
.xlsx that is CSV text, data on another sheet, --sheet for a CSV, a constant KPI, and layout
warnings that reach the engineer."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rca_app.core.data import load_table, prepare
from rca_app.core.errors import RcaInputError
from rca_app.core.layout import load_layout
from rca_app.resources import sample_plants_dir

PLANT = sample_plants_dir() / "bottling_line"


def test_random_bytes_without_nul_are_not_a_text_table(tmp_path):
    rng = np.random.default_rng(0)
    raw = bytes(b for b in rng.integers(1, 256, 5000, dtype=np.uint8))
    p = tmp_path / "noise.csv"
    p.write_bytes(raw)
    with pytest.raises(RcaInputError, match="noise.csv: this is not a text table"):
        load_table(p)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read_with_a_warning(tmp_path, codec):
    p = tmp_path / "export.csv"
    p.write_bytes((PLANT / "data.csv").read_text(encoding="utf-8").encode(codec))
    raw = load_table(p)
    assert raw.encoding == codec and "filler_speed_bpm" in raw.frame.columns
    assert any("UTF-16 text without a byte-order mark" in w.message for w in raw.problems)
    assert raw.frame.equals(load_table(PLANT / "data.csv").frame)


def test_xlsx_that_is_csv_text_is_read_as_csv(tmp_path):
    p = tmp_path / "export.xlsx"
    p.write_bytes((PLANT / "data.csv").read_bytes())
    raw = load_table(p)
    assert raw.frame.equals(load_table(PLANT / "data.csv").frame)
    assert any(w.code == "csv_named_xlsx" for w in raw.problems)


def test_data_on_another_sheet_is_pointed_out(tmp_path):
    p = tmp_path / "book.xlsx"
    df = pd.read_csv(PLANT / "data.csv").head(200)
    with pd.ExcelWriter(p) as w:
        pd.DataFrame({"notes": ["data on the next sheet"], "by": ["me"]}).to_excel(w, sheet_name="Readme", index=False)
        df.to_excel(w, sheet_name="Line 3", index=False)
    with pytest.raises(RcaInputError) as e:
        prepare(load_table(p), load_layout(PLANT / "layout.toml"))
    hint = [str(x) for x in e.value.problems if x.code == "other_sheet"]
    assert hint and "--sheet \"Line 3\"" in hint[0] and "'Readme', 'Line 3'" in hint[0]
    raw = load_table(p, sheet="Line 3")                      # and with the sheet chosen it works
    assert prepare(raw, load_layout(PLANT / "layout.toml")).n_rows > 100


def test_sheet_for_a_csv_is_refused(tmp_path):
    with pytest.raises(RcaInputError, match="not an Excel workbook: leave --sheet out"):
        load_table(PLANT / "data.csv", sheet="Data")


def test_constant_kpi_message_does_not_say_to_remove_the_target(tmp_path):
    df = pd.read_csv(PLANT / "data.csv")
    target = load_layout(PLANT / "layout.toml").target
    df[target] = 1.0
    p = tmp_path / "flat.csv"
    df.to_csv(p, index=False)
    with pytest.raises(RcaInputError) as e:
        prepare(load_table(p), load_layout(PLANT / "layout.toml"))
    msg = next(str(x) for x in e.value.problems if x.column == target)
    assert "the KPI (target) is constant" in msg and "leave it out" not in msg


def test_layout_warnings_reach_the_data_problems(tmp_path):
    text = (PLANT / "layout.toml").read_text(encoding="utf-8")
    lay = tmp_path / "layout.toml"
    lay.write_text(text + '\n[[station]]\nname = "Spare"\nsensors = []\n', encoding="utf-8")
    layout = load_layout(lay)
    assert any("has no sensors" in w.message for w in layout.warnings)
    data = prepare(load_table(PLANT / "data.csv"), layout)
    assert any("'Spare' has no sensors" in p.message for p in data.problems)


def test_id_column_refused_and_many_levels_pooled(tmp_path):
    from rca_app.core.data.validation import OTHER_LEVEL

    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame({"lot": [f"L{i}" for i in range(n)], "tool": [f"T{int(x) % 300}" for x in rng.zipf(1.5, n)],
                       "x": rng.normal(size=n)})
    df["kpi"] = df["x"] + rng.normal(size=n)
    p = tmp_path / "d.csv"
    df.to_csv(p, index=False)

    def layout(col):
        lay = tmp_path / f"{col}.toml"
        lay.write_text(f'[plant]\nname = "i"\ntarget = "kpi"\n[[station]]\nname = "a"\nsensors = ["{col}", "x"]\n'
                       f'categorical = ["{col}"]\n[[station]]\nname = "b"\nsensors = ["kpi"]\n', encoding="utf-8")
        return load_layout(lay)

    with pytest.raises(RcaInputError, match="looks like an identifier"):
        prepare(load_table(p), layout("lot"))
    data = prepare(load_table(p), layout("tool"))
    levels = list(data.frame["tool"].cat.categories)
    assert len(levels) == 50 and OTHER_LEVEL in levels
    kept = df["tool"].value_counts()
    assert set(kept.index[:10]) <= set(levels)          # the frequent tools keep their names
    assert any(p.code == "many_levels" and "pooled" in p.message for p in data.problems)


def test_undeclared_supplier_column_taken_as_categorical_with_a_note(tmp_path):
    text = (PLANT / "layout.toml").read_text(encoding="utf-8")
    layout = load_layout(PLANT / "layout.toml")
    cat = next(c for st in layout.stations for c in st.categorical)
    lay = tmp_path / "layout.toml"
    lay.write_text(text.replace(f'categorical = ["{cat}"]', "categorical = []"), encoding="utf-8")
    undeclared = load_layout(lay)
    assert cat not in {c for st in undeclared.stations for c in st.categorical}
    data = prepare(load_table(PLANT / "data.csv"), undeclared)
    assert cat in data.categorical_nodes
    note = next(p for p in data.problems if p.code == "categorical_inferred")
    assert note.column == cat and note.severity == "warning" and "taken as categorical" in note.message


def test_numeric_column_with_a_typo_is_not_taken_as_categorical(tmp_path):
    df = pd.read_csv(PLANT / "data.csv")
    col = "filler_speed_bpm"
    df[col] = df[col].astype(str)
    df.loc[5, col] = "12.5x"
    p = tmp_path / "typo.csv"
    df.to_csv(p, index=False)
    with pytest.raises(RcaInputError) as e:
        prepare(load_table(p), load_layout(PLANT / "layout.toml"))
    assert any(x.column == col and x.row == 7 for x in e.value.problems)

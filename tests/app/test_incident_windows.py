"""Windows for the incident shapes, without Qt: one clicked batch keeps or drops the reference,
short references are a note, and the KPI's type is named (declared or inferred)."""
import dataclasses

from rca_app.app import windows_view as wv
from rca_app.core.data import load_table, prepare
from rca_app.core.layout import load_layout
from rca_sim.incident_shapes import simulate_shape

REFERENCE = ["2026-03-01T00:00:00", "2026-03-14T00:00:00"]


def test_clicked_batch_keeps_a_reference_that_does_not_hold_it(data):
    x = wv.axis_values(data)
    kept = wv.investigate_point(data, x[2100], REFERENCE)
    assert kept["reference"] == REFERENCE and wv.window_rows(data, kept["anomaly"]) == slice(2100, 2101)
    dropped = wv.investigate_point(data, x[500], REFERENCE)        # inside the reference: every row before
    assert dropped["reference"] is None and wv.window_rows(data, dropped["anomaly"]) == slice(500, 501)


def test_short_reference_is_a_note_with_the_comfortable_count(data):
    note = wv.windows_note(data, ["2026-03-10T00:00:00", "2026-03-10T12:00:00"], ["2026-03-14T21:20:00",
                                                                               "2026-03-16T23:20:00"])
    assert "simpler model" in note and "72 rows" in note


def test_kpi_type_is_named_declared_or_inferred(data, tmp_path):
    assert wv.kpi_type_text(data).startswith("KPI type: continuous (inferred")
    declared = dataclasses.replace(data, layout=dataclasses.replace(data.layout, kpi_type="count"))
    assert wv.kpi_type_text(declared) == "KPI type: count (from the layout)"
    plant = simulate_shape("event", seed=1, n_sensors=4, n_reference=300, n_incident=5, declare_kpi_type=False)
    csv, lay = plant.save(tmp_path)
    alarm = prepare(load_table(csv), load_layout(lay))
    assert "KPI type: event" in wv.kpi_type_text(alarm, None, wv.window_from_rows(alarm, slice(300, 301)))

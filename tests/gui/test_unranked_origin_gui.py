"""The window's Root causes step shows an origin the model has no path from (placed first by the
disturbance-origin reading) as "not computed" with the reason, read from the record's
``no_restoration``: no 0 % in the table, the headline or the Pareto chart."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from rca_app.app.causes_view import pareto
from rca_app.gui.models import RestorationDelegate, RootCauseModel
from rca_app.gui.steps.causes_step import headline
from tests.report.test_unranked_origin_shown import WHY, _result


def test_the_table_headline_and_pareto_show_no_restoration_for_the_origin(tmp_path, qtbot):
    r = _result(tmp_path)
    model = RootCauseModel()
    model.set_causes(r.root_causes, r.target)
    cell = model.index(0, RootCauseModel.RESTORATION_COLUMN)
    assert model.data(cell) == "not computed"
    assert WHY[1:] in model.data(cell, Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(1, RootCauseModel.RESTORATION_COLUMN)) == "62 %"
    # The delegate draws the row without a bar (and without failing on the undefined figures).
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegateForColumn(RootCauseModel.RESTORATION_COLUMN, RestorationDelegate(view))
    view.resize(700, 200)
    view.show()
    assert not view.grab().isNull()
    head = headline(r, lambda _n: "")
    assert "<b>feed_flow</b>" in head and WHY in head and "0 %" not in head
    # The Pareto chart is of shares of the loss: the origin is no bar there.
    assert pareto(r.root_causes)["nodes"] == ["purge_flow"]

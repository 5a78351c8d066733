"""Problems found in a data file point at the preview's cells."""
from rca_app.app.data_view import problem_cell
from rca_app.core.data import load_table
from rca_app.core.errors import Problem


def test_problem_cell_points_at_the_spreadsheet_cell(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("t,a,y\n2026-01-01,1,5\n2026-01-02,oops,6\n")
    raw = load_table(csv)
    assert problem_cell(raw, Problem("x", column="a", row=3)) == (1, 1)
    assert problem_cell(raw, Problem("x", column="zz")) == (None, None)

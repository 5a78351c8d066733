"""Reading the engineer's sensor table and checking it against the plant layout.

Two steps, so the GUI can show the raw table before any layout exists:

1. :func:`load_table` reads a CSV, Excel (.xlsx/.xlsm) or Parquet file into a
   :class:`RawTable`. Nothing is interpreted yet beyond what reading needs: text cells stay
   text (so later checks can quote a bad cell exactly as the engineer typed it), historian
   status strings ("Bad Input", "I/O Timeout", "#N/A", ...) become missing values.
2. :func:`prepare` checks the raw table against a :class:`~rca_app.core.layout.Layout` and
   returns :class:`PlantData`: one numeric or categorical column per layout node, rows in
   time order, gaps handled. Every problem is collected; one :class:`RcaInputError` carries
   all errors, warnings ride along in ``PlantData.problems``.

Row numbers
    Every message uses the row number a person sees in a spreadsheet: the header line is
    row 1 and the first data row is row 2. Blank lines in a CSV count as rows (a spreadsheet
    shows them), and in Excel the real sheet row is used, so title lines above the header
    shift the numbers exactly as in Excel. Parquet has no header line; the same convention
    is kept (first record = row 2). ``RawTable.source_rows`` / ``PlantData.source_rows``
    map every kept row back to that number.

Gap policy (``prepare(..., gaps=...)``)
    Rows whose target value is missing are always dropped (a row says nothing about yield
    without it) and counted. Missing sensor values then follow the policy:

    - ``"drop"`` (default): drop every row with a missing value in any layout sensor.
    - ``"impute"``: numeric sensors are interpolated linearly along time (along row order
      when there is no time column) and the edges take the nearest observed value;
      categorical sensors take the previous value, then the next one at the start.

    Either way the counts per column are reported as a warning. The target is never imputed.

Minimum rows
    A causal model needs enough rows per variable: the full model wants ``max(MIN_ROWS,
    MIN_ROWS_PER_SENSOR * number of sensors)`` reference rows (see :func:`min_rows_needed`);
    below that a simpler, shrunk model is fitted. A table is refused only when even that cannot
    be estimated: fewer rows than a reference floor of ``max(10, 2 x folds, sensors + 2)`` plus
    one incident row (see :func:`rca_app.core.windows.check_enough_rows`).

Modules, one job each: :mod:`.rules` (documented limits), :mod:`.reading` (files to a
:class:`RawTable`, with :mod:`.decoding`, :mod:`.sniffing`, :mod:`.columns`, :mod:`.cells`),
:mod:`.numbers` and :mod:`.times` (text cells), :mod:`.summary` (overviews),
:mod:`.validation` and :mod:`.preparation` (checks against the layout), :mod:`.row_windows`.
"""
from __future__ import annotations

from rca_app.core.data.preparation import prepare
from rca_app.core.data.reading import load_table
from rca_app.core.data.row_windows import check_window_gaps, rows_for_window
from rca_app.core.data.rules import (
    CSV_EXTENSIONS,
    EXCEL_EXTENSIONS,
    GAP_POLICIES,
    MAX_CATEGORY_LEVELS,
    MIN_ROWS,
    MIN_ROWS_PER_SENSOR,
    MISSING_TOKENS,
    PARQUET_EXTENSIONS,
    TIME_FORMATS_HINT,
    min_rows_needed,
)
from rca_app.core.data.summary import ColumnSummary
from rca_app.core.data.tables import PlantData, RawTable

__all__ = [
    "MIN_ROWS",
    "MIN_ROWS_PER_SENSOR",
    "MAX_CATEGORY_LEVELS",
    "MISSING_TOKENS",
    "GAP_POLICIES",
    "CSV_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "PARQUET_EXTENSIONS",
    "TIME_FORMATS_HINT",
    "ColumnSummary",
    "RawTable",
    "PlantData",
    "load_table",
    "prepare",
    "rows_for_window",
    "check_window_gaps",
    "min_rows_needed",
]

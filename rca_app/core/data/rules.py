"""The documented rules of reading and checking a sensor table (the README quotes them)."""
from __future__ import annotations

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
    "DROP_REASONS",
    "QUOTE_CELLS",
    "GUESS_SHARE",
    "min_rows_needed",
]

#: Absolute minimum of (reference) rows for an analysis.
MIN_ROWS = 30
#: Rows needed per sensor (non-target node); the rule is max(MIN_ROWS, 5 * sensors).
MIN_ROWS_PER_SENSOR = 5
#: A categorical sensor with more levels than this (or more than half the rows) is suspicious.
MAX_CATEGORY_LEVELS = 50

#: Cell texts read as "no value" (compared case-insensitively after trimming spaces).
#: Historian digital states (OSIsoft PI and similar), spreadsheet error codes and the usual
#: placeholders. A real category level with one of these names would be lost: rename it.
MISSING_TOKENS = frozenset(
    t.lower()
    for t in (
        "", "-", "--", "null", "none", "nan", "n/a", "#n/a", "na",
        "Bad Input", "Bad", "I/O Timeout", "Shutdown", "No Data", "Comm Fail",
        "Scan Off", "Scan Timeout", "Pt Created", "Calc Failed", "Out of Serv",
        "Intf Shut", "Equip Fail", "Not Connect", "No Sample", "Over Range", "Under Range",
        "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
    )
)

GAP_POLICIES = ("drop", "impute")

CSV_EXTENSIONS = (".csv", ".txt", ".tsv")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
PARQUET_EXTENSIONS = (".parquet", ".pq")

#: How many offending cells a message quotes before saying "..." (enough to spot a pattern).
QUOTE_CELLS = 3
#: Summary: a text column counts as numeric / time when this share of its cells parses.
GUESS_SHARE = 0.9

TIME_FORMATS_HINT = (
    "use ISO 8601 (2024-03-01 14:30 or 2024-03-01T14:30:00+01:00), "
    "dd.mm.yyyy HH:MM, dd/mm/yyyy or mm/dd/yyyy HH:MM"
)

#: Why rows were dropped, as messages and the validate summary word it.
DROP_REASONS = {
    "missing_time": "without timestamp",
    "missing_target": "without target value",
    "missing_sensor": "with sensor gaps",
}


def min_rows_needed(n_sensors: int) -> int:
    """Rows needed for ``n_sensors`` sensors.

    Parameters
    ----------
    n_sensors : int
        Layout nodes other than the target.

    Returns
    -------
    int
        ``max(MIN_ROWS, MIN_ROWS_PER_SENSOR * n_sensors)``.
    """
    return max(MIN_ROWS, MIN_ROWS_PER_SENSOR * int(n_sensors))

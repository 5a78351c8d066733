"""Numbers for people: significant digits, nothing shown as "nan"."""
import math

import pytest

from rca_app.app.formatting import fmt_number, fmt_pct


@pytest.mark.parametrize("v, digits, text", [
    (1234.5678, 4, "1235"), (0.000123456, 3, "0.000123"), (2, 4, "2"), (None, 4, ""),
    (math.nan, 4, ""), (math.inf, 4, ""), ("NordPoly", 4, "NordPoly"), (-1.5e7, 3, "-1.5e+07"),
])
def test_fmt_number(v, digits, text):
    assert fmt_number(v, digits) == text


@pytest.mark.parametrize("v, digits, text", [
    (0.834, 0, "83 %"), (0.8345, 1, "83.5 %"), (-0.1, 0, "-10 %"), (None, 0, "–"), (math.nan, 0, "–"),
])
def test_fmt_pct(v, digits, text):
    assert fmt_pct(v, digits) == text


def test_labels_are_clipped_for_display_only():
    from rca_app.app.formatting import MAX_LABEL, short_label

    assert short_label("supplier A") == "supplier A"
    huge = "X" * 1_000_000
    assert len(short_label(huge)) == MAX_LABEL and short_label(huge).endswith("…")
    assert short_label(12.5) == "12.5"

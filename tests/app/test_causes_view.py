"""The Pareto chart of the Root causes step."""
import pytest

from rca_app.app.causes_view import pareto


def test_pareto_is_cumulative():
    causes = [{"node": "a", "restoration": 0.6}, {"node": "b", "restoration": 0.3},
              {"node": "c", "restoration": -0.1}, {"node": "d", "restoration": 0.1}]
    p = pareto(causes, top=3)
    assert p["nodes"] == ["a", "b", "c"]
    assert p["cumulative_pct"] == pytest.approx([60.0, 90.0, 90.0])

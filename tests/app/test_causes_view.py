"""The Pareto chart of the Root causes step."""
import pytest

from rca_app.app.causes_view import pareto
from rca_app.core.rootcause import Evidence, RootCause


def _cause(node: str, restoration: float) -> RootCause:
    evidence = Evidence(None, None, None, None, None, None, None)
    return RootCause(node, "S1", restoration, (restoration, restoration), 0.0, False, False, evidence)


def test_pareto_is_cumulative():
    causes = [_cause("a", 0.6), _cause("b", 0.3), _cause("c", -0.1), _cause("d", 0.1)]
    p = pareto(causes, top=3)
    assert p["nodes"] == ["a", "b", "c"]
    assert p["cumulative_pct"] == pytest.approx([60.0, 90.0, 90.0])

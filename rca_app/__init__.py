"""rca_app: find why yield dropped, with structural causal models built on the plant's layout."""

__version__ = "0.1.0"

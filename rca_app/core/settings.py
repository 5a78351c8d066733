"""The settings of one analysis, with their defaults and bounds, in one place.

A light module (no numpy): the command line reads its defaults and the investigation file checks
saved settings against its bounds without loading the engine.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass
class AnalysisSettings:
    """Everything that decides an analysis's result, with its bounds.

    The bounds (field metadata) are checked wherever settings come from outside: the command
    line, an investigation file (:func:`~rca_app.core.serialization.from_json_data`)."""

    seed: int = field(default=0, metadata={"min": 0, "max": 2**32 - 1})
    graph_bootstrap: int = field(default=20, metadata={"min": 0, "max": 1000})   # resamples for edge confidence
    rank_bootstrap: int = field(default=30, metadata={"min": 0, "max": 1000})    # refits for restoration intervals
    n_folds: int = field(default=5, metadata={"min": 2, "max": 20})             # cross-fitting folds
    mechanisms: tuple[Literal["linear", "poly2", "spline", "hgb"], ...] = ("linear", "poly2", "spline", "hgb")
    action_grid: int = field(default=25, metadata={"min": 2, "max": 1000})
    bootstrap_max_rows: int = field(default=5000, metadata={"min": 50, "max": 10_000_000})
    # "fast": ours; "lingam": the lingam package's DirectLiNGAM (the same answer, slower).
    discovery_engine: Literal["fast", "lingam"] = "fast"
    # Which method decides the graph: "auto" picks from the noise diagnostics (LiNGAM where the
    # sensors' noise is clearly non-Gaussian, the constraint-based PC search where it is not);
    # "lingam", "pc" or "fci" (PC with hidden common causes) force one.
    discovery: Literal["auto", "lingam", "pc", "fci"] = "auto"
    # Ranking intervals: "weighted" (Bayesian block bootstrap by weighted refits, fast) or
    # "resample" (models refitted from scratch on resampled rows, the former method).
    interval_method: Literal["weighted", "resample"] = "weighted"
    n_jobs: int | None = field(default=None, metadata={"min": 1, "max": 1024})  # None: one per core
    scheduler: str | None = None     # a Dask scheduler address: run them on that cluster instead

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mechanisms"] = list(self.mechanisms)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> AnalysisSettings:
        d = dict(d)
        if "mechanisms" in d:
            d["mechanisms"] = tuple(d["mechanisms"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

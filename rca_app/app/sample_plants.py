"""The bundled sample plants: layout, data file and the incident their story tells, read one way
for the desktop window, the command line's demo and the smoke test."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rca_app.core.layout import Layout, load_layout
from rca_app.resources import DEFAULT_SAMPLE_PLANT, sample_plant, sample_plant_names

__all__ = ["DEFAULT_SAMPLE_PLANT", "SamplePlant", "load_sample_plant", "open_sample_plant",
           "sample_plant_names"]


@dataclass
class SamplePlant:
    """One sample plant: its folder, layout and ground truth (``truth.json``: the incident and
    reference windows and the true root causes; empty when the file is missing or unreadable)."""

    name: str
    folder: Path
    layout: Layout
    truth: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The name as a person reads it ("injection moulding")."""
        return self.name.replace("_", " ")

    @property
    def data_path(self) -> Path:
        """The sample's data file (``data.csv`` in its folder)."""
        return self.folder / "data.csv"

    @property
    def anomaly(self) -> list | None:
        """The incident window [start, end] the plant's story tells, or None."""
        w = self.truth.get("anomaly")
        return [w["start"], w["end"]] if w else None

    @property
    def reference(self) -> list | None:
        """The reference window, or None (every row before the incident)."""
        w = self.truth.get("reference")
        return [w["start"], w["end"]] if w else None

    @property
    def root_causes(self) -> list[str]:
        """The root causes recorded in ``truth.json`` (what a good analysis should find)."""
        return list(self.truth.get("root_causes", []))


def open_sample_plant(name: str | None = None) -> SamplePlant:
    """Read a sample plant's layout and truth (not its data: the window reads that in the
    background).

    Parameters
    ----------
    name : str, optional
        A folder name from :func:`sample_plant_names`; the default plant when None.

    Returns
    -------
    SamplePlant
        FileNotFoundError names the available plants; an invalid layout raises RcaInputError.
    """
    folder = sample_plant(name or DEFAULT_SAMPLE_PLANT)
    layout = load_layout(folder / "layout.toml")
    try:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        truth = {}
    return SamplePlant(folder.name, folder, layout, truth if isinstance(truth, dict) else {})


def load_sample_plant(name: str | None = None):
    """A sample plant and its analysis table, ready for ``run_analysis``.

    Parameters
    ----------
    name : str, optional
        The default plant when None.

    Returns
    -------
    (SamplePlant, PlantData)
    """
    from rca_app.core.data import load_table, prepare

    plant = open_sample_plant(name)
    return plant, prepare(load_table(plant.data_path), plant.layout)

"""Finding bundled files (sample plants, icons, fonts) the same way frozen and unfrozen."""
from __future__ import annotations

import sys
from pathlib import Path


def project_root() -> Path:
    """The folder holding sample_plants/ and resources/, wherever the app runs from: the
    PyInstaller bundle's folder when frozen; the source checkout (editable install); or
    <prefix>/share/rca_app when installed from a wheel."""
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS)
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "sample_plants").is_dir():
        return checkout
    for prefix in (sys.prefix, sys.base_prefix):
        shared = Path(prefix) / "share" / "rca_app"
        if shared.is_dir():
            return shared
    return checkout


def resource_path(*parts: str) -> Path:
    return project_root().joinpath("resources", *parts)


def sample_plants_dir() -> Path:
    return project_root() / "sample_plants"


def sample_plant_names() -> list[str]:
    """The bundled sample plants (folder names holding a layout.toml), sorted."""
    folder = sample_plants_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "layout.toml").exists())


def sample_plant(name: str) -> Path:
    """The folder of the sample plant ``name``; FileNotFoundError lists the available ones."""
    d = sample_plants_dir() / name
    if not (d / "layout.toml").exists():
        available = sample_plant_names()
        raise FileNotFoundError(f"no sample plant '{name}' (available: {', '.join(available) or 'none'})")
    return d


DEFAULT_SAMPLE_PLANT = "injection_moulding"

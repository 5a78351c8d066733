"""Which data file an investigation used, and finding it again: by path, next to the
investigation file, or where the engineer points, accepted only with the same SHA-256."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from rca_app.core.errors import RcaInputError

# How a data file was read, as the investigation file stores it (DataRef fields of the same name).
READ_OPTIONS = ("sheet", "sep", "decimal", "dayfirst", "gaps")


def file_sha256(path: str | Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB blocks: its content fingerprint.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class DataRef:
    """Which data file an investigation used, and how it was read."""

    path: str                       # absolute path when saved
    sha256: str
    file_name: str = ""
    size_bytes: int | None = field(default=None, metadata={"min": 0})
    relative_path: str | None = None  # from the investigation file's folder (survives moving both)
    sheet: str | int | None = None
    sep: str | None = None
    decimal: str | None = None
    dayfirst: bool | None = None
    gaps: Literal["drop", "impute"] = "drop"

    def to_dict(self) -> dict:
        """Plain ``dict`` of the fields, for the investigation file."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DataRef:
        """Rebuild from :meth:`to_dict` output; unknown keys are ignored.

        Parameters
        ----------
        d : dict

        Returns
        -------
        DataRef
        """
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class DataFileCheck:
    """Whether an investigation's data file is still there and unchanged.

    ``status``: "ok" (found, same content), "moved" (found elsewhere with the same content: use
    ``path``), "changed" (a file is there but its content differs), "missing" (not found)."""

    status: str
    path: Path | None
    message: str
    expected_sha256: str = ""
    actual_sha256: str | None = None

    @property
    def usable(self) -> bool:
        """Whether the file can be read for the investigation ("ok" or "moved")."""
        return self.status in ("ok", "moved")


def is_network_path(path: str | None) -> bool:
    """A UNC path (``\\\\host\\share``, ``//host/share``): opening it contacts another machine.

    Parameters
    ----------
    path : str or None

    Returns
    -------
    bool
    """
    p = str(path or "").replace("\\", "/")
    return p.startswith("//")


def _places(ref: DataRef, investigation_path: str | Path | None) -> list[Path]:
    """Where to look for the data, without being led astray by a crafted investigation file:
    the saved absolute path unless it is on a network share; inside the investigation's own
    folder, the saved relative path (only if it stays inside that folder) and the bare file name.
    Anywhere else only where the engineer points (``candidate``)."""
    places = [] if is_network_path(ref.path) or not ref.path else [Path(ref.path)]
    if investigation_path is None:
        return places
    folder = Path(investigation_path).resolve().parent
    if ref.relative_path and not is_network_path(ref.relative_path):
        p = (folder / ref.relative_path).resolve()
        if p.is_relative_to(folder):
            places.append(p)
    name = ref.file_name or ""
    if name and Path(name).name == name and name not in (".", ".."):
        places.append(folder / name)
    return places


def check_data_file(ref: DataRef, investigation_path: str | Path | None = None,
                    candidate: str | Path | None = None) -> DataFileCheck:
    """Look for the data file at its saved path, then next to the investigation file.

    Parameters
    ----------
    ref : DataRef
        What the investigation file says about its data.
    investigation_path : str or Path, optional
        Where the investigation file is: its folder is searched too (by relative path, then
        by file name), so a folder moved as a whole still works.
    candidate : str or Path, optional
        A file the engineer pointed to instead (after "Locate file..."); it is accepted only
        if its content is the one the investigation used.

    Returns
    -------
    DataFileCheck
        "ok", "moved" (same content elsewhere), "changed" or "missing", with a message that
        says what happened and what to do.
    """
    expected = ref.sha256
    short = expected[:12]
    places = [Path(candidate)] if candidate is not None else _places(ref, investigation_path)
    changed: tuple[Path, str | None] | None = None  # None: the size differs, not read
    for i, p in enumerate(dict.fromkeys(places)):
        try:
            if not p.is_file():        # regular files only: never a device, a pipe or a folder
                continue
            if ref.size_bytes is not None and p.stat().st_size != ref.size_bytes:
                # Another size is another content: no need to read (perhaps gigabytes of) it.
                changed = changed or (p, None)
                continue
            actual = file_sha256(p)
        except (OSError, ValueError):
            continue
        if actual == expected:
            if i == 0 and candidate is None:
                return DataFileCheck("ok", p, "", expected, actual)
            return DataFileCheck("moved", p, (
                f"The data file was found at {p} (its content is identical to the one the "
                f"investigation used, SHA-256 {short}...)."), expected, actual)
        changed = changed or (p, actual)
    if changed is not None:
        p, actual = changed
        now = "its size differs" if actual is None else f"it is now {actual[:12]}..."
        return DataFileCheck("changed", p, (
            f"The data file {p} has changed since this investigation was saved: its content "
            f"fingerprint (SHA-256) was {short}... and {now}. Rows may have been "
            "added, removed or edited, so the saved windows and results may no longer match it. "
            "Locate the original file, or use the changed file and run the analysis again."),
            expected, actual)
    where = f"{ref.path}" + (" or next to the investigation file" if investigation_path else "")
    if is_network_path(ref.path) and candidate is None:
        return DataFileCheck("missing", None, (
            f"The investigation names a data file on a network share ({ref.path}). Network "
            "locations are opened only when you choose them: Locate the file to continue."), expected, None)
    return DataFileCheck("missing", None, (
        f"The data file '{ref.file_name or Path(ref.path).name}' was not found at {where}. It "
        "may have been moved, renamed or deleted. Locate it to continue."), expected, None)


def data_ref(raw, path: str | Path, options: dict) -> DataRef:
    """The :class:`DataRef` of a table read from ``path`` with reading ``options``.

    Parameters
    ----------
    raw : RawTable
        The table as read (gives the fingerprint and size).
    path : str or Path
        Where it was read from.
    options : dict
        Reading options (see :data:`READ_OPTIONS`).

    Returns
    -------
    DataRef
    """
    return DataRef(path=str(path), sha256=raw.sha256, file_name=raw.file_name, size_bytes=raw.size_bytes,
                   sheet=options.get("sheet"), sep=options.get("sep"), decimal=options.get("decimal"),
                   dayfirst=options.get("dayfirst"), gaps=options.get("gaps", "drop"))


def read_options(ref: DataRef) -> dict:
    """The reading options a saved investigation used, to read its data file the same way.

    Parameters
    ----------
    ref : DataRef

    Returns
    -------
    dict
        One entry per name in :data:`READ_OPTIONS`.
    """
    return {k: getattr(ref, k) for k in READ_OPTIONS}


def read_data(path: str | Path, options: dict, layout, progress) -> dict:
    """Read a data file and, when a layout is known, prepare the analysis table.

    Parameters
    ----------
    path : str or Path
    options : dict
        Reading options (``sheet``, ``sep``, ``decimal``, ``dayfirst``, ``gaps``).
    layout : Layout or None
    progress : Progress
        The core's progress protocol (this is run as a background job by the GUI).

    Returns
    -------
    dict
        ``raw`` (the table as read), ``data`` (the analysis table, or None when there is no
        layout or it does not fit), ``problems`` (every one found), ``path``, ``options``.
        A file that cannot be read raises RcaInputError; a layout that does not fit is not
        fatal: the table is shown with the problems listed.
    """
    from rca_app.core.data import load_table

    progress.step(f"reading {path}", None)
    raw = load_table(path, sheet=options.get("sheet"), sep=options.get("sep"), decimal=options.get("decimal"))
    problems = list(raw.problems)
    data = None
    if layout is not None:
        progress.step("checking the table against the layout", None)
        prepared = prepare_data(raw, layout, options)
        data, problems = prepared["data"], prepared["problems"]
    raw.summary()   # computed here, in the background job (it is cached)
    return {"raw": raw, "data": data, "problems": problems, "path": str(path), "options": options}


def prepare_data(raw, layout, options: dict, progress=None) -> dict:
    """The analysis table for a table already read, under a (new) layout or reading options.

    Parameters
    ----------
    raw : RawTable
        The table as read.
    layout : Layout
    options : dict
        Reading options; ``dayfirst`` and ``gaps`` are used here.
    progress : Progress, optional

    Returns
    -------
    dict
        ``data`` (None when the data do not fit the layout) and ``problems``.
    """
    from rca_app.core.data import prepare

    if progress is not None:
        progress.step("checking the table against the layout", None)
    problems = list(raw.problems)
    try:
        data = prepare(raw, layout, dayfirst=options.get("dayfirst"), gaps=options.get("gaps", "drop"))
        problems += [p for p in data.problems if p not in problems]
    except RcaInputError as e:
        data = None
        problems += e.problems
    return {"data": data, "problems": problems}

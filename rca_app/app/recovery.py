"""Crash recovery: the open investigation autosaved to one file in a folder of the user's, offered
again at the next start and removed once the work is saved or discarded."""
from __future__ import annotations

import copy
import datetime as _dt
from pathlib import Path

from rca_app.app.investigation_file import FILE_SUFFIX, Investigation, load_investigation, to_json
from rca_app.core.errors import RcaInputError
from rca_app.core.fileio import write_text_atomic

RECOVERY_NAME = "recovery" + FILE_SUFFIX


def recovery_file(folder: str | Path) -> Path:
    """The one recovery file in ``folder`` (the user's local application-data folder).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    Path
        Whether it exists or not.
    """
    return Path(folder) / RECOVERY_NAME


def write_recovery(inv: Investigation, folder: str | Path, original: str | Path | None = None) -> Path:
    """Autosave: the investigation plus where the engineer last saved it (if anywhere).

    Parameters
    ----------
    inv : Investigation
        Not changed (the original path travels in a copy's notes).
    folder : str or Path
    original : str or Path, optional
        The ``.rcainv`` file it was last saved as.

    Returns
    -------
    Path
        The recovery file, written atomically.
    """
    inv = copy.deepcopy(inv)
    inv.notes = dict(inv.notes)
    inv.notes["_recovery_of"] = str(original) if original else ""
    path = recovery_file(folder)
    inv.saved_at = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    write_text_atomic(path, to_json(inv), newline="\n")
    return path


def read_recovery(folder: str | Path) -> tuple[Investigation, str | None] | None:
    """The autosaved investigation left by a crash, and its original path.

    An unreadable recovery file is useless and is removed.

    Parameters
    ----------
    folder : str or Path
        The user's local application-data folder.

    Returns
    -------
    (Investigation, str or None) or None
        None when there is nothing (readable) to recover.
    """
    path = recovery_file(folder)
    if not path.is_file():
        return None
    try:
        inv = load_investigation(path)
    except RcaInputError:
        discard_recovery(folder)
        return None
    original = inv.notes.pop("_recovery_of", "") or None
    return inv, original


def discard_recovery(folder: str | Path) -> None:
    """Remove the recovery file (the work was saved, discarded or recovered); none is fine.

    Parameters
    ----------
    folder : str or Path
    """
    try:
        recovery_file(folder).unlink()
    except FileNotFoundError:
        pass

"""The per-user folder where rca_app keeps crash-recovery files and error logs, without Qt.

It is the folder Qt calls ``AppLocalDataLocation`` for organisation and application "rca_app"
(``~/.local/share/rca_app/rca_app`` on Linux, ``%LOCALAPPDATA%\\rca_app\\rca_app`` on Windows,
``~/Library/Application Support/rca_app/rca_app`` on macOS), so the command line and the desktop
app log to the same place. A fixed name in the shared temp folder is never used: another user
could create it first or point it elsewhere.
"""
from __future__ import annotations

import os
from pathlib import Path

APP = "rca_app"


def user_data_dir() -> Path:
    """The per-user application-data folder (not created).

    Returns
    -------
    Path
        Local (not roaming) on Windows.
    """
    import platformdirs

    return Path(platformdirs.user_data_dir(None, None, roaming=False)) / APP / APP


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and its parents) readable by this user only, and check it is safe to write into.

    Safe means a real folder (not a link), owned by this user where the OS says so.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    OSError
        When the folder cannot be created or is not safe; the message says why.
    """
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True, mode=0o700)
    if p.is_symlink() or not p.is_dir():
        raise OSError(f"{p} is not a plain folder")
    getuid = getattr(os, "getuid", None)
    if getuid is not None and p.stat().st_uid != getuid():
        raise OSError(f"{p} belongs to another user")
    return p


def log_dir() -> Path:
    """The error-log folder, created for this user only.

    Returns
    -------
    Path

    Raises
    ------
    OSError
        When it cannot be created safely (see :func:`private_dir`).
    """
    return private_dir(user_data_dir() / "logs")

"""Atomic file writes shared by the CLI, the report and investigation files.

A reader sees the old file or the new one, never half of one: the content goes to a temporary
file in the same folder (``os.replace`` is atomic only within one file system), is flushed to
disk, then replaces the target. A failure leaves the target untouched and no temporary file
behind.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["default_file_mode", "atomic_output", "write_text_atomic", "write_json_atomic", "json_text"]


def default_file_mode() -> int:
    """What a plain open() would give: mkstemp makes 0600 files, too private for shared results.

    Returns
    -------
    int
        ``0o666`` minus the process umask.
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A temporary path next to ``path`` that replaces ``path`` when the block succeeds.

    The one place that does the replace dance: the block writes the whole content to the
    yielded path (any writer that takes a file name will do, e.g. reportlab); on success it
    is flushed to disk, given the permissions of a plainly created file and renamed over
    ``path``; on any exception (KeyboardInterrupt too) it is deleted and ``path`` is untouched.

    Parameters
    ----------
    path : str or Path
        The file to (re)place; its folder is created if needed.

    Yields
    ------
    Path
        The temporary file (hidden, in the same folder) to write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# Our temporary files: ".<target name>.<mkstemp's 8 characters>.tmp".
_TEMPORARY = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
# Older than this, a temporary file of ours is a leftover (a killed process), not a write in
# progress: no write of a result, report or investigation takes minutes.
STALE_AFTER_S = 15 * 60


def remove_stale_temporaries(folder: str | Path, now: float | None = None) -> list[Path]:
    """Delete temporary files of our naming in ``folder`` left by a killed write.

    Only hidden files that match mkstemp's pattern for our prefix and suffix and are older than
    :data:`STALE_AFTER_S` are touched; anything unreadable is left alone.

    Parameters
    ----------
    folder : str or Path
        The folder to tidy.
    now : float, optional
        Current time (seconds since the epoch); for tests.

    Returns
    -------
    list of Path
        The files removed.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        if not _TEMPORARY.match(e.name):
            continue
        try:
            if e.is_file(follow_symlinks=False) and now - e.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S:
                os.unlink(e.path)
                removed.append(Path(e.path))
        except OSError:
            continue
    return removed


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8", newline: str | None = None) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_output`).

    Parameters
    ----------
    path : str or Path
        The file to write.
    text : str
        The whole content.
    encoding : str, default "utf-8"
    newline : str, optional
        As for :func:`open`; ``""`` keeps ``\r\n`` of CSV text.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "w", encoding=encoding, newline=newline) as f:
        f.write(text)
    return path


def json_text(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text of a result, a record or plain data.

    Numpy values are converted, tuples and sets become lists, and NaN or infinity ``null``
    (JSON has no NaN; strict readers refuse it).

    Parameters
    ----------
    obj : Any
        What to write (see :func:`~rca_app.core.serialization.to_json_data`).
    indent : int or None, default 2
        As for :func:`json.dumps`.

    Returns
    -------
    str
        The JSON text with a final newline.
    """
    from rca_app.core.serialization import to_json_data

    return json.dumps(to_json_data(obj), indent=indent, allow_nan=False) + "\n"


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented strict JSON (see :func:`json_text`) to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        The file to write.
    obj : Any
        Result, record or plain data.

    Returns
    -------
    Path
        ``path``.
    """
    return write_text_atomic(path, json_text(obj))

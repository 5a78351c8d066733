"""Checks on where results will be written, made before a long analysis starts.

A result written over the data file it came from, or an analysis of several minutes that ends in
"is a directory", loses the engineer's work or time. Every output is checked up front: its folder
can be created and written to, it is not a folder (for a file) or a file (for a folder), it is
not one of the inputs, and no two outputs are the same file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rca_app.core.errors import Problem


@dataclass(frozen=True)
class Output:
    """One place a command will write: ``option`` names it for messages (``--json``)."""

    option: str
    path: Path
    is_folder: bool = False
    # For a folder: the file names that will be written inside it.
    contents: tuple[str, ...] = ()


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _writable_parent(path: Path) -> Problem | None:
    """The nearest existing ancestor must be a folder this user can write into."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        if parent.is_symlink():        # a dangling link: creating folders under it fails late
            return Problem(f"{parent} is a broken link", file=str(path))
        parent = parent.parent
    if not parent.is_dir():
        return Problem(f"cannot write here: {parent} is a file, not a folder", file=str(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        return Problem(f"cannot write here: no permission to write in the folder {parent}", file=str(path))
    return None


def check_outputs(outputs: list[Output], inputs: list[str | Path]) -> list[Problem]:
    """Every problem with ``outputs`` (empty when all can be written safely).

    Parameters
    ----------
    outputs : list of Output
        The files and folders a command will write (``None`` paths left out by the caller).
    inputs : list of path
        Files the command reads (data, layout, notes): never overwritten by an output.

    Returns
    -------
    list of Problem
        One per problem, each naming the option and the path.
    """
    problems: list[Problem] = []
    ins = [Path(p) for p in inputs if p]
    files: list[tuple[str, Path]] = []
    for out in outputs:
        p = Path(out.path)
        label = f"{out.option} {p}"
        if out.is_folder:
            if p.exists() and not p.is_dir():
                problems.append(Problem(f"{label}: this is a file; give a folder for the exports"))
                continue
            targets = [p / name for name in out.contents]
        else:
            if p.is_dir():
                problems.append(Problem(f"{label}: this is a folder; give a file name"))
                continue
            if str(out.path).endswith(("/", os.sep)):
                problems.append(Problem(f"{label}: give a file name, not a folder"))
                continue
            targets = [p]
        bad = _writable_parent(targets[0] if targets else p / "x")
        if bad is not None:
            problems.append(Problem(f"{out.option}: {bad.message}", file=bad.file))
            continue
        for t in targets:
            hit = next((i for i in ins if _same(t, i)), None)
            if hit is not None:
                problems.append(Problem(f"{label}: would overwrite the input file {hit}; write the "
                                        "result somewhere else"))
            clash = next((opt for opt, f in files if _same(t, f)), None)
            if clash is not None:
                problems.append(Problem(f"{label}: the same file as {clash}; give each output its own name"))
            files.append((out.option, t))
    return problems

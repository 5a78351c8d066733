"""How a cause reaches the KPI, told the same way by the graph step, the Root causes panel and the
report.

The graph draws a control loop's process edge (manipulated -> controlled variable) as measured
within a row, but a loop held in the model over time (``LoopRecord.in_model``) acts through it
only from the next row on: the ranking's paths (``Evidence.paths``) leave those paths out. Every
view splits the drawn paths the same way and says why the counts differ.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class CausePaths:
    """The drawn paths from a cause to the KPI, split by how the model takes them.

    Attributes
    ----------
    within : list of list of str
        Paths the model takes within a row (the ones the Evidence lists).
    over_time : list of list of str
        Paths through a control loop's manipulated -> controlled edge, which the model takes
        from the next row on.
    loops : list of tuple of str
        The (manipulated, controlled) edges those paths run through.
    """

    within: list[list[str]] = field(default_factory=list)
    over_time: list[list[str]] = field(default_factory=list)
    loops: list[tuple[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.within) + len(self.over_time)


def loop_step_edges(result) -> set[tuple[str, str]]:
    """The (manipulated, controlled) edges of the loops the model holds over time.

    Parameters
    ----------
    result : AnalysisResult or None

    Returns
    -------
    set of tuple of str
    """
    dyn = getattr(result, "dynamics", None)
    return {(lp.manipulated, lp.controlled) for lp in (dyn.loops if dyn is not None else []) if lp.in_model}


def directed_paths(edges: Iterable[tuple[str, str]], source: str, target: str, limit: int = 8) -> list[list[str]]:
    """Directed paths ``source -> ... -> target`` over ``edges``, shortest first (at most ``limit``).

    Parameters
    ----------
    edges : iterable of (str, str)
    source, target : str
    limit : int

    Returns
    -------
    list of list of str
    """
    children: dict[str, list[str]] = {}
    for a, b in edges:
        children.setdefault(a, []).append(b)
    out: list[list[str]] = []

    def walk(path: list[str]) -> None:
        if len(out) >= 10 * limit:
            return
        if path[-1] == target:
            out.append(path)
            return
        for c in children.get(path[-1], []):
            if c not in path:
                walk(path + [c])

    walk([source])
    return sorted(out, key=len)[:limit]


def split_paths(paths: list[list[str]], result) -> CausePaths:
    """``paths`` split into those the model takes within a row and those through a loop it holds
    over time.

    Parameters
    ----------
    paths : list of list of str
        Drawn paths from a cause to the KPI.
    result : AnalysisResult or None

    Returns
    -------
    CausePaths
    """
    loop_edges = loop_step_edges(result)
    out = CausePaths()
    for p in paths:
        hit = [e for e in zip(p, p[1:], strict=False) if e in loop_edges]
        (out.over_time if hit else out.within).append(p)
        out.loops += [e for e in hit if e not in out.loops]
    return out


def result_paths(result, source: str, limit: int = 8) -> CausePaths:
    """The paths the result's graph draws from ``source`` to the KPI, split (see :func:`split_paths`).

    Parameters
    ----------
    result : AnalysisResult
    source : str
    limit : int

    Returns
    -------
    CausePaths
    """
    edges = [(e.source, e.target) for e in result.graph.edges]
    return split_paths(directed_paths(edges, source, result.target, limit), result)


def over_time_words(cp: CausePaths) -> str:
    """Why some drawn paths are not among the model's within-a-row paths ("" when none are).

    Parameters
    ----------
    cp : CausePaths

    Returns
    -------
    str
        E.g. "through the control loop coolant_valve_pct → reactor_temp_C, which the model takes
        from the next row on".
    """
    if not cp.over_time:
        return ""
    loops = " and ".join(f"{mv} → {cv}" for mv, cv in cp.loops)
    plural = "s" if len(cp.loops) > 1 else ""
    return f"through the control loop{plural} {loops}, which the model takes from the next row on"

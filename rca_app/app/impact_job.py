"""What "Verify the fix" runs, shared by the command line and the window (no Qt): the change
from the engineer's options, checked against the data, and the investigation it builds on."""
from __future__ import annotations

from dataclasses import dataclass

from rca_app.core.errors import Problem, RcaInputError
from rca_app.core.impact_records import ChangeSpec


def change_from_options(data, time: str, node: str | None, value: str | None, switch: str | None) -> ChangeSpec:
    """A :class:`ChangeSpec` from ``--change``, ``--node``/``--value`` or ``--switch``, every
    problem named with the option and the column.

    Parameters
    ----------
    data : PlantData
    time : str
    node, value, switch : str or None

    Returns
    -------
    ChangeSpec

    Raises
    ------
    RcaInputError
    """
    file = data.file_name
    problems = []
    if value is not None and node is None:
        problems.append(Problem("--value needs --node (the setpoint it is the new value of)", file=file))
    if switch is not None:
        name, sep, level = switch.partition("=")
        name, level = name.strip(), level.strip()
        if not sep or not name or not level:
            problems.append(Problem(f"--switch must be NODE=LEVEL (e.g. resin_supplier=NordPoly), not '{switch}'",
                                    file=file))
        elif name not in data.frame.columns:
            problems.append(Problem(f"--switch: {name} is not a sensor of the layout", file=file, column=name))
        elif name not in data.categorical_nodes:
            problems.append(Problem(f"--switch: {name} is numeric; use --node {name} --value V", file=file,
                                    column=name))
        else:
            seen = sorted(set(data.frame[name].astype(str)))
            if level not in seen:
                problems.append(Problem(f"--switch: {name} has no level '{level}' in the data (levels: "
                                        f"{', '.join(seen)})", file=file, column=name))
        if problems:
            raise RcaInputError(problems)
        return ChangeSpec(time, name, level, "switch")
    if node is None:
        if problems:
            raise RcaInputError(problems)
        return ChangeSpec(time)
    if node not in data.frame.columns:
        problems.append(Problem(f"--node: {node} is not a sensor of the layout", file=file, column=node))
    elif node == data.layout.target:
        problems.append(Problem(f"--node: {node} is the KPI; name the setpoint that was changed, or give only "
                                "--change to let the tool find what changed", file=file, column=node))
    elif node in data.categorical_nodes:
        problems.append(Problem(f"--node: {node} is categorical; use --switch {node}=LEVEL", file=file, column=node))
    v = None
    if value is not None:
        try:
            v = float(value.replace(",", ".")) if isinstance(value, str) else float(value)
        except ValueError:
            problems.append(Problem(f"--value must be a number, not '{value}'", file=file, column=node))
    if problems:
        raise RcaInputError(problems)
    return ChangeSpec(time, node, v, "setpoint")


@dataclass
class InvestigationBasis:
    """What the impact query takes from an investigation file."""

    result: object          # AnalysisResult
    graph: dict | None      # the current (possibly edited) graph
    source: str


def load_investigation_for_impact(path, data, reference=None) -> InvestigationBasis:
    """The investigation's result and graph, checked against the (extended) data.

    Raises
    ------
    RcaInputError
        When the file has no result, ``--reference`` is given as well, or the investigation's
        KPI or sensors are not those of the data's layout.
    """
    from pathlib import Path

    from rca_app.app.investigation_file import load_investigation

    name = Path(path).name
    inv = load_investigation(path)
    problems = []
    if reference is not None:
        problems.append(Problem("give --reference or --investigation, not both (the investigation has its own "
                                "reference window)", file=name))
    if inv.result is None:
        problems.append(Problem("the investigation has no result yet: run the analysis in it first, or leave "
                                "--investigation out to fit a model here", file=name))
    else:
        r = inv.result
        if r.target != data.layout.target:
            problems.append(Problem(f"the investigation's KPI is {r.target}, the layout's is {data.layout.target}",
                                    file=name))
        missing = [n.name for n in r.graph.nodes if n.name not in data.frame.columns]
        if missing:
            problems.append(Problem(f"sensors of the investigation's graph are not in the data: "
                                    f"{', '.join(missing[:10])}", file=data.file_name, column=missing[0]))
    if problems:
        raise RcaInputError(problems)
    return InvestigationBasis(inv.result, inv.graph, name)


def run_verify_job(data, change: ChangeSpec, result=None, graph=None, settings: dict | None = None,
                   outcome=None, progress=None):
    """What the window's "Verify" button runs (in a worker): :func:`verify_change`.

    Parameters
    ----------
    data : PlantData
        Extended past the change.
    change : ChangeSpec
    result : AnalysisResult, optional
        The investigation's result (windows, graph, causes).
    graph : dict, optional
    settings : dict, optional
        ``AnalysisSettings`` values.
    outcome : AnalysisOutcome, optional
        The model already fitted on the rows before the change.
    progress : Progress, optional

    Returns
    -------
    ImpactOutcome
    """
    from rca_app.core.impact_run import verify_change
    from rca_app.core.settings import AnalysisSettings

    s = AnalysisSettings.from_dict(settings or {})
    return verify_change(data, change, result, graph, analysis_settings=s, progress=progress, outcome=outcome)

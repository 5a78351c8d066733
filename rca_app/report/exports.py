"""Machine-readable companions of the report: ranking, actions and graph edges as CSV, the
full result as JSON. Each file is written atomically (temp file in the folder, then rename)."""
from __future__ import annotations

from pathlib import Path

from rca_app.core.csv_text import csv_text
from rca_app.core.fileio import write_json_atomic, write_text_atomic
from rca_app.core.results import AnalysisResult, as_result, result_to_json

EXPORT_FILES = {
    "ranking": "ranking.csv",
    "actions": "actions.csv",
    "edges": "graph_edges.csv",
    "result": "result.json",
}


def _write_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    write_text_atomic(path, text, encoding, newline="")


def _csv(header: list[str], rows: list[list]) -> str:
    return csv_text(header, rows)


def ranking_rows(result: AnalysisResult) -> tuple[list[str], list[list]]:
    """The ranking table: one row per root cause with its interval and evidence.

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    header : list of str
    rows : list of list
        Undefined evidence (a categorical sensor has no mean) is None, an empty cell.
    """
    header = ["rank", "node", "station", "restoration", "restoration_ci_low", "restoration_ci_high",
              "share_ranked_first", "controllable", "categorical", "reference_mean", "reference_sd",
              "anomaly_mean", "anomaly_sd", "shift_sd", "noise_shift_z", "noise_sd_ratio"]
    rows = []
    for i, c in enumerate(result.root_causes, 1):
        ev = c.evidence
        lo, hi = c.restoration_ci
        rows.append([i, c.node, c.station, c.restoration, lo, hi, c.share_ranked_first,
                     c.controllable, c.categorical, ev.reference_mean, ev.reference_sd,
                     ev.anomaly_mean, ev.anomaly_sd, ev.shift_sd, ev.noise_shift_z, ev.noise_sd_ratio])
    return header, rows


def edge_rows(result: AnalysisResult) -> tuple[list[str], list[list]]:
    """The graph's edges, with the time between cause and effect on time-series data.

    ``lag`` is how much earlier the source's reading acts on the target: for a same-row edge the
    difference of the two sensors' residence-time shifts (the alignment), for a recycle or a
    self-lag its own lag (those rows follow the graph's, ``origin`` naming their kind and
    ``in_model`` whether the model used them). Empty on data without time.

    Parameters
    ----------
    result : AnalysisResult

    Returns
    -------
    header : list of str
    rows : list of list
    """
    import pandas as pd

    from rca_app.core.layout.time_keys import duration_text

    dyn = result.dynamics
    step = pd.Timedelta(dyn.step) if dyn is not None and dyn.step else None

    def lag(source: str, target: str) -> str:
        if step is None:
            return ""
        return duration_text(step * (dyn.shifts.get(source, 0) - dyn.shifts.get(target, 0)))

    header = ["source", "target", "source_station", "target_station", "effect", "std_error", "confidence",
              "origin", "lag", "in_model"]
    rows = [[e.source, e.target, e.source_station, e.target_station, e.effect, e.std_error, e.confidence,
             e.origin, lag(e.source, e.target), True] for e in result.graph.edges]
    stations = {e.source: e.source_station for e in result.graph.edges} | {
        e.target: e.target_station for e in result.graph.edges}
    for le in (dyn.lagged_edges if dyn is not None else []):
        rows.append([le.source, le.target, stations.get(le.source, ""), stations.get(le.target, ""), None, None,
                     None, le.kind, le.lag, le.in_model])
    return header, rows


def export_tables(result, out_dir) -> list[Path]:
    """Write the ranking, actions and edges as CSV and the full result as JSON into ``out_dir``.

    Parameters
    ----------
    result : AnalysisResult, dict or object with ``to_dict``
        The analysis (read once with :func:`~rca_app.core.results.as_result`).
    out_dir : str or Path
        Folder for the files (created if needed).

    Returns
    -------
    list of Path
        The files written, in :data:`EXPORT_FILES` order.
    """
    result = as_result(result)
    out = Path(out_dir)
    written = []

    # Excel opens UTF-8 CSV correctly only with a BOM, and sensor names may be non-ASCII.
    header, rows = ranking_rows(result)
    p = out / EXPORT_FILES["ranking"]
    _write_atomic(p, _csv(header, rows), "utf-8-sig")
    written.append(p)

    rows = []
    for a in result.actions:
        rng = list(a.reference_range)
        num = len(rng) == 2 and not any(isinstance(v, str) for v in rng)
        rows.append([a.node, a.station, a.recommended_value, a.incident_value,
                     rng[0] if num else "", rng[1] if num else "", "" if num else "|".join(map(str, rng)),
                     a.predicted_target, *a.predicted_target_ci, a.restoration, *a.restoration_ci,
                     " | ".join(a.warnings)])
    p = out / EXPORT_FILES["actions"]
    _write_atomic(p, _csv(["node", "station", "recommended_value", "incident_value", "reference_low",
                           "reference_high", "reference_levels", "predicted_target", "predicted_target_ci_low",
                           "predicted_target_ci_high", "restoration", "restoration_ci_low",
                           "restoration_ci_high", "warnings"], rows), "utf-8-sig")
    written.append(p)

    header, rows = edge_rows(result)
    p = out / EXPORT_FILES["edges"]
    _write_atomic(p, _csv(header, rows), "utf-8-sig")
    written.append(p)

    p = out / EXPORT_FILES["result"]
    write_json_atomic(p, result_to_json(result))
    written.append(p)
    return written

"""Machine-readable companions of the report: ranking, actions and graph edges as CSV, the
full result as JSON. Each file is written atomically (temp file in the folder, then rename)."""
from __future__ import annotations

from pathlib import Path

from rca_app.core.csv_text import csv_text
from rca_app.core.fileio import write_json_atomic, write_text_atomic

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


def ranking_rows(result) -> tuple[list[str], list[list]]:
    header = ["rank", "node", "station", "restoration", "restoration_ci_low", "restoration_ci_high",
              "share_ranked_first", "controllable", "categorical", "reference_mean", "reference_sd",
              "anomaly_mean", "anomaly_sd", "shift_sd", "noise_shift_z", "noise_sd_ratio"]
    rows = []
    for i, c in enumerate(result.root_causes, 1):
        ev = c.get("evidence") or {}
        lo, hi = c["restoration_ci"]
        rows.append([i, c["node"], c["station"], c["restoration"], lo, hi, c["share_ranked_first"],
                     c["controllable"], c["categorical"], ev.get("reference_mean"), ev.get("reference_sd"),
                     ev.get("anomaly_mean"), ev.get("anomaly_sd"), ev.get("shift_sd"),
                     ev.get("noise_shift_z"), ev.get("noise_sd_ratio")])
    return header, rows


def export_tables(result, out_dir) -> list[Path]:
    """Write the exports into ``out_dir`` (created if needed); returns the paths written."""
    if isinstance(result, dict):
        from rca_app.core.analysis import AnalysisResult

        result = AnalysisResult.from_dict(result)
    out = Path(out_dir)
    written = []

    # Excel opens UTF-8 CSV correctly only with a BOM, and sensor names may be non-ASCII.
    header, rows = ranking_rows(result)
    p = out / EXPORT_FILES["ranking"]
    _write_atomic(p, _csv(header, rows), "utf-8-sig")
    written.append(p)

    rows = []
    for a in result.actions:
        rng = list(a.get("reference_range") or [])
        num = len(rng) == 2 and not any(isinstance(v, str) for v in rng)
        rows.append([a["node"], a["station"], a["recommended_value"], a.get("incident_value"),
                     rng[0] if num else "", rng[1] if num else "", "" if num else "|".join(map(str, rng)),
                     a["predicted_target"], *a["predicted_target_ci"], a["restoration"], *a["restoration_ci"],
                     " | ".join(a.get("warnings") or [])])
    p = out / EXPORT_FILES["actions"]
    _write_atomic(p, _csv(["node", "station", "recommended_value", "incident_value", "reference_low",
                           "reference_high", "reference_levels", "predicted_target", "predicted_target_ci_low",
                           "predicted_target_ci_high", "restoration", "restoration_ci_low",
                           "restoration_ci_high", "warnings"], rows), "utf-8-sig")
    written.append(p)

    rows = [[e["source"], e["target"], e.get("source_station"), e.get("target_station"), e.get("effect"),
             e.get("std_error"), e.get("confidence"), e.get("origin")] for e in result.graph.get("edges", [])]
    p = out / EXPORT_FILES["edges"]
    _write_atomic(p, _csv(["source", "target", "source_station", "target_station", "effect", "std_error",
                           "confidence", "origin"], rows), "utf-8-sig")
    written.append(p)

    p = out / EXPORT_FILES["result"]
    write_json_atomic(p, result.to_dict())
    written.append(p)
    return written

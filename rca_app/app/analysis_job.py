"""What "Find root causes" runs, and the thoroughness presets the window offers for it."""
from __future__ import annotations

from dataclasses import replace

from rca_app.app.layout_edit import layout_with_edits

# Settings the window offers (AnalysisSettings fills in the rest); presets trade time for certainty.
PRESETS = {
    "Quick (about 5 s)": {"graph_bootstrap": 5, "rank_bootstrap": 8},
    "Standard": {"graph_bootstrap": 20, "rank_bootstrap": 30},
    "Thorough (slow)": {"graph_bootstrap": 50, "rank_bootstrap": 100},
}
DEFAULT_PRESET = "Standard"


def preset_of(settings: dict) -> str | None:
    """The last preset whose values ``settings`` has (None when they match none).

    Parameters
    ----------
    settings : dict
        Analysis settings as the session holds them.

    Returns
    -------
    str or None
        A key of :data:`PRESETS`.
    """
    found = None
    for name, values in PRESETS.items():
        if all(settings.get(k) == v for k, v in values.items()):
            found = name
    return found


def run_analysis_job(data, anomaly, reference, settings: dict, graph=None, edits=(), progress=None):
    """What "Run analysis" runs: discover (``graph`` None) or refit (``graph`` given), then rank.

    Parameters
    ----------
    data : PlantData
    anomaly, reference : list or None
        Windows in the engineer's terms.
    settings : dict
        ``AnalysisSettings.to_dict()`` values (missing ones take their defaults).
    graph : CausalGraph, optional
        The edited graph to refit; None discovers a new one, keeping ``edits`` as layout
        knowledge (forced edges required, removed ones forbidden).
    edits : sequence of dict
    progress : Progress

    Returns
    -------
    AnalysisOutcome
    """
    from rca_app.core.analysis import AnalysisSettings, run_analysis

    progress.step("preparing the analysis", 0.0)
    if graph is None and edits:
        data = replace(data, layout=layout_with_edits(data.layout, list(edits)))
    return run_analysis(data, anomaly, reference, AnalysisSettings.from_dict(settings or {}),
                        graph=graph, progress=progress)

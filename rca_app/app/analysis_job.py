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


def preset_label(name: str) -> str:
    """What the window shows for a preset: its refits, never a time it cannot keep.

    A run's time grows with the rows and, more than in proportion, with the sensors (the same
    "Quick" run took 7 s on a 9-sensor reactor and ten minutes on 51 Tennessee Eastman sensors), so
    the label counts the refits the engineer buys instead of promising seconds.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS` (kept as it was: saved sessions and scripts name presets by it).

    Returns
    -------
    str
        "Quick: 5 graph resamples, 8 refits", "Standard: 20 graph resamples, 30 refits", ...
    """
    values = PRESETS[name]
    word = name.split(" (")[0]
    # Two counts, named as the report names them: the graph's resamples and the ranking's refits
    # (one sum read "50 refits" where the report says "of 30 bootstrap refits").
    return (f"{word}: {values['graph_bootstrap']} graph resamples, {values['rank_bootstrap']} refits"
            + (" (slow)" if "slow" in name else ""))


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

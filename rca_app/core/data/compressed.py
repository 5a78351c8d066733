"""Historian tags stored by exception (deadband or swinging-door compression), told apart from lab values.

A historian that compresses a tag stores a new sample only when the value moved beyond a
deadband: while the process is steady the samples are far apart, while it moves they come as
fast as the source is scanned. Held between samples on the grid, the held value is evidence (the
value stayed within its deadband), unlike a lab value, which is unknown between samples and
whose links are therefore learnt on its sampled rows only (:mod:`rca_app.core.lab_tags`).

``[tags.NAME] compressed = true`` says so; ``false`` keeps the lab treatment. Unset, a slow
"last" tag counts as compressed when its sampling is driven by change: the intervals between
samples are irregular (coefficient of variation at least :data:`IRREGULAR_CV`) and a tenth of them
are as short as the grid step or half the typical (median) interval (the bursts while the value
moves; a Bad sample inside a burst lengthens it, so the bar is not the scan rate). A lab's
schedule is regular (every 30 min, every shift: a coefficient near 0) and never comes in bursts,
so it keeps its treatment.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rca_app.core.data.messages import quote
from rca_app.core.errors import ProblemList

__all__ = ["IRREGULAR_CV", "looks_compressed", "mark_compressed"]

IRREGULAR_CV = 0.5       # a lab schedule's intervals vary far less than this share of their mean
BURST_SHARE = 0.10       # this share of intervals come in bursts while the value moves ...
BURST_RATIO = 0.5        # ... at most half the typical interval apart (a schedule's are all about equal)
MIN_INTERVALS = 10       # fewer intervals say nothing about how the sampling is driven


def looks_compressed(sample_times, step: pd.Timedelta) -> bool:
    """Whether a tag's sampling is driven by change (exception reporting), not by a schedule.

    Parameters
    ----------
    sample_times : sequence of Timestamp
        When its good samples were taken.
    step : Timedelta
        The analysis grid step.

    Returns
    -------
    bool
    """
    t = pd.DatetimeIndex(sample_times).unique().sort_values()
    if len(t) <= MIN_INTERVALS:
        return False
    iv = np.diff(t.as_unit("ns").asi8).astype(float)
    mean = float(iv.mean())
    if mean <= 0:
        return False
    short = float(np.percentile(iv, 100 * BURST_SHARE))
    burst = max(pd.Timedelta(step).value, float(np.median(iv)) * BURST_RATIO)
    return float(iv.std()) / mean >= IRREGULAR_CV and short <= burst


def mark_compressed(reports: list, layout, step: str | None, file: str, pl: ProblemList) -> None:
    """Mark the compressed tags among ``reports`` (in place): their held values are data.

    A compressed tag keeps its held grid values and loses its sample times, so it is never a
    lab tag; the engineer is told which tags were read so, and how to say otherwise.

    Parameters
    ----------
    reports : list of TagReport
    layout : Layout
        Its ``tag_compressed`` declarations win.
    step : str or None
        The grid step (None: nothing to judge).
    file : str
    pl : ProblemList
    """
    if step is None:
        return
    grid = pd.Timedelta(step)
    for t in reports:
        declared = layout.tag_compressed.get(t.tag)
        if t.rule != "last" or not t.sample_times or declared is False:
            continue
        if declared is None and not looks_compressed(t.sample_times, grid):
            continue
        t.compressed, t.sample_times = True, ()
        how = ("declared compressed" if declared else
               "sampled by change (irregular intervals, in bursts while it moves: exception or deadband "
               "compression)")
        pl.warn(f"tag {quote(t.tag)} is {how}: its value is held between samples on the {step} grid and the held "
                "values are used as data (the value stayed within its deadband), not as a lab value's copies"
                + ("" if declared else f". If it is a lab value, declare [tags.{t.tag}] compressed = false"),
                file=file, column=t.tag, code="tag_compressed")

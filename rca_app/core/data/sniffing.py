"""Which separator a CSV file uses, judged from its first lines."""
from __future__ import annotations

import csv

__all__ = ["SEPARATORS", "sniff_separator"]

#: Candidates in order of preference when two split the lines equally well.
SEPARATORS = (";", "\t", ",", "|")


def sniff_separator(lines: list[str]) -> str:
    """Pick the separator that splits the first lines into the most, consistent fields.

    Parameters
    ----------
    lines : list of str
        The first lines of the file (about 50 are enough).

    Returns
    -------
    str
        One of :data:`SEPARATORS`; "," when none splits the header into two fields.
    """
    best, best_score = ",", None
    for rank, cand in enumerate(SEPARATORS):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=cand) if r]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = (consistent, counts[0], -rank)
        if best_score is None or score > best_score:
            best, best_score = cand, score
    return best

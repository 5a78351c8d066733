"""The reproducibility appendix's "Process dynamics" part (issue #14): the residence times used
(declared or estimated, with confidence), the alignment of each sensor to the KPI, what the control
loops did, the edges over time, the historian tags and the joined tables."""
from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table

from rca_app.app.data_view import TAG_COLUMNS, fmt_duration_text, fmt_seconds, tag_rows
from rca_app.app.dynamics_view import lag_readings, lagged_edge_text
from rca_app.app.result_words import drift_onset_lines, uncertain_lag_note, valve_position_text
from rca_app.core.control_loops import loop_state
from rca_app.report.page import TEXT_W

if TYPE_CHECKING:
    from rca_app.report.builder import ReportBuilder

__all__ = ["dynamics_appendix"]


def _step_seconds(step: str | None) -> float | None:
    import pandas as pd

    try:
        return pd.Timedelta(step).total_seconds() if step else None
    except ValueError:
        return None


def _long_lag(text: str) -> str:
    """A lag as the layout writes it, with hours and minutes beside it past two hours."""
    human = fmt_duration_text(text)
    return f"{text} ({human})" if " h " in human else text


def _joins(layout_text: str | None) -> list[dict]:
    """The [[join]] tables of the layout as used (the result keeps its text, not the parsed form)."""
    try:
        joins = tomllib.loads(layout_text or "").get("join", [])
    except tomllib.TOMLDecodeError:
        return []
    return [j for j in ([joins] if isinstance(joins, dict) else joins) if isinstance(j, dict)]


def dynamics_appendix(b: ReportBuilder) -> list:
    """Flowables for the time-aware treatment, or [] for row-by-row data without historian tags.

    Parameters
    ----------
    b : ReportBuilder
        Its result's ``dynamics`` and, when the table is at hand, ``data.tag_reports``.

    Returns
    -------
    list
        Sub-headings, paragraphs and tables.
    """
    r = b.r
    dyn = r.dynamics
    tags = list(getattr(b.data, "tag_reports", None) or []) if b.data is not None else []
    joins = _joins(r.layout.text)
    if dyn is None and not tags and not joins:
        return []
    st = [b.H2("Process dynamics")]
    if dyn is not None:
        if dyn.step is None:
            st.append(b.P("The rows are unevenly spaced in time: no sensor was aligned and no lag estimated."))
        else:
            lead = (f"Time-series data on a {dyn.step} grid. Each sensor was moved forward by its cumulative "
                    "residence time to the KPI's station before discovery and fitting, so a cause and its "
                    "effect sit in the same row.")
            if dyn.lag_max:
                lead += f" \"auto\" lags were tried up to {fmt_duration_text(dyn.lag_max)}."
            if dyn.rows_without_past:
                lead += (f" {dyn.rows_without_past} reference rows were left out: an upstream sensor had no "
                         "value that far back.")
            st.append(b.P(lead))
        if dyn.note:
            st.append(b.P(dyn.note, "small"))
        readings = lag_readings(dyn)
        if dyn.lags:
            rows = [["From station", "To station", "Lag used", "Given or estimated"]]
            # The layout's own words ("7min"), with hours beside a long one ("1350min (22 h 30 min)").
            rows += [[rec.station, rec.to_station, _long_lag(rec.lag), readings[rec.station].text]
                     for rec in dyn.lags]
            st.append(b.P("**Residence times** (declared values always win; an estimate is used only when the "
                          "block-bootstrap resamples agree with it):"))
            st.append(b.table(rows, [35 * mm, 35 * mm, 22 * mm, TEXT_W - 92 * mm]))
        lag_notes = [f"{rec.station} → {rec.to_station}: {n}" for rec in dyn.lags
                     if (n := uncertain_lag_note(rec, dyn.step))]
        if lag_notes:
            st += b.bullets(lag_notes, "sbullet")
        if dyn.shifts:
            step_s = _step_seconds(dyn.step)
            rows = [["Sensor", "Moved forward by", "Grid steps"]]
            rows += [[name, fmt_seconds(steps * step_s) if step_s else "–", str(steps)]
                     for name, steps in sorted(dyn.shifts.items(), key=lambda kv: (-kv[1], kv[0]))]
            st.append(b.P("**Alignment** of each sensor to the KPI (sensors not listed were not moved):"))
            st.append(b.table(rows, [60 * mm, 35 * mm, 25 * mm], align_right=(1, 2)))
        if dyn.loops:
            rows = [["Controlled", "Manipulated", "Shift (sd)", "Loop state", "Limit use", "Disturbance from"]]
            for lp in dyn.loops:
                src = "–" if not lp.source else lp.source + (
                    f" ({lp.source_share:.0%})" if lp.source_share is not None else "")
                rows.append([lp.controlled, lp.manipulated, f"MV {lp.mv_shift_sd:+.1f}, CV {lp.cv_shift_sd:+.1f}",
                             loop_state(lp),
                             f"{lp.limit_use:.0%} ({'declared' if lp.limits_declared else 'reference range'})",
                             src])
            held = [lp.controlled for lp in dyn.loops if lp.in_model]
            st.append(b.P("**Control loops** in the incident: a controller that compensated hides the disturbance "
                          "in its manipulated variable (MV) while the controlled one (CV) holds."
                          + (" Held in the model over time (the MV answers the CV's previous rows, the CV its "
                             "load and the MV's previous row): " + ", ".join(held) + "." if held else "")))
            st.append(b.table(rows, [28 * mm, 28 * mm, 26 * mm, 34 * mm, 26 * mm, TEXT_W - 142 * mm]))
        if dyn.loops:
            st += b.bullets([f"{lp.manipulated} (holds {lp.controlled}): {valve_position_text(lp, r, named=False)}"
                             for lp in dyn.loops], "sbullet")
        onsets = drift_onset_lines(r)
        if onsets:
            st.append(b.P("**Drift onsets**: where each leading cause's own values began to drift in the incident "
                          "(a CUSUM of its deviation from the reference); a cause whose drift began earlier and "
                          "upstream of the others is the likelier origin."))
            st += b.bullets(onsets, "sbullet")
        cross = [e for e in dyn.lagged_edges if e.kind != "self"]
        selfs = [e for e in dyn.lagged_edges if e.kind == "self"]
        if cross:
            rows = [["Edge over time", "Lag", "Kind", "Partial corr.", "p", "In the model"]]
            kinds = {"recycle": "declared recycle", "proposed_recycle": "proposed (not declared)"}
            rows += [[f"{e.source} → {e.target}", e.lag, kinds[e.kind], f"{e.correlation:+.2f}", f"{e.p_value:.2g}",
                      "yes" if e.in_model else "no"] for e in cross]
            st.append(b.P("**Lagged edges** (partial correlation beyond the target's own past, corrected for the "
                          "lags tried). An edge in the model is a lagged input of its target's mechanism, so a "
                          "restoration or an action reaches the target after the lag; a proposed recycle never is."))
            st.append(b.table(rows, [62 * mm, 16 * mm, 38 * mm, 20 * mm, 16 * mm, TEXT_W - 152 * mm],
                              align_right=(3, 4)))
            proposed = [e for e in cross if e.kind == "proposed_recycle"]
            for e in proposed:
                st.append(b.P(lagged_edge_text(e) + ".", "small"))
        if selfs:
            st.append(b.P("Slow own dynamics (self-lags): " + ", ".join(
                f"{e.source} ({e.lag}, {e.correlation:+.2f}{', in the model' if e.in_model else ''})"
                for e in selfs) + ".", "small"))
    if tags:
        st.append(b.P("**Historian tags**: a long export pivoted onto the analysis grid. Bad-quality samples "
                      "and status texts were treated as missing, never as numbers."))
        st.append(b.table([list(TAG_COLUMNS)] + tag_rows(tags),
                          [40 * mm, 14 * mm, 18 * mm, 36 * mm, 22 * mm, 18 * mm, TEXT_W - 148 * mm],
                          align_right=(2, 4), style="cell"))
    elif dyn is not None and dyn.bad_samples:
        rows = [["Tag", "Bad-quality samples"]] + [[k, f"{v:,}"] for k, v in sorted(dyn.bad_samples.items())]
        st.append(b.P("**Historian tags** with samples flagged bad quality (treated as missing):"))
        st.append(b.table(rows, [60 * mm, 40 * mm], align_right=(1,)))
    if joins:
        rows = [["Joined table", "Key column", "Sheet"]]
        rows += [[str(j.get("file", "")), str(j.get("on", "")), str(j.get("sheet") or "–")] for j in joins]
        st.append(b.P("**Joined tables** (batch genealogy: lot properties joined by key):"))
        st.append(b.table(rows, [70 * mm, 40 * mm, 30 * mm]))
    # A little air after each table: the next paragraph starts a new topic.
    out = []
    for f in st:
        out.append(f)
        if isinstance(f, Table):
            out.append(Spacer(1, 3 * mm))
    return out

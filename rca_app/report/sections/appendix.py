"""Closing sections: assumptions and limits, and the reproducibility appendix (software, input
file, settings, the command and the layout)."""
from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Paragraph, Preformatted

from rca_app.report import formatting as F
from rca_app.report import text as T
from rca_app.report.flowables import wrap_command
from rca_app.report.page import MONO, SECTIONS, TEXT_W
from rca_app.report.sections.dynamics import dynamics_appendix

if TYPE_CHECKING:
    from rca_app.report.builder import ReportBuilder

__all__ = ["assumptions", "appendix"]


def assumptions(b: ReportBuilder) -> list:
    r = b.r
    stations = " → ".join(r.graph.stations)
    exo = [n.name for n in r.graph.nodes if n.exogenous]
    n = T.refits_used(r)
    items = [
        f"<b>Process order (tiers).</b> A sensor can only be caused by sensors of its own or an earlier station, "
        f"in the order of the layout: {escape(stations)}. Sensors declared exogenous are taken to have no causes "
        f"among the measured sensors ({escape(', '.join(exo)) or 'none'}). If the layout order is wrong, so is "
        "the graph.",
        _hidden_causes_item(r),
        _time_item(r),
        *_ranking_items(r, n),
        "<b>Actions only inside the observed range.</b> Setpoint predictions are made only for values the "
        "setpoint took in the reference period; the model does not extrapolate, and a best value at the edge of "
        "the range may lie beyond it. They assume the incident's disturbance persists and that the setpoint has "
        "no side effects outside the graph (other quality attributes, equipment limits). Confirm with a "
        "controlled trial before changing a standard.",
        "<b>Data.</b> Results rest on the rows used; dropped rows, imputed gaps and columns left out are listed "
        "under Model diagnostics.",
    ]
    return [b.H1(SECTIONS[7])] + b.bullets(items, markup=True)


def _hidden_causes_item(r) -> str:
    hidden = r.diagnostics.hidden_causes
    text = ("<b>Hidden common causes.</b> Every factor that drives two measured sensors is assumed to be measured "
            "too, unless flagged. An unmeasured common driver (ambient conditions, a shared utility, a shift "
            "change, a raw-material property nobody logs) can create or hide edges and put the blame on the sensor "
            "closest to it. Two checks run after the fit: whether two sensors both changed their own behaviour in "
            "the incident, in the direction they always move together (one measured cause changes only one of "
            "them), and whether their own noises correlate or, for sensors joined by an edge, leave a residual that "
            "depends on its cause in either direction (the reference-period shape test, which needs non-Gaussian "
            "noise). Sensors of a declared control loop are not checked: a controller links them by design")
    if hidden:
        return text + (f": {len(hidden)} group(s) were flagged (see the causal graph section) and restored "
                       "together rather than credited to one sensor; an edge between them was left out of the "
                       "ranking. Two separate faults striking linked sensors at once can look the same.")
    return text + ": none was flagged here, which does not prove there is none."


def _carry_over(r) -> str:
    """What the model carries from earlier rows (lagged inputs in the model) and what it does not."""
    held = [e for e in r.dynamics.lagged_edges if e.in_model] if r.dynamics is not None else []
    loops = [lp for lp in r.dynamics.loops if lp.in_model] if r.dynamics is not None else []
    if not held and not loops:
        return "Carry-over from earlier rows is not modelled."
    return ("Carry-over from earlier rows is modelled where the appendix marks it (recycle streams, slow own "
            "dynamics, control loops held over time): a restoration reaches those sensors after their lag. "
            "Other carry-over is not modelled.")


def _time_item(r) -> str:
    method = r.diagnostics.discovery_method or "given"
    how = {"lingam": "the shape of the noise (LiNGAM), which needs non-Gaussian variation",
           "pc": "conditional independences and the layout (PC); directions they leave open stay undetermined",
           "fci": "conditional independences and the layout (FCI, which allows for hidden common causes)",
           "given": "the graph as given"}.get(method.split("+")[0], f"the {escape(method)} search")
    if r.dynamics is not None and r.dynamics.step is not None and not r.dynamics.shifts:
        return ("<b>Time.</b> Rows are time steps; no residence time between stations was declared or found in the "
                "data, so each row is compared as one moment (see Process dynamics in the appendix). "
                + _carry_over(r) + f" Within a station, directions come from {how}.")
    if r.dynamics is not None and r.dynamics.step is not None:
        return ("<b>Time.</b> Rows are time steps: each sensor was shifted by its residence time to the KPI before "
                "the graph was learnt (see Process dynamics in the appendix), so one row holds the material that "
                "became that row's KPI. Residence times that were estimated rest on the reference period. "
                + _carry_over(r) + f" Within a station, directions come from {how}.")
    return ("<b>Rows are simultaneous snapshots.</b> Each row is treated as one unit or time window; delays between "
            "stations and carry-over from earlier rows are not modelled. Within a station, directions come from "
            f"{how}.")


def _ranking_items(r, n: int) -> list[str]:
    basis = r.ranking_basis
    if basis is not None and basis.method == "anomaly":
        return ["<b>What the anomaly score means.</b> The KPI never varied in the reference period, so there is no "
                "reference behaviour to restore it to. Sensors are ranked by how unusual their own behaviour (what "
                "their measured causes do not explain) was during the incident, among those with a path to the "
                "KPI. A high score says where something unusual happened upstream; it does not measure how much of "
                "the KPI's change it explains. The scores carry no intervals."]
    items = [
        "<b>What restoration means.</b> It is the model's counterfactual answer to “how much of the loss comes "
        "back if this sensor alone had behaved as in the reference period”. It points to where the change "
        "entered the process; it does not prove the sensor or its equipment is faulty, it does not say how to "
        "bring it back, and restorations of different sensors need not add up to 100% (effects interact). A "
        "value slightly above 100% or below 0% is within noise.",
        f"<b>What the intervals cover.</b> The 90% intervals come from {n} refits on resampled reference rows "
        "with the graph held fixed: they include the uncertainty of the fitted mechanisms, not that of the graph "
        "itself (edge confidences show that separately; a range over undetermined directions is given where "
        "the data could not orient an edge).",
    ]
    if basis is not None and basis.method == "unit_restoration":
        items[0] += (f" Here it is computed for the {basis.incident_rows} incident row(s) alone: one misread sensor "
                     "value counts fully.")
    return items


def _rows_used_text(b: ReportBuilder) -> str:
    """Rows of the analysis grid, and for a historian export the samples pivoted onto it."""
    text = f"{int(b.r.input.rows_used or 0):,}"
    tags = list(getattr(b.data, "tag_reports", None) or []) if b.data is not None else []
    if tags:
        grid = getattr(b.data, "sample", None) or (b.r.dynamics.step if b.r.dynamics is not None else None)
        text += (f" rows of the {grid + ' ' if grid else ''}analysis grid, pivoted from "
                 f"{sum(t.samples for t in tags):,} historian samples of {len(tags)} tags")
    return text


def _layout_source_words(b: ReportBuilder) -> str:
    """Which layout file the rebuilt command names, when it is not the file the layout was read
    from: the layout was edited in the application and used without being saved."""
    r = b.r
    if r.layout.text is None:
        return ""
    found, same = T.layout_on_disk(r)
    if same:
        return ""
    was = (f"differs from {found.name} on disk" if found is not None else "is in no file found")
    if b.layout_path is not None:
        return (f". The layout used was edited in the application and {was}: it was written beside this "
                f"report as {b.layout_path.name} (its text is printed at the end of this appendix), and the "
                "command names that file")
    return (f". The layout used was edited in the application and {was}: save the layout printed at the end "
            f"of this appendix as {T.LAYOUT_PLACEHOLDER}, the file the command names")


def appendix(b: ReportBuilder) -> list:
    from rca_app.core.analysis import AnalysisSettings

    r = b.r
    st = [CondPageBreak(110 * mm), b.H1(SECTIONS[8])]
    st.append(b.P(
        "Everything needed to reproduce the analysis. The analysis is deterministic for a seed: the same "
        "command on a file with the same SHA-256 and the same software versions gives the same numbers."))
    sw = r.software
    st.append(b.H2("Software"))
    rows = [["Package", "Version"], [str(sw.get("name", "rca_app")), str(sw.get("version", F.MISSING))]]
    rows += [[k, str(v)] for k, v in sw.items() if k not in ("name", "version")]
    st.append(b.table(rows, [45 * mm, 45 * mm]))
    inp = r.input
    st.append(b.H2("Input data"))
    sha = Paragraph(f'<font name="{MONO}">{escape(str(inp.sha256 or F.MISSING))}</font>', b.st["cell"])
    rows = [["File name", inp.file or F.MISSING], ["Path", inp.path or F.MISSING],
            ["Size", F.fmt_bytes(inp.size_bytes)], ["SHA-256", sha]]
    if inp.sheet not in (None, ""):
        rows.append(["Sheet", str(inp.sheet)])
    for j in inp.joined:     # lot tables: a changed one gives other numbers, so fingerprinted too
        rows += [["Joined table", f"{j.file} (by {j.on}; {j.rows:,} rows, {F.fmt_bytes(j.size_bytes)}), {j.path}"],
                 ["SHA-256", Paragraph(f'<font name="{MONO}">{escape(j.sha256)}</font>', b.st["cell"])]]
    rows += [["Rows used", _rows_used_text(b)],
             ["Gap policy", str(inp.gaps or r.diagnostics.gaps_policy or F.MISSING)]]
    if inp.dayfirst is not None:
        rows.append(["Date order", "day first" if inp.dayfirst else "month first"])
    a, ref = r.anomaly, r.reference
    rows += [["Incident window", f"{F.fmt_window(a)} (rows {a.first_row} to {a.stop_row - 1})"],
             ["Reference window", f"{F.fmt_window(ref)} (rows {ref.first_row} to {ref.stop_row - 1})"]]
    if a.auto and a.rule:
        rows.append(["Incident rule", f"suggested automatically: {a.rule}"])
    st.append(b.table(rows, [32 * mm, TEXT_W - 32 * mm], header=False, bold_first_col=True))

    st.append(b.H2("Settings"))
    rows = [["Setting", "Value"]]
    def setting_rows(prefix: str, items) -> None:
        for k, v in items:
            if k == "command":
                continue
            if isinstance(v, dict):      # the recorded thresholds, one row each
                setting_rows(f"{prefix}{k}.", v.items())
            else:
                rows.append([prefix + k, ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)])
    setting_rows("", r.settings.items())
    if str(r.settings.get("seed")) != str(r.seed):
        rows.append(["seed (result)", str(r.seed)])
    rows.append(["result schema version", str(r.schema_version)])
    st.append(b.table(rows, [55 * mm, TEXT_W - 55 * mm]))

    st.append(b.H2("Command"))
    cmd, recorded = T.reproduce_command(r, b.layout_path)
    st.append(b.P("The command that produced this result:" if recorded else
                     "The result was not produced from the command line; this command reproduces it "
                     "(built from the recorded settings)" + _layout_source_words(b) + ":", "small"))
    st.append(Preformatted(wrap_command(cmd, 100), b.st["mono"]))
    # Settings the command line cannot set must match the defaults for the command to reproduce.
    defaults = AnalysisSettings().to_dict()
    on_cli = {"seed", "graph_bootstrap", "rank_bootstrap", "n_folds", "discovery_engine", "command"}
    off = [k for k, v in r.settings.items() if k not in on_cli and k in defaults and v != defaults[k]]
    if off:
        st.append(b.P("Note: the settings " + ", ".join(off) + " differ from the defaults and have no "
                         "command-line option; set them in the application to reproduce.", "small"))
    if r.diagnostics.graph_source == "given":
        st.append(b.P("Note: the causal graph was supplied or edited by the user; the command above "
                         "rediscovers it instead.", "small"))

    st += dynamics_appendix(b)

    lay = r.layout
    edited = not recorded and lay.text is not None and not T.layout_on_disk(r)[1]
    st.append(b.H2("Layout used (edited in the application)" if edited else f"Layout ({lay.file or 'layout'})"))
    st.append(Preformatted(lay.text or "(layout text not recorded)", b.st["mono"],
                           maxLineLength=112, splitChars=" ,", newLineChars="    "))
    return st

"""D6/D7: verification of corrective actions. Did the change work, how much of the recovery is
due to it, and are the root causes gone? Read from an :class:`ImpactResult`."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from rca_app.app.formatting import fmt_number
from rca_app.app.verify_view import attribution_rows, cause_rows
from rca_app.report import formatting as F
from rca_app.report import text as T
from rca_app.report.impact_figures import impact_figure
from rca_app.report.page import FIG_W_IN, TEXT_W

if TYPE_CHECKING:
    from rca_app.report.builder import ReportBuilder

__all__ = ["verification", "TITLE"]

TITLE = "Verification of corrective actions (D6/D7)"


def _ci(ci, dec: int) -> str:
    lo, hi = ci
    return f"{F.fmt_num(lo, dec)} to {F.fmt_num(hi, dec)}"


def verification(b: ReportBuilder) -> list:
    """The section: verdict, figure, effect table, attribution, causes, caveats."""
    im = b.impact
    if im is None:
        return []
    unit = T.unit_of(b.r, im.target)
    dec = T.target_decimals(b.r) + 1
    pct = round(100 * im.level)
    c = im.change
    value = "" if c.value is None else f" = {fmt_number(c.value)}"
    head = b.H1(TITLE)
    intro = b.P(
        f"Change at {F.fmt_bound(c.time)}: {c.node}{value} ({c.kind}"
        + (", found in the data: the sensor whose own behaviour moved most at that time" if c.found_in_data else "")
        + f"). The {im.after.n_rows} rows from the change to the end of the data are compared with the same rows "
        "had the change not been made: every row keeps its own upstream behaviour (a better lot that arrived "
        f"the same week stays in both), only {c.node} behaves as it did between the incident and the change, "
        f"and {im.target} is recomputed by the model. Windows: {im.windows_source}.")
    verdict = b.P(f"**Verdict: {im.verdict}.** {im.verdict_text}", "body")
    fig = b._fig("impact", lambda: impact_figure(im, FIG_W_IN, unit))
    cap = b.P(
        f"Left: {im.target} after the change as measured (navy) and without the change (red, dashed), as rolling "
        f"means; grey band: {pct}% split-conformal prediction interval per unit for the KPI without the change "
        "(from the KPI model's cross-fitted reference residuals); pink band: the conformal interval of the "
        "window mean, calibrated on windows of the same length in the reference residuals (block calibration, "
        "approximate for autocorrelated rows). Right: the recovery since the incident, step by step.", "caption")
    tab = [["Quantity", "Value", f"{pct}% interval"],
           [f"{im.target} after the change, measured", F.fmt_num(im.observed_mean, dec), ""],
           [f"{im.target} after the change, without it", F.fmt_num(im.counterfactual_mean, dec),
            _ci((im.counterfactual_mean_band.low, im.counterfactual_mean_band.high), dec) + " (conformal, blocks)"],
           ["Effect of the change (mean)", F.fmt_num(im.effect_mean, dec),
            _ci(im.effect_mean_ci, dec) + f" (bootstrap, {im.n_refits} refits)"],
           ["Effect including the KPI's own behaviour", "", _ci(im.effect_mean_conformal_ci, dec) + " (conformal)"],
           [f"Effect summed over {im.after.n_rows} rows", F.fmt_num(im.effect_cumulative, dec),
            _ci(im.effect_cumulative_ci, dec)],
           ["Smallest effect that counts", F.fmt_num(im.min_effect, dec), ""],
           [f"{im.target} before the change (since the incident)", F.fmt_num(im.before_mean, dec), ""],
           [f"{im.target} in the reference period", F.fmt_num(im.reference_mean, dec), ""]]
    w = [70 * mm, 30 * mm]
    w.append(TEXT_W - sum(w))
    st = [KeepTogether([head, intro, verdict, fig, cap]), Spacer(1, 4),
          KeepTogether([b.H2("Effect on the KPI"), b.table(tab, w, align_right=(1,))])]
    att = [["Part of the recovery", f"{im.target}", f"{pct}% interval", "Share"]]
    att += [list(row) for row in attribution_rows(im)]
    w = [78 * mm, 24 * mm, 44 * mm]
    w.append(TEXT_W - sum(w))
    st.append(KeepTogether([
        b.H2("Attribution of the recovery"),
        b.P(f"{im.target} went from {F.fmt_num(im.before_mean, dec)} before the change to "
            f"{F.fmt_num(im.observed_mean, dec)} after it. Each part is how much lower the after-change mean would "
            "be had that sensor behaved as before the change (the same machinery as the ranking); "
            "the unexplained part is the KPI's own noise, and the interactions make the parts add up."),
        b.table(att, w, align_right=(1, 3))]))
    if im.causes:
        rows = [["Root cause", "Own-noise shift before", "After the change (90% interval)", "Status"]]
        rows += [list(r) for r in cause_rows(im)]
        w = [48 * mm, 36 * mm, 62 * mm]
        w.append(TEXT_W - sum(w))
        st.append(KeepTogether([b.H2("Did the root cause go away?"),
                                b.P("Each ranked cause's own noise (what its upstream does not explain), as a "
                                    "shift from the reference period in reference standard deviations."),
                                b.table(rows, w)]))
    if im.caveats:
        st.append(b.P("<b>Caveats</b>", "small", markup=True))
        st += b.bullets(list(im.caveats), "sbullet")
    st.append(KeepTogether([b.note_box("D7 Verified by", None,
                                       placeholder="Who confirmed the verdict on the line, and when.")]))
    return st

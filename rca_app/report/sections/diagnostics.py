"""Model diagnostics: every warning, the mechanisms, the edges, the noise and invariance checks."""
from __future__ import annotations

from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from rca_app.app.result_words import lagged_input_text
from rca_app.report import formatting as F
from rca_app.report.page import SECTIONS, TEXT_W

if TYPE_CHECKING:
    from rca_app.report.builder import ReportBuilder

__all__ = ["diagnostics"]

# Mechanism kinds: short names for the candidates column, long ones for the mechanism column.
_SHORT_KIND = {"linear": "lin", "poly2": "quad", "spline": "spline", "hgb": "trees"}
_KIND_NAMES = {
    "empirical": "own distribution (no causes)",
    "categorical_empirical": "level frequencies (no causes)",
    "linear": "linear",
    "poly2": "quadratic",
    "spline": "additive spline",
    "hgb": "gradient-boosted trees",
    "classifier": "classifier",
}


def _warning_lines(b: ReportBuilder) -> list[str]:
    """Every warning, grouped (markup strings): data, rows and gaps, model, actions."""
    r, d = b.r, b.r.diagnostics
    out = []
    for p in d.data_problems:
        where = ", ".join(x for x in (p.file, f"column '{p.column}'" if p.column else None,
                                      f"row {p.row}" if p.row is not None else None) if x)
        out.append(f"<b>Data ({escape(str(p.severity))}).</b> "
                   f"{escape(where + ': ' if where else '')}{escape(str(p.message))}")
    reasons = {"missing_time": "without a timestamp", "missing_target": "without a KPI value",
               "missing_sensor": "with sensor gaps"}
    dropped = [f"{n:,} {reasons.get(k, k)}" for k, n in d.dropped_rows.items() if n]
    imputed = [f"{c} {n:,}" for c, n in d.imputed_cells.items() if n]
    if dropped or imputed:
        txt = []
        if dropped:
            txt.append("rows dropped: " + ", ".join(dropped))
        if imputed:
            txt.append(f"cells imputed (gap policy '{d.gaps_policy}'): " + ", ".join(imputed))
        joined = "; ".join(txt)
        out.append("<b>Rows and gaps.</b> " + escape(joined[0].upper() + joined[1:] + "."))
    out += [f"<b>Model.</b> {escape(m.text)}" for m in d.messages]
    near = [c.node for c in d.noise_checks if c.near_gaussian]
    if near:
        out.append("<b>Model.</b> " + escape("Noise close to Gaussian for " + ", ".join(near) + ": the direction "
                   "of edges between them rests on the station order more than on the data."))
    uns = d.unstable_edges
    if uns:
        out.append(f"<b>Model.</b> {len(uns)} candidate edge(s) appeared in some bootstrap resamples but not "
                   "often enough to be kept (listed under Edges).")
    if d.graph_source == "given":
        out.append("<b>Model.</b> The causal graph was supplied or edited by the user; it was not discovered "
                   "from the data.")
    for a in r.actions:
        out += [f"<b>Action (range).</b> {escape(a.node)}: {escape(w)}" for w in a.warnings]
    return out


def diagnostics(b: ReportBuilder) -> list:
    r, d = b.r, b.r.diagnostics
    st = [b.H1(SECTIONS[6])]
    st.append(b.H2("Warnings"))
    warns = _warning_lines(b)
    st += b.bullets(warns, "sbullet", markup=True) if warns else [b.P("No warnings.", "small")]

    st.append(b.H2("Mechanisms"))
    step = r.dynamics.step if r.dynamics is not None else None
    st.append(b.P(
        "How each sensor is modelled from its causes, with the out-of-fold R² (share of its variance "
        "predicted on rows the model did not see; 1 is perfect, 0 no better than the mean). Pooled: learned "
        "on reference and incident rows together because the mechanism evidently did not change.", "small"))
    tab = [["Sensor", "Mechanism", "Causes", "R² (out of fold)", "Other candidates (R²)", "Pooled"]]
    for m in r.mechanisms:
        cands = ", ".join(f"{_SHORT_KIND.get(k, k)} {F.fmt_num(v, 2)}" for k, v in m.candidates.items()
                          if k != m.kind)
        parents = [lagged_input_text(p, step) for p in m.parents]
        tab.append([m.node, _KIND_NAMES.get(m.kind, m.kind), ", ".join(parents) or F.MISSING,
                    F.fmt_num(m.oof_r2, 2), cands or F.MISSING, "yes" if m.pooled else ""])
    w = [38 * mm, 29 * mm, 46 * mm, 17 * mm, 30 * mm]
    w.append(TEXT_W - sum(w))
    st.append(b.table(tab, w, align_right=(3,)))
    if any("[t-" in p for m in r.mechanisms for p in m.parents):
        st.append(b.P(
            "X[t-N rows = T]: sensor X as it was N rows earlier, a lagged input (recycle, controller or slow own "
            "dynamics). Rows are counted on the residence-time-aligned grid, on which every sensor was already "
            "moved forward by its residence time to the KPI, so N can differ from a recycle's own lag.", "small"))

    st.append(b.H2("Edges"))
    st.append(b.P(
        "Effect: change of the downstream sensor per unit of the upstream one (± standard error), estimated "
        "with cross-fitting. Confidence: share of bootstrap resamples in which discovery found the edge.",
        "small"))
    tab = [["Cause → effect", "Stations", "Effect (± SE)", "Confidence", "Origin"]]
    for e in r.graph.edges:
        eff = e.effect
        se = e.std_error
        lv = e.level_effects
        if lv:
            base = next((k for k, v in lv.items() if not v), None)
            eff_txt = (f"vs {base}: " if base else "") + ", ".join(
                f"{k} {F.fmt_num(v, None)}" for k, v in lv.items() if k != base)
        else:
            eff_txt = F.fmt_num(eff, None) + (f" ± {F.fmt_sig(se)}" if se is not None else "")
        tab.append([f"{e.source} → {e.target}", f"{e.source_station} → {e.target_station}",
                    eff_txt, F.fmt_pct(e.confidence) if e.confidence is not None else F.MISSING,
                    str(e.origin or "")])
    w = [64 * mm, 40 * mm, 32 * mm, 20 * mm]
    w.append(TEXT_W - sum(w))
    st.append(b.table(tab, w, align_right=(2, 3)))
    uns = d.unstable_edges
    if uns:
        st.append(Spacer(1, 4))
        st.append(b.P("Candidate edges not kept (found in too few resamples): " + "; ".join(
            f"{u.source} → {u.target} ({F.fmt_pct(u.confidence)})" for u in uns) + ".", "small"))

    checks = d.noise_checks
    if checks:
        st.append(b.H2("Non-Gaussianity of the noise"))
        # What a near-Gaussian noise means depends on who decided the directions.
        lingam_used = (d.discovery_method or "lingam").startswith("lingam")
        st.append(b.P(
            "LiNGAM reads causal directions inside a station from the shape of each sensor's noise, which works "
            "only when the noise is not Gaussian. A small p-value of the normality test means clearly "
            "non-Gaussian. " + ("LiNGAM decided this graph, so near-Gaussian noise makes its directions less "
                                "certain." if lingam_used else
                                "These checks chose the method: this graph's directions come from conditional "
                                "independences and the layout, which do not need non-Gaussian noise"
                                + ("; LiNGAM oriented only groups PC left open in which at most one noise is "
                                   "near-Gaussian." if "lingam" in (d.discovery_method or "") else ".")), "small"))
        tab = [["Sensor", "Skewness", "Excess kurtosis", "Normality p-value", "Near Gaussian"]]
        for c in checks:
            p = c.p_value
            near = ("yes: directions less certain" if lingam_used else "yes") if c.near_gaussian else "no"
            tab.append([c.node, F.fmt_num(c.skewness, 2), F.fmt_num(c.excess_kurtosis, 2), F.fmt_p_value(p), near])
        w = [60 * mm, 22 * mm, 26 * mm, 28 * mm]
        w.append(TEXT_W - sum(w))
        st.append(b.table(tab, w, align_right=(1, 2, 3)))

    inv = d.invariance_checks
    if inv:
        st.append(b.H2("Did a mechanism change? (invariance checks)"))
        st.append(b.P(
            "For sensors that looked anomalous under their reference-only mechanism: the shift of their "
            "incident residuals (in reference standard deviations) and their spread ratio under that "
            "mechanism and under the same kind of mechanism learned on both periods. "
            "When one mechanism explains both, it is pooled and the sensor is taken to have followed its "
            "causes.", "small"))
        tab = [["Sensor", "Shift (reference)", "Shift (pooled)", "Spread (reference)", "Spread (pooled)", "Pooled"]]
        for ic in inv:
            tab.append([ic.node, F.fmt_num(ic.shift_sd_reference, 2), F.fmt_num(ic.shift_sd_pooled, 2),
                        F.fmt_num(ic.sd_ratio_reference, 2), F.fmt_num(ic.sd_ratio_pooled, 2),
                        "yes" if ic.pooled else "no"])
        w = [60 * mm, 22 * mm, 22 * mm, 26 * mm, 24 * mm]
        w.append(TEXT_W - sum(w))
        st.append(b.table(tab, w, align_right=(1, 2, 3, 4)))
    tm = d.timings
    if tm:
        st.append(Spacer(1, 4))
        st.append(b.P("Computing time: " + ", ".join(
            f"{k.replace('_s', '')} {F.fmt_seconds(v)}" for k, v in tm.items() if isinstance(v, (int, float))) + ".",
            "caption"))
    return st

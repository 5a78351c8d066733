"""Front sections of the report: the title block, the summary and the is / is not analysis
(D1 team, D2 problem description, D3 containment)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, TableStyle

from rca_app.app.result_words import controller_move_text, trust_notes
from rca_app.core.results import GraphNodeRecord
from rca_app.core.rootcause import Evidence
from rca_app.report import formatting as F
from rca_app.report import text as T
from rca_app.report.page import HIGHLIGHT, SECTIONS, TEXT_W

if TYPE_CHECKING:
    from rca_app.report.builder import ReportBuilder

__all__ = ["title_block", "summary", "is_is_not"]


def title_block(b: ReportBuilder) -> list:
    r, k = b.r, b.kpi
    st = []
    st.append(b.P("Root-cause investigation report", "title"))
    sub = (f"{r.target} {k['verb']} by {k['amount']}" + (f" ({k['pct']})" if k["pct"] else "")
           + f" on {r.plant}")
    st.append(b.P(sub, "subtitle"))
    rows = [
        ["Plant / line", r.plant],
        ["KPI", f"{r.target}" + (f" ({k['unit']})" if k["unit"] else "") + f", goal: {r.goal}"],
        ["Incident window", f"{F.fmt_window(r.anomaly)}  ({F.fmt_duration(r.anomaly)})"
         + ("  · suggested automatically" if r.anomaly.auto else "")],
        ["Reference window", f"{F.fmt_window(r.reference)}  ({F.fmt_duration(r.reference)})"],
        ["Author", b.author],
        ["Date", f"{b.generated:%Y-%m-%d}"],
        ["Report ID", b.report_id],
    ]
    team = b.notes.get("team")
    rows.append(["Team (D1)", ", ".join(team) if isinstance(team, list) else (team or "not recorded")])
    t = b.table(rows, [32 * mm, TEXT_W - 32 * mm], header=False, bold_first_col=True)
    st.append(t)
    st.append(Spacer(1, 4))
    st.append(b.P(
        "8D cross-reference: D1 team (above) · D2 problem description (sections 1–2) · D3 containment "
        "(section 2) · D4 root cause (sections 3–5) · D5 corrective action (section 6).", "caption"))
    return st


def summary(b: ReportBuilder) -> list:
    st = [b.H1(SECTIONS[0])]
    paragraphs = T.summary_paragraphs(b.r)
    if b.data_note is None and b.r.target in b.data.frame.columns:
        a = b.r.anomaly
        spread = T.kpi_spread_text(b.r, b.data.frame[b.r.target].iloc[a.first_row:a.stop_row])
        paragraphs[0] += (" " + spread) if spread else ""
    for p in paragraphs[:-1]:
        st.append(b.P(p))
    st += _trust(b)
    st.append(b.P(paragraphs[-1]))
    if b.data_note:
        st.append(b.P(b.data_note, "caption"))
    box = b.note_box("Engineer's comments", b.notes.get("comments"))
    if box is not None:
        st += [Spacer(1, 2), box]
    return st


# Notes on trust shown on the first page; the rest are in the diagnostics section.
TRUST_ON_PAGE_ONE = 4


def _trust(b: ReportBuilder) -> list:
    """What bears on how far the ranking above can be trusted, where the ranking is read."""
    notes = trust_notes(b.r)
    if not notes:
        return []
    st = [b.P("**How far to trust this ranking.** Read these before acting on it:")]
    shown = notes[:TRUST_ON_PAGE_ONE]
    st += b.bullets([n + "." for n in shown])
    if len(notes) > len(shown):
        st.append(b.P(f"{len(notes) - len(shown)} more such note(s) in section 7 ({SECTIONS[6]}).", "caption"))
    return st


def _sensor_rows(b: ReportBuilder) -> list[dict]:
    """Every sensor (not the KPI) in layout order with its evidence and verdict."""
    causes = {c.node: c for c in b.r.root_causes}
    controlled = {lp.controlled for lp in (b.r.dynamics.loops if b.r.dynamics else [])}
    out = []
    for n in b.r.graph.nodes:
        name = n.name
        if name == b.r.target:
            continue
        c = causes.get(name)
        ev = c.evidence if c else _data_evidence(b, name, n)
        verdict, changed = T.classify(ev, held_by_loop=name in controlled,
                                      moved_by_loop=controller_move_text(name, b.r)) if ev else ("no data", False)
        if c is None:
            verdict += " (no path to KPI)"
        out.append({"name": name, "station": n.station, "ev": ev or _no_evidence(), "verdict": verdict,
                    "changed": changed, "categorical": n.categorical, "cause": c})
    return out


def _no_evidence() -> Evidence:
    """Evidence of a sensor the report cannot judge (no model for it and no data passed)."""
    return Evidence(None, None, None, None, None, None, None)


def _data_evidence(b: ReportBuilder, name: str, node: GraphNodeRecord) -> Evidence | None:
    """Shift of a sensor that is not upstream of the KPI (no noise z: no model for it)."""
    if b.data_note is not None or name not in b.data.frame.columns:
        return None
    a, r = b.r.anomaly, b.r.reference
    col = b.data.frame[name]
    ref, inc = col.iloc[r.first_row:r.stop_row], col.iloc[a.first_row:a.stop_row]
    if node.categorical:
        rs, ins = ref.astype(str).value_counts(normalize=True), inc.astype(str).value_counts(normalize=True)
        levels = sorted(set(rs.index) | set(ins.index))
        return Evidence(None, None, None, None, None, None, None,
                        level_shares={lv: (float(rs.get(lv, 0.0)), float(ins.get(lv, 0.0))) for lv in levels})
    rm, rsd, im, isd = float(ref.mean()), float(ref.std(ddof=0)), float(inc.mean()), float(inc.std(ddof=0))
    return Evidence(reference_mean=rm, reference_sd=rsd, anomaly_mean=im, anomaly_sd=isd,
                    shift_sd=(im - rm) / rsd if rsd else None, noise_shift_z=None, noise_sd_ratio=None)


def is_is_not(b: ReportBuilder) -> list:
    r, k = b.r, b.kpi
    rows = _sensor_rows(b)
    own = [s for s in rows if s["changed"] and s["verdict"].split(" (")[0] in
           ("shifted on its own", "level mix changed", "spread changed")]
    # A valve its controller moved answered the disturbance: said apart, never a "Where".
    by_loop = [s for s in rows if s["changed"] and s["verdict"].startswith("moved by its controller")]
    follow = [s for s in rows if s["changed"] and s not in own and s not in by_loop]
    same = [s for s in rows if not s["changed"] and s["verdict"].split(" (")[0] not in T.HELD_VERDICTS]
    held = [s for s in rows if not s["changed"] and s not in same]
    st = [b.H1(SECTIONS[1])]
    st.append(b.P(
        "What changed between the reference period and the incident, and what did not. A sensor "
        f"counts as shifted when its incident mean is at least {T.SHIFT_SD:g} reference SD away; it shifted "
        f"<b>on its own</b> when its noise z-score (the part its upstream causes do not explain) is at least "
        f"{T.NOISE_Z:g} in size, or its spread changed by a factor {T.SPREAD_RATIO:g}. Sensors that shifted "
        "on their own are where root causes are; the others followed them. A sensor whose own noise moved "
        "while its mean stayed within one SD was held against its causes (by its controller when a loop "
        "controls it): it did not shift. A loop's manipulated variable (a valve) that its controller moved to answer "
        "a disturbance shifted, but not on its own: it is said apart, with the sensor it answered.", markup=True))

    def names(lst, limit=40):
        # A cell taller than a page cannot be laid out: long lists point to the sensor table.
        if not lst:
            return "none"
        shown = ", ".join(s["name"] for s in lst[:limit])
        return shown + (f" and {len(lst) - limit} more (see the sensor table)" if len(lst) > limit else "")

    st_changed = [s for s in dict.fromkeys(x["station"] for x in own)]
    st_all = list(r.graph.stations)
    sensor_stations = {s["station"] for s in rows}
    st_same = [s for s in st_all if s not in st_changed and s in sensor_stations]
    kt = [
        ["", "IS", "IS NOT"],
        ["What", f"Shifted on their own: {names(own)}. Shifted with their causes: {names(follow)}."
                 + (" Moved by their controllers: " + ", ".join(f"{s['name']} ({s['verdict'].split(', ', 1)[1]})"
                                                            for s in by_loop) + "." if by_loop else ""),
         f"Within the reference behaviour: {names(same)}."
         + (f" Held near the reference against their causes (own noise moved, mean did not): {names(held)}."
            if held else "")],
        ["Where", "Stations with a sensor that shifted on its own: " + (", ".join(st_changed) or "none") + ".",
         "Stations with no sensor that shifted on its own: " + (", ".join(st_same) or "none") + "."],
        ["When", f"From {F.fmt_bound(r.anomaly.start)} to {F.fmt_bound(r.anomaly.end)}: "
                 f"{F.fmt_duration(r.anomaly)}.",
         f"Not in the reference period {F.fmt_window(r.reference)} ({F.fmt_duration(r.reference)}), "
         "used as the normal state."],
        ["How much", f"{r.target} {k['verb']} from {k['ref']} to {k['inc']}: {k['amount']}"
                     + (f" ({k['pct']} of the reference level)" if k["pct"] else "") + ".",
         f"Not within normal variation: the reference SD of {r.target} is {k['sd']}."],
    ]
    st.append(b.table(kt, [20 * mm, (TEXT_W - 20 * mm) / 2, (TEXT_W - 20 * mm) / 2], bold_first_col=True))
    st.append(Spacer(1, 8))

    st.append(b.H2("Sensor by sensor"))
    tab = [["Sensor", "Station", "Reference mean (SD)", "Incident mean (SD)", "Shift (ref. SD)",
            "Noise z", "Spread ratio", "Verdict"]]
    hl = []
    for i, s in enumerate(rows, 1):
        ev = s["ev"]
        if ev.level_shares:
            shares = ev.level_shares
            ref = " · ".join(f"{lv} {F.fmt_pct(v[0])}" for lv, v in shares.items())
            inc = " · ".join(f"{lv} {F.fmt_pct(v[1])}" for lv, v in shares.items())
            tab.append([s["name"], s["station"], ref, inc, F.MISSING, F.MISSING, F.MISSING, s["verdict"]])
        else:
            dec = F.decimals_for(ev.reference_sd)
            tab.append([s["name"], s["station"],
                        f"{F.fmt_num(ev.reference_mean, dec)} ({F.fmt_num(ev.reference_sd, dec)})",
                        f"{F.fmt_num(ev.anomaly_mean, dec)} ({F.fmt_num(ev.anomaly_sd, dec)})",
                        F.fmt_num(ev.shift_sd, 1), F.fmt_num(ev.noise_shift_z, 1),
                        F.fmt_num(ev.noise_sd_ratio, 2), s["verdict"]])
        if s in own:
            hl.append(i)
    w = [38 * mm, 24 * mm, 25 * mm, 25 * mm, 15 * mm, 13 * mm, 14 * mm]
    w.append(TEXT_W - sum(w))
    t = b.table(tab, w, align_right=(4, 5, 6))
    for i in hl:
        t.setStyle(TableStyle([("BACKGROUND", (0, i), (-1, i), HIGHLIGHT)]))
    st.append(t)
    st.append(b.P("Highlighted: sensors that shifted on their own. Noise z and spread ratio need the "
                     "model, so they are shown only for sensors upstream of the KPI.", "caption"))
    box = b.note_box("D3 Containment actions", b.notes.get("containment"),
                        placeholder="Not recorded. Containment actions taken can be added with --notes.")
    st.append(KeepTogether([box]))
    return st

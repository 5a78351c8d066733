"""External benchmark: root causes on the Tennessee Eastman process (TEP), a plant we did not simulate.

The Tennessee Eastman process (Downs & Vogel 1993) is the public chemical-process simulation
that fault-diagnosis methods are compared on: a gas-phase reactor, a condenser and vapour-liquid
separator, a compressor recycling the separator vapour to the reactor, a purge, and a stripper
making the product; 41 measurements (XMEAS, 22 fast ones with noise, 19 from gas chromatographs
sampled every 6 or 15 minutes with a dead time) and 12 manipulated variables (XMV). Here it runs
under the decentralised multiloop control of Ricker (1996), as packaged by ``tep-studio``
(the revised model ``temexd_mod`` of Bathelt, Ricker & Jelali 2015, with ``ClosedLoopSimulation``).

Two parts, two interpreters:

``generate`` (the venv with tep-studio; this module imports neither rca_app nor tep_studio at
top level) simulates each incident: 4 h warm-up dropped, 36 h of normal operation (the reference),
then one disturbance IDV switched on for 10 h, sampled every 3 minutes (the sampling of the
classic TEP data sets) with the simulator's own measurement noise and analyser hold. It writes,
per incident, ``data.csv`` (a ``time`` column, 52 tags, the KPI), ``layout.toml`` and
``truth.json`` under ``bench/data/te/`` (git ignores it).

``run`` (the project's venv) analyses every incident as a new user would: load the CSV and the
layout, anomaly window = the fault period, default settings; and records the rank of the true
entry point, the top 5 and the time taken, against ranking by marginal shift and against the
engine with the time keys removed from the layout (no recycles, no loops, no time column).
Results: ``bench/results/tennessee_eastman.json``.

    /work/tepvenv/bin/python -m bench.tennessee_eastman generate [--incidents 1:1,6:2]
    python -m bench.tennessee_eastman run [--quick] [--add ours_linear|row_by_row|merge]
    python -m bench.tennessee_eastman explain idv01_seed1 a_feed_valve

The KPI is the plant's **operating cost in $/h** (Downs & Vogel 1993, eq. for the operating
cost: purge losses of reactants and products, product-stream losses, compressor work and
stripper steam), computed by the simulator from the *measured* flows and analyser readings.
It is what a plant manager watches on this process. The product's G content is held at its
setpoint by the %G loop and hardly moves; the cost moves where a disturbance costs money (the
controllers spend more purge, feed or compressor work): IDV1, 2, 6 and 8 move its mean by 1.3-20
reference sd, IDV7, 11, 13 and 14 only widen its spread, and most other disturbances are
absorbed before the economics see them (see ``DEFAULT_INCIDENTS``).

Entry points (``truth.json``): the measured variables where each disturbance first acts. The
disturbance definitions are Downs & Vogel (1993), Table 8; which measured variables carry a
fault's first signature is our reading of those definitions against Ricker's (1996) control
structure (which controller moves which valve), in line with how the fault-diagnosis literature
on TEP discusses these faults (Chiang, Russell & Braatz 2001): IDV1, 2, 7, 8 enter with stream 4
(the A+C feed and, through the composition loops, the A feed; IDV2's B first shows in the
reactor-feed analyser); IDV4, 11, 14 at the reactor cooling water (its valve, its outlet
temperature, the reactor temperature the loop holds); IDV5, 12 at the condenser cooling water
(its valve, its outlet temperature, the separator temperature); IDV6 at the A feed, whose valve
opens fully; IDV13 (kinetics) has no sensor of its own, so the reactor's pressure, temperature
and cooling valve stand for it. The truth is that small set, and a method scores when any of
them is ranked (the best rank counts). Set sizes are in the results so a lucky top-3 on a big
set can be judged.

References
----------
Downs, J. J. & Vogel, E. F. (1993). A plant-wide industrial process control problem. Computers &
Chemical Engineering 17(3), 245-255.
Ricker, N. L. (1996). Decentralized control of the Tennessee Eastman challenge process. Journal of
Process Control 6(4), 205-221.
Chiang, L. H., Russell, E. L. & Braatz, R. D. (2001). Fault Detection and Diagnosis in Industrial
Systems. Springer.
Bathelt, A., Ricker, N. L. & Jelali, M. (2015). Revision of the Tennessee Eastman process model.
IFAC-PapersOnLine 48(8), 309-314.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "te"
OUT = HERE / "results"

STEP_H = 0.05            # 3-minute samples, as in the classic TEP data sets
WARMUP_H = 4.0           # dropped: the controller's start from the Mode-1 state
REFERENCE_H = 36.0
FAULT_H = 10.0
CONTROL_INTERVAL_H = 0.0005   # the model's design step (Ricker's Simulink model)
KPI = "operating_cost_usd_h"
START = "2026-01-05 00:00:00"

# The 41 XMEAS in order (tep-studio's schema names) and 11 XMV: the agitator speed (XMV12) is
# left out as in the classic 52-variable data sets (it is never moved).
XMEAS = [
    "feed_A_flow", "feed_D_flow", "feed_E_flow", "feed_AC_flow", "recycle_flow", "reactor_feed_flow",
    "reactor_pressure", "reactor_level", "reactor_temperature", "purge_flow", "separator_temperature",
    "separator_level", "separator_pressure", "separator_underflow", "stripper_level",
    "stripper_pressure", "stripper_underflow", "stripper_temperature", "stripper_steam_flow",
    "compressor_work", "reactor_cooling_water_outlet_temperature_meas",
    "condenser_cooling_water_outlet_temperature",
    *[f"reactor_feed_{c}_concentration" for c in "ABCDEF"],
    *[f"purge_{c}_concentration" for c in "ABCDEFGH"],
    *[f"stripper_underflow_{c}_concentration" for c in "DEFGH"],
]
XMV = [
    "d_feed_valve", "e_feed_valve", "a_feed_valve", "ac_feed_valve", "compressor_recycle_valve",
    "purge_valve", "separator_underflow_valve", "stripper_underflow_valve", "stripper_steam_valve",
    "reactor_cooling_water_valve", "separator_cooling_water_valve",
]

# Stations in flow order; each sensor where it sits in the process. The reactor feed analyser
# reads stream 6 (fresh feeds + recycle + stripper overhead) at the reactor inlet, so it belongs
# to the reactor; the product (stripper underflow, stream 11) and its analyser end the line.
STATIONS: list[tuple[str, list[str]]] = [
    ("Feeds", ["feed_A_flow", "feed_D_flow", "feed_E_flow", "feed_AC_flow",
               "a_feed_valve", "d_feed_valve", "e_feed_valve", "ac_feed_valve"]),
    ("Reactor", ["reactor_feed_flow", *[f"reactor_feed_{c}_concentration" for c in "ABCDEF"],
                 "reactor_pressure", "reactor_level", "reactor_temperature",
                 "reactor_cooling_water_outlet_temperature_meas", "reactor_cooling_water_valve"]),
    ("Condenser and separator", ["separator_temperature", "separator_level", "separator_pressure",
                                 "separator_underflow", "condenser_cooling_water_outlet_temperature",
                                 "separator_cooling_water_valve", "separator_underflow_valve"]),
    ("Compressor, recycle and purge", ["recycle_flow", "compressor_work", "purge_flow", "purge_valve",
                                       *[f"purge_{c}_concentration" for c in "ABCDEFGH"]]),
    ("Stripper", ["stripper_level", "stripper_pressure", "stripper_temperature", "stripper_steam_flow",
                  "stripper_underflow_valve"]),
    ("Product", ["stripper_underflow", *[f"stripper_underflow_{c}_concentration" for c in "DEFGH"], KPI]),
]
# Valves an engineer can move (through their controllers' setpoints).
CONTROLLABLE = {
    "Feeds": ["a_feed_valve", "d_feed_valve", "e_feed_valve", "ac_feed_valve"],
    "Reactor": ["reactor_cooling_water_valve"],
    "Condenser and separator": ["separator_cooling_water_valve", "separator_underflow_valve"],
    "Compressor, recycle and purge": ["purge_valve"],
    "Stripper": ["stripper_underflow_valve"],
}
# The valves Ricker's Mode-1 strategy never moves (XMV5 compressor recycle, XMV9 stripper steam):
# in the CSV as a historian would export them, out of the layout, since the product refuses a
# constant column ("column is constant ... leave it out of the layout"), the first thing a new
# user meets on this plant. 50 tags are analysed.
FIXED_VALVES = ("compressor_recycle_valve", "stripper_steam_valve")
EXOGENOUS: dict[str, list[str]] = {}

# The main loops of Ricker (1996) as tep-studio encodes them (tep_studio.control.registry):
# controlled variable, manipulated variable, setpoint (Mode 1). Cascades are written from the
# process variable to the valve that finally moves; the inner flow loops are left out (they sit
# on the same valves and hold a ratio to the production index, not a fixed setpoint).
LOOPS = [
    ("reactor_temperature", "reactor_cooling_water_valve", 120.4),
    ("separator_temperature", "separator_cooling_water_valve", None),   # its setpoint is the level loop's output
    ("reactor_level", "separator_cooling_water_valve", 75.0),          # via the separator temperature setpoint
    ("reactor_pressure", "purge_valve", 2705.0),                       # via the purge ratio r5
    ("separator_level", "separator_underflow_valve", 50.0),            # via r6
    ("stripper_level", "stripper_underflow_valve", 50.0),              # via r7
    ("reactor_feed_A_concentration", "a_feed_valve", None),            # yA loop trims the A feed ratio r1
    ("reactor_feed_C_concentration", "ac_feed_valve", None),           # yAC loop trims the A+C feed ratio r4
]
# Backward streams: separator vapour compressed back to the reactor feed (stream 8), and the
# stripper overhead joining the reactor feed (stream 5). Gas streams: well under one sample.
RECYCLES = [("Compressor, recycle and purge", "Reactor", "3min"), ("Stripper", "Reactor", "3min")]


@dataclass(frozen=True)
class Fault:
    """One TEP disturbance: its IDV number, what it is, its kind and its entry-point sensors."""

    idv: int
    name: str
    kind: str               # "step", "random" or "sticking"
    entry: tuple[str, ...]


_REACTOR_CW = ("reactor_cooling_water_valve", "reactor_cooling_water_outlet_temperature_meas", "reactor_temperature")
_CONDENSER_CW = ("separator_cooling_water_valve", "condenser_cooling_water_outlet_temperature", "separator_temperature")
FAULTS = {f.idv: f for f in [
    Fault(1, "A/C feed ratio of stream 4, B composition constant (step)", "step",
          ("feed_AC_flow", "ac_feed_valve", "feed_A_flow", "a_feed_valve")),
    Fault(2, "B composition of stream 4, A/C ratio constant (step)", "step",
          ("feed_AC_flow", "ac_feed_valve", "reactor_feed_B_concentration")),
    Fault(4, "Reactor cooling water inlet temperature (step)", "step", _REACTOR_CW),
    Fault(5, "Condenser cooling water inlet temperature (step)", "step", _CONDENSER_CW),
    Fault(6, "A feed loss (step)", "step", ("feed_A_flow", "a_feed_valve")),
    Fault(7, "C header pressure loss, reduced availability of stream 4 (step)", "step",
          ("feed_AC_flow", "ac_feed_valve")),
    Fault(8, "A, B, C feed composition of stream 4 (random variation)", "random",
          ("feed_AC_flow", "ac_feed_valve", "feed_A_flow", "a_feed_valve", "reactor_feed_B_concentration")),
    Fault(11, "Reactor cooling water inlet temperature (random variation)", "random", _REACTOR_CW),
    Fault(12, "Condenser cooling water inlet temperature (random variation)", "random", _CONDENSER_CW),
    Fault(13, "Reaction kinetics (slow drift)", "drift",
          ("reactor_pressure", "reactor_temperature", "reactor_cooling_water_valve")),
    Fault(14, "Reactor cooling water valve (sticking)", "sticking", _REACTOR_CW),
]}
# Faults that move the operating cost's mean (pilot runs, seed 1: IDV1 +3.2 sd, IDV2 +12.6,
# IDV6 +19.3, IDV8 +1.3) are KPI incidents an engineer would investigate: two seeds each.
# IDV7, 11, 13, 14 only widen the cost's spread (2-15x its reference sd, mean within 0.4 sd):
# one seed each, scored apart. IDV3, 4, 5, 9, 10, 12, 15, 16 and 21-23 move the cost by less
# than 0.3 sd in mean and spread (the controllers absorb them before the economics see them):
# no KPI incident, not analysed.
DEFAULT_INCIDENTS = ((1, 1), (1, 2), (2, 1), (2, 2), (6, 1), (6, 2), (8, 1), (8, 2),
                     (7, 1), (11, 1), (13, 1), (14, 1))


def _toml_list(names) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def layout_toml(time_keys: bool = True) -> str:
    """The plant layout a process engineer would write for the TEP from its flowsheet.

    Parameters
    ----------
    time_keys : bool
        With the time keys (``time_column``, ``[[recycle]]``, ``[[loop]]``); without them the
        layout is the row-by-row one (stations and tiers only).

    Returns
    -------
    str
        TOML text.
    """
    out = ["[plant]", 'name = "Tennessee Eastman process (Ricker decentralised control, Mode 1)"',
           f'target = "{KPI}"', 'goal = "minimize"']
    if time_keys:
        out.append('time_column = "time"')
    for name, sensors in STATIONS:
        out += ["", "[[station]]", f'name = "{name}"', f"sensors = {_toml_list(sensors)}"]
        if name in EXOGENOUS:
            out.append(f"exogenous = {_toml_list(EXOGENOUS[name])}")
        if name in CONTROLLABLE:
            out.append(f"controllable = {_toml_list(CONTROLLABLE[name])}")
    if time_keys:
        for src, dst, lag in RECYCLES:
            out += ["", "[[recycle]]", f'from = "{src}"', f'to = "{dst}"', f'lag = "{lag}"']
        for cv, mv, sp in LOOPS:
            out += ["", "[[loop]]", f'controlled = "{cv}"', f'manipulated = "{mv}"']
            if sp is not None:
                out.append(f"setpoint = {sp}")
            out += ["low = 0.0", "high = 100.0"]
    out += ["", "[units]", f'{KPI} = "$/h"']
    return "\n".join(out) + "\n"


def truth(fault: Fault, seed: int, n_reference: int, n_fault: int, stabilized: bool = True) -> dict:
    """The incident's truth: entry-point sensors, windows as timestamps, the simulation's settings.

    Parameters
    ----------
    fault : Fault
    seed : int
        Measurement-noise (and random-disturbance) seed of the simulator.
    n_reference, n_fault : int
        Rows of normal operation and of the fault period.
    stabilized : bool
        False when the plant shut down before the end of the fault period.

    Returns
    -------
    dict
    """
    import pandas as pd

    ts = pd.date_range(START, periods=n_reference + n_fault + 1, freq=f"{round(STEP_H * 60)}min")
    fmt = "%Y-%m-%d %H:%M:%S"
    return {"root_causes": list(fault.entry), "idv": fault.idv, "fault": fault.name, "kind": fault.kind,
            "seed": seed, "target": KPI, "goal": "minimize",
            "reference": {"start": ts[0].strftime(fmt), "end": ts[n_reference].strftime(fmt)},
            "anomaly": {"start": ts[n_reference].strftime(fmt), "end": ts[n_reference + n_fault].strftime(fmt)},
            "sample_minutes": round(STEP_H * 60), "stabilized": stabilized,
            "simulator": "tep-studio 0.2.0 (temexd_mod, Ricker 1996 decentralised control)"}


def simulate(idv: int, seed: int) -> tuple[object, bool]:
    """Closed-loop run with disturbance ``idv`` switched on after warm-up and reference.

    Returns
    -------
    (pandas.DataFrame, bool)
        The 3-minute table (time, 52 tags, KPI) after the warm-up, and whether the plant ran the
        whole horizon without a shutdown.
    """
    import pandas as pd
    from tep_studio import ClosedLoopSimulation

    t_fault = WARMUP_H + REFERENCE_H
    horizon = t_fault + FAULT_H

    def schedule(t: float) -> np.ndarray:
        v = np.zeros(28)
        if t >= t_fault - 1e-9:
            v[idv - 1] = 1.0
        return v

    every = round(STEP_H / CONTROL_INTERVAL_H)
    res = ClosedLoopSimulation(control_interval=CONTROL_INTERVAL_H, horizon=horizon).run(
        seed=float(seed), disturbance_schedule=schedule, record_every=every)
    rows = []
    for r in res.results:
        # record_every keeps steps 0, N, 2N, ...: step k ends at (k + 1) * interval.
        rows.append([r.time, *r.measurements[:41], *r.implemented_action[:11],
                     r.objective_terms["operating_cost_measured_per_hour"]])
    df = pd.DataFrame(rows, columns=["hours", *XMEAS, *XMV, KPI])
    df = df[df["hours"] > WARMUP_H + 1e-9].reset_index(drop=True)
    ts = pd.date_range(START, periods=len(df), freq=f"{round(STEP_H * 60)}min")
    df.insert(0, "time", ts.strftime("%Y-%m-%d %H:%M:%S"))
    return df.drop(columns="hours"), bool(res.stabilized)


def generate(incidents=DEFAULT_INCIDENTS, folder: Path = DATA) -> list[Path]:
    """Simulate every (IDV, seed) and write data.csv, layout.toml, layout_rows.toml, truth.json."""
    written = []
    n_ref = round(REFERENCE_H / STEP_H)
    for idv, seed in incidents:
        t = time.perf_counter()
        df, ok = simulate(idv, seed)
        d = folder / f"idv{idv:02d}_seed{seed}"
        d.mkdir(parents=True, exist_ok=True)
        df.to_csv(d / "data.csv", index=False, lineterminator="\n", float_format="%.6g")
        (d / "layout.toml").write_text(layout_toml(True), encoding="utf-8")
        (d / "layout_rows.toml").write_text(layout_toml(False), encoding="utf-8")
        tr = truth(FAULTS[idv], seed, n_ref, len(df) - n_ref, ok)
        y = df[KPI].to_numpy()
        shift = (y[n_ref:].mean() - y[:n_ref].mean()) / y[:n_ref].std()
        tr["kpi_shift_sd"] = round(float(shift), 2)
        tr["kpi_spread_ratio"] = round(float(y[n_ref:].std() / y[:n_ref].std()), 2)
        (d / "truth.json").write_text(json.dumps(tr, indent=2) + "\n", encoding="utf-8")
        written.append(d)
        print(f"IDV{idv:02d} seed {seed}: {len(df)} rows, stabilized {ok}, KPI shift {shift:+.1f} sd, "
              f"{time.perf_counter() - t:.0f} s", flush=True)
    return written


def shift_ranking(frame, target: str, ref_rows: slice, an_rows: slice) -> list[str]:
    """Sensors by |incident mean - reference mean| / reference sd, largest first (the baseline)."""
    scores = {}
    for c in frame.columns:
        if c == target:
            continue
        r = frame[c].iloc[ref_rows].to_numpy(float)
        a = frame[c].iloc[an_rows].to_numpy(float)
        sd = float(np.nanstd(r))
        if not np.isfinite(sd) or sd == 0.0:
            continue   # a tag constant in the reference has no scale; it ranks last
        scores[c] = abs(float(np.nanmean(a)) - float(np.nanmean(r))) / sd
    return sorted(scores, key=scores.get, reverse=True)


def best_rank(ranking: list[str], entry) -> int | None:
    """1-based rank of the best-ranked entry-point sensor, None when none is ranked."""
    ranks = [ranking.index(e) + 1 for e in entry if e in ranking]
    return min(ranks) if ranks else None


def _scores(ranking: list[str], entry) -> dict:
    r = best_rank(ranking, entry)
    return {"rank": r, "top1": r == 1, "top3": r is not None and r <= 3, "top5": ranking[:5]}


def analyse_one(folder: Path, settings, with_rows: bool = True) -> dict:
    """One incident through the product's loading path and engine; our ranking and the baselines."""
    from rca_app.core.analysis import run_analysis
    from rca_app.core.data import load_table, prepare
    from rca_app.core.layout import load_layout
    from rca_app.core.serialization import to_json_data

    tr = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    entry = tr["root_causes"]
    window = (tr["anomaly"]["start"], tr["anomaly"]["end"])
    rec = {"incident": folder.name, "idv": tr["idv"], "fault": tr["fault"], "kind": tr["kind"],
           "seed": tr["seed"], "entry": entry, "stabilized": tr["stabilized"],
           "kpi_incident": abs(tr["kpi_shift_sd"]) >= 1.0, "kpi_spread_ratio": tr["kpi_spread_ratio"]}
    layout = load_layout(folder / "layout.toml")
    data = prepare(load_table(folder / "data.csv"), layout)
    t = time.perf_counter()
    out = run_analysis(data, window, None, settings)
    rec["seconds"] = round(time.perf_counter() - t, 1)
    res = out.result
    full = to_json_data(res)
    (folder / "result.json").write_text(json.dumps(full, indent=1, default=str), encoding="utf-8")
    ours = [c.node for c in res.root_causes]
    rec["ours"] = {**_scores(ours, entry), "n_ranked": len(ours)}
    rec["timings"] = {k: round(v, 1) for k, v in res.diagnostics.timings.items()}
    print(f"  {folder.name}: ours rank {rec['ours']['rank']} in {rec['seconds']} s {rec['timings']}", flush=True)
    inc = res.anomaly
    rec["kpi_shift_sd"] = round((inc.target_anomaly_mean - inc.target_reference_mean)
                                / (inc.target_reference_sd or 1.0), 2)
    ref = res.reference
    rec["rows"] = {"reference": ref.n_rows, "incident": inc.n_rows}
    shift = shift_ranking(data.frame, layout.target, slice(ref.first_row, ref.stop_row),
                          slice(inc.first_row, inc.stop_row))
    rec["marginal_shift"] = _scores(shift, entry)
    dyn = full.get("dynamics") or {}
    rec["lags"] = [f"{lg['station']}->{lg['to_station']}: {lg['lag']}"
                   + ("" if lg["given"] else f" (auto, conf {lg.get('confidence')})") for lg in dyn.get("lags", [])]
    rec["loops"] = [{k: lp.get(k) for k in ("controlled", "manipulated", "mv_shift_sd", "cv_shift_sd",
                                           "compensated", "source", "source_share")} for lp in dyn.get("loops", [])]
    if with_rows:
        rec.update(variant(folder, settings, "row_by_row"))
    return rec


def variant(folder: Path, settings, key: str) -> dict:
    """Another engine on the same incident: ``row_by_row`` (the layout without its time keys:
    no time column, recycles or loops) or ``ours_linear`` (the default engine with linear
    mechanisms only, which cannot extrapolate a curve far outside the reference range)."""
    import dataclasses

    from rca_app.core.analysis import run_analysis
    from rca_app.core.data import load_table, prepare
    from rca_app.core.layout import load_layout

    tr = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    window = (tr["anomaly"]["start"], tr["anomaly"]["end"])
    if key == "row_by_row":
        # The time column is in no station of that layout, so it is left out (with a warning);
        # the windows are then row numbers (the first rows of the file are the reference).
        layout = load_layout(folder / "layout_rows.toml")
        n_ref = round(REFERENCE_H / STEP_H)
        data = prepare(load_table(folder / "data.csv"), layout)
        window = (n_ref, data.n_rows)
    else:
        layout = load_layout(folder / "layout.toml")
        data = prepare(load_table(folder / "data.csv"), layout)
        settings = dataclasses.replace(settings, mechanisms=("linear",))
    t = time.perf_counter()
    out = run_analysis(data, window, None, settings)
    ranked = [c.node for c in out.result.root_causes]
    seconds = round(time.perf_counter() - t, 1)
    print(f"  {folder.name}: {key} rank {best_rank(ranked, tr['root_causes'])} in {seconds} s", flush=True)
    return {key: {**_scores(ranked, tr["root_causes"]), "n_ranked": len(ranked)}, f"{key}_seconds": seconds}


def summary(records: list[dict]) -> dict:
    """Top-1 / top-3 counts per method: over the KPI incidents (the cost's mean moved 1+ sd) and
    over the spread-only ones."""
    out: dict = {}
    groups = {"kpi_incidents": [r for r in records if r.get("kpi_incident")],
              "spread_only": [r for r in records if not r.get("kpi_incident")]}
    for g, recs in groups.items():
        out[g] = {"incidents": len(recs)}
        for m in ("ours", "ours_linear", "row_by_row", "marginal_shift"):
            rs = [r[m] for r in recs if m in r]
            if rs:
                out[g][m] = {"top1": sum(x["top1"] for x in rs), "top3": sum(x["top3"] for x in rs), "n": len(rs),
                             "median_rank": float(np.median([x["rank"] or 99 for x in rs]))}
    return out


def table(records: list[dict]) -> str:
    """Markdown table: one row per incident, the rank of the entry point for each method."""
    lines = ["| incident | kind | entry set | KPI shift (sd) | ours | ours, linear mechanisms | row-by-row | "
             "marginal shift | our top 3 |", "|---|---|---|---|---|---|---|---|---|"]
    def f(r, m):
        return "-" if m not in r else (str(r[m]["rank"]) if r[m]["rank"] else "not ranked")

    for r in records:
        lines.append(f"| {r['incident']} | {r['kind']} | {len(r['entry'])} | {r['kpi_shift_sd']:+.1f} | "
                     f"{f(r, 'ours')} | {f(r, 'ours_linear')} | {f(r, 'row_by_row')} | {f(r, 'marginal_shift')} | "
                     f"{', '.join(r['ours']['top5'][:3])} |")
    return "\n".join(lines)


def _variant_file(key: str, folder: Path) -> Path:
    return folder / f"readings_{key}.json"


def _fold_variants(records: list[dict], folder: Path) -> list[dict]:
    """The readings of the other engines (written by ``run --add``) joined onto the records."""
    for key in ("row_by_row", "ours_linear"):
        f = _variant_file(key, folder)
        if f.exists():
            readings = json.loads(f.read_text(encoding="utf-8"))
            for r in records:
                r.update(readings.get(r["incident"], {}))
    return records


def _write(records: list[dict], quick: bool, folder: Path, finished: bool = False) -> dict:
    records = _fold_variants(records, folder)
    res = {"settings": "quick (no graph resamples, 5 refits)" if quick else "default, rank_bootstrap=5",
           "kpi": KPI, "summary": summary(records), "records": records}
    if finished:
        res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    OUT.mkdir(exist_ok=True)
    name = "tennessee_eastman_quick.json" if quick else "tennessee_eastman.json"
    (OUT / name).write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    return res


def run_all(quick: bool = False, only=(), with_rows: bool = False, folder: Path = DATA, mode: str = "main") -> dict:
    """Analyse every generated incident; write bench/results/tennessee_eastman.json.

    Parameters
    ----------
    quick : bool
        No graph resamples and 5 refits (a smoke run).
    only : sequence of str
        Incident folder names (default: all); the others keep their earlier records.
    with_rows : bool
        Also run the row-by-row engine in the main pass.
    folder : Path
        Where the generated incidents are.
    mode : {"main", "row_by_row", "ours_linear", "merge"}
        "main": ours and the marginal-shift ranking. "row_by_row" / "ours_linear": that engine
        only, its readings kept in ``folder/readings_<mode>.json`` (so it can run beside the main
        pass) and joined onto the records whenever the results file is written. "merge": only
        join them and rewrite the results file.

    Returns
    -------
    dict
        The results (empty when no incidents were generated).
    """
    from rca_app.core.analysis import AnalysisSettings

    if not folder.exists() or not any(folder.glob("*/truth.json")):
        print(f"no TEP incidents in {folder}: generate them first with the tep-studio venv "
              "(python -m bench.tennessee_eastman generate)", flush=True)
        return {}
    # Default settings but 5 refits for the intervals instead of 30: root causes are ordered by
    # their point restoration, so the refits only widen or narrow the intervals, and 30 of them
    # took 190 of 270 s per incident on the shared 2-core machine.
    settings = (AnalysisSettings(graph_bootstrap=0, rank_bootstrap=5, n_jobs=1) if quick
                else AnalysisSettings(rank_bootstrap=5))
    name = "tennessee_eastman_quick.json" if quick else "tennessee_eastman.json"
    # KPI incidents (the cost's mean moved) first, then the spread-only ones.
    folders = sorted((p.parent for p in folder.glob("*/truth.json")),
                     key=lambda d: (abs(json.loads((d / "truth.json").read_text())["kpi_shift_sd"]) < 1.0, d.name))
    folders = [d for d in folders if not only or d.name in only]
    before = json.loads((OUT / name).read_text(encoding="utf-8")).get("records", []) if (OUT / name).exists() else []
    if mode in ("row_by_row", "ours_linear"):
        f = _variant_file(mode, folder)
        for d in folders:
            readings = json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}
            readings[d.name] = variant(d, settings, mode)
            f.write_text(json.dumps(readings, indent=1), encoding="utf-8")
        return readings
    records = [r for r in before if r["incident"] not in {d.name for d in folders}] if mode == "main" else before
    if mode == "main":
        for d in folders:
            rec = analyse_one(d, settings, with_rows)
            records.append(rec)
            print(f"{d.name}: ours rank {rec['ours']['rank']} ({rec['seconds']} s), "
                  f"shift {rec['marginal_shift']['rank']}; KPI {rec['kpi_shift_sd']:+.1f} sd; "
                  f"top 3 {rec['ours']['top5'][:3]}", flush=True)
            _write(records, quick, folder)
    res = _write(records, quick, folder, finished=True)
    print(table(res["records"]))
    print(json.dumps(res["summary"], indent=1))
    return res


def explain(incident: str, candidate: str, folder: Path = DATA) -> list[str]:
    """Follow one candidate's restoration counterfactual node by node (a diagnosis aid).

    The incident is analysed (no resamples, no refits), the candidate's incident noise replaced
    by reference draws as ``rootcause.restorations`` does, and every node it changes is listed
    with its reference mean and sd, its incident mean and its counterfactual mean, in reference
    sds: where a chain of fitted mechanisms leaves the range it was fitted on shows at once.

    Returns
    -------
    list of str
        The lines printed.
    """
    from rca_app.core.analysis import AnalysisSettings, run_analysis
    from rca_app.core.data import load_table, prepare
    from rca_app.core.layout import load_layout
    from rca_app.core.queries import incident_abduction, propagate

    d = folder / incident
    tr = json.loads((d / "truth.json").read_text(encoding="utf-8"))
    layout = load_layout(d / "layout.toml")
    data = prepare(load_table(d / "data.csv"), layout)
    out = run_analysis(data, (tr["anomaly"]["start"], tr["anomaly"]["end"]), None,
                       AnalysisSettings(graph_bootstrap=0, rank_bootstrap=0, n_jobs=1))
    scm, inc = out.scm, out.incident
    ab = incident_abduction(scm, inc.anomaly)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, scm.n_reference_, size=len(inc.anomaly))
    noise = dict(ab.noise)
    noise[candidate] = scm.mechanisms_[candidate].reference_draws(idx, rng, scm.reference_values_)
    vals = propagate(scm, ab.values, noise, {candidate}, stop_at=inc.target)
    lines = [f"{incident}: top 5 {[(c.node, f'{c.restoration:.3g}') for c in out.result.root_causes[:5]]}",
             f"{'node':45s} {'kind':9s} {'ref mean':>10s} {'ref sd':>9s} {'incident':>9s} {'counterf.':>10s} (ref sds)"]
    for node in scm.order_:
        if node not in scm.mechanisms_ or np.allclose(vals[node], ab.values[node]):
            continue
        r = np.asarray(scm.reference_values_[node], float)
        sd = float(r.std()) or 1.0
        a, c = float(np.mean(ab.values[node])), float(np.mean(vals[node]))
        lines.append(f"{node[:45]:45s} {scm.mechanisms_[node].kind:9s} {r.mean():10.4g} {sd:9.3g} "
                     f"{(a - r.mean()) / sd:+9.1f} {(c - r.mean()) / sd:+10.3g}")
    print("\n".join(lines), flush=True)
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="simulate the incidents (needs tep-studio)")
    g.add_argument("--incidents", default="", help="IDV:SEED,... (default: the benchmark's 12)")
    r = sub.add_parser("run", help="analyse the generated incidents (the project's venv)")
    r.add_argument("--quick", action="store_true", help="fewer refits")
    r.add_argument("--only", default="", help="comma-separated incident folder names")
    r.add_argument("--rows", action="store_true", help="also run the row-by-row engine in the main pass")
    r.add_argument("--add", choices=["row_by_row", "ours_linear", "merge"],
                   help="run only that engine (its readings are joined onto the results), or only join")
    e = sub.add_parser("explain", help="follow one candidate's counterfactual node by node")
    e.add_argument("incident")
    e.add_argument("candidate")
    args = ap.parse_args(argv)
    if args.cmd == "explain":
        explain(args.incident, args.candidate)
    elif args.cmd == "generate":
        chosen = [tuple(int(v) for v in x.split(":")) for x in args.incidents.split(",") if x]
        generate(chosen or DEFAULT_INCIDENTS)
    else:
        run_all(args.quick, [x for x in args.only.split(",") if x], args.rows, mode=args.add or "main")


if __name__ == "__main__":
    sys.exit(main())

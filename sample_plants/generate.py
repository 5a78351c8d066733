"""Write the sample plants (layout.toml, data.csv, truth.json, README.md per plant).

Run from anywhere:  python sample_plants/generate.py [OUTPUT_DIR]
(default OUTPUT_DIR: this folder). The output is byte-identical on every run: fixed seeds,
fixed rounding, fixed line endings. tests/sim/test_synth.py regenerates into a temporary folder
and compares bytes with the committed files.

Each plant is a small, physically plausible line: mostly linear mechanisms, non-Gaussian
noise (LiNGAM needs it), one or two mild nonlinearities, a few controllable setpoints, and
one incident whose true root cause is known.
"""
from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:          # make `rca_app` importable when run as a script
    sys.path.insert(0, str(HERE.parent))

from rca_sim import (  # noqa: E402
    Node,
    Noise,
    PlantSpec,
    Station,
    category,
    category_switch,
    linear,
    mean_shift,
    mechanism_change,
    quadratic,
    saturating,
    save_plant,
    simulate,
    threshold,
)


@dataclass
class Case:
    folder: str
    title: str
    spec: PlantSpec
    faults: list
    n_reference: int
    n_anomaly: int
    seed: int
    story: Callable[[dict], str]        # README body, from computed facts
    compensation: tuple[str, float]     # (setpoint, change) that cancels the fault
    misleading: str | None = None       # a downstream sensor that moves more than the cause


def n(name, nominal, noise, unit, decimals, terms=(), **kw) -> Node:
    return Node(name, nominal, noise, unit, terms=list(terms), decimals=decimals, **kw)


def setpoint(name, nominal, noise, unit, decimals) -> Node:
    """An operator setpoint: nothing in the line drives it, an engineer can change it."""
    return Node(name, nominal, noise, unit, decimals=decimals, exogenous=True, controllable=True)


# ----------------------------------------------------------------------------- plants
def injection_moulding() -> Case:
    spec = PlantSpec("Line 7 - injection moulding, PC housings", [
        Station("Incoming material", [
            n("resin_moisture_pct", 0.14, Noise("exponential", 0.025), "%", 3, exogenous=True),
            Node("resin_supplier", kind="categorical", exogenous=True,
                 levels={"NordPoly": 0.7, "Resinex": 0.3}),
            n("ambient_temp_C", 23.0, Noise("uniform", 1.5), "°C", 1, exogenous=True),
            n("ambient_rh_pct", 45.0, Noise("laplace", 5.0), "%RH", 1, exogenous=True),
        ]),
        Station("Dryer", [
            setpoint("dryer_temp_C", 120.0, Noise("uniform", 0.8), "°C", 1),
            # the desiccant dryer's dew point follows the hall humidity a little
            n("dryer_dewpoint_C", -40.0, Noise("uniform", 2.5), "°C", 1,
              [linear("ambient_rh_pct", 0.2)]),
            # residual moisture after drying (inline analyser at the hopper outlet)
            n("dried_moisture_pct", 0.014, Noise("uniform", 0.0008), "%", 4,
              [linear("resin_moisture_pct", 0.03), linear("dryer_temp_C", -0.0008),
               linear("dryer_dewpoint_C", 0.0008)]),
        ]),
        Station("Plasticising", [
            setpoint("screw_speed_rpm", 95.0, Noise("uniform", 1.2), "rpm", 1),
            setpoint("barrel_temp_C", 295.0, Noise("uniform", 0.9), "°C", 1),
            n("melt_temp_C", 300.0, Noise("student_t", 1.0, df=6), "°C", 1,
              [linear("barrel_temp_C", 0.85), linear("screw_speed_rpm", 0.25),
               linear("ambient_temp_C", 0.1)]),
        ]),
        Station("Injection", [
            setpoint("hold_pressure_bar", 650.0, Noise("uniform", 4.0), "bar", 1),
            setpoint("hold_time_s", 6.0, Noise("uniform", 0.08), "s", 2),
            # wet polycarbonate hydrolyses in the barrel: lower viscosity, lower pressure
            n("injection_pressure_bar", 1180.0, Noise("laplace", 10.0), "bar", 1,
              [linear("melt_temp_C", -6.0), linear("dried_moisture_pct", -4000.0),
               category("resin_supplier", {"NordPoly": 0.0, "Resinex": 18.0})]),
        ]),
        Station("Mould", [
            setpoint("mould_temp_C", 85.0, Noise("laplace", 0.6), "°C", 1),
            n("cycle_time_s", 32.0, Noise("exponential", 0.25), "s", 2,
              [linear("hold_time_s", 1.0), linear("mould_temp_C", 0.12)]),
        ]),
        Station("Quality inspection", [
            n("part_weight_g", 48.2, Noise("uniform", 0.03), "g", 3,
              [linear("hold_pressure_bar", 0.0025), linear("hold_time_s", 0.2),
               linear("melt_temp_C", -0.004), linear("injection_pressure_bar", 0.0006),
               linear("mould_temp_C", -0.01)]),
            # splay (silver streaks) appear only once residual moisture passes ~0.02 %
            n("splay_defects_per_1000", 1.0, Noise("exponential", 0.3), "1/1000", 2,
              [threshold("dried_moisture_pct", 4500.0, 0.020, 0.0005)]),
            n("yield_pct", 97.0, Noise("laplace", 0.25), "%", 2,
              [linear("splay_defects_per_1000", -0.25),
               quadratic("part_weight_g", -40.0, 48.2)]),
        ]),
    ], target="yield_pct", goal="maximize")
    faults = [mean_shift("dryer_dewpoint_C", 6.5)]
    return Case("injection_moulding",
                "Injection moulding: splay after the dryer lost its dew point", spec, faults,
                2000, 300, 7, _story_injection,
                # +6.5 °C dew point adds 6.5 * 0.0008 % moisture; each dryer °C removes 0.0008 %
                compensation=("dryer_temp_C", 6.5 * 0.0008 / 0.0008),
                misleading="splay_defects_per_1000")


def chemical_reactor() -> Case:
    spec = PlantSpec("Unit 300 - continuous esterification reactor", [
        Station("Feed", [
            setpoint("feed_flow_m3h", 12.0, Noise("uniform", 0.12), "m³/h", 2),
            n("feed_purity_pct", 98.6, Noise("exponential", 0.1, mirror=True), "%", 2,
              exogenous=True),
            n("feed_temp_C", 24.0, Noise("uniform", 2.0), "°C", 1, exogenous=True),
        ]),
        Station("Preheater", [
            setpoint("steam_flow_kgh", 850.0, Noise("laplace", 4.0), "kg/h", 1),
            # pivot 0: the steam's heating effect scales with the exchanger's duty (UA)
            n("preheater_outlet_temp_C", 150.0, Noise("student_t", 1.0, df=7), "°C", 2,
              [linear("feed_temp_C", 0.15), linear("steam_flow_kgh", 0.09, pivot=0.0),
               linear("feed_flow_m3h", -3.0)]),
        ]),
        Station("Reactor", [
            setpoint("coolant_flow_m3h", 30.0, Noise("uniform", 0.5), "m³/h", 2),
            n("reactor_temp_C", 182.0, Noise("laplace", 0.3), "°C", 2,
              [linear("preheater_outlet_temp_C", 0.8), linear("coolant_flow_m3h", -0.4)]),
            n("reactor_pressure_bar", 8.5, Noise("uniform", 0.04), "bar", 3,
              [linear("reactor_temp_C", 0.04), linear("feed_flow_m3h", 0.05)]),
            n("catalyst_activity_pct", 88.0, Noise("laplace", 1.0), "%", 1,
              [linear("feed_purity_pct", 1.5)]),
            n("residence_time_min", 42.0, Noise("uniform", 0.3), "min", 2,
              [linear("feed_flow_m3h", -3.5)]),
        ]),
        Station("Reactor outlet analyser", [
            # conversion rises with temperature but flattens towards equilibrium
            n("conversion_pct", 94.0, Noise("laplace", 0.15), "%", 2,
              [saturating("reactor_temp_C", 0.8, 182.0, 6.0), linear("residence_time_min", 0.15),
               linear("catalyst_activity_pct", 0.2), linear("reactor_pressure_bar", 1.0)]),
            n("byproduct_pct", 1.8, Noise("exponential", 0.04), "%", 3,
              [linear("reactor_temp_C", 0.12), linear("residence_time_min", 0.02)]),
        ]),
        Station("Product", [
            setpoint("reflux_ratio", 2.4, Noise("uniform", 0.03), "", 3),
            n("product_purity_pct", 99.2, Noise("laplace", 0.06), "%", 3,
              [linear("byproduct_pct", -0.3), linear("reflux_ratio", 0.5)]),
            n("yield_pct", 91.0, Noise("laplace", 0.12), "%", 2,
              [linear("conversion_pct", 0.9), linear("byproduct_pct", -1.5),
               linear("feed_purity_pct", 0.6), linear("reflux_ratio", -2.0)]),
        ]),
    ], target="yield_pct", goal="maximize")
    # Fouling: the preheater gives ~1.8 % less heat per kg of steam.
    faults = [mechanism_change("preheater_outlet_temp_C", "steam_flow_kgh", new_coef=0.0869)]
    # the outlet loses 850 kg/h * (0.09 - 0.0869) °C; more steam at the new duty restores it
    extra_steam = 850.0 * (0.09 - 0.0869) / 0.0869
    return Case("chemical_reactor", "Chemical reactor: a fouled preheater", spec, faults,
                2500, 300, 11, _story_reactor, compensation=("steam_flow_kgh", extra_steam))


def bottling_line() -> Case:
    spec = PlantSpec("Line B2 - bottling, 0.5 L glass", [
        Station("Bottle infeed", [
            Node("bottle_supplier", kind="categorical", exogenous=True,
                 levels={"Vetrona": 0.62, "GlasTech": 0.33, "Ostglas": 0.05}),
            n("product_temp_C", 8.0, Noise("mixture", 0.6), "°C", 2, exogenous=True),
            n("neck_finish_od_mm", 26.6, Noise("uniform", 0.025), "mm", 3,
              [category("bottle_supplier", {"Vetrona": 0.0, "GlasTech": 0.03, "Ostglas": -0.12})]),
            n("bottle_height_mm", 220.0, Noise("laplace", 0.25), "mm", 2,
              [category("bottle_supplier", {"Vetrona": 0.0, "GlasTech": -0.2, "Ostglas": 0.3})]),
        ]),
        Station("Filler", [
            setpoint("filler_speed_bpm", 500.0, Noise("uniform", 6.0), "bottles/min", 1),
            n("fill_volume_ml", 502.0, Noise("laplace", 0.7), "ml", 2,
              [linear("filler_speed_bpm", -0.03), linear("product_temp_C", -0.9),
               linear("bottle_height_mm", 0.6)]),
        ]),
        Station("Capper", [
            setpoint("capper_torque_Ncm", 180.0, Noise("uniform", 3.0), "N·cm", 1),
            n("removal_torque_Ncm", 120.0, Noise("student_t", 3.5, df=7), "N·cm", 1,
              [linear("capper_torque_Ncm", 0.55), linear("neck_finish_od_mm", 250.0),
               linear("product_temp_C", -0.8)]),
        ]),
        Station("Labeller", [
            setpoint("label_glue_temp_C", 160.0, Noise("uniform", 1.5), "°C", 1),
            n("label_position_error_mm", 0.4, Noise("laplace", 0.15), "mm", 2,
              [linear("bottle_height_mm", 0.5), linear("filler_speed_bpm", 0.005),
               linear("label_glue_temp_C", -0.02)]),
        ]),
        Station("Inspection", [
            n("seal_leak_mbar", 2.0, Noise("exponential", 0.15), "mbar", 3,
              [linear("removal_torque_Ncm", -0.03)]),
            n("reject_rate_pct", 1.2, Noise("exponential", 0.04), "%", 3,
              [linear("seal_leak_mbar", 0.35), linear("fill_volume_ml", -0.04),
               linear("label_position_error_mm", 0.15)]),
        ]),
    ], target="reject_rate_pct", goal="minimize")
    faults = [category_switch("bottle_supplier", "Ostglas", 0.85)]
    # expected neck shift: the incident mix against the usual mix of level offsets
    levels = spec.node("bottle_supplier").levels
    offsets = spec.node("neck_finish_od_mm").terms[0].offsets
    usual = sum(p * offsets[k] for k, p in levels.items())
    incident = 0.85 * offsets["Ostglas"] + 0.15 * usual
    torque = -(incident - usual) * 250.0 / 0.55     # removal torque per mm / per N·cm applied
    return Case("bottling_line", "Bottling line: leaking caps after a bottle supplier switch",
                spec, faults, 2000, 250, 23, _story_bottling,
                compensation=("capper_torque_Ncm", torque))


CASES = (injection_moulding, chemical_reactor, bottling_line)


# ----------------------------------------------------------------------------- facts
def facts(case: Case, df: pd.DataFrame, truth: dict) -> dict:
    """Numbers the READMEs quote, all computed from the generated data."""
    spec = case.spec
    ref = df.iloc[:case.n_reference]
    an = df.iloc[case.n_reference:]
    moved = {}
    for node in spec.nodes():
        if node.observed and node.kind == "numeric" and node.name != spec.target:
            sd = ref[node.name].std()
            moved[node.name] = abs(an[node.name].mean() - ref[node.name].mean()) / sd
    ranking = sorted(moved, key=lambda k: -moved[k])
    t = spec.target
    return {
        "ref_mean": ref[t].mean(), "anom_mean": an[t].mean(), "ref_sd": ref[t].std(),
        "drop_sd": truth["target_drop_sd"], "moved": moved, "ranking": ranking,
        "rank_of": {k: i + 1 for i, k in enumerate(ranking)},
        "mean": lambda k, part="ref": (ref if part == "ref" else an)[k].mean(),
        "share": lambda k, lv, part="ref": float(((ref if part == "ref" else an)[k] == lv).mean()),
        "truth": truth, "n_ref": case.n_reference, "n_anom": case.n_anomaly,
        "comp": case.compensation, "spec": spec, "faults": case.faults,
    }


def _movers(f: dict, k: int = 5) -> str:
    rows = ["| rank | sensor | shift (reference sds) |", "| --- | --- | --- |"]
    for i, name in enumerate(f["ranking"][:k]):
        rows.append(f"| {i + 1} | `{name}` | {f['moved'][name]:.1f} |")
    return "\n".join(rows)


def _windows(f: dict) -> str:
    tr = f["truth"]
    return (f"Reference period: {tr['reference']['start']} to {tr['reference']['end']} "
            f"({f['n_ref']} rows, every 10 min). Incident window: {tr['anomaly']['start']} to "
            f"{tr['anomaly']['end']} ({f['n_anom']} rows). `truth.json` holds the true graph and "
            f"root cause; it is for checking the app, not an input.")


def _story_injection(f: dict) -> str:
    m = f["mean"]
    delta = f["faults"][0].delta
    in_noise_sds = delta / f["spec"].node("dryer_dewpoint_C").noise.sd
    return f"""# Injection moulding, Line 7 (polycarbonate housings)

Six stations: incoming resin, desiccant dryer, plasticising, injection, mould, quality
inspection. Target: `yield_pct` (maximise). {_windows(f)}

## What the operators saw
First-pass yield fell from {f['ref_mean']:.2f} % to {f['anom_mean']:.2f} %
({f['drop_sd']:.1f} reference sds). The vision system flagged silver streaks: splay defects
rose from {m('splay_defects_per_1000'):.1f} to {m('splay_defects_per_1000', 'an'):.1f} per
1000 parts, and injection peak pressure sagged from {m('injection_pressure_bar'):.0f} to
{m('injection_pressure_bar', 'an'):.0f} bar. The shift team blamed the barrel heaters and then
the resin lot.

## What really happened
The dryer's regeneration heater failed, so the desiccant bed saturated and the process
air's dew point rose from about {m('dryer_dewpoint_C'):.0f} °C to
{m('dryer_dewpoint_C', 'an'):.0f} °C (a shift of {in_noise_sds:.1f} sds of its own noise). The
granulate left the hopper wetter ({m('dried_moisture_pct'):.4f} % to
{m('dried_moisture_pct', 'an'):.4f} % residual moisture); once above ~0.02% polycarbonate
hydrolyses in the barrel: lower viscosity (lower pressure) and splay.

**True root cause: `dryer_dewpoint_C` (mean shift, +{delta:g} °C).** The resin itself, the
supplier mix and the barrel temperatures did not change.

## Why naive ranking gets it wrong
Ranking sensors by how far they moved:

{_movers(f)}

`splay_defects_per_1000` moves most, about {f['moved']['splay_defects_per_1000']:.0f}
reference sds against {f['moved']['dryer_dewpoint_C']:.1f} for the dew point: splay only
appears above a moisture threshold, so a moderate upstream change looks huge downstream.
The dew point ranks {f['rank_of']['dryer_dewpoint_C']}. Following the causal graph back
from the yield leads to the dryer.

## What to do
Setpoints an engineer can change: dryer temperature, screw speed, barrel temperature, hold
pressure, hold time, mould temperature. Raising `dryer_temp_C` by about {f['comp'][1]:.1f} °C
takes the extra moisture out (compensates the fault) until the regeneration heater is
repaired.
"""


def _story_reactor(f: dict) -> str:
    m = f["mean"]
    return f"""# Continuous esterification reactor, Unit 300

Five stations: feed, steam preheater, reactor, outlet analyser, product column. Target:
`yield_pct` (maximise). {_windows(f)}

## What the operators saw
Yield slipped from {f['ref_mean']:.2f} % to {f['anom_mean']:.2f} % ({f['drop_sd']:.1f}
reference sds) with no alarm. Reactor temperature read {m('reactor_temp_C'):.1f} °C before
and {m('reactor_temp_C', 'an'):.1f} °C during the incident, conversion
{m('conversion_pct'):.2f} % then {m('conversion_pct', 'an'):.2f} %. The steam flow was
unchanged ({m('steam_flow_kgh'):.0f} kg/h), so the preheater looked fine on the DCS
overview.

## What really happened
The preheater fouled. For the same steam it now delivers about 3.4 % less heat: its outlet
temperature fell from {m('preheater_outlet_temp_C'):.1f} °C to
{m('preheater_outlet_temp_C', 'an'):.1f} °C, about 2.6 sds of the exchanger's own noise,
while steam flow, feed flow and feed temperature stayed where they were. The cooler feed
lowered the reactor temperature, hence the conversion (the by-product fell a little too,
which hides part of the loss).

**True root cause: `preheater_outlet_temp_C` (mechanism change: its response to
`steam_flow_kgh` dropped from 0.0900 to 0.0869 °C per kg/h).**

## Why a shift ranking is not enough
Ranking sensors by how far they moved:

{_movers(f)}

Four signals in a chain move by about 2 reference sds each, within
{f['moved'][f['ranking'][0]] - f['moved'][f['ranking'][3]]:.1f} sd of one another: the
ranking cannot tell cause from consequence, and a small sampling change reorders them. The
causal graph says the reactor temperature, conversion and by-product follow the preheater,
and the preheater's inputs did not move, so the exchanger itself changed.

## What to do
Setpoints: feed flow, steam flow, coolant flow, reflux ratio. About {f['comp'][1]:.0f} kg/h
more steam (`steam_flow_kgh`) brings the outlet temperature back until the exchanger is
cleaned.
"""


def _story_bottling(f: dict) -> str:
    m, share = f["mean"], f["share"]
    return f"""# Bottling line B2 (0.5 L glass bottles, screw caps)

Five stations: bottle infeed, filler, capper, labeller, inspection. Target:
`reject_rate_pct` (minimise). {_windows(f)}

## What the operators saw
The reject rate at the leak tester rose from {f['ref_mean']:.2f} % to {f['anom_mean']:.2f} %
({f['drop_sd']:.1f} reference sds). Cap removal torque on the sample bench dropped from
{m('removal_torque_Ncm'):.0f} to {m('removal_torque_Ncm', 'an'):.0f} N·cm and the leak tester
read more pressure loss ({m('seal_leak_mbar'):.2f} to {m('seal_leak_mbar', 'an'):.2f} mbar).
Maintenance suspected the capper heads.

## What really happened
GlasTech could not deliver, so purchasing switched to Ostglas, until then a small share
({share('bottle_supplier', 'Ostglas'):.0%} of bottles in the reference period,
{share('bottle_supplier', 'Ostglas', 'an'):.0%} during the incident). Ostglas necks are at
the low end of the finish tolerance (outer diameter {m('neck_finish_od_mm'):.3f} mm on
average before, {m('neck_finish_od_mm', 'an'):.3f} mm during): the same capper torque grips
less, caps come loose and leak. The capper itself did not change. Ostglas bottles are also a
little taller, which nudges label position and fill volume, a harmless side effect.

**True root cause: `bottle_supplier` (category switch to Ostglas).** A categorical cause:
a ranking of numeric sensors alone cannot name it.

## Why naive ranking gets it wrong
Ranking numeric sensors by how far they moved:

{_movers(f)}

The neck diameter, the capper's `removal_torque_Ncm` and the leak tester move most. The
neck diameter looks like the culprit, but it is itself a consequence: its shift comes
entirely from the change of bottle maker, and no neck-gauge or capper repair would help.
The supplier column is text and does not appear in a shift ranking at all; only the causal
graph (supplier -> neck -> removal torque -> leak -> rejects) points at purchasing.

## What to do
Setpoints: filler speed, capper torque, label glue temperature. Raising `capper_torque_Ncm`
by about {f['comp'][1]:.0f} N·cm restores the removal torque for the Ostglas bottles; the
lasting fix is a quality agreement on the neck finish.
"""


# ----------------------------------------------------------------------------- writing
def _reflow(text: str, width: int = 92) -> str:
    """Re-wrap prose paragraphs (numbers were filled in after the source was wrapped)."""
    out = []
    for block in text.strip("\n").split("\n\n"):
        if block.startswith("#") and "\n" in block:      # heading, then its paragraph
            head, block = block.split("\n", 1)
            out.append(head)
            block = "\n" + block
        if block.lstrip("\n").startswith(("#", "|", "- ")):
            out.append(block)
        else:
            out.append(textwrap.fill(" ".join(block.split()), width, break_long_words=False,
                                     break_on_hyphens=False))
    return "\n\n".join(out).replace("\n\n\n", "\n") + "\n"


def generate(out_dir: Path | str = HERE) -> list[Path]:
    """Write every plant under ``out_dir``; return the files written."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    index = ["# Sample plants", "",
             "Synthetic lines with a known root cause, generated by `generate.py` with "
             "`rca_sim` (deterministic: rerunning gives identical bytes). Each folder "
             "has `layout.toml`, `data.csv` (reference period, then the incident window), "
             "`truth.json` (true graph, root causes, windows) and a `README.md` with the "
             "incident story.", "",
             "| folder | process | sensors | stations | rows (ref + incident) | goal | "
             "fault | true root cause |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for make in CASES:
        case = make()
        df, truth = simulate(case.spec, case.n_reference, case.n_anomaly, case.faults,
                             case.seed, require_drop=1.5)
        f = facts(case, df, truth)
        folder = out_dir / case.folder
        save_plant(folder, case.spec, df, truth)
        (folder / "README.md").write_bytes(_reflow(case.story(f)).encode("utf-8"))
        written += [folder / x for x in ("layout.toml", "data.csv", "truth.json", "README.md")]
        index.append(
            f"| `{case.folder}/` | {case.title} | {len(case.spec.observed())} | "
            f"{len(case.spec.stations)} | {case.n_reference} + {case.n_anomaly} | "
            f"{case.spec.goal} `{case.spec.target}` | {', '.join(truth['fault_types'])} | "
            f"`{', '.join(truth['root_causes'])}` |")
    index += ["", "Regenerate with `python sample_plants/generate.py`; "
              "`tests/sim/test_synth.py` checks the committed files match.", "",
              "Two time-series plants are written by `python -m rca_sim.dynamic` (each folder has its "
              "own `README.md` and `truth.json` with the incident window):", "",
              "| folder | process | data | true root cause |", "| --- | --- | --- | --- |",
              "| `continuous_reactor/` | continuous reactor with residence times, a recycle and a "
              "temperature loop whose coolant valve absorbs the disturbance | historian long export "
              "(tag, timestamp, value, quality) at mixed rates with Bad samples | `feed_impurity_pct` |",
              "| `batch_genealogy/` | batch line whose raw-material lots come from a second table | one "
              "row per batch, lot properties joined from `lots.csv` by `lot_id` | `lot_viscosity_mPas` |",
              "", "The main README's \"Sample plants\" section gives their commands and incident windows.", ""]
    (out_dir / "README.md").write_bytes("\n".join(index).encode("utf-8"))
    written.append(out_dir / "README.md")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in generate(target):
        print(p)

"""Ground-truth plant simulator: synthetic production lines with known causes.

A plant is described by plain dataclasses (``PlantSpec`` > ``Station`` > ``Node`` >
``Term``). Every numeric node follows an additive structural equation::

    value = nominal + sum(term(parent) - term(parent's nominal)) + noise

so ``nominal`` is the reading when every parent sits at its own nominal and the noise is
zero; that keeps generated data in readable engineering units. Noise is drawn from a
zero-mean distribution of the requested family, scaled to ``Noise.sd``.

``simulate`` draws a reference period and then an anomaly period; faults act only on the
anomaly rows and are applied while walking the graph in topological order, so they
propagate to every descendant. It returns the data and a ``truth`` dict (edges, root
causes, windows) that benchmarks and tests score against.

``random_plant`` builds randomised plants for benchmarks, with a fault calibrated so the
target really gets worse by about 2 reference standard deviations.

Everything is deterministic for a seed. This module never imports Qt or lingam.
"""
from __future__ import annotations

import copy
import heapq
import json
import math
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

NOISE_KINDS = ("gaussian", "uniform", "laplace", "exponential", "student_t", "mixture")
NONGAUSSIAN_KINDS = ("uniform", "laplace", "exponential", "student_t", "mixture")
TERM_KINDS = ("linear", "quadratic", "tanh", "threshold", "category")
FAULT_TYPES = ("mean_shift", "variance_increase", "mechanism_change", "category_switch",
               "two_faults", "hidden_confounder")
ISO = "%Y-%m-%dT%H:%M:%S"


# ----------------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class Noise:
    """A zero-mean noise distribution with standard deviation ``sd`` (engineering units).

    exponential: centred Exp(1), right-skewed (``mirror`` flips it, e.g. purity dips).
    student_t:   heavy tails, ``df`` > 2 so the variance exists.
    mixture:     two Gaussians, share ``weight`` in the first, means ``separation``
                 component-sds apart (bimodal, e.g. two product tanks).
    """

    kind: str = "gaussian"
    sd: float = 1.0
    df: float = 6.0
    weight: float = 0.75
    separation: float = 3.0
    mirror: bool = False


@dataclass
class Term:
    """One parent's contribution to a node.

    linear:    coef * (x - center). ``center`` is the *pivot* the slope turns around under
               a mechanism change (default: the parent's nominal, so a changed slope
               moves only the spread; put it at the physical zero to move the mean too).
    quadratic: coef * (x - center)^2, an optimum (bump) at ``center`` when coef < 0.
    tanh:      coef * scale * tanh((x - center) / scale), saturating; slope coef at center.
    threshold: coef * max(0, x - center), a knee; ``scale`` > 0 rounds it (softplus).
    category:  ``offsets[level]`` added for rows whose categorical parent is that level.
    """

    parent: str
    kind: str = "linear"
    coef: float = 0.0
    center: float | None = None
    scale: float | None = None
    offsets: dict[str, float] = field(default_factory=dict)


@dataclass
class Node:
    name: str
    nominal: float = 0.0
    noise: Noise = field(default_factory=Noise)
    unit: str = ""
    kind: str = "numeric"                 # or "categorical"
    terms: list[Term] = field(default_factory=list)
    exogenous: bool = False               # nothing observed in the plant causes it
    controllable: bool = False            # a setpoint an engineer can change
    levels: dict[str, float] = field(default_factory=dict)   # categorical: probabilities
    decimals: int | None = None           # sensor resolution in the output
    observed: bool = True                 # False: simulated but left out of data/layout


@dataclass
class Station:
    name: str
    nodes: list[Node]


@dataclass
class PlantSpec:
    name: str
    stations: list[Station]
    target: str
    goal: str = "maximize"                # or "minimize" (scrap, reject rate)
    time_column: str = "timestamp"
    start: str = "2026-03-01T00:00:00"
    interval_minutes: float = 10.0

    def nodes(self) -> list[Node]:
        return [n for st in self.stations for n in st.nodes]

    def node(self, name: str) -> Node:
        for n in self.nodes():
            if n.name == name:
                return n
        raise KeyError(name)

    def station_index(self) -> dict[str, int]:
        return {n.name: i for i, st in enumerate(self.stations) for n in st.nodes}

    def observed(self) -> list[str]:
        return [n.name for n in self.nodes() if n.observed]


# Small constructors so plant definitions read like the physics.
def linear(parent: str, coef: float, pivot: float | None = None) -> Term:
    return Term(parent, "linear", coef, pivot)


def quadratic(parent: str, coef: float, optimum: float) -> Term:
    return Term(parent, "quadratic", coef, optimum)


def saturating(parent: str, coef: float, center: float, width: float) -> Term:
    return Term(parent, "tanh", coef, center, width)


def threshold(parent: str, coef: float, knee: float, softness: float | None = None) -> Term:
    return Term(parent, "threshold", coef, knee, softness)


def category(parent: str, offsets: dict[str, float]) -> Term:
    return Term(parent, "category", offsets=dict(offsets))


# ----------------------------------------------------------------------------- faults
@dataclass(frozen=True)
class MeanShift:
    """Adds ``delta`` to the node's noise: the node moves and so do its descendants."""
    node: str
    delta: float
    type: ClassVar[str] = "mean_shift"


@dataclass(frozen=True)
class VarianceIncrease:
    """Multiplies the node's noise spread by ``factor`` (mean unchanged)."""
    node: str
    factor: float
    type: ClassVar[str] = "variance_increase"


@dataclass(frozen=True)
class MechanismChange:
    """The node reacts differently to ``parent``: any given field replaces the term's."""
    node: str
    parent: str
    new_coef: float | None = None
    kind: str | None = None
    center: float | None = None
    scale: float | None = None
    type: ClassVar[str] = "mechanism_change"


@dataclass(frozen=True)
class CategorySwitch:
    """Anomaly rows take ``level`` with probability ``share`` (the rest keep the mix)."""
    node: str
    level: str
    share: float = 0.9
    type: ClassVar[str] = "category_switch"


@dataclass(frozen=True)
class HiddenConfounder:
    """An unobserved variable (sd ``sd``, zero mean) driving observed ``children``.

    It exists in both periods, adding ``coef * value`` to each child; in the anomaly rows
    its mean moves by ``shift``. Its column never appears in the output. The root causes
    reported in ``truth`` are its observed children, the places the fault enters the data.
    """
    name: str
    children: dict[str, float]
    shift: float
    sd: float = 1.0
    noise_kind: str = "laplace"
    type: ClassVar[str] = "hidden_confounder"


Fault = MeanShift | VarianceIncrease | MechanismChange | CategorySwitch | HiddenConfounder


def mean_shift(node: str, delta: float) -> MeanShift:
    return MeanShift(node, float(delta))


def variance_increase(node: str, factor: float) -> VarianceIncrease:
    return VarianceIncrease(node, float(factor))


def mechanism_change(node: str, parent: str, new_coef: float | None = None, *,
                     kind: str | None = None, center: float | None = None,
                     scale: float | None = None) -> MechanismChange:
    return MechanismChange(node, parent, new_coef, kind, center, scale)


def category_switch(node: str, level: str, share: float = 0.9) -> CategorySwitch:
    return CategorySwitch(node, level, float(share))


def hidden_confounder(name: str, children: dict[str, float], shift: float, sd: float = 1.0,
                      noise_kind: str = "laplace") -> HiddenConfounder:
    return HiddenConfounder(name, dict(children), float(shift), float(sd), noise_kind)


def fault_dict(f: Fault) -> dict:
    """JSON-friendly description of a fault (for truth.json)."""
    out: dict = {"type": f.type}
    for key, val in f.__dict__.items():
        if val is None:
            continue
        if isinstance(val, float):
            val = _tidy(val)
        elif isinstance(val, dict):
            val = {k: _tidy(v) for k, v in val.items()}
        out[key] = val
    return out


def _tidy(x: float) -> float:
    """Round to 6 significant digits for display; the simulation uses the exact value."""
    return float(f"{x:.6g}") if x else 0.0


# ----------------------------------------------------------------------------- checks
def validate_spec(spec: PlantSpec) -> None:
    """Raise ValueError listing every problem with a plant spec."""
    problems: list[str] = []
    names = [n.name for n in spec.nodes()]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        problems.append(f"duplicate node names: {dup}")
    if spec.goal not in ("maximize", "minimize"):
        problems.append(f"goal must be 'maximize' or 'minimize', not {spec.goal!r}")
    where = spec.station_index()
    nodes = {n.name: n for n in spec.nodes()}
    tgt = nodes.get(spec.target)
    if tgt is None:
        problems.append(f"target {spec.target!r} is not a node")
    else:
        if tgt.kind != "numeric" or not tgt.observed:
            problems.append("the target must be an observed numeric node")
        if where[tgt.name] != len(spec.stations) - 1:
            problems.append("the target must be in the last station")
    for n in nodes.values():
        if n.kind not in ("numeric", "categorical"):
            problems.append(f"{n.name}: kind must be numeric or categorical")
        if n.noise.kind not in NOISE_KINDS:
            problems.append(f"{n.name}: unknown noise kind {n.noise.kind!r}")
        if n.noise.sd < 0:
            problems.append(f"{n.name}: noise sd must be >= 0")
        if n.noise.kind == "student_t" and n.noise.df <= 2:
            problems.append(f"{n.name}: student_t needs df > 2 for a finite variance")
        if n.kind == "categorical":
            if not n.levels or min(n.levels.values()) < 0 or sum(n.levels.values()) <= 0:
                problems.append(f"{n.name}: categorical needs level probabilities")
            if n.terms:
                problems.append(f"{n.name}: categorical nodes are exogenous, no parents")
        for t in n.terms:
            p = nodes.get(t.parent)
            if p is None:
                problems.append(f"{n.name}: unknown parent {t.parent!r}")
                continue
            if t.kind not in TERM_KINDS:
                problems.append(f"{n.name}: unknown term kind {t.kind!r}")
            if (t.kind == "category") != (p.kind == "categorical"):
                problems.append(f"{n.name}: a categorical parent needs a category term "
                                f"and only it ({t.parent})")
            if t.kind == "tanh" and not (t.scale and t.scale > 0):
                problems.append(f"{n.name}: tanh term on {t.parent} needs scale > 0")
            if where[t.parent] > where[n.name]:
                problems.append(f"{t.parent} -> {n.name} goes against the process flow")
            if n.exogenous and p.observed:
                problems.append(f"{n.name} is exogenous but has observed parent {t.parent}")
            if t.parent == spec.target:
                problems.append(f"the target {spec.target} cannot have children")
    if not problems:
        try:
            _topo_order(spec)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("invalid plant spec:\n  " + "\n  ".join(problems))


def _topo_order(spec: PlantSpec) -> list[str]:
    """Kahn's algorithm; ties broken by (station, listing position) for determinism."""
    rank = {n.name: (s, i) for s, st in enumerate(spec.stations) for i, n in enumerate(st.nodes)}
    children: dict[str, list[str]] = {k: [] for k in rank}
    indeg = {k: 0 for k in rank}
    for n in spec.nodes():
        for p in dict.fromkeys(t.parent for t in n.terms):
            children[p].append(n.name)
            indeg[n.name] += 1
    heap = [(rank[k], k) for k, d in indeg.items() if d == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, k = heapq.heappop(heap)
        order.append(k)
        for c in children[k]:
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(heap, (rank[c], c))
    if len(order) != len(rank):
        raise ValueError("the mechanisms form a cycle: " +
                         ", ".join(sorted(k for k in rank if k not in order)))
    return order


def truth_edges(spec: PlantSpec) -> list[list[str]]:
    """Observed direct edges [source, target], children in topological order."""
    nodes = {n.name: n for n in spec.nodes()}
    edges = []
    for name in _topo_order(spec):
        n = nodes[name]
        if not n.observed:
            continue
        for p in dict.fromkeys(t.parent for t in n.terms):
            if nodes[p].observed:
                edges.append([p, name])
    return edges


def ancestors(edges: Iterable[Sequence[str]], node: str) -> set[str]:
    parents: dict[str, set[str]] = {}
    for s, d in edges:
        parents.setdefault(d, set()).add(s)
    seen: set[str] = set()
    stack = [node]
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


# ----------------------------------------------------------------------------- engine
def _std_noise(noise: Noise, rng: np.random.Generator, n: int) -> np.ndarray:
    """Zero-mean, unit-variance draws of the requested family."""
    k = noise.kind
    if k == "gaussian":
        z = rng.standard_normal(n)
    elif k == "uniform":
        z = rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), n)
    elif k == "laplace":
        z = rng.laplace(0.0, 1.0 / math.sqrt(2.0), n)
    elif k == "exponential":
        z = rng.exponential(1.0, n) - 1.0
    elif k == "student_t":
        z = rng.standard_t(noise.df, n) * math.sqrt((noise.df - 2.0) / noise.df)
    elif k == "mixture":
        w, sep = noise.weight, noise.separation
        second = rng.random(n) >= w
        x = rng.standard_normal(n) + np.where(second, sep, 0.0)
        # analytic moments of the mixture, so the standardisation is exact
        z = (x - (1.0 - w) * sep) / math.sqrt(1.0 + w * (1.0 - w) * sep * sep)
    else:
        raise ValueError(f"unknown noise kind {k!r}")
    return -z if noise.mirror else z


def _term_fn(kind: str, coef: float, center: float, scale: float | None,
             x: np.ndarray) -> np.ndarray:
    if kind == "linear":
        return coef * (x - center)
    if kind == "quadratic":
        return coef * (x - center) ** 2
    if kind == "tanh":
        return coef * scale * np.tanh((x - center) / scale)
    if kind == "threshold":
        if scale:
            return coef * scale * np.logaddexp(0.0, (x - center) / scale)
        return coef * np.maximum(0.0, x - center)
    raise ValueError(f"unknown term kind {kind!r}")


def _node_rng(seed: int, name: str) -> np.random.Generator:
    # One stream per node keyed by its name: adding a node or a fault never changes the
    # draws of the others, so reference rows are identical with and without faults.
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


def _as_faults(faults) -> list:
    if faults is None:
        return []
    if isinstance(faults, (MeanShift, VarianceIncrease, MechanismChange, CategorySwitch,
                           HiddenConfounder)):
        return [faults]
    return list(faults)


def _augment(spec: PlantSpec, faults: list) -> tuple[PlantSpec, list]:
    """Turn hidden-confounder faults into an unobserved node plus a mean shift on it."""
    hidden = [f for f in faults if isinstance(f, HiddenConfounder)]
    if not hidden:
        return spec, faults
    spec = copy.deepcopy(spec)
    where = spec.station_index()
    nodes = {n.name: n for n in spec.nodes()}
    out = []
    for f in faults:
        if not isinstance(f, HiddenConfounder):
            out.append(f)
            continue
        if f.name in nodes:
            raise ValueError(f"hidden confounder name {f.name!r} is already a node")
        if len(f.children) < 1:
            raise ValueError("a hidden confounder needs observed children")
        for c in f.children:
            if c not in nodes or nodes[c].kind != "numeric":
                raise ValueError(f"hidden confounder child {c!r} must be a numeric node")
        # Put it at the earliest child's station, so no edge runs against the flow.
        s = min(where[c] for c in f.children)
        latent = Node(f.name, 0.0, Noise(f.noise_kind, f.sd), exogenous=True, observed=False)
        spec.stations[s].nodes.insert(0, latent)
        nodes[f.name] = latent
        for c, coef in f.children.items():
            nodes[c].terms.append(Term(f.name, "linear", float(coef)))
        out.append(MeanShift(f.name, f.shift))
    return spec, out


@dataclass
class _Run:
    spec: PlantSpec
    values: dict[str, np.ndarray]        # numeric: floats; categorical: level codes
    levels: dict[str, list[str]]
    n_ref: int


def _run(spec: PlantSpec, n_ref: int, n_anom: int, faults, seed: int,
         cache: dict | None = None) -> _Run:
    faults = _as_faults(faults)
    spec, faults = _augment(spec, faults)
    validate_spec(spec)
    nodes = {n.name: n for n in spec.nodes()}
    for f in faults:
        if f.node not in nodes:
            raise ValueError(f"fault on unknown node {f.node!r}")
        kind = nodes[f.node].kind
        if isinstance(f, CategorySwitch):
            if kind != "categorical":
                raise ValueError(f"category_switch needs a categorical node, not {f.node}")
            if f.level not in nodes[f.node].levels:
                raise ValueError(f"{f.node} has no level {f.level!r}")
        elif kind != "numeric":
            raise ValueError(f"{f.type} needs a numeric node, not {f.node}")
        if isinstance(f, MechanismChange):
            if not any(t.parent == f.parent and t.kind != "category"
                       for t in nodes[f.node].terms):
                raise ValueError(f"{f.node} has no numeric term on {f.parent!r}")
            if f.kind is not None and f.kind not in TERM_KINDS[:-1]:
                raise ValueError(f"mechanism_change kind must be one of {TERM_KINDS[:-1]}")
            if f.kind == "tanh" and not (f.scale or next(
                    t.scale for t in nodes[f.node].terms if t.parent == f.parent)):
                raise ValueError("a tanh mechanism needs a scale")
        if isinstance(f, VarianceIncrease) and f.factor < 0:
            raise ValueError("variance factor must be >= 0")

    n = n_ref + n_anom
    anom = slice(n_ref, n)
    values: dict[str, np.ndarray] = {}
    levels: dict[str, list[str]] = {}
    for name in _topo_order(spec):
        node = nodes[name]
        mine = [f for f in faults if f.node == name]
        key = (name, int(seed), n, node.noise, tuple(sorted(node.levels.items())))
        if cache is not None and key in cache:
            draws = cache[key]
        else:
            rng = _node_rng(seed, name)
            if node.kind == "categorical":
                draws = (rng.random(n), rng.random(n))
            else:
                draws = _std_noise(node.noise, rng, n)
            if cache is not None:
                cache[key] = draws
        if node.kind == "categorical":
            names = list(node.levels)
            p = np.array([node.levels[k] for k in names], float)
            cum = np.cumsum(p / p.sum())
            u, u_switch = draws
            codes = np.minimum(np.searchsorted(cum, u, side="right"), len(names) - 1)
            for f in mine:   # CategorySwitch; the rest of the rows keep the usual mix
                sw = np.zeros(n, bool)
                sw[anom] = u_switch[anom] < f.share
                codes = np.where(sw, names.index(f.level), codes)
            values[name], levels[name] = codes, names
            continue
        e = draws * node.noise.sd
        for f in mine:
            if isinstance(f, VarianceIncrease):
                e = e.copy()
                e[anom] *= f.factor
        for f in mine:
            if isinstance(f, MeanShift):
                e = e.copy()
                e[anom] += f.delta
        x = node.nominal + e
        changes = [f for f in mine if isinstance(f, MechanismChange)]
        for t in node.terms:
            pv = values[t.parent]
            if t.kind == "category":
                off = np.array([t.offsets.get(k, 0.0) for k in levels[t.parent]])
                x = x + off[pv]
                continue
            pnom = nodes[t.parent].nominal
            center = pnom if t.center is None else t.center
            anchor = float(_term_fn(t.kind, t.coef, center, t.scale, np.array(pnom)))
            contrib = _term_fn(t.kind, t.coef, center, t.scale, pv) - anchor
            ch = next((f for f in changes if f.parent == t.parent), None)
            if ch is not None:
                changes.remove(ch)   # a change applies to the first term on that parent
                kind = ch.kind or t.kind
                coef = t.coef if ch.new_coef is None else ch.new_coef
                c2 = center if ch.center is None else ch.center
                sc = t.scale if ch.scale is None else ch.scale
                # Same anchor: the new law is measured from the same reference reading.
                contrib[anom] = _term_fn(kind, coef, c2, sc, pv[anom]) - anchor
            x = x + contrib
        values[name] = x
    return _Run(spec, values, levels, n_ref)


def _root_causes(spec: PlantSpec, faults: list) -> list[str]:
    """Observed nodes where each fault enters the data (a hidden node's observed children)."""
    nodes = {n.name: n for n in spec.nodes()}
    children: dict[str, list[str]] = {}
    for n in spec.nodes():
        for t in n.terms:
            children.setdefault(t.parent, []).append(n.name)
    out: list[str] = []

    def entry(name: str) -> list[str]:
        if nodes[name].observed:
            return [name]
        return [c for ch in children.get(name, []) for c in entry(ch)]

    for f in faults:
        if isinstance(f, HiddenConfounder):
            out.extend(f.children)
        else:
            out.extend(entry(f.node))
    return list(dict.fromkeys(out))


def goal_sign(spec: PlantSpec) -> float:
    """+1 when a higher target is better; a 'drop' is always a change for the worse."""
    return 1.0 if spec.goal == "maximize" else -1.0


def target_drop_sd(spec: PlantSpec, target: np.ndarray, n_ref: int) -> float:
    """How much worse the anomaly mean is, in reference standard deviations."""
    ref, an = np.asarray(target[:n_ref], float), np.asarray(target[n_ref:], float)
    sd = ref.std(ddof=1)
    return float(goal_sign(spec) * (ref.mean() - an.mean()) / sd) if sd > 0 else 0.0


def simulate(spec: PlantSpec, n_reference: int = 2000, n_anomaly: int = 300,
             faults=None, seed: int = 0, *, require_drop: float | None = None
             ) -> tuple[pd.DataFrame, dict]:
    """Reference rows, then anomaly rows with ``faults`` applied; returns (data, truth).

    ``faults`` is one fault or a list (simultaneous faults). Hidden confounders exist in
    both periods but are not in the data. With ``require_drop`` the call fails unless the
    target gets worse by at least that many reference sds.
    """
    if n_reference < 2 or n_anomaly < 0:
        raise ValueError("need at least 2 reference rows and a non-negative anomaly count")
    faults = _as_faults(faults)
    run = _run(spec, n_reference, n_anomaly, faults, seed)
    full = run.spec
    n = n_reference + n_anomaly
    step = pd.Timedelta(minutes=spec.interval_minutes)
    t0 = pd.Timestamp(spec.start)
    data: dict[str, object] = {spec.time_column: t0 + step * np.arange(n)}
    for node in full.nodes():
        if not node.observed:
            continue
        v = run.values[node.name]
        if node.kind == "categorical":
            data[node.name] = np.array(run.levels[node.name], dtype=object)[v]
        else:
            if node.decimals is not None:
                v = np.round(v, node.decimals) + 0.0   # + 0.0 turns -0.0 into 0.0
            data[node.name] = v
    df = pd.DataFrame(data)
    drop = target_drop_sd(spec, df[spec.target].to_numpy(), n_reference) if n_anomaly else 0.0
    if require_drop is not None and drop < require_drop:
        raise ValueError(f"the faults move the target by only {drop:.2f} reference sds "
                         f"(required {require_drop})")
    fmt = lambda ts: pd.Timestamp(ts).strftime(ISO)  # noqa: E731
    hidden = [{"name": nd.name,
               "children": [c.name for c in full.nodes()
                            if any(t.parent == nd.name for t in c.terms)]}
              for nd in full.nodes() if not nd.observed]
    truth = {
        "edges": truth_edges(full),
        "root_causes": _root_causes(full, faults),
        "anomaly": {"start": fmt(t0 + step * n_reference), "end": fmt(t0 + step * n)},
        "fault_types": [f.type for f in faults],
        "reference": {"start": fmt(t0), "end": fmt(t0 + step * n_reference)},
        # beyond the core shape: details a benchmark or a README may want
        "faults": [fault_dict(f) for f in faults],
        "hidden_confounders": hidden,
        "target": spec.target,
        "goal": spec.goal,
        "target_drop_sd": round(drop, 3),
    }
    return df, truth


# ----------------------------------------------------------------------------- output
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_str(s: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(s, ensure_ascii=False)


def _toml_key(s: str) -> str:
    return s if _BARE_KEY.match(s) else _toml_str(s)


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(s) for s in items) + "]"


def write_layout_toml(spec: PlantSpec) -> str:
    """The plant's layout file (observed sensors only)."""
    out = ["[plant]",
           f"name = {_toml_str(spec.name)}",
           f"target = {_toml_str(spec.target)}",
           f"goal = {_toml_str(spec.goal)}",
           f"time_column = {_toml_str(spec.time_column)}"]
    units = {}
    for st in spec.stations:
        obs = [n for n in st.nodes if n.observed]
        if not obs:
            continue
        out += ["", "[[station]]", f"name = {_toml_str(st.name)}",
                f"sensors = {_toml_list([n.name for n in obs])}"]
        exo = [n.name for n in obs if n.exogenous]
        if exo and len(exo) == len(obs):
            out.append("exogenous = true")
        elif exo:
            out.append(f"exogenous = {_toml_list(exo)}")
        ctrl = [n.name for n in obs if n.controllable]
        if ctrl:
            out.append(f"controllable = {_toml_list(ctrl)}")
        cat = [n.name for n in obs if n.kind == "categorical"]
        if cat:
            out.append(f"categorical = {_toml_list(cat)}")
        units.update({n.name: n.unit for n in obs if n.unit})
    if units:
        out += ["", "[units]"] + [f"{_toml_key(k)} = {_toml_str(v)}" for k, v in units.items()]
    return "\n".join(out) + "\n"


def csv_text(df: pd.DataFrame, time_column: str = "timestamp") -> str:
    """Comma-separated text with ISO timestamps and '\\n' line ends (byte-stable)."""
    out = df.copy()
    if time_column in out:
        out[time_column] = pd.to_datetime(out[time_column]).dt.strftime(ISO)
    return out.to_csv(index=False, lineterminator="\n")


def truth_json(truth: dict) -> str:
    return json.dumps(truth, indent=2, ensure_ascii=False) + "\n"


def save_plant(folder: str | Path, spec: PlantSpec, df: pd.DataFrame, truth: dict) -> None:
    """Write layout.toml, data.csv and truth.json into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("layout.toml", write_layout_toml(spec)),
                       ("data.csv", csv_text(df, spec.time_column)),
                       ("truth.json", truth_json(truth))):
        (folder / name).write_bytes(text.encode("utf-8"))


# ----------------------------------------------------------------------------- random plants
_TARGET_DROP, _DROP_LO, _DROP_HI = 2.2, 1.9, 2.5   # calibration aim, in reference sds
_CAL_N = 1000                                       # rows per period when calibrating


def _cf_drop(spec: PlantSpec, faults: list, base: list, seed: int, cache: dict) -> float:
    """Counterfactual drop: same noise with and without the fault, in reference sds.

    Common random numbers make this nearly noise-free, so calibration converges fast.
    """
    r0 = _run(spec, _CAL_N, _CAL_N, base, seed, cache)
    r1 = _run(spec, _CAL_N, _CAL_N, faults, seed, cache)
    t0, t1 = r0.values[spec.target], r1.values[spec.target]
    sd = t0[:_CAL_N].std(ddof=1)
    return float(goal_sign(spec) * (t0[_CAL_N:].mean() - t1[_CAL_N:].mean()) / sd)


def _calibrate(evaluate: Callable[[float], float], m0: float, max_iter: int = 12
               ) -> tuple[float, float]:
    """Scale a fault magnitude m until evaluate(m) lands in the aimed drop band.

    Most paths are close to linear in m, so a proportional update converges in a step or
    two; the step is clipped to stay safe on saturating or quadratic paths.
    """
    m, best = m0, None
    for _ in range(max_iter):
        d = evaluate(m)
        if best is None or abs(d - _TARGET_DROP) < abs(best[1] - _TARGET_DROP):
            best = (m, d)
        if _DROP_LO <= d <= _DROP_HI:
            return m, d
        m *= 2.0 if d <= 0.05 else float(np.clip(_TARGET_DROP / d, 0.4, 2.5))
    return best


def _round_sig(x: float, sig: int = 4) -> float:
    return float(f"{x:.{sig}g}")


def _decimals_for(sd: float) -> int:
    # sensor resolution about a hundredth of the noise sd
    return int(max(0, math.ceil(-math.log10(sd / 100.0))))


def random_plant(seed: int, n_stations: int | None = None, n_nodes: int | None = None, *,
                 fault: str | None = "mean_shift", noise: str = "mixed",
                 mechanisms: str = "mixed", goal: str | None = None,
                 supplier: bool | None = None) -> tuple[PlantSpec, list]:
    """A randomised plant and a fault that makes its target noticeably worse.

    3-6 stations of 2-8 numeric nodes (or ``n_nodes`` in all, split over the stations);
    the first station is exogenous raw material, sometimes with a categorical supplier.
    Edges run forward or within a station (in a hidden random order), about 2 parents per
    node. ``noise``: "gaussian" | "nongaussian" | "mixed"; ``mechanisms``: "mixed"
    (about a quarter nonlinear) | "linear". ``fault``: one of FAULT_TYPES or None.
    The fault magnitude is calibrated to a ~2.2 reference-sd drop of the target. In the
    rare drawn plant where no such fault exists (e.g. every path to the target saturates),
    another plant is drawn from a derived seed, so every seed still gives a usable plant.
    A categorical supplier is drawn only with ``mechanisms="mixed"`` unless ``supplier``
    says otherwise (or the fault is a category switch).
    """
    if noise not in ("gaussian", "nongaussian", "mixed"):
        raise ValueError("noise must be 'gaussian', 'nongaussian' or 'mixed'")
    if mechanisms not in ("mixed", "linear"):
        raise ValueError("mechanisms must be 'mixed' or 'linear'")
    if fault is not None and fault not in FAULT_TYPES:
        raise ValueError(f"fault must be one of {FAULT_TYPES} or None")
    for attempt in range(20):
        try:
            return _draw_plant(int(seed), attempt, n_stations, n_nodes, fault, noise,
                               mechanisms, goal, supplier)
        except RuntimeError:
            continue
    raise RuntimeError(f"no {fault} fault could be calibrated for seed {seed}")


def _draw_plant(seed: int, attempt: int, n_stations, n_nodes, fault, noise, mechanisms,
                goal, supplier) -> tuple[PlantSpec, list]:
    tail = [attempt] if attempt else []
    rng = np.random.default_rng([seed, 11] + tail)        # structure
    prng = np.random.default_rng([seed, 12] + tail)       # pilot sample for scaling
    frng = np.random.default_rng([seed, 13] + tail)       # fault choice

    n_st = int(n_stations) if n_stations else int(rng.integers(3, 7))
    if n_st < 2:
        raise ValueError("need at least 2 stations")
    if n_nodes:
        if n_nodes < 2 * n_st:
            raise ValueError("n_nodes must allow at least 2 nodes per station")
        sizes = 2 + rng.multinomial(n_nodes - 2 * n_st, np.full(n_st, 1.0 / n_st))
    else:
        sizes = rng.integers(2, 9, n_st)
    goal = goal or ("maximize" if rng.random() < 0.6 else "minimize")
    target = "yield_pct" if goal == "maximize" else "scrap_pct"
    # Linear benchmarks stay purely linear (no categorical) unless a supplier is asked for.
    default_supplier = rng.random() < 0.4 and mechanisms == "mixed"
    with_supplier = (fault == "category_switch" or
                     (supplier if supplier is not None else default_supplier))
    if with_supplier and n_nodes:          # the supplier counts towards n_nodes
        big = [i for i, k in enumerate(sizes) if k > 2]
        if big:
            sizes[big[0]] -= 1

    # Causal order is station by station; each station's listing order is shuffled so
    # the file never reveals the within-station order.
    order: list[str] = []
    station_of: dict[str, int] = {}
    for s, size in enumerate(sizes):
        for j in range(int(size)):
            name = target if (s == n_st - 1 and j == size - 1) else f"s{s + 1}_x{j + 1}"
            order.append(name)
            station_of[name] = s
    setpoints = set()
    for s in range(1, n_st):
        first = next(k for k in order if station_of[k] == s)
        if first != target and rng.random() < 0.5:
            setpoints.add(first)
    exo = {k for k in order if station_of[k] == 0} | setpoints
    leaves = {k for k in order if k not in exo and k != target and rng.random() < 0.1}

    def locality(src: str, dst: str) -> float:
        d = station_of[dst] - station_of[src]
        return {0: 0.6, 1: 1.0, 2: 0.35}.get(d, 0.12)

    parents: dict[str, list[str]] = {k: [] for k in order}
    for i, v in enumerate(order):
        if v in exo:
            continue
        cand = [u for u in order[:i] if u not in leaves]
        k = min(len(cand), int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2])) + (v == target))
        w = np.array([locality(u, v) for u in cand])
        pick = rng.choice(len(cand), size=k, replace=False, p=w / w.sum())
        parents[v] = [cand[j] for j in sorted(pick)]
    # Every non-leaf gets a child: following children then always ends at the target, so
    # every non-leaf node is an ancestor of the target.
    for i, u in enumerate(order):
        if u in leaves or u == target or any(u in ps for ps in parents.values()):
            continue
        later = [v for v in order[i + 1:] if v not in exo]
        w = np.array([locality(u, v) for v in later])
        v = later[int(rng.choice(len(later), p=w / w.sum()))]
        parents[v] = sorted(parents[v] + [u], key=order.index)

    nongauss = list(NONGAUSSIAN_KINDS)

    def draw_noise(sd: float) -> Noise:
        if noise == "gaussian" or (noise == "mixed" and rng.random() < 0.5):
            return Noise("gaussian", sd)
        kind = nongauss[int(rng.integers(len(nongauss)))]
        return Noise(kind, sd, df=float(rng.integers(6, 13)), weight=float(rng.uniform(0.6, 0.85)),
                     separation=float(rng.uniform(2.5, 4.0)), mirror=bool(rng.random() < 0.5))

    nodes: dict[str, Node] = {}
    pilot: dict[str, np.ndarray] = {}
    levels_of: dict[str, list[str]] = {}
    n_pilot = 2000
    supplier_node = None
    if with_supplier:
        lv = ["S1", "S2", "S3"] if rng.random() < 0.5 else ["S1", "S2"]
        probs = [0.6, 0.35, 0.05] if len(lv) == 3 else [0.9, 0.1]
        supplier_node = Node("supplier", kind="categorical", exogenous=True,
                             levels=dict(zip(lv, probs, strict=True)))
        pilot["supplier"] = np.minimum(np.searchsorted(np.cumsum(probs), prng.random(n_pilot),
                                                       side="right"), len(lv) - 1)
        levels_of["supplier"] = lv
        movable = [k for k in order if k not in exo and k not in leaves and k != target
                   and station_of[k] >= 1]
        n_ch = min(len(movable), int(rng.integers(1, 4)))
        sup_children = set(movable[j] for j in rng.choice(len(movable), n_ch, replace=False)) \
            if movable else set()
        if not sup_children:   # tiny plant: the supplier acts on the target directly
            sup_children = {target}
    else:
        sup_children = set()

    for v in order:
        if v == target:
            nominal, sd = (92.0, 0.4) if goal == "maximize" else (3.0, 0.2)
        else:
            nominal = _round_sig(10 ** rng.uniform(0.7, 2.7), 3)
            sd = _round_sig(nominal * rng.uniform(0.005, 0.03), 2)
        node = Node(v, nominal, draw_noise(sd), exogenous=v in exo, controllable=v in setpoints,
                    decimals=_decimals_for(sd))
        for p in parents[v]:
            m_p, sd_p = float(pilot[p].mean()), float(pilot[p].std())
            wgt = float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.0))
            kind = "linear"
            # the target's own law stays mostly linear, so a fault's path to it stays strong
            if mechanisms == "mixed" and rng.random() < (0.1 if v == target else 0.25):
                kind = ["tanh", "quadratic", "threshold"][int(rng.integers(3))]
                # A quadratic of a heavy-tailed parent makes rare huge spikes that swamp
                # the target's spread; keep bumps to parents with modest tails.
                zp = (pilot[p] - m_p) / sd_p
                if kind == "quadratic" and float(np.mean(zp ** 4)) > 4.5:
                    kind = "tanh"
            if kind == "linear":
                t = Term(p, "linear", wgt * sd / sd_p)
            elif kind == "tanh":
                t = Term(p, "tanh", wgt * sd / sd_p, m_p + rng.uniform(-0.5, 0.5) * sd_p,
                         sd_p * rng.uniform(0.8, 1.5))
            elif kind == "quadratic":
                t = Term(p, "quadratic", 0.6 * wgt * sd / sd_p ** 2,
                         m_p + rng.uniform(-1.2, 1.2) * sd_p)
            else:
                t = Term(p, "threshold", 1.3 * wgt * sd / sd_p,
                         m_p + rng.uniform(-0.5, 1.0) * sd_p, 0.3 * sd_p)
            node.terms.append(t)
        if v in sup_children:
            lv = levels_of["supplier"]
            node.terms.append(Term("supplier", "category", offsets={
                k: (0.0 if j == 0 else float(rng.choice([-1, 1]) * rng.uniform(0.4, 1.0) * sd))
                for j, k in enumerate(lv)}))
        nodes[v] = node
        # pilot values, to scale the coefficients of this node's children
        z = _std_noise(node.noise, prng, n_pilot) * sd
        x = nominal + z
        for t in node.terms:
            pv = pilot[t.parent]
            if t.kind == "category":
                x = x + np.array([t.offsets[k] for k in levels_of[t.parent]])[pv]
            else:
                pn = nodes[t.parent].nominal
                c = pn if t.center is None else t.center
                x = x + _term_fn(t.kind, t.coef, c, t.scale, pv) - float(
                    _term_fn(t.kind, t.coef, c, t.scale, np.array(pn)))
        pilot[v] = x

    stations = []
    for s in range(n_st):
        members = [nodes[k] for k in order if station_of[k] == s]
        if s == 0 and supplier_node is not None:
            members.append(supplier_node)
        perm = rng.permutation(len(members))
        # keep the target last in the listing of the last station, as a layout expects
        listed = [members[j] for j in perm if members[j].name != target] + \
                 [m for m in members if m.name == target]
        stations.append(Station(f"Station {s + 1}", listed))
    spec = PlantSpec(f"Random plant {seed}", stations, target, goal)
    if fault is None:
        return spec, []
    return _random_fault(spec, fault, frng, pilot, seed)


def _random_fault(spec: PlantSpec, fault: str, rng: np.random.Generator,
                  pilot: dict[str, np.ndarray], seed: int) -> tuple[PlantSpec, list]:
    """Pick where the fault enters and calibrate its size so the target drops ~2.2 sds."""
    cache: dict = {}
    bases: dict = {}
    cal_seed = seed + 7919
    edges = truth_edges(spec)
    anc = ancestors(edges, spec.target)
    nodes = {n.name: n for n in spec.nodes()}
    numeric = [k for k in spec.observed() if k in anc and nodes[k].kind == "numeric"]
    numeric = [numeric[j] for j in rng.permutation(len(numeric))][:25]

    def related(a: str, b: str) -> bool:
        return a in ancestors(edges, b) or b in ancestors(edges, a)

    def drop(sp: PlantSpec, faults: list, base: list = ()) -> float:
        # the fault-free run is shared by every trial on the same spec object
        key = (id(sp), repr(list(base)))
        hit = bases.get(key)
        if hit is None or hit[0] is not sp:
            r0 = _run(sp, _CAL_N, _CAL_N, list(base), cal_seed, cache)
            hit = bases[key] = (sp, r0.values[sp.target])
        t0 = hit[1]
        t1 = _run(sp, _CAL_N, _CAL_N, list(faults), cal_seed, cache).values[sp.target]
        sd = t0[:_CAL_N].std(ddof=1)
        return float(goal_sign(sp) * (t0[_CAL_N:].mean() - t1[_CAL_N:].mean()) / sd)

    # How much a 2-sd shift of each candidate's noise hurts the target (best sign), per sd.
    # (A variance fault builds its own path to the target and does not need this.)
    sens: dict[str, tuple[float, float]] = {}
    for k in numeric if fault != "variance_increase" else ():
        s = nodes[k].noise.sd
        up, dn = drop(spec, [MeanShift(k, 2 * s)]), drop(spec, [MeanShift(k, -2 * s)])
        sens[k] = (1.0, up / 2) if up >= dn else (-1.0, dn / 2)
    usable = [k for k in sens if sens[k][1] > 0.05]
    if sens and not usable:
        raise RuntimeError("no node has a usable effect on the target")

    def needed(k: str, aim: float = _TARGET_DROP) -> float:
        return aim / sens[k][1]     # predicted shift, in the node's noise sds

    def closeness(k: str, aim: float = _TARGET_DROP) -> float:
        return abs(math.log(needed(k, aim) / 2.5))   # aim at a ~2.5 sd noise shift

    ranked = sorted(usable, key=closeness)

    def fail():
        raise RuntimeError(f"could not build a {fault} fault that lowers the target")

    def in_band(d: float) -> bool:
        return 1.7 <= d <= 2.7

    if fault == "mean_shift":
        for k in ranked[:4]:
            sign, s = sens[k][0], nodes[k].noise.sd
            m, d = _calibrate(lambda m: drop(spec, [MeanShift(k, sign * m * s)]), needed(k))
            if in_band(d):
                return spec, [MeanShift(k, _round_sig(sign * m * s))]
        fail()

    if fault == "two_faults":
        pairs = [(a, b) for i, a in enumerate(ranked[:6]) for b in ranked[i + 1:6]]
        pairs.sort(key=lambda p: (related(*p), closeness(p[0], 1.1) + closeness(p[1], 1.1)))
        for a, b in pairs[:3]:
            da = sens[a][0] * needed(a, 1.1) * nodes[a].noise.sd
            db = sens[b][0] * needed(b, 1.1) * nodes[b].noise.sd
            alpha, d = _calibrate(
                lambda al: drop(spec, [MeanShift(a, al * da), MeanShift(b, al * db)]), 1.0)
            if in_band(d):
                return spec, [MeanShift(a, _round_sig(alpha * da)),
                              MeanShift(b, _round_sig(alpha * db))]
        fail()

    if fault == "hidden_confounder":
        pairs = [(a, b) for i, a in enumerate(ranked[:6]) for b in ranked[i + 1:6]]
        pairs.sort(key=lambda p: (related(*p), closeness(p[0], 1.1) + closeness(p[1], 1.1)))
        name = "hidden_driver"
        for a, b in pairs[:3]:
            coefs = {k: _round_sig(sens[k][0] * rng.uniform(0.6, 1.0) * nodes[k].noise.sd)
                     for k in (a, b)}
            per_unit = sum(abs(coefs[k]) / nodes[k].noise.sd * sens[k][1] for k in (a, b))
            m, d = _calibrate(lambda m: drop(spec, [HiddenConfounder(name, coefs, m)],
                                             [HiddenConfounder(name, coefs, 0.0)]),
                              _TARGET_DROP / per_unit)
            if in_band(d):
                return spec, [HiddenConfounder(name, coefs, _round_sig(m))]
        fail()

    if fault == "variance_increase":
        # A quadratic loss of a heavy-tailed node makes a spiky target whose mean is hard to
        # pin down; prefer light-tailed noise where the plant has it.
        light = {"gaussian": 0, "uniform": 0, "mixture": 1}
        for k in sorted(numeric, key=lambda k: light.get(nodes[k].noise.kind, 2))[:4]:
            s = nodes[k].noise.sd
            center = _round_sig(float(pilot[k].mean()), 6)
            for factor in (3.0, 4.5):
                def build(c: float, k=k, center=center) -> PlantSpec:
                    sp = copy.deepcopy(spec)
                    # quadratic loss around the node's usual value: spread costs yield
                    sp.node(sp.target).terms.append(
                        Term(k, "quadratic", -goal_sign(sp) * c, center))
                    return sp
                c0 = nodes[spec.target].noise.sd / ((factor ** 2 - 1) * s ** 2)
                c, d = _calibrate(lambda c: drop(build(c), [VarianceIncrease(k, factor)]), c0)
                if in_band(d):
                    return build(_round_sig(c)), [VarianceIncrease(k, factor)]
        fail()

    if fault == "mechanism_change":
        options = [(v, t) for v in ranked[:10] if v != spec.target for t in nodes[v].terms
                   if t.kind == "linear" and nodes[t.parent].observed
                   and nodes[t.parent].kind == "numeric"]
        for v, t in options[:8]:
            sd_p = float(pilot[t.parent].std())
            lever = float(rng.uniform(2.5, 4.0)) * sd_p       # nominal - pivot
            sp = copy.deepcopy(spec)
            term = next(x for x in sp.node(v).terms if x.parent == t.parent and x.kind == "linear")
            # the pivot (where the parent has no effect) only matters once the slope changes
            term.center = _round_sig(nodes[t.parent].nominal - lever, 6)
            # slope change that shifts v by the wanted number of its noise sds
            unit = sens[v][0] * nodes[v].noise.sd / lever
            m, d = _calibrate(
                lambda m: drop(sp, [MechanismChange(v, t.parent, t.coef + m * unit)]), needed(v))
            if in_band(d):
                return sp, [MechanismChange(v, t.parent, _round_sig(t.coef + m * unit))]
        fail()

    if fault == "category_switch":
        sup = next(n for n in spec.nodes() if n.kind == "categorical")
        level = list(sup.levels)[-1]      # the rare supplier becomes the main one
        movable = [k for k in ranked if not nodes[k].exogenous][:3] or [spec.target]
        for strong in movable:
            sp0 = copy.deepcopy(spec)
            # The new supplier pushes its children the harmful way (where known), and acts
            # on a node with a clear path to the target.
            for n in sp0.nodes():
                for x in n.terms:
                    if x.parent == sup.name and n.name in sens:
                        x.offsets[level] = _round_sig(abs(x.offsets[level]) * sens[n.name][0])
            node = sp0.node(strong)
            t = next((x for x in node.terms if x.parent == sup.name), None)
            if t is None:
                t = Term(sup.name, "category", offsets={k: 0.0 for k in sup.levels})
                node.terms.append(t)
            if strong in sens:
                shift = sens[strong][0] * needed(strong)
            else:                       # acting on the target itself: 2.5 of its noise sds
                shift = -goal_sign(spec) * 2.5
            t.offsets[level] = _round_sig(shift / 0.9 * nodes[strong].noise.sd)

            def build(alpha: float, sp0=sp0) -> PlantSpec:
                sp = copy.deepcopy(sp0)
                for n, n0 in zip(sp.nodes(), sp0.nodes(), strict=True):
                    for x, x0 in zip(n.terms, n0.terms, strict=True):
                        if x.parent == sup.name:
                            x.offsets[level] = _round_sig(x0.offsets[level] * alpha)
                return sp
            a, d = _calibrate(lambda a: drop(build(a), [CategorySwitch(sup.name, level)]), 1.0)
            if in_band(d):
                return build(a), [CategorySwitch(sup.name, level, 0.9)]
        fail()

    raise ValueError(fault)


def tiered_linear_data(p: int, n: int, n_tiers: int, seed: int, gaussian: bool = False
                       ) -> tuple[np.ndarray, np.ndarray]:
    """A bare linear plant for discovery tests and speed benchmarks: ``p`` sensors over
    ``n_tiers`` stations (about two parents each, edges only forward in a hidden order), uniform
    (or Gaussian) noise, columns shuffled and put in engineering units (scales 0.1-100, offsets).
    Returns the data and its lingam prior-knowledge matrix for the tiers."""
    rng = np.random.default_rng(seed)
    tier = np.sort(np.arange(p) % n_tiers)
    B = np.zeros((p, p))
    for i in range(p):
        for j in range(i):
            if rng.random() < min(0.5, 2.0 / max(1, i)):
                B[i, j] = rng.uniform(0.3, 1.2) * rng.choice([-1, 1])
    E = (rng.standard_normal((n, p)) if gaussian else rng.uniform(-1, 1, (n, p))) * rng.uniform(0.5, 2, p)
    X = np.zeros((n, p))
    for i in range(p):
        X[:, i] = X @ B[i] + E[:, i]
    perm = rng.permutation(p)
    X = X[:, perm] * rng.uniform(0.1, 100, p) + rng.uniform(-50, 200, p)
    tierp = tier[perm]
    pk = -np.ones((p, p))
    pk[tierp[None, :] > tierp[:, None]] = 0
    return X, pk

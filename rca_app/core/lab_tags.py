"""Lab tags: sensors measured only now and then, their links learnt where they were measured.

A lab result (a purity twice an hour, a viscosity once a shift) goes onto the analysis grid by the
``"last"`` rule: valid from its sample time until the next sample, so a 1-minute grid holds about
30 copies of each 30-minute result. Only the first of them was measured at its row's time; the
others are that value while the plant has moved on. Discovery on every row then asks the wrong
question: does the yield of minute 17 follow the purity sampled 17 minutes earlier? On the
continuous sample plant the purity's correlation with the yield was 0.56 on its 32 sampled rows and
0.09 on all 959 reference rows; the autocorrelation-aware tests count the held copies as one
row each (an integrated autocorrelation time of 25 rows), which leaves a diluted correlation on
some 38 effective rows, and the true edge into the KPI was lost.

Here the lab tag's links are learnt from what was measured. The plant's other sensors decide
their own graph without it (its held copies drive neither LiNGAM's order nor the tests); then, on
the reference rows where the tag has a fresh sample (the other sensors at the sample time, as a
grab sample is taken), its parents are chosen by forward selection with nested F-tests, and each
sensor the layout lets it reach gets an edge from it when it explains that sensor beyond its
other parents. The rows count as the number of samples; the tests still allow for any
autocorrelation between consecutive samples (:func:`~rca_app.core.autocorrelation.score_inflation`).
An edge to a sensor of the tag's own station, which the layout allows either way, is marked
undetermined: a few dozen samples do not orient it. Edge confidences come from block
resamples of the sampled rows.

A link between two lab tags is learnt on the rows where both were sampled, when there are enough
of them (:func:`_lab_to_lab`); links between a lab tag and a categorical sensor are not learnt;
the layout's required edges of a lab tag are kept.

Which tags: those a historian export puts on the grid by the ``"last"`` rule with a new sample only
every :data:`~rca_app.core.data.preparation.STEP_FUNCTION_ROWS` grid rows or more (the data step's
"step function" note). A wide table's held column may as well be a lot property, which is valid
on every row of its run: it keeps the treatment of every row.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from rca_app.core.autocorrelation import moving_block_rows, normality_pvalue, score_inflation
from rca_app.core.graph import CausalGraph, Edge
from rca_app.core.pruning import MIN_PARTIAL_R2, PRUNE_ALPHA
from rca_app.core.records import NoiseCheck

# Fewer samples than this in the reference: nothing can be learnt about the tag's links (a test
# of one term beside a few parents has no power), so it gets none, and a note says why.
MIN_LAB_SAMPLES = 12
# Degrees of freedom a regression on the sampled rows keeps at least: parents beyond that are
# not added (each costs one of the few rows there are).
MIN_RESIDUAL_DOF = 8


@dataclass
class LabEdges:
    """What the sampled rows say about one lab tag.

    Attributes
    ----------
    tag : str
    n_samples : int
        Reference rows where it was sampled.
    parents, children : list of str
        Sensors with an edge into / out of it.
    undetermined : list of (str, str)
        Its edges whose direction the layout leaves open (as oriented here).
    unlinked : str or None
        Why no parent from an earlier station was looked for (None: they were).
    """

    tag: str
    n_samples: int
    parents: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    undetermined: list[tuple[str, str]] = field(default_factory=list)
    unlinked: str | None = None


class LabRows(dict):
    """Lab tag -> its sampled rows (a dict), and ``unlinked``: the tags whose links to the
    stations upstream are not learnt, with why (their station's residence time was searched on
    their samples and none was found, :mod:`rca_app.core.lab_lags`)."""

    def __init__(self, rows=(), unlinked: dict[str, str] | None = None):
        super().__init__(rows)
        self.unlinked: dict[str, str] = dict(unlinked or {})


def lab_tag_rows(data, timed, reference: slice) -> dict[str, np.ndarray]:
    """The reference rows on which each lab tag has a fresh sample.

    Parameters
    ----------
    data : PlantData
        Prepared from a historian export (``tag_reports`` with sample times) on an even grid.
    timed : TimeAlignment or None
        The residence-time alignment (:func:`rca_app.core.dynamics.align_for_time`): a tag moved
        forward by ``k`` grid steps has its sample on the row ``k`` grid steps later (on a grid
        with holes, none when that step is a hole).
    reference : slice
        The aligned reference rows (positions in the aligned frame).

    Returns
    -------
    LabRows
        Tag -> positions within the reference rows, ascending (empty without lab tags), and the
        tags the alignment found no upstream link for at any lag (``unlinked``).
    """
    if timed is None or timed.step is None or data.time is None:
        return LabRows()
    grid = getattr(timed, "grid", None)
    # Rows dropped for gaps are holes in the grid: a shift is k grid steps, and a sample moved onto
    # a hole has no analysis row (core/grid_holes.py).
    positions: np.ndarray | None = (np.asarray(grid.positions) if grid is not None and not grid.consecutive
                                    else None)
    out: dict[str, np.ndarray] = {}
    for tag, fresh in fresh_rows(data, timed.step).items():
        k = timed.record.shifts.get(tag, 0)
        if positions is not None:
            at = positions[fresh] + k
            idx = np.searchsorted(positions, at)
            hit = (idx < len(positions)) & (positions[np.minimum(idx, len(positions) - 1)] == at)
            rows = idx[hit] - reference.start
        else:
            rows = fresh + k - reference.start
        out[tag] = rows[(rows >= 0) & (rows < reference.stop - reference.start)]
    unlinked = getattr(timed, "lab_unlinked", None) or {}
    return LabRows(out, {t: why for t, why in unlinked.items() if t in out})


def fresh_rows(data, step) -> dict[str, np.ndarray]:
    """The grid rows (as recorded, before any alignment) on which each lab tag has a fresh sample.

    Parameters
    ----------
    data : PlantData
        Prepared from a historian export (``tag_reports`` with sample times).
    step : Timedelta
        The grid step.

    Returns
    -------
    dict of str to ndarray of int
        Tag -> row positions, ascending; tags held by the ``"last"`` rule with a new sample only
        every :data:`~rca_app.core.data.preparation.STEP_FUNCTION_ROWS` rows or more.
    """
    from rca_app.core.data.preparation import STEP_FUNCTION_ROWS

    if data.time is None:
        return {}
    step = pd.Timedelta(step)
    times = data.time.to_numpy(dtype="datetime64[ns]")
    out: dict[str, np.ndarray] = {}
    for rep in getattr(data, "tag_reports", None) or []:
        if rep.rule != "last" or not rep.sample_times or rep.tag not in data.frame.columns:
            continue
        if (rep.median_interval_s or 0) < STEP_FUNCTION_ROWS * step.total_seconds():
            continue
        st = np.sort(np.asarray(pd.DatetimeIndex(rep.sample_times).to_numpy(dtype="datetime64[ns]")))
        # Grid row r holds a fresh sample when one was taken in (t_r - step, t_r] (the grid's rule).
        fresh = np.searchsorted(st, times, side="right") > np.searchsorted(st, times - step.to_timedelta64(),
                                                                           side="right")
        out[rep.tag] = np.flatnonzero(fresh)
    return out


def _standardised(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _adds(y: np.ndarray, base: np.ndarray, x: np.ndarray, serial: bool) -> tuple[float, float]:
    """Partial R^2 and p-value of ``x`` added to the regression of ``y`` on ``base`` (rows are the
    samples, in time order): a nested F-test with one degree of freedom, its statistic divided by
    Bartlett's inflation of the two residuals' autocorrelations on time series."""
    n = len(y)
    A0 = np.column_stack([np.ones(n), base]) if base.size else np.ones((n, 1))
    dof = n - A0.shape[1] - 1
    if dof < MIN_RESIDUAL_DOF:
        return 0.0, 1.0
    coef = np.linalg.lstsq(A0, np.column_stack([y, x]), rcond=None)[0]
    R = np.column_stack([y, x]) - A0 @ coef
    e0, xr = R[:, 0], R[:, 1]
    rss0, sxx = float(e0 @ e0), float(xr @ xr)
    if rss0 <= 0 or sxx <= 1e-12 * max(float(x @ x), 1e-300):
        return 0.0, 1.0
    gain = float(e0 @ xr) ** 2 / sxx
    rss1 = max(rss0 - gain, 1e-12 * rss0)
    infl = score_inflation(e0, xr) if serial else 1.0
    f = gain / (rss1 / dof) / infl
    return gain / rss0, float(stats.f.sf(f, 1, max(1.0, n / infl - A0.shape[1] - 1)))


def _passes(r2: float, p: float) -> bool:
    return r2 >= MIN_PARTIAL_R2 and p < PRUNE_ALPHA


def _select_parents(Z: pd.DataFrame, tag: str, candidates: list[str], serial: bool) -> list[str]:
    """Forward selection of the tag's parents among ``candidates`` (the clearest first, while one
    passes), then backward elimination of any that no longer adds given the others."""
    y = Z[tag].to_numpy()
    chosen: list[str] = []
    while True:
        base = Z[chosen].to_numpy()
        tried = [(c, *_adds(y, base, Z[c].to_numpy(), serial)) for c in candidates if c not in chosen]
        ok = [(pv, c) for c, r2, pv in tried if _passes(r2, pv)]
        if not ok:
            break
        chosen.append(min(ok)[1])
    while chosen:
        tests = [(_adds(y, Z[[q for q in chosen if q != c]].to_numpy(), Z[c].to_numpy(), serial), c) for c in chosen]
        (r2, pv), weakest = max(tests, key=lambda t: t[0][1])
        if _passes(r2, pv):
            break
        chosen.remove(weakest)
    return chosen


def _lab_edges(Z: pd.DataFrame, tag: str, edges: set[tuple[str, str]], numeric: list[str], constraints,
               serial: bool, upstream: bool = True) -> tuple[list[str], list[str]]:
    """The tag's parents and children on the sampled rows ``Z`` (standardised numeric columns),
    given the other sensors' ``edges``; ``upstream`` False: no parent from an earlier station."""
    parents = _select_parents(Z, tag, [c for c in numeric if c != tag and constraints.allows(c, tag)
                                       and (upstream or constraints.tier[c] >= constraints.tier[tag])], serial)
    graph_edges = set(edges) | {(p, tag) for p in parents}
    above = _ancestors(tag, graph_edges)
    children = []
    x = Z[tag].to_numpy()
    for c in numeric:
        if c == tag or c in above or c in parents or not constraints.allows(tag, c):
            continue
        base = [p for p in numeric if (p, c) in graph_edges and p != tag]
        r2, pv = _adds(Z[c].to_numpy(), Z[base].to_numpy(), x, serial)
        if _passes(r2, pv):
            children.append(c)
    return parents, children


def _ancestors(node: str, edges: set[tuple[str, str]]) -> set[str]:
    into: dict[str, list[str]] = {}
    for a, b in edges:
        into.setdefault(b, []).append(a)
    seen, todo = set(), [node]
    while todo:
        for a in into.get(todo.pop(), []):
            if a not in seen:
                seen.add(a)
                todo.append(a)
    return seen


def _confidences(Z: pd.DataFrame, tag: str, edges, numeric, constraints, serial, n_resamples: int,
                 seed: int, upstream: bool = True) -> dict[tuple[str, str], float]:
    """Share of block resamples of the sampled rows in which each of the tag's edges is found."""
    counts: dict[tuple[str, str], int] = {}
    if n_resamples <= 0:
        return {}
    rng = np.random.default_rng(seed)
    for _ in range(n_resamples):
        idx = moving_block_rows(len(Z), len(Z), rng)
        sample = Z.iloc[idx].reset_index(drop=True)
        sample = (sample - sample.mean()) / sample.std(ddof=0).replace(0.0, 1.0)
        ps, cs = _lab_edges(sample, tag, edges, numeric, constraints, serial, upstream)
        for e in [(p, tag) for p in ps] + [(tag, c) for c in cs]:
            counts[e] = counts.get(e, 0) + 1
    return {e: k / n_resamples for e, k in counts.items()}


def discover_with_lab_tags(frame: pd.DataFrame, constraints, categorical, settings, progress, encoder,
                           lab_rows: dict[str, np.ndarray], discover):
    """Discovery with each lab tag's links learnt on the rows where it was sampled (module text).

    Parameters
    ----------
    frame : DataFrame
        Reference rows in time order (residence-time aligned).
    constraints : Constraints
    categorical : set of str
    settings : DiscoverySettings
    progress : Progress or None
    encoder : CategoryEncoder or None
    lab_rows : dict of str to ndarray of int
        Lab tag -> positions of ``frame``'s rows with a fresh sample (:func:`lab_tag_rows`).
    discover : callable
        :func:`rca_app.core.discovery.discover` (the other sensors' graph, without the lab tags).

    Returns
    -------
    DiscoveryResult
        The other sensors' result with the lab tags and their edges added.
    """
    tags = [t for t in constraints.nodes if t in lab_rows and t in frame.columns and t not in categorical]
    unlinked: dict[str, str] = getattr(lab_rows, "unlinked", {})
    result = discover(frame.drop(columns=tags), constraints, categorical, settings, progress, encoder)
    nodes = [n for n in constraints.nodes if n in frame.columns]
    numeric = [n for n in nodes if n not in categorical and (n not in tags)]
    edges = set(result.graph.edge_keys)
    conf = {e.key: e.confidence for e in result.graph.edges}
    effect = {e.key: e.effect for e in result.graph.edges}
    undetermined = set(result.undetermined)
    order = list(result.causal_order)
    found, checks, messages = [], [], []
    for i, tag in enumerate(tags):
        rows = np.asarray(lab_rows[tag], dtype=int)
        if len(rows) < MIN_LAB_SAMPLES:
            messages.append(
                f"{tag}: a lab value held on the grid with only {len(rows)} samples in the reference period, too "
                f"few to learn its links from what was measured: it has no edges (its held copies between samples "
                "are no evidence)")
            continue
        cols = numeric + [tag]
        raw = frame.iloc[rows][cols].reset_index(drop=True)
        Z = (raw - raw.mean()) / raw.std(ddof=0).replace(0.0, 1.0)
        # Its station's residence time was searched on its samples and none tied them to the
        # sensors upstream: that search was the test of its upstream links (at every lag), and a
        # second look at the one lag left would pass on noise the search already discounted.
        upstream = tag not in unlinked
        parents, children = _lab_edges(Z, tag, edges, cols, constraints, settings.time_series, upstream)
        share = _confidences(Z, tag, edges, cols, constraints, settings.time_series,
                             settings.n_bootstrap, settings.seed + 7919 * (i + 1), upstream)
        new = [(p, tag) for p in parents] + [(tag, c) for c in children]
        new += [e for e in sorted(constraints.required)
                if tag in e and e not in new and e[0] in nodes and e[1] in nodes]   # the layout's own
        for a, b in new:
            edges.add((a, b))
            required = (a, b) in constraints.required
            conf[(a, b)] = (1.0 if required else share.get((a, b), 0.0)) if settings.n_bootstrap > 0 else None
            effect[(a, b)] = _coefficient(raw, a, b, [p for p in cols if (p, b) in edges])
            if constraints.allows(b, a) and not required:
                undetermined.add((a, b))
        result.unstable_edges += [{"source": a, "target": b, "confidence": c} for (a, b), c in sorted(share.items())
                                  if (a, b) not in edges and c >= 1 / 3]
        order.insert(_order_position(order, tag, parents, children, constraints), tag)
        found.append(LabEdges(tag, len(rows), parents, children, [e for e in new if e in undetermined],
                              unlinked.get(tag)))
        checks += _noise_check(raw, tag, parents, settings.time_series)
    # Two lab tags: a link learnt on the rows where both were sampled.
    links, pair_messages = _lab_to_lab(frame, [f.tag for f in found], lab_rows, edges, numeric, constraints,
                                       settings)
    for link in links:
        edges.add(link.key)
        conf[link.key] = link.confidence if settings.n_bootstrap > 0 else None
        effect[link.key] = link.effect
        if link.undetermined:
            undetermined.add(link.key)
    if links:
        order = _topological(order, edges)
    edge_objs = []
    for a, b in sorted(edges, key=lambda e: (nodes.index(e[0]), nodes.index(e[1]))):
        old = result.graph.edge(a, b)
        if old is not None:
            edge_objs.append(replace(old, undetermined=(a, b) in undetermined or old.undetermined))
        else:
            edge_objs.append(Edge(a, b, effect=effect.get((a, b)), confidence=conf.get((a, b)),
                                  origin="required" if (a, b) in constraints.required else "discovered",
                                  undetermined=(a, b) in undetermined))
    result.graph = CausalGraph(tuple(nodes), tuple(edge_objs))
    result.causal_order = order
    result.undetermined = sorted(undetermined)
    result.noise_checks = list(result.noise_checks) + checks
    result.messages = (list(result.messages) + messages + [_message(f, len(frame)) for f in found]
                       + pair_messages + [_link_message(link) for link in links])
    return result


@dataclass
class LabLink:
    """An edge between two lab tags, learnt on the reference rows where both were sampled.

    Attributes
    ----------
    source, target : str
    n_samples : int
        Reference rows where both have a fresh sample.
    confidence : float
        Share of block resamples of those rows in which the link is found.
    effect : float or None
        Least-squares effect in engineering units, on those rows.
    undetermined : bool
        Within one station: a direction the layout leaves open.
    """

    source: str
    target: str
    n_samples: int
    confidence: float
    effect: float | None
    undetermined: bool

    @property
    def key(self) -> tuple[str, str]:
        return self.source, self.target


def _lab_to_lab(frame: pd.DataFrame, tags: list[str], lab_rows: dict[str, np.ndarray], edges: set[tuple[str, str]],
                numeric: list[str], constraints, settings) -> tuple[list[LabLink], list[str]]:
    """Links between two lab tags (``tags`` in flow order, each with its own links already in
    ``edges``): on the reference rows where both were sampled, the later one's value against the
    earlier one's beyond the later one's other parents (the nested F-test of the single tags).

    Each tag's own pass tests it against the row-rate sensors only: on the rows where one lab tag
    was sampled the other holds a copy from minutes or hours before, no measurement of that
    moment. The rows where both were sampled are measurements of both, so a link between them is
    tested there, when there are at least :data:`MIN_LAB_SAMPLES` such rows (the same rule as a
    single tag's samples). Lab values analysed on one schedule and aligned by the same residence
    time share their rows; a downstream lab's samples are moved by the residence time between
    them and share rows only when the schedules allow it, and a note says so otherwise.
    """
    links, messages = [], []
    for i, a in enumerate(tags):
        for b in tags[i + 1:]:
            forward, backward = constraints.allows(a, b), constraints.allows(b, a)
            if not (forward or backward) or (a, b) in edges or (b, a) in edges:
                continue    # the layout forbids it, or requires it (kept with its own pass)
            src, dst = (a, b) if forward else (b, a)
            if dst in _ancestors(src, edges):
                continue    # the edge would close a cycle
            common = np.intersect1d(np.asarray(lab_rows[a], dtype=int), np.asarray(lab_rows[b], dtype=int))
            if len(common) < MIN_LAB_SAMPLES:
                messages.append(
                    f"{src} and {dst}: both lab values, sampled together on {len(common)} reference rows only "
                    f"(after the residence-time alignment; {MIN_LAB_SAMPLES} needed), so whether one drives the "
                    "other is not learnt: no link between them is drawn")
                continue
            cols = [*numeric, src, dst]
            raw = frame.iloc[common][cols].reset_index(drop=True)
            Z = (raw - raw.mean()) / raw.std(ddof=0).replace(0.0, 1.0)
            base = [p for p in numeric if (p, dst) in edges]
            if not _passes(*_adds(Z[dst].to_numpy(), Z[base].to_numpy(), Z[src].to_numpy(), settings.time_series)):
                continue
            share = _link_share(Z, src, dst, base, settings.time_series, settings.n_bootstrap,
                                settings.seed + 104729 * (i + 1) + tags.index(b))
            links.append(LabLink(src, dst, len(common), share, _coefficient(raw, src, dst, [*base, src]),
                                 forward and backward))
            edges.add((src, dst))    # later pairs see it (no cycle through it)
    return links, messages


def _link_share(Z: pd.DataFrame, src: str, dst: str, base: list[str], serial: bool, n_resamples: int,
                seed: int) -> float:
    """Share of block resamples of the common samples in which ``src`` still adds to ``dst``."""
    if n_resamples <= 0:
        return 1.0
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_resamples):
        sample = Z.iloc[moving_block_rows(len(Z), len(Z), rng)].reset_index(drop=True)
        sample = (sample - sample.mean()) / sample.std(ddof=0).replace(0.0, 1.0)
        hits += _passes(*_adds(sample[dst].to_numpy(), sample[base].to_numpy(), sample[src].to_numpy(), serial))
    return hits / n_resamples


def _topological(order: list[str], edges: set[tuple[str, str]]) -> list[str]:
    """``order`` with each node moved after its parents, otherwise as it was (stable)."""
    into: dict[str, set[str]] = {}
    for a, b in edges:
        into.setdefault(b, set()).add(a)
    placed: list[str] = []
    left = list(order)
    while left:
        k = next((j for j, n in enumerate(left) if not (into.get(n, set()) & set(left))), 0)
        placed.append(left.pop(k))
    return placed


def _link_message(link: LabLink) -> str:
    text = (f"{link.source} -> {link.target}: a link between two lab values, learnt on the {link.n_samples} "
            "reference rows where both were sampled")
    if link.undetermined:
        text += " (within one station: a direction the layout leaves open and the samples do not decide)"
    return text + "."


def _order_position(order: list[str], tag: str, parents: list[str], children: list[str], constraints) -> int:
    """Where the tag goes in the causal order: after its parents, before its children, and there
    with its station (before the first sensor of a later station)."""
    after = max((order.index(p) + 1 for p in parents if p in order), default=0)
    before = min((order.index(c) for c in children if c in order), default=len(order))
    if after > before:
        return after
    return next((k for k in range(after, before) if constraints.tier.get(order[k], -1) > constraints.tier[tag]),
                before)


def _coefficient(raw: pd.DataFrame, source: str, child: str, parents: list[str]) -> float | None:
    """The least-squares effect of ``source`` on ``child`` (engineering units) on the sampled rows."""
    A = np.column_stack([np.ones(len(raw)), raw[parents].to_numpy(float)])
    coef = np.linalg.lstsq(A, raw[child].to_numpy(float), rcond=None)[0]
    return float(coef[1 + parents.index(source)]) or None


def _noise_check(raw: pd.DataFrame, tag: str, parents: list[str], serial: bool) -> list[NoiseCheck]:
    """The tag's noise given its parents, on its sampled rows (its held copies would add nothing)."""
    A = np.column_stack([np.ones(len(raw)), raw[parents].to_numpy(float)])
    y = raw[tag].to_numpy(float)
    r = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    if r.std() == 0 or len(r) < 20:
        return []
    skew, kurt = float(stats.skew(r)), float(stats.kurtosis(r))
    p = normality_pvalue(r, serial)
    return [NoiseCheck(tag, skew, kurt, p, p > 0.01 or (abs(skew) < 0.15 and abs(kurt) < 0.3))]


def _message(f: LabEdges, n_rows: int) -> str:
    links = [f"{p} -> {f.tag}" for p in f.parents] + [f"{f.tag} -> {c}" for c in f.children]
    from rca_app.core.data.preparation import held_tag_words

    kind = held_tag_words(n_rows / max(f.n_samples, 1))   # "a lab value" only when sampled sparsely
    text = (f"{f.tag}: {kind} held on the grid between samples; its links were learnt on the {f.n_samples} "
            f"reference rows where it was sampled, not on the {n_rows:,} rows that hold copies: "
            + (", ".join(links) if links else "none found"))
    if f.undetermined:
        text += (" (" + ", ".join(f"{a} - {b}" for a, b in f.undetermined)
                 + ": within one station, a direction the layout leaves open and the samples do not decide)")
    if f.unlinked:
        text += f"; no link from the stations upstream was looked for: {f.unlinked}"
    return text + "."


def mechanism_rows(graph, lab_rows: dict[str, np.ndarray], offset: int = 0) -> dict[str, np.ndarray]:
    """The reference rows each mechanism that involves a lab tag is fitted on.

    A lab tag's own mechanism is fitted on its sampled rows, and so is each child's: its
    mechanism is fitted on the rows where every lab parent (and the child, when it is a lab tag
    too) was freshly sampled, when there are at least :data:`MIN_LAB_SAMPLES` of them plus two
    per parent. On the held copies between samples a lab value meets the plant of minutes later,
    which dilutes its effect towards zero (0.33 of a true 2.0 on the continuous sample plant;
    3.0 on its sampled rows). A child with too few common rows keeps every row.

    Parameters
    ----------
    graph : CausalGraph
        The graph the model is fitted on.
    lab_rows : dict of str to ndarray of int
        Lab tag -> positions of its sampled rows in the discovery's reference rows
        (:func:`lab_tag_rows`).
    offset : int
        Rows the model's reference starts later than discovery's (a model with lagged inputs
        loses its first rows).

    Returns
    -------
    dict of str to ndarray of int
        Node -> row positions in the model's reference rows (only nodes fitted on some rows).
    """
    out: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        parents = graph.parents(node)
        if not parents:
            continue
        labs = [t for t in [node, *parents] if t in lab_rows]
        if not labs:
            continue
        rows = np.asarray(lab_rows[labs[0]], dtype=int)
        for t in labs[1:]:
            rows = np.intersect1d(rows, np.asarray(lab_rows[t], dtype=int))
        rows = rows - offset
        rows = rows[rows >= 0]
        if len(rows) >= MIN_LAB_SAMPLES + 2 * len(parents):
            out[node] = rows
    return out


def sampled_edge_effects(scm, reference: pd.DataFrame, own_rows: dict[str, np.ndarray]) -> dict:
    """Edge effects into each node fitted on some rows (:func:`mechanism_rows`), estimated on
    those rows as :func:`rca_app.core.effects.edge_effects` does on all of them.

    Parameters
    ----------
    scm : StructuralCausalModel
        Fitted on ``reference``.
    reference : DataFrame
        The model's reference rows.
    own_rows : dict of str to ndarray of int

    Returns
    -------
    dict of (str, str) to EdgeEffect
    """
    import copy

    from rca_app.core.effects import edge_effects
    from rca_app.core.graph import CausalGraph as _Graph

    out = {}
    for child, rows in own_rows.items():
        if child not in scm.mechanisms_ or child in scm.categorical:
            continue
        sub = copy.copy(scm)
        # Only the edges into the child, with folds of its own rows.
        sub.graph = _Graph(scm.graph.nodes, tuple(e for e in scm.graph.edges if e.target == child))
        sub.folds_ = np.arange(len(rows)) % scm.settings.n_folds
        np.random.default_rng(scm.settings.seed).shuffle(sub.folds_)
        for eff in edge_effects(sub, reference.iloc[rows]):
            out[(eff.source, eff.target)] = eff
    return out

"""PDF investigation report: content read back with pypdf, page numbering, 8D notes, atomic
writing, and the CLI's --report / --export-dir / --notes."""
from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("reportlab")

from rca_app.cli import main  # noqa: E402
from rca_app.core.analysis import AnalysisSettings, run_analysis  # noqa: E402
from rca_app.core.data import load_table, prepare  # noqa: E402
from rca_app.core.layout import load_layout  # noqa: E402
from rca_app.core.results import as_result, result_to_json  # noqa: E402
from rca_app.report import EXPORT_FILES, build_report, export_tables, load_notes  # noqa: E402
from rca_app.report import formatting as F  # noqa: E402
from rca_app.report import text as T  # noqa: E402
from rca_app.report.builder import SECTIONS, ReportBuilder  # noqa: E402
from rca_app.resources import sample_plant  # noqa: E402

PLANTS = ["injection_moulding", "chemical_reactor", "bottling_line"]
FAST = ["--graph-bootstrap", "3", "--rank-bootstrap", "4", "--quiet"]
NOTES = {
    "team": ["A. Keller (process)", "M. Öztürk (maintenance)"],
    "containment": "Line slowed to 90 %; lots since 18 March on hold.",
    "corrective_action": "Clean the preheater bundle; alarm when ΔT ≥ 3 °C.",
    "comments": "Steam trap noise reported on 17 March (µ-leak?).",
}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pages(path) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(str(path)).pages]


def _plant(name: str):
    p = sample_plant(name)
    truth = json.loads((p / "truth.json").read_text(encoding="utf-8"))
    data = prepare(load_table(p / "data.csv"), load_layout(p / "layout.toml"))
    return p, truth, data


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Each sample plant analysed (fast settings) and reported once; notes on the reactor.
    The result is kept as the typed record the report reads."""
    out = {}
    d = tmp_path_factory.mktemp("reports")
    for name in PLANTS:
        _, truth, data = _plant(name)
        an = truth["anomaly"]
        res = as_result(run_analysis(data, (an["start"], an["end"]), None,
                                     AnalysisSettings(graph_bootstrap=3, rank_bootstrap=4)).result)
        notes = NOTES if name == "chemical_reactor" else None
        pdf = build_report(res, data, d / f"{name}.pdf", notes=notes, author="Test Engineer")
        out[name] = (pdf, _pages(pdf), res, truth)
    return out


def _check_numbering(pages: list[str]) -> None:
    m = len(pages)
    for n, text in enumerate(pages, 1):
        assert re.findall(r"Page (\d+) of (\d+)", text) == [(str(n), str(m))], f"page {n}"


@pytest.mark.parametrize("plant", PLANTS)
def test_report_content_and_numbering(reports, plant):
    pdf, pages, r, truth = reports[plant]
    flat = _flat("\n".join(pages))
    top = r.top_cause
    assert top.node == truth["root_causes"][0]
    # The summary states the top cause with its restoration as the report formats it.
    assert f"most likely root cause is {top.node}" in flat
    assert f"{F.fmt_pct(top.restoration)} of the" in flat
    lo, hi = top.restoration_ci
    assert f"90% interval {F.fmt_interval(lo, hi)}" in flat
    assert f"{top.node} ({top.station}): restores {F.fmt_pct(top.restoration)}" in flat
    assert r.input.sha256 in flat
    for i, title in enumerate(SECTIONS, 1):
        assert f"{i} {title}" in flat, title
    order = [flat.index(f"{i} {title}") for i, title in enumerate(SECTIONS, 1)]
    assert order == sorted(order)
    _check_numbering(pages)
    assert "rca-app analyze" in flat and "--seed 0" in flat   # rebuilt reproduce command
    assert pdf.stat().st_size < 1_000_000


def test_figures_are_vector_and_text_is_unicode(reports):
    pdf, pages, r, _ = reports["chemical_reactor"]
    reader = pypdf.PdfReader(str(pdf))
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        assert not [k for k, v in xobjects.items() if v.get_object().get("/Subtype") == "/Image"]
    flat = _flat("\n".join(pages))
    assert "°C" in flat and "m³/h" in flat     # units from the layout, via the embedded font
    assert "Öztürk" in flat and "ΔT ≥ 3 °C" in flat and "µ-leak" in flat
    # Figure text is real text too (axis titles of the evidence trends).
    assert "yield_pct (KPI)" in flat


def test_notes_land_in_their_8d_places(reports):
    _, pages, _, _ = reports["chemical_reactor"]
    flat = _flat("\n".join(pages))
    team = flat.index("Team (D1)")
    assert "A. Keller (process), M. Öztürk (maintenance)" in flat[team:team + 200]
    assert team < flat.index("1 Summary")
    comments = flat.index("Engineer's comments")
    assert flat.index("1 Summary") < comments < flat.index("2 Is / is not")
    d3 = flat.index("D3 Containment actions")
    assert flat.index("2 Is / is not") < d3 < flat.index("3 Causal graph")
    assert flat[d3:].startswith("D3 Containment actions Line slowed to 90 %")
    d5 = flat.index("D5 Corrective actions")
    assert flat.index("6 Actions") < d5 < flat.index("7 Model diagnostics")
    assert "Clean the preheater bundle" in flat[d5:d5 + 120]
    # Without notes the 8D fields say so instead of disappearing.
    other = _flat("\n".join(reports["bottling_line"][1]))
    assert "Team (D1) not recorded" in other and "D3 Containment actions Not recorded" in other


def test_no_data_dict_result_default_author_and_split_table(reports, tmp_path, monkeypatch):
    _, _, r, _ = reports["bottling_line"]
    d = copy.deepcopy(result_to_json(r))
    # 60 extra ranked sensors: the ranking table must split across pages with its header repeated.
    fake = copy.deepcopy(d["root_causes"][-1])
    for i in range(60):
        fake = dict(fake, node=f"extra_sensor_{i:02d}", restoration=-0.01)
        d["root_causes"].append(copy.deepcopy(fake))
    monkeypatch.setattr(T, "default_author", lambda: "os-user-42")
    pdf = build_report(d, None, tmp_path / "sub" / "nodata.pdf")
    pages = _pages(pdf)
    flat = _flat("\n".join(pages))
    assert "trend figures are left out" in flat
    assert "os-user-42" in flat
    assert re.search(r"Report ID RCA-20260314-[0-9A-F]{6}", flat)
    for i, title in enumerate(SECTIONS, 1):
        assert f"{i} {title}" in flat
    _check_numbering(pages)
    with_rows = [p for p in pages if "extra_sensor_" in p]
    assert len(with_rows) >= 2
    assert all("Ranked first" in _flat(p) for p in with_rows)


def test_exports_read_the_typed_result_whatever_the_caller_holds(reports, tmp_path):
    """The typed record, its JSON data and an object with ``to_dict()`` give the same files; a
    categorical cause's undefined evidence is an empty cell, not text."""
    _, _, r, _ = reports["bottling_line"]
    data = result_to_json(r)

    class Legacy:   # what callers held before the typed result: an object with to_dict()
        def to_dict(self):
            return copy.deepcopy(data)

    outs = {}
    for name, held in (("typed", r), ("json", copy.deepcopy(data)), ("legacy", Legacy())):
        outs[name] = {p.name: p.read_bytes() for p in export_tables(held, tmp_path / name)}
    assert outs["typed"] == outs["json"] == outs["legacy"]
    with open(tmp_path / "typed" / EXPORT_FILES["ranking"], encoding="utf-8-sig", newline="") as f:
        ranking = list(csv.DictReader(f))
    assert [row["node"] for row in ranking] == [c.node for c in r.root_causes]
    categorical = [row for row, c in zip(ranking, r.root_causes, strict=True) if c.categorical]
    assert categorical and all(row["reference_mean"] == "" for row in categorical)
    assert json.loads(outs["typed"][EXPORT_FILES["result"]]) == data


def test_failure_mid_build_leaves_no_file(reports, tmp_path, monkeypatch):
    _, _, r, _ = reports["bottling_line"]
    out = tmp_path / "report.pdf"
    out.write_bytes(b"previous report")
    real = ReportBuilder.decorate

    def failing(self, canv, doc):
        if self.total_pages is not None and doc.page == 3:   # second pass, writing the file
            raise RuntimeError("disk full (simulated)")
        return real(self, canv, doc)

    monkeypatch.setattr(ReportBuilder, "decorate", failing)
    with pytest.raises(RuntimeError, match="simulated"):
        build_report(r, None, out)
    assert out.read_bytes() == b"previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]
    fresh = tmp_path / "fresh.pdf"
    with pytest.raises(RuntimeError):
        build_report(r, None, fresh)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]


def test_notes_files(tmp_path):
    t = tmp_path / "notes.txt"
    t.write_text("First thoughts.\nTeam: A, B\nContainment:\n  hold lots\nD5: new torque limit\n", encoding="utf-8")
    n = load_notes(t)
    assert n == {"comments": "First thoughts.", "team": "A, B", "containment": "hold lots",
                 "corrective_action": "new torque limit"}
    j = tmp_path / "notes.json"
    j.write_text(json.dumps({"team": ["A", "B"], "D3": "hold", "extra": "x"}), encoding="utf-8")
    assert load_notes(j) == {"team": ["A", "B"], "containment": "hold", "comments": "extra: x"}


def test_cli_report_exports_and_notes(tmp_path, capsys):
    p = sample_plant("bottling_line")
    notes = tmp_path / "notes.txt"
    notes.write_text("Team: Jana Nováková, QA\nContainment: 100 % leak test\n", encoding="utf-8")
    pdf, exp = tmp_path / "out" / "incident.pdf", tmp_path / "exports"
    rc = main(["analyze", str(p / "data.csv"), "--layout", str(p / "layout.toml"), "--anomaly",
               "2026-03-14T21:20:00/2026-03-16T15:00:00", *FAST, "--report", str(pdf), "--export-dir", str(exp),
               "--author", "Jana Nováková", "--notes", str(notes)])
    assert rc == 0, capsys.readouterr().err
    assert pdf.exists() and {f.name for f in exp.iterdir()} == set(EXPORT_FILES.values())
    result = json.loads((exp / "result.json").read_text(encoding="utf-8"))
    with open(exp / "ranking.csv", encoding="utf-8-sig", newline="") as f:
        ranking = list(csv.DictReader(f))
    assert ranking[0]["node"] == result["root_causes"][0]["node"] == "bottle_supplier"
    with open(exp / "graph_edges.csv", encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(result["graph"]["edges"])
    pages = _pages(pdf)
    flat = _flat("\n".join(pages))
    assert "Jana Nováková" in flat and "100 % leak test" in flat and result["input"]["sha256"] in flat
    assert "The command that produced this result" in flat and "--rank-bootstrap 4" in flat
    _check_numbering(pages)


def test_cli_bad_notes_fail_before_the_analysis(tmp_path, capsys):
    p = sample_plant("bottling_line")
    bad = tmp_path / "notes.json"
    bad.write_text("{not json", encoding="utf-8")
    rc = main(["analyze", str(p / "data.csv"), "--layout", str(p / "layout.toml"), "--anomaly", "auto",
               "--report", str(tmp_path / "r.pdf"), "--notes", str(bad), "--quiet"])
    assert rc == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()


def test_demo_report(tmp_path, monkeypatch):
    import rca_app.core.analysis as analysis

    real = analysis.AnalysisSettings
    monkeypatch.setattr(analysis, "AnalysisSettings",
                        lambda **kw: real(**{"graph_bootstrap": 3, "rank_bootstrap": 4, **kw}))
    pdf = tmp_path / "demo.pdf"
    rc = main(["demo", "--plant", "bottling_line", "--out", str(tmp_path / "demo"), "--quiet", "--report", str(pdf)])
    assert rc == 0
    pages = _pages(pdf)
    flat = _flat("\n".join(pages))
    assert "most likely root cause is bottle_supplier" in flat
    _check_numbering(pages)
    assert Path(tmp_path / "demo" / "bottling_line_result.json").exists()


def test_non_ascii_sensor_names_and_long_notes(reports, tmp_path):
    _, _, r, _ = reports["chemical_reactor"]
    text = json.dumps(result_to_json(r), ensure_ascii=False)
    d = json.loads(text.replace("preheater_outlet_temp_C", "Vorwärmer_Austritt_°C")
                       .replace("Preheater", "Vorwärmer µ-Zone ≤ 3"))
    # A note longer than a page must split, not fail.
    notes = {"comments": "\n".join(f"Observation {i}: nothing unusual on shift {i % 3 + 1}." for i in range(150))}
    pages = _pages(build_report(d, None, tmp_path / "umlaut.pdf", author="Zoë", notes=notes))
    flat = _flat("\n".join(pages))
    assert "Observation 149" in flat
    assert "most likely root cause is Vorwärmer_Austritt_°C at the Vorwärmer µ-Zone ≤ 3 station" in flat
    _check_numbering(pages)


def test_importing_the_report_package_stays_light():
    import subprocess
    import sys

    code = ("import sys, rca_app.report, rca_app.cli; rca_app.cli.build_parser();"
            "heavy=[m for m in ('matplotlib', 'reportlab', 'PySide6') if m in sys.modules];"
            "print(heavy); sys.exit(1 if heavy else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_megabyte_labels_are_clipped_for_display_and_kept_in_the_result(tmp_path):
    """A categorical level a megabyte long (a free-text column declared categorical) must not
    stall the report: figures and text show it clipped, the result keeps it whole."""
    import time

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from rca_app.report.mpl_canvas import FigureFlowable
    from rca_app.report.page import MAX_WORD, clip_long_words, markup

    huge = "X" * 1_000_000
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label=huge)
    ax.legend()
    t = time.perf_counter()
    FigureFlowable(fig, {})
    assert time.perf_counter() - t < 30
    assert max(len(x.get_text()) for x in fig.findobj(matplotlib.text.Text)) <= MAX_WORD
    assert len(markup(f"supplier {huge} changed")) < 200
    assert clip_long_words("short words stay") == "short words stay"

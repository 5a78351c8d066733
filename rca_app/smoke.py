"""``rca_app --smoke-test OUTDIR``: exercise every lazily imported path of an installed or frozen
app, and say in OUTDIR/smoke.json what worked. Exit 0 only if everything did.

Steps: load a bundled sample plant; run the whole analysis (our discovery and the lingam
package's, scikit-learn mechanisms, ranking with intervals, actions); write the PDF report;
open the main window offscreen and close it.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path


def _step(record: dict, name: str, fn):
    t = time.perf_counter()
    try:
        out = fn()
        record["steps"].append({"step": name, "ok": True, "seconds": round(time.perf_counter() - t, 2)})
        return out
    except BaseException as e:  # noqa: BLE001 - the smoke test reports every failure
        record["steps"].append({"step": name, "ok": False, "seconds": round(time.perf_counter() - t, 2),
                                "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()})
        return None


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: rca_app --smoke-test OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")
    import rca_app

    record: dict = {"version": rca_app.__version__, "frozen": bool(getattr(sys, "frozen", False)),
                    "executable": sys.executable, "steps": []}
    t0 = time.perf_counter()

    def load():
        from rca_app.app.sample_plants import load_sample_plant

        return load_sample_plant()

    loaded = _step(record, "load sample plant", load)
    outcome = None
    if loaded:
        plant, data = loaded
        an = plant.anomaly

        def analyse():
            from rca_app.core.analysis import AnalysisSettings, run_analysis

            return run_analysis(data, tuple(an), None,
                                AnalysisSettings(graph_bootstrap=3, rank_bootstrap=5))

        def analyse_lingam():
            from rca_app.core.analysis import AnalysisSettings, run_analysis

            return run_analysis(data, tuple(an), None,
                                AnalysisSettings(graph_bootstrap=0, rank_bootstrap=2, discovery_engine="lingam"))

        outcome = _step(record, "analysis", analyse)
        ref = _step(record, "analysis with lingam.DirectLiNGAM", analyse_lingam)
        if outcome is not None:
            r = outcome.result
            record["top_cause"] = r.root_causes[0].node if r.root_causes else None
            record["true_root_causes"] = plant.root_causes
            record["top_cause_correct"] = record["top_cause"] in plant.root_causes
            record["n_actions"] = len(r.actions)
        if ref is not None:
            record["lingam_top_cause"] = ref.result.root_causes[0].node if ref.result.root_causes else None

        if outcome is not None:
            def report():
                from rca_app.report import build_report

                path = build_report(outcome.result, data, out / "smoke_report.pdf", author="smoke test")
                return str(path)

            record["report"] = _step(record, "PDF report", report)

    def window():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(["rca_app"])
        from rca_app.gui.main_window import MainWindow
        from rca_app.resources import DEFAULT_SAMPLE_PLANT

        w = MainWindow(recovery_dir=out / "recovery")
        w.show()
        w.open_sample(DEFAULT_SAMPLE_PLANT)
        app.processEvents()
        title = w.windowTitle()
        w.close()
        w.deleteLater()
        app.processEvents()
        return title

    record["window_title"] = _step(record, "main window offscreen", window)
    record["seconds"] = round(time.perf_counter() - t0, 2)
    record["ok"] = all(s["ok"] for s in record["steps"]) and bool(record.get("top_cause_correct"))
    (out / "smoke.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in record.items() if k != "steps"}, indent=2))
    for s in record["steps"]:
        print(f"{'ok ' if s['ok'] else 'FAIL'} {s['step']} ({s['seconds']} s){'' if s['ok'] else ': ' + s['error']}")
    return 0 if record["ok"] else 1


def run_and_exit(argv: list[str]) -> None:
    """Run the smoke test and leave the process at once: everything is written and flushed, and
    tearing down Qt objects during interpreter shutdown (not part of what is tested) can crash
    on some platforms and would turn a passing smoke test into a failure."""
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

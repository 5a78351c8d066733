"""The core never imports Qt, and importing the package stays light (no lingam at import)."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6", "superqt", "qtpy")


def _imports(path: Path, module_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in (tree.body if module_level_only else ast.walk(tree)):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def _gui_imports(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return "rca_app.gui" in text


def test_core_and_report_never_import_qt():
    offenders = []
    for sub in ("core", "report"):
        for f in (ROOT / "rca_app" / sub).rglob("*.py"):
            bad = _imports(f) & set(QT)
            if bad or _gui_imports(f):
                offenders.append(f"{f.relative_to(ROOT)}: {sorted(bad) or 'rca_app.gui'}")
    # Entry points (cli, smoke test) may open the GUI, but only lazily, inside a function.
    for f in (ROOT / "rca_app").glob("*.py"):
        if _imports(f, module_level_only=True) & set(QT):
            offenders.append(str(f.relative_to(ROOT)))
    assert not offenders, "Qt imported outside rca_app/gui: " + ", ".join(offenders)


def test_core_runs_without_qt_importable():
    # Importing the whole core and running the CLI parser must not load Qt or lingam.
    code = (
        "import sys, rca_app.cli, rca_app.core.analysis, rca_app.core.data, rca_app.core.layout;"
        "rca_app.cli.build_parser();"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','pyqtgraph','lingam')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr

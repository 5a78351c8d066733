"""The application layer sits between the engine and the front ends: it never imports Qt, the
report's drawing libraries or a front end, and the engine never imports it."""
import ast
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT

FORBIDDEN_IN_APP = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6", "qtpy", "reportlab", "matplotlib",
                    "rca_app.gui", "rca_app.report", "rca_app.cli")


def _imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def _offenders(folder: str, forbidden) -> list[str]:
    bad = []
    for f in sorted((ROOT / "rca_app" / folder).rglob("*.py")):
        for m in _imported_modules(f):
            if any(m == p or m.startswith(p + ".") for p in forbidden):
                bad.append(f"{f.relative_to(ROOT)} imports {m}")
    return bad


def test_app_imports_neither_qt_nor_drawing_nor_front_ends():
    assert _offenders("app", FORBIDDEN_IN_APP) == []


def test_core_never_imports_the_app_layer():
    assert _offenders("core", ("rca_app.app",)) == []


def test_importing_the_app_layer_stays_light():
    # The window imports these at start-up; scipy, scikit-learn and lingam load only for analysis.
    mods = [f"rca_app.app.{p.stem}" for p in sorted((ROOT / "rca_app" / "app").glob("*.py"))]
    code = (f"import sys; import {', '.join(mods)};"
            "heavy = [m for m in ('scipy', 'sklearn', 'lingam', 'PySide6', 'matplotlib') if m in sys.modules];"
            "print(heavy); sys.exit(1 if heavy else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr

"""Start the desktop application: ``main(argv)`` opens the window on the bundled sample plant
with its incident preloaded (or on the files given on the command line)."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def _display_problem() -> str | None:
    """Why no window can be shown here (None if one can)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal", "vnc")):
        return None
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display available (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


def _qt_start_problem() -> str | None:
    """Whether Qt can open its platform plugin here, tried in a child process: a missing system
    library (libxcb-cursor0 and friends) makes Qt abort the whole process, which no try/except
    can catch. Skipped when frozen (the executable is the app itself) or off Linux."""
    import subprocess

    if getattr(sys, "frozen", False) or not sys.platform.startswith("linux"):
        return None
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return None
    code = "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"Qt could not be started ({e})"
    if r.returncode == 0:
        return None
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    hint = next((ln for ln in lines if "needed" in ln or "cannot open" in ln or "Could not" in ln), "")
    return "Qt cannot open a window on this display" + (f": {hint.strip()}" if hint else "")


def main(argv: list[str] | None = None) -> int:
    """Open the main window. ``argv``: optional files to open (data, layout, investigation);
    ``--no-sample`` starts empty. Returns the process exit code."""
    os.environ["MPLBACKEND"] = "Agg"   # the report draws with matplotlib; never a GUI backend
    argv = list(sys.argv[1:] if argv is None else argv)
    why = _display_problem()
    if why:
        print(f"rca_app: cannot open the window: {why}. Use the command line instead (rca-app --help).",
              file=sys.stderr)
        return 2
    why = _qt_start_problem()
    if why:
        print(f"rca_app: {why}. Install the missing system libraries or use the command line "
              "(rca-app --help).", file=sys.stderr)
        return 2
    try:
        from PySide6.QtCore import QCoreApplication, Qt, QTimer
        from PySide6.QtGui import QGuiApplication
        from PySide6.QtWidgets import QApplication
    except ImportError as e:
        print(f"rca_app: the GUI libraries are not installed ({e}); pip install 'rca-app[gui]'", file=sys.stderr)
        return 2

    # Fractional scaling (125%, 150%) renders sharp instead of rounded to whole factors.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    QCoreApplication.setOrganizationName("rca_app")
    QCoreApplication.setApplicationName("rca_app")
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "rca_app"])
    if app is None:
        print(f"rca_app: cannot open the window: {why or 'Qt could not start'}", file=sys.stderr)
        return 2

    from rca_app.gui import dialogs
    from rca_app.gui._compat import protect_bool_refcounts
    from rca_app.gui.main_window import MainWindow

    protect_bool_refcounts()

    logging.basicConfig(level=logging.INFO, filename=str(dialogs.log_file().with_name("rca_app_gui.log")),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    window = MainWindow()
    dialogs.install_excepthook(lambda: window)
    window.show()

    files = [a for a in argv if not a.startswith("-")]
    sample = "--no-sample" not in argv

    def start() -> None:
        # After the window is on screen: recovery first (it may replace what we would open).
        if window.check_recovery():
            return
        if files:
            # A layout first (applied at once), then one data or investigation file.
            layouts = [f for f in files if f.lower().endswith(".toml")]
            others = [f for f in files if not f.lower().endswith(".toml")]
            for f in layouts[:1]:
                window.open_path(str(Path(f).resolve()))
            for f in others[:1]:
                window.open_path(str(Path(f).resolve()))
        elif sample:
            from rca_app.resources import DEFAULT_SAMPLE_PLANT

            try:
                window.open_sample(DEFAULT_SAMPLE_PLANT)
            except FileNotFoundError as e:
                window.statusBar().showMessage(str(e))

    QTimer.singleShot(0, start)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())

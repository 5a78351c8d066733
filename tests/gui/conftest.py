"""GUI tests: offscreen Qt, dialogs answered by a hook, Qt warnings fail the test."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTEST_QT_API", "pyside6")
os.environ.setdefault("MPLBACKEND", "Agg")

import json

import pytest

from rca_app.resources import sample_plant

# Offscreen-platform notices that say nothing about the app.
BENIGN = (r"This plugin does not support propagateSizeHints\(\)",
          r"This plugin does not support raise\(\)",
          r"This plugin does not support grabbing the keyboard")

FAST = {"graph_bootstrap": 3, "rank_bootstrap": 4}


def pytest_collection_modifyitems(config, items):
    # Any Qt warning in these tests is a failure, not noise to scroll past.
    for item in items:
        if "tests/gui" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(*BENIGN))


class DialogLog:
    """Answers the app's dialogs (see rca_app.gui.dialogs.set_test_hook) and records them."""

    def __init__(self):
        self.shown = []
        self.answers = []      # consumed in order by ask/open/save; then defaults
        self.default_ask = "discard"

    def __call__(self, shown):
        self.shown.append(shown)
        if shown.kind in ("ask", "open", "save"):
            if self.answers:
                return self.answers.pop(0)
            return self.default_ask if shown.kind == "ask" else None
        return None

    def kinds(self):
        return [s.kind for s in self.shown]

    def last(self, kind=None):
        items = [s for s in self.shown if kind is None or s.kind == kind]
        return items[-1] if items else None


@pytest.fixture(autouse=True, scope="module")
def _gc_back_to_normal():
    # The window moves garbage collection to a GUI-thread timer; tests after these need it back.
    yield
    from rca_app.gui._compat import restore_automatic_garbage_collection

    restore_automatic_garbage_collection()


@pytest.fixture
def dialogs_log():
    from rca_app.gui import dialogs

    log = DialogLog()
    dialogs.set_test_hook(log)
    yield log
    dialogs.set_test_hook(None)


@pytest.fixture
def make_window(qtbot, tmp_path, dialogs_log):
    from PySide6.QtCore import QSettings

    from rca_app.gui.main_window import MainWindow

    made = []

    def make(**kw):
        settings = QSettings(str(tmp_path / f"settings{len(made)}.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings=settings, recovery_dir=kw.pop("recovery_dir", tmp_path / "recovery"),
                       autosave_ms=kw.pop("autosave_ms", 10 ** 8))
        qtbot.addWidget(w)
        w.resize(1366, 768)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        if w.job is not None:
            w.job.cancel()
            w.job.wait()
        w.session.set_dirty(False)


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def truth():
    return json.loads((sample_plant("injection_moulding") / "truth.json").read_text())


@pytest.fixture
def load_sample(qtbot):
    """Open a sample plant in a window and wait for it (fast analysis settings)."""

    def load(w, name="injection_moulding", fast=True):
        with qtbot.waitSignal(w.loadFinished, timeout=30000) as blocker:
            assert w.open_sample(name)
        assert blocker.args == ["succeeded"]
        if fast:
            w.session.settings.update(FAST)
        return w

    return load


@pytest.fixture
def run_analysis(qtbot):
    """Start the analysis (F5) and wait for the worker to finish; returns its outcome."""

    def run(w, rediscover=False, timeout=120000):
        with qtbot.waitSignal(w.analysisFinished, timeout=timeout) as blocker:
            assert w.run_analysis(rediscover)
        return blocker.args[0]

    return run

"""PySide6's __feature__ import hook is dropped (a joblib feeder thread hung in it: see
rca_app/gui/import_hook.py), and the window works without it."""
from __future__ import annotations

import builtins


def test_the_pyside_import_hook_is_gone_once_the_window_package_is_imported():
    import importlib

    import rca_app.gui  # noqa: F401

    assert builtins.__import__ is importlib.__import__
    # Qt classes still import and work without the hook.
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        said = Signal(str)

    got = []
    e = Emitter()
    e.said.connect(got.append)
    e.said.emit("ok")
    assert got == ["ok"]

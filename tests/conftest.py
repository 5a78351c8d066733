"""Shared by every test: pytest-qt imports PySide6 before any test, and with it PySide6's import
hook, which hung a joblib feeder thread once (see rca_app/gui/import_hook.py); the window drops it
too."""
from rca_app.gui.import_hook import drop_pyside_import_hook

drop_pyside_import_hook()

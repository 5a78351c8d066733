"""The desktop window (PySide6): a thin layer over rca_app.core; start it with app.main()."""
from rca_app.gui.import_hook import drop_pyside_import_hook

drop_pyside_import_hook()

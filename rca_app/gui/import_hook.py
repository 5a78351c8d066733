"""PySide6 replaces ``builtins.__import__`` with its ``__feature__`` hook, which runs Python code
on every import in every thread. joblib's worker feeder thread imports while it pickles the
refits' arrays, and once hung there for good (py-spy: the feeder inside the hook, the workers gone
idle, the analysis waiting for ever). rca_app uses no ``from __feature__ import ...``
(snake_case, true_property), so the hook does nothing for us: the plain import goes back.
"""
from __future__ import annotations

import builtins
import importlib


def drop_pyside_import_hook() -> bool:
    """Put Python's own import back if PySide6's ``__feature__`` hook replaced it.

    Returns
    -------
    bool
        True when the hook was found and removed.
    """
    import PySide6.QtCore  # noqa: F401  (installs the hook if it is not yet installed)

    if getattr(builtins.__import__, "__name__", "") == "__feature_import__":
        builtins.__import__ = importlib.__import__
        return True
    return False

"""Workaround for a PySide6 6.12 refcount bug on ``None``, checked at run time before it is applied.

The same family as :func:`rca_app.gui._compat.protect_bool_refcounts`: in PySide6 6.12 a call of
a C++ method returning ``void`` (``QLabel.setText``, ``QFormLayout.setRowVisible``, most of what
pyqtgraph calls while drawing) returns ``None`` without a new reference, so every such call takes
one reference off ``None``. On Python < 3.12, where ``None`` is not immortal, the process aborts
("none_dealloc: deallocating None") once the count reaches zero: after a few hundred thousand
calls, i.e. a long session of redrawing charts (the test suite reached it when the "Verify the
fix" step added its charts). The fix makes ``None`` effectively immortal, as Python 3.12 does.
"""
from __future__ import annotations

import sys

_done = False


def _void_call_drops_a_reference_to_none() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 32


def protect_none_refcount() -> bool:
    """Make ``None`` effectively immortal when the bug above is present. Returns whether the
    workaround was applied."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    _done = True
    if not _void_call_drops_a_reference_to_none():
        return False
    import ctypes

    # ob_refcnt is the first field of every CPython object.
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True

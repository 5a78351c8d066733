"""Workarounds for bugs in the Qt bindings, each checked at run time before it is applied."""
from __future__ import annotations

import sys

_done = False


def _emit_drops_a_reference_to_true() -> bool:
    """PySide6 6.12's ``SignalInstance.emit()`` returns ``True`` without a new reference, so
    every emit from Python (ours and pyqtgraph's) takes one reference off ``True``. On
    Python < 3.12, where ``True`` is not immortal, the process aborts ("bool_dealloc") once the
    count reaches zero: after some thousand signals, i.e. minutes of dragging a chart."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def protect_bool_refcounts() -> bool:
    """Make ``True``/``False`` effectively immortal (as Python 3.12 does) when the bug above is
    present. Returns whether the workaround was applied."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    _done = True
    if not _emit_drops_a_reference_to_true():
        return False
    import ctypes

    for obj in (True, False):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    return True


_none_done = False


def _void_call_drops_a_reference_to_none() -> bool:
    """PySide6 6.12 returns ``None`` from a C++ method returning ``void`` (``QLabel.setText``,
    ``QFormLayout.setRowVisible``, most of what pyqtgraph calls while drawing) without a new
    reference, so every such call takes one reference off ``None``. On Python < 3.12, where
    ``None`` is not immortal, the process aborts ("none_dealloc: deallocating None") after a few
    hundred thousand calls, i.e. a long session of redrawing charts (the test suite reached it
    when the "Verify the fix" step added its charts)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 32


def protect_none_refcount() -> bool:
    """Make ``None`` effectively immortal (as Python 3.12 does) when the bug above is present.
    Returns whether the workaround was applied."""
    global _none_done
    if _none_done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    _none_done = True
    if not _void_call_drops_a_reference_to_none():
        return False
    import ctypes

    # ob_refcnt is the first field of every CPython object.
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True


_collector = None


def collect_garbage_in_gui_thread() -> None:
    """Run Python's cyclic garbage collector only in the GUI thread.

    Left automatic, the collector runs in whichever thread happens to allocate, e.g. an analysis
    worker; if it then frees a Qt object that belongs to the GUI thread the process crashes (seen
    as a segfault "Garbage-collecting" in a worker). pyqtgraph's GarbageCollector disables the
    automatic collector and collects on a GUI-thread timer instead."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=1.0)


def restore_automatic_garbage_collection() -> None:
    """Undo collect_garbage_in_gui_thread (for test sessions that go on without a GUI)."""
    global _collector
    import gc

    if _collector is not None:
        _collector.timer.stop()
        _collector = None
        gc.enable()

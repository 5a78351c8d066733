"""Kept so older imports work: the None-refcount workaround lives in :mod:`rca_app.gui._compat`
with the other binding workarounds, and the main window applies it once when it is built."""
from rca_app.gui._compat import protect_none_refcount

__all__ = ["protect_none_refcount"]

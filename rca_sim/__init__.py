"""Ground-truth plant simulator for the sample plants, the benchmarks and the tests.

Not part of the product: the ``rca_app`` wheel and the desktop bundle do not contain it. It is
importable from a source checkout (the repository root on ``sys.path``), as ``make test``,
``make bench`` and ``sample_plants/generate.py`` use it.
"""
from rca_sim.plants import *  # noqa: F403

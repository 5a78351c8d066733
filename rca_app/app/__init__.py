"""The application layer, shared by the desktop window and the command line, without Qt.

Investigation files and their migrations, crash recovery, session state and its rules, the
sample plants, and numbers formatted for people. It builds on ``rca_app.core`` (the engine) and
is used by ``rca_app.report``, ``rca_app.cli`` and ``rca_app.gui``.
"""

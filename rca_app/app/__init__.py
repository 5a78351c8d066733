"""The application layer, shared by the desktop window and the command line, without Qt.

It builds on ``rca_app.core`` (the engine) and is used by ``rca_app.report``, ``rca_app.cli``
and ``rca_app.gui``; it never imports Qt, reportlab or matplotlib (tests/app/test_layering.py).

Files and their history
    investigation_file  the ``.rcainv`` format, save and load, migrations registered per version
    data_file           which data file an investigation used, finding it again, reading it
    recovery            the autosaved investigation offered after a crash
    sample_plants       the bundled sample plants with their incidents

The investigation being worked on
    session             SessionState: the shared state and its rules (dirty, stale, what
                        survives a new file or layout, presets, refit or rediscover)

What each step shows and edits
    data_view           Data: where a problem points in the table
    windows_view        Incident: windows as rows, chart coordinates and labels; auto-detect
    layout_edit         Layout: edits that return a new layout; saving it
    graph_edit          Causal graph: edits validated against the tiers
    graph_view          Causal graph: nodes, edges by strength, mechanism curves, tooltips
    graph_geometry      positions of the graph's nodes by station (the report draws it too)
    causes_view         Root causes: the Pareto chart
    whatif_view         What-if: setpoints, slider ranges, predicted KPI histograms
    formatting          numbers for people
"""

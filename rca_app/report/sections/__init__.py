"""The report's sections, one module per group; each section is a function of the
:class:`~rca_app.report.builder.ReportBuilder` that returns its flowables."""

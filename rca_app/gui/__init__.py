"""The desktop window (PySide6): a thin layer over rca_app.core; start it with app.main()."""

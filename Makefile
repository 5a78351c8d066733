# Two commands from a fresh clone: `make run` and `make test`. Both create .venv when missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# lingam pins scipy<=1.13.1, which has wheels for Python 3.11 and 3.12 only.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if (3,11) <= sys.version_info[:2] <= (3,12) else 1)' 2>/dev/null; then echo $$p; break; fi; done)
PIP := $(BIN)/python -m pip
CONSTRAINTS := constraints.txt

.PHONY: run test lint bench venv clean check-python package package-test wheelhouse

check-python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11 or 3.12 is needed (lingam pins scipy<=1.13.1, which has no wheels for 3.13)." >&2; exit 1; fi

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[gui,report]'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@ $(VENV)/.installed-app

$(VENV)/.installed-bench: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed-test
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[bench]'
	touch $@

$(VENV)/.installed-package: pyproject.toml $(CONSTRAINTS) $(VENV)/.installed-test
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[package]'
	touch $@

venv: $(VENV)/.installed-app

run: $(VENV)/.installed-app
	$(BIN)/rca-app

# Layer contracts, lint and the core's types first (seconds), then the tests (minutes). A failed
# check does not hide the test results: everything runs, and any failure fails `make test`.
test: $(VENV)/.installed-test
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	QT_QPA_PLATFORM=offscreen MPLBACKEND=Agg $(BIN)/python -m pytest -q || status=1; \
	exit $$status

# Contracts in pyproject.toml: [tool.importlinter] layers, [tool.ruff], [tool.mypy] (rca_app/core).
lint: $(VENV)/.installed-test
	@status=0; \
	$(BIN)/lint-imports --no-cache --no-logo || status=1; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

bench: $(VENV)/.installed-bench
	MPLBACKEND=Agg $(BIN)/python -m bench.run_all

# One-folder PyInstaller bundle in dist/rca_app/ (executables rca_app and rca_app_cli).
package: $(VENV)/.installed-package
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/rca_app.spec

# Builds the bundle and a wheelhouse, then smoke-tests both (several minutes; not in `make test`).
package-test: $(VENV)/.installed-package
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m package tests/packaging/test_packaging.py

# Wheels for an offline workstation: make wheelhouse PLATFORM=win_amd64 PYVERSION=3.11
PLATFORM ?=
PYVERSION ?=
wheelhouse: $(VENV)/.installed-app
	$(BIN)/python packaging/build_wheelhouse.py $(if $(PLATFORM),--platform $(PLATFORM)) $(if $(PYVERSION),--python-version $(PYVERSION))

clean:
	rm -rf $(VENV) build dist *.egg-info .ruff_cache .mypy_cache .import_linter_cache

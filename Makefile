# Two commands from a fresh clone: `make run` and `make test`. Both create .venv when missing.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# lingam pins scipy<=1.13.1, which has wheels for Python 3.11 and 3.12 only.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if (3,11) <= sys.version_info[:2] <= (3,12) else 1)' 2>/dev/null; then echo $$p; break; fi; done)
PIP := $(BIN)/python -m pip
CONSTRAINTS := constraints.txt

.PHONY: run test bench venv clean check-python

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

venv: $(VENV)/.installed-app

run: $(VENV)/.installed-app
	$(BIN)/rca-app

test: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen MPLBACKEND=Agg $(BIN)/python -m pytest -q

bench: $(VENV)/.installed-bench
	MPLBACKEND=Agg $(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) build dist *.egg-info

# `make test` and `make demo` work on a fresh Debian machine: they build .venv, install the
# project into it (only again when setup.cfg changes) and make sure MariaDB is running.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test lint demo demo-reset venv db

test: venv db lint
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check protocol agent proxy tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

demo: venv db
	scripts/demo.sh

# Drops the demo's database and its .demo/ folder: the next `make demo` seeds a fresh practice
# (and prints a fresh login).
demo-reset: venv db
	scripts/demo.sh reset

venv: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test,bench,dev]'
	touch $@

db:
	scripts/ensure-mariadb.sh

# The two commands of the README's quick start. Each creates .venv itself when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

## make demo: install, load the demo data into SQLite once, and serve on 127.0.0.1:$(PORT)
demo: $(VENV)/.installed
	$(BIN)/itsm demo --port $(PORT)

## make test: install the test dependencies and run the whole suite
test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy workflows sla_rules

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis

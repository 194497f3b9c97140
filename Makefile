# The two commands of the README's quick start. Each creates .venv itself when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: demo test lint clean chromium fonts catalog bench-smoke

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

## make test: install the test dependencies (and Debian's chromium for the browser tests), check
## the code (lint), run all the tests
test: lint chromium fonts
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The browser tests drive Debian's chromium through Playwright (no browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium (and CJK fonts) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends chromium fonts-noto-cjk >/dev/null; \
	  else \
	    echo "/usr/bin/chromium is missing and this is not root: run" \
	      "'sudo apt-get install --no-install-recommends chromium fonts-noto-cjk';" \
	      "the browser tests are skipped until then"; \
	  fi; \
	fi

# Reports print Chinese with Debian's Noto CJK fonts (WeasyPrint finds them through fontconfig).
NOTO_CJK := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
fonts:
	@if [ ! -f $(NOTO_CJK) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's fonts-noto-cjk for the reports"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends fonts-noto-cjk >/dev/null; \
	  else \
	    echo "$(NOTO_CJK) is missing and this is not root: run" \
	      "'sudo apt-get install --no-install-recommends fonts-noto-cjk';" \
	      "reports' PDF tests fail until then"; \
	  fi; \
	fi

## make catalog: extract the pages' messages, merge them into the catalogues, compile the .mo
catalog: $(VENV)/.test-installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -o itsm/translations/messages.pot .
	$(BIN)/pybabel -q update -i itsm/translations/messages.pot -d itsm/translations
	$(BIN)/pybabel compile -d itsm/translations --statistics

## make lint: ruff's rules and formatting, mypy --strict on the pure core and mypy on itsm
lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict workflows sla_rules notifications
	$(BIN)/mypy itsm

## make bench-smoke: every benchmark with tiny counts, so that they keep working (PostgreSQL)
bench-smoke: $(VENV)/.test-installed
	$(BIN)/python benchmarks/calendar_add.py 2000
	$(BIN)/python benchmarks/inspections.py --sites 5 --repeat 1
	$(BIN)/python benchmarks/sla_sweep.py --clocks 200 --due 20 --repeat 1 --orm-repeat 1
	$(BIN)/python benchmarks/notify.py --messages 20 --workers 1 --repeat 1
	$(BIN)/python benchmarks/ticket_create.py --seconds 1 --warmup 0.5 --workers 1 \
	  --clients 2 --sla C1 --smoke

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis

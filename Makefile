# Two commands for a newcomer: `make run` and `make test`. Both make their own virtualenv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Test workers (pytest-xdist): one per core by default; `make test WORKERS=1` runs serially.
WORKERS ?= auto

.PHONY: run test lint format assets bench clean help

help:
	@echo "make run     set up and serve the app with the demo review on http://$(HOST):$(PORT)/"
	@echo "make test    run ruff and the whole test suite in parallel (browser tests need Debian's chromium)"
	@echo "make assets  rebuild the GOV.UK Frontend CSS/JS in audit/static (needs npm)"
	@echo "make bench   print the performance figures recorded in docs/benchmarks.md"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/case-audit serve --demo --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m ruff check audit tests bench
	$(BIN)/python -m pytest -W error -n $(WORKERS) --dist loadfile

lint: $(VENV)/.installed
	$(BIN)/python -m ruff check audit tests bench

format: $(VENV)/.installed
	$(BIN)/python -m ruff format audit tests bench

assets:
	bash audit/static/src/build.sh

bench: $(VENV)/.installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache

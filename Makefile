# omsorgskapasitet — `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The package's bytecode, as a regular install compiles it: an editable install is not compiled, and with
# PYTHONDONTWRITEBYTECODE set no process caches it, so every report worker would compile ~140 modules (0.1 s).
BYTECODE := $(PY) -m compileall -q src/helpers

.DEFAULT_GOAL := help
.PHONY: help setup build report atlas test test-fast lint lab fetch bench clean

help: ## List the targets with one line each
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(BYTECODE)
	touch $(STAMP)

setup: $(STAMP) ## Create .venv with the locked dependencies (runs on first use of any target)

build: $(STAMP) ## Build data/processed/indicators.parquet from the raw snapshot
	$(PY) -m helpers build

report: $(STAMP) ## Build the data and render the default reports and the atlas to reports/ (HTML, offline)
	$(BYTECODE)
	$(PY) -m helpers build
	$(PY) -m helpers report --all

atlas: $(STAMP) ## Write reports/utforsk.html: a map of every kommune linked to its series (offline)
	$(PY) -m helpers atlas

test: $(STAMP) ## Run the whole test suite (offline): notebooks, browser, processes and size checks included
	$(PY) -m pytest -q -n 2

test-fast: $(STAMP) ## Unit and property tests only (no kernels, browser or subprocesses): under a minute
	$(PY) -m pytest -q -n 2 -m "not notebook and not browser and not slow"

lint: $(STAMP) ## ruff check
	$(VENV)/bin/ruff check src tests benchmarks notebooks/py

lab: $(STAMP) ## Start JupyterLab with the project's kernel
	$(PY) -m helpers lab

fetch: $(STAMP) ## Refresh data from SSB's live APIs into data/raw/ssb/ (needs network)
	$(PY) -m helpers fetch

bench: $(STAMP) ## Run the benchmarks and print their figures
	$(PY) benchmarks/clean.py
	$(PY) benchmarks/reports.py
	$(PY) benchmarks/outliers.py
	$(PY) benchmarks/atlas.py

clean: ## Remove generated data and reports (keeps .venv)
	rm -rf data/processed/*.parquet reports/*

# vizflow developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# test-min: a second venv with every runtime requirement pinned to its floor in pyproject.toml
MIN_VENV := .venv-min
MIN_STAMP := $(MIN_VENV)/.installed
MIN_EXTRAS := viz,dask,calendars

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast test-min lint fmt bench docs figures clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP) ## run the main job end to end on the built-in sample (writes demo-output/)
	$(VENV)/bin/vizflow demo --output demo-output

test: $(STAMP) ## run the test suite (tests/ and the docstring examples)
	$(PY) -m pytest -q

test-fast: $(STAMP) ## the suite without the slow, browser and cluster tests (marked slow or browser)
	$(PY) -m pytest -q -m "not slow and not browser"

$(MIN_STAMP): pyproject.toml dev/min_constraints.py
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) dev/min_constraints.py --extras $(MIN_EXTRAS) > $(MIN_VENV)/constraints.txt
	$(MIN_VENV)/bin/python -m pip install --quiet -c $(MIN_VENV)/constraints.txt -e ".[dev]"
	touch $(MIN_STAMP)

# First check that every runtime requirement is installed at its floor, not above it.
# Own numba cache: kernels compiled by another numba version must not overwrite .venv's cache.
test-min: $(MIN_STAMP) ## run the suite on the declared minimum versions (polars, numpy, numba, ... floors)
	$(MIN_VENV)/bin/python dev/min_constraints.py --extras $(MIN_EXTRAS) --check
	VIZFLOW_HYPOTHESIS_PROFILE=dev NUMBA_CACHE_DIR=$(CURDIR)/$(MIN_VENV)/numba-cache \
		$(MIN_VENV)/bin/python -m pytest -q -p no:cacheprovider

lint: $(STAMP) ## ruff lint and format check, mypy and pyright on vizflow/
	$(VENV)/bin/ruff check vizflow tests benchmarks dev
	$(VENV)/bin/ruff format --check vizflow tests benchmarks dev
	$(VENV)/bin/mypy
	$(VENV)/bin/pyright

fmt: $(STAMP) ## ruff format and autofix
	$(VENV)/bin/ruff format vizflow tests benchmarks dev
	$(VENV)/bin/ruff check --fix vizflow tests benchmarks dev

bench: $(STAMP) ## run the benchmarks (slow; figures go to benchmarks/RESULTS.md by hand)
	$(PY) -m benchmarks

# The browser tests draw the README's and docs' images into a temporary folder; here into docs/img/.
figures: $(STAMP) ## redraw the committed images in docs/img/ (headless Chromium, real sample)
	VIZFLOW_FIGURES=$(CURDIR)/docs/img $(PY) -m pytest -q -p no:cacheprovider -m browser \
		tests/viz/test_dashboard.py tests/viz/test_explorer.py tests/viz/test_figures.py

docs: $(STAMP) ## execute the notebooks in docs/
	$(PY) -m pytest -q tests/test_notebooks.py

clean: ## remove the venvs, caches and demo output
	rm -rf $(VENV) $(MIN_VENV) demo-output .pytest_cache .ruff_cache .mypy_cache .hypothesis

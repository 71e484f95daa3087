# vizflow developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help demo test lint fmt bench docs clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

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

lint: $(STAMP) ## ruff lint and format check
	$(VENV)/bin/ruff check vizflow tests benchmarks dev
	$(VENV)/bin/ruff format --check vizflow tests benchmarks dev

fmt: $(STAMP) ## ruff format and autofix
	$(VENV)/bin/ruff format vizflow tests benchmarks dev
	$(VENV)/bin/ruff check --fix vizflow tests benchmarks dev

bench: $(STAMP) ## run the benchmarks (slow; figures go to benchmarks/RESULTS.md by hand)
	$(PY) -m benchmarks

docs: $(STAMP) ## execute the notebooks in docs/
	$(PY) -m pytest -q tests/test_notebooks.py

clean: ## remove the venv, caches and demo output
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache .hypothesis

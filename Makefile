# Two commands set everything up: `make demo` serves the demo cluster, `make test` runs the checks.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint openapi bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kubevirt-gateway serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

openapi: $(STAMP)
	$(BIN)/kubevirt-gateway openapi > openapi.yaml

bench: $(STAMP)
	$(BIN)/python bench/follow_vs_round_trips.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

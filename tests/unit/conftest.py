"""The fast loop (`make test-fast`, `pytest tests/unit`): pure functions, real DuckDB files and
the CLI's parsing, with no model, server, MLflow or browser. When only these tests ran, the
session fails if any of those runtimes was imported, so a heavy test cannot creep in here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "transformers", "peft", "mlflow", "fastapi", "uvicorn", "openai")
HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def _no_models(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _a_machine_that_converted_nothing(_no_models, monkeypatch):
    """Every unit test sees an empty model cache, on every machine: one that reaches a bundled
    model then converts it (torch, a minute, a gigabyte) and fails the guard below, as it would
    on a fresh machine, instead of passing where a warm cache hides it."""
    monkeypatch.setenv("WORKBENCH_CACHE", str(_no_models))


def pytest_collection_finish(session):
    session.config._unit_only = bool(session.items) and all(
        Path(str(item.fspath)).is_relative_to(HERE) for item in session.items)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if not getattr(session.config, "_unit_only", False):
        return
    loaded = [m for m in HEAVY if m in sys.modules]
    if loaded:
        print(f"\ntests/unit loaded {', '.join(loaded)}: move that test to tests/integration "
              "or the import out of its path", file=sys.stderr)
        session.exitstatus = 1

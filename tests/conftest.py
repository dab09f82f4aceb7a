"""Shared fixtures: a tiny real transformers model, temp stores, a real MLflow store."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import WORKBENCH, build_tiny_model, free_port, wait_http, write_jsonl


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory) -> str:
    """One real MLflow store (sqlite + file artifacts) for the session: its schema set-up
    takes seconds, and runs in it are told apart by their ids."""
    folder = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "runs" / "workbench.duckdb"


@pytest.fixture
def small_dataset(tmp_path) -> Path:
    rows = [{"id": f"f{i}", "question": f"What is {i} plus 1?", "answer": str(i + 1),
             "split": "fewshot"} for i in range(6)]
    rows += [{"id": "q1", "question": "What is the capital of France?",
              "answers": ["Paris"]},
             {"id": "q2", "question": "What is 2 plus 2?", "answer": "4"},
             {"id": "q3", "question": "Who wrote Hamlet?",
              "answers": ["William Shakespeare", "Shakespeare"]}]
    return write_jsonl(tmp_path / "small.jsonl", rows)


@pytest.fixture(scope="session")
def served(tiny_model):
    """A real `workbench serve` process over the tiny model, default limits, for the session."""
    port = free_port()
    proc = subprocess.Popen([WORKBENCH, "serve", "--model", str(tiny_model), "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    if not wait_http(url + "/models", proc=proc):
        proc.kill()
        pytest.fail("workbench serve did not come up: " + proc.stderr.read().decode()[-2000:])
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)

"""End to end with the bundled models, through the installed `workbench` command."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.helpers import WORKBENCH, answers, free_port, poll_until, wait_http

pytestmark = pytest.mark.slow


def wb(*args, env, timeout=600):
    proc = subprocess.run([WORKBENCH, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def env(tmp_path):
    return {**os.environ, "WORKBENCH_DB": str(tmp_path / "runs" / "workbench.duckdb"),
            "COLUMNS": "200"}


@pytest.mark.parametrize("model,dataset,style,extra", [
    ("gemma-3-270m", "bundled:capitals@6", "concise", []),
    ("smollm2-135m-instruct", "bundled:arithmetic@4", "cot", ["--max-new-tokens", "32"]),
])
def test_bundled_model_through_all_stages(env, model, dataset, style, extra):
    wb("run", "--model", model, "--dataset", dataset, "--style", style, "-m", 5,
       "--bootstrap", 50, *extra, env=env)
    runs = json.loads(wb("sql", "SELECT * FROM run_progress", "--format", "json", env=env))
    assert len(runs) == 1 and runs[0]["status"] == "FINISHED"
    assert runs[0]["stored_samples"] == runs[0]["planned_samples"] == 5 * int(dataset[-1])
    metrics = json.loads(wb("sql", "SELECT metric, value FROM run_metrics", "--format", "json",
                            env=env))
    values = {m["metric"]: m["value"] for m in metrics}
    assert set(values) == {"accuracy", "confidence", "overconfidence", "smece", "ece", "brier",
                           "auroc", "aurac"}
    assert 0.2 <= values["confidence"] <= 1.0  # M = 5: the plurality holds at least 1/5
    texts = json.loads(wb("sql", "SELECT text FROM samples", "--format", "json", env=env))
    assert sum(bool(t["text"].strip()) for t in texts) >= len(texts) // 2


def test_ui_serves_the_mlflow_store(env, tmp_path):
    """`ui` prints its link only once the server answers it (it printed it ~90 s early)."""
    port = free_port()
    proc = subprocess.Popen([WORKBENCH, "ui", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        for line in proc.stderr:  # blocks until the next line: no timing involved
            if line.startswith("MLflow UI on "):
                assert answers(f"http://127.0.0.1:{port}/health"), "link printed before the UI"
                break
        else:
            pytest.fail("ui ended without printing its link")
        assert (tmp_path / "runs" / "mlflow.db").exists()
        # SIGTERM to the workbench process alone stops the MLflow server it started too.
        proc.send_signal(15)
        proc.wait(timeout=30)
        assert poll_until(lambda: not answers(f"http://127.0.0.1:{port}/health")), \
            "the MLflow server lives on"
    finally:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass


def test_openai_path_with_a_bundled_model_server(env, tmp_path):
    """`workbench serve` with SmolLM2 serves both the samples (chat, n > 1) and an LLM judge;
    then a re-grade with it and a comparison with the rule-based judge."""
    port = free_port()
    server = subprocess.Popen([WORKBENCH, "serve", "--model", "smollm2-135m-instruct", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        if not wait_http(url + "/models", proc=server):
            pytest.fail("workbench serve did not come up")
        env = {**env, "OPENAI_API_KEY": "local"}
        out = wb("run", "--backend", "openai", "--base-url", url, "--model",
                 "smollm2-135m-instruct", "--dataset", "bundled:capitals@4", "-m", 4,
                 "--max-new-tokens", 16, "--bootstrap", 20, env=env)
        run_id = out.split("run ")[1].split()[0]
        exact = out.split("grading ")[1].split()[0]
        wb("judges", "add", "smol", "--model", "smollm2-135m-instruct", "--base-url", url,
           "--max-tokens", 24, env=env)
        judged = wb("grade", run_id, "--judge", "smol", env=env).strip()
        again = wb("grade", run_id, "--judge", "smol", env=env).strip()
        rows = json.loads(wb("sql", "SELECT count(*) AS n, count(correct) AS judged, "
                                    "count(judge_error) AS errors FROM class_grades WHERE "
                                    "grading_id = ?", "-p", judged, "--format", "json",
                             env=env))[0]
        assert rows["n"] == rows["judged"] + rows["errors"] > 0  # a verdict or an error, each
        # Grading again with the same judge retries its errors in place; with none, it is a
        # new grading.
        assert (again == judged) == (rows["errors"] > 0)
        compared = wb("judges", "compare", exact, judged, env=env)
        assert exact in compared and judged in compared
        run = json.loads(wb("sql", "SELECT backend, completion_tokens FROM runs", "--format",
                            "json", env=env))[0]
        assert run["backend"] == "openai" and run["completion_tokens"] > 0
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)

"""DuckDB is the source of truth: an MLflow that is down, or hangs, never stops or loses a stage,
and `workbench mirror` catches MLflow up once it is back, without duplicates."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import duckdb
import pytest
from mlflow.tracking import MlflowClient

from tests.helpers import WORKBENCH, free_port, wait_http


def _run(db, dataset, model, uri, timeout=600):
    """The run as a real process. A wait on MLflow that is not bounded (its own defaults: 120 s
    a request, 7 retries) would run past ``timeout``; the tests assert what bounds it (one probe,
    one warning), not how fast this machine is."""
    return subprocess.run([WORKBENCH, "run", "--model", str(model), "--dataset", str(dataset),
                          "-m", "2", "--max-new-tokens", "3", "--bootstrap", "10", "--db",
                          str(db), "--mlflow-uri", uri], capture_output=True, text=True,
                         timeout=timeout)


def _stages(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("""SELECT 'runs', status, mirrored_status FROM runs UNION ALL
                              SELECT 'gradings', status, mirrored_status FROM gradings UNION ALL
                              SELECT 'scores', status, mirrored_status FROM scores
                              ORDER BY 1""").fetchall()
    finally:
        con.close()


def test_a_closed_port_costs_seconds_and_mlflow_catches_up_later(tmp_path, tiny_model,
                                                                 small_dataset):
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    db = tmp_path / "wb.duckdb"
    res = _run(db, small_dataset, tiny_model, uri)
    assert res.returncode == 0, res.stderr
    warnings = [ln for ln in res.stderr.splitlines() if "unreachable" in ln]
    assert len(warnings) == 1 and "workbench mirror" in warnings[0]
    assert _stages(db) == [("gradings", "FINISHED", None), ("runs", "FINISHED", None),
                           ("scores", "FINISHED", None)]  # recorded, waiting for MLflow
    down = subprocess.run([WORKBENCH, "mirror", "--db", str(db), "--mlflow-uri", uri],
                          capture_output=True, text=True, timeout=60)
    assert down.returncode == 1 and "unreachable" in down.stderr

    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
         f"sqlite:///{tmp_path / 'mlflow.db'}", "--default-artifact-root",
         (tmp_path / "mlartifacts").as_uri(), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        assert wait_http(f"{uri}/health", proc=server), "the MLflow server did not come up"
        for expected in ("mirrored 3 stage(s)", "mirrored 0 stage(s)"):  # twice: no duplicates
            res = subprocess.run([WORKBENCH, "mirror", "--db", str(db), "--mlflow-uri", uri],
                                 capture_output=True, text=True, timeout=120)
            assert res.returncode == 0 and expected in res.stdout, res.stdout + res.stderr
        assert _stages(db) == [("gradings", "FINISHED", "FINISHED"),
                               ("runs", "FINISHED", "FINISHED"),
                               ("scores", "FINISHED", "FINISHED")]
        client = MlflowClient(uri)
        runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
        assert sorted(r.data.tags["workbench.stage"] for r in runs) == ["generate", "grade",
                                                                        "score"]
        assert all(r.info.status == "FINISHED" for r in runs)
        score = next(r for r in runs if r.data.tags["workbench.stage"] == "score")
        assert 0 <= score.data.metrics["smece"] <= 1 and score.data.params["n_bootstrap"] == "10"
        assert {a.path for a in client.list_artifacts(score.info.run_id)} == {
            "reliability.png", "questions.csv", "questions.json"}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_a_server_that_never_answers_does_not_hang_a_run(tmp_path, tiny_model, small_dataset):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections are accepted by the kernel and never answered
    try:
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        res = _run(tmp_path / "wb.duckdb", small_dataset, tiny_model, uri)
    finally:
        silent.close()
    assert res.returncode == 0, res.stderr
    warnings = [ln for ln in res.stderr.splitlines() if "unreachable" in ln]
    assert len(warnings) == 1, res.stderr
    assert [s[1] for s in _stages(tmp_path / "wb.duckdb")] == ["FINISHED"] * 3


def test_a_local_uri_in_a_missing_folder_is_refused_and_nothing_is_made(tmp_path, tiny_model,
                                                                        small_dataset):
    missing = tmp_path / "no_such_dir" / "x"
    db = tmp_path / "store" / "wb.duckdb"
    for uri in (f"sqlite:///{missing / 'mlflow.db'}", missing.as_uri()):
        res = subprocess.run([WORKBENCH, "generate", "--model", str(tiny_model), "--dataset",
                              str(small_dataset), "--db", str(db), "--mlflow-uri", uri],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 1 and "does not exist" in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no_such_dir").exists() and not db.parent.exists()


@pytest.mark.parametrize("uri", ["http://127.0.0.1:9", "https://mlflow.example.invalid"])
def test_the_probe_names_the_outage(uri):
    from workbench.tracking import probe

    assert probe(uri, timeout=1.0)  # a reason, not None; bounded by the timeout given


def test_an_mlflow_store_that_refuses_writes_is_one_line(tmp_path):
    """An MLflow SQLite store that cannot be written (here a trigger refuses new runs with
    SQLite's read-only error; a read-only folder does the same, but not for root) printed
    100 lines: MLflow's own logged traceback, then a cause that was SQLAlchemy's autoflush
    advice. Now: one line with the innermost cause, the stage kept and pending."""
    import sqlite3

    from tests.helpers import CAPS, TEXTS, make_run

    db = tmp_path / "wb.duckdb"
    run_id = make_run(db, CAPS, TEXTS)
    store = tmp_path / "mlflow.db"
    uri = f"sqlite:///{store}"
    MlflowClient(tracking_uri=uri).search_experiments()  # makes MLflow's schema
    con = sqlite3.connect(store)
    con.execute("CREATE TRIGGER refuse BEFORE INSERT ON runs BEGIN "
                "SELECT RAISE(ABORT, 'attempt to write a readonly database'); END")
    con.commit()
    con.close()
    res = subprocess.run([WORKBENCH, "grade", run_id, "--judge", "contains", "--db", str(db),
                          "--mlflow-uri", uri], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    said = [ln for ln in res.stderr.splitlines()
            if ln.strip() and not ln.startswith("judged")]
    assert len(said) == 1, res.stderr
    assert "attempt to write a readonly database" in said[0] and "workbench mirror" in said[0]
    assert _stages(db)[0][:2] == ("gradings", "FINISHED")

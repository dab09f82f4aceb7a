"""The CLI as a user meets it: --help for every command, the read commands, and errors."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from workbench.cli import app

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)  # what the app registers, not a copy


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def graded_store(db_path, mlflow_uri):
    from workbench import api

    run_id = make_run(db_path, CAPS, TEXTS)
    grading_id = api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    return db_path, run_id, grading_id


def test_grade_score_runs_show_sql(graded_store, mlflow_uri):
    db_path, run_id, grading_id = graded_store
    env = {"WORKBENCH_DB": str(db_path), "WORKBENCH_MLFLOW_URI": mlflow_uri}
    result = invoke("score", grading_id, "--bootstrap", 20, env=env)
    assert result.exit_code == 0, result.output
    score_id = result.output.split()[0]
    assert score_id.startswith("scr_") and "smECE" in result.output
    result = invoke("runs", "--db", db_path)
    assert result.exit_code == 0 and run_id[:6] in result.output
    result = invoke("show", score_id, "--db", db_path)
    assert json.loads(result.output)["metrics"]["accuracy"].startswith("0.750 [")
    result = invoke("show", run_id, env=env)
    assert json.loads(result.output)["samples_stored"] == 20
    result = invoke("sql", "SELECT count(*) AS n FROM samples", "--format", "json", env=env)
    assert json.loads(result.output) == [{"n": 20}]
    result = invoke("sql", "SELECT run_id FROM runs", "--format", "csv", env=env)
    assert result.output == f"run_id\n{run_id}\n"  # plain lines, usable in $(...)


def test_sql_is_read_only_unless_write(graded_store):
    db_path, _, _ = graded_store
    result = invoke("sql", "DELETE FROM samples", "--db", db_path)
    assert result.exit_code == 1 and "read-only" in result.output
    assert json.loads(invoke("sql", "SELECT count(*) AS n FROM samples", "--format", "json",
                             "--db", db_path).output) == [{"n": 20}]
    result = invoke("sql", "UPDATE runs SET model = 'x'", "--write", "--db", db_path)
    assert result.exit_code == 0, result.output


def test_a_bad_query_shows_duckdbs_message(graded_store):
    db_path, _, _ = graded_store
    result = invoke("sql", "SELECT nope FROM samples", "--db", db_path)
    assert result.exit_code == 1
    assert "nope" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args,message", [
    (["grade", "run_missing", "--judge", "exact"], "run_missing"),
    (["grade", "run_missing", "--judge", "oracle"], "unknown judge 'oracle'"),
    (["score", "grd_missing"], "grd_missing"),
    (["show", "run_missing"], "run_missing"),
])
def test_user_errors_are_one_clear_line(graded_store, args, message):
    db_path, _, _ = graded_store
    result = invoke(*args, "--db", db_path)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_generate_with_bad_input_exits_nonzero_and_writes_nothing(tiny_model, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q?"}\n')
    db_path = tmp_path / "wb.duckdb"
    result = invoke("generate", "--model", tiny_model, "--dataset", bad, "--db", db_path)
    assert result.exit_code == 1 and "row 1" in result.output
    result = invoke("generate", "--model", tiny_model, "--dataset", "bundled:capitals@2",
                    "--samples", 0, "--db", db_path)
    assert result.exit_code == 1 and "≥ 1" in result.output
    assert not db_path.exists()


def test_run_does_all_three_stages(tiny_model, small_dataset, tmp_path, mlflow_uri):
    db_path = tmp_path / "wb.duckdb"
    result = invoke("run", "--model", tiny_model, "--dataset", small_dataset, "-m", 3,
                    "--max-new-tokens", 4, "--bootstrap", 10, "--db", db_path,
                    "--mlflow-uri", mlflow_uri)
    assert result.exit_code == 0, result.output
    assert "run run_" in result.output and "grading grd_" in result.output
    assert "scr_" in result.output

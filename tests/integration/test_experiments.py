"""`workbench experiment run FILE` on a real store with the tiny model: a grid runs whole; killed
mid-grid and run again, every cell ends with exactly one finished run; run again, nothing is
sampled; a style added runs only its cells; a malformed file changes nothing stored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from mlflow.tracking import MlflowClient

from tests.helpers import WORKBENCH, query, write_jsonl


def _file(path, model, dataset, styles=("concise", "sentence"), judges=("exact",),
          measures=()):
    path.write_text(f"""
[experiment]
name = "grid"
samples = 3
styles = {json.dumps(list(styles))}
judges = {json.dumps(list(judges))}
measures = {json.dumps(list(measures))}
bootstrap = 20

[sampling]
max_new_tokens = 4
chunk_size = 1

[[models]]
name = "{model}"
kind = "base"
prompt_format = "completion"

[[datasets]]
name = "{dataset}"
""")
    return path


def wb(*args, env, fault=None, check=True):
    proc = subprocess.run([WORKBENCH, *map(str, args)], capture_output=True, text=True,
                          timeout=900, env={**env, **({"WORKBENCH_FAULT": fault} if fault
                                                      else {})})
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture
def env(tmp_path, mlflow_uri):
    return {**os.environ, "WORKBENCH_DB": str(tmp_path / "w.duckdb"),
            "WORKBENCH_MLFLOW_URI": mlflow_uri, "COLUMNS": "200"}


def _cells(db):
    return query(db, """SELECT r.style, r.status, count(s.sample_idx)
                        FROM runs r LEFT JOIN samples s USING (run_id)
                        GROUP BY r.run_id, r.style, r.status ORDER BY r.style""")


def test_grid_resumes_after_a_kill_and_runs_only_what_is_new(tmp_path, env, tiny_model,
                                                             small_dataset):
    db, exp = tmp_path / "w.duckdb", _file(tmp_path / "grid.toml", tiny_model, small_dataset)
    # 3 questions a chunk each: the 4th commit is the second cell's first chunk
    killed = wb("experiment", "run", exp, env=env, fault="kill-after-chunk:4", check=False)
    assert killed.returncode == -9
    assert _cells(db) == [("concise", "FINISHED", 9), ("sentence", "RUNNING", 3)]

    resumed = wb("experiment", "run", exp, env=env)
    assert _cells(db) == [("concise", "FINISHED", 9), ("sentence", "FINISHED", 9)]
    # Not a terminal: a line per committed chunk, naming the cell (a bar on a terminal).
    assert resumed.stderr.count("[2/2] ") > 2 and " · sentence · " in resumed.stderr
    assert "[2/2] " + resumed.stderr.split("[2/2] ")[1].split(":")[0] + ": sampled 3/3 " \
        "questions" in resumed.stderr
    assert query(db, "SELECT count(*) FROM gradings")[0][0] == 2
    assert query(db, "SELECT count(*) FROM scores")[0][0] == 2
    assert query(db, "SELECT count(*) FROM experiment_runs")[0][0] == 2

    again = wb("experiment", "run", exp, env=env)
    assert "sampling" not in again.stderr and again.stderr.count(": done (") == 2
    assert query(db, "SELECT count(*) FROM runs")[0][0] == 2
    assert query(db, "SELECT count(*) FROM scores")[0][0] == 2

    # MLflow groups the experiment's runs: every stage of its cells carries its name, from the
    # first mirror of the cell's run (the killed cell's run too), and a run made by hand none.
    client = MlflowClient(env["WORKBENCH_MLFLOW_URI"])
    tagged = client.search_runs([e.experiment_id for e in client.search_experiments()],
                                "tags.`workbench.experiment` = 'grid'")
    made = {r[0] for r in query(db, "SELECT run_id FROM experiment_runs")}
    assert sorted(r.data.tags["workbench.stage"] for r in tagged
                  if r.data.tags["workbench.run_id"] in made) == ["generate", "generate",
                                                                   "grade", "grade", "score",
                                                                   "score"]
    assert query(db, "SELECT count(*) FROM experiment_cells")[0][0] == 2

    # A style, a judge and two measures added: only the new cell is sampled; every cell gets
    # the new judge, and each grading a score under each measure beside the plurality one.
    _file(exp, tiny_model, small_dataset, styles=("concise", "sentence", "cot"),
          judges=("exact", "contains"), measures=("n_classes", "semantic_entropy"))
    wb("experiment", "run", exp, env=env)
    assert query(db, "SELECT estimator, count(*) FROM scores GROUP BY 1 ORDER BY 1") == [
        ("n_classes", 6), ("plurality", 6), ("semantic_entropy", 6)]
    assert wb("experiment", "run", exp, env=env).stderr.count(": done (") == 3
    cells = _cells(db)
    assert [c[:2] for c in cells] == [("concise", "FINISHED"), ("cot", "FINISHED"),
                                      ("sentence", "FINISHED")]
    assert query(db, "SELECT count(*) FROM gradings")[0][0] == 6
    assert query(db, "SELECT count(*), count(DISTINCT sha256) FROM experiments")[0] == (2, 2)

    status = json.loads(wb("experiment", "status", exp, "--format", "json", env=env).stdout)
    assert [(c["style"], c["status"], c["samples"]) for c in status] == [
        ("concise", "FINISHED", "9/9"), ("sentence", "FINISHED", "9/9"),
        ("cot", "FINISHED", "9/9")]
    assert all(c["score exact"].startswith("scr_") and c["score contains"].startswith("scr_")
               for c in status)

    # compare --experiment: only the runs the experiment made, not a run made beside it
    wb("run", "--model", tiny_model, "--dataset", small_dataset, "-m", 3, "--max-new-tokens", 4,
       "--style", "concise", "--bootstrap", 20, env=env)
    (dataset,), = query(db, "SELECT DISTINCT name FROM datasets")
    made = {r[0] for r in query(db, "SELECT run_id FROM experiment_runs")}

    def compared(*extra):
        return {r["style"]: (r["runs"], r["run_id"]) for r in json.loads(wb(
            "compare", "--dataset", dataset, "--group-by", "style", "--format", "json", *extra,
            env=env).stdout)}
    assert compared()["concise"][0] == 2 and compared()["concise"][1] not in made
    inside = compared("--experiment", "grid")
    assert sorted(inside) == ["concise", "cot", "sentence"]
    assert all(n == 1 and run in made for n, run in inside.values())
    wrong = wb("compare", "--dataset", dataset, "--experiment", "gird", env=env, check=False)
    assert wrong.returncode == 1 and len(wrong.stderr.strip().splitlines()) == 1
    assert "--experiment" in wrong.stderr and "stored: grid" in wrong.stderr


@pytest.fixture(scope="module")
def ran_grid(tmp_path_factory, tiny_model, mlflow_uri):
    """A one-cell grid run once for the module: its file and its store."""
    folder = tmp_path_factory.mktemp("ran_grid")
    data = write_jsonl(folder / "small.jsonl", [
        {"id": f"f{i}", "question": f"What is {i} plus 1?", "answer": str(i + 1),
         "split": "fewshot"} for i in range(6)] + [
        {"id": "q1", "question": "What is the capital of France?", "answers": ["Paris"]}])
    env = {**os.environ, "WORKBENCH_DB": str(folder / "w.duckdb"),
           "WORKBENCH_MLFLOW_URI": mlflow_uri, "COLUMNS": "200"}
    wb("experiment", "run", _file(folder / "grid.toml", tiny_model, data,
                                  styles=("concise",)), env=env)
    return folder


@pytest.mark.parametrize("breakage, names", [
    (lambda t: t.replace('judges = ["exact"]', 'judges = ["nosuchjudge"]'),
     ["judges", "nosuchjudge"]),
    (lambda t: t.replace("samples = 3", "samples = 3\nsamples_per = 2"),
     ["[experiment]", "samples_per"]),
    (lambda t: t.replace("[sampling]", "[sampling"), ["not TOML"]),
])
def test_a_malformed_file_changes_nothing_stored(tmp_path, env, tiny_model, ran_grid,
                                                 breakage, names):
    db, exp = tmp_path / "w.duckdb", tmp_path / "grid.toml"  # the store the grid left, copied
    shutil.copyfile(ran_grid / "w.duckdb", db)
    shutil.copyfile(ran_grid / "grid.toml", exp)
    before = query(db, "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM gradings), "
                       "(SELECT count(*) FROM experiments)")
    exp.write_text(breakage(exp.read_text()))
    proc = wb("experiment", "run", exp, env=env, check=False)
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert str(exp) in proc.stderr and all(n in proc.stderr for n in names), proc.stderr
    assert query(db, "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM gradings), "
                     "(SELECT count(*) FROM experiments)") == before



def test_the_demo_is_an_experiment_file_and_a_second_demo_samples_nothing(
        tmp_path, tiny_model, small_dataset, mlflow_uri, monkeypatch):
    """A demo-shaped file (a base, two SFT seeds and one RL variant tuned from it, ablated over
    m): `workbench demo FILE` tunes, samples, grades, scores and ablates through the experiment
    runner and prints each method pooled against the base; run again, it tunes and samples
    nothing and adds no row but the conclusion's report."""
    import io

    from rich.console import Console

    from workbench import api
    from workbench.demo import run_demo

    monkeypatch.setenv("WORKBENCH_CACHE", str(tmp_path / "cache"))
    tunings = "".join(f"""
[[tunings]]
name = "tiny-{method}-s{seed}"
parent = "{tiny_model}"
method = "{method}"
dataset = "{small_dataset}"
steps = 1
seed = {seed}
questions_per_step = 2
group = 2
shots = 2
""" for method, seed in (("sft", 0), ("sft", 1), ("rl", 0)))
    path = tmp_path / "demo.toml"
    path.write_text(f"""
[experiment]
name = "tiny-demo"
samples = 3
bootstrap = 20
ablation = [1, 3]

[sampling]
max_new_tokens = 4
shots = 2

[[models]]
name = "{tiny_model}"

[[datasets]]
name = "{small_dataset}"
{tunings}""")
    db = tmp_path / "w.duckdb"
    exp = api.load_experiment(path)
    assert set(api.experiment_tunings(exp).values()) == {None}

    def demo():
        console = Console(file=io.StringIO(), width=200)
        result = run_demo(path, db_path=db, mlflow_uri=mlflow_uri, console=console)
        return result, " ".join(console.file.getvalue().split())

    def counts():
        return query(db, """SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM samples),
                                   (SELECT count(*) FROM tunings WHERE NOT cached),
                                   (SELECT count(*) FROM gradings), (SELECT count(*) FROM scores),
                                   (SELECT count(*) FROM ablations)""")[0]

    result, said = demo()
    assert counts() == (4, 4 * 3 * 3, 3, 4, 4, 4)
    assert said.count(": sampling (") == 4 and "already tuned" not in said
    assert all(api.experiment_tunings(exp).values())
    assert "sft (2 seeds)" in said and "rl (1 seeds)" in said and "Tuned minus base" in said
    assert set(result["diffs"]) == {"sft", "rl"} and len(result["results"]) == 4
    first = {r["model"]: m["accuracy"].value for r, m in result["results"]}
    again, said = demo()
    assert counts() == (4, 4 * 3 * 3, 3, 4, 4, 4)
    assert ": sampling (" not in said and said.count("already tuned with these settings") == 3
    assert {r["model"]: m["accuracy"].value for r, m in again["results"]} == first


def test_experiment_run_brings_an_older_store_up_to_date(tmp_path, env, tiny_model,
                                                         small_dataset):
    """A store written by the code before the newest migration: `experiment run` (a writing
    command) applies it and runs; it used to stop at its first read ("needs migrations")."""
    import shutil

    from workbench.store import connection

    db, exp = tmp_path / "w.duckdb", _file(tmp_path / "grid.toml", tiny_model, small_dataset,
                                          styles=("concise",))
    older, views = tmp_path / "migrations", tmp_path / "no_views"
    shutil.copytree(connection.SQL / "migrations", older)
    newest = max(older.glob("*.sql"))
    newest.unlink()
    views.mkdir()  # this code's views may read what the newest migration adds
    connection.connect(db, migrations_dir=older, views_dir=views).close()
    ran = wb("experiment", "run", exp, env=env)
    assert "1 of 1 cells to run" in ran.stderr
    assert query(db, "SELECT max(version) FROM schema_migrations")[0][0] == int(newest.name[:4])
    assert _cells(db) == [("concise", "FINISHED", 9)]

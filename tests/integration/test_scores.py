"""What a score stores beside its metrics, and how it reaches MLflow: the shortcut figures
(`score`, `diff`, the views, MLflow), a one-question score, and a mirror killed mid-way."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from tests.helpers import query as _rows
from workbench import api
from workbench.cli import app


def test_a_collapse_onto_the_questions_words_shows_in_score_diff_and_views(db_path, mlflow_uri):
    """A variant that answers each capital question with the country's own name: its score
    stores an echo share of 1 (the base's 0), `diff` prints it, the variants view and MLflow
    carry it."""
    base = make_run(db_path, CAPS, TEXTS)
    echo = make_run(db_path, CAPS, {"fr": [" France"] * 5, "au": [" Australia"] * 5,
                                    "us": [" the US"] * 5, "n": [" 2+2"] * 5}, model="echo")
    ids = {}
    for name, run in (("base", base), ("echo", echo)):
        grading = api.grade(run, db_path=db_path, mlflow_uri=mlflow_uri)
        ids[name] = (grading, api.score(grading, n_bootstrap=20, floor_draws=0,
                                        db_path=db_path, mlflow_uri=mlflow_uri))
    stored = dict(_rows(db_path, "SELECT model, echo_share FROM variants WHERE score_id IN "
                                 "(?, ?)", [ids["base"][1], ids["echo"][1]]))
    assert stored == {"synthetic": 0.0, "echo": 1.0}  # "2+2" says the question's words too
    res = CliRunner().invoke(app, ["diff", ids["base"][0], ids["echo"][0], "--bootstrap", "20",
                                   "--db", str(db_path), "--mlflow-uri", mlflow_uri])
    assert res.exit_code == 0, res.output
    assert "answers that only repeat the question 0.0% → 100.0%" in res.output
    words = " ".join(res.output.split())  # the header names each side's variant, not ids only
    assert f"A = synthetic · concise · completion ({ids['base'][0]}," in words
    assert f"B = echo · concise · completion ({ids['echo'][0]}," in words
    (ml_id,), = _rows(db_path, "SELECT mlflow_run_id FROM scores WHERE score_id = ?",
                      [ids["echo"][1]])
    assert MlflowClient(mlflow_uri).get_run(ml_id).data.metrics["echo_share"] == 1.0


def test_a_mirror_killed_before_duckdb_learned_the_run_id_is_not_logged_twice(db_path,
                                                                               mlflow_uri):
    """The state a SIGKILL between MLflow's create_run and DuckDB's update leaves: the MLflow
    run exists, the store does not name it. `workbench mirror` finds it by the stage's tags
    and finishes it: one run per score, not two."""
    from workbench.store import Writer

    run = make_run(db_path, CAPS, TEXTS)
    score_id = api.score(api.grade(run, db_path=db_path, mlflow_uri=mlflow_uri),
                         n_bootstrap=20, floor_draws=0, db_path=db_path, mlflow_uri=mlflow_uri)
    (first,), = _rows(db_path, "SELECT mlflow_run_id FROM scores WHERE score_id = ?", [score_id])
    with Writer(db_path) as writer, writer.transaction() as con:
        con.execute("UPDATE scores SET mlflow_run_id = NULL, mirrored_status = NULL "
                    "WHERE score_id = ?", [score_id])
    res = CliRunner().invoke(app, ["mirror", "--db", str(db_path), "--mlflow-uri", mlflow_uri])
    assert res.exit_code == 0, res.output
    client = MlflowClient(mlflow_uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              filter_string=f"tags.`workbench.score_id` = '{score_id}'")
    assert [r.info.run_id for r in runs] == [first]
    assert _rows(db_path, "SELECT mlflow_run_id, mirrored_status FROM scores WHERE "
                          "score_id = ?", [score_id]) == [(first, "FINISHED")]


def test_doctor_sees_a_mirror_cut_short_and_fix_finishes_it(db_path, mlflow_uri):
    """A mirror killed while it wrote leaves its MLflow run RUNNING and the store not naming
    it: `doctor` said nothing of it and `doctor --fix` left it RUNNING. Now doctor names the
    stage and --fix finishes that MLflow run (one run, FINISHED)."""
    from workbench.store import Writer

    run = make_run(db_path, CAPS, TEXTS)
    score_id = api.score(api.grade(run, db_path=db_path, mlflow_uri=mlflow_uri),
                         n_bootstrap=20, floor_draws=0, db_path=db_path, mlflow_uri=mlflow_uri)
    api.mirror(db_path=db_path, mlflow_uri=mlflow_uri)  # the run's own stage, too
    (first,), = _rows(db_path, "SELECT mlflow_run_id FROM scores WHERE score_id = ?", [score_id])
    assert not [f for f in api.doctor(db_path=db_path) if f.level != "ok"]
    client = MlflowClient(mlflow_uri)
    client.update_run(first, status="RUNNING")
    with Writer(db_path) as writer, writer.transaction() as con:
        con.execute("UPDATE scores SET mlflow_run_id = NULL, mirrored_status = NULL "
                    "WHERE score_id = ?", [score_id])
    warned = [f for f in api.doctor(db_path=db_path) if f.level == "warn"]
    assert len(warned) == 1 and f"score {score_id}" in warned[0].what, warned
    assert "workbench mirror" in warned[0].fix
    fixed = api.doctor(fix=True, db_path=db_path, mlflow_uri=mlflow_uri)
    assert f"score {score_id} mirrored to MLflow" in [f.what for f in fixed], fixed
    assert all(f.level in ("ok", "fixed") for f in fixed), fixed
    assert client.get_run(first).info.status == "FINISHED"
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              filter_string=f"tags.`workbench.score_id` = '{score_id}'")
    assert [r.info.run_id for r in runs] == [first]


def test_a_one_question_run_scores_with_its_intervals_undefined(db_path, mlflow_uri):
    """It crashed at scoring (relplot's bootstrap needs two questions) after its samples were
    stored; now it scores, and no interval pretends to know anything."""
    import math

    from workbench.data import Dataset, Question

    one = Dataset("one", "t", (Question("fr", "Capital of France?", ("Paris",)),))
    run = make_run(db_path, one, {"fr": [" Paris", " Paris", " Lyon"]})
    grading = api.grade(run, db_path=db_path, mlflow_uri=mlflow_uri)
    est = api.metrics(api.score(grading, n_bootstrap=50, db_path=db_path,
                                mlflow_uri=mlflow_uri), db_path=db_path)
    assert est["confidence"].value == pytest.approx(2 / 3) and est["accuracy"].value == 1.0
    for e in est.values():
        assert e.ci_low is None or math.isnan(e.ci_low), e


def test_show_gives_a_scores_methods_in_words(db_path, mlflow_uri):
    """`show SCORE`: N, M, the prompt, the sampling, the token budget and the share that hit
    it, the map and the judge with their versions, the estimator, the bootstrap and the
    package version, in one paragraph a paper's appendix can take."""
    import json

    grading = api.grade(make_run(db_path, CAPS, TEXTS), db_path=db_path, mlflow_uri=mlflow_uri)
    score = api.score(grading, n_bootstrap=30, floor_draws=0, db_path=db_path,
                      mlflow_uri=mlflow_uri)
    res = CliRunner().invoke(app, ["show", score, "--db", str(db_path)])
    assert res.exit_code == 0, res.output
    text = json.loads(res.output)["methods"]
    for part in ("synthetic (base; none, float32) answered N = 4 questions of caps, M = 5 "
                 "samples each",
                 "a concise completion prompt", "at temperature 1, no top-p or top-k",
                 "at most 8 new tokens (0.0% of samples hit that budget", "rules-v",
                 "judged by exact (version", "estimator plurality", "4 questions scored",
                 "from 30 bootstrap resamples of questions (seed 0)", "workbench test"):
        assert part in text, (part, text)


def test_score_and_judges_compare_take_a_run_and_name_their_own_flags(db_path, mlflow_uri):
    """`score RUN --graded-by J` scores that run's grading by J, as ablate and diff take runs;
    `judges compare RUN RUN --judges A,B` compares two judges of one run. Without the judge,
    each says which flag to give (not a --judge the command does not have)."""
    run = make_run(db_path, CAPS, TEXTS)
    gradings = {j: api.grade(run, j, db_path=db_path, mlflow_uri=mlflow_uri)
                for j in ("exact", "contains")}
    cli = CliRunner()

    def said(*args):
        res = cli.invoke(app, [*args, "--db", str(db_path)], env={"COLUMNS": "200"})
        return res.exit_code, " ".join(res.output.split())

    code, text = said("score", run, "--bootstrap", "20")
    assert code == 1 and text.startswith("error: --graded-by: run ") and "name one" in text
    code, text = said("score", run, "--graded-by", "contains", "--bootstrap", "20")
    assert code == 0, text
    (graded,), = _rows(db_path, "SELECT grading_id FROM scores")
    assert graded == gradings["contains"]
    code, text = said("judges", "compare", run, run)
    assert code == 1 and text.startswith("error: --judges: ") and "--judges exact,contains" in text
    code, text = said("judges", "compare", run, run, "--judges", "exact,contains")
    assert code == 0 and f"{gradings['exact']} (exact) vs {gradings['contains']} (contains)" in text
    code, text = said("judges", "compare", run, run, "--judges", "a,b,c")
    assert code == 1 and "--judges" in text

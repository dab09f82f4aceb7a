"""Each stage on a real DuckDB file and a real MLflow store in a temp dir."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from tests.helpers import CAPS, TEXTS, make_run
from tests.helpers import query as _rows
from workbench import api
from workbench.analysis.metrics import compute
from workbench.api import GenerateRequest
from workbench.backends.transformers.tokens import TokenSampler
from workbench.errors import DatasetError, ModelError, NotFound, StageError, UsageError
from workbench.store import Writer, records


def test_generate_stores_every_sample_and_mirrors_mlflow(tiny_model, small_dataset, db_path,
                                                         mlflow_uri):
    req = GenerateRequest(str(tiny_model), str(small_dataset), samples=4, shots=2,
                          max_new_tokens=6, seed=3)
    seen = []
    run_id = api.generate(req, db_path=db_path, mlflow_uri=mlflow_uri,
                          progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3, 3)
    rows = _rows(db_path, "SELECT question_id, sample_idx, prompt, n_tokens, logprob, "
                          "finish_reason, latency_s FROM sample_prompts WHERE run_id = ?", [run_id])
    assert len(rows) == 3 * 4
    assert {(q, i) for q, i, *_ in rows} == {(q, i) for q in ("q1", "q2", "q3")
                                             for i in range(4)}
    for _, _, prompt, n_tok, lp, fin, lat in rows:
        assert prompt.count("\nA: ") == 2 and 1 <= n_tok <= 6 and lp <= 0
        assert fin in ("stop", "length") and lat > 0
    (status, ml_id, kind, fmt), = _rows(
        db_path, "SELECT status, mlflow_run_id, model_kind, prompt_format FROM runs")
    assert (status, kind, fmt) == ("FINISHED", "unknown", "completion")  # tuning not known
    run = MlflowClient(mlflow_uri).get_run(ml_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["workbench.run_id"] == run_id
    p = run.data.params
    assert p["model"] == str(tiny_model) and p["samples"] == "4" and p["seed"] == "3"
    assert p["temperature"] == "1.0" and p["style"] == "concise" and p["dataset"] == "small"
    assert p["package_version"] and p["git_sha"]
    assert run.data.metrics["samples"] == 12


def test_same_seed_same_samples(tiny_model, small_dataset, tmp_path, mlflow_uri):
    req = GenerateRequest(str(tiny_model), str(small_dataset), samples=3, max_new_tokens=5)
    texts = []
    for name in ("a", "b"):
        path = tmp_path / name / "wb.duckdb"
        run_id = api.generate(req, db_path=path, mlflow_uri=mlflow_uri)
        texts.append(_rows(path, "SELECT question_id, sample_idx, text FROM samples "
                                 "WHERE run_id = ? ORDER BY ALL", [run_id]))
    assert texts[0] == texts[1]


def test_chat_models_get_their_template(tiny_model, small_dataset, db_path, mlflow_uri):
    req = GenerateRequest(str(tiny_model), str(small_dataset), samples=2, max_new_tokens=4,
                          prompt_format="chat", kind="rl")
    run_id = api.generate(req, db_path=db_path, mlflow_uri=mlflow_uri)
    (prompt,), = _rows(db_path, "SELECT prompt FROM sample_prompts WHERE run_id = ? LIMIT 1",
                       [run_id])
    assert prompt.startswith("<bos><user>") and prompt.endswith("<assistant>")
    assert _rows(db_path, "SELECT model_kind, shots FROM runs") == [("rl", 0)]


def test_a_failing_generation_is_failed_in_duckdb_and_mlflow(tiny_model, small_dataset,
                                                             db_path, mlflow_uri, monkeypatch):
    def boom(self, items, params, **options):
        raise RuntimeError("device fell over")

    monkeypatch.setattr(TokenSampler, "sample_batch", boom)
    req = GenerateRequest(str(tiny_model), str(small_dataset), samples=2, max_new_tokens=4)
    with pytest.raises(RuntimeError, match="device fell over"):
        api.generate(req, db_path=db_path, mlflow_uri=mlflow_uri)
    (status, error, ml_id), = _rows(db_path, "SELECT status, error, mlflow_run_id FROM runs")
    assert status == "FAILED" and "device fell over" in error
    assert MlflowClient(mlflow_uri).get_run(ml_id).info.status == "FAILED"


@pytest.mark.parametrize("change,error", [
    (dict(samples=0), UsageError), (dict(model="/no/such/model"), ModelError),
    (dict(style="haiku"), UsageError), (dict(dataset="bundled:nope"), DatasetError),
])
def test_bad_requests_leave_no_trace(tiny_model, small_dataset, db_path, mlflow_uri, change,
                                     error):
    base = dict(model=str(tiny_model), dataset=str(small_dataset), samples=2)
    with pytest.raises(error):
        api.generate(GenerateRequest(**{**base, **change}), db_path=db_path,
                     mlflow_uri=mlflow_uri)
    assert not db_path.exists()


def test_grading_classes_and_verdicts(db_path, mlflow_uri):
    run_id = make_run(db_path, CAPS, TEXTS)
    grading_id = api.grade(run_id, "exact", db_path=db_path, mlflow_uri=mlflow_uri)
    got = {q: (a, c, ok) for q, a, c, ok in _rows(
        db_path, "SELECT question_id, answer, confidence, correct FROM question_confidence "
                 "WHERE grading_id = ?", [grading_id])}
    assert got["fr"] == ("Paris", 0.6, True)
    assert got["au"] == ("Sydney", 0.6, False)
    assert got["us"][0] == "Washington" and got["us"][1:] == (0.4, True)
    assert got["n"] == ("4", 0.8, True)  # 4, 4.0, four, 4 apples: one value
    # One verdict per distinct (question, class), not per sample.
    n_classes = _rows(db_path, "SELECT count(*) FROM class_grades WHERE grading_id = ?",
                      [grading_id])[0][0]
    # fr: paris | in paris | lyon; au: sydney | canberra | melbourne; us: washington (with
    # "washington d c": aliases of one gold) | new york | boston (the empty sample has no
    # class); n: #4 (4, 4.0, four, 4 apples) | #5
    assert n_classes == 3 + 3 + 3 + 2
    ml_id = _rows(db_path, "SELECT mlflow_run_id FROM gradings")[0][0]
    ml = MlflowClient(mlflow_uri).get_run(ml_id)
    assert ml.info.status == "FINISHED" and ml.data.params["judge"] == "exact"
    assert ml.data.metrics["judge_calls"] == n_classes
    assert ml.data.metrics["judge_calls_saved"] == 19 - n_classes  # 19 samples gave an answer


def test_regrading_adds_a_grading_and_keeps_everything(db_path, mlflow_uri):
    run_id = make_run(db_path, CAPS, TEXTS)
    first = api.grade(run_id, "exact", db_path=db_path, mlflow_uri=mlflow_uri)
    before = _rows(db_path, "SELECT * FROM samples ORDER BY ALL")
    first_rows = _rows(db_path, "SELECT * FROM class_grades WHERE grading_id = ? ORDER BY ALL",
                       [first])
    second = api.grade(run_id, "contains", db_path=db_path, mlflow_uri=mlflow_uri)
    assert second != first
    assert _rows(db_path, "SELECT * FROM samples ORDER BY ALL") == before
    assert _rows(db_path, "SELECT * FROM class_grades WHERE grading_id = ? ORDER BY ALL",
                 [first]) == first_rows
    # "in Paris" is its own class: wrong for `exact`, right for `contains`.
    verdicts = dict(_rows(db_path, "SELECT grading_id, correct FROM class_grades "
                                   "WHERE question_id = 'fr' AND canonical = 'in Paris'"))
    assert verdicts == {first: False, second: True}


def test_grading_refuses_unfinished_runs_and_unknown_ids(db_path, mlflow_uri):
    run_id = make_run(db_path, CAPS, TEXTS)
    with Writer(db_path) as writer, writer.session() as con:
        records.set_status(con, "runs", run_id, "RUNNING")
    # Nothing runs it now: the RUNNING row is recovered as FAILED, and grading points at resume.
    with pytest.raises(StageError, match="FAILED .*gone.*workbench resume"):
        api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    with pytest.raises(NotFound, match="run_nope"):
        api.grade("run_nope", db_path=db_path, mlflow_uri=mlflow_uri)
    assert _rows(db_path, "SELECT count(*) FROM gradings") == [(0,)]


def test_scoring_matches_the_metrics_on_the_view(db_path, mlflow_uri):
    run_id = make_run(db_path, CAPS, TEXTS)
    grading_id = api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    score_id = api.score(grading_id, n_bootstrap=100, seed=1, db_path=db_path,
                         mlflow_uri=mlflow_uri)
    f = np.array([0.6, 0.6, 0.4, 0.8])
    y = np.array([1, 0, 1, 1])
    stored = api.metrics(score_id, db_path=db_path)
    for k, v in compute(f, y).items():
        assert stored[k].value == pytest.approx(v), k
    assert stored["accuracy"].value == 0.75
    (path, n, excluded, ml_id), = _rows(
        db_path, "SELECT diagram_path, n_questions, n_excluded, mlflow_run_id FROM scores")
    assert (n, excluded) == (4, 0)
    assert path == f"artifacts/scores/{score_id}/reliability.png"  # relative to the store
    assert (db_path.parent / path).read_bytes()[:4] == b"\x89PNG"
    client = MlflowClient(mlflow_uri)
    ml = client.get_run(ml_id)
    assert ml.info.status == "FINISHED"
    assert ml.data.metrics["smece"] == pytest.approx(stored["smece"].value)
    assert {a.path for a in client.list_artifacts(ml_id)} == {"reliability.png", "questions.csv",
                                                              "questions.json"}
    view = _rows(db_path, "SELECT metric, value FROM run_metrics WHERE score_id = ?", [score_id])
    assert dict(view)["brier"] == pytest.approx(stored["brier"].value)


def test_questions_without_a_verdict_are_left_out_and_counted(db_path, mlflow_uri):
    run_id = make_run(db_path, CAPS, TEXTS)
    grading_id = api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    with Writer(db_path) as writer, writer.session() as con:
        con.execute("UPDATE class_grades SET correct = NULL WHERE question_id = 'au'")
    score_id = api.score(grading_id, n_bootstrap=20, db_path=db_path, mlflow_uri=mlflow_uri)
    assert _rows(db_path, "SELECT n_questions, n_excluded FROM scores WHERE score_id = ?",
                 [score_id]) == [(3, 1)]
    assert api.metrics(score_id, db_path=db_path)["accuracy"].value == 1.0


def test_a_dry_run_shows_prompts_samples_and_their_reading_and_stores_nothing(
        tmp_path, tiny_model, small_dataset):
    """`generate --dry-run`: the first 2 questions' prompts as a run would store them, 2
    samples of each with the answer the map B reads, its class and the exact judge's verdict;
    no store, no MLflow folder, whatever M the command names."""
    import subprocess

    from tests.helpers import WORKBENCH

    db = tmp_path / "store" / "wb.duckdb"
    res = subprocess.run([WORKBENCH, "generate", "--model", str(tiny_model), "--dataset",
                          str(small_dataset), "-m", "50", "--shots", "2", "--max-new-tokens",
                          "4", "--dry-run", "--db", str(db)], capture_output=True, text=True,
                         timeout=300, env={**__import__("os").environ, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr[-3000:]
    said = res.stdout
    assert said.count("question q") == 2 and "(gold: Paris)" in said
    assert said.count("prompt, as the run would store it:") == 2
    assert said.count("Q: What is the capital of France?\nA:") == 1  # the prompt's own question
    lines = [ln for ln in said.splitlines() if ln.startswith("  sample ")]
    assert len(lines) == 4 and all("-> answer " in ln or "no answer read" in ln for ln in lines)
    assert said.rstrip().endswith("dry run: nothing was stored")
    assert not db.parent.exists()


def test_the_reliability_diagram_states_the_tables_interval(db_path, mlflow_uri, monkeypatch):
    """The score's figure carries smECE with the interval every table shows, and not relplot's
    own label (its value ± its own bootstrap's spread, which disagreed with the tables)."""
    from workbench.analysis import diagram

    drawn = []
    real = diagram.draw
    monkeypatch.setattr(diagram, "draw", lambda d, path, title: drawn.append((d, title))
                        or real(d, path, title))
    grading_id = api.grade(make_run(db_path, CAPS, TEXTS), db_path=db_path,
                           mlflow_uri=mlflow_uri)
    smece = api.metrics(api.score(grading_id, n_bootstrap=100, seed=1, db_path=db_path,
                                  mlflow_uri=mlflow_uri), db_path=db_path)["smece"]
    (figure, title), = drawn
    assert f"smECE {smece.value:.3f} [{smece.ci_low:.3f}, {smece.ci_high:.3f}]" in title
    assert "ce" not in figure and "ce_ci_width" not in figure  # relplot prints no label


def test_a_chat_prompt_gets_the_chat_token_budget(tiny_model, small_dataset, db_path,
                                                  mlflow_uri):
    """Budgets by prompt format, from the bundled models' measured lengths: a chat model's
    concise answer runs on past a base model's 16 tokens, so chat prompts get 64."""
    for fmt, budget in (("chat", 64), ("completion", 16)):
        req = GenerateRequest(str(tiny_model), str(small_dataset), samples=1, shots=0,
                              prompt_format=fmt)
        run_id = api.generate(req, db_path=db_path, mlflow_uri=mlflow_uri)
        assert _rows(db_path, "SELECT max_new_tokens FROM runs WHERE run_id = ?",
                     [run_id]) == [(budget,)]

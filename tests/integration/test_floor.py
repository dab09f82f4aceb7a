"""The floor as every score stores and shows it: in the store, `show`, the views and MLflow
(the floor itself, on synthetic models, is tests/unit/test_floor.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from tests.helpers import query as _rows
from workbench import api
from workbench.analysis.floor import floor
from workbench.cli import app
from workbench.errors import StageError
from workbench.store import Writer


def test_every_score_stores_and_shows_its_floor(db_path, mlflow_uri):
    run_id = make_run(db_path, CAPS, TEXTS)
    grading = api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    score_id = api.score(grading, n_bootstrap=20, floor_draws=50, db_path=db_path,
                         mlflow_uri=mlflow_uri)
    est = api.metrics(score_id, db_path=db_path)
    for name in ("smece", "ece"):
        assert 0 <= est[name].floor_mean <= est[name].floor_p95 <= 1
    assert est["accuracy"].floor_mean is None
    rows = _rows(db_path, "SELECT metric, floor_mean, floor_p95 FROM run_metrics WHERE "
                          "score_id = ? AND floor_mean IS NOT NULL ORDER BY metric", [score_id])
    assert [r[0] for r in rows] == ["ece", "smece"]
    (ml_id,), = _rows(db_path, "SELECT mlflow_run_id FROM scores WHERE score_id = ?",
                      [score_id])
    logged = MlflowClient(mlflow_uri).get_run(ml_id).data.metrics
    assert logged["smece_floor_p95"] == pytest.approx(est["smece"].floor_p95)
    res = CliRunner().invoke(app, ["score", grading, "--bootstrap", "20", "--floor-draws",
                                   "50", "--db", str(db_path), "--mlflow-uri", mlflow_uri])
    assert res.exit_code == 0, res.output
    assert "a calibrated model here scores" in res.output and "smECE floor" in res.output
    split_id = api.score(grading, n_bootstrap=20, floor_draws=20, estimator="split",
                         db_path=db_path, mlflow_uri=mlflow_uri)
    assert _rows(db_path, "SELECT estimator FROM scores WHERE score_id = ?",
                 [split_id]) == [("split",)]
    shown = json.loads(CliRunner().invoke(app, ["show", score_id, "--db",
                                                str(db_path)]).output)
    assert shown["score"]["truncated_share"] == 0.0


def test_a_question_no_sample_answered_scores_with_its_floor(db_path, mlflow_uri):
    """Every sample of one question gave no answer (a CoT run cut at its token budget does
    this): it counts as wrong at confidence 0, and the floor draws it the same way instead of
    failing on an empty class list."""
    assert floor([np.array([1.0])] * 5, 10, draws=10, seed=0)["ece"].mean == 0.0
    run_id = make_run(db_path, CAPS, {**TEXTS, "au": [""] * 5})
    grading = api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    for estimator in ("plurality", "split"):
        score_id = api.score(grading, n_bootstrap=20, floor_draws=20, estimator=estimator,
                             db_path=db_path, mlflow_uri=mlflow_uri)
        assert api.metrics(score_id, db_path=db_path)["smece"].floor_mean is not None
    au = [q for q in api.questions(grading, db_path=db_path) if q["question_id"] == "au"][0]
    assert (au["confidence"], au["correct"]) == (0.0, False)


def test_weighted_plurality_scores_the_probability_mass_of_distinct_sequences(db_path,
                                                                            mlflow_uri):
    """The estimator that reads log-probabilities: each question's confidence is its answer's
    share of the mass of the distinct texts sampled (recomputed here from the stored rows); it
    has no floor (the floor simulates class counts), and a run without log p is refused."""
    run_id = make_run(db_path, CAPS, TEXTS)
    with Writer(db_path) as writer, writer.transaction() as con:  # distinct masses per text
        con.execute("UPDATE samples SET logprob = -0.1 * length(text) WHERE run_id = ?",
                    [run_id])
    grading = api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    score_id = api.score(grading, n_bootstrap=20, floor_draws=20,
                         estimator="weighted_plurality", db_path=db_path, mlflow_uri=mlflow_uri)
    rows = _rows(db_path, """SELECT c.question_id, s.text, s.logprob, c.class_id
                             FROM sample_classes c JOIN samples s
                               ON s.run_id = ? AND s.question_id = c.question_id
                              AND s.sample_idx = c.sample_idx
                             WHERE c.grading_id = ?""", [run_id, grading])
    verdicts = {(q, c): ok for q, c, ok in _rows(
        db_path, "SELECT question_id, class_id, correct FROM class_grades WHERE grading_id = ?",
        [grading])}
    conf, right = [], []
    for q in {r[0] for r in rows}:
        distinct = {text: (cls, math.exp(lp)) for qq, text, lp, cls in rows if qq == q}
        total = sum(p for _, p in distinct.values())
        per_class = {}
        for cls, p in distinct.values():
            if cls is not None:
                per_class[cls] = per_class.get(cls, 0.0) + p
        top = max(sorted(per_class), key=lambda c: per_class[c])
        conf.append(per_class[top] / total)
        right.append(bool(verdicts[(q, top)]))
    est = api.metrics(score_id, db_path=db_path)
    assert est["confidence"].value == pytest.approx(np.mean(conf))
    assert est["accuracy"].value == pytest.approx(np.mean(right))
    assert est["smece"].floor_mean is None
    assert _rows(db_path, "SELECT estimator FROM scores WHERE score_id = ?",
                 [score_id]) == [("weighted_plurality",)]
    with Writer(db_path) as writer, writer.transaction() as con:
        con.execute("UPDATE samples SET logprob = NULL WHERE run_id = ? AND sample_idx = 0",
                    [run_id])
    with pytest.raises(StageError, match="stored no log-probability or token count for 4 samples"):
        api.score(grading, estimator="weighted_plurality", db_path=db_path,
                  mlflow_uri=mlflow_uri)

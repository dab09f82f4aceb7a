"""The floor as every score stores and shows it: in the store, `show`, the views and MLflow
(the floor itself, on synthetic models, is tests/unit/test_floor.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from tests.helpers import query as _rows
from workbench import api
from workbench.analysis.floor import floor
from workbench.cli import app


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

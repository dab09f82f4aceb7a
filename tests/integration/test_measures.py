"""Every confidence measure over a real store: `score --estimator all` scores each one from the
stored samples (no model), ranking measures get no calibration figures, a run without
log-probabilities is told which measures it cannot have, and the variant's figures stay the
paper's plurality score."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from tests.helpers import query as _rows
from workbench import api
from workbench.analysis.confidence import MEASURES, semantic_entropy
from workbench.cli import app
from workbench.store import Writer


def _graded(db_path, mlflow_uri, logprobs=True):
    run_id = make_run(db_path, CAPS, TEXTS)
    with Writer(db_path) as writer, writer.transaction() as con:
        con.execute("UPDATE samples SET logprob = CASE WHEN ? THEN -0.1 * length(text) END, "
                    "n_tokens = 1 + length(text) // 4 WHERE run_id = ?", [logprobs, run_id])
    return run_id, api.grade(run_id, db_path=db_path, mlflow_uri=mlflow_uri)


def test_every_measure_is_scored_and_the_variant_keeps_the_plurality_score(db_path, mlflow_uri):
    run_id, grading = _graded(db_path, mlflow_uri)
    plural = api.score(grading, n_bootstrap=20, floor_draws=10, db_path=db_path,
                       mlflow_uri=mlflow_uri)
    done = api.score_measures(grading, n_bootstrap=20, floor_draws=10, db_path=db_path,
                              mlflow_uri=mlflow_uri)
    assert [d[0] for d in done] == list(MEASURES) and all(sid for _, sid, _ in done)
    by = {name: api.metrics(sid, db_path=db_path) for name, sid, _ in done}
    for name, est in by.items():
        want = {"accuracy", "auroc", "aurac"} | ({"smece", "ece", "brier", "confidence",
                                                   "overconfidence"}
                                                  if MEASURES[name].probability else set())
        assert set(est) == want, name
    # the same plurality answers, so the same accuracy under every measure but two
    assert {round(by[n]["accuracy"].value, 9) for n in by
            if n not in ("split", "weighted_plurality")} == {by["plurality"]["accuracy"].value}
    # recomputed from the stored classes: semantic entropy's AUROC
    classes = {}
    for q, c in _rows(db_path, "SELECT question_id, coalesce(class_id, -1) FROM sample_classes "
                               "WHERE grading_id = ? ORDER BY question_id, sample_idx",
                      [grading]):
        classes.setdefault(q, []).append(c)
    pts = api.questions(grading, db_path=db_path)
    right = {p["question_id"]: p["correct"] for p in pts}
    f = [semantic_entropy(np.array(classes[q]))[1] for q in sorted(right)]
    y = [float(right[q]) for q in sorted(right)]
    pos = [a for a, b in zip(f, y) if b]
    neg = [a for a, b in zip(f, y) if not b]
    pairs = [(a > b) + 0.5 * (a == b) for a in pos for b in neg]
    assert by["semantic_entropy"]["auroc"].value == np.mean(pairs)
    # no diagram for a measure that ranks; the variant still shows the plurality score
    assert _rows(db_path, "SELECT diagram_path IS NULL FROM scores WHERE score_id = ?",
                 [dict((n, s) for n, s, _ in done)["n_classes"]]) == [(True,)]
    assert _rows(db_path, "SELECT score_id, estimator FROM variants WHERE grading_id = ?",
                 [grading])[0][1] == "plurality"
    rows, _ = api.compare("caps", ["model"], db_path=db_path)
    assert rows[0]["metrics"]["smece"].value == by["plurality"]["smece"].value
    assert rows[0]["score_id"] != plural  # the newest plurality score (score_measures' own)

    # grouped by measure: each measure's newest score, and a curve for the probabilities only
    rows, png = api.compare("caps", ["model", "measure"], db_path=db_path)
    got = {r["variant"]["measure"]: r for r in rows}
    assert sorted(got) == sorted(MEASURES)
    assert {m: r["score_id"] for m, r in got.items()} == {n: sid for n, sid, _ in done}
    assert got["n_classes"]["metrics"]["auroc"].value == by["n_classes"]["auroc"].value
    assert "smece" not in got["semantic_entropy"]["metrics"] and png.exists()
    shown = CliRunner().invoke(app, ["compare", "--dataset", "caps", "--group-by",
                                     "model,measure", "--format", "json", "--db", str(db_path)])
    assert shown.exit_code == 0, shown.output
    table = {r["measure"]: r for r in json.loads(shown.output)}
    assert table["answer_logprob"]["smece"] is None
    assert table["answer_logprob"]["aurac"] == by["answer_logprob"]["aurac"].value
    assert table["weighted_plurality"]["smece"] == by["weighted_plurality"]["smece"].value


def test_a_run_without_logprobs_is_told_which_measures_it_cannot_have(db_path, mlflow_uri):
    _, grading = _graded(db_path, mlflow_uri, logprobs=False)
    before = _rows(db_path, "SELECT count(*) FROM scores")
    res = CliRunner().invoke(app, ["score", grading, "--estimator", "all", "--bootstrap", "20",
                                   "--floor-draws", "10", "--db", str(db_path),
                                   "--mlflow-uri", mlflow_uri], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    needs = [n for n, m in MEASURES.items() if m.sequences]
    for name in MEASURES:
        line = [ln for ln in res.output.splitlines() if ln.startswith(f"{name}: not scored")]
        assert bool(line) == (name in needs), (name, res.output)
    words = " ".join(res.output.split())  # rich wraps at the width the suite was started with
    assert "stored no log-probability or token count for 20 samples" in words
    after = _rows(db_path, "SELECT count(*) FROM scores")
    assert after[0][0] - before[0][0] == len(MEASURES) - len(needs)
    assert "semantic_entropy" in res.output and "AURAC" in res.output

"""Every confidence measure over a real store: `score --estimator all` scores each one from the
stored samples (no model), ranking measures get no calibration figures, a run without
log-probabilities is told which measures it cannot have, and the variant's figures stay the
paper's plurality score."""

from __future__ import annotations

import json

import numpy as np
import pytest
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


# What the model stated when asked (as `workbench elicit` stores it), per question; "us" stated
# nothing it could be read as, so p_true leaves it out.
STATED = {"p_true": {"fr": 0.9, "au": 0.8, "us": None, "n": 0.3},
          "verbalized": {"fr": 0.7, "au": 0.7, "us": 0.5, "n": 1.0}}


def _stated(db_path, grading):
    from workbench.store import elicited

    with Writer(db_path) as writer, writer.transaction() as con:
        for measure, values in STATED.items():
            elicited.replace(con, grading, measure, [dict(
                grading_id=grading, question_id=q, measure=measure, answer="a", prompt="p",
                output="o", confidence=v, error=None, settings="{}") for q, v in values.items()])


def test_every_measure_is_scored_and_the_variant_keeps_the_plurality_score(db_path, mlflow_uri):
    run_id, grading = _graded(db_path, mlflow_uri)
    _stated(db_path, grading)
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
    # the same plurality answers, so the same accuracy under every measure but two (and p_true,
    # which leaves out the question that stated nothing)
    assert {round(by[n]["accuracy"].value, 9) for n in by
            if n not in ("split", "weighted_plurality", "p_true")} == \
        {by["plurality"]["accuracy"].value}
    # a stated measure is scored on its stated values, by hand: Brier = mean (f - y)^2
    right = {p["question_id"]: float(p["correct"]) for p in api.questions(grading,
                                                                          db_path=db_path)}
    for measure, values in STATED.items():
        kept = [q for q, v in values.items() if v is not None]
        assert by[measure]["brier"].value == np.mean([(values[q] - right[q]) ** 2
                                                      for q in kept])
        assert _rows(db_path, "SELECT n_questions FROM scores WHERE score_id = ?",
                     [dict((n, s) for n, s, _ in done)[measure]]) == [(len(kept),)]
        # and per question in SQL: what the score was computed from
        assert _rows(db_path, "SELECT question_id, confidence FROM question_measures WHERE "
                              "grading_id = ? AND measure = ? ORDER BY 1", [grading, measure]) \
            == sorted((q, values[q]) for q in kept)
    # plurality's per-question values are question_confidence's; every measure has its rows
    assert _rows(db_path, "SELECT question_id, confidence, correct FROM question_measures "
                          "WHERE grading_id = ? AND measure = 'plurality' ORDER BY 1",
                 [grading]) == _rows(db_path, "SELECT question_id, confidence, correct FROM "
                                              "question_confidence WHERE grading_id = ? AND "
                                              "correct IS NOT NULL ORDER BY 1", [grading])
    assert {m for (m,) in _rows(db_path, "SELECT DISTINCT measure FROM question_measures")} \
        == set(MEASURES)
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
    needs = [n for n, m in MEASURES.items() if m.sequences or m.elicited]
    for name in MEASURES:
        line = [ln for ln in res.output.splitlines() if ln.startswith(f"{name}: not scored")]
        assert bool(line) == (name in needs), (name, res.output)
    words = " ".join(res.output.split())  # rich wraps at the width the suite was started with
    assert "stored no log-probability or token count for 20 samples" in words
    assert f"`workbench elicit {grading} --measure p_true` asks for them" in words
    after = _rows(db_path, "SELECT count(*) FROM scores")
    assert after[0][0] - before[0][0] == len(MEASURES) - len(needs)
    assert "semantic_entropy" in res.output and "AURAC" in res.output


def _elicit_server(req):
    """A server that answers samples " Paris", a p_true call with " yes" at log p -0.2 and " no"
    at -1.8 among the first token's top log p, and a verbalized call with " 85"."""
    from tests.fakeserver import completion_body

    prompt = req["prompt"]
    if "Is the proposed answer correct?" in prompt:
        top = {" yes": -0.2, " no": -1.8, " maybe": -3.0}
        body = {"id": "x", "object": "text_completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "text": " yes", "finish_reason": "length",
                             "logprobs": {"tokens": [" yes"], "token_logprobs": [-0.2],
                                          "top_logprobs": [top], "text_offset": [0]}}]}
        return 200, {}, json.dumps(body).encode()
    if "How confident are you" in prompt:
        return 200, {}, completion_body(1, " 85")
    return 200, {}, completion_body(req.get("n", 1), " Paris")


def test_p_true_and_verbalized_are_asked_of_the_runs_model_and_scored(tmp_path, mlflow_uri,
                                                                     small_dataset):
    """`workbench elicit` asks the run's own server once per answered question (" Paris" for
    "What is 2 plus 2?" answers nothing: a number question needs a number), stores each prompt
    and output, and the score reads the stated values: p_true by hand from the top log p,
    e^-0.2 / (e^-0.2 + e^-1.8); verbalized 85 -> 0.85."""
    from tests.fakeserver import FakeServer
    from workbench.api import GenerateRequest
    from workbench.backends.openai import Config as OpenAIConfig

    db = tmp_path / "wb.duckdb"
    with FakeServer(default=_elicit_server) as srv:
        run = api.generate(GenerateRequest("m", str(small_dataset), samples=3, shots=2,
                                           prompt_format="completion",
                                           backend=OpenAIConfig(base_url=srv.url)),
                           db_path=db, mlflow_uri=mlflow_uri)
        grading = api.grade(run, db_path=db, mlflow_uri=mlflow_uri)
        res = CliRunner().invoke(app, ["elicit", grading, "--db", str(db), "--mlflow-uri",
                                       mlflow_uri])
        assert res.exit_code == 0, res.output
        assert "asked 2 questions for p_true; 2 stated a confidence" in " ".join(
            res.output.split())
        said = api.elicit(run, "verbalized", judge="exact", db_path=db, mlflow_uri=mlflow_uri)
        assert (said["asked"], said["stated"], said["failed"]) == (2, 2, 0)
    rows = _rows(db, "SELECT measure, answer, prompt, confidence, settings FROM elicited "
                     "ORDER BY measure, question_id")
    p_true = np.exp(-0.2) / (np.exp(-0.2) + np.exp(-1.8))
    assert [(m, a, c) for m, a, _, c, _ in rows] == \
        [("p_true", "Paris", p_true)] * 2 + [("verbalized", "Paris", 0.85)] * 2
    assert all("Proposed answer: Paris" in p for _, _, p, _, _ in rows)
    assert json.loads(rows[0][4])["temperature"] == 0.0
    asked = [(bool(p["answer"]), float(p["correct"]))
             for p in api.questions(grading, db_path=db)]
    assert sorted(a for a, _ in asked) == [False, True, True]
    for measure, value in (("p_true", p_true), ("verbalized", 0.85)):
        est = api.metrics(api.score(grading, estimator=measure, n_bootstrap=20,
                                    floor_draws=0, db_path=db, mlflow_uri=mlflow_uri),
                          db_path=db)
        # a question with no answer has confidence 0 and is wrong, as under plurality
        assert est["brier"].value == pytest.approx(
            np.mean([(value * a - y) ** 2 for a, y in asked]), abs=1e-12)
        assert est["confidence"].value == pytest.approx(value * 2 / 3, abs=1e-12)


def test_elicit_runs_end_to_end_on_a_local_model(tiny_model, small_dataset, tmp_path,
                                                  mlflow_uri):
    """Through the local backend: one greedy call a question, its prompt and output stored;
    p_true is what the stored first-token log p say (or none, when yes and no get too little
    mass, as a random tiny model's may)."""
    from workbench.api import GenerateRequest
    from workbench.grading.elicitations import MIN_MASS
    from workbench.grading.judges.verdict import from_top_logprobs

    db = tmp_path / "wb.duckdb"
    run = api.generate(GenerateRequest(str(tiny_model), str(small_dataset), samples=2,
                                       shots=2, max_new_tokens=3), db_path=db,
                       mlflow_uri=mlflow_uri)
    grading = api.grade(run, db_path=db, mlflow_uri=mlflow_uri)
    answered = _rows(db, "SELECT count(*) FROM question_confidence WHERE grading_id = ? AND "
                         "answer IS NOT NULL", [grading])[0][0]
    said = api.elicit(grading, "p_true", db_path=db, mlflow_uri=mlflow_uri)
    assert said["asked"] == answered and said["failed"] == 0
    for prompt, output, confidence in _rows(db, "SELECT prompt, output, confidence FROM "
                                                "elicited"):
        assert prompt.startswith("Question: ") and prompt.endswith("Answer:")
        top = json.loads(output)["top"]
        assert len(top) == 20
        assert confidence == from_top_logprobs(top, min_mass=MIN_MASS).p_yes


def test_diff_under_a_measure(db_path, mlflow_uri):
    """`diff --estimator NAME`: both sides under that measure; a ranking measure gets accuracy,
    AUROC and AURAC only (each side's equal to its own score's); a stated measure leaves out
    the questions that stated nothing."""
    from workbench.analysis.metrics import RANKING

    _, grading = _graded(db_path, mlflow_uri)
    other = make_run(db_path, CAPS, {"fr": [" Paris"] * 5, "au": [" Canberra", " Sydney"] * 2
                                     + [" Perth"], "us": [" Washington"] * 3 + [" Boston"] * 2,
                                     "n": [" 5", " 4", " 5", " 5", " 4"]}, model="other")
    with Writer(db_path) as writer, writer.transaction() as con:
        con.execute("UPDATE samples SET logprob = -0.1 * length(text), n_tokens = 1 "
                    "WHERE run_id = ?", [other])
    graded_other = api.grade(other, db_path=db_path, mlflow_uri=mlflow_uri)
    ga, gb, d = api.diff(grading, graded_other, estimator="n_classes", n_bootstrap=20,
                         db_path=db_path)
    assert [m.metric for m in d.metrics] == list(RANKING) and gb["estimator"] == "n_classes"
    for side, g in (("a", grading), ("b", graded_other)):
        own = api.metrics(api.score(g, estimator="n_classes", n_bootstrap=20, floor_draws=0,
                                    db_path=db_path, mlflow_uri=mlflow_uri), db_path=db_path)
        got = {m.metric: getattr(m, side) for m in d.metrics}
        assert got["auroc"] == own["auroc"].value and got["aurac"] == own["aurac"].value
    _stated(db_path, grading)
    _, _, same = api.diff(grading, grading, estimator="p_true", n_bootstrap=20, db_path=db_path)
    assert same.n_shared == 3 and all(m.delta == 0 for m in same.metrics)  # "us" stated none
    res = CliRunner().invoke(app, ["diff", grading, graded_other, "--estimator", "n_classes",
                                   "--bootstrap", "20", "--db", str(db_path)])
    words = " ".join(res.output.split())
    assert res.exit_code == 0 and "confidence: n_classes" in words, res.output
    assert "smECE" not in words and "AUROC" in words


@pytest.fixture
def polygraph(monkeypatch):
    """LM-Polygraph's SemanticEntropy, loaded from the installed package without running its
    package's eager imports (nltk, spacy and the rest, for other estimators): empty package
    modules stand in for ``lm_polygraph``, ``.utils`` and ``.estimators``, and everything
    loaded is dropped afterwards."""
    import importlib
    import importlib.util
    import sys
    import types
    from pathlib import Path

    spec = importlib.util.find_spec("lm_polygraph")
    if spec is None:
        pytest.skip("lm-polygraph is not installed (pip install lm-polygraph==0.7.0; not a "
                    "default dependency: it pulls in nltk, spacy and more)")
    root = Path(spec.submodule_search_locations[0])
    for name, sub in (("lm_polygraph", "."), ("lm_polygraph.utils", "utils"),
                      ("lm_polygraph.estimators", "estimators")):
        stub = types.ModuleType(name)
        stub.__path__ = [str(root / sub)]
        monkeypatch.setitem(sys.modules, name, stub)
    before = set(sys.modules)
    yield importlib.import_module("lm_polygraph.estimators.semantic_entropy").SemanticEntropy
    for name in set(sys.modules) - before:
        if name.startswith("lm_polygraph"):
            del sys.modules[name]


def test_discrete_semantic_entropy_is_lm_polygraphs(polygraph):
    """Ours (Farquhar et al. 2024's discrete entropy, as 1 - H/ln M) against LM-Polygraph
    0.7.0's SemanticEntropy with class frequencies (its "SemanticEntropyEmpirical": -mean over
    samples of log p(the sample's class) = H) on random class draws, non-answers one class.
    Its likelihood-weighted variant is another estimator (unnormalised class masses of raw
    sequence log p), so `weighted_semantic_entropy` follows Farquhar et al.'s code instead."""
    rng = np.random.default_rng(11)
    estimator = polygraph(class_probability_estimation="frequency")
    for _ in range(200):
        m = int(rng.integers(2, 21))
        classes = rng.integers(-1, int(rng.integers(1, 6)), size=m)
        if (classes < 0).all():
            classes[0] = 0
        ids = sorted(set(classes.tolist()))
        stats = {"sample_texts": [[str(c) for c in classes]],
                 "semantic_classes_entail": {
                     "class_to_sample": [[[j for j, c in enumerate(classes) if c == k]
                                          for k in ids]],
                     "sample_to_class": [[ids.index(c) for c in classes.tolist()]]}}
        h = float(estimator(stats)[0])
        assert semantic_entropy(classes)[1] == pytest.approx(max(0.0, 1 - h / np.log(m)),
                                                             abs=1e-12)


def test_score_reports_every_sample_based_measure(db_path, mlflow_uri):
    """`workbench score G` stores the paper's plurality score and lays every sample-based
    measure beside it as point estimates, each equal to what that measure's own stored score
    says (the stated measures need `elicit`, so they are not among them)."""
    _, grading = _graded(db_path, mlflow_uri)
    res = CliRunner().invoke(app, ["score", grading, "--bootstrap", "20", "--floor-draws", "10",
                                   "--db", str(db_path), "--mlflow-uri", mlflow_uri],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = {r["measure"]: r for r in api.measure_summary(grading, db_path=db_path)}
    assert sorted(rows) == sorted(n for n, m in MEASURES.items() if not m.elicited)
    for name in ("semantic_entropy", "weighted_plurality"):
        own = api.metrics(api.score(grading, estimator=name, n_bootstrap=20, floor_draws=0,
                                    db_path=db_path, mlflow_uri=mlflow_uri), db_path=db_path)
        assert rows[name]["auroc"] == own["auroc"].value
        shown = [ln for ln in res.output.splitlines() if f" {name} " in f" {ln} "]
        assert shown and f"{own['auroc'].value:.3f}" in shown[0], res.output
    assert rows["weighted_plurality"]["smece"] is not None
    assert rows["semantic_entropy"]["smece"] is None

"""LLM judges against a scripted OpenAI-compatible judge server."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.fakeserver import FakeServer
from tests.helpers import CAPS, TEXTS, make_run
from tests.helpers import query as _rows
from workbench import api
from workbench.analysis.agreement import kappa
from workbench.cli import app
from workbench.grading.judges.llm import JudgeRecord, parse_answers, parse_verdict


def chat(content: str) -> bytes:
    return json.dumps({"id": "j", "object": "chat.completion", "created": 0, "model": "judge",
                       "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                    "message": {"role": "assistant", "content": content}}],
                       "usage": {"prompt_tokens": 50, "completion_tokens": 5,
                                 "total_tokens": 55}}).encode()


class JudgeScript:
    """Grader: right for Paris/Canberra/Washington/4, wrong otherwise; "in Paris" gets prose
    (unparseable); "Sydney" gets a 500 while ``broken``. Extractor: the last word of each
    response, or garbage for the Australia question while ``broken``."""

    def __init__(self):
        self.broken = True

    def __call__(self, req):
        prompt = req["messages"][-1]["content"]
        if "Responses:" in prompt:
            lines = [ln.split(". ", 1)[1] for ln in prompt.split("Responses:\n")[1]
                     .split("\n\nReply")[0].splitlines()]
            if self.broken and "Australia" in prompt:
                return 200, {}, chat("I cannot do that")
            return 200, {}, chat(json.dumps({"answers": [ln.strip(" .,").split(" ")[-1]
                                                         for ln in lines]}))
        answer = prompt.split("Candidate answer: ")[1].split("\n")[0]
        if answer == "in Paris" and self.broken:
            return 200, {}, chat("Well, it depends.")
        if answer == "Sydney" and self.broken:
            return 500, {}, b'{"error": {"message": "judge down"}}'
        ok = answer.strip(" .").lower() in ("paris", "canberra", "washington", "4", "4.0")
        return 200, {}, chat(json.dumps({"verdict": "correct" if ok else "incorrect"}))


def test_parsers():
    assert parse_verdict('Sure. {"verdict": "correct"}') is True
    assert parse_verdict('{"verdict": "maybe"}') is None
    assert parse_answers('{"answers": ["a", null]}', 2) == ["a", ""]
    assert parse_answers('{"answers": ["a"]}', 2) is None
    assert kappa([True, False, True, False], [True, False, True, False]) == 1.0


def test_record_versions_follow_model_prompts_and_params():
    a = JudgeRecord("j", "m", "http://x/v1")
    assert a.version == JudgeRecord("j", "m", "http://y/v1").version  # where it runs: no
    assert a.version != JudgeRecord("j", "m2", "http://x/v1").version
    assert a.version != JudgeRecord("j", "m", "http://x/v1", grader_prompt="other").version


@pytest.fixture
def judged(tmp_path, mlflow_uri, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "k")
    script = JudgeScript()
    with FakeServer(default=script) as srv:
        path = tmp_path / "wb.duckdb"
        run_id = make_run(path, CAPS, TEXTS)
        for name, extract in (("llm", False), ("llm-b", True)):
            res = CliRunner().invoke(app, ["judges", "add", name, "--model", "judge",
                                           "--base-url", srv.url, "--api-key-env", "JUDGE_KEY",
                                           "--max-retries", "1", *(["--extract"] * extract),
                                           "--db", str(path)])
            assert res.exit_code == 0, res.output
        yield path, run_id, script, srv



def test_grader_errors_are_stored_not_counted_wrong_and_retried(judged, mlflow_uri):
    path, run_id, script, srv = judged
    grading = api.grade(run_id, "llm", db_path=path, mlflow_uri=mlflow_uri)
    verdicts = {(q, c): (ok, err) for q, c, ok, err in _rows(
        path, "SELECT question_id, canonical, correct, judge_error FROM class_grades "
              "WHERE grading_id = ?", [grading])}
    assert verdicts[("fr", "Paris")] == (True, None)
    assert verdicts[("fr", "Lyon")][0] is False
    assert verdicts[("fr", "in Paris")][0] is None and "unparseable" in verdicts[("fr",
                                                                                  "in Paris")][1]
    assert verdicts[("au", "Sydney")][0] is None and "judge down" in verdicts[("au", "Sydney")][1]
    # one call per distinct (question, class), plus the failed one's retry
    grader_calls = [r for r in srv.requests if "Candidate answer" in r["messages"][-1]["content"]]
    assert len(grader_calls) == len(verdicts) + 1
    calls, errors = _rows(path, "SELECT judge_calls, judge_errors FROM gradings "
                                "WHERE grading_id = ?", [grading])[0]
    assert errors == 2
    # Australia's plurality (Sydney) has no verdict: left out of the score, and counted.
    score = api.score(grading, n_bootstrap=20, db_path=path, mlflow_uri=mlflow_uri)
    assert _rows(path, "SELECT n_questions, n_excluded FROM scores WHERE score_id = ?",
                 [score]) == [(3, 1)]
    # The judge recovers: grading again with it retries the errors in place.
    script.broken = False
    assert api.grade(run_id, "llm", db_path=path, mlflow_uri=mlflow_uri) == grading
    assert _rows(path, "SELECT count(*) FROM class_grades WHERE grading_id = ? AND "
                       "(correct IS NULL OR judge_error IS NOT NULL)", [grading]) == [(0,)]
    assert _rows(path, "SELECT count(*) FROM gradings") == [(1,)]


def test_llm_extractor_makes_the_classes(judged, mlflow_uri):
    path, run_id, script, _ = judged
    grading = api.grade(run_id, "llm-b", db_path=path, mlflow_uri=mlflow_uri)
    assert _rows(path, "SELECT question_id, error LIKE 'unparseable extraction%' FROM "
                       "grading_errors WHERE grading_id = ?", [grading]) == [("au", True)]
    got = dict(_rows(path, "SELECT question_id, correct FROM question_confidence "
                           "WHERE grading_id = ?", [grading]))
    assert got["au"] is None  # answers not extracted: left out, not wrong
    # the extractor reduced "in Paris" to "Paris": the France class now holds 4 of 5
    assert _rows(path, "SELECT confidence FROM question_confidence WHERE grading_id = ? "
                       "AND question_id = 'fr'", [grading]) == [(0.8,)]
    script.broken = False
    assert api.grade(run_id, "llm-b", db_path=path, mlflow_uri=mlflow_uri) == grading
    assert _rows(path, "SELECT count(*) FROM grading_errors") == [(0,)]
    assert dict(_rows(path, "SELECT question_id, correct FROM question_confidence "
                            "WHERE grading_id = ?", [grading]))["au"] is False


def test_judges_compare(judged, mlflow_uri):
    path, run_id, script, _ = judged
    script.broken = False
    exact = api.grade(run_id, "exact", db_path=path, mlflow_uri=mlflow_uri)
    contains = api.grade(run_id, "contains", db_path=path, mlflow_uri=mlflow_uri)
    llm = api.grade(run_id, "llm", db_path=path, mlflow_uri=mlflow_uri)
    r = api.compare_judges(exact, llm, n_bootstrap=50, db_path=path, mlflow_uri=mlflow_uri)
    assert r["n_shared"] == 4 and r["agreement"] == 1.0 and r["same_run"]
    res = CliRunner().invoke(app, ["judges", "compare", exact, contains, "--format", "json",
                                   "--db", str(path), "--mlflow-uri", mlflow_uri])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["n_shared"] == 4
    listed = CliRunner().invoke(app, ["judges", "list", "--db", str(path)]).output
    assert "llm-b" in listed

"""LLM judges against a scripted OpenAI-compatible judge server."""

from __future__ import annotations

import json
import re

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
                                           "--max-retries", "1", "--verdict", "text",
                                           *(["--extract"] * extract),
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
    methods = dict(_rows(path, "SELECT canonical, verdict_method FROM class_grades WHERE "
                               "grading_id = ? AND question_id = 'au'", [grading]))
    assert methods["Sydney"] == "error"  # a failed call is not a rule's verdict
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
    # The score read the old verdicts: marked stale in the variants view, runs and show, until
    # the grading is scored again.
    assert _rows(path, "SELECT score_id, score_stale FROM variants") == [(score, True)]
    listed = CliRunner().invoke(app, ["runs", "--format", "json", "--db", str(path)])
    assert [r["score_stale"] for r in __import__("json").loads(listed.output)] == [True]
    said = api.show(score, db_path=path)["stale"]
    assert said.startswith(f"grading {grading} was revised at") and "scores it again" in said
    again = api.score(grading, n_bootstrap=20, db_path=path, mlflow_uri=mlflow_uri)
    assert _rows(path, "SELECT score_id, score_stale FROM variants") == [(again, False)]
    assert api.show(again, db_path=path)["stale"] is None


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


def chat_tops(tops: dict[str, float]) -> bytes:
    """A one-token chat reply whose top_logprobs are ``tops`` (token -> probability)."""
    import math
    first = max(tops, key=tops.get) if tops else "x"
    content = [{"token": first, "logprob": math.log(tops.get(first, 0.5)), "bytes": None,
                "top_logprobs": [{"token": t, "logprob": math.log(p), "bytes": None}
                                 for t, p in tops.items()]}]
    return json.dumps({"id": "j", "object": "chat.completion", "created": 0, "model": "judge",
                       "choices": [{"index": 0, "finish_reason": "length",
                                    "logprobs": {"content": content},
                                    "message": {"role": "assistant", "content": first}}],
                       "usage": {"prompt_tokens": 80, "completion_tokens": 1,
                                 "total_tokens": 81}}).encode()


# Chosen next-token distributions per candidate answer (the rest get a clear yes or no).
TOPS = {"Paris": {" Yes": 0.6, "yes": 0.1, " No": 0.1, "The": 0.2},  # P(yes) = 0.875
        "Sydney": {"No": 0.7, " yes": 0.1, "I": 0.2},  # P(yes) = 0.125
        "Lyon": {"The": 0.5, "I": 0.3, "Well": 0.1}}  # no yes or no at all: no verdict


def test_verdicts_by_token_probability(tmp_path, mlflow_uri, monkeypatch):
    """P(yes) read from the verdict token's top_logprobs, stored beside the verdict; a reply
    with neither option in its top list is no verdict, with the reason; one token per class,
    one call per class; `judges compare` reports the probability agreement with `exact`."""
    monkeypatch.setenv("JUDGE_KEY", "k")

    def script(req):
        assert req["max_tokens"] == 1 and req["logprobs"] and req["top_logprobs"] == 20
        assert [m["role"] for m in req["messages"]][:2] == ["user", "assistant"]  # examples
        answer = req["messages"][-1]["content"].split("Candidate answer: ")[1].split("\n")[0]
        right = answer.strip(" .").lower() in ("paris", "canberra", "washington", "4", "4.0")
        return 200, {}, chat_tops(TOPS.get(answer, {"yes": 0.9, "no": 0.05} if right
                                           else {"no": 0.9, "yes": 0.05}))

    with FakeServer(default=script) as srv:
        path = tmp_path / "wb.duckdb"
        run_id = make_run(path, CAPS, TEXTS)
        res = CliRunner().invoke(app, ["judges", "add", "lp", "--model", "judge", "--base-url",
                                       srv.url, "--api-key-env", "JUDGE_KEY", "--db", str(path)])
        assert res.exit_code == 0, res.output
        grading = api.grade(run_id, "lp", db_path=path, mlflow_uri=mlflow_uri)
        n_classes = _rows(path, "SELECT count(*) FROM class_grades WHERE grading_id = ?",
                          [grading])[0][0]
        assert len(srv.requests) == n_classes
    got = {c: (ok, p, m, how, err) for c, ok, p, m, how, err in _rows(
        path, "SELECT canonical, correct, p_yes, verdict_mass, verdict_method, judge_error "
              "FROM class_grades WHERE grading_id = ? AND question_id IN ('fr', 'au')",
        [grading])}
    assert got["Paris"][:2] == (True, pytest.approx(0.875))
    assert got["Paris"][2:4] == (pytest.approx(0.8), "logprob")
    assert got["Sydney"][:2] == (False, pytest.approx(0.125))
    assert got["Lyon"][0] is None and got["Lyon"][2] == 0 and "no verdict" in got["Lyon"][4]
    exact = api.grade(run_id, "exact", db_path=path, mlflow_uri=mlflow_uri)
    r = api.compare_judges(exact, grading, n_bootstrap=20, db_path=path)
    c = r["classes"]
    assert c["n_classes"] == n_classes - 1  # Lyon has no verdict
    assert c["p_yes_vs_rule"]["side"] == "b" and 0 < c["p_yes_vs_rule"]["brier"] < 0.1
    done = CliRunner().invoke(app, ["judges", "compare", exact, grading, "--db", str(path)])
    assert "P(yes) of judge lp against the rule judge's verdicts" in done.output


def test_a_server_without_logprobs_gets_a_constrained_or_plain_word(tmp_path, mlflow_uri,
                                                                    monkeypatch):
    """No top_logprobs in the reply: the judge asks for a word from then on, constrained to
    yes/no where the server family offers it (vLLM's guided_choice here)."""
    monkeypatch.setenv("JUDGE_KEY", "k")

    def script(req):
        if req.get("max_tokens") == 1:
            return 200, {}, chat("x")  # logprobs: None
        assert req["guided_choice"] == ["yes", "no"]
        answer = req["messages"][-1]["content"].split("Candidate answer: ")[1].split("\n")[0]
        return 200, {}, chat("yes" if answer.strip().lower() == "paris" else "no")

    with FakeServer(default=script) as srv:
        path = tmp_path / "wb.duckdb"
        run_id = make_run(path, CAPS, TEXTS)
        api.add_judge("g", "judge", srv.url, api_key_env="JUDGE_KEY", server="vllm",
                      concurrency=1, db_path=path)
        grading = api.grade(run_id, "g", db_path=path, mlflow_uri=mlflow_uri)
        n_classes = _rows(path, "SELECT count(*) FROM class_grades WHERE grading_id = ?",
                          [grading])[0][0]
        assert len(srv.requests) == n_classes + 1  # one logprob try, then words
    rows = _rows(path, "SELECT canonical, correct, verdict_method FROM class_grades "
                       "WHERE grading_id = ? AND question_id = 'fr'", [grading])
    assert ("Paris", True, "choice") in rows and ("Lyon", False, "choice") in rows


@pytest.mark.slow
def test_a_bundled_model_judges_every_class_through_serve(tmp_path, mlflow_uri, monkeypatch):
    """SmolLM2 behind a real `workbench serve`: its chat top_logprobs are the model's own
    softmax for the first token, and a re-grade with it as a logprob judge gives a verdict (and
    P(yes)) for every class: no parse failures."""
    import math
    import os
    import subprocess

    import openai
    import torch

    from tests.helpers import WORKBENCH, free_port, wait_http
    from workbench.backends.transformers.models import load, resolve

    monkeypatch.setenv("JUDGE_KEY", "k")
    port = free_port()
    proc = subprocess.Popen([WORKBENCH, "serve", "--model", "smollm2-135m-instruct", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        assert wait_http(url + "/models", proc=proc), proc.stderr.read().decode()[-2000:]
        messages = [{"role": "user", "content": "Is Paris the capital of France? Answer yes "
                                                "or no."}]
        r = openai.OpenAI(base_url=url, api_key="x", max_retries=0).chat.completions.create(
            model="smollm2-135m-instruct", messages=messages, max_tokens=1, temperature=0,
            logprobs=True, top_logprobs=5)
        top = {t.token: t.logprob for t in r.choices[0].logprobs.content[0].top_logprobs}
        model, tok = load(resolve("smollm2-135m-instruct"))
        ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                      return_dict=True)["input_ids"]
        with torch.no_grad():
            probs = model(input_ids=ids).logits[0, -1].double().softmax(-1)
        want = {}
        for p, t in zip(*probs.topk(5)):
            want[tok.decode([int(t)])] = want.get(tok.decode([int(t)]), 0.0) + float(p)
        assert sum(math.exp(v) for v in top.values()) <= 1 + 1e-6
        assert {t: round(math.exp(v), 3) for t, v in top.items()} == {
            t: round(v, 3) for t, v in want.items()}

        path = tmp_path / "wb.duckdb"
        run_id = make_run(path, CAPS, TEXTS)
        api.add_judge("smol", "smollm2-135m-instruct", url, api_key_env="JUDGE_KEY",
                      server="workbench", db_path=path)
        grading = api.grade(run_id, "smol", db_path=path, mlflow_uri=mlflow_uri)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    classes, verdicts, with_p, errors = _rows(
        path, "SELECT count(*), count(correct), count(p_yes), count(judge_error) "
              "FROM class_grades WHERE grading_id = ?", [grading])[0]
    assert classes > 10 and verdicts == with_p == classes and errors == 0


def test_judges_compare_counts_every_class_level_disagreement(tmp_path):
    """Two gradings of one run whose maps B class the answers differently (as an LLM extractor
    and the rules do): grading B merges " in Paris" into Paris and credits Sydney. Comparing
    verdicts by class key saw neither (no shared key disagrees); pairing the samples finds both
    classes, with their sample counts."""
    from workbench.store import Writer

    path, uri = tmp_path / "wb.duckdb", f"sqlite:///{tmp_path}/mlflow.db"
    run = make_run(path, CAPS, TEXTS)
    a = api.grade(run, "exact", db_path=path, mlflow_uri=uri)
    b = "grd_mapb_other"
    with Writer(path) as writer, writer.transaction() as con:
        con.execute("CREATE TEMP TABLE g AS SELECT * FROM gradings WHERE grading_id = ?", [a])
        con.execute("UPDATE g SET grading_id = ?, judge = 'other-map'", [b])
        con.execute("INSERT INTO gradings SELECT * FROM g")
        con.execute("INSERT INTO sample_classes SELECT ? AS grading_id, * EXCLUDE (grading_id) "
                    "FROM sample_classes WHERE grading_id = ?", [b, a])
        con.execute("INSERT INTO class_grades SELECT ? AS grading_id, * EXCLUDE (grading_id) "
                    "FROM class_grades WHERE grading_id = ?", [b, a])
        # B's map: "in Paris" is Paris (its own class is gone); B's judge: Sydney is right
        paris = con.execute("SELECT class_id FROM class_grades WHERE grading_id = ? AND "
                            "question_id = 'fr' AND class_key = 'paris'", [b]).fetchone()[0]
        con.execute("UPDATE sample_classes SET class_id = ? WHERE grading_id = ? AND "
                    "question_id = 'fr' AND extracted = 'in Paris'", [paris, b])
        con.execute("DELETE FROM class_grades WHERE grading_id = ? AND question_id = 'fr' AND "
                    "class_key = 'in paris'", [b])
        con.execute("UPDATE class_grades SET correct = true WHERE grading_id = ? AND "
                    "question_id = 'au' AND class_key = 'sydney'", [b])
    r = api.compare_judges(a, b, n_bootstrap=20, db_path=path, mlflow_uri=uri)
    got = {(d["question_id"], d["class_a"], d["class_b"], d["correct_a"], d["correct_b"],
            d["samples"]) for d in r["class_disagreements"]}
    assert got == {("fr", "in paris", "paris", False, True, 1),
                   ("au", "sydney", "sydney", False, True, 3)}
    assert [d["question_id"] for d in r["disagreements"]] == ["au"]  # plurality: Sydney only
    shown = CliRunner().invoke(app, ["judges", "compare", a, b, "--db", str(path),
                                     "--mlflow-uri", uri])
    assert shown.exit_code == 0, shown.output
    assert "2 answer classes judged differently (4 samples)" in shown.output


def test_an_llm_grading_reports_each_verdict_as_it_comes(judged, mlflow_uri):
    """A grading through an LLM judge is not silent: progress(done, total) as each call
    returns, in the API and as lines of `workbench grade` in a log."""
    import subprocess

    from tests.helpers import WORKBENCH

    path, run_id, script, _ = judged
    script.broken = False
    seen = []
    grading = api.grade(run_id, "llm", db_path=path, mlflow_uri=mlflow_uri,
                        progress=lambda d, t: seen.append((d, t)))
    (n,), = _rows(path, "SELECT count(*) FROM class_grades WHERE grading_id = ?", [grading])
    assert seen == [(i, n) for i in range(1, n + 1)]
    res = subprocess.run([WORKBENCH, "grade", run_id, "--judge", "contains", "--db", str(path),
                          "--mlflow-uri", mlflow_uri], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    counts = [tuple(map(int, m.groups())) for m in
              re.finditer(r"^judged (\d+)/(\d+) classes$", res.stderr, re.M)]
    assert counts and counts[-1][0] == counts[-1][1] > 0, res.stderr

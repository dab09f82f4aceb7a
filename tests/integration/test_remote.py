"""The OpenAI-compatible backend: retries and faults against a scripted local server, and the
whole path end to end against a real `workbench serve` process."""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading

import duckdb
import pytest

from tests.fakeserver import FakeServer, completion_body, status
from tests.helpers import WORKBENCH, interrupt
from workbench import api
from workbench.api import GenerateRequest
from workbench.backends.base import ModelInfo, SamplingParams
from workbench.backends.openai import Config as OpenAIConfig
from workbench.backends.openai.client import (
    ClientConfig,
    OpenAIClient,
    RetryPolicy,
    retry_after_seconds,
    retryable,
)
from workbench.backends.openai.sampler import OpenAISampler
from workbench.errors import MissingKey, RemoteError, StageError, UsageError

PARAMS = SamplingParams(n=3, max_new_tokens=5, stop=("\n",))


def sampler(url, endpoint="completions", timeout=5.0, retries=3):
    sleeps = []
    client = OpenAIClient(ClientConfig(url, "key", endpoint, timeout,
                                       RetryPolicy(max_retries=retries, base=0.01, cap=0.05)),
                          "m", sleep=sleeps.append)
    info = ModelInfo("m", url, "base", "chat" if endpoint == "chat" else "completion")
    return OpenAISampler(info, client, concurrency=2), sleeps


def test_retry_policy_and_headers():
    rng = random.Random(0)
    p = RetryPolicy(base=1.0, cap=8.0)
    for attempt, top in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 8.0)]:
        d = p.delay(attempt, None, rng)
        assert top / 2 <= d <= top
    assert p.delay(3, 2.5, rng) == 2.5  # the server's word wins
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"},
                               now=1445412470.0) == pytest.approx(10.0)
    assert retry_after_seconds({}) is None
    assert [retryable(s) for s in (None, 429, 500, 503, 400, 401, 404, 422)] == \
        [True, True, True, True, False, False, False, False]


def test_429_honours_retry_after_then_succeeds():
    with FakeServer([status(429, {"Retry-After": "1.5"})]) as srv:
        s, sleeps = sampler(srv.url)
        out = s.sample([("q", "Q: x\nA:")], PARAMS)[0]
    assert [c.text for c in out] == [" Paris"] * 3 and sleeps == [1.5]
    assert s.stats["retries"] == 1 and s.stats["completion_tokens"] == 3
    assert out[0].logprob == -0.5 and out[0].n_tokens == 1


def test_5xx_timeouts_and_garbled_bodies_are_retried_with_backoff():
    script = [status(500), status(503), "hang",
              lambda req: (200, {}, b"<html>not json</html>"),
              lambda req: (200, {}, b'{"id": "x", "choi')]
    with FakeServer(script) as srv:
        s, sleeps = sampler(srv.url, timeout=0.5, retries=6)
        out = s.sample([("q", "Q: x\nA:")], PARAMS)[0]
    assert len(out) == 3 and len(sleeps) == 5
    assert all(0.005 <= d <= 0.05 for d in sleeps)


def test_a_drip_fed_response_ends_at_the_whole_request_deadline():
    """A server that sends its headers and then a byte now and then restarts a per-read timeout
    with every byte; --timeout counts the whole request, so the request ends there (the server
    never finishes: only the deadline can end it)."""
    with FakeServer(["drip"]) as srv:
        client = OpenAIClient(ClientConfig(srv.url, "key", "completions", 1.0,
                                           RetryPolicy(max_retries=0)), "m")
        with pytest.raises(RemoteError, match="no whole response within 1 s"):
            client.complete("Q: x\nA:", PARAMS, 3, 0)


def test_a_response_past_the_size_cap_is_an_error_not_a_memory_fill():
    huge = completion_body(3, text=" Paris" * 5000)
    with FakeServer(default=lambda req: (200, {}, huge)) as srv:
        client = OpenAIClient(ClientConfig(srv.url, "key", "completions", 5.0,
                                           RetryPolicy(max_retries=0),
                                           max_response_bytes=10_000), "m")
        with pytest.raises(RemoteError, match="larger than 10,000 bytes"):
            client.complete("Q: x\nA:", PARAMS, 3, 0)
        assert len(huge) > 10_000
        ok = OpenAIClient(ClientConfig(srv.url, "key", "completions", 5.0,
                                       RetryPolicy(max_retries=0)), "m")
        assert len(ok.complete("Q: x\nA:", PARAMS, 3, 0)) == 3  # the default cap is far above


@pytest.mark.parametrize("usage", ["lots", [1, 2], {"prompt_tokens": "many"},
                                   {"prompt_tokens": -5, "completion_tokens": 1e300}])
def test_a_usage_report_that_is_no_count_counts_nothing(usage):
    """A server whose `usage` holds text where counts belong broke the tally with a TypeError
    after the samples had arrived; such a report now counts nothing and the samples stand."""
    body = json.loads(completion_body(3))
    body["usage"] = usage
    with FakeServer(default=lambda req: (200, {}, json.dumps(body).encode())) as srv:
        s, _ = sampler(srv.url, retries=0)
        assert len(s.sample([("q", "Q: x\nA:")], PARAMS)[0]) == 3
        assert (s.client.stats["prompt_tokens"], s.client.stats["completion_tokens"]) == (0, 0)


def test_completion_logprobs_in_the_chat_layout_are_read():
    """llama.cpp's server answers /v1/completions with its log-probabilities in the chat layout
    (``logprobs.content``); they were dropped (every sample stored a null logprob)."""
    body = json.dumps({"id": "x", "object": "text_completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "text": " Paris", "finish_reason": "stop",
                                    "logprobs": {"content": [
                                        {"token": " Par", "logprob": -0.25, "top_logprobs": [
                                            {"token": " Par", "logprob": -0.25},
                                            {"token": " Lyon", "logprob": -1.5}]},
                                        {"token": "is", "logprob": -0.5, "top_logprobs": []}]}}],
                       "usage": {"prompt_tokens": 3, "completion_tokens": 2,
                                 "total_tokens": 5}}).encode()
    with FakeServer(default=lambda req: (200, {}, body)) as srv:
        client = OpenAIClient(ClientConfig(srv.url, "key", "completions", 5.0,
                                           RetryPolicy(max_retries=0)), "m")
        (c,) = client.complete("Q: x\nA:", PARAMS, 1, 0, top_logprobs=2)
    assert c.logprob == -0.75 and c.n_tokens == 2 and c.token_logprobs == (-0.25, -0.5)
    assert c.top_logprobs[0] == {" Par": -0.25, " Lyon": -1.5}


def test_other_4xx_are_not_retried_and_give_up_is_an_error():
    with FakeServer(default=status(401)) as srv:
        s, sleeps = sampler(srv.url)
        (result,) = s.sample([("q", "Q: x\nA:")], PARAMS)
    assert isinstance(result, RemoteError) and result.status == 401 and sleeps == []
    with FakeServer(default=status(500)) as srv:
        s, sleeps = sampler(srv.url, retries=2)
        (result,) = s.sample([("q", "Q: x\nA:")], PARAMS)
    assert isinstance(result, RemoteError) and "after 3 attempts" in str(result)
    assert len(sleeps) == 2


def test_servers_without_n_get_one_request_per_sample():
    def no_n(req):
        if req.get("n", 1) > 1:
            return 400, {}, b'{"error": {"message": "n > 1 not supported"}}'
        return 200, {}, completion_body(1, " Lima")

    with FakeServer(default=no_n) as srv:
        s, _ = sampler(srv.url)
        out = s.sample([("a", "Q: a\nA:"), ("b", "Q: b\nA:")], PARAMS)
        assert all(len(r) == 3 for r in out) and not s.supports_n
        assert sum(r.get("n", 1) == 1 for r in srv.requests) == 6


def test_a_server_that_ignores_n_costs_m_requests_and_keeps_its_first_sample():
    """llama-cpp-python answers n = 3 with one choice: that sample is kept and two more are
    asked for, 3 requests per question (it was 4, the first sample thrown away)."""
    with FakeServer(default=lambda req: (200, {}, completion_body(1, " Lima"))) as srv:
        s, _ = sampler(srv.url)
        out = s.sample([("a", "Q: a\nA:"), ("b", "Q: b\nA:")], PARAMS)
        assert all(len(r) == 3 for r in out) and not s.supports_n
        assert len(srv.requests) == 6


def test_a_question_that_fails_is_not_stored_and_resume_fetches_it(small_dataset, tmp_path,
                                                                    mlflow_uri, monkeypatch):
    """Nothing is lost: the failing question's chunk stays out, the run is FAILED with the
    error in the store, and `resume` against a healthy server completes it."""
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    healthy = [True]

    def flaky(req):
        if "2 plus 2" in req["prompt"] and not healthy[0]:
            return 500, {}, b'{"error": {"message": "boom"}}'
        return 200, {}, completion_body(req.get("n", 1), " 4")

    db_path = tmp_path / "wb.duckdb"
    with FakeServer(default=flaky) as srv:
        healthy[0] = False
        req = GenerateRequest("m", str(small_dataset), samples=3, chunk_size=1, shots=2,
                              prompt_format="completion",
                              backend=OpenAIConfig(base_url=srv.url, max_retries=1))
        with pytest.raises(StageError, match="q2"):
            api.generate(req, db_path=db_path, mlflow_uri=mlflow_uri)
        con = duckdb.connect(str(db_path), read_only=True)
        (run_id, state, error), = con.execute("SELECT run_id, status, error FROM runs").fetchall()
        stored = con.execute("SELECT DISTINCT question_id FROM samples ORDER BY 1").fetchall()
        con.close()
        assert state == "FAILED" and "q2" in error and "boom" in error
        assert stored == [("q1",), ("q3",)]
        healthy[0] = True
        api.resume(run_id, db_path=db_path, mlflow_uri=mlflow_uri)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT status, prompt_tokens > 0, completion_tokens FROM runs"
                       ).fetchall() == [("FINISHED", True, 9)]
    assert con.execute("SELECT count(*) FROM samples").fetchall() == [(9,)]
    con.close()


def test_missing_key_and_base_url_are_refused_before_the_store(small_dataset, tmp_path,
                                                               monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    db_path = tmp_path / "wb.duckdb"
    with pytest.raises(MissingKey, match="NO_SUCH_KEY"):
        api.generate(GenerateRequest("m", str(small_dataset), backend=OpenAIConfig(
            base_url="https://api.example.com/v1", api_key_env="NO_SUCH_KEY")),
            db_path=db_path)  # a remote server: one on this machine needs no key
    with pytest.raises(UsageError, match="base_url"):
        api.generate(GenerateRequest("m", str(small_dataset), backend=OpenAIConfig()),
                     db_path=db_path)
    assert not db_path.exists()


@pytest.mark.parametrize("fmt", ["completion", "chat"])
def test_generation_through_a_real_server(served, tiny_model, small_dataset, tmp_path, fmt):
    env = {**os.environ, "OPENAI_API_KEY": "local", "COLUMNS": "200"}
    db_path = tmp_path / "wb.duckdb"
    res = subprocess.run([WORKBENCH, "run", "--backend", "openai", "--base-url", served,
                          "--model", str(tiny_model), "--dataset", str(small_dataset), "-m", "4",
                          "--max-new-tokens", "4", "--prompt-format", fmt, "--bootstrap", "20",
                          "--db", str(db_path)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    con = duckdb.connect(str(db_path), read_only=True)
    run = con.execute("SELECT backend, endpoint, status, prompt_tokens, completion_tokens, "
                      "base_url FROM runs").fetchall()[0]
    assert run[:3] == ("openai", "chat" if fmt == "chat" else "completions", "FINISHED")
    assert run[3] > 0 and run[4] > 0 and run[5] == served
    rows = con.execute("SELECT prompt, n_tokens, logprob FROM sample_prompts").fetchall()
    con.close()
    assert len(rows) == 12 and all(n is not None and lp <= 0 for _, n, lp in rows)
    if fmt == "chat":
        assert json.loads(rows[0][0])[-1]["role"] == "user"  # the messages, as sent


def test_replicas_share_requests_and_a_failing_one_is_skipped_without_waiting():
    """Two addresses for one model: requests go to the one with fewer in flight; a replica that
    answers 503 is out for its back-off period, the retry goes to the other at once (no retry
    delay waited), and the replica is tried again once the period is over (an injected clock)."""
    t = [0.0]
    down = [True]

    def sick(req):
        return (503, {}, b'{"error": {"message": "down"}}') if down[0] else \
            (200, {}, completion_body(req.get("n", 1), " Lyon"))
    with FakeServer(default=sick) as a, FakeServer() as b:
        sleeps = []
        client = OpenAIClient(ClientConfig(a.url, "key", "completions", 5.0,
                                           RetryPolicy(max_retries=2), replicas=(b.url,)),
                              "m", sleep=sleeps.append, clock=lambda: t[0])
        s = OpenAISampler(ModelInfo("m", a.url, "base", "completion"), client, concurrency=1)
        first = s.sample([(f"q{i}", "Q: x\nA:") for i in range(4)], PARAMS)
        assert len(a.requests) == 1 and len(b.requests) == 4 and sleeps == []
        assert {c.endpoint for out in first for c in out} == {b.url}
        down[0] = False
        t[0] = 0.5  # still out: b takes everything
        s.sample([("q5", "Q: x\nA:")], PARAMS)
        assert len(a.requests) == 1
        t[0] = 1.5  # back: a is tried again, answers, and is in the rotation
        again = s.sample([(f"r{i}", "Q: x\nA:") for i in range(4)], PARAMS)
        assert len(a.requests) == 3 and len(b.requests) == 7
        assert {out[0].endpoint: out[0].text for out in again} == {a.url: " Lyon",
                                                                   b.url: " Paris"}


def test_a_replica_killed_mid_run_leaves_exactly_n_times_m_samples(tmp_path, monkeypatch,
                                                                   mlflow_uri):
    """A real `workbench run` process over two replicas; one dies after its 3rd request (the
    connection in flight dropped unanswered, then nothing listening). The run finishes with
    exactly N × M samples, each (question, index) once, each naming the replica that made it."""
    from tests.helpers import write_jsonl

    n_questions, m = 12, 4
    data = write_jsonl(tmp_path / "q.jsonl", [
        {"id": f"q{i:02d}", "question": f"What is {i} plus 1?", "answer": str(i + 1)}
        for i in range(n_questions)])
    served = []

    def mortal(req):
        served.append(req)
        if len(served) <= 3:
            return 200, {}, completion_body(req.get("n", 1), " Lyon")
        threading.Thread(target=a.__exit__, args=(None, None, None)).start()
        return None  # dropped mid-request, then the port closes
    a, b = FakeServer(default=mortal), FakeServer()
    with a, b:
        env = {**os.environ, "OPENAI_API_KEY": "local", "COLUMNS": "200"}
        db_path = tmp_path / "wb.duckdb"
        res = subprocess.run(
            [WORKBENCH, "run", "--backend", "openai", "--base-url", a.url, "--base-url", b.url,
             "--model", "m", "--dataset", str(data), "-m", str(m), "--shots", "0",
             "--prompt-format", "completion", "--concurrency", "2", "--batch-questions", "2",
             "--max-retries", "3", "--bootstrap", "20", "--db", str(db_path),
             "--mlflow-uri", mlflow_uri], env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT status, base_url FROM runs").fetchall() == [("FINISHED", a.url)]
    assert json.loads(con.execute("SELECT backend_config FROM runs").fetchone()[0]
                      )["replicas"] == [b.url]
    (planned,), = con.execute("SELECT planned_samples FROM run_progress").fetchall()
    total, distinct = con.execute("SELECT count(*), count(DISTINCT (question_id, sample_idx)) "
                                  "FROM samples").fetchone()
    by = dict(con.execute("SELECT endpoint, count(*) FROM samples GROUP BY 1").fetchall())
    texts = dict(con.execute("SELECT endpoint, list(DISTINCT text) FROM samples GROUP BY 1"
                             ).fetchall())
    con.close()
    assert total == distinct == planned
    assert by == {a.url: 3 * m, b.url: planned - 3 * m}
    assert texts == {a.url: [" Lyon"], b.url: [" Paris"]}


def test_replicas_from_a_file_of_addresses(tmp_path, mlflow_uri):
    """`--base-url @FILE`: the addresses one a line, comments and blank lines skipped; the run
    stores them all and both serve it. A file that cannot be read or lists nothing is one line
    naming --base-url, and nothing is stored."""
    from tests.helpers import write_jsonl

    data = write_jsonl(tmp_path / "q.jsonl", [
        {"id": f"q{i}", "question": f"What is {i} plus 1?", "answer": str(i + 1)}
        for i in range(6)])
    env = {**os.environ, "OPENAI_API_KEY": "local", "COLUMNS": "200"}
    db_path = tmp_path / "wb.duckdb"

    def generate(base_url):
        return subprocess.run(
            [WORKBENCH, "generate", "--backend", "openai", "--base-url", base_url, "--model", "m",
             "--dataset", str(data), "-m", "2", "--shots", "0", "--prompt-format", "completion",
             "--concurrency", "2", "--batch-questions", "2", "--db", str(db_path),
             "--mlflow-uri", mlflow_uri], env=env, capture_output=True, text=True, timeout=300)

    (tmp_path / "empty.txt").write_text("# nothing yet\n\n")
    for bad, says in ((f"@{tmp_path / 'none.txt'}", "cannot read"),
                      (f"@{tmp_path / 'empty.txt'}", "lists no address")):
        res = generate(bad)
        assert res.returncode == 1 and "--base-url" in res.stderr and says in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not db_path.exists()

    with FakeServer() as a, FakeServer() as b:
        listed = tmp_path / "replicas.txt"
        listed.write_text(f"# the team's replicas\n{a.url}\n\n{b.url}  # second GPU box\n")
        res = generate(f"@{listed}")
        assert res.returncode == 0, res.stderr[-3000:]
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT base_url, status FROM runs").fetchall() == [(a.url, "FINISHED")]
    assert json.loads(con.execute("SELECT backend_config FROM runs").fetchone()[0]
                      )["replicas"] == [b.url]
    used = {r[0] for r in con.execute("SELECT DISTINCT endpoint FROM samples").fetchall()}
    con.close()
    assert used == {a.url, b.url}


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_stop_during_a_request_that_never_ends_marks_the_run_failed_and_frees_the_store(
        tmp_path, sig):
    """A drip-feeding server under `--timeout 1000`: SIGTERM was ignored (the thread pool waited
    for its requests before the stage could unwind) and the run stayed RUNNING holding the
    writer lock. Now the process ends well inside the request's 1000 s, the run is FAILED
    saying why, and the store is free (the bound below only tells "ends" from "waits out the
    timeout"; it is no speed claim)."""
    import signal

    from workbench.store.locks import writer_active

    db = tmp_path / "wb.duckdb"
    with FakeServer(default="drip") as srv:
        code = interrupt(
            [WORKBENCH, "generate", "--backend", "openai", "--model", "m", "--base-url",
             srv.url, "--dataset", "bundled:capitals@3", "-m", "2", "--shots", "0",
             "--timeout", "1000", "--max-retries", "0", "--db", db],
            lambda: bool(srv.requests), sig)  # a request in flight (the run row exists)
    assert code == 128 + getattr(signal, sig)
    con = duckdb.connect(str(db), read_only=True)
    (status, error), = con.execute("SELECT status, error FROM runs").fetchall()
    con.close()
    assert status == "FAILED" and "stopped by" in error and sig in error
    assert writer_active(db) is None


def test_progress_moves_inside_a_chunk(small_dataset, tmp_path, mlflow_uri, monkeypatch):
    """A chunk's questions are counted as each is sampled, before the chunk commits (a long
    CoT chunk showed "0" until its commit); the chunk's last is counted at the commit."""
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    seen = []
    with FakeServer() as srv:
        req = GenerateRequest("m", str(small_dataset), samples=2, chunk_size=3, shots=2,
                              prompt_format="completion",
                              backend=OpenAIConfig(base_url=srv.url, concurrency=1))
        api.generate(req, db_path=tmp_path / "wb.duckdb", mlflow_uri=mlflow_uri,
                     progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)], seen  # one chunk of the three questions

"""`workbench serve` under hostile input: every refusal in OpenAI's error shape (so the official
client raises its own classes), and a bounded load test on loopback: the server stays
responsive and its memory bounded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import openai
import pytest
from fastapi.testclient import TestClient
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.helpers import WORKBENCH, free_port, wait_http
from workbench.backends.local.sampler import LocalSampler
from workbench.backends.serve import Limits, create_app


@pytest.fixture(scope="module")
def http(tiny_model):
    sampler = LocalSampler(AutoModelForCausalLM.from_pretrained(tiny_model).eval(),
                           AutoTokenizer.from_pretrained(tiny_model))
    return TestClient(create_app(sampler, "tiny", Limits(max_body=20_000, token_budget=1000)))


def _client(http_client, base="http://testserver/v1"):
    return openai.OpenAI(base_url=base, api_key="x", http_client=http_client, max_retries=0)


@pytest.mark.parametrize("request_kw,status,error,code", [
    (dict(prompt="x" * 30_000), 413, openai.APIStatusError, "request_too_large"),
    (dict(prompt="x" * 600), 400, openai.BadRequestError, "context_length_exceeded"),
    (dict(prompt="Q:", n=100, max_tokens=20), 400, openai.BadRequestError,
     "token_budget_exceeded"),
    (dict(prompt="Q:", n=0), 400, openai.BadRequestError, None),
    (dict(prompt="Q:", model="gpt-nothing"), 404, openai.NotFoundError, "model_not_found"),
])
def test_refusals_are_openai_errors(http, request_kw, status, error, code):
    body = {"model": "tiny", "max_tokens": 3, **request_kw}
    raw = http.post("/v1/completions", json=body)
    assert raw.status_code == status
    assert set(raw.json()) == {"error"}
    assert set(raw.json()["error"]) == {"message", "type", "param", "code"}
    assert raw.json()["error"]["code"] == code
    with pytest.raises(error) as info:
        _client(http).completions.create(**body)
    assert info.value.status_code == status


def test_chat_refusals_too(http):
    with pytest.raises(openai.BadRequestError, match="context"):
        _client(http).chat.completions.create(
            model="tiny", max_tokens=3, messages=[{"role": "user", "content": "y" * 600}])


def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(tiny_model):
    port = free_port()
    proc = subprocess.Popen([WORKBENCH, "serve", "--model", str(tiny_model), "--port",
                             str(port), "--queue", "4", "--request-timeout", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    if not wait_http(url + "/models", 90):
        proc.kill()
        pytest.fail("workbench serve did not come up: " + proc.stderr.read().decode()[-2000:])
    yield url, proc.pid
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


SMALL = {"model": None, "prompt": "Q: hi\nA:", "n": 4, "max_tokens": 8}
# About 2 s of decoding on the tiny model, idle 2-core machine: past the server's 1 s limit.
LONG = {"model": None, "prompt": "Q:", "n": 256, "max_tokens": 250}


@dataclass
class Reply:
    status_code: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


def _post(url, body, timeout=30.0) -> Reply:
    """A POST with the standard library (the load test needs nothing else)."""
    req = urllib.request.Request(url + "/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def test_bounded_load_leaves_the_server_responsive(server, tiny_model):
    """Loopback only, every loop bounded: huge prompts, a burst of 20, a client that leaves,
    a request past the server's timeout; after each, a small request answers within seconds."""
    url, pid = server
    small, long = {**SMALL, "model": str(tiny_model)}, {**LONG, "model": str(tiny_model)}
    assert _post(url, small).status_code == 200
    rss_start = _rss_mb(pid)

    def small_request_is_quick():
        start = time.perf_counter()
        assert _post(url, small, timeout=10).status_code == 200
        return time.perf_counter() - start

    start = time.perf_counter()
    huge = _post(url, {**small, "prompt": "x" * 5_000_000, "max_tokens": 3})
    assert huge.status_code == 413 and time.perf_counter() - start < 5
    assert _post(url, {**small, "prompt": "x" * 60_000}).status_code == 400  # past context
    assert small_request_is_quick() < 5

    codes, lock = [], threading.Lock()

    def burst():
        r = _post(url, small)
        with lock:
            codes.append((r.status_code, r.headers.get("retry-after")))
    threads = [threading.Thread(target=burst) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Each request runs, is refused at the door, or (queued past the 1 s limit) times out;
    # none hangs.
    assert len(codes) == 20 and {c for c, _ in codes} <= {200, 429, 504}
    assert any(c == 200 for c, _ in codes) and any(c == 429 for c, _ in codes)
    assert all(ra and int(ra) >= 1 for c, ra in codes if c == 429)
    assert small_request_is_quick() < 5

    with pytest.raises((TimeoutError, socket.timeout)):  # the client leaves early
        _post(url, long, timeout=0.3)
    assert small_request_is_quick() < 5  # its slot was freed: cancelled between decode steps

    start = time.perf_counter()
    late = _post(url, long)
    assert late.status_code == 504 and late.json()["error"]["code"] == "timeout"
    assert time.perf_counter() - start < 10
    with pytest.raises(openai.InternalServerError):
        openai.OpenAI(base_url=url, api_key="x", max_retries=0).completions.create(**long)
    assert small_request_is_quick() < 5
    rss_end = _rss_mb(pid)
    print(f"\nserve RSS: {rss_start:.0f} MB at start, {rss_end:.0f} MB after the load test")
    assert rss_end - rss_start < 300


def test_a_full_queue_is_a_rate_limit_error_for_the_openai_client(server, tiny_model):
    url, _ = server
    long = {**LONG, "model": str(tiny_model)}
    busy = [threading.Thread(target=_post, args=(url, long)) for _ in range(4)]
    for t in busy:
        t.start()
    time.sleep(0.5)
    try:
        with pytest.raises(openai.RateLimitError):
            openai.OpenAI(base_url=url, api_key="x", max_retries=0).completions.create(
                **{**SMALL, "model": str(tiny_model)})
    finally:
        for t in busy:
            t.join(timeout=30)

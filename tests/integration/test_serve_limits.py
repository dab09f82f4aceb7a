"""`workbench serve` under hostile input: every refusal in OpenAI's error shape (so the official
client raises its own classes), and a bounded load test on loopback: the server stays
responsive and its memory bounded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

import openai
import pytest
from fastapi.testclient import TestClient
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.helpers import WORKBENCH, free_port, wait_http
from workbench.backends.base import Completion
from workbench.backends.transformers.tokens import Cancelled, TokenSampler
from workbench.server.app import Limits, create_app


@pytest.fixture(scope="module")
def http(tiny_model):
    sampler = TokenSampler(AutoModelForCausalLM.from_pretrained(tiny_model).eval(),
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


class FakeTokenizer:
    chat_template = None

    def decode(self, ids):
        return "x"


class Gate:
    """A fake sampler that runs until it is told to stop, so what the server does with a
    request that is still running (time out, cancel on disconnect, refuse the next) happens by
    construction rather than by how fast this machine decodes."""

    def __init__(self, on_start=None):
        self.tokenizer = FakeTokenizer()
        self.started, self.release = threading.Event(), threading.Event()
        self.cancelled = 0
        self.on_start = on_start or (lambda: None)

    def encode(self, prompt, add_special_tokens=True):
        return list(range(len(prompt.split()) or 1))

    def sample_batch(self, items, params, should_stop=None, top_logprobs=0):
        self.started.set()
        self.on_start()
        while not self.release.wait(0.01):
            if should_stop and should_stop():
                self.cancelled += 1
                raise Cancelled("stopped")
        return [[Completion(" ok", 1, -0.1, "stop", 0.0, (1,), (-0.1,))
                 for _ in range(params.n)] for _ in items]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_request_past_its_deadline_is_cancelled_and_answered_504():
    """The clock jumps past the limit while the sampler works: 504 in OpenAI's shape (the
    official client raises InternalServerError), the sampler was told to stop, and the slot is
    free for the next request, which then runs."""
    clock = Clock()
    gate = Gate(on_start=lambda: setattr(clock, "now", clock.now + 11))
    http = TestClient(create_app(gate, "fake", Limits(timeout=10, queue=1, max_context=99),
                                 clock=clock))
    late = http.post("/v1/completions", json={"model": "fake", "prompt": "Q:", "max_tokens": 3})
    assert late.status_code == 504 and late.json()["error"]["code"] == "timeout"
    assert gate.cancelled == 1
    with pytest.raises(openai.InternalServerError):
        _client(http).completions.create(model="fake", prompt="Q:", max_tokens=3)
    gate.on_start = lambda: gate.release.set()  # time stands still: the request finishes
    ok = http.post("/v1/completions", json={"model": "fake", "prompt": "Q:", "max_tokens": 3})
    assert ok.status_code == 200 and ok.json()["choices"][0]["text"] == " ok"


def test_each_request_is_one_log_line_with_status_samples_tokens_and_seconds():
    """`serve` said nothing while it worked: now each request is a line, its duration read from
    the app's clock (here it moves 2.5 s while the sampler runs), refusals included."""
    clock, lines = Clock(), []
    gate = Gate(on_start=lambda: (setattr(clock, "now", clock.now + 2.5), gate.release.set()))
    http = TestClient(create_app(gate, "fake", Limits(queue=1, max_context=99), clock=clock,
                                 log=lines.append))
    ok = http.post("/v1/completions", json={"model": "fake", "prompt": "Q: a b", "n": 3,
                                            "max_tokens": 3})
    assert ok.status_code == 200
    refused = http.post("/v1/completions", json={"model": "other", "prompt": "Q:"})
    assert refused.status_code == 404
    assert lines == ["POST /v1/completions 200 3 samples, 3 prompt + 3 completion tokens "
                     "2.50 s", "POST /v1/completions 404 0.00 s"]


def test_a_full_queue_is_a_rate_limit_error_with_retry_after():
    """One request holds the only slot; the next is refused at once with 429, Retry-After and
    the official client's RateLimitError; once the first finishes, requests run again."""
    gate = Gate()
    http = TestClient(create_app(gate, "fake", Limits(queue=1, max_context=99)))
    body = {"model": "fake", "prompt": "Q:", "max_tokens": 3}
    first = {}
    holder = threading.Thread(target=lambda: first.update(r=http.post("/v1/completions",
                                                                      json=body)))
    holder.start()
    assert gate.started.wait(60)
    try:
        busy = http.post("/v1/completions", json=body)
        assert busy.status_code == 429 and int(busy.headers["retry-after"]) >= 1
        assert busy.json()["error"]["code"] == "server_busy"
        with pytest.raises(openai.RateLimitError):
            _client(http).completions.create(**body)
    finally:
        gate.release.set()
        holder.join(timeout=60)
    assert first["r"].status_code == 200
    assert http.post("/v1/completions", json=body).status_code == 200


def test_a_client_that_leaves_frees_its_slot():
    """The worker asks between decode steps whether the client is still there; when it has gone,
    the sampling is cancelled and the slot counted free."""
    import asyncio

    from workbench.backends.base import SamplingParams
    from workbench.server.protocol import APIError
    from workbench.server.worker import Worker

    class Leaving:
        async def is_disconnected(self):
            return gate.started.is_set()  # gone as soon as the sampling has begun

    gate = Gate()
    worker = Worker(gate, Limits(queue=1))
    worker.admit()
    with pytest.raises(APIError):
        asyncio.run(worker.run(Leaving(), [1, 2], SamplingParams(n=2, max_new_tokens=3)))
    worker.pool.shutdown(wait=True)
    assert gate.cancelled == 1 and worker.in_flight == 0


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
    if not wait_http(url + "/models", proc=proc):
        proc.kill()
        pytest.fail("workbench serve did not come up: " + proc.stderr.read().decode()[-2000:])
    yield url, proc.pid
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


SMALL = {"model": None, "prompt": "Q: hi\nA:", "n": 4, "max_tokens": 8}
LONG = {"model": None, "prompt": "Q:", "n": 256, "max_tokens": 250}


@dataclass
class Reply:
    status_code: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


def _post(url, body, timeout=120.0) -> Reply:
    """A POST with the standard library (the load test needs nothing else)."""
    req = urllib.request.Request(url + "/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def test_bounded_load_leaves_the_server_responsive(server, tiny_model):
    """A real `workbench serve` process on loopback, every loop bounded: huge prompts, a burst
    of 20, a client that leaves, a request that may run past the server's limit. Each outcome
    that depends on this machine's speed is allowed either way (the in-process tests above pin
    each one by construction); after each, a small request is answered."""
    url, pid = server
    small, long = {**SMALL, "model": str(tiny_model)}, {**LONG, "model": str(tiny_model)}
    assert _post(url, small).status_code == 200
    rss_start = _rss_mb(pid)

    def answers_small():
        assert _post(url, small).status_code == 200

    huge = _post(url, {**small, "prompt": "x" * 5_000_000, "max_tokens": 3})
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"
    assert _post(url, {**small, "prompt": "x" * 60_000}).status_code == 400  # past context
    answers_small()

    codes, lock = [], threading.Lock()

    def burst():
        r = _post(url, small)
        with lock:
            codes.append((r.status_code, r.headers.get("retry-after")))
    threads = [threading.Thread(target=burst) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    # Each request runs, is refused at the door, or (queued past the 1 s limit) times out;
    # none hangs.
    assert len(codes) == 20 and {c for c, _ in codes} <= {200, 429, 504}
    assert any(c == 200 for c, _ in codes)
    assert all(ra and int(ra) >= 1 for c, ra in codes if c == 429)
    answers_small()

    try:  # the client leaves early, if the server has not answered by then
        _post(url, long, timeout=0.3)
    except (TimeoutError, socket.timeout):
        pass
    answers_small()  # its slot was freed

    late = _post(url, long)
    assert late.status_code in (200, 504)
    if late.status_code == 504:
        assert late.json()["error"]["code"] == "timeout"
    answers_small()
    rss_end = _rss_mb(pid)
    print(f"\nserve RSS: {rss_start:.0f} MB at start, {rss_end:.0f} MB after the load test")
    assert rss_end - rss_start < 300


def test_a_chunked_body_past_the_limit_is_413_and_one_within_it_is_answered():
    """A body sent without Content-Length that outgrew the limit got FastAPI's own 400 ("There
    was an error parsing the body"), not OpenAI's 413."""
    gate = Gate()
    gate.release.set()
    http = TestClient(create_app(gate, "fake", Limits(max_body=20_000, max_context=99_999)))

    def chunked(prompt):
        body = json.dumps({"model": "fake", "prompt": prompt, "max_tokens": 3}).encode()
        return http.post("/v1/completions", content=(body[i:i + 4096]
                                                     for i in range(0, len(body), 4096)),
                         headers={"content-type": "application/json"})
    big = chunked("x " * 15_000)
    assert big.status_code == 413, big.text
    assert big.json()["error"]["code"] == "request_too_large"
    small = chunked("x " * 3_000)  # two chunks, within the limit
    assert small.status_code == 200 and small.json()["choices"][0]["text"] == " ok", small.text


def test_the_time_limit_is_per_request_not_per_prompt():
    """`--request-timeout 10` was counted per prompt: a 30-prompt request got its 504 at 58.6 s
    and a 5,000-prompt one ran past 300 s. Each prompt here takes 6 s of the clock: the third
    starts past the request's 10 s and the request is answered 504; the slot is free after."""
    clock = Clock()
    gate = Gate(on_start=lambda: setattr(clock, "now", clock.now + 6))
    gate.release.set()
    http = TestClient(create_app(gate, "fake", Limits(timeout=10, queue=1, max_context=99),
                                 clock=clock))
    late = http.post("/v1/completions", json={"model": "fake", "prompt": ["Q:", "Q:", "Q:"],
                                              "max_tokens": 3})
    assert late.status_code == 504 and late.json()["error"]["code"] == "timeout", late.text
    ok = http.post("/v1/completions", json={"model": "fake", "prompt": ["Q:"], "max_tokens": 3})
    assert ok.status_code == 200, ok.text

"""Remote samples come from the distribution the run records: each server family is told the
whole distribution, runs record what they sent, and `check-server` catches a server that
truncates."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import duckdb
import numpy as np
import openai
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.fakeserver import FakeServer, completion_body, models_body
from tests.helpers import WORKBENCH, free_port, wait_http
from workbench.analysis.fidelity import truncate
from workbench.backends.check import PROMPT, _local_distribution
from workbench.backends.openai.servers import detect
from workbench.errors import RemoteError


def _models(owned_by):
    return lambda path: ((200, {}, models_body(owned_by)) if path.endswith("/models")
                         else (404, {}, b"{}"))


def test_families_are_detected(served):
    assert detect(served) == "workbench"
    for owned_by, family in (("vllm", "vllm"), ("sglang", "sglang"), ("llamacpp", "llamacpp"),
                             ("library", "ollama")):
        with FakeServer(get=_models(owned_by)) as srv:
            assert detect(srv.url) == family
    with FakeServer(get=lambda path: (200, {}, b"{}") if path == "/props"
                    else (404, {}, b"{}")) as srv:
        assert detect(srv.url) == "llamacpp"  # llama.cpp's own endpoint
    with FakeServer() as srv:
        assert detect(srv.url) == "unknown"


@pytest.mark.parametrize("owned_by,family,sent,note", [
    ("llamacpp", "llamacpp", {"top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0, "mirostat": 0,
                              "presence_penalty": 0.0, "dynatemp_range": 0.0,
                              "logit_bias": []}, None),
    ("vllm", "vllm", {"top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0}, None),
    ("library", "ollama", {"frequency_penalty": 0.0}, "ollama"),
])
def test_runs_state_and_record_the_whole_distribution(small_dataset, tmp_path, owned_by, family,
                                                      sent, note):
    db = tmp_path / "wb.duckdb"
    with FakeServer(get=_models(owned_by)) as srv:
        res = subprocess.run([WORKBENCH, "generate", "--backend", "openai", "--base-url", srv.url,
                              "--model", "m", "--dataset", str(small_dataset), "-m", "3",
                              "--prompt-format", "completion", "--db", str(db)],
                             env={**os.environ, "OPENAI_API_KEY": "k"}, capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        bodies = [r for r in srv.requests if "prompt" in r]
    assert bodies and all(r[k] == v for r in bodies for k, v in sent.items()), bodies[0]
    assert all(r["temperature"] == 1.0 and r["top_p"] == 1.0 for r in bodies)
    con = duckdb.connect(str(db), read_only=True)
    (got_family, params, got_note, run_id), = con.execute(
        "SELECT server_family, request_params, sampling_note, run_id FROM runs").fetchall()
    con.close()
    assert got_family == family
    assert {k: v for k, v in json.loads(params).items() if k in sent} == sent
    warnings = [ln for ln in res.stderr.splitlines() if "may be inflated by truncation" in ln]
    if note:
        assert note in got_note and "truncation" in got_note and len(warnings) == 1
    else:
        assert got_note is None and warnings == []
    shown = subprocess.run([WORKBENCH, "show", run_id, "--db", str(db)], capture_output=True,
                           text=True).stdout
    assert family in shown and "request_params" in shown


@pytest.fixture(scope="module")
def tiny_reference(tiny_model):
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    tok = AutoTokenizer.from_pretrained(tiny_model)
    return model, tok


def test_serve_honours_and_reports_the_fields(served, tiny_model, tiny_reference):
    client = openai.OpenAI(base_url=served, api_key="x", max_retries=0)
    r = client.completions.create(model=str(tiny_model), prompt=PROMPT, n=200, max_tokens=1,
                                  seed=1, extra_body={"top_k": 3})
    assert len({c.text for c in r.choices}) <= 3
    assert r.model_extra["sampling"]["top_k"] == 3 and r.model_extra["sampling"]["min_p"] == 0
    with pytest.raises(openai.BadRequestError, match="repetition_penalty"):
        client.completions.create(model=str(tiny_model), prompt=PROMPT, max_tokens=1,
                                  extra_body={"repetition_penalty": 1.1})
    # top_logprobs: the model's own distribution for the first token (temperature 1)
    r = client.completions.create(model=str(tiny_model), prompt=PROMPT, max_tokens=1,
                                  logprobs=5, temperature=0.5)
    top = r.choices[0].logprobs.top_logprobs[0]
    model, tok = tiny_reference
    with torch.no_grad():
        ids = torch.tensor([tok(PROMPT)["input_ids"]])
        probs = model(input_ids=ids).logits[0, -1].double().softmax(-1)
    want = {}
    for p, t in zip(*probs.topk(5)):
        text = tok.decode([int(t)])
        want[text] = want.get(text, 0.0) + float(p)
    assert sum(math.exp(v) for v in top.values()) <= 1 + 1e-6
    assert {t: round(math.exp(v), 4) for t, v in top.items()} == {
        t: round(v, 4) for t, v in want.items()}


def _check(*args, env=None):
    return subprocess.run([WORKBENCH, "check-server", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "OPENAI_API_KEY": "k",
                                                       **(env or {})})


def test_check_server_passes_a_faithful_server(served, tiny_model):
    res = _check("--base-url", served, "--model", tiny_model, "--n", 400)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "server family: workbench" in res.stdout and "consistent with" in res.stdout
    assert "power against top-k 10 truncation" in res.stdout
    assert "every sampling field this family reads is pinned by the request" in res.stdout
    named = _check("--base-url", served, "--model", tiny_model, "--n", 400, "--server", "unknown",
                   "--format", "json")
    assert named.returncode == 0, named.stdout + named.stderr
    assert json.loads(named.stdout)["unpinned"][:3] == ["top_k", "min_p", "repetition penalty"]


def test_check_server_catches_a_hidden_top_k(tiny_model):
    """A server that says it is vLLM but samples with a hidden top-k of 5."""
    reference = _local_distribution(str(tiny_model), PROMPT)
    hidden = truncate(reference, top_k=5)
    tokens, probs = list(hidden), np.array(list(hidden.values()))

    def sample(req):
        rng = np.random.default_rng(req["seed"])
        texts = rng.choice(tokens, req.get("n", 1), p=probs / probs.sum())
        body = json.loads(completion_body(len(texts)))
        for choice, text in zip(body["choices"], texts):
            choice["text"] = str(text)
        return 200, {}, json.dumps(body).encode()

    with FakeServer(default=sample, get=_models("vllm")) as srv:
        res = _check("--base-url", srv.url, "--model", "m", "--local", tiny_model, "--n", 400,
                     "--format", "json")
    assert res.returncode == 1, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert report["consistent"] is False and report["p_value"] < 1e-6
    assert report["truncation"]["max_rank"] <= 5 and report["truncation"]["p_none_beyond"] < 1e-6
    assert report["server_family"] == "vllm" and report["request_params"]["top_k"] == -1


def test_check_server_against_llama_cpp(tmp_path):
    """llama.cpp's own server (llama-cpp-python with its server extra; not in the default set-up,
    it compiles for minutes): faithful with the neutral fields, caught without them."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed "
                                                   "(it compiles llama.cpp for ~9 minutes)")
    from workbench.backends.transformers.models import BUNDLED

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model",
                             str(BUNDLED["gemma-3-270m"].gguf_path()), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        assert wait_http(url + "/models", proc=proc), "llama.cpp's server did not come up"
        args = ["--base-url", url, "--model", "gemma-3-270m", "--local", "gemma-3-270m",
                "--n", 400]
        faithful = _check(*args, "--server", "llamacpp")
        assert faithful.returncode == 0, faithful.stdout + faithful.stderr
        defaults = _check(*args, "--server", "unknown")  # no fields: its top-k 40, min-p 0.05
        assert defaults.returncode == 1, defaults.stdout + defaults.stderr
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_the_checks_draws_are_independent_when_a_server_seeds_completion_k_with_seed_plus_k():
    """llama-server gives completion k of a request the seed seed + k. With batch seeds seed + i
    batch i + 1 repeated batch i shifted by one (400 draws were 57 independent ones); hashed
    batch seeds give every draw its own stream."""
    from workbench.backends.base import SamplingParams
    from workbench.backends.check import _draw
    from workbench.backends.openai.client import ClientConfig, OpenAIClient, RetryPolicy

    def seeded(req):  # completion k's text names the seed it was drawn with
        n, seed = req.get("n", 1), req["seed"]
        return 200, {}, json.dumps({
            "id": "x", "object": "text_completion", "created": 0, "model": "m",
            "choices": [{"index": k, "text": f" s{seed + k}", "finish_reason": "length",
                         "logprobs": None} for k in range(n)]}).encode()

    with FakeServer(default=seeded) as srv:
        client = OpenAIClient(ClientConfig(srv.url, "k", "completions", 5.0,
                                           RetryPolicy(max_retries=0), logprobs=False), "m")
        draws, _ = _draw(client, "Q: x\nA:", SamplingParams(n=50, max_new_tokens=1), 400, 0)
    assert len(draws) == 400 and len(set(draws)) == 400


def test_detection_waits_out_a_server_that_is_still_loading():
    """503 while the model loads is waited out (one line said), not read as an unknown server;
    a server that never finishes loading is an error naming the wait. Time is an input: a
    scripted clock, and sleeps recorded instead of taken."""
    answers = [(503, {}, b"loading"), (503, {}, b"loading"), (200, {}, models_body("vllm"))]
    with FakeServer(get=lambda path: answers.pop(0) if answers else (200, {},
                                                                      models_body("vllm"))) as srv:
        sleeps, said = [], []
        assert detect(srv.url, sleep=sleeps.append, log=said.append) == "vllm"
        assert sleeps == [2.0, 2.0] and len(said) == 1 and "503" in said[0]
    ticks = iter(range(0, 10_000, 50))
    with FakeServer(get=lambda path: (503, {}, b"loading")) as srv:
        with pytest.raises(RemoteError, match="still answers 503"):
            detect(srv.url, wait=120, sleep=lambda s: None, clock=lambda: next(ticks))

"""`workbench serve` answers the OpenAI client like any OpenAI-compatible server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from openai import OpenAI
from transformers import AutoModelForCausalLM, AutoTokenizer

from workbench.backends.transformers.tokens import TokenSampler
from workbench.server.app import create_app


@pytest.fixture(scope="module")
def sampler(tiny_model):
    return TokenSampler(AutoModelForCausalLM.from_pretrained(tiny_model).eval(),
                        AutoTokenizer.from_pretrained(tiny_model))


@pytest.fixture(scope="module")
def client(sampler):
    http = TestClient(create_app(sampler, "tiny"))
    return OpenAI(base_url="http://testserver/v1", api_key="x", http_client=http), sampler


def test_completions_with_n_logprobs_and_seed(client):
    oa, sampler = client
    r = oa.completions.create(model="tiny", prompt="Q: hi\nA:", n=4, max_tokens=5, seed=3,
                              logprobs=1, temperature=1.0)
    assert len(r.choices) == 4
    again = oa.completions.create(model="tiny", prompt="Q: hi\nA:", n=4, max_tokens=5, seed=3,
                                  logprobs=1)
    assert [c.text for c in r.choices] == [c.text for c in again.choices]
    c = r.choices[0]
    assert c.finish_reason in ("stop", "length") and len(c.logprobs.token_logprobs) >= 1
    assert all(lp <= 0 for lp in c.logprobs.token_logprobs)
    assert r.usage.prompt_tokens == len(sampler.encode("Q: hi\nA:"))
    assert r.usage.completion_tokens >= 4


def test_chat_uses_the_template_and_honours_stop(client):
    oa, _ = client
    r = oa.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}],
                                   n=3, max_tokens=6, logprobs=True, seed=1,
                                   stop=list("abcdefghijklmnopqrstuvwxyz"))
    assert len(r.choices) == 3
    for c in r.choices:
        assert c.message.role == "assistant"
        assert not any(ch in c.message.content for ch in "abcdefghijklmnopqrstuvwxyz")
        assert c.logprobs.content and all(t.logprob <= 0 for t in c.logprobs.content)


def test_unknown_model_is_a_404(client):
    import openai

    oa, _ = client
    with pytest.raises(openai.NotFoundError):
        oa.completions.create(model="gpt-nothing", prompt="x", max_tokens=2)


@pytest.fixture(scope="module")
def raw(sampler):
    return TestClient(create_app(sampler, "tiny"), raise_server_exceptions=False)


@pytest.mark.parametrize("path,body,param", [
    ("completions", '{"model": "tiny", "prompt": "x", "temperature": Infinity}', "temperature"),
    ("completions", '{"model": "tiny", "prompt": "x", "temperature": 1e-300}', "temperature"),
    ("completions", '{"model": "tiny", "prompt": ""}', "prompt"),
    ("completions", '{"model": "tiny", "prompt": []}', "prompt"),
    ("completions", '{"model": "gpt-nothing", "prompt": []}', "prompt"),
    ("completions", '{"model": "tiny", "prompt": "\\ud800"}', "prompt"),
    ("chat/completions", '{"model": "tiny", "messages": []}', "messages"),
    ("completions", '{"model": "tiny", "prompt": "x", "logit_bias": {"5": 100}}', "logit_bias"),
    ("completions", '{"model": "tiny", "prompt": "x", "stream": true}', "stream"),
    ("completions", '{"model": "tiny", "prompt": "x", "echo": true}', "echo"),
    ("completions", '{"model": "tiny", "prompt": "x", "best_of": 3}', "best_of"),
])
def test_bad_bodies_are_400s_in_openais_shape_naming_the_field(raw, path, body, param):
    """What used to be a plain-text 500, a 200 or silently ignored is a 400 whose JSON error
    names the field (the official client raises BadRequestError from it)."""
    r = raw.post(f"/v1/{path}", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"].startswith(param) and error["type"] == "invalid_request_error"

"""An OpenAI-compatible server over the local sampler: /v1/completions, /v1/chat/completions
(``n``, ``stop``, ``seed``, logprobs) and /v1/models, bound to 127.0.0.1.

It lets the offline demo and the tests run the whole OpenAI path, and an LLM judge, with the
bundled models. Requests are served one at a time (the sampler batches the ``n`` samples of a
request); a request with a ``seed`` is reproducible.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Optional, Union

from pydantic import BaseModel, Field

from .base import SamplingParams
from .local import models
from .local.sampler import LocalSampler


class CompletionRequest(BaseModel):
    model: str
    prompt: Union[str, list[str]]
    n: int = Field(1, ge=1, le=256)
    max_tokens: int = Field(16, ge=1, le=4096)
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    stop: Optional[Union[str, list[str]]] = None
    seed: Optional[int] = None
    logprobs: Optional[int] = None


class Message(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str
    messages: list[Message]
    n: int = Field(1, ge=1, le=256)
    max_tokens: Optional[int] = Field(None, ge=1, le=4096)
    max_completion_tokens: Optional[int] = Field(None, ge=1, le=4096)
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    stop: Optional[Union[str, list[str]]] = None
    seed: Optional[int] = None
    logprobs: bool = False


def _stops(stop) -> tuple[str, ...]:
    if stop is None:
        return ()
    return (stop,) if isinstance(stop, str) else tuple(stop)


def create_app(sampler: LocalSampler, model_name: str):
    # FastAPI and uvicorn: only for `workbench serve`.
    from fastapi import FastAPI, HTTPException

    app = FastAPI(title=f"workbench serve: {model_name}")
    lock = threading.Lock()

    def sample(prompt_ids, n, max_tokens, temperature, top_p, stop, seed):
        params = SamplingParams(n=n, temperature=temperature, top_p=top_p,
                                max_new_tokens=max_tokens, stop=_stops(stop),
                                seed=seed if seed is not None else secrets.randbits(31))
        with lock:
            return sampler.sample_batch([("request", prompt_ids)], params)[0]

    def check_model(name):
        if name != model_name:
            raise HTTPException(404, f"model {name!r} not served here; this server has "
                                     f"{model_name!r}")

    def usage(prompt_tokens, outs):
        completion = sum(c.n_tokens for c in outs)
        return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                "total_tokens": prompt_tokens + completion}

    def pieces(c):
        return [sampler.tokenizer.decode([t]) for t in c.token_ids]

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": model_name, "object": "model",
                                            "owned_by": "workbench"}]}

    @app.post("/v1/completions")
    def completions(req: CompletionRequest):
        check_model(req.model)
        prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
        choices, prompt_tokens, outs_all = [], 0, []
        for p in prompts:
            ids = sampler.encode(p)
            prompt_tokens += len(ids)
            outs = sample(ids, req.n, req.max_tokens, req.temperature, req.top_p, req.stop,
                          req.seed)
            outs_all += outs
            for c in outs:
                lp = None
                if req.logprobs is not None:
                    lp = {"tokens": pieces(c), "token_logprobs": list(c.token_logprobs),
                          "top_logprobs": None, "text_offset": None}
                choices.append({"index": len(choices), "text": c.text,
                                "finish_reason": c.finish_reason, "logprobs": lp})
        return {"id": "cmpl-" + secrets.token_hex(8), "object": "text_completion",
                "created": int(time.time()), "model": model_name, "choices": choices,
                "usage": usage(prompt_tokens, outs_all)}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest):
        check_model(req.model)
        if not getattr(sampler.tokenizer, "chat_template", None):
            raise HTTPException(400, f"model {model_name!r} has no chat template; use "
                                     "/v1/completions")
        text = sampler.tokenizer.apply_chat_template(
            [m.model_dump() for m in req.messages], tokenize=False, add_generation_prompt=True)
        ids = sampler.encode(text, add_special_tokens=False)
        outs = sample(ids, req.n, req.max_completion_tokens or req.max_tokens or 256,
                      req.temperature, req.top_p, req.stop, req.seed)
        choices = []
        for i, c in enumerate(outs):
            lp = None
            if req.logprobs:
                lp = {"content": [{"token": t, "logprob": v, "bytes": None, "top_logprobs": []}
                                  for t, v in zip(pieces(c), c.token_logprobs)]}
            choices.append({"index": i, "message": {"role": "assistant", "content": c.text},
                            "finish_reason": c.finish_reason, "logprobs": lp})
        return {"id": "chatcmpl-" + secrets.token_hex(8), "object": "chat.completion",
                "created": int(time.time()), "model": model_name, "choices": choices,
                "usage": usage(len(ids), outs)}

    return app


def serve(model: str, *, host: str = "127.0.0.1", port: int = 8000, dtype: str = "float32",
          log=print) -> None:
    import uvicorn  # only for `workbench serve`

    info = models.resolve(model)
    m, tok = models.load(info, dtype)
    app = create_app(LocalSampler(m, tok), model)
    log(f"serving {model} ({info.kind}, {dtype}) at http://{host}:{port}/v1")
    uvicorn.run(app, host=host, port=port, log_level="warning")

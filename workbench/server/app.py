"""An OpenAI-compatible server over the token sampler: /v1/completions, /v1/chat/completions
(``n``, ``stop``, ``seed``, logprobs) and /v1/models, bound to 127.0.0.1.

It lets the offline demo and the tests run the whole OpenAI path, and an LLM judge, with the
bundled models. Bounded input cannot wedge it (``Limits``):

- a request body over ``max_body`` bytes is refused before it is read whole (413);
- a prompt whose tokens plus ``max_tokens`` exceed the context is refused once tokenized (400,
  ``context_length_exceeded``), and so is ``n × max_tokens`` over ``token_budget`` (400);
- one worker thread samples; at most ``queue`` requests wait or run, and the next gets 429 with
  ``Retry-After``;
- a request whose client disconnects, or that runs past ``timeout`` seconds, is cancelled
  between two decode steps (504 for the timeout), so its slot frees at once.

Errors use the OpenAI shape ``{"error": {"message", "type", "param", "code"}}``, so the official
client raises its own exception classes.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional, Union

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..backends.base import SamplingParams
from ..backends.transformers import Config as LocalConfig
from ..backends.transformers import models
from ..backends.transformers.tokens import Cancelled, TokenSampler


@dataclass(frozen=True)
class Limits:
    max_body: int = 1 << 20  # bytes in a request body
    max_context: Optional[int] = None  # prompt + max_tokens; default: the model's context
    token_budget: int = 65536  # n × max_tokens in one request
    queue: int = 8  # requests waiting or running; more are refused with 429
    timeout: float = 120.0  # seconds a request may wait and run before it is cancelled


class Sampling(BaseModel):
    """The sampling fields: OpenAI's, and the ones other servers read (``servers.py``).
    Defaults are the untruncated distribution; penalties this server does not apply are
    refused rather than ignored."""

    n: int = Field(1, ge=1, le=256)
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(0, ge=-1)  # 0 or -1: none
    min_p: float = Field(0.0, ge=0, lt=1)
    repetition_penalty: float = 1.0
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: Optional[Union[str, list[str]]] = None
    seed: Optional[int] = None


class CompletionRequest(Sampling):
    model: str
    prompt: Union[str, list[str]]
    max_tokens: int = Field(16, ge=1, le=4096)
    logprobs: Optional[int] = Field(None, ge=0, le=20)


class Message(BaseModel):
    role: str
    content: str


class ChatRequest(Sampling):
    model: str
    messages: list[Message]
    max_tokens: Optional[int] = Field(None, ge=1, le=4096)
    max_completion_tokens: Optional[int] = Field(None, ge=1, le=4096)
    logprobs: bool = False
    top_logprobs: Optional[int] = Field(None, ge=0, le=20)


class APIError(Exception):
    """An error the client sees, in OpenAI's shape."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, headers=None):
        super().__init__(message)
        self.status, self.type, self.param, self.code = status, type_, param, code
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"message": str(self), "type": self.type,
                                       "param": self.param, "code": self.code}},
                            status_code=self.status, headers=self.headers)


class BodyLimit:
    """ASGI middleware: a body over ``limit`` bytes gets 413 and is never held in memory. A body
    of up to ``drain`` bytes is read and dropped first, so the client, still sending, can read
    the answer (an answer before the body ends reaches most clients as a reset connection)."""

    def __init__(self, app, limit: int, drain: int = 64 << 20):
        self.app, self.limit, self.drain = app, limit, drain

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        too_big = APIError(413, f"request body over the server's limit of {self.limit} bytes",
                           code="request_too_large")
        if declared is not None and int(declared) > self.limit:
            if int(declared) <= self.drain:
                while (await receive()).get("more_body"):
                    pass
            return await too_big.response()(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise too_big
            return message
        try:
            await self.app(scope, limited, send)
        except APIError as exc:  # a chunked body that outgrew the limit
            await exc.response()(scope, receive, send)


def _stops(stop) -> tuple[str, ...]:
    if stop is None:
        return ()
    return (stop,) if isinstance(stop, str) else tuple(stop)


class Worker:
    """One thread samples; ``admit`` counts the requests waiting or running."""

    def __init__(self, sampler: TokenSampler, limits: Limits,
                 clock: Callable[[], float] = time.monotonic):
        self.sampler, self.limits, self.clock = sampler, limits, clock
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sampler")
        self.lock = threading.Lock()
        self.in_flight = 0
        self.seconds_per_job = 1.0  # a running average, for Retry-After

    def admit(self) -> None:
        with self.lock:
            if self.in_flight >= self.limits.queue:
                wait = max(1, round(self.in_flight * self.seconds_per_job))
                raise APIError(429, f"the server is busy ({self.in_flight} requests queued or "
                                    f"running); retry after {wait} s", "rate_limit_error",
                               code="server_busy", headers={"Retry-After": str(wait)})
            self.in_flight += 1

    def _done(self, seconds: float) -> None:
        with self.lock:
            self.in_flight -= 1
            self.seconds_per_job = 0.8 * self.seconds_per_job + 0.2 * seconds

    async def run(self, request: Request, prompt_ids: list[int], params: SamplingParams,
                  top_logprobs: int = 0):
        """Sample on the worker; cancel it if the client leaves or time runs out."""
        stop = threading.Event()
        deadline = self.clock() + self.limits.timeout

        def job():
            start = self.clock()
            try:
                return self.sampler.sample_batch([("request", prompt_ids)], params,
                                                 should_stop=stop.is_set,
                                                 top_logprobs=top_logprobs)[0]
            finally:
                self._done(self.clock() - start)
        future = asyncio.get_running_loop().run_in_executor(self.pool, job)
        while True:
            done, _ = await asyncio.wait({future}, timeout=0.1)
            if done:
                try:
                    return future.result()
                except Cancelled:
                    break
            if await request.is_disconnected() or self.clock() > deadline:
                stop.set()
        raise APIError(504, f"the request ran past the server's {self.limits.timeout:.0f} s "
                            "limit and was cancelled", "timeout_error", code="timeout")


def create_app(sampler: TokenSampler, model_name: str, limits: Limits = Limits(),
               clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """The app; ``clock`` (seconds, monotonic) is what the request deadline is read from, so a
    test can make time pass without waiting for it."""
    app = FastAPI(title=f"workbench serve: {model_name}")
    worker = Worker(sampler, limits, clock)
    context = limits.max_context or _context(sampler)

    @app.exception_handler(APIError)
    async def api_error(request, exc: APIError):
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        param = ".".join(str(x) for x in first.get("loc", ())[1:]) or None
        return APIError(400, f"{param or 'body'}: {first.get('msg', 'invalid request')}",
                        param=param).response()

    def check(name: str, prompt_tokens: int, n: int, max_tokens: int) -> None:
        if name != model_name:
            raise APIError(404, f"model {name!r} not served here; this server has "
                                f"{model_name!r}", param="model", code="model_not_found")
        if prompt_tokens + max_tokens > context:
            raise APIError(400, f"this model's context is {context} tokens; the prompt has "
                                f"{prompt_tokens} and max_tokens asks {max_tokens} more",
                           param="messages", code="context_length_exceeded")
        if n * max_tokens > limits.token_budget:
            raise APIError(400, f"n × max_tokens = {n * max_tokens} exceeds the server's "
                                f"budget of {limits.token_budget} tokens per request",
                           param="n", code="token_budget_exceeded")

    def params(req: Sampling, max_tokens: int) -> SamplingParams:
        for name, neutral in (("repetition_penalty", 1.0), ("repeat_penalty", 1.0),
                              ("presence_penalty", 0.0), ("frequency_penalty", 0.0)):
            if getattr(req, name) != neutral:
                raise APIError(400, f"{name} {getattr(req, name)} is not supported: this "
                                    "server samples the model's distribution exactly",
                               param=name, code="unsupported_parameter")
        return SamplingParams(n=req.n, temperature=req.temperature, top_p=req.top_p,
                              top_k=max(req.top_k, 0), min_p=req.min_p,
                              max_new_tokens=max_tokens, stop=_stops(req.stop),
                              seed=req.seed if req.seed is not None else secrets.randbits(31))

    def reported(p: SamplingParams) -> dict:
        """The distribution the samples were drawn from, in the response (an extension)."""
        return {"temperature": p.temperature, "top_p": p.top_p, "top_k": p.top_k,
                "min_p": p.min_p, "repetition_penalty": 1.0, "presence_penalty": 0.0,
                "frequency_penalty": 0.0}

    def usage(prompt_tokens, outs):
        completion = sum(c.n_tokens for c in outs)
        return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                "total_tokens": prompt_tokens + completion}

    def pieces(c):
        return [sampler.tokenizer.decode([t]) for t in c.token_ids]

    @app.get("/v1/models")
    def list_models():
        return {"object": "list", "data": [{"id": model_name, "object": "model",
                                            "owned_by": "workbench"}]}

    @app.post("/v1/completions")
    async def completions(req: CompletionRequest, request: Request):
        texts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
        encoded = await run_in_threadpool(lambda: [sampler.encode(p) for p in texts])
        for ids in encoded:
            check(req.model, len(ids), req.n * len(encoded), req.max_tokens)
        choices, outs_all = [], []
        sampling = params(req, req.max_tokens)
        for ids in encoded:
            worker.admit()
            outs = await worker.run(request, ids, sampling, req.logprobs or 0)
            outs_all += outs
            for c in outs:
                lp = None
                if req.logprobs is not None:
                    lp = {"tokens": pieces(c), "token_logprobs": list(c.token_logprobs),
                          "top_logprobs": [dict(t) for t in c.top_logprobs] or None,
                          "text_offset": None}
                choices.append({"index": len(choices), "text": c.text,
                                "finish_reason": c.finish_reason, "logprobs": lp})
        return {"id": "cmpl-" + secrets.token_hex(8), "object": "text_completion",
                "created": int(time.time()), "model": model_name, "choices": choices,
                "usage": usage(sum(map(len, encoded)), outs_all), "sampling": reported(sampling)}

    @app.post("/v1/chat/completions")
    async def chat(req: ChatRequest, request: Request):
        if not getattr(sampler.tokenizer, "chat_template", None):
            raise APIError(400, f"model {model_name!r} has no chat template; use "
                                "/v1/completions", param="messages")
        max_tokens = req.max_completion_tokens or req.max_tokens or 256

        def encode():
            text = sampler.tokenizer.apply_chat_template(
                [m.model_dump() for m in req.messages], tokenize=False,
                add_generation_prompt=True)
            return sampler.encode(text, add_special_tokens=False)
        ids = await run_in_threadpool(encode)
        check(req.model, len(ids), req.n, max_tokens)
        sampling = params(req, max_tokens)
        worker.admit()
        k = (req.top_logprobs or 0) if req.logprobs else 0
        outs = await worker.run(request, ids, sampling, k)
        choices = []
        for i, c in enumerate(outs):
            lp = None
            if req.logprobs:
                tops = c.top_logprobs or [{}] * len(c.token_logprobs)
                lp = {"content": [{"token": t, "logprob": v, "bytes": None,
                                   "top_logprobs": [{"token": x, "logprob": y, "bytes": None}
                                                    for x, y in top.items()]}
                                  for t, v, top in zip(pieces(c), c.token_logprobs, tops)]}
            choices.append({"index": i, "message": {"role": "assistant", "content": c.text},
                            "finish_reason": c.finish_reason, "logprobs": lp})
        return {"id": "chatcmpl-" + secrets.token_hex(8), "object": "chat.completion",
                "created": int(time.time()), "model": model_name, "choices": choices,
                "usage": usage(len(ids), outs), "sampling": reported(sampling)}

    app.add_middleware(BodyLimit, limit=limits.max_body)
    return app


def _context(sampler: TokenSampler) -> int:
    """The model's context length in tokens."""
    config = sampler.model.config
    found = [getattr(config, k, None) for k in ("max_position_embeddings", "n_positions",
                                                "max_sequence_length")]
    found = [v for v in found if isinstance(v, int) and v > 0]
    return min(found) if found else 2048


def serve(model: str, *, host: str = "127.0.0.1", port: int = 8000, dtype: str = "auto",
          device: str = "auto", limits: Limits = Limits(), log=print) -> None:
    import uvicorn  # only for `workbench serve`

    local = LocalConfig(dtype=dtype, device=device)
    local.validate()
    info = models.resolve(model)
    local = local.settle(info)  # auto resolved as a run resolves it
    dtype, device = local.dtype, local.device
    m, tok = models.load(info, dtype, device)
    sampler = TokenSampler(m, tok)
    app = create_app(sampler, model, limits)
    log(f"serving {model} ({info.kind}, {dtype} on {device}) at http://{host}:{port}/v1; context "
        f"{limits.max_context or _context(sampler)} tokens, body ≤ {limits.max_body} bytes, "
        f"n × max_tokens ≤ {limits.token_budget}, queue {limits.queue}, timeout "
        f"{limits.timeout:.0f} s")
    uvicorn.run(app, host=host, port=port, log_level="warning")


__all__ = ["Limits", "create_app", "serve"]

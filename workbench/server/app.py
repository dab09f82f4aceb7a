"""An OpenAI-compatible server over the token sampler: /v1/completions, /v1/chat/completions
(``n``, ``stop``, ``seed``, logprobs) and /v1/models, bound to 127.0.0.1.

It lets the offline demo and the tests run the whole OpenAI path, and an LLM judge, with the
bundled models. Bounded input cannot wedge it (``worker.Limits``):

- a request body over ``max_body`` bytes is refused before it is read whole (413);
- a prompt whose tokens plus ``max_tokens`` exceed the context is refused once tokenized (400,
  ``context_length_exceeded``), and so is ``n × max_tokens`` over ``token_budget`` (400);
- one worker thread samples; at most ``queue`` requests wait or run, and the next gets 429 with
  ``Retry-After``;
- a request whose client disconnects, or that runs past ``timeout`` seconds, is cancelled
  between two decode steps (504 for the timeout), so its slot frees at once.

Errors use the OpenAI shape (``protocol.py``), so the official client raises its own exception
classes.
"""

from __future__ import annotations

import secrets
import time
import traceback
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from ..backends.base import SamplingParams
from ..backends.transformers import Config as LocalConfig
from ..backends.transformers import models
from ..backends.transformers.tokens import TokenSampler
from .protocol import (
    APIError,
    BodyLimit,
    ChatRequest,
    CompletionRequest,
    Sampling,
    chat_choice,
    completion_choice,
    stops,
    usage,
)
from .worker import DEFAULT_LIMITS, Limits, Worker

PENALTIES = (("repetition_penalty", 1.0), ("repeat_penalty", 1.0), ("presence_penalty", 0.0),
             ("frequency_penalty", 0.0))  # refused unless neutral: the model's distribution only


class Service:
    """What the routes do, apart from how FastAPI routes them."""

    def __init__(self, sampler: TokenSampler, model_name: str, limits: Limits, clock):
        self.sampler, self.model_name, self.limits = sampler, model_name, limits
        self.worker = Worker(sampler, limits, clock)
        self.context = limits.max_context or _context(sampler)

    def check(self, name: str, prompt_tokens: int, n: int, max_tokens: int) -> None:
        if name != self.model_name:
            raise APIError(404, f"model {name!r} not served here; this server has "
                                f"{self.model_name!r}", param="model", code="model_not_found")
        if prompt_tokens + max_tokens > self.context:
            raise APIError(400, f"this model's context is {self.context} tokens; the prompt has "
                                f"{prompt_tokens} and max_tokens asks {max_tokens} more",
                           param="messages", code="context_length_exceeded")
        if n * max_tokens > self.limits.token_budget:
            raise APIError(400, f"n × max_tokens = {n * max_tokens} exceeds the server's "
                                f"budget of {self.limits.token_budget} tokens per request",
                           param="n", code="token_budget_exceeded")

    @staticmethod
    def params(req: Sampling, max_tokens: int) -> SamplingParams:
        for name, neutral in PENALTIES:
            if getattr(req, name) != neutral:
                raise APIError(400, f"{name} {getattr(req, name)} is not supported: this "
                                    "server samples the model's distribution exactly",
                               param=name, code="unsupported_parameter")
        return SamplingParams(n=req.n, temperature=req.temperature, top_p=req.top_p,
                              top_k=max(req.top_k, 0), min_p=req.min_p,
                              max_new_tokens=max_tokens, stop=stops(req.stop),
                              seed=req.seed if req.seed is not None else secrets.randbits(31))

    def pieces(self, c) -> list[str]:
        return [self.sampler.tokenizer.decode([t]) for t in c.token_ids]

    def response(self, kind: str, choices: list, prompt_tokens: int, outs,
                 p: SamplingParams) -> dict:
        """The body, with the distribution the samples were drawn from (an extension)."""
        drawn = {"temperature": p.temperature, "top_p": p.top_p, "top_k": p.top_k,
                 "min_p": p.min_p, "repetition_penalty": 1.0, "presence_penalty": 0.0,
                 "frequency_penalty": 0.0}
        prefix = "chatcmpl-" if kind == "chat.completion" else "cmpl-"
        return {"id": prefix + secrets.token_hex(8), "object": kind, "created": int(time.time()),
                "model": self.model_name, "choices": choices,
                "usage": usage(prompt_tokens, outs), "sampling": drawn}

    @staticmethod
    def note(request: Request, body: dict, n: int) -> dict:
        """What the request log says of an answered request: samples and tokens."""
        request.state.done = (n, body["usage"]["prompt_tokens"],
                              body["usage"]["completion_tokens"])
        return body

    async def completions(self, req: CompletionRequest, request: Request) -> dict:
        deadline = self.worker.deadline()  # the request's limit, not each prompt's
        texts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
        encoded = await run_in_threadpool(lambda: [self.sampler.encode(p) for p in texts])
        for ids in encoded:
            self.check(req.model, len(ids), req.n * len(encoded), req.max_tokens)
        sampling = self.params(req, req.max_tokens)
        choices, outs_all = [], []
        for ids in encoded:
            if self.worker.clock() > deadline:  # its earlier prompts took the request's time
                raise self.worker.late()
            self.worker.admit()
            outs = await self.worker.run(request, ids, sampling, req.logprobs or 0, deadline)
            outs_all += outs
            choices += [completion_choice(len(choices) + i, c, self.pieces(c),
                                          req.logprobs is not None) for i, c in enumerate(outs)]
        return self.note(request, self.response("text_completion", choices,
                                                sum(map(len, encoded)), outs_all, sampling),
                         len(outs_all))

    async def chat(self, req: ChatRequest, request: Request) -> dict:
        tokenizer = self.sampler.tokenizer
        if not getattr(tokenizer, "chat_template", None):
            raise APIError(400, f"model {self.model_name!r} has no chat template; use "
                                "/v1/completions", param="messages")
        max_tokens = req.max_completion_tokens or req.max_tokens or 256

        def encode():
            text = tokenizer.apply_chat_template([m.model_dump() for m in req.messages],
                                                 tokenize=False, add_generation_prompt=True)
            return self.sampler.encode(text, add_special_tokens=False)
        ids = await run_in_threadpool(encode)
        self.check(req.model, len(ids), req.n, max_tokens)
        sampling = self.params(req, max_tokens)
        self.worker.admit()
        k = (req.top_logprobs or 0) if req.logprobs else 0
        outs = await self.worker.run(request, ids, sampling, k)
        choices = [chat_choice(i, c, self.pieces(c), req.logprobs) for i, c in enumerate(outs)]
        return self.note(request, self.response("chat.completion", choices, len(ids), outs,
                                                sampling), len(outs))


def create_app(sampler: TokenSampler, model_name: str, limits: Limits = DEFAULT_LIMITS,
               clock: Callable[[], float] = time.monotonic,
               log: Callable[[str], None] = lambda s: None) -> FastAPI:
    """The app; ``clock`` (seconds, monotonic) is what the request deadline and the request
    log's durations are read from, so a test can make time pass without waiting for it;
    ``log`` gets one line per request (method, path, status, samples, tokens, seconds)."""
    app = FastAPI(title=f"workbench serve: {model_name}")
    service = Service(sampler, model_name, limits, clock)

    @app.middleware("http")
    async def request_log(request: Request, call_next):
        start = clock()
        response = await call_next(request)
        done = getattr(request.state, "done", None)
        what = (f" {done[0]} samples, {done[1]} prompt + {done[2]} completion tokens"
                if done else "")
        log(f"{request.method} {request.url.path} {response.status_code}{what} "
            f"{clock() - start:.2f} s")
        return response

    @app.exception_handler(APIError)
    async def api_error(request, exc: APIError):
        return exc.response()

    @app.exception_handler(Exception)
    async def unexpected(request, exc: Exception):  # a bug: logged whole, answered in shape
        traceback.print_exception(exc)
        return APIError(500, f"internal error ({type(exc).__name__}); see the server's log",
                        type_="server_error").response()

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        param = ".".join(str(x) for x in first.get("loc", ())[1:]) or None
        return APIError(400, f"{param or 'body'}: {first.get('msg', 'invalid request')}",
                        param=param).response()

    @app.get("/v1/models")
    def list_models():
        return {"object": "list", "data": [{"id": model_name, "object": "model",
                                            "owned_by": "workbench"}]}

    @app.post("/v1/completions")
    async def completions(req: CompletionRequest, request: Request):
        return await service.completions(req, request)

    @app.post("/v1/chat/completions")
    async def chat(req: ChatRequest, request: Request):
        return await service.chat(req, request)

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
          device: str = "auto", limits: Limits = DEFAULT_LIMITS, log=print) -> None:
    import uvicorn  # only for `workbench serve`

    local = LocalConfig(dtype=dtype, device=device)
    local.validate()
    info = models.resolve(model)
    local = local.settle(info)  # auto resolved as a run resolves it
    dtype, device = local.dtype, local.device
    m, tok = models.load(info, dtype, device)
    sampler = TokenSampler(m, tok)
    app = create_app(sampler, model, limits, log=log)
    log(f"serving {model} ({info.kind}, {dtype} on {device}) at http://{host}:{port}/v1; context "
        f"{limits.max_context or _context(sampler)} tokens, body ≤ {limits.max_body} bytes, "
        f"n × max_tokens ≤ {limits.token_budget}, queue {limits.queue}, timeout "
        f"{limits.timeout:.0f} s")
    uvicorn.run(app, host=host, port=port, log_level="warning")


__all__ = ["Limits", "Service", "create_app", "serve"]

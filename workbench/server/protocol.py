"""What an OpenAI client sees: the request bodies (the sampling fields OpenAI's clients and
other servers send), errors in OpenAI's shape ``{"error": {"message", "type", "param",
"code"}}`` (so the official client raises its own classes), a body-size limit, and the choices
of a response with their log-probabilities in each endpoint's layout."""

from __future__ import annotations

from typing import Optional, Union

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from ..backends.base import MAX_TEMPERATURE, MIN_TEMPERATURE


class Sampling(BaseModel):
    """The sampling fields: OpenAI's, and the ones other servers read (``servers.py``).
    Defaults are the untruncated distribution; penalties this server does not apply are
    refused rather than ignored."""

    n: int = Field(1, ge=1, le=256)
    temperature: float = Field(1.0, ge=0, le=MAX_TEMPERATURE, allow_inf_nan=False)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(0, ge=-1)  # 0 or -1: none
    min_p: float = Field(0.0, ge=0, lt=1)
    repetition_penalty: float = 1.0
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: Optional[Union[str, list[str]]] = None
    seed: Optional[int] = None
    # Fields OpenAI defines that this server does not apply: refused, never silently ignored.
    logit_bias: Optional[dict] = None
    stream: bool = False
    echo: bool = False
    best_of: Optional[int] = None

    @field_validator("temperature")
    @classmethod
    def _sane(cls, value: float) -> float:
        if 0 < value < MIN_TEMPERATURE:
            raise ValueError(f"must be 0 (greedy) or at least {MIN_TEMPERATURE}")
        return value

    @field_validator("logit_bias", "stream", "echo", "best_of")
    @classmethod
    def _not_applied(cls, value):
        if value:  # an empty bias, stream false, best_of unset: nothing asked
            raise ValueError("not applied by this server; leave it out")
        return value


def _text(value: str) -> str:
    """Text a tokenizer can take: not empty, and valid Unicode (no lone surrogate)."""
    if not value:
        raise ValueError("must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"is not valid Unicode ({exc.reason})") from None
    return value


class CompletionRequest(Sampling):
    model: str
    prompt: Union[str, list[str]]
    max_tokens: int = Field(16, ge=1, le=4096)
    logprobs: Optional[int] = Field(None, ge=0, le=20)

    @field_validator("prompt")
    @classmethod
    def _prompts(cls, value):
        if isinstance(value, list) and not value:
            raise ValueError("must hold at least one prompt")
        for text in value if isinstance(value, list) else [value]:
            _text(text)
        return value


class Message(BaseModel):
    role: str
    content: str

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        return _text(value)


class ChatRequest(Sampling):
    model: str
    messages: list[Message] = Field(min_length=1)
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
        if declared is not None:  # within the limit, and the server holds the client to it
            return await self.app(scope, receive, send)
        return await self._chunked(scope, receive, send, too_big)

    async def _chunked(self, scope, receive, send, too_big: "APIError"):
        """A body of unstated length, read up to the limit here: past it, 413 (raised from
        inside the app instead, FastAPI answered its own 400 "error parsing the body")."""
        chunks, seen, message = [], 0, {"more_body": True}
        while message.get("more_body"):
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return None
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                while message.get("more_body") and seen <= self.drain:
                    message = await receive()
                    seen += len(message.get("body", b""))
                return await too_big.response()(scope, receive, send)
        whole = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay():
            return whole.pop() if whole else await receive()
        return await self.app(scope, replay, send)


def stops(stop) -> tuple[str, ...]:
    if stop is None:
        return ()
    return (stop,) if isinstance(stop, str) else tuple(stop)


def completion_choice(index: int, c, pieces: list[str], logprobs: bool) -> dict:
    """One choice of /v1/completions (log-probabilities in the legacy layout when asked)."""
    lp = None
    if logprobs:
        lp = {"tokens": pieces, "token_logprobs": list(c.token_logprobs),
              "top_logprobs": [dict(t) for t in c.top_logprobs] or None, "text_offset": None}
    return {"index": index, "text": c.text, "finish_reason": c.finish_reason, "logprobs": lp}


def chat_choice(index: int, c, pieces: list[str], logprobs: bool) -> dict:
    """One choice of /v1/chat/completions (log-probabilities per content token when asked)."""
    lp = None
    if logprobs:
        tops = c.top_logprobs or [{}] * len(c.token_logprobs)
        lp = {"content": [{"token": t, "logprob": v, "bytes": None,
                           "top_logprobs": [{"token": x, "logprob": y, "bytes": None}
                                            for x, y in top.items()]}
                          for t, v, top in zip(pieces, c.token_logprobs, tops)]}
    return {"index": index, "message": {"role": "assistant", "content": c.text},
            "finish_reason": c.finish_reason, "logprobs": lp}


def usage(prompt_tokens: int, outs) -> dict:
    completion = sum(c.n_tokens for c in outs)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
            "total_tokens": prompt_tokens + completion}

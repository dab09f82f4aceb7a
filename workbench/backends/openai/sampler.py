"""An OpenAI-compatible server as a ``Sampler``: completions for base models (the k-shot prompt),
chat for chat models (the messages, stored as JSON); ``n`` samples per request where the server
gives them (falling back to one request per sample), up to ``concurrency`` questions in flight."""

from __future__ import annotations

import json

from ... import prompts
from ...errors import RemoteError
from ..base import Completion, ModelInfo, SamplingParams, seed_for, threaded_map
from .client import OpenAIClient
from .servers import family, note_for


class OpenAISampler:
    def __init__(self, info: ModelInfo, client: OpenAIClient, concurrency: int):
        self.info, self.client, self.concurrency = info, client, concurrency
        self.stats = client.stats
        self.supports_n = True
        self.on_sampled = None  # see backends.base.Sampler

    def request(self, plan, dataset, question):
        shots = prompts.exemplars(dataset, question, plan.shots, plan.seed)
        if plan.prompt_format == "chat":
            messages = prompts.chat_messages(question, shots, plan.style)
            return json.dumps(messages, ensure_ascii=False), messages
        text = prompts.completion_prompt(question, shots, plan.style)
        return text, text

    def provenance(self, params: SamplingParams) -> dict:
        fam = family(self.client.cfg.family)
        body = {**self.client.body(params), "seed": "per question, from the run's seed"}
        return {"server_family": fam.name, "request_params": json.dumps(body, sort_keys=True),
                "sampling_note": note_for(fam, params)}

    def sample(self, items, params: SamplingParams):
        def one(item):
            try:
                return self._question(item[0], item[1], params)
            except RemoteError as exc:
                return exc
            finally:
                if self.on_sampled:
                    self.on_sampled(1)
        return threaded_map(one, items, self.concurrency)

    def ask(self, items, params: SamplingParams, top_logprobs: int = 0):
        """One completion per (key, chat messages) (elicitation calls): (the prompt as sent,
        the completion, or the RemoteError it failed with)."""
        chat = self.info.prompt_format == "chat"

        def one(item):
            key, messages = item
            prompt = messages if chat else prompts.render(messages, "completion")
            stored = json.dumps(messages, ensure_ascii=False) if chat else prompt
            try:
                seed = seed_for(params.seed, key) & 0x7FFFFFFF
                return stored, self.client.complete(prompt, params, 1, seed, top_logprobs)[0]
            except RemoteError as exc:
                return stored, exc
            finally:
                if self.on_sampled:
                    self.on_sampled(1)
        return threaded_map(one, items, self.concurrency)

    def _question(self, key: str, prompt, params: SamplingParams) -> list[Completion]:
        seed = seed_for(params.seed, key) & 0x7FFFFFFF
        out: list[Completion] = []
        if self.supports_n and params.n > 1:
            try:
                out = self.client.complete(prompt, params, params.n, seed)
                if len(out) == params.n:
                    return out
                out = out[:1]  # n ignored (llama-cpp-python): its one sample is the first
            except RemoteError as exc:
                if exc.status not in (400, 422):
                    raise
            self.supports_n = False  # this server will not give n samples at once
        for i in range(len(out), params.n):
            out += self.client.complete(prompt, params, 1, (seed + i) & 0x7FFFFFFF)
        return out

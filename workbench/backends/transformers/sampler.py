"""The local model as a ``Sampler``: prompts built with its tokenizer, samples drawn by
``TokenSampler`` in batches planned to fit the memory budget (``memory.py``)."""

from __future__ import annotations

import json

from ... import prompts
from ..base import ModelInfo, SamplingParams
from .device import DTYPE_BYTES
from .memory import default_budget, plan_batches, shape_of
from .models import load
from .tokens import TokenSampler


class TransformersSampler:
    def __init__(self, info: ModelInfo, sampler: TokenSampler, dtype: str, budget: int):
        self.info, self.sampler, self.budget = info, sampler, budget
        self.dtype_bytes = DTYPE_BYTES[dtype]
        self.shape = shape_of(sampler.model.config)
        self.stats = {"prompt_tokens": 0, "completion_tokens": 0, "batches": 0}
        # see backends.base.Sampler; told a batch's share of its questions as it decodes
        self.on_sampled = None

    @classmethod
    def load(cls, info: ModelInfo, dtype: str, device: str = "cpu",
             budget: int | None = None) -> "TransformersSampler":
        model, tokenizer = load(info, dtype, device)
        return cls(info, TokenSampler(model, tokenizer), dtype,
                   budget or default_budget(device, weights_loaded=True))

    def request(self, plan, dataset, question) -> tuple[str, str]:
        text = prompts.build_prompt(plan, dataset, question, self.sampler.tokenizer)
        return text, text

    def provenance(self, params: SamplingParams) -> dict:
        """The local sampler draws exactly from softmax(logits / T), truncated only as asked."""
        fields = {k: getattr(params, k) for k in ("temperature", "top_p", "top_k", "min_p",
                                                  "max_new_tokens", "stop")}
        return {"server_family": None, "request_params": json.dumps(fields, sort_keys=True),
                "sampling_note": None}

    def ask(self, items, params: SamplingParams, top_logprobs: int = 0):
        """One completion per (key, chat messages), each alone (elicitation calls, a few per
        question): (the prompt as sent, the completion)."""
        out = []
        for key, messages in items:
            text = prompts.render(messages, self.info.prompt_format, self.sampler.tokenizer)
            ids = self.sampler.encode(text, self.info.prompt_format == "completion")
            out.append((text, self.sampler.sample_batch([(key, ids)], params,
                                                        top_logprobs=top_logprobs)[0][0]))
            if self.on_sampled:
                self.on_sampled(1)
        return out

    def sample(self, items, params: SamplingParams):
        """M completions per (key, prompt text), in as few batches as the budget allows."""
        # Chat templates carry their own BOS; completion prompts get the tokenizer's.
        special = self.info.prompt_format == "completion"
        encoded = [(key, self.sampler.encode(text, special)) for key, text in items]
        out = []
        for batch in plan_batches([len(ids) for _, ids in encoded], params.n,
                                  params.max_new_tokens, self.shape, self.dtype_bytes,
                                  self.budget):
            told = [0.0]  # of this batch's questions, said so far

            def decoded(step: int, steps: int, size: int = len(batch)) -> None:
                share = size * step / steps - told[0]  # the batch's decode steps, pro rata
                told[0] += share
                self.on_sampled(share)
            out += self.sampler.sample_batch([encoded[i] for i in batch], params,
                                             on_step=decoded if self.on_sampled else None)
            self.stats["batches"] += 1
            if self.on_sampled:
                self.on_sampled(len(batch) - told[0])
        self.stats["prompt_tokens"] += sum(len(ids) for _, ids in encoded)
        self.stats["completion_tokens"] += sum(c.n_tokens for cs in out for c in cs)
        return out

"""The local model as a ``Sampler``: prompts built with its tokenizer, samples drawn by
``LocalSampler``."""

from __future__ import annotations

from ... import prompts
from ..base import ModelInfo, SamplingParams
from .models import load
from .sampler import LocalSampler


class LocalBackend:
    def __init__(self, info: ModelInfo, sampler: LocalSampler):
        self.info, self.sampler = info, sampler
        self.stats = sampler.stats

    @classmethod
    def load(cls, info: ModelInfo, dtype: str) -> "LocalBackend":
        model, tokenizer = load(info, dtype)
        return cls(info, LocalSampler(model, tokenizer))

    def request(self, plan, dataset, question) -> tuple[str, str]:
        text = prompts.build_prompt(plan, dataset, question, self.sampler.tokenizer)
        return text, text

    def sample(self, items, params: SamplingParams):
        # Chat templates carry their own BOS; completion prompts get the tokenizer's.
        return self.sampler.sample_prompts(items, params,
                                           self.info.prompt_format == "completion")

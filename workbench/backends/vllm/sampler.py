"""vLLM's offline engine as a ``Sampler``: prompts built and tokenized as the transformers
backend builds them (the same token ids reach both engines), M samples per question in one
request, every question of a chunk in one ``generate`` call (vLLM batches them continuously)."""

from __future__ import annotations

import json
import time

from transformers import AutoTokenizer
from vllm import LLM
from vllm import SamplingParams as VParams
from vllm.inputs import TokensPrompt
from vllm.platforms import current_platform

from ... import prompts
from ..base import Completion, ModelInfo, SamplingParams, seed_for

# vLLM's sampling fields, each stated so nothing falls back to a default: no top-k (-1), no
# min-p, no penalties; logprobs=0 returns the sampled token's log p, which ``raw_logprobs``
# (the engine's setting) takes from the model's own logits (temperature 1, untruncated).
NEUTRAL = {"min_p": 0.0, "presence_penalty": 0.0, "frequency_penalty": 0.0,
           "repetition_penalty": 1.0, "logprobs": 0, "skip_special_tokens": True}


def request_fields(params: SamplingParams) -> dict:
    """The fields of ``vllm.SamplingParams`` for one question of a run (its seed apart)."""
    return {"n": params.n, "temperature": params.temperature, "top_p": params.top_p,
            "top_k": params.top_k or -1, **NEUTRAL, "min_p": params.min_p,
            "max_tokens": params.max_new_tokens, "stop": list(params.stop)}


# On vLLM's CPU build: no CUDA graphs or torch.compile (compiling takes minutes for nothing), and
# no chunked prefill: vLLM CPU 0.32 crashes on a seeded request whose prompt is prefilled in
# chunks ("RuntimeError: CPU Generator does not use offset"; every request of a run is seeded,
# and M samples of a few questions exceed the token budget). Without it, vLLM raises the budget
# to the longest sequence, so whole prompts fit.
CPU = {"enforce_eager": True, "enable_chunked_prefill": False}


def engine_args(cfg, info: ModelInfo) -> dict:
    """``vllm.LLM``'s arguments for a backend config; the model folder's generation config is
    not read (``generation_config="vllm"``: the request's fields are the whole distribution)."""
    return dict(model=info.source, dtype=cfg.dtype, max_model_len=cfg.max_model_len,
                tensor_parallel_size=cfg.tensor_parallel_size,
                data_parallel_size=cfg.data_parallel_size,
                enable_prefix_caching=cfg.prefix_caching, generation_config="vllm",
                logprobs_mode="raw_logprobs", seed=0,
                **(CPU if current_platform.is_cpu()
                   else {"gpu_memory_utilization": cfg.gpu_memory_utilization}))


class VLLMSampler:
    def __init__(self, info: ModelInfo, llm, tokenizer):
        self.info, self.llm, self.tokenizer = info, llm, tokenizer
        self.stats = {"prompt_tokens": 0, "completion_tokens": 0, "batches": 0}

    @classmethod
    def load(cls, info: ModelInfo, cfg) -> "VLLMSampler":
        llm = LLM(**engine_args(cfg, info))
        return cls(info, llm, AutoTokenizer.from_pretrained(info.source))

    def request(self, plan, dataset, question) -> tuple[str, str]:
        text = prompts.build_prompt(plan, dataset, question, self.tokenizer)
        return text, text

    def provenance(self, params: SamplingParams) -> dict:
        """vLLM draws from softmax(logits / T), truncated only as the fields say."""
        body = {**request_fields(params), "seed": "per question, from the run's seed"}
        return {"server_family": None, "request_params": json.dumps(body, sort_keys=True),
                "sampling_note": None}

    def sample(self, items, params: SamplingParams):
        # Chat templates carry their own BOS; completion prompts get the tokenizer's.
        special = self.info.prompt_format == "completion"
        ids = [self.tokenizer(text, add_special_tokens=special)["input_ids"] for _, text in items]
        fields = request_fields(params)
        start = time.perf_counter()
        outputs = self.llm.generate(
            [TokensPrompt(prompt_token_ids=p) for p in ids],
            [VParams(**fields, seed=seed_for(params.seed, key)) for key, _ in items],
            use_tqdm=False)
        latency = time.perf_counter() - start
        out = [[_completion(c, latency) for c in o.outputs] for o in outputs]
        self.stats["batches"] += 1
        self.stats["prompt_tokens"] += sum(map(len, ids))
        self.stats["completion_tokens"] += sum(c.n_tokens for cs in out for c in cs)
        return out


def _completion(c, latency: float) -> Completion:
    """One vLLM ``CompletionOutput`` as the store keeps it: the stop string cut (as vLLM does),
    EOS among the tokens when emitted, finish ``stop`` or ``length``."""
    lps = tuple(step[tok].logprob for tok, step in zip(c.token_ids, c.logprobs or ()))
    return Completion(c.text, len(c.token_ids), sum(lps) if lps else None,
                      "length" if c.finish_reason == "length" else "stop", latency,
                      tuple(c.token_ids), lps)

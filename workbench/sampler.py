"""Local sampling through transformers: M samples of one prompt that share its KV cache.

The prompt is encoded and run once (computing logits for its last position only); its cache is
then repeated for the M samples, which decode together. A sequence leaves the batch as soon as it
emits EOS or completes a stop string. Sampling is exact: softmax(logits / T), with top-k / top-p
truncation only when asked, drawn from a generator seeded per (seed, key), so a question's
samples do not depend on which other questions ran before it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingParams:
    n: int = 20
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0  # 0 = no top-k
    max_new_tokens: int = 16
    stop: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self):
        if self.n <= 0:
            raise ValueError(f"samples per question must be ≥ 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be ≥ 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens <= 0:
            raise ValueError(f"max_new_tokens must be ≥ 1, got {self.max_new_tokens}")


@dataclass(frozen=True)
class Completion:
    text: str
    n_tokens: int
    logprob: float  # summed log p of the sampled tokens under the model (temperature 1)
    finish_reason: str  # stop | length
    latency_s: float  # from the start of the prompt's prefill to this sample's last token


def seed_for(seed: int, key: str) -> int:
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def filter_logits(logits: torch.Tensor, temperature: float, top_k: int, top_p: float):
    """Logits of the sampling distribution; greedy is handled by the caller (T = 0)."""
    logits = logits / temperature
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1, None]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop_sorted = cum - sorted_logits.softmax(-1) >= top_p  # keep the token that crosses p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


class LocalSampler:
    """Samples from a transformers causal LM on the local device."""

    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer
        self.eos_ids = _eos_ids(model, tokenizer)

    def encode(self, prompt: str, add_special_tokens: bool = True) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=add_special_tokens)["input_ids"]

    @torch.inference_mode()
    def sample(self, prompt_ids: list[int], params: SamplingParams, key: str) -> list[Completion]:
        start = time.perf_counter()
        gen = torch.Generator().manual_seed(seed_for(params.seed, key))
        ids = torch.tensor([prompt_ids], dtype=torch.long)
        out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
        cache = out.past_key_values
        logits = out.logits[:, -1, :].float().expand(params.n, -1)
        cache.batch_repeat_interleave(params.n)

        rows = list(range(params.n))  # sample index of each live batch row
        tokens: list[list[int]] = [[] for _ in rows]
        logprob = [0.0] * params.n
        done: dict[int, Completion] = {}
        for step in range(params.max_new_tokens):
            next_tok = self._draw(logits, params, gen)
            lp = torch.log_softmax(logits, dim=-1).gather(-1, next_tok[:, None])[:, 0]
            keep = []
            for b, (i, tok) in enumerate(zip(rows, next_tok.tolist())):
                logprob[i] += float(lp[b])
                if tok in self.eos_ids:
                    done[i] = self._finish(tokens[i], logprob[i], "stop", len(tokens[i]) + 1,
                                           params.stop, start)
                    continue
                tokens[i].append(tok)
                text, hit = self._text(tokens[i], params.stop)
                if hit:
                    done[i] = Completion(text, len(tokens[i]), logprob[i], "stop",
                                         time.perf_counter() - start)
                elif step == params.max_new_tokens - 1:
                    done[i] = Completion(text, len(tokens[i]), logprob[i], "length",
                                         time.perf_counter() - start)
                else:
                    keep.append(b)
            if not keep:
                break
            if len(keep) < len(rows):
                cache.batch_select_indices(torch.tensor(keep))
                next_tok = next_tok[keep]
                rows = [rows[b] for b in keep]
            out = self.model(input_ids=next_tok[:, None], past_key_values=cache, use_cache=True)
            cache = out.past_key_values
            logits = out.logits[:, -1, :].float()
        return [done[i] for i in range(params.n)]

    def _draw(self, logits, params: SamplingParams, gen) -> torch.Tensor:
        if params.temperature == 0:
            return logits.argmax(-1)
        probs = filter_logits(logits, params.temperature, params.top_k, params.top_p).softmax(-1)
        return torch.multinomial(probs, 1, generator=gen)[:, 0]

    def _text(self, toks: list[int], stop: tuple[str, ...]) -> tuple[str, bool]:
        text = self.tokenizer.decode(toks, skip_special_tokens=True)
        cut = min((text.find(s) for s in stop if s in text), default=-1)
        return (text[:cut], True) if cut >= 0 else (text, False)

    def _finish(self, toks, logprob, reason, n_tokens, stop, start) -> Completion:
        text, _ = self._text(toks, stop)
        return Completion(text, n_tokens, logprob, reason, time.perf_counter() - start)


def _eos_ids(model, tokenizer) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config, tokenizer):
        value = getattr(source, "eos_token_id", None)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(v for v in value if isinstance(v, int))
    return ids

"""Local sampling through transformers: M samples of one prompt that share its KV cache.

Each prompt is encoded and run once (logits for its last position only); its cache is then
repeated for the M samples, which decode together, with other prompts' samples in the same batch.
A sequence leaves the batch as soon as it emits EOS or completes a stop string. Sampling is
exact: softmax(logits / T), with top-k / top-p truncation only when asked, drawn by inverse CDF
from a generator seeded per (seed, key).
"""

from __future__ import annotations

import functools
import inspect
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..base import Completion, SamplingParams, seed_for


def filter_logits(logits: torch.Tensor, temperature: float, top_k: int, top_p: float,
                  min_p: float = 0.0):
    """Logits of the sampling distribution; greedy is handled by the caller (T = 0)."""
    logits = logits / temperature
    if min_p > 0:  # drop tokens below min_p times the most likely token's probability
        floor = logits.amax(-1, keepdim=True) + torch.log(torch.tensor(min_p))
        logits = logits.masked_fill(logits < floor, float("-inf"))
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


@dataclass
class _Row:
    """One sample being decoded: its tokens, their log p, and its completion once done."""
    tokens: list[int] = field(default_factory=list)
    lps: list[float] = field(default_factory=list)
    tops: list[dict[str, float]] = field(default_factory=list)
    logprob: float = 0.0
    done: Completion | None = None


BLOCK = 512  # vocabulary block for two-level inverse-CDF sampling


def prefill(model, prompts: list[list[int]], pad_id: int, device):
    """One forward pass over the prompts, left-padded to one width: (the output, with the KV
    cache and the logits of each prompt's last position only; the attention mask; the
    positions). Left padding puts every prompt's next token in the same column."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(prompts):
        ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p):] = 1
    ids, mask = ids.to(device), mask.to(device)
    pos = (mask.cumsum(-1) - 1).clamp_(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True,
                logits_to_keep=1)
    return out, mask, pos


def cache_of(out):
    """A forward pass's KV cache: ``cache`` from transformers 5.24 on, ``past_key_values``
    before (vLLM's CPU build pins transformers < 5.20, and workbench runs beside it)."""
    return out.cache if hasattr(out, "cache") else out.past_key_values


def with_cache(model, cache) -> dict:
    """The keyword that hands ``cache`` to ``model``'s forward, as ``cache_of`` reads it (a
    peft wrapper's forward takes **kwargs: the keyword is the wrapped model's)."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return {_cache_keyword(type(inner)): cache}


@functools.cache
def _cache_keyword(cls) -> str:
    params = inspect.signature(cls.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


class Cancelled(Exception):
    """A batch stopped on request, its partial samples dropped."""


def draw(logits: torch.Tensor, params: SamplingParams, gens: list[torch.Generator],
         groups: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample one token per row, exactly, by inverse CDF; returns (tokens, model logprobs).

    Row r draws its uniform from ``gens[groups[r]]`` (its question's generator), so a question's
    samples do not depend on the other rows. Two levels keep it to about two passes over the
    vocabulary: float64 sums of 512-token blocks pick a block, then a float64 cumulative sum
    inside that block picks the token. Logprobs are under the model's own distribution
    (temperature 1, untruncated).
    """
    if logits.device.type == "mps":  # MPS has no float64: the draw runs on the CPU, exactly
        logits = logits.cpu()
    logits = logits.float()
    peak = logits.amax(-1, keepdim=True)
    if params.temperature == 0:
        tok = logits.argmax(-1, keepdim=True)
        lse = peak + (logits - peak).exp_().sum(-1, keepdim=True).log_()
        return tok[:, 0], (logits.gather(-1, tok) - lse)[:, 0]
    exact = (params.temperature == 1.0 and not params.top_k and params.top_p >= 1.0
             and not params.min_p)
    weights = (logits - peak).exp_()  # unnormalised probabilities, max 1
    lse = peak + weights.sum(-1, keepdim=True, dtype=torch.float64).log_().float()
    if not exact:
        weights = filter_logits(logits, params.temperature, params.top_k, params.top_p,
                                params.min_p)
        weights = (weights - weights.amax(-1, keepdim=True)).exp_()
    tok = _inverse_cdf(weights, gens, groups)
    return tok, (logits.gather(-1, tok[:, None]) - lse)[:, 0]


def _inverse_cdf(weights: torch.Tensor, gens, groups) -> torch.Tensor:
    rows, vocab = weights.shape
    pad = (-vocab) % BLOCK
    blocks = torch.nn.functional.pad(weights, (0, pad)).view(rows, -1, BLOCK)
    block_cdf = blocks.sum(-1, dtype=torch.float64).cumsum_(-1)
    # The uniforms come from CPU generators on every device, so a seed draws the same numbers
    # wherever the model runs.
    u = torch.empty(rows, 1, dtype=torch.float64)
    for r, g in enumerate(groups):
        u[r, 0] = torch.rand(1, generator=gens[g], dtype=torch.float64)
    u = u.to(weights.device).mul_(block_cdf[:, -1:])
    b = torch.searchsorted(block_cdf, u, right=True).clamp_(max=block_cdf.shape[-1] - 1)
    before = torch.where(b > 0, block_cdf.gather(-1, (b - 1).clamp_(min=0)), 0.0)
    inner = blocks.gather(1, b[:, :, None].expand(-1, -1, BLOCK))[:, 0].double().cumsum_(-1)
    i = torch.searchsorted(inner, u - before, right=True).clamp_(max=BLOCK - 1)
    tok = (b * BLOCK + i)[:, 0]
    # Only if the block sum and the in-block sum round apart (odds ~1e-16) can the draw run past
    # the block's last token; the clamp keeps it inside the vocabulary.
    return torch.minimum(tok, torch.full_like(tok, vocab - 1))


class TokenSampler:
    """Samples from a transformers causal LM on the local device.

    ``sample_batch`` runs several prompts together: their prefill is one left-padded batch
    (logits for the last position only); the cache is then repeated M times per prompt and all
    rows decode together, each leaving the batch when it emits EOS or completes a stop string.
    """

    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer
        self.eos_ids = _eos_ids(model, tokenizer)
        self.device = next(model.parameters()).device
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else min(self.eos_ids, default=0)

    def encode(self, prompt: str, add_special_tokens: bool = True) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=add_special_tokens)["input_ids"]

    def sample(self, prompt_ids: list[int], params: SamplingParams, key: str) -> list[Completion]:
        return self.sample_batch([(key, prompt_ids)], params)[0]

    @torch.inference_mode()
    def sample_batch(self, items: list[tuple[str, list[int]]], params: SamplingParams,
                     should_stop: Callable[[], bool] | None = None, top_logprobs: int = 0,
                     on_step: Callable[[int, int], None] | None = None
                     ) -> list[list[Completion]]:
        """M completions for each (key, prompt ids); the key seeds that prompt's generator.
        ``should_stop`` is asked before the prefill and between decode steps; when it says so,
        the batch ends with ``Cancelled`` (a server's client went away, or its time ran out).
        ``top_logprobs``: also the likeliest tokens at each step, with their log p under the
        model (temperature 1, untruncated), as OpenAI-compatible servers report them.
        ``on_step(step, max_new_tokens)`` after each decode step (progress inside a batch)."""
        start = time.perf_counter()
        if should_stop and should_stop():
            raise Cancelled("stopped before the prefill")
        n, q = params.n, len(items)
        gens = [torch.Generator().manual_seed(seed_for(params.seed, key)) for key, _ in items]
        cache, logits, mask, next_pos = self._prefill([p for _, p in items], n)
        rows = [_Row() for _ in range(q * n)]  # flat (prompt, sample) index
        live = list(range(q * n))  # the rows still decoding, in batch order
        for step in range(params.max_new_tokens):
            if should_stop and should_stop():
                raise Cancelled(f"stopped after {step} decode steps")
            next_tok, lp = draw(logits, params, gens, [r // n for r in live])
            next_tok = next_tok.to(self.device)
            tops = self._tops(logits, top_logprobs) if top_logprobs else [None] * len(live)
            last = step == params.max_new_tokens - 1
            keep = [b for b, (r, tok, lp_, top) in enumerate(zip(live, next_tok.tolist(),
                                                                 lp.tolist(), tops))
                    if not self._extend(rows[r], tok, lp_, top, params.stop, last, start)]
            if not keep:
                break
            if len(keep) < len(live):
                idx = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(idx)
                next_tok, mask, next_pos = next_tok[idx], mask[idx], next_pos[idx]
                live = [live[b] for b in keep]
            mask = torch.cat([mask, mask.new_ones((len(live), 1))], dim=-1)
            out = self.model(input_ids=next_tok[:, None], attention_mask=mask,
                             position_ids=next_pos[:, None], use_cache=True,
                             **with_cache(self.model, cache))
            cache, logits = cache_of(out), out.logits[:, -1, :]
            next_pos = next_pos + 1
            if on_step:
                on_step(step + 1, params.max_new_tokens)
        return [[rows[i * n + j].done for j in range(n)] for i in range(q)]

    def _prefill(self, prompts: list[list[int]], n: int):
        """Each prompt run once; its cache, last logits, mask and next position repeated for
        its n samples."""
        out, mask, pos = prefill(self.model, prompts, self.pad_id, self.device)
        cache = cache_of(out)
        cache.batch_repeat_interleave(n)
        return (cache, out.logits[:, -1, :].repeat_interleave(n, dim=0),
                mask.repeat_interleave(n, dim=0), pos[:, -1].repeat_interleave(n) + 1)

    def _extend(self, row: _Row, tok: int, lp: float, top: dict | None,
                stop: tuple[str, ...], last: bool, start: float) -> bool:
        """One sampled token onto ``row``; True when the row is finished (EOS, a stop string,
        or the token budget), with its ``Completion`` in ``row.done``."""
        row.logprob += lp
        row.lps.append(lp)
        if top is not None:
            row.tops.append(top)
        if tok in self.eos_ids:
            text, _ = self._text(row.tokens, stop)
            row.done = Completion(text, len(row.tokens) + 1, row.logprob, "stop",
                                  time.perf_counter() - start, (*row.tokens, tok),
                                  tuple(row.lps), tuple(row.tops))
            return True
        row.tokens.append(tok)
        text, hit = self._text(row.tokens, stop)
        if hit or last:
            row.done = Completion(text, len(row.tokens), row.logprob, "stop" if hit else "length",
                                  time.perf_counter() - start, tuple(row.tokens), tuple(row.lps),
                                  tuple(row.tops))
        return hit or last

    def _tops(self, logits: torch.Tensor, k: int) -> list[dict[str, float]]:
        """Per row: the k likeliest next tokens as text with their log p; tokens that print
        alike are merged (their probabilities added)."""
        values, ids = logits.float().log_softmax(-1).topk(min(k, logits.shape[-1]), dim=-1)
        rows = []
        for vals, toks in zip(values.tolist(), ids.tolist()):
            merged: dict[str, float] = {}
            for v, t in zip(vals, toks):
                text = self.tokenizer.decode([t])
                merged[text] = float(torch.logaddexp(torch.tensor(merged[text]), torch.tensor(v))
                                     ) if text in merged else v
            rows.append(merged)
        return rows

    def _text(self, toks: list[int], stop: tuple[str, ...]) -> tuple[str, bool]:
        text = self.tokenizer.decode(toks, skip_special_tokens=True)
        cut = min((text.find(s) for s in stop if s in text), default=-1)
        return (text[:cut], True) if cut >= 0 else (text, False)


def _eos_ids(model, tokenizer) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config, tokenizer):
        value = getattr(source, "eos_token_id", None)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(v for v in value if isinstance(v, int))
    return ids

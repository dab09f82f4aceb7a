"""Log-probabilities of whole completions under a model, with gradients: what RL and SFT
optimise.

A prompt's forward pass is shared by all its completions: the prompts are prefilled once as a
left-padded batch, their cache is repeated G times, and the right-padded completions continue
from it. The gradient flows through both passes, so it is the exact gradient of each
completion's log-probability (not a truncated one), at the cost of one prompt pass per prompt
rather than one per completion. Logits are taken only where a completion token is predicted: the
vocabulary projection dominates the cost for models with large vocabularies (Gemma 3: 262k).
"""

from __future__ import annotations

import torch

from ..backends.transformers.tokens import cache_of, prefill, with_cache


def completion_logprobs(model, prompts: list[list[int]], completions: list[list[list[int]]],
                        pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per prompt and completion: the summed log p of the completion's tokens given the prompt
    (shape [Q, G]) and the number of its tokens (same shape).

    ``completions[i]`` holds G token lists for ``prompts[i]``; every prompt has the same G.
    Empty completions get log p 0 and 0 tokens.
    """
    lp, weight = token_logprobs(model, prompts, completions, pad_id)
    return lp.sum(-1), weight.sum(-1)


def token_logprobs(model, prompts: list[list[int]], completions: list[list[list[int]]],
                   pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each completion token's log p given the prompt and the tokens before it, and a mask of
    the real tokens (both [Q, G, L], L the longest completion; padding has log p 0)."""
    q = len(prompts)
    g = len(completions[0])
    if any(len(c) != g for c in completions):
        raise ValueError("every prompt needs the same number of completions")
    device = next(model.parameters()).device
    out, mask, pos = prefill(model, prompts, pad_id, device)
    first = out.logits[:, -1].repeat_interleave(g, 0)  # predicts each completion's first token
    cache = cache_of(out)
    cache.batch_repeat_interleave(g)

    flat = [c for cs in completions for c in cs]
    length = max(1, max(len(c) for c in flat))
    toks = torch.full((q * g, length), pad_id, dtype=torch.long, device=device)
    tmask = torch.zeros((q * g, length), dtype=torch.long, device=device)
    for i, c in enumerate(flat):
        toks[i, :len(c)] = torch.tensor(c, dtype=torch.long)
        tmask[i, :len(c)] = 1
    if length > 1:
        full_mask = torch.cat([mask.repeat_interleave(g, 0), tmask], -1)
        tpos = pos[:, -1:].repeat_interleave(g, 0) + 1 + torch.arange(length, device=device)
        # Feeding all tokens but the last: position t's logits predict token t + 1.
        rest = model(input_ids=toks[:, :-1], attention_mask=full_mask[:, :-1],
                     position_ids=tpos[:, :-1], **with_cache(model, cache)).logits
        logits = torch.cat([first[:, None], rest], 1)
    else:
        logits = first[:, None]
    # Half precision up to float32 for the log-softmax; float32 and float64 kept as they are
    # (a float64 model's gradient check needs float64 logits).
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    lp = logits.gather(-1, toks[..., None])[..., 0] - logits.logsumexp(-1)
    weight = tmask.to(lp.dtype)
    return (lp * weight).view(q, g, -1), weight.view(q, g, -1)


def group_advantages(rewards: torch.Tensor, normalise: bool = False) -> torch.Tensor:
    """REINFORCE with each prompt's mean reward as its baseline (GRPO's group baseline);
    ``normalise`` also divides by the group's standard deviation, as GRPO does (it inflates
    near-unanimous groups, so it is an option, not the default)."""
    adv = rewards - rewards.mean(-1, keepdim=True)
    return adv / (rewards.std(-1, keepdim=True, unbiased=False) + 1e-4) if normalise else adv


def kl_to_parent(logp: torch.Tensor, parent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean per-token KL(policy ‖ parent) over the sampled tokens, with the k3 estimator
    GRPO uses: exp(q − p) − (q − p) − 1 ≥ 0, with p the policy's and q the parent's log p of
    the token. Zero, with zero gradient, where the policy equals its parent."""
    delta = parent - logp
    per_token = (delta.exp() - delta - 1) * mask
    return per_token.sum() / mask.sum().clamp(min=1)

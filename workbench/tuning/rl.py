"""On-policy RL with a correctness reward, as GRPO runs it: each step samples G rollouts per
question with the workbench's own sampler (the exact distribution runs sample from), rewards
each by a rule judge's verdict on its extracted answer (1 correct, 0 otherwise, as `grade`
would judge it), and takes a policy-gradient step with each question's mean reward as baseline
(optionally divided by the group's sd), plus a per-token KL penalty to the parent policy (the
base model, the LoRA adapter switched off) that keeps the policy near it instead of letting it
collapse onto whatever answer the reward happens to favour."""

from __future__ import annotations

import torch

from ..backends.base import SamplingParams
from .policy import group_advantages, kl_to_parent, token_logprobs


class RL:
    def __init__(self, trainee):
        self.t = trainee
        req = trainee.request
        self.params = SamplingParams(n=req.group, temperature=1.0, top_p=1.0, top_k=0,
                                     max_new_tokens=req.max_new_tokens, stop=trainee.plan.stop,
                                     seed=req.seed)

    def loss(self, step: int, questions) -> tuple[torch.Tensor | None, dict]:
        """The step's loss (None: nothing to learn from) and what it measured: the mean reward,
        the KL to the parent on the step's rollouts, the share of unanimous groups."""
        t, req = self.t, self.t.request
        prompts = [t.encode(q) for q in questions]
        t.model.eval()
        outs = t.sampler.sample_batch([(f"{step}:{q.id}", p) for q, p in zip(questions, prompts)],
                                      self.params)
        rewards = torch.tensor([[t.reward(q, c) for c in cs] for q, cs in zip(questions, outs)])
        unanimous = float((rewards == rewards[:, :1]).all(-1).float().mean())
        adv = group_advantages(rewards, req.advantage == "normalised")
        completions = [[list(c.token_ids) for c in cs] for cs in outs]
        with torch.no_grad(), t.model.disable_adapter():  # the parent: the base weights
            parent, _ = token_logprobs(t.model, prompts, completions, t.pad_id)
        t.model.train()
        logp, mask = token_logprobs(t.model, prompts, completions, t.pad_id)
        kl = kl_to_parent(logp, parent, mask)
        stats = {"reward": float(rewards.mean()), "kl": float(kl.detach()),
                 "unanimous": unanimous}
        if not adv.any() and req.kl_coef == 0:  # every group unanimous, no anchor: no signal
            return None, stats
        pg = -(adv.to(logp.dtype) * logp.sum(-1)).mean()
        return pg + req.kl_coef * kl, stats

"""On-policy RL with a correctness reward: each step samples G rollouts per question with the
workbench's own sampler (the exact distribution runs sample from), rewards each by a rule
judge's verdict on its extracted answer (1 correct, 0 otherwise, as `grade` would judge it), and
takes a REINFORCE step with each question's mean reward as baseline (GRPO's group baseline)."""

from __future__ import annotations

import torch

from ..backends.base import SamplingParams
from .policy import completion_logprobs, group_advantages


class RL:
    def __init__(self, trainee):
        self.t = trainee
        req = trainee.request
        self.params = SamplingParams(n=req.group, temperature=1.0, top_p=1.0, top_k=0,
                                     max_new_tokens=req.max_new_tokens, stop=trainee.plan.stop,
                                     seed=req.seed)

    def loss(self, step: int, questions) -> tuple[torch.Tensor | None, float | None]:
        t = self.t
        prompts = [t.encode(q) for q in questions]
        t.model.eval()
        outs = t.sampler.sample_batch([(f"{step}:{q.id}", p) for q, p in zip(questions, prompts)],
                                      self.params)
        rewards = torch.tensor([[t.reward(q, c) for c in cs] for q, cs in zip(questions, outs)])
        adv = group_advantages(rewards)
        if not adv.any():  # every group unanimous: no signal this step
            return None, float(rewards.mean())
        t.model.train()
        logp, _ = completion_logprobs(t.model, prompts,
                                      [[list(c.token_ids) for c in cs] for cs in outs], t.pad_id)
        return -(adv.to(logp.dtype) * logp).mean(), float(rewards.mean())

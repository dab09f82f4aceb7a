"""Supervised fine-tuning on gold answers, the control: the same prompts as RL, the first gold
answer written as the prompts' exemplars write it, mean token cross-entropy."""

from __future__ import annotations

import torch

from .policy import completion_logprobs


class SFT:
    def __init__(self, trainee):
        self.t = trainee

    def loss(self, step: int, questions) -> tuple[torch.Tensor | None, dict]:
        t = self.t
        t.model.train()
        logp, n = completion_logprobs(t.model, [t.encode(q) for q in questions],
                                      [[t.target(q)] for q in questions], t.pad_id)
        return -logp.sum() / n.sum(), {"reward": None}

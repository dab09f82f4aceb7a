"""The training loop: LoRA adapters on the parent model, one method's loss per step, AdamW.

Deterministic for a given seed on a given machine and thread count: the LoRA initialisation,
each step's questions and each rollout's random generator are all seeded (torch's CPU kernels
are deterministic for a fixed number of threads).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

from .. import prompts, registry
from ..backends.base import Completion, ModelInfo
from ..backends.transformers.models import load, peft_quiet
from ..data.types import Dataset, Question
from ..grading.extract import extract_answer
from ..grading.judges import Judge, JudgeItem
from . import METHODS
from .request import TuneRequest


@dataclass
class Trainee:
    """What a method works on: the model being tuned and how its prompts and rewards are made."""

    request: TuneRequest
    model: object  # the peft-wrapped model
    tokenizer: object
    sampler: object  # a TokenSampler over ``model``
    plan: prompts.PromptPlan
    dataset: Dataset
    judge: Judge
    pad_id: int

    def encode(self, q: Question) -> list[int]:
        text = prompts.build_prompt(self.plan, self.dataset, q, self.tokenizer)
        # As the local backend samples: chat templates carry their own BOS.
        return self.sampler.encode(text, self.plan.prompt_format == "completion")

    def target(self, q: Question) -> list[int]:
        """The gold answer as the exemplars write it, then where the model should stop."""
        answer = prompts.answer_text(q, self.plan.style)
        if self.plan.prompt_format == "completion":
            return self.sampler.encode(f" {answer}{self.plan.stop[0]}", False)
        return self.sampler.encode(answer, False) + [min(self.sampler.eos_ids)]

    def reward(self, q: Question, c: Completion) -> float:
        answer = extract_answer(c.text, self.plan.style, q.question, c.finish_reason,
                                q.answer_type)
        if not answer:
            return 0.0
        verdict = self.judge.judge(JudgeItem(q.question, answer, q.answers, q.answer_type,
                                             groups=q.groups))
        return 1.0 if verdict.correct else 0.0


def method_class(name: str):
    return registry.load(__package__, METHODS[name])  # imports torch: only when training


def train(req: TuneRequest, info: ModelInfo, ds: Dataset, plan: prompts.PromptPlan,
          judge: Judge, on_step: Callable[[dict], None]):
    """Tune ``info`` on ``ds``; returns the peft model. ``on_step`` gets each step's record."""
    # torch, transformers and peft take seconds to import: only when training.
    import torch
    from peft import LoraConfig, get_peft_model

    from ..backends.transformers.tokens import TokenSampler  # imports torch

    torch.manual_seed(req.seed)
    model, tokenizer = load(info)
    with peft_quiet():
        model = get_peft_model(model, LoraConfig(
            r=req.lora_rank, lora_alpha=2 * req.lora_rank, lora_dropout=0.0,
            target_modules=list(req.lora_targets)))
    sampler = TokenSampler(model, tokenizer)
    trainee = Trainee(req, model, tokenizer, sampler, plan, ds, judge, sampler.pad_id)
    method = method_class(req.method)(trainee)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=req.learning_rate, weight_decay=0.0)
    questions = list(ds.questions)
    for step in range(req.steps):
        start = time.perf_counter()
        batch = random.Random(f"{req.seed}:{step}").sample(
            questions, min(req.questions_per_step, len(questions)))
        loss, measured = method.loss(step, batch)
        if loss is not None:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        on_step({"step": step, "loss": float(loss.detach()) if loss is not None else 0.0,
                 "reward": None, "kl": None, "unanimous": None, **measured,
                 "seconds": time.perf_counter() - start})
    model.eval()
    return model

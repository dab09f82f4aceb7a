"""What a tuning asks for, checked before any model loads; its id is a hash of the variant's name
and everything that determines the adapter."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass

from .. import prompts
from ..errors import UsageError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
ADVANTAGES = ("mean", "normalised")
MAX_ROLLOUTS = 4096  # sequences one step may sample and backpropagate through


@dataclass(frozen=True)
class TuneRequest:
    parent: str  # a local model: bundled name or folder
    method: str  # a key of tuning.METHODS
    dataset: str  # its training questions, e.g. bundled:capitals:train
    variant: str | None = None  # the variant's model name; default PARENT-METHOD
    steps: int = 8
    learning_rate: float = 1e-3
    seed: int = 0
    questions_per_step: int = 8
    group: int = 8  # RL: rollouts per question (the group whose mean is the baseline)
    lora_rank: int = 8
    lora_targets: tuple[str, ...] = ("q_proj", "v_proj")
    style: str = "concise"
    shots: int | None = None  # default as in generate: 5 for completion prompts, 0 for chat
    max_new_tokens: int = 16  # RL rollouts
    judge: str = "exact"  # RL reward: this rule judge's verdict on the extracted answer
    kl_coef: float = 0.1  # RL: weight of the per-token KL penalty to the parent (0: none)
    advantage: str = "mean"  # RL: mean (reward − group mean) | normalised (÷ the group's sd)
    overwrite: bool = False  # replace a cached variant of this name made with other settings

    def validate(self, methods) -> None:
        if self.method not in methods:
            raise UsageError("method", f"{self.method!r} is not one of {', '.join(methods)}")
        if self.variant is not None and not NAME.match(self.variant):
            raise UsageError("variant", f"{self.variant!r}: use letters, digits, '.', '_' or '-' "
                                     "(it becomes a folder name)")
        for param in ("steps", "questions_per_step", "group", "lora_rank", "max_new_tokens"):
            if getattr(self, param) < 1:
                raise UsageError(param, f"must be ≥ 1, got {getattr(self, param)}")
        if self.questions_per_step * (self.group if self.method == "rl" else 1) > MAX_ROLLOUTS:
            raise UsageError("questions_per_step", f"× {'group' if self.method == 'rl' else '1'}"
                             f" must be ≤ {MAX_ROLLOUTS} sequences a step, got "
                             f"{self.questions_per_step}")
        if self.method == "rl" and self.group < 2:
            raise UsageError("group", "RL needs ≥ 2 rollouts per question (the group mean is "
                                      f"the baseline), got {self.group}")
        if not 0 < self.learning_rate < 1:
            raise UsageError("learning_rate", f"must be in (0, 1), got {self.learning_rate}")
        if self.kl_coef < 0:
            raise UsageError("kl_coef", f"must be ≥ 0, got {self.kl_coef}")
        if self.advantage not in ADVANTAGES:
            raise UsageError("advantage", f"{self.advantage!r} is not one of "
                                          f"{', '.join(ADVANTAGES)}")
        if not self.lora_targets:
            raise UsageError("lora_targets", "name at least one module (e.g. q_proj,v_proj)")
        # style and shots, before the parent resolves (a first use converts it): the prompt
        # format depends on the parent, so a stand-in is checked
        prompts.PromptPlan(self.style, "completion", self.shots or 0, self.seed)

    @property
    def variant_name(self) -> str:
        return self.variant or f"{self.parent.rstrip('/').split('/')[-1]}-{self.method}"

    def settings(self, shots: int) -> dict:
        """What determines the adapter besides the parent, the data and the code."""
        out = {k: v for k, v in asdict(self).items()
               if k not in ("parent", "dataset", "variant", "overwrite")}
        out["lora_targets"] = list(self.lora_targets)
        out["shots"] = shots
        return out

    def tuning_id(self, parent_name: str, dataset_hash: str, shots: int) -> str:
        payload = json.dumps({"name": self.variant_name, "parent": parent_name,
                              "data": dataset_hash,
                              "settings": self.settings(shots)}, sort_keys=True)
        return "tune_" + hashlib.sha256(payload.encode()).hexdigest()[:12]

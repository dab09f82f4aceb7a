"""GSM8K (openai/gsm8k, main): grade-school word problems with worked solutions."""

from __future__ import annotations

import re

from ..types import Question
from .base import HubSpec

_CALC = re.compile(r"<<[^>]*>>")


def gsm8k(row: dict, i: int, split: str) -> Question:
    """``answer`` is a worked solution ending in ``#### 72``; calculator notes ``<<6*12=72>>``
    are dropped from the rationale."""
    solution = row["answer"]
    if "####" not in solution:
        raise ValueError(f"GSM8K row {i}: answer has no '#### n' line")
    reasoning, _, final = solution.rpartition("####")
    gold = final.strip().replace(",", "").rstrip(".")
    rationale = " ".join(_CALC.sub("", reasoning).split())
    return Question(f"gsm8k-{split}-{i:05d}", row["question"].strip(), (gold,), "number",
                    None, rationale or None)


SPEC = HubSpec("gsm8k", "openai/gsm8k", "main", "test", "train", gsm8k)

"""Deterministic judges built on the map B.

- ``exact``: the paper's definition: the gold answers go through the same map B, and a class is
  correct when one of its keys equals a gold answer's key (normalised alias match for text,
  numeric equality for numbers).
- ``contains``: more lenient for text: also correct when a gold alias appears as whole words
  inside the class's canonical answer ("in Paris" for "Paris"); numbers as in ``exact``.
"""

from __future__ import annotations

import re

from ..classes import class_key
from ..text import normalize_text
from .base import Judge, JudgeItem, Verdict


class ExactJudge(Judge):
    name = "exact"
    version = "2"  # 2: any member key of the class may match

    def judge(self, item: JudgeItem) -> Verdict:
        held = set(item.keys) or {class_key(item.answer, item.answer_type)} - {None}
        for g in item.gold:
            if class_key(g, item.answer_type) in held:
                return Verdict(True, f"matches gold {g!r}")
        return Verdict(False, "no gold answer matches")


class ContainsJudge(ExactJudge):
    name = "contains"

    def judge(self, item: JudgeItem) -> Verdict:
        verdict = super().judge(item)
        if verdict.correct or item.answer_type in ("number", "math"):
            return verdict
        text = f" {normalize_text(item.answer)} "
        for g in item.gold:
            g_norm = normalize_text(g)
            if g_norm and re.search(rf"(?<!\w){re.escape(g_norm)}(?!\w)", text):
                return Verdict(True, f"contains gold {g!r}")
        return verdict

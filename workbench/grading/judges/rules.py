"""Deterministic judges built on the map B.

- ``exact``: the paper's definition: the gold answers go through the same map B (alias groups
  included), and a class is correct when its key equals a gold answer's key (normalised form
  for text, value for numbers; math answers also when math-verify finds them equivalent). The
  class is judged by its key, never by "any member matches".
- ``contains``: more lenient for text: also correct when a gold alias appears as whole words
  inside the class's canonical answer ("in Paris" for "Paris"), unless that answer is only
  words of the question ("Sao Tome and Principe" asked for its capital); numbers as in
  ``exact``.
"""

from __future__ import annotations

import re

from ...text import normalize_text, repeats_question
from ..classes import class_key, written_value
from ..equivalence import equivalent
from .base import Judge, JudgeItem, Verdict


class ExactJudge(Judge):
    name = "exact"
    # 3: the class's key only, gold through the same alias groups; 4: math answers also by
    # math-verify equivalence with the gold (the map B's own check)
    version = "5"  # 5: units kept in keys; a number without its unit matches one with it

    def judge(self, item: JudgeItem) -> Verdict:
        key = item.keys[0] if item.keys else class_key(item.answer, item.answer_type,
                                                        item.groups)
        for g in item.gold:
            gold_key = class_key(g, item.answer_type, item.groups)
            if key is not None and gold_key == key:
                return Verdict(True, f"matches gold {g!r}")
            if key and gold_key and (" " in key) != (" " in gold_key) and written_value(
                    key, item.answer) == written_value(gold_key, g) is not None:
                # one side has a unit, the other none: the number as written decides
                return Verdict(True, f"matches gold {g!r} (one side without its unit)")
        if item.answer_type == "math" and key is not None:
            for g in item.gold:
                if equivalent(g, item.answer):
                    return Verdict(True, f"equivalent to gold {g!r} (math-verify)")
        return Verdict(False, "no gold answer matches")


class ContainsJudge(ExactJudge):
    name = "contains"
    version = "6"  # 5: an answer only repeating the question is not credited; 6: exact v5

    def judge(self, item: JudgeItem) -> Verdict:
        verdict = super().judge(item)
        if verdict.correct or item.answer_type in ("number", "math"):
            return verdict
        text = f" {normalize_text(item.answer)} "
        if repeats_question(item.answer, item.question):
            # the answer only says the question's own entity again ("Sao Tome and Principe"
            # for its capital, "Sao Tome"): containing the gold is then no answer
            return Verdict(False, "repeats the question's own words")
        for g in item.gold:
            g_norm = normalize_text(g)
            if g_norm and re.search(rf"(?<!\w){re.escape(g_norm)}(?!\w)", text):
                return Verdict(True, f"contains gold {g!r}")
        return verdict

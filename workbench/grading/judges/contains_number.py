"""``contains-number``: a class is correct when the gold number appears in its answer, by value.

For numeric questions answered in words around the number ("14 apples in total", "she has 14"):
the answer is correct when any number written in it equals a gold value, so "14 or 15" counts as
right. Lenient on purpose; set it beside ``exact`` with ``workbench judges compare`` to see how
much the wording matters. Text questions are judged as ``exact`` does.

>>> j = ContainsNumberJudge()
>>> j.judge(JudgeItem("How many?", "she has 14 now", ("14",), "number")).correct
True
>>> j.judge(JudgeItem("How many?", "141", ("14",), "number")).correct
False
"""

from __future__ import annotations

from ...text import number_key, numbers_in, parse_number
from .base import JudgeItem, Verdict
from .rules import ExactJudge


class ContainsNumberJudge(ExactJudge):
    name = "contains-number"
    version = "1"

    def judge(self, item: JudgeItem) -> Verdict:
        verdict = super().judge(item)
        if verdict.correct or item.answer_type not in ("number", "math"):
            return verdict
        gold = {number_key(v) for v in map(parse_number, item.gold) if v is not None}
        for found in numbers_in(item.answer):
            value = parse_number(found)
            if value is not None and number_key(value) in gold:
                return Verdict(True, f"contains gold number {found!r}")
        return verdict

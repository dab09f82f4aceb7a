"""Judges: decide whether a semantic class's answer is correct given the gold answers.

A judge is named and versioned; gradings record both. The embedded judges are deterministic:

- ``exact``: the paper's definition: the gold answers go through the same map B, and a class is
  correct when one of its keys equals a gold answer's key (normalised alias match for text,
  numeric equality for numbers).
- ``contains``: more lenient for text: also correct when a gold alias appears as whole words
  inside the class's canonical answer ("in Paris" for "Paris"); numbers as in ``exact``.

A judge sees a class as its canonical answer (most frequent surface form) and the keys of its
members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cluster import class_key
from .normalize import normalize_text


@dataclass(frozen=True)
class Verdict:
    correct: bool | None  # None: no verdict (an error), never counted as wrong
    output: str
    error: str | None = None


class Judge:
    name = "base"
    version = "1"
    extracts = False  # True: the judge also extracts answers (an LLM map B)

    def config(self) -> dict:
        return {"name": self.name, "version": self.version}

    def judge_many(self, items: list[dict]) -> list[Verdict]:
        """Verdicts for many (answer, gold, answer_type, keys, question) items."""
        return [self.judge(**{k: v for k, v in it.items() if k != "question"}) for it in items]

    def judge(self, answer: str, gold: tuple[str, ...], answer_type: str,
              keys: list[str] | None = None) -> Verdict:
        """``keys``: the class's member keys (default: the answer's own key)."""
        raise NotImplementedError


class ExactJudge(Judge):
    name = "exact"
    version = "2"  # 2: any member key of the class may match

    def judge(self, answer, gold, answer_type, keys=None):
        held = set(keys) if keys else {class_key(answer, answer_type)} - {None}
        for g in gold:
            if class_key(g, answer_type) in held:
                return Verdict(True, f"matches gold {g!r}")
        return Verdict(False, "no gold answer matches")


class ContainsJudge(ExactJudge):
    name = "contains"

    def judge(self, answer, gold, answer_type, keys=None):
        verdict = super().judge(answer, gold, answer_type, keys)
        if verdict.correct or answer_type in ("number", "math"):
            return verdict
        text = f" {normalize_text(answer)} "
        for g in gold:
            g_norm = normalize_text(g)
            if g_norm and re.search(rf"(?<!\w){re.escape(g_norm)}(?!\w)", text):
                return Verdict(True, f"contains gold {g!r}")
        return verdict


JUDGES: dict[str, type[Judge]] = {"exact": ExactJudge, "contains": ContainsJudge}


class UnknownJudge(ValueError):
    pass


def get(name: str, con=None) -> Judge:
    """A built-in judge, or (given the store) the newest version of a stored LLM judge."""
    if name in JUDGES:
        return JUDGES[name]()
    if con is not None:
        from .llm_judge import JudgeRecord, LLMJudge
        from .store import rows

        found = rows(con, "SELECT * FROM judges WHERE name = ? ORDER BY created_at DESC "
                          "LIMIT 1", [name])
        if found:
            return LLMJudge(JudgeRecord.from_row(found[0]))
    raise UnknownJudge(f"unknown judge {name!r}; built in: {', '.join(JUDGES)}; "
                       "add an LLM judge with `workbench judges add`")

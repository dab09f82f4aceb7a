"""What every judge is: a named, versioned object that gives a verdict per (question, class).

Gradings record the judge's name, version and ``config()``. A judge sees each distinct class
once, as a ``JudgeItem``: the class's canonical answer, the keys of its members, the gold answers
and the question. A verdict of ``None`` is no verdict (an error), never "incorrect".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class JudgeItem:
    question: str
    answer: str  # the class's canonical answer (its most frequent surface form)
    gold: tuple[str, ...]
    answer_type: str  # text | number | math
    keys: tuple[str, ...] = ()  # the class's key first, then its members' own keys
    groups: tuple[tuple[str, ...], ...] = ()  # the question's alias groups (the map B's)


Progress = Callable[[int, int], None]  # (items judged, items)


@dataclass(frozen=True)
class Verdict:
    correct: bool | None  # None: no verdict (an error), never counted as wrong
    output: str
    error: str | None = None
    p_yes: float | None = None  # an LLM judge's P(yes) over yes and no (logprob verdicts)
    mass: float | None = None  # the probability yes and no received together
    method: str = "rule"  # rule | logprob | choice | text | error (the call failed)


class Judge:
    name = "base"
    version = "1"
    extracts = False  # True: the judge also extracts answers (an LLM map B)

    def __init__(self):
        self.calls = 0

    def config(self) -> dict:
        return {"name": self.name, "version": self.version}

    def judge(self, item: JudgeItem) -> Verdict:
        raise NotImplementedError

    def judge_many(self, items: list[JudgeItem], progress: Progress | None = None
                   ) -> list[Verdict]:
        """A verdict per item, in order; ``progress(done, total)`` after each."""
        self.calls += len(items)
        out = []
        for it in items:
            out.append(self.judge(it))
            if progress:
                progress(len(out), len(items))
        return out

    def usage(self) -> dict[str, int]:
        """What judging has cost so far: calls made and tokens spent."""
        return {"calls": self.calls, "prompt_tokens": 0, "completion_tokens": 0}

    def extract(self, question: str, texts: list[str]
                ) -> tuple[list[str] | None, str, str]:
        """For judges that extract: (answer per text or None, raw output, error)."""
        raise NotImplementedError(f"judge {self.name!r} does not extract answers")

"""Shortcuts a tuned policy can collapse onto, measured on a grading's plurality answers. Pure.

An RL policy rewarded for capitals it can copy from the question (Singapore, Djibouti) can learn
to answer every "capital of X?" with X, confidently; such a collapse makes a model over-confident
for a trivial reason. Two figures make it visible beside the calibration:

- ``echo_share``: the share of answered questions whose answer only repeats the question's
  words (``text.repeats_question``);
- ``top_answer`` and ``top_answer_share``: the answer (by class key) given for the most
  questions, and that share: a policy that says one thing to everything scores near 1.

>>> rows = [dict(question="Capital of Tonga?", answer="Tonga", answer_key="tonga"),
...         dict(question="Capital of Peru?", answer="Lima", answer_key="lima"),
...         dict(question="Capital of Chad?", answer=None, answer_key=None)]
>>> shortcuts(rows)
Shortcuts(echo_share=0.5, top_answer='tonga', top_answer_share=0.5)
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from ..text import repeats_question


class Shortcuts(NamedTuple):
    echo_share: float | None
    top_answer: str | None
    top_answer_share: float | None


def shortcuts(rows: list[dict]) -> Shortcuts:
    """From per-question rows with ``question``, ``answer`` (the plurality class's canonical
    form, None when no sample answered) and ``answer_key``; None where nothing was answered."""
    answered = [r for r in rows if r["answer"]]
    if not answered:
        return Shortcuts(None, None, None)
    echo = sum(repeats_question(r["answer"], r["question"]) for r in answered) / len(answered)
    (top, n), = Counter(r["answer_key"] for r in answered).most_common(1)
    return Shortcuts(echo, top, n / len(answered))

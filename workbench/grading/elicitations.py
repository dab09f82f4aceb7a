"""Confidences a model states about its own answer: one more model call per question, asked
about the plurality answer of a grading (``stages/elicit.py`` makes the calls and stores each
prompt and output; ``analysis/confidence.py`` scores them as measures).

- ``p_true`` (Kadavath et al. 2022, "Language Models (Mostly) Know What They Know"): the model
  is shown the question and the proposed answer and asked whether it is correct; the confidence
  is P(yes) / (P(yes) + P(no)) at the first new token (greedy, its top log-probabilities), as the
  LLM judge reads a verdict token. No mass on yes or no (under ``MIN_MASS``): no confidence.
- ``verbalized`` (Tian et al. 2023; Xiong et al. 2024): the model is asked for a number from 0
  to 100; the first number in its greedy reply, / 100 (a decimal of at most 1 is read as a
  probability already). No number in range: no confidence.

Both prompts are zero-shot and the same for base and chat models (a chat model gets them as one
user message through its template). A question whose samples gave no answer is not asked: it
is wrong at confidence 0 under every measure.

>>> read_verbalized("I'd say 85%.")
0.85
>>> read_verbalized("Confidence: 100"), read_verbalized("about 250"), read_verbalized("none")
(1.0, None, None)
>>> read_verbalized("0.95"), read_verbalized("1"), read_verbalized("99.5")
(0.95, 0.01, 0.995)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Callable

from .judges.verdict import from_top_logprobs

VERSION = "elicit-v2"  # stored with every row: a prompt or reader change is a new version
MIN_MASS = 0.05  # least P(yes) + P(no) at the first token for p_true to say anything
TOP_LOGPROBS = 20

P_TRUE_PROMPT = """Question: {question}
Proposed answer: {answer}
Is the proposed answer correct? Answer yes or no.
Answer:"""

VERBALIZED_PROMPT = """Question: {question}
Proposed answer: {answer}
How confident are you that the proposed answer is correct? Give a number from 0 to 100.
Confidence:"""

_NUMBER = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)")


def read_p_true(text: str, tops: list[dict]) -> tuple[float | None, str]:
    """(P(yes) normalised over yes and no at the first token, or None; what to store)."""
    first = tops[0] if tops else {}
    verdict = from_top_logprobs(first, min_mass=MIN_MASS)
    return verdict.p_yes, json.dumps({"text": text, "top": first}, ensure_ascii=False)


def read_verbalized(text: str, tops: list[dict] | None = None) -> float | None:
    """The first number: a percentage, or a probability when it is written as a decimal of at
    most 1 (asked for 0-100, SmolLM2-135M-Instruct answers "0.999999"; "1" alone is 1%)."""
    found = _NUMBER.search(text or "")
    if not found:
        return None
    value = float(found.group(1))
    if "." in found.group(1) and value <= 1:
        return value
    return value / 100 if 0 <= value <= 100 and math.isfinite(value) else None


@dataclass(frozen=True)
class Elicitation:
    name: str
    prompt: str  # .format(question=..., answer=...)
    max_new_tokens: int
    top_logprobs: int  # asked of the backend at each new token (0: none)
    read: Callable  # (text, tops) -> (confidence or None, output to store)
    about: str


def _verbalized(text: str, tops: list[dict]) -> tuple[float | None, str]:
    return read_verbalized(text), text


ELICITATIONS = {e.name: e for e in [
    Elicitation("p_true", P_TRUE_PROMPT, 1, TOP_LOGPROBS, read_p_true,
                "P(yes) when the model is asked whether its answer is correct "
                "(Kadavath et al. 2022)"),
    Elicitation("verbalized", VERBALIZED_PROMPT, 8, 0, _verbalized,
                "the 0-100 confidence the model states for its answer, / 100"),
]}


def messages(elicitation: Elicitation, question: str, answer: str) -> list[dict]:
    """The call's prompt as chat messages (a base model gets the one message's text)."""
    return [{"role": "user", "content": elicitation.prompt.format(question=question,
                                                                  answer=answer)}]

"""Pure extraction of a short answer from a sampled response, by style.

>>> extract_answer("Paris\\n", "concise")
'Paris'
>>> extract_answer("The capital of France is Paris.", "sentence")
'Paris'
>>> extract_answer("2 + 3 = 5.\\nAnswer: 5", "cot")
'5'
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import boxed

_ANSWER_LINE = re.compile(r"(?:final answer|answer)\s*(?:is)?\s*[:：]\s*(.+)", re.IGNORECASE)
_ANSWER_IS = re.compile(r"\b(?:the\s+)?(?:final\s+)?answer\s+is\s*:?\s*(.+)", re.IGNORECASE)
_LEADS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(?:sure|okay|ok|well)[,!.]?\s+",
        r"^(?:i think|i believe|i'm not sure,? but|probably|maybe)\s+(?:it'?s\s+|that\s+)?",
        r"^(?:it is|it's|that is|that's|this is)\s+",
        r"^(?:the\s+)?(?:correct\s+|final\s+)?answer\s*(?:is|:)\s*",
    )
]
# "The capital of X is Y", "X's capital is Y", "There are 14 apples": keep what follows the verb.
_COPULA = re.compile(r"^.*?\b(?:is|are|was|were|has|have|equals|makes)\s+(.+)$", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_TRAILING = " \t\n.,;:!?\"'`*)"


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def strip_leads(text: str) -> str:
    """Drop conversational lead-ins ("Sure,", "The answer is") and wrapping punctuation."""
    text = text.strip().strip(_TRAILING).strip()
    changed = True
    while changed:
        changed = False
        for lead in _LEADS:
            new = lead.sub("", text, count=1)
            if new != text:
                text, changed = new.strip(), True
    return text.strip(_TRAILING).strip()


def answer_span(text: str) -> str:
    """The answer inside one sentence: bold text, else what follows 'is/are/...'."""
    bold = _BOLD.search(text)
    if bold:
        return bold.group(1).strip(_TRAILING)
    text = strip_leads(text)
    # Only the first sentence or clause carries the answer.
    text = re.split(r"(?<=[a-z0-9])\.\s|\s[-–—]\s|;", text, maxsplit=1)[0]
    m = _COPULA.match(text)
    if m and len(text.split()) > 2:
        text = m.group(1)
    text = re.split(r",\s+(?:which|and|but|because|as|so)\b", text, maxsplit=1)[0]
    return text.strip(_TRAILING).strip()


@lru_cache(maxsize=1 << 17)
def extract_answer(text: str, style: str) -> str:
    """The short answer a response gives; '' when it gives none. A ``\\boxed{...}`` answer
    (MATH style) wins in every style."""
    found = boxed(text)
    if found:
        return found
    if style == "cot":
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        for line in reversed(lines):
            m = _ANSWER_LINE.search(line) or _ANSWER_IS.search(line)
            if m:
                return answer_span(m.group(1))
        return answer_span(lines[-1]) if lines else ""
    line = first_line(text)
    m = _ANSWER_LINE.match(line) or _ANSWER_IS.match(line)
    if m:
        line = m.group(1)
    if style == "concise":
        # A short answer is taken whole unless it reads like a sentence.
        short = strip_leads(line)
        if len(short.split()) <= 4 and not _COPULA.match(short):
            return short
    return answer_span(line)

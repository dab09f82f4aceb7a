"""Numbers in an answer (extraction's helper, ``extract.py``): the number a statement commits
to, with its unit when one follows, and numbers written in words turned into digits. Pure."""

from __future__ import annotations

from ..text import number_key, word_number
from .patterns import ANY_NUMBER, CONCLUDES, NUMBER_WORDS, RESULT, STATES, UNIT_AFTER


def number_answer(text: str) -> str | None:
    """The number a statement commits to (see the module's doc)."""
    for pattern, last in ((RESULT, True), (CONCLUDES, True), (STATES, False),
                          (ANY_NUMBER, False)):
        found = [m for m in pattern.finditer(text)]
        if found:
            m = found[-1 if last else 0]
            number = (m.group(1) if m.groups() else m.group(0)).strip()
            unit = UNIT_AFTER.match(text, m.end(1) if m.groups() else m.end())
            return f"{number} {unit.group(1)}" if unit else number  # "11 km" keeps its unit
    return None


def digits(text: str) -> str:
    """Numbers written in words as digits ("eight legs" → "8 legs", "negative seven" → -7)."""
    def value(m):
        v = word_number(m.group(0))
        return f"{number_key(v)} " if v is not None else m.group(0)
    return NUMBER_WORDS.sub(value, text).strip()

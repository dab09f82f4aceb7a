"""Pure extraction of the short answer a response commits to, reading the question.

- **Concise**: a short answer is taken whole (lead-ins, hedges, quotes, bold and trailing
  explanations peeled off; a list commits to its first item); a sentence is read as below.
  Refusals ("I don't know") and counter-questions give no answer.
- **Sentence**: the first line read as one sentence (``sentence.py``).
- **CoT**: ``<think>…</think>`` is dropped; the answer is the last "final answer", else the first
  ``Answer:`` line, else the last sentence that says "the answer is …" or answers the question
  ("The capital of France is Paris"), else, when the response ended by itself, its last line. A
  response that hit its token budget before any of these gives no answer: reasoning cut off
  mid-way is not a claim.

A text answer no reader takes for one is dropped: a lone function word ("When", "I'm") or a
description of six words or more from a lower-case word ("defined as the distance over
which"). ``""`` is no answer. Behaviour changes here bump ``MAP_VERSION`` in ``classes.py``.

>>> q = "What is the capital of Australia?"
>>> extract_answer("Canberra is the capital of Australia.", "sentence", q)
'Canberra'
>>> extract_answer("The capital of Australia is Canberra.", "sentence", q)
'Canberra'
>>> extract_answer("2 + 3 = 5.\\nAnswer: 5", "cot")
'5'
>>> extract_answer("Janet sells 9 eggs, making 9 * 2 =", "cot", finish_reason="length")
''
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..text import boxed, normalize_text
from .numbers import digits, number_answer
from .patterns import (
    ANSWER_COLON,
    ANSWER_IS,
    ASKS,
    ASKS_PLACE,
    ASKS_WHO,
    ASKS_YEAR,
    CONCLUDES,
    FINAL,
    FUNCTION_WORDS,
    HEADING,
    INLINE_HTML,
    MADE_BY,
    NEXT_EXEMPLAR,
    PLACE_LEAD,
    REFUSAL,
    RESULT,
    THINK,
    YEAR,
)
from .sentence import (
    answer_in_sentence,
    content_words,
    copula_split,
    corrected,
    counted,
    drop_setting,
    first_clause,
    first_item,
    name_run,
    overlap,
    peel,
    sentence_end,
)


def _short(text: str, question: str, answer_type: str) -> str:
    """An answer line's content: a short answer whole ("San Salvador" even when the question
    says "El Salvador"), a sentence read as one."""
    peeled = corrected(peel(text))
    short = first_item(first_clause(peeled))
    whole = len(short.split()) <= 8 and overlap(short, content_words(question)) == 0
    if short and (len(short.split()) <= 5 or whole) and not copula_split(short) and not (
            answer_type == "number" and not re.search(r"\d", digits(short))):
        if answer_type == "number":
            return number_answer(digits(short)) or short  # "15 lions when ..." → 15
        return short
    return answer_in_sentence(text, question, answer_type)


def _says_question(short: str, question: str) -> bool:
    """A short reply that uses the question's own lower-case words is a sentence ("Jack Kornham
    discovered penicillin"), not a name that contains the question's ("New Kuwait")."""
    words, parts = content_words(question), short.split()
    return any(w[:1].islower() and normalize_text(w) in words for w in parts[1:-1])


def _answers_first(text: str, question: str, answer_type: str) -> bool:
    """Does a reply cut off by its token budget still make its claim? A first sentence that
    ends ("Farid has 4 stickers."; "The capital of X is Y."), or one that gives the answer
    before it says the question again ("Washington D.C. is the capital of the United ...")."""
    words, parts = content_words(question), text.split()
    name = name_run(parts) if parts and parts[0][:1].isupper() and normalize_text(
        parts[0]) not in FUNCTION_WORDS | {""} else []  # a name, not "The"
    if ASKS_WHO.match(question) and name and len(parts) > len(name) and normalize_text(
            parts[len(name)]) in words:  # "Maria Schizer composed the Fifth Symphony ..."
        return True
    if sentence_end(text) is not None:
        return answer_type == "number" or _restates(text, words)
    clause = first_clause(peel(text))
    split = copula_split(clause)
    if not split:
        return False
    (subject, rest), _ = split
    if len(content_words(subject)) >= 2 and overlap(subject, words) >= 0.99:
        # the question said again, then an answer that ended: "... was in 2009 in World War",
        # "The capital of X is Y, which ..."
        return bool(re.search(r"\d[\s,.]", rest.strip()) or len(clause) < len(peel(text)))
    return overlap(rest, words) >= 0.5 > overlap(subject, words)


def _restates(sentence: str, question_words: set[str]) -> bool:
    """Does one side of "X is Y" say the question again ("the capital of France")?"""
    split = copula_split(first_clause(peel(sentence)))
    return bool(split) and any(len(content_words(s)) >= 2 and overlap(s, question_words) >= 0.99
                               for s in split[0])


def _cot(text: str, question: str, answer_type: str, finish_reason: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        m = FINAL.search(line)
        if m and m.group(1).strip():
            return _short(m.group(1), question, answer_type)
    for i, line in enumerate(lines):
        if HEADING.fullmatch(line) and i + 1 < len(lines):  # "The answer is:" then "-4"
            return _short(lines[i + 1], question, answer_type)
        m = ANSWER_COLON.search(line)
        if m and m.group(1).strip():
            return _short(m.group(1), question, answer_type)
    found, question_words = None, content_words(question)
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        m = ANSWER_IS.search(sentence)
        if m and peel(m.group(1)):
            found = answer_in_sentence(m.group(1), question, answer_type) or found
        elif question_words and _restates(sentence, question_words):
            found = answer_in_sentence(sentence, question, answer_type) or found
    if found:
        return found
    if finish_reason == "length" or not lines:
        return ""
    # the last line: its concluding sentence ("So the capital is Canberra."), else as a whole
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", lines[-1]) if content_words(x)]
    concluding = [x for x in sentences[1:] if re.match(r"(?:so|thus|therefore|hence)\b", x,
                                                       re.IGNORECASE)]
    return answer_in_sentence(concluding[-1] if concluding else lines[-1], question, answer_type)


@lru_cache(maxsize=1 << 17)
def extract_answer(text: str, style: str, question: str = "", finish_reason: str = "stop",
                   answer_type: str = "text") -> str:
    """The short answer a response commits to; '' when it commits to none. A ``\\boxed{...}``
    answer (MATH style) wins in every style."""
    found = boxed(text)
    if found:
        return found
    answer = _extract(INLINE_HTML.sub("", text), style, question, finish_reason, answer_type)
    if not ASKS_YEAR.search(question):
        return _an_answer(answer) if counted(question, answer_type) == "text" else answer
    year = YEAR.search(answer)  # "November 9, 1989" for "which year": 1989; no year, no answer
    return year.group(1) if year else (answer if re.search(r"\d", answer) else "")


def _an_answer(answer: str) -> str:
    """What a reader takes for a text answer: not a lone function word ("When", "But", "I'm")
    nor a description ("defined as the distance over which"; six words or more from a
    lower-case word), which is what rules pick from a sentence that answers nothing."""
    words = answer.split()
    if len(words) == 1 and normalize_text(answer) in FUNCTION_WORDS:
        return ""
    if len(words) >= 6 and words[0][:1].islower() and words[0] != "the":
        return ""
    return answer


def _extract(text: str, style: str, question: str, finish_reason: str,
             answer_type: str) -> str:
    text = THINK.sub("", text)
    cut = NEXT_EXEMPLAR.search(text)
    if cut and text[:cut.start()].strip():  # the model went on to write the next exemplar
        text, finish_reason = text[:cut.start()], "stop"
    if style == "cot":
        return _cot(text, question, counted(question, answer_type), finish_reason)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    answer_type = counted(question, answer_type)
    line = lines[0]
    m = ANSWER_COLON.search(line) or ANSWER_IS.search(line)
    if m and m.group(1).strip():
        line = m.group(1)
    first = peel(line)
    raw = line.strip().strip("\"'“”")
    asked = raw[:raw.find("?") + 1] if "?" in raw else ""
    if REFUSAL.search(first) or (asked and ASKS.match(asked)) or (
            question and normalize_text(first) == normalize_text(question)):
        return ""  # a refusal, a counter-question, the question said again
    first = drop_setting(corrected(first), question)
    if ASKS_PLACE.match(question):  # "In the United States."
        first = PLACE_LEAD.sub("", first)
    if style == "concise":
        short = first_item(first_clause(first))
        if (len(short.split()) <= 4 and not copula_split(short)
                and not _says_question(short, question)):
            if answer_type == "number":
                return number_answer(digits(short)) or ""  # "4 sides" → 4; "x" → none
            return short
        rambling = (answer_type == "text" or (answer_type == "number" and not (
            RESULT.search(first) or CONCLUDES.search(first))))  # a stray count is no result
        made = MADE_BY.search(first) if ASKS_WHO.match(question) else None
        whole = _answers_first(first, question, answer_type)
        if finish_reason == "length" and rambling and not m and not made and not whole:
            return ""  # cut off before giving a short answer ("The capital of X is Y." is one)
    if m:
        return _short(line, question, answer_type)
    return answer_in_sentence(line, question, answer_type)

"""Pure extraction of the short answer a response commits to, reading the question.

- **Concise**: a short answer is taken whole (lead-ins, hedges, quotes, bold and trailing
  explanations peeled off; a list commits to its first item); a sentence is read as below.
  Refusals ("I don't know") and counter-questions give no answer.
- **Sentence**: "X is Y" is split at the copula and the side that overlaps the question least
  is kept, so "Canberra is the capital of Australia" and "The capital of Australia is Canberra"
  both give Canberra, and "Sydney is the capital of Australia" gives Sydney, not "the capital of
  Australia". "Y was written by X" keeps X. Without a copula, the words the question does not
  use are the answer's candidates ("William Shakespeare wrote Hamlet"; "The battle took place
  in 1066" gives 1066). Number questions read numbers: the result of the last "= N", else what
  a "so …"/"therefore …" concludes, else the number a verb states ("has 14 apples").
- **CoT**: ``<think>…</think>`` is dropped; the answer is the last "final answer", else the first
  ``Answer:`` line, else the last sentence that says "the answer is …" or answers the question
  ("The capital of France is Paris"), else, when the response ended by itself, its last line. A
  response that hit its token budget before any of these gives no answer: reasoning cut off
  mid-way is not a claim.

``""`` is no answer. Behaviour changes here bump ``MAP_VERSION`` in ``classes.py``.

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
    ABBREVIATIONS,
    ANSWER_COLON,
    ANSWER_IS,
    ASIDE,
    ASKS,
    ASKS_COUNT,
    ASKS_PLACE,
    ASKS_WHO,
    ASKS_YEAR,
    BOLD,
    CONCLUDES,
    COPULA,
    CORRECTION,
    FINAL,
    HEADING,
    INLINE_HTML,
    LEADS,
    MADE_BY,
    NEXT_EXEMPLAR,
    NUMBER_ASIDE,
    PARTICLES,
    PASSIVE,
    PERIOD,
    PLACE_LEAD,
    REFUSAL,
    RESULT,
    STOP,
    SUFFIX,
    THINK,
    TRAILING_HEDGE,
    WHEN,
    WRAP,
    YEAR,
)


def _words(text: str) -> set[str]:
    return {w for w in normalize_text(text).split() if w not in STOP}


def _overlap(part: str, question_words: set[str]) -> float:
    """Share of the part's content words that the question also uses (1: all, or none)."""
    words = _words(part)
    return len(words & question_words) / len(words) if words else 1.0


def _peel(text: str) -> str:
    """Drop lead-ins ("Sure,", "I think", "The answer is"), wrapping punctuation and trailing
    hedges ("..., I think")."""
    text = text.strip().strip(WRAP).strip()
    changed = True
    while changed:
        changed = False
        for lead in LEADS:
            new = lead.sub("", text, count=1).strip()
            if new != text:
                text, changed = new, True
        new = TRAILING_HEDGE.sub("", text).strip().strip(WRAP).strip()
        if new != text:
            text, changed = new, True
    return text


def _sentence_end(text: str) -> int | None:
    """Where the first sentence ends: a period before a space, unless it ends an abbreviation
    ("Pres.", "Mt.") or an initial ("U.S.")."""
    for m in PERIOD.finditer(text):
        before = text[:m.start()].split()
        word = before[-1].lower().strip("\"'(") if before else ""
        if word in ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", word):
            continue
        return m.start()
    return None


def _clause(text: str) -> str:
    """The first clause: what comes before an explanation, an aside or a second thought."""
    end = _sentence_end(text)
    text = text[:end] if end else text
    m = ASIDE.search(text)
    return (text[:m.start()] if m and m.start() > 0 else text).strip().strip(WRAP)


def first_item(text: str) -> str:
    """A list ("Paris or Lyon", "Paris, Lyon and Marseille") commits to its first item; a name
    with "and" in it ("Marie and Pierre Curie") is not a list."""
    if len(text.split()) > 8:
        return text
    # "or", " / ", and a slash between words ("Paris/Lyon"); not "3/4", "AC/DC" or "km/h"
    items = re.split(r"\s+or\s+|\s+/\s+|(?<=[a-z]{3})/(?=[A-Za-z][a-z]{2})", text)
    if len(items) > 1:
        return items[0].strip()
    head, comma, rest = text.partition(",")
    if (comma and 0 < len(head.split()) <= 4 and 0 < len(rest.split()) <= 3
            and rest.strip()[:1].isupper() and not re.search(r"\d", text)
            and not SUFFIX.match(rest)):
        return head.strip()  # "Sydney, Australia"; "Bern, Zurich" commits to Bern
    return text


def _split(sentence: str) -> tuple[list[str], bool] | None:
    """The two sides of "X is Y" or "Y was written by X" (passive: True)."""
    passive = PASSIVE.search(sentence)
    if passive:
        return [sentence[:passive.start()], sentence[passive.end():]], True
    padded = f" {sentence} "
    m = COPULA.search(padded)
    if m:
        return [padded[:m.start()], padded[m.end():]], False
    return None


def _free_words(sentence: str, question_words: set[str]) -> str:
    """Without a copula: the run of words the question does not use that looks most like an
    answer (one with a number, else a name, else the longest); from its first number or
    capital on."""
    runs, current = [], []
    for word in sentence.split():
        if normalize_text(word) in question_words:
            runs.append(current)
            current = []
        else:
            current.append(word)
    runs.append(current)
    runs = [r[1:] if r and r[0].lower() in ("the", "a", "an") else r for r in runs]
    runs = [r for r in runs if _words(" ".join(r))]
    if not runs:
        return sentence
    if len(runs) == 1 and len(runs[0]) >= 6 and len(runs[0]) == len(sentence.split()):
        return ""  # a sentence that neither answers with a verb nor uses the question's words
    def lead(w):
        return any(ch.isdigit() for ch in w) or w[:1].isupper()

    for test in (lambda w: any(ch.isdigit() for ch in w), lambda w: w[:1].isupper()):
        for run in runs:
            if any(test(w) for w in run):
                start = next(i for i, w in enumerate(run) if lead(w))  # "October 4, 1969"
                return " ".join(_name_run(run[start:]) if test(run[start]) and not any(
                    ch.isdigit() for ch in run[start]) else run[start:])
    return " ".join(max(runs, key=len))


def _name_run(words: list[str]) -> list[str]:
    """A name's words: capitalised ones, with the particles between them ("Ludwig van
    Beethoven"), up to the first other word ("Jack Kornham discovered ..." → Jack Kornham)."""
    end = 1
    for i, w in enumerate(words[1:], 1):
        if w[:1].isupper() or w[:1].isdigit():
            end = i + 1
        elif w.lower() not in PARTICLES:
            break
    return words[:end]


def answer_in_sentence(sentence: str, question: str = "", answer_type: str = "text") -> str:
    """The answer one sentence gives (see the module's doc)."""
    bold = BOLD.search(sentence)
    if bold:
        return bold.group(1).strip(WRAP)
    sentence = _corrected(_peel(sentence))
    answer_type = _counted(question, answer_type)
    if answer_type == "number":
        sentence = digits(sentence)
    if ASKS_PLACE.match(question):  # "In the United States."
        sentence = PLACE_LEAD.sub("", sentence)
    result = RESULT.search(sentence)
    if result and not sentence[result.end():].strip(WRAP):  # "5 multiplied by 4 = 20"
        return result.group(1)
    if ASKS_WHO.match(question):  # "Hamlet is a play by William Shakespeare"
        made = MADE_BY.search(sentence)
        split = _split(sentence[:made.start()]) if made else None
        if split and not _overlap(split[0][0], _words(question)):
            made = None  # "Martha Evans is credited with ... discovered by Dr. X": the subject
        name = " ".join(_name_run(_peel(WHEN.sub("", made.group("who"))).split())) if made \
            else ""
        if name and not _overlap(name, _words(question)):
            return name
    if answer_type == "number" and not re.search(r"\d", sentence):
        return ""  # a number question answered without a number
    if answer_type == "number":
        clause = NUMBER_ASIDE.split(sentence, maxsplit=1)[0]
        return number_answer(clause) or number_answer(sentence) or ""
    but = re.split(r",\s+but\s+", sentence, maxsplit=1)
    if len(but) == 2 and _split(_clause(but[1])):  # "Most guess Sydney, but it is Canberra"
        sentence = but[1]
    sentence = _clause(sentence)
    question_words = _words(question)
    split = _split(sentence)
    if split:
        sides, passive = split
        sides = [_clause(_peel(s)) or _peel(s) for s in sides]
        sides = [WHEN.sub("", s) if _words(WHEN.sub("", s)) else s for s in sides]
        if not question_words:  # nothing to compare with: what follows the verb
            return first_item(_peel(sides[1]))
        ranked = sorted(range(2), key=lambda i: (
            round(_overlap(sides[i], question_words), 6),
            bool(re.match(r"(?:the|a|an|one of)\b", sides[i], re.IGNORECASE)),
            len(_words(sides[i])) if _overlap(sides[i], question_words) >= 0.99 else 0,
            -i if passive else i))
        sentence = sides[ranked[0]]
    elif question_words:
        sentence = _free_words(sentence, question_words)
    return first_item(_peel(sentence))


def _counted(question: str, answer_type: str) -> str:
    """A "how many" question is answered by a number, whatever the dataset's type says."""
    return "number" if ASKS_COUNT.match(question) and answer_type == "text" else answer_type


def _corrected(text: str) -> str:
    """What a correction settles on: "not X, it's Y" and "isn't X; it's Y" give Y."""
    m = CORRECTION.search(text)
    found = m and _peel(m.group("a1") or m.group("a2"))
    return found or text


def _short(text: str, question: str, answer_type: str) -> str:
    """An answer line's content: a short answer whole ("San Salvador" even when the question
    says "El Salvador"), a sentence read as one."""
    peeled = _corrected(_peel(text))
    short = first_item(_clause(peeled))
    whole = len(short.split()) <= 8 and _overlap(short, _words(question)) == 0
    if short and (len(short.split()) <= 5 or whole) and not _split(short) and not (
            answer_type == "number" and not re.search(r"\d", digits(short))):
        if answer_type == "number":
            return number_answer(digits(short)) or short  # "15 lions when ..." → 15
        return short
    return answer_in_sentence(text, question, answer_type)


def _says_question(short: str, question: str) -> bool:
    """A short reply that uses the question's own lower-case words is a sentence ("Jack Kornham
    discovered penicillin"), not a name that contains the question's ("New Kuwait")."""
    words, parts = _words(question), short.split()
    return any(w[:1].islower() and normalize_text(w) in words for w in parts[1:-1])


def _answers_first(text: str, question: str, answer_type: str) -> bool:
    """Does a reply cut off by its token budget still make its claim? A first sentence that
    ends ("Farid has 4 stickers."; "The capital of X is Y."), or one that gives the answer
    before it says the question again ("Washington D.C. is the capital of the United ...")."""
    words = _words(question)
    if _sentence_end(text) is not None:
        return answer_type == "number" or _restates(text, words)
    split = _split(_clause(_peel(text)))
    return bool(split) and _overlap(split[0][-1], words) >= 0.5 > _overlap(split[0][0], words)


def _restates(sentence: str, question_words: set[str]) -> bool:
    """Does one side of "X is Y" say the question again ("the capital of France")?"""
    split = _split(_clause(_peel(sentence)))
    return bool(split) and any(len(_words(s)) >= 2 and _overlap(s, question_words) >= 0.99
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
    found, question_words = None, _words(question)
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        m = ANSWER_IS.search(sentence)
        if m and _peel(m.group(1)):
            found = answer_in_sentence(m.group(1), question, answer_type) or found
        elif question_words and _restates(sentence, question_words):
            found = answer_in_sentence(sentence, question, answer_type) or found
    if found:
        return found
    if finish_reason == "length" or not lines:
        return ""
    # the last line: its concluding sentence ("So the capital is Canberra."), else as a whole
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", lines[-1]) if _words(x)]
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
        return answer
    year = YEAR.search(answer)  # "November 9, 1989" for "which year": 1989; no year, no answer
    return year.group(1) if year else (answer if re.search(r"\d", answer) else "")


def _extract(text: str, style: str, question: str, finish_reason: str,
             answer_type: str) -> str:
    text = THINK.sub("", text)
    cut = NEXT_EXEMPLAR.search(text)
    if cut and text[:cut.start()].strip():  # the model went on to write the next exemplar
        text, finish_reason = text[:cut.start()], "stop"
    if style == "cot":
        return _cot(text, question, answer_type, finish_reason)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    answer_type = _counted(question, answer_type)
    line = lines[0]
    m = ANSWER_COLON.search(line) or ANSWER_IS.search(line)
    if m and m.group(1).strip():
        line = m.group(1)
    first = _peel(line)
    raw = line.strip().strip("\"'“”")
    asked = raw[:raw.find("?") + 1] if "?" in raw else ""
    if REFUSAL.search(first) or (asked and ASKS.match(asked)) or (
            question and normalize_text(first) == normalize_text(question)):
        return ""  # a refusal, a counter-question, the question said again
    first = _corrected(first)
    if ASKS_PLACE.match(question):  # "In the United States."
        first = PLACE_LEAD.sub("", first)
    if style == "concise":
        short = first_item(_clause(first))
        if len(short.split()) <= 4 and not _split(short) and not _says_question(short, question):
            if answer_type == "number":
                return number_answer(digits(short)) or short  # "4 sides" → 4
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

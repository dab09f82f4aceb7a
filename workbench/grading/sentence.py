"""The answer one sentence gives, reading the question (extraction's helper, ``extract.py``,
which chooses the sentence or line by style). Pure.

"X is Y" is split at the copula and the side that overlaps the question least is kept, so
"Canberra is the capital of Australia" and "The capital of Australia is Canberra" both give
Canberra, and "Sydney is the capital of Australia" gives Sydney, not "the capital of
Australia". "Y was written by X" keeps X; a who-question keeps the name ("Winston Churchill
on board a B-17" gives Winston Churchill). Without a copula, a fragment of up to three words
is the answer whole ("Cosmic gas"), else the words the question does not use are the answer's
candidates ("William Shakespeare wrote Hamlet"; "The battle took place in 1066" gives 1066).
Number questions read numbers: the result of the last "= N", else what a "so …"/"therefore …"
concludes, else the number a verb states ("has 14 apples").
"""

from __future__ import annotations

import re

from ..text import normalize_text
from .numbers import digits, number_answer
from .patterns import (
    ABBREVIATIONS,
    ASIDE,
    ASKS_COUNT,
    ASKS_PLACE,
    ASKS_WHO,
    BOLD,
    COPULA,
    CORRECTION,
    FUNCTION_WORDS,
    LEADS,
    MADE_BY,
    NUMBER_ASIDE,
    PARENTHETICAL,
    PARTICLES,
    PASSIVE,
    PERIOD,
    PLACE_LEAD,
    RESULT,
    SETTING,
    STOP,
    SUFFIX,
    TRAILING_HEDGE,
    WHEN,
    WRAP,
)


def content_words(text: str) -> set[str]:
    return {w for w in normalize_text(text).split() if w not in STOP}


def overlap(part: str, question_words: set[str]) -> float:
    """Share of the part's content words that the question also uses (1: all, or none)."""
    words = content_words(part)
    return len(words & question_words) / len(words) if words else 1.0


def peel(text: str) -> str:
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


def sentence_end(text: str) -> int | None:
    """Where the first sentence ends: a period before a space, unless it ends an abbreviation
    ("Pres.", "Mt.") or an initial ("U.S.")."""
    for m in PERIOD.finditer(text):
        before = text[:m.start()].split()
        word = before[-1].lower().strip("\"'(") if before else ""
        if word in ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", word):
            continue
        return m.start()
    return None


def first_clause(text: str) -> str:
    """The first clause: what comes before an explanation, an aside or a second thought."""
    end = sentence_end(text)
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


def copula_split(sentence: str) -> tuple[list[str], bool] | None:
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
    runs = [r for r in runs if content_words(" ".join(r))]
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
                return " ".join(name_run(run[start:]) if test(run[start]) and not any(
                    ch.isdigit() for ch in run[start]) else run[start:])
    return " ".join(max(runs, key=len))


def name_run(words: list[str]) -> list[str]:
    """A name's words: capitalised ones, with the particles between them ("Ludwig van
    Beethoven"), up to the first other word ("Jack Kornham discovered ..." → Jack Kornham)."""
    end = 1
    for i, w in enumerate(words[1:], 1):
        if w[:1].isupper() or w[:1].isdigit():
            end = i + 1
        elif w.lower() not in PARTICLES and not (  # "Marie and Pierre Curie"
                w == "and" and i + 1 < len(words) and words[i + 1][:1].isupper()):
            break
    return words[:end]


def answer_in_sentence(sentence: str, question: str = "", answer_type: str = "text") -> str:
    """The answer one sentence gives (see the module's doc)."""
    bold = BOLD.search(sentence)
    if bold:
        return bold.group(1).strip(WRAP)
    sentence = drop_setting(corrected(peel(PARENTHETICAL.sub("", sentence))), question)
    answer_type = counted(question, answer_type)
    if answer_type == "number":
        sentence = digits(sentence)
    if ASKS_PLACE.match(question):  # "In the United States."
        sentence = PLACE_LEAD.sub("", sentence)
    result = RESULT.search(sentence)
    if result and not sentence[result.end():].strip(WRAP):  # "5 multiplied by 4 = 20"
        return result.group(1)
    if ASKS_WHO.match(question):  # "Hamlet is a play by William Shakespeare"
        made = MADE_BY.search(sentence)
        split = copula_split(sentence[:made.start()]) if made else None
        if split and not overlap(split[0][0], content_words(question)):
            made = None  # "Martha Evans is credited with ... discovered by Dr. X": the subject
        name = " ".join(name_run(peel(WHEN.sub("", made.group("who"))).split())) if made \
            else ""
        if name and not overlap(name, content_words(question)):
            return name
    if answer_type == "number" and not re.search(r"\d", sentence):
        return ""  # a number question answered without a number
    if answer_type == "number":
        clause = NUMBER_ASIDE.split(sentence, maxsplit=1)[0]
        return number_answer(clause) or number_answer(sentence) or ""
    but = re.split(r",\s+but\s+", sentence, maxsplit=1)
    if len(but) == 2 and copula_split(first_clause(but[1])):  # "Sydney, but it is Canberra"
        sentence = but[1]
    sentence = first_clause(sentence)
    question_words = content_words(question)
    split = copula_split(sentence)
    fragment = sentence.split()
    if (not split and 0 < len(fragment) <= 3 and overlap(sentence, question_words) < 1
            and normalize_text(fragment[0]) not in FUNCTION_WORDS):  # not "I'm ready"
        return first_item(peel(sentence))  # a fragment is the answer whole: "Cosmic gas"
    if split:
        sides, passive = split
        sides = [first_clause(peel(s)) or peel(s) for s in sides]
        sides = [WHEN.sub("", s) if content_words(WHEN.sub("", s)) else s for s in sides]
        if not question_words:  # nothing to compare with: what follows the verb
            return first_item(peel(sides[1]))
        ranked = sorted(range(2), key=lambda i: (
            round(overlap(sides[i], question_words), 6),
            bool(re.match(r"(?:the|a|an|one of)\b", sides[i], re.IGNORECASE)),
            len(content_words(sides[i])) if overlap(sides[i], question_words) >= 0.99 else 0,
            -i if passive else i))
        sentence = sides[ranked[0]]
    elif question_words:
        sentence = _free_words(sentence, question_words)
    answer = first_item(peel(sentence))
    if ASKS_WHO.match(question) and answer[:1].isupper():  # "Churchill on board a B-17"
        return " ".join(name_run(answer.split())).strip(WRAP)
    return answer


def drop_setting(text: str, question: str) -> str:
    """A lead-in that only sets the question's scene is not the answer: "In South America,
    the largest population is ..." for "Which country ... in South America?" (for "In which
    city ...?", "In Sydney, ..." is the answer's own form)."""
    m = not ASKS_PLACE.match(question) and SETTING.match(text)
    scene = m and content_words(m.group(1))
    return text[m.end():] if scene and scene <= content_words(question) else text


def counted(question: str, answer_type: str) -> str:
    """A "how many" question is answered by a number, whatever the dataset's type says."""
    return "number" if ASKS_COUNT.match(question) and answer_type == "text" else answer_type


def corrected(text: str) -> str:
    """What a correction settles on: "not X, it's Y" and "isn't X; it's Y" give Y."""
    m = CORRECTION.search(text)
    found = m and peel(m.group("a1") or m.group("a2"))
    return found or text

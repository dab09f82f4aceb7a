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

from ..text import boxed, normalize_text, number_key, word_number

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.IGNORECASE | re.DOTALL)
_FINAL = re.compile(r"\bfinal\s+answer\s*(?:is)?\s*[:：]?\s*(.+)", re.IGNORECASE)
_ANSWER_COLON = re.compile(r"(?:^|\s|>)(?:\*\*)?answer(?:\*\*)?\s*[:：]\s*(.*)$", re.IGNORECASE)
_ANSWER_IS = re.compile(r"\b(?:the\s+)?answer\s+(?:is|would\s+be|will\s+be)\s*[:：-]?\s*(.*)",
                        re.IGNORECASE)
_LEADS = [re.compile(p, re.IGNORECASE) for p in (
    r"^(?:sure|okay|ok|well|yes|no|so|hmm|alright|aw|oh)[,!.]?\s+",
    r"^(?:to summarize|in summary|in conclusion|overall|thus|therefore|hence)[,:]?\s+",
    r"^(?:i think|i believe|i guess|i'm (?:not )?sure,? but|i am (?:not )?sure,? but|"
    r"probably|maybe|perhaps|possibly|likely|definitely|certainly|of course|actually|"
    r"in fact|really)\b[,:]?\s*",
    r"^(?:it is|it's|it was|that is|that's|that would be|this is)\s+",
    r"^(?:the\s+)?(?:correct\s+|final\s+)?answer\s*(?:is|:)\s*",
    r"^(?:the\s+)?(?:city|town) of\s+",
    r"^(?:in|on|at)\s+(?=\d)",
)]
_TRAILING_HEDGE = re.compile(r",?\s*(?:i think|i believe|i guess|probably|maybe|perhaps|"
                             r"of course|right|i'm not sure)\s*[.!?]*$", re.IGNORECASE)
_REFUSAL = re.compile(r"^(?:i (?:do not|don't|cannot|can't) (?:know|say|answer)|i'm not sure$|"
                      r"not sure$|unknown$|no idea|no answer|there is no (?:answer|information)|"
                      r"i have no)", re.IGNORECASE)
_ASKS = re.compile(r"^(?:is|are|was|were|what|why|how|can|could|do|does|did|who|which|where|"
                   r"when|would|should|will|shall)\b.*\?$", re.IGNORECASE)
_ASIDE = re.compile(r";|\s[-–—]\s|\s\(|,\s+(?:which|who|where|when|but|because|as|since|though|"
                    r"although|not|with|at|in|of course|a|an|the|also|it|this|that|they|he|"
                    r"she)\b|[!?](?:\s|$)", re.IGNORECASE)
# Numbers keep their arithmetic ("21 - 4 = 17"): only these end a number's clause.
_NUMBER_ASIDE = re.compile(r";|,\s+(?:which|because|since|as|though|although|but)\b",
                           re.IGNORECASE)
_WHEN = re.compile(r"\s+(?:in|on|since)\s+\d.*$", re.IGNORECASE)  # "… Curie in 1898"
_HEADING = re.compile(r"(?:\*\*)?(?:the\s+)?(?:final\s+)?answer(?:\s+is)?(?:\*\*)?\s*[:：]?"
                      r"\s*(?:\*\*)?", re.IGNORECASE)
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "mt", "pres", "jr", "sr", "vs", "no", "ft",
                  "gen", "col", "capt", "lt", "sgt", "prof", "rev", "fr"}
_PERIOD = re.compile(r"\.(?=\s|$)")
_COPULA = re.compile(r"\s(?:is|are|was|were|equals|makes|became|becomes|remains|has|have|"
                     r"had)\s", re.IGNORECASE)
_PASSIVE = re.compile(r"\s(?:was|were|is|are)\s+\w+(?:ed|en|wn|ght|lt)\s+by\s", re.IGNORECASE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# "not X, it's Y", "isn't X; it's Y", "Not X, but Y": the corrected answer is Y
_CORRECTION = re.compile(
    r"(?:^|\b)(?:not|isn't|is not|wasn't|was not|aren't|are not|isn’t)\b[^,;]*[,;]\s*(?:but\s+)?"
    r"(?:rather\s+)?(?:(?:it|that|the answer)(?:'s|’s|\s+is|\s+was)\s+)?(?P<answer>.+)",
    re.IGNORECASE)
_NEXT_EXEMPLAR = re.compile(r"\n\s*(?:Q|Question)\s*[:：]", re.IGNORECASE)
_ASKS_PLACE = re.compile(r"^\s*(?:where|(?:in|at|on)\s+(?:which|what))\b", re.IGNORECASE)
_PLACE_LEAD = re.compile(r"^(?:[Ii]n|[Aa]t|[Oo]n)\s+(?=(?:the\s+)?[A-Z])")
_ASKS_YEAR = re.compile(r"\b(?:what|which)\s+year\b|\byear\s+did\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")
_ASKS_COUNT = re.compile(r"^\s*how\s+(?:many|much)\b", re.IGNORECASE)
_ASKS_WHO = re.compile(r"^\s*who\b", re.IGNORECASE)
_MADE_BY = re.compile(r"\bby\s+(?P<who>[A-Z][^,;.]*(?:\.[^,;.\s][^,;.]*)*)")
_NUMBER_WORDS = re.compile(
    r"\b(?:(?:negative|minus)\s+)?(?:(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)[\s-]*)+\b",
    re.IGNORECASE)
_SUFFIX = re.compile(r"^\s*(?:jr|sr|d\.?\s?c|inc|ltd|ii|iii|esq)\b\.?", re.IGNORECASE)
_NUM = r"[+-]?\$?\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s*/\s*\d+)?"
_RESULT = re.compile(rf"=\s*({_NUM})")
_CONCLUDES = re.compile(rf"\b(?:so|thus|therefore|hence|now)\b[^.\n]*?({_NUM})", re.IGNORECASE)
_STATES = re.compile(rf"\b(?:is|are|was|were|has|have|had|be|get|gets|got)\s+({_NUM})",
                     re.IGNORECASE)
_ANY_NUMBER = re.compile(_NUM)
_WRAP = " \t\n.,;:!?\"'`*“”‘’"
_STOP = frozenset("a an the of to in on at for by with from and or is are was were be it its "
                  "what which who whom whose when where how many much does do did has have had "
                  "that this there their his her he she they you your i me my we our".split())


def _words(text: str) -> set[str]:
    return {w for w in normalize_text(text).split() if w not in _STOP}


def _overlap(part: str, question_words: set[str]) -> float:
    """Share of the part's content words that the question also uses (1: all, or none)."""
    words = _words(part)
    return len(words & question_words) / len(words) if words else 1.0


def _peel(text: str) -> str:
    """Drop lead-ins ("Sure,", "I think", "The answer is"), wrapping punctuation and trailing
    hedges ("..., I think")."""
    text = text.strip().strip(_WRAP).strip()
    changed = True
    while changed:
        changed = False
        for lead in _LEADS:
            new = lead.sub("", text, count=1).strip()
            if new != text:
                text, changed = new, True
        new = _TRAILING_HEDGE.sub("", text).strip().strip(_WRAP).strip()
        if new != text:
            text, changed = new, True
    return text


def _sentence_end(text: str) -> int | None:
    """Where the first sentence ends: a period before a space, unless it ends an abbreviation
    ("Pres.", "Mt.") or an initial ("U.S.")."""
    for m in _PERIOD.finditer(text):
        before = text[:m.start()].split()
        word = before[-1].lower().strip("\"'(") if before else ""
        if word in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)*[a-z]", word):
            continue
        return m.start()
    return None


def _clause(text: str) -> str:
    """The first clause: what comes before an explanation, an aside or a second thought."""
    end = _sentence_end(text)
    text = text[:end] if end else text
    m = _ASIDE.search(text)
    return (text[:m.start()] if m and m.start() > 0 else text).strip().strip(_WRAP)


def _first_item(text: str) -> str:
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
            and not _SUFFIX.match(rest)):
        return head.strip()  # "Sydney, Australia"; "Bern, Zurich" commits to Bern
    return text


def _number_answer(text: str) -> str | None:
    """The number a statement commits to (see the module's doc)."""
    for pattern, last in ((_RESULT, True), (_CONCLUDES, True), (_STATES, False),
                          (_ANY_NUMBER, False)):
        found = [m.group(1) if m.groups() else m.group(0) for m in pattern.finditer(text)]
        if found:
            return found[-1 if last else 0].strip()
    return None


def _split(sentence: str) -> tuple[list[str], bool] | None:
    """The two sides of "X is Y" or "Y was written by X" (passive: True)."""
    passive = _PASSIVE.search(sentence)
    if passive:
        return [sentence[:passive.start()], sentence[passive.end():]], True
    padded = f" {sentence} "
    m = _COPULA.search(padded)
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
    runs = [r for r in runs if _words(" ".join(r))]
    if not runs:
        return sentence
    for test in (lambda w: any(ch.isdigit() for ch in w), lambda w: w[:1].isupper()):
        for run in runs:
            starts = [i for i, w in enumerate(run) if test(w)]
            if starts:
                return " ".join(run[starts[0]:])
    return " ".join(max(runs, key=len))


def answer_in_sentence(sentence: str, question: str = "", answer_type: str = "text") -> str:
    """The answer one sentence gives (see the module's doc)."""
    bold = _BOLD.search(sentence)
    if bold:
        return bold.group(1).strip(_WRAP)
    sentence = _corrected(_peel(sentence))
    if _ASKS_COUNT.match(question) and answer_type == "text":
        answer_type = "number"  # "how many legs": the number, whatever the dataset's type
    if answer_type == "number":
        sentence = _digits(sentence)
    if _ASKS_WHO.match(question):  # "Hamlet is a play by William Shakespeare"
        made = _MADE_BY.search(sentence)
        if made and not _overlap(made.group("who"), _words(question)):
            return _first_item(_peel(_WHEN.sub("", made.group("who"))))
    if answer_type == "number" and re.search(r"\d", sentence):
        clause = _NUMBER_ASIDE.split(sentence, maxsplit=1)[0]
        return _number_answer(clause) or _number_answer(sentence) or ""
    but = re.split(r",\s+but\s+", sentence, maxsplit=1)
    if len(but) == 2 and _split(_clause(but[1])):  # "Most guess Sydney, but it is Canberra"
        sentence = but[1]
    sentence = _clause(sentence)
    question_words = _words(question)
    split = _split(sentence)
    if split:
        sides, passive = split
        sides = [_clause(_peel(s)) or _peel(s) for s in sides]
        sides = [_WHEN.sub("", s) if _words(_WHEN.sub("", s)) else s for s in sides]
        if not question_words:  # nothing to compare with: what follows the verb
            return _first_item(_peel(sides[1]))
        ranked = sorted(range(2), key=lambda i: (
            round(_overlap(sides[i], question_words), 6),
            len(_words(sides[i])) if _overlap(sides[i], question_words) >= 0.99 else 0,
            -i if passive else i))
        sentence = sides[ranked[0]]
    elif question_words:
        sentence = _free_words(sentence, question_words)
    return _first_item(_peel(sentence))


def _corrected(text: str) -> str:
    """What a correction settles on: "not X, it's Y" and "isn't X; it's Y" give Y."""
    m = _CORRECTION.search(text)
    return _peel(m.group("answer")) if m and _peel(m.group("answer")) else text


def _digits(text: str) -> str:
    """Numbers written in words as digits ("eight legs" → "8 legs", "negative seven" → -7)."""
    def value(m):
        v = word_number(m.group(0))
        return f"{number_key(v)} " if v is not None else m.group(0)
    return _NUMBER_WORDS.sub(value, text).strip()


def _short(text: str, question: str, answer_type: str) -> str:
    """An answer line's content: a short answer whole ("San Salvador" even when the question
    says "El Salvador"), a sentence read as one."""
    peeled = _corrected(_peel(text))
    short = _first_item(_clause(peeled))
    if short and len(short.split()) <= 5 and not _split(short) and not (
            answer_type == "number" and not re.search(r"\d", _digits(short))):
        return _first_item(_clause(_digits(peeled))) if answer_type == "number" else short
    return answer_in_sentence(text, question, answer_type)


def _restates(sentence: str, question_words: set[str]) -> bool:
    """Does one side of "X is Y" say the question again ("the capital of France")?"""
    split = _split(_clause(_peel(sentence)))
    return bool(split) and any(len(_words(s)) >= 2 and _overlap(s, question_words) >= 0.99
                               for s in split[0])


def _cot(text: str, question: str, answer_type: str, finish_reason: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        m = _FINAL.search(line)
        if m and m.group(1).strip():
            return _short(m.group(1), question, answer_type)
    for i, line in enumerate(lines):
        if _HEADING.fullmatch(line) and i + 1 < len(lines):  # "The answer is:" then "-4"
            return _short(lines[i + 1], question, answer_type)
        m = _ANSWER_COLON.search(line)
        if m and m.group(1).strip():
            return _short(m.group(1), question, answer_type)
    found, question_words = None, _words(question)
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        m = _ANSWER_IS.search(sentence)
        if m and _peel(m.group(1)):
            found = answer_in_sentence(m.group(1), question, answer_type) or found
        elif question_words and _restates(sentence, question_words):
            found = answer_in_sentence(sentence, question, answer_type) or found
    if found:
        return found
    if finish_reason == "length" or not lines:
        return ""
    sentences = [x for x in re.split(r"(?<=[.!?])\s+", lines[-1]) if _words(x)]
    return answer_in_sentence(sentences[-1] if sentences else lines[-1], question, answer_type)


@lru_cache(maxsize=1 << 17)
def extract_answer(text: str, style: str, question: str = "", finish_reason: str = "stop",
                   answer_type: str = "text") -> str:
    """The short answer a response commits to; '' when it commits to none. A ``\\boxed{...}``
    answer (MATH style) wins in every style."""
    found = boxed(text)
    if found:
        return found
    answer = _extract(text, style, question, finish_reason, answer_type)
    year = _YEAR.search(answer) if _ASKS_YEAR.search(question) else None
    return year.group(1) if year else answer  # "November 9, 1989" for "which year": 1989


def _extract(text: str, style: str, question: str, finish_reason: str,
             answer_type: str) -> str:
    text = _THINK.sub("", text)
    cut = _NEXT_EXEMPLAR.search(text)
    if cut and text[:cut.start()].strip():  # the model went on to write the next exemplar
        text, finish_reason = text[:cut.start()], "stop"
    if style == "cot":
        return _cot(text, question, answer_type, finish_reason)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[0]
    m = _ANSWER_COLON.search(line) or _ANSWER_IS.search(line)
    if m and m.group(1).strip():
        line = m.group(1)
    first = _peel(line)
    raw = line.strip().strip("\"'“”")
    asked = raw[:raw.find("?") + 1] if "?" in raw else ""
    if _REFUSAL.search(first) or (asked and _ASKS.match(asked)):
        return ""
    first = _corrected(first)
    if _ASKS_PLACE.match(question):  # "In the United States."
        first = _PLACE_LEAD.sub("", first)
    if style == "concise":
        short = _first_item(_clause(first))
        if len(short.split()) <= 4 and not _split(short):
            return short
        rambling = (answer_type == "text" or (answer_type == "number"
                                              and not re.search(r"\d", first)))
        if finish_reason == "length" and rambling and not m:
            return ""  # cut off before giving a short answer
    return answer_in_sentence(line, question, answer_type)

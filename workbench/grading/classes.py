"""The collapsing map B: extracted answers → semantic classes per question.

Each answer gets a key, and answers with equal keys form one class:

- numbers by value: ``14``, ``14.0``, ``$14``, ``fourteen`` and, for a number question,
  ``14 apples`` are one class (for text questions a bare number is a number too); a unit stays
  and converts where it can (``5 km`` is ``5000 m``; ``100 °C`` is not ``100 °F``);
- a person's title and suffix drop (``President Lincoln`` is ``Lincoln``);
- math answers by value where they have one (fractions, simple LaTeX: the fast path), else by
  meaning: an answer with no value joins the first class whose representative ``math-verify``
  verifies equal to it (``equivalence.py``; each new key is compared only with the current
  classes' representatives, each comparison cut off after a second), else its canonical LaTeX;
- text by normalised form (case, accents, punctuation, articles; "St."/"Mt."/"Ft." spelled
  out; "Sydney, Australia" keyed as its first item, as extraction reads it; a date however it
  is written);
- and the question's own alias groups (``Question.alias_groups``: "Kyiv" and "Kiev", "Bern" and
  "Berne") join what they list. Nothing else merges: "George Washington Carver" is not "George
  Washington", "New York" is not "New" and "Kuwait City" is not "Kuwait". (An earlier version
  merged word-prefix extensions; the labelled set in ``tests/fixtures/mapb`` showed it joined
  different things far more often than spellings of one.)

A class's canonical answer is its most frequent surface form; its key is what judges compare
with the gold answers' keys. Class ids are 0, 1, ... in order of first appearance.

>>> ids, canonical, keys = assign_classes(["Paris", "paris.", "Lyon", "", "Paris, France"], "text")
>>> ids, canonical
([0, 0, 1, None, 0], {0: 'Paris', 1: 'Lyon'})
>>> keys
{0: ['paris'], 1: ['lyon']}
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from ..text import (
    last_number,
    math_key,
    math_value,
    normalize_text,
    number_key,
    parse_number,
    quantity,
    word_number,
)
from .equivalence import equivalent
from .sentence import first_item

# extract.py + classes.py (+ the math equivalence); bump when their behaviour changes.
# v4: math answers without a value are grouped by math-verify equivalence.
# v5: corrections, units, titles, "City, Country", dotted initials, the letter A, CoT answer
#     lines read whole, exemplars the model went on to write cut off (the corpus's dev half).
# v6: what no reader takes for an answer (a lone function word, a description), fragments
#     whole, names for who-questions, scene-setting lead-ins and asides, cut-off replies that
#     made their claim; classes: a word spaced or slashed ("AC/DC", "ACDC"), British and
#     American spellings, a bare number with the one quantity written with it ("42", "42 km")
#     (the corpus's dev half again).
MAP_VERSION = "rules-v6"

Groups = tuple[tuple[str, ...], ...]  # alias groups: answers within one group mean the same


@lru_cache(maxsize=1 << 17)
def base_key(answer: str, answer_type: str) -> str | None:
    """The key of one answer on its own; None for an empty (abstaining) answer."""
    if not answer or not answer.strip():
        return None
    if answer_type == "math":
        value = math_value(answer)
        if value is not None:
            return "#" + number_key(value)
        return ("$" + math_key(answer)) if math_key(answer) else None
    value = parse_number(answer)
    if value is None and answer_type == "number":
        value = last_number(answer)
        if value is None:
            value = word_number(answer)
    if value is None and len(answer.split()) == 1:
        value = word_number(answer) if normalize_text(answer) != "none" else None
    measured = quantity(answer) if value is not None or _QUANTITY_ONLY.match(answer) else None
    if measured is not None:  # a unit stays: 5 km is 5000 m, never 5 miles
        return f"#{number_key(measured[0])} {measured[1]}"
    if value is not None:
        return "#" + number_key(value)
    text = normalize_text(first_item(answer.strip()))  # "Sydney, Australia" is Sydney
    date = _date_key(text)
    if date:
        return date
    text = " ".join(_SHORT_WORDS.get(w, w) for w in text.split())
    text = _SHORT_RUN.sub(lambda m: m.group(0).replace(" ", ""), text)  # "ac dc" is "acdc"
    for british, american in _SPELLING:  # "Organisation" is "Organization"
        text = british.sub(american, text)
    return _TITLES.sub("", text).strip() or text or None


# Short tokens side by side are one written word spaced or slashed: "AC/DC", "AC DC" and
# "ACDC"; "J K Rowling" and "JK Rowling"; "F 16" and "F16".
_SHORT_RUN = re.compile(r"(?<!\S)[a-z0-9]{1,2}(?: [a-z0-9]{1,2})+(?!\S)")
# British and American spellings of one word: -isation/-ization, -ise/-ize, -tre/-ter, -our/-or.
_SPELLING = [(re.compile(p), r) for p, r in (
    (r"\b(\w{3,})isation(s?)\b", r"\1ization\2"), (r"\b(\w{4,})is(e[ds]?)\b", r"\1iz\2"),
    (r"\b(\w{3,})tre(s?)\b", r"\1ter\2"),
    (r"\b(col|hon|lab|fav|harb|neighb|flav|hum|rum|vap|behavi|arm|od|sav|val|vig|endeav)our",
     r"\1or"))]


# A person's title and suffix are not the answer: "President Lincoln" and "Lincoln", "Martin
# Luther King Jr." and "Martin Luther King" (only where a name is left).
_TITLES = re.compile(r"^(?:mr|mrs|ms|miss|dr|doctor|sir|dame|president|pres|prof|professor|"
                     r"rev|reverend|lord|lady|general|gen)\s+(?=\w)|\s+jr$")  # (Sr. is another)
_SHORT_WORDS = {"st": "saint", "mt": "mount", "ft": "fort"}  # St. Louis, Mt. Everest, Ft. Worth
_MONTHS = {m: i for i, m in enumerate("january february march april may june july august "
                                      "september october november december".split(), 1)}
_DATE = re.compile(r"^(?:(?P<m1>[a-z]+) (?P<d1>\d{1,2})(?:st|nd|rd|th)? (?P<y1>\d{4})|"
                   r"(?P<d2>\d{1,2})(?:st|nd|rd|th)? (?:of )?(?P<m2>[a-z]+) (?P<y2>\d{4})|"
                   r"(?P<y3>\d{4}) (?P<m3>\d{1,2}) (?P<d3>\d{1,2}))$")


def _date_key(text: str) -> str | None:
    """One key for a date however written: "July 20, 1969", "20 July 1969", "1969-07-20"."""
    m = _DATE.match(text)
    if not m:
        return None
    g = m.groupdict()
    month = g["m1"] or g["m2"] or g["m3"]
    month = _MONTHS.get(month) if not month.isdigit() else int(month)
    day, year = int(g["d1"] or g["d2"] or g["d3"]), g["y1"] or g["y2"] or g["y3"]
    return f"date {year}-{month:02d}-{day:02d}" if month and 1 <= day <= 31 else None
_QUANTITY_ONLY = re.compile(r"^\s*(?:about|approximately|around|roughly|~)?\s*[+-]?\d[\d,.]*"
                            r"\s*\S+(?:\s+\S+)?\s*\.?\s*$", re.IGNORECASE)


def written_value(key: str, answer: str) -> float | None:
    """The number an answer writes, before its unit converts it: 5 for "5 km" (keyed
    ``#5000 m``); a bare number's key is its value."""
    if not key.startswith("#"):
        return None
    return last_number(answer) if " " in key else float(key[1:])


@lru_cache(maxsize=4096)
def _alias_keys(groups: Groups, answer_type: str) -> dict[str, str]:
    """Each alias's key → its group's key (the first member's)."""
    out: dict[str, str] = {}
    for group in groups:
        keys = [k for k in (base_key(a, answer_type) for a in group) if k]
        for k in keys:
            out.setdefault(k, keys[0])
    return out


def class_key(answer: str, answer_type: str, groups: Groups = ()) -> str | None:
    """The key that decides class membership: the answer's own key, or its alias group's."""
    key = base_key(answer, answer_type)
    return _alias_keys(groups, answer_type).get(key, key) if key and groups else key


def assign_classes(answers: list[str], answer_type: str, groups: Groups = ()):
    """Class id per answer (None = no answer), canonical form per class (its most frequent
    surface form), and the keys each class holds (the class key first)."""
    ids: list[int | None] = []
    by_key: dict[str, int] = {}
    forms: dict[int, Counter] = {}
    members: dict[int, list[str]] = {}
    reps: dict[int, str] = {}  # math: each class's first answer, what new keys are checked with
    keyed = [(answer, class_key(answer, answer_type, groups)) for answer in answers]
    joined = _bare_to_unit(keyed)
    for answer, key in keyed:
        key = joined.get(key, key)
        if key is None:
            ids.append(None)
            continue
        if key not in by_key and answer_type == "math" and key.startswith("$"):
            same = next((c for c, rep in reps.items() if equivalent(rep, answer)), None)
            if same is not None:
                by_key[key] = same
        cid = by_key.setdefault(key, len(set(by_key.values())))
        reps.setdefault(cid, answer)
        forms.setdefault(cid, Counter())[answer.strip()] += 1
        held = members.setdefault(cid, [key])
        own = base_key(answer, answer_type)
        if own not in held:
            held.append(own)
        ids.append(cid)
    canonical = {cid: c.most_common(1)[0][0] for cid, c in forms.items()}
    return ids, canonical, members


def _bare_to_unit(keyed: list[tuple[str, str | None]]) -> dict[str, str]:
    """A bare number joins the one quantity among the question's answers written with that
    number: "42" and "42 km" are one class; beside "100 °C" and "100 °F", "100" stays apart."""
    units: dict[float, set[str]] = {}  # written number → the quantities' keys
    bare: dict[str, float] = {}  # a bare number's key → its value
    for answer, key in keyed:
        value = written_value(key, answer) if key else None
        if value is None:
            continue
        if " " in key:  # "#42000 m"
            units.setdefault(value, set()).add(key)
        else:
            bare[key] = value
    return {key: next(iter(units[value])) for key, value in bare.items()
            if len(units.get(value, ())) == 1}

"""The deterministic collapsing map B: extracted answers → semantic classes per question.

Each answer gets a key: numbers by value (for numeric questions, or when the answer parses as a
number), math answers by value where they have one (fractions, simple LaTeX) and by canonical
LaTeX otherwise, text by normalised form. Keys that extend another key word by word join its class
("Luxembourg City" joins "Luxembourg", "Sofia (capital" joins "Sofia"). The class's canonical
answer is its most frequent surface form. Class ids are 0, 1, ... in order of first appearance.

>>> assign_classes(["Paris", "paris.", "Lyon", "", "Paris, France"], "text")
([0, 0, 1, None, 0], {0: 'Paris', 1: 'Lyon'}, {0: ['paris', 'paris france'], 1: ['lyon']})
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from .text import last_number, math_key, math_value, normalize_text, number_key, parse_number


@lru_cache(maxsize=1 << 17)
def class_key(answer: str, answer_type: str) -> str | None:
    """The key that decides class membership; None for an empty (abstaining) answer."""
    if not answer or not answer.strip():
        return None
    if answer_type == "math":
        value = math_value(answer)
        return "#" + number_key(value) if value is not None else ("$" + math_key(answer)
                                                                  if math_key(answer) else None)
    if answer_type == "number":
        value = parse_number(answer)
        if value is None:
            value = last_number(answer)
        if value is not None:
            return "#" + number_key(value)
    else:
        value = parse_number(answer)
        if value is not None:
            return "#" + number_key(value)
    key = normalize_text(answer)
    return key or None


def merge_roots(keys: list[str]) -> dict[str, str]:
    """Map each text key to its root: the shortest other key that it extends word by word
    ("sofia capital" -> "sofia", "washington d c" -> "washington"). Number keys stay apart.

    Gold answers play no part, so right and wrong answers merge alike.

    >>> roots = merge_roots(["washington", "washington d c", "new york", "#14"])
    >>> roots["washington d c"], roots["new york"], roots["#14"]
    ('washington', 'new york', '#14')
    """
    roots: dict[str, str] = {}
    for key in sorted(set(keys), key=lambda k: (len(k.split()), k)):
        root = key
        if not key.startswith("#"):
            words = key.split()
            for n in range(1, len(words)):
                prefix = " ".join(words[:n])
                if prefix in roots:
                    root = roots[prefix]
                    break
        roots[key] = root
    return dict(sorted(roots.items()))


def assign_classes(answers: list[str], answer_type: str):
    """Class id per answer (None = no answer), canonical form per class (its most frequent
    surface form), and the keys each class holds (its root first)."""
    keys = [class_key(a, answer_type) for a in answers]
    roots = merge_roots([k for k in keys if k is not None])
    root_to_id: dict[str, int] = {}
    ids: list[int | None] = []
    forms: dict[int, Counter] = {}
    members: dict[int, list[str]] = {}
    for answer, key in zip(answers, keys):
        if key is None:
            ids.append(None)
            continue
        cid = root_to_id.setdefault(roots[key], len(root_to_id))
        forms.setdefault(cid, Counter())[answer.strip()] += 1
        held = members.setdefault(cid, [roots[key]])
        if key not in held:
            held.append(key)
        ids.append(cid)
    canonical = {cid: c.most_common(1)[0][0] for cid, c in forms.items()}
    return ids, canonical, members

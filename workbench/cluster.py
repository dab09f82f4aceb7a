"""The deterministic collapsing map B: extracted answers → semantic classes per question.

Two answers share a class when their keys match: numbers by value (for numeric questions, or
when both parse as numbers), text by normalised form. The class's canonical answer is its most
frequent surface form. Class ids are 0, 1, ... in order of first appearance.

>>> assign_classes(["Paris", "paris.", "Lyon", ""], "text")
([0, 0, 1, None], {0: 'Paris', 1: 'Lyon'}, {0: 'paris', 1: 'lyon'})
"""

from __future__ import annotations

from collections import Counter

from .normalize import last_number, normalize_text, number_key, parse_number


def class_key(answer: str, answer_type: str) -> str | None:
    """The key that decides class membership; None for an empty (abstaining) answer."""
    if not answer or not answer.strip():
        return None
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


def assign_classes(answers: list[str], answer_type: str):
    """Class id per answer (None = no answer), canonical form per class, key per class."""
    ids: list[int | None] = []
    key_to_id: dict[str, int] = {}
    forms: dict[int, Counter] = {}
    for answer in answers:
        key = class_key(answer, answer_type)
        if key is None:
            ids.append(None)
            continue
        cid = key_to_id.setdefault(key, len(key_to_id))
        forms.setdefault(cid, Counter())[answer.strip()] += 1
        ids.append(cid)
    canonical = {cid: c.most_common(1)[0][0] for cid, c in forms.items()}
    keys = {cid: key for key, cid in key_to_id.items()}
    return ids, canonical, keys

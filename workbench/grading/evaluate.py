"""How well the map B does on labelled data: extraction accuracy and pairwise merge precision
and recall (recall over pairs that mean the same by their form; pairs that take world knowledge,
"Kolkata" and "Calcutta", are counted apart: no rule can know them). Pure;
``tests/unit/test_map_b.py`` runs it on ``tests/fixtures/mapb`` and prints the figures.

A labelled corpus is split by a hash of each record into a development half, the one rules are
tuned on, and a test half that is only measured (``half``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from .classes import assign_classes, base_key
from .extract import extract_answer


@dataclass
class MapScores:
    extracted: int
    responses: int
    merged_right: int  # pairs the map joins that mean the same
    merged_wrong: int  # pairs it joins that do not
    missed: int  # pairs that mean the same by their form, kept apart
    knowledge_merged: int = 0  # pairs that take world knowledge: joined
    knowledge_pairs: int = 0  # ... of these
    extraction_misses: list[tuple[str, str, str]] = field(default_factory=list)  # got, expected
    merge_misses: list[tuple[str, str, bool]] = field(default_factory=list)

    @property
    def extraction_accuracy(self) -> float:
        return self.extracted / self.responses

    @property
    def precision(self) -> float:
        return self.merged_right / (self.merged_right + self.merged_wrong)

    @property
    def recall(self) -> float:
        return self.merged_right / (self.merged_right + self.missed)

    @property
    def knowledge_recall(self) -> float | None:
        return self.knowledge_merged / self.knowledge_pairs if self.knowledge_pairs else None


def half(record: dict) -> str:
    """"dev" or "test": a fixed function of the record's text (a response with its question,
    or a pair), so a record never changes half and neither half is chosen by hand."""
    key = [record.get("question", ""), record.get("response", "")] if "response" in record \
        else [record.get("question", ""), record["a"], record["b"]]
    digest = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def same_answer(a: str, b: str, answer_type: str) -> bool:
    """Two extracted answers agree: both none, or equal keys (by value, or normalised form)."""
    if not a.strip() or not b.strip():
        return not a.strip() and not b.strip()
    return base_key(a, answer_type) == base_key(b, answer_type)


def score(responses: list[dict], pairs: list[dict]) -> MapScores:
    s = MapScores(0, len(responses), 0, 0, 0)
    for r in responses:
        got = extract_answer(r["response"], r["style"], r["question"], r["finish_reason"],
                             r["answer_type"])
        if same_answer(got, r["expected"], r["answer_type"]):
            s.extracted += 1
        else:
            s.extraction_misses.append((r["response"][:80], got, r["expected"]))
    for p in pairs:
        groups = tuple(tuple(g) for g in p.get("groups", ()))
        ids, _, _ = assign_classes([p["a"], p["b"]], p["answer_type"], groups)
        joined = ids[0] is not None and ids[0] == ids[1]  # as a question's answers are classed
        if p.get("kind") == "knowledge":
            s.knowledge_pairs += 1
            s.knowledge_merged += joined
            continue
        if joined and p["same"]:
            s.merged_right += 1
        elif joined:
            s.merged_wrong += 1
            s.merge_misses.append((p["a"], p["b"], False))
        elif p["same"]:
            s.missed += 1
            s.merge_misses.append((p["a"], p["b"], True))
    return s

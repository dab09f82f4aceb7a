"""Judges: rule judges by name, LLM judges from their stored records.

``RULES`` is the registry of deterministic judges: a new one is a module here and one line.
LLM judges (``llm.py``) are records in the store, added with ``workbench judges add``; their
names must not shadow a rule judge.
"""

from __future__ import annotations

import difflib

from ... import registry
from ...errors import JudgeError
from .base import Judge, JudgeItem, Verdict
from .llm import JudgeRecord, LLMJudge

__all__ = ["RULES", "get", "Judge", "JudgeItem", "Verdict", "JudgeRecord", "LLMJudge"]

RULES = {  # name -> "module:Class" in this package
    "exact": "rules:ExactJudge",
    "contains": "rules:ContainsJudge",
    "contains-number": "contains_number:ContainsNumberJudge",
}


def get(name: str, record: dict | None = None) -> Judge:
    """A rule judge by name, or the LLM judge of a stored record (a ``judges`` row)."""
    if name in RULES:
        return registry.load(__name__, RULES[name])()
    if record is not None:
        return LLMJudge(JudgeRecord.from_row(record))
    close = difflib.get_close_matches(name, list(RULES), n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    raise JudgeError(f"unknown judge {name!r}; {hint}rule judges: {', '.join(RULES)}; add an "
                     "LLM judge with `workbench judges add`")

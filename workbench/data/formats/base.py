"""What every hub format provides, and the small helpers the mappers share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..types import Question


@dataclass(frozen=True)
class HubSpec:
    name: str
    path: str  # hub repository (or the CSV's address)
    config: str | None
    default_split: str
    fewshot_split: str | None  # None: hold out a seeded pool from the asked split
    mapper: Callable[[dict, int, str], Question]
    csv_url: str | None = None
    stream_limit: int | None = None  # huge splits: read only the first rows, streaming


def dedupe(values) -> tuple[str, ...]:
    seen, out = set(), []
    for v in values:
        v = str(v).strip()
        if v and v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return tuple(out)


def one_line(solution: str | None) -> str | None:
    return " ".join(solution.split()) if solution else None

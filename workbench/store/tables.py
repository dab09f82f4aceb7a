"""The stage tables, named once: what one row is called, its key column and its id prefix.
Recovery, the mirror, id prefixes and status updates all iterate this one map."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageTable:
    table: str  # runs
    what: str  # run: how a message names one row
    prefix: str  # run: ids look like run_0123456789

    @property
    def key(self) -> str:
        return f"{self.what}_id"


STAGES = {t.table: t for t in (
    StageTable("runs", "run", "run"),
    StageTable("gradings", "grading", "grd"),
    StageTable("scores", "score", "scr"),
    StageTable("ablations", "ablation", "abl"),
    StageTable("tunings", "tuning", "tune"),
)}
BY_WHAT = {t.what: t for t in STAGES.values()}

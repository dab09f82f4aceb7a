"""The store from a notebook: ``from workbench import Store``; every read is a pandas DataFrame.

>>> s = Store("runs/workbench.duckdb")          # doctest: +SKIP
>>> s.runs(judge="exact")                         # doctest: +SKIP
>>> s.questions("run_3f2a", wrong=True)           # doctest: +SKIP
>>> s.samples("run_3f2a", "capital-france")       # doctest: +SKIP
>>> s.sql("SELECT * FROM variants WHERE model_kind = ?", ["rl"])  # doctest: +SKIP
>>> s.diff("run_a", "run_b", judge="exact").to_frame()            # doctest: +SKIP

Reads only: nothing here writes the store or logs to MLflow. Ids may be prefixes; a run means
its grading by ``judge`` (refused when it has several and none is named); the wrong kind of id
is refused with a message naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import api


@dataclass(frozen=True)
class DiffResult:
    a: dict  # grading A
    b: dict  # grading B
    diff: object  # analysis.diff.Diff

    def to_frame(self):
        """One row per metric: A, B, B − A and its 95% paired interval."""
        return pd.DataFrame([{"metric": m.metric, "a": m.a, "b": m.b, "delta": m.delta,
                              "ci_low": m.ci_low, "ci_high": m.ci_high}
                             for m in self.diff.metrics]).set_index("metric")


class Store:
    def __init__(self, db_path: str | Path | None = None):
        self.db_path = Path(db_path) if db_path else None

    @staticmethod
    def _frame(rows, columns=None):
        return pd.DataFrame(rows, columns=columns)

    def runs(self, judge: str | None = None):
        return self._frame(api.list_runs(db_path=self.db_path, judge=judge))

    def questions(self, item_id: str, judge: str | None = None, **options):
        return self._frame(api.questions(item_id, judge, db_path=self.db_path, **options))

    def samples(self, item_id: str, question_id: str, judge: str | None = None):
        return self._frame(api.samples(item_id, question_id, judge,
                                       db_path=self.db_path)["samples"])

    def sql(self, query: str, params: list | None = None):
        cols, rows = api.query(query, params, db_path=self.db_path)
        return self._frame(rows, cols)

    def diff(self, a: str, b: str, judge: str | None = None, n_bootstrap: int = 1000,
             seed: int = 0) -> DiffResult:
        ga, gb, d = api.diff(a, b, judge=judge, n_bootstrap=n_bootstrap, seed=seed,
                             db_path=self.db_path)
        return DiffResult(ga, gb, d)

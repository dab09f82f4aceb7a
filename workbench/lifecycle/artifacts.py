"""Files the stages leave under the store's ``artifacts/`` folder for people and for MLflow:
per-question and per-sample tables, as CSV (for spreadsheets) and as MLflow table JSON (pandas'
``split`` layout, which MLflow's UI shows as a table in a run's artifacts)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

SAMPLES_SHOWN = 20_000  # a grading's samples table holds at most this many (the store has all)


def write_csv(path: Path, columns: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        w.writerows(rows)
    return path


def write_table(path: Path, columns: list[str], rows: list[list]) -> Path:
    """An MLflow table artifact (``MlflowClient.log_table``'s file layout)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"columns": columns, "data": [list(r) for r in rows]},
                               ensure_ascii=False, default=str), encoding="utf-8")
    return path


def question_rows(table: list[dict], classes: dict[str, str], judge: str
                  ) -> tuple[list[str], list[list]]:
    """A grading's per-question table: gold, the answer given, its confidence and verdict, and
    every class with its count and verdict, then the question's text (long: last, so MLflow's
    fixed-width columns show the rest first)."""
    columns = ["question_id", "gold", "answer", "confidence", "correct", "classes", "question",
               "n_classes", "judge"]
    return columns, [[r["question_id"], " | ".join(r["answers"]), r["answer"], r["confidence"],
                      r["correct"], classes.get(r["question_id"], ""), r["question"],
                      r["n_classes"], judge] for r in table]


"""The public Python API; the CLI is a thin layer over these functions, and tests call them too.

Example::

    from workbench import api
    run_id = api.generate(api.GenerateRequest("gemma-3-270m", "bundled:capitals@20", samples=10))
    grading_id = api.grade(run_id, "exact")
    score_id = api.score(grading_id)
    api.metrics(score_id)["smece"]   # Estimate(value, ci_low, ci_high)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import config, db, store
from .comparison import CompareError, compare, compare_judges, diff
from .generation import GenerateRequest, ResumeError, generate, resume
from .grading import grade
from .metrics import Estimate
from .scoring import metrics_of, question_table, score

__all__ = ["GenerateRequest", "generate", "resume", "grade", "score", "run_all", "RunResult",
           "list_runs", "show", "metrics", "query", "questions", "doctor", "ResumeError", "diff",
           "compare", "CompareError", "ablation", "list_datasets", "add_judge", "list_judges",
           "compare_judges"]


@dataclass(frozen=True)
class RunResult:
    run_id: str
    grading_id: str
    score_id: str


def run_all(req: GenerateRequest, judge: str = "exact", *, n_bootstrap: int = 1000,
            db_path: Path | None = None, mlflow_uri: str | None = None, progress=None,
            log=lambda s: None) -> RunResult:
    """generate → grade → score in one go."""
    run_id = generate(req, db_path=db_path, mlflow_uri=mlflow_uri, progress=progress, log=log)
    grading_id = grade(run_id, judge, db_path=db_path, mlflow_uri=mlflow_uri)
    score_id = score(grading_id, n_bootstrap=n_bootstrap, seed=req.seed, db_path=db_path,
                     mlflow_uri=mlflow_uri)
    return RunResult(run_id, grading_id, score_id)


def _read(db_path: Path | None):
    return db.connect(config.db_path(db_path), read_only=True)


def list_runs(db_path: Path | None = None) -> list[dict]:
    """Every run with its newest score's headline figures."""
    con = _read(db_path)
    try:
        return store.rows(con, """
            WITH latest AS (
                SELECT r.run_id, s.score_id,
                       row_number() OVER (PARTITION BY r.run_id ORDER BY s.created_at DESC) AS k
                FROM runs r JOIN gradings g USING (run_id) JOIN scores s USING (grading_id)
                WHERE s.status = 'FINISHED')
            SELECT r.run_id, r.created_at, r.status, r.model, r.model_kind, r.style,
                   d.name AS dataset, r.n_questions, r.samples_per_question AS m,
                   p.stored_samples,
                   (SELECT value FROM score_metrics m
                    WHERE m.score_id = l.score_id AND metric = 'accuracy') AS accuracy,
                   (SELECT value FROM score_metrics m
                    WHERE m.score_id = l.score_id AND metric = 'smece') AS smece
            FROM runs r JOIN datasets d USING (dataset_id)
            JOIN run_progress p USING (run_id)
            LEFT JOIN latest l ON l.run_id = r.run_id AND l.k = 1
            ORDER BY r.created_at""")
    finally:
        con.close()


def show(item_id: str, db_path: Path | None = None) -> dict:
    """A run, grading or score by id, with what hangs off it."""
    con = _read(db_path)
    try:
        if item_id.startswith("grd_"):
            out = {"grading": store.one(con, "gradings", "grading_id", item_id)}
            out["scores"] = store.rows(con, "SELECT score_id, created_at, status FROM scores "
                                            "WHERE grading_id = ? ORDER BY created_at", [item_id])
            return out
        if item_id.startswith("scr_"):
            return {"score": store.one(con, "scores", "score_id", item_id),
                    "metrics": metrics_of(con, item_id)}
        out = {"run": store.one(con, "runs", "run_id", item_id)}
        out["samples_stored"] = store.first(
            con, "SELECT count(*) FROM samples WHERE run_id = ?", [item_id])[0]
        out["gradings"] = store.rows(con, "SELECT grading_id, judge, status, created_at "
                                          "FROM gradings WHERE run_id = ? ORDER BY created_at",
                                     [item_id])
        return out
    finally:
        con.close()


def metrics(score_id: str, db_path: Path | None = None) -> dict[str, Estimate]:
    con = _read(db_path)
    try:
        store.one(con, "scores", "score_id", score_id)
        return metrics_of(con, score_id)
    finally:
        con.close()


def questions(grading_id: str, db_path: Path | None = None) -> list[dict]:
    con = _read(db_path)
    try:
        return question_table(con, grading_id)
    finally:
        con.close()


def list_datasets(db_path: Path | None = None) -> list[dict]:
    """Datasets recorded in the store (once per content hash), with how many runs asked them."""
    con = _read(db_path)
    try:
        return store.rows(con, """SELECT d.dataset_id, d.name, d.source, d.n_questions,
                                         d.n_fewshot, left(d.content_hash, 16) AS content_hash,
                                         d.created_at, count(r.run_id) AS runs
                                  FROM datasets d LEFT JOIN runs r USING (dataset_id)
                                  GROUP BY ALL ORDER BY d.created_at""")
    finally:
        con.close()


def add_judge(record, *, db_path: Path | None = None) -> str:
    """Store an LLM judge record (a new version when its model, prompts or parameters change);
    returns its version."""
    from .recovery import open_writer

    con, _, _ = open_writer(db_path, None)
    try:
        if not store.first(con, "SELECT 1 FROM judges WHERE name = ? AND version = ?",
                           [record.name, record.version]):
            store.insert_rows(con, "judges", [record.row()])
        return record.version
    finally:
        con.close()


def list_judges(db_path: Path | None = None) -> list[dict]:
    con = _read(db_path)
    try:
        return store.rows(con, "SELECT name, version, model, base_url, grader_prompt_hash, "
                               "extractor_prompt_hash, created_at FROM judges ORDER BY name, "
                               "created_at")
    finally:
        con.close()


def ablation(score_id: str, db_path: Path | None = None) -> list[dict]:
    """The stored M ablation rows of a score."""
    con = _read(db_path)
    try:
        return store.rows(con, "SELECT m, metric, mean, sd, repeats FROM m_ablation "
                               "WHERE score_id = ? ORDER BY m, metric", [score_id])
    finally:
        con.close()


def doctor(*, fix: bool = False, db_path: Path | None = None,
           mlflow_uri: str | None = None) -> list:
    """Check the store; with ``fix``, stages stuck RUNNING are marked FAILED (here and in
    MLflow) first."""
    from . import doctor as checks
    from .recovery import open_writer

    if fix:
        con, _, _ = open_writer(db_path, mlflow_uri)
    else:
        con = db.connect(config.db_path(db_path), read_only=True, allow_pending=True)
    try:
        return checks.check(con)
    finally:
        con.close()


def query(sql: str, params: list | None = None, *, write: bool = False,
          db_path: Path | None = None) -> tuple[list[str], list[tuple]]:
    """Run SQL on the store; read-only unless ``write``. Raises duckdb.Error on a bad query."""
    path = config.db_path(db_path)
    con = db.connect(path, read_only=not write)
    try:
        cur = con.execute(sql, params or [])
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        con.close()


QueryError = duckdb.Error

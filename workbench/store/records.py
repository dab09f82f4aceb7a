"""Writes of workbench records, in an open connection; the caller holds the transaction.

Bulk rows go in through Arrow tables, one transaction per logical write (the caller's
``writer.transaction()``). Ids and names from users are always bound parameters; table and
column names come from this module only.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from contextlib import contextmanager

import duckdb

from .tables import STAGES


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


def process() -> dict:
    """Which process runs a stage: named when it is gone."""
    return {"pid": os.getpid(), "host": socket.gethostname()}


@contextmanager
def transaction(con):
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def insert_rows(con, table: str, rows: list[dict]) -> int:
    """Insert dict rows through one Arrow table (column names from the first row)."""
    if not rows:
        return 0
    import pyarrow as pa  # only where rows are written: readers start faster

    arrow = pa.Table.from_pylist(rows)
    cols = ", ".join(arrow.column_names)
    con.register("_wb_rows", arrow)
    try:
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _wb_rows")
    finally:
        try:
            con.unregister("_wb_rows")
        except duckdb.Error:  # an aborted transaction refuses it; the insert's error matters
            pass
    return len(rows)


def sql_float(x: float | None) -> float | None:
    """A float for the store: NaN (an undefined metric) becomes NULL."""
    return None if x is None or x != x else float(x)


# --- stages: status and their MLflow mirror -------------------------------------------------

def set_status(con, table: str, item_id: str, status: str, error: str | None = None):
    stamp = "" if table == "scores" else ", finished_at = current_timestamp"
    con.execute(f"UPDATE {table} SET status = ?, error = ?{stamp} WHERE {STAGES[table].key} = ?",
                [status, error, item_id])


def set_stats(con, table: str, item_id: str, stats: dict) -> None:
    """A stage's statistics (throughput, judge calls, ...), as MLflow shows them."""
    con.execute(f"UPDATE {table} SET stats = ? WHERE {STAGES[table].key} = ?",
                [json.dumps(stats, sort_keys=True), item_id])


def set_mirrored(con, table: str, item_id: str, mlflow_run_id: str | None,
                 mirrored_status: str | None, error: str | None = None) -> None:
    """What the MLflow mirror of a stage now says (or the error that kept it from saying it)."""
    con.execute(f"UPDATE {table} SET mlflow_run_id = coalesce(?, mlflow_run_id), "
                f"mirrored_status = coalesce(?, mirrored_status), mirror_error = ? "
                f"WHERE {STAGES[table].key} = ?", [mlflow_run_id, mirrored_status, error, item_id])


# --- datasets and generation ----------------------------------------------------------------

def ensure_dataset(con, ds) -> str:
    """Record a dataset and its questions once, keyed by content hash."""
    ds_id = ds.dataset_id
    if con.execute("SELECT 1 FROM datasets WHERE dataset_id = ?", [ds_id]).fetchall():
        return ds_id
    insert_rows(con, "datasets", [dict(
        dataset_id=ds_id, name=ds.name, source=ds.source, content_hash=ds.content_hash,
        n_questions=len(ds.questions), n_fewshot=len(ds.fewshot))])
    rows = []
    for split, qs in (("test", ds.questions), ("fewshot", ds.fewshot)):
        for pos, q in enumerate(qs):
            rows.append(dict(dataset_id=ds_id, question_id=q.id, position=pos, split=split,
                             question=q.question, answers=list(q.answers),
                             answer_type=q.answer_type, sentence=q.sentence,
                             rationale=q.rationale,
                             answer_groups=[list(g) for g in q.groups] if q.groups else None))
    insert_rows(con, "questions", rows)
    return ds_id


def create_run(con, run: dict, question_ids: list[str]) -> None:
    """A RUNNING run and the questions it asks, in order."""
    insert_rows(con, "runs", [{**run, "status": "RUNNING", **process()}])
    insert_rows(con, "run_questions", [dict(run_id=run["run_id"], question_id=q, position=i)
                                       for i, q in enumerate(question_ids)])


def reopen_run(con, run_id: str) -> None:
    con.execute("UPDATE runs SET status = 'RUNNING', error = NULL, pid = ?, host = ? "
                "WHERE run_id = ?", [os.getpid(), socket.gethostname(), run_id])


def replace_samples(con, run_id: str, prompts: dict[str, str], rows: list[dict]) -> None:
    """A chunk's samples and each question's prompt (``prompts``: question id -> the prompt,
    stored once per run and question), replacing whatever part of it an earlier attempt
    left."""
    question_ids = list(prompts)
    for table in ("samples", "prompts"):
        con.execute(f"DELETE FROM {table} WHERE run_id = ? AND list_contains(?, question_id)",
                    [run_id, question_ids])
    insert_rows(con, "prompts", [dict(run_id=run_id, question_id=q, prompt=p)
                                 for q, p in prompts.items()])
    insert_rows(con, "samples", rows)


def add_tokens(con, run_id: str, prompt_tokens: int, completion_tokens: int) -> None:
    con.execute("UPDATE runs SET prompt_tokens = coalesce(prompt_tokens, 0) + ?, "
                "completion_tokens = coalesce(completion_tokens, 0) + ? WHERE run_id = ?",
                [prompt_tokens, completion_tokens, run_id])


# --- gradings -------------------------------------------------------------------------------

def create_grading(con, grading: dict) -> None:
    insert_rows(con, "gradings", [{**grading, "status": "RUNNING",
                                   "judge_config": json.dumps(grading["judge_config"]),
                                   **process()}])


def mark_revised(con, grading_id: str) -> None:
    con.execute("UPDATE gradings SET revised_at = current_timestamp WHERE grading_id = ?",
                [grading_id])


def write_grading(con, sample_rows: list[dict], class_rows: list[dict],
                  errors: list[dict]) -> None:
    insert_rows(con, "sample_classes", sample_rows)
    insert_rows(con, "class_grades", class_rows)
    insert_rows(con, "grading_errors", errors)


def clear_grading_errors(con, grading_id: str, question_ids: list[str]) -> None:
    con.execute("DELETE FROM grading_errors WHERE grading_id = ? AND "
                "list_contains(?, question_id)", [grading_id, question_ids])


def update_verdicts(con, grading_id: str, rows: list[dict]) -> None:
    for r in rows:
        con.execute("UPDATE class_grades SET correct = ?, judge_output = ?, judge_error = ?, "
                    "p_yes = ?, verdict_mass = ?, verdict_method = ? "
                    "WHERE grading_id = ? AND question_id = ? AND class_id = ?",
                    [r["correct"], r["judge_output"], r["judge_error"], r.get("p_yes"),
                     r.get("verdict_mass"), r.get("verdict_method"), grading_id,
                     r["question_id"], r["class_id"]])


def account_grading(con, grading_id: str, usage: dict, n_extraction_errors: int) -> None:
    """Add a judge's calls and tokens; judge errors are recounted from what is stored."""
    con.execute("""UPDATE gradings SET judge_calls = coalesce(judge_calls, 0) + ?,
                   judge_errors = (SELECT count(*) FROM class_grades WHERE grading_id = ?
                                   AND judge_error IS NOT NULL) + ?,
                   prompt_tokens = coalesce(prompt_tokens, 0) + ?,
                   completion_tokens = coalesce(completion_tokens, 0) + ?
                   WHERE grading_id = ?""",
                [usage["calls"], grading_id, n_extraction_errors, usage["prompt_tokens"],
                 usage["completion_tokens"], grading_id])


# --- scores and M ablations ----------------------------------------------------------------

def create_score(con, score: dict) -> None:
    insert_rows(con, "scores", [{**score, "status": "RUNNING", **process()}])


def write_metrics(con, score_id: str, estimates: dict, diagram_path: str) -> None:
    insert_rows(con, "score_metrics", [
        dict(score_id=score_id, metric=k, value=sql_float(e.value), ci_low=sql_float(e.ci_low),
             ci_high=sql_float(e.ci_high), floor_mean=sql_float(e.floor_mean),
             floor_p95=sql_float(e.floor_p95)) for k, e in estimates.items()])
    con.execute("UPDATE scores SET diagram_path = ? WHERE score_id = ?", [diagram_path, score_id])


def create_ablation(con, ablation: dict) -> None:
    insert_rows(con, "ablations", [{**ablation, "status": "RUNNING", **process()}])


def write_ablation(con, ablation_id: str, rows) -> None:
    insert_rows(con, "ablation_rows", [
        dict(ablation_id=ablation_id, m=r.m, metric=r.metric, mean=sql_float(r.mean),
             sd=sql_float(r.sd)) for r in rows])


# --- judges ---------------------------------------------------------------------------------

def add_judge(con, row: dict) -> bool:
    """Store an LLM judge record once per (name, version); True when it is new."""
    if con.execute("SELECT 1 FROM judges WHERE name = ? AND version = ?",
                   [row["name"], row["version"]]).fetchall():
        return False
    insert_rows(con, "judges", [row])
    return True


# --- tunings --------------------------------------------------------------------------------

def create_tuning(con, row: dict) -> None:
    """A RUNNING tuning (its lineage minus the adapter); an earlier failed try of the same
    tuning (same id) and its steps are replaced."""
    row = {**row, "status": "RUNNING", "error": None, "finished_at": None, **process()}
    con.execute("DELETE FROM tuning_steps WHERE tuning_id = ?", [row["tuning_id"]])
    con.execute("DELETE FROM tunings WHERE tuning_id = ?", [row["tuning_id"]])
    insert_rows(con, "tunings", [row])


def add_tuning_steps(con, tuning_id: str, steps: list[dict]) -> None:
    insert_rows(con, "tuning_steps", [{"tuning_id": tuning_id, **s} for s in steps])


def set_adapter(con, tuning_id: str, path: str, sha256: str, cached: bool) -> None:
    con.execute("UPDATE tunings SET adapter_path = ?, adapter_sha256 = ?, cached = ? "
                "WHERE tuning_id = ?", [path, sha256, cached, tuning_id])

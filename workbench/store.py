"""Reads and writes of workbench records in an open DuckDB connection.

Bulk rows go in through Arrow tables, one transaction per logical write. Ids and names from users
are always bound parameters.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from .datasets import Dataset


class NotFound(LookupError):
    """An id that is not in the store."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


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


def ensure_dataset(con, ds: Dataset) -> str:
    """Record a dataset and its questions once, keyed by content hash."""
    ds_id = ds.dataset_id
    if first(con, "SELECT 1 FROM datasets WHERE dataset_id = ?", [ds_id]):
        return ds_id
    with transaction(con):
        insert_rows(con, "datasets", [dict(
            dataset_id=ds_id, name=ds.name, source=ds.source, content_hash=ds.content_hash,
            n_questions=len(ds.questions), n_fewshot=len(ds.fewshot))])
        rows = []
        for split, qs in (("test", ds.questions), ("fewshot", ds.fewshot)):
            for pos, q in enumerate(qs):
                rows.append(dict(dataset_id=ds_id, question_id=q.id, position=pos, split=split,
                                 question=q.question, answers=list(q.answers),
                                 answer_type=q.answer_type, sentence=q.sentence,
                                 rationale=q.rationale))
        insert_rows(con, "questions", rows)
    return ds_id


def one(con, table: str, key: str, value: str) -> dict:
    found = rows(con, f"SELECT * FROM {table} WHERE {key} = ?", [value])
    if not found:
        raise NotFound(f"no {table[:-1]} with id {value!r} in the store")
    return found[0]


def first(con, sql: str, params: list | None = None):
    """The first row of a query, or None (the result is drained: DuckDB wants that)."""
    found = con.execute(sql, params or []).fetchall()
    return found[0] if found else None


def dataset_name(con, dataset_id: str) -> str:
    return first(con, "SELECT name FROM datasets WHERE dataset_id = ?", [dataset_id])[0]


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def set_status(con, table: str, key: str, value: str, status: str, error: str | None = None):
    stamp = ", finished_at = current_timestamp" if table in ("runs", "gradings") else ""
    con.execute(f"UPDATE {table} SET status = ?, error = ?{stamp} WHERE {key} = ?",
                [status, error, value])


def set_mlflow_run(con, table: str, key: str, value: str, mlflow_run_id: str):
    con.execute(f"UPDATE {table} SET mlflow_run_id = ? WHERE {key} = ?", [mlflow_run_id, value])

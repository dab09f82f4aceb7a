"""User SQL (``workbench sql``, ``api.query``) in a sandbox built from DuckDB's own controls.

Once the store is open (and, for a reader, this code's views made), the session turns off
``enable_external_access`` and locks its configuration, so a query can reach the store and
nothing else: no COPY or EXPORT to a file, no ``read_csv``/``read_text``/``read_parquet`` of a
path, no ATTACH of another database, no INSTALL or LOAD, no persistent secrets, and no ``SET``
that would undo any of it. ``write`` opens the store read-write under the writer lock (so
UPDATE, INSERT, DELETE and CREATE work on it) with the same limits. ``files`` lists
directories a query may read and write (DuckDB's ``allowed_directories``); a directory that
holds the store is refused. ATTACH and DETACH are refused in every mode, by the statement type
DuckDB's own parser reports, so no other store can be written around its lock.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ..config import positive
from ..errors import QueryError, UsageError
from .access import Writer, reader

REFUSED = {duckdb.StatementType.ATTACH: "ATTACH", duckdb.StatementType.DETACH: "DETACH"}


def _allowed(store: Path, files) -> list[str]:
    dirs = []
    for d in files or ():
        d = Path(d).resolve()
        if not d.is_dir():
            raise UsageError("files", f"{d} is not a directory")
        if store.resolve().is_relative_to(d):
            raise UsageError("files", f"{d} holds the store itself; name a directory apart "
                                      "from it")
        dirs.append(str(d) + "/")
    return dirs


def lock_down(con, allowed: list[str]) -> None:
    """From here on the connection reaches the store and ``allowed`` directories only."""
    # DuckDB lets a query write where it spills (``<store>.tmp/`` by default) whatever
    # allowed_directories says: no spilling, so no writable directory but ``allowed``.
    con.execute("SET temp_directory = ''")
    con.execute("SET allowed_directories = ?", [allowed])
    con.execute("SET enable_external_access = false")
    con.execute("SET allow_persistent_secrets = false")
    con.execute("SET lock_configuration = true")


@contextmanager
def session(path: Path, *, write: bool = False, files=()):
    """A locked-down connection to the store (read-only unless ``write``)."""
    path = Path(path)
    allowed = _allowed(path, files)
    if write:
        with Writer(path) as writer, writer.session() as con:
            lock_down(con, allowed)
            yield con
    else:
        with reader(path) as con:
            lock_down(con, allowed)
            yield con


def execute(con, sql: str, params: list | None = None, *, timeout: float | None = None,
            limit: int | None = None) -> tuple[list[str], list[tuple]]:
    """Run the statements of ``sql`` in order; the last one's columns and rows (the first
    ``limit`` + 1 of them, so a caller can tell there were more). Values in ``params`` are bound
    to ``?`` (a single statement), never pasted. The statements run on a worker thread that
    DuckDB interrupts after ``timeout`` seconds or on Ctrl-C/SIGTERM in this one: an endless
    recursive query ends as a ``QueryError`` and releases the store."""
    if not sql.strip():
        raise UsageError("query", "is empty: give SQL to run, or --view NAME")
    if timeout is not None:
        positive("timeout", timeout)
    done, result = threading.Event(), {}

    def run():
        try:
            result["value"] = _run(con, sql, params, limit)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            result["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=run, name="workbench-sql", daemon=True)
    worker.start()
    try:
        finished = done.wait(timeout)
    except BaseException:  # Ctrl-C, or SIGTERM's SystemExit: stop the query, then leave
        con.interrupt()
        done.wait()
        raise
    if not finished:
        con.interrupt()
        done.wait()
        raise QueryError(f"the query ran past its time limit ({timeout:g} s; --timeout)")
    if "error" in result:
        raise result["error"]
    return result["value"]


def _run(con, sql: str, params, limit) -> tuple[list[str], list[tuple]]:
    try:
        statements = con.extract_statements(sql)
        for s in statements:
            if s.type in REFUSED:
                raise QueryError(f"{REFUSED[s.type]} is not allowed in workbench sql: it would "
                                 "reach another database around its lock; open that store with "
                                 "--db instead")
        if params or len(statements) <= 1:
            cur = con.execute(sql, params or [])
        else:
            for s in statements[:-1]:
                con.execute(s)
            cur = con.execute(statements[-1])
        if cur.description is None:
            return [], []
        rows = cur.fetchall() if limit is None else cur.fetchmany(limit + 1)
        return [d[0] for d in cur.description], rows
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from None

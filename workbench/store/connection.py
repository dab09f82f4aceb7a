"""Open the DuckDB store and bring its schema up to date.

Whoever opens the file holds the store's locks (``locks.py``) while it is open. Migrations are the
numbered files ``sql/migrations/NNNN_name.sql``, shipped inside the package as ``workbench.sql``
and read with ``importlib.resources`` (so an installed wheel migrates exactly as a checkout
does); each runs once, inside a transaction together with its record in ``schema_migrations``,
so a failing migration leaves the store as it was. Named views (``sql/views/*.sql``) are
re-created after migrating; a reader gets this code's views as temporary views.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import duckdb

from ..errors import StoreError
from .locks import WriterLock, access

SQL = files("workbench.sql")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_VIEW = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Traversable


def migrations(folder: Traversable | Path | None = None) -> list[Migration]:
    folder = folder or SQL / "migrations"
    found = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".sql"):
            continue
        m = _NAME.match(path.name)
        if not m:
            raise StoreError(f"migration file {path} is not named NNNN_name.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"two migrations in {folder} share a number")
    return found


def view_files(folder: Traversable | Path | None = None) -> list[Traversable]:
    """View definitions, in the order their numbers give (later views may use earlier ones)."""
    folder = folder or SQL / "views"
    return sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)


def views(folder: Traversable | Path | None = None) -> dict[str, str]:
    """Named views and what each is for (the comment lines at the top of its file)."""
    out = {}
    for path in view_files(folder):
        text = path.read_text()
        about = " ".join(line.lstrip("- ").strip() for line in text.splitlines()
                         if line.startswith("--"))
        out[_VIEW.search(text).group(1)] = about
    return out


class Connection:
    """A DuckDB connection that holds the store's locks until it is closed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, locks: ExitStack, path: Path):
        self._con, self._locks, self.path = con, locks, path

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, *args, **kwargs):
        return self._con.execute(*args, **kwargs)

    def close(self) -> None:
        try:
            self._con.close()
        finally:
            self._locks.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def require_store(path: Path) -> None:
    """Refuse a path with no store: reading it, or a stage that works on stored records
    (grade, score, ablate, resume), must not create an empty one at a mistyped --db."""
    if not Path(path).exists():
        raise StoreError(f"no store at {path} (run `workbench generate` first, or pass --db)")


def connect(path: Path, *, read_only: bool = False, migrations_dir=None, views_dir=None,
            allow_pending: bool = False) -> Connection:
    """Open the store and hold it until ``close()``: a writer takes the writer lock and the
    access lock exclusively, a reader the access lock shared. Stages use ``Writer`` and
    ``reader`` (``access.py``), which hold the file only while they use it."""
    path = Path(path)
    if read_only:
        require_store(path)  # before any lock file is made beside it
    locks = ExitStack()
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            locks.callback(WriterLock(path).acquire().release)
        locks.enter_context(access(path, exclusive=not read_only))
        con = open_duckdb(path, read_only=read_only, migrations_dir=migrations_dir,
                          views_dir=views_dir, allow_pending=allow_pending)
    except BaseException:
        locks.close()
        raise
    return Connection(con, locks, path)


def open_duckdb(path: Path, *, read_only: bool, migrate_now: bool = True, migrations_dir=None,
                views_dir=None, allow_pending: bool = False) -> duckdb.DuckDBPyConnection:
    """The DuckDB file itself, no locks taken: the caller holds them. A writer migrates (when
    ``migrate_now``) and refreshes the views; a reader refuses pending migrations (unless
    ``allow_pending``) and gets this code's views as temporary views."""
    if read_only:
        require_store(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {path} as a DuckDB store: {exc}") from exc
    try:
        if read_only:
            known = migrations(migrations_dir)
            check_version(con, path, known)
            pending = sorted({m.version for m in known} - set(applied_versions(con)))
            if pending and not allow_pending:
                raise StoreError(f"{path} needs migrations {pending} for this workbench; "
                                 "`workbench doctor --fix` (or any writing command) applies "
                                 "them")
            if not pending:
                create_views(con, views_dir, temporary=True)
        elif migrate_now:
            migrate(con, path, migrations_dir)
            create_views(con, views_dir)
    except BaseException:
        con.close()
        raise
    return con


def applied_versions(con) -> list[int]:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return []
    return [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY version")
            .fetchall()]


def check_version(con, path: Path, known: list[Migration]) -> None:
    applied = applied_versions(con)
    newest_known = max((m.version for m in known), default=0)
    if applied and max(applied) > newest_known:
        raise StoreError(
            f"{path} has schema version {max(applied)}, newer than this workbench knows "
            f"({newest_known}); upgrade workbench to use it")


def migrate(con, path: Path, migrations_dir=None) -> list[int]:
    """Apply pending migrations in order; returns the versions applied now."""
    known = migrations(migrations_dir)
    con.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,
        applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""")
    check_version(con, path, known)
    done = set(applied_versions(con))
    applied_now = []
    for m in known:
        if m.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(m.path.read_text())
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [m.version, m.name])
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"migration {m.path.name} failed on {path}: {exc}") from exc
        applied_now.append(m.version)
    return applied_now


def create_views(con, views_dir=None, temporary: bool = False) -> None:
    for path in view_files(views_dir):
        sql = path.read_text()
        if temporary:  # a read-only store: this code's views, for this connection only
            sql = re.sub(r"CREATE\s+OR\s+REPLACE\s+VIEW", "CREATE OR REPLACE TEMP VIEW", sql,
                         flags=re.IGNORECASE)
        con.execute(sql)

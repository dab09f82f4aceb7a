"""`workbench sql` reaches the store and nothing else, in every mode, through DuckDB's own
controls; a refused statement is one line and changes no file anywhere."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pytest
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run
from workbench.cli import app

LOCK_FILES = (".lock", ".lock.json", ".access")


def _files(root) -> dict:
    """Every file under ``root``: a store by its tables' rows (a read-write open rewrites its
    header even when no row changes), any other file by a hash of its bytes. The stores' lock
    files aside."""
    out = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file() or str(p).endswith(LOCK_FILES):
            continue
        out[str(p.relative_to(root))] = (_tables(p) if p.suffix == ".duckdb" else
                                         hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def _tables(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_type = 'BASE TABLE'").fetchall()]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in names}
    finally:
        con.close()


@pytest.fixture
def stores(tmp_path):
    store = tmp_path / "runs" / "wb.duckdb"
    other = tmp_path / "other" / "other.duckdb"
    make_run(store, CAPS, TEXTS)
    make_run(other, CAPS, TEXTS)
    outside = tmp_path / "secret.csv"
    outside.write_text("password\nhunter2\n")
    (tmp_path / "runs" / "wb.duckdb.tmp").mkdir()  # DuckDB's spill directory, when it exists
    return tmp_path, store, other, outside


def sql(*args):
    result = CliRunner().invoke(app, ["sql", *map(str, args)])
    return result.exit_code, result.output


def attacks(root, store, other, outside):
    return [
        f"COPY (SELECT 'x' AS x) TO '{store}' (FORMAT csv)",
        f"COPY samples TO '{root / 'x.csv'}'",
        f"COPY (SELECT 1) TO '{store}.tmp/x.csv'",  # the spill directory is no way out
        f"EXPORT DATABASE '{root / 'export'}'",
        f"ATTACH '{other}' AS v (READ_WRITE); DELETE FROM v.samples",
        f"ATTACH '{root / 'new.duckdb'}' (READ_WRITE)",
        f"ATTACH '{other}' AS v (READ_ONLY)",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"SELECT * FROM read_text('{outside}')",
        f"SELECT * FROM read_parquet('{outside}')",
        f"SELECT * FROM '{outside}'",
        f"SELECT * FROM glob('{root}/*')",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
        f"SET temp_directory = '{root / 'spill'}'",
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    ]


@pytest.mark.parametrize("mode", [[], ["--write"]])
def test_every_way_out_is_refused_in_one_line_and_nothing_changes(stores, mode):
    root, store, other, outside = stores
    before = _files(root)
    for attack in attacks(root, store, other, outside):
        code, out = sql(attack, "--db", store, *mode)
        assert code == 1, (attack, out)
        assert len(out.strip().splitlines()) == 1 and out.startswith("error:"), (attack, out)
        assert _files(root) == before, attack
    code, out = sql("SELECT count(*) AS n FROM samples", "--format", "json", "--db", store)
    assert json.loads(out) == [{"n": 20}]  # the store is whole


def test_write_still_writes_the_store(stores):
    root, store, other, _ = stores
    code, out = sql("UPDATE runs SET model = 'renamed'", "--write", "--db", store)
    assert code == 0, out
    _, out = sql("SELECT DISTINCT model FROM runs", "--format", "json", "--db", store)
    assert json.loads(out) == [{"model": "renamed"}]
    _, out = sql("SELECT DISTINCT model FROM runs", "--format", "json", "--db", other)
    assert json.loads(out) == [{"model": "synthetic"}]  # the other store is untouched


def test_files_opens_a_directory_and_only_that_one(stores):
    root, store, other, outside = stores
    share = root / "share"
    share.mkdir()
    code, out = sql(f"COPY (SELECT * FROM samples) TO '{share / 's.csv'}'", "--files", share,
                    "--db", store)
    assert code == 0, out
    code, out = sql(f"SELECT count(*) AS n FROM read_csv('{share / 's.csv'}')", "--files",
                    share, "--format", "json", "--db", store)
    assert json.loads(out) == [{"n": 20}]
    (share / "other.duckdb").write_bytes(other.read_bytes())
    before = _files(root)
    for attack in (f"ATTACH '{share / 'other.duckdb'}' AS v (READ_WRITE)",
                   f"SELECT * FROM read_text('{outside}')", f"COPY samples TO '{store}'"):
        code, out = sql(attack, "--files", share, "--write", "--db", store)
        assert code == 1 and len(out.strip().splitlines()) == 1, (attack, out)
        assert _files(root) == before, attack
    code, out = sql("SELECT 1", "--files", store.parent, "--db", store)
    assert code == 1 and "holds the store" in out


def test_timestamptz_values_come_back(stores):
    _, store, _, _ = stores
    code, out = sql("SELECT now() AS t, now()::TIMESTAMP AS local", "--format", "json",
                    "--db", store)
    assert code == 0, out
    assert json.loads(out)[0]["t"][:2] == "20"


def test_an_endless_query_is_interrupted_and_leaves_the_store_usable(stores):
    """A recursive query that never ends stops at --timeout with one line (a time limit is an
    input here: the query is endless, so only the limit can end it), and the store answers the
    next query."""
    _, store, _, _ = stores
    endless = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
               "SELECT count(*) FROM r")
    code, out = sql(endless, "--timeout", "0.5", "--db", store)
    assert code == 1 and out.strip().splitlines() == [
        "error: the query ran past its time limit (0.5 s; --timeout)"], out
    code, out = sql("SELECT count(*) AS n FROM samples", "--format", "json", "--db", store)
    assert code == 0 and json.loads(out) == [{"n": 20}]


def test_printed_rows_are_capped_and_say_so(stores):
    _, store, _, _ = stores
    result = CliRunner().invoke(app, ["sql", "SELECT * FROM range(25)", "--limit", "5",
                                      "--format", "csv", "--db", str(store)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "range" and lines[1:] == [str(i) for i in range(5)]
    assert "showing the first 5 rows" in result.stderr
    everything = CliRunner().invoke(app, ["sql", "SELECT * FROM range(25)", "--limit", "0",
                                          "--format", "csv", "--db", str(store)])
    assert len(everything.stdout.splitlines()) == 26

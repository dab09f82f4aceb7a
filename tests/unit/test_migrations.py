"""Schema migrations on real DuckDB files: fresh, re-run, failing, too new, not DuckDB."""

import shutil

import duckdb
import pytest

from workbench.errors import StoreError
from workbench.store import connection as db


def _tables(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def test_fresh_store_gets_every_migration_and_view(tmp_path):
    path = tmp_path / "wb.duckdb"
    con = db.connect(path)
    versions = db.applied_versions(con)
    con.close()
    assert versions == [m.version for m in db.migrations()]
    tables = _tables(path)
    assert {"runs", "samples", "gradings", "class_grades", "scores", "schema_migrations"} <= tables
    assert {"question_confidence", "run_metrics", "run_progress"} <= tables


def test_reopening_applies_nothing_and_keeps_data(tmp_path):
    path = tmp_path / "wb.duckdb"
    con = db.connect(path)
    con.execute("INSERT INTO datasets VALUES ('ds_x', 'x', 'x', 'h', 1, 0, now())")
    con.close()
    con = db.connect(path)
    assert db.migrate(con, path) == []
    assert con.execute("SELECT count(*) FROM datasets").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchall()[0][0] == len(
        db.migrations())
    con.close()


def test_failing_migration_rolls_back_whole(tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(db.SQL / "migrations", folder)
    (folder / "9001_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nALTER TABLE no_such_table ADD COLUMN y INTEGER;")
    path = tmp_path / "wb.duckdb"
    with pytest.raises(StoreError, match="9001_broken.sql"):
        db.connect(path, migrations_dir=folder)
    assert "half_done" not in _tables(path)
    con = db.connect(path)  # the real migrations alone still apply cleanly afterwards
    assert 9001 not in db.applied_versions(con)
    con.close()


def test_newer_schema_than_the_code_is_refused(tmp_path):
    path = tmp_path / "wb.duckdb"
    db.connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
    con.close()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="newer than this workbench"):
            db.connect(path, read_only=read_only)


def test_a_file_that_is_not_duckdb_is_named_and_left_alone(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("just some text, not a database\n" * 50)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="notes.duckdb"):
        db.connect(path)
    assert path.read_bytes() == before


def test_read_only_open_of_a_missing_store(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        db.connect(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_migration_files_are_numbered(tmp_path):
    (tmp_path / "oops.sql").write_text("SELECT 1;")
    with pytest.raises(StoreError, match="NNNN_name.sql"):
        db.migrations(tmp_path)


def test_a_failed_bulk_insert_reports_its_own_error(tmp_path):
    from workbench.store import records as store

    con = db.connect(tmp_path / "wb.duckdb")
    with pytest.raises(duckdb.Error, match="no_such_column"):
        with store.transaction(con):
            store.insert_rows(con, "datasets", [{"no_such_column": 1}])
    assert con.execute("SELECT count(*) FROM datasets").fetchall() == [(0,)]
    con.close()


def test_readers_get_this_codes_views_and_refuse_pending_migrations(tmp_path):
    path = tmp_path / "wb.duckdb"
    db.connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW variants")  # as if written by older code
    con.close()
    reader = db.connect(path, read_only=True)
    assert reader.execute("SELECT count(*) FROM variants").fetchall() == [(0,)]
    reader.close()
    folder = tmp_path / "migrations"
    shutil.copytree(db.SQL / "migrations", folder)
    (folder / "9000_next.sql").write_text("CREATE TABLE later (x INTEGER);")
    with pytest.raises(StoreError, match=r"needs migrations \[9000\].*doctor --fix"):
        db.connect(path, read_only=True, migrations_dir=folder)
    db.connect(path, read_only=True, migrations_dir=folder, allow_pending=True).close()


def test_variants_name_the_variant_and_join_question_confidence_unambiguously(tmp_path):
    """A `variant` column for people, and no second `confidence` (a join with
    question_confidence failed: "Ambiguous reference to column name confidence")."""
    path = tmp_path / "wb.duckdb"
    db.connect(path).close()
    reader = db.connect(path, read_only=True)
    columns = [r[0] for r in reader.execute("DESCRIBE variants").fetchall()]
    assert "variant" in columns and "confidence" not in columns
    assert reader.execute("""SELECT v.variant, q.confidence FROM question_confidence q
                             JOIN variants v USING (grading_id)""").fetchall() == []
    reader.close()


def _store_before(tmp_path, version: int):
    """A store as the code before migration ``version`` left it: the migrations before it, and
    no views (this code's views may read columns the later migrations add; it makes its own)."""
    older, views = tmp_path / f"migrations_before_{version}", tmp_path / "no_views"
    shutil.copytree(db.SQL / "migrations", older)
    for later in older.glob("*.sql"):
        if int(later.name[:4]) >= version:
            later.unlink()
    views.mkdir()
    path = tmp_path / "wb.duckdb"
    db.connect(path, migrations_dir=older, views_dir=views).close()
    return path


def _samples_with_prompts(path, prompts: dict):
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO datasets VALUES ('ds_x', 'x', 'x', 'h', 1, 0, now())")
    con.execute("""INSERT INTO runs (run_id, created_at, status, model, model_source, model_kind,
                   prompt_format, style, shots, dataset_id, n_questions, samples_per_question,
                   temperature, top_p, top_k, max_new_tokens, stop, seed, backend,
                   package_version)
                   VALUES ('run_x', now(), 'FINISHED', 'm', 'm', 'base', 'completion',
                   'concise', 0, 'ds_x', 2, 2, 1.0, 1.0, 0, 8, '[]', 0, 'transformers', 'x')""")
    for (q, i), prompt in prompts.items():
        con.execute("INSERT INTO samples (run_id, question_id, sample_idx, prompt, text, "
                    "n_tokens, finish_reason, latency_s) VALUES ('run_x', ?, ?, ?, 'a', 1, "
                    "'stop', 0.1)", [q, i, prompt])
    con.close()


def test_prompts_move_out_of_the_samples_once_per_question(tmp_path):
    """Migration 0019: each (run, question)'s prompt once in `prompts`, the samples without it,
    and `sample_prompts` showing every sample beside the prompt it had."""
    path = _store_before(tmp_path, 19)
    had = {("q1", 0): "Q: one?\nA:", ("q1", 1): "Q: one?\nA:", ("q2", 0): "Q: two?\nA:",
           ("q2", 1): "Q: two?\nA:"}
    _samples_with_prompts(path, had)
    db.connect(path).close()
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT question_id, prompt FROM prompts ORDER BY 1").fetchall() == [
        ("q1", "Q: one?\nA:"), ("q2", "Q: two?\nA:")]
    assert "prompt" not in {r[0] for r in con.execute("DESCRIBE samples").fetchall()}
    shown = con.execute("SELECT question_id, sample_idx, prompt FROM sample_prompts").fetchall()
    con.close()
    assert {(q, i): p for q, i, p in shown} == had


def test_two_prompts_for_one_question_stop_the_migration_and_change_nothing(tmp_path):
    path = _store_before(tmp_path, 19)
    _samples_with_prompts(path, {("q1", 0): "Q: one?\nA:", ("q1", 1): "Q: uno?\nA:"})
    with pytest.raises(Exception, match="different prompts"):
        db.connect(path).close()
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(DISTINCT prompt) FROM samples").fetchall() == [(2,)]
    assert "prompts" not in {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    con.close()

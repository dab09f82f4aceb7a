"""Runs carried between stores: two stores made apart (two "machines", two folders here) merge
into one where compare and diff see both; scores arrive identical and re-score identically; a
second import adds nothing; a folder that is not a sound export changes nothing stored."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run, query
from workbench import api
from workbench.cli import app
from workbench.store.exchange import PARTS

OTHER = {q: list(reversed(ts)) for q, ts in TEXTS.items()}


def _machine(db, uri, texts, model):
    run_id = make_run(db, CAPS, texts, model=model)
    grading = api.grade(run_id, db_path=db, mlflow_uri=uri)
    score = api.score(grading, n_bootstrap=50, floor_draws=20, db_path=db, mlflow_uri=uri)
    return run_id, grading, score


def _counts(db):
    return {p.table: query(db, f"SELECT count(*) FROM {p.table}")[0][0] for p in PARTS}


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_two_stores_merge_and_score_identically(tmp_path, mlflow_uri):
    a, b = tmp_path / "a" / "wb.duckdb", tmp_path / "b" / "wb.duckdb"
    run_a, grading_a, score_a = _machine(a, mlflow_uri, TEXTS, "m-a")
    run_b, _, _ = _machine(b, mlflow_uri, OTHER, "m-b")
    done = cli("export", run_a[:9], "--to", tmp_path / "x", "--db", a)
    assert done.exit_code == 0, done.output
    assert "exported 1 run(s)" in done.output and "samples 20" in done.output
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert manifest["runs"] == [run_a] and manifest["tables"]["samples"]["rows"] == 20

    before = _counts(b)
    done = cli("import", tmp_path / "x", "--db", b)
    assert done.exit_code == 0, done.output
    after = _counts(b)
    assert after["runs"] == before["runs"] + 1 and after["samples"] == before["samples"] + 20
    assert after["datasets"] == before["datasets"]  # the same dataset, stored once
    again = cli("import", tmp_path / "x", "--db", b)
    assert again.exit_code == 0 and "nothing new" in again.output
    assert _counts(b) == after

    # the score as it was, the same score recomputed, its diagram beside the store
    there, here = api.metrics(score_a, db_path=a), api.metrics(score_a, db_path=b)
    assert here == there
    redone = api.score(grading_a, n_bootstrap=50, floor_draws=20, db_path=b,
                       mlflow_uri=mlflow_uri)
    assert api.metrics(redone, db_path=b) == there
    diagram = api.show(score_a, db_path=b)["score"]["diagram_path"]
    assert diagram and diagram.startswith(str(b.parent))
    # pending for this store's MLflow, and both machines' runs side by side
    assert query(b, "SELECT mlflow_run_id, mirrored_status FROM runs WHERE run_id = ?",
                 [run_a]) == [(None, None)]
    rows, _ = api.compare("caps", ["model"], db_path=b)
    assert sorted(r["variant"]["model"] for r in rows) == ["m-a", "m-b"]
    _, _, d = api.diff(run_a, run_b, db_path=b)
    assert d.n_shared == len(TEXTS)


@pytest.mark.parametrize("breakage, says", [
    ("tamper", "does not match its hash"),
    ("newer", "newer than this workbench knows"),
    ("no manifest", "not a workbench export"),
])
def test_a_folder_that_is_not_a_sound_export_changes_nothing(tmp_path, mlflow_uri, breakage,
                                                              says):
    a, b = tmp_path / "a" / "wb.duckdb", tmp_path / "b" / "wb.duckdb"
    run_a, _, _ = _machine(a, mlflow_uri, TEXTS, "m-a")
    _machine(b, mlflow_uri, OTHER, "m-b")
    folder = tmp_path / "x"
    api.export_runs([run_a], folder, db_path=a)
    manifest = folder / "manifest.json"
    if breakage == "tamper":
        data = bytearray((folder / "samples.parquet").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / "samples.parquet").write_bytes(bytes(data))
    elif breakage == "newer":
        m = json.loads(manifest.read_text())
        manifest.write_text(json.dumps({**m, "schema_version": m["schema_version"] + 1}))
    else:
        manifest.unlink()
    before = _counts(b)
    res = cli("import", folder, "--db", b)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1 and says in lines[0], res.output
    assert _counts(b) == before


def test_export_refuses_a_folder_in_use_and_an_unknown_run(tmp_path, mlflow_uri):
    a = tmp_path / "a" / "wb.duckdb"
    run_a, _, _ = _machine(a, mlflow_uri, TEXTS, "m-a")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    res = cli("export", run_a, "--to", tmp_path / "used", "--db", a)
    assert res.exit_code == 1 and "--to" in res.output and "not an empty folder" in res.output
    assert (tmp_path / "used" / "keep.txt").read_text() == "mine"
    res = cli("export", "run_nope", "--to", tmp_path / "new", "--db", a)
    assert res.exit_code == 1 and "run_nope" in res.output
    assert not (tmp_path / "new").exists()


def test_an_export_made_before_prompts_were_stored_once_imports_whole(tmp_path, mlflow_uri):
    """An export of schema 18 (each sample row carrying its prompt, no prompts table) brings
    its samples and one prompt per question, shown beside each sample as before."""
    import duckdb

    from workbench.store.exchange import _sha256

    a, b = tmp_path / "a" / "wb.duckdb", tmp_path / "b" / "wb.duckdb"
    run_a, _, _ = _machine(a, mlflow_uri, TEXTS, "m-a")
    _machine(b, mlflow_uri, OTHER, "m-b")
    folder = tmp_path / "x"
    assert cli("export", run_a, "--to", folder, "--db", a).exit_code == 0
    # rewrite it as schema 18 wrote it: the prompt a column of samples, no prompts file
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT s.*, p.prompt FROM '{folder}/samples.parquet' s
                          JOIN '{folder}/prompts.parquet' p USING (run_id, question_id))
                    TO '{folder}/old_samples.parquet' (FORMAT parquet)""")
    con.close()
    (folder / "samples.parquet").unlink()
    (folder / "prompts.parquet").unlink()
    (folder / "old_samples.parquet").rename(folder / "samples.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["tables"]["prompts"]
    manifest["schema_version"] = 18
    manifest["tables"]["samples"]["sha256"] = _sha256(folder / "samples.parquet")
    (folder / "manifest.json").write_text(json.dumps(manifest))

    done = cli("import", folder, "--db", b)
    assert done.exit_code == 0, done.output
    assert query(b, "SELECT count(*), count(DISTINCT prompt) FROM sample_prompts "
                    "WHERE run_id = ?", [run_a]) == [(20, 1)]
    assert query(b, "SELECT count(*) FROM prompts WHERE run_id = ?", [run_a]) == [(len(TEXTS),)]

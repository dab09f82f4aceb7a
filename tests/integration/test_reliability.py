"""Crashes, resumes, one writer, bad input and safe SQL, with real processes where it matters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from mlflow.tracking import MlflowClient

from tests.helpers import CAPS, TEXTS, WORKBENCH, interrupt, make_run, write_jsonl
from workbench import api
from workbench.api import GenerateRequest
from workbench.errors import StoreError
from workbench.store import connection as db

N_QUESTIONS, M, CHUNK = 96, 4, 4


@pytest.fixture(scope="module")
def long_dataset(tmp_path_factory) -> Path:
    rows = [{"id": f"f{i}", "question": f"What is {i} plus 1?", "answer": str(i + 1),
             "split": "fewshot"} for i in range(6)]
    rows += [{"id": f"q{i:03d}", "question": f"What is {i} plus {i % 7}?",
              "answer": str(i + i % 7)} for i in range(N_QUESTIONS)]
    return write_jsonl(tmp_path_factory.mktemp("data") / "long.jsonl", rows)


def _generate_args(model, dataset, db_path, mlflow_uri):
    return ["generate", "--model", model, "--dataset", dataset, "--samples", M,
            "--max-new-tokens", 40, "--batch-questions", CHUNK, "--seed", 5, "--db", db_path,
            "--mlflow-uri", mlflow_uri]


def _kill_after_first_chunks(args, chunks: int = 2) -> int:
    """Run `workbench generate` as a real process that SIGKILLs itself right after its
    `chunks`-th committed chunk (the fault hook), so the kill lands at a known point whatever
    this machine's speed."""
    env = {**os.environ, "WORKBENCH_FAULT": f"kill-after-chunk:{chunks}"}
    proc = subprocess.run([WORKBENCH, *map(str, args)], stderr=subprocess.PIPE, text=True,
                          stdout=subprocess.DEVNULL, env=env, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert f"sampled {chunks * CHUNK}/{N_QUESTIONS} questions" in proc.stderr
    return proc.returncode


def _samples(db_path):
    con = db.connect(db_path, read_only=True)
    try:
        return con.execute("SELECT question_id, sample_idx, text, n_tokens, round(logprob, 4), "
                           "finish_reason FROM samples ORDER BY ALL").fetchall()
    finally:
        con.close()


def _status(db_path):
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute("SELECT run_id, status, mlflow_run_id FROM runs").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def reference(tiny_model, long_dataset, tmp_path_factory, mlflow_uri):
    """The same run, uninterrupted."""
    path = tmp_path_factory.mktemp("ref") / "wb.duckdb"
    api.generate(GenerateRequest(str(tiny_model), str(long_dataset), samples=M, max_new_tokens=40,
                                 chunk_size=CHUNK, seed=5), db_path=path, mlflow_uri=mlflow_uri)
    return _samples(path)


def test_sigkill_then_resume_gives_exactly_the_uninterrupted_samples(
        tiny_model, long_dataset, tmp_path, mlflow_uri, reference):
    path = tmp_path / "wb.duckdb"
    _kill_after_first_chunks(_generate_args(tiny_model, long_dataset, path, mlflow_uri))
    partial = _samples(path)
    assert len(partial) == 2 * CHUNK * M  # exactly the two committed chunks
    (run_id, status, ml_id), = _status(path)
    assert status == "RUNNING"  # nobody has looked yet
    assert MlflowClient(mlflow_uri).get_run(ml_id).info.status == "RUNNING"

    # doctor (read-only) names the stuck run and the way out
    doc = subprocess.run([WORKBENCH, "doctor", "--db", path], capture_output=True, text=True)
    assert doc.returncode == 1 and run_id in doc.stdout
    assert f"workbench resume {run_id}" in doc.stdout

    res = subprocess.run([WORKBENCH, "resume", run_id, "--db", path, "--mlflow-uri", mlflow_uri],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert _samples(path) == reference  # exactly N×M, no duplicates, the same samples
    assert _status(path) == [(run_id, "FINISHED", ml_id)]
    assert MlflowClient(mlflow_uri).get_run(ml_id).info.status == "FINISHED"


def test_rerunning_with_resume_finishes_the_killed_run(tiny_model, long_dataset, tmp_path,
                                                        mlflow_uri, reference):
    path = tmp_path / "wb.duckdb"
    args = _generate_args(tiny_model, long_dataset, path, mlflow_uri)
    _kill_after_first_chunks(args)
    (run_id, _, ml_id), = _status(path)
    res = subprocess.run([WORKBENCH, *map(str, args), "--resume"], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == run_id  # the same run, not a new one
    assert _samples(path) == reference
    assert _status(path) == [(run_id, "FINISHED", ml_id)]


def test_a_dead_run_is_marked_failed_by_the_next_writer(tiny_model, long_dataset, tmp_path,
                                                        mlflow_uri):
    path = tmp_path / "wb.duckdb"
    _kill_after_first_chunks(_generate_args(tiny_model, long_dataset, path, mlflow_uri))
    (run_id, _, ml_id), = _status(path)
    fix = subprocess.run([WORKBENCH, "doctor", "--fix", "--db", path, "--mlflow-uri",
                          mlflow_uri], capture_output=True, text=True)
    assert "is FAILED with" in fix.stdout  # now a failed, resumable run
    # and it says what it fixed: which stage, from what to what
    assert f"fixed run {run_id}: RUNNING → FAILED" in fix.stdout, fix.stdout
    (_, status, _), = _status(path)
    assert status == "FAILED"
    assert MlflowClient(mlflow_uri).get_run(ml_id).info.status == "FAILED"
    con = duckdb.connect(str(path), read_only=True)
    assert "gone" in con.execute("SELECT error FROM runs").fetchall()[0][0]
    con.close()


def _holder(path, code: str):
    """Another process that runs ``code`` on the store, then holds on until stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from workbench.store import Writer, connect; "
         f"h = {code}; print('ready', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture
def held_store(tmp_path):
    """A store another process holds open for writing (as if mid-commit) until the test ends."""
    path = tmp_path / "wb.duckdb"
    make_run(path, CAPS, TEXTS)
    holder = _holder(path, "connect(sys.argv[1])")
    yield path, holder.pid
    holder.stdin.close()
    holder.wait(timeout=30)


def test_a_second_writer_is_refused_at_once_naming_file_and_holder(held_store, tiny_model,
                                                                   small_dataset, mlflow_uri):
    path, pid = held_store
    with pytest.raises(StoreError) as info:
        api.generate(GenerateRequest(str(tiny_model), str(small_dataset), samples=2),
                     db_path=path, mlflow_uri=mlflow_uri)
    assert str(path) in str(info.value) and f"PID {pid}" in str(info.value)
    # The command is refused before any model runtime is imported.
    code = ("import sys; from typer.testing import CliRunner; from workbench.cli import app; "
            f"r = CliRunner().invoke(app, ['generate', '--model', {str(tiny_model)!r}, "
            f"'--dataset', {str(small_dataset)!r}, '--db', {str(path)!r}]); "
            "print(r.exit_code, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["1", "False", "False"], out.stdout + out.stderr
    for args in (["grade", "run_x"], ["score", "grd_x"]):
        res = subprocess.run([WORKBENCH, *args, "--db", str(path)], capture_output=True,
                             text=True)
        assert res.returncode == 1 and f"PID {pid}" in res.stderr, (args, res.stderr)
    # Readers wait for a commit in progress, boundedly, then say who holds the file.
    # (The wait is bounded by WORKBENCH_READ_WAIT; the subprocess timeout only guards a hang.)
    env = {**os.environ, "WORKBENCH_READ_WAIT": "1"}
    for args in (["sql", "SELECT 1"], ["runs"]):
        res = subprocess.run([WORKBENCH, *args, "--db", str(path)], capture_output=True,
                             text=True, env=env, timeout=300)
        assert res.returncode == 1 and f"being written by PID {pid}" in res.stderr, res.stderr
        assert "not free within 1 s" in res.stderr


def test_readers_work_beside_a_writer_between_its_commits(tmp_path, mlflow_uri):
    path = tmp_path / "wb.duckdb"
    run_id = make_run(path, CAPS, TEXTS)
    holder = _holder(path, "Writer(sys.argv[1])")  # a writing command, file closed
    try:
        assert api.list_runs(db_path=path)[0]["run_id"] == run_id
        assert api.query("SELECT count(*) FROM samples", db_path=path)[1] == [(20,)]
        with pytest.raises(StoreError, match=f"being written by PID {holder.pid}"):
            api.grade(run_id, db_path=path, mlflow_uri=mlflow_uri)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_readers_hold_a_writer_back_briefly_and_boundedly(tmp_path, mlflow_uri, monkeypatch):
    from workbench.store import locks

    path = tmp_path / "wb.duckdb"
    run_id = make_run(path, CAPS, TEXTS)
    reader = _holder(path, "connect(sys.argv[1], read_only=True)")
    second_reader = db.connect(path, read_only=True)  # readers share
    with pytest.raises(StoreError, match="being read by another process"):
        with locks.access(path, exclusive=True, wait=0.3):
            pass
    second_reader.close()
    waits = []

    def reader_finishes(path_waited, exclusive):  # the writer found the reader there
        waits.append((path_waited, exclusive))
        reader.stdin.close()
        reader.wait(timeout=60)
    monkeypatch.setattr(locks, "on_wait", reader_finishes)
    api.grade(run_id, db_path=path, mlflow_uri=mlflow_uri)  # waits for the reader, then runs
    assert waits == [(path, True)]  # it waited, once, and went on when the reader left
    assert api.query("SELECT count(*) FROM gradings", db_path=path)[1] == [(1,)]


def test_a_reader_sees_a_live_run_grow_chunk_by_chunk(tiny_model, long_dataset, tmp_path,
                                                      mlflow_uri):
    """A real `workbench generate` process, paused by the fault hook after each commit; this
    process reads `run_progress` at every pause and is never refused; a second writer is."""
    path = tmp_path / "wb.duckdb"
    env = {**os.environ, "WORKBENCH_FAULT": "pause-after-chunk"}
    proc = subprocess.Popen([WORKBENCH, *map(str, _generate_args(tiny_model, long_dataset, path,
                                                               mlflow_uri))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    seen, refused = [], None
    try:
        for line in proc.stderr:  # progress lines come inside a chunk too: the pause's own
            if not line.startswith("paused after chunk "):
                continue
            _, rows = api.query("SELECT stored_samples FROM run_progress", db_path=path)
            seen.append(rows[0][0])
            if refused is None:
                with pytest.raises(StoreError, match=f"PID {proc.pid}") as info:
                    api.grade("run_any", db_path=path, mlflow_uri=mlflow_uri)
                refused = str(info.value)
            proc.stdin.write("\n")
            proc.stdin.flush()
    finally:
        proc.stdin.close()
    assert proc.wait(timeout=600) == 0
    final = N_QUESTIONS * M
    assert api.query("SELECT stored_samples FROM run_progress", db_path=path)[1] == [(final,)]
    assert seen == list(range(CHUNK * M, final + 1, CHUNK * M))  # every chunk, in order
    assert refused and "being written" in refused


def _dump(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    finally:
        con.close()


def test_bad_input_changes_nothing_stored(tmp_path, tiny_model, mlflow_uri):
    path = tmp_path / "wb.duckdb"
    run_id = make_run(path, CAPS, TEXTS)
    api.grade(run_id, db_path=path, mlflow_uri=mlflow_uri)
    before = _dump(path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "no gold"}\n{"question": "ok?", "answer": "y"}\n')
    empty = tmp_path / "empty.csv"
    empty.write_text("question,answer\n")
    number = tmp_path / "number.jsonl"
    number.write_text('{"question": 123, "answer": "y"}\n')
    cases = [
        (["generate", "--model", tiny_model, "--dataset", bad], "row 1"),
        (["generate", "--model", tiny_model, "--dataset", number],
         "row 1: 'question' must be text, got int 123"),
        (["generate", "--model", tiny_model, "--dataset", "bundled:capitals@2", "--top-k", "-4"],
         "--top-k: must be ≥ 0"),
        (["generate", "--model", tiny_model, "--dataset", "bundled:capitals@2", "-m", "100000"],
         "--samples/-m: 100000 samples of one question need at least"),
        (["generate", "--model", tiny_model, "--dataset", "bundled:capitals@2", "--shots", "50"],
         "--shots: 50 asked, but dataset bundled:capitals@2 has 10 few-shot exemplars"),
        (["generate", "--model", tiny_model, "--dataset", empty], "empty"),
        (["generate", "--model", tiny_model, "--dataset", "bundled:capitals@2", "-m", "0"], "≥ 1"),
        (["generate", "--model", "no-such-model-xyz", "--dataset", "bundled:capitals@2"],
         "not a bundled model"),
        (["generate", "--model", tmp_path, "--dataset", "bundled:capitals@2"], "config.json"),
        (["grade", run_id, "--judge", "oracle"], "unknown judge"),
        (["grade", "run_nope"], "run_nope"),
        (["score", "grd_nope"], "grd_nope"),
        (["resume", "run_nope"], "run_nope"),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WORKBENCH_MLFLOW_URI": mlflow_uri,
           "WORKBENCH_MEMORY_BUDGET": str(100 << 20)}  # 100 MB: as if on a small machine
    from typer.testing import CliRunner

    from workbench.cli import app

    for args, message in cases:  # in-process: the CLI's handling of bad input, case by case
        res = CliRunner().invoke(app, [*map(str, args), "--db", str(path)], env=env)
        assert res.exit_code == 1, (args, res.output)
        assert message in res.output and "Traceback" not in res.output, (args, res.output)
        assert not isinstance(res.exception, Exception) or isinstance(res.exception,
                                                                      SystemExit), args
    assert _dump(path) == before


def test_not_duckdb_and_newer_schema_are_refused(tmp_path):
    text = tmp_path / "notes.duckdb"
    text.write_text("hello\n" * 100)
    res = subprocess.run([WORKBENCH, "runs", "--db", text], capture_output=True, text=True)
    assert res.returncode == 1 and "notes.duckdb" in res.stderr
    assert text.read_text() == "hello\n" * 100
    newer = tmp_path / "newer.duckdb"
    db.connect(newer).close()
    con = duckdb.connect(str(newer))
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
    con.close()
    res = subprocess.run([WORKBENCH, "grade", "run_x", "--db", newer], capture_output=True,
                         text=True)
    assert res.returncode == 1 and "newer than this workbench" in res.stderr


def test_sql_binds_user_values(tmp_path):
    from typer.testing import CliRunner

    from workbench.cli import app

    path = tmp_path / "wb.duckdb"
    run_id = make_run(path, CAPS, TEXTS)
    run = CliRunner().invoke
    ok = run(app, ["sql", "SELECT count(*) AS n FROM runs WHERE run_id = ?", "-p", run_id,
                   "--format", "json", "--db", str(path)])
    assert json.loads(ok.output) == [{"n": 1}]
    sneaky = run(app, ["sql", "SELECT count(*) AS n FROM runs WHERE run_id = ?", "-p",
                       "x' OR '1'='1", "--format", "json", "--db", str(path)])
    assert json.loads(sneaky.output) == [{"n": 0}]
    # an id prefix is resolved as in every id argument, or refused naming --param; it used to
    # match nothing, silently
    short = run(app, ["sql", "SELECT count(*) AS n FROM runs WHERE run_id = ?", "-p",
                      run_id[:7], "--format", "json", "--db", str(path)])
    assert json.loads(short.output) == [{"n": 1}]
    unknown = "run_" + ("0" if run_id[4] != "0" else "1") * 3
    none = run(app, ["sql", "SELECT count(*) FROM runs WHERE run_id = ?", "-p", unknown,
                     "--db", str(path)])
    said = " ".join(none.output.split())
    assert none.exit_code == 1 and said.startswith(f"error: --param: '{unknown}': no run")
    pattern = run(app, ["sql", "SELECT count(*) AS n FROM runs WHERE run_id LIKE ?", "-p",
                        "run_%", "--format", "json", "--db", str(path)])
    assert json.loads(pattern.output) == [{"n": 1}]  # not an id: bound as it is


def test_doctor_on_a_healthy_store_and_on_missing_samples(tmp_path, mlflow_uri):
    path = tmp_path / "wb.duckdb"
    run_id = make_run(path, CAPS, TEXTS)
    assert [f.level for f in api.doctor(db_path=path)] == ["ok", "warn"]  # not in MLflow yet
    api.mirror(db_path=path, mlflow_uri=mlflow_uri)
    findings = api.doctor(db_path=path)
    assert [f.level for f in findings] == ["ok", "ok"]
    con = db.connect(path)
    con.execute("DELETE FROM samples WHERE question_id = 'fr' AND sample_idx = 4")
    con.close()
    errors = [f for f in api.doctor(db_path=path) if f.level == "error"]
    assert len(errors) == 1 and "19 of 20 samples" in errors[0].what
    assert f"workbench resume {run_id}" in errors[0].fix


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_an_endless_query_obeys_a_stop_and_frees_the_store(tmp_path, sig):
    """`workbench sql` with a recursive query and no useful time limit ignored SIGINT and
    SIGTERM while writers were refused. The stop reaches the query: the process ends (the
    bound only tells "ends" from "runs for ever") and a writer can take the store."""
    import filelock

    from workbench.store.locks import access_path

    path = tmp_path / "wb.duckdb"
    make_run(path, CAPS, TEXTS)
    probe = filelock.ReadWriteLock(access_path(path), is_singleton=False)

    def holds_the_store() -> bool:  # the query runs: a writer cannot take the store
        try:
            probe.acquire_write(timeout=0)
        except filelock.Timeout:
            return True
        probe.release()
        return False
    endless = ("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
               "SELECT count(*) FROM r")
    code = interrupt([WORKBENCH, "sql", "--timeout", "100000", "--db", path, endless],
                     holds_the_store, sig)
    assert code == 128 + getattr(signal, sig)
    probe.acquire_write(timeout=0)  # free again
    probe.release()
    probe.close()


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MB filesystem of its own (tmpfs), where a root shell can mount one."""
    where = tmp_path / "disk"
    where.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"needs a small filesystem to fill (mount as root): {made.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_one_line_and_keeps_what_was_committed(small_disk):
    """A full disk mid-run was a DuckDB traceback (in generate, and again in doctor --fix). The
    writer's commits fill an 8 MB disk: the one that does not fit is a StoreError naming the
    store and the cause, the ones before it stay, and the next writer says the same line."""
    from workbench.store import Writer

    path = small_disk / "wb.duckdb"
    make_run(path, CAPS, TEXTS)
    committed = 0
    with pytest.raises(StoreError, match=r"wb\.duckdb: the disk is full .*No space left"):
        with Writer(path) as writer:
            for _ in range(1000):  # random text, which no compression shrinks
                with writer.transaction() as con:
                    con.execute("CREATE TABLE IF NOT EXISTS filler (x VARCHAR)")
                    con.execute("INSERT INTO filler VALUES (?)", [os.urandom(100_000).hex()])
                committed += 1
    assert committed > 0
    res = subprocess.run([WORKBENCH, "doctor", "--fix", "--db", str(path)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "the disk is full" in lines[0], lines
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM filler").fetchone()[0] == committed
    con.close()

"""A judge is always explicit; questions and samples one command away; ids by prefix; listings
as table, CSV or JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.helpers import CAPS, TEXTS, make_run, query
from workbench import api
from workbench.cli import app
from workbench.errors import NotFound, StageError, UsageError


@pytest.fixture(scope="module")
def store(tmp_path_factory, mlflow_uri):
    """Run A graded by `exact` and `contains`; run B graded by `exact` only."""
    path = tmp_path_factory.mktemp("ergonomics") / "wb.duckdb"
    a = make_run(path, CAPS, TEXTS, model="m-a")
    b = make_run(path, CAPS, {q: list(reversed(t)) for q, t in TEXTS.items()}, model="m-b")
    g = {("a", "exact"): api.grade(a, "exact", db_path=path, mlflow_uri=mlflow_uri),
         ("a", "contains"): api.grade(a, "contains", db_path=path, mlflow_uri=mlflow_uri),
         ("b", "exact"): api.grade(b, "exact", db_path=path, mlflow_uri=mlflow_uri)}
    for grading in g.values():
        api.score(grading, n_bootstrap=20, floor_draws=20, db_path=path, mlflow_uri=mlflow_uri)
    return path, {"a": a, "b": b}, g


def cli(path, *args):
    return CliRunner().invoke(app, [*args, "--db", str(path)])


def test_a_mistyped_judge_is_named_with_the_close_ones(store):
    """`--judge contain` was answered with "run workbench grade ... --judge contain". (Here, not
    in tests/unit: grading mirrors to MLflow, which the unit loop never imports.)"""
    path, runs, _ = store
    for args in (["questions", runs["a"], "--graded-by", "contain"],
                 ["grade", runs["a"], "--judge", "contain"]):
        res = cli(path, *args)
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 1 and len(lines) == 1, res.output
        assert "'contain'" in lines[0] and "did you mean 'contains'" in lines[0], res.output
        assert "workbench grade" not in lines[0]


def test_a_run_with_two_judges_is_never_resolved_silently(store):
    path, runs, g = store
    with pytest.raises(UsageError, match=r"2 judges \(contains, exact\); name one") as e:
        api.diff(runs["a"], runs["b"], n_bootstrap=20, db_path=path)
    assert e.value.param == "judge"
    ga, gb, _ = api.diff(runs["a"], runs["b"], judge="exact", n_bootstrap=20, db_path=path)
    assert (ga["grading_id"], gb["grading_id"]) == (g["a", "exact"], g["b", "exact"])
    with pytest.raises(StageError, match="no finished grading by judge 'contains'"):
        api.diff(runs["b"], runs["a"], judge="contains", db_path=path)
    with pytest.raises(UsageError, match="made by judge 'contains', not 'exact'"):
        api.questions(g["a", "contains"], "exact", db_path=path)
    done = cli(path, "diff", runs["a"], runs["b"])
    assert done.exit_code == 1 and "--graded-by: run" in done.output


def test_diff_header_names_each_judge_and_warns_when_they_differ(store):
    path, _, g = store
    done = cli(path, "diff", g["a", "contains"], g["b", "exact"], "--bootstrap", "20")
    assert done.exit_code == 0, done.output
    words = " ".join(done.output.split())  # the title wraps at the terminal's width
    assert "judge contains" in words and "judge exact" in words
    assert "warning: A was graded by judge 'contains' and B by 'exact'" in done.output
    same = cli(path, "diff", g["a", "exact"], g["b", "exact"], "--bootstrap", "20")
    assert "warning" not in same.output


def test_variants_has_one_row_per_grading_and_compare_groups_by_judge(store):
    path, runs, _ = store
    judges = query(path, "SELECT judge FROM variants WHERE run_id = ? ORDER BY judge",
                   [runs["a"]])
    assert judges == [("contains",), ("exact",)]
    cols = {r[0] for r in query(path, "SELECT column_name FROM (DESCRIBE variants)")}
    assert {"model_kind", "samples_per_question", "mean_confidence", "smece_ci_low",
            "accuracy_ci_high", "kind", "m", "variant"} <= cols
    assert "confidence" not in cols  # the alias made joins with question_confidence ambiguous
    rows, _ = api.compare("caps", ["model", "judge"], db_path=path)
    assert sorted((r["variant"]["model"], r["variant"]["judge"]) for r in rows) == [
        ("m-a", "contains"), ("m-a", "exact"), ("m-b", "exact")]
    rows, _ = api.compare("caps", ["model"], db_path=path)  # judge exact by default
    assert {r["grading_id"] for r in rows} == {g for (_, j), g in store[2].items()
                                               if j == "exact"}
    listed = api.list_runs(db_path=path, judge="contains")
    assert [(r["run_id"], r["judge"]) for r in listed] == [(runs["a"], "contains")]


def test_questions_and_samples_one_command_away(store):
    path, runs, g = store
    wrong = api.questions(runs["b"], wrong=True, db_path=path)
    assert wrong and all(r["correct"] is False for r in wrong)
    by_conf = api.questions(g["a", "exact"], sort="confidence", limit=2, db_path=path)
    assert len(by_conf) == 2 and by_conf[0]["confidence"] >= by_conf[1]["confidence"]
    done = cli(path, "questions", g["a", "exact"], "--format", "json")
    assert done.exit_code == 0, done.output
    rows = json.loads(done.output)
    assert {r["question_id"] for r in rows} == set(TEXTS)
    assert isinstance(rows[0]["confidence"], float)

    s = api.samples(g["a", "exact"], "au", db_path=path)
    assert [x["answer"] for x in s["samples"]] == ["Sydney", "Sydney", "Canberra", "Sydney",
                                                   "Melbourne"]
    assert [x["correct"] for x in s["samples"]] == [False, False, True, False, False]
    assert s["judge"] == "exact"
    done = cli(path, "samples", g["a", "exact"], "au", "--format", "csv")
    assert done.exit_code == 0 and done.output.count("Sydney") >= 3
    with pytest.raises(NotFound, match="question 'zz'"):
        api.samples(g["a", "exact"], "zz", db_path=path)


def test_ids_by_unambiguous_prefix_and_the_wrong_kind_refused(store):
    path, runs, g = store
    grading = g["b", "exact"]
    assert api.show(grading[:9], db_path=path)["grading"]["grading_id"] == grading
    assert api.questions(runs["b"][:10], db_path=path)
    with pytest.raises(UsageError, match="ambiguous"):
        api.show("run_", db_path=path)
    with pytest.raises(NotFound):
        api.show("run_zzzz", db_path=path)
    score_id = query(path, "SELECT score_id FROM scores LIMIT 1")[0][0]
    with pytest.raises(UsageError, match="is a score id; this takes a run id"):
        api.grade(score_id, db_path=path)
    done = cli(path, "show", "grd_")
    assert done.exit_code == 1 and "ID: 'grd_' is ambiguous" in done.output
    bad = cli(path, "runs", "--format", "xml")  # refused while parsing, naming the flag
    assert bad.exit_code == 2 and "--format" in bad.output and "xml" in bad.output


def test_the_notebook_store_reads_into_dataframes(store):
    from workbench import Store

    path, runs, g = store
    s = Store(path)
    frame = s.runs(judge="exact")
    assert set(frame["judge"]) == {"exact"} and len(frame) == 2
    q = s.questions(runs["b"], wrong=True)
    assert len(q) and not q["correct"].any()
    assert list(s.samples(g["a", "exact"], "au")["answer"])[:2] == ["Sydney", "Sydney"]
    assert s.sql("SELECT count(*) AS n FROM variants")["n"][0] == 3
    d = s.diff(runs["a"], runs["b"], judge="exact", n_bootstrap=20).to_frame()
    assert {"accuracy", "smece"} <= set(d.index) and {"delta", "ci_low"} <= set(d.columns)
    score_id = query(path, "SELECT score_id FROM scores LIMIT 1")[0][0]
    assert len(s.questions(score_id)) == 4  # a score means its grading
    with pytest.raises(UsageError, match="not 'nope'"):
        s.questions(score_id, judge="nope")


def test_grade_can_score_in_the_same_command(tmp_path, mlflow_uri):
    path = tmp_path / "wb.duckdb"
    run_id = make_run(path, CAPS, TEXTS)
    done = CliRunner().invoke(app, ["grade", run_id, "--score", "--db", str(path),
                                    "--mlflow-uri", mlflow_uri])
    assert done.exit_code == 0, done.output
    assert "score scr_" in done.output and "smECE" in done.output


def test_tables_at_100_columns_keep_every_id_whole(store):
    """A listing too wide for the terminal is printed transposed (or as one block per row),
    never with an id cut or a number wrapped; one that fits stays a table."""
    import os
    import subprocess
    import sys

    path, runs, _ = store
    CLI = [sys.executable, "-c", "from workbench.cli import main; main()"]
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([*CLI, "runs", "--db", str(path)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "…" not in done.stdout  # nothing cut
    words = done.stdout.split()
    assert all(run_id in words for run_id in runs.values()), done.stdout
    assert "samples_per_question" in words and "0.750" in words  # headers and numbers whole
    # 3 (run, grading) rows fit transposed: a row per column, a column per listed row.
    assert any(line.split()[:2] == ["┃", "┃"] for line in lines) or "1 of 3" in done.stdout
    wide = subprocess.run([*CLI, "runs", "--db", str(path)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "250"})
    header = next(line for line in wide.stdout.splitlines() if "run_id" in line)
    assert "samples_per_question" in header  # wide enough: the plain table




def test_a_run_put_away_leaves_runs_and_doctor_and_comes_back(tmp_path, mlflow_uri):
    """`archive RUN`: `runs` hides it (--archived shows it, --status filters), `doctor` stops
    proposing to resume a FAILED run that was put away on purpose, nothing is deleted, and
    `archive --undo` brings it back. A RUNNING run is refused; a bad --status is one line."""
    from workbench.store import Writer, records

    path = tmp_path / "wb.duckdb"
    kept, dropped = make_run(path, CAPS, TEXTS, model="kept"), make_run(path, CAPS, TEXTS)
    with Writer(path) as w, w.transaction() as con:  # a run abandoned half-way
        con.execute("DELETE FROM samples WHERE run_id = ? AND question_id = 'fr'", [dropped])
        records.set_status(con, "runs", dropped, "FAILED")

    def cli(*args):
        res = CliRunner().invoke(app, [*args, "--db", str(path)], env={"COLUMNS": "200"})
        return res.exit_code, " ".join(res.output.split())

    assert f"workbench resume {dropped}" in cli("doctor")[1]
    assert cli("archive", dropped[:8], "--note", "wrong prompt") == (0, f"{dropped}: archived")
    listed = api.list_runs(db_path=path)
    assert [r["run_id"] for r in listed] == [kept]
    assert {r["run_id"] for r in api.list_runs(db_path=path, archived=True)} == {kept, dropped}
    assert [r["run_id"] for r in api.list_runs(db_path=path, status="failed",
                                               archived=True)] == [dropped]
    code, text = cli("runs", "--archived", "--format", "csv")
    assert code == 0 and "archived_at" in text and dropped in text
    assert "workbench resume" not in cli("doctor")[1]
    assert query(path, "SELECT count(*) FROM samples WHERE run_id = ?", [dropped]) == [(15,)]
    assert query(path, "SELECT archive_note FROM runs WHERE run_id = ?",
                 [dropped]) == [("wrong prompt",)]
    assert cli("archive", dropped, "--undo") == (0, f"{dropped}: back")
    assert {r["run_id"] for r in api.list_runs(db_path=path)} == {kept, dropped}

    code, text = cli("runs", "--status", "done")
    assert code == 1 and text.startswith("error: --status: 'done' is not one of")
    with Writer(path) as w, w.transaction() as con:
        records.set_status(con, "runs", kept, "RUNNING")
    code, text = cli("archive", kept)
    assert code == 1 and "RUNNING" in text
    assert query(path, "SELECT count(*) FROM runs WHERE archived_at IS NOT NULL") == [(0,)]
    code, text = CliRunner().invoke(app, ["archive", "run_x", "--db",
                                          str(tmp_path / "none.duckdb")]).exit_code, None
    assert code == 1 and not (tmp_path / "none.duckdb").exists()


def test_a_run_is_deleted_whole_and_a_cut_short_deletion_finishes_when_asked_again(
        tmp_path, mlflow_uri, monkeypatch):
    """`delete RUN`: refused while the run has gradings (naming --with-dependents); with it, every
    row of the run goes, in every table, and the other run stays whole. A deletion cut short
    (a fault between its levels) leaves the run archived, so doctor proposes nothing for it,
    and deleting again finishes."""
    from workbench.store import runs as stored_runs

    path = tmp_path / "wb.duckdb"
    kept, gone, cut = (make_run(path, CAPS, TEXTS, model=m) for m in ("kept", "gone", "cut"))
    for run in (kept, gone, cut):
        grading = api.grade(run, db_path=path, mlflow_uri=mlflow_uri)
        api.score(grading, n_bootstrap=20, floor_draws=0, db_path=path, mlflow_uri=mlflow_uri)
        api.ablate(grading, [1, 2], repeats=2, db_path=path, mlflow_uri=mlflow_uri)
    api.mirror(db_path=path, mlflow_uri=mlflow_uri)  # make_run's runs are not in MLflow
    tables = [t for level in stored_runs.DELETE_LEVELS for t, _ in level]

    def rows():
        return {t: query(path, f"SELECT count(*) FROM {t}")[0][0] for t in tables}

    before = rows()
    res = CliRunner().invoke(app, ["delete", gone, "--db", str(path)])
    said = " ".join(res.output.split())
    assert res.exit_code == 1 and said.startswith(f"error: --with-dependents: run {gone} has 1 "
                                                  "gradings, 1 scores, 1 ablations"), said
    assert rows() == before
    res = CliRunner().invoke(app, ["delete", gone[:8], "--with-dependents", "--db", str(path)])
    assert res.exit_code == 0 and res.output.strip() == f"{gone}: deleted"
    after = rows()
    assert all(after[t] * 3 == before[t] * 2 for t in tables), (before, after)

    calls = []
    real = stored_runs.delete_level

    def dies_at_level_2(con, level, run_id):
        calls.append(level)
        if len(calls) == 2:
            raise RuntimeError("killed mid-deletion")
        real(con, level, run_id)
    monkeypatch.setattr(stored_runs, "delete_level", dies_at_level_2)
    with pytest.raises(RuntimeError):
        api.delete([cut], with_dependents=True, db_path=path)
    monkeypatch.setattr(stored_runs, "delete_level", real)
    assert [r["run_id"] for r in api.list_runs(db_path=path)] == [kept]  # hidden meanwhile
    assert not any(f"resume {cut}" in str(f) for f in api.doctor(db_path=path))
    api.delete([cut], with_dependents=True, db_path=path)
    assert all(rows()[t] * 3 == before[t] for t in tables)
    assert [f.level for f in api.doctor(db_path=path)] == ["ok", "ok"]


def test_runs_names_the_gradings_when_a_judge_graded_a_run_twice(tmp_path, mlflow_uri):
    """Five gradings of one run by one judge (retries) were five identical rows in `runs`,
    nothing to tell them apart; the listing now carries each row's grading id then (and only
    then: one grading per judge needs none)."""
    path = tmp_path / "wb.duckdb"
    run = make_run(path, CAPS, TEXTS)
    first = api.grade(run, "contains", db_path=path, mlflow_uri=mlflow_uri)
    once = cli(path, "runs", "--format", "json")
    assert once.exit_code == 0 and "grading_id" not in json.loads(once.output)[0]
    second = api.grade(run, "contains", db_path=path, mlflow_uri=mlflow_uri)
    twice = cli(path, "runs", "--format", "json")
    assert [r["grading_id"] for r in json.loads(twice.output)] == [first, second]


def test_judges_compare_says_nothing_differs_in_a_line_not_an_empty_table(store):
    """A grading against itself: every list of differences is empty, and each is said in one
    line (an empty table with its borders was printed under its title)."""
    path, _, g = store
    res = cli(path, "judges", "compare", g["a", "exact"], g["a", "exact"])
    assert res.exit_code == 0, res.output
    lines = [ln.strip() for ln in res.output.splitlines()]
    assert "0 questions whose plurality answer they judge differently" in lines
    assert "0 answer classes judged differently (0 samples)" in lines
    assert not any(ch in res.output for ch in "┏┃└"), res.output

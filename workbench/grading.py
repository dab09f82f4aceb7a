"""Stage 2: extract answers, collapse them into semantic classes, judge each class once.

A grading reads stored samples and writes its own rows, keyed by a new grading id: grading again
with another judge adds a grading and never touches samples or earlier gradings.
"""

from __future__ import annotations

import json
import os
import socket
from collections import defaultdict
from pathlib import Path

from . import config, judges, store
from .cluster import assign_classes
from .extract import extract_answer
from .recovery import open_writer
from .tracking import Tracker, experiment_name, variant_tags

EXTRACTOR = "rules-v2"  # extract.py + cluster.py; bump when their behaviour changes


class GradingError(RuntimeError):
    pass


def grade(run_id: str, judge_name: str = "exact", *, db_path: Path | None = None,
          mlflow_uri: str | None = None) -> str:
    """Grade a finished run; returns the grading id. If this judge (same name and version)
    already graded the run and met errors, those are retried in place instead."""
    con, db_path, mlflow_uri = open_writer(db_path, mlflow_uri)
    try:
        judge = judges.get(judge_name, con)
        run = store.one(con, "runs", "run_id", run_id)
        if run["status"] != "FINISHED":
            why = f" ({run['error']})" if run["error"] else ""
            raise GradingError(f"run {run_id} is {run['status']}{why}, not FINISHED; "
                               f"`workbench resume {run_id}` finishes it")
        earlier = store.first(con, """
            SELECT g.grading_id FROM gradings g WHERE g.run_id = ? AND g.judge = ?
              AND g.judge_version = ? AND g.status = 'FINISHED'
              AND (EXISTS (SELECT 1 FROM class_grades c WHERE c.grading_id = g.grading_id
                           AND c.judge_error IS NOT NULL)
                   OR EXISTS (SELECT 1 FROM grading_errors e
                              WHERE e.grading_id = g.grading_id))
            ORDER BY g.created_at DESC LIMIT 1""", [run_id, judge.name, judge.version])
        if earlier:
            return _retry(con, run, judge, earlier[0])
        return _grade(con, db_path, mlflow_uri, run, judge)
    finally:
        con.close()


def _questions(con, run) -> tuple[dict, dict]:
    questions = {r["question_id"]: r for r in store.rows(con, """
        SELECT q.question_id, q.question, q.answers, q.answer_type FROM run_questions rq
        JOIN questions q ON q.dataset_id = ? AND q.question_id = rq.question_id
        WHERE rq.run_id = ? ORDER BY rq.position""", [run["dataset_id"], run["run_id"]])}
    texts: dict[str, list[str]] = defaultdict(list)
    for qid, text in con.execute("""SELECT question_id, text FROM samples WHERE run_id = ?
                                    ORDER BY question_id, sample_idx""",
                                 [run["run_id"]]).fetchall():
        texts[qid].append(text)
    return questions, texts


def _grade_questions(grading_id: str, judge, run, questions: dict, texts: dict):
    """Rows for the given questions: sample classes, class verdicts, extraction errors."""
    sample_rows, class_rows, errors = [], [], []
    for qid, q in questions.items():
        got = texts.get(qid, [])
        if judge.extracts:
            extracted, raw, error = judge.extract(q["question"], got)
            if extracted is None:
                errors.append(dict(grading_id=grading_id, question_id=qid, error=error,
                                   raw_output=raw))
                continue
        else:
            extracted = [extract_answer(t, run["style"]) for t in got]
        ids, canonical, keys = assign_classes(extracted, q["answer_type"])
        for i, (ans, cid) in enumerate(zip(extracted, ids)):
            sample_rows.append(dict(grading_id=grading_id, question_id=qid, sample_idx=i,
                                    extracted=ans, class_id=cid))
        counts = defaultdict(int)
        for cid in ids:
            if cid is not None:
                counts[cid] += 1
        for cid, form in canonical.items():
            class_rows.append(dict(grading_id=grading_id, question_id=qid, class_id=cid,
                                   canonical=form, class_key=keys[cid][0],
                                   member_keys=keys[cid], n_samples=counts[cid]))
    _judge_rows(judge, class_rows, questions)
    return sample_rows, class_rows, errors


def _judge_rows(judge, class_rows: list[dict], questions: dict) -> None:
    """Fill in each class row's verdict: one judge call per distinct (question, class)."""
    items = [dict(answer=r["canonical"], gold=tuple(questions[r["question_id"]]["answers"]),
                  answer_type=questions[r["question_id"]]["answer_type"],
                  keys=r["member_keys"], question=questions[r["question_id"]]["question"])
             for r in class_rows]
    for r, v in zip(class_rows, judge.judge_many(items)):
        r.update(correct=v.correct, judge_output=v.output, judge_error=v.error)


def _grade(con, db_path, mlflow_uri, run, judge) -> str:
    questions, texts = _questions(con, run)
    grading_id = store.new_id("grd")
    store.insert_rows(con, "gradings", [dict(
        grading_id=grading_id, run_id=run["run_id"], status="RUNNING",
        extractor="llm:" + judge.name if judge.extracts else EXTRACTOR,
        judge=judge.name, judge_version=judge.version, judge_config=json.dumps(judge.config()),
        pid=os.getpid(), host=socket.gethostname())])
    tracker = Tracker(mlflow_uri, config.artifacts_dir(db_path))
    dataset = store.dataset_name(con, run["dataset_id"])
    params = dict(stage="grade", grading_id=grading_id, run_id=run["run_id"],
                  model=run["model"], style=run["style"], dataset=dataset,
                  samples=run["samples_per_question"], judge=judge.name,
                  judge_version=judge.version,
                  extractor="llm" if judge.extracts else EXTRACTOR)
    try:
        with tracker.stage(experiment_name(dataset), f"grade {run['model']} {judge.name}", params,
                           {"workbench.grading_id": grading_id,
                            "workbench.run_id": run["run_id"],
                            "workbench.stage": "grade", "workbench.judge": judge.name,
                            **variant_tags(run, dataset)}) as ml:
            store.set_mlflow_run(con, "gradings", "grading_id", grading_id, ml.run_id)
            sample_rows, class_rows, errors = _grade_questions(grading_id, judge, run,
                                                               questions, texts)
            with store.transaction(con):
                store.insert_rows(con, "sample_classes", sample_rows)
                store.insert_rows(con, "class_grades", class_rows)
                store.insert_rows(con, "grading_errors", errors)
                _account(con, grading_id, judge, class_rows, errors)
            n_samples = len(sample_rows)
            n_answered = sum(r["class_id"] is not None for r in sample_rows)
            ml.log_metrics({
                "judge_calls": len(class_rows),
                "judge_calls_saved": n_answered - len(class_rows),
                "judge_errors": sum(r["judge_error"] is not None for r in class_rows),
                "extraction_errors": len(errors),
                "mean_classes_per_question": len(class_rows) / max(len(questions), 1),
                "no_answer_share": (n_samples - n_answered) / max(n_samples, 1),
                **_tokens(judge),
            })
        store.set_status(con, "gradings", "grading_id", grading_id, "FINISHED")
    except BaseException as exc:
        store.set_status(con, "gradings", "grading_id", grading_id, "FAILED", repr(exc)[:2000])
        raise
    return grading_id


def _retry(con, run, judge, grading_id: str) -> str:
    """Redo what failed in an earlier grading by this judge: questions whose answers could not
    be extracted, then verdicts that failed. Rows that succeeded are kept."""
    questions, texts = _questions(con, run)
    failed_q = [r[0] for r in con.execute("SELECT question_id FROM grading_errors "
                                          "WHERE grading_id = ?", [grading_id]).fetchall()]
    redo = {q: questions[q] for q in failed_q}
    sample_rows, class_rows, errors = _grade_questions(grading_id, judge, run, redo, texts)
    pending = store.rows(con, "SELECT * FROM class_grades WHERE grading_id = ? AND "
                              "judge_error IS NOT NULL", [grading_id])
    _judge_rows(judge, pending, questions)
    with store.transaction(con):
        con.execute("DELETE FROM grading_errors WHERE grading_id = ? AND "
                    "list_contains(?, question_id)", [grading_id, failed_q])
        store.insert_rows(con, "sample_classes", sample_rows)
        store.insert_rows(con, "class_grades", class_rows)
        store.insert_rows(con, "grading_errors", errors)
        for r in pending:
            con.execute("UPDATE class_grades SET correct = ?, judge_output = ?, judge_error = ? "
                        "WHERE grading_id = ? AND question_id = ? AND class_id = ?",
                        [r["correct"], r["judge_output"], r["judge_error"], grading_id,
                         r["question_id"], r["class_id"]])
        _account(con, grading_id, judge, class_rows + pending, errors)
    return grading_id


def _tokens(judge) -> dict:
    stats = getattr(getattr(judge, "client", None), "stats", None) or {}
    return {k: stats.get(k, 0) for k in ("prompt_tokens", "completion_tokens")}


def _account(con, grading_id, judge, class_rows, errors) -> None:
    t = _tokens(judge)
    con.execute("""UPDATE gradings SET judge_calls = coalesce(judge_calls, 0) + ?,
                   judge_errors = (SELECT count(*) FROM class_grades WHERE grading_id = ?
                                   AND judge_error IS NOT NULL) + ?,
                   prompt_tokens = coalesce(prompt_tokens, 0) + ?,
                   completion_tokens = coalesce(completion_tokens, 0) + ?
                   WHERE grading_id = ?""",
                [getattr(judge, "calls", len(class_rows)), grading_id, len(errors),
                 t["prompt_tokens"], t["completion_tokens"], grading_id])

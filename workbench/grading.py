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


def classify_question(texts: list[str], style: str, answer_type: str):
    """Pure: (extracted answer per sample, class id per sample, canonical per class, member keys
    per class)."""
    extracted = [extract_answer(t, style) for t in texts]
    ids, canonical, keys = assign_classes(extracted, answer_type)
    return extracted, ids, canonical, keys


def grade(run_id: str, judge_name: str = "exact", *, db_path: Path | None = None,
          mlflow_uri: str | None = None) -> str:
    """Grade a finished run; returns the new grading id."""
    judge = judges.get(judge_name)
    con, db_path, mlflow_uri = open_writer(db_path, mlflow_uri)
    try:
        run = store.one(con, "runs", "run_id", run_id)
        if run["status"] != "FINISHED":
            why = f" ({run['error']})" if run["error"] else ""
            raise GradingError(f"run {run_id} is {run['status']}{why}, not FINISHED; "
                               f"`workbench resume {run_id}` finishes it")
        return _grade(con, db_path, mlflow_uri, run, judge)
    finally:
        con.close()


def _grade(con, db_path, mlflow_uri, run, judge) -> str:
    questions = {r["question_id"]: r for r in store.rows(con, """
        SELECT q.question_id, q.answers, q.answer_type FROM run_questions rq
        JOIN questions q ON q.dataset_id = ? AND q.question_id = rq.question_id
        WHERE rq.run_id = ?""", [run["dataset_id"], run["run_id"]])}
    texts: dict[str, list[str]] = defaultdict(list)
    for qid, text in con.execute("""SELECT question_id, text FROM samples WHERE run_id = ?
                                    ORDER BY question_id, sample_idx""",
                                 [run["run_id"]]).fetchall():
        texts[qid].append(text)

    grading_id = store.new_id("grd")
    store.insert_rows(con, "gradings", [dict(
        grading_id=grading_id, run_id=run["run_id"], status="RUNNING", extractor=EXTRACTOR,
        judge=judge.name, judge_version=judge.version, judge_config=json.dumps(judge.config()),
        pid=os.getpid(), host=socket.gethostname())])
    tracker = Tracker(mlflow_uri, config.artifacts_dir(db_path))
    dataset = store.dataset_name(con, run["dataset_id"])
    params = dict(stage="grade", grading_id=grading_id, run_id=run["run_id"],
                  model=run["model"], style=run["style"], dataset=dataset,
                  samples=run["samples_per_question"], judge=judge.name,
                  judge_version=judge.version, extractor=EXTRACTOR)
    try:
        with tracker.stage(experiment_name(dataset), f"grade {run['model']} {judge.name}", params,
                           {"workbench.grading_id": grading_id,
                            "workbench.run_id": run["run_id"],
                            "workbench.stage": "grade", "workbench.judge": judge.name,
                            **variant_tags(run, dataset)}) as ml:
            store.set_mlflow_run(con, "gradings", "grading_id", grading_id, ml.run_id)
            sample_rows, class_rows = [], []
            for qid, q in questions.items():
                extracted, ids, canonical, keys = classify_question(
                    texts.get(qid, []), run["style"], q["answer_type"])
                for i, (ans, cid) in enumerate(zip(extracted, ids)):
                    sample_rows.append(dict(grading_id=grading_id, question_id=qid,
                                            sample_idx=i, extracted=ans, class_id=cid))
                counts = defaultdict(int)
                for cid in ids:
                    if cid is not None:
                        counts[cid] += 1
                for cid, form in canonical.items():
                    verdict = judge.judge(form, tuple(q["answers"]), q["answer_type"], keys[cid])
                    class_rows.append(dict(
                        grading_id=grading_id, question_id=qid, class_id=cid, canonical=form,
                        class_key=keys[cid][0], member_keys=keys[cid], n_samples=counts[cid], correct=verdict.correct,
                        judge_output=verdict.output))
            with store.transaction(con):
                store.insert_rows(con, "sample_classes", sample_rows)
                store.insert_rows(con, "class_grades", class_rows)
            n_samples = len(sample_rows)
            n_answered = sum(r["class_id"] is not None for r in sample_rows)
            ml.log_metrics({
                "judge_calls": len(class_rows),
                "judge_calls_saved": n_answered - len(class_rows),
                "mean_classes_per_question": len(class_rows) / max(len(questions), 1),
                "no_answer_share": (n_samples - n_answered) / max(n_samples, 1),
            })
        store.set_status(con, "gradings", "grading_id", grading_id, "FINISHED")
    except BaseException as exc:
        store.set_status(con, "gradings", "grading_id", grading_id, "FAILED", repr(exc)[:2000])
        raise
    return grading_id

"""A grading's rows from sample texts: each sample's extracted answer and class, each distinct
(question, class) judged once. No store: the grade stage writes these rows, a preview prints
them."""

from __future__ import annotations

from collections import Counter

from .classes import assign_classes
from .extract import extract_answer
from .judges import Judge, JudgeItem
from .judges.base import Progress


def grade_questions(grading_id: str, judge: Judge, style: str, questions: dict, texts: dict,
                    progress: Progress | None = None):
    """Rows for the given questions: sample classes, class verdicts, extraction errors;
    ``progress(classes judged, classes)`` as the verdicts come in."""
    sample_rows, class_rows, errors = [], [], []
    for qid, q in questions.items():
        got = texts.get(qid, [])
        if judge.extracts:
            extracted, raw, error = judge.extract(q["question"], [t for t, _ in got])
            if extracted is None:
                errors.append(dict(grading_id=grading_id, question_id=qid, error=error,
                                   raw_output=raw))
                continue
        else:
            extracted = [extract_answer(t, style, q["question"], finish, q["answer_type"])
                         for t, finish in got]
        ids, canonical, keys = assign_classes(extracted, q["answer_type"], q["groups"])
        for i, (ans, cid) in enumerate(zip(extracted, ids)):
            sample_rows.append(dict(grading_id=grading_id, question_id=qid, sample_idx=i,
                                    extracted=ans, class_id=cid))
        counts = Counter(cid for cid in ids if cid is not None)
        for cid, form in canonical.items():
            class_rows.append(dict(grading_id=grading_id, question_id=qid, class_id=cid,
                                   canonical=form, class_key=keys[cid][0],
                                   member_keys=keys[cid], n_samples=counts[cid]))
    judge_rows(judge, class_rows, questions, progress)
    return sample_rows, class_rows, errors


def judge_rows(judge: Judge, class_rows: list[dict], questions: dict,
               progress: Progress | None = None) -> None:
    """Fill in each class row's verdict: one judge call per distinct (question, class)."""
    items = [JudgeItem(questions[r["question_id"]]["question"], r["canonical"],
                       tuple(questions[r["question_id"]]["answers"]),
                       questions[r["question_id"]]["answer_type"], tuple(r["member_keys"]),
                       questions[r["question_id"]]["groups"])
             for r in class_rows]
    for r, v in zip(class_rows, judge.judge_many(items, progress)):
        r.update(correct=v.correct, judge_output=v.output, judge_error=v.error, p_yes=v.p_yes,
                 verdict_mass=v.mass, verdict_method=v.method)

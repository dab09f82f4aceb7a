"""Stage 2: extract answers, collapse them into semantic classes, judge each class once.

A grading reads stored samples and writes its own rows, keyed by a new grading id: grading again
with another judge adds a grading and never touches samples or earlier gradings. Grading again
with a judge version that met errors (an LLM judge's failed calls) retries those, in place.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import config
from ..errors import StageError
from ..grading import judges
from ..grading.classes import MAP_VERSION
from ..grading.judges import Judge
from ..grading.rows import grade_questions, judge_rows
from ..lifecycle.artifacts import SAMPLES_SHOWN, write_table
from ..lifecycle.context import Context, check_writable, open_context, stage
from ..lifecycle.resolve import expand
from ..store import queries, records, verdicts


def grade(run_id: str, judge_name: str = "exact", *, db_path: Path | None = None,
          mlflow_uri: str | None = None, progress=None) -> str:
    """Grade a finished run; returns the grading id. If this judge (same name and version)
    already graded the run and met errors, those are retried in place instead.
    ``progress(classes judged, classes)`` as the verdicts come in."""
    check_writable(db_path, mlflow_uri, existing=True)
    with open_context(db_path, mlflow_uri) as ctx:
        with ctx.writer.session() as con:
            judge = judges.get(judge_name, queries.judge_record(con, judge_name))
            _, run_id = expand(con, run_id, ("runs",))
            run = queries.one(con, "run", run_id)
            if run["status"] != "FINISHED":
                why = f" ({run['error']})" if run["error"] else ""
                raise StageError(f"run {run_id} is {run['status']}{why}, not FINISHED; "
                                 f"`workbench resume {run_id}` finishes it")
            earlier = queries.grading_to_retry(con, run_id, judge.name, judge.version,
                                               MAP_VERSION)
            questions = queries.run_questions(con, run)
            texts = queries.sample_texts(con, run_id)
        if earlier:
            return _retry(ctx, run, judge, earlier, questions, texts, progress)
        return _grade(ctx, run, judge, questions, texts, progress)


def _grade(ctx: Context, run: dict, judge: Judge, questions: dict, texts: dict,
           progress=None) -> str:
    grading_id = records.new_id("grd")
    with ctx.writer.session() as con:
        records.create_grading(con, dict(
            grading_id=grading_id, run_id=run["run_id"],
            extractor=f"llm:{judge.name}+{MAP_VERSION}" if judge.extracts else MAP_VERSION,
            judge=judge.name, judge_version=judge.version, judge_config=judge.config()))
    with stage(ctx, "gradings", grading_id):
        sample_rows, class_rows, errors = grade_questions(grading_id, judge, run["style"],
                                                          questions, texts, progress)
        n_samples = len(sample_rows)
        n_answered = sum(r["class_id"] is not None for r in sample_rows)
        usage = judge.usage()
        with ctx.writer.transaction() as con:
            records.write_grading(con, sample_rows, class_rows, errors)
            records.account_grading(con, grading_id, usage, len(errors))
            records.set_stats(con, "gradings", grading_id, {
                "judge_calls": len(class_rows),
                "judge_calls_saved": n_answered - len(class_rows),
                "judge_errors": sum(r["judge_error"] is not None for r in class_rows),
                "extraction_errors": len(errors),
                "mean_classes_per_question": len(class_rows) / max(len(questions), 1),
                "no_answer_share": (n_samples - n_answered) / max(n_samples, 1),
                "prompt_tokens": usage["prompt_tokens"],
                "completion_tokens": usage["completion_tokens"],
            })
        _write_samples(ctx, grading_id)
    return grading_id


def _write_samples(ctx: Context, grading_id: str) -> None:
    """The grading's samples with their answers, classes and verdicts, as a table MLflow shows
    (the first ``SAMPLES_SHOWN``; the store holds every one, in the view ``sample_grades``)."""
    with ctx.writer.session() as con:
        columns, rows = queries.grading_samples(con, grading_id, SAMPLES_SHOWN)
    write_table(config.stage_dir(ctx.artifacts, "gradings", grading_id) / "samples.json",
                columns, rows)


def _retry(ctx: Context, run: dict, judge: Judge, grading_id: str, questions: dict,
           texts: dict, progress=None) -> str:
    """Redo what failed in an earlier grading by this judge: questions whose answers could not
    be extracted, then verdicts that failed. Rows that succeeded are kept."""
    with ctx.writer.session() as con:
        failed_q = verdicts.failed_extractions(con, grading_id)
        pending = verdicts.failed_verdicts(con, grading_id)
    redo = {q: questions[q] for q in failed_q}
    sample_rows, class_rows, errors = grade_questions(grading_id, judge, run["style"], redo,
                                                      texts, progress)
    judge_rows(judge, pending, questions, progress)
    with ctx.writer.transaction() as con:
        records.clear_grading_errors(con, grading_id, failed_q)
        records.write_grading(con, sample_rows, class_rows, errors)
        records.update_verdicts(con, grading_id, pending)
        records.account_grading(con, grading_id, judge.usage(), len(errors))
        grading = queries.one(con, "grading", grading_id)
        stats = json.loads(grading["stats"] or "{}")
        records.set_stats(con, "gradings", grading_id, {
            **stats, "judge_errors": grading["judge_errors"] - len(errors),
            "extraction_errors": len(errors)})
        records.set_mirrored(con, "gradings", grading_id, None, "RETRIED")  # to sync again
        if failed_q or pending:  # its scores read verdicts that changed: stale from now
            records.mark_revised(con, grading_id)
    _write_samples(ctx, grading_id)
    ctx.mirror.sync(ctx.writer, "gradings", grading_id)
    return grading_id

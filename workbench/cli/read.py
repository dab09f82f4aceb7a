"""Read commands: runs, datasets, show, sql, doctor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from ..render.console import fmt_estimate, fmt_floor, write_rows
from .app import app
from .common import (
    DbOpt,
    Format,
    FormatOpt,
    GradedByOpt,
    MlflowOpt,
    OldJudgeOpt,
    api,
    err,
    friendly,
    out,
    renamed,
)


@app.command()
@friendly(judge="--graded-by")
def runs(graded_by: Optional[str] = typer.Option(None, "--graded-by", help="only gradings by this "
                                                 "judge (and runs not graded yet)",
                                                 show_default="every judge"),
         judge: Optional[str] = OldJudgeOpt,
         status: Optional[str] = typer.Option(None, "--status", help="only runs in this "
                                              "state: RUNNING | FINISHED | FAILED"),
         archived: bool = typer.Option(False, "--archived", help="list archived runs too "
                                       "(`workbench archive`)"),
         fmt: Format = FormatOpt, db: Optional[Path] = DbOpt):
    """List stored runs, once per grading, with that grading's newest score."""
    judge = renamed(graded_by, judge, "--judge", "--graded-by")
    found = api.list_runs(db_path=db, judge=judge, status=status, archived=archived)
    pairs = [(r["run_id"], r["judge"]) for r in found]
    again = len(set(pairs)) < len(pairs)  # a judge graded a run twice: the rows need their ids
    cols = ["run_id", "status", "model", "model_kind", "style", "dataset", "n_questions",
            "samples_per_question", "stored_samples", "judge", *(["grading_id"] if again else []),
            "accuracy", "smece", *(["archived_at"] if archived else [])]
    if any(r["score_stale"] for r in found):  # a grading revised after its score
        cols.append("score_stale")
    write_rows(out, cols, [[r[c] for c in cols] for r in found], fmt)


@app.command()
@friendly
def archive(run_ids: list[str] = typer.Argument(..., metavar="RUN...",
                                                help="run ids or prefixes"),
            note: Optional[str] = typer.Option(None, "--note", help="why, kept with the run"),
            undo: bool = typer.Option(False, "--undo", help="bring archived runs back"),
            db: Optional[Path] = DbOpt):
    """Put runs away, or back with --undo (nothing is deleted).

    `runs` lists an archived run only with --archived, and `doctor` no longer proposes to
    resume it."""
    for run_id in api.archive(run_ids, note=note, undo=undo, db_path=db):
        out.print(f"{run_id}: {'back' if undo else 'archived'}", highlight=False)


@app.command()
@friendly(judge="--graded-by")
def questions(item: str = typer.Argument(..., help="grading, score or run id, or a prefix"),
              graded_by: Optional[str] = GradedByOpt, judge: Optional[str] = OldJudgeOpt,
              wrong: bool = typer.Option(False, "--wrong", help="only questions answered wrong"),
              sort: str = typer.Option("question", "--sort",
                                       help="question | confidence | classes"),
              limit: Optional[int] = typer.Option(None, "--limit", help="at most this many rows",
                                                  show_default="all"),
              fmt: Format = FormatOpt, db: Optional[Path] = DbOpt):
    """One grading's questions: the answer (plurality class), its confidence and verdict."""
    judge = renamed(graded_by, judge, "--judge", "--graded-by")
    cols = ["question_id", "question", "answer", "confidence", "n_classes", "correct"]
    found = api.questions(item, judge, wrong=wrong, sort=sort, limit=limit, db_path=db)
    write_rows(out, cols, [[r[c] for c in cols] for r in found], fmt)


@app.command()
@friendly(judge="--graded-by")
def samples(item: str = typer.Argument(..., help="grading, score or run id, or a prefix"),
            question: str = typer.Argument(..., help="question id"),
            graded_by: Optional[str] = GradedByOpt, judge: Optional[str] = OldJudgeOpt,
            fmt: Format = FormatOpt, db: Optional[Path] = DbOpt):
    """One question's raw samples with the answer extracted, its class and the verdict."""
    judge = renamed(graded_by, judge, "--judge", "--graded-by")
    found = api.samples(item, question, judge, db_path=db)
    if fmt == "table":
        err.print(f"grading {found['grading_id']} (run {found['run_id']}, judge "
                  f"{found['judge']}), question {question}", highlight=False)
    cols = ["sample_idx", "answer", "class_id", "canonical", "correct", "finish_reason", "text"]
    write_rows(out, cols, [[r[c] for c in cols] for r in found["samples"]], fmt)


@app.command("datasets")
@friendly
def datasets_cmd(fmt: Format = FormatOpt, db: Optional[Path] = DbOpt):
    """List the datasets stored (one per content hash) and how many runs asked each."""
    cols = ["dataset_id", "name", "n_questions", "n_fewshot", "content_hash", "runs", "source"]
    write_rows(out, cols, [[r[c] for c in cols] for r in api.list_datasets(db_path=db)], fmt)


@app.command()
@friendly
def show(item_id: str = typer.Argument(..., help="an id or an unambiguous prefix"),
         fmt: Format = typer.Option(Format.json, "--format", help="how it is printed (table and "
                                    "csv: one row per field, nested fields as JSON)"),
         db: Optional[Path] = DbOpt):
    """Show a run, grading, score, ablation or tuning by id (or an unambiguous prefix)."""
    info = api.show(item_id, db_path=db)
    if "metrics" in info:
        info = {**info, "metrics": {k: fmt_estimate(v) + (f"; floor {fmt_floor(v)}"
                                                           if v.floor_mean is not None else "")
                                    for k, v in info["metrics"].items()}}
    if fmt == Format.json:
        out.print_json(json.dumps(info, default=str))
        return
    flat = [[k, v if isinstance(v, (str, int, float, type(None))) else json.dumps(v, default=str)]
            for k, v in info.items()]
    write_rows(out, ["field", "value"], flat, fmt)


@app.command()
@friendly
def sql(query: Optional[str] = typer.Argument(None, help="SQL to run; ? marks a bound "
                                                   "parameter"),
        view: Optional[str] = typer.Option(None, "--view", help="run a named view; "
                                           "`--view list` lists them"),
        param: list[str] = typer.Option([], "--param", "-p",
                                        help="a value for the next ?, bound (never pasted)"),
        write: bool = typer.Option(False, "--write", help="allow writes to the store "
                                   "(default: read-only)"),
        files: list[Path] = typer.Option([], "--files", help="a directory the query may read "
                                         "and write files in (COPY, read_csv, ...); repeatable"),
        timeout: float = typer.Option(300.0, "--timeout", help="seconds the query may run "
                                      "before it is interrupted"),
        limit: int = typer.Option(10_000, "--limit", help="rows printed at most (0: all; for "
                                  "large results write a file with --files and COPY)"),
        fmt: Format = FormatOpt,
        db: Optional[Path] = DbOpt):
    """Run SQL on the store, read-only unless --write; no file but the store unless --files."""
    from ..store import views  # DuckDB: only when the store is read

    named = views()
    if view == "list" or (query is None and view is None):
        for name, about in named.items():
            out.print(f"[bold]{name}[/]: {about}", highlight=False)
        return
    if view is not None:
        if view not in named:
            raise UsageError("view", f"{view!r}: no such view; known: {', '.join(named)}")
        query = f"SELECT * FROM {view}"
    if limit < 0:
        raise UsageError("limit", f"must be ≥ 0 (0: all), got {limit}")
    cols, rows = api.query(query, list(param), write=write, files=files, timeout=timeout,
                           limit=limit or None, db_path=db)
    if limit and len(rows) > limit:
        rows = rows[:limit]
        err.print(f"note: showing the first {limit:,} rows; --limit 0 prints them all",
                  highlight=False)
    write_rows(out, cols, rows, fmt)


@app.command()
@friendly
def doctor(fix: bool = typer.Option(False, "--fix", help="mark stages stuck RUNNING as FAILED"),
           db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Check the store: schema, stuck stages, samples versus plan, orphan rows."""
    findings = api.doctor(fix=fix, db_path=db, mlflow_uri=mlflow_uri)
    style = {"ok": "green", "fixed": "cyan", "warn": "yellow", "error": "red"}
    for f in findings:
        out.print(f"[{style[f.level]}]{f.level:5}[/] {f.what}" + (f"\n      → {f.fix}"
                                                                  if f.fix else ""),
                  highlight=False)
    if any(f.level == "error" for f in findings):
        raise typer.Exit(1)


@app.command()
@friendly
def mirror(db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Copy to MLflow the stages recorded while it was unreachable (running it twice is safe)."""
    done = api.mirror(db_path=db, mlflow_uri=mlflow_uri)
    failed = [f"{t[:-1]} {i}" for t, i, ok in done if not ok]
    out.print(f"mirrored {len(done) - len(failed)} stage(s)"
              + (f"; {len(failed)} still pending: {', '.join(failed)}" if failed else ""))
    if failed:
        raise typer.Exit(1)


@app.command()
@friendly(with_dependents="--with-dependents")
def delete(run_ids: list[str] = typer.Argument(..., metavar="RUN...",
                                               help="run ids or prefixes"),
           with_dependents: bool = typer.Option(False, "--with-dependents",
                                                help="delete the runs' gradings, scores and "
                                                "ablations too"),
           db: Optional[Path] = DbOpt):
    """Delete runs and their samples from the store (refused while they have gradings unless
    --with-dependents; `archive` hides a run instead)."""
    for run_id in api.delete(run_ids, with_dependents=with_dependents, db_path=db):
        out.print(f"{run_id}: deleted", highlight=False)

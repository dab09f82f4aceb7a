"""The `workbench` command: option parsing over `workbench.api`, and nothing more."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from functools import wraps
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import api, config
from .datasets import DatasetError
from .db import StoreError
from .generation import ResumeError
from .grading import GradingError
from .judges import UnknownJudge
from .models import ModelError
from .report import fmt_estimate, metrics_table
from .scoring import ScoringError
from .store import NotFound

app = typer.Typer(help="Measure whether a language model knows what it knows: sample, grade, "
                       "score semantic calibration.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
# Piped output (logs, CI, `| less`) gets wide tables instead of rich's 80-column default.
_WIDTH = int(os.environ.get("COLUMNS", 0)) or (None if sys.stdout.isatty() else 180)
out = Console(width=_WIDTH)
err = Console(stderr=True, width=_WIDTH)

DbOpt = typer.Option(None, "--db", envvar="WORKBENCH_DB",
                     help="DuckDB store [default: runs/workbench.duckdb]")
MlflowOpt = typer.Option(None, "--mlflow-uri", envvar="WORKBENCH_MLFLOW_URI",
                         help="MLflow tracking URI [default: sqlite:///<db folder>/mlflow.db]")
USER_ERRORS = (DatasetError, ModelError, StoreError, NotFound, UnknownJudge, GradingError,
               ScoringError, ResumeError, ValueError, api.QueryError)


def friendly(fn):
    """Known errors become one clear line on stderr and exit status 1."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
            raise typer.Exit(1) from None
    return wrapper


def _request(model, dataset, style, samples, shots, temperature, top_p, top_k, max_new_tokens,
             seed, prompt_format, kind, skip_bad_rows, batch_questions, resume, dtype
             ) -> api.GenerateRequest:
    return api.GenerateRequest(model=model, dataset=dataset, style=style, samples=samples,
                               shots=shots, temperature=temperature, top_p=top_p, top_k=top_k,
                               max_new_tokens=max_new_tokens, seed=seed,
                               prompt_format=prompt_format, kind=kind,
                               skip_bad_rows=skip_bad_rows, chunk_size=batch_questions,
                               resume=resume, dtype=dtype)


class _Sampling:
    """Live progress: a bar on a terminal, a plain line per committed chunk elsewhere (logs)."""

    def __enter__(self):
        self.bar = None
        if err.is_terminal:
            self.bar = Progress(TextColumn("sampling"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("questions"), TimeElapsedColumn(), console=err)
            self.bar.__enter__()
            self.task = self.bar.add_task("sampling", total=None)
        return self

    def __call__(self, done: int, total: int):
        if self.bar:
            self.bar.update(self.task, completed=done, total=total)
        else:
            print(f"sampled {done}/{total} questions", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self.bar:
            self.bar.__exit__(*exc)


# Shared generation options, declared once.
ModelOpt = typer.Option(..., "--model", help="bundled name (gemma-3-270m, "
                        "smollm2-135m-instruct), local folder or hub id")
DatasetOpt = typer.Option(..., "--dataset", help="bundled:capitals, bundled:arithmetic or a "
                          ".jsonl/.csv/.parquet file; @N takes a seeded sample of N")
StyleOpt = typer.Option("concise", "--style", help="concise | sentence | cot")
SamplesOpt = typer.Option(20, "--samples", "-m", help="samples per question (M)")
ShotsOpt = typer.Option(None, "--shots", help="exemplars [default: 5 for base, 0 for chat]")
TempOpt = typer.Option(1.0, "--temperature")
TopPOpt = typer.Option(1.0, "--top-p")
TopKOpt = typer.Option(0, "--top-k", help="0 = no top-k")
MaxTokOpt = typer.Option(None, "--max-new-tokens",
                         help="[default: 16 concise, 40 sentence, 160 cot]")
SeedOpt = typer.Option(0, "--seed")
FormatOpt = typer.Option(None, "--prompt-format", help="completion | chat [default: inferred]")
KindOpt = typer.Option(None, "--kind", help="base | sft | rl | reasoning [default: inferred]")
SkipOpt = typer.Option(False, "--skip-bad-rows", help="run the dataset's good rows only")
BatchOpt = typer.Option(8, "--batch-questions",
                        help="questions sampled and committed together")
DtypeOpt = typer.Option("float32", "--dtype", help="float32 (the checkpoint as converted) | "
                        "bfloat16 (faster on CPUs with bf16 units; rounds weights)")
ResumeOpt = typer.Option(False, "--resume", help="finish the newest unfinished run with the "
                         "same settings instead of starting a new one")


@app.command()
@friendly
def generate(model: str = ModelOpt, dataset: str = DatasetOpt, style: str = StyleOpt,
             samples: int = SamplesOpt, shots: Optional[int] = ShotsOpt,
             temperature: float = TempOpt, top_p: float = TopPOpt, top_k: int = TopKOpt,
             max_new_tokens: Optional[int] = MaxTokOpt, seed: int = SeedOpt,
             prompt_format: Optional[str] = FormatOpt, kind: Optional[str] = KindOpt,
             skip_bad_rows: bool = SkipOpt, batch_questions: int = BatchOpt,
             resume: bool = ResumeOpt, dtype: str = DtypeOpt, db: Optional[Path] = DbOpt,
             mlflow_uri: Optional[str] = MlflowOpt):
    """Stage 1: sample M answers per question; prints the run id."""
    req = _request(model, dataset, style, samples, shots, temperature, top_p, top_k,
                   max_new_tokens, seed, prompt_format, kind, skip_bad_rows, batch_questions,
                   resume, dtype)
    with _Sampling() as progress:
        run_id = api.generate(req, db_path=db, mlflow_uri=mlflow_uri, progress=progress,
                              log=lambda s: err.print(s))
    out.print(run_id)


@app.command("resume")
@friendly
def resume_cmd(run_id: str, db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Finish a run that stopped part-way: samples only what is missing."""
    with _Sampling() as progress:
        api.resume(run_id, db_path=db, mlflow_uri=mlflow_uri, progress=progress,
                   log=lambda s: err.print(s))
    out.print(run_id)


@app.command()
@friendly
def grade(run_id: str, judge: str = typer.Option("exact", "--judge", help="exact | contains"),
          db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Stage 2: answers → semantic classes → verdicts; prints the grading id."""
    out.print(api.grade(run_id, judge, db_path=db, mlflow_uri=mlflow_uri))


def _print_metrics(score_id: str, db: Optional[Path]):
    info = api.show(score_id, db_path=db)
    s = info["score"]
    out.print(metrics_table([({"score": score_id}, info["metrics"])]))
    out.print(f"{s['n_questions']} questions scored, {s['n_excluded']} left out (no verdict); "
              f"reliability diagram: {s['diagram_path']}")


@app.command()
@friendly
def score(grading_id: str,
          bootstrap: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples"),
          seed: int = SeedOpt, bins: int = typer.Option(15, "--bins", help="ECE bins"),
          db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Stage 3: calibration metrics with bootstrap intervals and a reliability diagram."""
    score_id = api.score(grading_id, n_bootstrap=bootstrap, seed=seed, bins=bins, db_path=db,
                         mlflow_uri=mlflow_uri)
    out.print(score_id)
    _print_metrics(score_id, db)


@app.command("run")
@friendly
def run_cmd(model: str = ModelOpt, dataset: str = DatasetOpt, style: str = StyleOpt,
            samples: int = SamplesOpt, shots: Optional[int] = ShotsOpt,
            temperature: float = TempOpt, top_p: float = TopPOpt, top_k: int = TopKOpt,
            max_new_tokens: Optional[int] = MaxTokOpt, seed: int = SeedOpt,
            prompt_format: Optional[str] = FormatOpt, kind: Optional[str] = KindOpt,
            skip_bad_rows: bool = SkipOpt, batch_questions: int = BatchOpt,
            resume: bool = ResumeOpt, dtype: str = DtypeOpt,
            judge: str = typer.Option("exact", "--judge"),
            bootstrap: int = typer.Option(1000, "--bootstrap"),
            db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """generate → grade → score in one go."""
    req = _request(model, dataset, style, samples, shots, temperature, top_p, top_k,
                   max_new_tokens, seed, prompt_format, kind, skip_bad_rows, batch_questions,
                   resume, dtype)
    with _Sampling() as progress:
        res = api.run_all(req, judge, n_bootstrap=bootstrap, db_path=db, mlflow_uri=mlflow_uri,
                          progress=progress, log=lambda s: err.print(s))
    out.print(f"run {res.run_id}  grading {res.grading_id}  score {res.score_id}")
    _print_metrics(res.score_id, db)


@app.command()
@friendly
def runs(db: Optional[Path] = DbOpt):
    """List stored runs with their newest scores."""
    table = Table()
    cols = ["run_id", "status", "model", "model_kind", "style", "dataset", "n_questions", "m",
            "stored_samples", "accuracy", "smece"]
    for c in cols:
        table.add_column(c)
    for r in api.list_runs(db_path=db):
        table.add_row(*[f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols])
    out.print(table)


@app.command()
@friendly
def show(item_id: str, db: Optional[Path] = DbOpt):
    """Show a run, grading or score by id."""
    info = api.show(item_id, db_path=db)
    if "metrics" in info:
        info = {**info, "metrics": {k: fmt_estimate(v) for k, v in info["metrics"].items()}}
    out.print_json(json.dumps(info, default=str))


@app.command()
@friendly
def sql(query: str = typer.Argument(..., help="SQL to run; ? marks a bound parameter"),
        param: list[str] = typer.Option([], "--param", "-p",
                                        help="a value for the next ?, bound (never pasted)"),
        write: bool = typer.Option(False, "--write", help="allow writes (default: read-only)"),
        fmt: str = typer.Option("table", "--format", help="table | csv | json"),
        db: Optional[Path] = DbOpt):
    """Run SQL on the store, read-only unless --write."""
    cols, rows = api.query(query, list(param), write=write, db_path=db)
    if fmt == "json":
        out.print_json(json.dumps([dict(zip(cols, r)) for r in rows], default=str))
    elif fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)
    else:
        table = Table()
        for c in cols:
            table.add_column(c)
        for r in rows:
            table.add_row(*[str(v) for v in r])
        out.print(table)


@app.command()
@friendly
def doctor(fix: bool = typer.Option(False, "--fix", help="mark stages stuck RUNNING as FAILED"),
           db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Check the store: schema, stuck stages, samples versus plan, orphan rows."""
    findings = api.doctor(fix=fix, db_path=db, mlflow_uri=mlflow_uri)
    style = {"ok": "green", "warn": "yellow", "error": "red"}
    for f in findings:
        out.print(f"[{style[f.level]}]{f.level:5}[/] {f.what}" + (f"\n      → {f.fix}"
                                                                  if f.fix else ""),
                  highlight=False)
    if any(f.level == "error" for f in findings):
        raise typer.Exit(1)


@app.command()
@friendly
def ui(port: int = typer.Option(5000, "--port"), db: Optional[Path] = DbOpt,
       mlflow_uri: Optional[str] = MlflowOpt):
    """Open the MLflow UI on 127.0.0.1 over the store's MLflow runs."""
    path = config.db_path(db)
    uri = config.mlflow_uri(path, mlflow_uri)
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
           "--host", "127.0.0.1", "--port", str(port)]
    err.print(f"MLflow UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(cmd, env={**os.environ}))


@app.command()
@friendly
def demo(questions: int = typer.Option(40, "--questions", help="questions per dataset"),
         samples: int = typer.Option(10, "--samples", "-m"),
         cot_tokens: int = typer.Option(64, "--cot-tokens", help="CoT token budget"),
         bootstrap: int = typer.Option(500, "--bootstrap"),
         db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """The offline demo: bundled base vs instruct model, concise vs CoT, both bundled sets."""
    from .demo import DemoPlan, run_demo

    run_demo(DemoPlan(questions, samples, cot_tokens, bootstrap), db_path=db,
             mlflow_uri=mlflow_uri, console=out)


def main():  # pragma: no cover - the console script
    # A polite stop (SIGTERM) unwinds like Ctrl-C, so the stage is marked FAILED, not left RUNNING.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

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
from .generation import ResumeError, SamplingFailed
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
               ScoringError, ResumeError, SamplingFailed, ValueError,
               api.QueryError)  # CompareError is a ValueError


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
             seed, prompt_format, kind, skip_bad_rows, batch_questions, resume, dtype,
             remote: dict) -> api.GenerateRequest:
    return api.GenerateRequest(model=model, dataset=dataset, style=style, samples=samples,
                               shots=shots, temperature=temperature, top_p=top_p, top_k=top_k,
                               max_new_tokens=max_new_tokens, seed=seed,
                               prompt_format=prompt_format, kind=kind,
                               skip_bad_rows=skip_bad_rows, chunk_size=batch_questions,
                               resume=resume, dtype=dtype, **remote)


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
DatasetOpt = typer.Option(..., "--dataset", help="bundled:capitals, bundled:arithmetic, "
                          "gsm8k|triviaqa|simpleqa|openmathinstruct2|math500|truthfulqa[:split] "
                          "(NAME=FILE for a local copy), or a .jsonl/.csv/.parquet file; @N takes "
                          "a seeded sample of N")
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
BackendOpt = typer.Option("transformers", "--backend", help="transformers (local) | openai "
                          "(any OpenAI-compatible server: vLLM, llama.cpp, workbench serve)")
BaseUrlOpt = typer.Option(None, "--base-url", help="openai: the server's /v1 address")
KeyEnvOpt = typer.Option("OPENAI_API_KEY", "--api-key-env",
                         help="openai: the environment variable holding the key")
EndpointOpt = typer.Option(None, "--endpoint", help="openai: chat | completions [default: chat "
                           "for chat models, completions for base models]")
ConcurrencyOpt = typer.Option(4, "--concurrency", help="openai: requests in flight")
TimeoutOpt = typer.Option(60.0, "--timeout", help="openai: seconds per request")
RetriesOpt = typer.Option(5, "--max-retries", help="openai: retries on 429, 5xx and timeouts")
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
             resume: bool = ResumeOpt, dtype: str = DtypeOpt,
             backend: str = BackendOpt, base_url: Optional[str] = BaseUrlOpt,
             api_key_env: str = KeyEnvOpt, endpoint: Optional[str] = EndpointOpt,
             concurrency: int = ConcurrencyOpt, timeout: float = TimeoutOpt,
             max_retries: int = RetriesOpt, db: Optional[Path] = DbOpt,
             mlflow_uri: Optional[str] = MlflowOpt):
    """Stage 1: sample M answers per question; prints the run id."""
    req = _request(model, dataset, style, samples, shots, temperature, top_p, top_k,
                   max_new_tokens, seed, prompt_format, kind, skip_bad_rows, batch_questions,
                   resume, dtype, dict(backend=backend, base_url=base_url,
                                       api_key_env=api_key_env, endpoint=endpoint,
                                       concurrency=concurrency, request_timeout=timeout,
                                       max_retries=max_retries))
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
def grade(run_id: str, judge: str = typer.Option("exact", "--judge",
                                                 help="exact | contains | a stored LLM judge"),
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
          m: Optional[str] = typer.Option(None, "--m", help="M ablation: comma-separated "
                                          "sample counts, e.g. 5,10,20 (no new sampling)"),
          repeats: int = typer.Option(20, "--repeats", help="subsamples per m"),
          db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Stage 3: calibration metrics with bootstrap intervals and a reliability diagram."""
    ms = _int_list(m, "--m") if m else None
    score_id = api.score(grading_id, n_bootstrap=bootstrap, seed=seed, bins=bins,
                         ablation_ms=ms, ablation_repeats=repeats, db_path=db,
                         mlflow_uri=mlflow_uri)
    out.print(score_id)
    _print_metrics(score_id, db)
    if ms:
        _print_ablation(api.ablation(score_id, db_path=db), repeats)


def _int_list(text: str, flag: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{flag} {text!r}: expected comma-separated integers") from None


def _print_ablation(rows: list[dict], repeats: int):
    from .metrics import METRICS
    from .report import LABELS

    table = Table(title=f"M ablation: mean ± sd over {repeats} seeded subsamples per m")
    table.add_column("m", justify="right")
    for k in METRICS:
        table.add_column(LABELS[k], justify="right")
    by_m: dict[int, dict] = {}
    for r in rows:
        by_m.setdefault(r["m"], {})[r["metric"]] = r
    for mv, cells in sorted(by_m.items()):
        table.add_row(str(mv), *[("—" if cells[k]["mean"] is None else
                                  f"{cells[k]['mean']:.3f} ± {cells[k]['sd'] or 0:.3f}")
                                 for k in METRICS])
    out.print(table)


@app.command("run")
@friendly
def run_cmd(model: str = ModelOpt, dataset: str = DatasetOpt, style: str = StyleOpt,
            samples: int = SamplesOpt, shots: Optional[int] = ShotsOpt,
            temperature: float = TempOpt, top_p: float = TopPOpt, top_k: int = TopKOpt,
            max_new_tokens: Optional[int] = MaxTokOpt, seed: int = SeedOpt,
            prompt_format: Optional[str] = FormatOpt, kind: Optional[str] = KindOpt,
            skip_bad_rows: bool = SkipOpt, batch_questions: int = BatchOpt,
            resume: bool = ResumeOpt, dtype: str = DtypeOpt,
            backend: str = BackendOpt, base_url: Optional[str] = BaseUrlOpt,
            api_key_env: str = KeyEnvOpt, endpoint: Optional[str] = EndpointOpt,
            concurrency: int = ConcurrencyOpt, timeout: float = TimeoutOpt,
            max_retries: int = RetriesOpt,
            judge: str = typer.Option("exact", "--judge"),
            bootstrap: int = typer.Option(1000, "--bootstrap"),
            db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """generate → grade → score in one go."""
    req = _request(model, dataset, style, samples, shots, temperature, top_p, top_k,
                   max_new_tokens, seed, prompt_format, kind, skip_bad_rows, batch_questions,
                   resume, dtype, dict(backend=backend, base_url=base_url,
                                       api_key_env=api_key_env, endpoint=endpoint,
                                       concurrency=concurrency, request_timeout=timeout,
                                       max_retries=max_retries))
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


@app.command("datasets")
@friendly
def datasets_cmd(db: Optional[Path] = DbOpt):
    """List the datasets stored (one per content hash) and how many runs asked each."""
    table = Table()
    cols = ["dataset_id", "name", "n_questions", "n_fewshot", "content_hash", "runs", "source"]
    for c in cols:
        table.add_column(c)
    for r in api.list_datasets(db_path=db):
        table.add_row(*[str(r[c]) for c in cols])
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
def sql(query: Optional[str] = typer.Argument(None, help="SQL to run; ? marks a bound "
                                                   "parameter"),
        view: Optional[str] = typer.Option(None, "--view", help="run a named view; "
                                           "`--view list` lists them"),
        param: list[str] = typer.Option([], "--param", "-p",
                                        help="a value for the next ?, bound (never pasted)"),
        write: bool = typer.Option(False, "--write", help="allow writes (default: read-only)"),
        fmt: str = typer.Option("table", "--format", help="table | csv | json"),
        db: Optional[Path] = DbOpt):
    """Run SQL on the store, read-only unless --write."""
    from . import db as store_db

    named = store_db.views()
    if view == "list" or (query is None and view is None):
        for name, about in named.items():
            out.print(f"[bold]{name}[/]: {about}", highlight=False)
        return
    if view is not None:
        if view not in named:
            raise ValueError(f"--view {view!r}: no such view; known: {', '.join(named)}")
        query = f"SELECT * FROM {view}"
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


@app.command("diff")
@friendly
def diff_cmd(a: str = typer.Argument(..., help="run or grading id (a run: its newest grading)"),
             b: str = typer.Argument(...),
             fmt: str = typer.Option("table", "--format", help="table | json | csv"),
             bootstrap: int = typer.Option(1000, "--bootstrap"), seed: int = SeedOpt,
             db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Two runs or gradings side by side over their shared questions: B - A."""
    from .comparison import diff_record

    ga, gb, d = api.diff(a, b, n_bootstrap=bootstrap, seed=seed, db_path=db,
                         mlflow_uri=mlflow_uri)
    record = diff_record(ga, gb, d)
    if fmt == "json":
        out.print_json(json.dumps(record, default=str))
        return
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["metric", "a", "b", "delta", "ci_low", "ci_high"])
        for m in d.metrics:
            w.writerow([m.metric, m.a, m.b, m.delta, m.ci_low, m.ci_high])
        return
    from .report import LABELS

    table = Table(title=f"A = {ga['grading_id']} (run {ga['run_id']})  vs  "
                        f"B = {gb['grading_id']} (run {gb['run_id']}); "
                        f"{d.n_shared} shared questions")
    for col in ("metric", "A", "B", "B − A [95% paired bootstrap]"):
        table.add_column(col, justify="right")
    for m in d.metrics:
        table.add_row(LABELS[m.metric], f"{m.a:.3f}", f"{m.b:.3f}",
                      f"{m.delta:+.3f} [{m.ci_low:+.3f}, {m.ci_high:+.3f}]")
    out.print(table)
    cc, cw = d.confidence_correct, d.confidence_wrong
    out.print(f"answer class changed on {d.class_changed} of {d.n_shared} questions; "
              f"{d.became_correct} became correct, {d.became_wrong} became wrong"
              + (f"; {d.n_left_out} shared questions had no verdict" if d.n_left_out else ""))
    out.print(f"mean confidence of correct answers {cc[0]:.3f} → {cc[1]:.3f}; "
              f"of wrong answers {cw[0]:.3f} → {cw[1]:.3f}")
    top = Table(title="largest confidence changes")
    for col in ("question", "A answer (conf)", "B answer (conf)"):
        top.add_column(col)
    mark = {True: "✓", False: "✗", None: "?"}
    for x, y in d.largest:
        top.add_row(x.question[:70], f"{x.answer} ({x.confidence:.2f}) {mark[x.correct]}",
                    f"{y.answer} ({y.confidence:.2f}) {mark[y.correct]}")
    out.print(top)


@app.command()
@friendly
def compare(dataset: str = typer.Option(..., "--dataset", help="dataset name as stored, e.g. "
                                        "bundled:capitals (all @N subsets) or bundled:capitals@40"),
            group_by: str = typer.Option("model,kind,style", "--group-by",
                                         help="variant fields: model, kind, style, backend, "
                                              "prompt_format, shots, m, temperature, dtype, judge"),
            db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Every variant of a dataset side by side, and one PNG overlaying their reliability."""
    fields = [g.strip() for g in group_by.split(",") if g.strip()]
    rows, png = api.compare(dataset, fields, db_path=db, mlflow_uri=mlflow_uri)
    table = Table(title=f"{dataset}: semantic calibration by variant (newest scored run each)")
    for f in fields:
        table.add_column(f)
    for col in ("runs", "smECE", "accuracy", "mean conf", "newest run"):
        table.add_column(col, justify="right" if col != "newest run" else "left")
    for r in rows:
        est = r["metrics"]
        table.add_row(*[str(v) for v in r["variant"].values()], str(r["runs"]),
                      fmt_estimate(est.get("smece")), fmt_estimate(est.get("accuracy")),
                      fmt_estimate(est.get("confidence")), r["run_id"])
    out.print(table)
    out.print(f"overlaid reliability diagrams: {png}")


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


judges_app = typer.Typer(help="LLM judges: add, list, compare.", no_args_is_help=True)
app.add_typer(judges_app, name="judges")


@judges_app.command("add")
@friendly
def judges_add(name: str = typer.Argument(..., help="the judge's name, used with --judge"),
               model: str = typer.Option(..., "--model"),
               base_url: str = typer.Option(..., "--base-url",
                                            help="an OpenAI-compatible /v1 address"),
               api_key_env: str = KeyEnvOpt,
               extract: bool = typer.Option(False, "--extract", help="also extract and "
                                            "cluster answers with the LLM (the map B)"),
               grader_prompt: Optional[Path] = typer.Option(None, "--grader-prompt",
                                                            help="a file with the grader prompt"),
               extractor_prompt: Optional[Path] = typer.Option(None, "--extractor-prompt"),
               max_tokens: int = typer.Option(64, "--max-tokens"),
               concurrency: int = ConcurrencyOpt, timeout: float = TimeoutOpt,
               max_retries: int = typer.Option(3, "--max-retries"),
               db: Optional[Path] = DbOpt):
    """Record an LLM judge (name + version = hash of model, prompts and parameters)."""
    from .judges import JUDGES
    from .llm_judge import EXTRACTOR_PROMPT, GRADER_PROMPT, JudgeRecord

    if name in JUDGES:
        raise ValueError(f"{name!r} is a built-in judge; pick another name")
    record = JudgeRecord(
        name, model, base_url, api_key_env,
        grader_prompt.read_text() if grader_prompt else GRADER_PROMPT,
        (extractor_prompt.read_text() if extractor_prompt else EXTRACTOR_PROMPT)
        if extract or extractor_prompt else None,
        {"temperature": 0.0, "max_tokens": max_tokens, "concurrency": concurrency,
         "timeout": timeout, "max_retries": max_retries})
    out.print(f"{name} {api.add_judge(record, db_path=db)}")


@judges_app.command("list")
@friendly
def judges_list(db: Optional[Path] = DbOpt):
    """The LLM judges recorded in the store."""
    table = Table()
    rows = api.list_judges(db_path=db)
    for c in ("name", "version", "model", "base_url", "grader_prompt_hash",
              "extractor_prompt_hash"):
        table.add_column(c)
    for r in rows:
        table.add_row(*[str(r[c]) for c in ("name", "version", "model", "base_url",
                                            "grader_prompt_hash", "extractor_prompt_hash")])
    out.print(table)


@judges_app.command("compare")
@friendly
def judges_compare(a: str, b: str,
                   fmt: str = typer.Option("table", "--format", help="table | json"),
                   db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Two gradings: agreement, Cohen's kappa, disagreements, accuracy and smECE moves."""
    r = api.compare_judges(a, b, db_path=db, mlflow_uri=mlflow_uri)
    if fmt == "json":
        out.print_json(json.dumps(r, default=str))
        return
    out.print(f"{r['a']} ({r['judge_a']}) vs {r['b']} ({r['judge_b']})"
              + ("" if r["same_run"] else "  [different runs]"))
    if not r["n_shared"]:
        out.print("no question has a verdict from both; nothing to compare")
        return
    out.print(f"{r['n_shared']} questions judged by both: agreement {r['agreement']:.3f}, "
              f"Cohen's kappa {r['kappa']:.3f}")
    for name, m in r["metrics"].items():
        out.print(f"{name}: {m['a']:.3f} → {m['b']:.3f} ({m['delta']:+.3f} "
                  f"[{m['ci_low']:+.3f}, {m['ci_high']:+.3f}])")
    table = Table(title=f"{len(r['disagreements'])} disagreements")
    for c in ("question", "answer A", "A", "answer B", "B"):
        table.add_column(c)
    for d in r["disagreements"][:30]:
        table.add_row(d["question"][:70], str(d["answer_a"]), str(d["correct_a"]),
                      str(d["answer_b"]), str(d["correct_b"]))
    out.print(table)


@app.command()
@friendly
def serve(model: str = typer.Option(..., "--model", help="bundled name, local folder or hub id"),
          port: int = typer.Option(8000, "--port"),
          dtype: str = typer.Option("float32", "--dtype")):
    """An OpenAI-compatible server (chat and completions) over the local sampler, on 127.0.0.1."""
    from .serve import serve as run_server

    run_server(model, port=port, dtype=dtype, log=lambda s: err.print(s))


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

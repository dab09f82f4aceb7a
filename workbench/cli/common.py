"""What every command shares: the consoles, the store options, errors as one line (named by
flag), and the generation options, declared once for ``generate`` and ``run``."""

from __future__ import annotations

import inspect
import os
import sys
import time
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Optional, get_type_hints

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .. import config
from ..backends import config_class
from ..backends.base import BackendConfig
from ..errors import UsageError, WorkbenchError
from ..lifecycle.request import GenerateRequest
from ..render.console import FittingConsole


class _Api:
    """``workbench.api``, imported when a command first uses it: the API loads the store
    (DuckDB), the figures (NumPy) and every stage, which `workbench --help` and typing errors
    should not wait for."""

    def __getattr__(self, name: str):
        from .. import api  # DuckDB, NumPy, pyarrow and every stage: only when a command runs

        return getattr(api, name)


if TYPE_CHECKING:  # an editor reads `api.generate` as the module's function and follows it
    from .. import api
else:
    api = _Api()

# Piped output (logs, CI, `| less`) gets wide tables instead of rich's 80-column default.
_WIDTH = int(os.environ.get("COLUMNS", 0)) or (None if sys.stdout.isatty() else 180)
out = FittingConsole(width=_WIDTH)  # a table too wide for it is printed vertically
err = FittingConsole(stderr=True, width=_WIDTH)

DbOpt = typer.Option(None, "--db", envvar="WORKBENCH_DB", help="DuckDB store",
                     show_default="runs/workbench.duckdb")
MlflowOpt = typer.Option(None, "--mlflow-uri", envvar="WORKBENCH_MLFLOW_URI",
                         help="MLflow tracking URI", show_default="sqlite:///<db folder>/mlflow.db")
SeedOpt = typer.Option(0, "--seed", help="random seed (the same seed gives the same result)")
LogOpt = typer.Option(False, "--log", help="also record this analysis as an MLflow run")

# API parameter -> the flag that sets it, where the two differ by more than "_" -> "-".
FLAGS = {"samples": "--samples/-m", "chunk_size": "--batch-questions",
         "n_bootstrap": "--bootstrap", "ablation_ms": "--m", "ms": "--m",
         "api_key_env": "--api-key-env", "timeout": "--timeout", "name": "NAME",
         "parent": "--from", "variant": "--name", "learning_rate": "--lr", "id": "ID"}


def flag(param: str, own: dict | None = None) -> str:
    """The flag that sets API parameter ``param`` (``own``: the command's own spellings)."""
    return (own or {}).get(param) or FLAGS.get(param, "--" + param.replace("_", "-"))


def friendly(fn=None, **own: str):
    """Errors a user can fix become one line on stderr and exit status 1, naming the flag.
    ``@friendly(judge="--graded-by")`` names a parameter by the command's own flag."""
    if fn is None:
        return lambda f: friendly(f, **own)

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            _fail(f"{flag(exc.param, own)}: {exc.message}")
        except WorkbenchError as exc:
            _fail(str(exc))
        except Exception as exc:
            if not _damaged(exc):
                raise  # a bug: its traceback stays
            _fail(f"the store {config.db_path(kwargs.get('db'))} is damaged and DuckDB cannot "
                  f"read it ({str(exc).splitlines()[0]}); restore it from a copy, or start "
                  "another store with --db")
    return wrapper


def _damaged(exc: Exception) -> bool:
    """A store file DuckDB finds corrupt or cut short (a copy interrupted, a full disk): not a
    bug of ours, and nothing a retry mends."""
    text = str(exc).lower()
    return type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb") and any(
        sign in text for sign in ("corrupt database file", "could not read enough bytes",
                                  "could not read all bytes"))


def renamed(new_value, old_value, old: str, new: str):
    """The value of a flag given by its deprecated spelling ``old`` (with a one-line warning
    naming ``new``), else the new flag's value."""
    if old_value is None:
        return new_value
    err.print(f"warning: {old} is deprecated here; use {new}", markup=False, highlight=False)
    return old_value


def _fail(message: str):
    err.print(f"[red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


# --- the generation options, declared once --------------------------------------------------

_BACKEND_FLAGS = ("dtype", "device", "base_url", "api_key_env", "endpoint", "concurrency",
                  "timeout", "max_retries", "server", "max_model_len", "tensor_parallel_size",
                  "data_parallel_size")  # each belongs to one backend's Config

_GENERATION = [  # (name, type, option); the order --help shows
    ("model", str, typer.Option(..., "--model", help="bundled name (gemma-3-270m, "
                                "smollm2-135m-instruct), local folder or hub id")),
    ("dataset", str, typer.Option(..., "--dataset", help="bundled:capitals, bundled:arithmetic, "
                                  "gsm8k|triviaqa|simpleqa|openmathinstruct2|math500|"
                                  "truthfulqa[:split] (NAME=FILE for a local copy), or a "
                                  ".jsonl/.csv/.parquet file; @N takes a seeded sample of N")),
    ("style", str, typer.Option("concise", "--style", help="concise | sentence | cot")),
    ("samples", int, typer.Option(20, "--samples", "-m", help="samples per question (M)")),
    ("shots", Optional[int], typer.Option(None, "--shots", help="few-shot exemplars in the "
                                          "prompt", show_default="5 for base, 0 for chat")),
    ("temperature", float, typer.Option(1.0, "--temperature", help="sampling temperature "
                                        "(1 = the model's own distribution)")),
    ("top_p", float, typer.Option(1.0, "--top-p", help="nucleus truncation (1 = none)")),
    ("top_k", int, typer.Option(0, "--top-k", help="top-k truncation (0 = none)")),
    ("max_new_tokens", Optional[int], typer.Option(
        None, "--max-new-tokens", help="tokens per sample; a sample that hits it without an "
        "answer counts as none", show_default="16 concise, 40 sentence, 512 cot; 2048 for "
                                              "reasoning models")),
    ("seed", int, SeedOpt),
    ("prompt_format", Optional[str], typer.Option(
        None, "--prompt-format", help="completion | chat", show_default="inferred")),
    ("kind", Optional[str], typer.Option(
        None, "--kind", help="base | sft | dpo | rl | reasoning | unknown",
        show_default="known for bundled models, else unknown")),
    ("skip_bad_rows", bool, typer.Option(False, "--skip-bad-rows",
                                         help="run the dataset's good rows only")),
    ("chunk_size", int, typer.Option(8, "--batch-questions",
                                     help="questions sampled and committed together")),
    ("resume", bool, typer.Option(False, "--resume", help="finish the newest unfinished run "
                                  "with the same settings instead of starting a new one")),
    ("backend", str, typer.Option("transformers", "--backend", help="transformers (local) | "
                                  "openai (any OpenAI-compatible server: vLLM, llama.cpp, "
                                  "workbench serve) | vllm (vLLM's engine in process; "
                                  "make vllm-setup)")),
    ("dtype", Optional[str], typer.Option(
        None, "--dtype", help="transformers, vllm: auto | float32 | bfloat16 | float16",
        show_default="auto: transformers float32 on CPU, bfloat16 (or float16) on GPUs; "
                     "vllm bfloat16")),
    ("device", Optional[str], typer.Option(
        None, "--device", help="transformers: auto | cpu | cuda[:N] | mps",
        show_default="auto: the first CUDA device, else MPS, else CPU")),
    ("max_model_len", Optional[int], typer.Option(
        None, "--max-model-len", help="vllm: the longest prompt + sample in tokens",
        show_default="the model's own")),
    ("tensor_parallel_size", Optional[int], typer.Option(
        None, "--tensor-parallel-size", help="vllm: GPUs one model is split over",
        show_default="1")),
    ("data_parallel_size", Optional[int], typer.Option(
        None, "--data-parallel-size", help="vllm: engine replicas, one per GPU group",
        show_default="1")),
    ("base_url", Optional[list[str]], typer.Option(
        None, "--base-url", help="openai: the server's /v1 address; again for each replica of "
        "the model at another address (requests go to the one with the fewest in flight); "
        "@FILE: the addresses in FILE, one a line ('#' comments)")),
    ("api_key_env", Optional[str], typer.Option(
        None, "--api-key-env", help="openai: the variable holding the key",
        show_default="OPENAI_API_KEY")),
    ("endpoint", Optional[str], typer.Option(
        None, "--endpoint", help="openai: chat | completions", show_default="by prompt format")),
    ("concurrency", Optional[int], typer.Option(
        None, "--concurrency", help="openai: requests in flight", show_default="4")),
    ("timeout", Optional[float], typer.Option(
        None, "--timeout", help="openai: seconds per request", show_default="60")),
    ("max_retries", Optional[int], typer.Option(
        None, "--max-retries", help="openai: retries on 429, 5xx and timeouts",
        show_default="5")),
    ("server", Optional[str], typer.Option(
        None, "--server", help="openai: the server family, which decides the fields that "
                               "state the sampling distribution: vllm | sglang | llamacpp | tgi "
                               "| ollama | openai | workbench",
        show_default="asked of the server")),
]


def generation_request(**options):
    """A ``GenerateRequest`` from the generation options; backend flags go to that backend's
    settings, and a flag that belongs to another backend is refused."""
    cls = config_class(options.pop("backend"))
    given = {k: options.pop(k) for k in _BACKEND_FLAGS}
    given = {k: v for k, v in given.items() if v is not None and v != []}
    if "base_url" in given:
        given["base_url"] = addresses(given["base_url"])
    known = set(cls.__dataclass_fields__) - set(BackendConfig.__dataclass_fields__)
    stray = sorted(set(given) - known)
    if stray:
        raise UsageError(stray[0], f"does not apply to --backend {cls.name}")
    return GenerateRequest(backend=cls(**given), **options)


def addresses(values: list[str]) -> list[str]:
    """--base-url's values, each ``@FILE`` replaced by the addresses in that file: one a line,
    blank lines and ``#`` comments skipped (a team's list of replicas, kept in one place)."""
    out = []
    for value in values:
        if not value.startswith("@"):
            out.append(value)
            continue
        path = Path(value[1:])
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError("base_url", f"{value}: cannot read {path} ({exc.__class__.__name__}"
                                         f": {exc.strerror or exc})") from None
        found = [ln.split("#", 1)[0].strip() for ln in lines]
        found = [a for a in found if a]
        if not found:
            raise UsageError("base_url", f"{value}: {path} lists no address")
        out += found
    return out


def generation_options(fn):
    """Give a command the generation options; it receives them as ``req``, a GenerateRequest.

    Typer reads a command's signature, so the options are added to it here rather than repeated
    in every command."""
    hints = get_type_hints(fn)
    own = [p.replace(annotation=hints[p.name])
           for p in inspect.signature(fn).parameters.values() if p.name != "req"]
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=opt,
                                annotation=kind) for name, kind, opt in _GENERATION]

    @wraps(fn)
    def wrapper(**kwargs):
        options = {name: kwargs.pop(name) for name, _, _ in _GENERATION}
        return fn(req=generation_request(**options), **kwargs)

    params = shared + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    wrapper.__signature__ = inspect.Signature(params)
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper

# One vocabulary: --judge is the judge that grades (grade, run); --graded-by picks gradings by
# the judge that made them (which grading a run id means, or a filter); -m/--samples counts
# samples per question; --format is table | csv | json wherever rows are printed.
GradedByOpt = typer.Option(None, "--graded-by", help="with a run id: its grading by this judge",
                           show_default="its only judge; refused when it has several")
OldJudgeOpt = typer.Option(None, "--judge", hidden=True, help="deprecated: --graded-by")


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOpt = typer.Option(Format.table, "--format", help="how rows are printed")


class LiveProgress:
    """Live progress: a bar on a terminal, a plain line per step elsewhere (logs: a line per
    committed chunk, which a test's fault hook pauses on; with ``sparse``, about one per 5% of
    the total); called with a label (an experiment's cell), the bar and the lines name it.
    ``LiveProgress("judged", "classes", sparse=True)`` counts a grading's verdicts."""

    def __init__(self, verb: str = "sampled", unit: str = "questions", sparse: bool = False,
                 clock=time.monotonic):
        self.verb, self.unit, self.sparse, self.said = verb, unit, sparse, -1
        self.clock, self.started, self.last = clock, None, 0

    def __enter__(self):
        self.bar = None
        if err.is_terminal:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn(self.unit),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=err)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.verb, total=None)
        return self

    def __call__(self, done: int, total: int, label: str | None = None):
        now = self.clock()
        if self.started is None or done < self.last:  # the first count, or a new cell's
            self.started, self.first, self.said = now, done, -1
        self.last = done
        if self.bar:
            self.bar.update(self.task, completed=done, total=total,
                            description=label or self.verb)
        elif not self.sparse or done == total \
                or done * 20 // max(total, 1) > self.said * 20 // max(total, 1):
            self.said = done
            print(f"{label + ': ' if label else ''}{self.verb} {done}/{total} {self.unit}"
                  f"{self._eta(done, total, now)}", file=sys.stderr, flush=True)

    def _eta(self, done: int, total: int, now: float) -> str:
        """', about 2 min left' from the pace since the first count (none before a step)."""
        made = done - self.first
        if made <= 0 or done >= total:
            return ""
        left = (now - self.started) / made * (total - done)
        return f", about {left / 60:.0f} min left" if left >= 90 else \
            f", about {left:.0f} s left"

    def __exit__(self, *exc):
        if self.bar:
            self.bar.__exit__(*exc)

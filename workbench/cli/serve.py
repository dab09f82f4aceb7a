"""Commands that run something long-lived: serve a model, the MLflow UI, the demo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from .. import config
from ..demo import DEMO_FILE, run_demo
from ..errors import UsageError
from ..render.console import write_rows
from .app import app
from .common import DbOpt, Format, LiveProgress, MlflowOpt, SeedOpt, api, err, friendly, out


@app.command()
@friendly
def serve(model: str = typer.Option(..., "--model", help="bundled name, local folder or hub id"),
          port: int = typer.Option(8000, "--port", help="port on 127.0.0.1"),
          dtype: str = typer.Option("auto", "--dtype", help="auto | float32 | bfloat16 | "
                                    "float16"),
          device: str = typer.Option("auto", "--device", help="auto | cpu | cuda[:N] | mps"),
          max_body: int = typer.Option(1 << 20, "--max-body", help="bytes in a request body"),
          max_context: Optional[int] = typer.Option(None, "--max-context", help="prompt + "
                                                    "max_tokens",
                                                    show_default="the model's context"),
          token_budget: int = typer.Option(65536, "--token-budget",
                                           help="n × max_tokens in one request"),
          queue: int = typer.Option(8, "--queue", help="requests waiting or running; more get "
                                    "429 with Retry-After"),
          request_timeout: float = typer.Option(120.0, "--request-timeout", help="seconds a "
                                                "request may wait and run before it is "
                                                "cancelled")):
    """An OpenAI-compatible server (chat and completions) over the token sampler, on 127.0.0.1."""
    for name, value in (("max_body", max_body), ("token_budget", token_budget),
                        ("queue", queue), ("request_timeout", request_timeout),
                        ("max_context", 1 if max_context is None else max_context)):
        config.positive(name, value)
    if not 1 <= port <= 65535:
        raise UsageError("port", f"must be between 1 and 65535, got {port}")
    # FastAPI and torch: only for serving, once the options are known to be good.
    from .. import server

    server.serve(model, port=port, dtype=dtype, device=device,
                 log=lambda s: err.print(s, markup=False, highlight=False),
                 limits=server.Limits(max_body, max_context, token_budget, queue,
                                      request_timeout))


# MLflow 3 opens experiments on its GenAI pages unless the UI is in its model-training mode,
# which this query parameter selects (and the browser then remembers).
ML_VIEW = "workflowType=machine_learning"


def experiment_links(uri: str, base: str) -> list[tuple[str, str]]:
    """Each workbench experiment's runs page, to print: where a person starts."""
    try:
        from mlflow.tracking import MlflowClient  # only `ui` pays for importing MLflow here

        found = MlflowClient(tracking_uri=uri).search_experiments()
    except Exception:  # noqa: BLE001 - the links are a convenience; the UI starts regardless
        return []
    return [(e.name, f"{base}/#/experiments/{e.experiment_id}?{ML_VIEW}") for e in found
            if e.name.endswith(config.EXPERIMENT_SUFFIX) or e.name.startswith("workbench/")]


def answers_when_up(url: str, proc: subprocess.Popen) -> bool:
    """Wait until ``url`` answers (True) or the server's process ends (False). No deadline: a
    slow start is waited out, and Ctrl-C stops the wait and the server."""
    while proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except OSError:
            time.sleep(0.5)
    return False


@app.command()
@friendly
def ui(port: int = typer.Option(5000, "--port", help="port on 127.0.0.1"),
       db: Optional[Path] = DbOpt,
       mlflow_uri: Optional[str] = MlflowOpt):
    """Open the MLflow UI on 127.0.0.1 over the store's MLflow runs."""
    path = config.db_path(db)
    uri = config.mlflow_uri(path, mlflow_uri)
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
           "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    # Its own process group: `mlflow ui` starts server workers of its own, and stopping the
    # workbench (Ctrl-C, SIGTERM) stops the whole group, not only the mlflow command.
    proc = subprocess.Popen(cmd, env={**os.environ}, start_new_session=True)
    try:
        err.print(f"starting the MLflow UI on port {port} ...", highlight=False)
        if answers_when_up(f"{base}/health", proc):  # the links once they open something
            err.print(f"MLflow UI on {base}/#/?{ML_VIEW} (Ctrl-C to stop)", highlight=False,
                      soft_wrap=True)  # links stay whole
            for name, link in experiment_links(uri, base):
                err.print(f"  {name}: {link}", highlight=False, soft_wrap=True)
        code = proc.wait()
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        raise
    raise typer.Exit(code)


@app.command()
@friendly
def demo(file: Path = typer.Argument(DEMO_FILE, help="a demo-shaped experiment file: a base "
                                     "model and [[tunings]] of it, one dataset, one style"),
         db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """The offline demo: runs what is missing of experiments/demo.toml (Gemma 3 270M base vs
    SFT vs RL variants tuned here, on capitals), then prints its conclusion."""
    with LiveProgress() as progress:
        run_demo(file, db_path=db, mlflow_uri=mlflow_uri, console=out, progress=progress)


@app.command("check-server")
@friendly
def check_server(base_url: str = typer.Option(..., "--base-url", help="the server's /v1 address"),
                 model: str = typer.Option(..., "--model", help="the model name the server "
                                           "serves (a bundled name or folder is also the "
                                           "local reference)"),
                 server: str = typer.Option("auto", "--server", help="auto | vllm | sglang | "
                                            "llamacpp | tgi | ollama | openai | workbench"),
                 local: Optional[str] = typer.Option(None, "--local", help="a local copy of "
                                                     "the model: the exact reference"),
                 prompt: Optional[str] = typer.Option(None, "--prompt", help="the prompt whose "
                                                      "first token is drawn",
                                                      show_default="a built-in one-shot prompt"),
                 n: int = typer.Option(400, "--n", help="draws"),
                 seed: int = SeedOpt,
                 alpha: float = typer.Option(1e-3, "--alpha", help="test level"),
                 api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env",
                                                 help="the variable holding the key"),
                 fmt: Format = typer.Option(Format.table, "--format", help="table: the verdict "
                                            "in words; json and csv: every figure")):
    """Does a server sample what a run asks for? Exits 1 when it is caught truncating.

    A goodness-of-fit test of its first tokens against the model's distribution, its power
    against top-k and min-p, and the truncation the draws suggest."""
    options = dict(server=server, local=local, n=n, seed=seed, alpha=alpha,
                   api_key_env=api_key_env, **({"prompt": prompt} if prompt else {}))
    check = api.check_server(base_url, model, **options)
    if fmt != Format.table:
        from ..backends.check import figures  # loaded already by the check

        record = figures(check)
        if fmt == Format.json:
            out.print_json(json.dumps(record, default=float))
        else:
            write_rows(out, ["field", "value"],
                       [[k, v if isinstance(v, (str, int, float, bool, type(None)))
                         else json.dumps(v, default=float)] for k, v in record.items()], fmt)
    else:
        _print_check(check)
    if not check.consistent:
        raise typer.Exit(1)


def _print_check(c) -> None:
    fit, t = c.fit, c.truncation
    out.print(f"server family: {c.family}; sampling fields sent: "
              f"{json.dumps(c.request_params, sort_keys=True)}", highlight=False)
    unpinned = c.unpinned
    out.print("fields no request can pin on this family: " + ", ".join(unpinned) if unpinned
              else "every sampling field this family reads is pinned by the request",
              highlight=False)
    out.print(f"reference: {c.reference}; {fit.n} draws of the first token", highlight=False)
    verdict = (f"[green]{escape(c.cause.text)}[/]" if c.consistent else
               f"[red]NOT the model's distribution: {escape(c.cause.text)}[/]")
    out.print(f"goodness of fit: chi2 {fit.chi2:.1f}, {fit.df} df, p = {fit.p_value:.3g} "
              f"(level {c.alpha:g}): {verdict}")
    for name, pw in c.power.items():
        out.print(f"  power against {name} truncation at {fit.n} draws: {pw:.3f}")
    out.print(f"drawn tokens reach rank {t.max_rank}; a faithful sampler puts "
              f"{t.beyond_mass:.1%} beyond it (drawing nothing there: P = {t.p_none_beyond:.2g})")
    out.print(f"least likely drawn token: {t.min_ratio:.3g} × the likeliest; {t.below_mass:.1%} "
              f"of the mass lies below that (drawing none of it: P = {t.p_none_below:.2g})")

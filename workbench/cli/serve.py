"""Commands that run something long-lived: serve a model, the MLflow UI, the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from .. import config
from ..demo import DemoPlan, run_demo
from ..errors import UsageError
from .app import app
from .common import DbOpt, MlflowOpt, err, friendly, out


@app.command()
@friendly
def serve(model: str = typer.Option(..., "--model", help="bundled name, local folder or hub id"),
          port: int = typer.Option(8000, "--port"),
          dtype: str = typer.Option("float32", "--dtype"),
          max_body: int = typer.Option(1 << 20, "--max-body", help="bytes in a request body"),
          max_context: Optional[int] = typer.Option(None, "--max-context", help="prompt + "
                                                    "max_tokens [default: the model's context]"),
          token_budget: int = typer.Option(65536, "--token-budget",
                                           help="n × max_tokens in one request"),
          queue: int = typer.Option(8, "--queue", help="requests waiting or running; more get "
                                    "429 with Retry-After"),
          request_timeout: float = typer.Option(120.0, "--request-timeout", help="seconds a "
                                                "request may wait and run before it is "
                                                "cancelled")):
    """An OpenAI-compatible server (chat and completions) over the local sampler, on 127.0.0.1."""
    # FastAPI and torch: only for serving.
    from ..backends import serve as server

    for name, value in (("max_body", max_body), ("token_budget", token_budget),
                        ("queue", queue), ("request_timeout", request_timeout),
                        ("max_context", max_context or 1)):
        if value <= 0:
            raise UsageError(name, f"must be > 0, got {value}")
    server.serve(model, port=port, dtype=dtype, log=lambda s: err.print(s),
                 limits=server.Limits(max_body, max_context, token_budget, queue,
                                      request_timeout))


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
    run_demo(DemoPlan(questions, samples, cot_tokens, bootstrap), db_path=db,
             mlflow_uri=mlflow_uri, console=out)

"""The ``judges`` group: record an LLM judge, list them, compare two gradings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..errors import UsageError
from ..render.console import write_rows
from .app import judges_app
from .common import DbOpt, Format, FormatOpt, LogOpt, MlflowOpt, api, friendly, out


@judges_app.command("add")
@friendly
def judges_add(name: str = typer.Argument(..., help="the judge's name, used with --judge"),
               model: str = typer.Option(..., "--model", help="the model name the server serves"),
               base_url: str = typer.Option(..., "--base-url",
                                            help="an OpenAI-compatible /v1 address"),
               api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="the "
                                               "environment variable holding the key"),
               extract: bool = typer.Option(False, "--extract", help="also extract and "
                                            "cluster answers with the LLM (the map B)"),
               grader_prompt: Optional[Path] = typer.Option(None, "--grader-prompt",
                                                            help="a file with the grader prompt"),
               extractor_prompt: Optional[Path] = typer.Option(
                   None, "--extractor-prompt", help="a file with the extraction prompt",
                   show_default="built in"),
               max_tokens: int = typer.Option(64, "--max-tokens", help="tokens per judge answer"),
               concurrency: int = typer.Option(4, "--concurrency", help="requests in flight"),
               timeout: float = typer.Option(60.0, "--timeout", help="seconds per request"),
               max_retries: int = typer.Option(3, "--max-retries", help="retries on 429, 5xx and "
                                                             "timeouts"),
               verdict: str = typer.Option("logprob", "--verdict", help="logprob: P(yes) from "
                                           "the verdict token | text: a JSON verdict"),
               endpoint: str = typer.Option("chat", "--endpoint", help="chat | completions "
                                            "(a few-shot prompt, for base models)"),
               threshold: float = typer.Option(0.5, "--threshold", help="P(yes) for 'correct'"),
               min_mass: float = typer.Option(0.2, "--min-mass", help="less on yes+no is no "
                                              "verdict"),
               server: str = typer.Option("unknown", "--server", help="the server family, for "
                                          "constrained yes/no where it gives no logprobs"),
               db: Optional[Path] = DbOpt):
    """Record an LLM judge (name + version = hash of model, prompts and parameters)."""
    record = api.add_judge(
        name, model, base_url, api_key_env=api_key_env, extract=extract,
        grader_prompt=grader_prompt.read_text() if grader_prompt else None,
        extractor_prompt=extractor_prompt.read_text() if extractor_prompt else None,
        max_tokens=max_tokens, concurrency=concurrency, timeout=timeout,
        max_retries=max_retries, verdict=verdict, endpoint=endpoint, threshold=threshold,
        min_mass=min_mass, server=server, db_path=db)
    out.print(f"{record.name} {record.version}")


@judges_app.command("list")
@friendly
def judges_list(fmt: Format = FormatOpt, db: Optional[Path] = DbOpt):
    """The LLM judges recorded in the store."""
    cols = ["name", "version", "model", "base_url", "grader_prompt_hash",
            "extractor_prompt_hash"]
    write_rows(out, cols, [[r[c] for c in cols] for r in api.list_judges(db_path=db)], fmt)


@judges_app.command("compare")
@friendly
def judges_compare(a: str = typer.Argument(..., help="a grading id (or prefix), or a run id "
                                           "with --judges"),
                   b: str = typer.Argument(..., help="another grading of the same questions "
                                           "(or the same run, with --judges)"),
                   judges: Optional[str] = typer.Option(
                       None, "--judges", help="with run ids: A's judge,B's judge (one name: "
                       "both sides')", show_default="each run's only judge"),
                   fmt: Format = typer.Option(Format.table, "--format", help="table: the "
                                              "summary and disagreements; json: everything; "
                                              "csv: the disagreements"),
                   log: bool = LogOpt, db: Optional[Path] = DbOpt,
                   mlflow_uri: Optional[str] = MlflowOpt):
    """Two gradings: agreement, Cohen's kappa, disagreements, accuracy and smECE moves."""
    names = [j.strip() for j in judges.split(",")] if judges is not None else [None]
    if len(names) > 2 or not all(n is None or n for n in names):
        raise UsageError("judges", f"{judges!r}: give one judge, or A's and B's as a,b")
    r = api.compare_judges(a, b, judges=(names[0], names[-1]), db_path=db,
                           mlflow_uri=mlflow_uri, log=log)
    if fmt == Format.json:
        out.print_json(json.dumps(r, default=str))
        return
    if fmt == Format.csv:
        cols = ["question", "answer_a", "correct_a", "answer_b", "correct_b"]
        write_rows(out, cols, [[d.get(c) for c in cols] for d in r["disagreements"]], fmt)
        return
    out.print(f"{r['a']} ({r['judge_a']}) vs {r['b']} ({r['judge_b']})"
              + ("" if r["same_run"] else "  [different runs]"))
    if not r["n_shared"]:
        out.print("no question has a verdict from both; nothing to compare")
        return
    out.print(f"{r['n_shared']} questions judged by both: agreement {r['agreement']:.3f}, "
              f"Cohen's kappa {r['kappa']:.3f}")
    c = r["classes"]
    if c["n_classes"]:
        out.print(f"{c['n_classes']} answer classes judged by both: agreement "
                  f"{c['class_agreement']:.3f}" + (
                      f"; mean |P(yes) A − P(yes) B| {c['mean_abs_p_yes_diff']:.3f}"
                      if c["mean_abs_p_yes_diff"] is not None else ""))
    if "p_yes_vs_rule" in c:
        v = c["p_yes_vs_rule"]
        out.print(f"P(yes) of judge {r['judge_' + v['side']]} against the rule judge's "
                  f"verdicts on {v['n']} classes: Brier {v['brier']:.3f}, "
                  f"smECE {v['smece']:.3f}, AUROC {v['auroc']:.3f}")
    for name, m in r["metrics"].items():
        out.print(f"{name}: {m['a']:.3f} → {m['b']:.3f} ({m['delta']:+.3f} "
                  f"[{m['ci_low']:+.3f}, {m['ci_high']:+.3f}])")
    _listed(f"{len(r['disagreements'])} questions whose plurality answer they judge "
            "differently", ("question", "answer A", "A", "answer B", "B"),
            [(d["question"][:70], d["answer_a"], d["correct_a"], d["answer_b"], d["correct_b"])
             for d in r["disagreements"][:30]])
    by_class = r["class_disagreements"]
    if by_class is None:
        return  # different runs: no sample is in both
    _listed(f"{len(by_class)} answer classes judged differently "
            f"({sum(d['samples'] for d in by_class)} samples)",
            ("question", "class A", "A", "class B", "B", "samples"),
            [(str(d["question"])[:60], d["answer_a"], d["correct_a"], d["answer_b"],
              d["correct_b"], d["samples"]) for d in by_class[:30]])


def _listed(title: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """A table of what differs; a line when nothing does (an empty table said it twice)."""
    if not rows:
        out.print(title, markup=False, highlight=False)
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*map(str, row))
    out.print(table)

"""Comparison commands: diff two runs or gradings, compare every variant of a dataset."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..errors import UsageError
from ..render.console import fmt_delta, fmt_estimate, fmt_floor, fmt_side_floors, write_rows
from .app import app
from .common import (
    DbOpt,
    Format,
    FormatOpt,
    GradedByOpt,
    LogOpt,
    MlflowOpt,
    OldJudgeOpt,
    SeedOpt,
    api,
    err,
    friendly,
    out,
    renamed,
)


@app.command("diff")
@friendly(judge="--graded-by")
def diff_cmd(a: str = typer.Argument(..., help="grading, score or run id, or a prefix (a run: "
                                          "its grading by --graded-by)"),
             b: str = typer.Argument(..., help="the same, for the other side"),
             graded_by: Optional[str] = GradedByOpt, judge: Optional[str] = OldJudgeOpt,
             fmt: Format = FormatOpt,
             bootstrap: int = typer.Option(1000, "--bootstrap", help="paired bootstrap "
                                           "resamples"),
             seed: int = SeedOpt, log: bool = LogOpt,
             estimator: str = typer.Option("plurality", "--estimator", help="the confidence "
                                           "measure both sides are compared under (score "
                                           "--estimator's; one that only ranks: accuracy, "
                                           "AUROC, AURAC)"),
             db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Two runs or gradings side by side over their shared questions: B - A."""
    judge = renamed(graded_by, judge, "--judge", "--graded-by")
    ga, gb, d = api.diff(a, b, judge=judge, n_bootstrap=bootstrap, seed=seed, db_path=db,
                         mlflow_uri=mlflow_uri, log=log, estimator=estimator)
    if ga["judge"] != gb["judge"]:
        err.print(f"[yellow]warning:[/] A was graded by judge {ga['judge']!r} and B by "
                  f"{gb['judge']!r}: the differences mix the judges with the variants",
                  soft_wrap=True, highlight=False)
    from ..analysis.metrics import METRICS  # NumPy: only when a figure is printed
    from ..readouts.compare import diff_record  # the stage's modules: only when it runs

    record = diff_record(ga, gb, d)
    if fmt == "json":
        out.print_json(json.dumps(record, default=str))
        return
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["metric", "a", "b", "delta", "ci_low", "ci_high"])
        for m in d.metrics:
            w.writerow([m.metric, m.a, m.b, m.delta, m.ci_low, m.ci_high])
        return
    table = Table(title=f"A = {ga['variant']} ({ga['grading_id']}, run {ga['run_id']}, judge "
                        f"{ga['judge']})  vs  B = {gb['variant']} ({gb['grading_id']}, run "
                        f"{gb['run_id']}, judge {gb['judge']}); {d.n_shared} shared questions"
                        + ("" if estimator == "plurality" else f"; confidence: {estimator}"))
    for col in ("metric", "A", "B", "B − A [95% paired bootstrap]", "floor A", "floor B"):
        table.add_column(col, justify="right")
    for m in d.metrics:
        fa, fb = fmt_side_floors(d, m.metric)
        table.add_row(METRICS[m.metric].label, f"{m.a:.3f}", f"{m.b:.3f}",
                      fmt_delta(m), fa, fb)
    out.print(table)
    cc, cw = d.confidence_correct, d.confidence_wrong
    out.print(f"answer class changed on {d.class_changed} of {d.n_shared} questions; "
              f"{d.became_correct} became correct, {d.became_wrong} became wrong"
              + (f"; {d.n_left_out} shared questions had no verdict" if d.n_left_out else ""))
    out.print(f"mean confidence of correct answers {cc[0]:.3f} → {cc[1]:.3f}; "
              f"of wrong answers {cw[0]:.3f} → {cw[1]:.3f}")
    if d.shortcuts and None not in (d.shortcuts[0].echo_share, d.shortcuts[1].echo_share):
        sa, sb = d.shortcuts
        out.print(f"answers that only repeat the question {sa.echo_share:.1%} → "
                  f"{sb.echo_share:.1%}; the commonest answer's share "
                  f"{sa.top_answer_share:.1%} ({sa.top_answer}) → {sb.top_answer_share:.1%} "
                  f"({sb.top_answer})", highlight=False)
    top = Table(title="largest confidence changes")
    for col in ("question", "A answer (conf)", "B answer (conf)"):
        top.add_column(col)
    mark = {True: "✓", False: "✗", None: "?"}
    for x, y in d.largest:
        top.add_row(x.question[:70], f"{x.answer} ({x.confidence:.2f}) {mark[x.correct]}",
                    f"{y.answer} ({y.confidence:.2f}) {mark[y.correct]}")
    out.print(top)


GroupByOpt = typer.Option("model,kind,style", "--group-by", help="variant fields: model, kind, "
                          "style, backend, prompt_format, shots, m, temperature, dtype, judge, "
                          "measure (each confidence measure a variant was scored with: score "
                          "--estimator)")
FilterJudgeOpt = typer.Option(None, "--graded-by", help="whose gradings count (ignored when "
                              "grouping by judge)", show_default="exact")


@app.command()
@friendly(judge="--graded-by")
def compare(dataset: str = typer.Option(..., "--dataset", help="dataset name as stored, e.g. "
                                        "bundled:capitals (all @N subsets) or bundled:capitals@40"),
            group_by: str = GroupByOpt,
            graded_by: Optional[str] = FilterJudgeOpt, judge: Optional[str] = OldJudgeOpt,
            out_file: Optional[Path] = typer.Option(
                None, "--out", help="the overlay PNG",
                show_default="runs/artifacts/compare/DATASET-by-GROUPING-JUDGE.png"),
            experiment: Optional[str] = typer.Option(
                None, "--experiment", help="only the runs this experiment (its name in the "
                "file) made or found"),
            fmt: Format = FormatOpt, log: bool = LogOpt, db: Optional[Path] = DbOpt,
            mlflow_uri: Optional[str] = MlflowOpt):
    """Every variant of a dataset side by side, and one PNG overlaying their reliability."""
    judge = renamed(graded_by, judge, "--judge", "--graded-by") or "exact"
    fields = [g.strip() for g in group_by.split(",") if g.strip()]
    rows, png = api.compare(dataset, fields, judge=judge, db_path=db, mlflow_uri=mlflow_uri,
                            log=log, out=out_file, experiment=experiment)
    if fmt != Format.table:
        cols = [*fields, "runs", "smece", "smece_low", "smece_high", "smece_floor_mean",
                "smece_floor_p95", "accuracy", "confidence", "auroc", "aurac", "run_id"]

        def figures(est):
            s = est.get("smece")
            return [s and s.value, s and s.ci_low, s and s.ci_high, s and s.floor_mean,
                    s and s.floor_p95]
        write_rows(out, cols, [[*r["variant"].values(), r["runs"], *figures(r["metrics"]),
                                _value(r["metrics"].get("accuracy")),
                                _value(r["metrics"].get("confidence")),
                                _value(r["metrics"].get("auroc")),
                                _value(r["metrics"].get("aurac")), r["run_id"]]
                               for r in rows], fmt)
        return
    graded = "each judge" if "judge" in fields else f"judge {judge}"
    table = Table(title=f"{dataset}: semantic calibration by variant (newest scored run each, "
                        f"{graded})")
    for f in fields:
        table.add_column(f)
    ranks = ("auroc", "aurac") if "measure" in fields else ()  # how each measure ranks
    for col in ("runs", "smECE", "smECE floor", "accuracy", "mean conf",
                *(m.upper() for m in ranks), "newest run"):
        table.add_column(col, justify="right" if col != "newest run" else "left")
    for r in rows:
        est = r["metrics"]
        table.add_row(*[str(v) for v in r["variant"].values()], str(r["runs"]),
                      fmt_estimate(est.get("smece")), fmt_floor(est.get("smece")),
                      fmt_estimate(est.get("accuracy")), fmt_estimate(est.get("confidence")),
                      *(fmt_estimate(est.get(m)) for m in ranks), r["run_id"])
    out.print(table)
    if ranks:
        out.print("smECE only for measures that are probabilities (plurality, split, "
                  "weighted_plurality); the overlay draws those", highlight=False)
    out.print(f"overlaid reliability diagrams: {png}")


def _value(estimate):
    return None if estimate is None else estimate.value


@app.command()
@friendly(judge="--graded-by")
def report(dataset: str = typer.Option(..., "--dataset", help="dataset name as stored"),
           group_by: str = GroupByOpt,
           graded_by: Optional[str] = FilterJudgeOpt, judge: Optional[str] = OldJudgeOpt,
           diff_pairs: list[str] = typer.Option([], "--diff", help="A,B: ids to diff; "
                                                "repeatable",
                                                show_default="the first variant vs each other"),
           out_file: Optional[Path] = typer.Option(None, "--out", help="the HTML file",
                                                   show_default="under runs/artifacts/reports"),
           log: bool = LogOpt, db: Optional[Path] = DbOpt,
           mlflow_uri: Optional[str] = MlflowOpt):
    """One self-contained HTML report of a dataset's variants; prints its path."""
    judge = renamed(graded_by, judge, "--judge", "--graded-by") or "exact"
    pairs = []
    for p in diff_pairs:
        a, _, b = p.partition(",")
        if not b:
            raise UsageError("diff", f"{p!r}: give two ids as A,B")
        pairs.append((a.strip(), b.strip()))
    fields = [g.strip() for g in group_by.split(",") if g.strip()]
    out.print(str(api.report(dataset, fields, judge=judge, pairs=pairs, out=out_file, db_path=db,
                             mlflow_uri=mlflow_uri, log=log)))

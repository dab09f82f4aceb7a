"""Stage commands: generate, resume, grade, score, ablate, and run (generate → grade →
score)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..errors import UsageError
from .app import app
from .common import (
    DbOpt,
    GradedByOpt,
    LiveProgress,
    MlflowOpt,
    OldJudgeOpt,
    SeedOpt,
    api,
    err,
    friendly,
    generation_options,
    out,
    renamed,
)


def _log(message: str) -> None:
    err.print(message, soft_wrap=True, markup=False, highlight=False)


@app.command()
@friendly
@generation_options
def generate(req, db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt,
             dry_run: bool = typer.Option(False, "--dry-run", help="store nothing: print the "
                                          "first 2 questions' prompts and 2 samples of each "
                                          "with the answer, class and verdict the map B and "
                                          "the exact judge give them")):
    """Stage 1: sample M answers per question; prints the run id."""
    if dry_run:
        _print_preview(api.preview(req, log=_log))
        return
    with LiveProgress() as progress:
        run_id = api.generate(req, db_path=db, mlflow_uri=mlflow_uri, progress=progress,
                              log=_log)
    out.print(run_id)


@app.command("resume")
@friendly
def resume_cmd(run_id: str, db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Finish a run that stopped part-way: samples only what is missing."""
    with LiveProgress() as progress:
        api.resume(run_id, db_path=db, mlflow_uri=mlflow_uri, progress=progress, log=_log)
    out.print(run_id)


def _print_preview(found: list[dict]) -> None:
    mark = {True: "right", False: "wrong", None: "no verdict"}
    for q in found:
        out.print(f"question {q['question_id']}: {q['question']} (gold: "
                  f"{' | '.join(q['gold'])})", markup=False, highlight=False, soft_wrap=True)
        prompt = q["prompt"] if isinstance(q["prompt"], str) else json.dumps(q["prompt"])
        out.print("prompt, as the run would store it:", style="bold", highlight=False)
        out.print(prompt, markup=False, highlight=False, soft_wrap=True)
        for i, smp in enumerate(q["samples"], 1):
            cut = " (cut at the token budget)" if smp["finish_reason"] == "length" else ""
            read = (f"answer {smp['answer']!r}, class {smp['class']!r}: {mark[smp['correct']]}"
                    if smp["answer"] is not None else "no answer read")
            out.print(f"  sample {i}{cut}: {smp['text']!r} -> {read}", markup=False,
                      highlight=False, soft_wrap=True)
    out.print("dry run: nothing was stored", highlight=False)


JudgeOpt = typer.Option("exact", "--judge", help="a rule judge (exact, contains, "
                        "contains-number) or a stored LLM judge")


@app.command()
@friendly
def grade(run_id: str, judge: str = JudgeOpt,
          then_score: bool = typer.Option(False, "--score", help="score the grading too, and "
                                          "print its metrics"),
          db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Stage 2: answers → semantic classes → verdicts; prints the grading id."""
    with LiveProgress("judged", "classes", sparse=True) as progress:
        grading_id = api.grade(run_id, judge, db_path=db, mlflow_uri=mlflow_uri,
                               progress=progress)
    out.print(grading_id)
    if then_score:
        score_id = api.score(grading_id, db_path=db, mlflow_uri=mlflow_uri)
        out.print(f"score {score_id}")
        _print_metrics(score_id, db)


def _print_metrics(score_id: str, db: Optional[Path]):
    from ..analysis.metrics import METRICS  # NumPy: figures
    from ..render.tables import floor_notes, metrics_table, shortcut_line

    info = api.show(score_id, db_path=db)
    s = info["score"]
    out.print(metrics_table([({"score": score_id}, info["metrics"])],
                            which=tuple(m for m in METRICS if m in info["metrics"])))
    for line in floor_notes(info["metrics"]):
        out.print(line, highlight=False)
    out.print(f"{s['n_questions']} questions scored, {s['n_excluded']} left out (no verdict); "
              f"{(s['truncated_share'] or 0):.1%} of samples hit their token budget without an "
              f"answer; confidence: {s['estimator']}; " + (
                  f"reliability diagram: {s['diagram_path']}" if s["diagram_path"] else
                  "a measure that ranks, not a probability: no calibration figures"),
              highlight=False)
    if s.get("echo_share") is not None:
        out.print(shortcut_line(s), highlight=False)


def _score_all(grading_id: str, options: dict) -> None:
    """One score per measure, and a table of them side by side."""
    from ..render.tables import metrics_table  # NumPy: figures

    done = api.score_measures(grading_id, **options)
    rows = [({"measure": name, "score": sid}, api.metrics(sid, db_path=options["db_path"]))
            for name, sid, _ in done if sid]
    out.print(metrics_table(rows, title=f"grading {grading_id} under each measure",
                            which=("accuracy", "auroc", "aurac", "smece", "ece", "brier")))
    for name, _, why in done:
        if why:
            out.print(f"{name}: not scored: {why}", highlight=False, soft_wrap=True)
    out.print("smECE, ECE and Brier only for measures that are probabilities; AUROC and AURAC "
              "rank every measure", highlight=False)


@app.command()
@friendly(judge="--graded-by")
def score(grading_id: str = typer.Argument(..., metavar="GRADING|RUN|SCORE",
                                           help="a grading, a run (its grading by --graded-by) "
                                           "or a score (its grading again), or a prefix"),
          graded_by: Optional[str] = GradedByOpt,
          bootstrap: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples"),
          seed: int = SeedOpt, bins: int = typer.Option(15, "--bins", help="ECE bins"),
          estimator: str = typer.Option("plurality", "--estimator", help="plurality (the "
                                        "top class's share of M) | split (chosen on half the "
                                        "samples, measured on the other: unbiased) | "
                                        "weighted_plurality (the top class's share of the "
                                        "sampled sequences' probability mass) | ranking only: "
                                        "semantic_entropy, weighted_semantic_entropy, "
                                        "n_classes, answer_logprob | all: every measure, side "
                                        "by side"),
          floor_draws: int = typer.Option(200, "--floor-draws", help="draws of the "
                                          "calibrated-model floor beside smECE and ECE"),
          db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Stage 3: calibration metrics with bootstrap intervals and a reliability diagram."""
    if estimator == "all":
        _score_all(grading_id, dict(n_bootstrap=bootstrap, seed=seed, bins=bins,
                                    floor_draws=floor_draws, judge=graded_by, db_path=db,
                                    mlflow_uri=mlflow_uri))
        return
    score_id = api.score(grading_id, n_bootstrap=bootstrap, seed=seed, bins=bins,
                         estimator=estimator, floor_draws=floor_draws, judge=graded_by,
                         db_path=db, mlflow_uri=mlflow_uri)
    out.print(score_id)
    _print_metrics(score_id, db)
    if estimator == "plurality":
        _print_measures(score_id, db)


def _print_measures(score_id: str, db: Optional[Path]) -> None:
    """Every sample-based measure of the same grading beside the paper's, as point estimates."""
    rows = api.measure_summary(score_id, db_path=db)
    table = Table(title="every sample-based measure, point estimates (`--estimator NAME` "
                        "stores one with intervals; `all`, each)")
    for col in ("measure", "questions", "AUROC", "AURAC", "smECE"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["measure"], str(r["n"]), *(
            "—" if r[k] is None or r[k] != r[k] else f"{r[k]:.3f}"
            for k in ("auroc", "aurac", "smece")))
    out.print(table)


@app.command()
@friendly(judge="--graded-by")
def elicit(grading_id: str = typer.Argument(..., metavar="GRADING|RUN|SCORE",
                                            help="a grading, a run (its grading by --graded-by) "
                                            "or a score, or a prefix"),
           measure: str = typer.Option("p_true", "--measure", help="p_true (P(yes) when asked "
                                       "whether its answer is correct) | verbalized (the "
                                       "0-100 confidence it states)"),
           graded_by: Optional[str] = GradedByOpt,
           db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """Ask the run's model how sure it is of each answer (one call a question, stored with its
    prompt); then `score G --estimator MEASURE`."""
    with LiveProgress("asked", "questions", sparse=True) as progress:
        done = api.elicit(grading_id, measure, judge=graded_by, db_path=db,
                          mlflow_uri=mlflow_uri, progress=progress,
                          log=lambda s: err.print(s, markup=False, highlight=False))
    out.print(f"{done['grading_id']}: asked {done['asked']} questions for {measure}; "
              f"{done['stated']} stated a confidence, {done['failed']} calls failed; "
              f"`workbench score {done['grading_id']} --estimator {measure}` scores it",
              soft_wrap=True, markup=False)


@app.command()
@friendly(judge="--graded-by", ms="--samples/-m")
def ablate(item_id: str = typer.Argument(..., metavar="GRADING|RUN|SCORE",
                                         help="a grading, run or score id, or a prefix"),
           samples: Optional[str] = typer.Option(None, "--samples", "-m", help="the sample "
                                                 "counts m to try, comma-separated, e.g. "
                                                 "1,2,5,10 (no new sampling)"),
           m: Optional[str] = typer.Option(None, "--m", hidden=True, help="deprecated: -m"),
           graded_by: Optional[str] = GradedByOpt, judge: Optional[str] = OldJudgeOpt,
           repeats: int = typer.Option(20, "--repeats", help="seeded subsamples per m"),
           seed: int = SeedOpt, bins: int = typer.Option(15, "--bins", help="ECE bins"),
           db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """The M ablation: each metric with only m of each question's M stored samples.

    Writes only the ablation (no new score); prints its id and table."""
    m = renamed(samples, m, "--m", "--samples/-m")
    judge = renamed(graded_by, judge, "--judge", "--graded-by")
    if m is None:
        raise UsageError("ms", "give the sample counts to try, e.g. -m 1,2,5,10")
    ms = _int_list(m)
    ablation_id = api.ablate(item_id, ms, judge=judge, repeats=repeats, seed=seed, bins=bins,
                             db_path=db, mlflow_uri=mlflow_uri)
    out.print(ablation_id)
    _print_ablation(api.ablation(ablation_id, db_path=db), repeats)
    if 1 in ms:
        from ..stages.ablate import TRIVIAL_NOTE  # loaded by the API call above already

        out.print(f"* {TRIVIAL_NOTE}", highlight=False)


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError("ms", f"{text!r}: expected comma-separated integers") from None


def _print_ablation(rows: list[dict], repeats: int):
    from ..analysis.metrics import METRICS  # NumPy: only when a figure is printed

    table = Table(title=f"M ablation: mean ± sd over {repeats} seeded subsamples per m")
    table.add_column("m", justify="right")
    for metric in METRICS.values():
        table.add_column(metric.label, justify="right")
    by_m: dict[int, dict] = {}
    for r in rows:
        by_m.setdefault(r["m"], {})[r["metric"]] = r
    for mv, cells in sorted(by_m.items()):
        table.add_row(str(mv) + ("*" if mv == 1 else ""),
                      *[("—" if cells[k]["mean"] is None else
                         f"{cells[k]['mean']:.3f} ± {cells[k]['sd'] or 0:.3f}")
                        for k in METRICS])
    out.print(table)


@app.command()
@friendly
@generation_options
def run(req, judge: str = JudgeOpt,
        bootstrap: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples"),
        db: Optional[Path] = DbOpt, mlflow_uri: Optional[str] = MlflowOpt):
    """generate → grade → score in one go."""
    with LiveProgress() as progress:
        res = api.run_all(req, judge, n_bootstrap=bootstrap, db_path=db, mlflow_uri=mlflow_uri,
                          progress=progress, log=_log)
    out.print(f"run {res.run_id}  grading {res.grading_id}  score {res.score_id}")
    _print_metrics(res.score_id, db)

"""Stage 3: per-question confidence and correctness → calibration metrics with intervals, each
calibration error beside its noise floor.

With the paper's plurality estimator the per-question figures are the ``question_confidence``
view's, so they can be reproduced in SQL; the split-sample estimator reads the samples' classes.
Questions whose answer class has no verdict (a judge error) are left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..analysis import diagram
from ..analysis.confidence import (
    ELICITED,
    ESTIMATORS,
    MEASURES,
    NEEDS_SEQUENCES,
    per_question,
)
from ..analysis.floor import SIMULATED, distribution, floor
from ..analysis.metrics import RANKING
from ..analysis.resample import Estimate, bootstrap, check_draws
from ..analysis.shortcut import shortcuts
from ..errors import NoLogprobs, NotAsked, StageError, UsageError
from ..lifecycle.artifacts import question_rows, write_csv, write_table
from ..lifecycle.context import Context, check_writable, open_context, stage
from ..lifecycle.resolve import grading_for
from ..store import elicited, queries, records


@dataclass(frozen=True)
class ScoreOptions:
    n_bootstrap: int = 1000
    seed: int = 0
    bins: int = 15
    estimator: str = "plurality"  # analysis/confidence.ESTIMATORS
    floor_draws: int = 200  # draws of the calibrated-model floor (0: none)

    def check(self) -> None:
        for name in ("n_bootstrap", "floor_draws"):
            check_draws(name, getattr(self, name))
        if self.bins <= 0:
            raise UsageError("bins", f"must be ≥ 1, got {self.bins}")
        if self.estimator not in ESTIMATORS:
            raise UsageError("estimator", f"{self.estimator!r} is not one of "
                                          f"{', '.join(ESTIMATORS)}")


def score(grading_id: str, *, n_bootstrap: int = 1000, seed: int = 0, bins: int = 15,
          estimator: str = "plurality", floor_draws: int = 200, judge: str | None = None,
          db_path: Path | None = None, mlflow_uri: str | None = None) -> str:
    """Score a finished grading (or a run's grading by ``judge``, or a score's grading again);
    returns the new score id. Every calibration error gets its noise floor (``floor_draws``
    draws of a calibrated model). The M ablation is its own stage (``stages/ablate.py``)."""
    opts = ScoreOptions(n_bootstrap, seed, bins, estimator, floor_draws)
    opts.check()
    check_writable(db_path, mlflow_uri, existing=True)
    with open_context(db_path, mlflow_uri) as ctx:
        with ctx.writer.session() as con:
            grading = grading_for(con, grading_id, judge)  # FINISHED, or a one-line error
            grading_id = grading["grading_id"]
            table = queries.question_table(con, grading_id)
            run = queries.one(con, "run", grading["run_id"])
            dataset = queries.dataset_name(con, run["dataset_id"])
            classes, verdicts = queries.sample_classes(con, grading_id)
            truncated = queries.truncated_share(con, grading_id)
            classes_text = queries.class_summaries(con, grading_id)
            seqs = (_sequences(con, grading_id, run, opts.estimator)
                    if opts.estimator in NEEDS_SEQUENCES else
                    _stated(con, grading_id, opts.estimator)
                    if opts.estimator in ELICITED else None)
        return _score(ctx, opts, grading, run, dataset, table, classes, verdicts, truncated,
                      classes_text, seqs)


def score_measures(grading_id: str, measures: list[str] | None = None,
                   **options) -> list[tuple[str, str | None, str | None]]:
    """Score a grading under each measure (default: every one in ``analysis/confidence``), one
    score each; returns (measure, score id, None), or (measure, None, why) for a measure the run
    cannot support (no stored log-probabilities)."""
    names = list(measures or MEASURES)
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        raise UsageError("estimator", f"{', '.join(unknown)}: not among {', '.join(MEASURES)}")
    done = []
    for name in names:
        try:
            done.append((name, score(grading_id, estimator=name, **options), None))
        except (NoLogprobs, NotAsked) as exc:
            done.append((name, None, str(exc).split("; ")[0]))
    return done


def _sequences(con, grading_id: str, run: dict, estimator: str) -> dict:
    """Each question's samples' (text, log p, tokens); refused when the run stored no log p or
    token count for some."""
    seqs = queries.sample_sequences(con, grading_id)
    missing = sum(lp is None or n is None for ss in seqs.values() for _, lp, n in ss)
    if missing:
        readable = ", ".join(k for k, m in MEASURES.items() if not m.sequences)
        raise NoLogprobs(f"run {run['run_id']} stored no log-probability or token count for "
                         f"{missing} samples (backend {run['backend']}); the {estimator} "
                         f"estimator needs them: score it with {readable}")
    return seqs


def _stated(con, grading_id: str, measure: str) -> dict:
    """What the model stated per question when asked for ``measure``; refused when it was not
    asked for this grading."""
    found = elicited.confidences(con, grading_id, measure)
    if not found:
        raise NotAsked(f"grading {grading_id} has no {measure} answers from its model "
                       f"(`workbench elicit {grading_id} --measure {measure}` asks for them)")
    return found


def _score(ctx: Context, opts: ScoreOptions, grading, run, dataset, table, classes, verdicts,
           truncated, classes_text: dict[str, str], seqs: dict | None = None) -> str:
    f, y, kept_classes, asked = per_question(opts.estimator, table, classes, verdicts, seqs)
    if not len(f):
        raise StageError(f"grading {grading['grading_id']} has no judged questions to score")
    m = run["samples_per_question"]
    score_id = records.new_id("scr")
    out_dir = config.stage_dir(ctx.artifacts, "scores", score_id)
    with ctx.writer.session() as con:
        records.create_score(con, dict(
            score_id=score_id, grading_id=grading["grading_id"], n_questions=len(f),
            n_excluded=len(table) - len(f), n_bootstrap=opts.n_bootstrap, ece_bins=opts.bins,
            seed=opts.seed, estimator=opts.estimator, floor_draws=opts.floor_draws,
            truncated_share=truncated, **shortcuts(table)._asdict()))
    probability = MEASURES[opts.estimator].probability
    with stage(ctx, "scores", score_id):
        # A measure that only ranks gets the metrics that read its order, no calibration
        est = bootstrap(f, y, n_bootstrap=opts.n_bootstrap, seed=opts.seed, bins=opts.bins,
                        which=None if probability else RANKING)
        floors = floor([distribution(c) for c in kept_classes], m, estimator=opts.estimator,
                       draws=opts.floor_draws, seed=opts.seed,
                       bins=opts.bins) if opts.floor_draws and opts.estimator in SIMULATED \
            else {}
        est = {k: Estimate(e.value, e.ci_low, e.ci_high, *((floors[k].mean, floors[k].p95)
                                                             if k in floors else ()))
               for k, e in est.items()}
        png = diagram.draw(diagram.prepare(f, y, seed=opts.seed), out_dir / "reliability.png",
                           diagram.title(f"{run['model']} · {run['style']} · {dataset}",
                                         est["smece"], len(f), m)) if probability else None
        columns, rows = question_rows(table, classes_text, grading["judge"])
        write_csv(out_dir / "questions.csv", columns, rows)
        write_table(out_dir / "questions.json", columns, rows)
        with ctx.writer.transaction() as con:
            records.write_metrics(con, score_id, est,
                                  config.stored_path(ctx.path, png) if png else None)
            records.insert_rows(con, "score_questions", [  # what the figures were made of
                dict(score_id=score_id, question_id=q, confidence=float(c), correct=bool(v))
                for q, c, v in zip(asked, f, y)])
    return score_id

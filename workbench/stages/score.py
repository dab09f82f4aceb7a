"""Stage 3: per-question confidence and correctness → calibration metrics with intervals.

Reads the ``question_confidence`` view, so the figures can be reproduced in SQL. Questions whose
answer class has no verdict (a judge error) are left out and counted.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..analysis import ablation, diagram
from ..analysis.resample import Estimate, bootstrap
from ..errors import StageError, UsageError
from ..store import queries, records
from .lifecycle import Context, check_writable, open_context, stage


def score(grading_id: str, *, n_bootstrap: int = 1000, seed: int = 0, bins: int = 15,
          ablation_ms: list[int] | None = None, ablation_repeats: int = 20,
          db_path: Path | None = None, mlflow_uri: str | None = None) -> str:
    """Score a finished grading; returns the new score id. With ``ablation_ms``, also the M
    ablation: the metrics when each question keeps only m of its samples (stored in
    ``m_ablation``)."""
    if ablation_ms and ablation_repeats < 2:
        raise UsageError("ablation_repeats", f"must be ≥ 2, got {ablation_repeats}")
    if n_bootstrap < 0:
        raise UsageError("n_bootstrap", f"must be ≥ 0, got {n_bootstrap}")
    if bins <= 0:
        raise UsageError("bins", f"must be ≥ 1, got {bins}")
    check_writable(db_path, mlflow_uri)
    with open_context(db_path, mlflow_uri) as ctx:
        with ctx.writer.session() as con:
            grading = queries.one(con, "grading", grading_id)
            if grading["status"] != "FINISHED":
                raise StageError(f"grading {grading_id} is {grading['status']}, not FINISHED")
            table = queries.question_table(con, grading_id)
            run = queries.one(con, "run", grading["run_id"])
            dataset = queries.dataset_name(con, run["dataset_id"])
            classes = queries.sample_classes(con, grading_id) if ablation_ms else None
        if classes is not None:
            most = min(len(c) for c in classes[0].values())
            too_big = [m for m in ablation_ms if m > most]
            if too_big:
                raise UsageError("ablation_ms", f"{','.join(map(str, too_big))}: the run "
                                                f"stored only {most} samples per question")
        return _score(ctx, grading, run, dataset, table, n_bootstrap, seed, bins, ablation_ms,
                      ablation_repeats, classes)


def _score(ctx: Context, grading, run, dataset, table, n_bootstrap, seed, bins, ablation_ms,
           ablation_repeats, classes) -> str:
    kept = [r for r in table if r["correct"] is not None]
    if not kept:
        raise StageError(f"grading {grading['grading_id']} has no judged questions to score")
    f = np.array([r["confidence"] for r in kept], float)
    y = np.array([r["correct"] for r in kept], float)
    score_id = records.new_id("scr")
    out_dir = ctx.artifacts / "scores" / score_id
    with ctx.writer.session() as con:
        records.create_score(con, dict(
            score_id=score_id, grading_id=grading["grading_id"], n_questions=len(kept),
            n_excluded=len(table) - len(kept), n_bootstrap=n_bootstrap, ece_bins=bins,
            seed=seed))
    with stage(ctx, "scores", score_id):
        est = bootstrap(f, y, n_bootstrap=n_bootstrap, seed=seed, bins=bins)
        png = diagram.draw(diagram.prepare(f, y, seed=seed), out_dir / "reliability.png",
                           f"{run['model']} · {run['style']} · {dataset}\n"
                           f"smECE {est['smece'].value:.3f}, n={len(kept)}, "
                           f"M={run['samples_per_question']}")
        _write_table(table, out_dir / "questions.csv")
        rows = []
        if ablation_ms:
            per_q_classes, verdicts = classes
            rows = ablation.ablate([np.array(c) for c in per_q_classes.values()],
                                   [verdicts.get(q, {}) for q in per_q_classes], ablation_ms,
                                   repeats=ablation_repeats, seed=seed, bins=bins)
        with ctx.writer.transaction() as con:
            records.write_metrics(con, score_id, est, str(png))
            if rows:
                records.write_ablation(con, score_id, rows)
    return score_id


def _write_table(table: list[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        for r in table:
            w.writerow({**r, "answers": "|".join(r["answers"])})
    return path


def metrics_of(con, score_id: str) -> dict[str, Estimate]:
    return {r["metric"]: Estimate(r["value"], r["ci_low"], r["ci_high"])
            for r in queries.score_metrics(con, score_id)}

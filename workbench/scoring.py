"""Stage 3: per-question confidence and correctness → calibration metrics with intervals.

Reads the ``question_confidence`` view, so the figures can be reproduced in SQL. Questions whose
answer class has no verdict (a judge error) are left out and counted.
"""

from __future__ import annotations

import csv
import os
import socket
from pathlib import Path

import numpy as np

from . import config, diagram, metrics, store
from .recovery import open_writer
from .tracking import Tracker, experiment_name, variant_tags


class ScoringError(RuntimeError):
    pass


def question_table(con, grading_id: str) -> list[dict]:
    return store.rows(con, """SELECT question_id, question, answers, answer, answer_count, m,
                                     n_classes, confidence, correct
                              FROM question_confidence WHERE grading_id = ?
                              ORDER BY question_id""", [grading_id])


def score(grading_id: str, *, n_bootstrap: int = 1000, seed: int = 0, bins: int = 15,
          ablation_ms: list[int] | None = None, ablation_repeats: int = 20,
          db_path: Path | None = None, mlflow_uri: str | None = None) -> str:
    """Score a finished grading; returns the new score id. With ``ablation_ms``, also the M
    ablation: the metrics when each question keeps only m of its samples (stored in
    ``m_ablation``)."""
    if ablation_ms and ablation_repeats < 2:
        raise ValueError(f"--repeats must be ≥ 2, got {ablation_repeats}")
    if n_bootstrap < 0:
        raise ValueError(f"--bootstrap must be ≥ 0, got {n_bootstrap}")
    if bins <= 0:
        raise ValueError(f"--bins must be ≥ 1, got {bins}")
    con, db_path, mlflow_uri = open_writer(db_path, mlflow_uri)
    try:
        grading = store.one(con, "gradings", "grading_id", grading_id)
        if grading["status"] != "FINISHED":
            raise ScoringError(f"grading {grading_id} is {grading['status']}, not FINISHED")
        return _score(con, db_path, mlflow_uri, grading, n_bootstrap, seed, bins,
                      ablation_ms or [], ablation_repeats)
    finally:
        con.close()


def _score(con, db_path, mlflow_uri, grading, n_bootstrap, seed, bins, ablation_ms,
           ablation_repeats) -> str:
    table = question_table(con, grading["grading_id"])
    kept = [r for r in table if r["correct"] is not None]
    if not kept:
        raise ScoringError(f"grading {grading['grading_id']} has no judged questions to score")
    f = np.array([r["confidence"] for r in kept], float)
    y = np.array([r["correct"] for r in kept], float)
    run = store.one(con, "runs", "run_id", grading["run_id"])
    dataset = store.dataset_name(con, run["dataset_id"])

    score_id = store.new_id("scr")
    out_dir = config.artifacts_dir(db_path) / "scores" / score_id
    store.insert_rows(con, "scores", [dict(
        score_id=score_id, grading_id=grading["grading_id"], status="RUNNING",
        n_questions=len(kept), n_excluded=len(table) - len(kept), n_bootstrap=n_bootstrap,
        ece_bins=bins, seed=seed, pid=os.getpid(), host=socket.gethostname())])
    tracker = Tracker(mlflow_uri, config.artifacts_dir(db_path))
    params = dict(stage="score", score_id=score_id, grading_id=grading["grading_id"],
                  run_id=run["run_id"], model=run["model"], model_kind=run["model_kind"],
                  style=run["style"], dataset=dataset, samples=run["samples_per_question"],
                  temperature=run["temperature"], seed=seed, judge=grading["judge"],
                  n_bootstrap=n_bootstrap, ece_bins=bins)
    try:
        with tracker.stage(experiment_name(dataset), f"score {run['model']} {run['style']}",
                           params, {"workbench.score_id": score_id,
                                    "workbench.grading_id": grading["grading_id"],
                                    "workbench.run_id": run["run_id"],
                                    "workbench.stage": "score",
                                    "workbench.judge": grading["judge"],
                                    **variant_tags(run, dataset)}) as ml:
            store.set_mlflow_run(con, "scores", "score_id", score_id, ml.run_id)
            est = metrics.bootstrap(f, y, n_bootstrap=n_bootstrap, seed=seed, bins=bins)
            png = diagram.draw(diagram.prepare(f, y, seed=seed), out_dir / "reliability.png",
                               f"{run['model']} · {run['style']} · {dataset}\n"
                               f"smECE {est['smece'].value:.3f}, n={len(kept)}, "
                               f"M={run['samples_per_question']}")
            per_q = _write_table(table, out_dir / "questions.csv")
            with store.transaction(con):
                store.insert_rows(con, "score_metrics", [
                    dict(score_id=score_id, metric=k, value=store.sql_float(e.value),
                         ci_low=store.sql_float(e.ci_low),
                         ci_high=store.sql_float(e.ci_high))
                    for k, e in est.items()])
                con.execute("UPDATE scores SET diagram_path = ? WHERE score_id = ?",
                            [str(png), score_id])
            logged = {k: e.value for k, e in est.items()}
            logged.update({f"{k}_ci_low": e.ci_low for k, e in est.items()})
            logged.update({f"{k}_ci_high": e.ci_high for k, e in est.items()})
            logged.update(n_questions=len(kept), n_excluded=len(table) - len(kept))
            ml.log_metrics(logged)
            ml.log_artifact(png)
            ml.log_artifact(per_q)
            if ablation_ms:
                from .comparison import m_ablation

                rows = m_ablation(con, score_id, grading["grading_id"], ablation_ms,
                                  repeats=ablation_repeats, seed=seed, bins=bins)
                for m in ablation_ms:
                    ml.log_metrics({f"ablation_{r.metric}": r.mean for r in rows if r.m == m},
                                   step=m)
        store.set_status(con, "scores", "score_id", score_id, "FINISHED")
    except BaseException as exc:
        store.set_status(con, "scores", "score_id", score_id, "FAILED", repr(exc)[:2000])
        raise
    return score_id


def _write_table(table: list[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        for r in table:
            w.writerow({**r, "answers": "|".join(r["answers"])})
    return path


def metrics_of(con, score_id: str) -> dict[str, metrics.Estimate]:
    return {r["metric"]: metrics.Estimate(r["value"], r["ci_low"], r["ci_high"])
            for r in store.rows(con, "SELECT metric, value, ci_low, ci_high FROM score_metrics "
                                     "WHERE score_id = ?", [score_id])}

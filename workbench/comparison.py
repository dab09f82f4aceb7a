"""Variants side by side: `diff` two runs or gradings, `compare` every variant of a dataset, and
the M ablation of a grading. Reads the store's views, writes artifacts, mirrors to MLflow."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import ablation, config, db, diagram, diffing, store
from .metrics import Estimate
from .tracking import Tracker, experiment_name

GROUP_FIELDS = ("model", "kind", "style", "backend", "prompt_format", "shots", "m",
                "temperature", "dtype", "judge")


class CompareError(ValueError):
    pass


def _open_read(db_path: Path | None, mlflow_uri: str | None):
    path = config.db_path(db_path)
    return db.connect(path, read_only=True), path, config.mlflow_uri(path, mlflow_uri)


def resolve_grading(con, item_id: str) -> dict:
    """A grading by its id, or a run's newest finished grading."""
    if item_id.startswith("grd_"):
        grading = store.one(con, "gradings", "grading_id", item_id)
    else:
        store.one(con, "runs", "run_id", item_id)
        found = store.rows(con, "SELECT * FROM gradings WHERE run_id = ? AND status = 'FINISHED' "
                                "ORDER BY created_at DESC LIMIT 1", [item_id])
        if not found:
            raise CompareError(f"run {item_id} has no finished grading; "
                               f"`workbench grade {item_id}` makes one")
        grading = found[0]
    if grading["status"] != "FINISHED":
        raise CompareError(f"grading {grading['grading_id']} is {grading['status']}")
    return grading


def points(con, grading_id: str) -> list[diffing.Point]:
    return [diffing.Point(r["question_id"], r["question"], r["answer"], r["answer_key"],
                          r["confidence"], r["correct"])
            for r in store.rows(con, "SELECT question_id, question, answer, answer_key, "
                                     "confidence, correct FROM question_confidence "
                                     "WHERE grading_id = ?", [grading_id])]


def diff(a: str, b: str, *, n_bootstrap: int = 1000, seed: int = 0, db_path: Path | None = None,
         mlflow_uri: str | None = None) -> tuple[dict, dict, diffing.Diff]:
    """Returns (grading A, grading B, the diff); logs the diff to MLflow as artifacts. Reads
    the store read-only."""
    con, path, uri = _open_read(db_path, mlflow_uri)
    try:
        ga, gb = resolve_grading(con, a), resolve_grading(con, b)
        da = _dataset_of(con, ga["run_id"])
        db_ = _dataset_of(con, gb["run_id"])
        result = diffing.diff(points(con, ga["grading_id"]), points(con, gb["grading_id"]),
                              n_bootstrap=n_bootstrap, seed=seed)
        out = config.artifacts_dir(path) / "diffs" / f"{ga['grading_id']}-{gb['grading_id']}"
        out.mkdir(parents=True, exist_ok=True)
        (out / "diff.json").write_text(json.dumps(diff_record(ga, gb, result), indent=1,
                                                  default=str))
        tracker = Tracker(uri, config.artifacts_dir(path))
        with tracker.stage(experiment_name(da), f"diff {a} {b}",
                           {"stage": "diff", "a": ga["grading_id"], "b": gb["grading_id"],
                            "dataset_a": da, "dataset_b": db_, "n_bootstrap": n_bootstrap,
                            "seed": seed},
                           {"workbench.stage": "diff"}) as ml:
            ml.log_metrics({f"delta_{m.metric}": m.delta for m in result.metrics}
                           | {"n_shared": result.n_shared, "class_changed": result.class_changed})
            ml.log_artifact(out / "diff.json")
        return ga, gb, result
    finally:
        con.close()


def diff_record(ga: dict, gb: dict, d: diffing.Diff) -> dict:
    return {
        "a": ga["grading_id"], "b": gb["grading_id"], "run_a": ga["run_id"],
        "run_b": gb["run_id"], "n_shared": d.n_shared, "n_left_out": d.n_left_out,
        "metrics": [asdict(m) for m in d.metrics],
        "class_changed": d.class_changed, "became_correct": d.became_correct,
        "became_wrong": d.became_wrong,
        "confidence_correct": dict(zip("ab", d.confidence_correct)),
        "confidence_wrong": dict(zip("ab", d.confidence_wrong)),
        "largest_confidence_changes": [
            {"question_id": x.question_id, "question": x.question, "answer_a": x.answer,
             "confidence_a": x.confidence, "correct_a": x.correct, "answer_b": y.answer,
             "confidence_b": y.confidence, "correct_b": y.correct} for x, y in d.largest],
    }


def compare(dataset: str, group_by: list[str], *, db_path: Path | None = None,
            mlflow_uri: str | None = None, seed: int = 0) -> tuple[list[dict], Path]:
    """One row per variant of a dataset (its newest scored run), and one PNG overlaying their
    reliability diagrams."""
    bad = [g for g in group_by if g not in GROUP_FIELDS]
    if bad:
        raise CompareError(f"--group-by {','.join(bad)}: not among {', '.join(GROUP_FIELDS)}")
    con, path, uri = _open_read(db_path, mlflow_uri)
    try:
        family = dataset.split("@")[0]
        runs = store.rows(con, """SELECT * FROM variants
                                  WHERE score_id IS NOT NULL AND (dataset = ? OR
                                        (? = dataset_family AND ? NOT LIKE '%@%'))
                                  ORDER BY created_at DESC""", [dataset, family, dataset])
        if not runs:
            raise CompareError(f"no scored runs on dataset {dataset!r}; `workbench runs` lists "
                               "what is stored")
        groups: dict[tuple, list[dict]] = {}
        for r in runs:
            groups.setdefault(tuple(r[g] for g in group_by), []).append(r)
        rows = []
        for key, members in sorted(groups.items(), key=lambda kv: [str(k) for k in kv[0]]):
            newest = members[0]
            est = {m["metric"]: Estimate(m["value"], m["ci_low"], m["ci_high"])
                   for m in store.rows(con, "SELECT * FROM score_metrics WHERE score_id = ?",
                                       [newest["score_id"]])}
            rows.append({"variant": dict(zip(group_by, key)), "runs": len(members),
                         "run_id": newest["run_id"], "grading_id": newest["grading_id"],
                         "score_id": newest["score_id"], "metrics": est})
        png = _overlay(con, rows, config.artifacts_dir(path) / "compare" /
                       f"{family.replace(':', '_')}-{int(time.time())}.png", dataset, seed)
        tracker = Tracker(uri, config.artifacts_dir(path))
        with tracker.stage(experiment_name(family), f"compare {dataset}",
                           {"stage": "compare", "dataset": dataset,
                            "group_by": ",".join(group_by), "variants": len(rows)},
                           {"workbench.stage": "compare"}) as ml:
            table = png.with_suffix(".json")
            table.write_text(json.dumps(rows, indent=1, default=_jsonable))
            ml.log_artifact(png)
            ml.log_artifact(table)
        return rows, png
    finally:
        con.close()


def _overlay(con, rows: list[dict], path: Path, title: str, seed: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], ls="--", color="gray", lw=1)
    for r in rows:
        pts = [p for p in points(con, r["grading_id"]) if p.correct is not None]
        f = np.array([p.confidence for p in pts])
        y = np.array([float(p.correct) for p in pts])
        curve = diagram.prepare(f, y, seed=seed, band=False)
        label = " · ".join(f"{v}" for v in r["variant"].values())
        # Draw only where the variant has questions: the smoother extrapolates elsewhere.
        density = np.asarray(curve["density"], float)
        mu = np.where(density >= 0.02 * density.max(), np.asarray(curve["mu"], float), np.nan)
        ax.plot(curve["mesh"], mu, lw=2,
                label=f"{label} (smECE {r['metrics']['smece'].value:.3f}, n={len(pts)})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (share of the plurality class)")
    ax.set_ylabel("accuracy (smoothed)")
    ax.set_title(f"Reliability by variant: {title}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _jsonable(x):
    return asdict(x) if hasattr(x, "__dataclass_fields__") else str(x)


def m_ablation(con, score_id: str, grading_id: str, ms: list[int], *, repeats: int, seed: int,
               bins: int) -> list[ablation.AblationRow]:
    """Subsample the grading's stored classes and store the rows under the score."""
    classes, verdicts = [], []
    per_q: dict[str, list[int]] = {}
    for qid, cid in con.execute("SELECT question_id, class_id FROM sample_classes "
                                "WHERE grading_id = ? ORDER BY question_id, sample_idx",
                                [grading_id]).fetchall():
        per_q.setdefault(qid, []).append(-1 if cid is None else cid)
    judged: dict[str, dict[int, bool | None]] = {}
    for qid, cid, ok in con.execute("SELECT question_id, class_id, correct FROM class_grades "
                                    "WHERE grading_id = ?", [grading_id]).fetchall():
        judged.setdefault(qid, {})[cid] = ok
    for qid, cls in per_q.items():
        classes.append(np.array(cls))
        verdicts.append(judged.get(qid, {}))
    most = min(len(c) for c in classes)
    too_big = [m for m in ms if m > most]
    if too_big:
        raise ValueError(f"--m {','.join(map(str, too_big))}: the run stored only {most} "
                         "samples per question")
    rows = ablation.ablate(classes, verdicts, ms, repeats=repeats, seed=seed, bins=bins)
    with store.transaction(con):
        con.execute("DELETE FROM m_ablation WHERE score_id = ?", [score_id])
        store.insert_rows(con, "m_ablation", [
            dict(score_id=score_id, m=r.m, metric=r.metric, mean=store.sql_float(r.mean),
                 sd=store.sql_float(r.sd), repeats=r.repeats) for r in rows])
    return rows


def _dataset_of(con, run_id: str) -> str:
    return store.first(con, "SELECT d.name FROM runs JOIN datasets d USING (dataset_id) "
                            "WHERE run_id = ?", [run_id])[0]



def kappa(a: list[bool], b: list[bool]) -> float:
    """Cohen's kappa of two binary raters; NaN when chance agreement is total.

    >>> kappa([True, True, False, False], [True, False, False, False])
    0.5
    """
    n = len(a)
    po = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return float("nan") if pe == 1 else (po - pe) / (1 - pe)


def compare_judges(a: str, b: str, *, n_bootstrap: int = 1000, seed: int = 0,
                   db_path: Path | None = None, mlflow_uri: str | None = None) -> dict:
    """Two gradings (usually two judges on one run): agreement on each shared question's
    correctness, Cohen's kappa, the disagreements, and how accuracy and smECE differ."""
    try:  # diff reads read-only, so the store is free again when it returns
        ga, gb, d = diff(a, b, n_bootstrap=n_bootstrap, seed=seed, db_path=db_path,
                         mlflow_uri=mlflow_uri)
        metrics = {m.metric: asdict(m) for m in d.metrics if m.metric in ("accuracy", "smece")}
    except ValueError:  # no question judged by both
        con = db.connect(config.db_path(db_path), read_only=True)
        try:
            ga, gb = resolve_grading(con, a), resolve_grading(con, b)
        finally:
            con.close()
        metrics = {}
    con = db.connect(config.db_path(db_path), read_only=True)
    try:
        pa = {p.question_id: p for p in points(con, ga["grading_id"])}
        pb = {p.question_id: p for p in points(con, gb["grading_id"])}
    finally:
        con.close()
    shared = sorted(q for q in pa.keys() & pb.keys()
                    if pa[q].correct is not None and pb[q].correct is not None)
    ya, yb = [pa[q].correct for q in shared], [pb[q].correct for q in shared]
    return {
        "a": ga["grading_id"], "b": gb["grading_id"], "judge_a": ga["judge"],
        "judge_b": gb["judge"], "same_run": ga["run_id"] == gb["run_id"],
        "n_shared": len(shared),
        "agreement": sum(x == y for x, y in zip(ya, yb)) / len(shared) if shared else None,
        "kappa": kappa(ya, yb) if shared else None,
        "metrics": metrics,
        "disagreements": [{"question_id": q, "question": pa[q].question,
                           "answer_a": pa[q].answer, "correct_a": pa[q].correct,
                           "answer_b": pb[q].answer, "correct_b": pb[q].correct}
                          for q in shared if pa[q].correct != pb[q].correct],
    }

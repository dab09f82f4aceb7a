"""Variants side by side: ``diff`` two runs or gradings, ``compare`` every variant of a dataset,
and two judges on the same answers. Reads the store read-only, writes artifacts, mirrors to
MLflow."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from .. import config
from ..analysis import diagram
from ..analysis.agreement import kappa, probability_agreement
from ..analysis.confidence import ELICITED, MEASURES, NEEDS_SEQUENCES, per_question, restate
from ..analysis.diff import Diff, Point, Pooled, paired_points, pooled
from ..analysis.diff import diff as diff_points
from ..analysis.floor import SIMULATED, distribution, floor
from ..analysis.metrics import RANKING, compute
from ..analysis.shortcut import Shortcuts, shortcuts
from ..errors import NoSharedQuestions, StageError, UsageError
from ..lifecycle.artifacts import write_table
from ..lifecycle.resolve import grading_for
from ..store import elicited, experiments, queries, reader, verdicts
from ..tracking import experiment_name, log_analysis

GROUP_FIELDS = ("model", "kind", "style", "backend", "prompt_format", "shots", "m",
                "temperature", "dtype", "judge", "measure")


def points(con, grading_id: str) -> list[Point]:
    return [Point(r["question_id"], r["question"], r["answer"], r["answer_key"],
                  r["confidence"], r["correct"]) for r in queries.points(con, grading_id)]


def diff(a: str, b: str, *, judge: str | None = None, n_bootstrap: int = 1000, seed: int = 0,
         db_path: Path | None = None, mlflow_uri: str | None = None, log: bool = False,
         floor_draws: int = 200, estimator: str = "plurality") -> tuple[dict, dict, Diff]:
    """Returns (grading A, grading B, the diff), written to ``diff.json`` under the artifacts;
    with ``log``, also an MLflow run. ``a`` and ``b``: grading, score or run ids (or prefixes);
    a run means its grading by ``judge`` (``resolve.grading_for``). ``estimator``: the
    confidence measure both sides are compared under (``analysis/confidence.py``; one that only
    ranks gets accuracy, AUROC and AURAC). Each side's calibration errors come with their noise
    floor on the shared questions, where the measure has one. Reads the store read-only."""
    if estimator not in MEASURES:
        raise UsageError("estimator", f"{estimator!r} is not one of {', '.join(MEASURES)}")
    path, uri = config.paths(db_path, mlflow_uri)
    with reader(path) as con:
        ga, gb = grading_for(con, a, judge), grading_for(con, b, judge)
        da = queries.run_dataset_name(con, ga["run_id"])
        db_ = queries.run_dataset_name(con, gb["run_id"])
        pa, pb = points(con, ga["grading_id"]), points(con, gb["grading_id"])
        graded = [queries.sample_classes(con, g["grading_id"]) for g in (ga, gb)]
        runs = [queries.one(con, "run", g["run_id"]) for g in (ga, gb)]
        if estimator != "plurality":
            pa, pb = (restate(p, estimator, c, v, _inputs(con, g["grading_id"], estimator))
                      for p, (c, v), g in zip((pa, pb), graded, (ga, gb)))
    classes, ms = [c for c, _ in graded], [r["samples_per_question"] for r in runs]
    ga, gb = ({**g, "variant": f"{r['model']} · {r['style']} · {r['prompt_format']}",
               "estimator": estimator} for g, r in zip((ga, gb), runs))  # for the headers
    result = diff_points(pa, pb, n_bootstrap=n_bootstrap, seed=seed,
                         which=None if MEASURES[estimator].probability else RANKING)
    pairs = paired_points(pa, pb)[0]
    result = replace(result, shortcuts=[_shortcuts(side) for side in zip(*pairs)])
    if floor_draws and estimator in SIMULATED:
        shared = [x.question_id for x, _ in pairs]
        result = replace(result, floors=[
            floor([distribution(np.array(c[q])) for q in shared], m, estimator=estimator,
                  draws=floor_draws, seed=seed) for c, m in zip(classes, ms)])
    out = config.artifacts_dir(path) / "diffs" / f"{ga['grading_id']}-{gb['grading_id']}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "diff.json").write_text(json.dumps(diff_record(ga, gb, result), indent=1,
                                              default=str))
    if log:
        log_analysis(uri, config.artifacts_dir(path), experiment_name(da), f"diff {a} {b}",
             {"stage": "diff", "a": ga["grading_id"], "b": gb["grading_id"], "dataset_a": da,
              "dataset_b": db_, "n_bootstrap": n_bootstrap, "seed": seed},
             {f"delta_{m.metric}": m.delta for m in result.metrics}
             | {"n_shared": result.n_shared, "class_changed": result.class_changed},
             [out / "diff.json"])
    return ga, gb, result


def pooled_diff(a: str, bs: list[str], *, judge: str | None = None, n_bootstrap: int = 1000,
                seed: int = 0, db_path: Path | None = None) -> tuple[Pooled, list]:
    """One base (``a``) against variants tuned with different seeds (``bs``), on the questions
    all share: per metric the base, the seeds' mean and their mean difference with an interval
    over seeds and questions (``analysis.diff.pooled``); and each side's shortcut figures.
    Reads the store read-only."""
    path = config.db_path(db_path)
    with reader(path) as con:
        sides = [points(con, grading_for(con, x, judge)["grading_id"]) for x in [a, *bs]]
    return (pooled(sides[0], sides[1:], n_bootstrap=n_bootstrap, seed=seed),
            [_shortcuts(side) for side in sides])


def _shortcuts(side) -> Shortcuts:
    """A side's shortcut figures from its per-question points."""
    return shortcuts([{"question": p.question, "answer": p.answer, "answer_key": p.key}
                      for p in side])


def diff_record(ga: dict, gb: dict, d: Diff) -> dict:
    return {
        "a": ga["grading_id"], "b": gb["grading_id"], "run_a": ga["run_id"],
        "run_b": gb["run_id"], "n_shared": d.n_shared, "n_left_out": d.n_left_out,
        "metrics": [asdict(m) for m in d.metrics],
        "floors": {side: {k: asdict(v) for k, v in f.items()}
                   for side, f in zip("ab", d.floors)},
        "shortcuts": {side: sc._asdict() for side, sc in zip("ab", d.shortcuts)},
        "class_changed": d.class_changed, "became_correct": d.became_correct,
        "became_wrong": d.became_wrong,
        "confidence_correct": dict(zip("ab", d.confidence_correct)),
        "confidence_wrong": dict(zip("ab", d.confidence_wrong)),
        "largest_confidence_changes": [
            {"question_id": x.question_id, "question": x.question, "answer_a": x.answer,
             "confidence_a": x.confidence, "correct_a": x.correct, "answer_b": y.answer,
             "confidence_b": y.confidence, "correct_b": y.correct} for x, y in d.largest],
    }


def compare(dataset: str, group_by: list[str], *, judge: str | None = "exact",
            db_path: Path | None = None, mlflow_uri: str | None = None, seed: int = 0,
            log: bool = False, out: Path | None = None,
            experiment: str | None = None) -> tuple[list[dict], Path]:
    """One row per variant of a dataset (its newest scored run), and one PNG overlaying their
    reliability diagrams (with ``log``, also an MLflow run), with the table beside it as JSON.
    Only ``judge``'s gradings count (a judge is always explicit), unless the variants are
    grouped by judge. Grouped by ``measure``, each variant is shown under every confidence
    measure it was scored with (``score --estimator``), the newest score each; the overlay
    draws the measures that are probabilities (a measure that only ranks has no diagram).
    The PNG is ``out``, or named by what it shows (dataset, grouping, judge) under the
    store's artifacts, so the same comparison lands in the same file."""
    bad = [g for g in group_by if g not in GROUP_FIELDS]
    if bad:
        raise UsageError("group_by", f"{','.join(bad)}: not among {', '.join(GROUP_FIELDS)}")
    if out is not None and (Path(out).is_dir() or Path(out).suffix.lower() != ".png"):
        raise UsageError("out", f"{out}: the overlay is a PNG; give a path ending in .png")
    path, uri = config.paths(db_path, mlflow_uri)
    family = dataset.split("@")[0]
    by_judge = None if "judge" in group_by else judge
    with reader(path) as con:
        runs = queries.scored_variants(con, dataset, by_judge)
        if experiment is not None:
            known = experiments.experiment_names(con)
            if experiment not in known:
                raise UsageError("experiment", f"{experiment!r} is not a stored experiment "
                                 f"(stored: {', '.join(known) or 'none'})")
            made = set(experiments.experiment_runs(con, experiment))
            runs = [r for r in runs if r["run_id"] in made]
            if not runs:
                raise StageError(f"experiment {experiment!r} has no scored runs on dataset "
                                 f"{dataset!r}")
        if not runs:
            others = sorted({r["judge"] for r in queries.scored_variants(con, dataset)})
            if others:
                raise StageError(f"no runs on dataset {dataset!r} scored with judge "
                                 f"{by_judge!r} (scored with: {', '.join(others)}); name one "
                                 "with --graded-by, or group by judge")
            raise StageError(f"no scored runs on dataset {dataset!r}; `workbench runs` lists "
                             "what is stored")
        if "measure" in group_by:
            runs = [{**r, "measure": name, "score_id": sid} for r in runs
                    for name, sid in queries.measure_scores(con, r["grading_id"])]
        else:
            runs = [{**r, "measure": r["estimator"]} for r in runs]
        groups: dict[tuple, list[dict]] = {}
        for r in runs:
            groups.setdefault(tuple(r[g] for g in group_by), []).append(r)
        rows, curves = [], []
        for key, members in sorted(groups.items(), key=lambda kv: [str(k) for k in kv[0]]):
            newest = members[0]
            est = queries.score_estimates(con, newest["score_id"])
            rows.append({"variant": dict(zip(group_by, key)), "runs": len(members),
                         "run_id": newest["run_id"], "grading_id": newest["grading_id"],
                         "score_id": newest["score_id"], "metrics": est,
                         "echo_share": newest.get("echo_share"),
                         "top_answer_share": newest.get("top_answer_share")})
            if not MEASURES[newest["measure"]].probability:
                continue  # a measure that ranks: its row, no reliability curve
            f, y = _confidences(con, newest["grading_id"], newest["measure"])
            curve = diagram.prepare(f, y, seed=seed, band=False)
            label = " · ".join(f"{v}" for v in key)
            figure = (f"smECE {est['smece'].value:.3f}" if "smece" in est
                      else f"accuracy {est['accuracy'].value:.3f}")
            curves.append((f"{label} ({figure}, n={len(f)})", curve))
    named = (f"{dataset}-by-{'+'.join(group_by)}" + (f"-{by_judge}" if by_judge else "")
             + (f"-{experiment}" if experiment else ""))
    png = diagram.draw_overlay(curves, Path(out) if out is not None else
                               config.artifacts_dir(path) / "compare" /
                               (re.sub(r"[^A-Za-z0-9@+._-]", "_", named) + ".png"), dataset)
    table = png.with_suffix(".json")
    table.write_text(json.dumps(rows, indent=1, default=_jsonable))
    if log:
        log_analysis(uri, config.artifacts_dir(path), experiment_name(family), f"compare {dataset}",
             {"stage": "compare", "dataset": dataset, "group_by": ",".join(group_by),
              "variants": len(rows), "experiment": experiment or ""}, {}, [png, table])
    return rows, png


def _jsonable(x):
    return asdict(x) if hasattr(x, "__dataclass_fields__") else str(x)


def measure_summary(grading_id: str, *, db_path: Path | None = None) -> list[dict]:
    """A grading under every sample-based measure, as point estimates (no bootstrap; `score
    --estimator NAME` stores one with its intervals): per measure its questions, AUROC and
    AURAC, and smECE where it is a probability. Measures that read log p are left out when the
    run stored none."""
    with reader(config.db_path(db_path)) as con:
        grading = grading_for(con, grading_id)
        seqs = queries.sample_sequences(con, grading["grading_id"])
        has_lp = all(lp is not None and n is not None for ss in seqs.values()
                     for _, lp, n in ss)
        classes, verdicts_ = queries.sample_classes(con, grading["grading_id"])
        table = queries.question_table(con, grading["grading_id"])
    out = []
    for name, m in MEASURES.items():
        if m.elicited or (m.sequences and not has_lp):
            continue
        f, y, _, _ = per_question(name, table, classes, verdicts_,
                                  seqs if m.sequences else None)
        which = None if m.probability else RANKING
        got = compute(f, y, which=which) if len(f) else {}
        out.append({"measure": name, "n": len(f), "auroc": got.get("auroc"),
                    "aurac": got.get("aurac"), "smece": got.get("smece")})
    return out


def _inputs(con, grading_id: str, measure: str) -> dict | None:
    """What a measure reads beside the classes: each question's sequences, or what the model
    stated when asked; None for the measures that read classes alone."""
    return (queries.sample_sequences(con, grading_id) if measure in NEEDS_SEQUENCES else
            elicited.confidences(con, grading_id, measure) if measure in ELICITED else None)


def _confidences(con, grading_id: str, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) of a grading's judged questions under a measure, as its score
    computed them (``analysis.confidence.per_question``)."""
    classes, verdicts_ = queries.sample_classes(con, grading_id)
    f, y, _, _ = per_question(measure, queries.question_table(con, grading_id), classes,
                           verdicts_, _inputs(con, grading_id, measure))
    return f, y


def _judged(con, item: str, judge: str | None) -> dict:
    """One side of a judge comparison: its grading, by its judge where it is a run."""
    try:
        return grading_for(con, item, judge)
    except UsageError as exc:
        if exc.param != "judge":
            raise
        raise UsageError("judges", exc.message.replace(
            "name one", "name each side's, e.g. --judges exact,contains")) from None


def compare_judges(a: str, b: str, *, judges: tuple[str | None, str | None] = (None, None),
                   n_bootstrap: int = 1000, seed: int = 0, db_path: Path | None = None,
                   mlflow_uri: str | None = None, log: bool = False) -> dict:
    """Two gradings (usually two judges on one run): agreement on each shared question's
    correctness, Cohen's kappa, the disagreements, and how accuracy and smECE differ. ``a``
    and ``b``: grading ids, or run ids with ``judges`` naming each side's judge."""
    path, uri = config.paths(db_path, mlflow_uri)
    with reader(path) as con:
        ga, gb = (_judged(con, x, j) for x, j in zip((a, b), judges))
    try:
        _, _, d = diff(ga["grading_id"], gb["grading_id"], n_bootstrap=n_bootstrap, seed=seed,
                       db_path=db_path, mlflow_uri=mlflow_uri, log=log)
        metrics = {m.metric: asdict(m) for m in d.metrics if m.metric in ("accuracy", "smece")}
    except NoSharedQuestions:
        metrics = {}
    with reader(path) as con:
        pa = {p.question_id: p for p in points(con, ga["grading_id"])}
        pb = {p.question_id: p for p in points(con, gb["grading_id"])}
        ca = verdicts.class_verdicts(con, ga["grading_id"])
        cb = verdicts.class_verdicts(con, gb["grading_id"])
        by_sample = (verdicts.class_disagreements(con, ga["grading_id"], gb["grading_id"])
                     if ga["run_id"] == gb["run_id"] else None)
        dataset = queries.run_dataset_name(con, ga["run_id"])
    keys = sorted(ca.keys() & cb.keys())
    classes = probability_agreement([ca[k] for k in keys], [cb[k] for k in keys])
    shared = sorted(q for q in pa.keys() & pb.keys()
                    if pa[q].correct is not None and pb[q].correct is not None)
    ya, yb = [pa[q].correct for q in shared], [pb[q].correct for q in shared]
    out = {
        "a": ga["grading_id"], "b": gb["grading_id"], "judge_a": ga["judge"],
        "judge_b": gb["judge"], "same_run": ga["run_id"] == gb["run_id"],
        "n_shared": len(shared),
        "agreement": sum(x == y for x, y in zip(ya, yb)) / len(shared) if shared else None,
        "kappa": kappa(ya, yb) if shared else None,
        "metrics": metrics,
        "classes": classes,
        # per sample pair, so it counts every class either map B drew (None: other runs)
        "class_disagreements": [
            {**d, "question": pa[d["question_id"]].question if d["question_id"] in pa else None}
            for d in by_sample] if by_sample is not None else None,
        "disagreements": [{"question_id": q, "question": pa[q].question,
                           "answer_a": pa[q].answer, "correct_a": pa[q].correct,
                           "answer_b": pb[q].answer, "correct_b": pb[q].correct}
                          for q in shared if pa[q].correct != pb[q].correct],
    }
    if log:
        _log_verdicts(path, uri, experiment_name(dataset), out,
                      [(pa[q], pb[q]) for q in shared])
    return out


def _log_verdicts(path: Path, uri: str, experiment: str, result: dict, pairs: list) -> None:
    """The two judges' verdicts side by side, disagreements first, as an MLflow table."""
    ja, jb = result["judge_a"], result["judge_b"]
    columns = ["question_id", "question", f"answer ({ja})", f"verdict ({ja})",
               f"answer ({jb})", f"verdict ({jb})", "agree"]
    rows = sorted(([x.question_id, x.question, x.answer, x.correct, y.answer, y.correct,
                    x.correct == y.correct] for x, y in pairs), key=lambda r: (r[-1], r[0]))
    folder = config.artifacts_dir(path) / "judges" / f"{result['a']}-{result['b']}"
    table = write_table(folder / "verdicts.json", columns, rows)
    log_analysis(uri, config.artifacts_dir(path), experiment, f"judges {ja} vs {jb}",
         {"stage": "judges-compare", "a": result["a"], "b": result["b"], "judge_a": ja,
          "judge_b": jb}, {k: result[k] for k in ("agreement", "kappa", "n_shared")
                           if result[k] is not None}, [table])

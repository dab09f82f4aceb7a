"""What a stage's MLflow run shows, computed from its stored rows (and which of its artifact
files exist): one function per stage table, ``PROJECTIONS``.

Because the mirror is a projection of DuckDB, a stage recorded while MLflow was down is mirrored
later exactly as it would have been live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__, config
from ..analysis import HEADLINE  # on the variant's own run


@dataclass
class Projection:
    experiment: str
    run_name: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]
    history: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # key: (step, v)
    artifacts: list[Path] = field(default_factory=list)
    status: str = "RUNNING"
    error: str | None = None
    parent_run: str | None = None  # the variant's run (its generate stage), this one nests in
    parent_metrics: dict[str, float] = field(default_factory=dict)  # shown on the parent too
    dataset: dict | None = None  # an MLflow dataset input: name, digest, source
    # Per question, an MLflow evaluation record (a trace with the judge's verdict and the
    # confidence as assessments): what the run's Traces tab lists, filters and charts.
    records: list[dict] = field(default_factory=list)
    judge: str | None = None

    @property
    def tables(self) -> list[str]:
        """The artifacts MLflow's UI should show as tables (MLflow table JSON)."""
        return [a.name for a in self.artifacts if a.name in TABLES]


def dataset_input(record: dict) -> dict | None:
    """The run's questions as an MLflow dataset: its name, content hash as digest, source."""
    d = record.get("dataset_row")
    if not d:
        return None
    return {"name": d["name"], "digest": d["content_hash"][:16], "source": d["source"],
            "n_questions": d["n_questions"]}


TABLES = ("questions.json", "samples.json", "verdicts.json")  # stages/artifacts.py writes them
RECORDS = 100  # questions a score logs as evaluation records, ~33 ms each in a SQLite MLflow
# store (questions.json holds them all)


SUFFIX = config.EXPERIMENT_SUFFIX


def experiment_name(dataset_name: str) -> str:
    """Runs of one dataset share an experiment, whatever subset (@N) they asked. The dataset
    and its split come first, the source and the tool last (``capitals:test · bundled ·
    workbench``): MLflow's lists cut long names at their end, where ``workbench/bundled:capitals:
    train`` and ``:test`` differed."""
    source, sep, rest = dataset_name.split("@")[0].partition(":")
    core = f"{rest} · {source}" if sep and source == "bundled" else dataset_name.split("@")[0]
    return core + SUFFIX


def legacy_experiment_name(name: str) -> str:
    """The name ``experiment_name`` gave the same dataset before (``workbench/DATASET``)."""
    core = name.removesuffix(SUFFIX)
    if core.endswith(" · bundled"):
        core = "bundled:" + core.removesuffix(" · bundled")
    return "workbench/" + core


def variant_tags(run: dict, dataset: str) -> dict[str, str]:
    """Tags that let the MLflow UI filter and compare runs by variant."""
    return {"workbench.dataset": dataset, "workbench.model": run["model"],
            "workbench.model_kind": run["model_kind"], "workbench.style": run["style"],
            "workbench.backend": run["backend"], "workbench.prompt_format": run["prompt_format"],
            "workbench.samples": str(run["samples_per_question"])}


def _stats(row: dict) -> dict[str, float]:
    """A stage's counters and speeds, to 3 digits for the UI's columns (DuckDB keeps them
    exact)."""
    stats = json.loads(row.get("stats") or "{}")
    return {k: round(float(v), 3) for k, v in stats.items() if isinstance(v, (int, float))}


def _common(row: dict) -> dict:
    return {"package_version": row.get("package_version") or __version__,
            "git_sha": row.get("git_sha") or "unknown"}


def project(record: dict) -> Projection:
    """``record``: ``store.queries.stage_record`` of a stage, with ``artifacts``: the store's
    artifacts folder, where the stage's files lie (``config.stage_dir``)."""
    if record["table"] == "tunings":
        return project_tuning(record)
    return PROJECTIONS[record["table"]](record, _variant_tags(record))


def _variant_tags(record: dict) -> dict[str, str]:
    """The tags every stage of a run carries: the variant, and its tuning if it was tuned."""
    run = record["run"]
    tags = {"workbench.version": __version__, "workbench.run_id": run["run_id"],
            **variant_tags(run, record["dataset"])}
    tuning = record.get("tuning")
    if tuning:  # a tuned variant: link its training run
        tags["workbench.tuning_id"] = tuning["tuning_id"]
        if tuning.get("mlflow_run_id"):
            tags["workbench.training_run"] = tuning["mlflow_run_id"]
    if record.get("experiments"):  # a cell of experiment files: the UI filters or groups by it
        tags["workbench.experiment"] = ", ".join(record["experiments"])
        tags["workbench.cell_key"] = run["cell_key"]
    if "grading" in record and record.get("grading"):
        grading = record["grading"]
        tags.update({"workbench.grading_id": grading["grading_id"],
                     "workbench.judge": grading["judge"]})
    return tags


def project_run(record: dict, tags: dict[str, str]) -> Projection:
    """A run: the variant's own MLflow run (its settings, token counts, speed)."""
    run, dataset = record["run"], record["dataset"]
    backend = json.loads(run.get("backend_config") or "{}")
    params = dict(stage="generate", run_id=run["run_id"], model=run["model"],
                  model_kind=run["model_kind"], prompt_format=run["prompt_format"],
                  style=run["style"], shots=run["shots"], dataset=dataset,
                  dataset_id=run["dataset_id"], n_questions=run["n_questions"],
                  samples=run["samples_per_question"], temperature=run["temperature"],
                  top_p=run["top_p"], top_k=run["top_k"],
                  max_new_tokens=run["max_new_tokens"], seed=run["seed"],
                  backend=run["backend"], chunk_size=run["chunk_size"], **backend)
    metrics = {**_stats(run), "prompt_tokens": float(run.get("prompt_tokens") or 0),
               "completion_tokens": float(run.get("completion_tokens") or 0)}
    return Projection(experiment_name(dataset), f"{run['model']} {run['style']}",
                      _strings({**params, **_common(run)}),
                      {**tags, "workbench.stage": "generate"}, metrics,
                      status=run["status"], error=run.get("error"),
                      dataset=dataset_input(record))


def project_grading(record: dict, tags: dict[str, str]) -> Projection:
    """A grading: a child of its run, with its judge and map and the samples table."""
    run, dataset, grading = record["run"], record["dataset"], record["grading"]
    params = dict(stage="grade", grading_id=grading["grading_id"], run_id=run["run_id"],
                  model=run["model"], style=run["style"], dataset=dataset,
                  samples=run["samples_per_question"], judge=grading["judge"],
                  judge_version=grading["judge_version"], extractor=grading["extractor"])
    return Projection(experiment_name(dataset), f"grade {run['model']} {grading['judge']}",
                      _strings({**params, **_common(run)}),
                      {**tags, "workbench.stage": "grade"}, _stats(grading),
                      artifacts=_existing(record, "gradings", grading["grading_id"],
                                          ["samples.json"]),
                      status=grading["status"], error=grading.get("error"),
                      parent_run=run.get("mlflow_run_id"), dataset=dataset_input(record))


def project_score(record: dict, tags: dict[str, str]) -> Projection:
    """A score: a child of its run, every metric with its interval and floor; the variant's
    row shows its newest finished score's headline figures, named by the judge."""
    run, dataset, grading, score = (record["run"], record["dataset"], record["grading"],
                                    record["score"])
    params = dict(stage="score", score_id=score["score_id"], grading_id=grading["grading_id"],
                  run_id=run["run_id"], model=run["model"], model_kind=run["model_kind"],
                  style=run["style"], dataset=dataset, samples=run["samples_per_question"],
                  temperature=run["temperature"], seed=score["seed"], judge=grading["judge"],
                  n_bootstrap=score["n_bootstrap"], ece_bins=score["ece_bins"],
                  estimator=score.get("estimator") or "plurality",
                  floor_draws=score.get("floor_draws"))
    metrics = {}
    for m in record["metrics"]:
        metrics.update({m["metric"]: m["value"], f"{m['metric']}_ci_low": m["ci_low"],
                        f"{m['metric']}_ci_high": m["ci_high"],
                        f"{m['metric']}_floor_mean": m.get("floor_mean"),
                        f"{m['metric']}_floor_p95": m.get("floor_p95")})
    metrics.update(n_questions=score["n_questions"], n_excluded=score["n_excluded"],
                   truncated_share=score.get("truncated_share"),
                   echo_share=score.get("echo_share"),
                   top_answer_share=score.get("top_answer_share"))
    figures = {k: float(v) for k, v in metrics.items() if v is not None}
    estimator = score.get("estimator") or "plurality"
    named = grading["judge"] + ("" if estimator == "plurality" else f".{estimator}")
    # The variant's row: the headline figures with their intervals and floors and the share
    # of samples cut at the token budget, to 3 digits (the child keeps every figure exact).
    headline = {f"{named}.{k}": round(v, 3) for k, v in figures.items()
                if k.split("_")[0] in HEADLINE or k == "truncated_share"} \
        if score["status"] == "FINISHED" else {}
    return Projection(experiment_name(dataset), f"score {run['model']} {run['style']} · "
                      f"{grading['judge']}" + ("" if estimator == "plurality" else
                                               f" · {estimator}"),
                      _strings({**params, **_common(run)}),
                      {**tags, "workbench.score_id": score["score_id"],
                       "workbench.stage": "score"}, figures, {},
                      _existing(record, "scores", score["score_id"],
                                ["reliability.png", "questions.csv", "questions.json"]),
                      status=score["status"], error=score.get("error"),
                      parent_run=run.get("mlflow_run_id"), parent_metrics=headline,
                      dataset=dataset_input(record), records=evaluation_records(record),
                      judge=grading["judge"])


def evaluation_records(record: dict) -> list[dict]:
    """A finished score's questions as evaluation records (the mirror reads the first
    ``RECORDS`` by id)."""
    if record["score"]["status"] != "FINISHED":
        return []
    classes = record.get("classes", {})
    return [{"question_id": q["question_id"],
             "inputs": {"question": q["question"], "gold": " | ".join(q["answers"] or [])},
             "outputs": {"answer": q["answer"], "classes": classes.get(q["question_id"], "")},
             "correct": q["correct"], "confidence": q["confidence"]}
            for q in record.get("questions", [])]


def project_ablation(record: dict, tags: dict[str, str]) -> Projection:
    """An M ablation as a child of its variant's run: each metric's mean as a history with
    step = m, so MLflow draws it against M; its sd beside it."""
    a, run, grading = record["ablation"], record["run"], record["grading"]
    history: dict[str, list[tuple[int, float]]] = {}
    for r in record["rows"]:
        for name, value in ((r["metric"], r["mean"]), (f"{r['metric']}_sd", r["sd"])):
            if value is not None:
                history.setdefault(f"ablation_{name}", []).append((r["m"], value))
    params = dict(stage="ablate", ablation_id=a["ablation_id"], grading_id=a["grading_id"],
                  run_id=run["run_id"], model=run["model"], style=run["style"],
                  dataset=record["dataset"], samples=run["samples_per_question"],
                  judge=grading["judge"], ms=a["ms"], repeats=a["repeats"], seed=a["seed"],
                  ece_bins=a["ece_bins"])
    return Projection(experiment_name(record["dataset"]),
                      f"ablate {run['model']} {run['style']}",
                      _strings({**params, **_common(run)}),
                      {**tags, "workbench.ablation_id": a["ablation_id"],
                       "workbench.stage": "ablate"}, {}, history, status=a["status"],
                      error=a.get("error"), parent_run=run.get("mlflow_run_id"),
                      dataset=dataset_input(record))


def project_tuning(record: dict) -> Projection:
    """A tuning as an MLflow training run: its lineage as params; loss, reward, KL to the parent
    and the share of unanimous groups per step."""
    t, dataset = record["tuning"], record["dataset"]
    settings = json.loads(t["settings"])
    params = dict(stage="tune", tuning_id=t["tuning_id"], model=t["name"],
                  parent_model=t["parent_model"], method=t["method"], dataset=dataset,
                  dataset_id=t["dataset_id"], steps=t["steps"], learning_rate=t["learning_rate"],
                  seed=t["seed"], adapter_sha256=t.get("adapter_sha256"), cached=t["cached"],
                  **{f"tune_{k}": v for k, v in settings.items()})
    history = {k: [(s["step"], s[k]) for s in record["steps"] if s.get(k) is not None]
               for k in ("loss", "reward", "kl", "unanimous")}
    tags = {"workbench.version": __version__, "workbench.stage": "tune",
            "workbench.tuning_id": t["tuning_id"], "workbench.model": t["name"],
            "workbench.model_kind": t["method"], "workbench.parent_model": t["parent_model"],
            "workbench.dataset": dataset}
    return Projection(experiment_name(dataset), f"tune {t['name']} ({t['method']})",
                      _strings({**params, **_common(t)}), tags, _stats(t),
                      {k: v for k, v in history.items() if v}, status=t["status"],
                      error=t.get("error"))


def _existing(record: dict, table: str, item_id: str, names: list[str]) -> list[Path]:
    """Those of a stage's files (``config.stage_dir``) that exist."""
    folder = config.stage_dir(record.get("artifacts") or "artifacts", table, item_id)
    return [folder / n for n in names if (folder / n).exists()]


def _strings(params: dict) -> dict[str, str]:
    return {k: "" if v is None else str(v)[:6000] for k, v in params.items()}


PROJECTIONS = {"runs": project_run, "gradings": project_grading, "scores": project_score,
               "ablations": project_ablation}  # a stage table -> what its MLflow run shows

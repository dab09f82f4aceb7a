"""``workbench report``: the variants of a dataset in one self-contained HTML file (the
variants table with intervals and floors, overlaid reliability diagrams, M-ablation curves,
paired diffs, and each variant's questions with their classes), written under the artifacts
and, with ``log``, logged to MLflow (which renders HTML artifacts). Reads the store
read-only."""

from __future__ import annotations

from pathlib import Path

from .. import config
from ..analysis import diagram
from ..errors import UsageError
from ..render.html import render
from ..store import queries, reader
from ..tracking import experiment_name, log_analysis
from .compare import compare, diff
from .methods import score_methods


def report(dataset: str, group_by: list[str], *, judge: str | None = "exact",
           pairs: list[tuple[str, str]] = (), out: Path | None = None,
           db_path: Path | None = None, mlflow_uri: str | None = None, seed: int = 0,
           log: bool = False, n_bootstrap: int = 1000, experiment: str | None = None) -> Path:
    """The report's path. ``pairs``: (A, B) ids to diff (default: the first variant against
    each other one); ``experiment``: only the runs that experiment's cells made or found."""
    if out is not None and (Path(out).is_dir() or Path(out).suffix.lower() != ".html"):
        raise UsageError("out", f"{out}: name an .html file (the report is one file)")
    path, uri = config.paths(db_path, mlflow_uri)
    rows, png = compare(dataset, group_by, judge=judge, db_path=db_path, mlflow_uri=mlflow_uri,
                        seed=seed, experiment=experiment)
    names = {r["grading_id"]: " · ".join(str(v) for v in r["variant"].values()) for r in rows}
    with reader(path) as con:
        questions = {r["score_id"]: queries.question_table(con, r["grading_id"]) for r in rows}
        classes = {r["score_id"]: queries.class_summaries(con, r["grading_id"]) for r in rows}
        described = {r["score_id"]: score_methods(con, r["score_id"]) for r in rows}
        ablations = {}
        for r in rows:  # each variant's newest finished M ablation, if it has one
            done = [a for a in queries.grading_ablations(con, r["grading_id"])
                    if a["status"] == "FINISHED"]
            if done:
                ablations[names[r["grading_id"]]] = queries.ablation(con, done[0]["ablation_id"])
    pairs = list(pairs) or [(rows[0]["grading_id"], r["grading_id"]) for r in rows[1:]]
    diffs = []
    for a, b in pairs:
        ga, gb, d = diff(a, b, n_bootstrap=n_bootstrap, seed=seed, db_path=db_path,
                         mlflow_uri=mlflow_uri)
        label = f"{names.get(gb['grading_id'], b)} − {names.get(ga['grading_id'], a)}"
        diffs.append({"label": f"{label} ({d.n_shared} shared questions)", "diff": d})
    notes = [f"Dataset {dataset}; variants grouped by {', '.join(group_by)}; "
             + (f"graded by judge {judge}." if "judge" not in group_by else "every judge.")
             + " Intervals: 95% bootstrap; the smECE floor is what a calibrated model scores "
               "at these N and M (mean ≤ 95th percentile)."]
    target = out or config.artifacts_dir(path) / "reports" / \
        f"{dataset.replace(':', '_').replace('@', '_')}-{'-'.join(group_by)}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    curves = diagram.draw_ablation(ablations, target.with_suffix(".ablation.png"), dataset) \
        if ablations else None
    bars = diagram.draw_intervals([(names[r["grading_id"]], r["metrics"]["smece"])
                                   for r in rows if r["metrics"].get("smece")],
                                  target.with_suffix(".smece.png"), dataset)
    target.write_text(render(f"workbench report: {dataset}", rows, png, questions, diffs,
                             notes, classes, curves, described, bars), encoding="utf-8")
    if log:
        log_analysis(uri, config.artifacts_dir(path), experiment_name(dataset.split("@")[0]),
                     f"report {dataset}", {"stage": "report", "dataset": dataset,
                                           "group_by": ",".join(group_by)}, {}, [target])
    return target


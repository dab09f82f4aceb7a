"""diff, compare and the M ablation on a real store holding several synthetic runs."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from tests.helpers import make_run
from workbench import api
from workbench import data as datasets
from workbench.analysis.ablation import subsample
from workbench.cli import app
from workbench.errors import StageError, UsageError

N = 20
DS = datasets.Dataset("synth", "test", tuple(
    datasets.Question(f"q{i:02d}", f"Question {i}?", (f"right{i}",)) for i in range(N)))


def texts(share_right: list[float], m: int = 10, wrong_is_plural: list[bool] | None = None):
    """Per question, round(share * m) samples of one class and the rest of another; the
    plurality is the right answer unless ``wrong_is_plural[i]``."""
    out = {}
    for i, share in enumerate(share_right):
        k = round(share * m)
        top, other = (f"wrong{i}", f"right{i}") if wrong_is_plural and wrong_is_plural[i] \
            else (f"right{i}", f"wrong{i}")
        out[f"q{i:02d}"] = [top] * k + [other] * (m - k)
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory, mlflow_uri):
    """Base: plurality right on the first 10 questions, wrong on the rest, all at 0.6.
    Tuned: the same answers at confidence 1.0 (overconfident).
    Fixed: like base, but questions 10-14 now answered right."""
    path = tmp_path_factory.mktemp("variants") / "wb.duckdb"  # read by every test, never written
    wrong = [i >= 10 for i in range(N)]
    ids = {}
    ids["base"] = make_run(path, DS, texts([0.6] * N, wrong_is_plural=wrong), model="m",
                           kind="base")
    ids["tuned"] = make_run(path, DS, texts([1.0] * N, wrong_is_plural=wrong), model="m-rl",
                            kind="rl")
    ids["fixed"] = make_run(path, DS, texts([0.6] * N, wrong_is_plural=[i >= 15 for i in
                                                                         range(N)]),
                            model="m", kind="base", style="cot")
    grades = {k: api.grade(v, db_path=path, mlflow_uri=mlflow_uri) for k, v in ids.items()}
    for g in grades.values():
        api.score(g, n_bootstrap=50, db_path=path, mlflow_uri=mlflow_uri)
    return path, ids, grades


def _delta(d, metric):
    return next(m for m in d.metrics if m.metric == metric)


def test_diff_finds_overconfidence_with_the_right_sign_and_size(store, mlflow_uri):
    path, ids, _ = store
    _, _, d = api.diff(ids["base"], ids["tuned"], n_bootstrap=200, db_path=path,
                       mlflow_uri=mlflow_uri)
    assert d.n_shared == N and d.class_changed == 0
    acc = _delta(d, "accuracy")
    assert acc.delta == 0 and acc.ci_low == acc.ci_high == 0  # same verdicts on every resample
    conf = _delta(d, "confidence")
    assert conf.delta == pytest.approx(0.4) and conf.ci_low == pytest.approx(0.4)
    # base: |0.6 - 1| on half and |0.6 - 0| on half -> ECE 0.5; tuned: 0 right at 1.0 and
    # wrong at 1.0 -> ECE 0.5 too, but Brier worsens: 0.5*0.16+0.5*0.36=0.26 -> 0.5
    assert _delta(d, "brier").delta == pytest.approx(0.24)
    assert d.confidence_correct == pytest.approx((0.6, 1.0))
    assert d.confidence_wrong == pytest.approx((0.6, 1.0))
    assert all(abs(y.confidence - x.confidence) == pytest.approx(0.4) for x, y in d.largest)


def test_diff_counts_answers_that_changed(store, mlflow_uri):
    path, ids, grades = store
    _, _, d = api.diff(grades["base"], ids["fixed"], n_bootstrap=200, db_path=path,
                       mlflow_uri=mlflow_uri)
    assert d.class_changed == 5 and d.became_correct == 5 and d.became_wrong == 0
    acc = _delta(d, "accuracy")
    assert acc.delta == pytest.approx(0.25)
    assert acc.ci_low < 0.25 < acc.ci_high and acc.ci_low > 0
    assert _delta(d, "confidence").delta == pytest.approx(0.0)


def test_diff_cli_formats_and_mlflow_artifact(store, mlflow_uri):
    path, ids, _ = store
    run = CliRunner().invoke
    res = run(app, ["diff", ids["base"], ids["tuned"], "--format", "json", "--bootstrap", "50",
                    "--log", "--db", str(path), "--mlflow-uri", mlflow_uri])
    assert res.exit_code == 0, res.output
    record = json.loads(res.output)
    assert record["n_shared"] == N
    assert {m["metric"] for m in record["metrics"]} >= {"smece", "accuracy", "confidence"}
    res = run(app, ["diff", ids["base"], ids["tuned"], "--format", "csv", "--bootstrap", "50",
                    "--db", str(path), "--mlflow-uri", mlflow_uri])
    assert res.output.splitlines()[0] == "metric,a,b,delta,ci_low,ci_high"
    res = run(app, ["diff", ids["base"], ids["tuned"], "--bootstrap", "50", "--db", str(path),
                    "--mlflow-uri", mlflow_uri])
    assert "B − A" in res.output and "largest confidence changes" in res.output
    client = MlflowClient(mlflow_uri)
    diffs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                               "tags.`workbench.stage` = 'diff'")
    assert diffs and any(a.path == "diff.json" for a in client.list_artifacts(diffs[0].info.run_id))


def test_compare_groups_variants_and_draws_one_overlay(store, mlflow_uri):
    path, ids, _ = store
    rows, png = api.compare("synth", ["kind", "style"], db_path=path, mlflow_uri=mlflow_uri)
    got = {tuple(r["variant"].values()): r for r in rows}
    assert set(got) == {("base", "concise"), ("rl", "concise"), ("base", "cot")}
    assert got[("rl", "concise")]["metrics"]["confidence"].value == pytest.approx(1.0)
    assert got[("base", "cot")]["metrics"]["accuracy"].value == pytest.approx(0.75)
    assert png.read_bytes()[:4] == b"\x89PNG"
    # Named by what it shows, so the same comparison lands in the same file; --out moves it.
    assert png.name == "synth-by-kind+style-exact.png"
    assert png.with_suffix(".json").exists()
    rows, again = api.compare("synth", ["kind", "style"], db_path=path, mlflow_uri=mlflow_uri)
    assert again == png
    target = path.parent / "figures" / "calibration.png"
    rows, png = api.compare("synth", ["model"], db_path=path, mlflow_uri=mlflow_uri,
                            out=target)
    assert png == target and target.read_bytes()[:4] == b"\x89PNG"
    assert {r["variant"]["model"]: r["runs"] for r in rows} == {"m": 2, "m-rl": 1}
    with pytest.raises(UsageError, match="out: .*calibration.pdf: the overlay is a PNG"):
        api.compare("synth", ["model"], db_path=path, out=path.parent / "calibration.pdf")
    with pytest.raises(UsageError, match="group_by: colour"):
        api.compare("synth", ["colour"], db_path=path, mlflow_uri=mlflow_uri)
    with pytest.raises(StageError, match="no scored runs"):
        api.compare("other", ["kind"], db_path=path, mlflow_uri=mlflow_uri)


def test_m_ablation_matches_the_hypergeometric_expectation(tmp_path, mlflow_uri):
    """Every question: 14 of 20 samples right, 6 wrong. With m = 3 drawn without replacement,
    the plurality is right with P = (C(14,2)C(6,1) + C(14,3)) / C(20,3) = 910/1140, and the
    expected confidence is 1·P(all three agree) + 2/3·(1 - P(all agree)) = 0.7789."""
    path = tmp_path / "wb.duckdb"
    ds = datasets.Dataset("hyper", "test", tuple(
        datasets.Question(f"h{i:02d}", f"H {i}?", (f"right{i}",)) for i in range(50)))
    run_id = make_run(path, ds, {f"h{i:02d}": [f"right{i}"] * 14 + [f"wrong{i}"] * 6
                                 for i in range(50)})
    grading = api.grade(run_id, db_path=path, mlflow_uri=mlflow_uri)
    score_id = api.score(grading, n_bootstrap=20, db_path=path, mlflow_uri=mlflow_uri)
    ablation_id = api.ablate(run_id, [20, 3, 1], repeats=40, db_path=path,
                             mlflow_uri=mlflow_uri)
    assert ablation_id.startswith("abl_")
    rows = {(r["m"], r["metric"]): r for r in api.ablation(ablation_id, db_path=path)}
    assert rows[(1, "confidence")]["mean"] == 1.0
    assert rows[(1, "accuracy")]["mean"] == pytest.approx(0.7, abs=0.03)
    assert rows[(3, "accuracy")]["mean"] == pytest.approx(910 / 1140, abs=0.03)
    all_agree = (364 + 20) / 1140
    assert rows[(3, "confidence")]["mean"] == pytest.approx(
        all_agree + (1 - all_agree) * 2 / 3, abs=0.01)
    full = api.metrics(score_id, db_path=path)
    for metric in ("accuracy", "confidence", "smece", "brier"):
        assert rows[(20, metric)]["mean"] == pytest.approx(full[metric].value)
        assert rows[(20, metric)]["sd"] == 0
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*), count(*) FILTER (WHERE trivial) FROM "
                       "m_ablation_by_variant WHERE ablation_id = ? AND judge = 'exact'",
                       [ablation_id]).fetchall() == [(len(rows), 1)]  # m = 1's confidence
    con.close()
    assert api.show(grading, db_path=path)["ablations"][0]["ablation_id"] == ablation_id
    with pytest.raises(UsageError, match="ms: 30: the run stored only 20"):
        api.ablate(grading, [30], db_path=path, mlflow_uri=mlflow_uri)
    with pytest.raises(UsageError, match="ms: values must be ≥ 1"):
        api.ablate(grading, [0, 3], db_path=path, mlflow_uri=mlflow_uri)


def test_ablate_writes_only_the_ablation(tmp_path, mlflow_uri):
    """An ablation leaves the scores, and so `runs`, untouched (before the ablate stage,
    `score --m` made a second full score that became the run's newest)."""
    path = tmp_path / "wb.duckdb"
    run_id = make_run(path, DS, texts([0.6] * N))
    api.mirror(db_path=path, mlflow_uri=mlflow_uri)  # the variant's run, as generate makes it
    grading = api.grade(run_id, db_path=path, mlflow_uri=mlflow_uri)
    score_id = api.score(grading, n_bootstrap=20, seed=1, db_path=path, mlflow_uri=mlflow_uri)
    before = api.list_runs(db_path=path)
    ablation_id = api.ablate(grading, [2, 5], repeats=5, db_path=path, mlflow_uri=mlflow_uri)
    assert api.list_runs(db_path=path) == before
    assert [s["score_id"] for s in api.show(grading, db_path=path)["scores"]] == [score_id]
    runner = CliRunner()
    res = runner.invoke(app, ["score", grading, "--m", "2,5", "--db", str(path),
                              "--mlflow-uri", mlflow_uri])
    assert res.exit_code == 2  # score has no --m: the ablation is its own stage
    assert len(api.show(grading, db_path=path)["scores"]) == 1
    res = runner.invoke(app, ["ablate", run_id[:8], "-m", "1,5", "--repeats", "3",
                              "--db", str(path), "--mlflow-uri", mlflow_uri])
    assert res.exit_code == 0, res.output
    assert "1*" in res.output and "confidence is 1 by construction" in res.output
    # MLflow: the ablation is a child of the variant's run, each metric drawn against m.
    client = MlflowClient(mlflow_uri)
    run = client.search_runs(
        [client.get_experiment_by_name("synth · workbench").experiment_id],
        f"tags.`workbench.ablation_id` = '{ablation_id}'")[0]
    assert run.data.tags["mlflow.parentRunId"] == api.show(run_id, db_path=path)["run"][
        "mlflow_run_id"]
    history = client.get_metric_history(run.info.run_id, "ablation_smece")
    assert sorted(m.step for m in history) == [2, 5]


def test_stores_before_the_ablate_stage_keep_their_ablations_and_find_moved_artifacts(
        tmp_path, mlflow_uri):
    """Migration 0014 on a store as older code left it: ablation rows under a score in
    `m_ablation`, and absolute artifact paths. The rows become an ablation; the paths become
    relative to the store, so the store moved to another folder still finds its diagram."""
    path = tmp_path / "old" / "wb.duckdb"
    path.parent.mkdir()
    run_id = make_run(path, DS, texts([0.6] * N))
    grading = api.grade(run_id, db_path=path, mlflow_uri=mlflow_uri)
    score_id = api.score(grading, n_bootstrap=20, db_path=path, mlflow_uri=mlflow_uri)
    con = duckdb.connect(str(path))
    stored = con.execute("SELECT diagram_path FROM scores").fetchone()[0]
    assert stored == f"artifacts/scores/{score_id}/reliability.png"
    con.execute("DROP VIEW m_ablation_by_variant")
    con.execute("DROP TABLE ablation_rows")
    con.execute("DROP TABLE ablations")
    con.execute("""CREATE TABLE m_ablation (score_id VARCHAR NOT NULL REFERENCES scores
                   (score_id), m INTEGER NOT NULL, metric VARCHAR NOT NULL, mean DOUBLE,
                   sd DOUBLE, repeats INTEGER NOT NULL, PRIMARY KEY (score_id, m, metric))""")
    con.execute("INSERT INTO m_ablation VALUES (?, 2, 'smece', 0.25, 0.01, 7), "
                "(?, 5, 'smece', 0.2, 0.02, 7)", [score_id, score_id])
    con.execute("UPDATE scores SET diagram_path = ?", [str(path.parent / stored)])
    con.execute("DELETE FROM schema_migrations WHERE version = 14")
    con.close()
    moved = tmp_path / "moved"
    (path.parent).rename(moved)
    assert api.doctor(fix=True, db_path=moved / "wb.duckdb", mlflow_uri=mlflow_uri)
    ablation_id = "abl_" + score_id[4:]
    assert api.ablation(ablation_id, db_path=moved / "wb.duckdb") == [
        {"m": 2, "metric": "smece", "mean": 0.25, "sd": 0.01, "repeats": 7},
        {"m": 5, "metric": "smece", "mean": 0.2, "sd": 0.02, "repeats": 7}]
    diagram = api.show(score_id, db_path=moved / "wb.duckdb")["score"]["diagram_path"]
    assert diagram == str(moved / stored)
    assert (moved / stored).exists()


def test_subsample_ties_go_to_the_lowest_class():
    classes = [np.array([1, 0, 1, 0])]
    f, y = subsample(classes, [{0: True, 1: False}], 4, np.random.default_rng(0))
    assert f.tolist() == [0.5] and y.tolist() == [1.0]


def test_views_list_and_run(store):
    path, ids, _ = store
    run = CliRunner().invoke
    listed = run(app, ["sql", "--view", "list", "--db", str(path)])
    for name in ("question_confidence", "run_metrics", "variants", "m_ablation_by_variant"):
        assert name in listed.output
    rows = run(app, ["sql", "--view", "variants", "--format", "json", "--db", str(path)])
    assert {r["kind"] for r in json.loads(rows.output)} == {"base", "rl"}
    bad = run(app, ["sql", "--view", "nope", "--db", str(path)])
    assert bad.exit_code == 1 and "no such view" in bad.output


def test_stage_runs_carry_variant_tags(store, mlflow_uri):
    path, ids, _ = store
    client = MlflowClient(mlflow_uri)
    found = client.search_runs([e.experiment_id for e in client.search_experiments()],
                               f"tags.`workbench.run_id` = '{ids['tuned']}'")
    assert {r.data.tags["workbench.stage"] for r in found} == {"grade", "score"}
    for r in found:
        assert r.data.tags["workbench.model_kind"] == "rl"
        assert r.data.tags["workbench.dataset"] == "synth"


def test_diff_and_compare_only_read_the_store(store, mlflow_uri):
    """They work beside another reader (a writer's lock would be refused) and change nothing."""
    from workbench.store import connect

    path, ids, _ = store
    before = path.read_bytes()
    reader = connect(path, read_only=True)
    try:
        _, _, d = api.diff(ids["base"], ids["tuned"], n_bootstrap=20, db_path=path,
                           mlflow_uri=mlflow_uri)
        rows, _ = api.compare("synth", ["kind"], db_path=path, mlflow_uri=mlflow_uri)
    finally:
        reader.close()
    assert d.n_shared == N and {r["variant"]["kind"] for r in rows} == {"base", "rl"}
    assert path.read_bytes() == before


def test_map_facts_count_once_per_map_however_many_judges(tmp_path, mlflow_uri):
    """`map_classes`: a run graded by exact and by contains (one map) has one row per question,
    with the classes the map made; joining through gradings would count each twice."""
    from tests.helpers import CAPS, TEXTS

    path = tmp_path / "wb.duckdb"
    run = make_run(path, CAPS, TEXTS)
    for judge in ("exact", "contains"):
        api.grade(run, judge, db_path=path, mlflow_uri=mlflow_uri)
    _, rows = api.query("SELECT question_id, n_classes, no_answer, samples FROM map_classes "
                        "WHERE run_id = ? ORDER BY 1", [run], db_path=path)
    _, direct = api.query("""SELECT question_id, count(DISTINCT class_id),
                                    count(*) FILTER (WHERE class_id IS NULL), count(*)
                             FROM sample_classes WHERE grading_id = (SELECT min(grading_id)
                                 FROM gradings WHERE judge = 'exact') GROUP BY 1 ORDER BY 1""",
                          db_path=path)
    assert rows == direct and len(rows) == len(TEXTS)
    assert {r[3] for r in rows} == {len(next(iter(TEXTS.values())))}

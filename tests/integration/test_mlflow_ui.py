"""MLflow as the place to look: experiments open on their runs, one top-level row per variant
with its stages nested under it and its newest figures on it, and the questions as a dataset."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.helpers import CAPS, TEXTS, make_run, query
from workbench import api, config, data


def test_a_variant_is_one_row_with_its_stages_nested_and_its_dataset(tiny_model, small_dataset,
                                                                      db_path, mlflow_uri):
    req = api.GenerateRequest(str(tiny_model), str(small_dataset), samples=4, shots=2)
    res = api.run_all(req, n_bootstrap=20, db_path=db_path, mlflow_uri=mlflow_uri)
    regrade = api.grade(res.run_id, "contains", db_path=db_path, mlflow_uri=mlflow_uri)
    rescore = api.score(regrade, n_bootstrap=20, db_path=db_path, mlflow_uri=mlflow_uri)
    ids = dict(query(db_path, "SELECT 'run', mlflow_run_id FROM runs UNION ALL SELECT "
                              "grading_id, mlflow_run_id FROM gradings UNION ALL SELECT "
                              "score_id, mlflow_run_id FROM scores"))
    client = MlflowClient(mlflow_uri)
    parent = client.get_run(ids["run"])
    exp = client.get_experiment(parent.info.experiment_id)
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    for child in (res.grading_id, res.score_id, regrade, rescore):
        assert client.get_run(ids[child]).data.tags["mlflow.parentRunId"] == ids["run"]
    top = client.search_runs([exp.experiment_id], "tags.`workbench.run_id` = '%s'" % res.run_id)
    assert [r.info.run_id for r in top if "mlflow.parentRunId" not in r.data.tags] == [ids["run"]]
    exact = api.metrics(res.score_id, db_path=db_path)
    contains = api.metrics(rescore, db_path=db_path)
    # the variant's row: headline figures to 3 digits, the truncated share beside them; each
    # score's child named with its judge (two judges' scores were two same-named children)
    assert parent.data.metrics["exact.smece"] == round(exact["smece"].value, 3)
    assert parent.data.metrics["contains.accuracy"] == round(contains["accuracy"].value, 3)
    assert {"exact.smece_floor_p95", "exact.truncated_share"} <= set(parent.data.metrics)
    assert all(v == round(v, 3) for v in parent.data.metrics.values())
    assert client.get_run(ids[rescore]).data.metrics["smece"] == contains["smece"].value
    names = {client.get_run(ids[s]).info.run_name for s in (res.score_id, rescore)}
    assert names == {f"score {tiny_model} concise · exact",
                     f"score {tiny_model} concise · contains"}
    (inp,) = parent.inputs.dataset_inputs
    ds = data.load(str(small_dataset))
    assert (inp.dataset.name, inp.dataset.digest) == (ds.name, ds.content_hash[:16])


@pytest.fixture(scope="module")
def report_page(tmp_path_factory, mlflow_uri) -> Path:
    path = tmp_path_factory.mktemp("report") / "wb.duckdb"
    for model, texts in (("m-a", TEXTS), ("m-b", {q: t[::-1] for q, t in TEXTS.items()})):
        grading = api.grade(make_run(path, CAPS, texts, model=model), db_path=path,
                            mlflow_uri=mlflow_uri)
        api.score(grading, n_bootstrap=20, floor_draws=20, db_path=path, mlflow_uri=mlflow_uri)
    api.ablate(grading, [1, 3, 5], repeats=5, db_path=path, mlflow_uri=mlflow_uri)
    return api.report("caps", ["model"], n_bootstrap=20, db_path=path, mlflow_uri=mlflow_uri)


def test_the_report_is_one_self_contained_html_file(report_page):
    """Variants with intervals and floors, the overlaid reliability diagram inline, a paired
    diff with its largest confidence changes, every variant's questions; nothing fetched from
    anywhere."""
    text = report_page.read_text()
    assert report_page.parent.name == "reports"
    for part in ("<h2>Variants</h2>", "m-a", "m-b", "smECE floor", "data:image/png;base64,",
                 "m-b − m-a (4 shared questions)", "Capital of Australia?", "Sydney",
                 "How many samples: the M ablation", 'alt="M ablation"',
                 'alt="smECE by variant"',
                 "Sydney ×3 ✗ · Canberra ×1 ✓ · Melbourne ×1 ✗"):
        assert part in text, part
    assert "http://" not in text and "https://" not in text
    # a methods paragraph per variant, for a paper's appendix; `show SCORE` gives the same
    methods = text.split("<h2>Methods</h2>")[1].split("<h2>")[0]
    assert methods.count("<p><b>") == 2 and "M = 5 samples each" in methods
    assert "judged by exact (version" in methods and "from 20 bootstrap resamples" in methods
    # the diff's calibration errors carry each side's floor, as `workbench diff` prints them
    diff = text.split("m-b − m-a (4 shared questions)")[1].split("</table>")[0]
    assert "<th>floor A</th><th>floor B</th>" in diff
    smece_row = next(r for r in diff.split("<tr>") if r.startswith("<td>smECE"))
    assert smece_row.count(" ≤") == 2, smece_row


def test_the_report_renders_in_a_real_browser(report_page, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    dom = subprocess.run([browser, "--headless=new", "--no-sandbox", "--dump-dom",
                          report_page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "Variants" in dom and "m-b − m-a" in dom
    shot = tmp_path / "report.png"
    subprocess.run([browser, "--headless=new", "--no-sandbox", f"--screenshot={shot}",
                    "--window-size=1100,900", report_page.as_uri()], capture_output=True,
                   timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000  # not a blank page


@pytest.fixture(scope="module")
def ui_store(tmp_path_factory):
    """Two variants made by the real stages, one also graded by a second judge and the two
    judges compared with --log; MLflow in its default place beside the store."""
    path = tmp_path_factory.mktemp("ui") / "wb.duckdb"
    gradings = {"env": os.environ.get("MLFLOW_TRACKING_URI")}
    for model, texts in (("m-a", TEXTS), ("m-b", {q: t[::-1] for q, t in TEXTS.items()})):
        run_id = make_run(path, CAPS, texts, model=model)
        api.mirror(db_path=path)  # the variant's run, as `generate` mirrors it
        gradings[model] = api.grade(run_id, db_path=path)
        api.score(gradings[model], n_bootstrap=20, floor_draws=20, db_path=path)
    loose = make_run(path, CAPS, {"fr": [" Paris"] * 5, "au": [" Canberra Australia"] * 5,
                                  "us": [" Washington state"] * 5, "n": [" 4"] * 5}, model="m-c")
    api.mirror(db_path=path)
    gradings["exact"], gradings["contains"] = (api.grade(loose, j, db_path=path)
                                               for j in ("exact", "contains"))
    api.compare_judges(gradings["exact"], gradings["contains"], n_bootstrap=20, db_path=path,
                       log=True)
    return path, gradings


def test_questions_samples_and_judge_verdicts_are_tables_in_mlflow(ui_store):
    """The score's run holds the per-question table (answer, confidence, every class with its
    count and verdict), the grading's run every sample with its class and verdict, and a judge
    comparison the two verdicts side by side, disagreements first: each marked as a table, the
    way MLflow's UI shows them."""
    import json

    path, gradings = ui_store
    # Logging traces points MLflow's process-wide URI at the store for a moment; it and the
    # MLFLOW_TRACKING_URI variable it sets are put back (else the next stage in the same
    # process would follow the variable to another store).
    assert os.environ.get("MLFLOW_TRACKING_URI") == gradings["env"]
    client = MlflowClient(config.default_mlflow_uri(path))
    assert len(client.search_runs([client.get_experiment_by_name("caps · workbench")
                                   .experiment_id], "tags.`workbench.stage` = 'generate'")) == 3
    score = api.show(gradings["m-a"], db_path=path)["scores"][0]
    run = client.get_run(query(path, "SELECT mlflow_run_id FROM scores WHERE score_id = ?",
                               [score["score_id"]])[0][0])
    assert {"path": "questions.json", "type": "table"} in json.loads(
        run.data.tags["mlflow.loggedArtifacts"])
    table = json.loads(Path(client.download_artifacts(run.info.run_id, "questions.json"))
                       .read_text())
    rows = {r[0]: dict(zip(table["columns"], r)) for r in table["data"]}
    assert rows["au"]["answer"] == "Sydney" and rows["au"]["correct"] is False
    assert rows["au"]["classes"] == "Sydney ×3 ✗ · Canberra ×1 ✓ · Melbourne ×1 ✗"
    assert rows["au"]["confidence"] == 0.6 and rows["au"]["judge"] == "exact"
    grade_run = client.get_run(query(path, "SELECT mlflow_run_id FROM gradings WHERE "
                                           "grading_id = ?", [gradings["m-a"]])[0][0])
    samples = json.loads(Path(client.download_artifacts(grade_run.info.run_id,
                                                        "samples.json")).read_text())
    assert len(samples["data"]) == 20 and "text" in samples["columns"]
    by_key = {(r[0], r[1]): dict(zip(samples["columns"], r)) for r in samples["data"]}
    assert by_key["au", 2]["text"] == " Canberra" and by_key["au", 2]["correct"] is True
    (judged,) = client.search_runs([run.info.experiment_id],
                                   "tags.`workbench.stage` = 'judges-compare'")
    verdicts = json.loads(Path(client.download_artifacts(judged.info.run_id, "verdicts.json"))
                          .read_text())
    assert verdicts["columns"][3:6] == ["verdict (exact)", "answer (contains)",
                                        "verdict (contains)"]
    assert [(r[0], r[-1]) for r in verdicts["data"]] == [
        ("au", False), ("us", False), ("fr", True), ("n", True)]  # disagreements first
    assert judged.data.metrics["n_shared"] == 4
    # Each question is also an evaluation record on the score's run: a trace with the verdict
    # and the confidence as assessments, which the run's Traces tab lists and charts.
    traces = client.search_traces(locations=[run.info.experiment_id],
                                  run_id=run.info.run_id)
    assert len(traces) == 4
    au = next(t for t in traces if "Australia" in t.data.request)
    assessed = {a.name: a.value for a in au.info.assessments}
    assert assessed == {"correct": False, "confidence": 0.6}
    assert json.loads(au.data.response)["classes"] == (
        "Sydney ×3 ✗ · Canberra ×1 ✓ · Melbourne ×1 ✗")
    api.mirror(db_path=path)  # nothing pending: nothing logged twice
    from workbench.store import queries, reader
    from workbench.tracking import Tracker
    from workbench.tracking.project import RECORDS, project

    with reader(path) as con:
        record = queries.stage_record(con, "scores", score["score_id"], questions=RECORDS)
    Tracker(config.mlflow_uri(path), path.parent / "artifacts").log_records(
        run.info.run_id, project(record))  # a retried sync finds the records there
    assert len(client.search_traces(locations=[run.info.experiment_id],
                                    run_id=run.info.run_id)) == 4


def test_the_ui_a_newcomer_opens_serves_all_of_it(ui_store, tmp_path):
    """`workbench ui` over the store, as a person starts it; checked through MLflow's REST API
    (what the UI itself reads) and, with chromium installed, in a real browser."""
    import json
    import os
    import signal
    import sys
    import urllib.parse
    import urllib.request

    from tests.helpers import free_port, wait_http

    path, gradings = ui_store
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "ui.log"
    proc = subprocess.Popen([sys.executable, "-c", "from workbench.cli import main; main()",
                             "ui", "--port", str(port), "--db", str(path)],
                            stdout=subprocess.DEVNULL, stderr=log.open("w"),
                            start_new_session=True)

    def get(route: str, **params):
        with urllib.request.urlopen(f"{base}{route}?{urllib.parse.urlencode(params)}",
                                    timeout=30) as r:
            return json.loads(r.read())

    try:
        assert wait_http(f"{base}/health", proc=proc), "the MLflow UI did not start"
        exp = get("/api/2.0/mlflow/experiments/get-by-name",
                  experiment_name="caps · workbench")["experiment"]
        assert {"key": "mlflow.experimentKind", "value": "custom_model_development"} in exp[
            "tags"]
        req = urllib.request.Request(f"{base}/api/2.0/mlflow/runs/search", method="POST",
                                     data=json.dumps({"experiment_ids": [exp[
                                         "experiment_id"]], "max_results": 100}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            runs = json.loads(r.read())["runs"]
        tags = [{t["key"]: t["value"] for t in r["data"].get("tags", [])} for r in runs]
        parents = {r["info"]["run_id"]: t for r, t in zip(runs, tags)
                   if t.get("workbench.stage") == "generate"}
        assert sorted(t["workbench.model"] for t in parents.values()) == ["m-a", "m-b", "m-c"]
        children = [t for t in tags if t.get("workbench.stage") in ("grade", "score")]
        assert len(children) == 6 and all(t["mlflow.parentRunId"] in parents for t in children)
        for r in runs:
            if r["info"]["run_id"] in parents:
                (inp,) = r["inputs"]["dataset_inputs"]
                assert inp["dataset"]["name"] == "caps"
                scored = parents[r["info"]["run_id"]]["workbench.model"] != "m-c"
                assert scored == ("exact.smece" in {m["key"] for m in r["data"]["metrics"]})
        score_run = next(r["info"]["run_id"] for r, t in zip(runs, tags)
                         if t.get("workbench.stage") == "score")
        files = {f["path"] for f in get("/api/2.0/mlflow/artifacts/list",
                                        run_id=score_run)["files"]}
        assert {"questions.json", "questions.csv", "reliability.png"} <= files
        table = get("/get-artifact", path="questions.json", run_uuid=score_run)
        assert table["columns"][:6] == ["question_id", "gold", "answer", "confidence", "correct",
                                        "classes"]
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        if not browser:
            pytest.skip("chromium is not installed (apt-get install chromium): REST checks "
                        "passed, browser checks skipped")
        # The link `workbench ui` prints opens the experiment on its runs, not MLflow's GenAI
        # overview (MLflow 3 shows that unless the UI is in its model-training mode).
        page = f"{base}/#/experiments/{exp['experiment_id']}?workflowType=machine_learning"
        assert f"caps · workbench: {page}" in log.read_text()
        dom = subprocess.run([browser, "--headless=new", "--no-sandbox",
                              "--virtual-time-budget=30000", "--dump-dom", page],
                             capture_output=True, text=True, timeout=180).stdout
        assert "Runs - Experiment" in dom and "Traces</" not in dom.split("Run Name")[0][-3000:]
        assert "m-a concise" in dom and "m-b concise" in dom and "caps (" in dom
        traces = subprocess.run([browser, "--headless=new", "--no-sandbox",
                                 "--virtual-time-budget=30000", "--dump-dom",
                                 f"{base}/#/experiments/{exp['experiment_id']}/runs/"
                                 f"{score_run}/traces?workflowType=machine_learning"],
                                capture_output=True, text=True, timeout=180).stdout
        assert "Capital of Australia?" in traces and "confidence" in traces
        parent = next(iter(parents))
        shot = tmp_path / "run.png"
        subprocess.run([browser, "--headless=new", "--no-sandbox", "--virtual-time-budget=30000",
                        f"--screenshot={shot}", "--window-size=1400,900",
                        f"{base}/#/experiments/{exp['experiment_id']}/runs/{parent}?"
                        "workflowType=machine_learning"],
                       capture_output=True, timeout=180)
        assert shot.exists() and shot.stat().st_size > 20_000  # not a blank page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_experiment_names_lead_with_the_split_and_old_ones_are_renamed(db_path, mlflow_uri):
    """MLflow's lists cut long names at their end, where `workbench/bundled:capitals:train`
    and `:test` differed: the split now leads. An experiment made under the old name is renamed
    by the next mirror, its runs kept, and no second experiment is made."""
    from dataclasses import replace

    from workbench.tracking import experiment_name
    from workbench.tracking.project import legacy_experiment_name

    assert experiment_name("bundled:capitals:test@20") == "capitals:test · bundled · workbench"
    assert experiment_name("gsm8k:test") == "gsm8k:test · workbench"
    assert experiment_name("caps") == "caps · workbench"
    for name in ("bundled:capitals:train", "gsm8k:test", "caps", "a:b:c"):
        assert legacy_experiment_name(experiment_name(name)) == f"workbench/{name}"

    client = MlflowClient(mlflow_uri)
    old = client.create_experiment("workbench/bundled:caps:test")
    before = client.create_run(old).info.run_id
    run = make_run(db_path, replace(CAPS, name="bundled:caps:test"), TEXTS)
    api.grade(run, db_path=db_path, mlflow_uri=mlflow_uri)
    exp = client.get_experiment_by_name("caps:test · bundled · workbench")
    assert exp is not None and exp.experiment_id == old
    assert client.get_experiment_by_name("workbench/bundled:caps:test") is None
    runs = {r.info.run_id for r in client.search_runs([old])}
    assert before in runs and len(runs) == 2  # the old run and the new grading

"""MLflow as the place to look: experiments open on their runs, one top-level row per variant
with its stages nested under it and its newest figures on it, and the questions as a dataset."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.helpers import CAPS, TEXTS, make_run, query
from workbench import api, data


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
    assert parent.data.metrics["exact.smece"] == exact["smece"].value
    assert parent.data.metrics["contains.accuracy"] == contains["accuracy"].value
    assert "exact.smece_floor_p95" in parent.data.metrics
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
    return api.report("caps", ["model"], n_bootstrap=20, db_path=path, mlflow_uri=mlflow_uri)


def test_the_report_is_one_self_contained_html_file(report_page):
    """Variants with intervals and floors, the overlaid reliability diagram inline, a paired
    diff with its largest confidence changes, every variant's questions; nothing fetched from
    anywhere."""
    text = report_page.read_text()
    assert report_page.parent.name == "reports"
    for part in ("<h2>Variants</h2>", "m-a", "m-b", "smECE floor", "data:image/png;base64,",
                 "m-b − m-a (4 shared questions)", "Capital of Australia?", "Sydney"):
        assert part in text, part
    assert "http://" not in text and "https://" not in text


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

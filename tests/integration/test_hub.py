"""The paper's datasets: each mapping on small local files in the hub's format, the cache, the
few-shot pools, math answers by value, and a clear message without a network."""

from __future__ import annotations

from tests.helpers import gsm8k_rows, write_jsonl


def test_a_dataset_is_stored_once_and_listed(tmp_path, tiny_model, mlflow_uri):
    from typer.testing import CliRunner

    from workbench import api
    from workbench.cli import app

    path = write_jsonl(tmp_path / "gsm.jsonl", gsm8k_rows(30))
    db_path = tmp_path / "wb.duckdb"
    for style in ("concise", "cot"):
        api.generate(api.GenerateRequest(str(tiny_model), f"gsm8k:test={path}@4", style=style,
                                         samples=2, max_new_tokens=3, shots=2),
                     db_path=db_path, mlflow_uri=mlflow_uri)
    stored = api.list_datasets(db_path=db_path)
    assert len(stored) == 1 and stored[0]["runs"] == 2 and stored[0]["name"] == "gsm8k:test@4"
    out = CliRunner().invoke(app, ["datasets", "--db", str(db_path)]).output
    assert stored[0]["dataset_id"] in out and "gsm8k:test@4" in out

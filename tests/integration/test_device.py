"""The local backend's device and precision: auto resolved and recorded, named devices that are
absent refused before anything loads, half precision on the CPU. (Batches planned from real
model configs: ``test_memory.py``.) No test needs a GPU."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import WORKBENCH, query
from workbench import api
from workbench.backends.transformers import Config
from workbench.backends.transformers.device import resolve_device, resolve_dtype


def test_auto_is_the_cpu_here_and_the_run_records_device_and_dtype(tiny_model, small_dataset,
                                                                   db_path, mlflow_uri):
    assert resolve_device("auto") == "cpu" and resolve_dtype("auto", "cpu") == "float32"
    assert resolve_dtype("auto", "mps") == "float16"
    run_id = api.generate(api.GenerateRequest(str(tiny_model), str(small_dataset), samples=2,
                                              shots=2), db_path=db_path, mlflow_uri=mlflow_uri)
    assert query(db_path, "SELECT device, dtype FROM runs WHERE run_id = ?", [run_id]) == [
        ("cpu", "float32")]
    backend = json.loads(query(db_path, "SELECT backend_config FROM runs")[0][0])
    assert (backend["device"], backend["dtype"]) == ("cpu", "float32")


def test_float16_on_the_cpu_runs_and_is_recorded(tiny_model, small_dataset, db_path,
                                                 mlflow_uri):
    req = api.GenerateRequest(str(tiny_model), str(small_dataset), samples=3, shots=2,
                              backend=Config(dtype="float16", device="cpu"))
    run_id = api.generate(req, db_path=db_path, mlflow_uri=mlflow_uri)
    assert query(db_path, "SELECT device, dtype, count(s.text) FROM runs JOIN samples s "
                          "USING (run_id) WHERE run_id = ? GROUP BY ALL", [run_id]) == [
        ("cpu", "float16", 9)]


@pytest.mark.parametrize("args, flag", [(["--device", "cuda"], "--device: cuda asked"),
                                        (["--device", "cuda:3"], "--device: cuda:3 asked"),
                                        (["--device", "tpu"], "--device: 'tpu' is not"),
                                        (["--dtype", "float8"], "--dtype: 'float8' is not")])
def test_absent_or_unknown_devices_are_refused_before_anything_loads(tiny_model, small_dataset,
                                                                     db_path, args, flag):
    done = subprocess.run([WORKBENCH, "generate", "--model", str(tiny_model), "--dataset",
                           str(small_dataset), "--db", str(db_path), *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and flag in done.stderr and done.stderr.count("\n") == 1
    assert not db_path.exists()


def test_runs_recorded_before_devices_resume_on_the_cpu():
    assert Config.from_record({"dtype": "float32"}).device == "cpu"

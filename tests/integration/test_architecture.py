"""The package installs and runs from its built wheel in a fresh virtual environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers import build_tiny_model, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_built_wheel_installs_and_runs_in_a_fresh_venv(tmp_path):
    """No editable install: the wheel alone must carry the SQL, the bundled data and the
    command. Its dependencies come from this environment's site-packages (read through a .pth
    file, which does not pull in the editable workbench)."""
    dist = tmp_path / "dist"
    # Built from a copy without the checkout's build/ folder: setuptools reuses build/lib, so a
    # file renamed since the last build (a migration) would ship twice.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "runs", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(dist), str(src)], check=True)
    wheel, = dist.glob("workbench-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True)
    env = {**os.environ, "PYTHONPATH": ""}
    where = subprocess.run([py, "-c", "import workbench.sql, workbench; "
                                      "print(workbench.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, env=env, check=True).stdout
    assert where.startswith(site), where  # the installed copy, not the checkout
    model = build_tiny_model(tmp_path / "tiny")
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"question": f"What is {i} plus 1?", "answer": str(i + 1),
         "split": "fewshot" if i < 3 else "test"} for i in range(6)])
    db = tmp_path / "store" / "wb.duckdb"
    command = str(venv / "bin" / "workbench")
    run = subprocess.run([command, "run", "--model", str(model), "--dataset", str(data), "-m", "2",
                          "--max-new-tokens", "3", "--shots", "2", "--bootstrap", "10",
                          "--db", str(db)], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    doctor = subprocess.run([command, "doctor", "--db", str(db)], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=120)
    assert doctor.returncode == 0 and "every FINISHED run holds its planned samples" in \
        doctor.stdout, doctor.stdout + doctor.stderr

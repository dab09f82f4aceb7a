"""CLI start-up: how long a read command takes, against importing what it keeps out.

    .venv/bin/python benchmarks/cli_start.py [--repeats 5]

Times, each the median of fresh processes: ``import workbench.cli``; the same plus the heavy
modules only some commands need (scipy, which the figures use, and torch and mlflow); and
``workbench runs`` end to end on a small store. The ratio says what importing lazily saves.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench import api
from workbench.data import Dataset, Question


def timed(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    workbench = str(Path(py).with_name("workbench"))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "wb.duckdb"
        ds = Dataset("bench", "bench", tuple(Question(f"q{i}", f"Q{i}?", (str(i),))
                                             for i in range(20)))
        from workbench.store import Writer, records  # a small store with one run

        with Writer(db) as writer, writer.transaction() as con:
            ds_id = records.ensure_dataset(con, ds)
            records.insert_rows(con, "runs", [dict(
                run_id="run_bench", status="FINISHED", model="m", model_source="-",
                model_kind="base", prompt_format="completion", backend="none", style="concise",
                shots=0, dataset_id=ds_id, n_questions=20, samples_per_question=1,
                temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=8, stop=[], seed=0,
                package_version="bench", git_sha=None)])
        lazy = timed([py, "-c", "import workbench.cli"], args.repeats)
        eager = timed([py, "-c", "import workbench.cli, scipy.stats, scipy.fft, torch, mlflow"],
                      args.repeats)
        runs = timed([workbench, "runs", "--db", str(db)], args.repeats)
        assert api.list_runs(db_path=db)[0]["run_id"] == "run_bench"
    print(f"median of {args.repeats} fresh processes each")
    for label, secs in (("import workbench.cli", lazy),
                        ("  ... plus scipy, torch, mlflow (eager)", eager),
                        ("workbench runs (small store, end to end)", runs)):
        print(f"{label:42} {secs:6.2f} s")
    print(f"lazy imports: CLI start-up {eager / lazy:.1f}x faster than importing them eagerly")


if __name__ == "__main__":
    main()

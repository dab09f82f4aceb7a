"""Read-only analyses: `workbench diff` of two 150-question runs with 1,000 bootstrap resamples,
against the naive way (relplot.smECE called once per resample and side).

    .venv/bin/python benchmarks/analysis.py [--questions 150] [--samples 20] [--bootstrap 1000]

Two synthetic runs (the same questions; B answers with the same classes more often) are
written, graded and scored with the workbench's own stages. Then, on the same per-question
(confidence, correct) pairs: the diff as `workbench diff` computes it (every metric, paired
bootstrap, noise floors), timed in process and end to end as a fresh CLI process; and the smECE
part alone the naive way, 2 × (1 + resamples) relplot.smECE calls. Both sides' figures are
printed so the agreement can be read off.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from workbench import api
from workbench.analysis.resample import resample_indices
from workbench.readouts.compare import points

sys.path.insert(0, str(Path(__file__).parent))
from store import synthetic, write  # noqa: E402  (the store benchmark's synthetic runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=150)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--bootstrap", type=int, default=1000)
    args = ap.parse_args()
    import relplot

    with tempfile.TemporaryDirectory() as tmp:
        path, uri = Path(tmp) / "wb.duckdb", f"sqlite:///{tmp}/mlflow.db"
        ids = []
        for seed in (0, 1):
            ds, texts = synthetic(args.questions, args.samples, seed=seed)
            run_id = write(path, ds, texts, args.samples)
            ids.append(api.grade(run_id, db_path=path, mlflow_uri=uri))
        t = time.perf_counter()
        _, _, d = api.diff(*ids, n_bootstrap=args.bootstrap, db_path=path)
        ours = time.perf_counter() - t
        cli = str(Path(sys.executable).with_name("workbench"))
        t = time.perf_counter()
        subprocess.run([cli, "diff", *ids, "--bootstrap", str(args.bootstrap), "--db",
                        str(path)], check=True, capture_output=True)
        end_to_end = time.perf_counter() - t
        from workbench.store import reader

        with reader(path) as con:
            sides = [sorted(points(con, g), key=lambda p: p.question_id) for g in ids]
    pairs = [(np.array([p.confidence for p in s]), np.array([float(p.correct) for p in s]))
             for s in sides]
    idx = resample_indices(len(pairs[0][0]), args.bootstrap, 0)
    t = time.perf_counter()
    naive = [[relplot.smECE(f, y)] + [relplot.smECE(f[i], y[i]) for i in idx] for f, y in pairs]
    naive_s = time.perf_counter() - t
    delta = np.array(naive[1]) - np.array(naive[0])
    sm = next(m for m in d.metrics if m.metric == "smece")
    print(f"{args.questions} questions x {args.samples} samples per side, "
          f"{args.bootstrap} resamples")
    print(f"workbench diff (every metric, paired bootstrap, floors), in process: {ours:6.2f} s")
    print(f"workbench diff as a fresh CLI process (imports included):          {end_to_end:6.2f} s")
    print(f"naive: relplot.smECE per resample and side, smECE alone:            {naive_s:6.2f} s "
          f"({2 * (1 + args.bootstrap)} calls)")
    print(f"-> in process {naive_s / ours:.1f}x faster than the naive smECE loop alone")
    print(f"smECE delta: workbench {sm.delta:+.4f} (se {(sm.ci_high - sm.ci_low) / 3.92:.4f}); "
          f"relplot {delta[0]:+.4f} (se {np.std(delta[1:], ddof=1):.4f})")


if __name__ == "__main__":
    main()

"""The noise floor's coverage and power, on synthetic models whose truth is known.

    .venv/bin/python benchmarks/floor.py [--models 500] [--n 40]

For each M: ``--models`` calibrated models of ``--n`` questions (``analysis.simulate``), each
scored (plurality, smECE) and given its floor (100 draws) from its own samples, as ``score``
does. Prints the calibrated models' mean smECE against the floors' mean (does the floor sit where
a calibrated model scores?), the share of calibrated models above their floor's 95th percentile
(should be 5%; with 500 models its standard error is about 1 point), and the share of models
over-confident by 0.1 and 0.2 that score above it (the floor's power); and the same calibrated
models' mean smECE with the split estimator (it removes the confidence's average bias, not the
figure's error).
"""

from __future__ import annotations

import argparse

import numpy as np

from workbench.analysis.floor import distribution, floor
from workbench.analysis.metrics import compute
from workbench.analysis.simulate import calibrated_model


def smece(pair) -> float:
    return compute(*pair, which=["smece"])["smece"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=500)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--ms", default="5,10,20")
    args = ap.parse_args()
    print(f"{args.models} synthetic models per M, N = {args.n} questions, floors of 100 draws")
    print("   M  calibrated smECE  floor mean  above p95 (calibrated)  caught: over 0.1  0.2"
          "  split smECE")
    for m in (int(x) for x in args.ms.split(",")):
        values, means, above, caught, split = [], [], [], {0.1: [], 0.2: []}, []
        for i in range(args.models):
            res, classes = calibrated_model(args.n, m, seed=10_000 + i)
            fl = floor([distribution(c) for c in classes], m, draws=100, seed=i)["smece"]
            values.append(smece(res["plurality"]))
            split.append(smece(res["split"]))
            means.append(fl.mean)
            above.append(values[-1] > fl.p95)
            for over in caught:
                bad, _ = calibrated_model(args.n, m, seed=10_000 + i, over=over)
                caught[over].append(smece(bad["plurality"]) > fl.p95)
        se = np.std(above) / np.sqrt(len(above))
        print(f"{m:4d}  {np.mean(values):16.3f}  {np.mean(means):10.3f}  "
              f"{np.mean(above):11.1%} ± {se:.1%}     {np.mean(caught[0.1]):12.1%}  "
              f"{np.mean(caught[0.2]):4.0%}  {np.mean(split):11.3f}")


if __name__ == "__main__":
    main()

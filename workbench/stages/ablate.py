"""The M ablation as a stage of its own: how the metrics move when each question keeps only m of
its M stored samples (``analysis/ablation.py``). It reads a grading's classes and verdicts and
writes only its rows (``ablations``, ``ablation_rows``): no new sampling, and no new score, so
what ``runs`` and ``compare`` report is unchanged.
"""

from __future__ import annotations

import numpy as np

from .. import __version__
from ..analysis import ablation
from ..analysis.resample import check_draws
from ..errors import StageError, UsageError
from ..lifecycle.context import check_writable, open_context, stage
from ..lifecycle.resolve import grading_for
from ..store import queries, records
from ..tracking import git_sha

TRIVIAL_NOTE = ("m = 1: every answered question's confidence is 1 by construction (one sample "
                "always agrees with itself), so its calibration error only measures the "
                "accuracy")


def ablate(item_id: str, ms: list[int], *, judge: str | None = None, repeats: int = 20,
           seed: int = 0, bins: int = 15, db_path=None, mlflow_uri: str | None = None) -> str:
    """Ablate a grading (or a run's grading by ``judge``, or a score's) over ``ms``; returns
    the new ablation id."""
    ms = sorted(set(ms))
    if not ms:
        raise UsageError("ms", "name at least one m, e.g. 1,2,5,10")
    if any(m < 1 for m in ms):
        raise UsageError("ms", f"values must be ≥ 1, got {','.join(map(str, ms))}")
    check_draws("repeats", repeats, low=2)
    if bins <= 0:
        raise UsageError("bins", f"must be ≥ 1, got {bins}")
    check_writable(db_path, mlflow_uri, existing=True)
    with open_context(db_path, mlflow_uri) as ctx:
        with ctx.writer.session() as con:
            grading = grading_for(con, item_id, judge)
            classes, verdicts = queries.sample_classes(con, grading["grading_id"])
        if not classes:
            raise StageError(f"grading {grading['grading_id']} has no classified samples")
        most = min(len(c) for c in classes.values())
        too_big = [m for m in ms if m > most]
        if too_big:
            raise UsageError("ms", f"{','.join(map(str, too_big))}: the run stored only {most} "
                                   "samples per question")
        ablation_id = records.new_id("abl")
        with ctx.writer.session() as con:
            records.create_ablation(con, dict(
                ablation_id=ablation_id, grading_id=grading["grading_id"],
                ms=",".join(map(str, ms)), repeats=repeats, seed=seed, ece_bins=bins,
                package_version=__version__, git_sha=git_sha()))
        with stage(ctx, "ablations", ablation_id):
            rows = ablation.ablate([np.array(c) for c in classes.values()],
                                   [verdicts.get(q, {}) for q in classes], ms, repeats=repeats,
                                   seed=seed, bins=bins)
            with ctx.writer.transaction() as con:
                records.write_ablation(con, ablation_id, rows)
    return ablation_id

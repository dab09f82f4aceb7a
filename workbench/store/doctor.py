"""Check a store: schema version, stages stuck RUNNING, samples versus plan, orphan rows.

Each check is a query; each finding says what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import connection, recovery
from .queries import first, rows, unmirrored


@dataclass(frozen=True)
class Finding:
    level: str  # ok | fixed | warn | error
    what: str
    fix: str = ""


# (what, query returning offending rows' descriptions, what to do)
ORPHANS = [
    ("samples of a run that does not exist",
     "SELECT DISTINCT run_id FROM samples WHERE run_id NOT IN (SELECT run_id FROM runs)"),
    ("samples outside their run's plan (question not asked, or sample index ≥ M)",
     """SELECT DISTINCT s.run_id FROM samples s JOIN runs r USING (run_id)
        WHERE s.sample_idx >= r.samples_per_question OR s.sample_idx < 0
           OR s.question_id NOT IN (SELECT question_id FROM run_questions q
                                    WHERE q.run_id = s.run_id)"""),
    ("gradings of a run that does not exist",
     "SELECT grading_id FROM gradings WHERE run_id NOT IN (SELECT run_id FROM runs)"),
    ("sample classes of a grading that does not exist",
     """SELECT DISTINCT grading_id FROM sample_classes
        WHERE grading_id NOT IN (SELECT grading_id FROM gradings)"""),
    ("class verdicts of a grading that does not exist",
     """SELECT DISTINCT grading_id FROM class_grades
        WHERE grading_id NOT IN (SELECT grading_id FROM gradings)"""),
    ("metrics of a score that does not exist",
     "SELECT DISTINCT score_id FROM score_metrics "
     "WHERE score_id NOT IN (SELECT score_id FROM scores)"),
    ("run questions missing from their dataset",
     """SELECT DISTINCT rq.run_id FROM run_questions rq JOIN runs r USING (run_id)
        WHERE NOT EXISTS (SELECT 1 FROM questions q WHERE q.dataset_id = r.dataset_id
                          AND q.question_id = rq.question_id)"""),
]


def check(con, live_writer: dict | None = None) -> list[Finding]:
    """Findings about the store; ``live_writer``: the record of a process writing it now, whose
    RUNNING stages are alive, not stuck."""
    found = [_schema(con)]
    for s in recovery.find_stale(con):
        if live_writer and s.pid == live_writer.get("pid") and s.host == live_writer.get("host"):
            found.append(Finding("ok", f"{s.table[:-1]} {s.item_id} is RUNNING in PID {s.pid} "
                                       f"on {s.host}"))
            continue
        what = f"{s.table[:-1]} {s.item_id} is RUNNING but {s.reason.split(': ', 1)[1]}"
        fix = (f"`workbench resume {s.item_id}` finishes it" if s.table == "runs"
               else "any writing command (or `workbench doctor --fix`) marks it FAILED")
        found.append(Finding("error", what, fix))
    found += _plans(con)
    found += _gradings(con)
    found += _mirrors(con)
    for what, sql in ORPHANS:
        ids = [r[0] for r in con.execute(sql).fetchall()]
        if ids:
            found.append(Finding("error", f"{what}: {', '.join(map(str, ids[:10]))}",
                                 "inspect with `workbench sql`; delete with --write if unwanted"))
    if all(f.level == "ok" for f in found):
        n = first(con, "SELECT count(*) FROM runs")[0]
        found.append(Finding("ok", f"{n} runs: every FINISHED run holds its planned samples, "
                                   "no stage is stuck, no orphan rows"))
    return found


def _schema(con) -> Finding:
    applied = connection.applied_versions(con)
    known = [m.version for m in connection.migrations()]
    if applied == known:
        return Finding("ok", f"schema at version {max(known)} ({len(known)} migrations)")
    pending = sorted(set(known) - set(applied))
    return Finding("warn", f"schema at version {max(applied, default=0)}; pending migrations "
                           f"{pending}", "any writing command applies them")


def _plans(con) -> list[Finding]:
    out = []
    for r in rows(con, """SELECT run_id, status, planned_samples, stored_samples
                                FROM run_progress JOIN runs USING (run_id, status)
                                WHERE planned_samples <> stored_samples
                                  AND archived_at IS NULL  -- put away on purpose
                                ORDER BY run_id"""):
        gap = f"{r['stored_samples']} of {r['planned_samples']} samples"
        if r["status"] == "FINISHED":
            out.append(Finding("error", f"run {r['run_id']} is FINISHED with {gap}",
                               f"`workbench resume {r['run_id']}` samples what is missing"))
        elif r["status"] != "RUNNING":  # RUNNING ones are reported as stuck
            out.append(Finding("warn", f"run {r['run_id']} is {r['status']} with {gap}",
                               f"`workbench resume {r['run_id']}` finishes it"))
    return out


def _gradings(con) -> list[Finding]:
    found = rows(con, """
        SELECT g.grading_id, g.run_id,
               (SELECT count(*) FROM sample_classes c WHERE c.grading_id = g.grading_id) AS n,
               (SELECT count(*) FROM samples s WHERE s.run_id = g.run_id) AS m
        FROM gradings g WHERE g.status = 'FINISHED'""")
    return [Finding("warn", f"grading {r['grading_id']} covers {r['n']} of run {r['run_id']}'s "
                            f"{r['m']} samples", f"`workbench grade {r['run_id']}` grades it anew")
            for r in found if r["n"] != r["m"]]


def _mirrors(con) -> list[Finding]:
    """Stages MLflow does not show as stored: never mirrored (MLflow was down, an import), or
    a mirror cut short (killed while it wrote, which leaves its MLflow run RUNNING)."""
    pending = unmirrored(con)
    if not pending:
        return []
    named = ", ".join(f"{table[:-1]} {item_id}" for table, item_id in pending[:5])
    more = f" and {len(pending) - 5} more" if len(pending) > 5 else ""
    return [Finding("warn", f"{len(pending)} stages not in MLflow as stored: {named}{more}",
                    "`workbench mirror` (or `workbench doctor --fix`) brings MLflow up to date")]

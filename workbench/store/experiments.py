"""The experiment tables (``0016_experiments.sql``): each experiment file as it was run, the runs
its cells made or found, and the run a cell key points at."""

from __future__ import annotations

from .queries import rows
from .records import insert_rows


def ensure_experiment(con, row: dict) -> bool:
    """Store an experiment file once per content hash; True when it is new."""
    if con.execute("SELECT 1 FROM experiments WHERE experiment_id = ?",
                   [row["experiment_id"]]).fetchall():
        return False
    insert_rows(con, "experiments", [row])
    return True


def ensure_cells(con, experiment_id: str, cells: list[dict]) -> None:
    """An experiment's cells by key (``experiment_cells``), once each."""
    for c in cells:
        con.execute("INSERT OR IGNORE INTO experiment_cells VALUES (?, ?, ?, ?, ?)",
                    [experiment_id, c["cell_key"], c["model"], c["dataset"], c["style"]])


def link_experiment_run(con, experiment_id: str, run_id: str, cell_key: str) -> None:
    """An experiment's cell made (or found) this run; the run carries the cell's key."""
    con.execute("INSERT OR IGNORE INTO experiment_runs VALUES (?, ?, ?)",
                [experiment_id, run_id, cell_key])
    con.execute("UPDATE runs SET cell_key = ? WHERE run_id = ? AND cell_key IS NULL",
                [cell_key, run_id])


def cell_run(con, cell_key: str) -> dict | None:
    """The run an experiment cell made: its newest finished one, else its newest."""
    found = rows(con, """SELECT run_id, status, n_questions, samples_per_question FROM runs
                         WHERE cell_key = ?
                         ORDER BY status = 'FINISHED' DESC, created_at DESC LIMIT 1""",
                 [cell_key])
    return found[0] if found else None


def judged(con, run_id: str, judge: str) -> dict | None:
    """A run's newest finished grading by ``judge`` and that grading's newest finished score
    under the paper's plurality share (``score_id`` None when it has none), or None."""
    found = rows(con, """
        SELECT g.grading_id,
               (SELECT s.score_id FROM scores s WHERE s.grading_id = g.grading_id
                  AND s.status = 'FINISHED' AND s.estimator = 'plurality'
                ORDER BY s.created_at DESC LIMIT 1) AS score_id
        FROM gradings g WHERE g.run_id = ? AND g.judge = ? AND g.status = 'FINISHED'
        ORDER BY g.created_at DESC LIMIT 1""", [run_id, judge])
    return found[0] if found else None


def experiment_runs(con, name: str) -> list[str]:
    """The runs every stored version of experiment ``name`` made or found."""
    return [r[0] for r in con.execute(
        """SELECT DISTINCT er.run_id FROM experiment_runs er JOIN experiments e
           USING (experiment_id) WHERE e.name = ? ORDER BY 1""", [name]).fetchall()]


def experiment_names(con) -> list[str]:
    """Every stored experiment's name."""
    return [r[0] for r in con.execute("SELECT DISTINCT name FROM experiments ORDER BY 1")
            .fetchall()]


def measured(con, grading_id: str) -> set[str]:
    """The confidence measures a grading has a finished score under."""
    return {r[0] for r in con.execute("SELECT DISTINCT estimator FROM scores WHERE "
                                      "grading_id = ? AND status = 'FINISHED'",
                                      [grading_id]).fetchall()}


def ablated(con, grading_id: str, ms: tuple[int, ...]) -> str | None:
    """A grading's newest finished ablation over exactly these m, or None."""
    found = con.execute("""SELECT ablation_id FROM ablations WHERE grading_id = ? AND ms = ?
                           AND status = 'FINISHED' ORDER BY created_at DESC LIMIT 1""",
                        [grading_id, ",".join(map(str, sorted(ms)))]).fetchall()
    return found[0][0] if found else None

"""Reads of workbench records, by name. Readers use the views in ``sql/views/`` where one
answers the question, so a figure here can be reproduced with ``workbench sql``."""

from __future__ import annotations

from ..data.types import Dataset, Question
from ..errors import NotFound
from .tables import BY_WHAT, STAGES


def rows(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def first(con, sql: str, params: list | None = None):
    """The first row of a query, or None (the result is drained: DuckDB wants that)."""
    found = con.execute(sql, params or []).fetchall()
    return found[0] if found else None


def one(con, what: str, item_id: str) -> dict:
    """A run, grading, score, ablation or tuning by id; ``NotFound`` names the id."""
    t = BY_WHAT[what]
    found = rows(con, f"SELECT * FROM {t.table} WHERE {t.key} = ?", [item_id])
    if not found:
        raise NotFound(f"no {what} with id {item_id!r} in the store")
    return found[0]


def dataset_name(con, dataset_id: str) -> str:
    return first(con, "SELECT name FROM datasets WHERE dataset_id = ?", [dataset_id])[0]


def run_dataset_name(con, run_id: str) -> str:
    return first(con, "SELECT d.name FROM runs JOIN datasets d USING (dataset_id) "
                      "WHERE run_id = ?", [run_id])[0]


# --- the MLflow mirror ----------------------------------------------------------------------

def stage_record(con, table: str, item_id: str, questions: int = 0) -> dict:
    """A stage's row and what its MLflow run shows beside it: the run and grading it belongs
    to, the dataset's name, for a score its metrics (and once finished its first ``questions``
    questions by id, with their classes), for an ablation its rows."""
    what = STAGES[table].what
    out = {"table": table, what: one(con, what, item_id)}
    if table == "tunings":
        out["steps"] = tuning_steps(con, item_id)
        out["dataset"] = dataset_name(con, out["tuning"]["dataset_id"])
        return out
    if table == "scores":
        out["grading"] = one(con, "grading", out["score"]["grading_id"])
        out["metrics"] = score_metrics(con, item_id)
        if out["score"]["status"] == "FINISHED" and questions:  # as evaluation records
            out["questions"] = question_table(con, out["grading"]["grading_id"],
                                              limit=questions)
            out["classes"] = class_summaries(con, out["grading"]["grading_id"])
    if table == "ablations":
        out["grading"] = one(con, "grading", out["ablation"]["grading_id"])
        out["rows"] = ablation(con, item_id)
    if table != "runs":
        out["run"] = one(con, "run", out["grading"]["run_id"])
    out["dataset_row"] = rows(con, "SELECT name, source, content_hash, n_questions FROM datasets "
                                   "WHERE dataset_id = ?", [out["run"]["dataset_id"]])[0]
    out["dataset"] = out["dataset_row"]["name"]
    tuning = out["run"].get("tuning_id")
    out["tuning"] = one(con, "tuning", tuning) if tuning else None
    out["experiments"] = cell_experiments(con, out["run"].get("cell_key"))
    return out


def cell_experiments(con, cell_key: str | None) -> list[str]:
    """The names of the experiments that have this cell (none for a run made by hand)."""
    return [r[0] for r in con.execute(
        """SELECT DISTINCT e.name FROM experiment_cells c JOIN experiments e
           USING (experiment_id) WHERE c.cell_key = ? ORDER BY 1""", [cell_key]).fetchall()]


def unmirrored(con) -> list[tuple[str, str]]:
    """Finished or failed stages whose MLflow mirror does not say so yet, oldest first."""
    found = []
    for table, t in STAGES.items():
        found += [(table, r[0]) for r in con.execute(
            f"SELECT {t.key} FROM {table} WHERE status <> 'RUNNING' AND "
            "mirrored_status IS DISTINCT FROM status ORDER BY created_at").fetchall()]
    return found


# --- generation -----------------------------------------------------------------------------

def stored_counts(con, run_id: str) -> dict[str, int]:
    """Samples stored per question of a run."""
    return dict(con.execute("SELECT question_id, count(*) FROM samples WHERE run_id = ? "
                            "GROUP BY question_id", [run_id]).fetchall())


def stored_prompts(con, run_id: str) -> dict[str, str]:
    return dict(con.execute("SELECT question_id, prompt FROM prompts WHERE run_id = ?",
                            [run_id]).fetchall())


def stored_dataset(con, run: dict) -> tuple[Dataset, list[Question]]:
    """A run's dataset as stored (questions and few-shot pool), and its questions in order."""
    def question(r):
        return Question(r["question_id"], r["question"], tuple(r["answers"]), r["answer_type"],
                        r["sentence"], r["rationale"], groups(r))

    found = rows(con, "SELECT * FROM questions WHERE dataset_id = ? ORDER BY position",
                 [run["dataset_id"]])
    test = [question(r) for r in found if r["split"] == "test"]
    pool = [question(r) for r in found if r["split"] == "fewshot"]
    ds = Dataset(dataset_name(con, run["dataset_id"]), "store", tuple(test), tuple(pool))
    by_id = {q.id: q for q in test}
    order = [r[0] for r in con.execute("SELECT question_id FROM run_questions WHERE run_id = ? "
                                       "ORDER BY position", [run["run_id"]]).fetchall()]
    return ds, [by_id[q] for q in order]


def unfinished_twin(con, run: dict) -> str | None:
    """The newest unfinished run with exactly these settings (``run``: the fields of a run
    row that decide its samples)."""
    found = first(con, """
        SELECT run_id FROM runs
        WHERE status <> 'FINISHED' AND model = ? AND prompt_format = ? AND style = ?
          AND shots = ? AND dataset_id = ? AND n_questions = ? AND samples_per_question = ?
          AND temperature = ? AND top_p = ? AND top_k = ? AND max_new_tokens = ? AND seed = ?
          AND coalesce(chunk_size, 8) = ? AND coalesce(dtype, '') = coalesce(?, '')
          AND coalesce(device, '') = coalesce(?, '')
          AND backend = ? AND coalesce(base_url, '') = coalesce(?, '')
          AND coalesce(tuning_id, '') = coalesce(?, '')
        ORDER BY created_at DESC LIMIT 1""",
        [run.get(k) for k in ("model", "prompt_format", "style", "shots", "dataset_id",
                              "n_questions", "samples_per_question", "temperature", "top_p",
                              "top_k", "max_new_tokens", "seed", "chunk_size", "dtype",
                              "device", "backend", "base_url", "tuning_id")])
    return found[0] if found else None


# --- grading --------------------------------------------------------------------------------

def judge_record(con, name: str) -> dict | None:
    """The newest version of a stored LLM judge, or None."""
    found = rows(con, "SELECT * FROM judges WHERE name = ? ORDER BY created_at DESC LIMIT 1",
                 [name])
    return found[0] if found else None


def grading_to_retry(con, run_id: str, judge: str, version: str, map_version: str
                     ) -> str | None:
    """The newest finished grading of this run by this judge version, with this version of the
    map B, that met errors."""
    found = first(con, """
        SELECT g.grading_id FROM gradings g WHERE g.run_id = ? AND g.judge = ?
          AND g.judge_version = ? AND g.status = 'FINISHED'
          AND g.extractor LIKE '%' || ?
          AND (EXISTS (SELECT 1 FROM class_grades c WHERE c.grading_id = g.grading_id
                       AND c.judge_error IS NOT NULL)
               OR EXISTS (SELECT 1 FROM grading_errors e WHERE e.grading_id = g.grading_id))
        ORDER BY g.created_at DESC LIMIT 1""", [run_id, judge, version, map_version])
    return found[0] if found else None


def groups(row: dict) -> tuple[tuple[str, ...], ...] | None:
    """A question row's alias groups (None: its gold answers are all aliases of each other)."""
    found = row.get("answer_groups")
    return tuple(tuple(g) for g in found) if found else None


def run_questions(con, run: dict) -> dict[str, dict]:
    """The run's questions with their gold answers and alias groups, in run order."""
    found = rows(con, """
        SELECT q.question_id, q.question, q.answers, q.answer_type, q.answer_groups
        FROM run_questions rq
        JOIN questions q ON q.dataset_id = ? AND q.question_id = rq.question_id
        WHERE rq.run_id = ? ORDER BY rq.position""", [run["dataset_id"], run["run_id"]])
    for r in found:
        r["groups"] = groups(r) or (tuple(r["answers"]),)
    return {r["question_id"]: r for r in found}


def sample_texts(con, run_id: str) -> dict[str, list[tuple[str, str]]]:
    """Each question's samples as (text, finish reason), in sample order."""
    texts: dict[str, list[tuple[str, str]]] = {}
    for qid, text, finish in con.execute(
            "SELECT question_id, text, finish_reason FROM samples WHERE run_id = ? "
            "ORDER BY question_id, sample_idx", [run_id]).fetchall():
        texts.setdefault(qid, []).append((text, finish))
    return texts


def finished_gradings(con, run_id: str) -> list[dict]:
    """A run's finished gradings, newest first."""
    return rows(con, "SELECT * FROM gradings WHERE run_id = ? AND status = 'FINISHED' "
                     "ORDER BY created_at DESC", [run_id])


def ids_like(con, prefix: str) -> list[tuple[str, str]]:
    """(table, id) of every stage (run, grading, score, ablation, tuning) whose id starts with
    ``prefix`` (at most 10 per table)."""
    found = []
    for table, t in STAGES.items():
        found += [(table, r[0]) for r in con.execute(
            f"SELECT {t.key} FROM {table} WHERE starts_with({t.key}, ?) ORDER BY {t.key} "
            "LIMIT 10", [prefix]).fetchall()]
    return found


# --- scoring --------------------------------------------------------------------------------

QUESTION_ORDER = {"question": "question_id", "confidence": "confidence DESC, question_id",
                  "classes": "n_classes DESC, question_id"}


def question_table(con, grading_id: str, *, wrong: bool = False, sort: str = "question",
                   limit: int | None = None) -> list[dict]:
    """Per question of a grading: its plurality answer, confidence and verdict (the view);
    ``wrong``: only questions answered wrong; ``sort``: a key of ``QUESTION_ORDER``."""
    return rows(con, f"""SELECT question_id, question, answers, answer, answer_key,
                                answer_count, m, n_classes, confidence, correct
                         FROM question_confidence WHERE grading_id = ?
                         {"AND correct = false" if wrong else ""}
                         ORDER BY {QUESTION_ORDER[sort]} LIMIT ?""",
                [grading_id, limit if limit is not None else 1 << 62])


def class_summaries(con, grading_id: str) -> dict[str, str]:
    """Per question, its classes largest first with their sample counts and verdicts, in one
    line: ``Canberra ×12 ✓ · Sydney ×6 ✗``."""
    return dict(con.execute("""
        SELECT question_id, string_agg(canonical || ' ×' || n_samples || ' ' ||
                   CASE WHEN correct THEN '✓' WHEN NOT correct THEN '✗' ELSE '?' END,
                   ' · ' ORDER BY n_samples DESC, class_id)
        FROM class_grades WHERE grading_id = ? GROUP BY question_id""",
                            [grading_id]).fetchall())


def grading_samples(con, grading_id: str, limit: int) -> tuple[list[str], list[tuple]]:
    """A grading's samples with their answers, classes and verdicts (the view), in question
    order, at most ``limit`` of them: (column names, rows)."""
    cur = con.execute("""SELECT question_id, sample_idx, answer, canonical AS class,
                                class_size, correct, finish_reason, text
                         FROM sample_grades WHERE grading_id = ?
                         ORDER BY question_id, sample_idx LIMIT ?""", [grading_id, limit])
    return [d[0] for d in cur.description], cur.fetchall()


def sample_grades(con, grading_id: str, question_id: str) -> list[dict]:
    """One question's samples in a grading: text, extracted answer, class, verdict (the view)."""
    return rows(con, """SELECT sample_idx, answer, class_id, canonical, correct, finish_reason,
                               text
                        FROM sample_grades WHERE grading_id = ? AND question_id = ?
                        ORDER BY sample_idx""", [grading_id, question_id])


def points(con, grading_id: str) -> list[dict]:
    return rows(con, "SELECT question_id, question, answer, answer_key, confidence, correct "
                     "FROM question_confidence WHERE grading_id = ?", [grading_id])


def score_metrics(con, score_id: str) -> list[dict]:
    return rows(con, "SELECT metric, value, ci_low, ci_high, floor_mean, floor_p95 "
                     "FROM score_metrics WHERE score_id = ?", [score_id])


def score_estimates(con, score_id: str) -> dict:
    """A score's metrics as ``analysis.resample.Estimate`` by name, floors included."""
    from ..analysis.resample import Estimate  # NumPy: only where figures are read

    return {r["metric"]: Estimate(r["value"], r["ci_low"], r["ci_high"], r["floor_mean"],
                                  r["floor_p95"]) for r in score_metrics(con, score_id)}


def truncated_share(con, grading_id: str) -> float:
    """Share of the run's samples that hit their token budget without giving an answer."""
    return first(con, """
        SELECT coalesce(avg((s.finish_reason = 'length' AND c.class_id IS NULL)::INT), 0)
        FROM gradings g JOIN samples s ON s.run_id = g.run_id
        LEFT JOIN sample_classes c ON c.grading_id = g.grading_id
             AND c.question_id = s.question_id AND c.sample_idx = s.sample_idx
        WHERE g.grading_id = ?""", [grading_id])[0]


def sample_classes(con, grading_id: str) -> tuple[dict[str, list[int]], dict[str, dict]]:
    """Each question's class id per sample (-1: no answer) and its verdict per class."""
    per_q: dict[str, list[int]] = {}
    for qid, cid in con.execute("SELECT question_id, class_id FROM sample_classes "
                                "WHERE grading_id = ? ORDER BY question_id, sample_idx",
                                [grading_id]).fetchall():
        per_q.setdefault(qid, []).append(-1 if cid is None else cid)
    judged: dict[str, dict[int, bool | None]] = {}
    for qid, cid, ok in con.execute("SELECT question_id, class_id, correct FROM class_grades "
                                    "WHERE grading_id = ?", [grading_id]).fetchall():
        judged.setdefault(qid, {})[cid] = ok
    return per_q, judged


def sample_sequences(con, grading_id: str) -> dict[str, list[tuple]]:
    """Each question's samples as (text, log p, tokens), in sample order, for a grading's run."""
    per_q: dict[str, list] = {}
    for qid, text, lp, n in con.execute(
            "SELECT s.question_id, s.text, s.logprob, s.n_tokens FROM samples s JOIN gradings g "
            "USING (run_id) WHERE g.grading_id = ? ORDER BY s.question_id, s.sample_idx",
            [grading_id]).fetchall():
        per_q.setdefault(qid, []).append((text, lp, n))
    return per_q


def ablation(con, ablation_id: str) -> list[dict]:
    """An ablation's rows, each with its repeats, by m then metric."""
    return rows(con, "SELECT r.m, r.metric, r.mean, r.sd, a.repeats FROM ablation_rows r "
                     "JOIN ablations a USING (ablation_id) WHERE ablation_id = ? "
                     "ORDER BY r.m, r.metric", [ablation_id])


def grading_ablations(con, grading_id: str) -> list[dict]:
    """A grading's ablations, newest first."""
    return rows(con, "SELECT * FROM ablations WHERE grading_id = ? ORDER BY created_at DESC",
                [grading_id])


# --- variants and listings ------------------------------------------------------------------

def scored_variants(con, dataset: str, judge: str | None = None) -> list[dict]:
    """The scored (run, grading) pairs of a dataset (a name with ``@N``: that subset; without:
    every subset), newest first; with ``judge``, that judge's gradings only."""
    family = dataset.split("@")[0]
    return rows(con, """SELECT * FROM variants
                        WHERE score_id IS NOT NULL AND (dataset = ? OR
                              (? = dataset_family AND ? NOT LIKE '%@%'))
                          AND (? IS NULL OR judge = ?)
                        ORDER BY created_at DESC, graded_at DESC""",
                [dataset, family, dataset, judge, judge])


def measure_scores(con, grading_id: str) -> list[tuple[str, str]]:
    """(measure, score id) of a grading's newest finished score under each measure."""
    return con.execute("""SELECT estimator, arg_max(score_id, created_at) FROM scores
                          WHERE grading_id = ? AND status = 'FINISHED'
                          GROUP BY estimator ORDER BY estimator""", [grading_id]).fetchall()


def run_gradings(con, run_id: str) -> list[dict]:
    return rows(con, "SELECT grading_id, judge, status, created_at FROM gradings "
                     "WHERE run_id = ? ORDER BY created_at", [run_id])


def grading_scores(con, grading_id: str) -> list[dict]:
    return rows(con, "SELECT score_id, created_at, status FROM scores WHERE grading_id = ? "
                     "ORDER BY created_at", [grading_id])


def samples_stored(con, run_id: str) -> int:
    return first(con, "SELECT count(*) FROM samples WHERE run_id = ?", [run_id])[0]


def list_datasets(con) -> list[dict]:
    return rows(con, """SELECT d.dataset_id, d.name, d.source, d.n_questions, d.n_fewshot,
                               left(d.content_hash, 16) AS content_hash, d.created_at,
                               count(r.run_id) AS runs
                        FROM datasets d LEFT JOIN runs r USING (dataset_id)
                        GROUP BY ALL ORDER BY d.created_at""")


def list_judges(con) -> list[dict]:
    return rows(con, "SELECT name, version, model, base_url, grader_prompt_hash, "
                     "extractor_prompt_hash, created_at FROM judges ORDER BY name, created_at")


# --- tunings --------------------------------------------------------------------------------

def tuning_steps(con, tuning_id: str) -> list[dict]:
    return rows(con, "SELECT step, loss, reward, kl, unanimous, seconds FROM tuning_steps "
                     "WHERE tuning_id = ? "
                     "ORDER BY step", [tuning_id])


def has_tuning(con, tuning_id: str) -> bool:
    return first(con, "SELECT 1 FROM tunings WHERE tuning_id = ? AND status = 'FINISHED'",
                 [tuning_id]) is not None


def list_tunings(con) -> list[dict]:
    return rows(con, "SELECT t.tuning_id, t.name, t.parent_model, t.method, d.name AS dataset, "
                     "t.steps, t.learning_rate, t.seed, t.status, t.cached, t.created_at "
                     "FROM tunings t JOIN datasets d USING (dataset_id) ORDER BY t.created_at")

"""Store throughput and size: write, grade and score 1,000,000 synthetic samples; time per
stage, and bytes per sample stored against each sample carrying its prompt (the layout before
migration 0019).

    .venv/bin/python benchmarks/store.py [--questions 20000] [--samples 50] [--bootstrap 1000]
                                         [--measures]

With --measures, also every confidence measure (analysis/confidence.py) scored from the stored
samples: the whole ``score`` under each (read, measure, bootstrap, store), and the measure alone.

Samples are written the workbench's way (Arrow tables, one transaction per chunk of questions)
and, for comparison, the naive way (row-by-row parameterised INSERTs) on a slice, extrapolated.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

from workbench import api
from workbench.data import Dataset, Question
from workbench.store import Writer, connect, records

VARIANTS = ["{}", "{}.", " {}", "{}!", "The answer is {}.", "{}\n"]


def fewshot_prompt(i: int, shots: int = 5) -> str:
    """A completion prompt as generate builds one: 5 seeded exemplars, then the question (about
    330 characters, like the capitals prompts)."""
    rng = random.Random(i)
    lines = [f"Q: What is the capital of country number {rng.randint(1, 999)}?\n"
             f"A: City{rng.randint(1, 999)}\n" for _ in range(shots)]
    return "".join(lines) + f"Q: Synthetic question {i}?\nA:"


def synthetic(n_questions: int, m: int, seed: int = 0):
    """Questions with a known answer, and M answers each drawn from a few classes."""
    rng = random.Random(seed)
    questions = tuple(Question(f"s{i:07d}", f"Synthetic question {i}?", (f"gold{i}",))
                      for i in range(n_questions))
    texts = {}
    for i, q in enumerate(questions):
        k = rng.randint(1, 6)
        options = [f"gold{i}"] + [f"wrong{i}x{j}" for j in range(k - 1)]
        weights = [rng.random() for _ in options]
        texts[q.id] = [rng.choice(VARIANTS).format(rng.choices(options, weights)[0])
                       for _ in range(m)]
    return Dataset("synthetic", "benchmark", questions), texts


def write(path: Path, ds, texts, m: int, chunk: int = 1000) -> str:
    with Writer(path) as writer:
        with writer.transaction() as con:
            ds_id = records.ensure_dataset(con, ds)
        run_id = records.new_id("run")
        with writer.transaction() as con:
            records.create_run(con, dict(
                run_id=run_id, model="synthetic", model_source="-", model_kind="base",
                prompt_format="completion", backend="none", style="concise", shots=0,
                dataset_id=ds_id, n_questions=len(ds.questions), samples_per_question=m,
                temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=8, stop=[], seed=0,
                package_version="bench", git_sha=None), [q.id for q in ds.questions])
        qs = list(ds.questions)
        for lo in range(0, len(qs), chunk):
            rows = [dict(run_id=run_id, question_id=q.id, sample_idx=j, text=t, n_tokens=2,
                         logprob=-1.5, finish_reason="stop", latency_s=0.1)
                    for q in qs[lo:lo + chunk] for j, t in enumerate(texts[q.id])]
            with writer.transaction() as con:
                records.replace_samples(con, run_id, {q.id: fewshot_prompt(int(q.id[1:]))
                                                      for q in qs[lo:lo + chunk]}, rows)
        with writer.session() as con:
            records.set_status(con, "runs", run_id, "FINISHED")
        return run_id


def naive_rate(path: Path, n: int = 20000) -> float:
    """Rows per second for row-by-row INSERTs of n sample rows."""
    con = connect(path)
    try:
        con.execute("CREATE TEMP TABLE s AS SELECT * FROM samples LIMIT 0")
        start = time.perf_counter()
        con.execute("BEGIN")
        for j in range(n):
            con.execute("INSERT INTO s (run_id, question_id, sample_idx, text, n_tokens, "
                        "logprob, finish_reason, latency_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        ["run_x", f"q{j // 50}", j % 50, "gold", 2, -1.5, "stop", 0.1])
        con.execute("COMMIT")
        return n / (time.perf_counter() - start)
    finally:
        con.close()


def chunk_cost(path: Path, run_id: str, chunks: int = 100, per_chunk: int = 8 * 20
               ) -> tuple[float, float]:
    """Seconds per committed chunk of ``per_chunk`` sample rows: as `generate` commits them (the
    writer opens the file for each chunk, so readers can look in between), and on one connection
    held open for all of them (the way it was before readers could see a live run)."""
    def rows(k):
        return [dict(run_id=run_id, question_id=f"chunk{k:05d}", sample_idx=j,
                     text="x", n_tokens=1, logprob=-1.0,
                     finish_reason="stop", latency_s=0.1) for j in range(per_chunk)]
    with Writer(path) as writer:
        start = time.perf_counter()
        for k in range(chunks):
            with writer.transaction() as con:
                records.insert_rows(con, "samples", rows(k))
        sessions = (time.perf_counter() - start) / chunks
        with writer.session() as con:
            con.execute("DELETE FROM samples WHERE question_id LIKE 'chunk%'")
    con = connect(path)
    try:
        start = time.perf_counter()
        for k in range(chunks):
            with records.transaction(con):
                records.insert_rows(con, "samples", rows(k))
        held = (time.perf_counter() - start) / chunks
        con.execute("DELETE FROM samples WHERE question_id LIKE 'chunk%'")
    finally:
        con.close()
    return sessions, held


SAMPLES_BEFORE_0019 = """CREATE TABLE samples (run_id VARCHAR, question_id VARCHAR,
    sample_idx INTEGER, prompt VARCHAR NOT NULL, text VARCHAR NOT NULL, n_tokens INTEGER,
    logprob DOUBLE, finish_reason VARCHAR, latency_s DOUBLE,
    created_at TIMESTAMP DEFAULT current_timestamp, endpoint VARCHAR,
    PRIMARY KEY (run_id, question_id, sample_idx))"""


def bytes_per_sample(tmp: Path, ds, texts, sizes=(400, 1600), chunk: int = 8) -> dict:
    """Bytes each further sample adds to the file (its growth from the smaller to the larger
    number of questions, over the samples added; a store's fixed cost, a block or more per
    table, is not a sample's): through the real writer (each prompt once per question), and
    into a file of the layout before migration 0019 (every sample carrying its prompt). Both
    commit as generate does: 8 questions per transaction, the file opened for each."""
    m = len(next(iter(texts.values())))
    grown = {}
    for layout in ("now", "before 0019"):
        size = []
        for n in sizes:
            path = tmp / f"size_{layout.replace(' ', '_')}_{n}.duckdb"
            qs = list(ds.questions)[:n]
            if layout == "now":
                write(path, Dataset(ds.name, ds.source, tuple(qs)), texts, m, chunk=chunk)
            else:
                _write_before_0019(path, qs, texts, chunk)
            size.append(path.stat().st_size)
        grown[layout] = round((size[1] - size[0]) / ((sizes[1] - sizes[0]) * m))
    return grown


def _write_before_0019(path: Path, qs, texts, chunk: int) -> None:
    con = duckdb.connect(str(path))
    con.execute(SAMPLES_BEFORE_0019)
    con.close()
    for lo in range(0, len(qs), chunk):
        con = duckdb.connect(str(path))
        try:
            with records.transaction(con):
                records.insert_rows(con, "samples", [
                    dict(run_id="run_x", question_id=q.id, sample_idx=j,
                         prompt=fewshot_prompt(int(q.id[1:])), text=t, n_tokens=2,
                         logprob=-1.5, finish_reason="stop", latency_s=0.1)
                    for q in qs[lo:lo + chunk] for j, t in enumerate(texts[q.id])])
        finally:
            con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--measures", action="store_true", help="time every confidence measure")
    args = ap.parse_args()
    total = args.questions * args.samples
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        uri = f"sqlite:///{tmp}/mlflow.db"
        t = time.perf_counter()
        ds, texts = synthetic(args.questions, args.samples)
        made = time.perf_counter() - t
        t = time.perf_counter()
        run_id = write(path, ds, texts, args.samples)
        wrote = time.perf_counter() - t
        naive = naive_rate(path)
        grown = bytes_per_sample(Path(tmp), ds, texts)
        per_session, per_held = chunk_cost(path, run_id)
        t = time.perf_counter()
        grading_id = api.grade(run_id, db_path=path, mlflow_uri=uri)
        graded = time.perf_counter() - t
        t = time.perf_counter()
        score_id = api.score(grading_id, n_bootstrap=args.bootstrap, db_path=path,
                             mlflow_uri=uri)
        scored = time.perf_counter() - t
        est = api.metrics(score_id, db_path=path)
        measured = measure_times(path, grading_id, uri, args.bootstrap) if args.measures else []
    print(f"{total:,} samples ({args.questions:,} questions x {args.samples}); "
          f"making them took {made:.1f} s")
    print(f"write (Arrow, per-chunk transactions): {wrote:7.1f} s  {total / wrote:12,.0f} rows/s")
    print(f"write (naive row-by-row INSERT):       {total / naive:7.1f} s  {naive:12,.0f} rows/s "
          f"(extrapolated from 20,000 rows)  -> Arrow is {total / wrote / naive:.0f}x faster")
    print(f"stored size, committed 8 questions at a time (M = {args.samples}): each further "
          f"sample adds {grown['now']} bytes (each prompt once per question), "
          f"{grown['before 0019']} bytes when every sample carried its prompt (before migration "
          f"0019): {grown['before 0019'] / grown['now']:.1f}x")
    print(f"commit one chunk (8 questions x 20 samples) on the {total:,}-sample store: "
          f"{per_session * 1000:.1f} ms opening the file for it (readers see each chunk), "
          f"{per_held * 1000:.1f} ms on a held connection: +{(per_session - per_held) * 1000:.1f}"
          " ms per chunk")
    print(f"grade (extract, classes, verdicts):    {graded:7.1f} s  {total / graded:12,.0f} "
          "samples/s")
    print(f"score ({args.bootstrap} bootstrap resamples, diagram): {scored:7.1f} s")
    print("accuracy {:.3f}, smECE {:.3f} [{:.3f}, {:.3f}]".format(
        est["accuracy"].value, est["smece"].value, est["smece"].ci_low, est["smece"].ci_high))
    for name, whole, alone in measured:
        print(f"measure {name:26s} score {whole:6.1f} s (the measure alone {alone:5.2f} s, "
              f"{total / alone:12,.0f} samples/s)")


def measure_times(path: Path, grading_id: str, uri: str, n_bootstrap: int):
    """(measure, seconds of its whole score, seconds of the measure alone) for each measure."""
    from workbench.analysis.confidence import MEASURES, estimate
    from workbench.store import queries, reader

    with reader(path) as con:
        classes, verdicts = queries.sample_classes(con, grading_id)
        seqs = queries.sample_sequences(con, grading_id)
    qs = sorted(classes)
    cls = [np.asarray(classes[q]) for q in qs]
    out = []
    for name, m in MEASURES.items():
        if m.elicited:  # stated by a model when asked: nothing to recompute from samples
            continue
        t = time.perf_counter()
        estimate(cls, [verdicts.get(q, {}) for q in qs], name,
                 [seqs[q] for q in qs] if m.sequences else None)
        alone = time.perf_counter() - t
        t = time.perf_counter()
        api.score(grading_id, n_bootstrap=n_bootstrap, estimator=name, db_path=path,
                  mlflow_uri=uri)
        out.append((name, time.perf_counter() - t, alone))
    return out


if __name__ == "__main__":
    main()

"""Synthetic runs: stored samples with known texts, for grading and scoring tests."""

from __future__ import annotations

from workbench import datasets, db, store


def make_run(db_path, dataset: datasets.Dataset, texts: dict[str, list[str]], style="concise",
             model="synthetic", kind="base"):
    """A FINISHED run whose samples are the given texts (no model involved)."""
    con = db.connect(db_path)
    try:
        ds_id = store.ensure_dataset(con, dataset)
        run_id = store.new_id("run")
        m = len(next(iter(texts.values())))
        store.insert_rows(con, "runs", [dict(
            run_id=run_id, status="FINISHED", model=model, model_source="-",
            model_kind=kind, prompt_format="completion", backend="none", style=style,
            shots=0, dataset_id=ds_id, n_questions=len(texts), samples_per_question=m,
            temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=8, stop=[], seed=0,
            package_version="test", git_sha=None)])
        store.insert_rows(con, "run_questions", [
            dict(run_id=run_id, question_id=q, position=i) for i, q in enumerate(texts)])
        store.insert_rows(con, "samples", [
            dict(run_id=run_id, question_id=q, sample_idx=i, prompt="p", text=t, n_tokens=1,
                 logprob=-1.0, finish_reason="stop", latency_s=0.1)
            for q, ts in texts.items() for i, t in enumerate(ts)])
    finally:
        con.close()
    return run_id


CAPS = datasets.Dataset("caps", "test", (
    datasets.Question("fr", "Capital of France?", ("Paris",)),
    datasets.Question("au", "Capital of Australia?", ("Canberra",)),
    datasets.Question("us", "Capital of the US?", ("Washington, D.C.", "Washington")),
    datasets.Question("n", "2+2?", ("4",), "number"),
))
TEXTS = {
    "fr": [" Paris", " paris.", " in Paris", " Lyon", " Paris"],  # plurality right, 3/5
    "au": [" Sydney", " Sydney", " Canberra", " Sydney", " Melbourne"],  # wrong, 3/5
    "us": [" Washington", " Washington, D.C.", " New York", "", " Boston"],  # right, 2/5
    "n": [" 4", " 4.0", " four", " 5", " 4 apples"],  # right (by value), 3/5
}

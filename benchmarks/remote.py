"""Remote throughput: one run over 1, 2 and 4 replicas of a latency-faithful OpenAI server, and
the ceiling of the whole path (HTTP, client, single store writer) against a zero-latency one.

    .venv/bin/python benchmarks/remote.py [--questions 240] [--samples 20] [--per-token-ms 50]
                                          [--tokens 8] [--slots 4]

Each replica is its own process: a server like a GPU server at saturation, where a request of n
samples decodes them as one batch, so it takes tokens × per-token latency whatever n is, and at
most ``--slots`` requests are served at once (more wait for a slot). One replica's ceiling is
slots × samples / (tokens × latency) samples/s. The workbench runs a real ``generate`` with
``--base-url`` given once per replica and ``--concurrency`` = replicas × slots; samples/s is
the run's own figure (its sampling loop, store commits included). Printed: samples/s per replica
count, the scaling ratio against one replica, and the zero-latency ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(per_token_s: float, tokens: int, slots: int) -> None:
    """A replica: prints its port, serves until killed."""
    gate = threading.BoundedSemaphore(slots) if slots > 0 else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers

        def log_message(self, *args):
            pass

        def do_GET(self):  # /v1/models: the family probe
            self._send({"object": "list", "data": [{"id": "m", "object": "model",
                                                     "owned_by": "vllm"}]})

        def do_POST(self):
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            n = int(req.get("n") or 1)
            if gate:
                with gate:
                    time.sleep(per_token_s * tokens)
            text = " gold"
            self._send({"id": "x", "object": "text_completion", "created": 0, "model": "m",
                        "choices": [{"index": i, "text": text, "finish_reason": "stop",
                                     "logprobs": {"tokens": [text] * tokens,
                                                  "token_logprobs": [-0.1] * tokens,
                                                  "top_logprobs": None,
                                                  "text_offset": [0] * tokens}}
                                    for i in range(n)],
                        "usage": {"prompt_tokens": 20, "completion_tokens": n * tokens,
                                  "total_tokens": 20 + n * tokens}})

        def _send(self, obj):
            body = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def replicas(k: int, per_token_s: float, tokens: int, slots: int):
    procs = [subprocess.Popen([sys.executable, __file__, "--serve", str(per_token_s),
                               str(tokens), str(slots)], stdout=subprocess.PIPE, text=True)
             for _ in range(k)]
    return procs, [f"http://127.0.0.1:{p.stdout.readline().strip()}/v1" for p in procs]


def run(urls: list[str], dataset: Path, m: int, tokens: int, concurrency: int,
        folder: Path) -> tuple[float, Path, str, int]:
    from workbench import api
    from workbench.api import GenerateRequest
    from workbench.backends.openai import Config

    db = folder / f"r{len(urls)}-{time.monotonic_ns()}.duckdb"
    chunk = max(64, 4 * concurrency)
    req = GenerateRequest("m", str(dataset), samples=m, shots=0, prompt_format="completion",
                          max_new_tokens=tokens, chunk_size=chunk,
                          backend=Config(base_url=urls, concurrency=concurrency,
                                         server="vllm"))
    run_id = api.generate(req, db_path=db, mlflow_uri=f"sqlite:///{folder / 'mlflow.db'}")
    _, ((stats,),) = api.query("SELECT stats FROM runs WHERE run_id = ?", [run_id], db_path=db)
    return json.loads(stats)["samples_per_s"], db, run_id, chunk


def writer_rate(db: Path, run_id: str, chunk: int) -> float:
    """Samples/s the store's writer takes alone: the run's own rows written again, chunk by
    chunk, each chunk one transaction (as the generate stage commits)."""
    from workbench.store import Writer, records

    with Writer(db) as writer:
        with writer.session() as con:
            cur = con.execute("SELECT * EXCLUDE (created_at) FROM samples WHERE run_id = ? "
                              "ORDER BY question_id, sample_idx", [run_id])
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            prompts = dict(con.execute("SELECT question_id, prompt FROM prompts WHERE run_id = ?",
                                       [run_id]).fetchall())
        by_q: dict[str, list] = {}
        for r in rows:
            by_q.setdefault(r["question_id"], []).append(r)
        qs = sorted(by_q)
        start = time.perf_counter()
        for lo in range(0, len(qs), chunk):
            part = qs[lo:lo + chunk]
            with writer.transaction() as con:
                records.replace_samples(con, run_id, {q: prompts[q] for q in part},
                                        [r for q in part for r in by_q[q]])
        return len(rows) / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=240)
    ap.add_argument("--samples", type=int, default=20, help="M: samples per question")
    ap.add_argument("--per-token-ms", type=float, default=50.0)
    ap.add_argument("--tokens", type=int, default=8, help="tokens per sample")
    ap.add_argument("--slots", type=int, default=4, help="requests a replica serves at once")
    ap.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        return serve(float(a.serve[0]), int(a.serve[1]), int(a.serve[2]))
    os.environ.setdefault("OPENAI_API_KEY", "local")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dataset = folder / "q.jsonl"
        dataset.write_text("".join(json.dumps({"id": f"q{i:05d}", "question": f"Q{i}?",
                                               "answer": "gold"}) + "\n"
                                   for i in range(a.questions)))
        ceiling_one = a.slots * a.samples / (a.tokens * a.per_token_ms / 1000)
        print(f"{a.questions} questions × M = {a.samples}; a replica: {a.slots} slots, "
              f"{a.tokens} tokens × {a.per_token_ms:g} ms → at most {ceiling_one:,.0f} "
              "samples/s")
        rates = {}
        for k in (1, 2, 4):
            procs, urls = replicas(k, a.per_token_ms / 1000, a.tokens, a.slots)
            try:
                rates[k] = run(urls, dataset, a.samples, a.tokens, k * a.slots, folder)[0]
            finally:
                for p in procs:
                    p.kill()
            print(f"  {k} replica(s), --concurrency {k * a.slots}: {rates[k]:,.0f} samples/s "
                  f"({rates[k] / (k * ceiling_one):.0%} of their ceiling; "
                  f"{rates[k] / rates[1]:.2f}× one replica)", flush=True)
        procs, urls = replicas(1, 0.0, a.tokens, 0)
        try:
            zero, db, run_id, chunk = run(urls, dataset, 50, a.tokens, 16, folder)
        finally:
            procs[0].kill()
        alone = writer_rate(db, run_id, chunk)
        print(f"zero-latency server, M = 50, --concurrency 16: {zero:,.0f} samples/s through "
              f"HTTP, the client and the store's single writer; the writer alone takes "
              f"{alone:,.0f} samples/s ({alone / zero:.1f}× what the path delivers)")
        print(f"scaling 1 → 4 replicas: {rates[4] / rates[1]:.2f}×")


if __name__ == "__main__":
    main()

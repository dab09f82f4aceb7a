"""The map B's first half on the labelled corpus's sealed test half: the rules against the LLM
extractor (`judges add --extract`) on the same responses, the extractor served by a real
`workbench serve` process of a bundled model on 127.0.0.1.

    .venv/bin/python benchmarks/map_b.py [--model smollm2-135m-instruct] [--half test]

Responses are grouped per (question, model, style) as a grading groups a question's samples, so
each extractor call reads one group's distinct responses, as it does in a grading. A call that
fails or whose reply cannot be parsed counts every response in it as misread (the grading then
records an error). Printed: extraction accuracy of each, overall and per source model, and the
share of extractor calls that gave no usable reply.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.cli.serve import answers_when_up  # noqa: E402
from workbench.grading.evaluate import half, same_answer  # noqa: E402
from workbench.grading.extract import extract_answer  # noqa: E402
from workbench.grading.judges.llm import EXTRACTOR_PROMPT, JudgeRecord, LLMJudge  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "mapb" / "corpus" / "responses.jsonl"
WORKBENCH = str(Path(sys.executable).with_name("workbench"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _served(model: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([WORKBENCH, "serve", "--model", model, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not answers_when_up(f"http://127.0.0.1:{port}/v1/models", proc):
        raise SystemExit(f"workbench serve {model} ended before it answered")
    return proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--half", default="test", choices=("dev", "test"))
    args = ap.parse_args()
    rows = [r for r in map(json.loads, CORPUS.read_text().splitlines()) if half(r) == args.half]
    groups = defaultdict(list)
    for r in rows:
        groups[(r["question"], r["source"], r["style"])].append(r)
    port = _port()
    proc = _served(args.model, port)
    try:
        judge = LLMJudge(JudgeRecord("bench", args.model, f"http://127.0.0.1:{port}/v1",
                                     extractor_prompt=EXTRACTOR_PROMPT,
                                     params={"temperature": 0.0, "max_tokens": 64,
                                             "concurrency": 1, "timeout": 600.0,
                                             "max_retries": 0}))
        right = defaultdict(lambda: [0, 0, 0])  # source model -> [rules, llm, responses]
        failed, start = 0, time.perf_counter()
        for (question, source, _), members in groups.items():
            answers, _, error = judge.extract(question, [r["response"] for r in members])
            failed += bool(error)
            for i, r in enumerate(members):
                rule = extract_answer(r["response"], r["style"], question, r["finish_reason"],
                                      r["answer_type"])
                llm = answers[i] if answers else None
                tally = right[source.split(":")[1]]
                tally[0] += same_answer(rule, r["expected"], r["answer_type"])
                tally[1] += llm is not None and same_answer(llm, r["expected"], r["answer_type"])
                tally[2] += 1
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    n = sum(t[2] for t in right.values())
    print(f"{args.half} half: {n} responses in {len(groups)} extractor calls to {args.model} "
          f"({time.perf_counter() - start:.0f} s); {failed} calls gave no usable reply "
          f"({failed / len(groups):.0%})")
    for name, (rules, llm, total) in sorted(right.items()) + [
            ("all", [sum(t[k] for t in right.values()) for k in range(3)])]:
        print(f"  {name:24s} rules {rules / total:6.1%} ({rules}/{total})   "
              f"LLM extractor {llm / total:6.1%} ({llm}/{total})")


if __name__ == "__main__":
    main()

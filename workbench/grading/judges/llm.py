"""LLM judges over any OpenAI-compatible chat endpoint, in two roles:

1. *extractor/clusterer* (the paper's B, optional): one call per question turns each distinct
   response into a short canonical answer, worded identically for answers that mean the same
   thing; the classes are then the deterministic keys of those canonical answers;
2. *grader*: one call per distinct (question, class): is the class's answer correct given the
   gold answers? Temperature 0, a JSON verdict, the raw output kept.

A failed call or an output that does not parse is an error (verdict NULL), never "incorrect".
A judge is a named record whose version hashes its model, prompts and parameters.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ...backends.base import SamplingParams
from ...errors import JudgeError, RemoteError
from .base import Judge, JudgeItem, Verdict

GRADER_PROMPT = """You grade answers to questions. Decide whether the candidate answer means \
the same as one of the gold answers (ignore case, punctuation and extra words that do not \
change the meaning).

Question: {question}
Gold answers: {gold}
Candidate answer: {answer}

Reply with JSON only, exactly one of:
{{"verdict": "correct"}}
{{"verdict": "incorrect"}}"""

EXTRACTOR_PROMPT = """Below are numbered responses to one question. For each response, give \
the short final answer it commits to (a few words or a number, no explanation), or "" if it \
gives none. Use exactly the same wording for answers that mean the same thing.

Question: {question}
Responses:
{responses}

Reply with JSON only: {{"answers": ["answer to response 1", "answer to response 2", ...]}}"""

_JSON = re.compile(r"\{.*\}", re.DOTALL)
_PATTERN = re.compile(r"^\s*verdict\s*:\s*(correct|incorrect)\s*$", re.IGNORECASE | re.MULTILINE)


def parse_verdict(text: str) -> bool | None:
    """True/False from a JSON verdict (or a 'VERDICT: CORRECT' line); None if it does not parse.

    >>> parse_verdict('{"verdict": "incorrect"}'), parse_verdict("VERDICT: correct")
    (False, True)
    >>> parse_verdict("probably right") is None
    True
    """
    m = _JSON.search(text or "")
    if m:
        try:
            verdict = str(json.loads(m.group(0)).get("verdict", "")).strip().lower()
            if verdict in ("correct", "incorrect"):
                return verdict == "correct"
        except (json.JSONDecodeError, AttributeError):
            pass
    m = _PATTERN.search(text or "")
    return m.group(1).lower() == "correct" if m else None


def parse_answers(text: str, n: int) -> list[str] | None:
    """The extractor's n answers, or None if the output does not parse to exactly n strings."""
    m = _JSON.search(text or "")
    if not m:
        return None
    try:
        answers = json.loads(m.group(0)).get("answers")
    except (json.JSONDecodeError, AttributeError):
        return None
    if not isinstance(answers, list) or len(answers) != n:
        return None
    return ["" if a is None else str(a).strip() for a in answers]


def _tail(text: str, keep: int = 600) -> str:
    """A response as the extractor sees it: whole when short, else its end, where reasoning
    states its answer."""
    text = " ".join(text.split())
    return text if len(text) <= keep else "… " + text[-keep:]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class JudgeRecord:
    name: str
    model: str
    base_url: str
    api_key_env: str = "OPENAI_API_KEY"
    grader_prompt: str = GRADER_PROMPT
    extractor_prompt: str | None = None
    params: dict = field(default_factory=lambda: {"temperature": 0.0, "max_tokens": 64,
                                                  "concurrency": 4, "timeout": 60.0,
                                                  "max_retries": 3})

    @property
    def version(self) -> str:
        return _hash(json.dumps([self.model, self.grader_prompt, self.extractor_prompt,
                                 self.params], sort_keys=True))

    def row(self) -> dict:
        return dict(name=self.name, version=self.version, kind="llm", model=self.model,
                    base_url=self.base_url, api_key_env=self.api_key_env,
                    grader_prompt=self.grader_prompt, grader_prompt_hash=_hash(
                        self.grader_prompt),
                    extractor_prompt=self.extractor_prompt,
                    extractor_prompt_hash=_hash(self.extractor_prompt)
                    if self.extractor_prompt else None,
                    params=json.dumps(self.params, sort_keys=True))

    @classmethod
    def from_row(cls, r: dict) -> "JudgeRecord":
        return cls(r["name"], r["model"], r["base_url"], r["api_key_env"], r["grader_prompt"],
                   r["extractor_prompt"], json.loads(r["params"]))


class LLMJudge(Judge):
    def __init__(self, record: JudgeRecord):
        super().__init__()
        self.record = record
        self.name, self.version = record.name, record.version
        key = os.environ.get(record.api_key_env)
        if not key:
            raise JudgeError(f"judge {record.name!r} reads its key from ${record.api_key_env}, "
                             "which is not set")
        # The openai library takes about a second to import: only when an LLM judge runs.
        from ...backends.openai.client import ClientConfig, OpenAIClient, RetryPolicy

        p = record.params
        self.client = OpenAIClient(ClientConfig(
            record.base_url, key, "chat", float(p.get("timeout", 60.0)),
            RetryPolicy(max_retries=int(p.get("max_retries", 3))), logprobs=False),
            record.model)

    @property
    def extracts(self) -> bool:
        return bool(self.record.extractor_prompt)

    def config(self) -> dict:
        return {**self.record.row(), "kind": "llm"}

    def usage(self) -> dict[str, int]:
        return {"calls": self.calls, "prompt_tokens": self.client.stats["prompt_tokens"],
                "completion_tokens": self.client.stats["completion_tokens"]}

    def _ask(self, prompt: str, max_tokens: int) -> str:
        params = SamplingParams(n=1, temperature=float(self.record.params.get("temperature", 0)),
                                max_new_tokens=max_tokens, seed=0)
        self.calls += 1
        return self.client.complete([{"role": "user", "content": prompt}], params, 1, 0)[0].text

    def judge(self, item: JudgeItem) -> Verdict:
        prompt = self.record.grader_prompt.format(question=item.question,
                                                  gold=" | ".join(item.gold), answer=item.answer)
        try:
            raw = self._ask(prompt, int(self.record.params.get("max_tokens", 64)))
        except RemoteError as exc:
            return Verdict(None, "", f"judge call failed: {exc}")
        verdict = parse_verdict(raw)
        if verdict is None:
            return Verdict(None, raw, f"unparseable verdict: {raw[:200]!r}")
        return Verdict(verdict, raw)

    def judge_many(self, items: list[JudgeItem]) -> list[Verdict]:
        with ThreadPoolExecutor(max(1, int(self.record.params.get("concurrency", 4)))) as pool:
            return list(pool.map(self.judge, items))

    def extract(self, question: str, texts: list[str]) -> tuple[list[str] | None, str, str]:
        """(answer per text or None, raw output, error)."""
        distinct = list(dict.fromkeys(texts))
        listing = "\n".join(f"{i + 1}. {_tail(t)}" for i, t in enumerate(distinct))
        prompt = self.record.extractor_prompt.format(question=question, responses=listing)
        try:
            raw = self._ask(prompt, 32 * len(distinct) + 64)
        except RemoteError as exc:
            return None, "", f"extractor call failed: {exc}"
        answers = parse_answers(raw, len(distinct))
        if answers is None:
            return None, raw, f"unparseable extraction: {raw[:200]!r}"
        by_text = dict(zip(distinct, answers))
        return [by_text[t] for t in texts], raw, ""

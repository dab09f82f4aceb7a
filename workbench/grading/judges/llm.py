"""LLM judges over any OpenAI-compatible chat endpoint, in two roles:

1. *extractor/clusterer* (the paper's B, optional): one call per question turns each distinct
   response into a short canonical answer, worded identically for answers that mean the same
   thing; the classes are then the deterministic keys of those canonical answers;
2. *grader*: one call per distinct (question, class): is the class's answer correct given the
   gold answers? How the verdict is read (``params["verdict"]``):

   - ``logprob`` (the default for new judges): one token is asked for, after a prompt that ends
     where the verdict goes (chat: the instruction and worked examples as turns; completion
     models: a few-shot completion prompt), and P(yes) is read from its ``top_logprobs``
     (``verdict.py``). Nothing to parse, one token per class, and P(yes) is stored.
   - where the server returns no log-probabilities, the same prompt with the answer constrained
     to yes or no where the server family offers that (vLLM/SGLang ``guided_choice``, llama.cpp
     ``grammar``), else free text whose first word is read;
   - ``text`` (judges recorded before): a JSON verdict parsed from free text.

A failed call or an output that does not parse is an error (verdict NULL), never "incorrect".
A judge is a named record whose version hashes its model, prompts and parameters.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from threading import Lock

from ... import config
from ...backends.base import SamplingParams, threaded_map
from ...backends.openai import ENDPOINTS
from ...backends.openai import Config as OpenAIConfig
from ...backends.openai.servers import FAMILIES
from ...errors import RemoteError, UsageError
from .base import Judge, JudgeItem, Progress, Verdict
from .verdict import NO, YES, from_top_logprobs

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

VERDICT_PROMPT = """Decide whether the candidate answer means the same as one of the gold \
answers (ignore case, punctuation and extra words that do not change the meaning). Answer yes \
or no.

Question: {question}
Gold answers: {gold}
Candidate answer: {answer}
Correct:"""

# Worked examples, as chat turns or as completion blocks before the item: (question, gold,
# candidate, verdict). Their text is part of the judge's version (``EXAMPLES_VERSION``).
EXAMPLES = (
    ("What is the capital of France?", "Paris", "paris, France", "yes"),
    ("What is the capital of Australia?", "Canberra", "Sydney", "no"),
    ("How many legs does a spider have?", "8", "eight", "yes"),
    ("Who wrote Hamlet?", "William Shakespeare | Shakespeare", "Christopher Marlowe", "no"),
)
EXAMPLES_VERSION = hashlib.sha256(repr(EXAMPLES).encode()).hexdigest()[:8]
VERDICT_MODES = ("logprob", "text")

_JSON = re.compile(r"\{.*\}", re.DOTALL)
_WORD = re.compile(r"[A-Za-z]+")
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


def first_word_verdict(text: str) -> bool | None:
    """yes/no (or correct/incorrect) as the first word of a short reply; else a JSON verdict.

    >>> first_word_verdict(" Yes."), first_word_verdict("no, it is Canberra")
    (True, False)
    """
    m = _WORD.search(text or "")
    word = m.group(0).lower() if m else ""
    if word in YES:
        return True
    if word in NO:
        return False
    return parse_verdict(text)


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
    def new(cls, name: str, model: str, base_url: str, *, api_key_env: str, extract: bool,
            grader_prompt: str | None, extractor_prompt: str | None, max_tokens: int,
            concurrency: int, timeout: float, max_retries: int, verdict: str, endpoint: str,
            threshold: float, min_mass: float, server: str) -> "JudgeRecord":
        """A judge as ``workbench judges add`` records it, each field checked (``UsageError``
        naming it); see ``api.add_judge``."""
        if verdict not in VERDICT_MODES:
            raise UsageError("verdict", f"{verdict!r} is not one of {', '.join(VERDICT_MODES)}")
        if endpoint not in ENDPOINTS:
            raise UsageError("endpoint", f"{endpoint!r} is not one of {', '.join(ENDPOINTS)}")
        if not 0 < threshold < 1 or not 0 <= min_mass < 1:
            raise UsageError("threshold" if not 0 < threshold < 1 else "min_mass",
                             "must be in (0, 1)")
        if server not in FAMILIES:
            raise UsageError("server", f"{server!r} is not one of {', '.join(FAMILIES)}")
        if not max_tokens >= 1:
            raise UsageError("max_tokens", f"must be ≥ 1, got {max_tokens}")
        OpenAIConfig(base_url=base_url, concurrency=concurrency, timeout=timeout,
                     max_retries=max_retries).check_fields()  # as a run's requests are checked
        params = {"temperature": 0.0, "max_tokens": max_tokens, "concurrency": concurrency,
                  "timeout": timeout, "max_retries": max_retries}
        if verdict == "logprob":
            params.update(verdict=verdict, endpoint=endpoint, threshold=threshold,
                          min_mass=min_mass, server=server, examples=EXAMPLES_VERSION)
        return cls(
            name, model, base_url, api_key_env,
            grader_prompt or (VERDICT_PROMPT if verdict == "logprob" else GRADER_PROMPT),
            (extractor_prompt or EXTRACTOR_PROMPT) if extract or extractor_prompt else None,
            params)

    @classmethod
    def from_row(cls, r: dict) -> "JudgeRecord":
        return cls(r["name"], r["model"], r["base_url"], r["api_key_env"], r["grader_prompt"],
                   r["extractor_prompt"], json.loads(r["params"]))


class LLMJudge(Judge):
    def __init__(self, record: JudgeRecord):
        super().__init__()
        self.record = record
        self.name, self.version = record.name, record.version
        key = config.api_key(record.api_key_env, f"judge {record.name!r}", record.base_url)
        # The openai library takes about a second to import: only when an LLM judge runs.
        from ...backends.openai.client import ClientConfig, OpenAIClient, RetryPolicy

        p = record.params
        self.without_logprobs = False
        self.mode = p.get("verdict", "text")  # judges recorded before verdicts by logprob: text
        self.endpoint = p.get("endpoint", "chat")
        self.client = OpenAIClient(ClientConfig(
            record.base_url, key, self.endpoint, float(p.get("timeout", 60.0)),
            RetryPolicy(max_retries=int(p.get("max_retries", 3))),
            logprobs=self.mode == "logprob", family=p.get("server", "unknown")), record.model)

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

    def _verdict_prompt(self, item: JudgeItem):
        """Chat messages (examples as turns) or a few-shot completion prompt, ending where the
        verdict token goes."""
        def block(question, gold, answer):
            return self.record.grader_prompt.format(question=question, gold=gold, answer=answer)

        if self.endpoint == "chat":
            messages = []
            for q, gold, answer, verdict in EXAMPLES:
                messages += [{"role": "user", "content": block(q, gold, answer)},
                             {"role": "assistant", "content": verdict}]
            return messages + [{"role": "user", "content": block(
                item.question, " | ".join(item.gold), item.answer)}]
        shots = "".join(f"{block(q, gold, answer)} {verdict}\n\n"
                        for q, gold, answer, verdict in EXAMPLES)
        return shots + block(item.question, " | ".join(item.gold), item.answer)

    def _by_token(self, item: JudgeItem) -> Verdict:
        p = self.record.params
        prompt = self._verdict_prompt(item)
        self.calls += 1
        if not self.without_logprobs:
            params = SamplingParams(n=1, temperature=0.0, max_new_tokens=1, seed=0)
            try:
                done = self.client.complete(prompt, params, 1, 0, top_logprobs=20)[0]
            except RemoteError as exc:
                return Verdict(None, "", f"judge call failed: {exc}", method="error")
            verdict = self._read(done, p)
            if verdict is not None:
                return verdict
        # No log-probabilities from this server: a short answer, constrained where it can be.
        params = SamplingParams(n=1, temperature=0.0, max_new_tokens=3, seed=0)
        try:
            raw = self.client.complete(prompt, params, 1, 0, choice=("yes", "no"))[0].text
        except RemoteError as exc:
            return Verdict(None, "", f"judge call failed: {exc}", method="error")
        verdict = first_word_verdict(raw)
        method = "choice" if self.client.constrains else "text"
        if verdict is None:
            return Verdict(None, raw, f"unparseable verdict: {raw[:200]!r}", method=method)
        return Verdict(verdict, raw, method=method)

    def _read(self, done, p: dict) -> Verdict | None:
        """The verdict from the token's top log-probabilities; None when there are none."""
        if not done.top_logprobs:
            self.without_logprobs = True  # this server gives none: ask for a word from now on
        else:
            v = from_top_logprobs(done.top_logprobs[0], float(p.get("threshold", 0.5)),
                                  float(p.get("min_mass", 0.2)))
            shown = json.dumps({k: round(x, 4) for k, x in done.top_logprobs[0].items()})
            return Verdict(v.correct, shown[:2000], v.error, v.p_yes, v.mass, "logprob")
        return None

    def judge(self, item: JudgeItem) -> Verdict:
        if self.mode == "logprob":
            return self._by_token(item)
        prompt = self.record.grader_prompt.format(question=item.question,
                                                  gold=" | ".join(item.gold), answer=item.answer)
        try:
            raw = self._ask(prompt, int(self.record.params.get("max_tokens", 64)))
        except RemoteError as exc:
            return Verdict(None, "", f"judge call failed: {exc}", method="error")
        verdict = parse_verdict(raw)
        if verdict is None:
            return Verdict(None, raw, f"unparseable verdict: {raw[:200]!r}", method="text")
        return Verdict(verdict, raw, method="text")

    def judge_many(self, items: list[JudgeItem], progress: Progress | None = None
                   ) -> list[Verdict]:
        """A verdict per item, in order, ``concurrency`` calls at a time; ``progress(done,
        total)`` as each call returns (a grading of hundreds of classes is not silent)."""
        done, lock = [0], Lock()

        def one(item: JudgeItem) -> Verdict:
            verdict = self.judge(item)
            with lock:
                done[0] += 1
                if progress:
                    progress(done[0], len(items))
            return verdict

        return threaded_map(one, items, int(self.record.params.get("concurrency", 4)))

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

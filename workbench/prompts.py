"""Prompts per style: a k-shot completion prompt for base models, a chat prompt otherwise.

Styles: ``concise`` (a short answer), ``sentence`` (one sentence), ``cot`` (reasoning, then a
final line ``Answer: ...``). Exemplars come from the dataset's few-shot pool, never the question
itself, picked by a seeded draw per question.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .data.types import Dataset, Question
from .errors import UsageError

STYLES = ("concise", "sentence", "cot")
FORMATS = ("completion", "chat")
# New tokens per sample: CoT needs room to reason (a cut-off chain of thought is no answer), and
# reasoning models more still. Chosen from the bundled models' own lengths (capitals, 40
# questions x 5 samples, budget 128; measured 2026-12-02): a base model's completion stops at the
# line's end (concise: 95th percentile 6 tokens, none over 16; sentence: 13, none over 40),
# while a chat model runs on (SmolLM2-Instruct concise: median 20, 57.5% over 16 and 12.5% over
# 64; sentence: 45.5% over 16, 4% over 64, 1% over 96), so chat prompts get more room.
DEFAULT_MAX_NEW_TOKENS = {"concise": 16, "sentence": 40, "cot": 512}
CHAT_MAX_NEW_TOKENS = {"concise": 64, "sentence": 96, "cot": 512}
REASONING_MAX_NEW_TOKENS = 2048


def max_new_tokens(style: str, kind: str | None, asked: int | None = None,
                   prompt_format: str | None = None) -> int:
    """A sample's token budget: the one asked for, else the style's for this prompt format (a
    reasoning model's).

    >>> max_new_tokens("concise", "base", None, "completion"), max_new_tokens("concise", "dpo",
    ...                                                                         None, "chat")
    (16, 64)
    """
    if asked is not None:
        return asked
    if kind == "reasoning":
        return REASONING_MAX_NEW_TOKENS
    return (CHAT_MAX_NEW_TOKENS if prompt_format == "chat" else DEFAULT_MAX_NEW_TOKENS)[style]

CHAT_INSTRUCTIONS = {
    "concise": "Reply with just the answer, nothing else.",
    "sentence": "Answer the question in one short sentence.",
    "cot": "Think step by step, briefly. Then give the final answer on its own last line, "
           "in the form 'Answer: <answer>'.",
}

# Where a base model's completion ends: the answer line, or the exemplar block.
COMPLETION_STOPS = {"concise": ("\n",), "sentence": ("\n",), "cot": ("\n\n", "\nQ:")}


@dataclass(frozen=True)
class PromptPlan:
    """How a run prompts: recorded with the run so the prompts can be rebuilt."""

    style: str
    prompt_format: str  # completion | chat
    shots: int
    seed: int = 0

    def __post_init__(self):
        if self.style not in STYLES:
            raise UsageError("style", f"{self.style!r} is not one of {', '.join(STYLES)}")
        if self.prompt_format not in FORMATS:
            raise UsageError("prompt_format", f"{self.prompt_format!r} is not one of "
                                              f"{', '.join(FORMATS)}")
        if self.shots < 0:
            raise UsageError("shots", f"must be ≥ 0, got {self.shots}")

    @property
    def stop(self) -> tuple[str, ...]:
        return COMPLETION_STOPS[self.style] if self.prompt_format == "completion" else ()


def check_pool(dataset: Dataset, k: int) -> None:
    """Refuse ``k`` shots from a pool that is smaller (checked before any model loads)."""
    if k > len(dataset.fewshot):
        raise UsageError("shots", f"{k} asked, but dataset {dataset.name} has "
                                  f"{len(dataset.fewshot)} few-shot exemplars")


def exemplars(dataset: Dataset, question: Question, k: int, seed: int) -> list[Question]:
    pool = [q for q in dataset.fewshot if q.id != question.id and q.question != question.question]
    if k > len(pool):
        raise UsageError("shots", f"{k} asked, but dataset {dataset.name} has {len(pool)} "
                                  f"few-shot exemplars for question {question.id}")
    return random.Random(f"{seed}:{question.id}").sample(pool, k)


def answer_text(q: Question, style: str) -> str:
    if style == "concise":
        return q.answers[0]
    if style == "sentence":
        return q.sentence or f"The answer is {q.answers[0]}."
    reasoning = q.rationale or "Let me recall what I know about this."
    return f"{reasoning}\nAnswer: {q.answers[0]}"


def completion_prompt(question: Question, shots: list[Question], style: str) -> str:
    blocks = [f"Q: {s.question}\nA: {answer_text(s, style)}" for s in shots]
    blocks.append(f"Q: {question.question}\nA:")
    return "\n\n".join(blocks)


def chat_messages(question: Question, shots: list[Question], style: str) -> list[dict]:
    instruction = CHAT_INSTRUCTIONS[style]
    messages = []
    for s in shots:
        messages.append({"role": "user", "content": f"{instruction}\n\n{s.question}"})
        messages.append({"role": "assistant", "content": answer_text(s, style)})
    messages.append({"role": "user", "content": f"{instruction}\n\n{question.question}"})
    return messages


def build_prompt(plan: PromptPlan, dataset: Dataset, question: Question, tokenizer=None) -> str:
    shots = exemplars(dataset, question, plan.shots, plan.seed)
    if plan.prompt_format == "completion":
        return completion_prompt(question, shots, plan.style)
    return render(chat_messages(question, shots, plan.style), "chat", tokenizer)


def render(messages: list[dict], prompt_format: str, tokenizer=None) -> str:
    """Chat messages as a model of ``prompt_format`` reads them: a base model the last
    message's text, a chat model its template's rendering."""
    if prompt_format == "completion":
        return messages[-1]["content"]
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise UsageError("prompt_format", "chat prompts need a tokenizer with a chat template; "
                                          "use completion for this model")
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

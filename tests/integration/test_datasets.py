"""Bundled sets, the arithmetic generator, user files and their errors, prompts."""


import pytest

from workbench import data as datasets
from workbench import prompts
from workbench.errors import UsageError


def test_chat_prompt_uses_the_tokenizer_template(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    ds = datasets.load("bundled:capitals@3")
    p = prompts.build_prompt(prompts.PromptPlan("concise", "chat", 0), ds, ds.questions[0], tok)
    assert p.startswith("<bos><user>") and p.endswith("<assistant>")
    assert ds.questions[0].question in p
    with pytest.raises(UsageError, match="chat template"):
        prompts.build_prompt(prompts.PromptPlan("concise", "chat", 0), ds, ds.questions[0])



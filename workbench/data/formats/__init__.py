"""The paper's datasets in the formats the Hugging Face hub serves them.

One module per dataset, each with a ``SPEC``: where the dataset lives, its splits, and a pure
mapper from one hub row to a ``Question`` (the gold answer taken the way that dataset writes it).
A new dataset is a module here and one line in ``FORMATS``.
"""

from __future__ import annotations

from ... import registry
from .base import HubSpec

FORMATS = {  # dataset name -> its module in this package
    "gsm8k": "gsm8k",
    "triviaqa": "triviaqa",
    "simpleqa": "simpleqa",
    "openmathinstruct2": "openmathinstruct2",
    "math500": "math500",
    "truthfulqa": "truthfulqa",
}


def spec(name: str) -> HubSpec:
    return registry.load(__name__, FORMATS[name] + ":SPEC")

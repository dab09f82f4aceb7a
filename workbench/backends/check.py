"""``workbench check-server``: does a server sample the distribution the workbench asks for?

One fixed prompt is sampled ``n`` times for one token through the server, with exactly the
fields a run would send (``backends/openai/servers.py``). The reference is the model's
next-token distribution: exact, from the local copy of the model when there is one, else as the
server reports it (``top_logprobs``). ``analysis/fidelity.py`` tests the fit, states the test's
power against the truncations servers apply by default, and infers the top-k and min-p the draws
suggest. Nothing is stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import config
from ..analysis import fidelity
from ..errors import RemoteError, UsageError
from .base import SamplingParams, seed_for
from .openai.client import ClientConfig, OpenAIClient, RetryPolicy
from .openai.servers import FAMILIES, detect
from .transformers import models

PROMPT = ("Q: What is the capital of France?\nA: Paris\n\nQ: Name a fruit that is red.\nA:")
ALTERNATIVES = {"top-k 10": dict(top_k=10), "top-k 40": dict(top_k=40),
                "min-p 0.05": dict(min_p=0.05)}


@dataclass
class ServerCheck:
    base_url: str
    model: str
    family: str
    request_params: dict
    prompt: str
    reference: str  # where the reference distribution came from
    alpha: float
    fit: fidelity.FitTest
    truncation: fidelity.Truncation
    power: dict[str, float] = field(default_factory=dict)  # alternative -> chance of catching it

    @property
    def consistent(self) -> bool:
        return self.fit.p_value >= self.alpha

    @property
    def unpinned(self) -> tuple[str, ...]:
        """Settings of this family's server that change samples and no request can state."""
        return FAMILIES[self.family].unpinned

    @property
    def cause(self) -> fidelity.Cause:
        return fidelity.cause(self.fit, self.truncation, self.alpha)


def check_server(base_url: str, model: str, *, server: str = "auto", prompt: str = PROMPT,
                 n: int = 400, local: str | None = None, seed: int = 0,
                 api_key_env: str = "OPENAI_API_KEY", alpha: float = 1e-3,
                 timeout: float = 60.0, batch: int = 50) -> ServerCheck:
    """Sample ``prompt`` ``n`` times through the server and test the first tokens against the
    model's distribution (the local model ``local``, or the bundled model or folder ``model``
    names, else the server's own log-probabilities)."""
    if n < 50:
        raise UsageError("n", f"needs at least 50 draws to test anything, got {n}")
    if not 0 < alpha < 1:
        raise UsageError("alpha", f"must be in (0, 1), got {alpha}")
    if server != "auto" and server not in FAMILIES:
        raise UsageError("server", f"{server!r} is not one of auto, {', '.join(FAMILIES)}")
    key = config.api_key(api_key_env, "check-server", base_url)
    local = local or (model if model in models.BUNDLED or Path(model).is_dir() else None)
    family = detect(base_url, key) if server == "auto" else server
    client = OpenAIClient(ClientConfig(base_url, key, "completions", timeout, RetryPolicy(3),
                                       family=family), model)
    params = SamplingParams(n=batch, max_new_tokens=1, seed=seed)
    draws, tops = _draw(client, prompt, params, n, seed)
    if local:
        reference, where = _local_distribution(local, prompt), f"the local model {local}"
    elif tops:
        reference = {t: math.exp(lp) for t, lp in tops[0].items()}
        where = "the server's own top_logprobs (the tail beyond them is one bin)"
    else:
        raise UsageError("local", "the server returned no log-probabilities and no local copy "
                                  "of the model was named (--local MODEL)")
    test = fidelity.fit(reference, draws)
    alternatives = ALTERNATIVES if local else {k: v for k, v in ALTERNATIVES.items()
                                               if v.get("top_k", 0) <= len(reference)}
    power = {name: fidelity.power(reference, fidelity.truncate(reference, **alt), n, alpha)
             for name, alt in alternatives.items()}
    return ServerCheck(base_url, model, family, client.body(replace(params, n=1)), prompt,
                       where, alpha, test, fidelity.infer_truncation(reference, draws), power)


def _draw(client: OpenAIClient, prompt: str, params: SamplingParams, n: int, seed: int):
    """``n`` first tokens (as text) and the log-probabilities the server reported with them."""
    draws, tops, i = [], [], 0
    per_request = params.n
    while len(draws) < n:
        k = min(per_request, n - len(draws))
        try:
            # Each request's seed hashed apart: a server that seeds completion j with seed + j
            # (llama-server) gave batch i + 1 the draws of batch i shifted by one.
            got = client.complete(prompt, replace(params, n=k), k,
                                  seed_for(seed, f"check:{i}") & 0x7FFFFFFF, top_logprobs=20)
        except RemoteError as exc:
            if per_request > 1 and exc.status in (400, 422):  # no n: one sample per request
                per_request = 1
                continue
            raise
        draws += [c.text for c in got]
        tops += [c.top_logprobs[0] for c in got if c.top_logprobs]
        i += 1
    return draws, tops


def _local_distribution(name: str, prompt: str) -> dict[str, float]:
    """The model's exact next-token distribution after ``prompt``, by token text (tokens that
    print alike summed; special tokens print as nothing, as servers return them)."""
    # torch: only here, for the local reference.
    import torch

    from .transformers.tokens import TokenSampler

    info = models.resolve(name)
    sampler = TokenSampler(*models.load(info))
    ids = torch.tensor([sampler.encode(prompt)])
    with torch.no_grad():
        probs = sampler.model(input_ids=ids).logits[0, -1].double().softmax(-1).tolist()
    out: dict[str, float] = {}
    for token, p in enumerate(probs):
        text = sampler.tokenizer.decode([token], skip_special_tokens=True)
        out[text] = out.get(text, 0.0) + p
    return out


def figures(c: ServerCheck) -> dict:
    """The check as plain data (for --format json)."""
    return {"base_url": c.base_url, "model": c.model, "server_family": c.family,
            "request_params": c.request_params, "reference": c.reference, "draws": c.fit.n,
            "chi2": c.fit.chi2, "df": c.fit.df, "p_value": c.fit.p_value, "alpha": c.alpha,
            "consistent": c.consistent, "cause": c.cause.kind, "power": c.power,
            "unpinned": list(c.unpinned),
            "truncation": c.truncation.__dict__,
            "bins": [{"token": b, "observed": o, "expected": e} for b, o, e in
                     zip(c.fit.bins, c.fit.observed, c.fit.expected)]}


__all__ = ["ServerCheck", "check_server", "figures"]

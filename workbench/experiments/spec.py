"""An experiment file, read and checked whole before anything runs.

.. code-block:: toml

    [experiment]
    name = "styles"                 # required
    samples = 10                    # M, required
    styles = ["concise", "cot"]     # default ["concise"]
    judges = ["exact"]              # default ["exact"]; rule judges or `judges add` names
    seed = 0
    bootstrap = 500

    [sampling]                      # every cell's settings (each optional)
    temperature = 1.0               # also top_p, top_k, max_new_tokens, shots, chunk_size

    [[models]]
    name = "gemma-3-270m"           # required; kind, prompt_format, styles, backend and that
    backend = "transformers"        # backend's settings (dtype, base_url, ...) optional

    [[datasets]]
    name = "bundled:capitals:test"  # required
    size = 40                       # optional: a seeded sample of N

    [[overrides]]                   # optional: settings for the cells it matches
    model = "gemma-3-270m"          # match on model, dataset and/or style
    style = "cot"
    max_new_tokens = 128

    [[tunings]]                     # optional: a variant tuned here first (LoRA), then a model
    name = "gemma-3-270m-rl-s0"     # of the grid like the [[models]]; required: name, parent,
    parent = "gemma-3-270m"         # method (sft | rl), dataset; the rest as `workbench tune`
    method = "rl"                   # (steps, seed, learning_rate, kl_coef, group, ...)
    dataset = "bundled:capitals:train"

``ablation = [1, 2, 5, 10]`` in ``[experiment]`` also ablates each cell's grading over m;
``measures = ["semantic_entropy", ...]`` also scores it under those confidence measures (the
sample-based ones of ``analysis/confidence.py``), beside the paper's plurality share.

Every error is one line naming the file, the table (``[[models]] #2``) and the key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .. import data, prompts
from ..backends import BACKENDS, config_class
from ..backends.base import KINDS, BackendConfig
from ..backends.transformers import models as local_models
from ..backends.transformers import variants
from ..errors import ExperimentError, UsageError, WorkbenchError
from ..lifecycle.request import GenerateRequest
from ..tuning import METHODS
from ..tuning.request import TuneRequest

SAMPLING = ("temperature", "top_p", "top_k", "max_new_tokens", "shots", "chunk_size")
_TYPES = {"temperature": (int, float), "top_p": (int, float), "top_k": int,
          "max_new_tokens": int, "shots": int, "chunk_size": int}
EXPERIMENT = {"name": str, "samples": int, "styles": list, "judges": list, "seed": int,
              "bootstrap": int, "description": str, "ablation": list, "measures": list}
MODEL = {"name": str, "kind": str, "prompt_format": str, "styles": list, "backend": str}
DATASET = {"name": str, "size": int}
MATCH = ("model", "dataset", "style")
# A tuning's keys: TuneRequest's fields, with the variant's name as ``name``.
TUNING = {"name": str, "parent": str, "method": str, "dataset": str, "steps": int,
          "learning_rate": (int, float), "seed": int, "questions_per_step": int, "group": int,
          "lora_rank": int, "lora_targets": list, "style": str, "shots": int,
          "max_new_tokens": int, "judge": str, "kl_coef": (int, float), "advantage": str}


@dataclass(frozen=True)
class Cell:
    model: str
    dataset: str  # the spec generate is given (with @N)
    style: str
    request: GenerateRequest
    key: str  # hashes everything that decides the cell's samples
    tuning: TuneRequest | None = None  # the model is a variant the experiment tunes first

    @property
    def label(self) -> str:
        return f"{self.model} · {self.style} · {self.dataset}"


@dataclass(frozen=True)
class Experiment:
    name: str
    path: str
    content: str
    sha256: str
    samples: int
    judges: tuple[str, ...]
    bootstrap: int
    seed: int
    cells: tuple[Cell, ...]
    sizes: dict  # dataset spec -> the N it asks for (None: the whole set)
    tunings: tuple[TuneRequest, ...] = ()  # tuned first, in file order
    ablation: tuple[int, ...] = ()  # the m each grading is ablated over (none: no ablation)
    description: str = ""
    measures: tuple[str, ...] = ()  # confidence measures each grading is scored under too


def load(path: str | Path) -> Experiment:
    """Read and check an experiment file; ``ExperimentError`` names file, table and key."""
    path = Path(path)
    try:
        content = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ExperimentError(f"{path}: cannot be read ({exc})") from None
    try:
        doc = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: not TOML: {exc}") from None
    return parse(doc, str(path), content)


def parse(doc: dict, where: str, content: str = "") -> Experiment:
    def fail(table: str, message: str):
        raise ExperimentError(f"{where}: {table}: {message}")

    _keys(doc, {"experiment", "sampling", "models", "datasets", "overrides", "tunings"},
          "top level", fail)
    head = _table(doc, "experiment", fail, required=True)
    _keys(head, set(EXPERIMENT), "[experiment]", fail)
    _typed(head, EXPERIMENT, "[experiment]", fail)
    for key in ("name", "samples"):
        if key not in head:
            fail("[experiment]", f"{key} is required")
    if head["samples"] < 1:
        fail("[experiment]", f"samples must be ≥ 1, got {head['samples']}")
    styles = _styles(head.get("styles", ["concise"]), "[experiment] styles", fail)
    judges = tuple(head.get("judges", ["exact"]))
    if not judges or not all(isinstance(j, str) and j for j in judges):
        fail("[experiment]", "judges must be a list of judge names")
    ablation = tuple(head.get("ablation", []))
    if not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= head["samples"]
               for m in ablation):
        fail("[experiment]", f"ablation must list sample counts m with 1 ≤ m ≤ samples "
                             f"({head['samples']}), got {list(ablation)}")
    measures = _measures(head.get("measures", []), fail)
    _values({"seed": head.get("seed", 0)}, "[experiment]", fail)
    sampling = _table(doc, "sampling", fail)
    _keys(sampling, set(SAMPLING), "[sampling]", fail)
    _typed(sampling, _TYPES, "[sampling]", fail)
    _values(sampling, "[sampling]", fail)
    tunings = _tunings(doc, fail)
    models = _array(doc, "models", fail, optional=bool(tunings))
    datasets = _array(doc, "datasets", fail)
    overrides = doc.get("overrides", [])
    if not isinstance(overrides, list):
        fail("[[overrides]]", "must be an array of tables ([[overrides]])")

    sizes, specs = {}, []
    for i, d in enumerate(datasets, 1):
        table = f"[[datasets]] #{i}"
        _keys(d, set(DATASET), table, fail)
        _typed(d, DATASET, table, fail)
        if "name" not in d:
            fail(table, "name is required")
        try:
            data.check_spec(d["name"])
        except WorkbenchError as exc:
            fail(table, f"name: {exc}")
        if "size" in d and d["size"] < 1:
            fail(table, f"size must be ≥ 1, got {d['size']}")
        spec = f"{d['name']}@{d['size']}" if "size" in d else d["name"]
        specs.append(spec)
        sizes[spec] = d.get("size")

    for i, m in enumerate(models, 1):  # names first: the overrides refer to them
        table = f"[[models]] #{i}"
        _typed({k: v for k, v in m.items() if k in MODEL}, MODEL, table, fail)
        if "name" not in m:
            fail(table, "name is required")
        if _backend(m, table, fail).local and not _local_model(m["name"]) \
                and m["name"] not in tunings:
            fail(table, f"name {m['name']!r} is not a bundled model "
                        f"({', '.join(local_models.BUNDLED)}), a tuned variant, a folder here, a "
                        "hub id (org/name) or one of the [[tunings]]")
    models = models + [{"name": name} for name in tunings if name not in
                       {m["name"] for m in models}]
    names = [m["name"] for m in models]
    for i, o in enumerate(overrides, 1):
        table = f"[[overrides]] #{i}"
        if not isinstance(o, dict):
            fail(table, "must be a table")
        _keys(o, set(MATCH) | set(SAMPLING), table, fail)
        _typed(o, {**_TYPES, "model": str, "dataset": str, "style": str}, table, fail)
        _values({k: o[k] for k in SAMPLING if k in o}, table, fail)
        if "model" in o and o["model"] not in names:
            fail(table, f"model {o['model']!r} is not one of the [[models]] or [[tunings]]")
        if "dataset" in o and o["dataset"] not in [d["name"] for d in datasets]:
            fail(table, f"dataset {o['dataset']!r} is not one of the [[datasets]]")
        if "style" in o and o["style"] not in prompts.STYLES:
            fail(table, f"style {o['style']!r} is not one of {', '.join(prompts.STYLES)}")

    cells = []
    for i, m in enumerate(models, 1):
        table = f"[[models]] #{i}"
        backend = _backend(m, table, fail)
        extra = set(m) - set(MODEL)
        if m.get("kind") is not None and m["kind"] not in KINDS:
            fail(table, f"kind {m['kind']!r} is not one of {', '.join(KINDS)}")
        if m.get("prompt_format") is not None and m["prompt_format"] not in prompts.FORMATS:
            fail(table, f"prompt_format {m['prompt_format']!r} is not one of "
                        f"{', '.join(prompts.FORMATS)}")
        try:
            config = backend(**{k: m[k] for k in extra})
        except TypeError:
            known = sorted({f.name for f in fields(backend)} - _UNSET)
            fail(table, f"unknown key {sorted(extra - set(known))[0]!r} for backend "
                        f"{backend.name} (its settings: {', '.join(known) or 'none'})")
        model_styles = _styles(m["styles"], f"{table} styles", fail) if "styles" in m \
            else styles
        for ds_i, spec in enumerate(specs):
            for style in model_styles:
                settings = dict(sampling)
                for o in overrides:
                    if all(o.get(k) in (None, v) for k, v in
                           (("model", m["name"]), ("dataset", datasets[ds_i]["name"]),
                            ("style", style))):
                        settings.update({k: o[k] for k in SAMPLING if k in o})
                req = GenerateRequest(m["name"], spec, style=style, samples=head["samples"],
                                      seed=head.get("seed", 0), kind=m.get("kind"),
                                      prompt_format=m.get("prompt_format"), backend=config,
                                      resume=True, **settings)
                tuning = tunings.get(m["name"])
                cells.append(Cell(m["name"], spec, style, req, cell_key(req, tuning), tuning))
    seen = {}
    for c in cells:
        if c.key in seen:
            fail("[[models]]", f"{c.label} appears twice")
        seen[c.key] = c
    return Experiment(head["name"], where, content, hashlib.sha256(content.encode()).hexdigest(),
                      head["samples"], judges, head.get("bootstrap", 1000), head.get("seed", 0),
                      tuple(cells), sizes, tuple(tunings.values()), tuple(sorted(set(ablation))),
                      head.get("description", ""), measures)


def _values(settings: dict, table: str, fail) -> None:
    """A table's sampling values in range, before any cell runs (a bad one in an override
    would otherwise stop the grid at its cell, hours in)."""
    try:
        GenerateRequest("", "", **settings).check()
    except UsageError as exc:
        fail(table, str(exc))


def _measures(names: list, fail) -> tuple[str, ...]:
    """The sample-based measures to score beside plurality (a stated one needs `elicit`)."""
    from ..analysis.confidence import MEASURES  # NumPy: when a file is read, not at start

    known = [n for n, m in MEASURES.items() if not m.elicited and n != "plurality"]
    bad = [n for n in names if n not in known]
    if bad:
        fail("[experiment]", f"measures: {bad[0]!r} is not one of {', '.join(known)}")
    return tuple(dict.fromkeys(names))


def _tunings(doc: dict, fail) -> dict[str, TuneRequest]:
    """Each [[tunings]] table as a TuneRequest, checked as ``workbench tune`` checks one (no
    model is loaded); keyed by the variant's name."""
    tables = doc.get("tunings", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        fail("[[tunings]]", "must be an array of tables ([[tunings]])")
    out: dict[str, TuneRequest] = {}
    for i, t in enumerate(tables, 1):
        table = f"[[tunings]] #{i}"
        _keys(t, set(TUNING), table, fail)
        _typed(t, TUNING, table, fail)
        for key in ("name", "parent", "method", "dataset"):
            if key not in t:
                fail(table, f"{key} is required")
        if t["name"] in out:
            fail(table, f"name {t['name']!r} is tuned twice")
        if t["name"] in local_models.BUNDLED:
            fail(table, f"name {t['name']!r} is a bundled model's name; choose another")
        parent = t["parent"]
        if not (parent in local_models.BUNDLED or variants.find(parent) or Path(parent).is_dir()):
            fail(table, f"parent {t['parent']!r} is not a bundled model "
                        f"({', '.join(local_models.BUNDLED)}), a tuned variant or a folder here")
        try:
            data.check_spec(t["dataset"])
        except WorkbenchError as exc:
            fail(table, f"dataset: {exc}")
        settings = {k: v for k, v in t.items() if k != "name"}
        if "lora_targets" in settings:
            settings["lora_targets"] = tuple(settings["lora_targets"])
        req = TuneRequest(variant=t["name"], **settings)
        try:
            req.validate(METHODS)
        except WorkbenchError as exc:
            fail(table, str(exc))
        out[t["name"]] = req
    return out


# Backend fields a file does not set: filled in when the run starts.
_UNSET = {"version", "device"}


def cell_key(req: GenerateRequest, tuning: TuneRequest | None = None) -> str:
    """What decides a cell's samples, hashed: the request (how many questions are committed
    together, and whether to resume, do not change them), its backend's settings, and for a
    variant the experiment tunes, the tuning's settings."""
    record = {k: v for k, v in asdict(req).items()
              if k not in ("backend", "resume", "chunk_size")}
    record["backend"] = {"name": req.backend.name, **req.backend.record()}
    if tuning is not None:
        record["tuning"] = asdict(tuning)
    blob = json.dumps(record, sort_keys=True, default=str)
    return "cell_" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def _local_model(name: str) -> bool:
    """Could a local backend load this name? (Nothing is loaded or fetched to say so.)"""
    return (name in local_models.BUNDLED or variants.find(name) is not None or Path(name).is_dir()
            or (name.count("/") == 1 and not name.startswith((".", "/"))))


def _backend(m: dict, table: str, fail) -> type[BackendConfig]:
    name = m.get("backend", "transformers")
    if name not in BACKENDS:
        fail(table, f"backend {name!r} is not one of {', '.join(BACKENDS)}")
    return config_class(name)


def _styles(value, where: str, fail) -> list[str]:
    if not isinstance(value, list) or not value:
        fail(where.split(" ")[0], f"{where.split(' ')[-1]} must be a non-empty list")
    for s in value:
        if s not in prompts.STYLES:
            fail(where.rsplit(" ", 1)[0], f"style {s!r} is not one of {', '.join(prompts.STYLES)}")
    return list(value)


def _table(doc: dict, key: str, fail, required: bool = False) -> dict:
    value = doc.get(key)
    if value is None:
        if required:
            fail(f"[{key}]", "this table is required")
        return {}
    if not isinstance(value, dict):
        fail(f"[{key}]", "must be a table")
    return value


def _array(doc: dict, key: str, fail, optional: bool = False) -> list[dict]:
    value = doc.get(key)
    if optional and value is None:
        return []
    if not value or not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        fail(f"[[{key}]]", f"at least one [[{key}]] table is required")
    return value


def _keys(table: dict, allowed: set, where: str, fail) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        fail(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def _typed(table: dict, types: dict, where: str, fail) -> None:
    for key, value in table.items():
        want = types.get(key)
        if want is None:
            continue
        ok = isinstance(value, want) and not (isinstance(value, bool) and want is not bool)
        if not ok:
            name = want.__name__ if isinstance(want, type) else "number"
            fail(where, f"{key} must be {'a ' if name != 'list' else 'a '}{name}, got "
                        f"{value!r}")

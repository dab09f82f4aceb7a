"""Experiment files are read whole and checked before anything runs: each mistake is one line
naming the file, the table and the key; a well-formed file gives one cell per model × dataset ×
style, with overrides applied and a key that changes only when the samples would."""

import pytest

from workbench.errors import ExperimentError
from workbench.experiments import spec

GOOD = """
[experiment]
name = "t"
samples = 4
styles = ["concise", "cot"]
judges = ["exact", "contains"]

[sampling]
temperature = 0.9

[[models]]
name = "gemma-3-270m"

[[models]]
name = "smollm2-135m-instruct"
styles = ["concise"]
kind = "dpo"

[[datasets]]
name = "bundled:capitals:test"
size = 5

[[overrides]]
model = "gemma-3-270m"
style = "cot"
max_new_tokens = 64
"""


def _write(tmp_path, text):
    path = tmp_path / "e.toml"
    path.write_text(text)
    return path


def test_cells_overrides_and_keys(tmp_path):
    exp = spec.load(_write(tmp_path, GOOD))
    assert [(c.model, c.style, c.dataset) for c in exp.cells] == [
        ("gemma-3-270m", "concise", "bundled:capitals:test@5"),
        ("gemma-3-270m", "cot", "bundled:capitals:test@5"),
        ("smollm2-135m-instruct", "concise", "bundled:capitals:test@5")]
    reqs = [c.request for c in exp.cells]
    assert [r.max_new_tokens for r in reqs] == [None, 64, None]
    assert {r.temperature for r in reqs} == {0.9} and {r.samples for r in reqs} == {4}
    assert reqs[2].kind == "dpo" and exp.judges == ("exact", "contains")
    assert len({c.key for c in exp.cells}) == 3
    # The key follows the samples: batch size does not change it, the temperature does.
    again = spec.load(_write(tmp_path, GOOD.replace("temperature = 0.9",
                                                     "temperature = 0.9\nchunk_size = 2")))
    assert [c.key for c in again.cells] == [c.key for c in exp.cells]
    hotter = spec.load(_write(tmp_path, GOOD.replace("0.9", "1.0")))
    assert not {c.key for c in hotter.cells} & {c.key for c in exp.cells}


@pytest.mark.parametrize("edit, names", [
    (("samples = 4", "samples = 0"), ["[experiment]", "samples"]),
    (("samples = 4\n", ""), ["[experiment]", "samples is required"]),
    (("samples = 4", "samples = 4\nsample = 4"), ["[experiment]", "'sample'"]),
    (('styles = ["concise", "cot"]', 'styles = ["concise", "terse"]'), ["[experiment]", "terse"]),
    (("temperature = 0.9", "temprature = 0.9"), ["[sampling]", "temprature"]),
    (("temperature = 0.9", 'temperature = "hot"'), ["[sampling]", "temperature"]),
    (('kind = "dpo"', 'kind = "chatty"'), ["[[models]] #2", "kind", "chatty"]),
    (('kind = "dpo"', 'dtpye = "float32"'), ["[[models]] #2", "dtpye", "transformers"]),
    (('name = "smollm2-135m-instruct"', 'name = "smollm2-135m-instruct"\nbackend = "tgi"'),
     ["[[models]] #2", "backend", "tgi"]),
    (('name = "bundled:capitals:test"', 'name = "bundled:capitols:test"'),
     ["[[datasets]] #1", "capitols"]),
    (("size = 5", "size = 0"), ["[[datasets]] #1", "size"]),
    (('model = "gemma-3-270m"\nstyle', 'model = "gemma-3-27m"\nstyle'),
     ["[[overrides]] #1", "gemma-3-27m"]),
    (("[[datasets]]", "[[datasetz]]"), ["top level", "datasetz"]),
    (('name = "gemma-3-270m"', 'name = "gemma-3-207m"'), ["[[models]] #1", "gemma-3-207m"]),
    (("[experiment]", "[experiment"), ["not TOML"]),
    (("samples = 4", 'samples = 4\nmeasures = ["semantic_entropi"]'),
     ["[experiment]", "measures", "semantic_entropi"]),
    (("samples = 4", 'samples = 4\nmeasures = ["p_true"]'),  # stated: asked with `elicit`
     ["[experiment]", "measures", "p_true"]),
    # values out of range, refused before any cell runs (they stopped the grid at their cell)
    (("temperature = 0.9", "temperature = 0.9\nshots = -1"), ["[sampling]", "shots", "-1"]),
    (("temperature = 0.9", "top_p = 2.0"), ["[sampling]", "top_p"]),
    (("max_new_tokens = 64", "max_new_tokens = 0"), ["[[overrides]] #1", "max_new_tokens"]),
    (("max_new_tokens = 64", "chunk_size = 0"), ["[[overrides]] #1", "chunk_size"]),
    (("samples = 4", "samples = 4\nseed = -1"), ["[experiment]", "seed"]),
])
def test_each_mistake_is_one_line_naming_file_table_and_key(tmp_path, edit, names):
    _refused(tmp_path, GOOD.replace(*edit, 1), names)


def _refused(tmp_path, text: str, names: list[str]) -> None:
    """The file is refused in one line that starts with its path and names each of ``names``."""
    path = _write(tmp_path, text)
    with pytest.raises(ExperimentError) as caught:
        spec.load(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path)), message
    for name in names:
        assert name in message, message


def test_a_cell_asked_twice_is_refused(tmp_path):
    twice = GOOD + '\n[[models]]\nname = "gemma-3-270m"\n'
    with pytest.raises(ExperimentError, match="appears twice"):
        spec.load(_write(tmp_path, twice))


def test_the_shipped_files_read_and_the_paper_grid_is_costed_offline(tmp_path):
    """`experiment status` on the paper's grid works with no hub, GPU or vLLM: 2 models × 2
    datasets × 3 styles, 1,000 questions × M = 50 each, and a cost stated before anything runs."""
    from typer.testing import CliRunner

    from workbench.cli import app

    root = __import__("pathlib").Path(__file__).resolve().parents[2] / "experiments"
    for f in root.glob("*.toml"):
        spec.load(f)
    res = CliRunner().invoke(app, ["experiment", "status", str(root / "paper.toml"), "--db",
                                   str(tmp_path / "none.duckdb"), "--throughput", "1000"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())  # rich wraps at the terminal's width
    assert said.count("missing") == 12
    assert "12 of 12 cells to run: 600,000 of 600,000 samples left" in said
    # each of 2 datasets × 50,000 samples: the base model's completion prompts at concise 16,
    # sentence 40, cot 512 tokens; the instruct model's chat prompts at 64, 96 and 512
    assert f"at most {2 * 50_000 * (16 + 40 + 512 + 64 + 96 + 512):,} generated tokens" in said
    assert "34.4 GPU-hours at 1,000 tokens/s" in said
    assert not (tmp_path / "none.duckdb").exists()


TUNED = GOOD + """
[[tunings]]
name = "g-rl-s0"
parent = "gemma-3-270m"
method = "rl"
dataset = "bundled:capitals:train"
steps = 2
kl_coef = 0.2

[[overrides]]
model = "g-rl-s0"
max_new_tokens = 8
"""


def test_a_tuning_is_a_model_of_the_grid_and_its_settings_are_in_the_key(tmp_path):
    exp = spec.load(_write(tmp_path, TUNED))
    (t,) = exp.tunings
    assert (t.variant_name, t.parent, t.method, t.steps, t.kl_coef) == (
        "g-rl-s0", "gemma-3-270m", "rl", 2, 0.2)
    tuned = [c for c in exp.cells if c.model == "g-rl-s0"]
    assert [c.style for c in tuned] == ["concise", "cot"] and all(c.tuning == t for c in tuned)
    assert [c.request.max_new_tokens for c in tuned] == [8, 8]  # overrides name tunings too
    # A tuning with other settings is another variant: its cells' keys change, the rest do not.
    other = spec.load(_write(tmp_path, TUNED.replace("kl_coef = 0.2", "kl_coef = 0.3")))
    keys = {c.label: c.key for c in exp.cells}
    for c in other.cells:
        assert (c.key == keys[c.label]) == (c.model != "g-rl-s0"), c.label
    # The shipped demo: the base and four variants tuned from it, ablated over m.
    demo = spec.load(__import__("pathlib").Path(__file__).resolve().parents[2]
                     / "experiments" / "demo.toml")
    assert [c.model for c in demo.cells] == ["gemma-3-270m", "gemma-3-270m-sft-s0",
                                             "gemma-3-270m-sft-s1", "gemma-3-270m-rl-s0",
                                             "gemma-3-270m-rl-s1"]
    assert demo.ablation == (1, 2, 5, 10, 20) and demo.samples == 20


@pytest.mark.parametrize("edit, names", [
    (('method = "rl"', 'method = "dpo"'), ["[[tunings]] #1", "method", "dpo"]),
    (('method = "rl"\n', ""), ["[[tunings]] #1", "method is required"]),
    (("steps = 2", "stpes = 2"), ["[[tunings]] #1", "'stpes'"]),
    (("steps = 2", "steps = 0"), ["[[tunings]] #1", "steps"]),
    (("kl_coef = 0.2", "kl_coef = -1"), ["[[tunings]] #1", "kl_coef"]),
    (('parent = "gemma-3-270m"', 'parent = "gemma-3-207m"'), ["[[tunings]] #1", "gemma-3-207m"]),
    (('parent = "gemma-3-270m"', 'parent = "google/gemma-3-270m"'),
     ["[[tunings]] #1", "parent"]),
    (('name = "g-rl-s0"', 'name = "gemma-3-270m"'), ["[[tunings]] #1", "bundled"]),
    (('name = "g-rl-s0"', 'name = "g rl"'), ["[[tunings]] #1", "variant"]),
    (('dataset = "bundled:capitals:train"', 'dataset = "bundled:capitols:train"'),
     ["[[tunings]] #1", "capitols"]),
    (('model = "g-rl-s0"', 'model = "g-rl-s1"'), ["[[overrides]] #2", "g-rl-s1"]),
    (('judges = ["exact", "contains"]', 'judges = ["exact"]\nablation = [1, 5]'),
     ["[experiment]", "ablation", "[1, 5]"]),
])
def test_each_tuning_mistake_is_one_line(tmp_path, edit, names):
    _refused(tmp_path, TUNED.replace(*edit, 1), names)


def test_the_demo_takes_a_base_and_its_tunings_on_one_dataset_and_style(tmp_path):
    """`workbench demo FILE` concludes on a file of the demo's shape and refuses another in one
    line naming the table: several styles, or tunings whose parent is not a [[models]] entry."""
    from pathlib import Path

    from workbench.demo import DEMO_FILE, _shape

    root = Path(__file__).resolve().parents[2]
    assert _shape(spec.load(root / DEMO_FILE)) == "gemma-3-270m"
    with pytest.raises(ExperimentError, match=r"\[\[datasets\]\]: the demo asks one dataset"):
        _shape(spec.load(_write(tmp_path, TUNED)))  # concise and cot
    orphan = TUNED.replace('parent = "gemma-3-270m"', 'parent = "smollm2-135m-instruct"')
    orphan = orphan.replace('name = "smollm2-135m-instruct"\nstyles = ["concise"]\nkind = "dpo"',
                            'name = "gemma-3-270m-sft"\nbackend = "openai"\n'
                            'base_url = "http://127.0.0.1:1/v1"')
    with pytest.raises(ExperimentError, match=r"\[\[tunings\]\]: the demo compares"):
        _shape(spec.load(_write(tmp_path, orphan)))

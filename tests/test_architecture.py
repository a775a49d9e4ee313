"""The code's shape, as issues 11 and 25 ask for it: packages by concern, layered, no import circle, one place per
concern.

* packages depend downwards only: core <- kinds <- engine <- front ends (spec, importers) and passes <- render <- the
  library's entry points (api, formats, sweep, export, zoo) <- cli; front ends never import each other or a pass;
* no import circle of any kind (type-only and lazy imports included);
* registration is explicit (tables): no decorator that registers a function into another module's table;
* no module over 600 lines, no class over 200 and no function over 60;
* only the spec language (spec, structures, namespace, schema) and the YAML-text edit of the bottleneck
  rewrite know how structures are written (`branches`, `residual`, `shortcut`, `body`);
* adding a layer kind is one class (and its line in the catalogue): schema, explain, export, the conventions and the
  docs' table check pick it up or say exactly what is missing;
* `python -OO` (docstrings stripped) prints the same schema.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from convcalc import analyze, load_spec
from convcalc.core.errors import SpecError
from convcalc.core.tensor import Config, Shape, elements
from convcalc.export import to_pytorch
from convcalc.kinds.base import Evaluation, LayerKind
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.passes.explain import explain_layer
from convcalc.spec.schema import schema_text
from tests.conftest import REPO
from tests.test_readme import counting_table_gaps

PACKAGE = REPO / "convcalc"
SPEC_LANGUAGE = {"convcalc.spec.lower", "convcalc.spec.structures", "convcalc.spec.namespace", "convcalc.spec.schema"}
YAML_TEXT_EDIT = {"convcalc.spec.rewrite"}
SYNTAX_WORDS = {"branches", "residual", "shortcut", "body"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        yield name, ast.parse(path.read_text(encoding="utf-8"))


def imports(tree: ast.Module) -> set[str]:
    """Every convcalc module a module imports, anywhere in it (type-only and lazy imports too); ``from convcalc.cli
    import analyze`` names the module convcalc.cli.analyze."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("convcalc"):
            found.add(node.module)
            for alias in node.names:
                if (REPO / node.module.replace(".", "/") / f"{alias.name}.py").is_file():
                    found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("convcalc"))
    return found


def package_of(module: str) -> str:
    """The package a module belongs to (core, kinds, ...), or 'library' for the entry points at the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else "library"


LAYERS = {
    "core": set(),
    "kinds": {"core"},
    "engine": {"core", "kinds"},
    "spec": {"core", "kinds", "engine"},
    "importers": {"core", "kinds", "engine"},
    "passes": {"core", "kinds", "engine"},
    "render": {"core", "kinds", "engine", "passes"},
    "measure": {"core", "passes"},  # measures this machine into the latency pass's device profile
    "library": {"core", "kinds", "engine", "spec", "importers", "passes", "render"},
    "cli": {"core", "kinds", "engine", "spec", "importers", "passes", "render", "measure", "library"},
}
"""What each package may import besides itself (the library: convcalc's top-level modules, the API)."""


def test_packages_import_only_the_layers_below():
    packages = {package_of(name) for name, _ in modules() if name != "convcalc.__main__"}
    assert packages <= set(LAYERS), packages - set(LAYERS)
    wrong = []
    for name, tree in modules():
        if name in ("convcalc", "convcalc.__main__"):  # the package's face re-exports the API; __main__ runs the CLI
            continue
        own = package_of(name)
        for imported in imports(tree):
            other = package_of(imported) if imported != "convcalc" else "library"
            if other != own and other not in LAYERS[own]:
                wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_no_module_over_600_lines():
    long = [
        f"{path.relative_to(REPO)}: {n}"
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 600
    ]
    assert long == []


ALLOWED_DECORATORS = {
    "dataclass",
    "property",
    "cached_property",
    "staticmethod",
    "classmethod",
    "contextmanager",
    "accepts",
    "app.callback",
}
"""Decorators that describe the function they decorate (``accepts`` records a key converter's schema fragment beside
it); none files the function into a table elsewhere (a handler table is written out as a table)."""


def test_registration_is_explicit():
    for name, tree in modules():
        for node in ast.walk(tree):
            for decorator in getattr(node, "decorator_list", []):
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                assert ast.unparse(target) in ALLOWED_DECORATORS, f"{name}:{decorator.lineno} @{ast.unparse(target)}"


def test_no_import_cycle():
    graph = {name: imports(tree) for name, tree in modules()}
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in graph.get(module, ()):
            assert state.get(imported) != 1, f"import cycle: {' -> '.join([*path, imported])}"
            if imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_only_the_spec_language_knows_how_structures_are_written():
    for name, tree in modules():
        if name in SPEC_LANGUAGE | YAML_TEXT_EDIT:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in SYNTAX_WORDS:
                pytest.fail(f"{name}:{node.lineno} uses the spec syntax word {node.value!r}")
            if isinstance(node, (ast.Name, ast.Attribute, ast.arg)):
                identifier = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None) or node.arg
                assert identifier not in SYNTAX_WORDS, f"{name}:{node.lineno} names {identifier!r}"


def test_no_class_over_200_lines_and_no_function_over_60():
    too_long = []
    for name, tree in modules():
        for node in ast.walk(tree):
            limit = 200 if isinstance(node, ast.ClassDef) else 60
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.end_lineno - node.lineno + 1 > limit:
                too_long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert too_long == []


def test_schema_is_the_same_without_docstrings():
    plain, optimised = (
        subprocess.run([sys.executable, *flags, "-m", "convcalc", "schema"], capture_output=True, text=True, cwd=REPO)
        for flags in ([], ["-OO"])
    )
    assert plain.returncode == 0 and plain.stdout == optimised.stdout


class Square(LayerKind):
    """A made-up kind for the test: x * x element-wise, one multiply per element and no torch module."""

    type = "square_for_test"
    summary = "x * x, element-wise (a kind made up by the architecture test)."
    flops_rule = "1 per element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        return Evaluation(inputs[0], flops=elements(inputs[0]))


@pytest.fixture
def square_kind() -> Iterator[LayerKind]:
    kind = Square()
    CATALOGUE[kind.type] = kind
    try:
        yield kind
    finally:
        del CATALOGUE[kind.type]


def test_a_new_kind_is_one_class(square_kind: LayerKind, tmp_path: Path):
    spec = tmp_path / "square.yaml"
    spec.write_text("input: [2, 3, 5]\nlayers:\n  - {type: square_for_test, name: sq}\n", encoding="utf-8")
    analysis = analyze(str(spec))
    # 2 * 3 * 5 = 30 elements, one multiply each
    assert analysis.output_shape == (2, 3, 5) and analysis.total.flops == 30
    # the schema accepts it, described by its summary
    schema = schema_text()
    assert '"square_for_test"' in schema and "made up by the architecture test" in schema
    # explain shows its FLOPs rule and value
    explanation = explain_layer(analysis.layers[0])
    assert explanation.flops_rule == "1 per element" and explanation.steps[-1].value == 30
    # export names exactly what is missing
    with pytest.raises(SpecError) as missing:
        to_pytorch(load_spec(str(spec)))
    assert "no torch module" in str(missing.value) and "square_for_test" in str(missing.value)
    # the docs' layer-kind table (docs/reference/layer-kinds.md) lacks its row: the check names it
    assert counting_table_gaps() == ["square_for_test"]


def test_the_command_line_evaluates_its_annotations_once():
    """typer reads every command's signature on every run: string annotations would be compiled each time."""
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        assert "\nfrom __future__ import annotations" not in path.read_text(encoding="utf-8"), path.name

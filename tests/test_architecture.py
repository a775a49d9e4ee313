"""The code's shape, as issue 11 asks for it: one graph, no import cycles, one place per concern.

* no import cycle among convcalc's modules (module-level imports; TYPE_CHECKING and lazy imports aside);
* only the spec language (spec, structures, namespace, schema) and the YAML-text edit of the bottleneck
  rewrite know how structures are written (`branches`, `residual`, `shortcut`, `body`);
* no class over 200 lines and no function over 60;
* adding a layer kind is one class: schema, explain, export and README's table check pick it up or say
  exactly what is missing;
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


def test_no_import_cycle():
    graph = {
        name: {
            node.module
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("convcalc")
        }
        for name, tree in modules()
    }
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
    # README's counting table check names it
    assert counting_table_gaps((REPO / "README.md").read_text(encoding="utf-8")) == ["square_for_test"]

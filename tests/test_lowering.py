"""Cases of issue 19 that the flat-graph lowering and the rewrite answer: a shortcut that is not a layer list,
a network named like export's helper classes, and `compare --bottleneck` reading what `analyze` reads."""

from __future__ import annotations

import ast

import pytest

from convcalc import load_spec
from convcalc.export import to_pytorch
from tests.conftest import run_cli


@pytest.mark.parametrize("shortcut", ["{}", "false", "3"])
def test_a_shortcut_must_be_a_layer_list(write_spec, shortcut: str):
    # docs/reference/errors.md: every bad spec gets one located message and exit 2; a shortcut that is not a list of
    # layers was silently the identity
    path = write_spec(
        f"input: [3, 8, 8]\nlayers:\n  - {{type: residual, body: [{{type: relu}}], shortcut: {shortcut}}}\n"
    )
    result = run_cli("analyze", str(path))
    assert result.code == 2
    assert f"{path}:3:" in result.stderr and "'shortcut' must be a list of layers" in result.stderr


@pytest.mark.parametrize("shortcut", ["", "null", "[]"])
def test_an_empty_shortcut_is_the_identity(write_spec, shortcut: str):
    path = write_spec(
        f"input: [3, 8, 8]\nlayers:\n  - {{type: residual, body: [{{type: relu}}], shortcut: {shortcut}}}\n"
    )
    add = load_spec(str(path)).nodes[-1]
    assert add.kind.type == "add" and add.inputs == ("residual1.body.relu1", "input")


@pytest.mark.parametrize("title", ["Crop", "Add", "Concat", "Opaque"])
def test_export_of_a_network_named_like_a_helper_class(title: str):
    # docs/how-to/pytorch-export.md: the generated file defines the helper classes it uses next to the network's class
    text = (
        f"name: {title}\ninput: [4, 8, 8]\nlayers:\n  - {{type: crop, size: 6, name: a}}\n"
        "  - {type: crop, size: 6, name: b, input: input}\n  - {type: add, inputs: [a, b]}\n"
        "  - {type: concat, inputs: [a, b]}\n  - {type: opaque, op: Foo, shape: [8, 6, 6]}\n"
    )
    classes = [
        node.name
        for node in ast.parse(to_pytorch(load_spec("t.yaml", text=text))).body
        if isinstance(node, ast.ClassDef)
    ]
    assert len(classes) == len(set(classes)) == 5 and classes[-1] == f"{title}Network"


def test_the_rewrite_reads_what_analyze_reads(write_spec):
    # a tab after a comma in a flow mapping: libyaml (which analyze uses) reads it; so must --bottleneck's rewrite
    path = write_spec("input: [3, 8, 8]\nlayers:\n  - {type: conv,\tfilters: 8, kernel: 3, name: c}\n")
    assert run_cli("analyze", str(path)).code == 0
    result = run_cli("compare", str(path), "-b", "c=2", "-f", "json")
    assert result.code == 0, result.stderr
    # the inserted 1x1 conv: 3 * 2 = 6 weights + 2 biases; the 3x3 conv then reads 2 channels
    assert '"inserted": "c_reduce"' in result.stdout and '"filters": 2' in result.stdout

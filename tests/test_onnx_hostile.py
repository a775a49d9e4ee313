"""Hostile ONNX files (issue 26): graphs that are not valid ONNX, values a spec would refuse, work without bound, and
wrong messages. Each file is built byte by byte (tests/onnxbuild.py); each is refused with exit code 2 and one
located line naming the node (`net.onnx: node 3 'name' (Conv): error: ...`), or read as hand arithmetic says.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests import onnxbuild as ob
from tests.conftest import run_cli
from tests.test_hostile import one_error

Dims = Sequence[int | str]


def onnx_file(
    tmp_path: Path,
    nodes: Sequence[bytes],
    inputs: Sequence[tuple[str, Dims]] = (("x", [1, 3, 8, 8]),),
    outputs: Sequence[tuple[str, Dims]] = (("y", [1, 3, 8, 8]),),
    initializers: Sequence[bytes] = (),
    value_infos: Sequence[tuple[str, Dims]] = (),
    name: str = "net.onnx",
) -> str:
    path = tmp_path / name
    path.write_bytes(ob.model(nodes, inputs, outputs, initializers, value_infos))
    return str(path)


def refused(path: str, *words: str) -> str:
    """Exit 2 and one error line; the words in it; never a file:line:column for a model file."""
    result = run_cli("analyze", path)
    one_error(result, *words)
    assert f"{Path(path).name}:" not in result.stderr.replace(f"{Path(path).name}: ", ""), result.stderr
    return result.stderr


# --- graphs that are not valid ONNX ---------------------------------------------------------------------------------


def test_a_relu_with_two_inputs_is_refused_naming_the_node(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["r"], "first"), ob.node("Relu", ["r", "x"], ["y"], "second")]
    refused(onnx_file(tmp_path, nodes), "net.onnx: node 1 'second' (Relu): error: ", "2 inputs", "Relu takes 1")


def test_a_node_that_reads_what_a_later_node_makes_is_refused(tmp_path: Path) -> None:
    """A cycle: b = Add(a, c) and c = Relu(b). Read in the file's order, b reads c before any node made it."""
    nodes = [
        ob.node("Relu", ["x"], ["a"], "a"),
        ob.node("Add", ["a", "c"], ["b"], "b"),
        ob.node("Relu", ["b"], ["c"], "c"),
        ob.node("Relu", ["c"], ["y"], "out"),
    ]
    refused(onnx_file(tmp_path, nodes), "node 1 'b' (Add): error: ", "'c'", "node 2 'c' (Relu)", "later")


def test_a_cycle_through_an_op_convcalc_does_not_know_is_refused(tmp_path: Path) -> None:
    """An unknown op with a stated shape is counted as opaque: it too may only read what earlier nodes made."""
    nodes = [
        ob.node("Relu", ["x"], ["a"], "a"),
        ob.node("Mystery", ["a", "c"], ["b"], "b"),
        ob.node("Relu", ["b"], ["c"], "c"),
        ob.node("Relu", ["c"], ["y"], "out"),
    ]
    path = onnx_file(tmp_path, nodes, value_infos=[("b", [1, 3, 8, 8])])
    refused(path, "node 1 'b' (Mystery): error: ", "'c'", "later")


def test_a_node_without_an_output_is_refused(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["y"], "r"), ob.node("Relu", ["y"], [], "nothing")]
    refused(onnx_file(tmp_path, nodes), "node 1 'nothing' (Relu): error: ", "no output")


def test_two_nodes_making_one_tensor_are_refused(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["y"], "one"), ob.node("Sigmoid", ["x"], ["y"], "two")]
    refused(onnx_file(tmp_path, nodes), "node 1 'two' (Sigmoid): error: ", "'y'", "node 0 'one' (Relu)")


# --- locations: a model file's node, never a line -------------------------------------------------------------------


def test_an_error_names_the_node_by_index_name_and_op(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["r"], "/stem/Relu"), ob.node("Conv", ["r", "w"], ["y"], "/stem/conv/Conv")]
    path = onnx_file(tmp_path, nodes, initializers=[ob.tensor("w", [4, 5, 3, 3])], outputs=[("y", [1, 4, 6, 6])])
    stderr = refused(path, "net.onnx: node 1 '/stem/conv/Conv' (Conv): error: weight dims [4, 5, 3, 3]")
    assert "layer '" not in stderr  # the node is named once


def test_a_warning_names_the_node(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["r"], "relu"), ob.node("TopK", ["r", "k"], ["y"], "/head/TopK")]
    path = onnx_file(
        tmp_path,
        nodes,
        inputs=[("x", [1, 10])],
        outputs=[("y", [1, 3])],
        initializers=[ob.tensor("k", [1], [3], ob.INT64)],
        value_infos=[("y", [1, 3]), ("r", [1, 12])],  # r is stated 12 wide: convcalc computes 10
    )
    result = run_cli("analyze", path)
    assert result.code == 0, result.stderr
    assert "(node 0 'relu' (Relu)): the file states 12 for 'r'" in result.stdout
    assert "(node 1 '/head/TopK' (TopK)): 1 operation(s) not counted" in result.stdout
    assert "(line " not in result.stdout
    explained = run_cli("explain", path, "relu")
    assert explained.code == 0 and "(relu, node 0 'relu' (Relu))" in explained.stdout, explained.stdout


def test_an_error_in_a_layer_an_onnx_node_became_names_both(tmp_path: Path) -> None:
    """An asymmetric pad becomes a pad layer before the conv: an error in either names the layer and the node."""
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[11, 11], pads=[0, 0, 1, 1])]
    path = onnx_file(tmp_path, nodes, initializers=[ob.tensor("w", [4, 3, 11, 11])], outputs=[("y", [1, 4, 1, 1])])
    refused(path, "net.onnx: node 0 'c' (Conv): error: ", "larger than")

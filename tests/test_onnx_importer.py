"""The ONNX importer's own modules, one branch at a time (issue 26's mutation testing, tools/mutate.py): an op
convcalc does not count (uncounted.py), how a tensor is held (layouts.py), patterns across nodes (patterns.py) and
the importer's bookkeeping (importer.py). Graphs are built byte by byte (tests/onnxbuild.py); the expected shapes
and counts are the ONNX operator specification's and hand arithmetic's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from convcalc import analyze
from convcalc.core.errors import SpecError
from convcalc.engine.results import Analysis
from tests import onnxbuild as ob

Dims = Sequence[int | str]


def analysed(
    tmp_path: Path,
    nodes: Sequence[bytes],
    inputs: Sequence[tuple[str, Dims]],
    outputs: Sequence[tuple[str, Dims]],
    initializers: Sequence[bytes] = (),
    value_infos: Sequence[tuple[str, Dims]] = (),
    opset: int = 17,
) -> Analysis:
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(nodes, inputs, outputs, initializers, value_infos, opset))
    return analyze(str(path))


def layers(analysis: Analysis) -> list[tuple[str, tuple[int, ...], tuple[str, ...]]]:
    """(type, output shape, the names of the layers it reads) of each layer."""
    return [(layer.type, layer.output_shape, layer.inputs) for layer in analysis.layers]


# --- uncounted.py: an op convcalc does not count --------------------------------------------------------------------


def test_an_unknown_op_of_two_inputs_is_one_opaque_layer_of_its_stated_shape(tmp_path: Path) -> None:
    """BitShift(a, b) of two 1x8x4x4 maps, its output stated 1x8x4x4: one opaque layer of 8x4x4 (the batch of 1
    dropped, as every tensor is held), reading its first input only (the opaque layer stands for a module of one
    input). Its output stated 2x12 (the batch merged away): held with every axis, 2x12, again reading the first."""
    nodes = [
        ob.node("Relu", ["x"], ["a"], "first"),
        ob.node("Sigmoid", ["x"], ["b"], "second"),
        ob.node("BitShift", ["a", "b"], ["y"], "shift"),
    ]
    analysis = analysed(tmp_path, nodes, [("x", [1, 8, 4, 4])], [("y", [1, 8, 4, 4])])
    assert layers(analysis)[2:] == [("opaque", (8, 4, 4), ("first",))]
    analysis = analysed(tmp_path, nodes, [("x", [1, 8, 4, 4])], [("y", [2, 12])])
    assert layers(analysis)[2:] == [("opaque", (2, 12), ("first",))]


def test_an_unknown_op_may_state_its_batch_by_name(tmp_path: Path) -> None:
    """Input and output of a batch named N (a file exported with a dynamic batch): the sample's 8x4x4 is whole."""
    nodes = [ob.node("BitShift", ["x", "x"], ["y"], "shift")]
    analysis = analysed(tmp_path, nodes, [("x", ["N", 8, 4, 4])], [("y", ["N", 8, 4, 4])])
    assert [(layer.type, layer.output_shape) for layer in analysis.layers] == [("opaque", (8, 4, 4))]


@pytest.mark.parametrize("stated", [[5], [1, 0, 3], [1, "h", 3]])
def test_an_unknown_op_without_a_whole_stated_shape_is_refused(tmp_path: Path, stated: Dims) -> None:
    """An output stated as one axis (no sample's shape after the batch), with a size 0 or a named size: no shape
    to hold, the error asks for shape inference."""
    nodes = [ob.node("BitShift", ["x", "x"], ["y"], "shift")]
    with pytest.raises(SpecError, match="does not state its output's shape"):
        analysed(tmp_path, nodes, [("x", [1, 8, 4, 4])], [("y", stated)])


# --- layouts.py: how a tensor is held -------------------------------------------------------------------------------


def test_a_layer_norm_over_axis_3_of_a_channels_last_map(tmp_path: Path) -> None:
    """Transpose [0, 2, 3, 1] of 1x4x3x5 gives the file's 1x3x5x4 (channels last); LayerNormalization with axis 3,
    written as a positive axis, is its last: over the 4 channels at each position, scale and bias of 4 each (8
    params); the Transpose [0, 3, 1, 2] back makes 4x3x5 again, no layer."""
    nodes = [
        ob.node("Transpose", ["x"], ["t"], "/to_last/Transpose", perm=[0, 2, 3, 1]),
        ob.node("LayerNormalization", ["t", "g", "b"], ["n"], "/norm/LayerNormalization", axis=3),
        ob.node("Transpose", ["n"], ["y"], "/back/Transpose", perm=[0, 3, 1, 2]),
    ]
    weights = [ob.tensor("g", [4]), ob.tensor("b", [4])]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4, 3, 5])], [("y", [1, 4, 3, 5])], weights)
    assert [(la.type, la.output_shape, la.params, la.config["over"]) for la in analysis.layers] == [
        ("layernorm", (4, 3, 5), 8, "channels")
    ]


def test_a_transpose_back_to_the_batch_first_drops_the_batch_again(tmp_path: Path) -> None:
    """Reshape of 1x6 to [6, 1] moves the batch's axis (held with every axis: 6x1); Transpose [1, 0] gives 1x6, the
    batch of 1 first again: held as 6 features (a reshape of no cost), so the network's output is 6."""
    nodes = [ob.node("Reshape", ["x", "s"], ["r"], "r"), ob.node("Transpose", ["r"], ["y"], "t", perm=[1, 0])]
    constants = [ob.tensor("s", [2], [6, 1], ob.INT64)]
    analysis = analysed(tmp_path, nodes, [("x", [1, 6])], [("y", [1, 6])], constants)
    assert [(la.type, la.output_shape) for la in analysis.layers] == [
        ("reshape", (6, 1)),
        ("permute", (1, 6)),
        ("reshape", (6,)),
    ]
    assert analysis.output_shape == (6,)


def test_a_reshape_to_one_axis_of_one_value(tmp_path: Path) -> None:
    """Reshape of 1x1 to [1]: one value, one axis (the batch's own): held as that axis, 1."""
    nodes = [ob.node("Reshape", ["x", "s"], ["y"], "r")]
    constants = [ob.tensor("s", [1], [1], ob.INT64)]
    analysis = analysed(tmp_path, nodes, [("x", [1, 1])], [("y", [1])], constants)
    assert [(la.type, la.output_shape) for la in analysis.layers] == [("reshape", (1,))]

"""The ONNX reader's tensor ops (convcalc/importers/onnx/tensors.py), one branch at a time (issue 26's mutation
testing, tools/mutate.py): Reshape's 0 and -1 and the channel shuffle's steps, Squeeze and Unsqueeze, a Gather of one
index, Transpose, Concat and the class token, Expand, Softmax, Split, Slice, Pad and Einsum. Graphs are built byte by
byte (tests/onnxbuild.py); the shapes expected are the ONNX operator specification's (onnx/docs/Operators.md),
worked out in each test, the counts hand arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from convcalc.core.errors import SpecError
from convcalc.engine.results import LayerResult
from tests import onnxbuild as ob
from tests.test_onnx_importer import analysed


def read(tmp_path: Path, *args: Any, **kwargs: Any) -> tuple[LayerResult, ...]:
    """The layers of the model :func:`tests.test_onnx_importer.analysed` builds from these."""
    return analysed(tmp_path, *args, **kwargs).layers


def kinds(layers: Sequence[LayerResult]) -> list[tuple[str, tuple[int, ...]]]:
    """(type, output shape) of each layer."""
    return [(layer.type, layer.output_shape) for layer in layers]


def ints(name: str, values: Sequence[int]) -> bytes:
    """A 1-D int64 initializer (a Reshape's target, an Unsqueeze's axes, a Slice's starts)."""
    return ob.tensor(name, [len(values)], values, ob.INT64)


# --- Reshape and the channel shuffle ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [[1, -1, -1], [1, -2, 12]])
def test_a_reshape_to_a_target_onnx_refuses_is_opaque(tmp_path: Path, target: list[int]) -> None:
    """ONNX's Reshape allows one -1 at most and no size below -1: [1, -1, -1] and [1, -2, 12] of 1x2x3x4 are not
    shapes convcalc can work out (read as sizes, 24 / 1 twice, or -2 x 12, they hold 576 or -24 values, not 24):
    an opaque layer of the stated 2x12, not an error and not a reshape."""
    node = ob.node("Reshape", ["x", "t"], ["y"], "r")
    layers = read(tmp_path, [node], [("x", [1, 2, 3, 4])], [("y", [1, 2, 12])], [ints("t", target)])
    assert kinds(layers) == [("opaque", (2, 12))]


def test_a_reshape_copying_an_axis_the_input_lacks_is_opaque(tmp_path: Path) -> None:
    """A 0 in a Reshape's target copies the input's size at its position: [1, 4, 0] of 1x24 asks for axis 2 of a
    tensor of 2 axes, which ONNX refuses; opaque of the stated 4x6, not an error."""
    node = ob.node("Reshape", ["x", "t"], ["y"], "r")
    layers = read(tmp_path, [node], [("x", [1, 24])], [("y", [1, 4, 6])], [ints("t", [1, 4, 0])])
    assert kinds(layers) == [("opaque", (4, 6))]


def test_a_reshape_of_a_tensor_held_whole_to_one_sample_is_a_reshape(tmp_path: Path) -> None:
    """Transpose [1, 0, 2] of 1x6x4 moves the batch (6x1x4, held with every axis); its Reshape to [1, 24] is one
    sample of 24 values: a reshape of the whole tensor to 24, not a flatten (which keeps a first axis, the
    batch's)."""
    nodes = [ob.node("Transpose", ["x"], ["t"], "t", perm=[1, 0, 2]), ob.node("Reshape", ["t", "s"], ["y"], "r")]
    layers = read(tmp_path, nodes, [("x", [1, 6, 4])], [("y", [1, 24])], [ints("s", [1, 24])])
    assert kinds(layers)[-1] == ("reshape", (24,))
    assert layers[-1].inputs == (layers[-2].name,)


def shuffle() -> list[bytes]:
    """ShuffleNet's channel shuffle as PyTorch exports it: Reshape to [N, g, C / g, H, W] (the target t5), Transpose
    [0, 2, 1, 3, 4], Reshape to t4."""
    return [
        ob.node("Reshape", ["x", "t5"], ["a"], "split"),
        ob.node("Transpose", ["a"], ["b"], "swap", perm=[0, 2, 1, 3, 4]),
        ob.node("Reshape", ["b", "t4"], ["y"], "merge"),
    ]


@pytest.mark.parametrize(("groups", "per_group", "size"), [(2, 4, [2, 2]), (4, 2, [1, 3])])
def test_a_channel_shuffle_of_any_groups(tmp_path: Path, groups: int, per_group: int, size: list[int]) -> None:
    """8 channels of 2x2 as 2 groups of 4, or of 1x3 as 4 groups of 2 ([1, g, 8 / g, H, W], swapped, back to
    [1, 8, H, W]): one channel_shuffle of g groups, 8xHxW, no cost."""
    targets = [ints("t5", [1, groups, per_group, *size]), ints("t4", [1, 8, *size])]
    layers = read(tmp_path, shuffle(), [("x", [1, 8, *size])], [("y", [1, 8, *size])], targets)
    assert kinds(layers) == [("channel_shuffle", (8, *size))]
    assert layers[0].config["groups"] == groups


@pytest.mark.parametrize("target", [[1, 1, 8, 2, 2], [1, 8, 1, 2, 2]])
def test_a_5d_reshape_of_one_group_or_one_channel_per_group_is_a_reshape(tmp_path: Path, target: list[int]) -> None:
    """[1, 1, 8, 2, 2] (one group of 8) and [1, 8, 1, 2, 2] (8 groups of 1) of 1x8x2x2: no shuffle can follow (the
    Transpose would swap an axis of 1), the Reshape's own layer (named after it, not held back as a shuffle's step
    until the relu reads it), a reshape to the target after its batch; the relu reads 32 values, 32 FLOPs."""
    nodes = [ob.node("Reshape", ["x", "t"], ["r"], "r"), ob.node("Relu", ["r"], ["y"], "relu")]
    layers = read(tmp_path, nodes, [("x", [1, 8, 2, 2])], [("y", target)], [ints("t", target)])
    assert [(layer.name, layer.type, layer.output_shape) for layer in layers] == [
        ("r", "reshape", tuple(target[1:])),
        ("relu", "relu", tuple(target[1:])),
    ]
    assert layers[1].flops == 8 * 2 * 2


def test_a_shuffle_must_end_in_the_map_it_began_as(tmp_path: Path) -> None:
    """Reshape to [1, 4, 2, 2, 2], Transpose [0, 2, 1, 3, 4], then Reshape to [1, 32] (a flatten, not the 4-D map):
    refused, naming the last Reshape, not read as a channel shuffle."""
    targets = [ints("t5", [1, 4, 2, 2, 2]), ints("t4", [1, 32])]
    with pytest.raises(SpecError, match=r"'merge' .*not a channel shuffle"):
        read(tmp_path, shuffle(), [("x", [1, 8, 2, 2])], [("y", [1, 32])], targets)


# --- Squeeze and Unsqueeze --------------------------------------------------------------------------------------------


def by_axes(op: str, output: str, axes: list[int], opset: int) -> tuple[list[bytes], list[bytes]]:
    """The nodes and constants of ``op`` (Squeeze, Unsqueeze) of x by ``axes``: an input from opset 13, an attribute
    before."""
    if opset >= 13:
        return [ob.node(op, ["x", "axes"], [output], output)], [ints("axes", axes)]
    return [ob.node(op, ["x"], [output], output, axes=axes)], []


@pytest.mark.parametrize(("axes", "opset"), [([-1], 13), ([3], 13), ([3], 11)])
def test_an_unsqueeze_of_an_activation_counts_axes_of_the_output(tmp_path: Path, axes: list[int], opset: int) -> None:
    """Unsqueeze of 1x8x4 at axis -1 or 3: the axes are of the output, of rank 3 + 1 = 4 (-1 is 3): 1x8x4x1, a
    reshape to 8x4x1 that the relu after reads (32 FLOPs). From opset 13 the axes are an input, before it an
    attribute."""
    nodes, constants = by_axes("Unsqueeze", "u", axes, opset)
    nodes.append(ob.node("Relu", ["u"], ["y"], "relu"))
    layers = read(tmp_path, nodes, [("x", [1, 8, 4])], [("y", [1, 8, 4, 1])], constants, opset=opset)
    assert kinds(layers) == [("reshape", (8, 4, 1)), ("relu", (8, 4, 1))]
    assert layers[1].flops == 32


@pytest.mark.parametrize(("axes", "opset"), [([2], 13), ([-2], 13), ([2], 11)])
def test_a_squeeze_of_an_activation_takes_the_axes_named(tmp_path: Path, axes: list[int], opset: int) -> None:
    """Squeeze of 1x8x1x4 at axis 2 or -2 (4 - 2 = 2): 1x8x4, a reshape to 8x4 that the relu after reads (32
    FLOPs); the axes an input from opset 13, an attribute before."""
    nodes, constants = by_axes("Squeeze", "s", axes, opset)
    nodes.append(ob.node("Relu", ["s"], ["y"], "relu"))
    layers = read(tmp_path, nodes, [("x", [1, 8, 1, 4])], [("y", [1, 8, 4])], constants, opset=opset)
    assert kinds(layers) == [("reshape", (8, 4)), ("relu", (8, 4))]
    assert layers[1].flops == 32


def test_a_squeeze_without_axes_takes_out_every_axis_of_1(tmp_path: Path) -> None:
    """Squeeze without axes drops every axis of size 1, the batch's too: 1x8x1x4 is 8x4 (held with its first axis,
    8, no batch), the relu after reads 32 values; 1x1 is a scalar, held as one value."""
    nodes = [ob.node("Squeeze", ["x"], ["s"], "s"), ob.node("Relu", ["s"], ["y"], "relu")]
    layers = read(tmp_path, nodes, [("x", [1, 8, 1, 4])], [("y", [8, 4])])
    assert kinds(layers) == [("reshape", (8, 4)), ("relu", (8, 4))]
    assert layers[1].flops == 32
    layers = read(tmp_path, nodes, [("x", [1, 1])], [("y", [])])
    assert kinds(layers) == [("reshape", (1,)), ("relu", (1,))]


# --- Gather of one index ----------------------------------------------------------------------------------------------


def gathered(tmp_path: Path, index: bytes, stated: list[int], **attributes: int) -> tuple[LayerResult, ...]:
    """Gather(x, index) of a 1x4x3x5 input, then a relu."""
    nodes = [ob.node("Gather", ["x", "i"], ["g"], "g", **attributes), ob.node("Relu", ["g"], ["y"], "relu")]
    return read(tmp_path, nodes, [("x", [1, 4, 3, 5])], [("y", stated)], [index], [("g", stated)])


@pytest.mark.parametrize(("index", "at"), [(2, 2), (-1, 3)])
def test_a_gather_of_one_scalar_index_takes_the_axis_out(tmp_path: Path, index: int, at: int) -> None:
    """Gather along axis 1 of 1x4x3x5 by the scalar 2 (or -1, which counts from the end: 4 - 1 = 3): 1x3x5, axis 1
    gone. The tensor held with its batch (a reshape of no cost to 1x4x3x5), a slice of positions at to at + 1 of
    axis 1 (1x1x3x5), a reshape to 3x5; the relu reads 15 values."""
    layers = gathered(tmp_path, ob.tensor("i", [], [index], ob.INT64), [1, 3, 5], axis=1)
    assert kinds(layers) == [("reshape", (1, 4, 3, 5)), ("slice", (1, 1, 3, 5)), ("reshape", (3, 5)), ("relu", (3, 5))]
    assert (layers[1].config["start"], layers[1].config["end"], layers[1].config["axis"]) == (at, at + 1, 1)
    assert layers[3].flops == 15


def test_a_gather_of_a_list_of_one_index_keeps_the_axis(tmp_path: Path) -> None:
    """Gather along axis 1 of 1x4x3x5 by [2], a 1-D index of one value: the output's shape is the data's with axis 1
    replaced by the index's [1]: 1x1x3x5, held as 1x3x5."""
    layers = gathered(tmp_path, ints("i", [2]), [1, 1, 3, 5], axis=1)
    assert kinds(layers)[1:] == [("slice", (1, 1, 3, 5)), ("reshape", (1, 3, 5)), ("relu", (1, 3, 5))]


def test_a_gather_of_two_indices_is_opaque(tmp_path: Path) -> None:
    """Gather along axis 1 of 1x4x3x5 by [0, 2]: two channels, 1x2x3x5, not one slice: opaque of the stated shape,
    the relu after reads 2 x 3 x 5 = 30 values."""
    layers = gathered(tmp_path, ints("i", [0, 2]), [1, 2, 3, 5], axis=1)
    assert kinds(layers) == [("opaque", (2, 3, 5)), ("relu", (2, 3, 5))]


def test_a_gather_without_axis_takes_axis_0(tmp_path: Path) -> None:
    """Gather's axis defaults to 0: index 0 of 1x4x3 along its first axis (of size 1) is 4x3, whose first axis is
    no batch (held with every axis): the relu reads 12 values."""
    nodes = [ob.node("Gather", ["x", "i"], ["g"], "g"), ob.node("Relu", ["g"], ["y"], "relu")]
    layers = read(tmp_path, nodes, [("x", [1, 4, 3])], [("y", [4, 3])], [ob.tensor("i", [], [0], ob.INT64)])
    assert kinds(layers)[1:] == [("slice", (1, 4, 3)), ("reshape", (4, 3)), ("relu", (4, 3))]
    assert layers[1].config["axis"] == 0


# --- Transpose --------------------------------------------------------------------------------------------------------


def test_a_transpose_whose_perm_is_not_of_the_tensors_rank_is_opaque(tmp_path: Path) -> None:
    """perm [0, 2, 1] names 3 axes of a 4-axis 1x2x3x4 tensor (ONNX wants one entry per axis): no permute convcalc
    can make, an opaque layer of the stated 1x3x2x4."""
    node = ob.node("Transpose", ["x"], ["y"], "t", perm=[0, 2, 1])
    assert kinds(read(tmp_path, [node], [("x", [1, 2, 3, 4])], [("y", [1, 3, 2, 4])])) == [("opaque", (3, 2, 4))]


def test_a_transpose_without_perm_reverses_the_axes(tmp_path: Path) -> None:
    """ONNX's Transpose without ``perm`` reverses the axes: 1x2x3 becomes 3x2x1, the batch's axis moved last: the
    tensor held with every axis (a reshape of no cost to 1x2x3), then a permute [2, 1, 0]."""
    node = ob.node("Transpose", ["x"], ["y"], "t")
    layers = read(tmp_path, [node], [("x", [1, 2, 3])], [("y", [3, 2, 1])])
    assert kinds(layers) == [("reshape", (1, 2, 3)), ("permute", (3, 2, 1))]
    assert layers[1].config["dims"] == (2, 1, 0)


def test_tokens_transposed_to_channels_last_move_no_value(tmp_path: Path) -> None:
    """ViT's patches 1x8x5 (D = 8 channels, T = 5 positions) transposed [0, 2, 1] to tokens 1x5x8: channels-last,
    no layer; the LayerNormalization over the last axis normalises each token's 8 channels in place (2 x 8 = 16
    parameters) and the output goes back to the file's 5x8 by a permute of no cost."""
    nodes = [
        ob.node("Transpose", ["x"], ["t"], "t", perm=[0, 2, 1]),
        ob.node("LayerNormalization", ["t", "scale", "bias"], ["y"], "ln", axis=-1),
    ]
    weights = [ob.tensor("scale", [8]), ob.tensor("bias", [8])]
    layers = read(tmp_path, nodes, [("x", [1, 8, 5])], [("y", [1, 5, 8])], weights)
    assert [(layer.type, layer.output_shape, layer.params) for layer in layers] == [
        ("layernorm", (8, 5), 16),
        ("permute", (5, 8), 0),
    ]


# --- Concat and the class token ---------------------------------------------------------------------------------------


def test_a_concat_of_an_activation_and_a_constant_is_opaque(tmp_path: Path) -> None:
    """Concat along the channels of 1x4x3x3 and a Constant node's 1x2x3x3 (no parameter, no layer's output): the
    concat kind joins layers' outputs only, so opaque, 6x3x3 as stated."""
    nodes = [
        ob.node("Constant", [], ["c"], "c", value=ob.tensor("v", [1, 2, 3, 3], [0.0] * 18)),
        ob.node("Concat", ["x", "c"], ["y"], "cat", axis=1),
    ]
    assert kinds(read(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 6, 3, 3])])) == [("opaque", (6, 3, 3))]


@pytest.mark.parametrize(("axis", "shape"), [(-1, (4, 3, 6)), (-3, (8, 3, 3))])
def test_a_concat_along_a_negative_axis(tmp_path: Path, axis: int, shape: tuple[int, ...]) -> None:
    """Concat of 1x4x3x3 with itself along axis -1, the last of 4 (W: 3 + 3 = 6), or -3, axis 4 - 3 = 1 (the
    channels: 4 + 4 = 8)."""
    node = ob.node("Concat", ["x", "x"], ["y"], "cat", axis=axis)
    assert kinds(read(tmp_path, [node], [("x", [1, 4, 3, 3])], [("y", [1, *shape])])) == [("concat", shape)]


def test_concat_before_opset_4_joins_the_channels_by_default(tmp_path: Path) -> None:
    """Concat-1 (opsets 1 to 3) has an optional axis, 1 by default (opset 4 on requires it): 1x4x3x3 and its relu
    joined to 8x3x3."""
    nodes = [ob.node("Relu", ["x"], ["r"], "relu"), ob.node("Concat", ["x", "r"], ["y"], "cat")]
    layers = read(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 8, 3, 3])], opset=3)
    assert kinds(layers) == [("relu", (4, 3, 3)), ("concat", (8, 3, 3))]


@pytest.mark.parametrize("axis", [1, -2])
def test_a_class_token_before_tokens_along_a_negative_axis(tmp_path: Path, axis: int) -> None:
    """ViT's Concat of a learned [1, 1, 8] before tokens [1, 5, 8] along axis 1, or -2 (3 - 2 = 1): 6 tokens of 8,
    read as D x T (8x5, a permute of no cost), the token's 8 values its parameters, and back to 6x8."""
    node = ob.node("Concat", ["token", "x"], ["y"], "cat", axis=axis)
    layers = read(tmp_path, [node], [("x", [1, 5, 8])], [("y", [1, 6, 8])], [ob.tensor("token", [1, 1, 8])])
    assert kinds(layers) == [("permute", (8, 5)), ("class_token", (8, 6)), ("permute", (6, 8))]
    assert [layer.params for layer in layers] == [0, 8, 0]


@pytest.mark.parametrize(
    ("learned", "x", "axis", "out"),
    [([1, 2, 3, 3], [1, 4, 3, 3], 1, [1, 6, 3, 3]), ([1, 5, 8], [1, 5, 8], 0, [2, 5, 8])],
)
def test_a_learned_tensor_joined_otherwise_is_no_class_token(
    tmp_path: Path, learned: list[int], x: list[int], axis: int, out: list[int]
) -> None:
    """A learned 1x2x3x3 map joined to a 1x4x3x3 one along the channels (4 axes, not tokens [N, T, D]), or a
    learned 1x5x8 joined to tokens along axis 0 (the batch: 2x5x8): not a class token, opaque of the stated shape."""
    node = ob.node("Concat", ["p", "x"], ["y"], "cat", axis=axis)
    layers = read(tmp_path, [node], [("x", x)], [("y", out)], [ob.tensor("p", learned)])
    assert kinds(layers) == [("opaque", tuple(out[1:]) if axis else tuple(out))]


# --- Expand -----------------------------------------------------------------------------------------------------------


def test_an_expand_of_an_activation_to_its_own_shape_is_no_layer(tmp_path: Path) -> None:
    """Expand of 1x4x3x3 to [1, 4, 3, 3]: the same tensor, no layer; the relu after reads it (36 FLOPs)."""
    nodes = [ob.node("Expand", ["x", "s"], ["e"], "e"), ob.node("Relu", ["e"], ["y"], "relu")]
    layers = read(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ints("s", [1, 4, 3, 3])])
    assert kinds(layers) == [("relu", (4, 3, 3))]
    assert layers[0].inputs == ("input",)


def test_an_expand_of_an_activation_to_more_values_is_opaque(tmp_path: Path) -> None:
    """Expand of a pooled 1x4x1x1 to [1, 4, 3, 3] (each value copied to 3 x 3 positions): not the same tensor, an
    opaque layer of the stated 4x3x3 reading the pool."""
    nodes = [ob.node("GlobalAveragePool", ["x"], ["p"], "pool"), ob.node("Expand", ["p", "s"], ["y"], "e")]
    layers = read(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ints("s", [1, 4, 3, 3])])
    assert kinds(layers) == [("global_avgpool", (4, 1, 1)), ("opaque", (4, 3, 3))]
    assert layers[1].inputs == ("pool",)


def test_an_expand_to_a_shape_of_unknown_values_is_opaque(tmp_path: Path) -> None:
    """Expand of 1x4x3x3 by a shape whose values the file does not hold (an initializer of 4 int64s without data):
    opaque of the stated 4x3x3."""
    node = ob.node("Expand", ["x", "s"], ["y"], "e")
    layers = read(tmp_path, [node], [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ob.tensor("s", [4], None, ob.INT64)])
    assert kinds(layers) == [("opaque", (4, 3, 3))]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ([1, -1, -1], "parameter"),
        ([1, 8], "parameter"),
        ([8], "parameter"),
        ([2, 1, 8], (2, 1, 8)),
        ([1, 1, 1, 8], (1, 1, 8)),
    ],
)
def test_an_expand_of_a_parameter_to_the_batch_is_it(tmp_path: Path, target: list[int], expected: object) -> None:
    """A class token [1, 1, 8] expanded to [1, -1, -1] (PyTorch's expand(N, -1, -1) at a batch of 1; -1 keeps a
    size: ONNX's Expand has no -1, which PyTorch's exporter writes as 1 through a Where, but the reader takes it as
    PyTorch means it) is the token: the concat before 1x5x8 tokens is a class_token of its 8 parameters. Expanded
    to [2, 1, 8] in a file of batch 1 it is two copies, not the parameter: an opaque 2x1x8 (held with its first
    axis, not the batch's size). A shorter shape is aligned from the last axis: [1, 8] and [8] keep [1, 1, 8] as it
    is, the parameter; [1, 1, 1, 8] adds an axis, no longer the token's shape: an opaque 1x1x8 (the file's 1x1x1x8
    after its batch)."""
    nodes = [
        ob.node("Expand", ["token", "s"], ["t"], "e"),
        ob.node("Relu", ["x"], ["r"], "relu"),
        ob.node("Concat", ["t", "r"], ["y"], "cat", axis=1),
    ]
    constants = [ob.tensor("token", [1, 1, 8]), ints("s", target)]
    if expected == "parameter":
        layers = read(tmp_path, nodes, [("x", [1, 5, 8])], [("y", [1, 6, 8])], constants)
        assert [(layer.type, layer.params) for layer in layers if layer.type != "permute"] == [
            ("relu", 0),
            ("class_token", 8),
        ]
    else:
        layers = read(tmp_path, nodes[:2], [("x", [1, 5, 8])], [("t", target), ("r", [1, 5, 8])], constants)
        assert kinds(layers) == [("opaque", expected), ("relu", (5, 8))]


def test_an_expand_of_a_parameter_by_minus_ones_or_in_a_batch_of_2(tmp_path: Path) -> None:
    """PyTorch's expand(-1, -1, -1) keeps every size (-1 as PyTorch means it; see above): a class token [1, 1, 8]
    expanded so is the token (the concat
    before 1x5x8 tokens a class_token of 8 parameters). In a file of batch 2, a learned [1, 5, 8] expanded to its
    own [1, 5, 8] is the parameter too: the Add reads a learned 5x8 per sample, a position embedding of 5 x 8 = 40
    parameters, no opaque layer."""
    nodes = [ob.node("Expand", ["token", "s"], ["t"], "e"), ob.node("Concat", ["t", "x"], ["y"], "cat", axis=1)]
    constants = [ob.tensor("token", [1, 1, 8]), ints("s", [-1, -1, -1])]
    layers = read(tmp_path, nodes, [("x", [1, 5, 8])], [("y", [1, 6, 8])], constants)
    assert [(layer.type, layer.params) for layer in layers if layer.type != "permute"] == [("class_token", 8)]
    nodes = [ob.node("Expand", ["pos", "s"], ["p"], "e"), ob.node("Add", ["x", "p"], ["y"], "add")]
    constants = [ob.tensor("pos", [1, 5, 8]), ints("s", [1, 5, 8])]
    (layer,) = read(tmp_path, nodes, [("x", [2, 5, 8])], [("y", [2, 5, 8])], constants)
    assert (layer.type, layer.output_shape, layer.params) == ("position_embedding", (5, 8), 40)


# --- Softmax ----------------------------------------------------------------------------------------------------------


def test_a_softmax_over_the_batchs_axis_holds_the_tensor_whole(tmp_path: Path) -> None:
    """Softmax along axis 0 of 1x10 normalises each feature over the batch (here of 1 sample): the tensor held with
    its batch (1x10, a reshape of no cost), a softmax over its axis 0, back to 10."""
    node = ob.node("Softmax", ["x"], ["y"], "s", axis=0)
    layers = read(tmp_path, [node], [("x", [1, 10])], [("y", [1, 10])])
    assert kinds(layers) == [("reshape", (1, 10)), ("softmax", (1, 10)), ("reshape", (10,))]
    assert layers[1].config["axis"] == 0


def test_softmax_reads_axis_as_flattened_through_opset_12(tmp_path: Path) -> None:
    """Softmax-11 (opsets 11 and 12) normalises the input flattened from ``axis`` on (default 1: C x H x W of
    1x3x4x4, or of 1x3x4x1, at once, no softmax convcalc knows: opaque); Softmax-13 over one axis, by default the
    last (W, axis 2 of the sample's 3x4x4)."""
    node = ob.node("Softmax", ["x"], ["y"], "s")
    for shape in ([1, 3, 4, 4], [1, 3, 4, 1]):
        layers = read(tmp_path, [node], [("x", shape)], [("y", shape)], opset=12)
        assert kinds(layers) == [("opaque", tuple(shape[1:]))]
    layers = read(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 4, 4])], opset=13)
    assert kinds(layers) == [("softmax", (3, 4, 4))]
    assert layers[0].config["axis"] == 2


# --- Split ------------------------------------------------------------------------------------------------------------


def slices(layers: Sequence[LayerResult]) -> list[tuple[tuple[int, ...], int, int, int]]:
    """(output shape, start, end, axis) of each slice layer."""
    return [
        (layer.output_shape, layer.config["start"], layer.config["end"], layer.config["axis"])
        for layer in layers
        if layer.type == "slice"
    ]


@pytest.mark.parametrize("axis", [2, -2])
def test_a_split_along_a_spatial_axis(tmp_path: Path, axis: int) -> None:
    """Split of 1x4x6x3 along axis 2 (or -2: 4 - 2 = 2), H, into sizes [2, 4]: rows 0 to 2 and 2 to 6, slices of
    the sample's axis 1: 4x2x3 and 4x4x3."""
    node = ob.node("Split", ["x", "sizes"], ["a", "b"], "split", axis=axis)
    outputs = [("a", [1, 4, 2, 3]), ("b", [1, 4, 4, 3])]
    layers = read(tmp_path, [node], [("x", [1, 4, 6, 3])], outputs, [ints("sizes", [2, 4])])
    assert slices(layers) == [((4, 2, 3), 0, 2, 1), ((4, 4, 3), 2, 6, 1)]


def test_a_split_without_axis_splits_the_batchs_axis(tmp_path: Path) -> None:
    """Split's axis defaults to 0: 1x4x3 into one part of size 1 is all of it: a slice 0:1 of the tensor held with
    its batch (1x4x3), back to 4x3; the relu after reads 12 values."""
    nodes = [ob.node("Split", ["x", "sizes"], ["s"], "split"), ob.node("Relu", ["s"], ["y"], "relu")]
    layers = read(tmp_path, nodes, [("x", [1, 4, 3])], [("y", [1, 4, 3])], [ints("sizes", [1])])
    assert slices(layers) == [((1, 4, 3), 0, 1, 0)]
    assert kinds(layers)[-1] == ("relu", (4, 3))


def test_mobilevits_split_of_q_k_v_along_the_first_axis(tmp_path: Path) -> None:
    """MobileViT's q, k, v = qkv.unbind(0) as PyTorch exports it: tokens 1x4x6 reshaped to [1, 4, 3, 2] (3 of q, k,
    v; 2 values each), Transpose [2, 0, 1, 3] to 3x1x4x2 (the batch moved: held with every axis), Split of axis 0
    into [1, 1, 1], each 1x1x4x2 squeezed at 0 to 1x4x2. Slices i:i+1 of axis 0 of the tensor held whole; k + v
    reads the second and third (4 x 2 = 8 FLOPs), and no layer but the first reads the network's input (it was an
    opaque Split whose k and v, made by no layer, read it)."""
    nodes = [
        ob.node("Reshape", ["x", "heads"], ["r"], "r"),
        ob.node("Transpose", ["r"], ["t"], "t", perm=[2, 0, 1, 3]),
        ob.node("Split", ["t", "sizes"], ["q", "k", "v"], "split", axis=0),
        ob.node("Squeeze", ["k", "zero"], ["k1"], "k"),
        ob.node("Squeeze", ["v", "zero"], ["v1"], "v"),
        ob.node("Add", ["k1", "v1"], ["y"], "add"),
    ]
    constants = [ints("heads", [1, 4, 3, 2]), ints("sizes", [1, 1, 1]), ints("zero", [0])]
    stated = [(name, [1, 1, 4, 2]) for name in "qkv"] + [("k1", [1, 4, 2]), ("v1", [1, 4, 2])]
    layers = read(tmp_path, nodes, [("x", [1, 4, 6])], [("y", [1, 4, 2])], constants, stated)
    assert slices(layers) == [((1, 1, 4, 2), i, i + 1, 0) for i in range(3)]
    assert [layer.name for layer in layers if "input" in layer.inputs] == [layers[0].name]
    add = layers[-1]
    assert (add.type, add.output_shape, add.flops) == ("add", (4, 2), 8)
    by_name = {layer.name: layer for layer in layers}
    made_from = [by_name[by_name[name].inputs[0]].inputs[0] for name in add.inputs]  # squeeze <- view <- slice
    assert [by_name[name].config["start"] for name in made_from] == [1, 2]


def test_a_split_of_a_tensor_held_with_every_axis(tmp_path: Path) -> None:
    """Transpose [1, 0, 2] of 1x6x4 moves the batch (6x1x4); its Split along axis 2 into [2, 2] slices the file's
    axis 2: 6x1x2 twice."""
    nodes = [
        ob.node("Transpose", ["x"], ["t"], "t", perm=[1, 0, 2]),
        ob.node("Split", ["t", "sizes"], ["a", "b"], "split", axis=2),
    ]
    layers = read(tmp_path, nodes, [("x", [1, 6, 4])], [("a", [6, 1, 2]), ("b", [6, 1, 2])], [ints("sizes", [2, 2])])
    assert slices(layers) == [((6, 1, 2), 0, 2, 2), ((6, 1, 2), 2, 4, 2)]


# --- Slice ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("axis", "end", "out"), [(0, 2, (2, 1, 4)), (2, 3, (6, 1, 3))])
def test_a_slice_of_a_tensor_held_with_every_axis_slices_the_files_axis(
    tmp_path: Path, axis: int, end: int, out: tuple[int, ...]
) -> None:
    """Transpose [1, 0, 2] of 1x6x4 moves the batch (6x1x4, held with every axis); Slice 0:2 of its axis 0 gives
    2x1x4, 0:3 of its axis 2 6x1x3: a slice of that axis of the tensor as the file holds it."""
    nodes = [
        ob.node("Transpose", ["x"], ["t"], "t", perm=[1, 0, 2]),
        ob.node("Slice", ["t", "starts", "ends", "axes"], ["y"], "slice"),
    ]
    constants = [ints("starts", [0]), ints("ends", [end]), ints("axes", [axis])]
    layers = read(tmp_path, nodes, [("x", [1, 6, 4])], [("y", list(out))], constants)
    assert kinds(layers) == [("reshape", (1, 6, 4)), ("permute", (6, 1, 4)), ("slice", out)]
    assert (layers[2].config["start"], layers[2].config["end"], layers[2].config["axis"]) == (0, end, axis)


def test_a_slice_of_the_channels_is_one_slice_layer(tmp_path: Path) -> None:
    """Slice 2:5 of axis 1 of 1x8x4x4 (a channel split): one slice of the channels, 3x4x4, reading the input."""
    node = ob.node("Slice", ["x", "starts", "ends", "axes"], ["y"], "slice")
    constants = [ints("starts", [2]), ints("ends", [5]), ints("axes", [1])]
    layers = read(tmp_path, [node], [("x", [1, 8, 4, 4])], [("y", [1, 3, 4, 4])], constants)
    assert slices(layers) == [((3, 4, 4), 2, 5, 0)]
    assert kinds(layers) == [("slice", (3, 4, 4))]


def test_a_slice_of_every_other_channel(tmp_path: Path) -> None:
    """Slice 0:8 of the channels of 1x8x4x4 by step 2: channels 0, 2, 4, 6: 4x4x4, one slice of step 2."""
    node = ob.node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], "slice")
    constants = [ints("starts", [0]), ints("ends", [8]), ints("axes", [1]), ints("steps", [2])]
    layers = read(tmp_path, [node], [("x", [1, 8, 4, 4])], [("y", [1, 4, 4, 4])], constants)
    assert slices(layers) == [((4, 4, 4), 0, 8, 0)]
    assert layers[0].config["step"] == 2


def test_a_slice_of_three_axes_of_a_tensor_held_whole(tmp_path: Path) -> None:
    """Transpose [1, 0, 2, 3] of 1x6x4x5 (6x1x4x5, held with every axis), Slice of axes 0, 2, 3 from [0, 1, 1] to
    [3, 3, 4]: 3x1x2x3, one slice per axis, each reading the one before."""
    nodes = [
        ob.node("Transpose", ["x"], ["t"], "t", perm=[1, 0, 2, 3]),
        ob.node("Slice", ["t", "starts", "ends", "axes"], ["y"], "slice"),
    ]
    constants = [ints("starts", [0, 1, 1]), ints("ends", [3, 3, 4]), ints("axes", [0, 2, 3])]
    layers = read(tmp_path, nodes, [("x", [1, 6, 4, 5])], [("y", [3, 1, 2, 3])], constants)
    assert slices(layers) == [((3, 1, 4, 5), 0, 3, 0), ((3, 1, 2, 5), 1, 3, 2), ((3, 1, 2, 3), 1, 4, 3)]
    assert [layer.inputs for layer in layers[3:]] == [(layers[2].name,), (layers[3].name,)]


def test_a_slice_of_more_starts_than_ends_is_refused(tmp_path: Path) -> None:
    """starts [0, 0] and ends [4]: ONNX wants one of each per axis; refused as not a well-formed Slice, not read
    in part."""
    node = ob.node("Slice", ["x", "starts", "ends", "axes"], ["y"], "slice")
    constants = [ints("starts", [0, 0]), ints("ends", [4]), ints("axes", [1])]
    with pytest.raises(SpecError, match="not a well-formed Slice node"):
        read(tmp_path, [node], [("x", [1, 8, 4, 4])], [("y", [1, 4, 4, 4])], constants)


def test_a_slice_of_step_0_is_opaque(tmp_path: Path) -> None:
    """ONNX's Slice refuses a step of 0 (it would never end): no slice convcalc can make, opaque of the stated
    shape."""
    node = ob.node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], "slice")
    constants = [ints("starts", [0]), ints("ends", [4]), ints("axes", [2]), ints("steps", [0])]
    layers = read(tmp_path, [node], [("x", [1, 8, 4, 4])], [("y", [1, 8, 4, 4])], constants)
    assert kinds(layers) == [("opaque", (8, 4, 4))]


def test_a_centred_window_of_a_volume_is_a_crop_of_every_spatial_axis(tmp_path: Path) -> None:
    """Slice 2:6 of H and W of 1x2x4x8x8 (depth 4 untouched): the centred 4x4 of each slice, a crop of D x H x W
    to 4x4x4 (the depth whole)."""
    node = ob.node("Slice", ["x", "starts", "ends", "axes"], ["y"], "slice")
    constants = [ints("starts", [2, 2]), ints("ends", [6, 6]), ints("axes", [3, 4])]
    layers = read(tmp_path, [node], [("x", [1, 2, 4, 8, 8])], [("y", [1, 2, 4, 4, 4])], constants)
    assert kinds(layers) == [("crop", (2, 4, 4, 4))]
    assert layers[0].config["size"] == (4, 4, 4)


def test_a_centred_window_of_some_channels_is_a_slice_per_axis(tmp_path: Path) -> None:
    """Slice of channels 2:6 and of H and W 2:4 of 1x8x6x6: each window centred ((8 - 4) / 2 = 2, (6 - 2) / 2 = 2),
    but a crop keeps every channel: three slices, each reading the one before, named after the axis they cut but
    the last (the Slice's own): 4x6x6, 4x2x6, 4x2x2."""
    node = ob.node("Slice", ["x", "starts", "ends", "axes"], ["y"], "slice")
    constants = [ints("starts", [2, 2, 2]), ints("ends", [6, 4, 4]), ints("axes", [1, 2, 3])]
    layers = read(tmp_path, [node], [("x", [1, 8, 6, 6])], [("y", [1, 4, 2, 2])], constants)
    assert slices(layers) == [((4, 6, 6), 2, 6, 0), ((4, 2, 6), 2, 4, 1), ((4, 2, 2), 2, 4, 2)]
    assert [(layer.name, layer.inputs) for layer in layers] == [
        ("slice.axis0", ("input",)),
        ("slice.axis1", ("slice.axis0",)),
        ("slice", ("slice.axis1",)),
    ]


# --- Pad --------------------------------------------------------------------------------------------------------------


def test_pads_as_an_attribute_before_opset_11(tmp_path: Path) -> None:
    """Pad-2 (opsets 2 to 10) reads pads from an attribute: [0, 0, 1, 2, 0, 0, 3, 4] pads H by 1 before and 3 after
    (4 + 4 = 8), W by 2 and 4 (4 + 6 = 10): 2x8x10."""
    node = ob.node("Pad", ["x"], ["y"], "pad", pads=[0, 0, 1, 2, 0, 0, 3, 4])
    layers = read(tmp_path, [node], [("x", [1, 2, 4, 4])], [("y", [1, 2, 8, 10])], opset=9)
    assert kinds(layers) == [("pad", (2, 8, 10))]
    assert layers[0].config["padding"] == (1, 3, 2, 4)


def test_a_pad_of_three_spatial_axes(tmp_path: Path) -> None:
    """Pads [0, 0, 1, 1, 1, 0, 0, 1, 1, 1] of 1x2x3x4x5 (depth, height, width, one on each side): 2x5x6x7."""
    node = ob.node("Pad", ["x", "pads"], ["y"], "pad")
    constants = [ints("pads", [0, 0, 1, 1, 1, 0, 0, 1, 1, 1])]
    layers = read(tmp_path, [node], [("x", [1, 2, 3, 4, 5])], [("y", [1, 2, 5, 6, 7])], constants)
    assert kinds(layers) == [("pad", (2, 5, 6, 7))]


def test_a_pad_of_four_spatial_axes_or_of_unknown_pads_is_opaque(tmp_path: Path) -> None:
    """A 1x2x3x4x5x1 tensor (a Reshape of 1x2x3x4x5) has four axes after its channels, more than the pad kind's
    three: its last padded by 1 on each side (2x3x4x5x3) is opaque. So is a Pad of 1x2x4x4 whose pads the file
    holds no values of (an initializer without data)."""
    nodes = [ob.node("Reshape", ["x", "shape"], ["r"], "r"), ob.node("Pad", ["r", "pads"], ["y"], "pad")]
    constants = [ints("shape", [1, 2, 3, 4, 5, 1]), ints("pads", [0, 0, 0, 0, 0, 1] * 2)]
    layers = read(tmp_path, nodes, [("x", [1, 2, 3, 4, 5])], [("y", [1, 2, 3, 4, 5, 3])], constants)
    assert kinds(layers) == [("reshape", (2, 3, 4, 5, 1)), ("opaque", (2, 3, 4, 5, 3))]
    node = ob.node("Pad", ["x", "pads"], ["y"], "pad")
    constants = [ob.tensor("pads", [8], None, ob.INT64)]
    assert kinds(read(tmp_path, [node], [("x", [1, 2, 4, 4])], [("y", [1, 2, 6, 6])], constants)) == [
        ("opaque", (2, 6, 6))
    ]


@pytest.mark.parametrize(
    ("pads", "out"),
    [
        ([1, 0, 0, 0, 0, 0, 0, 0], [2, 2, 4, 4]),  # the batch, before
        ([0, 1, 0, 0, 0, 0, 0, 0], [1, 3, 4, 4]),  # the channels, before
        ([0, 0, 0, 0, 0, 1, 0, 0], [1, 3, 4, 4]),  # the channels, after
    ],
)
def test_a_pad_of_the_batch_or_the_channels_is_opaque(tmp_path: Path, pads: list[int], out: list[int]) -> None:
    """Pads [N, C, H, W begins, N, C, H, W ends] of 1x2x4x4 that pad the batch or the channels: not the pad kind's
    zero border of the spatial axes, opaque of the stated shape."""
    node = ob.node("Pad", ["x", "pads"], ["y"], "pad")
    layers = read(tmp_path, [node], [("x", [1, 2, 4, 4])], [("y", out)], [ints("pads", pads)])
    assert [layer.type for layer in layers] == ["opaque"]


# --- Einsum -----------------------------------------------------------------------------------------------------------


def test_an_einsum_of_three_axes_is_a_matmul(tmp_path: Path) -> None:
    """'bik,bkj->bij' of x 1x4x3 and its transpose 1x3x4 (held channels-last: a permute puts it back): a matmul of
    4x3 by 3x4, 4 x 4 x 3 = 48 MACs."""
    nodes = [
        ob.node("Transpose", ["x"], ["t"], "t", perm=[0, 2, 1]),
        ob.node("Einsum", ["x", "t"], ["y"], "e", equation="bik,bkj->bij"),
    ]
    layers = read(tmp_path, nodes, [("x", [1, 4, 3])], [("y", [1, 4, 4])])
    assert kinds(layers) == [("permute", (3, 4)), ("matmul", (4, 4))]
    assert layers[1].macs == 4 * 4 * 3


def test_maxvits_einsum_of_five_axes_is_a_matmul_by_the_transposed_keys(tmp_path: Path) -> None:
    """MaxViT's q k^T, 'bghid,bghjd->bghij', of q 1x2x2x4x8 and k its first 3 of axis 3 (1x2x2x3x8): k's last two
    axes swapped (2x2x8x3, a permute of no cost), a matmul to 2x2x4x3: 2 x 2 x 4 x 3 x 8 = 384 MACs."""
    nodes = [
        ob.node("Slice", ["x", "starts", "ends", "axes"], ["k"], "k"),
        ob.node("Einsum", ["x", "k"], ["y"], "e", equation="bghid,bghjd->bghij"),
    ]
    constants = [ints("starts", [0]), ints("ends", [3]), ints("axes", [3])]
    layers = read(tmp_path, nodes, [("x", [1, 2, 2, 4, 8])], [("y", [1, 2, 2, 4, 3])], constants)
    assert kinds(layers) == [("slice", (2, 2, 3, 8)), ("permute", (2, 2, 8, 3)), ("matmul", (2, 2, 4, 3))]
    assert layers[2].macs == 2 * 2 * 4 * 3 * 8


def test_an_einsum_of_two_axes_is_opaque(tmp_path: Path) -> None:
    """'ik,kj->ij' of a linear layer's 1x1 and the 1x5 input: k is the input's first axis, the batch's, which
    convcalc holds out of each sample; no matmul of samples' tensors: opaque of the stated 1x5."""
    nodes = [
        ob.node("MatMul", ["x", "w"], ["a"], "fc"),
        ob.node("Einsum", ["a", "x"], ["y"], "e", equation="ik,kj->ij"),
    ]
    layers = read(tmp_path, nodes, [("x", [1, 5])], [("y", [1, 5])], [ob.tensor("w", [5, 1])])
    assert kinds(layers) == [("linear", (1,)), ("opaque", (5,))]


@pytest.mark.parametrize("inputs", [["w", "x"], ["x", "w"]])
def test_an_einsum_with_a_learned_operand_is_opaque(tmp_path: Path, inputs: list[str]) -> None:
    """'bik,bkj->bij' of 1x3x3 and a learned 1x3x3 (either first or second): the matmul kind multiplies two
    activations; opaque of the stated 3x3."""
    node = ob.node("Einsum", inputs, ["y"], "e", equation="bik,bkj->bij")
    layers = read(tmp_path, [node], [("x", [1, 3, 3])], [("y", [1, 3, 3])], [ob.tensor("w", [1, 3, 3])])
    assert kinds(layers) == [("opaque", (3, 3))]


@pytest.mark.parametrize(
    ("equation", "out"),
    [
        ("nbik,nckj->nbij", [1, 2, 3, 3]),  # also sums c, which the output lacks: no matmul
        ("...ik,...kj->...ij", [1, 2, 3, 3]),  # an ellipsis
        ("nbik,nbjl->nbij", [1, 2, 3, 3]),  # sums k of one operand and l of the other: no product of the two
        ("nbij,nbjj->nbij", [1, 2, 3, 3]),  # the second's diagonal
    ],
)
def test_an_einsum_that_is_no_batched_matmul_is_opaque(tmp_path: Path, equation: str, out: list[int]) -> None:
    """Equations of 1x2x3x3 with itself that are no batched product of the two: opaque of the stated 2x3x3."""
    node = ob.node("Einsum", ["x", "x"], ["y"], "e", equation=equation)
    assert kinds(read(tmp_path, [node], [("x", [1, 2, 3, 3])], [("y", out)])) == [("opaque", (2, 3, 3))]


def test_a_gather_of_one_value_of_a_vector(tmp_path: Path) -> None:
    """1x4 reshaped to [4] (a vector, held with its one axis), Gather of index 2: a scalar (ONNX's shape []), held
    as one value: the relu after reads 1."""
    nodes = [
        ob.node("Reshape", ["x", "shape"], ["v"], "v"),
        ob.node("Gather", ["v", "i"], ["g"], "g"),
        ob.node("Relu", ["g"], ["y"], "relu"),
    ]
    constants = [ints("shape", [4]), ob.tensor("i", [], [2], ob.INT64)]
    layers = read(tmp_path, nodes, [("x", [1, 4])], [("y", [])], constants)
    assert kinds(layers) == [("reshape", (4,)), ("slice", (1,)), ("reshape", (1,)), ("relu", (1,))]
    assert layers[3].flops == 1


@pytest.mark.parametrize(
    ("op", "stated", "held"),
    [
        ("Squeeze", [4, 3, 3], (4, 3, 3)),
        ("Unsqueeze", [1, 1, 4, 3, 3], (1, 4, 3, 3)),
        ("Gather", [4, 3, 3], (4, 3, 3)),
        ("Cast", [1, 4, 3, 3], (4, 3, 3)),
    ],
)
def test_an_op_on_a_tensor_no_layer_makes_is_opaque(
    tmp_path: Path, op: str, stated: list[int], held: tuple[int, ...]
) -> None:
    """Dropout's second output, its 1x4x3x3 mask, is made by no layer (at inference the Dropout is its input): a
    Squeeze of its axis 0 (4x3x3), an Unsqueeze at 0 (1x1x4x3x3), a Gather of index 0 (4x3x3) or a Cast of it is
    opaque, of the shape the file states (held without a first size of 1, the batch's)."""
    extra = {"Squeeze": ["axes"], "Unsqueeze": ["axes"], "Gather": ["i"], "Cast": []}[op]
    nodes = [
        ob.node("Dropout", ["x"], ["d", "mask"], "drop"),
        ob.node(op, ["mask", *extra], ["m"], "op", **({"to": 1} if op == "Cast" else {})),
        ob.node("Relu", ["d"], ["y"], "relu"),
    ]
    constants = [ints("axes", [0]), ob.tensor("i", [], [0], ob.INT64)]
    layers = read(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3]), ("m", stated)], constants)
    assert kinds(layers) == [("opaque", held), ("relu", (4, 3, 3))]
    assert layers[0].config["op"] == op

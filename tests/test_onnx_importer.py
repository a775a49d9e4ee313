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
    """Reshape of 1x6 to [6, 1] moves the batch's axis (held with every axis: 6x1), an Identity of it too; Transpose
    [1, 0] gives 1x6, the batch of 1 first again: held as 6 features (a reshape of no cost): the output is 6."""
    nodes = [
        ob.node("Reshape", ["x", "s"], ["r"], "r"),
        ob.node("Identity", ["r"], ["i"], "same"),
        ob.node("Transpose", ["i"], ["y"], "t", perm=[1, 0]),
    ]
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


# --- patterns.py: PyTorch's LocalResponseNorm, a channel shuffle held back -------------------------------------------

LRN_CONSTANTS = [ob.tensor("alpha", [], [0.5]), ob.tensor("k", [], [2.0]), ob.tensor("beta", [], [0.75])]


def lrn_nodes(size: int = 3, scope: str = "/lrn/") -> list[bytes]:
    """x / (x * x, averaged over ``size`` channels, * alpha + k) ^ beta, as torch.nn.functional.local_response_norm
    computes it (the 5-D view and the Pad of its channels left out: they are steps of the same chain)."""
    return [
        ob.node("Mul", ["x", "x"], ["sq"], f"{scope}Mul"),
        ob.node("AveragePool", ["sq"], ["p"], f"{scope}AveragePool", kernel_shape=[size, 1, 1]),
        ob.node("Mul", ["p", "alpha"], ["m"], f"{scope}Mul_2"),
        ob.node("Add", ["m", "k"], ["a"], f"{scope}Add"),
        ob.node("Pow", ["a", "beta"], ["q"], f"{scope}Pow"),
        ob.node("Div", ["x", "q"], ["y"], f"{scope}Div"),
    ]


def test_pytorchs_local_response_norm_is_one_lrn_layer(tmp_path: Path) -> None:
    """The chain from the square to the division on 1x4x3x3: one lrn layer of size 3 (the pool's window over the
    channels), alpha 0.5, k 2, beta 0.75: the constants of the Mul, Add and Pow in its scope '/net/lrn/', not the
    Mul by 3 of '/net/head/' after it. Then y * 3: an arithmetic layer of 4x3x3."""
    nodes = [*lrn_nodes(scope="/net/lrn/"), ob.node("Mul", ["y", "three"], ["z"], "/net/head/Mul")]
    constants = [*LRN_CONSTANTS, ob.tensor("three", [], [3.0])]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("z", [1, 4, 3, 3])], constants)
    assert [(la.type, la.output_shape) for la in analysis.layers] == [("lrn", (4, 3, 3)), ("arithmetic", (4, 3, 3))]
    lrn = analysis.layers[0]
    assert lrn.inputs == ("input",)
    assert (lrn.config["size"], lrn.config["alpha"], lrn.config["k"], lrn.config["beta"]) == (3, 0.5, 2.0, 0.75)


def test_a_step_of_a_local_response_norm_handed_out_is_refused(tmp_path: Path) -> None:
    """The LRN chain's pooled squares 'p' as a second output of the graph: no layer holds them (the chain is one lrn
    layer), so the file is refused naming the AveragePool that makes them, not read without that output."""
    with pytest.raises(SpecError, match="its output 'p' is an output of the graph, but a step inside") as error:
        analysed(
            tmp_path, lrn_nodes(), [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3]), ("p", [1, 4, 3, 3])], LRN_CONSTANTS
        )
    assert error.value.layer == "/lrn/AveragePool"


def test_a_square_that_no_division_follows_is_a_product(tmp_path: Path) -> None:
    """conv1 (1x1, 4 to 4 channels: 16 params), its output times itself (no x / (...) of it follows: no LRN), conv2
    of that (16 params): three layers; the square is one multiply per element, 4 x 3 x 3 = 36 FLOPs."""
    nodes = [
        ob.node("Conv", ["x", "w1"], ["c"], "conv1"),
        ob.node("Mul", ["c", "c"], ["s"], "square"),
        ob.node("Conv", ["s", "w2"], ["y"], "conv2"),
    ]
    weights = [ob.tensor("w1", [4, 4, 1, 1]), ob.tensor("w2", [4, 4, 1, 1])]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], weights)
    assert [(la.name, la.type, la.params, la.inputs) for la in analysis.layers] == [
        ("conv1", "conv", 16, ("input",)),
        ("square", "multiply", 0, ("conv1", "conv1")),
        ("conv2", "conv", 16, ("square",)),
    ]
    assert analysis.layers[1].flops == 36


def test_a_product_of_a_divided_tensor_and_another_is_no_square(tmp_path: Path) -> None:
    """x * relu(x) and x / relu(x) on 1x4x3x3: a product (36 FLOPs) and a division, no LRN (whose square is x * x)."""
    nodes = [
        ob.node("Relu", ["x"], ["r"], "relu"),
        ob.node("Mul", ["x", "r"], ["m"], "product"),
        ob.node("Div", ["x", "r"], ["d"], "quotient"),
    ]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("m", [1, 4, 3, 3]), ("d", [1, 4, 3, 3])])
    assert [(la.name, la.type, la.flops) for la in analysis.layers] == [
        ("relu", "relu", 36),
        ("product", "multiply", 36),
        ("quotient", "arithmetic", 36),
    ]


def test_a_local_response_norm_without_its_pool_is_refused(tmp_path: Path) -> None:
    """x / (x * x * alpha + k) ^ beta, no AveragePool over the channels: not PyTorch's LocalResponseNorm, whose
    window convcalc reads from that pool; refused at the division, naming it."""
    nodes = [each for each in lrn_nodes() if b"AveragePool" not in each]
    nodes[1] = ob.node("Mul", ["sq", "alpha"], ["m"], "/lrn/Mul_2")
    with pytest.raises(SpecError, match="without the AveragePool") as error:
        analysed(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], LRN_CONSTANTS)
    assert error.value.layer == "/lrn/Div"


@pytest.mark.parametrize("divisor", ["r", "two"])
def test_a_division_of_the_normalised_tensor_by_another_is_no_lrn(tmp_path: Path, divisor: str) -> None:
    """x / relu(x), or x / 2 (a constant), between the LRN's pool and its own division: an element-wise division
    (36 FLOPs on 4x3x3); the LRN ends at its own, x / (...)^beta. Both are outputs of the graph."""
    nodes = [
        ob.node("Relu", ["x"], ["r"], "/other/Relu"),
        *lrn_nodes()[:2],
        ob.node("Div", ["x", divisor], ["d"], "/other/Div"),
        *lrn_nodes()[2:],
    ]
    constants = [*LRN_CONSTANTS, ob.tensor("two", [], [2.0])]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3]), ("d", [1, 4, 3, 3])], constants)
    assert [(la.type, la.output_shape, la.flops) for la in analysis.layers][:2] == [
        ("relu", (4, 3, 3), 36),
        ("arithmetic", (4, 3, 3), 36),
    ]
    assert [la.type for la in analysis.layers][2:] == ["lrn"]


def test_a_channel_shuffles_steps_read_as_something_else_are_a_reshape_and_a_permute(tmp_path: Path) -> None:
    """Reshape of 1x8x3x3 to [1, 2, 4, 3, 3] (a channel shuffle's first step, held back) read by 0.5 * it: a
    reshape to 2x4x3x3 (8 / 2 = 4), then the product. After the Transpose [0, 2, 1, 3, 4] too: the reshape, a
    permute to 4x2x3x3, then the product."""
    split = [ob.node("Reshape", ["x", "s5"], ["r5"], "split")]
    transposed = [*split, ob.node("Transpose", ["r5"], ["t5"], "swap", perm=[0, 2, 1, 3, 4])]
    constants = [ob.tensor("s5", [5], [1, 2, 4, 3, 3], ob.INT64), ob.tensor("half", [1], [0.5])]
    for nodes, read, expected in (
        (split, "r5", [("reshape", (2, 4, 3, 3)), ("arithmetic", (2, 4, 3, 3))]),
        (transposed, "t5", [("reshape", (2, 4, 3, 3)), ("permute", (4, 2, 3, 3)), ("arithmetic", (4, 2, 3, 3))]),
    ):
        product = ob.node("Mul", ["half", read], ["y"], "scale")
        output = ("y", [1, *expected[-1][1]])
        analysis = analysed(tmp_path, [*nodes, product], [("x", [1, 8, 3, 3])], [output], constants)
        assert [(la.type, la.output_shape) for la in analysis.layers] == expected


# --- importer.py: the importer's bookkeeping ------------------------------------------------------------------------


def test_an_onnx_layers_line_is_its_node_counted_from_1(tmp_path: Path) -> None:
    """Three Relus: the third is node 2 of the graph's node list (counted from 0), line 3 in JSON (from 1)."""
    nodes = [ob.node("Relu", [a], [b], name) for a, b, name in (("x", "a", "r0"), ("a", "b", "r1"), ("b", "y", "r2"))]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4])], [("y", [1, 4])])
    last = analysis.layers[-1]
    assert (last.location.line, last.location.node, last.to_dict()["line"]) == (3, (2, "r2", "Relu"), 3)


def test_an_attribute_of_whole_numbers_given_as_floats_is_refused(tmp_path: Path) -> None:
    """strides written as floats [2.0, 2.0] (an attribute of type FLOATS): not the INTS ONNX specifies."""
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c", strides=[2.0, 2.0])]
    with pytest.raises(SpecError, match="attribute 'strides' must be whole numbers"):
        analysed(tmp_path, nodes, [("x", [1, 1, 5, 5])], [("y", [1, 1, 2, 2])], [ob.tensor("w", [1, 1, 3, 3])])


def test_a_weight_of_no_filters_is_refused_as_a_spec_would_be(tmp_path: Path) -> None:
    """A Conv weight of dims [0, 1, 3, 3]: 0 filters, refused by the spec language's own check (at least 1); 0 is no
    size below 0."""
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c")]
    with pytest.raises(SpecError, match="'filters': must be at least 1, got 0"):
        analysed(tmp_path, nodes, [("x", [1, 1, 5, 5])], [("y", [1, 2, 3, 3])], [ob.tensor("w", [0, 1, 3, 3])])


@pytest.mark.parametrize(("count", "said"), [(64, "64 values"), (65, "more than 64 values")])
def test_an_attribute_of_too_many_values_says_how_many(tmp_path: Path, count: int, said: str) -> None:
    """strides of 64 values for a 2-D Conv: all 64 are read and counted; of 65, the list is read in part (64 and
    the next), 'more than 64'."""
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c", strides=[1] * count)]
    with pytest.raises(SpecError, match=f"attribute 'strides' has {said} for 2 spatial axes"):
        analysed(tmp_path, nodes, [("x", [1, 1, 5, 5])], [("y", [1, 2, 3, 3])], [ob.tensor("w", [2, 1, 3, 3])])


def test_a_product_by_a_constant_of_the_dims_the_file_states(tmp_path: Path) -> None:
    """x * Sin(c) on 1x4x3x3: Sin is no op convcalc folds, so its output has the dims the file states for it, 4x1x1,
    and no values: a per-channel weight, a layer scale of 4 params (as by an initializer without its values)."""
    nodes = [ob.node("Sin", ["c"], ["w"], "sin"), ob.node("Mul", ["x", "w"], ["y"], "scale")]
    analysis = analysed(
        tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ob.tensor("c", [4, 1, 1])], [("w", [4, 1, 1])]
    )
    assert [(la.type, la.params) for la in analysis.layers] == [("scale", 4)]


def test_nodes_without_names_are_named_by_kind_and_place(tmp_path: Path) -> None:
    """A Relu and a Sigmoid without names: the first layer 'relu1', the second 'sigmoid2'."""
    nodes = [ob.node("Relu", ["x"], ["a"]), ob.node("Sigmoid", ["a"], ["y"])]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4])], [("y", [1, 4])])
    assert [layer.name for layer in analysis.layers] == ["relu1", "sigmoid2"]

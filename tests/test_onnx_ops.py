"""One ONNX op at a time, in graphs built byte by byte (tests/onnxbuild.py): the branches of each handler that
decide a layer's kind, shape or parameters, against the ONNX operator specification (onnx/docs/Operators.md) and
hand arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from convcalc import Analysis, analyze
from convcalc.core.errors import SpecError
from tests import onnxbuild as ob


def layers_of(tmp_path: Path, *args: object, **kwargs: object) -> list[tuple[str, tuple[int, ...], int]]:
    """(type, output shape, params) of each layer of the model ob.model(*args, **kwargs) builds."""
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(*args, **kwargs))  # type: ignore[arg-type]
    return [(layer.type, layer.output_shape, layer.params) for layer in analyze(str(path)).layers]


def test_layer_normalization_over_a_feature_map_or_the_last_axis(tmp_path: Path) -> None:
    """axis 1 of a 1x4x3x3 map normalises C, H and W together: scale and bias of 4 x 3 x 3 = 36 values each; the
    default axis -1 of a flat 1x10 input is its axis 1: 2 x 10 parameters."""
    node = ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln", axis=1)
    weights = [ob.tensor("s", [4, 3, 3]), ob.tensor("b", [4, 3, 3])]
    shape = [1, 4, 3, 3]
    assert layers_of(tmp_path, [node], [("x", shape)], [("y", shape)], weights) == [("layernorm", (4, 3, 3), 72)]
    node = ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln")
    weights = [ob.tensor("s", [10]), ob.tensor("b", [10])]
    assert layers_of(tmp_path, [node], [("x", [1, 10])], [("y", [1, 10])], weights) == [("layernorm", (10,), 20)]


def test_layer_normalization_over_part_of_a_map_is_not_counted(tmp_path: Path) -> None:
    """axis 2 of a 1x4x3x3 map normalises each channel's H x W alone: not a layernorm convcalc knows (opaque)."""
    node = ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln", axis=2)
    weights = [ob.tensor("s", [3, 3]), ob.tensor("b", [3, 3])]
    shape = [1, 4, 3, 3]
    assert layers_of(tmp_path, [node], [("x", shape)], [("y", shape)], weights) == [("opaque", (4, 3, 3), 0)]


def test_a_reshape_to_batch_and_features_is_a_flatten(tmp_path: Path) -> None:
    """Reshape of 1x2x3x4 to [1, -1] or [1, 24]: 2 x 3 x 4 = 24 features; to [1, 6, -1] or [1, -1, 4], a 6x4
    matrix: a reshape, not a flatten."""
    for target in ([1, -1], [1, 24]):
        nodes = [ob.node("Reshape", ["x", "t"], ["y"], "r")]
        constants = [ob.tensor("t", [2], target, ob.INT64)]
        assert layers_of(tmp_path, nodes, [("x", [1, 2, 3, 4])], [("y", [1, 24])], constants) == [("flatten", (24,), 0)]
    for target in ([1, 6, -1], [1, -1, 4]):
        nodes = [ob.node("Reshape", ["x", "t"], ["y"], "r")]
        constants = [ob.tensor("t", [3], target, ob.INT64)]
        found = layers_of(tmp_path, nodes, [("x", [1, 2, 3, 4])], [("y", [1, 6, 4])], constants)
        assert found == [("reshape", (6, 4), 0)]


def test_split_into_equal_parts(tmp_path: Path) -> None:
    """Split without sizes: into as many parts as outputs (6 channels, 2 outputs: 3 and 3); from opset 18 into
    num_outputs parts of ceil(C / n) channels, the last smaller (7 channels in 3: 3, 3 and 1)."""
    node = ob.node("Split", ["x"], ["a", "b"], "split", axis=1)
    found = layers_of(tmp_path, [node], [("x", [1, 6, 2, 2])], [("a", [1, 3, 2, 2]), ("b", [1, 3, 2, 2])])
    assert found == [("slice", (3, 2, 2), 0), ("slice", (3, 2, 2), 0)]
    node = ob.node("Split", ["x"], ["a", "b", "c"], "split", axis=1, num_outputs=3)
    outputs = [("a", [1, 3, 2, 2]), ("b", [1, 3, 2, 2]), ("c", [1, 1, 2, 2])]
    found = layers_of(tmp_path, [node], [("x", [1, 7, 2, 2])], outputs, opset=18)
    assert found == [("slice", (3, 2, 2), 0), ("slice", (3, 2, 2), 0), ("slice", (1, 2, 2), 0)]


def test_a_shape_gathered_back_together_reshapes_to_itself(tmp_path: Path) -> None:
    """Shape(x) of a 1x8x3x3 map is [1, 8, 3, 3]; Gather of indices [1, 2, 3] takes [8, 3, 3]; Concat after a
    leading 1 gives [1, 8, 3, 3] back: the Reshape changes nothing, and the relu after it reads 8x3x3."""
    nodes = [
        ob.node("Shape", ["x"], ["shape"], "s"),
        ob.node("Gather", ["shape", "idx"], ["dims"], "g", axis=0),
        ob.node("Concat", ["one", "dims"], ["target"], "cat", axis=0),
        ob.node("Reshape", ["x", "target"], ["r"], "r"),
        ob.node("Relu", ["r"], ["y"], "relu"),
    ]
    constants = [ob.tensor("idx", [3], [1, 2, 3], ob.INT64), ob.tensor("one", [1], [1], ob.INT64)]
    found = layers_of(tmp_path, nodes, [("x", [1, 8, 3, 3])], [("y", [1, 8, 3, 3])], constants)
    assert found == [("relu", (8, 3, 3), 0)]


def test_conv_transpose_by_groups_strides_pads_and_output_padding(tmp_path: Path) -> None:
    """ConvTranspose of 1x4x5x5 by a weight (C_in 4, C_out / group 3, 3, 3), group 2: 3 x 2 = 6 filters; stride 2,
    pads 1, output_padding 1: (5 - 1) x 2 - 2 x 1 + (3 - 1) + 1 + 1 = 10. Params 4 x 3 x 9 + 6 (bias) = 114."""
    node = ob.node(
        "ConvTranspose", ["x", "w", "b"], ["y"], "up", strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], group=2
    )
    weights = [ob.tensor("w", [4, 3, 3, 3]), ob.tensor("b", [6])]
    found = layers_of(tmp_path, [node], [("x", [1, 4, 5, 5])], [("y", [1, 6, 10, 10])], weights)
    assert found == [("conv_transpose", (6, 10, 10), 114)]


def test_convs_over_one_and_three_axes_and_auto_pad(tmp_path: Path) -> None:
    """1-D: 1x2x10 by (3, 2, 3), pads 1, stride 2: (10 + 2 - 3) // 2 + 1 = 5, params 3 x 2 x 3 = 18. 3-D: 1x1x4x4x4
    by (2, 1, 3, 3, 3), pads 1: 4 each, params 54. SAME_UPPER at stride 2 on 7: ceil(7 / 2) = 4; VALID: (7 - 3) // 2
    + 1 = 3."""
    node = ob.node("Conv", ["x", "w"], ["y"], "c", pads=[1, 1], strides=[2])
    assert layers_of(tmp_path, [node], [("x", [1, 2, 10])], [("y", [1, 3, 5])], [ob.tensor("w", [3, 2, 3])]) == [
        ("conv", (3, 5), 18)
    ]
    node = ob.node("Conv", ["x", "w"], ["y"], "c", pads=[1] * 6)
    shape = [1, 1, 4, 4, 4]
    found = layers_of(tmp_path, [node], [("x", shape)], [("y", [1, 2, 4, 4, 4])], [ob.tensor("w", [2, 1, 3, 3, 3])])
    assert found == [("conv", (2, 4, 4, 4), 54)]
    for auto_pad, size in (("SAME_UPPER", 4), ("VALID", 3)):
        node = ob.node("Conv", ["x", "w"], ["y"], "c", auto_pad=auto_pad, strides=[2, 2])
        found = layers_of(
            tmp_path, [node], [("x", [1, 1, 7, 7])], [("y", [1, 1, size, size])], [ob.tensor("w", [1] * 2 + [3, 3])]
        )
        assert found == [("conv", (1, size, size), 9)]


def test_a_gemm_without_transb_reads_its_weight_as_in_by_units(tmp_path: Path) -> None:
    """Gemm of 1x16 by B (16, 10) and a bias of 10: 16 x 10 + 10 = 170 params."""
    node = ob.node("Gemm", ["x", "w", "b"], ["y"], "fc")
    weights = [ob.tensor("w", [16, 10]), ob.tensor("b", [10])]
    assert layers_of(tmp_path, [node], [("x", [1, 16])], [("y", [1, 10])], weights) == [("linear", (10,), 170)]


def test_pools(tmp_path: Path) -> None:
    """AveragePool 3x3, stride 2, pads 1 on 8x8 with ceil_mode: ceil((8 + 2 - 3) / 2) + 1 = 5 (floor: 4), padding
    counted when count_include_pad=1; MaxPool 2x2 dilated by 2 (3 wide) at stride 1 on 7: 7 - 3 + 1 = 5;
    GlobalMaxPool: 1x1."""
    node = ob.node(
        "AveragePool",
        ["x"],
        ["y"],
        "p",
        kernel_shape=[3, 3],
        strides=[2, 2],
        pads=[1] * 4,
        ceil_mode=1,
        count_include_pad=1,
    )
    path = tmp_path / "pool.onnx"
    path.write_bytes(ob.model([node], [("x", [1, 2, 8, 8])], [("y", [1, 2, 5, 5])]))
    (layer,) = analyze(str(path)).layers
    assert (layer.type, layer.output_shape, layer.config["count_include_pad"]) == ("avgpool", (2, 5, 5), True)
    node = ob.node("MaxPool", ["x"], ["y"], "p", kernel_shape=[2, 2], dilations=[2, 2])
    assert layers_of(tmp_path, [node], [("x", [1, 2, 7, 7])], [("y", [1, 2, 5, 5])]) == [("maxpool", (2, 5, 5), 0)]
    node = ob.node("GlobalMaxPool", ["x"], ["y"], "g")
    found = layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 1, 1])])
    assert found == [("global_maxpool", (3, 1, 1), 0)]


def test_a_mean_over_the_spatial_axes_is_a_global_average_pool(tmp_path: Path) -> None:
    """ReduceMean over axes [2, 3] (or [-1, -2]) of 1x3x4x4: a global average pool, 3x1x1; keepdims=0 drops the
    two axes: then a flatten, 3. Over [1, 2, 3] (the channels too): not a pool but a reduce;
    so with no axes (all of them)."""
    node = ob.node("ReduceMean", ["x"], ["y"], "m", axes=[-1, -2])
    found = layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 1, 1])])
    assert found == [("global_avgpool", (3, 1, 1), 0)]
    node = ob.node("ReduceMean", ["x"], ["y"], "m", axes=[2, 3], keepdims=0)
    found = layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 3])])
    assert found == [("global_avgpool", (3, 1, 1), 0), ("flatten", (3,), 0)]
    node = ob.node("ReduceMean", ["x"], ["y"], "m", axes=[1, 2, 3])
    found = layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 1, 1, 1])])
    assert found == [("reduce", (1, 1, 1), 0)]
    node = ob.node("ReduceMean", ["x"], ["y"], "m")  # no axes: over all of them
    found = layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 1, 1, 1])])
    assert found == [("opaque", (1, 1, 1), 0)]
    node = ob.node("ReduceMean", ["x", "axes"], ["y"], "m")  # opset 18: the axes an input
    constants = [ob.tensor("axes", [2], [2, 3], ob.INT64)]
    found = layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 1, 1])], constants, opset=18)
    assert found == [("global_avgpool", (3, 1, 1), 0)]


def test_flatten_from_axis_1_only(tmp_path: Path) -> None:
    """Flatten at axis 1 of 1x2x3x4: 24; of a flat 1x10: nothing to do (the relu after reads 10); at axis 2:
    1x2 x 12, not a flatten convcalc counts."""
    node = ob.node("Flatten", ["x"], ["y"], "f", axis=1)
    assert layers_of(tmp_path, [node], [("x", [1, 2, 3, 4])], [("y", [1, 24])]) == [("flatten", (24,), 0)]
    nodes = [ob.node("Flatten", ["x"], ["f"], "f", axis=1), ob.node("Relu", ["f"], ["y"], "r")]
    assert layers_of(tmp_path, nodes, [("x", [1, 10])], [("y", [1, 10])]) == [("relu", (10,), 0)]
    node = ob.node("Flatten", ["x"], ["y"], "f", axis=2)
    assert layers_of(tmp_path, [node], [("x", [1, 2, 3, 4])], [("y", [2, 12])]) == [("opaque", (2, 12), 0)]


def test_softmax_over_the_channels(tmp_path: Path) -> None:
    """Opset 13 on: the axis defaults to -1, the last; axis 1 of a 1x3x4x4 map is the channels. Before 13 the axis
    defaults to 1, meaning the flattened C x H x W: the channels only on a flat input or a 1x1 map."""
    cases = [
        (13, {"axis": 1}, [1, 3, 4, 4], "softmax"),
        (13, {}, [1, 3, 4, 4], "softmax"),
        (13, {}, [1, 10], "softmax"),
        (11, {}, [1, 10], "softmax"),
        (11, {}, [1, 3, 1, 1], "softmax"),
        (11, {}, [1, 3, 4, 4], "opaque"),
    ]
    for opset, attributes, shape, kind in cases:
        node = ob.node("Softmax", ["x"], ["y"], "s", **attributes)
        found = layers_of(tmp_path, [node], [("x", shape)], [("y", shape)], opset=opset)
        assert found == [(kind, tuple(shape[1:]), 0)], (opset, attributes, shape)


def test_resize_by_sizes_and_upsample_by_scales(tmp_path: Path) -> None:
    """Resize of 1x3x4x4 to sizes [1, 3, 8, 6]: 3x8x6; Upsample (opset 9: scales the second input) by [1, 1, 2, 3]
    in linear mode: bilinear, 3x8x12; of a 1-D 1x3x4 by [1, 1, 2]: linear, 3x8; scales that are not whole:
    opaque."""
    nodes = [ob.node("Resize", ["x", "", "", "sizes"], ["y"], "r", mode="nearest")]
    constants = [ob.tensor("sizes", [4], [1, 3, 8, 6], ob.INT64)]
    assert layers_of(tmp_path, nodes, [("x", [1, 3, 4, 4])], [("y", [1, 3, 8, 6])], constants) == [
        ("upsample", (3, 8, 6), 0)
    ]
    for shape, scales, out, mode in (
        ([1, 3, 4, 4], [1.0, 1.0, 2.0, 3.0], [1, 3, 8, 12], "bilinear"),
        ([1, 3, 4], [1.0, 1.0, 2.0], [1, 3, 8], "linear"),
    ):
        node = ob.node("Upsample", ["x", "scales"], ["y"], "u", mode="linear")
        path = tmp_path / "up.onnx"
        path.write_bytes(
            ob.model([node], [("x", shape)], [("y", out)], [ob.tensor("scales", [len(scales)], scales)], opset=9)
        )
        (layer,) = analyze(str(path)).layers
        assert (layer.type, layer.output_shape, layer.config["mode"]) == ("upsample", tuple(out[1:]), mode)
    node = ob.node("Resize", ["x", "", "scales"], ["y"], "r", mode="nearest")
    constants = [ob.tensor("scales", [4], [1.0, 1.0, 1.5, 1.5])]
    assert layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 6, 6])], constants) == [
        ("opaque", (3, 6, 6), 0)
    ]


def test_pad_of_the_spatial_axes(tmp_path: Path) -> None:
    """Pad of 1x2x5x5 by [0, 0, 1, 2, 0, 0, 3, 4] (N, C, H, W begins, then ends): H 1 + 5 + 3 = 9, W 2 + 5 + 4 = 11;
    padding the channels too ([0, 1, 0, 0, 0, 0, 0, 0]): not a pad convcalc counts."""
    node = ob.node("Pad", ["x", "pads"], ["y"], "p")
    constants = [ob.tensor("pads", [8], [0, 0, 1, 2, 0, 0, 3, 4], ob.INT64)]
    assert layers_of(tmp_path, [node], [("x", [1, 2, 5, 5])], [("y", [1, 2, 9, 11])], constants) == [
        ("pad", (2, 9, 11), 0)
    ]
    constants = [ob.tensor("pads", [8], [0, 1, 0, 0, 0, 0, 0, 0], ob.INT64)]
    assert layers_of(tmp_path, [node], [("x", [1, 2, 5, 5])], [("y", [1, 3, 5, 5])], constants) == [
        ("opaque", (3, 5, 5), 0)
    ]


def test_slices_of_the_spatial_axes(tmp_path: Path) -> None:
    """Slice of 1x2x6x6 over H and W from 1 to 5 (or to -1, counted from the end: 6 - 1): the centred 4x4, a
    crop; from 0 to 4: a slice along H, 2x4x6, then along W, 2x4x4; of the batch of a file exported with a batch
    of 2: refused."""
    for end in (5, -1):
        node = ob.node("Slice", ["x", "st", "en", "ax"], ["y"], "s")
        constants = [
            ob.tensor("st", [2], [1, 1], ob.INT64),
            ob.tensor("en", [2], [end, end], ob.INT64),
            ob.tensor("ax", [2], [2, 3], ob.INT64),
        ]
        found = layers_of(tmp_path, [node], [("x", [1, 2, 6, 6])], [("y", [1, 2, 4, 4])], constants)
        assert found == [("crop", (2, 4, 4), 0)]
    constants = [
        ob.tensor("st", [2], [0, 0], ob.INT64),
        ob.tensor("en", [2], [4, 4], ob.INT64),
        ob.tensor("ax", [2], [-2, -1], ob.INT64),
    ]
    found = layers_of(tmp_path, [node], [("x", [1, 2, 6, 6])], [("y", [1, 2, 4, 4])], constants)
    assert found == [("slice", (2, 4, 6), 0), ("slice", (2, 4, 4), 0)]
    constants = [ob.tensor("st", [1], [0], ob.INT64), ob.tensor("en", [1], [1], ob.INT64)]
    node = ob.node("Slice", ["x", "st", "en"], ["y"], "s")
    message = refused(tmp_path, [node], [("x", [2, 2, 6, 6])], [("y", [1, 2, 6, 6])], constants)
    assert "Slice moves or merges the batch" in message


def test_norms_and_lrn(tmp_path: Path) -> None:
    """GroupNormalization of 1x4x3x3 in 2 groups: a scale and a bias per channel, 2 x 4 = 8 params. BatchNormalization
    with its scale and shift as initializers: 2 x 4 params, the running mean and variance 2 x 4 buffers; ONNX's
    momentum 0.9 (the old value's share) is PyTorch's 0.1. LRN of size 5: no parameters."""
    node = ob.node("GroupNormalization", ["x", "s", "b"], ["y"], "g", num_groups=2)
    weights = [ob.tensor("s", [4]), ob.tensor("b", [4])]
    shape = [1, 4, 3, 3]
    assert layers_of(tmp_path, [node], [("x", shape)], [("y", shape)], weights) == [("groupnorm", (4, 3, 3), 8)]
    node = ob.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn", momentum=0.9)
    path = tmp_path / "bn.onnx"
    weights = [ob.tensor(name, [4]) for name in "sbmv"]
    path.write_bytes(ob.model([node], [("x", shape)], [("y", shape)], weights))
    (layer,) = analyze(str(path)).layers
    assert (layer.params, layer.buffers, layer.config["momentum"], layer.config["affine"]) == (8, 8, 0.1, True)
    node = ob.node("LRN", ["x"], ["y"], "lrn", size=5)
    path.write_bytes(ob.model([node], [("x", shape)], [("y", shape)]))
    (layer,) = analyze(str(path)).layers
    assert (layer.type, layer.params, layer.config["size"]) == ("lrn", 0, 5)


def test_clip_bounds(tmp_path: Path) -> None:
    """Clip to [0, 6] (attributes, before opset 11) is relu6; to [0, none] relu; to [-1, 1] or [-1, none] no kind
    convcalc has."""
    for attributes, kind in (
        ({"min": 0.0, "max": 6.0}, "relu6"),
        ({"min": 0.0}, "relu"),
        ({"min": -1.0, "max": 1.0}, "opaque"),
        ({"min": -1.0}, "opaque"),
    ):
        node = ob.node("Clip", ["x"], ["y"], "c", **attributes)
        assert layers_of(tmp_path, [node], [("x", [1, 4])], [("y", [1, 4])], opset=6) == [(kind, (4,), 0)]


def test_a_product_by_a_weight_per_channel_is_layer_scale(tmp_path: Path) -> None:
    """x * w of 1x4x3x3 by an initializer w of 4x1x1 or 1x4x1x1 (either side; its values in the file or not): a
    scale, 4 params; by w of 4x3x3: not a scale."""
    for dims, inputs, values in (([4, 1, 1], ["x", "w"], None), ([1, 4, 1, 1], ["w", "x"], [0.5] * 4)):
        node = ob.node("Mul", inputs, ["y"], "m")
        weights = [ob.tensor("w", dims, values)]
        assert layers_of(tmp_path, [node], [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], weights) == [
            ("scale", (4, 3, 3), 4)
        ]
    node = ob.node("Mul", ["x", "w"], ["y"], "m")
    found = layers_of(tmp_path, [node], [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ob.tensor("w", [4, 3, 3])])
    assert found == [("arithmetic", (4, 3, 3), 0)]


def test_a_concat_of_shape_constants_and_one_over_another_axis(tmp_path: Path) -> None:
    """Concat of [1] and [-1] is the shape [1, -1] (a Reshape to it flattens 1x2x3 to 6); a Concat of two maps
    over axis 2 (their heights) is a concat of 3 + 3 = 6 positions."""
    nodes = [
        ob.node("Concat", ["one", "rest"], ["t"], "cat", axis=0),
        ob.node("Reshape", ["x", "t"], ["y"], "r"),
    ]
    constants = [ob.tensor("one", [1], [1], ob.INT64), ob.tensor("rest", [1], [-1], ob.INT64)]
    assert layers_of(tmp_path, nodes, [("x", [1, 2, 3])], [("y", [1, 6])], constants) == [("flatten", (6,), 0)]
    node = ob.node("Concat", ["x", "x"], ["y"], "cat", axis=2)
    assert layers_of(tmp_path, [node], [("x", [1, 2, 3])], [("y", [1, 2, 6])]) == [("concat", (2, 6), 0)]


def test_operands_in_either_order(tmp_path: Path) -> None:
    """Mul(sigmoid(a), a) is SiLU as Mul(a, sigmoid(a)) is; Add(bias, MatMul) folds the bias of 5 (as [1, 5] too)
    into the linear layer, 8 x 5 + 5 = 45 params."""
    nodes = [
        ob.node("Relu", ["x"], ["a"], "r"),
        ob.node("Sigmoid", ["a"], ["s"], "sg"),
        ob.node("Mul", ["s", "a"], ["y"], "m"),
    ]
    assert layers_of(tmp_path, nodes, [("x", [1, 4])], [("y", [1, 4])]) == [("relu", (4,), 0), ("silu", (4,), 0)]
    for dims in ([5], [1, 5]):
        nodes = [ob.node("MatMul", ["x", "w"], ["m"], "mm"), ob.node("Add", ["b", "m"], ["y"], "add")]
        weights = [ob.tensor("w", [8, 5]), ob.tensor("b", dims)]
        assert layers_of(tmp_path, nodes, [("x", [1, 8])], [("y", [1, 5])], weights) == [("linear", (5,), 45)]


def test_a_kernel_that_does_not_fit_its_input_is_opaque(tmp_path: Path) -> None:
    """A 2x2 MaxPool on a 1-D map 1x2x10, or one without a kernel on a flat 1x10 (a kernel of no axes: convcalc
    slides over 1 to 3): not counted, the shape the file states."""
    node = ob.node("MaxPool", ["x"], ["y"], "p", kernel_shape=[2, 2])
    assert layers_of(tmp_path, [node], [("x", [1, 2, 10])], [("y", [1, 2, 9])]) == [("opaque", (2, 9), 0)]
    node = ob.node("MaxPool", ["x"], ["y"], "p")
    assert layers_of(tmp_path, [node], [("x", [1, 10])], [("y", [1, 10])]) == [("opaque", (10,), 0)]


def test_what_is_not_a_linears_bias_nor_silu(tmp_path: Path) -> None:
    """A constant added to a relu's output is no linear's bias: arithmetic. x * relu(x), the relu not the last layer
    before the Mul, is a multiply; x * sigmoid(x) where the sigmoid is also read elsewhere keeps the sigmoid and
    multiplies."""
    nodes = [ob.node("Relu", ["x"], ["r"], "r"), ob.node("Add", ["r", "b"], ["y"], "add")]
    found = layers_of(tmp_path, nodes, [("x", [1, 4])], [("y", [1, 4])], [ob.tensor("b", [4])])
    assert found == [("relu", (4,), 0), ("arithmetic", (4,), 0)]
    nodes = [
        ob.node("Relu", ["x"], ["a"], "r1"),
        ob.node("Relu", ["x"], ["b"], "r2"),
        ob.node("Mul", ["x", "a"], ["m"], "m"),
        ob.node("Add", ["m", "b"], ["y"], "add"),
    ]
    found = layers_of(tmp_path, nodes, [("x", [1, 4])], [("y", [1, 4])])
    assert [kind for kind, _, _ in found] == ["relu", "relu", "multiply", "add"]
    nodes = [
        ob.node("Sigmoid", ["x"], ["s"], "s"),
        ob.node("Mul", ["x", "s"], ["m"], "m"),
        ob.node("Add", ["m", "s"], ["y"], "add"),
    ]
    found = layers_of(tmp_path, nodes, [("x", [1, 4])], [("y", [1, 4])])
    assert [kind for kind, _, _ in found] == ["sigmoid", "multiply", "add"]


def test_a_reshape_to_a_shape_the_file_does_not_give_is_opaque(tmp_path: Path) -> None:
    """A Reshape whose target is an initializer without values (its dims only): the shape the file states."""
    node = ob.node("Reshape", ["x", "t"], ["y"], "r")
    found = layers_of(tmp_path, [node], [("x", [1, 2, 3, 4])], [("y", [1, 24])], [ob.tensor("t", [2])])
    assert found == [("opaque", (24,), 0)]


def test_a_reshape_to_5_d_that_splits_no_groups(tmp_path: Path) -> None:
    """A channel shuffle starts with a Reshape of C x H x W to [1, g, C / g, H, W], g and C / g above 1; to
    [1, 1, 8, 3, 3] it splits no groups: a reshape to 1x8x3x3."""
    node = ob.node("Reshape", ["x", "t"], ["y"], "r")
    constants = [ob.tensor("t", [5], [1, 1, 8, 3, 3], ob.INT64)]
    found = layers_of(tmp_path, [node], [("x", [1, 8, 3, 3])], [("y", [1, 1, 8, 3, 3])], constants)
    assert found == [("reshape", (1, 8, 3, 3), 0)]


def test_resize_with_aligned_corners(tmp_path: Path) -> None:
    """Resize in linear mode of 1x3x4x4 to 8x8 with coordinate_transformation_mode align_corners: bilinear,
    align_corners; the default mode (half_pixel) does not align them."""
    for attributes, aligned in (({"coordinate_transformation_mode": "align_corners"}, True), ({}, False)):
        node = ob.node("Resize", ["x", "", "", "sizes"], ["y"], "r", mode="linear", **attributes)
        path = tmp_path / "resize.onnx"
        constants = [ob.tensor("sizes", [4], [1, 3, 8, 8], ob.INT64)]
        path.write_bytes(ob.model([node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 8, 8])], constants))
        (layer,) = analyze(str(path)).layers
        assert (layer.config["mode"], layer.config["align_corners"]) == ("bilinear", aligned)


def test_a_cast_of_an_activation(tmp_path: Path) -> None:
    """Cast, Squeeze, Unsqueeze and Gather are read as steps of a shape computation on constants; on the network's
    input, a Cast moves no value: the relu after it reads the input."""
    nodes = [ob.node("Cast", ["x"], ["c"], "c", to=1), ob.node("Relu", ["c"], ["y"], "r")]
    assert layers_of(tmp_path, nodes, [("x", [1, 4])], [("y", [1, 4])]) == [("relu", (4,), 0)]


def test_a_split_along_the_height_and_slices_convcalc_does_not_count(tmp_path: Path) -> None:
    """A Split along the height (axis 2) of 1x2x4x4 into one part: a slice of all of it; a Slice of a flat 1x10
    (features 2 to 5), a Slice whose starts the file does not give (an initializer of dims only): opaque, the
    shapes the file states."""
    node = ob.node("Split", ["x"], ["y"], "s", axis=2)
    assert layers_of(tmp_path, [node], [("x", [1, 2, 4, 4])], [("y", [1, 2, 4, 4])]) == [("slice", (2, 4, 4), 0)]
    node = ob.node("Slice", ["x", "st", "en", "ax"], ["y"], "s")
    constants = [
        ob.tensor("st", [1], [2], ob.INT64),
        ob.tensor("en", [1], [5], ob.INT64),
        ob.tensor("ax", [1], [1], ob.INT64),
    ]
    assert layers_of(tmp_path, [node], [("x", [1, 10])], [("y", [1, 3])], constants) == [("opaque", (3,), 0)]
    constants[0] = ob.tensor("st", [1], data_type=ob.INT64)
    found = layers_of(tmp_path, [node], [("x", [1, 10, 4])], [("y", [1, 3, 4])], constants)
    assert found == [("opaque", (3, 4), 0)]


def refused(tmp_path: Path, *args: object, **kwargs: object) -> str:
    """The one message convcalc gives for the model ob.model(*args, **kwargs)."""
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(*args, **kwargs))  # type: ignore[arg-type]
    with pytest.raises(SpecError) as error:
        analyze(str(path))
    return str(error.value)


def test_what_the_handlers_refuse(tmp_path: Path) -> None:
    """auto_pad SAME_UPPER on a pool (convcalc's pools have no 'same') and SAME_LOWER on a conv (the odd pixel before);
    ConvTranspose with output_shape or auto_pad; Gemm with transA."""
    x, y = [("x", [1, 1, 6, 6])], [("y", [1, 1, 6, 6])]
    node = ob.node("MaxPool", ["x"], ["y"], "p", kernel_shape=[3, 3], auto_pad="SAME_UPPER")
    assert "auto_pad SAME_UPPER is not supported" in refused(tmp_path, [node], x, y)
    node = ob.node("Conv", ["x", "w"], ["y"], "c", auto_pad="SAME_LOWER")
    assert "auto_pad SAME_LOWER is not supported" in refused(tmp_path, [node], x, y, [ob.tensor("w", [1, 1, 3, 3])])
    weight = [ob.tensor("w", [1, 1, 3, 3])]
    node = ob.node("ConvTranspose", ["x", "w"], ["y"], "t", output_shape=[8, 8])
    assert "output_shape is not supported" in refused(tmp_path, [node], x, y, weight)
    node = ob.node("ConvTranspose", ["x", "w"], ["y"], "t", auto_pad="SAME_UPPER")
    assert "auto_pad is not supported on ConvTranspose" in refused(tmp_path, [node], x, y, weight)
    node = ob.node("Gemm", ["x", "w"], ["y"], "fc", transA=1)
    assert "transA=1" in refused(tmp_path, [node], [("x", [1, 4])], [("y", [1, 2])], [ob.tensor("w", [4, 2])])


def test_conv_transpose_with_valid_padding(tmp_path: Path) -> None:
    """auto_pad VALID on a ConvTranspose is no padding: 3x3 at stride 1 on 4x4: 4 - 1 + 3 = 6."""
    node = ob.node("ConvTranspose", ["x", "w"], ["y"], "t", auto_pad="VALID")
    found = layers_of(tmp_path, [node], [("x", [1, 1, 4, 4])], [("y", [1, 2, 6, 6])], [ob.tensor("w", [1, 2, 3, 3])])
    assert found == [("conv_transpose", (2, 6, 6), 18)]


def test_a_batch_norm_without_learned_scale_and_shift(tmp_path: Path) -> None:
    """Scale and shift from Constant nodes (PyTorch's affine=False), not initializers: no parameters; the running
    mean and variance: 2 x 4 buffers."""
    ones = ob.tensor("", [4], [1.0] * 4)
    nodes = [
        ob.node("Constant", [], ["s"], "cs", value=ones),
        ob.node("Constant", [], ["b"], "cb", value=ones),
        ob.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn"),
    ]
    path = tmp_path / "bn.onnx"
    shape = [1, 4, 3, 3]
    path.write_bytes(ob.model(nodes, [("x", shape)], [("y", shape)], [ob.tensor("m", [4]), ob.tensor("v", [4])]))
    (layer,) = analyze(str(path)).layers
    assert (layer.params, layer.buffers, layer.config["affine"]) == (0, 8, False)


def test_products_that_are_no_layer_scale(tmp_path: Path) -> None:
    """x * 2.0 (a constant with its value) and a flat 1x4 times a weight of 4: no layer
    scale, arithmetic."""
    node = ob.node("Mul", ["x", "w"], ["y"], "m")
    found = layers_of(tmp_path, [node], [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ob.tensor("w", [], [2.0])])
    assert found == [("arithmetic", (4, 3, 3), 0)]
    found = layers_of(tmp_path, [node], [("x", [1, 4])], [("y", [1, 4])], [ob.tensor("w", [4])])
    assert found == [("arithmetic", (4,), 0)]


def test_more_means_resizes_pads_and_slices(tmp_path: Path) -> None:
    """ReduceMean over the features of a flat 1x10: a reduce, no pool. Resize in linear mode of a 3-D 1x2x4x4x4 by 2:
    trilinear, 2x8x8x8. Pad of a 1-D 1x2x5 by [0, 0, 1, 0, 0, 2]: 1 + 5 + 2 = 8; in reflect mode, or of a flat
    input (by zeros): not counted. Slice of H with step 2: 0 to 6 keeps 3; of H only, 1 to 5 of 6: a slice along that
    axis, 2x4x6; ends past the end (2^62) and starts before the start (-100) clamp: H 0 to 6, W 0 to 3: 2x6x3."""
    node = ob.node("ReduceMean", ["x"], ["y"], "m", axes=[1])
    assert layers_of(tmp_path, [node], [("x", [1, 10])], [("y", [1, 1])]) == [("reduce", (1,), 0)]
    node = ob.node("Resize", ["x", "", "scales"], ["y"], "r", mode="linear")
    path = tmp_path / "resize.onnx"
    constants = [ob.tensor("scales", [5], [1.0, 1.0, 2.0, 2.0, 2.0])]
    path.write_bytes(ob.model([node], [("x", [1, 2, 4, 4, 4])], [("y", [1, 2, 8, 8, 8])], constants))
    (layer,) = analyze(str(path)).layers
    assert (layer.output_shape, layer.config["mode"]) == ((2, 8, 8, 8), "trilinear")
    node = ob.node("Pad", ["x", "pads"], ["y"], "p")
    constants = [ob.tensor("pads", [6], [0, 0, 1, 0, 0, 2], ob.INT64)]
    assert layers_of(tmp_path, [node], [("x", [1, 2, 5])], [("y", [1, 2, 8])], constants) == [("pad", (2, 8), 0)]
    node = ob.node("Pad", ["x", "pads"], ["y"], "p", mode="reflect")
    assert layers_of(tmp_path, [node], [("x", [1, 2, 5])], [("y", [1, 2, 8])], constants) == [("opaque", (2, 8), 0)]
    node = ob.node("Pad", ["x", "pads"], ["y"], "p")
    constants = [ob.tensor("pads", [4], [0, 0, 0, 0], ob.INT64)]
    assert layers_of(tmp_path, [node], [("x", [1, 5])], [("y", [1, 5])], constants) == [("opaque", (5,), 0)]
    node = ob.node("Slice", ["x", "st", "en", "ax", "steps"], ["y"], "s")
    slicing = [
        ob.tensor("st", [1], [0], ob.INT64),
        ob.tensor("en", [1], [6], ob.INT64),
        ob.tensor("ax", [1], [2], ob.INT64),
    ]
    found = layers_of(
        tmp_path,
        [node],
        [("x", [1, 2, 6, 6])],
        [("y", [1, 2, 3, 6])],
        [*slicing, ob.tensor("steps", [1], [2], ob.INT64)],
    )
    assert found == [("slice", (2, 3, 6), 0)]
    node = ob.node("Slice", ["x", "st", "en", "ax"], ["y"], "s")
    slicing = [
        ob.tensor("st", [1], [1], ob.INT64),
        ob.tensor("en", [1], [5], ob.INT64),
        ob.tensor("ax", [1], [2], ob.INT64),
    ]
    assert layers_of(tmp_path, [node], [("x", [1, 2, 6, 6])], [("y", [1, 2, 4, 6])], slicing) == [
        ("slice", (2, 4, 6), 0)
    ]
    slicing = [
        ob.tensor("st", [2], [-100, 0], ob.INT64),
        ob.tensor("en", [2], [2**62, 3], ob.INT64),
        ob.tensor("ax", [2], [2, 3], ob.INT64),
    ]
    assert layers_of(tmp_path, [node], [("x", [1, 2, 6, 6])], [("y", [1, 2, 6, 3])], slicing) == [
        ("slice", (2, 6, 3), 0)
    ]


def test_split_sizes_by_a_negative_axis_and_more_sizes_than_outputs(tmp_path: Path) -> None:
    """Split of 1x6x2x2 at axis -3 (the channels of a 4-D tensor) by sizes [2, 2, 2] into two outputs: the first two
    parts, 2 channels each."""
    node = ob.node("Split", ["x", "sizes"], ["a", "b"], "s", axis=-3)
    constants = [ob.tensor("sizes", [3], [2, 2, 2], ob.INT64)]
    found = layers_of(tmp_path, [node], [("x", [1, 6, 2, 2])], [("a", [1, 2, 2, 2]), ("b", [1, 2, 2, 2])], constants)
    assert found == [("slice", (2, 2, 2), 0), ("slice", (2, 2, 2), 0)]


def test_a_norm_times_a_weight_not_followed_by_a_bias_is_layer_scale(tmp_path: Path) -> None:
    """InstanceNormalization of 1x4x3x3 with constant scale and shift (no parameters of its own), times a weight of
    4x1x1, then a relu (no Add of a bias): not the norm's affine parameters but a layer scale of 4."""
    ones = ob.tensor("", [4], [1.0] * 4)
    nodes = [
        ob.node("Constant", [], ["s"], "cs", value=ones),
        ob.node("Constant", [], ["b"], "cb", value=ones),
        ob.node("InstanceNormalization", ["x", "s", "b"], ["n"], "in"),
        ob.node("Mul", ["n", "w"], ["m"], "mul"),
        ob.node("Relu", ["m"], ["y"], "r"),
    ]
    shape = [1, 4, 3, 3]
    found = layers_of(tmp_path, nodes, [("x", shape)], [("y", shape)], [ob.tensor("w", [4, 1, 1])])
    assert found == [("groupnorm", (4, 3, 3), 0), ("scale", (4, 3, 3), 4), ("relu", (4, 3, 3), 0)]


def test_instance_norms_that_are_no_torchscript_group_norm(tmp_path: Path) -> None:
    """InstanceNormalization after a relu (no Reshape to groups before it): a groupnorm of one channel a group, 4
    groups on 1x4x3x3. Then times a weight of 4x1x1 plus a relu of the input (an activation, not a bias): the
    product is a layer scale of 4 and the sum an add."""
    ones = ob.tensor("", [4], [1.0] * 4)
    nodes = [
        ob.node("Constant", [], ["s"], "cs", value=ones),
        ob.node("Constant", [], ["b"], "cb", value=ones),
        ob.node("Relu", ["x"], ["r0"], "r0"),
        ob.node("InstanceNormalization", ["r0", "s", "b"], ["n"], "in"),
        ob.node("Mul", ["n", "w"], ["m"], "mul"),
        ob.node("Relu", ["x"], ["r"], "r"),
        ob.node("Add", ["m", "r"], ["y"], "add"),
    ]
    shape = [1, 4, 3, 3]
    path = tmp_path / "norm.onnx"
    path.write_bytes(ob.model(nodes, [("x", shape)], [("y", shape)], [ob.tensor("w", [4, 1, 1])]))
    layers = analyze(str(path)).layers
    assert [(layer.type, layer.params) for layer in layers] == [
        ("relu", 0),
        ("groupnorm", 0),
        ("scale", 4),
        ("relu", 0),
        ("add", 0),
    ]
    assert layers[1].config["groups"] == 4


def test_a_norms_bias_followed_through_four_ops(tmp_path: Path) -> None:
    """InstanceNormalization of 1x4x3x3 with constant scale and shift, times a weight of 4x1x1, plus a bias of 4
    reached through four ops (an Unsqueeze to 4x1x1 and three Identities), either operand of the Add: the norm's
    affine parameters, one groupnorm of 2 x 4 = 8 params."""
    ones = ob.tensor("", [4], [1.0] * 4)
    for added in (["m", "b4"], ["b4", "m"]):
        nodes = [
            ob.node("Constant", [], ["s"], "cs", value=ones),
            ob.node("Constant", [], ["b"], "cb", value=ones),
            ob.node("InstanceNormalization", ["x", "s", "b"], ["n"], "in"),
            ob.node("Mul", ["n", "w"], ["m"], "mul"),
            ob.node("Unsqueeze", ["bias", "axes"], ["b1"], "u"),
            ob.node("Identity", ["b1"], ["b2"], "i1"),
            ob.node("Identity", ["b2"], ["b3"], "i2"),
            ob.node("Identity", ["b3"], ["b4"], "i3"),
            ob.node("Add", added, ["y"], "add"),
        ]
        weights = [ob.tensor("w", [4, 1, 1]), ob.tensor("bias", [4]), ob.tensor("axes", [2], [1, 2], ob.INT64)]
        shape = [1, 4, 3, 3]
        found = layers_of(tmp_path, nodes, [("x", shape)], [("y", shape)], weights)
        assert found == [("groupnorm", (4, 3, 3), 8)], added
    nodes[2] = ob.node("InstanceNormalization", ["r", "s", "b"], ["n"], "in")  # after a relu: the norm is not first
    found = layers_of(tmp_path, [ob.node("Relu", ["x"], ["r"], "r"), *nodes], [("x", shape)], [("y", shape)], weights)
    assert found == [("relu", (4, 3, 3), 0), ("groupnorm", (4, 3, 3), 8)]


def test_a_learned_tensor_added_is_a_position_embedding(tmp_path: Path) -> None:
    """x + pe, pe an initializer of the input's shape 1x4x3x3: a position embedding of 4 x 3 x 3 = 36 params; the
    same tensor from a Constant node (no parameter): arithmetic, no parameters."""
    node = ob.node("Add", ["x", "pe"], ["y"], "add")
    shape = [1, 4, 3, 3]
    found = layers_of(tmp_path, [node], [("x", shape)], [("y", shape)], [ob.tensor("pe", shape)])
    assert found == [("position_embedding", (4, 3, 3), 36)]
    nodes = [ob.node("Constant", [], ["pe"], "c", value=ob.tensor("", shape, [0.5] * 36)), node]
    assert layers_of(tmp_path, nodes, [("x", shape)], [("y", shape)]) == [("arithmetic", (4, 3, 3), 0)]


def test_a_learned_tensor_added_in_a_file_of_a_batch_of_two(tmp_path: Path) -> None:
    """x 2x4x3x3 + pe 1x4x3x3 (an initializer of one sample's shape, broadcast over the batch): a position embedding
    of 4 x 3 x 3 = 36 params; the same pe first expanded to the batch, Expand(pe, [2, 4, 3, 3]) as ViT's
    ``pos_embed.expand(B, -1, -1)``: the same 36; an initializer of 2x4x3x3, a value per sample, is not one sample's
    embedding: arithmetic."""
    shape = [2, 4, 3, 3]
    added = ob.node("Add", ["x", "pe"], ["y"], "add")
    found = layers_of(tmp_path, [added], [("x", shape)], [("y", shape)], [ob.tensor("pe", [1, 4, 3, 3])])
    assert found == [("position_embedding", (4, 3, 3), 36)]
    nodes = [ob.node("Expand", ["pe", "to"], ["e"], "expand"), ob.node("Add", ["x", "e"], ["y"], "add")]
    weights = [ob.tensor("pe", [1, 4, 3, 3]), ob.tensor("to", [4], shape, ob.INT64)]
    assert layers_of(tmp_path, nodes, [("x", shape)], [("y", shape)], weights) == [
        ("position_embedding", (4, 3, 3), 36)
    ]
    found = layers_of(tmp_path, [added], [("x", shape)], [("y", shape)], [ob.tensor("pe", shape)])
    assert [(kind, params) for kind, _, params in found] == [("arithmetic", 0)]


def test_a_one_channel_norm_plus_a_product_with_an_activation(tmp_path: Path) -> None:
    """InstanceNormalization of 1x1x3x3 times a weight of 1x1x1, plus bias x relu(x) (a parameter times an
    activation, no parameter of the norm's) or plus relu(x): a layer scale of 1, then the sum of two activations."""
    one = ob.tensor("", [1], [1.0])
    nodes = [
        ob.node("Constant", [], ["s"], "cs", value=one),
        ob.node("Constant", [], ["b"], "cb", value=one),
        ob.node("Relu", ["x"], ["r"], "r"),
        ob.node("InstanceNormalization", ["x", "s", "b"], ["n"], "in"),
        ob.node("Mul", ["n", "w"], ["m"], "mul"),
        ob.node("Mul", ["bias", "r"], ["q"], "q"),
        ob.node("Add", ["m", "q"], ["y"], "add"),
    ]
    shape = [1, 1, 3, 3]
    weights = [ob.tensor("w", [1, 1, 1]), ob.tensor("bias", [1, 1, 1])]
    path = tmp_path / "one.onnx"
    path.write_bytes(ob.model(nodes, [("x", shape)], [("y", shape)], weights))
    assert [(layer.type, layer.params) for layer in analyze(str(path)).layers] == [
        ("relu", 0),
        ("groupnorm", 0),
        ("scale", 1),
        ("scale", 1),
        ("add", 0),
    ]
    nodes = [*nodes[:5], ob.node("Add", ["m", "r"], ["y"], "add")]  # plus relu(x) itself
    path.write_bytes(ob.model(nodes, [("x", shape)], [("y", shape)], weights[:1]))
    assert [(layer.type, layer.params) for layer in analyze(str(path)).layers] == [
        ("relu", 0),
        ("groupnorm", 0),
        ("scale", 1),
        ("add", 0),
    ]


def test_layer_normalization_without_a_bias_and_with_a_wrong_one(tmp_path: Path) -> None:
    """LayerNormalization of 1x10 with a scale and no bias still has its learned scale (affine): 10 parameters, the
    scale's 10 values (20 with a bias of 10); a bias of 9 values for 10 features is an error."""
    node = ob.node("LayerNormalization", ["x", "s"], ["y"], "ln")
    path = tmp_path / "ln.onnx"
    path.write_bytes(ob.model([node], [("x", [1, 10])], [("y", [1, 10])], [ob.tensor("s", [10])]))
    (layer,) = analyze(str(path)).layers
    assert (layer.type, layer.config["affine"], layer.config["bias"], layer.params) == ("layernorm", True, False, 10)
    node = ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln")
    weights = [ob.tensor("s", [10]), ob.tensor("b", [10])]
    path.write_bytes(ob.model([node], [("x", [1, 10])], [("y", [1, 10])], weights))
    assert analyze(str(path)).layers[0].params == 10 + 10
    node = ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln")
    weights = [ob.tensor("s", [10]), ob.tensor("b", [9])]
    message = refused(tmp_path, [node], [("x", [1, 10])], [("y", [1, 10])], weights)
    assert "its bias 'b' has dims [9]: 9 values for 10 values normalised" in message


def test_a_mean_over_the_length_of_a_1_d_map(tmp_path: Path) -> None:
    """ReduceMean over axis 2 of a 1-D map 1x3x5: a global average pool, 3x1."""
    node = ob.node("ReduceMean", ["x"], ["y"], "m", axes=[2])
    assert layers_of(tmp_path, [node], [("x", [1, 3, 5])], [("y", [1, 3, 1])]) == [("global_avgpool", (3, 1), 0)]


def test_an_instance_norm_of_its_input_alone(tmp_path: Path) -> None:
    """InstanceNormalization given its input only (no scale, no shift): a groupnorm of 4 groups without parameters."""
    node = ob.node("InstanceNormalization", ["x"], ["y"], "in")
    path = tmp_path / "in.onnx"
    shape = [1, 4, 3, 3]
    path.write_bytes(ob.model([node], [("x", shape)], [("y", shape)]))
    (layer,) = analyze(str(path)).layers
    assert (layer.type, layer.params, layer.config["groups"], layer.config["affine"]) == ("groupnorm", 0, 4, False)


def test_a_pool_over_four_axes_is_opaque(tmp_path: Path) -> None:
    """A 1x2x3x3x3 map reshaped to 1x1x2x3x3x3, then a 1x1x1x1 MaxPool over its four axes after the channels:
    convcalc slides over 1 to 3 axes, so the pool is not counted (the shape the file states)."""
    nodes = [ob.node("Reshape", ["x", "t"], ["r"], "r"), ob.node("MaxPool", ["r"], ["y"], "p", kernel_shape=[1] * 4)]
    constants = [ob.tensor("t", [6], [1, 1, 2, 3, 3, 3], ob.INT64)]
    found = layers_of(tmp_path, nodes, [("x", [1, 2, 3, 3, 3])], [("y", [1, 1, 2, 3, 3, 3])], constants)
    assert found == [("reshape", (1, 2, 3, 3, 3), 0), ("opaque", (1, 2, 3, 3, 3), 0)]


def test_a_batch_norm_scale_of_the_wrong_size(tmp_path: Path) -> None:
    """BatchNormalization of 1x4x3x3 whose scale holds 3 values: an error naming it."""
    node = ob.node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn")
    weights = [ob.tensor("s", [3]), *(ob.tensor(name, [4]) for name in "bmv")]
    message = refused(tmp_path, [node], [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], weights)
    assert "its scale 's' has dims [3]: 3 values for 4 channels" in message


def test_attribute_defaults(tmp_path: Path) -> None:
    """Without their attributes: an AveragePool leaves the padding out of its average (count_include_pad 0); a
    Flatten is at axis 1 (1x2x3 to 6); a LayerNormalization of tokens 1x5x8 is over the last axis, the 8 features
    (2 x 8 params); an InstanceNormalization of 1x4x3x3 given a scale of 4 (no shift) has it as parameters; a layer
    scale of a 1-D map 1x4x5 by 4x1 has 4."""
    node = ob.node("AveragePool", ["x"], ["y"], "p", kernel_shape=[2, 2], pads=[1, 1, 1, 1])
    path = tmp_path / "defaults.onnx"
    path.write_bytes(ob.model([node], [("x", [1, 1, 4, 4])], [("y", [1, 1, 5, 5])]))
    (layer,) = analyze(str(path)).layers
    assert (layer.output_shape, layer.config["count_include_pad"]) == ((1, 5, 5), False)
    node = ob.node("Flatten", ["x"], ["y"], "f")
    assert layers_of(tmp_path, [node], [("x", [1, 2, 3])], [("y", [1, 6])]) == [("flatten", (6,), 0)]
    node = ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln")
    weights = [ob.tensor("s", [8]), ob.tensor("b", [8])]
    path.write_bytes(ob.model([node], [("x", [1, 5, 8])], [("y", [1, 5, 8])], weights))
    layers = analyze(str(path)).layers  # read channels first, 8x5, between two permutes
    assert [(la.type, la.params, la.config.get("over")) for la in layers] == [
        ("permute", 0, None),
        ("layernorm", 16, "channels"),
        ("permute", 0, None),
    ]
    node = ob.node("InstanceNormalization", ["x", "s"], ["y"], "in")
    path.write_bytes(ob.model([node], [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ob.tensor("s", [4])]))
    (layer,) = analyze(str(path)).layers
    assert (layer.type, layer.config["affine"]) == ("groupnorm", True)
    node = ob.node("Mul", ["x", "w"], ["y"], "m")
    assert layers_of(tmp_path, [node], [("x", [1, 4, 5])], [("y", [1, 4, 5])], [ob.tensor("w", [4, 1])]) == [
        ("scale", (4, 5), 4)
    ]


def test_a_linear_weight_that_does_not_fit(tmp_path: Path) -> None:
    """Gemm of 1x16 by B (8, 10): 8 rows for 16 features, refused with both of the weight's dims."""
    node = ob.node("Gemm", ["x", "w"], ["y"], "fc")
    message = refused(tmp_path, [node], [("x", [1, 16])], [("y", [1, 10])], [ob.tensor("w", [8, 10])])
    assert "a weight of 8 x 10 does not fit 16 input features" in message


def test_layer_scale_by_a_weight_whose_values_the_file_leaves_out(tmp_path: Path) -> None:
    """x * w of 1x4x3x3, w a Constant of 4x1x1 with no values in the file (a file without its weights): a scale of
    4 params, as by an initializer."""
    nodes = [
        ob.node("Constant", [], ["w"], "c", value=ob.tensor("", [4, 1, 1])),
        ob.node("Mul", ["x", "w"], ["y"], "m"),
    ]
    found = layers_of(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])])
    assert found == [("scale", (4, 3, 3), 4)]


def test_what_layer_normalization_normalises_over(tmp_path: Path) -> None:
    """axis 1 of a flat 1x10: its channels (the features); of a 1-D map 1x4x5 or a 1x4x3x3 map: all the values of
    each sample (C x L = 20, C x H x W = 36: twice that many parameters)."""
    for shape, over, params in (([1, 10], "channels", 20), ([1, 4, 5], "all", 40), ([1, 4, 3, 3], "all", 72)):
        node = ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln", axis=1)
        weights = [ob.tensor("s", shape[1:]), ob.tensor("b", shape[1:])]
        path = tmp_path / "ln.onnx"
        path.write_bytes(ob.model([node], [("x", shape)], [("y", shape)], weights))
        (layer,) = analyze(str(path)).layers
        assert (layer.config["over"], layer.params) == (over, params), shape


def test_a_resize_by_a_scale_that_is_not_whole_on_one_axis(tmp_path: Path) -> None:
    """Resize of 1x3x4x4 by [1, 1, 1.5, 2]: the height's 1.5 is no whole scale: not counted."""
    node = ob.node("Resize", ["x", "", "scales"], ["y"], "r", mode="nearest")
    constants = [ob.tensor("scales", [4], [1.0, 1.0, 1.5, 2.0])]
    assert layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 6, 8])], constants) == [
        ("opaque", (3, 6, 8), 0)
    ]


def test_a_bias_gathered_from_a_learned_table_counts_the_table(tmp_path: Path) -> None:
    """Swin's relative position bias: a table of 9 positions x 2 heads (a parameter, named by its module path),
    gathered by a 4 x 4 index (int64: no parameter) into 4 x 4 x 2, transposed to 2 x 4 x 4 and added to the
    attention logits [1, 2, 4, 4]: one arithmetic layer of 2 x 4 x 4 = 32 FLOPs whose parameters are the table's
    9 x 2 = 18 values; a constant the exporter folded (``val_7``) is no parameter."""
    nodes = [
        ob.node("Gather", ["attn.bias_table", "attn.index"], ["gathered"], "gather"),
        ob.node("Transpose", ["gathered"], ["bias"], "heads_first", perm=[2, 0, 1]),
        ob.node("Add", ["x", "bias"], ["biased"], "attn.add"),
        ob.node("Mul", ["biased", "val_7"], ["y"], "attn.scaled"),
    ]
    constants = [
        ob.tensor("attn.bias_table", [9, 2]),
        ob.tensor("attn.index", [4, 4], [i % 9 for i in range(16)], ob.INT64),
        ob.tensor("val_7", [1], [0.5]),
    ]
    layers = layers_of(tmp_path, nodes, [("x", [1, 2, 4, 4])], [("y", [1, 2, 4, 4])], constants)
    assert layers == [("arithmetic", (2, 4, 4), 9 * 2), ("arithmetic", (2, 4, 4), 0)]


def test_a_conv_weight_scaled_by_a_learned_gain_counts_the_gain(tmp_path: Path) -> None:
    """NFNet's ScaledStdConv2d: the conv's weight is computed in the graph from its parameter (4 x 2 x 3 x 3 = 72)
    and a gain per filter (4 x 1 x 1 x 1): ``gain: true``, params 72 + 4 + a bias of 4 = 80 (timm's
    ScaledStdConv2d(2, 4, 3): weight, bias and gain); a gain copied by Identity (torch writes an equal parameter so)
    is a parameter of its own."""
    nodes = [
        ob.node("Identity", ["conv.gain"], ["conv2.gain"], "copy"),
        ob.node("Mul", ["conv.weight", "conv.gain"], ["w1"], "scaled"),
        ob.node("Conv", ["x", "w1", "conv.bias"], ["y1"], "conv", pads=[1, 1, 1, 1]),
        ob.node("Mul", ["conv2.weight", "conv2.gain"], ["w2"], "scaled2"),
        ob.node("Conv", ["y1", "w2"], ["y"], "conv2", pads=[1, 1, 1, 1]),
    ]
    weights = [
        ob.tensor("conv.weight", [4, 2, 3, 3]),
        ob.tensor("conv.gain", [4, 1, 1, 1]),
        ob.tensor("conv.bias", [4]),
        ob.tensor("conv2.weight", [4, 4, 3, 3]),
    ]
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(nodes, [("x", [1, 2, 5, 5])], [("y", [1, 4, 5, 5])], weights))
    layers = analyze(str(path)).layers
    assert [(layer.config["gain"], layer.params) for layer in layers] == [(True, 72 + 4 + 4), (True, 144 + 4)]


def test_an_identity_of_a_gathered_bias_counts_the_table(tmp_path: Path) -> None:
    """As tests/test_onnx_ops.py's Swin bias (a 9 x 2 table gathered into 4 x 4 x 2, transposed), with an Identity
    after the transpose: the table's 18 values, not the copy's 2 x 4 x 4 = 32."""
    nodes = [
        ob.node("Gather", ["attn.bias_table", "attn.index"], ["gathered"], "gather"),
        ob.node("Transpose", ["gathered"], ["moved"], "heads_first", perm=[2, 0, 1]),
        ob.node("Identity", ["moved"], ["bias"], "copy"),
        ob.node("Add", ["x", "bias"], ["y"], "attn.add"),
    ]
    constants = [
        ob.tensor("attn.bias_table", [9, 2]),
        ob.tensor("attn.index", [4, 4], [i % 9 for i in range(16)], ob.INT64),
    ]
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(nodes, [("x", [1, 2, 4, 4])], [("y", [1, 2, 4, 4])], constants))
    assert [layer.params for layer in analyze(str(path)).layers] == [9 * 2]  # not the copy's 32


def test_a_float_buffer_added_to_a_map_is_no_parameter(tmp_path: Path) -> None:
    """torch: a module whose forward is conv(x) + self.offset, offset a registered float buffer of 4 x 8 x 8 (timm's
    Swin adds its shifted-window attn_mask so): sum(p.numel()) is the conv's 4 x 3 x 3 x 3 + 4 = 112; the exporters
    name the buffer by its module path as they name parameters. The file cannot tell it from a learned
    offset: only a constant gathered from a table counts as learned."""
    nodes = [
        ob.node("Conv", ["x", "inner.conv.weight", "inner.conv.bias"], ["c"], "conv", pads=[1, 1, 1, 1]),
        ob.node("Add", ["c", "inner.offset"], ["y"], "add"),
    ]
    weights = [ob.tensor("inner.conv.weight", [4, 3, 3, 3]), ob.tensor("inner.conv.bias", [4])]
    weights.append(ob.tensor("inner.offset", [4, 8, 8]))
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(nodes, [("x", [1, 3, 8, 8])], [("y", [1, 4, 8, 8])], weights))
    assert analyze(str(path)).total.params == 4 * 3 * 3 * 3 + 4  # not 112 + 256


def analysed(tmp_path: Path, *args: object, **kwargs: object) -> Analysis:
    """The analysis of the model ob.model(*args, **kwargs) builds."""
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(*args, **kwargs))  # type: ignore[arg-type]
    return analyze(str(path))


def test_a_weight_times_an_activation_is_refused_naming_the_operand(tmp_path: Path) -> None:
    """MatMul(w, x), the weight first (w 5x8 times x 1x8x4 is 1x5x4 by ONNX's broadcasting): convcalc reads a linear
    layer's weight as the second operand only, so the activation there is refused, named."""
    node = ob.node("MatMul", ["w", "x"], ["y"], "mm")
    message = refused(tmp_path, [node], [("x", [1, 8, 4])], [("y", [1, 5, 4])], [ob.tensor("w", [5, 8])])
    assert "node 0 'mm' (MatMul): error: its second operand is not a constant of the file" in message


def test_a_sum_of_two_activations_of_different_shapes_broadcasts(tmp_path: Path) -> None:
    """x + mean(x) over H and W (keepdims): 1x4x3x3 + 1x4x1x1 is 1x4x3x3 (the 1s broadcast): not a residual's sum
    of one shape but an arithmetic add, one FLOP per output element, 4 x 3 x 3 = 36; the mean is a global average
    pool, 4x1x1."""
    nodes = [ob.node("ReduceMean", ["x"], ["m"], "mean", axes=[2, 3]), ob.node("Add", ["x", "m"], ["y"], "add")]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])])
    assert [(la.type, la.output_shape) for la in analysis.layers] == [
        ("global_avgpool", (4, 1, 1)),
        ("arithmetic", (4, 3, 3)),
    ]
    assert analysis.layers[1].flops == 4 * 3 * 3


def test_an_activation_and_a_sum_of_tensors_held_with_every_axis(tmp_path: Path) -> None:
    """Transpose [1, 0, 2] of tokens 1x4x6 moves the batch: t is 4x1x6, held with every axis (a reshape of no cost
    lifts x to 1x4x6 first). relu(t) is 4x1x6 too (24 FLOPs), and t + relu(t) of one shape 4x1x6 (24 FLOPs); the
    Transpose back gives 1x4x6, the batch first again: a permute, then held as 4x6 (a reshape of no cost). Nothing
    uncounted."""
    nodes = [
        ob.node("Transpose", ["x"], ["t"], "t", perm=[1, 0, 2]),
        ob.node("Relu", ["t"], ["r"], "relu"),
        ob.node("Add", ["t", "r"], ["a"], "add"),
        ob.node("Transpose", ["a"], ["y"], "back", perm=[1, 0, 2]),
    ]
    analysis = analysed(tmp_path, nodes, [("x", [1, 4, 6])], [("y", [1, 4, 6])])
    assert [(la.type, la.output_shape, la.flops) for la in analysis.layers] == [
        ("reshape", (1, 4, 6), 0),
        ("permute", (4, 1, 6), 0),
        ("relu", (4, 1, 6), 4 * 6),
        ("arithmetic", (4, 1, 6), 4 * 6),
        ("permute", (1, 4, 6), 0),
        ("reshape", (4, 6), 0),
    ]
    assert analysis.output_shape == (4, 6)
    assert not [w for w in analysis.warnings if w.code == "uncounted"]


def test_an_operation_of_an_activation_held_with_every_axis_and_one_held_without_the_batch(tmp_path: Path) -> None:
    """t = Transpose [1, 0, 2] of x 1x4x6 is 4x1x6; t + x, t - x and x - t broadcast to 4x4x6 (the 1s meet 4 and
    4): 96 FLOPs each, whichever operand is first."""
    for operands, op in ((["t", "x"], "Add"), (["t", "x"], "Sub"), (["x", "t"], "Sub")):
        nodes = [ob.node("Transpose", ["x"], ["t"], "t", perm=[1, 0, 2]), ob.node(op, operands, ["y"], "op")]
        analysis = analysed(tmp_path, nodes, [("x", [1, 4, 6])], [("y", [4, 4, 6])])
        counted = [(la.type, la.output_shape, la.flops) for la in analysis.layers if la.flops]
        assert counted == [("arithmetic", (4, 4, 6), 4 * 4 * 6)], operands
        assert analysis.output_shape == (4, 4, 6)


def test_a_constant_added_after_a_linear_is_its_bias_only_with_one_value_per_unit(tmp_path: Path) -> None:
    """x 1x8 times w 8x5, plus 0.5 (a scalar, one value for all 5 units): not the linear's bias (8 x 5 = 40
    params) but an arithmetic add, 5 FLOPs, no parameters; a Gemm with its bias (8 x 5 + 5 = 45) plus another
    bias of 5: an arithmetic add too, the Gemm keeps its 45."""
    nodes = [ob.node("MatMul", ["x", "w"], ["m"], "mm"), ob.node("Add", ["m", "c"], ["y"], "add")]
    constants = [ob.tensor("w", [8, 5]), ob.tensor("c", [], [0.5])]
    found = layers_of(tmp_path, nodes, [("x", [1, 8])], [("y", [1, 5])], constants)
    assert found == [("linear", (5,), 40), ("arithmetic", (5,), 0)]
    nodes = [ob.node("Gemm", ["x", "w", "b"], ["m"], "fc"), ob.node("Add", ["m", "b2"], ["y"], "add")]
    constants = [ob.tensor("w", [8, 5]), ob.tensor("b", [5]), ob.tensor("b2", [5])]
    found = layers_of(tmp_path, nodes, [("x", [1, 8])], [("y", [1, 5])], constants)
    assert found == [("linear", (5,), 45), ("arithmetic", (5,), 0)]


def test_constants_on_a_channels_last_map(tmp_path: Path) -> None:
    """x 1x2x3x4 transposed to channels-last 1x3x4x2 (ConvNeXt's block), then back [0, 3, 1, 2]. Plus a scalar:
    no axis read, the map stays channels-last (held as 2x3x4) and the Transpose back moves nothing: one arithmetic
    layer, 24 FLOPs. Plus a constant of 2 values (or 1x1x1x2): aligned from the last axis, the channels; the map is
    read in the file's layout, a permute to 3x4x2, the add 3x4x2 and the Transpose back a permute to 2x3x4, the
    network's output (the file's 1x2x3x4 without the batch)."""
    for dims in ([], [1]):
        nodes = [
            ob.node("Transpose", ["x"], ["t"], "last", perm=[0, 2, 3, 1]),
            ob.node("Add", ["t", "c"], ["a"], "add"),
            ob.node("Transpose", ["a"], ["y"], "back", perm=[0, 3, 1, 2]),
        ]
        constants = [ob.tensor("c", dims, [0.5])]
        analysis = analysed(tmp_path, nodes, [("x", [1, 2, 3, 4])], [("y", [1, 2, 3, 4])], constants)
        assert [(la.type, la.output_shape, la.flops) for la in analysis.layers] == [("arithmetic", (2, 3, 4), 24)]
    for dims in ([2], [1, 1, 1, 2]):
        constants = [ob.tensor("c", dims, [0.5, 2.0])]
        analysis = analysed(tmp_path, nodes, [("x", [1, 2, 3, 4])], [("y", [1, 2, 3, 4])], constants)
        assert [(la.type, la.output_shape, la.flops) for la in analysis.layers] == [
            ("permute", (3, 4, 2), 0),
            ("arithmetic", (3, 4, 2), 24),
            ("permute", (2, 3, 4), 0),
        ], dims
        assert analysis.output_shape == (2, 3, 4)


def test_a_layer_scale_on_a_channels_last_map(tmp_path: Path) -> None:
    """ConvNeXt's gamma on a channels-last map (1x2x3x4 transposed to 1x3x4x2): a weight of 2 or 1x1x1x2, one value
    per channel (the last axis): a layer scale of 2 parameters, 24 FLOPs; the Transpose back moves nothing."""
    for dims in ([2], [1, 1, 1, 2]):
        nodes = [
            ob.node("Transpose", ["x"], ["t"], "last", perm=[0, 2, 3, 1]),
            ob.node("Mul", ["t", "gamma"], ["a"], "scale"),
            ob.node("Transpose", ["a"], ["y"], "back", perm=[0, 3, 1, 2]),
        ]
        found = layers_of(tmp_path, nodes, [("x", [1, 2, 3, 4])], [("y", [1, 2, 3, 4])], [ob.tensor("gamma", dims)])
        assert found == [("scale", (2, 3, 4), 2)], dims


def test_constants_of_the_inputs_rank(tmp_path: Path) -> None:
    """A constant of as many axes as the input, its batch's included (ONNX aligns them from the last): x 1x5 + c
    2x5 is 2x5 (the batch's 1 meets 2: held with every axis), 10 FLOPs; x 1x1x3 + c 1x4x3 is 1x4x3, the constant 4x3
    beside the batch, 12 FLOPs; in a file of a batch of 2, x 2x4 + c 1x4 (c from a Constant node, no parameter: one
    would be a position embedding): the constant 4 per sample, x's 4 values each."""
    node = ob.node("Add", ["x", "c"], ["y"], "add")
    analysis = analysed(tmp_path, [node], [("x", [1, 5])], [("y", [2, 5])], [ob.tensor("c", [2, 5])])
    assert [(la.output_shape, la.flops) for la in analysis.layers if la.type == "arithmetic"] == [((2, 5), 10)]
    assert analysis.output_shape == (2, 5)
    analysis = analysed(tmp_path, [node], [("x", [1, 1, 3])], [("y", [1, 4, 3])], [ob.tensor("c", [1, 4, 3])])
    assert [(la.type, la.output_shape, la.flops, la.config["constant"]) for la in analysis.layers] == [
        ("arithmetic", (4, 3), 12, (4, 3))
    ]
    made = ob.node("Constant", [], ["c"], "made", value=ob.tensor("", [1, 4], [0.5] * 4))
    analysis = analysed(tmp_path, [made, node], [("x", [2, 4])], [("y", [2, 4])])
    assert [(la.type, la.output_shape, la.config["constant"]) for la in analysis.layers] == [("arithmetic", (4,), (4,))]


def test_resizes_convcalc_does_not_count(tmp_path: Path) -> None:
    """ONNX's Resize scales every axis: by [1, 2, 2, 2] (or to sizes [1, 6, 8, 8]) a 1x3x4x4 map becomes 1x6x8x8,
    its channels doubled, which no upsample does (it keeps the channels): opaque, the file's 6x8x8. A flat 1x4 by
    [1, 1] has no spatial axis, and a 1x2x2x2x2 map reshaped to 1x1x2x2x2x2, by [1, 1, 2, 2, 2, 2], four (convcalc's
    upsample: 1 to 3): opaque, the shapes the file states."""
    for position, constant in (
        (2, ob.tensor("s", [4], [1.0, 2.0, 2.0, 2.0])),
        (3, ob.tensor("s", [4], [1, 6, 8, 8], ob.INT64)),
    ):
        inputs = [*["x", "", "", ""][:position], "s"]
        node = ob.node("Resize", inputs, ["y"], "r", mode="nearest")
        found = layers_of(tmp_path, [node], [("x", [1, 3, 4, 4])], [("y", [1, 6, 8, 8])], [constant])
        assert found == [("opaque", (6, 8, 8), 0)]
    node = ob.node("Resize", ["x", "", "s"], ["y"], "r", mode="nearest")
    found = layers_of(tmp_path, [node], [("x", [1, 4])], [("y", [1, 4])], [ob.tensor("s", [2], [1.0, 1.0])])
    assert found == [("opaque", (4,), 0)]
    nodes = [ob.node("Reshape", ["x", "t"], ["r"], "r"), ob.node("Resize", ["r", "", "s"], ["y"], "up", mode="nearest")]
    constants = [ob.tensor("t", [6], [1, 1, 2, 2, 2, 2], ob.INT64), ob.tensor("s", [6], [1.0, 1.0] + [2.0] * 4)]
    found = layers_of(tmp_path, nodes, [("x", [1, 2, 2, 2, 2])], [("y", [1, 1, 4, 4, 4, 4])], constants)
    assert found == [("reshape", (1, 2, 2, 2, 2), 0), ("opaque", (1, 4, 4, 4, 4), 0)]


def test_norms_without_affine_parameters_as_torch_export_writes_them(tmp_path: Path) -> None:
    """torch.onnx.export(dynamo=True) of norms built with affine=False (no weight, no bias: sum(p.numel()) is 0)
    writes their scale and shift as constants it computed, named val_<n>, or, untrained (ones and zeros), as the
    running statistics of equal values: BatchNorm2d(4, affine=False) is BatchNormalization(x, bn.running_var,
    bn.running_mean, bn.running_mean, bn.running_var) untrained, (x, val_3, val_7, ...) trained: 0 params, the
    running mean and variance 2 x 4 buffers. An untrained BatchNorm2d(4) (affine) reads its weight and bias as the
    running statistics instead: 2 x 4 params. InstanceNorm2d(4) (x, val_3, val_7) and LayerNorm(8,
    elementwise_affine=False) (x, val_2), or as the TorchScript exporter writes it (Constant nodes): 0 params."""
    shape = [1, 4, 3, 3]
    stats = [ob.tensor("bn.running_mean", [4], [0.0] * 4), ob.tensor("bn.running_var", [4], [1.0] * 4)]
    folded = [ob.tensor("val_3", [4], [1.0] * 4), ob.tensor("val_7", [4], [0.0] * 4)]
    for inputs, weights, params in (
        (["bn.running_var", "bn.running_mean", "bn.running_mean", "bn.running_var"], stats, 0),
        (["val_3", "val_7", "bn.running_mean", "bn.running_var"], stats + folded, 0),
        (["bn.weight", "bn.bias", "bn.bias", "bn.weight"], [ob.tensor("bn.weight", [4]), ob.tensor("bn.bias", [4])], 8),
    ):
        node = ob.node("BatchNormalization", ["x", *inputs], ["y"], "bn")
        (layer,) = analysed(tmp_path, [node], [("x", shape)], [("y", shape)], weights).layers
        assert (layer.params, layer.buffers, layer.config["affine"]) == (params, 2 * 4, params > 0), inputs
    node = ob.node("InstanceNormalization", ["x", "val_3", "val_7"], ["y"], "in")
    (layer,) = analysed(tmp_path, [node], [("x", shape)], [("y", shape)], folded).layers
    assert (layer.type, layer.params, layer.config["affine"]) == ("groupnorm", 0, False)
    node = ob.node("LayerNormalization", ["x", "val_2"], ["y"], "ln")
    found = layers_of(tmp_path, [node], [("x", [1, 8])], [("y", [1, 8])], [ob.tensor("val_2", [8], [1.0] * 8)])
    assert found == [("layernorm", (8,), 0)]
    nodes = [
        ob.node("Constant", [], ["s"], "cs", value=ob.tensor("", [8], [1.0] * 8)),
        ob.node("Constant", [], ["b"], "cb", value=ob.tensor("", [8], [0.0] * 8)),
        ob.node("LayerNormalization", ["x", "s", "b"], ["y"], "ln"),
    ]
    assert layers_of(tmp_path, nodes, [("x", [1, 8])], [("y", [1, 8])]) == [("layernorm", (8,), 0)]


def test_a_layer_norm_without_a_bias_as_the_torchscript_exporter_writes_it(tmp_path: Path) -> None:
    """nn.LayerNorm(8, bias=False) has its weight alone, 8 parameters; the TorchScript exporter writes
    LayerNormalization(x, 1.weight, a Constant node of 8 zeros): the bias no parameter, 8 params (not 16)."""
    nodes = [
        ob.node("Constant", [], ["zeros"], "c", value=ob.tensor("", [8], [0.0] * 8)),
        ob.node("LayerNormalization", ["x", "1.weight", "zeros"], ["y"], "ln"),
    ]
    analysis = analysed(tmp_path, nodes, [("x", [1, 8])], [("y", [1, 8])], [ob.tensor("1.weight", [8])])
    assert [(la.type, la.params, la.config["bias"]) for la in analysis.layers] == [("layernorm", 8, False)]


def test_a_norms_bias_followed_through_any_number_of_ops(tmp_path: Path) -> None:
    """As the four ops' case before: InstanceNormalization of 1x4x3x3 with constant scale and shift, times a weight
    of 4x1x1, plus a bias of 4 reached through an Unsqueeze and six Identities: still the norm's affine parameters,
    one groupnorm of 2 x 4 = 8 params."""
    ones = ob.tensor("", [4], [1.0] * 4)
    chain = [ob.node("Identity", [f"b{i}"], [f"b{i + 1}"], f"i{i}") for i in range(1, 7)]
    nodes = [
        ob.node("Constant", [], ["s"], "cs", value=ones),
        ob.node("Constant", [], ["b"], "cb", value=ones),
        ob.node("InstanceNormalization", ["x", "s", "b"], ["n"], "in"),
        ob.node("Mul", ["n", "w"], ["m"], "mul"),
        ob.node("Unsqueeze", ["bias", "axes"], ["b1"], "u"),
        *chain,
        ob.node("Add", ["m", "b7"], ["y"], "add"),
    ]
    weights = [ob.tensor("w", [4, 1, 1]), ob.tensor("bias", [4]), ob.tensor("axes", [2], [1, 2], ob.INT64)]
    shape = [1, 4, 3, 3]
    assert layers_of(tmp_path, nodes, [("x", shape)], [("y", shape)], weights) == [("groupnorm", (4, 3, 3), 8)]


def test_a_norm_times_a_weight_plus_what_is_no_parameter(tmp_path: Path) -> None:
    """InstanceNormalization of 1x4x3x3 with constant scale and shift, times a weight of 4x1x1 (4 params), plus the
    network's input x (a residual's sum) or plus a Constant node of 4x1x1 (values in the graph, no parameter): no
    affine parameters of the norm's (0), a layer scale of 4, then an add or an arithmetic add without parameters."""
    ones = ob.tensor("", [4], [1.0] * 4)
    for added, last in (("x", "add"), ("c", "arithmetic")):
        nodes = [
            ob.node("Constant", [], ["s"], "cs", value=ones),
            ob.node("Constant", [], ["b"], "cb", value=ones),
            ob.node("Constant", [], ["c"], "cc", value=ob.tensor("", [4, 1, 1], [0.5] * 4)),
            ob.node("InstanceNormalization", ["x", "s", "b"], ["n"], "in"),
            ob.node("Mul", ["n", "w"], ["m"], "mul"),
            ob.node("Add", ["m", added], ["y"], "add"),
        ]
        shape = [1, 4, 3, 3]
        found = layers_of(tmp_path, nodes, [("x", shape)], [("y", shape)], [ob.tensor("w", [4, 1, 1])])
        assert found == [("groupnorm", (4, 3, 3), 0), ("scale", (4, 3, 3), 4), (last, (4, 3, 3), 0)], added

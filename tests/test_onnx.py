"""ONNX import: graphs built byte by byte (tests/onnxbuild.py, no onnx package), each op's shapes, params and
MACs against hand arithmetic, names, patterns (SiLU, MatMul + Add, channel shuffle, shape arithmetic before a
Reshape, ConvNeXt's channels-last block), unknown ops, and files that are not ONNX."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from convcalc import analyze, load_spec
from convcalc.core.errors import SpecError
from tests import onnxbuild as ob
from tests.conftest import run_cli

STEM = [
    ob.node(
        "Conv", ["x", "w1", "b1"], ["c1"], "/stem/conv/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]
    ),
    ob.node("BatchNormalization", ["c1", "g", "be", "m", "v"], ["n1"], "/stem/bn/BatchNormalization", epsilon=1e-3),
    ob.node("Relu", ["n1"], ["r1"], "/stem/relu/Relu"),
    ob.node("MaxPool", ["r1"], ["p1"], "/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
    ob.node("GlobalAveragePool", ["p1"], ["g1"], "/gap/GlobalAveragePool"),
    ob.node("Flatten", ["g1"], ["f1"], "/flatten/Flatten", axis=1),
    ob.node("Gemm", ["f1", "fc_w", "fc_b"], ["y"], "/fc/Gemm", transB=1),
]
STEM_WEIGHTS = [
    ob.tensor("w1", [16, 3, 3, 3]),
    ob.tensor("b1", [16]),
    *(ob.tensor(name, [16]) for name in ("g", "be", "m", "v")),
    ob.tensor("fc_w", [10, 16]),
    ob.tensor("fc_b", [10]),
]


def write(tmp_path: Path, data: bytes, name: str = "net.onnx") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def stem_model(batch: int | str = 1) -> bytes:
    return ob.model(STEM, [("x", [batch, 3, 32, 32])], [("y", [batch, 10])], STEM_WEIGHTS)


def test_a_small_network_counts_as_by_hand(tmp_path):
    analysis = analyze(write(tmp_path, stem_model()))
    layers = {layer.name: layer for layer in analysis.layers}
    assert list(layers) == ["stem.conv", "stem.bn", "stem.relu", "pool", "gap", "flatten", "fc"]
    conv = layers["stem.conv"]
    # 3x3, stride 2, pad 1 on 32: (32 + 2 - 3) // 2 + 1 = 16; params 16 * 3 * 3 * 3 + 16 = 448
    assert conv.output_shape == (16, 16, 16) and conv.params == 448 and conv.macs == 16 * 16 * 16 * 3 * 3 * 3
    assert layers["stem.bn"].params == 2 * 16 and layers["stem.bn"].buffers == 2 * 16
    assert layers["pool"].output_shape == (16, 8, 8)  # 2x2 stride 2: ONNX's strides are written out
    assert layers["flatten"].output_shape == (16,)
    assert layers["fc"].params == 16 * 10 + 10 and layers["fc"].macs == 160
    assert analysis.total.params == 448 + 32 + 170


def test_a_symbolic_batch_is_left_out(tmp_path):
    assert analyze(write(tmp_path, stem_model("N"))).input_shape == (3, 32, 32)


def test_the_cli_reads_onnx_like_a_spec(tmp_path):
    path = write(tmp_path, stem_model())
    result = run_cli("analyze", path, "--format", "json", "--batch", "2")
    assert result.code == 0, result.stderr
    assert '"macs": ' + str(2 * (16 * 16 * 16 * 27 + 160)) in result.stdout


def test_silu_and_matmul_with_bias(tmp_path):
    nodes = [
        ob.node("Flatten", ["x"], ["f"], "flat", axis=1),
        ob.node("MatMul", ["f", "w"], ["m"], "/head/MatMul"),
        ob.node("Add", ["m", "b"], ["a"], "/head/Add"),
        ob.node("Sigmoid", ["a"], ["s"], "/act/Sigmoid"),
        ob.node("Mul", ["a", "s"], ["y"], "/act/Mul"),
    ]
    model = ob.model(nodes, [("x", [1, 2, 2, 2])], [("y", [1, 5])], [ob.tensor("w", [8, 5]), ob.tensor("b", [5])])
    layers = analyze(write(tmp_path, model)).layers
    assert [(layer.name, layer.type) for layer in layers] == [("flat", "flatten"), ("head", "linear"), ("act", "silu")]
    assert layers[1].params == 8 * 5 + 5  # the Add's bias folded into the linear layer


def test_residual_concat_groups_dilation(tmp_path):
    nodes = [
        ob.node("Conv", ["x", "w1"], ["a"], "a", kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2], group=2),
        ob.node("Add", ["a", "x"], ["r"], "res"),
        ob.node("Concat", ["r", "x"], ["y"], "cat", axis=1),
    ]
    model = ob.model(nodes, [("x", [1, 4, 9, 9])], [("y", [1, 8, 9, 9])], [ob.tensor("w1", [4, 2, 3, 3])])
    layers = {layer.name: layer for layer in analyze(write(tmp_path, model)).layers}
    # groups 2: each filter sees 4 / 2 = 2 channels; dilation 2, pad 2 keeps 9: (9 + 4 - 2 * 2 - 1) // 1 + 1 = 9
    assert layers["a"].params == 4 * 2 * 3 * 3 and layers["a"].output_shape == (4, 9, 9)
    assert layers["a"].macs == 9 * 9 * 4 * 2 * 3 * 3
    assert layers["res"].inputs == ("a", "input") and layers["cat"].output_shape == (8, 9, 9)


def test_asymmetric_pads_become_a_pad_layer(tmp_path):
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[3, 3], pads=[0, 0, 1, 1], strides=[2, 2])]
    model = ob.model(nodes, [("x", [1, 3, 8, 8])], [("y", [1, 4, 4, 4])], [ob.tensor("w", [4, 3, 3, 3])])
    layers = analyze(write(tmp_path, model)).layers
    # TensorFlow-style 'same' at stride 2: 0 before, 1 after: (8 + 1 - 3) // 2 + 1 = 4
    assert [(layer.name, layer.type, layer.output_shape) for layer in layers] == [
        ("c.pad", "pad", (3, 9, 9)),
        ("c", "conv", (4, 4, 4)),
    ]


def test_reshape_from_computed_shape_and_channel_shuffle(tmp_path):
    int64 = ob.INT64
    nodes = [
        ob.node("Reshape", ["x", "s5"], ["a"], "shuffle/r1"),
        ob.node("Transpose", ["a"], ["b"], "shuffle/t", perm=[0, 2, 1, 3, 4]),
        ob.node("Reshape", ["b", "s4"], ["c"], "shuffle/r2"),
        ob.node("Shape", ["c"], ["shape"], "s"),
        ob.node("Gather", ["shape", "zero"], ["n"], "g"),
        ob.node("Unsqueeze", ["n"], ["n1"], "u"),
        ob.node("Concat", ["n1", "minus1"], ["target"], "cat", axis=0),
        ob.node("Reshape", ["c", "target"], ["y"], "flat/Reshape"),
    ]
    constants = [
        ob.tensor("s5", [5], [1, 2, 4, 3, 3], int64),
        ob.tensor("s4", [4], [1, 8, 3, 3], int64),
        ob.tensor("zero", [1], [0], int64),
        ob.tensor("minus1", [1], [-1], int64),
    ]
    model = ob.model(nodes, [("x", [1, 8, 3, 3])], [("y", [1, 72])], constants)
    layers = analyze(write(tmp_path, model)).layers
    assert [(layer.type, layer.output_shape) for layer in layers] == [
        ("channel_shuffle", (8, 3, 3)),
        ("flatten", (72,)),
    ]
    assert layers[0].config["groups"] == 2


def test_reshape_to_any_rank_and_a_slice_that_keeps_everything(tmp_path):
    int64 = ob.INT64
    nodes = [
        ob.node("Reshape", ["x", "rows"], ["a"], "tokens/Reshape"),  # [1, 8, 6, 6] -> [1, 8, 36] (0 copies the 8)
        ob.node("Reshape", ["a", "back"], ["b"], "back/Reshape"),  # -> [1, 8, 6, 6]: -1 is 6 x 6 / 6 = 6
        ob.node("Slice", ["b", "st", "en", "ax"], ["c"], "keep/Slice"),  # channels 0 to 8 of 8: the same tensor
        ob.node("Reshape", ["c", "merge"], ["y"], "merge/Reshape"),  # [8, 36]: the batch merged with the channels
    ]
    constants = [
        ob.tensor("rows", [3], [1, 0, 36], int64),
        ob.tensor("back", [4], [1, 8, -1, 6], int64),
        ob.tensor("st", [1], [0], int64),
        ob.tensor("en", [1], [8], int64),
        ob.tensor("ax", [1], [1], int64),
        ob.tensor("merge", [2], [8, 36], int64),
    ]
    model = ob.model(nodes, [("x", [1, 8, 6, 6])], [("y", [8, 36])], constants, value_infos=[("y", [8, 36])])
    layers = analyze(write(tmp_path, model)).layers
    assert [(layer.name, layer.type, layer.output_shape) for layer in layers] == [
        ("tokens", "reshape", (8, 36)),
        ("back", "reshape", (8, 6, 6)),
        ("merge", "reshape", (8, 36)),  # the batch of 1 merged with the channels: the tensor held with every axis
    ]
    assert layers[2].inputs == ("back",)  # the slice of every channel is no layer


def test_a_split_of_another_axis_keeps_every_output(tmp_path):
    # q, k, v of tokens [1, 12, 5] split along the last axis into 4 + 4 + 4, each read by the next node
    nodes = [
        ob.node("Split", ["x", "sizes"], ["q", "k", "v"], "qkv", axis=-1),
        ob.node("Add", ["q", "k"], ["qk"], "qk"),
        ob.node("Add", ["qk", "v"], ["y"], "sum"),
    ]
    model = ob.model(nodes, [("x", [1, 5, 12])], [("y", [1, 5, 4])], [ob.tensor("sizes", [3], [4, 4, 4], ob.INT64)])
    layers = analyze(write(tmp_path, model)).layers
    assert [(layer.name, layer.type, layer.output_shape, layer.config.get("axis")) for layer in layers] == [
        ("qkv.0", "slice", (5, 4), 1),
        ("qkv.1", "slice", (5, 4), 1),
        ("qkv.2", "slice", (5, 4), 1),
        ("qk", "add", (5, 4), None),
        ("sum", "add", (5, 4), None),
    ]
    assert [layer.config["start"] for layer in layers[:3]] == [0, 4, 8]


def test_a_batch_moved_and_merged_as_torch_exports_multi_head_attention(tmp_path):
    """nn.MultiheadAttention as PyTorch writes it: tokens [N, T, D] turned to [T, N, D], merged to [T * N, D] for the
    projection (Gemm), then back. With the file's batch of 1 the tensors between are held with every axis; the
    projection counts T positions x D x D."""
    int64 = ob.INT64
    nodes = [
        ob.node("Transpose", ["x"], ["tnd"], "to_tnd", perm=[1, 0, 2]),  # [4, 1, 6]
        ob.node("Reshape", ["tnd", "merged"], ["rows"], "merge"),  # [4, 6]: N merged into T
        ob.node("Gemm", ["rows", "w", "b"], ["proj"], "proj", transB=1),  # [4, 6]
        ob.node("Reshape", ["proj", "split"], ["tnd2"], "split"),  # [4, 1, 6]
        ob.node("Transpose", ["tnd2"], ["ntd"], "to_ntd", perm=[1, 0, 2]),  # [1, 4, 6]: the batch first again
        ob.node("Softmax", ["ntd"], ["y"], "softmax", axis=-1),
    ]
    constants = [
        ob.tensor("merged", [2], [4, 6], int64),
        ob.tensor("split", [3], [4, 1, 6], int64),
        ob.tensor("w", [6, 6]),
        ob.tensor("b", [6]),
    ]
    model = ob.model(nodes, [("x", [1, 4, 6])], [("y", [1, 4, 6])], constants)
    analysis = analyze(write(tmp_path, model))
    linear = next(layer for layer in analysis.layers if layer.type == "linear")
    assert (linear.params, linear.macs) == (6 * 6 + 6, 4 * 6 * 6)  # 4 positions x 6 x 6
    assert linear.config["per_position"]
    assert analysis.layers[-1].type == "softmax" and analysis.layers[-1].output_shape == (4, 6)
    assert analysis.output_shape == (4, 6)
    assert all(layer.type in ("permute", "reshape", "linear", "softmax") for layer in analysis.layers)
    assert analysis.total.macs == 4 * 6 * 6 and not analysis.warnings


def test_a_batch_moved_in_a_file_of_batch_2_is_refused_saying_so(tmp_path):
    nodes = [ob.node("Transpose", ["x"], ["y"], "to_tnd", perm=[1, 0, 2])]
    model = ob.model(nodes, [("x", [2, 4, 6])], [("y", [4, 2, 6])])
    with pytest.raises(SpecError) as caught:
        analyze(write(tmp_path, model))
    assert "node 0 'to_tnd' (Transpose): error: Transpose moves or merges the batch" in str(caught.value)
    assert "this one has a batch of 2: export the model with a batch of 1" in str(caught.value)


@pytest.mark.parametrize(("tokens", "token", "axis"), [([1, 5, 6], [1, 1, 6], 1), ([1, 6, 5], [1, 6, 1], 2)])
def test_a_learned_token_expanded_and_put_first_is_a_class_token(tmp_path, tokens, token, axis):
    # ViT's class token: [1, 1, D] expanded to the batch, concatenated before T = 5 tokens of D = 6 ([N, T, D] as
    # PyTorch writes it, or [N, D, T]): 6 parameters, 6 tokens after it
    nodes = [
        ob.node("Expand", ["cls", "batch"], ["expanded"], "expand"),
        ob.node("Concat", ["expanded", "x"], ["y"], "cat", axis=axis),
    ]
    constants = [ob.tensor("cls", token), ob.tensor("batch", [3], [1, -1, -1], ob.INT64)]
    analysis = analyze(write(tmp_path, ob.model(nodes, [("x", tokens)], [("y", [1, 6, 6])], constants)))
    made = next(layer for layer in analysis.layers if layer.type == "class_token")
    assert (made.params, made.output_shape) == (6, (6, 6))  # D x (T + 1)


def test_gather_and_squeeze_of_an_activation(tmp_path):
    # qkv [1, 3, 2, 5] -> q = qkv[:, 0] by Gather(axis=1, index 0): [1, 2, 5]; Unsqueeze(axes=[1]) -> [1, 1, 2, 5]
    nodes = [
        ob.node("Gather", ["x", "zero"], ["q"], "q", axis=1),
        ob.node("Unsqueeze", ["q", "one"], ["y"], "unsq"),
    ]
    constants = [ob.tensor("zero", [], [0], ob.INT64), ob.tensor("one", [1], [1], ob.INT64)]
    model = ob.model(nodes, [("x", [1, 3, 2, 5])], [("y", [1, 1, 2, 5])], constants)
    analysis = analyze(write(tmp_path, model))
    slices = [layer for layer in analysis.layers if layer.type == "slice"]
    assert [(layer.config["start"], layer.config["end"]) for layer in slices] == [(0, 1)]
    assert analysis.output_shape == (1, 2, 5)
    assert analysis.total.macs == 0 and analysis.total.params == 0


def test_a_weight_read_by_two_convs_counts_once(tmp_path):
    # one 3x3 conv 4 -> 4 (with bias) run on two maps, as RetinaNet's head runs on each pyramid level
    nodes = [
        ob.node("Conv", ["x", "w", "b"], ["a"], "level0", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        ob.node("MaxPool", ["x"], ["half"], "down", kernel_shape=[2, 2], strides=[2, 2]),
        ob.node("Conv", ["half", "w", "b"], ["y"], "level1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    ]
    weights = [ob.tensor("w", [4, 4, 3, 3]), ob.tensor("b", [4])]
    model = ob.model(nodes, [("x", [1, 4, 8, 8])], [("y", [1, 4, 4, 4])], weights)
    layers = {layer.name: layer for layer in analyze(write(tmp_path, model)).layers}
    assert layers["level0"].params == 4 * 4 * 3 * 3 + 4 and layers["level1"].params == 0  # 148 once
    assert layers["level1"].config["shared"] is True
    assert layers["level1"].macs == 4 * 4 * 4 * 4 * 3 * 3  # its own: 4 x 4 outputs x 4 filters x 36


def test_split_slice_resize_clip(tmp_path):
    int64 = ob.INT64
    nodes = [
        ob.node("Split", ["x", "sizes"], ["a", "b"], "split", axis=1),
        ob.node("Clip", ["a", "lo", "hi"], ["c"], "clip"),
        ob.node("Slice", ["b", "st", "en", "ax"], ["d"], "slice"),
        ob.node("Concat", ["c", "d"], ["e"], "cat", axis=1),
        ob.node("Resize", ["e", "", "scales"], ["y"], "up", mode="nearest"),
    ]
    constants = [
        ob.tensor("sizes", [2], [2, 4], int64),
        ob.tensor("lo", [], [0.0]),
        ob.tensor("hi", [], [6.0]),
        ob.tensor("st", [1], [1], int64),
        ob.tensor("en", [1], [3], int64),
        ob.tensor("ax", [1], [1], int64),
        ob.tensor("scales", [4], [1.0, 1.0, 2.0, 2.0]),
    ]
    model = ob.model(nodes, [("x", [1, 6, 5, 5])], [("y", [1, 4, 10, 10])], constants)
    layers = analyze(write(tmp_path, model)).layers
    assert [(layer.type, layer.output_shape) for layer in layers] == [
        ("slice", (2, 5, 5)),  # channels 0..2
        ("slice", (4, 5, 5)),  # channels 2..6
        ("relu6", (2, 5, 5)),  # Clip(0, 6)
        ("slice", (2, 5, 5)),  # channels 1..3 of the second part
        ("concat", (4, 5, 5)),
        ("upsample", (4, 10, 10)),
    ]


def test_an_unknown_op_with_a_stated_shape_is_opaque_and_warned(tmp_path):
    nodes = [ob.node("Relu", ["x"], ["r"], "relu"), ob.node("TopK", ["r", "k"], ["y"], "topk")]
    model = ob.model(
        nodes, [("x", [1, 10])], [("y", [1, 3])], [ob.tensor("k", [1], [3], ob.INT64)], value_infos=[("y", [1, 3])]
    )
    analysis = analyze(write(tmp_path, model))
    assert analysis.layers[-1].type == "opaque" and analysis.output_shape == (3,)
    assert [w.message for w in analysis.warnings] == ["1 operation(s) not counted (no params, MACs or FLOPs): TopK x1"]


def test_an_unknown_op_without_a_shape_is_an_error(tmp_path):
    nodes = [ob.node("TopK", ["x", "k"], ["t"], "topk"), ob.node("Relu", ["t"], ["y"], "relu")]
    model = ob.model(nodes, [("x", [1, 10])], [("y", [1, 3])], [ob.tensor("k", [1], [3], ob.INT64)])
    result = run_cli("analyze", write(tmp_path, model))
    assert result.code == 2 and "TopK" in result.stderr and "shape inference" in result.stderr


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"input: [3, 8, 8]\nlayers: []\n", "not a readable ONNX model"),
        (stem_model()[:-7], "not a readable ONNX model"),
    ],
    ids=["empty", "yaml", "truncated"],
)
def test_a_file_that_is_not_onnx(tmp_path, data: bytes, words: str):
    result = run_cli("analyze", write(tmp_path, data))
    assert result.code == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_weights_are_not_needed(tmp_path):
    # initializers stored as external data (data_location 14 = EXTERNAL, a file that does not exist): only dims
    external = ob.tensor("w1", [16, 3, 3, 3]) + ob.field(13, ob.field(1, "location") + ob.field(2, "gone.bin"))
    external += ob.field(14, 1)
    weights = [external, *STEM_WEIGHTS[1:]]
    model = ob.model(STEM, [("x", [1, 3, 32, 32])], [("y", [1, 10])], weights)
    assert analyze(write(tmp_path, model)).total.params == 448 + 32 + 170


def test_a_weight_of_the_wrong_size_is_an_error(tmp_path):
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[3, 3])]
    model = ob.model(nodes, [("x", [1, 3, 8, 8])], [("y", [1, 4, 6, 6])], [ob.tensor("w", [4, 5, 3, 3])])
    with pytest.raises(SpecError, match=r"weight dims \[4, 5, 3, 3\] do not fit 3 input channels"):
        load_spec(write(tmp_path, model))


# --- channels-last: ConvNeXt's block as PyTorch exports it, followed from the Transpose to the Transpose back ---

CHAIN = [  # x + scale(fc2(gelu(fc1(norm(x))))) on a 4 x 3 x 3 map, channels-last in between
    ob.node("Transpose", ["x"], ["t"], "/block/permute/Transpose", perm=[0, 2, 3, 1]),
    ob.node("LayerNormalization", ["t", "g", "b"], ["n"], "/block/norm/LayerNormalization", axis=-1, epsilon=1e-6),
    ob.node("Transpose", ["w1"], ["w1t"], "/block/fc1/Transpose", perm=[1, 0]),  # nn.Linear's (out, in) weight
    ob.node("MatMul", ["n", "w1t"], ["m1"], "/block/fc1/MatMul"),
    ob.node("Add", ["b1", "m1"], ["a1"], "/block/fc1/Add"),
    ob.node("Gelu", ["a1"], ["g1"], "/block/act/Gelu"),
    ob.node("MatMul", ["g1", "w2"], ["m2"], "/block/fc2/MatMul"),
    ob.node("Add", ["m2", "b2"], ["a2"], "/block/fc2/Add"),
    ob.node("Mul", ["a2", "gamma"], ["s"], "/block/scale/Mul"),  # layer scale before the Transpose back
    ob.node("Transpose", ["s"], ["back"], "/block/permute_back/Transpose", perm=[0, 3, 1, 2]),
    ob.node("Add", ["back", "x"], ["y"], "/block/Add"),
]
CHAIN_WEIGHTS = {"g": [4], "b": [4], "w1": [8, 4], "b1": [8], "w2": [8, 4], "b2": [4], "gamma": [4]}


def chain_model(
    nodes: list[bytes] = CHAIN,
    output: tuple[str, list[int]] = ("y", [1, 4, 3, 3]),
    stated: list[tuple[str, list[int]]] | None = None,
    **weights: list[int],
) -> bytes:
    dims = {**CHAIN_WEIGHTS, **weights}
    tensors = [ob.tensor(name, shape) for name, shape in dims.items()]
    return ob.model(nodes, [("x", [1, 4, 3, 3])], [output], tensors, value_infos=stated or [])


def test_a_channels_last_block_is_followed_to_the_transpose_back(tmp_path):
    # no value_info: the MatMul's weight is the Transpose of a (8, 4) weight, (4, 8)
    analysis = analyze(write(tmp_path, chain_model()))
    hw = 3 * 3  # positions
    assert [(la.name, la.type, la.output_shape, la.params, la.macs, la.flops) for la in analysis.layers] == [
        ("block.norm", "layernorm", (4, 3, 3), 2 * 4, 0, 5 * 4 * hw),  # over the 4 channels at each position
        ("block.fc1", "linear", (8, 3, 3), 4 * 8 + 8, hw * 4 * 8, 2 * hw * 4 * 8 + 8 * hw),  # a bias per position
        ("block.act", "gelu", (8, 3, 3), 0, 0, 5 * 8 * hw),
        ("block.fc2", "linear", (4, 3, 3), 8 * 4 + 4, hw * 8 * 4, 2 * hw * 8 * 4 + 4 * hw),
        ("block.scale", "scale", (4, 3, 3), 4, 0, 4 * hw),  # a weight of 4: one per channel
        ("block", "add", (4, 3, 3), 0, 0, 4 * hw),
    ]
    assert [la.config["per_position"] for la in analysis.layers if la.type == "linear"] == [True, True]
    assert analysis.layers[-1].inputs == ("block.scale", "input")  # the Transposes move no value: no layer
    assert analysis.total.params == 8 + 40 + 36 + 4 and analysis.total.macs == 2 * 288
    assert not analysis.warnings


def test_channels_last_shapes_the_file_states_are_read_as_h_w_c(tmp_path):
    stated = [("n", [1, 3, 3, 4]), ("a1", [1, 3, 3, 8]), ("g1", [1, 3, 3, 7])]  # the Gelu's is wrong
    analysis = analyze(write(tmp_path, chain_model(stated=stated)))
    assert [(w.layer, w.message) for w in analysis.warnings] == [
        ("block.act", "the file states 3x3x7 for 'g1' (without the batch), convcalc computes 3x3x8")
    ]


def replaced(index: int, node: bytes) -> list[bytes]:
    return [node if i == index else each for i, each in enumerate(CHAIN)]


def test_an_op_that_reads_axes_reads_a_channels_last_tensor_in_the_files_layout(tmp_path):
    """A Softmax over the last axis of the channels-last 3 x 3 x 4 (the file's N x H x W x C): a permute of the
    4 x 3 x 3 map to 3 x 3 x 4 (no cost) first, then the softmax over its last axis, as the file computes it."""
    nodes = [*CHAIN[:1], ob.node("Softmax", ["t"], ["y"], "s", axis=-1)]
    analysis = analyze(write(tmp_path, chain_model(nodes, output=("y", [1, 3, 3, 4]))))
    assert [(la.type, la.output_shape, la.config.get("dims"), la.config.get("axis")) for la in analysis.layers] == [
        ("permute", (3, 3, 4), (1, 2, 0), None),
        ("softmax", (3, 3, 4), None, 2),
    ]


def test_a_channels_last_tensor_beside_a_channels_first_one_is_read_in_the_files_layout(tmp_path):
    # the Add of the channels-last s (3 x 3 x 4 in the file) and x (4 x 3 x 3): the file broadcasts nothing here,
    # shapes differ, and the error names both inputs with their shapes
    result = run_cli("analyze", write(tmp_path, chain_model(replaced(9, ob.node("Add", ["s", "x"], ["back"], "mix")))))
    assert result.code == 2 and "Traceback" not in result.stderr, result.stderr
    assert "node 9 'mix' (Add): error: " in result.stderr
    assert "cannot add 3x3x4 and 4x3x3" in result.stderr


def test_another_transpose_of_a_channels_last_tensor_is_a_permute(tmp_path):
    # [0, 3, 2, 1] of the file's N x H x W x C (3 x 3 x 4) is N x C x W x H: the permute to the file's layout,
    # then one of its axes (2, 1, 0): 4 x 3 x 3 again, W and H swapped
    nodes = [*CHAIN[:1], ob.node("Transpose", ["t"], ["y"], "tr", perm=[0, 3, 2, 1])]
    analysis = analyze(write(tmp_path, chain_model(nodes, output=("y", [1, 4, 3, 3]))))
    assert [(la.type, la.output_shape, la.config["dims"]) for la in analysis.layers] == [
        ("permute", (3, 3, 4), (1, 2, 0)),
        ("permute", (4, 3, 3), (2, 1, 0)),
    ]


def test_a_graph_that_ends_channels_last_hands_out_the_files_layout(tmp_path):
    model = chain_model(CHAIN[:9], output=("s", [1, 3, 3, 4]))  # no Transpose back after the layer scale
    analysis = analyze(write(tmp_path, model))
    assert [la.type for la in analysis.layers][-2:] == ["scale", "permute"]
    assert analysis.output_shape == (3, 3, 4)  # as the file states its output: N x H x W x C


def test_a_transpose_that_is_the_graphs_output_is_a_permute(tmp_path):
    """A network that hands its map out channels-last (a last permute for a consumer that wants N x H x W x C): a
    permute of no cost to the file's 3 x 3 x 4."""
    model = chain_model(CHAIN[:1], output=("t", [1, 3, 3, 4]))
    analysis = analyze(write(tmp_path, model))
    assert [(la.type, la.output_shape, la.params, la.macs, la.flops) for la in analysis.layers] == [
        ("permute", (3, 3, 4), 0, 0, 0)
    ]
    assert not analysis.warnings


def test_a_matmul_by_a_weight_maps_the_last_axis(tmp_path):
    # ONNX's MatMul maps the last axis (W = 3) at each of the 4 x 3 other positions, not the flattened 36 features:
    # a linear layer per position over W, read after a permute that puts W first; its output is the file's 4 x 3 x 5
    nodes = [ob.node("MatMul", ["x", "w"], ["y"], "/mm/MatMul")]
    model = ob.model(nodes, [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 5])], [ob.tensor("w", [3, 5])])
    analysis = analyze(write(tmp_path, model))
    assert [(la.type, la.output_shape, la.params, la.macs) for la in analysis.layers] == [
        ("permute", (3, 4, 3), 0, 0),
        ("linear", (5, 4, 3), 3 * 5, 4 * 3 * 3 * 5),  # no bias: 15 weights; 12 positions x 3 x 5 MACs
        ("permute", (4, 3, 5), 0, 0),  # the graph's output, in the file's layout
    ]
    assert analysis.layers[1].config["per_position"]


def test_a_matmul_of_two_activations_is_a_batched_matmul(tmp_path):
    # attention's scores: q [1, 2, 5, 4] @ k^T [1, 2, 4, 5] = [1, 2, 5, 5]: 2 heads x 5 x 4 x 5 = 200 MACs
    nodes = [
        ob.node("Transpose", ["x"], ["kt"], "kt", perm=[0, 1, 3, 2]),
        ob.node("MatMul", ["x", "kt"], ["y"], "scores"),
    ]
    model = ob.model(nodes, [("x", [1, 2, 5, 4])], [("y", [1, 2, 5, 5])])
    analysis = analyze(write(tmp_path, model))
    assert [(la.type, la.output_shape, la.macs) for la in analysis.layers] == [
        ("permute", (2, 4, 5), 0),
        ("matmul", (2, 5, 5), 2 * 5 * 4 * 5),
    ]


# --- ONNX files exported from PyTorch (tools/record_onnx.py: batch norm kept, in training mode; weights dropped) ---

FIXTURES = Path(__file__).parent / "data" / "onnx"
DECOMPOSED_LRN: set[str] = set()
"""Networks whose export convcalc cannot read (AlexNet's and GoogLeNet's LocalResponseNorm, which PyTorch writes as
some thirty elementary ops, is followed back into one ``lrn`` layer: tests/test_onnx.py checks them like the rest)."""
PUBLISHED = {  # torchvision's model documentation (weights tables): parameters
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "vgg16": 138_357_544,
    "alexnet-torchvision": 61_100_840,
    "squeezenet1_0": 1_248_424,
    "convnext_tiny": 28_589_128,  # ConvNeXt_Tiny_Weights.IMAGENET1K_V1
}


NOT_IMPORTED_YET = {"vit_b_16", "vit_b_16.torchvision", "mobilevit_xxs", "swin_t"}
"""Exports whose tensor ops (MatMul of two activations, Split, scalar arithmetic) the import does not read yet;
tests/test_conventions.py checks they are refused, naming the node, and counts their specs against onnx-tool."""


def fixture_pairs() -> list[tuple[str, str]]:
    """(file, bundled spec): SPEC.onnx is `convcalc export`'s module, SPEC.torchvision.onnx torchvision's."""
    files = sorted(path for path in FIXTURES.glob("*.onnx") if path.stem not in NOT_IMPORTED_YET)
    return [(path.name, path.name.split(".")[0]) for path in files]


PRUNED = {"inception_v3"}
"""PyTorch's export leaves out what does not reach the output: Inception v3's auxiliary classifier."""


@pytest.mark.parametrize(("file", "spec"), [p for p in fixture_pairs() if p[1] not in DECOMPOSED_LRN | PRUNED])
def test_an_exported_network_counts_as_its_spec(file: str, spec: str):
    imported, written = analyze(str(FIXTURES / file)), analyze(spec)
    assert imported.total.params == written.total.params == PUBLISHED.get(spec, written.total.params)
    assert imported.total.buffers == written.total.buffers  # batch norm's running statistics, kept
    assert (imported.total.macs, imported.total.flops) == (written.total.macs, written.total.flops)
    assert imported.output_shape == written.output_shape
    assert "shape" not in {warning.code for warning in imported.warnings}  # agrees with ONNX's shape inference
    # no warning the spec does not give or acknowledge with `expect` (an ONNX file cannot acknowledge one); an
    # imported name such as 'bottleneck1_inverted1_expand_conv' is no bottleneck
    acknowledged = set().union(*(node.expected for node in load_spec(spec).nodes))
    assert {w.code for w in imported.warnings} <= {w.code for w in written.warnings} | acknowledged


def test_an_unused_branch_is_not_exported():
    imported = analyze(str(FIXTURES / "inception_v3.onnx"))
    # the aux head: 1x1 conv 768 -> 128 (98,304) + its batch norm (256), 5x5 conv 128 -> 768 (2,457,600) + batch
    # norm (1,536), linear 768 -> 1,000 with bias (769,000): 3,326,696 of torchvision's 27,161,264 parameters
    assert imported.total.params == 27_161_264 - (98_304 + 256 + 2_457_600 + 1_536 + 769_000)
    # torchvision's published 5.71 GMACs is the network without the aux head (5,713,216,096 in torch's hooks)
    assert imported.total.macs == 5_713_216_096


def test_torchvisions_convnext_is_read_through_its_channels_last_blocks():
    # torchvision's CNBlock: 7x7 depthwise Conv2d, Permute(0, 2, 3, 1), LayerNorm, Linear(C, 4C), GELU, Linear(4C, C),
    # Permute(0, 3, 1, 2); ConvNeXt_Tiny_Weights.IMAGENET1K_V1 publishes 28,589,128 params and 4.46 GFLOPS (MACs)
    analysis = analyze(str(FIXTURES / "convnext_tiny.torchvision.onnx"))
    assert analysis.total.params == 28_589_128 and f"{analysis.total.macs / 1e9:.2f}" == "4.46"
    linears = [layer for layer in analysis.layers if layer.type == "linear" and layer.config["per_position"]]
    assert len(linears) == 2 * (3 + 3 + 9 + 3)  # two in each of the 18 blocks
    first = next(layer for layer in analysis.layers if layer.name == "features.1.0.block.3")  # on 96 x 56 x 56
    assert (first.output_shape, first.params, first.macs) == ((384, 56, 56), 96 * 384 + 384, 56 * 56 * 96 * 384)
    assert not analysis.warnings


def test_pytorchs_lrn_is_one_layer():
    # AlexNet's lrn1: size 5 as the paper's (k = 2, alpha = 1e-4, beta = 0.75), read back from PyTorch's ops
    (lrn,) = [layer for layer in analyze(str(FIXTURES / "alexnet.onnx")).layers if layer.type == "lrn"][:1]
    assert lrn.config["size"] == 5 and (lrn.config["alpha"], lrn.config["beta"], lrn.config["k"]) == (1e-4, 0.75, 2.0)
    # 96 x 55 x 55 outputs, (2 * 5 + 3) FLOPs each, as the spec counts it
    assert lrn.output_shape == (96, 55, 55) and lrn.flops == (2 * 5 + 3) * 96 * 55 * 55


def test_fixtures_cover_the_bundled_networks():
    from convcalc.spec.bundled import bundled_names

    exported = {path.stem.split(".")[0] for path in FIXTURES.glob("*.onnx")}
    assert exported == set(bundled_names())


def test_damaged_files_are_refused_with_one_message(tmp_path):
    # bytes of a real export changed at random places or cut short: a located message and exit 2, never an internal
    # error (a fixed seed: the same 60 files every run)
    import random

    chance = random.Random(20261130)
    base = (FIXTURES / "mobilenet_v3_large.onnx").read_bytes()
    for _ in range(60):
        data = bytearray(base)
        for _ in range(chance.randint(1, 12)):
            data[chance.randrange(len(data))] = chance.randrange(256)
        if chance.random() < 0.2:
            data = data[: chance.randrange(len(data))]
        result = run_cli("analyze", write(tmp_path, bytes(data)), "--format", "json")
        assert result.code in (0, 2), result.stderr


def test_names_from_the_file_are_never_printed_raw(tmp_path):
    nodes = [ob.node("Relu", ["x"], ["y"], "\x1b]0;PWNED\x07\u202e/evil/Relu")]
    model = ob.model(nodes, [("x", [1, 3, 4, 4])], [("y", [1, 3, 4, 4])], name="\x1b[2Jtitle\u202e")
    for output in ("table", "json", "csv", "markdown"):
        result = run_cli("analyze", write(tmp_path, model), "--format", output)
        assert result.code == 0 and "\x1b" not in result.stdout and "\u202e" not in result.stdout


def dynamic_axes_model() -> bytes:
    """A 3x3 conv 3 -> 8, 'same', exported with dynamic axes: its input is [N, 3, H, W]."""
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    return ob.model(nodes, [("x", ["N", 3, "H", "W"])], [("y", ["N", 8, "H", "W"])], [ob.tensor("w", [8, 3, 3, 3])])


def test_a_file_with_dynamic_axes_is_read_at_the_input_given(tmp_path):
    path = write(tmp_path, dynamic_axes_model())
    result = run_cli("analyze", path, "--input", "3x64x64", "--exact")
    assert result.code == 0, result.stderr
    assert "MACs 884,736 " in result.stdout  # 64 x 64 positions x 8 filters x 3 x 3 x 3
    assert analyze(path, input_shape=(3, 32, 32)).total.macs == 32 * 32 * 8 * 27


def test_a_file_with_dynamic_axes_asks_for_its_input(tmp_path):
    path = write(tmp_path, dynamic_axes_model())
    plain = run_cli("analyze", path)
    assert plain.code == 2 and "has sizes the file names, not numbers: ['N', 3, 'H', 'W']" in plain.stderr
    assert "hint: give its shape after the batch: --input 3xNxN with numbers for N" in plain.stderr
    wrong = run_cli("analyze", path, "--input", "4x64x64")
    assert wrong.code == 2 and "its shape after the batch is 3xNxN, not 4x64x64" in wrong.stderr


def test_group_norm_as_torchscript_writes_it(tmp_path):
    """nn.GroupNorm(2, 80) as torch's TorchScript exporter writes it: a Reshape to [N, 2, -1], InstanceNormalization
    with constant ones and zeros, a Reshape back to the input's Shape, then Mul by the weight and Add of the bias
    (each Unsqueeze-d to 80 x 1 x 1, the bias's after the Mul in the file): one groupnorm of 2 groups, 2 x 80 params."""
    int64 = ob.INT64
    nodes = [
        ob.node("Constant", [], ["ones"], "/norm/Constant", value=ob.tensor("", [2], [1.0, 1.0])),  # not parameters
        ob.node("Constant", [], ["zeros"], "/norm/Constant_1", value=ob.tensor("", [2], [0.0, 0.0])),
        ob.node("Reshape", ["x", "grouped"], ["g"], "/norm/Reshape"),
        ob.node("InstanceNormalization", ["g", "ones", "zeros"], ["n"], "/norm/InstanceNormalization"),
        ob.node("Shape", ["x"], ["s"], "/norm/Shape"),
        ob.node("Reshape", ["n", "s"], ["back"], "/norm/Reshape_1"),
        ob.node("Unsqueeze", ["weight", "axes"], ["w"], "/norm/Unsqueeze"),
        ob.node("Mul", ["back", "w"], ["scaled"], "/norm/Mul"),
        ob.node("Unsqueeze", ["bias", "axes"], ["b"], "/norm/Unsqueeze_1"),
        ob.node("Add", ["scaled", "b"], ["y"], "/norm/Add"),
    ]
    constants = [
        ob.tensor("grouped", [3], [0, 2, -1], int64),
        ob.tensor("axes", [2], [1, 2], int64),
        ob.tensor("weight", [80]),
        ob.tensor("bias", [80]),
    ]
    model = ob.model(nodes, [("x", [1, 80, 4, 4])], [("y", [1, 80, 4, 4])], constants)
    analysis = analyze(write(tmp_path, model))
    assert [(la.type, la.output_shape, la.params) for la in analysis.layers] == [("groupnorm", (80, 4, 4), 2 * 80)]
    assert analysis.layers[0].config["groups"] == 2 and not analysis.warnings


def test_group_norm_as_the_default_exporter_writes_it(tmp_path):
    """nn.GroupNorm(1, 64) as torch 2.13's default exporter writes it (PoolFormer's norms): a Reshape to [N, 1, -1],
    InstanceNormalization whose scale and shift are one value for the one group (initializers named val_8 and
    val_11: ones and zeros), a Reshape back, then Mul by the weight and Add of the bias (64 x 1 x 1 each): one
    groupnorm of 1 group with 2 x 64 params, GroupNorm's own, not 2 x 64 + 2."""
    int64 = ob.INT64
    nodes = [
        ob.node("Reshape", ["x", "grouped"], ["g"], "node_Reshape_5"),
        ob.node("InstanceNormalization", ["g", "val_8", "val_11"], ["n"], "node_InstanceNormalization_12"),
        ob.node("Reshape", ["n", "back_shape"], ["back"], "node_Reshape_14"),
        ob.node("Mul", ["back", "val_21"], ["scaled"], "node_Mul_22"),
        ob.node("Add", ["scaled", "val_23"], ["y"], "node_group_norm"),
    ]
    constants = [
        ob.tensor("grouped", [3], [1, 1, -1], int64),
        ob.tensor("back_shape", [4], [1, 64, 4, 4], int64),
        ob.tensor("val_8", [1], [1.0]),
        ob.tensor("val_11", [1], [0.0]),
        ob.tensor("val_21", [64, 1, 1]),
        ob.tensor("val_23", [64, 1, 1]),
    ]
    model = ob.model(nodes, [("x", [1, 64, 4, 4])], [("y", [1, 64, 4, 4])], constants)
    analysis = analyze(write(tmp_path, model))
    assert [(la.type, la.output_shape, la.params) for la in analysis.layers] == [("groupnorm", (64, 4, 4), 2 * 64)]
    assert analysis.layers[0].config["groups"] == 1 and not analysis.warnings


def test_an_einsum_that_is_a_batched_product_is_a_matmul(tmp_path):
    # MaxViT's attention on q = k = v = x [1, 2 heads, 5 tokens, 4]: scores q k^T ('BHID,BHJD->BHIJ': k read with its
    # last two axes swapped, 2 x 5 x 4 x 5 = 200 MACs), then scores v ('BHIJ,BHJD->BHID': 2 x 5 x 5 x 4 = 200)
    nodes = [
        ob.node("Einsum", ["x", "x"], ["scores"], "scores", equation="BHID, BHJD -> BHIJ"),
        ob.node("Einsum", ["scores", "x"], ["y"], "mixed", equation="BHIJ,BHJD->BHID"),
    ]
    model = ob.model(nodes, [("x", [1, 2, 5, 4])], [("y", [1, 2, 5, 4])])
    analysis = analyze(write(tmp_path, model))
    assert [(la.type, la.output_shape, la.macs) for la in analysis.layers] == [
        ("permute", (2, 4, 5), 0),
        ("matmul", (2, 5, 5), 2 * 5 * 4 * 5),
        ("matmul", (2, 5, 4), 2 * 5 * 5 * 4),
    ]


def test_another_einsum_is_uncounted(tmp_path):
    nodes = [ob.node("Einsum", ["x", "x"], ["y"], "outer", equation="BI,BJ->BIJ")]
    model = ob.model(nodes, [("x", [1, 3])], [("y", [1, 3, 3])])
    analysis = analyze(write(tmp_path, model))
    assert [(la.type, la.output_shape) for la in analysis.layers] == [("opaque", (3, 3))]
    assert [w.code for w in analysis.warnings] == ["uncounted"]


def test_element_wise_arithmetic_broadcasts_and_takes_constants(tmp_path):
    # x - mean(x) over 4 x 6 x 6, then / a number, + a constant of 4 x 1 x 1: each one FLOP per output element
    nodes = [
        ob.node("GlobalAveragePool", ["x"], ["m"], "mean"),
        ob.node("Sub", ["x", "m"], ["c"], "centred"),
        ob.node("Div", ["c", "two"], ["h"], "halved"),
        ob.node("Add", ["h", "shift"], ["y"], "shifted"),
    ]
    constants = [ob.tensor("two", [], [2.0]), ob.tensor("shift", [4, 1, 1])]
    model = ob.model(nodes, [("x", [1, 4, 6, 6])], [("y", [1, 4, 6, 6])], constants)
    layers = analyze(write(tmp_path, model)).layers
    assert [(la.name, la.type, la.config.get("op"), la.config.get("constant"), la.flops) for la in layers[1:]] == [
        ("centred", "arithmetic", "sub", None, 4 * 6 * 6),
        ("halved", "arithmetic", "div", (1,), 4 * 6 * 6),
        ("shifted", "arithmetic", "add", (4, 1, 1), 4 * 6 * 6),
    ]
    assert all(la.output_shape == (4, 6, 6) and la.params == 0 for la in layers[1:])


def test_reduce_sum_over_channels(tmp_path):
    # ResNeSt's radix sum: [1, 2, 4, 3, 3] summed over its splits (axis 1): 4 x 3 x 3 per split, 72 adds
    nodes = [ob.node("ReduceSum", ["x", "axes"], ["y"], "radix_sum", keepdims=0)]
    model = ob.model(nodes, [("x", [1, 2, 4, 3, 3])], [("y", [1, 4, 3, 3])], [ob.tensor("axes", [1], [1], ob.INT64)])
    (layer,) = analyze(write(tmp_path, model)).layers
    assert (layer.type, layer.config["op"], layer.config["axes"], layer.output_shape) == (
        "reduce",
        "sum",
        (0,),
        (4, 3, 3),
    )
    assert layer.flops == 2 * 4 * 3 * 3


def test_a_module_path_from_node_metadata_names_the_layer_safely(tmp_path):
    # the default exporter's pkg.torch.onnx.name_scopes, here with an escape sequence and a newline in the path
    scopes = "['', 'features\x1b[31m\nx', 'relu']"
    meta = ob.field(9, ob.field(1, "pkg.torch.onnx.name_scopes") + ob.field(2, scopes))
    nodes = [ob.node("Relu", ["x"], ["y"], "node_relu") + meta]
    analysis = analyze(write(tmp_path, ob.model(nodes, [("x", [1, 3, 4, 4])], [("y", [1, 3, 4, 4])])))
    assert [layer.name for layer in analysis.layers] == ["features__31m_x.relu"]


def test_a_constant_that_broadcasts_over_the_batch_axis(tmp_path):
    # ONNX broadcasts from the last axis: [1, 5] + [5, 1] is [5, 5] (the constant's 5 meets the batch's 1), and
    # [1, 5] * [3, 1, 5] is [3, 1, 5]: 25 and 15 additions, one FLOP per output element
    for constant, output in (([5, 1], [5, 5]), ([3, 1, 5], [3, 1, 5])):
        nodes = [ob.node("Add", ["x", "c"], ["y"], "shifted")]
        model = ob.model(nodes, [("x", [1, 5])], [("y", output)], [ob.tensor("c", constant)])
        analysis = analyze(write(tmp_path, model))
        counted = [la for la in analysis.layers if la.type == "arithmetic"]
        assert [la.flops for la in counted] == [math.prod(output)]
        assert analysis.output_shape == tuple(output)  # the batch's axis is the constant's now: held whole


def test_the_input_handed_out_again_is_no_output(tmp_path):
    # a graph whose outputs are its input x and relu(x): the network hands out what it computes, relu's 4 x 4 x 4
    nodes = [ob.node("Relu", ["x"], ["y"], "relu")]
    model = ob.model(nodes, [("x", [1, 4, 4, 4])], [("x", [1, 4, 4, 4]), ("y", [1, 4, 4, 4])])
    analysis = analyze(write(tmp_path, model))
    assert analysis.outputs == (("relu", (4, 4, 4)),)

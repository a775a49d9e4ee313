"""1-D and 3-D feature maps ([C, L] and [C, D, H, W]): every spatial kind by hand arithmetic from PyTorch's documented
formulas (nn.Conv1d / nn.Conv3d, nn.MaxPool1d / 3d, nn.AdaptiveAvgPool3d, nn.Upsample, nn.ConvTranspose3d), worked
out in the comments; receptive fields, explain's formulas, the warnings and the errors on other ranks."""

from __future__ import annotations

from typing import Any

import pytest

from convcalc import analyze
from convcalc.passes.explain import explain_layer
from tests.conftest import run_cli
from tests.netbuild import analyze_layers, analyze_text, one_layer

# --- one layer, its shape and counts ---------------------------------------------------------------------------------

CASES = [
    pytest.param(
        [1, 16000],
        {"type": "conv", "filters": 128, "kernel": 80, "stride": 16},
        (128, 996),  # L_out = floor((16000 - 80) / 16) + 1 = 995 + 1
        80 * 1 * 128 + 128,  # k * C_in * C_out + bias
        996 * 128 * 80 * 1,  # L_out * C_out * k * C_in
        id="M5's first conv (Dai et al. 2017)",
    ),
    pytest.param(
        [32, 100],
        {"type": "conv", "filters": 32, "kernel": 3, "dilation": 4, "padding": 4, "groups": 32, "bias": False},
        (32, 100),  # floor((100 + 8 - 4 * 2 - 1) / 1) + 1 = 100
        3 * 1 * 32,  # depthwise: k * (C_in / groups) * C_out
        100 * 32 * 3 * 1,
        id="dilated depthwise 1-D",
    ),
    pytest.param(
        [3, 16, 112, 112],
        {"type": "conv", "filters": 64, "kernel": [3, 7, 7], "stride": [1, 2, 2], "padding": [1, 3, 3], "bias": False},
        (64, 16, 56, 56),  # D: (16 + 2 - 3) / 1 + 1 = 16; H, W: floor((112 + 6 - 7) / 2) + 1 = 55 + 1
        3 * 7 * 7 * 3 * 64,  # r3d_18's stem: k_d * k_h * k_w * C_in * C_out = 28,224
        16 * 56 * 56 * 64 * 3 * 7 * 7 * 3,
        id="r3d_18's stem conv",
    ),
    pytest.param(
        [45, 16, 56, 56],
        {"type": "conv", "filters": 64, "kernel": [3, 1, 1], "padding": [1, 0, 0], "bias": False},
        (64, 16, 56, 56),
        3 * 1 * 1 * 45 * 64,  # R(2+1)D's temporal conv: 8,640
        16 * 56 * 56 * 64 * 3 * 45,
        id="(2+1)D temporal conv",
    ),
    pytest.param(
        [8, 5, 6, 7],
        {"type": "conv_transpose", "filters": 4, "kernel": 2, "stride": 2},
        (4, 10, 12, 14),  # (in - 1) * 2 + (2 - 1) + 1 = 2 * in
        8 * 4 * 2 * 2 * 2 + 4,  # C_in * C_out * k^3 + bias
        5 * 6 * 7 * 8 * 4 * 2 * 2 * 2,  # every input voxel through the kernel
        id="3-D U-Net's up-convolution",
    ),
]


@pytest.mark.parametrize(("shape", "layer", "output", "params", "macs"), CASES)
def test_one_layer(shape: list[int], layer: dict[str, Any], output: tuple[int, ...], params: int, macs: int) -> None:
    result = one_layer(shape, layer)
    assert (result.output_shape, result.params, result.macs) == (output, params, macs)
    bias = output[0] * (result.output_shape[1] * (1 if len(output) == 2 else output[2] * output[3]))
    assert result.flops == 2 * macs + (bias if layer.get("bias", True) else 0)


def test_pools_on_one_and_three_axes() -> None:
    pooled = one_layer([128, 996], {"type": "maxpool", "kernel": 4})
    # floor((996 - 4) / 4) + 1 = 249 outputs of 4 - 1 comparisons each
    assert (pooled.output_shape, pooled.flops) == ((128, 249), 128 * 249 * 3)
    cube = one_layer(
        [64, 16, 56, 56], {"type": "avgpool", "kernel": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1]}
    )
    # D: 16; H, W: floor((56 + 2 - 3) / 2) + 1 = 28; a window of 1 * 3 * 3 = 9 adds-and-divide per output
    assert (cube.output_shape, cube.flops) == ((64, 16, 28, 28), 9 * 64 * 16 * 28 * 28)
    adaptive = one_layer([512, 2, 7, 7], {"type": "adaptive_avgpool", "output": 1})
    # every output reads the whole 2 x 7 x 7 input: 98 values
    assert (adaptive.output_shape, adaptive.flops) == ((512, 1, 1, 1), 512 * 98)
    assert one_layer([512, 2, 7, 7], {"type": "global_avgpool"}).output_shape == (512, 1, 1, 1)


def test_norms_activations_and_merges_keep_any_rank() -> None:
    analysis = analyze_text(
        "input: [4, 3, 5, 6]\nlayers:\n"
        "  - {type: batchnorm, name: bn}\n  - {type: relu}\n  - {type: groupnorm, groups: 2, name: gn}\n"
        "  - {type: add, inputs: [bn, gn], name: sum}\n  - {type: flatten, name: flat}\n"
    )
    layers = {layer.name: layer for layer in analysis.layers}
    assert layers["bn"].params == 2 * 4 and layers["bn"].flops == 2 * 4 * 3 * 5 * 6
    assert layers["gn"].params == 2 * 4 and layers["sum"].output_shape == (4, 3, 5, 6)
    assert layers["flat"].output_shape == (4 * 3 * 5 * 6,)


def test_upsample_modes_by_rank() -> None:
    line = one_layer([2, 10], {"type": "upsample", "scale": 2, "mode": "linear"})
    # 2 neighbours: 2 multiplies and 1 add per output
    assert (line.output_shape, line.flops) == ((2, 20), 3 * 2 * 20)
    volume = one_layer([2, 3, 4, 5], {"type": "upsample", "scale": [1, 2, 2], "mode": "trilinear"})
    # 8 neighbours: 8 multiplies and 7 adds per output
    assert (volume.output_shape, volume.flops) == ((2, 3, 8, 10), 15 * 2 * 3 * 8 * 10)
    nearest = one_layer([2, 3, 4, 5], {"type": "upsample", "size": [6, 8, 10]})
    assert (nearest.output_shape, nearest.flops) == ((2, 6, 8, 10), 0)


def test_pad_and_crop_per_axis() -> None:
    padded = one_layer([16, 100], {"type": "pad", "padding": [8, 0]})  # a causal conv's left padding
    assert padded.output_shape == (16, 108)
    cube = one_layer([1, 4, 4, 4], {"type": "pad", "padding": 1})
    assert cube.output_shape == (1, 6, 6, 6)
    cropped = one_layer([8, 20, 21, 22], {"type": "crop", "size": [16, 17, 18]})
    assert cropped.output_shape == (8, 16, 17, 18)


def test_linear_flattens_a_one_d_map_and_maps_positions_per_position() -> None:
    flat = one_layer([64, 10], {"type": "linear", "units": 5})
    assert (flat.output_shape, flat.params) == ((5,), 640 * 5 + 5)
    per_position = one_layer([64, 10], {"type": "linear", "units": 5, "per_position": True})
    assert (per_position.output_shape, per_position.macs) == ((5, 10), 10 * 64 * 5)


# --- receptive fields, explain, warnings -----------------------------------------------------------------------------


def test_receptive_fields_have_one_value_per_axis() -> None:
    analysis = analyze_layers(
        [1, 16000], [{"type": "conv", "filters": 4, "kernel": 80, "stride": 16}, {"type": "maxpool", "kernel": 4}]
    )
    conv, pool = analysis.layers
    # 80 samples; the pool reads 4 outputs 16 apart: 80 + (4 - 1) * 16 = 128, jump 16 * 4 = 64
    assert conv.receptive_field.to_dict()["size"] == [80] and pool.receptive_field.to_dict()["size"] == [128]
    assert pool.receptive_field.to_dict()["jump"] == [64]
    video = analyze_layers([3, 8, 32, 32], [{"type": "conv", "filters": 4, "kernel": [3, 7, 7], "stride": [1, 2, 2]}])
    assert video.layers[0].receptive_field.to_dict()["size"] == [3, 7, 7]


def test_explain_names_each_axis() -> None:
    (conv,) = analyze_layers([1, 100], [{"type": "conv", "filters": 8, "kernel": 9}]).layers
    steps = {step.label: step for step in explain_layer(conv).steps}
    assert steps["L_out"].symbols == "floor((L_in + p + p - d * (k - 1) - 1) / s) + 1"
    assert steps["L_out"].value == 92  # floor((100 - 8 - 1) / 1) + 1
    (cube,) = analyze_layers([2, 4, 6, 8], [{"type": "conv", "filters": 3, "kernel": [1, 3, 3]}]).layers
    steps = {step.label: step for step in explain_layer(cube).steps}
    assert steps["params"].symbols == "k_d * k_h * k_w * C_in * C_out + C_out"
    assert [steps[name].value for name in ("D_out", "H_out", "W_out")] == [4, 4, 6]


def test_unread_positions_of_a_one_d_map() -> None:
    (conv,) = analyze_layers([1, 100], [{"type": "conv", "filters": 1, "kernel": 4, "stride": 4, "padding": 1}]).layers
    # out = floor((100 + 2 - 4) / 4) + 1 = 25; windows reach (25 - 1) * 4 + 4 - 1 = 99 of 100
    (finding,) = conv.warnings
    assert finding.code == "unread" and "99 of 100 input positions" in finding.message
    assert "the last 1 position of the input is never read" in finding.message


@pytest.mark.parametrize(
    ("shape", "layer", "words"),
    [
        (
            [1, 100],
            {"type": "conv", "filters": 1, "kernel": [3, 3]},
            ["'kernel' 3x3 gives 2 sizes", "100 has 1 spatial axis"],
        ),
        (
            [1, 4, 8, 8],
            {"type": "maxpool", "kernel": [2, 2]},
            ["'kernel' 2x2 gives 2 sizes", "4x8x8 has 3 spatial axes"],
        ),
        ([1, 10], {"type": "upsample", "scale": 2, "mode": "bilinear"}, ["mode bilinear interpolates 2 spatial axes"]),
        ([1, 10], {"type": "pixel_shuffle", "factor": 1}, ["needs a CxHxW feature map"]),
        ([1, 10], {"type": "pad", "padding": [1, 1, 1, 1]}, ["'padding' gives 4 sides", "give one number or 2"]),
    ],
)
def test_a_size_of_another_rank_is_a_located_error(tmp_path, shape: list[int], layer: dict[str, Any], words: list[str]):
    spec = tmp_path / "net.yaml"
    items = ", ".join(f"{key}: {value}" for key, value in layer.items())
    spec.write_text(f"input: {shape}\nlayers:\n  - {{{items}}}\n", encoding="utf-8")
    result = run_cli("analyze", str(spec))
    assert result.code == 2 and f"{spec}:3:5: error: layer" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def test_an_input_of_any_rank_is_read_as_written() -> None:
    assert analyze_text("input: [1, 16000]\nlayers: [{type: relu}]\n").output_shape == (1, 16000)
    assert analyze_text("input: {channels: 1, length: 16000}\nlayers: [{type: relu}]\n").output_shape == (1, 16000)
    volume = "input: {channels: 1, depth: 32, height: 64, width: 64}\nlayers: [{type: relu}]\n"
    assert analyze_text(volume).output_shape == (1, 32, 64, 64)


def test_patches_are_for_images() -> None:
    result = run_cli(
        "analyze",
        "--mode",
        "deploy",
        "--patches",
        "2x2",
        "-",
        stdin="input: [1, 64]\nlayers: [{type: conv, filters: 2, kernel: 3}]\n",
    )
    assert result.code == 2 and "patch-based inference cuts images" in result.stderr


# --- ONNX files of 1-D and 3-D networks -----------------------------------------------------------------------------


def test_an_onnx_audio_cnn_is_read_on_one_axis(tmp_path) -> None:
    from tests import onnxbuild as ob

    data = ob.model(
        [
            ob.node("Conv", ["x", "w1", "b1"], ["c1"], "/conv1/Conv", kernel_shape=[80], strides=[16]),
            ob.node("BatchNormalization", ["c1", "g", "be", "m", "v"], ["n1"], "/bn1/BatchNormalization"),
            ob.node("Relu", ["n1"], ["r1"], "/relu1/Relu"),
            ob.node("MaxPool", ["r1"], ["p1"], "/pool1/MaxPool", kernel_shape=[4], strides=[4]),
            ob.node("Conv", ["p1", "w2"], ["c2"], "/conv2/Conv", kernel_shape=[3], pads=[1, 2]),
            ob.node("ReduceMean", ["c2"], ["m2"], "/mean/ReduceMean", axes=[2], keepdims=0),
        ],
        [("x", [1, 1, 16000])],
        [("m2", [1, 32])],
        [
            ob.tensor("w1", [32, 1, 80]),
            ob.tensor("b1", [32]),
            *(ob.tensor(name, [32]) for name in ("g", "be", "m", "v")),
            ob.tensor("w2", [32, 32, 3]),
        ],
    )
    path = tmp_path / "m5.onnx"
    path.write_bytes(data)
    analysis = analyze(str(path))
    shapes = {layer.name: layer.output_shape for layer in analysis.layers}
    # conv1: floor((16000 - 80) / 16) + 1 = 996; pool1: 996 / 4 = 249; pads [1, 2] (begin 1, end 2) are asymmetric:
    # a pad layer first, 249 + 3 = 252, then the conv: 252 - 3 + 1 = 250
    assert shapes["conv1"] == (32, 996) and shapes["pool1"] == (32, 249)
    assert shapes["conv2.pad"] == (32, 252) and shapes["conv2"] == (32, 250)
    assert analysis.output_shape == (32,)
    assert (
        analysis.total.params == (80 * 32 + 32) + 2 * 32 + 3 * 32 * 32
    )  # BN: gamma, beta (its statistics are buffers)
    assert analysis.total.macs == 996 * 32 * 80 + 250 * 32 * 3 * 32


def test_an_onnx_video_cnn_is_read_on_three_axes(tmp_path) -> None:
    from tests import onnxbuild as ob

    data = ob.model(
        [
            ob.node(
                "Conv",
                ["x", "w1"],
                ["c1"],
                "/stem/Conv",
                kernel_shape=[3, 7, 7],
                strides=[1, 2, 2],
                pads=[1, 3, 3, 1, 3, 3],
            ),
            ob.node("GlobalAveragePool", ["c1"], ["g1"], "/pool/GlobalAveragePool"),
            ob.node("Flatten", ["g1"], ["f1"], "/flatten/Flatten"),
        ],
        [("x", [1, 3, 16, 112, 112])],
        [("f1", [1, 64])],
        [ob.tensor("w1", [64, 3, 3, 7, 7])],
    )
    path = tmp_path / "video.onnx"
    path.write_bytes(data)
    analysis = analyze(str(path))
    stem = analysis.layers[0]
    assert stem.output_shape == (64, 16, 56, 56) and stem.params == 3 * 7 * 7 * 3 * 64
    assert analysis.output_shape == (64,)
    assert stem.receptive_field.to_dict()["size"] == [3, 7, 7]

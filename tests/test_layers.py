"""Every layer kind of the catalogue: output shape, params, buffers, MACs and FLOPs from hand arithmetic.

Output sizes follow PyTorch's documented formulas (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d,
nn.AdaptiveAvgPool2d); each expected size below is that formula worked out by hand in a comment.
FLOPs follow the convention stated in convcalc/kinds/__init__.py: 2 x MACs + the element-wise work of the kind.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc.core.errors import SpecError
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.kinds.windows import all_ones, same_padding
from tests.netbuild import analyze_layers, one_layer
from tests.test_modern_kinds import MODERN_KINDS
from tests.test_tensor_ops import TENSOR_KINDS

# --- conv ------------------------------------------------------------------------------------------
# PyTorch nn.Conv2d: out = floor((in + 2*pad - dilation*(k-1) - 1) / stride) + 1;
# params = k_h*k_w*(C_in/groups)*C_out (+ C_out bias); MACs = H_out*W_out*C_out*k_h*k_w*(C_in/groups).

CONV_CASES = [
    pytest.param(
        [3, 32, 32],
        {"filters": 16, "kernel": 5},
        (16, 28, 28),  # 32 - 5 + 1
        5 * 5 * 3 * 16 + 16,
        28 * 28 * 16 * 5 * 5 * 3,
        id="5x5 valid with bias",
    ),
    pytest.param(
        [3, 32, 32],
        {"filters": 16, "kernel": 5, "bias": False},
        (16, 28, 28),
        5 * 5 * 3 * 16,
        28 * 28 * 16 * 5 * 5 * 3,
        id="bias false",
    ),
    pytest.param(
        [3, 227, 227],
        {"filters": 96, "kernel": 11, "stride": 4},
        (96, 55, 55),  # (227 - 11) / 4 + 1
        11 * 11 * 3 * 96 + 96,  # 34,944: AlexNet conv1
        55 * 55 * 96 * 11 * 11 * 3,  # 105,415,200
        id="AlexNet conv1 stride 4",
    ),
    pytest.param(
        [3, 224, 224],
        {"filters": 64, "kernel": 7, "stride": 2, "padding": 3, "bias": False},
        (64, 112, 112),  # floor((224 + 6 - 6 - 1) / 2) + 1 = 111 + 1
        7 * 7 * 3 * 64,  # 9,408: ResNet conv1
        112 * 112 * 64 * 7 * 7 * 3,  # 118,013,952
        id="ResNet conv1 7x7/2 pad 3",
    ),
    pytest.param(
        [1, 8, 8],
        {"filters": 1, "kernel": 3, "stride": 2},
        (1, 3, 3),  # floor((8 - 3) / 2) + 1 = floor(2.5) + 1
        3 * 3 * 1 * 1 + 1,
        3 * 3 * 1 * 3 * 3 * 1,
        id="stride floors",
    ),
    pytest.param(
        [4, 32, 32],
        {"filters": 8, "kernel": 3, "dilation": 2},
        (8, 28, 28),  # 32 - 2*(3-1) - 1 + 1
        3 * 3 * 4 * 8 + 8,
        28 * 28 * 8 * 3 * 3 * 4,
        id="dilation 2",
    ),
    pytest.param(
        [4, 32, 32],
        {"filters": 8, "kernel": 3, "dilation": 2, "padding": 2},
        (8, 32, 32),  # 32 + 4 - 4 - 1 + 1
        3 * 3 * 4 * 8 + 8,
        32 * 32 * 8 * 3 * 3 * 4,
        id="dilation 2 padding 2 keeps size",
    ),
    pytest.param(
        [96, 27, 27],
        {"filters": 256, "kernel": 5, "padding": 2, "groups": 2},
        (256, 27, 27),
        5 * 5 * 48 * 256 + 256,  # AlexNet conv2: each filter sees 96/2 channels
        27 * 27 * 256 * 5 * 5 * 48,
        id="groups 2",
    ),
    pytest.param(
        [32, 112, 112],
        {"filters": 32, "kernel": 3, "padding": 1, "groups": 32, "bias": False},
        (32, 112, 112),
        3 * 3 * 1 * 32,  # 288: MobileNet's first depthwise 3x3
        112 * 112 * 32 * 3 * 3 * 1,
        id="depthwise groups == C_in",
    ),
    pytest.param(
        [32, 56, 56],
        {"filters": 64, "kernel": 3, "padding": 1, "groups": 32, "bias": False},
        (64, 56, 56),
        3 * 3 * 1 * 64,  # depth multiplier 2
        56 * 56 * 64 * 3 * 3 * 1,
        id="depthwise multiplier 2",
    ),
    pytest.param(
        [128, 17, 17],
        {"filters": 192, "kernel": [1, 7], "padding": [0, 3], "bias": False},
        (192, 17, 17),  # Inception-v3 1x7: H 17 - 1 + 1, W 17 + 6 - 7 + 1
        1 * 7 * 128 * 192,
        17 * 17 * 192 * 1 * 7 * 128,
        id="asymmetric kernel 1x7",
    ),
    pytest.param(
        [128, 17, 17],
        {"filters": 192, "kernel": [7, 1], "padding": [3, 0], "bias": False},
        (192, 17, 17),
        7 * 1 * 128 * 192,
        17 * 17 * 192 * 7 * 1 * 128,
        id="asymmetric kernel 7x1",
    ),
    pytest.param(
        [6, 9, 11],
        {"filters": 6, "kernel": [3, 5]},
        (6, 7, 7),  # H 9 - 3 + 1, W 11 - 5 + 1
        3 * 5 * 6 * 6 + 6,
        7 * 7 * 6 * 3 * 5 * 6,
        id="asymmetric kernel 3x5 on a non-square input",
    ),
    pytest.param(
        [8, 10, 10],
        {"filters": 8, "kernel": 3, "stride": [2, 1], "padding": 1},
        (8, 5, 10),  # H floor((10 + 2 - 3) / 2) + 1 = 5, W (10 + 2 - 3) / 1 + 1 = 10
        3 * 3 * 8 * 8 + 8,
        5 * 10 * 8 * 3 * 3 * 8,
        id="asymmetric stride",
    ),
    pytest.param(
        [3, 7, 7],
        {"filters": 2, "kernel": 3, "padding": "valid"},
        (2, 5, 5),  # valid = no padding: 7 - 3 + 1
        3 * 3 * 3 * 2 + 2,
        5 * 5 * 2 * 3 * 3 * 3,
        id="valid",
    ),
    pytest.param(
        [3, 7, 7],
        {"filters": 2, "kernel": 3, "stride": 2, "padding": "valid"},
        (2, 3, 3),  # floor((7 - 3) / 2) + 1
        3 * 3 * 3 * 2 + 2,
        3 * 3 * 2 * 3 * 3 * 3,
        id="valid stride 2",
    ),
    pytest.param(
        [2, 10, 10],
        {"filters": 3, "kernel": 4, "padding": "same"},
        (3, 10, 10),  # even kernel, stride 1: out == in (3 pixels of padding: 1 top/left, 2 bottom/right)
        4 * 4 * 2 * 3 + 3,
        10 * 10 * 3 * 4 * 4 * 2,  # every output position applies the whole kernel, padding included
        id="same even kernel",
    ),
]


@pytest.mark.parametrize(("input_shape", "keys", "shape", "params", "macs"), CONV_CASES)
def test_conv(input_shape: list[int], keys: dict[str, Any], shape: tuple[int, ...], params: int, macs: int) -> None:
    layer = one_layer(input_shape, {"type": "conv", **keys})
    c_out, h_out, w_out = shape
    bias_adds = c_out * h_out * w_out if keys.get("bias", True) else 0
    assert (layer.output_shape, layer.params, layer.buffers, layer.macs) == (shape, params, 0, macs)
    assert layer.flops == 2 * macs + bias_adds


# padding: same. Stride 1 (PyTorch's padding='same'): out == in for odd and even kernels, with dilation too.
# Stride > 1 (TensorFlow's 'SAME'): out = ceil(in / stride).
SAME_CASES = [
    pytest.param(28, 5, 1, 1, 28, id="k5 s1"),
    pytest.param(13, 3, 1, 1, 13, id="k3 s1"),
    pytest.param(10, 4, 1, 1, 10, id="even k4 s1"),
    pytest.param(7, 2, 1, 1, 7, id="even k2 s1"),
    pytest.param(10, 3, 1, 2, 10, id="k3 dilation 2 s1"),
    pytest.param(7, 3, 2, 1, 4, id="k3 s2: ceil(7/2)"),
    pytest.param(8, 3, 2, 1, 4, id="k3 s2: ceil(8/2)"),
    pytest.param(224, 7, 2, 1, 112, id="k7 s2: ceil(224/2)"),
    pytest.param(5, 2, 2, 1, 3, id="even k2 s2: ceil(5/2)"),
    pytest.param(7, 1, 2, 1, 4, id="k1 s2: ceil(7/2)"),
    pytest.param(10, 3, 3, 1, 4, id="k3 s3: ceil(10/3)"),
]


@pytest.mark.parametrize(("size", "kernel", "stride", "dilation", "out"), SAME_CASES)
def test_conv_same_padding_output_size(size: int, kernel: int, stride: int, dilation: int, out: int) -> None:
    keys = {"filters": 4, "kernel": kernel, "stride": stride, "dilation": dilation, "padding": "same"}
    layer = one_layer([2, size, size], {"type": "conv", **keys})
    assert layer.output_shape == (4, out, out)


def test_conv_same_padding_on_asymmetric_input_and_stride() -> None:
    layer = one_layer([2, 7, 8], {"type": "conv", "filters": 4, "kernel": [3, 2], "stride": [2, 3], "padding": "same"})
    assert layer.output_shape == (4, 4, 3)  # ceil(7 / 2), ceil(8 / 3)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation", "split"),
    [
        pytest.param(10, 4, 1, 1, (1, 2), id="PyTorch: total 3, the odd pixel after"),
        pytest.param(10, 3, 1, 2, (2, 2), id="PyTorch: total dilation*(k-1) = 4"),
        pytest.param(7, 2, 1, 1, (0, 1), id="PyTorch: total 1, all after"),
        # TensorFlow: total = max((ceil(in/s) - 1)*s + d*(k-1) + 1 - in, 0), before = total // 2
        pytest.param(224, 3, 2, 1, (0, 1), id="TF: (112-1)*2 + 3 - 224 = 1"),
        pytest.param(7, 3, 2, 1, (1, 1), id="TF: (4-1)*2 + 3 - 7 = 2"),
        pytest.param(8, 1, 2, 1, (0, 0), id="TF: (4-1)*2 + 1 - 8 < 0 -> 0"),
    ],
)
def test_same_padding_split(size: int, kernel: int, stride: int, dilation: int, split: tuple[int, int]) -> None:
    assert same_padding(size, kernel, stride, dilation) == split


# --- conv_transpose --------------------------------------------------------------------------------
# PyTorch nn.ConvTranspose2d: out = (in - 1)*stride - 2*pad + dilation*(k-1) + output_padding + 1;
# params = C_in*(C_out/groups)*k_h*k_w (+ C_out); MACs = H_in*W_in*C_in*(C_out/groups)*k_h*k_w.

CONV_TRANSPOSE_CASES = [
    pytest.param(
        [16, 7, 7],
        {"filters": 8, "kernel": 4, "stride": 2, "padding": 1},
        (8, 14, 14),  # 6*2 - 2 + 3 + 0 + 1
        16 * 8 * 4 * 4 + 8,
        7 * 7 * 16 * 8 * 4 * 4,
        id="k4 s2 p1 doubles",
    ),
    pytest.param(
        [16, 7, 7],
        {"filters": 8, "kernel": 3, "stride": 2, "padding": 1},
        (8, 13, 13),  # 6*2 - 2 + 2 + 0 + 1
        16 * 8 * 3 * 3 + 8,
        7 * 7 * 16 * 8 * 3 * 3,
        id="k3 s2 p1 without output_padding",
    ),
    pytest.param(
        [16, 7, 7],
        {"filters": 8, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
        (8, 14, 14),  # 6*2 - 2 + 2 + 1 + 1
        16 * 8 * 3 * 3 + 8,
        7 * 7 * 16 * 8 * 3 * 3,  # output_padding changes the size, not the work
        id="output_padding 1",
    ),
    pytest.param(
        [16, 5, 5],
        {"filters": 32, "kernel": 3, "groups": 4},
        (32, 7, 7),  # 4 + 2 + 1
        16 * (32 // 4) * 3 * 3 + 32,
        5 * 5 * 16 * (32 // 4) * 3 * 3,
        id="groups 4",
    ),
    pytest.param(
        [4, 5, 5],
        {"filters": 4, "kernel": 3, "dilation": 2},
        (4, 9, 9),  # 4 + 2*2 + 1
        4 * 4 * 3 * 3 + 4,
        5 * 5 * 4 * 4 * 3 * 3,
        id="dilation 2",
    ),
    pytest.param(
        [8, 4, 6],
        {"filters": 4, "kernel": [2, 3], "stride": [2, 1], "padding": [0, 1]},
        (4, 8, 6),  # H 3*2 - 0 + 1 + 1 = 8, W 5*1 - 2 + 2 + 1 = 6
        8 * 4 * 2 * 3 + 4,
        4 * 6 * 8 * 4 * 2 * 3,
        id="asymmetric kernel, stride and padding",
    ),
    pytest.param(
        [100, 1, 1],
        {"filters": 512, "kernel": 4, "bias": False},
        (512, 4, 4),  # DCGAN generator's first layer: 0 + 3 + 1
        100 * 512 * 4 * 4,  # 819,200
        1 * 1 * 100 * 512 * 4 * 4,
        id="DCGAN 1x1 -> 4x4",
    ),
    pytest.param(
        [1024, 28, 28],
        {"filters": 512, "kernel": 2, "stride": 2},
        (512, 56, 56),  # U-Net up-conv 2x2: 27*2 + 1 + 1
        1024 * 512 * 2 * 2 + 512,
        28 * 28 * 1024 * 512 * 2 * 2,
        id="U-Net up-conv 2x2/2",
    ),
]


@pytest.mark.parametrize(("input_shape", "keys", "shape", "params", "macs"), CONV_TRANSPOSE_CASES)
def test_conv_transpose(
    input_shape: list[int], keys: dict[str, Any], shape: tuple[int, ...], params: int, macs: int
) -> None:
    layer = one_layer(input_shape, {"type": "conv_transpose", **keys})
    c_out, h_out, w_out = shape
    bias_adds = c_out * h_out * w_out if keys.get("bias", True) else 0
    assert (layer.output_shape, layer.params, layer.buffers, layer.macs) == (shape, params, 0, macs)
    assert layer.flops == 2 * macs + bias_adds


def test_conv_transpose_macs_count_input_pixels_not_output_pixels() -> None:
    # Each of the 7x7x16 input values is multiplied by 8 x 4x4 weights. Counting from the 14x14 output
    # (as several peer tools do) would give 4x this: 14*14*8*4*4*16.
    layer = one_layer([16, 7, 7], {"type": "conv_transpose", "filters": 8, "kernel": 4, "stride": 2, "padding": 1})
    assert layer.macs == 7 * 7 * 16 * 8 * 4 * 4 == 100_352
    assert layer.macs != 14 * 14 * 8 * 4 * 4 * 16


# --- linear ----------------------------------------------------------------------------------------


def test_linear_on_a_vector() -> None:
    layer = one_layer([512], {"type": "linear", "units": 10})
    assert (layer.output_shape, layer.params, layer.macs) == ((10,), 512 * 10 + 10, 512 * 10)
    assert layer.flops == 2 * 512 * 10 + 10  # 2 x MACs + one bias add per unit
    assert layer.note is None


def test_linear_without_bias() -> None:
    layer = one_layer([4096], {"type": "linear", "units": 1000, "bias": False})
    assert (layer.params, layer.macs, layer.flops) == (4096 * 1000, 4096 * 1000, 2 * 4096 * 1000)


def test_linear_flattens_a_feature_map_and_says_so() -> None:
    layer = one_layer([256, 6, 6], {"type": "linear", "units": 4096})
    assert layer.output_shape == (4096,)
    assert layer.params == 256 * 6 * 6 * 4096 + 4096
    assert layer.macs == 256 * 6 * 6 * 4096
    assert layer.note is not None
    assert "256x6x6" in layer.note and "9,216" in layer.note  # 256 * 6 * 6 = 9,216 features


def test_linear_after_flatten_equals_implicit_flatten() -> None:
    explicit = analyze_layers([256, 6, 6], [{"type": "flatten"}, {"type": "linear", "units": 4096}])
    implicit = analyze_layers([256, 6, 6], [{"type": "linear", "units": 4096}])
    assert explicit.total.params == implicit.total.params == 256 * 6 * 6 * 4096 + 4096


# --- batchnorm -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_shape", "affine", "params", "flops"),
    [
        pytest.param([64, 56, 56], True, 2 * 64, 2 * 64 * 56 * 56, id="2d affine"),
        pytest.param([64, 56, 56], False, 0, 2 * 64 * 56 * 56, id="2d no affine"),
        pytest.param([100], True, 2 * 100, 2 * 100, id="1d on a vector"),
    ],
)
def test_batchnorm(input_shape: list[int], affine: bool, params: int, flops: int) -> None:
    layer = one_layer(input_shape, {"type": "batchnorm", "affine": affine})
    assert layer.output_shape == tuple(input_shape)
    assert layer.params == params  # gamma and beta per channel
    assert layer.buffers == 2 * input_shape[0]  # running mean and variance, always
    assert (layer.macs, layer.flops) == (0, flops)  # scale and shift: 2 per element


def test_batchnorm_affine_is_the_default() -> None:
    assert one_layer([32, 4, 4], {"type": "batchnorm"}).params == 2 * 32


# --- pools -----------------------------------------------------------------------------------------
# PyTorch nn.MaxPool2d / AvgPool2d: the conv rule; ceil instead of floor under ceil_mode, and a last
# window that would start in the right padding is dropped. Stride defaults to the kernel.
# FLOPs: maxpool k_h*k_w - 1 comparisons per output element, avgpool k_h*k_w (adds and a divide).

POOL_CASES = [
    pytest.param("maxpool", [64, 112, 112], {"kernel": 3, "stride": 2, "padding": 1}, (64, 56, 56), id="ResNet"),
    pytest.param("maxpool", [96, 55, 55], {"kernel": 3, "stride": 2}, (96, 27, 27), id="AlexNet overlapping"),
    pytest.param("maxpool", [16, 28, 28], {"kernel": 2}, (16, 14, 14), id="stride defaults to kernel"),
    pytest.param("maxpool", [4, 8, 9], {"kernel": [2, 3]}, (4, 4, 3), id="pair kernel, stride defaults to it"),
    # GoogLeNet pools 112 -> 56 with 3x3/2 ceil_mode; floor((112-3)/2)+1 = 55 without ceil_mode.
    pytest.param("maxpool", [64, 112, 112], {"kernel": 3, "stride": 2, "ceil_mode": True}, (64, 56, 56), id="ceil"),
    pytest.param("maxpool", [64, 112, 112], {"kernel": 3, "stride": 2}, (64, 55, 55), id="floor"),
    pytest.param("maxpool", [1, 7, 7], {"kernel": 3, "stride": 2, "ceil_mode": True}, (1, 3, 3), id="ceil exact"),
    # in 6, k 2, s 2, pad 1: ceil((6 + 2 - 2) / 2) + 1 = 4; the last window starts at 3*2 - 1 = 5, inside the input.
    pytest.param(
        "maxpool", [1, 6, 6], {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (1, 4, 4), id="ceil kept"
    ),
    # in 5, k 2, s 2, pad 1: ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window starts at 3*2 - 1 = 5 = the right
    # padding (input indices 0..4), so PyTorch drops it: 3.
    pytest.param(
        "maxpool", [1, 5, 5], {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (1, 3, 3), id="ceil drop"
    ),
    pytest.param(
        "maxpool", [1, 7, 9], {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (1, 4, 5), id="drop on H"
    ),  # H: ceil(7/2)+1 = 5, window 5 starts at 8-1 = 7 = pad -> 4; W: ceil(9/2)+1 = 6, starts at 9 -> 5
    pytest.param("maxpool", [2, 10, 10], {"kernel": 3, "stride": 1, "dilation": 2}, (2, 6, 6), id="dilation 2"),
    pytest.param(
        "maxpool",
        [1, 5, 6],
        {"kernel": [3, 2], "stride": [1, 2], "padding": [1, 0]},
        (1, 5, 3),  # H (5 + 2 - 3) / 1 + 1, W (6 - 2) / 2 + 1
        id="asymmetric kernel, stride, padding",
    ),
    pytest.param("avgpool", [16, 28, 28], {"kernel": 2}, (16, 14, 14), id="avg stride defaults to kernel"),
    pytest.param("avgpool", [32, 8, 8], {"kernel": 3, "stride": 1, "padding": 1}, (32, 8, 8), id="avg 3x3/1 pad 1"),
    pytest.param(
        "avgpool", [8, 7, 7], {"kernel": 2, "stride": 2, "ceil_mode": True}, (8, 4, 4), id="avg ceil"
    ),  # ceil((7 - 2) / 2) + 1 = 4; the 4th window starts at 6, inside
    pytest.param(
        "avgpool", [8, 7, 7], {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (8, 4, 4), id="avg drop"
    ),  # ceil((7 + 2 - 2) / 2) + 1 = 5; the 5th window starts at 4*2 - 1 = 7 = right padding -> 4
]


@pytest.mark.parametrize(("kind", "input_shape", "keys", "shape"), POOL_CASES)
def test_pool(kind: str, input_shape: list[int], keys: dict[str, Any], shape: tuple[int, ...]) -> None:
    layer = one_layer(input_shape, {"type": kind, **keys})
    kernel = keys["kernel"] if isinstance(keys["kernel"], list) else [keys["kernel"]] * 2
    window = kernel[0] * kernel[1]
    per_output = window - 1 if kind == "maxpool" else window
    assert (layer.output_shape, layer.params, layer.buffers, layer.macs) == (shape, 0, 0, 0)
    assert layer.flops == per_output * shape[0] * shape[1] * shape[2]


def test_maxpool_flops_written_out() -> None:
    layer = one_layer([64, 112, 112], {"type": "maxpool", "kernel": 3, "stride": 2, "padding": 1})
    assert layer.flops == (3 * 3 - 1) * 64 * 56 * 56


# --- adaptive and global pools ---------------------------------------------------------------------
# PyTorch's adaptive window i on an axis spans [floor(i*in/out), ceil((i+1)*in/out)).
# FLOPs: avg = sum of window sizes over outputs; max = sum of (window size - 1).

ADAPTIVE_CASES = [
    # 13 -> 6 (torchvision AlexNet): [0,3) [2,5) [4,7) [6,9) [8,11) [10,13): six windows of 3 = 18 per axis
    pytest.param("adaptive_avgpool", [256, 13, 13], [6, 6], (256, 6, 6), 256 * 18 * 18, id="AlexNet 13->6"),
    # 7 -> 3: [0,3) [2,5) [4,7): 3 + 3 + 3 = 9 per axis (overlapping, uneven split of 7)
    pytest.param("adaptive_avgpool", [4, 7, 7], [3, 3], (4, 3, 3), 4 * 9 * 9, id="avg 7->3"),
    pytest.param("adaptive_maxpool", [4, 7, 7], [3, 3], (4, 3, 3), 4 * 3 * 3 * (3 * 3 - 1), id="max 7->3"),
    # 7 -> 7 (torchvision VGG on a 224 input): one element per window
    pytest.param("adaptive_avgpool", [512, 7, 7], 7, (512, 7, 7), 512 * 7 * 7, id="VGG identity 7->7"),
    # 2 -> 3 (upsampling): [0,1) [0,2) [1,2): 1 + 2 + 1 = 4 per axis
    pytest.param("adaptive_avgpool", [1, 2, 2], [3, 3], (1, 3, 3), 4 * 4, id="avg 2->3"),
    # H 10 -> 3: [0,4) [3,7) [6,10) = 12; W 5 -> 2: [0,3) [2,5) = 6
    pytest.param("adaptive_avgpool", [2, 10, 5], [3, 2], (2, 3, 2), 2 * 12 * 6, id="avg 10x5->3x2"),
    pytest.param("adaptive_maxpool", [2, 10, 5], [3, 2], (2, 3, 2), 2 * 12 * 6 - 2 * 3 * 2, id="max 10x5->3x2"),
]


@pytest.mark.parametrize(("kind", "input_shape", "output", "shape", "flops"), ADAPTIVE_CASES)
def test_adaptive_pool(kind: str, input_shape: list[int], output: Any, shape: tuple[int, ...], flops: int) -> None:
    layer = one_layer(input_shape, {"type": kind, "output": output})
    assert (layer.output_shape, layer.params, layer.buffers, layer.macs, layer.flops) == (shape, 0, 0, 0, flops)


@pytest.mark.parametrize(
    ("kind", "flops"),
    [("global_avgpool", 512 * 7 * 7), ("global_maxpool", 512 * (7 * 7 - 1))],
)
def test_global_pool(kind: str, flops: int) -> None:
    layer = one_layer([512, 7, 7], {"type": kind})
    assert (layer.output_shape, layer.params, layer.macs, layer.flops) == ((512, 1, 1), 0, 0, flops)


# --- shape-only and element-wise layers ------------------------------------------------------------

SIMPLE_CASES = [
    pytest.param([256, 6, 6], {"type": "flatten"}, (256 * 6 * 6,), 0, id="flatten"),
    pytest.param([4096], {"type": "dropout", "rate": 0.5}, (4096,), 0, id="dropout on a vector"),
    pytest.param([64, 8, 8], {"type": "dropout"}, (64, 8, 8), 0, id="dropout on a map"),
    pytest.param([64, 8, 8], {"type": "identity"}, (64, 8, 8), 0, id="identity on a map"),  # nn.Identity
    pytest.param([10], {"type": "identity"}, (10,), 0, id="identity on a vector"),
    # LRN: per element, square and sum `size` neighbours (2*size), then scale, add k, power, divide (3)
    pytest.param([96, 55, 55], {"type": "lrn", "size": 5}, (96, 55, 55), (2 * 5 + 3) * 96 * 55 * 55, id="lrn"),
    pytest.param([96, 55, 55], {"type": "lrn", "size": 3}, (96, 55, 55), (2 * 3 + 3) * 96 * 55 * 55, id="lrn 3"),
    # U-Net (Ronneberger et al. 2015, Fig. 1): the first skip is cropped from 568x568 to 392x392
    pytest.param([64, 568, 568], {"type": "crop", "size": 392}, (64, 392, 392), 0, id="crop U-Net"),
    # an imported op convcalc does not count: the stated shape, no cost
    pytest.param([8, 4, 4], {"type": "opaque", "op": "NonMaxSuppression", "shape": [5, 3]}, (5, 3), 0, id="opaque"),
    pytest.param([3, 10, 12], {"type": "crop", "size": [4, 6]}, (3, 4, 6), 0, id="crop pair"),
    pytest.param([64, 28, 28], {"type": "upsample", "scale": 2}, (64, 56, 56), 0, id="upsample nearest"),
    # bilinear: 4 neighbours weighted and summed = 4 multiplies + 3 adds per output element
    pytest.param(
        [64, 28, 28], {"type": "upsample", "scale": 2, "mode": "bilinear"}, (64, 56, 56), 7 * 64 * 56 * 56, id="bilin"
    ),
    pytest.param([1, 5, 5], {"type": "upsample", "scale": [2, 3]}, (1, 10, 15), 0, id="upsample pair scale"),
    pytest.param([8, 7, 7], {"type": "upsample", "size": [100, 50]}, (8, 100, 50), 0, id="upsample to size"),
    # softmax over C at each position: C exps, C - 1 adds, C divides
    pytest.param([1000], {"type": "softmax"}, (1000,), 3 * 1000 - 1, id="softmax vector"),
    pytest.param([21, 4, 4], {"type": "softmax"}, (21, 4, 4), (3 * 21 - 1) * 4 * 4, id="softmax per pixel"),
]


@pytest.mark.parametrize(("input_shape", "entry", "shape", "flops"), SIMPLE_CASES)
def test_weightless_layer(input_shape: list[int], entry: dict[str, Any], shape: tuple[int, ...], flops: int) -> None:
    layer = one_layer(input_shape, entry)
    assert (layer.output_shape, layer.params, layer.buffers, layer.macs, layer.flops) == (shape, 0, 0, 0, flops)


# Activations: FLOPs per element = operations in the formula, with exp, tanh and erf counting 1.
ACTIVATION_CASES = [
    pytest.param("relu", 1, id="relu: max(0, x)"),
    pytest.param("relu6", 2, id="relu6: min(max(0, x), 6)"),
    pytest.param("leaky_relu", 2, id="leaky_relu: max(x, a * x)"),
    pytest.param("sigmoid", 3, id="sigmoid: 1 / (1 + exp(-x))"),
    pytest.param("tanh", 1, id="tanh"),
    pytest.param("silu", 3 + 1, id="silu: x * sigmoid(x)"),
    pytest.param("gelu", 5, id="gelu: x / 2 * (1 + erf(x / sqrt(2)))"),
    pytest.param("hardsigmoid", 1 + 2 + 1, id="hardsigmoid: relu6(x + 3) / 6"),
    pytest.param("hardswish", 1 + 2 + 1 + 1, id="hardswish: x * relu6(x + 3) / 6"),
]


@pytest.mark.parametrize(("kind", "per_element"), ACTIVATION_CASES)
@pytest.mark.parametrize("input_shape", [[8, 4, 5], [10]])
def test_activation(kind: str, per_element: int, input_shape: list[int]) -> None:
    layer = one_layer(input_shape, {"type": kind})
    elements = input_shape[0] * (input_shape[1] * input_shape[2] if len(input_shape) == 3 else 1)
    assert (layer.output_shape, layer.params, layer.buffers, layer.macs) == (tuple(input_shape), 0, 0, 0)
    assert layer.flops == per_element * elements


# --- merges ----------------------------------------------------------------------------------------


def test_concat_of_named_inputs_sums_channels_at_no_cost() -> None:
    analysis = analyze_layers(
        [3, 8, 8],
        [
            {"type": "conv", "name": "a", "filters": 5, "kernel": 1},
            {"type": "conv", "name": "b", "input": "input", "filters": 7, "kernel": 3, "padding": 1},
            {"type": "concat", "name": "joined", "inputs": ["a", "b", "input"]},
        ],
    )
    joined = analysis.layers[-1]
    assert joined.input_shapes == ((5, 8, 8), (7, 8, 8), (3, 8, 8))
    assert (joined.output_shape, joined.params, joined.macs, joined.flops) == ((5 + 7 + 3, 8, 8), 0, 0, 0)


def test_add_costs_one_flop_per_element_per_extra_input() -> None:
    analysis = analyze_layers(
        [4, 6, 6],
        [
            {"type": "relu", "name": "a"},
            {"type": "relu", "name": "b", "input": "input"},
            {"type": "add", "name": "two", "inputs": ["a", "b"]},
            {"type": "add", "name": "three", "inputs": ["a", "b", "two"]},
        ],
    )
    two, three = analysis.layers[-2:]
    assert (two.output_shape, two.params, two.macs, two.flops) == ((4, 6, 6), 0, 0, 1 * 4 * 6 * 6)
    assert three.flops == 2 * 4 * 6 * 6


# --- coverage --------------------------------------------------------------------------------------


def test_arithmetic_broadcasts_from_the_last_axis_one_flop_per_output_element() -> None:
    analysis = analyze_layers(
        [4, 6, 6],
        [
            {"type": "global_avgpool", "name": "mean"},  # 4 x 1 x 1
            {"type": "arithmetic", "name": "centred", "op": "sub", "inputs": ["input", "mean"]},  # pool(x) - x alike
            {"type": "arithmetic", "name": "scaled", "op": "mul", "constant": [1], "inputs": ["centred"]},  # x * 0.125
            {"type": "arithmetic", "name": "shifted", "op": "add", "constant": [6, 1], "inputs": ["scaled"]},  # 1x6x1
        ],
    )
    centred, scaled, shifted = analysis.layers[1:]
    assert (centred.output_shape, centred.params, centred.macs, centred.flops) == ((4, 6, 6), 0, 0, 4 * 6 * 6)
    assert (scaled.output_shape, scaled.flops) == ((4, 6, 6), 4 * 6 * 6)
    assert (shifted.output_shape, shifted.flops) == ((4, 6, 6), 4 * 6 * 6)


def test_an_arithmetic_constant_computed_from_learned_values_counts_them() -> None:
    # Swin's relative position bias: a table of (2 * 7 - 1)^2 = 169 positions x 3 heads, gathered into 3 x 49 x 49
    # and added to the logits: params 169 x 3 = 507, FLOPs one per output element, 3 x 49 x 49 = 7,203
    (layer,) = analyze_layers(
        [3, 49, 49],
        [{"type": "arithmetic", "op": "add", "constant": [3, 49, 49], "learned": 169 * 3, "inputs": ["input"]}],
    ).layers
    assert (layer.params, layer.flops) == (507, 7203)
    with pytest.raises(SpecError, match="'learned' counts the values of a constant"):
        analyze_layers([4], [{"type": "arithmetic", "op": "add", "learned": 4, "inputs": ["input", "input"]}])


def test_a_conv_with_a_learned_gain_per_filter() -> None:
    # NFNet's ScaledStdConv2d(16, 32, 3): weight 3 x 3 x 16 x 32 = 4,608, bias 32, gain 32 (one per filter); the
    # MACs are the conv's, 8 x 8 x 32 x 3 x 3 x 16 = 294,912
    (layer,) = analyze_layers(
        [16, 8, 8], [{"type": "conv", "filters": 32, "kernel": 3, "padding": 1, "gain": True}]
    ).layers
    assert (layer.params, layer.macs) == (4608 + 32 + 32, 294_912)


def test_a_concat_says_along_which_axis_the_sizes_must_agree() -> None:
    # along the channels, every other size must agree; along axis 1 (the height), the channels and width must
    with pytest.raises(SpecError, match="cannot concatenate 4x6x6, 4x8x8: sizes other than the channels differ"):
        analyze_layers([4, 6, 6], [{"type": "upsample", "name": "up", "size": [8, 8]},
                                    {"type": "concat", "inputs": ["input", "up"]}])  # fmt: skip
    with pytest.raises(SpecError, match="cannot concatenate 4x6x6, 2x6x6: sizes other than axis 1 differ"):
        analyze_layers([4, 6, 6], [{"type": "conv", "name": "c", "filters": 2, "kernel": 1},
                                    {"type": "concat", "axis": 1, "inputs": ["input", "c"]}])  # fmt: skip


def test_arithmetic_needs_two_operands_that_broadcast() -> None:
    with pytest.raises(SpecError, match="arithmetic takes two operands"):
        analyze_layers([4, 6, 6], [{"type": "arithmetic", "op": "mul", "inputs": ["input"]}])
    with pytest.raises(SpecError, match="each size must equal the largest or be 1"):
        analyze_layers([4, 6, 6], [{"type": "arithmetic", "op": "mul", "constant": [5, 1, 1], "inputs": ["input"]}])


def test_reduce_keeps_or_drops_its_axes() -> None:
    analysis = analyze_layers(
        [4, 6, 5],
        [
            {"type": "reduce", "name": "rows", "op": "sum", "axes": [1]},  # 4 x 1 x 5, one add per input element
            {"type": "reduce", "name": "peak", "op": "max", "axes": [0, 2], "keep": False, "input": "input"},  # 6
            {"type": "reduce", "name": "mean", "op": "mean", "axes": [2], "input": "input"},  # 4 x 6 x 1
        ],
    )
    rows, peak, mean = analysis.layers
    assert (rows.output_shape, rows.params, rows.macs, rows.flops) == ((4, 1, 5), 0, 0, 4 * 6 * 5)
    assert (peak.output_shape, peak.flops) == ((6,), 4 * 6 * 5)
    assert (mean.output_shape, mean.flops) == ((4, 6, 1), 4 * 6 * 5 + 4 * 6)  # + one division per output
    with pytest.raises(SpecError, match="cannot reduce axis 3 of 4x6x5"):
        analyze_layers([4, 6, 5], [{"type": "reduce", "op": "sum", "axes": [3]}])


COVERED = {
    "reduce",
    "arithmetic",
    "conv",
    "conv_transpose",
    "linear",
    "batchnorm",
    *(case.values[0] for case in POOL_CASES),
    *(case.values[0] for case in ADAPTIVE_CASES),
    "global_avgpool",
    "global_maxpool",
    *(case.values[1]["type"] for case in SIMPLE_CASES),
    *(case.values[0] for case in ACTIVATION_CASES),
    "concat",
    "add",
    *MODERN_KINDS,  # tests/test_modern_kinds.py
    *TENSOR_KINDS,  # tests/test_tensor_ops.py
}


def test_every_catalogue_kind_has_a_test_here() -> None:
    missing = sorted(set(CATALOGUE) - COVERED)
    assert not missing, f"layer kinds without shape/params/MACs tests in tests/test_layers.py: {missing}"


def test_a_shared_weight_counts_no_parameters_its_own_macs() -> None:
    # shared: true (another layer's weights, as RetinaNet's head on five levels): params 0; the MACs are its own:
    # conv 4 -> 8, 3x3 on 6x6 padded: 6 x 6 x 8 x 9 x 4; transposed 4 -> 8, 2x2 stride 2: 4 x 8 x 4 x 6 x 6;
    # linear over 4 x 6 x 6 = 144 features to 10; per position 4 -> 10 channels at 36 positions
    layers = analyze_layers(
        [4, 6, 6],
        [
            {"type": "conv", "filters": 8, "kernel": 3, "padding": 1, "shared": True, "input": "input"},
            {"type": "conv_transpose", "filters": 8, "kernel": 2, "stride": 2, "shared": True, "input": "input"},
            {"type": "linear", "units": 10, "shared": True, "input": "input"},
            {"type": "linear", "units": 10, "per_position": True, "shared": True, "input": "input"},
        ],
    ).layers
    assert [layer.params for layer in layers] == [0, 0, 0, 0]
    assert [layer.macs for layer in layers] == [6 * 6 * 8 * 9 * 4, 4 * 8 * 4 * 6 * 6, 144 * 10, 36 * 4 * 10]


def test_a_linear_flattens_a_1d_map() -> None:
    # a 1-D map of 4 channels x 5 positions: 20 features, 20 x 3 + 3 = 63 params; exported with nn.Flatten first
    (layer,) = analyze_layers([4, 5], [{"type": "linear", "units": 3}]).layers
    assert (layer.params, layer.note) == (63, "flattens 4x5 = 20")
    assert layer.kind.torch_module(layer.config, layer.input_shapes).startswith("nn.Sequential(nn.Flatten(), ")


def test_asymmetric_same_padding_on_a_1d_map_puts_the_odd_pixel_after() -> None:
    # kernel 4 at stride 1: 3 pixels of padding, 1 before and 2 after
    (layer,) = analyze_layers([2, 8], [{"type": "conv", "filters": 2, "kernel": 4, "padding": "same"}]).layers
    (warning,) = [finding.message for finding in layer.warnings if finding.code == "asymmetric"]
    assert "1/2 positions before/after (the odd pixel goes after," in warning
    # on a 2-D map, per axis: the odd row goes to the bottom, the odd column to the right
    (layer,) = analyze_layers([2, 8, 8], [{"type": "conv", "filters": 2, "kernel": 4, "padding": "same"}]).layers
    (warning,) = [finding.message for finding in layer.warnings if finding.code == "asymmetric"]
    assert "1/2 rows, 1/2 columns before/after (the odd pixel goes bottom/right," in warning


def test_a_kernel_of_ones_on_every_axis() -> None:
    """A 1x1 kernel: 1 given once (every axis), or 1 on each axis given; a 3, or a 1x3, is not one."""
    assert all_ones(1) and all_ones((1,)) and all_ones((1, 1)) and all_ones((1, 1, 1))
    assert not all_ones(3) and not all_ones((1, 3)) and not all_ones((3, 1, 1))

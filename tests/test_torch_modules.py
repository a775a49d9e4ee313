"""Each kind's torch module (`convcalc export`) builds PyTorch's module with exactly the layer's values.

No torch needed: the constructor signatures and defaults below are PyTorch's documented ones (the torch.nn reference
pages of torch 2.x), written out here. A generated call and the expected call written by hand in each case are both
bound to the signature the way Python binds a call, defaults filled in, and compared argument by argument; and a
keyword equal to torch's default must be left out (export writes only what differs from torch's defaults). The
helper classes convcalc writes where torch has none are bound to the ``__init__`` of their own source.
(`tests/test_export_torch.py` builds the exported networks in torch when it is installed.)
"""

from __future__ import annotations

import ast
from typing import Any

import pytest

from convcalc.kinds.catalogue import CATALOGUE
from tests.netbuild import one_layer

Signature = tuple[tuple[str, ...], dict[str, Any]]
"""Positional parameter names, then the parameters with defaults (name -> default)."""

PAIRS = {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size"}
"""Arguments torch reads as (height, width) when given one number."""

ACTIVATION = ((), {"inplace": False})
BATCHNORM = (("num_features",), {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True})
LINEAR = (("in_features", "out_features"), {"bias": True, "device": None, "dtype": None})

TORCH: dict[str, Signature] = {
    "nn.Conv2d": (
        ("in_channels", "out_channels", "kernel_size"),
        {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"},
    ),
    "nn.ConvTranspose2d": (
        ("in_channels", "out_channels", "kernel_size"),
        {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True, "dilation": 1},
    ),
    "nn.Conv1d": (
        ("in_channels", "out_channels", "kernel_size"),
        {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"},
    ),
    "nn.Conv3d": (
        ("in_channels", "out_channels", "kernel_size"),
        {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"},
    ),
    "nn.MaxPool1d": (
        ("kernel_size",),
        {"stride": None, "padding": 0, "dilation": 1, "return_indices": False, "ceil_mode": False},
    ),
    "nn.BatchNorm3d": BATCHNORM,
    "nn.ZeroPad1d": (("padding",), {}),
    "nn.Linear": LINEAR,
    "nn.BatchNorm2d": BATCHNORM,
    "nn.BatchNorm1d": BATCHNORM,
    "nn.MaxPool2d": (
        ("kernel_size",),
        {"stride": None, "padding": 0, "dilation": 1, "return_indices": False, "ceil_mode": False},
    ),
    "nn.AvgPool2d": (
        ("kernel_size",),
        {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True, "divisor_override": None},
    ),
    "nn.AdaptiveAvgPool2d": (("output_size",), {}),
    "nn.AdaptiveMaxPool2d": (("output_size",), {"return_indices": False}),
    "nn.Flatten": ((), {"start_dim": 1, "end_dim": -1}),
    "nn.Dropout": ((), {"p": 0.5, "inplace": False}),
    "nn.Identity": ((), {}),  # nn.Identity(*args, **kwargs) ignores its arguments
    "nn.LocalResponseNorm": (("size",), {"alpha": 1e-4, "beta": 0.75, "k": 1.0}),
    "nn.Upsample": (
        (),
        {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None, "recompute_scale_factor": None},
    ),
    "nn.ReLU": ACTIVATION,
    "nn.ReLU6": ACTIVATION,
    "nn.LeakyReLU": ((), {"negative_slope": 0.01, "inplace": False}),
    "nn.Sigmoid": ((), {}),
    "nn.Tanh": ((), {}),
    "nn.SiLU": ACTIVATION,
    "nn.GELU": ((), {"approximate": "none"}),
    "nn.Hardsigmoid": ACTIVATION,
    "nn.Hardswish": ACTIVATION,
    "nn.Softmax": ((), {"dim": None}),
    "nn.LayerNorm": (("normalized_shape",), {"eps": 1e-5, "elementwise_affine": True, "bias": True}),
    "nn.GroupNorm": (("num_groups", "num_channels"), {"eps": 1e-5, "affine": True}),
    "nn.PixelShuffle": (("upscale_factor",), {}),
    "nn.PixelUnshuffle": (("downscale_factor",), {}),
    "nn.ZeroPad2d": (("padding",), {}),
    "nn.ZeroPad3d": (("padding",), {}),
}


def helper_signatures() -> dict[str, Signature]:
    """The ``__init__`` of every helper class the catalogue writes (a class without one takes no arguments)."""
    signatures: dict[str, Signature] = {}
    sources = {helper for kind in CATALOGUE.values() for helper in (kind.torch_helper,) if helper}
    for source in sources:
        (cls,) = ast.parse(source).body
        assert isinstance(cls, ast.ClassDef)
        init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
        if init is None:
            signatures[cls.name] = ((), {})
            continue
        names = [argument.arg for argument in init.args.args[1:]]
        defaults = [ast.literal_eval(default) for default in init.args.defaults]
        required = names[: len(names) - len(defaults)]
        signatures[cls.name] = (tuple(required), dict(zip(names[len(required) :], defaults, strict=True)))
        if init.args.vararg:
            signatures[cls.name] = (("*" + init.args.vararg.arg,), {})
    return signatures


SIGNATURES = {**TORCH, **helper_signatures()}


def normalised(parameter: str, value: Any) -> Any:
    """Torch's reading of a value: one number for both axes of a pair, a float scale factor as the number."""
    if parameter in PAIRS and isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, list):
        return tuple(value)
    return value


def bound(call: ast.expr) -> Any:
    """A constructor call as (class, {parameter: effective value}), nn.Sequential as ('nn.Sequential', [...])."""
    assert isinstance(call, ast.Call), ast.unparse(call)
    name = ast.unparse(call.func)
    if name == "nn.Sequential":
        assert not call.keywords
        return name, [bound(argument) for argument in call.args]
    positional, defaults = SIGNATURES[name]
    values = [ast.literal_eval(argument) for argument in call.args]
    if positional[:1] and positional[0].startswith("*"):
        assert not call.keywords
        return name, {positional[0]: tuple(values)}
    assert len(values) <= len(positional) + len(defaults), ast.unparse(call)
    arguments = dict(zip([*positional, *defaults], values, strict=False))
    for keyword in call.keywords:
        assert keyword.arg is not None and keyword.arg not in arguments, ast.unparse(call)
        assert keyword.arg in (*positional, *defaults), f"{name} has no parameter {keyword.arg}"
        arguments[keyword.arg] = ast.literal_eval(keyword.value)
    missing = [parameter for parameter in positional if parameter not in arguments]
    assert not missing, f"{ast.unparse(call)} leaves out {missing}"
    return name, {
        parameter: normalised(parameter, arguments.get(parameter, default))
        for parameter, default in {**dict.fromkeys(positional), **defaults}.items()
    }


def redundant_keywords(call: ast.expr) -> list[str]:
    """Keywords given the value torch would use anyway (in any call, nested ones too)."""
    found = []
    for node in ast.walk(call):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in SIGNATURES:
            defaults = SIGNATURES[ast.unparse(node.func)][1]
            for keyword in node.keywords:
                given = ast.literal_eval(keyword.value)
                if keyword.arg in defaults and normalised(keyword.arg, given) == normalised(
                    keyword.arg, defaults[keyword.arg]
                ):
                    found.append(f"{ast.unparse(node.func)}({keyword.arg}={given!r})")
    return found


def module_of(input_shape: list[int], layer: dict[str, Any]) -> str:
    result = one_layer(input_shape, {"name": "layer", **layer})
    module = result.kind.torch_module(result.config, result.input_shapes)
    assert module is not None
    return module


def expression(source: str) -> ast.expr:
    return ast.parse(source, mode="eval").body


def one_key_off(
    input_shape: list[int], layer: dict[str, Any], module: str
) -> list[tuple[list[int], dict[str, Any], str]]:
    """Cases with one key of a conv off its default, on one axis at a time (the key is torch's argument too):
    ``module`` is the call without its closing parenthesis."""
    changes = [("stride", [1, 2]), ("stride", [2, 1]), ("padding", [0, 1]), ("padding", [1, 0])]
    changes += [("dilation", [1, 2]), ("dilation", [2, 1]), ("groups", 2), ("bias", False)]
    return [
        (input_shape, {**layer, key: value}, f"{module}, {key}={tuple(value) if isinstance(value, list) else value})")
        for key, value in changes
    ]


ACTIVATIONS = {
    "relu": "nn.ReLU",
    "relu6": "nn.ReLU6",
    "leaky_relu": "nn.LeakyReLU",
    "sigmoid": "nn.Sigmoid",
    "tanh": "nn.Tanh",
    "silu": "nn.SiLU",
    "gelu": "nn.GELU",
    "hardsigmoid": "nn.Hardsigmoid",
    "hardswish": "nn.Hardswish",
}
IN_PLACE = {kind: module for kind, module in ACTIVATIONS.items() if "inplace" in TORCH[module][1]}
"""The activations whose torch module can run in place (torch's documentation: not Sigmoid, Tanh nor GELU)."""

# (input shape, the layer, the module PyTorch needs for it, written from the layer's values and torch's documentation)
CASES: list[tuple[list[int], dict[str, Any], str]] = [
    # --- conv: every key off its default on one axis at a time ---
    ([4, 10, 10], {"type": "conv", "filters": 8, "kernel": 3}, "nn.Conv2d(4, 8, 3)"),
    ([4, 10, 10], {"type": "conv", "filters": 8, "kernel": [3, 1]}, "nn.Conv2d(4, 8, (3, 1))"),
    *one_key_off([4, 10, 10], {"type": "conv", "filters": 8, "kernel": 3}, "nn.Conv2d(4, 8, 3"),
    # 'same' at stride 1 is torch's own padding='same'
    ([4, 10, 10], {"type": "conv", "filters": 8, "kernel": 3, "padding": "same"}, 'nn.Conv2d(4, 8, 3, padding="same")'),
    # 'same' at stride 2 on 9: out = ceil(9 / 2) = 5, padding (5 - 1) * 2 + 3 - 9 = 2 in all: 1 before, 1 after
    (
        [4, 9, 9],
        {"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "padding": "same"},
        "nn.Conv2d(4, 8, 3, stride=2, padding=1)",
    ),
    # on 9x13 with a 3x5 kernel: rows as above (1, 1); columns out = 7, (7 - 1) * 2 + 5 - 13 = 4: (2, 2)
    (
        [4, 9, 13],
        {"type": "conv", "filters": 8, "kernel": [3, 5], "stride": 2, "padding": "same"},
        "nn.Conv2d(4, 8, (3, 5), stride=2, padding=(1, 2))",
    ),
    # on 9x10: rows (1, 1); columns out = 5, (5 - 1) * 2 + 3 - 10 = 1: 0 before, 1 after -> ZeroPad2d(l, r, t, b)
    (
        [4, 9, 10],
        {"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "padding": "same"},
        "nn.Sequential(nn.ZeroPad2d((0, 1, 1, 1)), nn.Conv2d(4, 8, 3, stride=2))",
    ),
    # on 10x9: rows (0, 1), columns (1, 1)
    (
        [4, 10, 9],
        {"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "padding": "same"},
        "nn.Sequential(nn.ZeroPad2d((1, 1, 0, 1)), nn.Conv2d(4, 8, 3, stride=2))",
    ),
    # stride (1, 2) on 9x10: rows at stride 1 pad 2 -> (1, 1); columns (0, 1) as above
    (
        [4, 9, 10],
        {"type": "conv", "filters": 8, "kernel": 3, "stride": [1, 2], "padding": "same"},
        "nn.Sequential(nn.ZeroPad2d((0, 1, 1, 1)), nn.Conv2d(4, 8, 3, stride=(1, 2)))",
    ),
    # dilation 2 at stride 2 on 9: span 5, (5 - 1) * 2 + 5 - 9 = 4: (2, 2)
    (
        [4, 9, 9],
        {"type": "conv", "filters": 8, "kernel": 3, "stride": 2, "dilation": 2, "padding": "same"},
        "nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2)",
    ),
    # --- conv_transpose ---
    ([4, 5, 5], {"type": "conv_transpose", "filters": 6, "kernel": 3}, "nn.ConvTranspose2d(4, 6, 3)"),
    *one_key_off([4, 5, 5], {"type": "conv_transpose", "filters": 6, "kernel": 3}, "nn.ConvTranspose2d(4, 6, 3"),
    # output_padding must be below the stride (or the dilation): at stride 3
    *(
        (
            [4, 5, 5],
            {"type": "conv_transpose", "filters": 6, "kernel": 3, "stride": 3, "output_padding": value},
            f"nn.ConvTranspose2d(4, 6, 3, stride=3, output_padding={tuple(value)})",
        )
        for value in ([0, 1], [1, 0])
    ),
    # --- linear: a feature map is flattened first (4 * 3 * 2 = 24 features) ---
    ([24], {"type": "linear", "units": 5}, "nn.Linear(24, 5)"),
    ([24], {"type": "linear", "units": 5, "bias": False}, "nn.Linear(24, 5, bias=False)"),
    ([4, 3, 2], {"type": "linear", "units": 5}, "nn.Sequential(nn.Flatten(), nn.Linear(24, 5))"),
    # per position: a plain nn.Linear on the channels-last map, between two Permutes (torchvision's ConvNeXt block)
    (
        [4, 3, 2],
        {"type": "linear", "units": 5, "per_position": True},
        "nn.Sequential(Permute(0, 2, 3, 1), nn.Linear(4, 5), Permute(0, 3, 1, 2))",
    ),
    (
        [4, 3, 2],
        {"type": "linear", "units": 5, "per_position": True, "bias": False},
        "nn.Sequential(Permute(0, 2, 3, 1), nn.Linear(4, 5, bias=False), Permute(0, 3, 1, 2))",
    ),
    # --- batchnorm ---
    ([4, 3, 2], {"type": "batchnorm"}, "nn.BatchNorm2d(4)"),
    ([24], {"type": "batchnorm"}, "nn.BatchNorm1d(24)"),
    ([4, 3, 2], {"type": "batchnorm", "affine": False}, "nn.BatchNorm2d(4, affine=False)"),
    ([4, 3, 2], {"type": "batchnorm", "eps": 0.001, "momentum": 0.01}, "nn.BatchNorm2d(4, eps=0.001, momentum=0.01)"),
    # --- pools: the stride defaults to the kernel ---
    ([4, 12, 12], {"type": "maxpool", "kernel": 2}, "nn.MaxPool2d(2)"),
    ([4, 12, 12], {"type": "maxpool", "kernel": 3, "stride": 2}, "nn.MaxPool2d(3, stride=2)"),
    ([4, 12, 12], {"type": "maxpool", "kernel": 3, "stride": [3, 2]}, "nn.MaxPool2d(3, stride=(3, 2))"),
    ([4, 12, 12], {"type": "maxpool", "kernel": 3, "padding": [0, 1]}, "nn.MaxPool2d(3, padding=(0, 1))"),
    ([4, 12, 12], {"type": "maxpool", "kernel": 3, "padding": [1, 0]}, "nn.MaxPool2d(3, padding=(1, 0))"),
    ([4, 12, 12], {"type": "maxpool", "kernel": 3, "dilation": [1, 2]}, "nn.MaxPool2d(3, dilation=(1, 2))"),
    ([4, 12, 12], {"type": "maxpool", "kernel": 3, "dilation": [2, 1]}, "nn.MaxPool2d(3, dilation=(2, 1))"),
    ([4, 12, 12], {"type": "maxpool", "kernel": 5, "ceil_mode": True}, "nn.MaxPool2d(5, ceil_mode=True)"),
    ([4, 12, 12], {"type": "avgpool", "kernel": 2}, "nn.AvgPool2d(2)"),
    ([4, 12, 12], {"type": "avgpool", "kernel": [2, 3], "stride": 1}, "nn.AvgPool2d((2, 3), stride=1)"),
    (
        [4, 12, 12],
        {"type": "avgpool", "kernel": 3, "padding": 1, "count_include_pad": False},
        "nn.AvgPool2d(3, padding=1, count_include_pad=False)",
    ),
    ([4, 12, 12], {"type": "avgpool", "kernel": 5, "ceil_mode": True}, "nn.AvgPool2d(5, ceil_mode=True)"),
    ([4, 12, 12], {"type": "adaptive_avgpool", "output": [3, 2]}, "nn.AdaptiveAvgPool2d((3, 2))"),
    ([4, 12, 12], {"type": "adaptive_maxpool", "output": [2, 3]}, "nn.AdaptiveMaxPool2d((2, 3))"),
    ([4, 12, 12], {"type": "global_avgpool"}, "nn.AdaptiveAvgPool2d(1)"),
    ([4, 12, 12], {"type": "global_maxpool"}, "nn.AdaptiveMaxPool2d((1, 1))"),
    # --- shape-only and element-wise ---
    ([4, 3, 2], {"type": "flatten"}, "nn.Flatten()"),
    ([4, 3, 2], {"type": "dropout"}, "nn.Dropout()"),
    ([4, 3, 2], {"type": "dropout", "rate": 0.2}, "nn.Dropout(0.2)"),
    ([4, 3, 2], {"type": "dropout", "rate": 0}, "nn.Dropout(p=0.0)"),
    ([4, 3, 2], {"type": "identity"}, "nn.Identity()"),
    ([4, 3, 2], {"type": "lrn"}, "nn.LocalResponseNorm(5)"),
    (
        [4, 3, 2],
        {"type": "lrn", "size": 3, "alpha": 0.001, "beta": 0.5, "k": 2},
        "nn.LocalResponseNorm(3, alpha=0.001, beta=0.5, k=2.0)",
    ),
    # centre crop of 9x8 to 5x5: (9 - 5) // 2 = 2 rows and (8 - 5) // 2 = 1 column in
    ([4, 9, 8], {"type": "crop", "size": [5, 5]}, "Crop(5, 5, 2, 1)"),
    ([4, 8, 9], {"type": "crop", "size": [5, 5]}, "Crop(5, 5, 1, 2)"),
    ([4, 3, 2], {"type": "upsample", "scale": 2}, "nn.Upsample(scale_factor=2.0)"),
    ([4, 3, 2], {"type": "upsample", "scale": [2, 3]}, "nn.Upsample(scale_factor=(2.0, 3.0))"),
    ([4, 3, 2], {"type": "upsample", "size": [7, 5]}, "nn.Upsample(size=(7, 5))"),
    (
        [4, 3, 2],
        {"type": "upsample", "scale": 2, "mode": "bilinear", "align_corners": True},
        'nn.Upsample(scale_factor=2.0, mode="bilinear", align_corners=True)',
    ),
    (
        [4, 3, 2],
        {"type": "upsample", "scale": 2, "mode": "bilinear", "align_corners": False},
        'nn.Upsample(scale_factor=2.0, mode="bilinear", align_corners=False)',
    ),
    ([4, 3, 2], {"type": "softmax"}, "nn.Softmax(dim=1)"),
    *(([4, 3, 2], {"type": kind}, f"{module}()") for kind, module in ACTIVATIONS.items()),
    *(([4, 3, 2], {"type": kind, "inplace": True}, f"{module}(inplace=True)") for kind, module in IN_PLACE.items()),
    # --- merges and the modern kinds ---
    ([4, 3, 2], {"type": "concat", "inputs": ["input", "input"]}, "Concat()"),
    ([4, 3, 2], {"type": "add", "inputs": ["input", "input"]}, "Add()"),
    ([4, 3, 2], {"type": "multiply", "inputs": ["input", "input"]}, "Multiply()"),
    ([4, 3, 2], {"type": "arithmetic", "op": "sub", "inputs": ["input", "input"]}, 'Arithmetic("sub")'),
    ([4, 3, 2], {"type": "reduce", "op": "max", "axes": [1, 2]}, 'Reduce("max", (2, 3))'),
    ([4, 3, 2], {"type": "reduce", "op": "sum", "axes": [0], "keep": False}, 'Reduce("sum", 1, keepdim=False)'),
    ([4, 3, 2], {"type": "arithmetic", "op": "mul", "constant": [1], "inputs": ["input"]}, 'Arithmetic("mul", 1)'),
    ([4, 3, 2], {"type": "scale"}, "Scale(4)"),
    ([4, 3, 2], {"type": "layernorm"}, "LayerNorm2d(4)"),
    ([4, 6], {"type": "layernorm"}, "LayerNorm2d(4)"),  # tokens or a 1-D map: over the 4 channels at each position
    (
        [4, 3, 2],
        {"type": "layernorm", "eps": 1e-6, "affine": False},
        "LayerNorm2d(4, eps=1e-6, elementwise_affine=False)",
    ),
    ([4, 3, 2], {"type": "layernorm", "over": "all"}, "nn.LayerNorm([4, 3, 2])"),
    ([24], {"type": "layernorm"}, "nn.LayerNorm(24)"),
    ([24], {"type": "layernorm", "bias": False}, "nn.LayerNorm(24, bias=False)"),
    ([4, 3, 2], {"type": "layernorm", "bias": False}, "LayerNorm2d(4, bias=False)"),
    ([24], {"type": "layernorm", "eps": 1e-6, "affine": False}, "nn.LayerNorm(24, eps=1e-6, elementwise_affine=False)"),
    ([6, 3, 2], {"type": "groupnorm", "groups": 3}, "nn.GroupNorm(3, 6)"),
    ([6, 3, 2], {"type": "groupnorm", "groups": 2, "eps": 1e-6, "affine": False}, "nn.GroupNorm(2, 6, 1e-6, False)"),
    ([6, 3, 2], {"type": "channel_shuffle", "groups": 3}, "ChannelShuffle(3)"),
    ([8, 3, 2], {"type": "pixel_shuffle", "factor": 2}, "nn.PixelShuffle(2)"),
    ([2, 6, 4], {"type": "pixel_unshuffle", "factor": 2}, "nn.PixelUnshuffle(2)"),
    # [top, bottom, left, right] -> nn.ZeroPad2d's (left, right, top, bottom)
    ([4, 3, 2], {"type": "pad", "padding": [1, 2, 3, 4]}, "nn.ZeroPad2d((3, 4, 1, 2))"),
    # [front, back, top, bottom, left, right] -> (left, right, top, bottom, front, back)
    ([4, 3, 2, 2], {"type": "pad", "padding": [1, 2, 3, 4, 5, 6]}, "nn.ZeroPad3d((5, 6, 3, 4, 1, 2))"),
    ([4, 3, 2], {"type": "stochastic_depth"}, "StochasticDepth(0.0)"),
    ([4, 3, 2], {"type": "stochastic_depth", "rate": 0.2}, "StochasticDepth(0.2)"),
    ([4, 3, 2], {"type": "stochastic_depth", "rate": 0.2, "mode": "batch"}, 'StochasticDepth(0.2, "batch")'),
    ([8, 3, 2], {"type": "slice", "start": 2, "end": 5}, "Slice(2, 5)"),
    ([8, 3, 2], {"type": "opaque", "op": "Foo", "shape": [3, 5, 7]}, "Opaque(3, 5, 7)"),
    # 1-D and 3-D maps: PyTorch's 1d and 3d classes (issue 27)
    ([1, 100], {"type": "conv", "filters": 4, "kernel": 9, "stride": 2}, "nn.Conv1d(1, 4, 9, 2)"),
    (
        [3, 4, 8, 8],
        {"type": "conv", "filters": 4, "kernel": [1, 3, 3], "padding": [0, 1, 1]},
        "nn.Conv3d(3, 4, (1, 3, 3), padding=(0, 1, 1))",
    ),
    ([4, 10], {"type": "maxpool", "kernel": 2}, "nn.MaxPool1d(2)"),
    ([4, 2, 3, 3], {"type": "batchnorm"}, "nn.BatchNorm3d(4)"),
    ([4, 10], {"type": "pad", "padding": [3, 0]}, "nn.ZeroPad1d((3, 0))"),  # a causal conv's left padding
    ([4, 10], {"type": "slice", "axis": -1, "start": 9, "end": 10}, "Slice(9, 10, dim=2)"),
    # tensor operations and transformer layers (issue 27): the batch is torch's dim 0, so axis a is dim a + 1
    ([8, 3, 2], {"type": "reshape", "shape": [8, -1]}, "Reshape(8, -1)"),
    ([8, 6], {"type": "permute", "dims": [1, 0]}, "Permute(0, 2, 1)"),
    ([4, 7, 7], {"type": "roll", "shift": -3}, "Roll(-3, -3)"),
    ([8, 4, 4], {"type": "attention", "heads": 2, "window": 2, "masked": True}, "Attention(8, 2, window=2, masks=4)"),
    ([4, 4], {"type": "matmul", "inputs": ["input", "input"]}, "MatMul()"),
    ([4, 6], {"type": "softmax", "axis": -1}, "nn.Softmax(dim=2)"),
    ([4, 6], {"type": "concat", "inputs": ["input", "input"], "axis": 1}, "Concat(dim=2)"),
    ([8, 6], {"type": "attention", "heads": 2}, "Attention(8, 2)"),
    (
        [8, 6],
        {"type": "attention", "heads": 2, "qkv_bias": False, "projection": False},
        "Attention(8, 2, False, False)",
    ),
    ([2, 6, 4], {"type": "dot_product_attention", "inputs": ["input", "input", "input"]}, "DotProductAttention()"),
    ([8, 6], {"type": "class_token"}, "ClassToken(8)"),
    ([8, 6], {"type": "position_embedding"}, "PositionEmbedding(8, 6)"),
]


@pytest.mark.parametrize(("input_shape", "layer", "expected"), CASES, ids=lambda case: str(case))
def test_the_module_has_the_layers_values(input_shape: list[int], layer: dict[str, Any], expected: str) -> None:
    module = expression(module_of(input_shape, layer))
    assert bound(module) == bound(expression(expected)), ast.unparse(module)
    assert not redundant_keywords(module), ast.unparse(module)


def test_every_kind_has_a_case() -> None:
    assert {layer["type"] for _, layer, _ in CASES} == set(CATALOGUE)

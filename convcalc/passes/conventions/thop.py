"""thop's registries: thop 0.1.1 (2022, PyPI ``thop``) and ultralytics-thop 2.2 (its continuation, the same
``import thop``), whose rules differ (docs/peer-rules.md); read from each one's source, checked against what it
printed (tests/data/peers/thop.json, ultralytics_thop.json)."""

from __future__ import annotations

from convcalc.core.formula import Term, named
from convcalc.kinds.windows import AXIS_SUFFIXES, adaptive_windows_total, per_axis
from convcalc.passes.conventions.rules import (
    Registry,
    Sizes,
    attention_projections,
    conv_macs,
    output_elements,
    table,
    transposed_macs,
)

# --- thop ------------------------------------------------------------------------------------------------------


def thop_conv(s: Sizes) -> int:
    """output elements x C_in / groups x k_h x k_w, no bias; a transposed conv too (its output: stride^2 too much)."""
    return s.c_out * s.h_out * s.w_out * (s.c_in // s.groups) * s.k_h * s.k_w


def thop_linear(s: Sizes) -> int:
    """in_features x output elements, no bias."""
    return s.elements_in * s.c_out


def thop_batchnorm(s: Sizes) -> int:
    """2 x input elements, x 2 again with affine (count_normalization)."""
    return 2 * s.elements_in * (2 if s.affine else 1)


def thop_adaptive_avgpool(s: Sizes) -> int:
    """int((H_in / H_out x W_in / W_out + 1) x output elements), in double precision as thop computes it."""
    kernel = float(s.h_in) / float(s.h_out) * (float(s.w_in) / float(s.w_out))
    elements = s.elements_out
    value = int((kernel + 1) * float(int(elements)))
    if isinstance(elements, Term):
        numbers = f"int(({s.h_in} / {s.h_out} * {s.w_in} / {s.w_out} + 1) * {elements.numbers})"
        return Term(value, f"int((H_in / H_out * W_in / W_out + 1) * {elements.symbols})", numbers)
    return value


def thop_upsample(s: Sizes) -> int:
    """output elements x 1 (nearest) or x 11 (bilinear)."""
    return s.elements_out * (11 if s.config["mode"] == "bilinear" else 1)


def thop_softmax(s: Sizes) -> int:
    """(3 x C - 1) x positions: C exponentials, C - 1 adds, C divides (along another axis: its size for C)."""
    axis = int(s.config["axis"]) % len(s.shape_in)
    if axis == 0:
        return (3 * s.c_in - 1) * s.h_in * s.w_in
    size = s.shape_in[axis]
    return (3 * size - 1) * (s.elements_in // size)


UNHOOKED = (
    "reshape",
    "roll",
    "permute",
    "class_token",
    "position_embedding",
    "arithmetic",
    "reduce",
    "maxpool",
    "adaptive_maxpool",
    "global_maxpool",
    "flatten",
    "dropout",
    "identity",
    "lrn",
    "crop",
    "concat",
    "add",
    "opaque",
    "multiply",
    "scale",
    "channel_shuffle",
    "pixel_shuffle",
    "pixel_unshuffle",
    "pad",
    "stochastic_depth",
    "slice",
    "relu",
    "relu6",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "silu",
    "gelu",
    "hardsigmoid",
    "hardswish",
)
"""Kinds both thops leave at 0: not registered (convcalc's helper modules, the views) or zero_ops (ReLU, max pools)."""


THOP: Registry = table(
    {
        "conv": thop_conv,
        "conv_transpose": thop_conv,
        "linear": thop_linear,
        "batchnorm": thop_batchnorm,
        "layernorm": thop_batchnorm,
        "avgpool": output_elements,
        "adaptive_avgpool": thop_adaptive_avgpool,
        "global_avgpool": thop_adaptive_avgpool,
        "upsample": thop_upsample,
        "softmax": thop_softmax,
        "attention": attention_projections,
    },
    not_counted=(*UNHOOKED, "dot_product_attention", "matmul", "groupnorm"),
)
"""thop's register_hooks by layer kind. ReLU, ReLU6, LeakyReLU and max pools are zero_ops; GroupNorm, the other
activations, LocalResponseNorm and convcalc's helper modules (Add, Concat, Crop, MatMul, ...) are not registered: 0;
an attention layer counts its Linears (in_features x output elements, no bias)."""


# --- ultralytics-thop -----------------------------------------------------------------------------------------


def window_reads(size: int, out: int, kernel: int, stride: int, pad: int, include_pad: bool) -> int:
    """The sizes of a pool's windows on one axis, summed: output i's window [i s - p, i s - p + k) clipped to the
    input [0, size) (to the padded input [-p, size + p) with count_include_pad)."""
    lower, upper = (-pad, size + pad) if include_pad else (0, size)
    return sum(max(min(i * stride - pad + kernel, upper) - max(i * stride - pad, lower), 0) for i in range(out))


def uthop_avgpool(s: Sizes) -> int:
    """C x the window sizes summed on each axis (within the input, or the padded input with count_include_pad)
    + output elements: one add per input read, one divide per output (count_avgpool)."""
    size, out = s.shape_in[1:], s.shape_out[1:]
    kernel = per_axis(s.config["kernel"], size, "kernel")
    stride = kernel if s.config["stride"] is None else per_axis(s.config["stride"], size, "stride")
    pad = per_axis(s.config["padding"], size, "padding")
    include = bool(s.config["count_include_pad"])  # an average pool always has it
    reads = s.c_in
    for suffix, n, o, k, step, p in zip(AXIS_SUFFIXES[len(size)], size, out, kernel, stride, pad, strict=True):
        reads *= named(f"reads{suffix}", window_reads(n, o, k, step, p, include), like=s.c_in)
    return reads + s.elements_out


def uthop_adaptive_avgpool(s: Sizes) -> int:
    """C x PyTorch's adaptive windows summed on each axis (in + out - gcd(in, out)) + output elements: one add per
    input read, one divide per output (count_adap_avgpool)."""
    size, out = s.shape_in[1:], s.shape_out[1:]
    reads = s.c_in
    for suffix, n, o in zip(AXIS_SUFFIXES[len(size)], size, out, strict=True):
        reads *= named(f"reads{suffix}", adaptive_windows_total(n, o), like=s.c_in)
    return reads + s.elements_out


UTHOP_INTERPOLATION = {"nearest": 0, "linear": 5, "bilinear": 11, "trilinear": 31}
"""ultralytics-thop's ops per output element of nn.Upsample by mode."""


def uthop_upsample(s: Sizes) -> int:
    """output elements x 0 (nearest), 5 (linear), 11 (bilinear) or 31 (trilinear)."""
    return s.elements_out * UTHOP_INTERPOLATION[s.config["mode"]]


def uthop_attention(s: Sizes) -> int:
    """Its Linears' hooks (in_features x output elements, no bias), and scaled_dot_product_attention counted by the
    TorchFunctionMode while no counted module runs: Q K^T and A V, 2 x T x T x D per sequence."""
    return attention_projections(s) + 2 * s.h_in * s.w_in * s.w_in * s.c_in


def uthop_products(s: Sizes) -> int:
    """Counted by its TorchFunctionMode while no counted module runs: torch.matmul output elements x the contracted
    axis, scaled_dot_product_attention h x T x T_k x (d + d_v): convcalc's MACs."""
    return s.macs


ULTRALYTICS_THOP: Registry = table(
    {
        "conv": conv_macs,
        "conv_transpose": transposed_macs,
        "linear": thop_linear,
        "batchnorm": thop_batchnorm,
        "layernorm": thop_batchnorm,
        "groupnorm": thop_batchnorm,
        "avgpool": uthop_avgpool,
        "adaptive_avgpool": uthop_adaptive_avgpool,
        "global_avgpool": uthop_adaptive_avgpool,
        "upsample": uthop_upsample,
        "softmax": thop_softmax,
        "attention": uthop_attention,
        "dot_product_attention": uthop_products,
        "matmul": uthop_products,
    },
    not_counted=UNHOOKED,
)
"""ultralytics-thop's register_hooks, matched on a module's class or the nearest base that has a rule (a subclass of
nn.LayerNorm or nn.Conv3d counts as its base), and its TorchFunctionMode, which counts torch.matmul, F.linear and
scaled_dot_product_attention called outside a counted module. ReLU, ReLU6, LeakyReLU, max pools, padding, dropout,
pixel and channel shuffles are zero_ops; the other activations, LocalResponseNorm, adds and multiplies (operators, not
hooked functions) and convcalc's helper modules without products are not registered: 0."""

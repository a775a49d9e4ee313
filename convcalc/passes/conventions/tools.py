"""Each tool's registries: every layer kind mapped to the rule by which that tool counts it (read from the tool's
source, checked against what it printed: tests/data/peers/)."""

from __future__ import annotations

from collections.abc import Callable

from convcalc.core.formula import Term, symbol
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.kinds.weighted import Conv
from convcalc.kinds.windows import all_ones
from convcalc.passes.conventions.rules import (
    Count,
    Registry,
    Rule,
    Sizes,
    Skipped,
    attention_projections,
    bias_elements,
    conv_macs,
    input_elements,
    linear_macs,
    output_elements,
    own_macs,
    table,
    transposed_macs,
    zero,
)

# --- fvcore ----------------------------------------------------------------------------------------------------


def fvcore_conv(s: Sizes) -> Count:
    """N x prod(weight) x prod(output spatial), no bias; 0 and unsupported when padding is a string ('same' at
    stride 1, 'valid'): torch traces that to aten::_convolution_mode, which fvcore has no handle for (an asymmetric
    'same' at a larger stride is an unsupported aten::pad in front of a counted conv)."""
    padding = s.config["padding"]
    if padding == "valid" or (padding == "same" and all_ones(s.config["stride"])):
        return Skipped(("aten::_convolution_mode",))
    if padding == "same" and any(before != after for before, after in Conv.sides(s.config, s.shape_in)):
        return Skipped(("aten::pad",), conv_macs(s))  # the export pads first with nn.ZeroPad2d: aten::pad
    return conv_macs(s)


def fvcore_batchnorm(s: Sizes) -> int:
    """aten::batch_norm in eval: input elements x 2 with affine (x 1 without)."""
    return s.elements_in * (2 if s.affine else 1)


def fvcore_norm(s: Sizes) -> int:
    """aten::layer_norm / group_norm: input elements x 5 with affine (x 4 without)."""
    return s.elements_in * (5 if s.affine else 4)


def fvcore_upsample(s: Sizes) -> Count:
    """aten::upsample_nearest2d: output elements x 1; upsample_bilinear2d: x 4; on 1-D and 3-D maps (nearest1d,
    linear1d, nearest3d, trilinear3d) unsupported."""
    if s.axes != 2:
        return Skipped((f"aten::upsample_{s.config['mode']}{s.axes}d",))
    return s.elements_out * (4 if s.config["mode"] == "bilinear" else 1)


def fvcore_adaptive_average(s: Sizes) -> Count:
    """aten::adaptive_avg_pool2d: input elements x 1; adaptive_avg_pool1d and 3d unsupported."""
    return input_elements(s) if s.axes == 2 else Skipped((f"aten::adaptive_avg_pool{s.axes}d",))


def fvcore_attention(s: Sizes) -> Count:
    """Its Linears (aten::linear, no bias): the Q, K, V and output projections; scaled_dot_product_attention
    unsupported (Q K^T and A V: counted 0, listed), and the add of a window's position bias and mask."""
    masked = ("aten::add",) if s.config["masked"] else ()
    return Skipped(("aten::scaled_dot_product_attention", *masked), attention_projections(s))


def unsupported(*ops: str) -> Rule:
    """A rule counting 0 and naming the aten ops fvcore does not handle (``{n}`` in an op: the input's spatial axes,
    aten::max_pool2d on an image, max_pool3d on a video)."""

    def rule(s: Sizes) -> Count:
        return Skipped(tuple(op.replace("{n}", str(s.axes)) for op in ops))

    rule.__doc__ = f"0: {', '.join(sorted(set(ops))).replace('{n}', '2')} unsupported (fvcore counts 0 and lists it)"
    return rule


def unsupported_activation(op: str) -> Rule:
    """An activation fvcore does not handle: its aten op, or OP_ in place (an nn.Hardswish(inplace=True))."""

    def rule(s: Sizes) -> Count:
        return Skipped((f"{op}_" if s.config.get("inplace") else op,))

    rule.__doc__ = f"0: {op} unsupported ({op}_ in place; fvcore counts 0 and lists it)"
    return rule


def unsupported_per_merge(op: str) -> Rule:
    """One unsupported op per extra input of a merge (a + b + c: two aten::add)."""

    def rule(s: Sizes) -> Count:
        return Skipped((op,) * (s.inputs - 1))

    rule.__doc__ = f"0: {op} unsupported, once per extra input (fvcore counts 0 and lists it)"
    return rule


def fvcore_reduce(s: Sizes) -> Count:
    """0: aten::mean, sum, amax or amin, which fvcore counts 0 and lists as unsupported."""
    op = {"max": "amax", "min": "amin"}.get(s.config["op"], s.config["op"])
    return Skipped((f"aten::{op}",))


def fvcore_arithmetic(s: Sizes) -> Count:
    """0: aten::add, sub, mul, div or pow, which fvcore counts 0 and lists as unsupported."""
    return Skipped((f"aten::{s.config['op']}",))


FVCORE: Registry = table(
    {
        "conv": fvcore_conv,
        "conv_transpose": transposed_macs,
        "linear": linear_macs,
        "batchnorm": fvcore_batchnorm,
        "layernorm": fvcore_norm,
        "groupnorm": fvcore_norm,
        "adaptive_avgpool": fvcore_adaptive_average,
        "global_avgpool": fvcore_adaptive_average,
        "upsample": fvcore_upsample,
        "maxpool": unsupported("aten::max_pool{n}d"),
        "avgpool": unsupported("aten::avg_pool{n}d"),
        "adaptive_maxpool": unsupported("aten::adaptive_max_pool{n}d"),
        "global_maxpool": unsupported("aten::adaptive_max_pool{n}d"),
        "lrn": unsupported(
            "aten::mul", "aten::pad", "aten::avg_pool3d", "aten::mul", "aten::add", "aten::pow", "aten::div"
        ),
        "softmax": unsupported("aten::softmax"),
        "add": unsupported_per_merge("aten::add"),
        "multiply": unsupported_per_merge("aten::mul"),
        "scale": unsupported("aten::mul"),
        "pad": unsupported("aten::pad"),
        "pixel_shuffle": unsupported("aten::pixel_shuffle"),
        "pixel_unshuffle": unsupported("aten::pixel_unshuffle"),
        "relu6": unsupported_activation("aten::hardtanh"),
        "leaky_relu": unsupported_activation("aten::leaky_relu"),
        "sigmoid": unsupported("aten::sigmoid"),
        "tanh": unsupported("aten::tanh"),
        "silu": unsupported_activation("aten::silu"),
        "gelu": unsupported("aten::gelu"),
        "hardsigmoid": unsupported_activation("aten::hardsigmoid"),
        "hardswish": unsupported_activation("aten::hardswish"),
        "matmul": own_macs,
        "attention": fvcore_attention,
        "dot_product_attention": unsupported("aten::scaled_dot_product_attention"),
        "position_embedding": unsupported("aten::add"),
        "arithmetic": fvcore_arithmetic,
        "reduce": fvcore_reduce,
    },
    not_counted=(
        "reshape",
        "roll",
        "permute",
        "class_token",
        "flatten",
        "dropout",
        "identity",
        "crop",
        "concat",
        "opaque",
        "channel_shuffle",
        "stochastic_depth",
        "slice",
        "relu",
    ),
)
"""fvcore's handles by layer kind. relu, dropout, flatten, concat, slice, a crop (slicing), a channel shuffle (view,
transpose, reshape, as torchvision's ShuffleNetV2 and the export write it) and the rest are ops it ignores: 0."""


# --- ptflops ---------------------------------------------------------------------------------------------------


def ptflops_conv(s: Sizes) -> int:
    """k_h x k_w x C_in x C_out / groups x H_out x W_out, + C_out x H_out x W_out for the bias."""
    return s.k_h * s.k_w * s.c_in * (s.c_out // s.groups) * s.h_out * s.w_out + bias_elements(s)


def ptflops_transposed(s: Sizes) -> int:
    """k_h x k_w x C_in x C_out / groups x H_in x W_in (input positions), + C_out x H_out x W_out for the bias."""
    return s.k_h * s.k_w * s.c_in * (s.c_out // s.groups) * s.h_in * s.w_in + bias_elements(s)


def ptflops_linear(s: Sizes) -> int:
    """(in_features x out_features + out_features for the bias) x rows: the bias is counted at every position of a
    Linear per position (channels-last)."""
    return s.elements_in * s.c_out + bias_elements(s)


def ptflops_norm(s: Sizes) -> int:
    """input elements x 2 if the module has affine=True, else x 1."""
    return s.elements_in * (2 if s.affine else 1)


def ptflops_layernorm(s: Sizes) -> int:
    """input elements x 1: nn.LayerNorm has elementwise_affine, not the 'affine' attribute the hook looks for."""
    return s.elements_in


def ptflops_attention(s: Sizes) -> int:
    """Its Linears' hooks, (in x out + out for the bias) x rows: T x (D x 3D + 3D) and T x (D x D + D), per
    sequence; scaled_dot_product_attention is not wrapped: Q K^T and A V count 0."""
    qkv = s.c_in * 3 * s.c_in + (3 * s.c_in if s.config["qkv_bias"] else 0)
    output = s.c_in * s.c_in + s.c_in if s.config["projection"] else 0
    return s.h_in * s.w_in * (qkv + output)


def ptflops_lrn(s: Sizes) -> int:
    """No hook; F.local_response_norm's wrapped ops: x.mul(x), .mul(alpha), .add(k) (3 x elements) and
    F.avg_pool3d over the channel-padded square (C + size - 1) x H x W."""
    size: int = s.config["size"]
    if isinstance(s.c_in, Term):
        size = symbol("size", size)
    return 3 * s.elements_in + (s.c_in + size - 1) * s.h_in * s.w_in


PTFLOPS_HOOKS: Registry = table(
    {
        "conv": ptflops_conv,
        "conv_transpose": ptflops_transposed,
        "linear": ptflops_linear,
        "batchnorm": ptflops_norm,
        "groupnorm": ptflops_norm,
        "layernorm": ptflops_layernorm,
        **dict.fromkeys(("relu", "relu6", "leaky_relu", "gelu", "upsample"), output_elements),
        **dict.fromkeys(
            ("maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "global_avgpool", "global_maxpool"),
            input_elements,
        ),
        "attention": ptflops_attention,
    },
    not_counted=(
        "dot_product_attention",
        "reshape",
        "roll",
        "permute",
        "matmul",
        "class_token",
        "position_embedding",
        "arithmetic",
        "reduce",
        "flatten",
        "dropout",
        "identity",
        "lrn",
        "crop",
        "softmax",
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
        "sigmoid",
        "tanh",
        "silu",
        "hardsigmoid",
        "hardswish",
    ),
)
"""ptflops' module hooks (MODULES_MAPPING): the rows of its per-layer table."""

PTFLOPS_FUNCTIONAL: Registry = table(
    {
        **dict.fromkeys(
            (
                "relu",
                "gelu",
                "silu",
                "softmax",
                "maxpool",
                "avgpool",
                "adaptive_avgpool",
                "adaptive_maxpool",
                "global_avgpool",
                "global_maxpool",
            ),
            input_elements,
        ),
        "upsample": output_elements,
        "lrn": ptflops_lrn,
        "matmul": own_macs,
    },
    not_counted=(
        "dot_product_attention",
        "reshape",
        "roll",
        "permute",
        "attention",
        "class_token",
        "position_embedding",
        "arithmetic",
        "reduce",
        "conv",
        "conv_transpose",
        "linear",
        "batchnorm",
        "flatten",
        "dropout",
        "identity",
        "crop",
        "concat",
        "add",
        "opaque",
        "multiply",
        "scale",
        "layernorm",
        "groupnorm",
        "channel_shuffle",
        "pixel_shuffle",
        "pixel_unshuffle",
        "pad",
        "stochastic_depth",
        "slice",
        "relu6",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "hardsigmoid",
        "hardswish",
    ),
)
"""ptflops' wrappers of torch.nn.functional (F.relu, F.gelu, F.silu, F.softmax, every F.*pool*, F.interpolate) and
of Tensor.mul/add: modules that call them (nn.ReLU, nn.MaxPool2d, ...) count twice. F.hardtanh (ReLU6) and
F.leaky_relu are not wrapped, and ``a + b`` or ``x * gamma`` are operators, not the wrapped methods."""


# --- torchinfo -------------------------------------------------------------------------------------------------


def torchinfo_conv(s: Sizes) -> int:
    """(weight + bias elements) x H_out x W_out: any class named Conv*, the transposed conv too."""
    return s.params * s.h_out * s.w_out


def torchinfo_params(s: Sizes) -> int:
    """its parameter count (weight and bias) x N: mult-adds come from parameters only."""
    return s.params


def torchinfo_attention(s: Sizes) -> int:
    """Its Linears' parameters (qkv, proj): a window's position bias table is 'table', not weight or bias."""
    window = int(s.config["window"])
    return s.params - ((2 * window - 1) ** 2 * int(s.config["heads"]) if window else 0)


TORCHINFO: Registry = {
    **dict.fromkeys(CATALOGUE, torchinfo_params),
    "conv": torchinfo_conv,
    "conv_transpose": torchinfo_conv,
    "attention": torchinfo_attention,
    "scale": zero,
    "class_token": zero,
    "position_embedding": zero,
    "arithmetic": zero,
}
"""torchinfo's calculate_macs: a layer's parameters named weight or bias. The layer scale's parameter is 'gamma',
the class token's 'token', the position embedding's 'embedding': 0."""


# --- torch.utils.flop_counter and torchvision ------------------------------------------------------------------


def twice(rule: Callable[[Sizes], int]) -> Rule:
    """2 x a rule that counts multiply-adds (no op skipped, no crash): their FLOPs."""

    def doubled(s: Sizes) -> int:
        return 2 * rule(s)

    doubled.__doc__ = f"2 x ({(rule.__doc__ or '').rstrip('.')})"
    return doubled


WITHOUT_WEIGHTS = (
    "batchnorm",
    "maxpool",
    "avgpool",
    "adaptive_avgpool",
    "adaptive_maxpool",
    "global_avgpool",
    "global_maxpool",
    "flatten",
    "dropout",
    "identity",
    "lrn",
    "crop",
    "upsample",
    "softmax",
    "concat",
    "add",
    "opaque",
    "multiply",
    "scale",
    "layernorm",
    "groupnorm",
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
    "reshape",
    "roll",
    "permute",
    "class_token",
    "position_embedding",
    "arithmetic",
    "reduce",
)
"""Every kind without weights or a product of activations: what the tools that count multiply-adds only
(flop_counter, torchvision) leave at 0."""


def flop_counter_attention(s: Sizes) -> int:
    """On D x T tokens, torch 2.13 on the CPU runs its fused attention kernel, which has no formula: the Linears only
    (Q, K, V and output projections); on D x P x T (a batch of sequences, 5-D Q, K and V) the math path, whose
    products Q K^T and A V it counts as bmm: convcalc's MACs."""
    return s.macs if s.axes > 1 else attention_projections(s)


FLOP_COUNTER: Registry = table(
    {
        "conv": twice(conv_macs),
        "conv_transpose": twice(transposed_macs),
        "linear": twice(linear_macs),
        "matmul": twice(own_macs),
        "attention": twice(flop_counter_attention),
    },
    not_counted=(*WITHOUT_WEIGHTS, "dot_product_attention"),
)
"""FlopCounterMode's formulas: aten.convolution, aten.mm/addmm and bmm. On the CPU its scaled dot product attention
(_scaled_dot_product_flash_attention_for_cpu in torch 2.13) has no formula: an attention layer on D x T tokens counts
its Linears only, a dot-product attention 0."""

TORCHVISION: Registry = table(
    dict.fromkeys(("conv", "conv_transpose", "linear", "matmul", "attention", "dot_product_attention"), own_macs),
    not_counted=WITHOUT_WEIGHTS,
)
CONVCALC: Registry = dict.fromkeys(CATALOGUE, own_macs)

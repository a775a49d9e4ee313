"""onnx-tool's registry: it counts the ONNX export of a network, node by node."""

from __future__ import annotations

from convcalc.kinds.windows import per_axis
from convcalc.passes.conventions.rules import (
    Count,
    Crashes,
    Registry,
    Rule,
    Sizes,
    attention_projections,
    bias_elements,
    own_macs,
    table,
)


def per_element(times: int, op: str) -> Rule:
    """A rule of onnx-tool's element-wise ops: a fixed cost per output element."""

    def rule(s: Sizes) -> int:
        return times * s.elements_out

    rule.__doc__ = f"{op}: {times} x output elements"
    return rule


def onnx_tool_conv(s: Sizes) -> int:
    """Conv: output elements x C_in / groups x k_h x k_w (the weight's dims after the first), + output elements for
    the bias."""
    return s.elements_out * (s.c_in // s.groups) * s.k_h * s.k_w + bias_elements(s)


def onnx_tool_transposed(s: Sizes) -> int:
    """ConvTranspose: output elements x C_out / groups x k_h x k_w (its weight is C_in x C_out / groups x k_h x
    k_w: the dims after the first, on the output, as for a Conv), + output elements for the bias."""
    return s.elements_out * (s.c_out // s.groups) * s.k_h * s.k_w + bias_elements(s)


def onnx_tool_pool(s: Sizes) -> int:
    """MaxPool / AveragePool: output elements x k_h x k_w; on a 1-D or 3-D map x its first kernel size only (its
    profile reads kernel_shape[1] only when the kernel has two)."""
    if s.axes == 2:
        return s.elements_out * s.k_h * s.k_w
    return s.elements_out * per_axis(s.config["kernel"], s.shape_in[1:], "kernel")[0]


def onnx_tool_adaptive(s: Sizes) -> Count:
    """torch exports an adaptive pool as a MaxPool / AveragePool of kernel H_in / H_out x W_in / W_out (output
    elements x that kernel, i.e. input elements); an output size that does not divide the input does not export."""
    if int(s.h_in) % int(s.h_out) or int(s.w_in) % int(s.w_out):
        return Crashes("torch.onnx.export: an adaptive pool whose output size does not divide its input size")
    return s.elements_out * (s.h_in // s.h_out) * (s.w_in // s.w_out)


def onnx_tool_global_avgpool(s: Sizes) -> int:
    """GlobalAveragePool: input elements (adds) + 4 x output elements (one division each)."""
    return s.elements_in + 4 * s.elements_out


def onnx_tool_reduce(s: Sizes) -> int:
    """ReduceMean, ReduceSum, ReduceMax, ReduceMin: input elements (one add or compare each), as GlobalAveragePool's
    adds."""
    return s.elements_in


def onnx_tool_linear(s: Sizes) -> int:
    """Gemm (or MatMul, + Add for the bias, per position): output elements x in_features, + output elements for
    the bias."""
    return s.c_out * s.elements_in + bias_elements(s)


def onnx_tool_batchnorm(s: Sizes) -> int:
    """BatchNormalization: 31 x output elements (add 1, sqrt 24, div 4, add 1, mul 1), affine or not."""
    return 31 * s.elements_out


def onnx_tool_layernorm(s: Sizes) -> int:
    """LayerNormalization: 7 x elements (3 mul, 4 add) + 29 x (elements without the normalised axis: its one
    'axis', C here, channels-last or over C x H x W alike) (add, sqrt 24, div 4)."""
    return 7 * s.elements_in + 29 * s.h_in * s.w_in


def onnx_tool_groupnorm(s: Sizes) -> int:
    """torch's export: InstanceNormalization over the groups, 7 x elements, then Mul and Add by the per-channel
    weight and bias, 1 x elements each (without affine: 7 x elements)."""
    return (9 if s.affine else 7) * s.elements_in


def onnx_tool_merge(op: str) -> Rule:
    """One binary op per extra input (a + b + c: two Add nodes), 1 x output elements each."""

    def rule(s: Sizes) -> int:
        return (s.inputs - 1) * s.elements_out

    rule.__doc__ = f"{op}: 1 x output elements per extra input"
    return rule


def onnx_tool_upsample(s: Sizes) -> int:
    """Resize: 0 for nearest, 4 x output elements for linear."""
    return 4 * s.elements_out if s.config["mode"] == "bilinear" else 0


def onnx_tool_lrn(s: Sizes) -> Crashes:
    """torch exports local_response_norm with an If (on the input's rank), which onnx-tool cannot infer shapes of."""
    return Crashes(
        "NotImplementedError: this Node If has no value_infer (torch exports local_response_norm with an If)"
    )


def onnx_tool_attention(s: Sizes) -> int:
    """The export of an attention layer on D x [P x] T tokens (h heads, per sequence): MatMul of the Q, K, V and
    output projections (T x D x 4D) + Add of their biases (3D x T, D x T), 2 Mul scaling Q and K by d^-1/4 (D x T
    each), MatMul Q K^T and A V (h x T x T x d each: T x T x D), Softmax (36 x h x T x T). The scale's own arithmetic
    (3 Sqrt and a Div on one number, 76, the same at any batch) is not a count per sample and is left out. A window's
    position bias (or mask) is added to the scores (h x T x T); a mask is first added to the bias, once at any batch
    (left out as well)."""
    d, t, sequences, heads = s.c_in, s.w_in, s.h_in, int(s.config["heads"])
    biases = (3 * d if s.config["qkv_bias"] else 0) + (d if s.config["projection"] else 0)
    added = heads * t * t if s.config["window"] or s.config["masked"] else 0
    per_sequence = 2 * t * t * d + 36 * heads * t * t + (biases + 2 * d) * t + added
    return attention_projections(s) + sequences * per_sequence


def onnx_tool_dot_product(s: Sizes) -> int:
    """The export of scaled_dot_product_attention on Q [.., Tq, d] (K as large: self-attention): Mul of Q and K by
    d^-1/4 (2 x Q's elements), MatMul Q K^T and A V (convcalc's MACs), Softmax (36 x lead x Tq x Tk, that is 36 x
    MACs / (d + dv)). As for attention, the scale's own arithmetic on one number is left out."""
    return 2 * s.elements_in + s.macs + 36 * (s.macs // (s.w_in + s.w_out))


ONNX_TOOL: Registry = table(
    {
        "conv": onnx_tool_conv,
        "conv_transpose": onnx_tool_transposed,
        "linear": onnx_tool_linear,
        "batchnorm": onnx_tool_batchnorm,
        "layernorm": onnx_tool_layernorm,
        "groupnorm": onnx_tool_groupnorm,
        "maxpool": onnx_tool_pool,
        "avgpool": onnx_tool_pool,
        "adaptive_avgpool": onnx_tool_adaptive,
        "adaptive_maxpool": onnx_tool_adaptive,
        "global_maxpool": onnx_tool_adaptive,
        "global_avgpool": onnx_tool_global_avgpool,
        "upsample": onnx_tool_upsample,
        "add": onnx_tool_merge("Add"),
        "multiply": onnx_tool_merge("Mul"),
        "scale": per_element(1, "Mul"),
        "relu": per_element(1, "Relu"),
        "relu6": per_element(2, "Clip"),
        "leaky_relu": per_element(2, "LeakyRelu"),
        "hardsigmoid": per_element(4, "HardSigmoid"),
        "hardswish": per_element(5, "HardSwish"),
        "sigmoid": per_element(32, "Sigmoid"),
        "silu": per_element(33, "Sigmoid (32) and Mul (1)"),
        "gelu": per_element(34, "Gelu"),
        "softmax": per_element(36, "Softmax"),
        "tanh": per_element(76, "Tanh: (32 + 2 + 4) x its ratio of 2"),
        "lrn": onnx_tool_lrn,
        "matmul": own_macs,
        "attention": onnx_tool_attention,
        "dot_product_attention": onnx_tool_dot_product,
        "position_embedding": per_element(1, "Add"),
        "arithmetic": per_element(1, "Add, Sub, Mul, Div or Pow"),
        "reduce": onnx_tool_reduce,
    },
    not_counted=(
        "flatten",
        "dropout",
        "identity",
        "crop",
        "concat",
        "opaque",
        "channel_shuffle",
        "pixel_shuffle",
        "pixel_unshuffle",
        "pad",
        "stochastic_depth",
        "slice",
        "reshape",
        "roll",
        "permute",
        "class_token",
    ),
)
"""onnx-tool's node profilers by the ONNX ops torch's export (opset 20) writes for each layer kind. Flatten, Concat,
Slice, Pad, Reshape, Transpose (a channel shuffle, pixel (un)shuffle, a permute), Dropout and Identity are 0; a
class token is an Expand and a Concat (0; the Equal and Mul on its 3-number shape, 6 at any batch, are left out)."""

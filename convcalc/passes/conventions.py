"""Other tools' counting conventions: what fvcore, ptflops, thop, torchinfo, torch's flop counter and torchvision's
published figures would print for a network, layer by layer, quirks included (issue 15).

Each convention is data: the tool, the version whose behaviour it reproduces, the unit the tool prints, and one
registry per counting mechanism of the tool (ptflops has two: module hooks and its patched ``torch.nn.functional``)
mapping every layer kind to a small rule, as fvcore's own handle table maps aten ops to handles. A rule reads a
layer's :class:`Sizes` (its kind, configuration, input and output sizes, parameters) per sample and returns a count
or :class:`Skipped`: counted 0 and listed by the tool as not counted (fvcore's "unsupported ops"). Rules are plain
integer arithmetic: evaluated on :class:`~convcalc.formula.Term` values they explain themselves, as the catalogue's
formulas do. The rules were read from each tool's source and are checked against the numbers the real tools printed
(``tests/data/peers/``, recorded by ``tools/record_peers.py``; docs/peer-rules.md has the details).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from convcalc.core.formula import Term, symbol
from convcalc.core.tensor import Config, Shape
from convcalc.core.version import __version__
from convcalc.engine.results import LayerResult
from convcalc.kinds.catalogue import CATALOGUE
from convcalc.kinds.windows import resolve_padding


class Skipped(NamedTuple):
    """Ops the tool reports as not counted (fvcore's unsupported aten ops), and what it did count of the layer."""

    ops: tuple[str, ...]
    counted: int = 0


class Crashes(NamedTuple):
    """The tool cannot count a network with this layer: what it raises (onnx-tool on an op it has no shape
    inference for), and why."""

    error: str


@dataclass(frozen=True, slots=True)
class Sizes:
    """What a rule reads of one layer, per sample. A flat (N,) shape reads as C = N, H = W = 1."""

    type: str
    config: Config
    c_in: int
    h_in: int
    w_in: int
    c_out: int
    h_out: int
    w_out: int
    inputs: int
    params: int
    macs: int
    """convcalc's own MACs of the layer (conv, transposed conv and linear weights)."""
    k_h: int = 1
    k_w: int = 1
    groups: int = 1

    @property
    def elements_in(self) -> int:
        return self.c_in * self.h_in * self.w_in

    @property
    def elements_out(self) -> int:
        return self.c_out * self.h_out * self.w_out

    @property
    def affine(self) -> bool:
        return bool(self.config.get("affine", True))

    @property
    def bias(self) -> bool:
        return bool(self.config.get("bias", False))


Count = int | Skipped | Crashes
Rule = Callable[[Sizes], Count]
Registry = Mapping[str, Rule]


def _dims(shape: Shape) -> tuple[int, int, int]:
    return (shape[0], shape[1], shape[2]) if len(shape) == 3 else (shape[0], 1, 1)


def sizes(layer: LayerResult, batch: int = 1) -> Sizes:
    """A layer's sizes as plain ints, per sample (``batch``: the batch its MACs are for)."""
    kernel = layer.config.get("kernel") or (1, 1)
    return Sizes(
        layer.type,
        layer.config,
        *_dims(layer.input_shapes[0]),
        *_dims(layer.output_shape),
        inputs=len(layer.input_shapes),
        params=layer.params,
        macs=layer.macs // batch,
        k_h=kernel[0],
        k_w=kernel[1],
        groups=layer.config.get("groups", 1) if layer.type in ("conv", "conv_transpose") else 1,
    )


def symbolic_sizes(layer: LayerResult, batch: int = 1) -> Sizes:
    """The same sizes as named symbols (C_in, H_out, k_h, params, MACs), so that a rule explains its arithmetic."""
    plain = sizes(layer, batch)

    def named(letter: str, suffix: str, shape: Shape) -> tuple[int, int, int]:
        if len(shape) != 3:
            return symbol(f"N_{suffix}", shape[0]), 1, 1
        return (symbol(f"C_{suffix}", shape[0]), symbol(f"H_{suffix}", shape[1]), symbol(f"W_{suffix}", shape[2]))

    return Sizes(
        plain.type,
        plain.config,
        *named("C", "in", layer.input_shapes[0]),
        *named("C", "out", layer.output_shape),
        inputs=plain.inputs,
        params=symbol("params", plain.params),
        macs=symbol("MACs", plain.macs),
        k_h=symbol("k_h", plain.k_h),
        k_w=symbol("k_w", plain.k_w),
        groups=plain.groups if plain.groups == 1 else symbol("groups", plain.groups),
    )


# --- rules shared by several tools ---------------------------------------------------------------------------


def zero(s: Sizes) -> int:
    """0: not counted."""
    return 0


def conv_macs(s: Sizes) -> int:
    """C_out x H_out x W_out x C_in / groups x k_h x k_w: one multiply-add per weight and output position, no bias."""
    return s.c_out * s.h_out * s.w_out * (s.c_in // s.groups) * s.k_h * s.k_w


def transposed_macs(s: Sizes) -> int:
    """C_in x H_in x W_in x C_out / groups x k_h x k_w: every input pixel through the kernel, no bias."""
    return s.c_in * s.h_in * s.w_in * (s.c_out // s.groups) * s.k_h * s.k_w


def linear_macs(s: Sizes) -> int:
    """in_features x out_features, no bias."""
    return s.elements_in * s.c_out


def input_elements(s: Sizes) -> int:
    """1 per input element."""
    return s.elements_in


def output_elements(s: Sizes) -> int:
    """1 per output element."""
    return s.elements_out


def own_macs(s: Sizes) -> int:
    """convcalc's MACs: multiply-accumulates of conv, transposed conv and linear weights."""
    return s.macs


def weighted_only(rules: Registry) -> dict[str, Rule]:
    """A registry giving every catalogue kind 0 except the given ones."""
    return {**dict.fromkeys(CATALOGUE, zero), **rules}


# --- fvcore ----------------------------------------------------------------------------------------------------


def fvcore_conv(s: Sizes) -> Count:
    """N x prod(weight) x prod(output spatial), no bias; 0 and unsupported when padding is a string ('same' at
    stride 1, 'valid'): torch traces that to aten::_convolution_mode, which fvcore has no handle for (an asymmetric
    'same' at a larger stride is an unsupported aten::pad in front of a counted conv)."""
    padding, stride = s.config["padding"], tuple(s.config["stride"])
    if padding == "valid" or (padding == "same" and stride == (1, 1)):
        return Skipped(("aten::_convolution_mode",))
    if padding == "same":
        size, kernel, dilation = (int(s.h_in), int(s.w_in)), (int(s.k_h), int(s.k_w)), s.config["dilation"]
        (top, bottom), (left, right) = resolve_padding("same", size, kernel, stride, dilation)
        if (top, left) != (bottom, right):  # the export pads first with nn.ZeroPad2d: aten::pad
            return Skipped(("aten::pad",), conv_macs(s))
    return conv_macs(s)


def fvcore_batchnorm(s: Sizes) -> int:
    """aten::batch_norm in eval: input elements x 2 with affine (x 1 without)."""
    return s.elements_in * (2 if s.affine else 1)


def fvcore_norm(s: Sizes) -> int:
    """aten::layer_norm / group_norm: input elements x 5 with affine (x 4 without)."""
    return s.elements_in * (5 if s.affine else 4)


def fvcore_upsample(s: Sizes) -> int:
    """aten::upsample_nearest2d: output elements x 1; upsample_bilinear2d: x 4."""
    return s.elements_out * (4 if s.config["mode"] == "bilinear" else 1)


def unsupported(*ops: str) -> Rule:
    """A rule counting 0 and naming the aten ops fvcore does not handle."""

    def rule(s: Sizes) -> Count:
        return Skipped(ops)

    rule.__doc__ = f"0: {', '.join(sorted(set(ops)))} unsupported (fvcore counts 0 and lists it)"
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


FVCORE: Registry = weighted_only(
    {
        "conv": fvcore_conv,
        "conv_transpose": transposed_macs,
        "linear": linear_macs,
        "batchnorm": fvcore_batchnorm,
        "layernorm": fvcore_norm,
        "groupnorm": fvcore_norm,
        "adaptive_avgpool": input_elements,
        "global_avgpool": input_elements,
        "upsample": fvcore_upsample,
        "maxpool": unsupported("aten::max_pool2d"),
        "avgpool": unsupported("aten::avg_pool2d"),
        "adaptive_maxpool": unsupported("aten::adaptive_max_pool2d"),
        "global_maxpool": unsupported("aten::adaptive_max_pool2d"),
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
    }
)
"""fvcore's handles by layer kind. relu, dropout, flatten, concat, slice, a crop (slicing), a channel shuffle (view,
transpose, reshape, as torchvision's ShuffleNetV2 and the export write it) and the rest are ops it ignores: 0."""


# --- ptflops ---------------------------------------------------------------------------------------------------


def bias_elements(s: Sizes) -> int:
    return s.elements_out if s.bias else 0


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


def ptflops_lrn(s: Sizes) -> int:
    """No hook; F.local_response_norm's wrapped ops: x.mul(x), .mul(alpha), .add(k) (3 x elements) and
    F.avg_pool3d over the channel-padded square (C + size - 1) x H x W."""
    size: int = s.config["size"]
    if isinstance(s.c_in, Term):
        size = symbol("size", size)
    return 3 * s.elements_in + (s.c_in + size - 1) * s.h_in * s.w_in


PTFLOPS_HOOKS: Registry = weighted_only(
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
    }
)
"""ptflops' module hooks (MODULES_MAPPING): the rows of its per-layer table."""

PTFLOPS_FUNCTIONAL: Registry = weighted_only(
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
    }
)
"""ptflops' wrappers of torch.nn.functional (F.relu, F.gelu, F.silu, F.softmax, every F.*pool*, F.interpolate) and
of Tensor.mul/add: modules that call them (nn.ReLU, nn.MaxPool2d, ...) count twice. F.hardtanh (ReLU6) and
F.leaky_relu are not wrapped, and ``a + b`` or ``x * gamma`` are operators, not the wrapped methods."""


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
    """(3 x C - 1) x positions: C exponentials, C - 1 adds, C divides."""
    return (3 * s.c_in - 1) * s.h_in * s.w_in


THOP: Registry = weighted_only(
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
    }
)
"""thop's register_hooks by layer kind. ReLU, ReLU6, LeakyReLU and max pools are zero_ops; GroupNorm, the other
activations, LocalResponseNorm and convcalc's helper modules (Add, Concat, Crop, ...) are not registered: 0."""


# --- torchinfo -------------------------------------------------------------------------------------------------


def torchinfo_conv(s: Sizes) -> int:
    """(weight + bias elements) x H_out x W_out: any class named Conv*, the transposed conv too."""
    return s.params * s.h_out * s.w_out


def torchinfo_params(s: Sizes) -> int:
    """its parameter count (weight and bias) x N: mult-adds come from parameters only."""
    return s.params


TORCHINFO: Registry = {
    **dict.fromkeys(CATALOGUE, torchinfo_params),
    "conv": torchinfo_conv,
    "conv_transpose": torchinfo_conv,
    "scale": zero,
}
"""torchinfo's calculate_macs: a layer's parameters named weight or bias. The layer scale's parameter is 'gamma': 0."""


# --- torch.utils.flop_counter and torchvision ------------------------------------------------------------------


def twice(rule: Rule) -> Rule:
    """2 x a rule: FLOPs of multiply-adds."""

    def doubled(s: Sizes) -> Count:
        count = rule(s)
        if isinstance(count, Crashes):
            return count
        return Skipped(count.ops, 2 * count.counted) if isinstance(count, Skipped) else 2 * count

    doubled.__doc__ = f"2 x ({(rule.__doc__ or '').rstrip('.')})"
    return doubled


FLOP_COUNTER: Registry = weighted_only(
    {"conv": twice(conv_macs), "conv_transpose": twice(transposed_macs), "linear": twice(linear_macs)}
)
"""FlopCounterMode's formulas: aten.convolution and aten.mm/addmm only."""

TORCHVISION: Registry = weighted_only({kind: own_macs for kind in ("conv", "conv_transpose", "linear")})
CONVCALC: Registry = dict.fromkeys(CATALOGUE, own_macs)


# --- onnx-tool -------------------------------------------------------------------------------------------------


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
    """MaxPool / AveragePool: output elements x k_h x k_w."""
    return s.elements_out * s.k_h * s.k_w


def onnx_tool_adaptive(s: Sizes) -> Count:
    """torch exports an adaptive pool as a MaxPool / AveragePool of kernel H_in / H_out x W_in / W_out (output
    elements x that kernel, i.e. input elements); an output size that does not divide the input does not export."""
    if int(s.h_in) % int(s.h_out) or int(s.w_in) % int(s.w_out):
        return Crashes("torch.onnx.export: an adaptive pool whose output size does not divide its input size")
    return s.elements_out * (s.h_in // s.h_out) * (s.w_in // s.w_out)


def onnx_tool_global_avgpool(s: Sizes) -> int:
    """GlobalAveragePool: input elements (adds) + 4 x output elements (one division each)."""
    return s.elements_in + 4 * s.elements_out


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


ONNX_TOOL: Registry = weighted_only(
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
    }
)
"""onnx-tool's node profilers by the ONNX ops torch's export (opset 20) writes for each layer kind. Flatten, Concat,
Slice, Pad, Reshape, Transpose (a channel shuffle, pixel (un)shuffle), Dropout and Identity are 0."""


# --- the conventions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Convention:
    """One tool's way of counting: its registries (summed), the unit it prints and the version reproduced."""

    name: str
    tool: str
    version: str
    unit: str
    """'MACs' or 'FLOPs' (2 per multiply-add): what the tool's numbers are."""
    call: str
    summary: str
    parts: tuple[tuple[str, Registry], ...]
    also_flops: bool = False
    """convcalc's own: FLOPs beside its MACs."""
    traced: bool = False
    """The tool counts a torch.jit trace, which drops every op whose result never reaches the network's output."""

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "tool": self.tool,
            "version": self.version,
            "unit": self.unit,
            "call": self.call,
            "rules": self.summary,
        }


CONVENTIONS: dict[str, Convention] = {
    convention.name: convention
    for convention in (
        Convention(
            "convcalc",
            "convcalc",
            __version__,
            "MACs",
            "convcalc analyze",
            "conv, transposed conv and linear multiply-accumulates; FLOPs = 2 x MACs + element-wise work",
            (("", CONVCALC),),
            also_flops=True,
        ),
        Convention(
            "torchvision",
            "torchvision (published _ops, 'GFLOPS')",
            "0.28.0",
            "MACs",
            "weights.meta['_ops']",
            "conv and linear multiply-adds only, no bias: convcalc's MACs",
            (("", TORCHVISION),),
        ),
        Convention(
            "fvcore",
            "fvcore",
            "0.1.5.post20221221",
            "MACs",
            "FlopCountAnalysis(model, x).total()",
            "conv/linear without bias, batch norm 2 x elements, adaptive avg pool 1 x input; 0 for a conv with "
            "padding='same', pools, adds, activations other than ReLU (listed as unsupported) and for layers whose "
            "output never reaches the network's output (dropped by its trace)",
            (("", FVCORE),),
            traced=True,
        ),
        Convention(
            "ptflops",
            "ptflops (pytorch backend)",
            "0.7.5",
            "MACs",
            "get_model_complexity_info(model, (C, H, W))",
            "conv/linear with bias, norms 2 x elements, ReLU and pools counted twice (module hook + F.* wrapper), "
            "ReLU6 once, LRN through its wrapped ops",
            (("module hook", PTFLOPS_HOOKS), ("functional", PTFLOPS_FUNCTIONAL)),
        ),
        Convention(
            "ptflops-hooks",
            "ptflops (pytorch backend), module hooks only",
            "0.7.5",
            "MACs",
            "get_model_complexity_info(..., backend_specific_config={'count_functional': False}); the per-layer table",
            "ptflops' per-layer table: its module hooks without the functional wrappers (as before 0.7.1)",
            (("module hook", PTFLOPS_HOOKS),),
        ),
        Convention(
            "thop",
            "thop",
            "0.1.1-2209072238",
            "MACs",
            "profile(model, inputs=(x,))",
            "conv/linear without bias (transposed conv on its output: stride^2 too much), batch norm 4 x elements, "
            "avg pools per output element (+1), softmax 3C - 1, ReLU and max pools 0",
            (("", THOP),),
        ),
        Convention(
            "torchinfo",
            "torchinfo (Total mult-adds)",
            "1.8.0",
            "MACs",
            "summary(model, input_size=(1, C, H, W))",
            "parameters x output positions for convs (bias included; transposed on its output), parameters once "
            "for every other layer (batch norm 2 x C), 0 without parameters",
            (("", TORCHINFO),),
        ),
        Convention(
            "onnx-tool",
            "onnx-tool (ONNX file)",
            "1.0.1",
            "MACs",
            "onnx_tool.model_profile('model.onnx')",
            "every node of the ONNX export: conv/linear with bias, batch norm 31 x elements, ReLU 1, Clip 2, Sigmoid "
            "32, Tanh 76, pools output x kernel, global avg pool input + 4 x output, adds and muls 1 x elements; "
            "crashes on torch's LRN export (an If); the export is a trace: layers whose output never reaches the "
            "network's output are not in the file",
            (("", ONNX_TOOL),),
            traced=True,
        ),
        Convention(
            "flop_counter",
            "torch.utils.flop_counter.FlopCounterMode",
            "2.13.0+cpu",
            "FLOPs",
            "FlopCounterMode(); get_total_flops()",
            "2 x conv/linear multiply-adds without bias; nothing else",
            (("", FLOP_COUNTER),),
        ),
    )
}


def convention(name: str) -> Convention:
    """The convention of a name; ValueError lists the names."""
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(f"unknown convention {name!r}; expected one of {', '.join(CONVENTIONS)}") from None


def rule_of(registry: Registry, kind: str, name: str) -> Rule:
    try:
        return registry[kind]
    except KeyError:
        raise ValueError(f"the {name} convention has no rule for the layer kind {kind!r}") from None


@dataclass(frozen=True, slots=True)
class Tally:
    """One layer under a convention, for its batch: MACs, FLOPs where the tool reports FLOPs, ops it skipped."""

    layer: LayerResult
    macs: int
    flops: int | None
    skipped: tuple[str, ...]
    crash: str | None = None
    """What the tool raises on this layer: it counts no network that has it."""


def tally(layer: LayerResult, chosen: Convention, batch: int = 1) -> Tally:
    """A layer as the tool counts it: the sum of its registries' rules, times the batch."""
    measured = sizes(layer, batch)
    value, skipped = 0, tuple[str, ...]()
    for _, registry in chosen.parts:
        count = rule_of(registry, layer.type, chosen.name)(measured)
        if isinstance(count, Crashes):
            return Tally(layer, 0, None, (), count.error)
        if isinstance(count, Skipped):
            skipped += count.ops
            value += int(count.counted)
        else:
            value += int(count)
    value *= batch
    if chosen.unit == "FLOPs":
        return Tally(layer, value // 2, value, skipped)
    return Tally(layer, value, layer.flops if chosen.also_flops else None, skipped)


@dataclass(frozen=True, slots=True)
class Counting:
    """A network under a convention: every layer's tally and the totals."""

    convention: Convention
    layers: tuple[Tally, ...]

    @property
    def macs(self) -> int:
        return sum(t.macs for t in self.layers)

    @property
    def flops(self) -> int | None:
        return None if self.layers and self.layers[0].flops is None else sum(t.flops or 0 for t in self.layers)

    @property
    def crash(self) -> str | None:
        """What the tool raises on this network (its first layer that it cannot count), or None."""
        return next((f"{t.layer.name}: {t.crash}" for t in self.layers if t.crash), None)

    @property
    def count(self) -> int:
        """The headline number in the tool's unit."""
        flops = self.flops
        return flops if self.convention.unit == "FLOPs" and flops is not None else self.macs

    def skipped(self) -> dict[str, int]:
        """Every op the tool said it did not count, with how often."""
        result: dict[str, int] = {}
        for layer in self.layers:
            for op in layer.skipped:
                result[op] = result.get(op, 0) + 1
        return dict(sorted(result.items()))


def reaching_output(layers: Sequence[LayerResult], output: str) -> set[str]:
    """The names of the layers whose results the network's output depends on."""
    by_name = {layer.name: layer for layer in layers}
    live, waiting = set(), [output]
    while waiting:
        name = waiting.pop()
        if name in by_name and name not in live:
            live.add(name)
            waiting.extend(by_name[name].inputs)
    return live


def count_layers(
    layers: Sequence[LayerResult], chosen: Convention, batch: int = 1, output: str | None = None
) -> Counting:
    """Every layer under a convention; ``output``: the network's output layer (the last layer if None)."""
    live = reaching_output(layers, output or layers[-1].name) if chosen.traced and layers else None
    return Counting(
        chosen,
        tuple(
            tally(layer, chosen, batch) if live is None or layer.name in live else Tally(layer, 0, None, ())
            for layer in layers
        ),
    )


def difference_by_kind(counting: Counting, default: Counting) -> dict[str, int]:
    """The convention's count minus convcalc's in the same unit (MACs, or FLOPs for a FLOPs tool), per layer kind,
    largest first; kinds with no difference left out."""
    flops = counting.convention.unit == "FLOPs"
    result: dict[str, int] = {}
    for mine, ours in zip(counting.layers, default.layers, strict=True):
        delta = (mine.flops or 0) - (ours.flops or 0) if flops else mine.macs - ours.macs
        result[mine.layer.type] = result.get(mine.layer.type, 0) + delta
    return dict(sorted(((k, v) for k, v in result.items() if v), key=lambda item: (-abs(item[1]), item[0])))


@dataclass(frozen=True, slots=True)
class RuleStep:
    """One registry's rule for a layer, explained: its text, formula, the numbers substituted and its value."""

    part: str
    rule: str
    formula: str
    substituted: str
    value: int
    skipped: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "part": self.part,
            "rule": self.rule,
            "formula": self.formula,
            "substituted": self.substituted,
            "value": self.value,
            "skipped": list(self.skipped),
        }


def explain_rules(layer: LayerResult, chosen: Convention) -> list[RuleStep]:
    """Each of the convention's rules for a layer (per sample), run on named symbols so it shows its arithmetic."""
    steps = []
    measured = symbolic_sizes(layer)
    for part, registry in chosen.parts:
        rule = rule_of(registry, layer.type, chosen.name)
        result = rule(measured)
        text = " ".join((rule.__doc__ or "").split())
        if isinstance(result, Crashes):
            steps.append(RuleStep(part, f"{text} The tool raises: {result.error}", "0", "0", 0, ()))
            continue
        skipped: tuple[str, ...] = result.ops if isinstance(result, Skipped) else ()
        count = result.counted if isinstance(result, Skipped) else result
        formula = count.symbols if isinstance(count, Term) else str(int(count))
        numbers = count.numbers if isinstance(count, Term) else str(int(count))
        steps.append(RuleStep(part, text, formula, numbers, int(count), skipped))
    return steps

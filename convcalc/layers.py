"""The layer catalogue: one small definition per layer kind, its shape, parameter and cost formulas side by side.

Shapes are per sample: ``(C, H, W)`` for feature maps, ``(N,)`` for flat vectors. Every count is an
exact Python int. Conventions, stated once here and shown in README, the table footer and JSON:

* **params**: trainable weights, biases and batch-norm gamma/beta. Non-trainable state (batch-norm
  running mean and variance) is counted separately as **buffers**.
* **MACs**: multiply-accumulates of conv, transposed-conv and linear weights only (what torchvision,
  fvcore and most papers call "FLOPs" or "mult-adds").
* **FLOPs**: 2 x MACs (one multiply and one add each) plus the element-wise work listed per kind in
  its ``flops_rule``: bias adds, pooling, normalisation, activations, merges.

The formulas are plain integer arithmetic. `convcalc explain` runs the very same ``evaluate`` with
:class:`~convcalc.formula.Term` values, which record the arithmetic as they go; ``named`` labels an
intermediate result (``H_out``, ``MACs``) so that later formulas refer to it by name.

To add a layer kind, write one class (or one table row, for activations) and register it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from convcalc.formula import ceil_div, floor_div, named
from convcalc.keys import (
    Key,
    Padding,
    Pair,
    boolean,
    choice,
    explicit_padding,
    non_negative_pair,
    number,
    padding,
    positive_int,
    positive_pair,
    rate,
)

if TYPE_CHECKING:
    from fractions import Fraction

Shape = tuple[int, ...]
Config = Mapping[str, Any]


def json_number(value: int | Fraction, places: int = 3) -> int | float:
    """A value for JSON and tables: the int itself when whole, else rounded to ``places`` decimals from the exact
    fraction (the nearest int when it is beyond what a float can hold)."""
    if isinstance(value, int):
        return value
    if value.denominator == 1:
        return value.numerator
    rounded = round(value, places)
    try:
        return float(rounded)
    except OverflowError:
        return int(rounded)


def ratio(numerator: int, denominator: int) -> int | Fraction:
    """numerator / denominator exactly: an int when it divides, else a Fraction (imported only then)."""
    numerator, denominator = int(numerator), int(denominator)
    if numerator % denominator == 0:
        return numerator // denominator
    from fractions import Fraction

    return Fraction(numerator, denominator)


class ShapeError(ValueError):
    """The layer cannot be applied to its input shape(s)."""


class Window(NamedTuple):
    """How one axis of a layer's output looks at its input, for receptive fields (a tuple: one per layer and axis).

    ``span``: input pixels one output pixel reads (dilation included); ``stride``: input pixels between
    neighbouring outputs (a fraction for upsampling layers); ``pad_before``: padding before the first window.
    """

    span: int
    stride: int | Fraction
    pad_before: int | Fraction


@dataclass(slots=True)
class Evaluation:
    """What one layer produces and costs, per sample; ``windows`` (H, W) when it mixes neighbouring pixels."""

    shape: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    note: str | None = None
    windows: tuple[Window, Window] | None = None
    warnings: tuple[str, ...] = ()


def format_shape(shape: Shape) -> str:
    """``(256, 13, 13)`` -> ``256x13x13``."""
    return "x".join(str(n) for n in shape)


def elements(shape: Shape) -> int:
    """Number of elements: C * H * W (or N)."""
    return math.prod(shape)


class LayerKind:
    """A layer type: the keys it accepts and how it maps input shapes to an output shape and costs."""

    type: str
    keys: tuple[Key, ...] = ()
    many_inputs: ClassVar[bool] = False
    flops_rule: str = "0"
    macs_rule: ClassVar[str] = "0"

    @property
    def summary(self) -> str:
        return (self.__doc__ or self.type).strip().splitlines()[0]

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        raise NotImplementedError


CATALOGUE: dict[str, LayerKind] = {}


def register(kind: LayerKind) -> LayerKind:
    CATALOGUE[kind.type] = kind
    return kind


# --- shared formulas ------------------------------------------------------------------------------


def feature_map(shape: Shape, kind: str) -> tuple[int, int, int]:
    """The (C, H, W) of an input, or a ShapeError for a flat input."""
    if len(shape) != 3:
        raise ShapeError(f"{kind} needs a CxHxW feature map, but its input is the flat vector {format_shape(shape)}")
    return shape[0], shape[1], shape[2]


def conv_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """PyTorch's rule: floor((in + pad_before + pad_after - dilation * (kernel - 1) - 1) / stride) + 1."""
    return floor_div(size + pad_before + pad_after - dilation * (kernel - 1) - 1, stride) + 1


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling rule: the conv rule, with ceil instead of floor under ceil_mode.

    Under ceil_mode a last window that would start inside the right padding is dropped:
    if (out - 1) * stride >= in + pad then out -= 1.
    """
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (ceil_div(span, stride) if ceil_mode else floor_div(span, stride)) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out = out - 1
    return out


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> Pair:
    """Padding (before, after) so that out = ceil(in / stride); the odd pixel goes after (bottom/right).

    At stride 1 this is PyTorch's padding='same' (total dilation * (kernel - 1)); at larger strides it is
    TensorFlow's 'SAME'.
    """
    size, kernel, stride, dilation = int(size), int(kernel), int(stride), int(dilation)
    out = ceil_div(size, stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(pad: Padding, size: Pair, kernel: Pair, stride: Pair, dilation: Pair) -> tuple[Pair, Pair]:
    """((top, bottom), (left, right)) for a padding key value."""
    if pad == "valid":
        return (0, 0), (0, 0)
    if pad == "same":
        return (
            same_padding(size[0], kernel[0], stride[0], dilation[0]),
            same_padding(size[1], kernel[1], stride[1], dilation[1]),
        )
    assert isinstance(pad, tuple)
    return (pad[0], pad[0]), (pad[1], pad[1])


def sliding_windows(
    size: Pair, kernel: Pair, stride: Pair, pads: tuple[Pair, Pair], dilation: Pair, kind: str
) -> tuple[int, int, tuple[Window, Window], tuple[str, ...]]:
    """Output H and W of a sliding window (conv rule), its windows, and a warning if it does not tile the input."""
    h = named("H_out", conv_output_size(size[0], kernel[0], stride[0], *pads[0], dilation[0]))
    w = named("W_out", conv_output_size(size[1], kernel[1], stride[1], *pads[1], dilation[1]))
    if h < 1 or w < 1:
        raise ShapeError(window_too_large(kind, size, kernel, pads, dilation))
    windows = axis_windows(kernel, stride, (pads[0][0], pads[1][0]), dilation)
    return h, w, windows, untiled_warning(size, (h, w), windows, (sum(pads[0]), sum(pads[1])))


def axis_windows(kernel: Pair, stride: Pair, pad_before: Pair, dilation: Pair) -> tuple[Window, Window]:
    """(H, W) windows of a sliding kernel: span = dilation * (kernel - 1) + 1."""
    return (
        Window(int(dilation[0] * (kernel[0] - 1) + 1), int(stride[0]), int(pad_before[0])),
        Window(int(dilation[1] * (kernel[1] - 1) + 1), int(stride[1]), int(pad_before[1])),
    )


def untiled_warning(size: Pair, out: Pair, windows: tuple[Window, Window], padded: Pair) -> tuple[str, ...]:
    """The padded input's last rows/columns that no window reads: in + pad - span - (out - 1) * stride of them."""
    unread = [
        int(size[axis] + padded[axis] - windows[axis].span - (int(out[axis]) - 1) * int(windows[axis].stride))
        for axis in (0, 1)
    ]
    if not any(unread):
        return ()
    axes = [
        f"(in {size[axis]} + padding {padded[axis]} - window {windows[axis].span}) / stride {windows[axis].stride}"
        for axis in (0, 1)
        if unread[axis]
    ]
    lost = " and ".join(
        f"{unread[axis]} {name if unread[axis] > 1 else name[:-1]}"
        for axis, name in ((0, "rows"), (1, "columns"))
        if unread[axis]
    )
    formula = axes[0] if len(set(axes)) == 1 else " and ".join(axes)
    verb = "is" if len(set(axes)) == 1 else "are"
    return (f"{formula} {verb} not a whole number: the last {lost} of the input are never read",)


def window_too_large(kind: str, size: Pair, kernel: Pair, pads: tuple[Pair, Pair], dilation: Pair) -> str:
    """The message for a (dilated) kernel larger than its padded input, naming both sizes."""
    padded = (size[0] + sum(pads[0]), size[1] + sum(pads[1]))
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    dilated = f" (spanning {span[0]}x{span[1]} with dilation)" if span != tuple(kernel) else ""
    return f"{kind} kernel {kernel[0]}x{kernel[1]}{dilated} is larger than its padded input {padded[0]}x{padded[1]}"


def check_groups(groups: int, c_in: int, c_out: int) -> None:
    """groups must divide C_in and C_out (PyTorch's rule)."""
    if c_in % groups or c_out % groups:
        raise ShapeError(
            f"groups={groups} must divide both the input channels ({c_in}) and the output channels ({c_out})"
        )


def bias_count(bias: bool, c_out: int) -> int:
    """One bias per output channel, or none."""
    return c_out if bias else 0


def full_windows(h_in: int, w_in: int, h_out: int, w_out: int) -> tuple[Window, Window]:
    """Each output reads its share of the whole input (global and adaptive pooling, flattening)."""
    return adaptive_window(h_in, h_out), adaptive_window(w_in, w_out)


def adaptive_window(size: int, out: int) -> Window:
    """PyTorch's adaptive window i spans [floor(i * in / out), ceil((i + 1) * in / out)).

    The longest is ceil((in + out - gcd(in, out)) / out) pixels (ceil(in / out) + 1 when out does not divide in:
    9 -> 2 windows of 5, 12 -> 5 windows of 3 and 4); windows are in / out apart and window i is centred on
    (i + 1/2) * in / out - 1/2, so the span's padding before is (span - in / out) / 2.
    """
    size, out = int(size), int(out)
    span = ceil_div(size + out - math.gcd(size, out), out)
    return Window(span, ratio(size, out), ratio(span * out - size, 2 * out))


# --- keys shared by the convolution and pooling kinds ---------------------------------------------

FILTERS = Key("filters", positive_int, symbol="C_out")
KERNEL = Key("kernel", positive_pair, symbol="k")
STRIDE = Key("stride", positive_pair, (1, 1), symbol="s")
EXPLICIT_PADDING = Key("padding", explicit_padding, (0, 0), symbol="p")
DILATION = Key("dilation", positive_pair, (1, 1), symbol="d")
GROUPS = Key("groups", positive_int, 1, symbol="groups")
BIAS = Key("bias", boolean, True)


# --- weighted layers ------------------------------------------------------------------------------


class Conv(LayerKind):
    """2-D convolution (PyTorch nn.Conv2d)."""

    type = "conv"
    keys = (
        FILTERS,
        KERNEL,
        STRIDE,
        Key("padding", padding, (0, 0), symbol="p"),
        DILATION,
        GROUPS,
        BIAS,
    )
    macs_rule = "H_out * W_out * C_out * k_h * k_w * (C_in / groups)"
    flops_rule = "2 * MACs + (C_out * H_out * W_out if bias)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = k_h * k_w * (C_in / groups) * C_out (+ C_out bias)."""
        c_in, h_in, w_in = feature_map(inputs[0], self.type)
        c_out, groups = config["filters"], config["groups"]
        (k_h, k_w), stride, dilation = config["kernel"], config["stride"], config["dilation"]
        check_groups(groups, c_in, c_out)
        pads = resolve_padding(config["padding"], (h_in, w_in), (k_h, k_w), stride, dilation)
        h_out, w_out, windows, warnings = sliding_windows((h_in, w_in), (k_h, k_w), stride, pads, dilation, self.type)
        if pads[0][0] != pads[0][1] or pads[1][0] != pads[1][1]:
            warnings += (
                f"'same' padding is asymmetric: {pads[0][0]}/{pads[0][1]} rows, {pads[1][0]}/{pads[1][1]} "
                "columns before/after (the odd pixel goes bottom/right, as in PyTorch and TensorFlow)",
            )
        bias = bias_count(config["bias"], c_out)
        params = k_h * k_w * (c_in // groups) * c_out + bias
        macs = named("MACs", h_out * w_out * c_out * k_h * k_w * (c_in // groups))
        flops = 2 * macs + bias * h_out * w_out
        return Evaluation((c_out, h_out, w_out), params, macs=macs, flops=flops, windows=windows, warnings=warnings)


class ConvTranspose(LayerKind):
    """2-D transposed convolution (PyTorch nn.ConvTranspose2d)."""

    type = "conv_transpose"
    keys = (
        FILTERS,
        KERNEL,
        STRIDE,
        EXPLICIT_PADDING,
        Key("output_padding", non_negative_pair, (0, 0), symbol="op"),
        DILATION,
        GROUPS,
        BIAS,
    )
    macs_rule = "H_in * W_in * C_in * (C_out / groups) * k_h * k_w  (each input pixel scattered through the kernel)"
    flops_rule = "2 * MACs + (C_out * H_out * W_out if bias)"

    @staticmethod
    def output_size(size: int, kernel: int, stride: int, pad: int, output_pad: int, dilation: int) -> int:
        """PyTorch's rule: (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1."""
        return (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_pad + 1

    @staticmethod
    def window(kernel: int, stride: int, pad: int, dilation: int) -> Window:
        """An output pixel gathers ceil(span / stride) neighbouring inputs; outputs are 1/stride input pixels apart."""
        span = int(dilation) * (int(kernel) - 1) + 1
        reads = ceil_div(span, int(stride))
        centre_offset = ratio(int(pad) * 2 - (span - 1), 2 * int(stride))
        return Window(reads, ratio(1, stride), ratio(reads - 1, 2) - centre_offset)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = C_in * (C_out / groups) * k_h * k_w (+ C_out bias)."""
        c_in, h_in, w_in = feature_map(inputs[0], self.type)
        c_out, groups = config["filters"], config["groups"]
        (k_h, k_w), stride, pad = config["kernel"], config["stride"], config["padding"]
        output_pad, dilation = config["output_padding"], config["dilation"]
        check_groups(groups, c_in, c_out)
        for axis in (0, 1):
            if output_pad[axis] >= max(stride[axis], dilation[axis]):
                raise ShapeError(
                    f"output_padding {output_pad[axis]} must be smaller than the stride ({stride[axis]}) "
                    f"or the dilation ({dilation[axis]})"
                )
        h_out, w_out = (
            named(name, self.output_size(size, k, s, p, op, d))
            for name, size, k, s, p, op, d in zip(
                ("H_out", "W_out"), (h_in, w_in), (k_h, k_w), stride, pad, output_pad, dilation, strict=True
            )
        )
        if h_out < 1 or w_out < 1:
            raise ShapeError(f"padding {pad[0]}x{pad[1]} leaves an output of {h_out}x{w_out}")
        bias = bias_count(config["bias"], c_out)
        params = c_in * (c_out // groups) * k_h * k_w + bias
        macs = named("MACs", h_in * w_in * c_in * (c_out // groups) * k_h * k_w)
        flops = 2 * macs + bias * h_out * w_out
        windows = (self.window(k_h, stride[0], pad[0], dilation[0]), self.window(k_w, stride[1], pad[1], dilation[1]))
        return Evaluation((c_out, h_out, w_out), params, macs=macs, flops=flops, windows=windows)


class Linear(LayerKind):
    """Fully connected layer (PyTorch nn.Linear); a feature-map input is flattened first."""

    type = "linear"
    keys = (Key("units", positive_int, symbol="units"), BIAS)
    macs_rule = "in_features * units"
    flops_rule = "2 * MACs + (units if bias)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = in_features * units (+ units bias), in_features = product of the input shape."""
        in_features, units = named("in_features", elements(inputs[0])), config["units"]
        bias = bias_count(config["bias"], units)
        macs = named("MACs", in_features * units)
        note, windows = None, None
        if len(inputs[0]) == 3:
            note = f"flattens {format_shape(inputs[0])} = {in_features:,}"
            windows = full_windows(inputs[0][1], inputs[0][2], 1, 1)
        return Evaluation(
            (units,), in_features * units + bias, macs=macs, flops=2 * macs + bias, note=note, windows=windows
        )


class BatchNorm(LayerKind):
    """Batch normalisation over channels (PyTorch nn.BatchNorm2d / BatchNorm1d), inference."""

    type = "batchnorm"
    keys = (Key("affine", boolean, True), Key("eps", number, 1e-5), Key("momentum", number, 0.1))
    flops_rule = "2 per element (scale and shift)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 2 * C (gamma, beta) if affine; buffers = 2 * C (running mean and variance)."""
        channels = inputs[0][0]
        params = 2 * channels if config["affine"] else 0
        return Evaluation(inputs[0], params, buffers=2 * channels, flops=2 * elements(inputs[0]))


# --- windows without weights -----------------------------------------------------------------------


class Pool(LayerKind):
    """A sliding-window pool; stride defaults to the kernel, padding is at most half the kernel."""

    def __init__(self, type: str, doc: str, window_flops: str, dilation: bool) -> None:
        self.type = type
        self.__doc__ = doc
        self.flops_rule = f"{window_flops} per output element"
        self.max = type == "maxpool"
        extra = (DILATION,) if dilation else ()
        self.keys = (
            KERNEL,
            Key("stride", positive_pair, None, symbol="s"),  # None: the kernel
            EXPLICIT_PADDING,
            *extra,
            Key("ceil_mode", boolean, False),
        )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = pool_output_size(...) per axis; channels unchanged; no parameters."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        kernel = config["kernel"]
        stride = config["stride"] or kernel
        pad, dilation = config["padding"], config.get("dilation", (1, 1))
        for axis in (0, 1):
            if pad[axis] > kernel[axis] // 2:  # PyTorch checks the kernel itself, dilated or not
                raise ShapeError(f"padding {pad[axis]} is more than half the kernel {kernel[axis]} (PyTorch's limit)")
        h_out, w_out = (
            named(name, pool_output_size(size, k, s, p, d, config["ceil_mode"]))
            for name, size, k, s, p, d in zip(
                ("H_out", "W_out"), (h_in, w_in), kernel, stride, pad, dilation, strict=True
            )
        )
        pads = ((pad[0], pad[0]), (pad[1], pad[1]))
        if h_out < 1 or w_out < 1:
            raise ShapeError(window_too_large(self.type, (h_in, w_in), kernel, pads, dilation))
        windows = axis_windows(kernel, stride, pad, dilation)
        warnings = (
            ()
            if config["ceil_mode"]
            else untiled_warning((h_in, w_in), (h_out, w_out), windows, (2 * pad[0], 2 * pad[1]))
        )
        per_output = kernel[0] * kernel[1] - 1 if self.max else kernel[0] * kernel[1]
        flops = per_output * channels * h_out * w_out
        return Evaluation((channels, h_out, w_out), flops=flops, windows=windows, warnings=warnings)


def adaptive_windows_total(size: int, out: int) -> int:
    """Sum of PyTorch's adaptive window lengths: window i spans [floor(i*in/out), ceil((i+1)*in/out)).

    In closed form (so that a huge output costs nothing): in + out - gcd(in, out). Each window is
    floor((i+1)*in/out) - floor(i*in/out) long, which telescopes to in, plus one for every window whose
    end (i+1)*in/out is not a whole number: out - gcd(in, out) of them.
    """
    size, out = int(size), int(out)
    return size + out - math.gcd(size, out)


class AdaptivePool(LayerKind):
    """Adaptive pool to a fixed output size (PyTorch nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d)."""

    def __init__(self, type: str, doc: str, fixed_output: Pair | None) -> None:
        self.type = type
        self.__doc__ = doc
        self.max = "max" in type
        self.fixed_output = fixed_output
        self.keys = () if fixed_output else (Key("output", positive_pair, symbol="out"),)
        self.flops_rule = (
            "sum over output elements of (window size - 1)" if self.max else "sum over output elements of window size"
        )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, out_h, out_w); FLOPs from the exact adaptive window sizes."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        h_out, w_out = self.fixed_output or config["output"]
        windows_h = named("windows_h", adaptive_windows_total(h_in, h_out), like=h_in)
        windows_w = named("windows_w", adaptive_windows_total(w_in, w_out), like=w_in)
        read = channels * windows_h * windows_w
        flops = read - channels * h_out * w_out if self.max else read
        return Evaluation((channels, h_out, w_out), flops=flops, windows=full_windows(h_in, w_in, h_out, w_out))


# --- shape-only and element-wise layers ------------------------------------------------------------


class Flatten(LayerKind):
    """Flatten a feature map to a vector of C*H*W features."""

    type = "flatten"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C * H * W,)."""
        shape = inputs[0]
        windows = full_windows(shape[1], shape[2], 1, 1) if len(shape) == 3 else None
        return Evaluation((elements(shape),), windows=windows)


class Dropout(LayerKind):
    """Dropout: the identity at inference."""

    type = "dropout"
    keys = (Key("rate", rate, 0.5),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no cost at inference."""
        return Evaluation(inputs[0])


class LocalResponseNorm(LayerKind):
    """Local response normalisation across channels (AlexNet; PyTorch nn.LocalResponseNorm)."""

    type = "lrn"
    keys = (
        Key("size", positive_int, 5, symbol="size"),
        Key("alpha", number, 1e-4),
        Key("beta", number, 0.75),
        Key("k", number, 1),
    )
    flops_rule = "(2 * size + 3) per element: square and sum the window, scale, add k, power, divide"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; no parameters."""
        feature_map(inputs[0], self.type)
        return Evaluation(inputs[0], flops=(2 * config["size"] + 3) * elements(inputs[0]))


class Crop(LayerKind):
    """Centre crop of a feature map to [height, width] (U-Net's crop-and-copy)."""

    type = "crop"
    keys = (Key("size", positive_pair, symbol="crop"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, h, w), h <= H and w <= W; the crop starts (H - h) / 2 rows and (W - w) / 2 columns in."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        h_out, w_out = config["size"]
        if h_out > h_in or w_out > w_in:
            raise ShapeError(f"cannot crop {h_in}x{w_in} to the larger {h_out}x{w_out}")
        windows = (Window(1, 1, -(int(h_in - h_out) // 2)), Window(1, 1, -(int(w_in - w_out) // 2)))
        return Evaluation((channels, h_out, w_out), windows=windows)


class Upsample(LayerKind):
    """Upsampling by an integer scale or to a size (PyTorch nn.Upsample)."""

    type = "upsample"
    keys = (
        Key("scale", positive_pair, None, symbol="scale"),
        Key("size", positive_pair, None, symbol="size"),
        Key("mode", choice("nearest", "bilinear"), "nearest"),
        Key("align_corners", boolean, False),
    )
    flops_rule = "nearest: 0; bilinear: 7 per output element (4 weighted neighbours: 4 multiplies, 3 adds)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, H * scale_h, W * scale_w), or (C, size_h, size_w)."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        scale, size = config["scale"], config["size"]
        if (scale is None) == (size is None):
            raise ShapeError("give exactly one of 'scale' and 'size'")
        h_out, w_out = size or (named("H_out", h_in * scale[0]), named("W_out", w_in * scale[1]))
        bilinear = config["mode"] == "bilinear"
        flops = (7 if bilinear else 0) * channels * h_out * w_out
        reads = 2 if bilinear else 1
        aligned = bilinear and config["align_corners"]
        windows = tuple(
            # align_corners: corner pixels' centres coincide, output o samples input o * (in - 1) / (out - 1)
            # (a single output samples input 0; its neighbour, were there one, would be the whole input further on)
            Window(reads, ratio(i - 1, o - 1) if o > 1 else i, ratio(reads - 1, 2))
            if aligned
            # bilinear: output o samples input (o + 1/2) * in / out - 1/2 (PyTorch's half-pixel rule)
            else Window(reads, ratio(i, o), ratio(reads - 1, 2) - ratio(int(i) - int(o), 2 * int(o)))
            if bilinear
            # nearest: output o reads input floor(o * in / out), on average (out - gcd(in, out)) / (2 * out) before
            # o * in / out (PyTorch's 'nearest'; the same as the half-pixel rule when out is a multiple of in)
            else Window(reads, ratio(i, o), ratio(int(o) - math.gcd(int(i), int(o)), 2 * int(o)))
            for i, o in ((h_in, h_out), (w_in, w_out))
        )
        return Evaluation((channels, h_out, w_out), flops=flops, windows=(windows[0], windows[1]))


class Activation(LayerKind):
    """An element-wise activation; the shape is unchanged."""

    def __init__(self, type: str, formula: str, flops_per_element: int) -> None:
        self.type = type
        self.__doc__ = f"{type}(x) = {formula}, element-wise."
        self.per_element = flops_per_element
        self.flops_rule = f"{flops_per_element} per element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; FLOPs = (operations in the formula) * elements, exp/tanh/erf counting 1."""
        return Evaluation(inputs[0], flops=self.per_element * elements(inputs[0]))


class Softmax(LayerKind):
    """Softmax over the channels at each position: exp(x_i) / sum_j exp(x_j)."""

    type = "softmax"
    flops_rule = "3 * C - 1 per position: C exponentials, C - 1 adds, C divides"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in."""
        channels, positions = inputs[0][0], elements(inputs[0][1:])
        return Evaluation(inputs[0], flops=(3 * channels - 1) * positions)


# --- merges -----------------------------------------------------------------------------------------


class Concat(LayerKind):
    """Concatenation along channels; all other dimensions must match."""

    type = "concat"
    many_inputs = True

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C_1 + C_2 + ..., H, W)."""
        first = inputs[0]
        for other in inputs[1:]:
            if len(other) != len(first) or other[1:] != first[1:]:
                shapes = ", ".join(format_shape(s) for s in inputs)
                raise ShapeError(f"cannot concatenate {shapes}: sizes other than the channels differ")
        return Evaluation((sum(s[0] for s in inputs), *first[1:]))


class Add(LayerKind):
    """Element-wise sum of inputs of one shape (a residual connection's merge)."""

    type = "add"
    many_inputs = True
    flops_rule = "(inputs - 1) per output element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; FLOPs = (n - 1) * elements."""
        if any(s != inputs[0] for s in inputs[1:]):
            shapes = " and ".join(format_shape(s) for s in inputs)
            raise ShapeError(f"cannot add {shapes}: shapes differ")
        return Evaluation(inputs[0], flops=(len(inputs) - 1) * elements(inputs[0]))


ACTIVATIONS = (
    ("relu", "max(0, x)", 1),
    ("relu6", "min(max(0, x), 6)", 2),
    ("leaky_relu", "max(x, a * x)", 2),
    ("sigmoid", "1 / (1 + exp(-x))", 3),
    ("tanh", "tanh(x)", 1),
    ("silu", "x * sigmoid(x)", 4),
    ("gelu", "x / 2 * (1 + erf(x / sqrt(2)))", 5),
    ("hardsigmoid", "relu6(x + 3) / 6", 4),
    ("hardswish", "x * relu6(x + 3) / 6", 5),
)

for kind in (
    Conv(),
    ConvTranspose(),
    Linear(),
    BatchNorm(),
    Pool("maxpool", "Max pooling (PyTorch nn.MaxPool2d).", "k_h * k_w - 1 comparisons", dilation=True),
    Pool("avgpool", "Average pooling (PyTorch nn.AvgPool2d).", "k_h * k_w (adds and a divide)", dilation=False),
    AdaptivePool("adaptive_avgpool", "Adaptive average pooling (PyTorch nn.AdaptiveAvgPool2d).", None),
    AdaptivePool("adaptive_maxpool", "Adaptive max pooling (PyTorch nn.AdaptiveMaxPool2d).", None),
    AdaptivePool("global_avgpool", "Global average pooling to Cx1x1.", (1, 1)),
    AdaptivePool("global_maxpool", "Global max pooling to Cx1x1.", (1, 1)),
    Flatten(),
    Dropout(),
    LocalResponseNorm(),
    Crop(),
    Upsample(),
    Softmax(),
    Concat(),
    Add(),
    *(Activation(name, formula, flops) for name, formula, flops in ACTIVATIONS),
):
    register(kind)

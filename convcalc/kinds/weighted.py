"""Layers with weights that multiply-accumulate: convolution, transposed convolution, fully connected."""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcalc.core.findings import Finding
from convcalc.core.formula import ceil_div, named
from convcalc.core.keys import Key, boolean, non_negative_axes, padding, positive_int
from convcalc.core.numbers import ratio
from convcalc.core.tensor import Config, Shape, elements, format_shape
from convcalc.kinds.base import KEEPS_INPUT, Evaluation, LayerKind, Made, Reach, Saved, ShapeError, Window
from convcalc.kinds.torchcode import PERMUTE, call
from convcalc.kinds.windows import (
    AXIS_UNITS,
    BIAS,
    DILATION,
    EXPLICIT_PADDING,
    FILTERS,
    GROUPS,
    KERNEL,
    SHARED,
    STRIDE,
    Sides,
    axis_names,
    bias_count,
    check_groups,
    feature_map,
    full_windows,
    per_axis,
    resolve_padding,
    sliding_windows,
)


def dims(count: int) -> str:
    """The suffix of PyTorch's class for a layer on ``count`` spatial axes: Conv1d, Conv2d, Conv3d."""
    return f"{count}d"


def zero_pad(sides: Sides) -> str:
    """nn.ZeroPad1d/2d/3d for asymmetric padding: it takes the last axis first, (left, right, top, bottom, ...)."""
    return call(f"nn.ZeroPad{dims(len(sides))}", tuple(side for pair in reversed(sides) for side in pair))


GEOMETRY = ("kernel", "stride", "dilation")
"""The keys of a convolution's windows besides its padding."""


def resolved(config: Config, keys: Sequence[str], size: Sequence[int]) -> list[tuple[int, ...]]:
    """Each key's value on every spatial axis of an input of spatial ``size`` (:func:`per_axis`)."""
    return [per_axis(config[key], size, key) for key in keys]


class Conv(LayerKind):
    type = "conv"
    absorbs_batchnorm = True
    locality = "window"
    summary = "Convolution over 1, 2 or 3 spatial axes (PyTorch nn.Conv1d, nn.Conv2d, nn.Conv3d)."
    keys = (
        FILTERS,
        KERNEL,
        STRIDE,
        Key("padding", padding, 0, symbol="p"),
        DILATION,
        GROUPS,
        BIAS,
        SHARED,
        Key("gain", boolean, False),
    )
    macs_rule = "H_out * W_out * C_out * k_h * k_w * (C_in / groups)"
    flops_rule = "2 * MACs + (C_out * H_out * W_out if bias)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = k_h * k_w * (C_in / groups) * C_out (+ C_out bias) (+ C_out gain: a standardised weight scaled
        by a learned gain per filter, NFNet's ScaledStdConv2d); one factor per spatial axis (k on a 1-D map,
        k_d * k_h * k_w on a 3-D one); 0 when shared (another layer's weights)."""
        c_in, size = feature_map(inputs[0], self.type)
        c_out, groups = config["filters"], config["groups"]
        kernel, stride, dilation = resolved(config, GEOMETRY, size)
        check_groups(groups, c_in, c_out)
        pads = resolve_padding(config["padding"], size, kernel, stride, dilation)
        out, windows, warnings = sliding_windows(size, kernel, stride, pads, dilation, self.type)
        if any(before != after for before, after in pads):
            warnings += (Finding("asymmetric", asymmetric(pads)),)
        bias = bias_count(config["bias"], c_out)
        gain = named("gain", c_out) if config["gain"] else 0
        params = 0 if config["shared"] else math.prod(kernel) * (c_in // groups) * c_out + bias + gain
        macs = named("MACs", math.prod(out) * c_out * math.prod(kernel) * (c_in // groups))
        flops = 2 * macs + bias * math.prod(out)
        return Evaluation((c_out, *out), params, macs=macs, flops=flops, windows=windows, warnings=warnings)

    @staticmethod
    def sides(config: Config, shape: Shape) -> Sides:
        """(before, after) per spatial axis: the padding the layer's padding key means on this input."""
        kernel, stride, dilation = resolved(config, GEOMETRY, shape[1:])
        return resolve_padding(config["padding"], shape[1:], kernel, stride, dilation)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter); under asymmetric 'same' padding, which
        PyTorch pads as a copy first (padding='same' with an even kernel, or the export's ZeroPad2d), that copy:
        C x (H + top + bottom) x (W + left + right)."""
        sides = self.sides(config, inputs[0])
        if all(before == after for before, after in sides):
            return (KEEPS_INPUT,)
        padded = (n + before + after for n, (before, after) in zip(inputs[0][1:], sides, strict=True))
        return (Made(inputs[0][0] * math.prod(padded) * batch),)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.Conv2d (1d, 3d); 'same' at stride 1 is torch's own padding='same', elsewhere explicit (ZeroPad2d if
        asymmetric)."""
        count = len(inputs[0]) - 1
        kernel, stride, dilation = resolved(config, GEOMETRY, inputs[0][1:])
        ones, pad, pad_first = (1,) * count, config["padding"], None
        if pad == "same" and stride != ones:
            sides = self.sides(config, inputs[0])
            if all(before == after for before, after in sides):
                pad = tuple(before for before, _ in sides)
            else:
                pad, pad_first = (0,) * count, zero_pad(sides)
        elif pad not in ("same", "valid"):
            pad = per_axis(pad, inputs[0][1:], "padding")
        conv = call(
            f"nn.Conv{dims(count)}",
            inputs[0][0],
            config["filters"],
            kernel_size=(kernel, None),
            stride=(stride, ones),
            padding=(pad, (0,) * count),
            dilation=(dilation, ones),
            groups=(config["groups"], 1),
            bias=(config["bias"], True),
        )
        if config["gain"]:
            conv = f"StandardisedConv({conv})"
        return f"nn.Sequential({pad_first}, {conv})" if pad_first else conv

    def torch_helpers(self, config: Config) -> tuple[str, ...]:
        return (STANDARDISED_CONV,) if config["gain"] else ()


STANDARDISED_CONV = '''class StandardisedConv(nn.Module):
    """A conv whose weight is standardised per filter and scaled by a learned gain (NFNet's ScaledStdConv2d)."""

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv
        self.gain = nn.Parameter(torch.ones(conv.out_channels, *(1,) * (conv.weight.dim() - 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.conv.weight
        flat = weight.reshape(weight.shape[0], -1)
        mean, var = flat.mean(1, keepdim=True), flat.var(1, unbiased=False, keepdim=True)
        standardised = ((flat - mean) / torch.sqrt(var + 1e-6)).reshape_as(weight) * self.gain
        return self.conv._conv_forward(x, standardised, self.conv.bias)
'''


def asymmetric(pads: Sides) -> str:
    """The warning for 'same' padding with more after than before: before/after on each axis."""
    units = AXIS_UNITS[len(pads)]
    sides = ", ".join(f"{before}/{after} {unit}" for (before, after), unit in zip(pads, units, strict=True))
    odd = "bottom/right" if len(pads) == 2 else "after"
    return (
        f"'same' padding is asymmetric: {sides} before/after (the odd pixel goes {odd}, as in PyTorch and TensorFlow)"
    )


class ConvTranspose(LayerKind):
    type = "conv_transpose"
    absorbs_batchnorm = True
    locality = "scatter"
    summary = "Transposed convolution over 1, 2 or 3 spatial axes (PyTorch nn.ConvTranspose1d/2d/3d)."
    keys = (
        FILTERS,
        KERNEL,
        STRIDE,
        EXPLICIT_PADDING,
        Key("output_padding", non_negative_axes, 0, symbol="op"),
        DILATION,
        GROUPS,
        BIAS,
        SHARED,
    )
    macs_rule = "H_in * W_in * C_in * (C_out / groups) * k_h * k_w  (each input pixel scattered through the kernel)"
    flops_rule = "2 * MACs + (C_out * H_out * W_out if bias)"
    AXIS_KEYS = ("kernel", "stride", "padding", "output_padding", "dilation")

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
        """params = C_in * (C_out / groups) * k_h * k_w (+ C_out bias); 0 when shared."""
        c_in, size = feature_map(inputs[0], self.type)
        c_out, groups = config["filters"], config["groups"]
        kernel, stride, pad, output_pad, dilation = resolved(config, self.AXIS_KEYS, size)
        check_groups(groups, c_in, c_out)
        for axis in range(len(size)):
            if output_pad[axis] >= max(stride[axis], dilation[axis]):
                raise ShapeError(
                    f"output_padding {output_pad[axis]} must be smaller than the stride ({stride[axis]}) "
                    f"or the dilation ({dilation[axis]})"
                )
        out = tuple(
            named(name, self.output_size(*axis))
            for name, *axis in zip(
                axis_names(len(size), "out"), size, kernel, stride, pad, output_pad, dilation, strict=True
            )
        )
        if min(out) < 1:
            raise ShapeError(f"padding {'x'.join(map(str, pad))} leaves an output of {'x'.join(map(str, out))}")
        bias = bias_count(config["bias"], c_out)
        params = 0 if config["shared"] else c_in * (c_out // groups) * math.prod(kernel) + bias
        macs = named("MACs", math.prod(size) * c_in * (c_out // groups) * math.prod(kernel))
        flops = 2 * macs + bias * math.prod(out)
        windows = tuple(self.window(*axis) for axis in zip(kernel, stride, pad, dilation, strict=True))
        return Evaluation((c_out, *out), params, macs=macs, flops=flops, windows=windows)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter)."""
        return (KEEPS_INPUT,)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        count = len(inputs[0]) - 1
        kernel, stride, pad, output_pad, dilation = resolved(config, self.AXIS_KEYS, inputs[0][1:])
        ones, zeros = (1,) * count, (0,) * count
        return call(
            f"nn.ConvTranspose{dims(count)}",
            inputs[0][0],
            config["filters"],
            kernel_size=(kernel, None),
            stride=(stride, ones),
            padding=(pad, zeros),
            output_padding=(output_pad, zeros),
            groups=(config["groups"], 1),
            bias=(config["bias"], True),
            dilation=(dilation, ones),
        )


class Linear(LayerKind):
    type = "linear"
    absorbs_batchnorm = True
    summary = (
        "Fully connected layer (PyTorch nn.Linear); a feature-map input is flattened first, or with per_position "
        "the same Linear maps the channels at every position (as ConvNeXt's, channels-last)."
    )
    keys = (Key("units", positive_int, symbol="units"), BIAS, Key("per_position", boolean, False), SHARED)
    macs_rule = "in_features * units (per position: H * W * C_in * units)"
    flops_rule = "2 * MACs + (units if bias; per position: units * H * W)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = in_features * units (+ units bias), in_features = product of the input shape, or C_in when
        applied per position; 0 when shared."""
        if config["per_position"]:
            return self.per_position(config, inputs[0])
        in_features, units = named("in_features", elements(inputs[0])), config["units"]
        bias = bias_count(config["bias"], units)
        macs = named("MACs", in_features * units)
        note, windows = None, None
        if len(inputs[0]) > 1:
            note = f"flattens {format_shape(inputs[0])} = {in_features:,}"
            windows = full_windows(inputs[0][1:], (1,) * (len(inputs[0]) - 1))
        params = 0 if config["shared"] else in_features * units + bias
        return Evaluation((units,), params, macs=macs, flops=2 * macs + bias, note=note, windows=windows)

    def reach(self, config: Config) -> Reach:
        """Per position, the pixel's channels; otherwise all of the input."""
        return "pixel" if config["per_position"] else "all"

    def per_position(self, config: Config, shape: Shape) -> Evaluation:
        """out = (units, H, W); MACs = H * W * C_in * units; the bias added at every position."""
        c_in, size = feature_map(shape, "a linear layer per position")
        units = config["units"]
        bias = bias_count(config["bias"], units)
        positions = math.prod(size)
        macs = named("MACs", positions * c_in * units)
        params = 0 if config["shared"] else c_in * units + bias
        return Evaluation((units, *size), params, macs=macs, flops=2 * macs + bias * positions)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter)."""
        return (KEEPS_INPUT,)

    torch_helper = PERMUTE

    def torch_helpers(self, config: Config) -> tuple[str, ...]:
        return super().torch_helpers(config) if config["per_position"] else ()

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.Linear over the product of the input shape; a feature map is flattened first, or, per position, a
        plain nn.Linear maps the channels of the channels-last map, as in torchvision's ConvNeXt block (a subclass
        of nn.Linear would go uncounted by the tools that match modules by exact type: ptflops, thop)."""
        in_features = inputs[0][0] if config["per_position"] else elements(inputs[0])
        linear = call("nn.Linear", in_features, config["units"], bias=(config["bias"], True))
        if config["per_position"]:
            last = len(inputs[0])  # the channels move last, and back: (0, 2, 3, 1) and (0, 3, 1, 2) on a 2-D map
            last_first = ", ".join(map(str, (0, *range(2, last + 1), 1)))
            back = ", ".join(map(str, (0, last, *range(1, last))))
            return f"nn.Sequential(Permute({last_first}), {linear}, Permute({back}))"
        return f"nn.Sequential(nn.Flatten(), {linear})" if len(inputs[0]) > 1 else linear

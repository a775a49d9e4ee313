"""Layers with weights that multiply-accumulate: convolution, transposed convolution, fully connected."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.findings import Finding
from convcalc.core.formula import ceil_div, named
from convcalc.core.keys import Key, Pair, boolean, non_negative_pair, padding, positive_int
from convcalc.core.numbers import ratio
from convcalc.core.tensor import Config, Shape, elements, format_shape
from convcalc.kinds.base import KEEPS_INPUT, Evaluation, LayerKind, Made, Reach, Saved, ShapeError, Window
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import (
    BIAS,
    DILATION,
    EXPLICIT_PADDING,
    FILTERS,
    GROUPS,
    KERNEL,
    STRIDE,
    bias_count,
    check_groups,
    feature_map,
    full_windows,
    resolve_padding,
    sliding_windows,
)


class Conv(LayerKind):
    type = "conv"
    locality = "window"
    summary = "2-D convolution (PyTorch nn.Conv2d)."
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
                Finding(
                    "asymmetric",
                    f"'same' padding is asymmetric: {pads[0][0]}/{pads[0][1]} rows, {pads[1][0]}/{pads[1][1]} "
                    "columns before/after (the odd pixel goes bottom/right, as in PyTorch and TensorFlow)",
                ),
            )
        bias = bias_count(config["bias"], c_out)
        params = k_h * k_w * (c_in // groups) * c_out + bias
        macs = named("MACs", h_out * w_out * c_out * k_h * k_w * (c_in // groups))
        flops = 2 * macs + bias * h_out * w_out
        return Evaluation((c_out, h_out, w_out), params, macs=macs, flops=flops, windows=windows, warnings=warnings)

    @staticmethod
    def sides(config: Config, shape: Shape) -> tuple[Pair, Pair]:
        """((top, bottom), (left, right)): the padding the layer's padding key means on this input."""
        kernel, stride, dilation = config["kernel"], config["stride"], config["dilation"]
        return resolve_padding(config["padding"], (shape[1], shape[2]), kernel, stride, dilation)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter); under asymmetric 'same' padding, which
        PyTorch pads as a copy first (padding='same' with an even kernel, or the export's ZeroPad2d), that copy:
        C x (H + top + bottom) x (W + left + right)."""
        (top, bottom), (left, right) = self.sides(config, inputs[0])
        if (top, left) == (bottom, right):
            return (KEEPS_INPUT,)
        channels, height, width = inputs[0]
        return (Made(channels * (height + top + bottom) * (width + left + right) * batch),)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.Conv2d; 'same' at stride 1 is torch's own padding='same', elsewhere explicit (ZeroPad2d if asymmetric)."""
        channels = inputs[0][0]
        stride, dilation, pad = config["stride"], config["dilation"], config["padding"]
        pad_first = None
        if pad == "same" and stride != (1, 1):
            (top, bottom), (left, right) = self.sides(config, inputs[0])
            if (top, left) == (bottom, right):
                pad = (top, left)
            else:
                pad, pad_first = (0, 0), call("nn.ZeroPad2d", (left, right, top, bottom))
        conv = call(
            "nn.Conv2d",
            channels,
            config["filters"],
            kernel_size=(config["kernel"], None),
            stride=(stride, (1, 1)),
            padding=(pad, (0, 0)),
            dilation=(dilation, (1, 1)),
            groups=(config["groups"], 1),
            bias=(config["bias"], True),
        )
        return f"nn.Sequential({pad_first}, {conv})" if pad_first else conv


class ConvTranspose(LayerKind):
    type = "conv_transpose"
    locality = "scatter"
    summary = "2-D transposed convolution (PyTorch nn.ConvTranspose2d)."
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

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter)."""
        return (KEEPS_INPUT,)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(
            "nn.ConvTranspose2d",
            inputs[0][0],
            config["filters"],
            kernel_size=(config["kernel"], None),
            stride=(config["stride"], (1, 1)),
            padding=(config["padding"], (0, 0)),
            output_padding=(config["output_padding"], (0, 0)),
            groups=(config["groups"], 1),
            bias=(config["bias"], True),
            dilation=(config["dilation"], (1, 1)),
        )


class Linear(LayerKind):
    type = "linear"
    summary = (
        "Fully connected layer (PyTorch nn.Linear); a feature-map input is flattened first, or with per_position "
        "the same Linear maps the channels at every position (as ConvNeXt's, channels-last)."
    )
    keys = (Key("units", positive_int, symbol="units"), BIAS, Key("per_position", boolean, False))
    macs_rule = "in_features * units (per position: H * W * C_in * units)"
    flops_rule = "2 * MACs + (units if bias; per position: units * H * W)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = in_features * units (+ units bias), in_features = product of the input shape, or C_in when
        applied per position."""
        if config["per_position"]:
            return self.per_position(config, inputs[0])
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

    def reach(self, config: Config) -> Reach:
        """Per position, the pixel's channels; otherwise all of the input."""
        return "pixel" if config["per_position"] else "all"

    def per_position(self, config: Config, shape: Shape) -> Evaluation:
        """out = (units, H, W); MACs = H * W * C_in * units; the bias added at every position."""
        c_in, h, w = feature_map(shape, "a linear layer per position")
        units = config["units"]
        bias = bias_count(config["bias"], units)
        macs = named("MACs", h * w * c_in * units)
        return Evaluation((units, h, w), c_in * units + bias, macs=macs, flops=2 * macs + bias * h * w)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input, for the weight gradient (its weight too, a parameter)."""
        return (KEEPS_INPUT,)

    torch_helper = '''class Permute(nn.Module):
    """The tensor's dimensions in another order (torchvision.ops.Permute): channels-last and back."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)
'''

    def torch_helpers(self, config: Config) -> tuple[str, ...]:
        return super().torch_helpers(config) if config["per_position"] else ()

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.Linear over the product of the input shape; a feature map is flattened first, or, per position, a
        plain nn.Linear maps the channels of the channels-last map, as in torchvision's ConvNeXt block (a subclass
        of nn.Linear would go uncounted by the tools that match modules by exact type: ptflops, thop)."""
        in_features = inputs[0][0] if config["per_position"] else elements(inputs[0])
        linear = call("nn.Linear", in_features, config["units"], bias=(config["bias"], True))
        if config["per_position"]:
            return f"nn.Sequential(Permute(0, 2, 3, 1), {linear}, Permute(0, 3, 1, 2))"
        return f"nn.Sequential(nn.Flatten(), {linear})" if len(inputs[0]) == 3 else linear

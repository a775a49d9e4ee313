"""Pooling: sliding-window max and average pools, and adaptive (and global) pools."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.formula import named
from convcalc.core.keys import Key, Pair, boolean, positive_pair
from convcalc.core.tensor import Config, Shape, elements
from convcalc.kinds.base import KEEPS_INPUT, Evaluation, LayerKind, Made, Saved, ShapeError
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import (
    DILATION,
    EXPLICIT_PADDING,
    KERNEL,
    adaptive_windows_total,
    axis_windows,
    feature_map,
    full_windows,
    pool_output_size,
    untiled_warning,
    window_too_large,
)


class Pool(LayerKind):
    """A sliding-window pool; stride defaults to the kernel, padding is at most half the kernel."""

    locality = "window"

    def __init__(self, type: str, module: str, window_flops: str, dilation: bool) -> None:
        self.type = type
        self.module = module
        self.summary = f"{'Max' if type == 'maxpool' else 'Average'} pooling (PyTorch {module})."
        self.flops_rule = f"{window_flops} per output element"
        self.max = type == "maxpool"
        extra = (DILATION,) if dilation else ()
        averaging = () if self.max else (Key("count_include_pad", boolean, True),)  # the values, not the counts
        self.keys = (
            KERNEL,
            Key("stride", positive_pair, None, symbol="s"),  # None: the kernel
            EXPLICIT_PADDING,
            *extra,
            Key("ceil_mode", boolean, False),
            *averaging,
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
        warnings = untiled_warning((h_in, w_in), (h_out, w_out), windows)
        per_output = kernel[0] * kernel[1] - 1 if self.max else kernel[0] * kernel[1]
        flops = per_output * channels * h_out * w_out
        return Evaluation((channels, h_out, w_out), flops=flops, windows=windows, warnings=warnings)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input; max pooling also the int64 index of each output's maximum."""
        return pooled(self.max, inputs, output, batch)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        extra: dict[str, tuple[object, object]] = {}
        if "dilation" in config:
            extra["dilation"] = (config["dilation"], (1, 1))
        if "count_include_pad" in config:
            extra["count_include_pad"] = (config["count_include_pad"], True)
        return call(
            self.module,
            config["kernel"],
            stride=(config["stride"] or config["kernel"], config["kernel"]),
            padding=(config["padding"], (0, 0)),
            **extra,
            ceil_mode=(config["ceil_mode"], False),
        )


def pooled(maximum: bool, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
    """A pool keeps its input, max pooling the int64 indices of its output's size too."""
    indices = (Made(elements(output) * batch, "int64"),) if maximum else ()
    return (KEEPS_INPUT, *indices)


class AdaptivePool(LayerKind):
    """Adaptive pool to a fixed output size (PyTorch nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d)."""

    def __init__(self, type: str, summary: str, fixed_output: Pair | None) -> None:
        self.type = type
        self.summary = summary
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

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """As a pool; an average to 1x1 is a mean in PyTorch, which keeps nothing."""
        if not self.max and output[1:] == (1, 1):
            return ()
        return pooled(self.max, inputs, output, batch)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        module = "nn.AdaptiveMaxPool2d" if self.max else "nn.AdaptiveAvgPool2d"
        return call(module, self.fixed_output or config["output"])

"""Pooling: sliding-window max and average pools, and adaptive (and global) pools."""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcalc.core.formula import named
from convcalc.core.keys import Axes, Key, boolean, positive_axes
from convcalc.core.tensor import Config, Shape, elements
from convcalc.kinds.base import KEEPS_INPUT, Evaluation, LayerKind, Made, Saved, ShapeError
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import (
    AXIS_SUFFIXES,
    DILATION,
    EXPLICIT_PADDING,
    KERNEL,
    adaptive_windows_total,
    axis_names,
    axis_windows,
    feature_map,
    full_windows,
    per_axis,
    pool_output_size,
    untiled_warning,
    window_too_large,
)


class Pool(LayerKind):
    """A sliding-window pool over 1, 2 or 3 spatial axes; stride defaults to the kernel, padding is at most half the
    kernel."""

    locality = "window"

    def __init__(self, type: str, module: str, window_flops: str, dilation: bool) -> None:
        self.type = type
        self.module = module
        self.summary = f"{'Max' if type == 'maxpool' else 'Average'} pooling (PyTorch nn.{module}1d, 2d, 3d)."
        self.flops_rule = f"{window_flops} per output element"
        self.max = type == "maxpool"
        extra = (DILATION,) if dilation else ()
        averaging = () if self.max else (Key("count_include_pad", boolean, True),)  # the values, not the counts
        self.keys = (
            KERNEL,
            Key("stride", positive_axes, None, symbol="s"),  # None: the kernel
            EXPLICIT_PADDING,
            *extra,
            Key("ceil_mode", boolean, False),
            *averaging,
        )

    def resolved(self, config: Config, size: Sequence[int]) -> tuple[tuple[int, ...], ...]:
        """Kernel, stride (the kernel by default), padding and dilation on each spatial axis of an input of ``size``."""
        kernel = per_axis(config["kernel"], size, "kernel")
        stride = kernel if config["stride"] is None else per_axis(config["stride"], size, "stride")
        pad = per_axis(config["padding"], size, "padding")
        return kernel, stride, pad, per_axis(config.get("dilation", 1), size, "dilation")

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = pool_output_size(...) per axis; channels unchanged; no parameters."""
        channels, size = feature_map(inputs[0], self.type)
        kernel, stride, pad, dilation = self.resolved(config, size)
        for axis in range(len(size)):
            if pad[axis] > kernel[axis] // 2:  # PyTorch checks the kernel itself, dilated or not
                raise ShapeError(f"padding {pad[axis]} is more than half the kernel {kernel[axis]} (PyTorch's limit)")
        names, ceil = axis_names(len(size), "out"), config["ceil_mode"]
        out = tuple(
            named(name, pool_output_size(n, k, s, p, d, ceil))
            for name, n, k, s, p, d in zip(names, size, kernel, stride, pad, dilation, strict=True)
        )
        pads = tuple((side, side) for side in pad)
        if min(out) < 1:
            raise ShapeError(window_too_large(self.type, size, kernel, pads, dilation))
        windows = axis_windows(kernel, stride, pad, dilation)
        warnings = untiled_warning(size, out, windows)
        per_output = math.prod(kernel) - 1 if self.max else math.prod(kernel)
        flops = per_output * channels * math.prod(out)
        return Evaluation((channels, *out), flops=flops, windows=windows, warnings=warnings)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Its input; max pooling also the int64 index of each output's maximum."""
        return pooled(self.max, inputs, output, batch)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        count = len(inputs[0]) - 1
        kernel, stride, pad, dilation = self.resolved(config, inputs[0][1:])
        extra: dict[str, tuple[object, object]] = {}
        if "dilation" in config:
            extra["dilation"] = (dilation, (1,) * count)
        if "count_include_pad" in config:
            extra["count_include_pad"] = (config["count_include_pad"], True)
        return call(
            f"nn.{self.module}{count}d",
            kernel,
            stride=(stride, kernel),
            padding=(pad, (0,) * count),
            **extra,
            ceil_mode=(config["ceil_mode"], False),
        )


def pooled(maximum: bool, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
    """A pool keeps its input, max pooling the int64 indices of its output's size too."""
    indices = (Made(elements(output) * batch, "int64"),) if maximum else ()
    return (KEEPS_INPUT, *indices)


class AdaptivePool(LayerKind):
    """Adaptive pool to a fixed output size (PyTorch nn.AdaptiveAvgPool1d/2d/3d, AdaptiveMaxPool1d/2d/3d)."""

    def __init__(self, type: str, summary: str, fixed_output: Axes | None) -> None:
        self.type = type
        self.summary = summary
        self.max = "max" in type
        self.fixed_output = fixed_output
        self.keys = () if fixed_output else (Key("output", positive_axes, symbol="out"),)
        self.flops_rule = (
            "sum over output elements of (window size - 1)" if self.max else "sum over output elements of window size"
        )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, out_h, out_w); FLOPs from the exact adaptive window sizes."""
        channels, size = feature_map(inputs[0], self.type)
        out = per_axis(self.fixed_output or config["output"], size, "output")
        totals = [
            named(f"windows{suffix}", adaptive_windows_total(n, o), like=n)
            for suffix, n, o in zip(AXIS_SUFFIXES[len(size)], size, out, strict=True)
        ]
        read = channels * math.prod(totals)
        flops = read - channels * math.prod(out) if self.max else read
        return Evaluation((channels, *out), flops=flops, windows=full_windows(size, out))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """As a pool; an average to 1x1 is a mean in PyTorch, which keeps nothing."""
        if not self.max and all(n == 1 for n in output[1:]):
            return ()
        return pooled(self.max, inputs, output, batch)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        count = len(inputs[0]) - 1
        module = "AdaptiveMaxPool" if self.max else "AdaptiveAvgPool"
        return call(f"nn.{module}{count}d", per_axis(self.fixed_output or config["output"], inputs[0][1:], "output"))

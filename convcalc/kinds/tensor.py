"""Layers that move values without arithmetic: flatten, crop, slice, pad, upsample, channel and pixel shuffles,
and the opaque placeholder of an imported operation convcalc does not count."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from convcalc.core.formula import Term, ceil_div, named, symbol
from convcalc.core.keys import (
    MAX_AXES,
    Key,
    accepts,
    boolean,
    choice,
    dimensions,
    json_schema,
    non_negative_int,
    positive_axes,
    positive_int,
    word,
)
from convcalc.core.numbers import ratio
from convcalc.core.tensor import Config, Shape, elements, format_shape
from convcalc.kinds.base import Evaluation, LayerKind, Reach, ShapeError, Window
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import (
    AXIS,
    axis_names,
    feature_map,
    full_windows,
    groups_divide,
    image,
    per_axis,
    resolve_axis,
    spatial_axes,
)


class Flatten(LayerKind):
    type = "flatten"
    deploys_as = "free"
    summary = "Flatten a feature map to a vector of C*H*W features."
    view = True

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C * H * W,)."""
        shape = inputs[0]
        windows = full_windows(shape[1:], (1,) * (len(shape) - 1)) if len(shape) > 1 else None
        return Evaluation((elements(shape),), windows=windows)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return "nn.Flatten()"


class Crop(LayerKind):
    type = "crop"
    locality = "window"
    summary = "Centre crop of a feature map to [height, width] (U-Net's crop-and-copy; one size per spatial axis)."
    view = True
    keys = (Key("size", positive_axes, symbol="crop"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, h, w), h <= H and w <= W; the crop starts (H - h) / 2 rows and (W - w) / 2 columns in."""
        channels, size = feature_map(inputs[0], self.type)
        out = per_axis(config["size"], size, "size")
        if any(o > n for o, n in zip(out, size, strict=True)):
            raise ShapeError(f"cannot crop {'x'.join(map(str, size))} to the larger {'x'.join(map(str, out))}")
        windows = tuple(Window(1, 1, -(int(n - o) // 2)) for n, o in zip(size, out, strict=True))
        return Evaluation((channels, *out), windows=windows)

    torch_helper = '''class Crop(nn.Module):
    """Centre crop to the given sizes from the given starts, one each per spatial axis (height, width, top, left on
    an image; fixed: exports as a constant Slice)."""

    def __init__(self, *sizes_and_starts: int) -> None:
        super().__init__()
        half = len(sizes_and_starts) // 2
        self.sizes, self.starts = sizes_and_starts[:half], sizes_and_starts[half:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[(..., *(slice(start, start + size) for start, size in zip(self.starts, self.sizes)))]
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        size = inputs[0][1:]
        out = per_axis(config["size"], size, "size")
        return call("Crop", *out, *((n - o) // 2 for n, o in zip(size, out, strict=True)))


INTERPOLATION = {"linear": 1, "bilinear": 2, "trilinear": 3}
"""PyTorch's interpolating modes and the number of spatial axes each works on."""


class Upsample(LayerKind):
    type = "upsample"
    locality = "window"
    summary = "Upsampling by an integer scale or to a size (PyTorch nn.Upsample), on 1, 2 or 3 spatial axes."
    keys = (
        Key("scale", positive_axes, None, symbol="scale"),
        Key("size", positive_axes, None, symbol="size"),
        Key("mode", choice("nearest", *INTERPOLATION), "nearest"),
        Key("align_corners", boolean, False),
    )
    flops_rule = (
        "nearest: 0; bilinear: 7 per output element (4 weighted neighbours: 4 multiplies, 3 adds); linear 3, "
        "trilinear 15 (2, 8 neighbours)"
    )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, H * scale_h, W * scale_w), or (C, size_h, size_w)."""
        channels, size = feature_map(inputs[0], self.type)
        scale, given = config["scale"], config["size"]
        if (scale is None) == (given is None):
            raise ShapeError("give exactly one of 'scale' and 'size'")
        mode = config["mode"]
        if mode != "nearest" and INTERPOLATION[mode] != len(size):
            raise ShapeError(
                f"mode {mode} interpolates {spatial_axes(INTERPOLATION[mode])}, but the input "
                f"{format_shape(inputs[0])} has {spatial_axes(len(size))}"
            )
        if given is not None:
            out = per_axis(given, size, "size")
        else:
            factors = per_axis(scale, size, "scale")
            out = tuple(
                named(name, n * f) for name, n, f in zip(axis_names(len(size), "out"), size, factors, strict=True)
            )
        interpolated = mode != "nearest"
        flops = ((2 ** (len(size) + 1) - 1) if interpolated else 0) * channels * math.prod(out)
        reads = 2 if interpolated else 1
        aligned = interpolated and config["align_corners"]
        windows = tuple(
            # align_corners: corner pixels' centres coincide, output o samples input o * (in - 1) / (out - 1)
            # (a single output samples input 0; its neighbour, were there one, would be the whole input further on)
            Window(reads, ratio(i - 1, o - 1) if o > 1 else i, ratio(reads - 1, 2))
            if aligned
            # (bi/tri)linear: output o samples input (o + 1/2) * in / out - 1/2 (PyTorch's half-pixel rule)
            else Window(reads, ratio(i, o), ratio(reads - 1, 2) - ratio(int(i) - int(o), 2 * int(o)))
            if interpolated
            # nearest: output o reads input floor(o * in / out), on average (out - gcd(in, out)) / (2 * out) before
            # o * in / out (PyTorch's 'nearest'; the same as the half-pixel rule when out is a multiple of in)
            else Window(reads, ratio(i, o), ratio(int(o) - math.gcd(int(i), int(o)), 2 * int(o)))
            for i, o in zip(size, out, strict=True)
        )
        return Evaluation((channels, *out), flops=flops, windows=windows)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        size: tuple[str, tuple[float, ...]]
        if config["size"]:
            size = ("size", per_axis(config["size"], inputs[0][1:], "size"))
        else:
            size = (
                "scale_factor",
                tuple(float(factor) for factor in per_axis(config["scale"], inputs[0][1:], "scale")),
            )
        interpolated = config["mode"] != "nearest"
        return call(
            "nn.Upsample",
            **{size[0]: (size[1], None)},
            mode=(config["mode"], "nearest"),
            align_corners=(config["align_corners"] if interpolated else None, None),
        )


class ChannelShuffle(LayerKind):
    type = "channel_shuffle"
    locality = "pixel"
    summary = "Channel shuffle (ShuffleNet): channels in groups, interleaved; shape unchanged (nn.ChannelShuffle)."
    keys = (Key("groups", positive_int, symbol="groups"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in, channels reordered; groups must divide C; no arithmetic."""
        channels, _ = feature_map(inputs[0], self.type)
        groups_divide(config["groups"], channels)
        return Evaluation(inputs[0])

    torch_helper = '''class ChannelShuffle(nn.Module):
    """Channel shuffle as torchvision's ShuffleNetV2 writes it (view, transpose, view): nn.ChannelShuffle does the
    same but does not export to ONNX."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, *positions = x.shape
        return x.view(n, self.groups, c // self.groups, *positions).transpose(1, 2).reshape(x.shape)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("ChannelShuffle", config["groups"])


class PixelShuffle(LayerKind):
    """Sub-pixel rearrangement: ``C * r * r x H x W -> C x H * r x W * r`` (shuffle), or back (unshuffle)."""

    locality = "window"

    def __init__(self, type: str, module: str, up: bool) -> None:
        self.type = type
        self.module = module
        self.up = up
        self.keys = (Key("factor", positive_int, symbol="r"),)
        moved = "C * r * r x H x W -> C x H * r x W * r" if up else "C x H * r x W * r -> C * r * r x H x W"
        self.summary = f"Pixel {'shuffle' if up else 'unshuffle'} by a factor r: {moved}, no arithmetic ({module})."

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """Shuffle: out = (C / (r * r), H * r, W * r), each output reads one input pixel (its jump 1 / r, centred as
        nearest upsampling's); unshuffle: out = (C * r * r, H / r, W / r), each output position reads an r x r block."""
        channels, h_in, w_in = image(inputs[0], self.type)
        r = config["factor"]
        if self.up:
            if channels % (r * r):
                raise ShapeError(
                    f"{self.type} by {r} needs channels divisible by {r * r}, but the input has {channels}"
                )
            window = Window(1, ratio(1, r), ratio(r - 1, 2 * r))
            h_out, w_out = named("H_out", h_in * r), named("W_out", w_in * r)
            return Evaluation((named("C_out", channels // (r * r)), h_out, w_out), windows=(window, window))
        if h_in % r or w_in % r:
            raise ShapeError(f"{self.type} by {r} needs a height and width divisible by {r}, not {h_in}x{w_in}")
        window = Window(int(r), int(r), 0)
        h_out, w_out = named("H_out", h_in // r), named("W_out", w_in // r)
        return Evaluation((named("C_out", channels * r * r), h_out, w_out), windows=(window, window))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call(self.module, config["factor"])


@accepts(
    {
        "anyOf": [
            json_schema(non_negative_int),
            *(
                {"type": "array", "items": json_schema(non_negative_int), "minItems": 2 * axes, "maxItems": 2 * axes}
                for axes in range(1, MAX_AXES + 1)
            ),
        ]
    },
    "a whole number >= 0, or before and after each spatial axis: [top, bottom, left, right] on an image",
)
def sides(value: Any) -> int | tuple[int, ...]:
    """Zero padding on each side: one number for all, or (before, after) for each spatial axis in order: [top,
    bottom, left, right] on an image, [left, right] on a 1-D map, [front, back, top, bottom, left, right] in 3-D."""
    if isinstance(value, list):
        if len(value) % 2 or not 2 <= len(value) <= 2 * MAX_AXES:
            raise ValueError(f"expected a number or [top, bottom, left, right], got a list of {len(value)}")
        return tuple(non_negative_int(side) for side in value)
    return non_negative_int(value)


SIDE_NAMES = {
    1: ("left", "right"),
    2: ("top", "bottom", "left", "right"),
    3: ("front", "back", "top", "bottom", "left", "right"),
}
"""The sides of each spatial axis, before and after, by the number of axes."""


class Pad(LayerKind):
    type = "pad"
    locality = "window"
    summary = (
        "Explicit zero padding: a number for every side, or [top, bottom, left, right] (nn.ZeroPad2d; before and after "
        "each axis on 1-D and 3-D maps)."
    )
    keys = (Key("padding", sides),)

    @staticmethod
    def sides(config: Config, count: int) -> tuple[int, ...]:
        """(before, after) of each spatial axis in order: (top, bottom, left, right) on an image."""
        value = config["padding"]
        if isinstance(value, tuple):
            if len(value) != 2 * count:
                raise ShapeError(
                    f"'padding' gives {len(value)} sides, but the input has {spatial_axes(count)}: give one number "
                    f"or {2 * count} ({', '.join(SIDE_NAMES[count])})"
                )
            return value
        return (value,) * (2 * count)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, H + top + bottom, W + left + right); the first output pixel is `top` (`left`) before the input."""
        channels, size = feature_map(inputs[0], self.type)
        pads = self.sides(config, len(size))
        if isinstance(size[0], Term):  # explained: the sides by name
            pads = tuple(symbol(f"p_{side}", n) for side, n in zip(SIDE_NAMES[len(size)], pads, strict=True))
        out = tuple(
            named(name, n + pads[2 * axis] + pads[2 * axis + 1])
            for axis, (name, n) in enumerate(zip(axis_names(len(size), "out"), size, strict=True))
        )
        windows = tuple(Window(1, 1, pads[2 * axis]) for axis in range(len(size)))
        return Evaluation((channels, *out), windows=windows)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.ZeroPad2d takes (left, right, top, bottom): the last axis first (ZeroPad1d, ZeroPad3d alike)."""
        count = len(inputs[0]) - 1
        pads = self.sides(config, count)
        last_first = tuple(side for axis in reversed(range(count)) for side in pads[2 * axis : 2 * axis + 2])
        return call(f"nn.ZeroPad{count}d", last_first)


class Slice(LayerKind):
    type = "slice"
    summary = (
        "Channels start to end - 1 of the input (a channel split is two slices reading one input); with axis, "
        "positions along a spatial axis (the last time step: axis -1); with step, every step-th (Swin's patch "
        "merging: x[:, :, 0::2])."
    )
    view = True
    keys = (
        Key("start", non_negative_int, 0, symbol="start"),
        Key("end", positive_int, symbol="end"),
        AXIS,
        Key("step", positive_int, 1, symbol="step"),
    )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (ceil((end - start) / step), H, W); 0 <= start < end <= C; no arithmetic (on another axis, that
        axis' size)."""
        shape, start, end, step = inputs[0], config["start"], config["end"], config["step"]
        axis = resolve_axis(config["axis"], shape, self.type)
        what = "channels" if axis == 0 else f"axis {axis}"
        if not start < end <= shape[axis]:
            raise ShapeError(
                f"cannot slice {what} {start} to {end} of {shape[axis]}: need start < end <= {shape[axis]}"
            )
        size = end - start if step == 1 else ceil_div(end - start, step)
        out = (*shape[:axis], size, *shape[axis + 1 :])
        if axis == 0:
            return Evaluation(out)
        windows = tuple(
            Window(1, step, -int(start)) if spatial == axis else Window(1, 1, 0) for spatial in range(1, len(shape))
        )
        return Evaluation(out, windows=windows)

    def reach(self, config: Config) -> Reach:
        """Channels: each pixel's own; positions along an axis: a window (one pixel, shifted)."""
        return "pixel" if config["axis"] == 0 else "window"

    torch_helper = '''class Slice(nn.Module):
    """Channels start to end - 1: x[:, start:end] (along another dimension: dim; every step-th)."""

    def __init__(self, start: int, end: int, dim: int = 1, step: int = 1) -> None:
        super().__init__()
        self.start, self.end, self.dim, self.step = start, end, dim, step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None)] * x.dim()
        index[self.dim] = slice(self.start, self.end, self.step)
        return x[tuple(index)]
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        axis = resolve_axis(config["axis"], inputs[0], self.type)
        return call("Slice", config["start"], config["end"], dim=(axis + 1, 1), step=(config["step"], 1))


class Opaque(LayerKind):
    type = "opaque"
    summary = "An operation convcalc does not count (from an imported model): its stated output shape, no cost."
    keys = (Key("op", word), Key("shape", dimensions))

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = the stated shape; params, MACs and FLOPs not counted (0)."""
        return Evaluation(tuple(config["shape"]), note=f"{config['op']}: not counted")

    torch_helper = '''class Opaque(nn.Module):
    """An operation convcalc does not count, kept for its shape: zeros of the stated shape."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.new_zeros(x.shape[0], *self.shape)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Opaque", *config["shape"])

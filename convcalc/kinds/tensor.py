"""Layers that move values without arithmetic: flatten, crop, slice, pad, upsample, channel and pixel shuffles,
and the opaque placeholder of an imported operation convcalc does not count."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from convcalc.core.formula import Term, named, symbol
from convcalc.core.keys import (
    Key,
    accepts,
    boolean,
    choice,
    dimensions,
    json_schema,
    non_negative_int,
    positive_int,
    positive_pair,
    word,
)
from convcalc.core.numbers import ratio
from convcalc.core.tensor import Config, Shape, elements
from convcalc.kinds.base import Evaluation, LayerKind, ShapeError, Window
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import feature_map, full_windows, groups_divide


class Flatten(LayerKind):
    type = "flatten"
    deploys_as = "free"
    summary = "Flatten a feature map to a vector of C*H*W features."
    view = True

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C * H * W,)."""
        shape = inputs[0]
        windows = full_windows(shape[1], shape[2], 1, 1) if len(shape) == 3 else None
        return Evaluation((elements(shape),), windows=windows)

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return "nn.Flatten()"


class Crop(LayerKind):
    type = "crop"
    locality = "window"
    summary = "Centre crop of a feature map to [height, width] (U-Net's crop-and-copy)."
    view = True
    keys = (Key("size", positive_pair, symbol="crop"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, h, w), h <= H and w <= W; the crop starts (H - h) / 2 rows and (W - w) / 2 columns in."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        h_out, w_out = config["size"]
        if h_out > h_in or w_out > w_in:
            raise ShapeError(f"cannot crop {h_in}x{w_in} to the larger {h_out}x{w_out}")
        windows = (Window(1, 1, -(int(h_in - h_out) // 2)), Window(1, 1, -(int(w_in - w_out) // 2)))
        return Evaluation((channels, h_out, w_out), windows=windows)

    torch_helper = '''class Crop(nn.Module):
    """Centre crop to (height, width), from row ``top`` and column ``left`` (fixed: exports as a constant Slice)."""

    def __init__(self, height: int, width: int, top: int, left: int) -> None:
        super().__init__()
        self.height, self.width, self.top, self.left = height, width, top, left

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, self.top : self.top + self.height, self.left : self.left + self.width]
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        (height, width), (_, h_in, w_in) = config["size"], inputs[0]
        return call("Crop", height, width, (h_in - height) // 2, (w_in - width) // 2)


class Upsample(LayerKind):
    type = "upsample"
    locality = "window"
    summary = "Upsampling by an integer scale or to a size (PyTorch nn.Upsample)."
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

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        scale = config["scale"] and tuple(float(factor) for factor in config["scale"])
        size = ("size", config["size"]) if config["size"] else ("scale_factor", scale)
        bilinear = config["mode"] == "bilinear"
        return call(
            "nn.Upsample",
            **{size[0]: (size[1], None)},
            mode=(config["mode"], "nearest"),
            align_corners=(config["align_corners"] if bilinear else None, None),
        )


class ChannelShuffle(LayerKind):
    type = "channel_shuffle"
    locality = "pixel"
    summary = "Channel shuffle (ShuffleNet): channels in groups, interleaved; shape unchanged (nn.ChannelShuffle)."
    keys = (Key("groups", positive_int, symbol="groups"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in, channels reordered; groups must divide C; no arithmetic."""
        channels, _, _ = feature_map(inputs[0], self.type)
        groups_divide(config["groups"], channels)
        return Evaluation(inputs[0])

    torch_helper = '''class ChannelShuffle(nn.Module):
    """Channel shuffle as torchvision's ShuffleNetV2 writes it (view, transpose, view): nn.ChannelShuffle does the
    same but does not export to ONNX."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)
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
        channels, h_in, w_in = feature_map(inputs[0], self.type)
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
            {"type": "array", "items": json_schema(non_negative_int), "minItems": 4, "maxItems": 4},
        ]
    },
    "a whole number >= 0 or [top, bottom, left, right]",
)
def four_sides(value: Any) -> tuple[int, int, int, int]:
    """Zero padding on each side: one number for all four, or [top, bottom, left, right]."""
    if isinstance(value, list):
        if len(value) != 4:
            raise ValueError(f"expected a number or [top, bottom, left, right], got a list of {len(value)}")
        top, bottom, left, right = (non_negative_int(side) for side in value)
        return top, bottom, left, right
    side = non_negative_int(value)
    return side, side, side, side


SIDES = ("top", "bottom", "left", "right")


class Pad(LayerKind):
    type = "pad"
    locality = "window"
    summary = "Explicit zero padding: a number for every side, or [top, bottom, left, right] (nn.ZeroPad2d)."
    keys = (Key("padding", four_sides),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C, H + top + bottom, W + left + right); the first output pixel is `top` (`left`) before the input."""
        channels, h_in, w_in = feature_map(inputs[0], self.type)
        top, bottom, left, right = config["padding"]
        if isinstance(h_in, Term):  # explained: the sides by name
            top, bottom, left, right = (
                symbol(f"p_{side}", n) for side, n in zip(SIDES, config["padding"], strict=True)
            )
        h_out, w_out = named("H_out", h_in + top + bottom), named("W_out", w_in + left + right)
        return Evaluation((channels, h_out, w_out), windows=(Window(1, 1, top), Window(1, 1, left)))

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """nn.ZeroPad2d takes (left, right, top, bottom)."""
        top, bottom, left, right = config["padding"]
        return call("nn.ZeroPad2d", (left, right, top, bottom))


class Slice(LayerKind):
    type = "slice"
    locality = "pixel"
    summary = "Channels start to end - 1 of the input (a channel split is two slices reading one input)."
    view = True
    keys = (Key("start", non_negative_int, 0, symbol="start"), Key("end", positive_int, symbol="end"))

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (end - start, H, W); 0 <= start < end <= C; no arithmetic."""
        channels, start, end = inputs[0][0], config["start"], config["end"]
        if not start < end <= channels:
            raise ShapeError(f"cannot slice channels {start} to {end} of {channels}: need start < end <= {channels}")
        return Evaluation((end - start, *inputs[0][1:]))

    torch_helper = '''class Slice(nn.Module):
    """Channels start to end - 1: x[:, start:end]."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.end]
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Slice", config["start"], config["end"])


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
